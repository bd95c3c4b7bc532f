//! Declaring a schema in Rust: [`SchemaBuilder`] with [`Obj`], [`ParamDef`],
//! [`CommandDef`] and [`EventDef`] values built fluently.
//!
//! ```
//! use usp_datamodel::schema::{Obj, ParamDef, CommandDef, Schema};
//! use usp_datamodel::ParamType;
//! let mut b = Schema::builder();
//! b.object("Device.DeviceInfo.", Obj::single())
//!     .param(ParamDef::new("Manufacturer", ParamType::String))
//!     .param(ParamDef::new("UpTime", ParamType::UnsignedInt).live());
//! b.object("Device.LocalAgent.", Obj::single());
//! b.object("Device.LocalAgent.Subscription.{i}.", Obj::table().key(&["ID"]).add_delete().persistent())
//!     .param(ParamDef::alias())
//!     .param(ParamDef::new("ID", ParamType::String).writable().persistent())
//!     .param(ParamDef::new("Enable", ParamType::Boolean).writable().persistent());
//! let schema = b.build().unwrap();
//! assert!(schema.object_by_path("Device.LocalAgent.Subscription.{i}.").is_some());
//! ```

use std::sync::Arc;

use super::{
    CommandDef, EventDef, ObjAccess, ObjId, ObjKind, ObjectDef, ParamDef, ParamType, Schema,
    TableDef,
};

/// A schema declaration mistake (caught when building, never at request time).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema: {path}: {message}")]
pub struct SchemaError {
    /// The supported path concerned.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Object shape given to [`SchemaBuilder::object`].
#[derive(Debug, Clone)]
pub struct Obj {
    kind: ObjKind,
    persistent: bool,
    persistent_numbering: bool,
}

impl Obj {
    /// A single-instance object that exists with its parent.
    pub fn single() -> Obj {
        Obj {
            kind: ObjKind::Single { optional: false },
            persistent: false,
            persistent_numbering: false,
        }
    }

    /// A single-instance object that exists only where created (discriminated objects).
    pub fn optional() -> Obj {
        Obj {
            kind: ObjKind::Single { optional: true },
            ..Obj::single()
        }
    }

    /// A table, read-only for Controllers until [`Obj::add_delete`] or [`Obj::access`].
    pub fn table() -> Obj {
        Obj {
            kind: ObjKind::Table(TableDef {
                unique_keys: Vec::new(),
                access: ObjAccess::ReadOnly,
                max_entries: None,
                num_entries_param: Arc::from(""),
            }),
            ..Obj::single()
        }
    }

    fn table_mut(&mut self) -> Option<&mut TableDef> {
        match &mut self.kind {
            ObjKind::Table(t) => Some(t),
            ObjKind::Single { .. } => None,
        }
    }

    /// Adds a unique key set (tables only).
    pub fn key(mut self, params: &[&str]) -> Self {
        if let Some(t) = self.table_mut() {
            t.unique_keys
                .push(params.iter().map(|p| Arc::from(*p)).collect());
        }
        self
    }

    /// Controllers may Add and Delete rows.
    pub fn add_delete(self) -> Self {
        self.access(ObjAccess::AddDelete)
    }

    /// Sets what Controllers may do with rows.
    pub fn access(mut self, access: ObjAccess) -> Self {
        if let Some(t) = self.table_mut() {
            t.access = access;
        }
        self
    }

    /// Bounds the number of rows.
    pub fn max_entries(mut self, n: u32) -> Self {
        if let Some(t) = self.table_mut() {
            t.max_entries = Some(n);
        }
        self
    }

    /// Rows (and their persistent parameters) survive restarts; implies persistent
    /// instance numbering.
    pub fn persistent(mut self) -> Self {
        self.persistent = true;
        self.persistent_numbering = true;
        self
    }

    /// Only the next-instance counter survives restarts, so numbers are never reused
    /// (tables filled by mounting, e.g. `Device.ProxiedDevice.{i}.`).
    pub fn persistent_numbering(mut self) -> Self {
        self.persistent_numbering = true;
        self
    }
}

/// Builds or extends a [`Schema`]. Mistakes are collected and reported by
/// [`SchemaBuilder::build`].
#[derive(Debug)]
pub struct SchemaBuilder {
    schema: Schema,
    errors: Vec<SchemaError>,
}

/// Adds parameters, commands and events to one object; returned by
/// [`SchemaBuilder::object`].
pub struct ObjectBuilder<'a> {
    builder: &'a mut SchemaBuilder,
    id: Option<ObjId>,
}

impl SchemaBuilder {
    pub(crate) fn new() -> SchemaBuilder {
        let root = ObjectDef {
            name: Arc::from("Device"),
            path: "Device.".to_owned(),
            parent: None,
            kind: ObjKind::Single { optional: false },
            persistent: false,
            persistent_numbering: false,
            children: Vec::new(),
            params: Vec::new(),
            commands: Vec::new(),
            events: Vec::new(),
        };
        let mut by_path = std::collections::HashMap::new();
        by_path.insert("Device.".to_owned(), Schema::ROOT);
        SchemaBuilder {
            schema: Schema {
                objects: vec![root],
                by_path,
            },
            errors: Vec::new(),
        }
    }

    pub(crate) fn from_schema(schema: Schema) -> SchemaBuilder {
        SchemaBuilder {
            schema,
            errors: Vec::new(),
        }
    }

    /// Declares the object at supported path `path` (parent must already exist), or
    /// returns the existing one so more members can be added to it.
    pub fn object(&mut self, path: &str, spec: Obj) -> ObjectBuilder<'_> {
        let id = match self.schema.by_path.get(path) {
            Some(id) => Some(*id),
            None => self.add_object(path, spec),
        };
        ObjectBuilder { builder: self, id }
    }

    /// Adds members to an existing object (`Device.` included).
    pub fn extend_object(&mut self, path: &str) -> ObjectBuilder<'_> {
        let id = self.schema.by_path.get(path).copied();
        if id.is_none() {
            self.error(path, "no such object");
        }
        ObjectBuilder { builder: self, id }
    }

    fn error(&mut self, path: &str, message: &str) {
        self.errors.push(SchemaError {
            path: path.to_owned(),
            message: message.to_owned(),
        });
    }

    fn add_object(&mut self, path: &str, spec: Obj) -> Option<ObjId> {
        let is_table = matches!(spec.kind, ObjKind::Table(_));
        let Some(stem) = path.strip_suffix('.') else {
            self.error(path, "an object path ends with '.'");
            return None;
        };
        let stem = if is_table {
            match stem.strip_suffix(".{i}") {
                Some(s) => s,
                None => {
                    self.error(path, "a table path ends with '.{i}.'");
                    return None;
                }
            }
        } else {
            stem
        };
        let Some((parent_stem, name)) = stem.rsplit_once('.') else {
            self.error(path, "not below Device.");
            return None;
        };
        if !crate::path::is_valid_name(name) {
            self.error(path, "invalid object name");
            return None;
        }
        let parent_path = format!("{parent_stem}.");
        let Some(parent) = self.schema.by_path.get(&parent_path).copied() else {
            self.error(path, "parent object is not declared");
            return None;
        };
        let id = ObjId(self.schema.objects.len() as u32);
        let mut kind = spec.kind;
        if let ObjKind::Table(t) = &mut kind {
            t.num_entries_param = Arc::from(format!("{name}NumberOfEntries"));
            let counter = t.num_entries_param.clone();
            let parent_def = &mut self.schema.objects[parent.0 as usize];
            if let Some(p) = parent_def.params.iter_mut().find(|p| p.name == counter) {
                p.num_entries_of = Some(id);
            } else {
                let mut p = ParamDef::new(&counter, ParamType::UnsignedInt);
                p.num_entries_of = Some(id);
                parent_def.params.push(p);
            }
        }
        self.schema.objects.push(ObjectDef {
            name: Arc::from(name),
            path: path.to_owned(),
            parent: Some(parent),
            kind,
            persistent: spec.persistent,
            persistent_numbering: spec.persistent_numbering,
            children: Vec::new(),
            params: Vec::new(),
            commands: Vec::new(),
            events: Vec::new(),
        });
        self.schema.objects[parent.0 as usize].children.push(id);
        self.schema.by_path.insert(path.to_owned(), id);
        Some(id)
    }

    /// Checks the declarations (unique keys name real parameters, ...) and returns the
    /// schema or the first mistake.
    pub fn build(mut self) -> Result<Schema, SchemaError> {
        for def in &mut self.schema.objects {
            for p in &mut def.params {
                p.initial_text = Arc::from(p.initial_value().to_string());
            }
        }
        for def in &self.schema.objects {
            if let ObjKind::Table(t) = &def.kind {
                for key in t.unique_keys.iter().flatten() {
                    if def.param(key).is_none() {
                        self.errors.push(SchemaError {
                            path: def.path.clone(),
                            message: format!("unique key {key} is not a parameter"),
                        });
                    }
                }
            }
        }
        match self.errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(self.schema),
        }
    }
}

impl ObjectBuilder<'_> {
    fn def(&mut self) -> Option<&mut ObjectDef> {
        let id = self.id?;
        self.builder.schema.objects.get_mut(id.0 as usize)
    }

    /// Adds (or replaces) a parameter.
    pub fn param(mut self, p: ParamDef) -> Self {
        if !crate::path::is_valid_name(&p.name) {
            let path = self.def().map(|d| d.path.clone()).unwrap_or_default();
            self.builder
                .error(&path, &format!("invalid parameter name {:?}", p.name));
            return self;
        }
        if let Some(def) = self.def() {
            match def.params.iter_mut().find(|q| q.name == p.name) {
                Some(q) => {
                    let counts = q.num_entries_of;
                    *q = p;
                    q.num_entries_of = q.num_entries_of.or(counts);
                }
                None => def.params.push(p),
            }
        }
        self
    }

    /// Adds (or replaces) a command.
    pub fn command(mut self, c: CommandDef) -> Self {
        if let Some(def) = self.def() {
            def.commands.retain(|q| q.name != c.name);
            def.commands.push(c);
        }
        self
    }

    /// Adds (or replaces) an event.
    pub fn event(mut self, e: EventDef) -> Self {
        if let Some(def) = self.def() {
            def.events.retain(|q| q.name != e.name);
            def.events.push(e);
        }
        self
    }

    /// The object's id (None if its declaration failed; the error is reported by
    /// [`SchemaBuilder::build`]).
    pub fn id(&self) -> Option<ObjId> {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ParamDef;

    #[test]
    fn builder_reports_declaration_mistakes() {
        let mut b = SchemaBuilder::new();
        b.object("Device.A.{i}.", Obj::single());
        assert!(b.build().is_err(), "single object with a table path");
        let mut b = SchemaBuilder::new();
        b.object("Device.A.", Obj::table());
        assert!(b.build().is_err(), "table without {{i}}");
        let mut b = SchemaBuilder::new();
        b.object("Device.A.{i}.", Obj::table().key(&["Missing"]));
        assert!(b.build().is_err(), "unique key that is not a parameter");
        let mut b = SchemaBuilder::new();
        b.object("Device.A.", Obj::single())
            .param(ParamDef::new("bad name", ParamType::String));
        assert!(b.build().is_err());
        let mut b = SchemaBuilder::new();
        b.object("Device.A.{i}.", Obj::table());
        let s = b.build().unwrap();
        let root = s.obj(Schema::ROOT);
        assert_eq!(
            root.param("ANumberOfEntries")
                .and_then(ParamDef::counts_table),
            s.object_by_path("Device.A.{i}.")
        );
    }
}
