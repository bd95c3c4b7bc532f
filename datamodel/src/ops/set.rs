//! Set (TR-369 section "Set"): each `UpdateObject` is atomic over all the instances
//! its path matches; `required` parameters fail their object, others are reported in
//! `param_errs`; with `allow_partial=false` any object failure fails the request and
//! nothing is applied.
//!
//! Order: validate under the read lock; forward write-through and live parameters to
//! providers with no lock held; then apply stored values under the write gate and lock,
//! check unique keys, commit to the store, publish ValueChanges.

use std::sync::Arc;

use super::write::{self, Writer};
use super::{
    InstanceFailure, ObjectFailure, ParamError, RequestFailure, SetObjectResult, SetRequest,
    UpdatedInstance,
};
use crate::error::{DmError, ErrorKind};
use crate::model::{DataModel, Effects};
use crate::path;
use crate::provider::{LiveSet, Provider};
use crate::schema::Backing;
use crate::tree::{NodeId, Target, Tree};
use crate::value::Value;

struct Planned {
    idx: usize,
    name: String,
    value: Value,
    backing: Backing,
    required: bool,
}

struct InstPlan {
    node: NodeId,
    path: String,
    ok: Vec<Planned>,
    errs: Vec<(ParamError, bool)>,
    provider: Option<Arc<dyn Provider>>,
}

impl InstPlan {
    fn required_failed(&self) -> bool {
        self.errs.iter().any(|(_, required)| *required)
    }
}

type ObjPlan = Result<Vec<InstPlan>, DmError>;

impl DataModel {
    /// Set, as a Controller sends it.
    pub async fn set(&self, req: SetRequest) -> Result<Vec<SetObjectResult>, RequestFailure> {
        let mut plans: Vec<ObjPlan> = {
            let tree = self.read();
            req.objects
                .iter()
                .map(|o| plan_object(&tree, &o.obj_path, &o.params))
                .collect()
        };
        if !req.allow_partial
            && let Some(f) = first_failure(&plans)
        {
            return Err(f);
        }
        forward_to_providers(&mut plans).await;
        if !req.allow_partial
            && let Some(f) = first_failure(&plans)
        {
            return Err(f);
        }
        let _gate = self.gate().await;
        let mut fx = Effects::default();
        let results = {
            let mut tree = self.write();
            let mut undo = Vec::new();
            let mut results = Vec::with_capacity(plans.len());
            for (obj, plan) in req.objects.iter().zip(plans) {
                let outcome = apply_object(&mut tree, plan, &mut fx, &mut undo);
                if let Err(f) = &outcome
                    && !req.allow_partial
                {
                    revert(&mut tree, undo);
                    return Err(RequestFailure {
                        error: f.error.clone(),
                        param_errs: f
                            .instance_failures
                            .iter()
                            .flat_map(|i| i.param_errs.clone())
                            .collect(),
                    });
                }
                results.push(SetObjectResult {
                    requested_path: obj.obj_path.clone(),
                    outcome,
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

fn plan_object(tree: &Tree, obj_path: &str, params: &[super::ParamSetting]) -> ObjPlan {
    let expr = path::parse(obj_path)?;
    if !matches!(expr.leaf, path::Leaf::Object) {
        return Err(DmError::new(
            ErrorKind::WrongPathKind,
            obj_path,
            "Set takes object paths ending with '.'",
        ));
    }
    let targets = tree.resolve(&expr, obj_path)?;
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let Target::Object(node) = t else {
            return Err(DmError::new(
                ErrorKind::WrongPathKind,
                obj_path,
                "Set needs object instances, not a table",
            ));
        };
        let mut plan = InstPlan {
            node,
            path: tree.path(node),
            ok: Vec::new(),
            errs: Vec::new(),
            provider: tree.provider_for(node),
        };
        for s in params {
            match write::validate(tree, node, &s.name, &s.value, Writer::Controller) {
                Ok((idx, value)) => plan.ok.push(Planned {
                    idx,
                    name: s.name.clone(),
                    value,
                    backing: tree
                        .param_def(node, idx)
                        .map_or(Backing::Stored, |p| p.backing()),
                    required: s.required,
                }),
                Err(e) => plan
                    .errs
                    .push((param_error(&plan.path, &s.name, e), s.required)),
            }
        }
        out.push(plan);
    }
    Ok(out)
}

pub(crate) fn param_error(obj_path: &str, name: &str, e: DmError) -> ParamError {
    let full = format!("{obj_path}{name}");
    ParamError {
        param_path: full.clone(),
        name: name.to_owned(),
        error: e.at(full),
    }
}

fn object_failure(insts: &[InstPlan]) -> Option<ObjectFailure> {
    let failed: Vec<InstanceFailure> = insts
        .iter()
        .filter(|i| i.required_failed())
        .map(|i| InstanceFailure {
            affected_path: i.path.clone(),
            param_errs: i
                .errs
                .iter()
                .filter(|(_, r)| *r)
                .map(|(e, _)| e.clone())
                .collect(),
        })
        .collect();
    let first = failed.first()?.param_errs.first()?.clone();
    Some(ObjectFailure {
        error: DmError::new(
            ErrorKind::RequiredParamFailed,
            first.param_path.clone(),
            format!("required parameter failed: {}", first.error.message),
        ),
        instance_failures: failed,
    })
}

fn first_failure(plans: &[ObjPlan]) -> Option<RequestFailure> {
    for p in plans {
        match p {
            Err(e) => {
                return Some(RequestFailure {
                    error: e.clone(),
                    param_errs: Vec::new(),
                });
            }
            Ok(insts) => {
                if let Some(f) = object_failure(insts) {
                    let param_errs: Vec<ParamError> = f
                        .instance_failures
                        .iter()
                        .flat_map(|i| i.param_errs.clone())
                        .collect();
                    let msg = param_errs
                        .iter()
                        .map(|e| e.error.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ");
                    return Some(RequestFailure {
                        error: DmError::new(ErrorKind::InvalidArguments, f.error.path, msg),
                        param_errs,
                    });
                }
            }
        }
    }
    None
}

/// Sends provider-backed settings of objects that have not failed to their providers,
/// all instances concurrently (a Set over many devices waits for the slowest radio,
/// not for the sum); refused settings become parameter errors.
async fn forward_to_providers(plans: &mut [ObjPlan]) {
    let mut pending = Vec::new();
    for (pi, plan) in plans.iter_mut().enumerate() {
        let Ok(insts) = plan else { continue };
        if insts.iter().any(InstPlan::required_failed) {
            continue;
        }
        for (ii, inst) in insts.iter_mut().enumerate() {
            let forwarded: Vec<usize> = (0..inst.ok.len())
                .filter(|i| inst.ok[*i].backing != Backing::Stored)
                .collect();
            if forwarded.is_empty() {
                continue;
            }
            let req = LiveSet {
                obj_path: inst.path.clone(),
                params: forwarded
                    .iter()
                    .map(|i| (inst.ok[*i].name.clone(), inst.ok[*i].value.clone()))
                    .collect(),
            };
            let task = inst.provider.as_ref().map(|p| tokio::spawn(p.set(req)));
            pending.push((pi, ii, forwarded, task));
        }
    }
    for (pi, ii, forwarded, task) in pending {
        let results = match task {
            Some(t) => t.await.unwrap_or_else(|e| {
                let why = format!("the device write failed: {e}");
                forwarded.iter().map(|_| Err(action_failed(&why))).collect()
            }),
            None => forwarded
                .iter()
                .map(|_| Err(action_failed("no provider for this parameter")))
                .collect(),
        };
        let Some(Ok(insts)) = plans.get_mut(pi) else {
            continue;
        };
        let Some(inst) = insts.get_mut(ii) else {
            continue;
        };
        let mut failed = Vec::new();
        for (pos, i) in forwarded.iter().enumerate() {
            let r = results
                .get(pos)
                .cloned()
                .unwrap_or_else(|| Err(action_failed("the provider gave no answer")));
            if let Err(e) = r {
                failed.push((*i, e));
            }
        }
        for (i, e) in failed.into_iter().rev() {
            let p = inst.ok.remove(i);
            inst.errs
                .push((param_error(&inst.path, &p.name, e), p.required));
        }
    }
}

fn action_failed(why: &str) -> DmError {
    DmError::new(ErrorKind::ParameterActionFailed, "", why)
}

fn apply_object(
    tree: &mut Tree,
    plan: ObjPlan,
    fx: &mut Effects,
    undo: &mut Vec<(NodeId, usize, Option<Value>)>,
) -> Result<Vec<UpdatedInstance>, ObjectFailure> {
    let insts = plan.map_err(|e| ObjectFailure {
        error: e,
        instance_failures: Vec::new(),
    })?;
    if let Some(f) = object_failure(&insts) {
        return Err(f);
    }
    let mark = undo.len();
    let mut local = Effects::default();
    let mut updated = Vec::with_capacity(insts.len());
    for inst in &insts {
        if tree.node(inst.node).is_none() {
            revert(tree, undo.split_off(mark));
            return Err(ObjectFailure {
                error: DmError::new(
                    ErrorKind::InstanceNotFound,
                    &inst.path,
                    "deleted while being set",
                ),
                instance_failures: Vec::new(),
            });
        }
        let mut done = Vec::with_capacity(inst.ok.len());
        for p in &inst.ok {
            if p.backing != Backing::Live {
                undo.push((inst.node, p.idx, tree.value_ref(inst.node, p.idx).cloned()));
                write::apply(tree, inst.node, p.idx, p.value.clone(), &mut local, true);
            }
            let hidden = tree
                .param_def(inst.node, p.idx)
                .is_some_and(|d| d.get_access() == crate::schema::Access::WriteOnly);
            done.push((
                p.name.clone(),
                if hidden {
                    String::new()
                } else {
                    p.value.to_string()
                },
            ));
        }
        updated.push(UpdatedInstance {
            affected_path: inst.path.clone(),
            updated_params: done,
            param_errs: inst.errs.iter().map(|(e, _)| e.clone()).collect(),
        });
    }
    for inst in &insts {
        let touched: Vec<usize> = inst.ok.iter().map(|p| p.idx).collect();
        if let Err(e) = write::check_unique(tree, inst.node, Some(&touched)) {
            revert(tree, undo.split_off(mark));
            return Err(ObjectFailure {
                error: e.clone(),
                instance_failures: vec![InstanceFailure {
                    affected_path: inst.path.clone(),
                    param_errs: Vec::new(),
                }],
            });
        }
    }
    fx.batch.put_values.append(&mut local.batch.put_values);
    fx.changes.append(&mut local.changes);
    Ok(updated)
}

fn revert(tree: &mut Tree, undo: Vec<(NodeId, usize, Option<Value>)>) {
    for (node, idx, old) in undo.into_iter().rev() {
        match old {
            Some(v) => {
                tree.store_value(node, idx, v);
            }
            None => {
                if let Some(n) = tree.node_mut(node)
                    && let Some(slot) = n.values.get_mut(idx)
                {
                    *slot = None;
                }
            }
        }
    }
}
