//! Rebuilding the persistent part of the tree from a store snapshot at start-up.
//! Anything that no longer fits the schema is dropped with a warning; values of
//! instances that are not in the tree (unmounted devices) are retained for a
//! later mount.

use super::{NodeId, Tree};
use crate::path::split_last;
use crate::store::Snapshot;
use crate::value::Value;

impl Tree {
    pub(crate) fn restore(&mut self, mut snap: Snapshot) {
        snap.instances.sort_by_key(|p| p.matches('.').count());
        for path in &snap.instances {
            if !self.restore_row(path) {
                tracing::warn!(%path, "persisted instance no longer fits the schema; dropped");
            }
        }
        for (table_path, next) in snap.counters {
            let parent = split_last(&table_path).and_then(|(parent, name)| {
                let node = self.find(parent)?;
                let def = self.node(node)?.def;
                let child = self.schema.child(def, name)?;
                Some((node, self.schema.child_slot(def, child)?))
            });
            match parent {
                Some((node, slot)) => {
                    if let Some(rows) = self.rows_mut(node, slot) {
                        rows.next = rows.next.max(next);
                        rows.persisted = next;
                    }
                }
                None => {
                    self.retained_counters.insert(table_path, next);
                }
            }
        }
        for (path, text) in snap.values {
            let Some((obj_path, name)) = path.rsplit_once('.') else {
                continue;
            };
            let obj_path = &path[..obj_path.len() + 1];
            let Some(node) = self.find(obj_path) else {
                self.retained.insert(path.clone(), text);
                continue;
            };
            let parsed = self
                .node(node)
                .map(|n| self.schema.obj(n.def))
                .and_then(|def| def.param_index(name).map(|i| (i, def.params()[i].clone())))
                .filter(|(_, p)| p.is_persistent())
                .and_then(|(i, p)| {
                    Value::parse(p.ty(), p.is_list(), &text)
                        .ok()
                        .map(|v| (i, v))
                });
            match parsed {
                Some((idx, v)) => {
                    self.store_value(node, idx, v);
                }
                None => tracing::warn!(%path, "persisted value no longer fits the schema; dropped"),
            }
        }
    }

    /// Whether `id` lies inside a row of a persistent table (so an optional object
    /// created there must be remembered).
    pub(crate) fn in_persistent_row(&self, id: NodeId) -> bool {
        let mut cur = Some(id);
        while let Some(c) = cur {
            let Some(n) = self.node(c) else { return false };
            if self.schema.obj(n.def).is_persistent() {
                return true;
            }
            cur = n.parent;
        }
        false
    }

    fn restore_row(&mut self, path: &str) -> bool {
        let Some((table_path, number)) = split_last(path) else {
            return false;
        };
        let Ok(number) = number.parse::<u32>() else {
            return self.restore_optional(table_path, number);
        };
        let Some((parent_path, name)) = split_last(table_path) else {
            return false;
        };
        let Some(parent) = self.find(parent_path) else {
            return false;
        };
        let Some(def) = self.node(parent).map(|n| n.def) else {
            return false;
        };
        let Some(child) = self.schema.child(def, name) else {
            return false;
        };
        if !self.schema.obj(child).is_persistent() {
            return false;
        }
        let Some(slot) = self.schema.child_slot(def, child) else {
            return false;
        };
        self.create_row(parent, slot, Some(number)).is_ok()
    }

    /// Re-creates the optional single object `name` below `parent_path`.
    fn restore_optional(&mut self, parent_path: &str, name: &str) -> bool {
        let Some(parent) = self.find(parent_path) else {
            return false;
        };
        let Some(def) = self.node(parent).map(|n| n.def) else {
            return false;
        };
        let Some(child) = self.schema.child(def, name) else {
            return false;
        };
        if !self.schema.obj(child).is_optional() {
            return false;
        }
        let Some(slot) = self.schema.child_slot(def, child) else {
            return false;
        };
        self.create_single(parent, slot).is_ok()
    }
}
