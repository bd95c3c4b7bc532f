//! GetInstances (TR-369 section "GetInstances"): the rows at and below an object path,
//! each with its unique keys; `first_level_only` stops at the tables directly below
//! the requested object.

use super::InstanceInfo;
use crate::error::{DmError, ErrorKind};
use crate::model::DataModel;
use crate::path;
use crate::tree::{NodeId, Target, Tree};

impl DataModel {
    /// GetInstances: one result per requested object path, rows in tree order.
    pub fn get_instances<S: AsRef<str>>(
        &self,
        paths: &[S],
        first_level_only: bool,
    ) -> Vec<Result<Vec<InstanceInfo>, DmError>> {
        let tree = self.read();
        paths
            .iter()
            .map(|p| instances_of(&tree, p.as_ref(), first_level_only))
            .collect()
    }
}

fn instances_of(
    tree: &Tree,
    obj_path: &str,
    first_level_only: bool,
) -> Result<Vec<InstanceInfo>, DmError> {
    let expr = path::parse(obj_path)?;
    if !matches!(expr.leaf, path::Leaf::Object) {
        return Err(DmError::new(
            ErrorKind::WrongPathKind,
            obj_path,
            "GetInstances takes object paths ending with '.'",
        ));
    }
    let mut out = Vec::new();
    for t in tree.resolve(&expr, obj_path)? {
        match t {
            Target::Object(n) => {
                let is_row = tree
                    .node(n)
                    .is_some_and(|x| tree.schema.obj(x.def).is_table());
                if is_row {
                    push(tree, n, &mut out);
                }
                if !(first_level_only && is_row) {
                    below(tree, n, first_level_only, &mut out);
                }
            }
            Target::Table { parent, slot, .. } => {
                if let Some(rows) = tree.rows(parent, slot) {
                    for r in rows.rows.values() {
                        push(tree, *r, &mut out);
                        if !first_level_only {
                            below(tree, *r, false, &mut out);
                        }
                    }
                }
            }
            Target::Param(..) | Target::Command(..) | Target::Event(..) => {}
        }
    }
    Ok(out)
}

fn push(tree: &Tree, n: NodeId, out: &mut Vec<InstanceInfo>) {
    out.push(InstanceInfo {
        path: tree.path(n),
        unique_keys: tree.unique_keys(n),
    });
}

/// Rows below `n`: with `first_level_only`, only rows of tables that are direct
/// children of `n`.
fn below(tree: &Tree, n: NodeId, first_level_only: bool, out: &mut Vec<InstanceInfo>) {
    tree.for_each_child(n, |c| {
        let is_row = tree
            .node(c)
            .is_some_and(|x| tree.schema.obj(x.def).is_table());
        if is_row {
            push(tree, c, out);
        }
        if !first_level_only {
            below(tree, c, false, out);
        }
    });
}
