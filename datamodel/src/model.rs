//! [`DataModel`]: the shared handle to the schema, the instance tree, the change
//! stream and the store.
//!
//! Locking: the tree sits behind a `std::sync::RwLock` that is never held across an
//! `.await`. Mutations take an async "write gate" first so that the order in which
//! they are applied to the tree is the order in which they are committed to the store;
//! the gate is never held while a provider (a radio) is awaited.
//!
//! Durability: a mutation is applied to the tree, then its persistent part is
//! committed to redb, then its changes are published and the call returns. If the
//! commit fails the call returns an `Internal` error (7003) and the change is not
//! published; the tree keeps the new values until the next restart reloads the store.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::{Mutex, broadcast};

use crate::change::{CHANGE_CHANNEL_CAPACITY, Change};
use crate::error::{DmError, DmResult, ErrorKind};
use crate::path::{self, Leaf, PathExpr, Segment};
use crate::provider::{Args, Provider};
use crate::schema::{Schema, SchemaBuilder, SchemaError};
use crate::store::{Batch, Store};
use crate::tree::{NodeId, ROOT, Target, Tree};
use crate::value::Value;

/// The data model: cheap to clone, shared by every task of the agent.
#[derive(Clone)]
pub struct DataModel {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    tree: RwLock<Tree>,
    changes: broadcast::Sender<Arc<Change>>,
    pub(crate) store: Option<Arc<Store>>,
    gate: Mutex<()>,
}

/// What a mutation produced: store writes and changes to publish once committed.
#[derive(Default)]
pub(crate) struct Effects {
    pub batch: Batch,
    pub changes: Vec<Change>,
}

impl DataModel {
    /// An in-memory data model (nothing persists).
    pub fn new(schema: Schema) -> DataModel {
        DataModel::build(schema, None)
    }

    /// A data model backed by `store`: persisted instances and values are loaded now
    /// (values that no longer fit the schema are dropped with a warning).
    pub fn with_store(schema: Schema, store: Store) -> DmResult<DataModel> {
        DataModel::with_options(schema, Some(store), CHANGE_CHANNEL_CAPACITY)
    }

    /// A data model with an optional store and a change channel of `change_capacity`
    /// entries (a receiver more than that many changes behind gets `Lagged`).
    pub fn with_options(
        schema: Schema,
        store: Option<Store>,
        change_capacity: usize,
    ) -> DmResult<DataModel> {
        let snapshot = match &store {
            Some(s) => Some(s.load()?),
            None => None,
        };
        let dm = DataModel::build_with(schema, store.map(Arc::new), change_capacity.max(1));
        if let Some(snap) = snapshot {
            dm.write().restore(snap);
        }
        Ok(dm)
    }

    fn build(schema: Schema, store: Option<Arc<Store>>) -> DataModel {
        DataModel::build_with(schema, store, CHANGE_CHANNEL_CAPACITY)
    }

    fn build_with(schema: Schema, store: Option<Arc<Store>>, capacity: usize) -> DataModel {
        let (tx, _) = broadcast::channel(capacity);
        DataModel {
            inner: Arc::new(Inner {
                tree: RwLock::new(Tree::new(Arc::new(schema))),
                changes: tx,
                store,
                gate: Mutex::new(()),
            }),
        }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Tree> {
        // A panic while holding the lock cannot leave the tree half-updated in a way
        // that matters more than stopping the agent would, so poisoning is ignored.
        self.inner.tree.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Tree> {
        self.inner.tree.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) async fn gate(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.gate.lock().await
    }

    /// Commits `effects.batch` to the store (off the async runtime), then publishes
    /// the changes. Call with the write gate held.
    pub(crate) async fn commit(&self, effects: Effects) -> DmResult<()> {
        if let Some(store) = &self.inner.store
            && !effects.batch.is_empty()
        {
            let store = store.clone();
            let batch = effects.batch;
            let result = tokio::task::spawn_blocking(move || store.commit(&batch))
                .await
                .map_err(|e| DmError::internal("", format!("store task failed: {e}")))?;
            if let Err(e) = result {
                tracing::error!(error = %e, "persisting a data model change failed");
                return Err(e.into());
            }
        }
        self.publish(effects.changes);
        Ok(())
    }

    pub(crate) fn publish(&self, changes: Vec<Change>) {
        for c in changes {
            // No receiver is not an error: nobody subscribed yet.
            let _ = self.inner.changes.send(Arc::new(c));
        }
    }

    /// The current schema.
    pub fn schema(&self) -> Arc<Schema> {
        self.read().schema.clone()
    }

    /// Grows the schema at run time (e.g. a new capability type under
    /// `Device.ProxiedDevice.{i}.`): `f` declares on a copy; on success the copy
    /// replaces the schema and existing instances gain their new mandatory sub-objects.
    pub fn extend_schema(&self, f: impl FnOnce(&mut SchemaBuilder)) -> Result<(), SchemaError> {
        let mut b = self.schema().extend();
        f(&mut b);
        let schema = Arc::new(b.build()?);
        let mut tree = self.write();
        tree.schema = schema;
        let ids: Vec<NodeId> = tree.all_nodes();
        for id in ids {
            tree.create_mandatory_singles(id);
        }
        Ok(())
    }

    /// A receiver of every change from now on.
    pub fn changes(&self) -> broadcast::Receiver<Arc<Change>> {
        self.inner.changes.subscribe()
    }

    /// Parses `path` and checks it against the schema, for repeated use with
    /// [`DataModel::matches`] (a subscription's ReferenceList entry).
    pub fn compile(&self, path: &str) -> DmResult<PathExpr> {
        let expr = path::parse(path)?;
        self.read().check_static(&expr, path)?;
        Ok(expr)
    }

    /// The concrete paths `path` matches now, in order: object paths end with `.`,
    /// tables as a whole are returned as their table path (`Device.X.`).
    pub fn resolve(&self, path: &str) -> DmResult<Vec<String>> {
        let expr = path::parse(path)?;
        let tree = self.read();
        let targets = tree.resolve(&expr, path)?;
        Ok(targets.into_iter().map(|t| tree.target_path(t)).collect())
    }

    /// Whether the concrete `subject` (a parameter path, an instance path, or an
    /// event/command path such as `Device.Boot!`) is matched by `pattern`: equal to a
    /// path it resolves to, or below an object path it resolves to.
    ///
    /// Cheap: walks `subject` and `pattern` side by side; search expressions are
    /// evaluated on the subject's own instances only. An instance that no longer exists
    /// (ObjectDeletion) matches on structure alone. Patterns that follow references
    /// fall back to full resolution.
    pub fn matches(&self, pattern: &PathExpr, subject: &str) -> bool {
        let tree = self.read();
        tree.matches(pattern, subject)
    }

    /// Attaches `provider` to the object instance at `obj_path` (and its subtree).
    pub fn attach_provider(&self, obj_path: &str, provider: Arc<dyn Provider>) -> DmResult<()> {
        let mut tree = self.write();
        let id = tree
            .find(obj_path)
            .ok_or_else(|| DmError::new(ErrorKind::InstanceNotFound, obj_path, "no such object"))?;
        if let Some(n) = tree.node_mut(id) {
            n.provider = Some(provider);
        }
        Ok(())
    }

    /// Attaches `provider` to every instance, present and future, of the object whose
    /// supported path is `supported_path` (`Device.LocalAgent.Request.{i}.`).
    pub fn attach_type_provider(
        &self,
        supported_path: &str,
        provider: Arc<dyn Provider>,
    ) -> DmResult<()> {
        let mut tree = self.write();
        let def = tree
            .schema
            .object_by_path(supported_path)
            .ok_or_else(|| DmError::not_supported(supported_path))?;
        tree.type_providers.insert(def, provider);
        Ok(())
    }

    /// Publishes an event (`Boot!`, a button press) on the change stream after checking
    /// that the object exists and declares the event.
    pub fn emit_event(&self, obj_path: &str, event_name: &str, args: Args) -> DmResult<()> {
        {
            let tree = self.read();
            let id = tree.find(obj_path).ok_or_else(|| {
                DmError::new(ErrorKind::InstanceNotFound, obj_path, "no such object")
            })?;
            let def = tree
                .node(id)
                .map(|n| n.def)
                .ok_or_else(|| DmError::internal(obj_path, "stale"))?;
            if tree.schema.obj(def).event_index(event_name).is_none() {
                return Err(DmError::not_supported(&format!("{obj_path}{event_name}")));
            }
        }
        let obj_path = if obj_path.ends_with('.') {
            obj_path.to_owned()
        } else {
            format!("{obj_path}.")
        };
        self.publish(vec![Change::Event {
            obj_path,
            event_name: event_name.to_owned(),
            args,
        }]);
        Ok(())
    }

    /// Publishes the completion of an asynchronous command (used by
    /// [`crate::PendingOperation::spawn_reporting`], or by code that runs the operation
    /// itself).
    pub fn emit_operation_complete(
        &self,
        obj_path: &str,
        command_name: &str,
        command_key: &str,
        result: Result<Args, DmError>,
    ) {
        self.publish(vec![Change::OperationComplete {
            obj_path: obj_path.to_owned(),
            command_name: command_name.to_owned(),
            command_key: command_key.to_owned(),
            result,
        }]);
    }

    /// The stored value of the parameter at concrete `path`, without asking providers
    /// (a live parameter reads as its initial value; a write-only one as ""; use
    /// [`DataModel::stored_typed`] for the real value). For the agent's own configuration.
    pub fn stored_value(&self, path: &str) -> DmResult<String> {
        let expr = path::parse(path)?;
        let tree = self.read();
        match tree.resolve(&expr, path)?.as_slice() {
            [Target::Param(n, idx)] => {
                let mut out = String::new();
                tree.write_value(*n, *idx, &mut out);
                Ok(out)
            }
            _ => Err(DmError::new(
                ErrorKind::WrongPathKind,
                path,
                "not a single parameter path",
            )),
        }
    }

    /// The stored typed value of the parameter at concrete `path` (see
    /// [`DataModel::stored_value`]).
    pub fn stored_typed(&self, path: &str) -> DmResult<Value> {
        let expr = path::parse(path)?;
        let tree = self.read();
        match tree.resolve(&expr, path)?.as_slice() {
            [Target::Param(n, idx)] => tree
                .value(*n, *idx)
                .ok_or_else(|| DmError::internal(path, "stale node")),
            _ => Err(DmError::new(
                ErrorKind::WrongPathKind,
                path,
                "not a single parameter path",
            )),
        }
    }

    /// Instance numbers of the rows of the table at `table_path` (`Device.X.`).
    pub fn instance_numbers(&self, table_path: &str) -> DmResult<Vec<u32>> {
        let expr = path::parse(table_path)?;
        let tree = self.read();
        match tree.resolve(&expr, table_path)?.as_slice() {
            [Target::Table { parent, slot, .. }] => Ok(tree
                .rows(*parent, *slot)
                .map(|r| r.rows.keys().copied().collect())
                .unwrap_or_default()),
            _ => Err(DmError::new(
                ErrorKind::NotATable,
                table_path,
                "not a table path",
            )),
        }
    }

    /// Number of object instances in the tree (all nodes, `Device.` included).
    pub fn object_count(&self) -> usize {
        self.read().node_count()
    }

    /// The store, if the data model persists (for its key-value area).
    pub fn store(&self) -> Option<Arc<Store>> {
        self.inner.store.clone()
    }
}

impl Tree {
    pub(crate) fn all_nodes(&self) -> Vec<NodeId> {
        let mut out = vec![ROOT];
        let mut i = 0;
        while i < out.len() {
            let id = out[i];
            self.for_each_child(id, |c| out.push(c));
            i += 1;
        }
        out
    }

    pub(crate) fn target_path(&self, t: Target) -> String {
        match t {
            Target::Object(n) => self.path(n),
            Target::Table { parent, def, .. } => {
                let mut s = self.path(parent);
                s.push_str(self.schema.obj(def).name());
                s.push('.');
                s
            }
            Target::Param(n, idx) => {
                let mut s = self.path(n);
                if let Some(p) = self.param_def(n, idx) {
                    s.push_str(p.name());
                }
                s
            }
            Target::Command(n, idx) => {
                let mut s = self.path(n);
                if let Some(d) = self.node(n) {
                    s.push_str(self.schema.obj(d.def).commands()[idx].name());
                }
                s
            }
            Target::Event(n, idx) => {
                let mut s = self.path(n);
                if let Some(d) = self.node(n) {
                    s.push_str(self.schema.obj(d.def).events()[idx].name());
                }
                s
            }
        }
    }

    fn matches(&self, pattern: &PathExpr, subject: &str) -> bool {
        if pattern
            .segments
            .iter()
            .any(|s| matches!(s, Segment::Follow { .. }))
        {
            return self.matches_by_resolution(pattern, subject);
        }
        let Some(rest) = subject.strip_prefix("Device.") else {
            return false;
        };
        let parts: Vec<&str> = rest.split('.').collect();
        // `parts` ends with the leaf ("" for an object path).
        let (leaf, elems) = match parts.split_last() {
            Some(x) => x,
            None => return false,
        };
        let mut cur = Some(ROOT);
        let mut consumed = 0usize;
        for seg in &pattern.segments {
            let Some(e) = elems.get(consumed) else {
                return false;
            };
            match seg {
                Segment::Name(n) => {
                    if **n != **e {
                        return false;
                    }
                    cur = cur.and_then(|c| self.step_name(c, e));
                }
                Segment::Instance(k) => {
                    if e.parse::<u32>().ok() != Some(*k) {
                        return false;
                    }
                    cur = cur.and_then(|c| self.step_instance(c, elems, consumed));
                }
                Segment::Wildcard => {
                    if e.parse::<u32>().is_err() {
                        return false;
                    }
                    cur = cur.and_then(|c| self.step_instance(c, elems, consumed));
                }
                Segment::Search(conds) => {
                    if e.parse::<u32>().is_err() {
                        return false;
                    }
                    cur = cur.and_then(|c| self.step_instance(c, elems, consumed));
                    if let Some(row) = cur
                        && !conds.iter().all(|c| self.condition_holds(row, c))
                    {
                        return false;
                    }
                }
                Segment::Follow { .. } => return false,
            }
            consumed += 1;
        }
        let remaining_elems = &elems[consumed..];
        match &pattern.leaf {
            Leaf::Object => true,
            Leaf::Param(p) | Leaf::Command(p) | Leaf::Event(p) => {
                remaining_elems.is_empty() && **p == **leaf
            }
        }
    }

    fn step_name(&self, cur: NodeId, name: &str) -> Option<NodeId> {
        let def = self.node(cur)?.def;
        let child = self.schema.child(def, name)?;
        let slot = self.schema.child_slot(def, child)?;
        if self.schema.obj(child).is_table() {
            // Stay on the parent; the following instance element picks the row.
            Some(cur)
        } else {
            self.single(cur, slot)
        }
    }

    fn step_instance(&self, cur: NodeId, elems: &[&str], at: usize) -> Option<NodeId> {
        let name = elems.get(at.checked_sub(1)?)?;
        let k: u32 = elems.get(at)?.parse().ok()?;
        let def = self.node(cur)?.def;
        let child = self.schema.child(def, name)?;
        let slot = self.schema.child_slot(def, child)?;
        self.rows(cur, slot)?.rows.get(&k).copied()
    }

    fn matches_by_resolution(&self, pattern: &PathExpr, subject: &str) -> bool {
        let Ok(targets) = self.resolve(pattern, "") else {
            return false;
        };
        targets.into_iter().any(|t| {
            let p = self.target_path(t);
            if p.ends_with('.') {
                subject.starts_with(&p)
            } else {
                subject == p
            }
        })
    }
}
