//! The Z-Wave node registry in redb: every interviewed node of each network (keyed by home
//! id and node id) as JSON, so a restart mounts devices without re-interviewing them.
//!
//! redb calls block on disk I/O, so every call runs in `spawn_blocking`; a record is a few
//! kilobytes and is written only when the node's structure changes (join, interview,
//! a newly learned capability), never on value reports — an SD card is not a log device.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, TableDefinition};
use tokio::sync::mpsc;

use super::model::NodeRecord;

/// Nodes by `(home_id << 8) | node_id`.
const NODES: TableDefinition<u64, &[u8]> = TableDefinition::new("zwave_nodes");

/// Largest record accepted when loading (a corrupt length cannot exhaust memory).
const MAX_RECORD: usize = 256 * 1024;

/// A registry failure (logged; the bridge keeps running without persistence).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// redb failed.
    #[error("registry database: {0}")]
    Db(#[from] redb::Error),
    /// A record could not be (de)serialised.
    #[error("registry record: {0}")]
    Json(#[from] serde_json::Error),
    /// The blocking task failed.
    #[error("registry task: {0}")]
    Join(String),
}

fn key(home_id: u32, node: u8) -> u64 {
    (u64::from(home_id) << 8) | u64::from(node)
}

/// A handle to the registry database.
#[derive(Clone)]
pub struct Registry {
    db: Arc<Database>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

impl Registry {
    /// Opens or creates the database file.
    pub fn open(path: &Path) -> Result<Self, RegistryError> {
        let db = Database::create(path).map_err(redb::Error::from)?;
        Ok(Self { db: Arc::new(db) })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, RegistryError> + Send + 'static,
    ) -> Result<T, RegistryError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| RegistryError::Join(e.to_string()))?
    }

    /// Every node stored for `home_id`; unreadable records are skipped and logged.
    pub async fn load(&self, home_id: u32) -> Result<BTreeMap<u8, NodeRecord>, RegistryError> {
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(redb::Error::from)?;
            let table = match tx.open_table(NODES) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(BTreeMap::new()),
                Err(e) => return Err(redb::Error::from(e).into()),
            };
            let mut out = BTreeMap::new();
            for entry in table.range(key(home_id, 0)..=key(home_id, u8::MAX)).map_err(redb::Error::from)? {
                let (k, v) = entry.map_err(redb::Error::from)?;
                let bytes = v.value();
                let node = (k.value() & 0xFF) as u8;
                if bytes.len() > MAX_RECORD {
                    tracing::warn!(node, "zwave registry: oversized record skipped");
                    continue;
                }
                match serde_json::from_slice::<NodeRecord>(bytes) {
                    Ok(r) => {
                        out.insert(node, r);
                    }
                    Err(e) => tracing::warn!(node, error = %e, "zwave registry: unreadable record skipped"),
                }
            }
            Ok(out)
        })
        .await
    }

    /// Stores (replaces) one node.
    pub async fn save(&self, home_id: u32, record: &NodeRecord) -> Result<(), RegistryError> {
        let bytes = serde_json::to_vec(record)?;
        let k = key(home_id, record.node_id);
        self.blocking(move |db| {
            let tx = db.begin_write().map_err(redb::Error::from)?;
            {
                let mut t = tx.open_table(NODES).map_err(redb::Error::from)?;
                t.insert(k, &bytes[..]).map_err(redb::Error::from)?;
            }
            tx.commit().map_err(redb::Error::from)?;
            Ok(())
        })
        .await
    }

    /// Deletes one node.
    pub async fn remove(&self, home_id: u32, node: u8) -> Result<(), RegistryError> {
        self.blocking(move |db| {
            let tx = db.begin_write().map_err(redb::Error::from)?;
            {
                let mut t = tx.open_table(NODES).map_err(redb::Error::from)?;
                t.remove(key(home_id, node)).map_err(redb::Error::from)?;
            }
            tx.commit().map_err(redb::Error::from)?;
            Ok(())
        })
        .await
    }
}

/// One queued registry change.
#[derive(Debug)]
enum WriteOp {
    Save(u32, Box<NodeRecord>),
    Remove(u32, u8),
}

/// Ordered, non-blocking registry writes: changes are applied one after another by one task,
/// so a late write can never overtake a newer one (the database file is released when the
/// last writer is dropped and the queue has drained).
#[derive(Debug, Clone)]
pub struct RegistryWriter {
    tx: mpsc::UnboundedSender<WriteOp>,
}

impl RegistryWriter {
    /// Queues storing `record`.
    pub fn save(&self, home_id: u32, record: &NodeRecord) {
        let _ = self
            .tx
            .send(WriteOp::Save(home_id, Box::new(record.clone())));
    }

    /// Queues deleting `node`.
    pub fn remove(&self, home_id: u32, node: u8) {
        let _ = self.tx.send(WriteOp::Remove(home_id, node));
    }
}

impl Registry {
    /// Starts the writer task for this registry.
    pub fn writer(&self) -> RegistryWriter {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reg = self.clone();
        tokio::spawn(async move {
            while let Some(op) = rx.recv().await {
                let r = match &op {
                    WriteOp::Save(home, rec) => reg.save(*home, rec).await,
                    WriteOp::Remove(home, node) => reg.remove(*home, *node).await,
                };
                if let Err(e) = r {
                    tracing::warn!(error = %e, ?op, "zwave: registry write failed");
                }
            }
        });
        RegistryWriter { tx }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zwave::serial::functions::NodeProtocolInfo;

    #[tokio::test]
    async fn records_survive_reopen_and_are_scoped_by_home_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zwave.redb");
        let rec = NodeRecord::new(5, NodeProtocolInfo::default());
        {
            let reg = Registry::open(&path).unwrap();
            assert!(reg.load(1).await.unwrap().is_empty());
            reg.save(1, &rec).await.unwrap();
            reg.save(2, &NodeRecord::new(6, NodeProtocolInfo::default()))
                .await
                .unwrap();
        }
        let reg = Registry::open(&path).unwrap();
        let loaded = reg.load(1).await.unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[&5], rec);
        reg.remove(1, 5).await.unwrap();
        assert!(reg.load(1).await.unwrap().is_empty());
        assert_eq!(reg.load(2).await.unwrap().len(), 1);
    }
}
