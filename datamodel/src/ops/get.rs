//! Get (TR-369 section "Get"): parameter paths give that parameter, object paths
//! every parameter at and below the object (limited by `max_depth`), searches that
//! match nothing an empty result. Live parameters are read from their providers after
//! the tree's lock is released.

use std::sync::Arc;

use super::{GetPathResult, ResolvedObject};
use crate::error::{DmError, ErrorKind};
use crate::model::DataModel;
use crate::path;
use crate::provider::{LiveGet, Provider};
use crate::schema::Backing;
use crate::tree::{NodeId, Target, Tree};

/// Live values to fetch for one object of the result.
struct Fetch {
    result: usize,
    object: usize,
    provider: Option<Arc<dyn Provider>>,
    /// (position in the object's params, parameter name)
    params: Vec<(usize, String)>,
}

impl DataModel {
    /// Get: one result per requested path, in order. `max_depth` 0 means unlimited; 1
    /// returns only the requested object's own parameters (rows of a requested table
    /// count as that first level).
    pub async fn get<S: AsRef<str>>(&self, paths: &[S], max_depth: u32) -> Vec<GetPathResult> {
        let mut results = Vec::with_capacity(paths.len());
        let mut fetches = Vec::new();
        {
            let tree = self.read();
            for (i, p) in paths.iter().enumerate() {
                results.push(collect(&tree, p.as_ref(), max_depth, i, &mut fetches));
            }
        }
        // Every provider read starts before any is awaited: a Get over many devices
        // waits for the slowest one, not for the sum.
        let started: Vec<_> = fetches
            .into_iter()
            .map(|f| {
                let path = match &results[f.result] {
                    Ok(objects) => objects
                        .get(f.object)
                        .map(|o| o.path.clone())
                        .unwrap_or_default(),
                    Err(_) => String::new(),
                };
                let task = f.provider.as_ref().map(|p| {
                    tokio::spawn(p.get(LiveGet {
                        obj_path: path.clone(),
                        params: f.params.iter().map(|(_, n)| n.clone()).collect(),
                    }))
                });
                (f, path, task)
            })
            .collect();
        for (f, path, task) in started {
            let outcome = match task {
                Some(t) => t.await.unwrap_or_else(|e| {
                    Err(DmError::new(
                        ErrorKind::ParameterActionFailed,
                        &path,
                        e.to_string(),
                    ))
                }),
                None => Err(DmError::new(
                    ErrorKind::ParameterActionFailed,
                    &path,
                    "no provider for live parameters",
                )),
            };
            let Ok(objects) = &mut results[f.result] else {
                continue;
            };
            let Some(obj) = objects.get_mut(f.object) else {
                continue;
            };
            match outcome {
                Ok(values) if values.len() == f.params.len() => {
                    for ((pos, _), v) in f.params.iter().zip(values) {
                        if let Some(slot) = obj.params.get_mut(*pos) {
                            slot.1 = v.to_string();
                        }
                    }
                }
                Ok(_) | Err(_) => {
                    let single = paths
                        .get(f.result)
                        .is_some_and(|p| !p.as_ref().ends_with('.'));
                    tracing::warn!(path = %obj.path, "live parameters could not be read");
                    if single {
                        results[f.result] = Err(DmError::new(
                            ErrorKind::ParameterActionFailed,
                            paths[f.result].as_ref(),
                            "the parameter's value could not be read from the device",
                        ));
                    } else {
                        let drop: Vec<usize> = f.params.iter().map(|(p, _)| *p).collect();
                        let mut i = 0;
                        obj.params.retain(|_| {
                            i += 1;
                            !drop.contains(&(i - 1))
                        });
                    }
                }
            }
        }
        results
    }
}

impl DataModel {
    /// The current value of the parameter at concrete `path` (asking its provider if
    /// it is live): a one-path Get for code inside the agent.
    pub async fn get_value(&self, path: &str) -> Result<String, DmError> {
        let mut r = self.get(&[path], 0).await;
        let objects = r
            .pop()
            .unwrap_or_else(|| Err(DmError::internal(path, "no result")))?;
        match objects.as_slice() {
            [one] if one.params.len() == 1 && !path.ends_with('.') => Ok(one.params[0].1.clone()),
            _ => Err(DmError::new(
                ErrorKind::WrongPathKind,
                path,
                "not a single parameter path",
            )),
        }
    }
}

fn collect(
    tree: &Tree,
    path: &str,
    max_depth: u32,
    result: usize,
    fetches: &mut Vec<Fetch>,
) -> GetPathResult {
    let expr = path::parse(path)?;
    let targets = tree.resolve(&expr, path)?;
    let mut out = Vec::new();
    for t in targets {
        match t {
            Target::Param(n, idx) => {
                let mut name = String::new();
                let mut value = String::new();
                let Some(def) = tree.param_def(n, idx) else {
                    continue;
                };
                name.push_str(def.name());
                let live = def.backing() == Backing::Live;
                if !live {
                    tree.write_value(n, idx, &mut value);
                }
                out.push(ResolvedObject {
                    path: tree.path(n),
                    params: vec![(name.clone(), value)],
                });
                if live {
                    fetches.push(Fetch {
                        result,
                        object: out.len() - 1,
                        provider: tree.provider_for(n),
                        params: vec![(0, name)],
                    });
                }
            }
            Target::Object(n) => {
                let ctx = Walk {
                    tree,
                    max_depth,
                    result,
                };
                ctx.walk(n, tree.path(n), 1, &mut out, fetches);
            }
            Target::Table { parent, slot, .. } => {
                if let Some(rows) = tree.rows(parent, slot) {
                    for row in rows.rows.values() {
                        let ctx = Walk {
                            tree,
                            max_depth,
                            result,
                        };
                        ctx.walk(*row, tree.path(*row), 1, &mut out, fetches);
                    }
                }
            }
            Target::Command(..) | Target::Event(..) => {
                return Err(DmError::new(
                    ErrorKind::WrongPathKind,
                    path,
                    "Get takes object and parameter paths, not commands or events",
                ));
            }
        }
    }
    Ok(out)
}

/// A depth-first walk collecting every object's parameters; each child's path is built
/// from its parent's (no walk back to the root per object).
struct Walk<'t> {
    tree: &'t Tree,
    max_depth: u32,
    result: usize,
}

impl Walk<'_> {
    fn walk(
        &self,
        node: NodeId,
        path: String,
        depth: u32,
        out: &mut Vec<ResolvedObject>,
        fetches: &mut Vec<Fetch>,
    ) {
        let tree = self.tree;
        let Some(n) = tree.node(node) else { return };
        let def = tree.schema.obj(n.def);
        let mut params = Vec::with_capacity(def.params().len());
        let mut live = Vec::new();
        for (idx, p) in def.params().iter().enumerate() {
            let mut value = String::new();
            if p.backing() == Backing::Live {
                live.push((params.len(), p.name().to_owned()));
            } else {
                tree.write_value(node, idx, &mut value);
            }
            params.push((p.name().to_owned(), value));
        }
        let descend = self.max_depth == 0 || depth < self.max_depth;
        let mut children = Vec::new();
        if descend {
            tree.for_each_child(node, |c| children.push(c));
        }
        let child_paths: Vec<String> = children
            .iter()
            .map(|c| {
                let mut p = String::with_capacity(path.len() + 24);
                p.push_str(&path);
                if let Some(cn) = tree.node(*c) {
                    let cdef = tree.schema.obj(cn.def);
                    p.push_str(cdef.name());
                    p.push('.');
                    if cdef.is_table() {
                        use std::fmt::Write as _;
                        let _ = write!(p, "{}.", cn.instance);
                    }
                }
                p
            })
            .collect();
        out.push(ResolvedObject { path, params });
        if !live.is_empty() {
            fetches.push(Fetch {
                result: self.result,
                object: out.len() - 1,
                provider: tree.provider_for(node),
                params: live,
            });
        }
        for (c, p) in children.into_iter().zip(child_paths) {
            self.walk(c, p, depth + 1, out, fetches);
        }
    }
}
