//! Delete (TR-369 section "Delete"): removes the rows a path matches (searches
//! allowed) with everything below them; a valid path that matches nothing succeeds
//! with no affected paths. With `allow_partial=false` any failure deletes nothing.

use super::write;
use super::{DeleteObjectResult, DeleteRequest, Deleted, RequestFailure};
use crate::change::Change;
use crate::error::{DmError, DmResult, ErrorKind};
use crate::model::{DataModel, Effects};
use crate::path;
use crate::tree::{NodeId, Target, Tree};

impl DataModel {
    /// Delete, as a Controller sends it.
    pub async fn delete(
        &self,
        req: DeleteRequest,
    ) -> Result<Vec<DeleteObjectResult>, RequestFailure> {
        let _gate = self.gate().await;
        let mut fx = Effects::default();
        let results = {
            let mut tree = self.write();
            let plans: Vec<DmResult<Vec<NodeId>>> =
                req.obj_paths.iter().map(|p| plan(&tree, p, true)).collect();
            if !req.allow_partial
                && let Some(Err(e)) = plans.iter().find(|p| p.is_err())
            {
                return Err(RequestFailure {
                    error: e.clone(),
                    param_errs: Vec::new(),
                });
            }
            let mut results = Vec::with_capacity(plans.len());
            for (requested, plan) in req.obj_paths.iter().zip(plans) {
                let outcome = plan.map(|rows| {
                    let mut affected = Vec::new();
                    for row in rows {
                        if tree.node(row).is_some() {
                            affected.push(tree.path(row));
                            remove_row(&mut tree, row, &mut fx, true);
                        }
                    }
                    Deleted {
                        affected_paths: affected,
                        unaffected: Vec::new(),
                    }
                });
                results.push(DeleteObjectResult {
                    requested_path: requested.clone(),
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

/// The rows `obj_path` designates for deletion; `controller` applies the table's
/// Delete permission.
pub(crate) fn plan(tree: &Tree, obj_path: &str, controller: bool) -> DmResult<Vec<NodeId>> {
    let expr = path::parse(obj_path)?;
    if !matches!(expr.leaf, path::Leaf::Object) {
        return Err(DmError::new(
            ErrorKind::WrongPathKind,
            obj_path,
            "Delete takes instance paths ending with '.'",
        ));
    }
    let targets = match tree.resolve(&expr, obj_path) {
        Ok(t) => t,
        Err(e) if e.kind == ErrorKind::InstanceNotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut rows = Vec::with_capacity(targets.len());
    for t in targets {
        let Target::Object(node) = t else {
            return Err(DmError::new(
                ErrorKind::WrongPathKind,
                obj_path,
                "Delete needs instance paths (e.g. Device.X.3.), not a table or parameter",
            ));
        };
        let Some(def) = tree.node(node).map(|n| tree.schema.obj(n.def)) else {
            continue;
        };
        if !def.is_table() {
            return Err(DmError::new(
                ErrorKind::NotDeletable,
                obj_path,
                format!("{} is not a table row", def.path()),
            ));
        }
        if controller && !def.access().can_delete() {
            return Err(DmError::new(
                ErrorKind::NotDeletable,
                obj_path,
                format!("{} does not allow Delete", def.path()),
            ));
        }
        rows.push(node);
    }
    Ok(rows)
}

/// Removes `row` and its subtree, recording ObjectDeletion for every row removed
/// (deepest last) and the store clean-up. With `purge` false the persisted values
/// are kept in the store and retained in memory for a later re-mount.
pub(crate) fn remove_row(tree: &mut Tree, row: NodeId, fx: &mut Effects, purge: bool) {
    let path = tree.path(row);
    let parent = tree.node(row).and_then(|n| n.parent.map(|p| (p, n.def)));
    let removed = tree.remove(row);
    for id in &removed {
        let Some(n) = tree.node(*id) else { continue };
        let def = tree.schema.obj(n.def);
        if !purge {
            let obj_path = tree.path(*id);
            for (idx, p) in def.params().iter().enumerate() {
                if p.is_persistent()
                    && let Some(Some(v)) = tree.node(*id).and_then(|n| n.values.get(idx))
                {
                    tree.retained
                        .insert(format!("{obj_path}{}", p.name()), v.to_string());
                }
            }
        }
        if def.is_table() {
            fx.changes.push(Change::ObjectDeletion {
                path: tree.path(*id),
            });
        }
    }
    if let Some((p, def)) = parent {
        write::count_changed(tree, p, Some(def), fx);
    }
    let stored = parent.is_some_and(|(_, def)| tree.schema.may_persist(def));
    if purge {
        tree.retained.retain(|k, _| !k.starts_with(&path));
        if stored {
            fx.batch.delete_trees.push(path);
        }
    } else if stored {
        fx.batch.forget_instances.push(path);
    }
    tree.free(&removed);
}
