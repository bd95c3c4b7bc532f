//! Writes by code inside the agent (LocalAgent, the proxy glue, bridges): set any
//! parameter (read-only ones included), create and delete rows, and mount or unmount
//! whole subtrees such as a proxied device with its capabilities.
//!
//! These bypass Controller access rules but not the schema: types and constraints
//! are still checked, unique keys enforced, changes published and persistent data
//! committed before the call returns.

use std::sync::Arc;

use crate::error::{DmError, DmResult, ErrorKind};
use crate::model::{DataModel, Effects};
use crate::ops::add::resolve_table;
use crate::ops::delete::remove_row;
use crate::ops::write::{self, Writer};
use crate::path;
use crate::provider::Provider;
use crate::schema::ObjKind;
use crate::tree::{NodeId, Target, Tree};
use crate::value::Value;

/// An initial value: typed, or a TR-181 string parsed with the parameter's type.
#[derive(Debug, Clone, PartialEq)]
pub enum InitValue {
    /// Already typed (must match the parameter's type).
    Typed(Value),
    /// String form, parsed against the schema.
    Text(String),
}

/// A subtree to mount: parameter values, child objects and rows, and optionally a
/// provider attached at its root.
#[derive(Clone, Default)]
pub struct Subtree {
    params: Vec<(String, InitValue)>,
    children: Vec<(String, Option<u32>, Subtree)>,
    provider: Option<Arc<dyn Provider>>,
}

impl std::fmt::Debug for Subtree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subtree")
            .field("params", &self.params)
            .field("children", &self.children)
            .field("provider", &self.provider.is_some())
            .finish()
    }
}

/// What an unmount does with the persisted values of the subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmount {
    /// Keep them (store and memory) so a later mount at the same instance restores
    /// them: a device that left and may come back.
    Retain,
    /// Delete them: a device removed for good.
    Purge,
}

impl Subtree {
    /// An empty subtree.
    pub fn new() -> Subtree {
        Subtree::default()
    }

    /// Sets a parameter to a typed value.
    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params
            .push((name.to_owned(), InitValue::Typed(value.into())));
        self
    }

    /// Sets a parameter from its TR-181 string form.
    pub fn param_str(mut self, name: &str, value: &str) -> Self {
        self.params
            .push((name.to_owned(), InitValue::Text(value.to_owned())));
        self
    }

    /// Adds a child: a single object (created if optional), or a new row of the table
    /// `name` numbered automatically.
    pub fn child(mut self, name: &str, sub: Subtree) -> Self {
        self.children.push((name.to_owned(), None, sub));
        self
    }

    /// Adds row `instance` of the table `name`.
    pub fn row(mut self, name: &str, instance: u32, sub: Subtree) -> Self {
        self.children.push((name.to_owned(), Some(instance), sub));
        self
    }

    /// Attaches `provider` to the subtree's root object.
    pub fn provider(mut self, provider: Arc<dyn Provider>) -> Self {
        self.provider = Some(provider);
        self
    }
}

impl DataModel {
    /// Mounts `subtree` as a new row of the table at `table_path` (number `instance`, or
    /// the next one), emitting ObjectCreation for every row created. All or nothing.
    /// Returns the new instance path.
    pub async fn mount(
        &self,
        table_path: &str,
        instance: Option<u32>,
        subtree: Subtree,
    ) -> DmResult<String> {
        let _gate = self.gate().await;
        let mut fx = Effects::default();
        let path = {
            let mut tree = self.write();
            let (parent, slot) = resolve_table(&tree, table_path)?;
            let mut created = Vec::new();
            match build_row(&mut tree, parent, slot, instance, &subtree, &mut created) {
                Ok(root) => {
                    for n in &created {
                        write::assign_keys(&mut tree, *n, &mut fx);
                    }
                    if let Some(e) = created
                        .iter()
                        .find_map(|n| write::check_unique(&tree, *n, None).err())
                    {
                        let gone = tree.remove(root);
                        tree.free(&gone);
                        return Err(e);
                    }
                    for n in &created {
                        write::created(&mut tree, *n, &mut fx);
                        crate::ops::add::persist_initial(&tree, *n, &mut fx);
                    }
                    tree.path(root)
                }
                Err((root, e)) => {
                    if let Some(root) = root {
                        let gone = tree.remove(root);
                        tree.free(&gone);
                    }
                    return Err(e.at(table_path));
                }
            }
        };
        self.commit(fx).await?;
        Ok(path)
    }

    /// Removes the row at `instance_path` and its subtree (ObjectDeletion for every
    /// row), keeping or deleting its persisted values per `mode`.
    pub async fn unmount(&self, instance_path: &str, mode: Unmount) -> DmResult<()> {
        let _gate = self.gate().await;
        let mut fx = Effects::default();
        {
            let mut tree = self.write();
            let node = find_row(&tree, instance_path)?;
            remove_row(&mut tree, node, &mut fx, mode == Unmount::Purge);
        }
        self.commit(fx).await
    }

    /// Creates a row (any table, Controller permissions ignored) with initial values.
    pub async fn create_instance(
        &self,
        table_path: &str,
        instance: Option<u32>,
        values: Vec<(String, InitValue)>,
    ) -> DmResult<String> {
        let mut sub = Subtree::new();
        sub.params = values;
        self.mount(table_path, instance, sub).await
    }

    /// Deletes the row at `instance_path` and its persisted data.
    pub async fn delete_instance(&self, instance_path: &str) -> DmResult<()> {
        self.unmount(instance_path, Unmount::Purge).await
    }

    /// Creates the optional single-instance object at `obj_path` (e.g.
    /// `Device.ProxiedDevice.1.IoTCapability.2.LevelSensor.`); no-op if it exists.
    pub async fn create_object(&self, obj_path: &str) -> DmResult<()> {
        let _gate = self.gate().await;
        let mut fx = Effects::default();
        {
            let mut tree = self.write();
            let (parent_path, name) = path::split_last(obj_path)
                .ok_or_else(|| DmError::syntax(obj_path, "an object path ends with '.'"))?;
            let parent = tree.find(parent_path).ok_or_else(|| {
                DmError::new(
                    ErrorKind::InstanceNotFound,
                    obj_path,
                    "parent does not exist",
                )
            })?;
            let pdef = tree
                .node(parent)
                .map(|n| n.def)
                .ok_or_else(|| DmError::internal(obj_path, "stale"))?;
            let child = tree
                .schema
                .child(pdef, name)
                .ok_or_else(|| DmError::not_supported(obj_path))?;
            if tree.schema.obj(child).is_table() {
                return Err(DmError::new(
                    ErrorKind::WrongPathKind,
                    obj_path,
                    "a table; use create_instance",
                ));
            }
            let slot = tree
                .schema
                .child_slot(pdef, child)
                .ok_or_else(|| DmError::not_supported(obj_path))?;
            if tree.single(parent, slot).is_some() {
                return Ok(());
            }
            let node = tree.create_single(parent, slot)?;
            write::reapply_retained(&mut tree, node);
            if tree.in_persistent_row(node) {
                fx.batch.put_instances.push(tree.path(node));
            }
        }
        self.commit(fx).await
    }

    /// Sets one parameter (read-only ones too); returns whether the value changed.
    pub async fn set_value(&self, path: &str, value: impl Into<InitValue>) -> DmResult<bool> {
        let (obj_path, name) = path
            .rsplit_once('.')
            .map(|(o, n)| (&path[..o.len() + 1], n))
            .ok_or_else(|| DmError::syntax(path, "not a parameter path"))?;
        let changed = self
            .set_values(obj_path, vec![(name.to_owned(), value.into())])
            .await?;
        Ok(changed > 0)
    }

    /// Sets parameters of the object instance at concrete `obj_path` atomically;
    /// returns how many values changed. Publishes ValueChanges; commits persistent
    /// values before returning.
    pub async fn set_values(
        &self,
        obj_path: &str,
        values: Vec<(String, InitValue)>,
    ) -> DmResult<usize> {
        let persistent = {
            let tree = self.read();
            let node = tree.find(obj_path).ok_or_else(|| {
                DmError::new(ErrorKind::InstanceNotFound, obj_path, "no such object")
            })?;
            let def = tree.node(node).map(|n| tree.schema.obj(n.def));
            values.iter().any(|(n, _)| {
                def.and_then(|d| d.param(n))
                    .is_some_and(|p| p.is_persistent())
            })
        };
        let _gate = if persistent {
            Some(self.gate().await)
        } else {
            None
        };
        let mut fx = Effects::default();
        let changed = {
            let mut tree = self.write();
            let node = tree.find(obj_path).ok_or_else(|| {
                DmError::new(ErrorKind::InstanceNotFound, obj_path, "no such object")
            })?;
            let checked = values
                .iter()
                .map(|(name, v)| check(&tree, node, name, v))
                .collect::<DmResult<Vec<_>>>()?;
            let touched: Vec<usize> = checked.iter().map(|(i, _)| *i).collect();
            let mut undo = Vec::new();
            let mut changed = 0;
            for (idx, v) in checked {
                undo.push((idx, tree.value_ref(node, idx).cloned()));
                if write::apply(&mut tree, node, idx, v, &mut fx, true) {
                    changed += 1;
                }
            }
            if let Err(e) = write::check_unique(&tree, node, Some(&touched)) {
                for (idx, old) in undo.into_iter().rev() {
                    let old = old.or_else(|| tree.param_def(node, idx).map(|p| p.initial_value()));
                    if let Some(v) = old {
                        tree.store_value(node, idx, v);
                    }
                }
                return Err(e);
            }
            changed
        };
        self.commit(fx).await?;
        Ok(changed)
    }
}

impl From<Value> for InitValue {
    fn from(v: Value) -> Self {
        InitValue::Typed(v)
    }
}
impl From<&str> for InitValue {
    fn from(v: &str) -> Self {
        InitValue::Text(v.to_owned())
    }
}
impl From<String> for InitValue {
    fn from(v: String) -> Self {
        InitValue::Text(v)
    }
}
impl From<bool> for InitValue {
    fn from(v: bool) -> Self {
        InitValue::Typed(Value::Boolean(v))
    }
}
impl From<u32> for InitValue {
    fn from(v: u32) -> Self {
        InitValue::Typed(Value::UnsignedInt(v))
    }
}

/// Validates an in-process value for parameter `name` of `node`.
pub(crate) fn check(
    tree: &Tree,
    node: NodeId,
    name: &str,
    v: &InitValue,
) -> DmResult<(usize, Value)> {
    match v {
        InitValue::Text(raw) => write::validate(tree, node, name, raw, Writer::Local),
        InitValue::Typed(value) => {
            let def = tree.node(node).map(|n| tree.schema.obj(n.def));
            let idx = def.and_then(|d| d.param_index(name)).ok_or_else(|| {
                DmError::new(
                    ErrorKind::UnsupportedParameter,
                    format!("{}{name}", tree.path(node)),
                    format!("{name} is not a parameter of this object"),
                )
            })?;
            write::validate_typed(tree, node, idx, value)?;
            Ok((idx, value.clone()))
        }
    }
}

fn find_row(tree: &Tree, instance_path: &str) -> DmResult<NodeId> {
    let expr = path::parse(instance_path)?;
    match tree.resolve(&expr, instance_path)?.as_slice() {
        [Target::Object(n)]
            if tree
                .node(*n)
                .is_some_and(|x| tree.schema.obj(x.def).is_table()) =>
        {
            Ok(*n)
        }
        _ => Err(DmError::new(
            ErrorKind::WrongPathKind,
            instance_path,
            "not a single table row path",
        )),
    }
}

type BuildError = (Option<NodeId>, DmError);

/// Creates a row and its subtree, recording every row created (parents first).
fn build_row(
    tree: &mut Tree,
    parent: NodeId,
    slot: usize,
    instance: Option<u32>,
    sub: &Subtree,
    created: &mut Vec<NodeId>,
) -> Result<NodeId, BuildError> {
    let row = tree
        .create_row(parent, slot, instance)
        .map_err(|e| (None, e))?;
    created.push(row);
    fill(tree, row, sub, created).map_err(|e| (Some(row), e))?;
    Ok(row)
}

fn fill(tree: &mut Tree, node: NodeId, sub: &Subtree, created: &mut Vec<NodeId>) -> DmResult<()> {
    let mut scratch = Effects::default();
    for (name, v) in &sub.params {
        let (idx, value) = check(tree, node, name, v)?;
        write::apply(tree, node, idx, value, &mut scratch, false);
    }
    write::reapply_retained(tree, node);
    if let Some(p) = &sub.provider
        && let Some(n) = tree.node_mut(node)
    {
        n.provider = Some(p.clone());
    }
    for (name, instance, child_sub) in &sub.children {
        let def = tree
            .node(node)
            .map(|n| n.def)
            .ok_or_else(|| DmError::internal("", "stale"))?;
        let child = tree
            .schema
            .child(def, name)
            .ok_or_else(|| DmError::not_supported(&format!("{}{name}.", tree.path(node))))?;
        let slot = tree
            .schema
            .child_slot(def, child)
            .ok_or_else(|| DmError::internal("", "bad slot"))?;
        let child_node = match tree.schema.obj(child).kind() {
            ObjKind::Table(_) => {
                let row = tree.create_row(node, slot, *instance)?;
                created.push(row);
                row
            }
            ObjKind::Single { .. } => tree.create_single(node, slot)?,
        };
        fill(tree, child_node, child_sub, created)?;
    }
    Ok(())
}
