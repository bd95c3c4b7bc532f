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

    /// Records (and persists) a device's numbers.
    pub fn put(&mut self, device: &str, entry: Entry) {
        if let Some(s) = &self.store {
            match serde_json::to_vec(&entry) {
                Ok(bytes) => {
                    if let Err(e) = s.kv_put(NAMESPACE, device, &bytes) {
                        warn!(device, error = %e, "registry entry not persisted");
                    }
                }
                Err(e) => warn!(device, error = %e, "registry entry not encodable"),
            }
        }
        self.entries.insert(device.to_string(), entry);
    }

    /// Forgets a device removed for good.
    pub fn remove(&mut self, device: &str) {
        if let Some(s) = &self.store
            && let Err(e) = s.kv_delete(NAMESPACE, device)
        {
            warn!(device, error = %e, "registry entry not deleted");
        }
        self.entries.remove(device);
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

    #[test]
    fn entries_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("db.redb")).unwrap());
        let mut r = Registry::load(Some(store.clone()));
        let mut e = Entry {
            instance: 7,
            ..Entry::default()
        };
        number_for(&mut e.caps, &mut e.next_cap, "onoff");
        r.put("zigbee:00124b0001020304", e.clone());
        drop(r);
        let r = Registry::load(Some(store));
        assert_eq!(r.get("zigbee:00124b0001020304"), Some(&e));
    }
}
