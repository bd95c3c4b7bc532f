//! Shared machinery of every write (Set, Add, Delete, mounting, in-process writes):
//! validating a setting against the schema, applying values with their change and
//! persistence effects, unique-key enforcement and `cpe-` Alias assignment (TR-181
//! "Alias" data type rules, TR-369 unique-key rules for Add).

use crate::change::Change;
use crate::error::{DmError, DmResult, ErrorKind};
use crate::model::Effects;
use crate::schema::{Access, ParamType, ValueChangeMode};
use crate::tree::{NodeId, Tree};
use crate::value::Value;

/// Who is writing: Controllers are held to the access rules, in-process code is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    /// A Controller's Set.
    Controller,
    /// A Controller's Add (write-once parameters are writable).
    ControllerCreate,
    /// Code inside the agent.
    Local,
}

/// Checks one setting of `node`: the parameter exists, the writer may write it, the
/// value has the right type and satisfies the constraints. Returns the parameter index
/// and the typed value.
pub(crate) fn validate(
    tree: &Tree,
    node: NodeId,
    name: &str,
    raw: &str,
    writer: Writer,
) -> DmResult<(usize, Value)> {
    let obj_path = tree.path(node);
    let full = format!("{obj_path}{name}");
    let def = tree
        .node(node)
        .map(|n| tree.schema.obj(n.def))
        .ok_or_else(|| DmError::internal(&full, "stale node"))?;
    let idx = def.param_index(name).ok_or_else(|| {
        DmError::new(
            ErrorKind::UnsupportedParameter,
            &full,
            format!("{name} is not a parameter of {}", def.path()),
        )
    })?;
    let p = &def.params()[idx];
    if p.counts_table().is_some() && writer != Writer::Local {
        return Err(DmError::new(
            ErrorKind::NotWritable,
            &full,
            format!("{name} is read-only"),
        ));
    }
    let writable = matches!(
        (p.get_access(), writer),
        (_, Writer::Local)
            | (Access::ReadWrite | Access::WriteOnly, _)
            | (Access::WriteOnceReadOnly, Writer::ControllerCreate)
    );
    if !writable {
        return Err(DmError::new(
            ErrorKind::NotWritable,
            &full,
            format!("{name} is read-only"),
        ));
    }
    let value = Value::parse(p.ty(), p.is_list(), raw)
        .map_err(|e| DmError::new(ErrorKind::InvalidType, &full, format!("{name}: {}", e.0)))?;
    p.constraints()
        .check(&value, p.ty())
        .map_err(|why| DmError::new(ErrorKind::InvalidValue, &full, format!("{name}: {why}")))?;
    Ok((idx, value))
}

/// Checks an already typed value for `node`'s parameter `idx` (in-process writes).
pub(crate) fn validate_typed(tree: &Tree, node: NodeId, idx: usize, value: &Value) -> DmResult<()> {
    let Some(p) = tree.param_def(node, idx) else {
        return Err(DmError::internal("", "stale parameter"));
    };
    let full = || format!("{}{}", tree.path(node), p.name());
    let expected = p.ty().zero();
    let type_ok = match value {
        Value::List(items) => {
            p.is_list()
                && items
                    .iter()
                    .all(|i| std::mem::discriminant(i) == std::mem::discriminant(&expected))
        }
        v => !p.is_list() && std::mem::discriminant(v) == std::mem::discriminant(&expected),
    };
    if !type_ok {
        return Err(DmError::new(
            ErrorKind::InvalidType,
            full(),
            format!(
                "{} expects a {}{}",
                p.name(),
                p.ty().xml_name(),
                if p.is_list() { " list" } else { "" }
            ),
        ));
    }
    p.constraints().check(value, p.ty()).map_err(|why| {
        DmError::new(
            ErrorKind::InvalidValue,
            full(),
            format!("{}: {why}", p.name()),
        )
    })
}

/// Stores `value`; records the ValueChange and the persistent write if it changed.
pub(crate) fn apply(
    tree: &mut Tree,
    node: NodeId,
    idx: usize,
    value: Value,
    fx: &mut Effects,
    notify: bool,
) -> bool {
    let Some(p) = tree.param_def(node, idx) else {
        return false;
    };
    let persistent = p.is_persistent();
    let announce = notify
        && p.value_change() == ValueChangeMode::Allowed
        && p.get_access() != Access::WriteOnly;
    let name = p.name().to_owned();
    if !tree.store_value(node, idx, value) {
        return false;
    }
    if announce || persistent {
        let path = format!("{}{name}", tree.path(node));
        let mut text = String::new();
        if let Some(v) = tree.value_ref(node, idx) {
            v.write_to(&mut text);
        }
        if persistent {
            fx.batch.put_values.push((path.clone(), text.clone()));
        }
        if announce {
            fx.changes.push(Change::ValueChange { path, value: text });
        }
    }
    true
}

/// Fails if another row of `node`'s table has the same values for any unique key set
/// (only key sets containing one of `touched` parameters when given: a value update
/// that touches no key costs nothing).
pub(crate) fn check_unique(tree: &Tree, node: NodeId, touched: Option<&[usize]>) -> DmResult<()> {
    let Some(n) = tree.node(node) else {
        return Ok(());
    };
    let def = tree.schema.obj(n.def);
    let Some(table) = def.table() else {
        return Ok(());
    };
    let Some(parent) = n.parent else {
        return Ok(());
    };
    let Some(slot) = tree
        .node(parent)
        .and_then(|p| tree.schema.child_slot(p.def, n.def))
    else {
        return Ok(());
    };
    let Some(rows) = tree.rows(parent, slot) else {
        return Ok(());
    };
    for key in &table.unique_keys {
        let idxs: Vec<usize> = key.iter().filter_map(|k| def.param_index(k)).collect();
        if let Some(t) = touched
            && !idxs.iter().any(|i| t.contains(i))
        {
            continue;
        }
        let mine: Vec<Option<Value>> = idxs.iter().map(|i| tree.value(node, *i)).collect();
        for other in rows.rows.values().filter(|o| **o != node) {
            if idxs
                .iter()
                .zip(&mine)
                .all(|(i, v)| same_value(tree, *other, *i, v.as_ref()))
            {
                let names: Vec<&str> = key.iter().map(|k| &**k).collect();
                let values: Vec<String> = mine
                    .iter()
                    .map(|v| v.as_ref().map(Value::to_string).unwrap_or_default())
                    .collect();
                return Err(DmError::new(
                    ErrorKind::DuplicateUniqueKey,
                    tree.path(node),
                    format!(
                        "{} = {} is already used by {}",
                        names.join("+"),
                        values.join("+"),
                        tree.path(*other)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Whether `node`'s parameter `idx` equals `v` (without cloning stored values).
fn same_value(tree: &Tree, node: NodeId, idx: usize, v: Option<&Value>) -> bool {
    match tree.value_ref(node, idx) {
        Some(stored) => Some(stored) == v,
        None => tree.value(node, idx).as_ref() == v,
    }
}

/// Gives the empty `Alias` and single-parameter string keys of a new row a unique `cpe-`
/// value (TR-181 Alias rule; TR-369 asks the agent to fill keys the Controller left out).
pub(crate) fn assign_keys(tree: &mut Tree, node: NodeId, fx: &mut Effects) {
    let Some(n) = tree.node(node) else { return };
    let def = tree.schema.obj(n.def);
    let instance = n.instance;
    let Some(table) = def.table() else { return };
    let mut targets: Vec<usize> = Vec::new();
    for (idx, p) in def.params().iter().enumerate() {
        // Alias, and keys made of this one parameter; a parameter that is only part of
        // a composite key (Recipient+ID) is left to its owner.
        let is_key = p.is_alias()
            || table
                .unique_keys
                .iter()
                .any(|k| k.len() == 1 && *k[0] == *p.name());
        if is_key && p.ty() == ParamType::String && !p.is_list() && !targets.contains(&idx) {
            targets.push(idx);
        }
    }
    for idx in targets {
        let empty = match tree.value(node, idx) {
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        if !empty {
            continue;
        }
        let mut candidate = format!("cpe-{instance}");
        let mut n = 1;
        while taken(tree, node, idx, &candidate) {
            n += 1;
            candidate = format!("cpe-{instance}-{n}");
        }
        apply(tree, node, idx, Value::String(candidate), fx, false);
    }
}

fn taken(tree: &Tree, node: NodeId, idx: usize, candidate: &str) -> bool {
    let Some(n) = tree.node(node) else {
        return false;
    };
    let Some(parent) = n.parent else { return false };
    let Some(slot) = tree
        .node(parent)
        .and_then(|p| tree.schema.child_slot(p.def, n.def))
    else {
        return false;
    };
    tree.rows(parent, slot).is_some_and(|rows| {
        rows.rows
            .values()
            .filter(|o| **o != node)
            .any(|o| matches!(tree.value_ref(*o, idx), Some(Value::String(s)) if s == candidate))
    })
}

/// Records the creation of row `node` (ObjectCreation, persistence of the instance and
/// its table counter, retained values re-applied). Call after its values are set.
pub(crate) fn created(tree: &mut Tree, node: NodeId, fx: &mut Effects) {
    let Some(n) = tree.node(node) else { return };
    let def = tree.schema.obj(n.def);
    let (persistent, numbering, is_table) =
        (def.persistent, def.persistent_numbering, def.is_table());
    let path = tree.path(node);
    if persistent {
        fx.batch.put_instances.push(path.clone());
    }
    let parent_slot = n.parent.and_then(|parent| {
        let pdef = tree.node(parent)?.def;
        Some((parent, tree.schema.child_slot(pdef, n.def)?))
    });
    if numbering
        && let Some((parent, slot)) = parent_slot
        && let Some(rows) = tree.rows_mut(parent, slot)
        && rows.next > rows.persisted
    {
        // Written only when it moved: re-mounting a known device costs no store write.
        rows.persisted = rows.next;
        fx.batch.put_counters.push((table_key(&path), rows.next));
    }
    if is_table {
        fx.changes.push(Change::ObjectCreation {
            path: path.clone(),
            unique_keys: tree.unique_keys(node),
        });
        if let Some((parent, _)) = parent_slot {
            count_changed(tree, parent, def_of(tree, node), fx);
        }
    }
}

fn def_of(tree: &Tree, node: NodeId) -> Option<crate::schema::ObjId> {
    tree.node(node).map(|n| n.def)
}

/// Publishes the new value of the `NumberOfEntries` parameter of `parent` that counts
/// the table `table` (after a row was added or removed).
pub(crate) fn count_changed(
    tree: &Tree,
    parent: NodeId,
    table: Option<crate::schema::ObjId>,
    fx: &mut Effects,
) {
    let (Some(table), Some(pnode)) = (table, tree.node(parent)) else {
        return;
    };
    let pdef = tree.schema.obj(pnode.def);
    let Some(idx) = pdef
        .params()
        .iter()
        .position(|p| p.counts_table() == Some(table))
    else {
        return;
    };
    if pdef.params()[idx].value_change() != ValueChangeMode::Allowed {
        return;
    }
    let mut value = String::new();
    tree.write_value(parent, idx, &mut value);
    let path = format!("{}{}", tree.path(parent), pdef.params()[idx].name());
    // One change per counter per operation (a mount adds many rows to one table).
    for c in fx.changes.iter_mut() {
        if let Change::ValueChange { path: p, value: v } = c
            && *p == path
        {
            *v = value;
            return;
        }
    }
    fx.changes.push(Change::ValueChange { path, value });
}

/// `Device.A.3.` -> `Device.A.` (the key of a table's counter).
pub(crate) fn table_key(instance_path: &str) -> String {
    match crate::path::split_last(instance_path) {
        Some((parent, _)) => parent.to_owned(),
        None => instance_path.to_owned(),
    }
}

/// Re-applies values retained from an earlier life of this instance (persistent
/// parameters of an unmounted device), overriding what the creator gave.
pub(crate) fn reapply_retained(tree: &mut Tree, node: NodeId) {
    if tree.retained.is_empty() {
        return;
    }
    let path = tree.path(node);
    let Some(def) = tree.node(node).map(|n| n.def) else {
        return;
    };
    let params: Vec<(usize, String)> = tree
        .schema
        .obj(def)
        .params()
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_persistent())
        .map(|(i, p)| (i, p.name().to_owned()))
        .collect();
    for (idx, name) in params {
        let key = format!("{path}{name}");
        if let Some(text) = tree.retained.remove(&key)
            && let Some(p) = tree.param_def(node, idx)
            && let Ok(v) = Value::parse(p.ty(), p.is_list(), &text)
        {
            tree.store_value(node, idx, v);
        }
    }
}
