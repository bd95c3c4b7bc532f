//! The device registry: which `ProxiedDevice` instance number (and which Node and
//! IoTCapability numbers inside it) belongs to which physical device, so a device keeps
//! its numbers across restarts, re-interviews, leaving and re-joining. Persisted in the
//! data model's redb store; numbers of removed devices are never handed out again (the
//! table's counter is persistent).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tracing::warn;
use usp_datamodel::Store;

const NAMESPACE: &str = "usphub.proxy.registry";

/// The numbers of one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `Device.ProxiedDevice.{i}` number.
    pub instance: u32,
    /// Capability id → `IoTCapability.{i}` number at device level.
    pub caps: BTreeMap<String, u32>,
    /// Node key → (`Node.{i}` number, capability id → number inside the node).
    pub nodes: BTreeMap<String, NodeEntry>,
    /// Next number for a new Node.
    pub next_node: u32,
    /// Next number for a new device-level capability.
    pub next_cap: u32,
}

/// The numbers of one Node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// `Node.{i}` number.
    pub instance: u32,
    /// Capability id → number.
    pub caps: BTreeMap<String, u32>,
    /// Next number for a new capability of this node.
    pub next_cap: u32,
}

/// Takes the number a key already has, or assigns the next one.
pub fn number_for(map: &mut BTreeMap<String, u32>, next: &mut u32, key: &str) -> u32 {
    if let Some(n) = map.get(key) {
        return *n;
    }
    *next = (*next).max(map.values().copied().max().unwrap_or(0)) + 1;
    map.insert(key.to_string(), *next);
    *next
}

/// A registry entry waiting to be written.
pub struct Pending {
    store: Arc<Store>,
    key: String,
    bytes: Vec<u8>,
}

/// The persisted registry.
pub struct Registry {
    store: Option<Arc<Store>>,
    entries: BTreeMap<String, Entry>,
}

impl Registry {
    /// Loads the registry from the store (or starts empty without one).
    pub fn load(store: Option<Arc<Store>>) -> Registry {
        let mut entries = BTreeMap::new();
        if let Some(s) = &store {
            match s.kv_list(NAMESPACE) {
                Ok(rows) => {
                    for (k, v) in rows {
                        match serde_json::from_slice::<Entry>(&v) {
                            Ok(e) => {
                                entries.insert(k, e);
                            }
                            Err(e) => {
                                warn!(device = %k, error = %e, "unreadable registry entry ignored")
                            }
                        }
                    }
                }
                Err(e) => warn!(error = %e, "device registry could not be read"),
            }
        }
        Registry { store, entries }
    }

    /// The entry of a device, if it was ever mounted.
    pub fn get(&self, device: &str) -> Option<&Entry> {
        self.entries.get(device)
    }

    /// Records a device's numbers in memory and returns what must be written to the
    /// store: the caller persists it with [`Registry::persist`] after releasing its lock,
    /// so no database commit runs under the lock or on the async runtime's threads.
    pub fn put(&mut self, device: &str, entry: Entry) -> Option<Pending> {
        let pending = match (&self.store, serde_json::to_vec(&entry)) {
            (Some(s), Ok(bytes)) => Some(Pending {
                store: s.clone(),
                key: device.to_string(),
                bytes,
            }),
            (Some(_), Err(e)) => {
                warn!(device, error = %e, "registry entry not encodable");
                None
            }
            (None, _) => None,
        };
        self.entries.insert(device.to_string(), entry);
        pending
    }

    /// Writes an entry [`Registry::put`] returned.
    pub async fn persist(pending: Option<Pending>) {
        let Some(p) = pending else { return };
        let key = p.key.clone();
        if let Err(e) = p
            .store
            .kv_put_async(NAMESPACE.to_string(), p.key, p.bytes)
            .await
        {
            warn!(device = %key, error = %e, "registry entry not persisted");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_never_reused() {
        let mut map = BTreeMap::new();
        let mut next = 0;
        assert_eq!(number_for(&mut map, &mut next, "a"), 1);
        assert_eq!(number_for(&mut map, &mut next, "b"), 2);
        assert_eq!(number_for(&mut map, &mut next, "a"), 1);
        map.remove("b");
        assert_eq!(
            number_for(&mut map, &mut next, "c"),
            3,
            "2 is not handed out again"
        );
    }

    #[tokio::test]
    async fn entries_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("db.redb")).unwrap());
        let mut r = Registry::load(Some(store.clone()));
        let mut e = Entry {
            instance: 7,
            ..Entry::default()
        };
        number_for(&mut e.caps, &mut e.next_cap, "onoff");
        let pending = r.put("zigbee:00124b0001020304", e.clone());
        Registry::persist(pending).await;
        drop(r);
        let r = Registry::load(Some(store));
        assert_eq!(r.get("zigbee:00124b0001020304"), Some(&e));
    }
}
