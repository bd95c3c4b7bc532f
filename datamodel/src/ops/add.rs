//! Add (TR-369 section "Add"): creates one row per `CreateObject` with its initial
//! values, fills unique keys the Controller left out (`cpe-` values), enforces unique
//! keys, and reports the instance path and its unique keys. With `allow_partial=false`
//! any failure removes every row the request created.

use super::set::param_error;
use super::write::{self, Writer};
use super::{AddObject, AddObjectResult, AddRequest, CreatedInstance, ParamError, RequestFailure};
use crate::error::{DmError, DmResult, ErrorKind};
use crate::model::{DataModel, Effects};
use crate::path;
use crate::tree::{NodeId, Target, Tree};

impl DataModel {
    /// Add, as a Controller sends it.
    pub async fn add(&self, req: AddRequest) -> Result<Vec<AddObjectResult>, RequestFailure> {
        self.add_with(req, |_| Vec::new()).await
    }

    /// Add with values the agent itself supplies for each new row, applied with the
    /// Controller's settings and before unique keys are checked (e.g. a Subscription's
    /// read-only `Recipient`, part of its `Recipient`+`ID` key). `agent_values` gets the
    /// table's supported path (`Device.LocalAgent.Subscription.{i}.`).
    pub async fn add_with(
        &self,
        req: AddRequest,
        agent_values: impl Fn(&str) -> Vec<(String, crate::InitValue)>,
    ) -> Result<Vec<AddObjectResult>, RequestFailure> {
        let _gate = self.gate().await;
        let mut fx = Effects::default();
        let mut created_nodes = Vec::new();
        let results = {
            let mut tree = self.write();
            let mut results = Vec::with_capacity(req.objects.len());
            for obj in &req.objects {
                let mut local = Effects::default();
                let outcome = add_one(&mut tree, obj, &agent_values, &mut local);
                match &outcome {
                    Ok((node, _)) => {
                        created_nodes.push(*node);
                        fx.batch.put_values.append(&mut local.batch.put_values);
                        fx.batch
                            .put_instances
                            .append(&mut local.batch.put_instances);
                        fx.batch.put_counters.append(&mut local.batch.put_counters);
                        fx.changes.append(&mut local.changes);
                    }
                    Err((e, param_errs)) if !req.allow_partial => {
                        for n in created_nodes {
                            let gone = tree.remove(n);
                            tree.free(&gone);
                        }
                        // As for Set: parameter failures make the Error message 7004
                        // with the details in param_errs.
                        let error = if param_errs.is_empty() {
                            e.clone()
                        } else {
                            DmError::new(
                                ErrorKind::InvalidArguments,
                                &obj.obj_path,
                                e.message.clone(),
                            )
                        };
                        return Err(RequestFailure {
                            error,
                            param_errs: param_errs.clone(),
                        });
                    }
                    Err(_) => {}
                }
                results.push(AddObjectResult {
                    requested_path: obj.obj_path.clone(),
                    outcome: outcome.map(|(_, c)| c).map_err(|(e, _)| e),
                });
            }
            results
        };
        if let Err(e) = self.commit(fx).await {
            return Err(RequestFailure {
                error: e,
                param_errs: Vec::new(),
            });
        }
        Ok(results)
    }
}

/// Resolves the table an Add (or an in-process create) targets: exactly one table.
pub(crate) fn resolve_table(tree: &Tree, obj_path: &str) -> DmResult<(NodeId, usize)> {
    let expr = path::parse(obj_path)?;
    if !matches!(expr.leaf, path::Leaf::Object) {
        return Err(DmError::new(
            ErrorKind::NotATable,
            obj_path,
            "an object path ends with '.'",
        ));
    }
    let targets = tree.resolve(&expr, obj_path)?;
    match targets.as_slice() {
        [Target::Table { parent, slot, .. }] => Ok((*parent, *slot)),
        [] => Err(DmError::new(
            ErrorKind::InstanceNotFound,
            obj_path,
            format!("{obj_path} matches no table"),
        )),
        [Target::Table { .. }, ..] => Err(DmError::new(
            ErrorKind::WrongPathKind,
            obj_path,
            format!("{obj_path} matches more than one table"),
        )),
        _ => Err(DmError::new(
            ErrorKind::NotATable,
            obj_path,
            format!("{obj_path} is not a multi-instance object"),
        )),
    }
}

type AddOutcome = Result<(NodeId, CreatedInstance), (DmError, Vec<ParamError>)>;

fn add_one(
    tree: &mut Tree,
    obj: &AddObject,
    agent_values: &dyn Fn(&str) -> Vec<(String, crate::InitValue)>,
    fx: &mut Effects,
) -> AddOutcome {
    let (parent, slot) = resolve_table(tree, &obj.obj_path).map_err(|e| (e, Vec::new()))?;
    let def = tree
        .node(parent)
        .and_then(|p| tree.schema.obj(p.def).children().get(slot).copied())
        .ok_or_else(|| (DmError::internal(&obj.obj_path, "stale table"), Vec::new()))?;
    if !tree.schema.obj(def).access().can_add() {
        return Err((
            DmError::new(
                ErrorKind::NotCreatable,
                &obj.obj_path,
                format!("{} does not allow Add", tree.schema.obj(def).path()),
            ),
            Vec::new(),
        ));
    }
    let node = tree.create_row(parent, slot, None).map_err(|e| {
        (
            DmError::new(ErrorKind::NotCreatable, &obj.obj_path, e.message),
            Vec::new(),
        )
    })?;
    let path = tree.path(node);
    let mut param_errs = Vec::new();
    let mut required_errs = Vec::new();
    for s in &obj.params {
        match write::validate(tree, node, &s.name, &s.value, Writer::ControllerCreate) {
            Ok((idx, value)) => {
                write::apply(tree, node, idx, value, fx, false);
            }
            Err(e) => {
                let pe = param_error(&path, &s.name, e);
                if s.required {
                    required_errs.push(pe);
                } else {
                    param_errs.push(pe);
                }
            }
        }
    }
    let fail = |tree: &mut Tree, e: DmError, errs: Vec<ParamError>| {
        let gone = tree.remove(node);
        tree.free(&gone);
        Err((e, errs))
    };
    let supported = tree.schema.obj(def).path().to_owned();
    for (name, v) in agent_values(&supported) {
        match crate::mount::check(tree, node, &name, &v) {
            Ok((idx, value)) => {
                write::apply(tree, node, idx, value, fx, false);
            }
            // A value the agent itself supplies must fit; if not, the row is not created.
            Err(e) => required_errs.push(param_error(&path, &name, e)),
        }
    }
    if let Some(first) = required_errs.first() {
        // CreatedObjectResult's failure carries no per-parameter list, so the object's
        // error is the first failing parameter's own error (code and message).
        let e = first.error.clone();
        return fail(tree, e, required_errs);
    }
    write::assign_keys(tree, node, fx);
    if let Err(e) = write::check_unique(tree, node, None) {
        return fail(tree, e, Vec::new());
    }
    write::created(tree, node, fx);
    persist_initial(tree, node, fx);
    Ok((
        node,
        CreatedInstance {
            instantiated_path: path,
            param_errs,
            unique_keys: tree.unique_keys(node),
        },
    ))
}

/// Persists the initial values of a new row's persistent parameters that were not
/// explicitly set (so a restart restores the row exactly).
pub(crate) fn persist_initial(tree: &Tree, row: NodeId, fx: &mut Effects) {
    if !tree.in_persistent_row(row) {
        return;
    }
    // The row and its single-instance sub-objects (rows below are handled on their own).
    let mut stack = vec![row];
    while let Some(node) = stack.pop() {
        let Some(n) = tree.node(node) else { continue };
        let def = tree.schema.obj(n.def);
        let path = tree.path(node);
        if node != row && def.is_optional() {
            fx.batch.put_instances.push(path.clone());
        }
        for (idx, p) in def.params().iter().enumerate() {
            if !p.is_persistent() || p.counts_table().is_some() {
                continue;
            }
            let key = format!("{path}{}", p.name());
            if fx.batch.put_values.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let mut text = String::new();
            match n.values.get(idx) {
                Some(Some(v)) => v.write_to(&mut text),
                _ => text.push_str(&p.initial_value().to_string()),
            }
            fx.batch.put_values.push((key, text));
        }
        tree.for_each_child(node, |c| {
            if tree
                .node(c)
                .is_some_and(|x| !tree.schema.obj(x.def).is_table())
            {
                stack.push(c);
            }
        });
    }
}
