//! Persistence of configuration in redb: instances of persistent tables, values of
//! persistent parameters, next-instance counters, plus a small key-value area for
//! other components (e.g. the proxied-device registry).
//!
//! Layout (all keys are concrete paths, so an instance and everything below it is a
//! key range):
//!
//! ```text
//! meta       "format_version" -> "1", "schema_version" -> caller's version
//! instances  "Device.LocalAgent.Subscription.3." -> ""
//! values     "Device.LocalAgent.Subscription.3.Enable" -> "true"
//! counters   "Device.LocalAgent.Subscription." -> next instance number
//! kv         "<namespace>\0<key>" -> bytes
//! ```
//!
//! Every write is one redb transaction committed with immediate durability before the
//! data model acknowledges it; the file is created with mode 0600.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{DmError, ErrorKind};

const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
const INSTANCES: TableDefinition<&str, ()> = TableDefinition::new("instances");
const VALUES: TableDefinition<&str, &str> = TableDefinition::new("values");
const COUNTERS: TableDefinition<&str, u32> = TableDefinition::new("counters");
const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");

/// Version of this file layout; a file with another version is refused.
pub const STORE_FORMAT_VERSION: &str = "1";

/// A persistence failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("store {path}: {message}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// redb's or the OS's message.
        message: String,
    },
    /// The file was written by an incompatible version.
    #[error("store {path}: format version {found}, expected {STORE_FORMAT_VERSION}")]
    IncompatibleFormat {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: String,
    },
}

impl From<StoreError> for DmError {
    fn from(e: StoreError) -> Self {
        DmError::new(
            ErrorKind::Internal,
            "",
            format!("persistent store failed: {e}"),
        )
    }
}

/// The data model's redb database.
pub struct Store {
    db: Database,
    path: PathBuf,
}

/// What a data model persisted, read back at start-up.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub instances: Vec<String>,
    pub values: Vec<(String, String)>,
    pub counters: Vec<(String, u32)>,
}

/// Writes of one operation, committed in a single transaction.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    pub put_instances: Vec<String>,
    pub put_values: Vec<(String, String)>,
    pub put_counters: Vec<(String, u32)>,
    /// Instance paths whose instance keys, values and counters are all removed.
    pub delete_trees: Vec<String>,
    /// Instance paths whose instance key and counters are removed but whose values
    /// are kept (an unmount that retains configuration).
    pub forget_instances: Vec<String>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.put_instances.is_empty()
            && self.put_values.is_empty()
            && self.put_counters.is_empty()
            && self.delete_trees.is_empty()
            && self.forget_instances.is_empty()
    }
}

impl Store {
    /// Opens (or creates, mode 0600) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let err = |e: &dyn std::fmt::Display| StoreError::Db {
            path: path.clone(),
            message: e.to_string(),
        };
        create_private(&path).map_err(|e| err(&e))?;
        let db = Database::create(&path).map_err(|e| err(&e))?;
        let store = Store { db, path };
        store.init()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    fn init(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut meta = txn.open_table(META).map_err(|e| self.err(e))?;
            let found = meta
                .get("format_version")
                .map_err(|e| self.err(e))?
                .map(|v| v.value().to_owned());
            match found {
                Some(v) if v != STORE_FORMAT_VERSION => {
                    return Err(StoreError::IncompatibleFormat {
                        path: self.path.clone(),
                        found: v,
                    });
                }
                Some(_) => {}
                None => {
                    meta.insert("format_version", STORE_FORMAT_VERSION)
                        .map_err(|e| self.err(e))?;
                }
            }
            txn.open_table(INSTANCES).map_err(|e| self.err(e))?;
            txn.open_table(VALUES).map_err(|e| self.err(e))?;
            txn.open_table(COUNTERS).map_err(|e| self.err(e))?;
            txn.open_table(KV).map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// The schema version last recorded with [`Store::set_schema_version`].
    pub fn schema_version(&self) -> Result<Option<String>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let meta = txn.open_table(META).map_err(|e| self.err(e))?;
        Ok(meta
            .get("schema_version")
            .map_err(|e| self.err(e))?
            .map(|v| v.value().to_owned()))
    }

    /// Records the version of the schema the persisted data belongs to.
    pub fn set_schema_version(&self, version: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut meta = txn.open_table(META).map_err(|e| self.err(e))?;
            meta.insert("schema_version", version)
                .map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    pub(crate) fn load(&self) -> Result<Snapshot, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let mut snap = Snapshot::default();
        let t = txn.open_table(INSTANCES).map_err(|e| self.err(e))?;
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, _) = row.map_err(|e| self.err(e))?;
            snap.instances.push(k.value().to_owned());
        }
        let t = txn.open_table(VALUES).map_err(|e| self.err(e))?;
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            snap.values
                .push((k.value().to_owned(), v.value().to_owned()));
        }
        let t = txn.open_table(COUNTERS).map_err(|e| self.err(e))?;
        for row in t.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            snap.counters.push((k.value().to_owned(), v.value()));
        }
        Ok(snap)
    }

    /// Applies `batch` in one durable transaction.
    pub(crate) fn commit(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut inst = txn.open_table(INSTANCES).map_err(|e| self.err(e))?;
            let mut vals = txn.open_table(VALUES).map_err(|e| self.err(e))?;
            let mut ctrs = txn.open_table(COUNTERS).map_err(|e| self.err(e))?;
            for prefix in batch.delete_trees.iter().chain(&batch.forget_instances) {
                let end = prefix_end(prefix);
                let range = prefix.as_str()..end.as_str();
                inst.retain_in(range.clone(), |_, _| false)
                    .map_err(|e| self.err(e))?;
                ctrs.retain_in(range.clone(), |_, _| false)
                    .map_err(|e| self.err(e))?;
                if batch.delete_trees.contains(prefix) {
                    vals.retain_in(range, |_, _| false)
                        .map_err(|e| self.err(e))?;
                }
            }
            for p in &batch.put_instances {
                inst.insert(p.as_str(), ()).map_err(|e| self.err(e))?;
            }
            for (k, v) in &batch.put_values {
                vals.insert(k.as_str(), v.as_str())
                    .map_err(|e| self.err(e))?;
            }
            for (k, v) in &batch.put_counters {
                ctrs.insert(k.as_str(), *v).map_err(|e| self.err(e))?;
            }
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// Reads `key` of `namespace` from the key-value area.
    pub fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = txn.open_table(KV).map_err(|e| self.err(e))?;
        let k = kv_key(namespace, key);
        Ok(t.get(k.as_str())
            .map_err(|e| self.err(e))?
            .map(|v| v.value().to_vec()))
    }

    /// Writes `key` of `namespace` durably (blocks until on disk: from async code use
    /// [`Store::kv_put_async`]).
    pub fn kv_put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = txn.open_table(KV).map_err(|e| self.err(e))?;
            t.insert(kv_key(namespace, key).as_str(), value)
                .map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// Removes `key` of `namespace`.
    pub fn kv_delete(&self, namespace: &str, key: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = txn.open_table(KV).map_err(|e| self.err(e))?;
            t.remove(kv_key(namespace, key).as_str())
                .map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// [`Store::kv_put`] off the async runtime (the commit waits for the disk).
    pub async fn kv_put_async(
        self: Arc<Self>,
        namespace: String,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || self.kv_put(&namespace, &key, &value))
            .await
            .unwrap_or_else(|e| {
                Err(StoreError::Db {
                    path,
                    message: e.to_string(),
                })
            })
    }

    /// [`Store::kv_delete`] off the async runtime.
    pub async fn kv_delete_async(
        self: Arc<Self>,
        namespace: String,
        key: String,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || self.kv_delete(&namespace, &key))
            .await
            .unwrap_or_else(|e| {
                Err(StoreError::Db {
                    path,
                    message: e.to_string(),
                })
            })
    }

    /// Every key and value of `namespace`, keys ascending.
    pub fn kv_list(&self, namespace: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = txn.open_table(KV).map_err(|e| self.err(e))?;
        let start = kv_key(namespace, "");
        let end = format!("{namespace}\u{1}");
        let mut out = Vec::new();
        for row in t
            .range(start.as_str()..end.as_str())
            .map_err(|e| self.err(e))?
        {
            let (k, v) = row.map_err(|e| self.err(e))?;
            let key = k.value()[start.len()..].to_owned();
            out.push((key, v.value().to_vec()));
        }
        Ok(out)
    }
}

fn kv_key(namespace: &str, key: &str) -> String {
    format!("{namespace}\0{key}")
}

/// The smallest string greater than every string starting with `prefix` (which ends
/// with '.', so bumping that byte to '/' is enough).
fn prefix_end(prefix: &str) -> String {
    match prefix.strip_suffix('.') {
        Some(stem) => format!("{stem}/"),
        None => format!("{prefix}\u{10FFFF}"),
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
