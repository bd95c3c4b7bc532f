//! Resolving a parsed path against the schema and the instance tree (TR-369 2.5:
//! instance numbers, wildcards, search expressions, reference following).
//!
//! Two passes: a static check against the schema, so a path that names something
//! outside the supported model fails even when no instance exists; then a walk of
//! the tree that yields matches in a deterministic order (depth first, instance
//! numbers ascending, search conditions evaluated per row).

use std::cmp::Ordering;

use super::{NodeId, ROOT, Tree};
use crate::error::{DmError, DmResult, ErrorKind};
use crate::path::{Condition, Leaf, ListIndex, PathExpr, Segment};
use crate::schema::{ObjId, ParamType, Schema};
use crate::value::Value;

/// What a path resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// An object instance (or single object).
    Object(NodeId),
    /// A table as a whole (`Device.LocalAgent.Subscription.`): child `slot` of `parent`.
    Table {
        parent: NodeId,
        slot: usize,
        def: ObjId,
    },
    /// Parameter `idx` of the object.
    Param(NodeId, usize),
    /// Command `idx` of the object.
    Command(NodeId, usize),
    /// Event `idx` of the object.
    Event(NodeId, usize),
}

#[derive(Clone, Copy)]
enum Cursor {
    Obj(NodeId),
    Table(NodeId, usize),
}

impl Tree {
    /// Checks `expr` against the schema alone (up to the first reference following).
    pub fn check_static(&self, expr: &PathExpr, src: &str) -> DmResult<()> {
        let schema = &self.schema;
        let mut def = Schema::ROOT;
        let mut at_table = false;
        for seg in &expr.segments {
            match seg {
                Segment::Name(name) => {
                    if at_table {
                        return Err(wrong_kind(
                            src,
                            &format!("{name} follows a table name; an instance is expected"),
                        ));
                    }
                    def = schema
                        .child(def, name)
                        .ok_or_else(|| DmError::not_supported(src))?;
                    at_table = schema.obj(def).is_table();
                }
                Segment::Instance(_) | Segment::Wildcard | Segment::Search(_) => {
                    if !at_table {
                        return Err(wrong_kind(
                            src,
                            &format!("{} is not a table", schema.obj(def).path()),
                        ));
                    }
                    at_table = false;
                    if let Segment::Search(conds) = seg {
                        for c in conds {
                            check_condition(schema, def, c, src)?;
                        }
                    }
                }
                Segment::Follow { param, .. } => {
                    if at_table {
                        return Err(wrong_kind(
                            src,
                            "an instance is expected before a reference",
                        ));
                    }
                    let p = schema
                        .obj(def)
                        .param(param)
                        .ok_or_else(|| DmError::not_supported(src))?;
                    if !p.is_reference() {
                        return Err(DmError::new(
                            ErrorKind::NotAReference,
                            src,
                            format!("{param} is not a reference and cannot be followed with '+'"),
                        ));
                    }
                    return Ok(());
                }
            }
        }
        let obj = schema.obj(def);
        let found = match &expr.leaf {
            Leaf::Object => true,
            _ if at_table => {
                return Err(wrong_kind(
                    src,
                    "a parameter, command or event needs an instance",
                ));
            }
            Leaf::Param(n) => obj.param_index(n).is_some(),
            Leaf::Command(n) => obj.command_index(n).is_some(),
            Leaf::Event(n) => obj.event_index(n).is_some(),
        };
        if found {
            Ok(())
        } else {
            Err(DmError::not_supported(src))
        }
    }

    /// Resolves `expr` (already statically checked) to its targets, in order.
    pub fn resolve(&self, expr: &PathExpr, src: &str) -> DmResult<Vec<Target>> {
        self.check_static(expr, src)?;
        let mut cursors = vec![Cursor::Obj(ROOT)];
        for seg in &expr.segments {
            let mut next = Vec::with_capacity(cursors.len());
            for c in cursors {
                self.step(c, seg, src, &mut next)?;
            }
            cursors = next;
        }
        let mut out = Vec::with_capacity(cursors.len());
        for c in cursors {
            let t = match (c, &expr.leaf) {
                (Cursor::Obj(n), Leaf::Object) => Target::Object(n),
                (Cursor::Table(p, slot), Leaf::Object) => {
                    let def = self
                        .child_def(p, slot)
                        .ok_or_else(|| DmError::internal(src, "stale slot"))?;
                    Target::Table {
                        parent: p,
                        slot,
                        def,
                    }
                }
                (Cursor::Obj(n), leaf) => {
                    let def = self.schema.obj(self.node_def(n)?);
                    let idx = match leaf {
                        Leaf::Param(name) => def.param_index(name).map(|i| Target::Param(n, i)),
                        Leaf::Command(name) => {
                            def.command_index(name).map(|i| Target::Command(n, i))
                        }
                        Leaf::Event(name) => def.event_index(name).map(|i| Target::Event(n, i)),
                        Leaf::Object => None,
                    };
                    idx.ok_or_else(|| DmError::not_supported(src))?
                }
                (Cursor::Table(..), _) => {
                    return Err(wrong_kind(src, "a parameter needs an instance"));
                }
            };
            out.push(t);
        }
        if out.is_empty() && !expr.is_search() {
            return Err(DmError::new(
                ErrorKind::InstanceNotFound,
                src,
                format!("{src} does not exist (no such instance)"),
            ));
        }
        Ok(out)
    }

    fn node_def(&self, n: NodeId) -> DmResult<ObjId> {
        self.node(n)
            .map(|n| n.def)
            .ok_or_else(|| DmError::internal("", "stale node"))
    }

    fn child_def(&self, parent: NodeId, slot: usize) -> Option<ObjId> {
        self.schema
            .obj(self.node(parent)?.def)
            .children
            .get(slot)
            .copied()
    }

    fn step(&self, c: Cursor, seg: &Segment, src: &str, out: &mut Vec<Cursor>) -> DmResult<()> {
        match (c, seg) {
            (Cursor::Obj(n), Segment::Name(name)) => {
                let def = self.node_def(n)?;
                let child = self
                    .schema
                    .child(def, name)
                    .ok_or_else(|| DmError::not_supported(src))?;
                let slot = self
                    .schema
                    .child_slot(def, child)
                    .ok_or_else(|| DmError::not_supported(src))?;
                if self.schema.obj(child).is_table() {
                    out.push(Cursor::Table(n, slot));
                } else if let Some(s) = self.single(n, slot) {
                    out.push(Cursor::Obj(s));
                }
            }
            (Cursor::Table(p, slot), Segment::Instance(k)) => {
                if let Some(id) = self.rows(p, slot).and_then(|r| r.rows.get(k)) {
                    out.push(Cursor::Obj(*id));
                }
            }
            (Cursor::Table(p, slot), Segment::Wildcard) => {
                if let Some(r) = self.rows(p, slot) {
                    out.extend(r.rows.values().map(|id| Cursor::Obj(*id)));
                }
            }
            (Cursor::Table(p, slot), Segment::Search(conds)) => {
                if let Some(r) = self.rows(p, slot) {
                    for id in r.rows.values() {
                        if conds.iter().all(|c| self.condition_holds(*id, c)) {
                            out.push(Cursor::Obj(*id));
                        }
                    }
                }
            }
            (Cursor::Obj(n), Segment::Follow { param, index }) => {
                let def = self.schema.obj(self.node_def(n)?);
                let idx = def
                    .param_index(param)
                    .ok_or_else(|| DmError::not_supported(src))?;
                if !def.params[idx].is_reference() {
                    return Err(DmError::new(
                        ErrorKind::NotAReference,
                        src,
                        format!("{param} is not a reference and cannot be followed with '+'"),
                    ));
                }
                for target in self.follow(n, idx, *index) {
                    out.push(Cursor::Obj(target));
                }
            }
            (Cursor::Table(..), _) => {
                return Err(wrong_kind(
                    src,
                    "an instance is expected after a table name",
                ));
            }
            (Cursor::Obj(n), _) => {
                let path = self
                    .node(n)
                    .map(|x| self.schema.obj(x.def).path().to_owned())
                    .unwrap_or_default();
                return Err(wrong_kind(src, &format!("{path} is not a table")));
            }
        }
        Ok(())
    }

    /// The objects a reference parameter points to (items chosen by `index`).
    pub(crate) fn follow(&self, n: NodeId, idx: usize, index: Option<ListIndex>) -> Vec<NodeId> {
        let mut text = String::new();
        self.write_value(n, idx, &mut text);
        let items: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let chosen: Vec<&str> = match index {
            Some(ListIndex::Nth(k)) => (k as usize)
                .checked_sub(1)
                .and_then(|i| items.get(i).copied())
                .into_iter()
                .collect(),
            Some(ListIndex::All) | None => items,
        };
        chosen.into_iter().filter_map(|p| self.find(p)).collect()
    }

    /// Evaluates one search condition on row `id`.
    pub(crate) fn condition_holds(&self, id: NodeId, c: &Condition) -> bool {
        let mut holders = vec![id];
        for step in &c.via {
            let mut next = Vec::new();
            for h in holders {
                let Some(def) = self.node(h).map(|n| n.def) else {
                    continue;
                };
                match step {
                    Segment::Name(name) => {
                        if let Some(child) = self.schema.child(def, name)
                            && let Some(slot) = self.schema.child_slot(def, child)
                            && let Some(s) = self.single(h, slot)
                        {
                            next.push(s);
                        }
                    }
                    Segment::Follow { param, index } => {
                        if let Some(idx) = self.schema.obj(def).param_index(param) {
                            next.extend(self.follow(h, idx, *index));
                        }
                    }
                    _ => {}
                }
            }
            holders = next;
        }
        holders
            .into_iter()
            .any(|h| self.compare_param(h, &c.param, c).unwrap_or(false))
    }

    fn compare_param(&self, h: NodeId, name: &str, c: &Condition) -> Option<bool> {
        let def = self.schema.obj(self.node(h)?.def);
        let idx = def.param_index(name)?;
        let pdef = &def.params[idx];
        if c.op.is_relational() && (pdef.is_list() || !pdef.ty().is_ordered()) {
            return Some(false);
        }
        if pdef.ty() == ParamType::String && !pdef.is_list() {
            let ord = match self.value_ref(h, idx) {
                Some(Value::String(s)) => s.as_str().cmp(c.literal.as_str()),
                _ => {
                    let mut v = String::new();
                    self.write_value(h, idx, &mut v);
                    v.as_str().cmp(c.literal.as_str())
                }
            };
            return Some(c.op.holds(ord));
        }
        let lit = Value::parse(pdef.ty(), pdef.is_list(), &c.literal).ok()?;
        let ord = match self.value_ref(h, idx) {
            Some(v) => v.compare(&lit)?,
            None => self.value(h, idx)?.compare(&lit)?,
        };
        // Lists compare only for (in)equality.
        if pdef.is_list() && ord != Ordering::Equal {
            return Some(c.op.holds(Ordering::Less));
        }
        Some(c.op.holds(ord))
    }
}

fn wrong_kind(src: &str, why: &str) -> DmError {
    DmError::new(
        ErrorKind::WrongPathKind,
        src,
        format!("invalid path {src}: {why}"),
    )
}

fn check_condition(schema: &Schema, row: ObjId, c: &Condition, src: &str) -> DmResult<()> {
    let mut def = row;
    for step in &c.via {
        match step {
            Segment::Name(name) => {
                let child = schema
                    .child(def, name)
                    .ok_or_else(|| DmError::not_supported(src))?;
                if schema.obj(child).is_table() {
                    return Err(wrong_kind(
                        src,
                        &format!("search through the table {name} is not allowed"),
                    ));
                }
                def = child;
            }
            Segment::Follow { param, .. } => {
                let p = schema
                    .obj(def)
                    .param(param)
                    .ok_or_else(|| DmError::not_supported(src))?;
                if !p.is_reference() {
                    return Err(DmError::new(
                        ErrorKind::NotAReference,
                        src,
                        format!("{param} is not a reference and cannot be followed with '+'"),
                    ));
                }
                return Ok(());
            }
            _ => {
                return Err(DmError::syntax(
                    src,
                    "unexpected element in a search expression",
                ));
            }
        }
    }
    let p = schema.obj(def).param(&c.param).ok_or_else(|| {
        DmError::new(
            ErrorKind::NotInSupportedModel,
            src,
            format!(
                "search parameter {} is not in {}",
                c.param,
                schema.obj(def).path()
            ),
        )
    })?;
    if c.op.is_relational() && (p.is_list() || !p.ty().is_ordered()) {
        return Err(DmError::syntax(
            src,
            format!(
                "operator {:?} does not apply to the {} parameter {}",
                c.op,
                p.ty().xml_name(),
                c.param
            ),
        ));
    }
    if Value::parse(p.ty(), p.is_list(), &c.literal).is_err() {
        return Err(DmError::syntax(
            src,
            format!(
                "{:?} is not a valid {} for {}",
                c.literal,
                p.ty().xml_name(),
                c.param
            ),
        ));
    }
    Ok(())
}
