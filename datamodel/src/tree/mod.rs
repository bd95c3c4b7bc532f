//! The instance tree: object instances in an arena, values stored typed, tables as
//! ordered maps of instance number to node (TR-369 section 2.3 "Data Model Paths",
//! instance numbering rules of TR-181: numbers are never reused within a table).
//!
//! The tree is plain data behind the [`crate::DataModel`]'s lock; nothing here awaits.

mod resolve;
mod restore;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

pub(crate) use resolve::Target;

use crate::error::{DmError, DmResult, ErrorKind};
use crate::provider::Provider;
use crate::schema::{ObjId, ObjKind, ParamDef, Schema};
use crate::value::Value;

/// Index of a node in the arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NodeId(pub u32);

/// One object instance (or single-instance object).
pub(crate) struct Node {
    pub def: ObjId,
    pub parent: Option<NodeId>,
    /// Instance number for table rows, 0 for single objects.
    pub instance: u32,
    /// Values by parameter index of the definition; `None` means "initial value".
    pub values: Vec<Option<Value>>,
    /// Child slots by child index of the definition; missing slots are empty.
    pub children: Vec<Slot>,
    pub provider: Option<Arc<dyn Provider>>,
}

/// A child object of a node.
pub(crate) enum Slot {
    Single(Option<NodeId>),
    Table(Rows),
}

/// A table's rows and its next instance number.
#[derive(Default)]
pub(crate) struct Rows {
    pub rows: BTreeMap<u32, NodeId>,
    pub next: u32,
    /// The counter value last written to the store (to skip rewriting it).
    pub persisted: u32,
}

/// The instance tree.
pub(crate) struct Tree {
    pub schema: Arc<Schema>,
    nodes: Vec<Option<Node>>,
    free: Vec<u32>,
    /// Providers attached to every instance of an object definition.
    pub type_providers: HashMap<ObjId, Arc<dyn Provider>>,
    /// Persisted values whose instance is not in the tree (an unmounted device):
    /// applied when the instance reappears.
    pub retained: HashMap<String, String>,
    /// Persisted next-instance counters of tables whose parent is not in the tree.
    pub retained_counters: HashMap<String, u32>,
}

pub(crate) const ROOT: NodeId = NodeId(0);

impl Tree {
    pub fn new(schema: Arc<Schema>) -> Tree {
        let mut tree = Tree {
            schema,
            nodes: Vec::new(),
            free: Vec::new(),
            type_providers: HashMap::new(),
            retained: HashMap::new(),
            retained_counters: HashMap::new(),
        };
        tree.alloc(Schema::ROOT, None, 0);
        tree
    }

    /// Number of live nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.0 as usize).and_then(Option::as_ref)
    }

    pub fn node_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.nodes.get_mut(id.0 as usize).and_then(Option::as_mut)
    }

    fn alloc(&mut self, def: ObjId, parent: Option<NodeId>, instance: u32) -> NodeId {
        let node = Node {
            def,
            parent,
            instance,
            values: Vec::new(),
            children: Vec::new(),
            provider: None,
        };
        let id = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = Some(node);
                NodeId(i)
            }
            None => {
                self.nodes.push(Some(node));
                NodeId(self.nodes.len() as u32 - 1)
            }
        };
        self.create_mandatory_singles(id);
        id
    }

    /// Creates the non-optional single-instance children of `id` that are missing
    /// (also after the schema grew).
    pub fn create_mandatory_singles(&mut self, id: NodeId) {
        let Some(def) = self.node(id).map(|n| n.def) else {
            return;
        };
        let schema = self.schema.clone();
        for (slot, child) in schema.obj(def).children.iter().enumerate() {
            if matches!(schema.obj(*child).kind, ObjKind::Single { optional: false })
                && self.single(id, slot).is_none()
            {
                let c = self.alloc(*child, Some(id), 0);
                self.set_slot(id, slot, Slot::Single(Some(c)));
            }
        }
    }

    fn set_slot(&mut self, id: NodeId, slot: usize, value: Slot) {
        if let Some(n) = self.node_mut(id) {
            while n.children.len() <= slot {
                n.children.push(Slot::Single(None));
            }
            n.children[slot] = value;
        }
    }

    pub fn single(&self, id: NodeId, slot: usize) -> Option<NodeId> {
        match self.node(id)?.children.get(slot)? {
            Slot::Single(s) => *s,
            Slot::Table(_) => None,
        }
    }

    pub fn rows(&self, id: NodeId, slot: usize) -> Option<&Rows> {
        match self.node(id)?.children.get(slot)? {
            Slot::Table(r) => Some(r),
            Slot::Single(_) => None,
        }
    }

    /// The rows of table `slot` of `id`, creating the empty table on first use; `None`
    /// only for a freed node.
    pub fn rows_mut(&mut self, id: NodeId, slot: usize) -> Option<&mut Rows> {
        let needs = !matches!(
            self.node(id).and_then(|n| n.children.get(slot)),
            Some(Slot::Table(_))
        );
        if needs {
            self.set_slot(
                id,
                slot,
                Slot::Table(Rows {
                    rows: BTreeMap::new(),
                    next: 1,
                    persisted: 0,
                }),
            );
        }
        match self.node_mut(id).and_then(|n| n.children.get_mut(slot)) {
            Some(Slot::Table(r)) => Some(r),
            _ => None,
        }
    }

    /// Writes the concrete path of `id` (`Device.A.1.B.`) into `out`.
    pub fn write_path(&self, id: NodeId, out: &mut String) {
        let mut chain = Vec::with_capacity(8);
        let mut cur = Some(id);
        while let Some(c) = cur {
            let Some(n) = self.node(c) else { break };
            chain.push(c);
            cur = n.parent;
        }
        for c in chain.iter().rev() {
            let Some(n) = self.node(*c) else { continue };
            out.push_str(self.schema.obj(n.def).name());
            out.push('.');
            if self.schema.obj(n.def).is_table() {
                let _ = write!(out, "{}.", n.instance);
            }
        }
    }

    pub fn path(&self, id: NodeId) -> String {
        let mut s = String::with_capacity(64);
        self.write_path(id, &mut s);
        s
    }

    /// The value of parameter `idx` of `id` as stored (initial value if never set;
    /// `NumberOfEntries` computed from the table).
    pub fn value(&self, id: NodeId, idx: usize) -> Option<Value> {
        let node = self.node(id)?;
        let def = self.schema.obj(node.def).params.get(idx)?;
        if let Some(table) = def.num_entries_of {
            let slot = self.schema.child_slot(node.def, table)?;
            let n = self.rows(id, slot).map_or(0, |r| r.rows.len());
            return Some(Value::UnsignedInt(n as u32));
        }
        Some(match node.values.get(idx) {
            Some(Some(v)) => v.clone(),
            _ => def.initial_value(),
        })
    }

    /// Borrowing variant of [`Tree::value`] for stored values (no clone, no counters).
    pub fn value_ref(&self, id: NodeId, idx: usize) -> Option<&Value> {
        self.node(id)?.values.get(idx)?.as_ref()
    }

    /// Writes the string form of parameter `idx` into `out` (hidden values are empty).
    pub fn write_value(&self, id: NodeId, idx: usize, out: &mut String) {
        let Some(node) = self.node(id) else { return };
        let Some(def) = self.schema.obj(node.def).params.get(idx) else {
            return;
        };
        if def.access == crate::schema::Access::WriteOnly {
            return;
        }
        match node.values.get(idx) {
            Some(Some(Value::String(s))) => out.push_str(s),
            Some(Some(v)) => v.write_to(out),
            _ if def.num_entries_of.is_none() => out.push_str(&def.initial_text),
            _ => {
                if let Some(v) = self.value(id, idx) {
                    v.write_to(out);
                }
            }
        }
    }

    pub fn param_def(&self, id: NodeId, idx: usize) -> Option<&ParamDef> {
        self.schema.obj(self.node(id)?.def).params.get(idx)
    }

    /// Stores `value`; returns whether it changed.
    pub fn store_value(&mut self, id: NodeId, idx: usize, value: Value) -> bool {
        let Some(node) = self.node_mut(id) else {
            return false;
        };
        while node.values.len() <= idx {
            node.values.push(None);
        }
        if node.values[idx].as_ref() == Some(&value) {
            return false;
        }
        node.values[idx] = Some(value);
        true
    }

    /// Creates row `instance` (or the next number) of table `slot` of `parent`.
    pub fn create_row(
        &mut self,
        parent: NodeId,
        slot: usize,
        instance: Option<u32>,
    ) -> DmResult<NodeId> {
        let pdef = self
            .node(parent)
            .map(|n| n.def)
            .ok_or_else(|| DmError::internal("", "stale node"))?;
        let schema = self.schema.clone();
        let Some(def) = schema.obj(pdef).children.get(slot).copied() else {
            return Err(DmError::internal("", "bad child slot"));
        };
        let max = schema.obj(def).table().and_then(|t| t.max_entries);
        if self.rows(parent, slot).is_none() {
            let key = format!("{}{}.", self.path(parent), schema.obj(def).name());
            let retained = self.retained_counters.remove(&key);
            let rows = self
                .rows_mut(parent, slot)
                .ok_or_else(|| DmError::internal("", "stale node"))?;
            rows.next = retained.unwrap_or(1).max(1);
            rows.persisted = retained.unwrap_or(0);
        }
        let rows = self
            .rows_mut(parent, slot)
            .ok_or_else(|| DmError::internal("", "stale node"))?;
        if let Some(max) = max
            && rows.rows.len() >= max as usize
        {
            return Err(DmError::new(
                ErrorKind::ResourcesExceeded,
                "",
                format!("the table holds at most {max} instances"),
            ));
        }
        let number = match instance {
            Some(0) => {
                return Err(DmError::new(
                    ErrorKind::InvalidArguments,
                    "",
                    "instance number 0",
                ));
            }
            Some(n) if rows.rows.contains_key(&n) => {
                return Err(DmError::new(
                    ErrorKind::InvalidArguments,
                    "",
                    format!("instance {n} already exists"),
                ));
            }
            Some(n) => n,
            None => rows.next,
        };
        if number == u32::MAX {
            return Err(DmError::new(
                ErrorKind::ResourcesExceeded,
                "",
                "instance numbers exhausted",
            ));
        }
        rows.next = rows.next.max(number + 1);
        let id = self.alloc(def, Some(parent), number);
        match self.rows_mut(parent, slot) {
            Some(rows) => {
                rows.rows.insert(number, id);
                Ok(id)
            }
            None => Err(DmError::internal("", "stale node")),
        }
    }

    /// Creates the optional single object `slot` of `parent` (no-op if present).
    pub fn create_single(&mut self, parent: NodeId, slot: usize) -> DmResult<NodeId> {
        if let Some(id) = self.single(parent, slot) {
            return Ok(id);
        }
        let pdef = self
            .node(parent)
            .map(|n| n.def)
            .ok_or_else(|| DmError::internal("", "stale node"))?;
        let Some(def) = self.schema.obj(pdef).children.get(slot).copied() else {
            return Err(DmError::internal("", "bad child slot"));
        };
        let id = self.alloc(def, Some(parent), 0);
        self.set_slot(parent, slot, Slot::Single(Some(id)));
        Ok(id)
    }

    /// Removes `id` and everything below it; returns the removed nodes, parents first.
    pub fn remove(&mut self, id: NodeId) -> Vec<NodeId> {
        let Some(node) = self.node(id) else {
            return Vec::new();
        };
        let (parent, def, instance) = (node.parent, node.def, node.instance);
        if let Some(p) = parent
            && let Some(pdef) = self.node(p).map(|n| n.def)
            && let Some(slot) = self.schema.child_slot(pdef, def)
        {
            match self.node_mut(p).and_then(|n| n.children.get_mut(slot)) {
                Some(Slot::Table(rows)) => {
                    rows.rows.remove(&instance);
                }
                Some(Slot::Single(s)) => *s = None,
                None => {}
            }
        }
        let mut order = vec![id];
        let mut i = 0;
        while i < order.len() {
            if let Some(n) = self.node(order[i]) {
                for slot in &n.children {
                    match slot {
                        Slot::Single(Some(c)) => order.push(*c),
                        Slot::Table(rows) => order.extend(rows.rows.values().copied()),
                        Slot::Single(None) => {}
                    }
                }
            }
            i += 1;
        }
        order
    }

    /// Frees nodes returned by [`Tree::remove`] (after their paths were reported).
    pub fn free(&mut self, ids: &[NodeId]) {
        for id in ids {
            if let Some(slot) = self.nodes.get_mut(id.0 as usize)
                && slot.take().is_some()
            {
                self.free.push(id.0);
            }
        }
    }

    /// Children of `id` in order: single objects and rows, with their definitions.
    pub fn for_each_child(&self, id: NodeId, mut f: impl FnMut(NodeId)) {
        let Some(n) = self.node(id) else { return };
        for slot in &n.children {
            match slot {
                Slot::Single(Some(c)) => f(*c),
                Slot::Table(rows) => rows.rows.values().for_each(|c| f(*c)),
                Slot::Single(None) => {}
            }
        }
    }

    /// The node at a concrete object path (`Device.A.1.B.`, trailing dot optional).
    pub fn find(&self, path: &str) -> Option<NodeId> {
        let path = path.strip_suffix('.').unwrap_or(path);
        let mut parts = path.split('.');
        if parts.next() != Some("Device") {
            return None;
        }
        let mut cur = ROOT;
        while let Some(name) = parts.next() {
            let def = self.node(cur)?.def;
            let child = self.schema.child(def, name)?;
            let slot = self.schema.child_slot(def, child)?;
            cur = if self.schema.obj(child).is_table() {
                let n: u32 = parts.next()?.parse().ok()?;
                *self.rows(cur, slot)?.rows.get(&n)?
            } else {
                self.single(cur, slot)?
            };
        }
        Some(cur)
    }

    /// The provider responsible for `id`: the nearest attached to it or an ancestor,
    /// else one attached to the definition of it or an ancestor.
    pub fn provider_for(&self, id: NodeId) -> Option<Arc<dyn Provider>> {
        let mut cur = Some(id);
        while let Some(c) = cur {
            let n = self.node(c)?;
            if let Some(p) = &n.provider {
                return Some(p.clone());
            }
            if let Some(p) = self.type_providers.get(&n.def) {
                return Some(p.clone());
            }
            cur = n.parent;
        }
        None
    }

    /// The unique-key values of a row, for ObjectCreation and GetInstances.
    pub fn unique_keys(&self, id: NodeId) -> Vec<(String, String)> {
        let Some(node) = self.node(id) else {
            return Vec::new();
        };
        let def = self.schema.obj(node.def);
        let mut out: Vec<(String, String)> = Vec::new();
        if let Some(t) = def.table() {
            for name in t.unique_keys.iter().flatten() {
                if out.iter().any(|(n, _)| n == &**name) {
                    continue;
                }
                if let Some(idx) = def.param_index(name) {
                    let mut v = String::new();
                    self.write_value(id, idx, &mut v);
                    out.push((name.to_string(), v));
                }
            }
        }
        out
    }
}
