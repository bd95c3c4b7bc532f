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

use super::constraints::Constraints;
use super::pattern::Pattern;
use super::{
    Access, Backing, ObjAccess, ObjId, ObjKind, ObjectDef, ParamType, Schema, TableDef,
    ValueChangeMode,
};
use crate::value::{Decimal, Value};

/// A schema declaration mistake (caught when building, never at request time).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema: {path}: {message}")]
pub struct SchemaError {
    /// The supported path concerned.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A parameter definition (also used fluently as its own builder).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDef {
    pub(crate) name: Arc<str>,
    pub(crate) ty: ParamType,
    pub(crate) list: bool,
    pub(crate) access: Access,
    pub(crate) constraints: Constraints,
    pub(crate) value_change: ValueChangeMode,
    pub(crate) persistent: bool,
    pub(crate) default: Option<Value>,
    pub(crate) backing: Backing,
    pub(crate) reference: bool,
    pub(crate) data_type: Option<&'static str>,
    pub(crate) num_entries_of: Option<ObjId>,
    pub(crate) is_alias: bool,
    /// String form of [`ParamDef::initial_value`], filled by [`SchemaBuilder::build`].
    pub(crate) initial_text: Arc<str>,
}

impl ParamDef {
    /// A read-only, stored, non-persistent parameter of type `ty`.
    pub fn new(name: &str, ty: ParamType) -> ParamDef {
        ParamDef {
            name: Arc::from(name),
            ty,
            list: false,
            access: Access::ReadOnly,
            constraints: Constraints::default(),
            value_change: ValueChangeMode::Allowed,
            persistent: false,
            default: None,
            backing: Backing::Stored,
            reference: false,
            data_type: None,
            num_entries_of: None,
            is_alias: false,
            initial_text: Arc::from(""),
        }
    }

    /// TR-106's `Alias` parameter as USP defines it (string(64), writeOnceReadOnly,
    /// persistent; the agent assigns a `cpe-` value when a row is created without one).
    pub fn alias() -> ParamDef {
        let mut p = ParamDef::new("Alias", ParamType::String)
            .access(Access::WriteOnceReadOnly)
            .max_len(64)
            .persistent()
            .data_type("Alias");
        p.is_alias = true;
        p
    }

    /// TR-106 `MACAddress` (string(17) with the colon-separated hex pattern).
    pub fn mac_address(name: &str) -> ParamDef {
        ParamDef::new(name, ParamType::String)
            .max_len(17)
            .pattern(r"([0-9A-Fa-f][0-9A-Fa-f]:){5}([0-9A-Fa-f][0-9A-Fa-f])")
            .data_type("MACAddress")
    }

    /// TR-106 `IEEE_EUI64` (string(23), eight colon-separated hex octets or empty).
    pub fn ieee_eui64(name: &str) -> ParamDef {
        ParamDef::new(name, ParamType::String)
            .max_len(23)
            .pattern("")
            .pattern(r"([0-9A-Fa-f][0-9A-Fa-f]:){7}([0-9A-Fa-f][0-9A-Fa-f])")
            .data_type("IEEE_EUI64")
    }

    /// Readable and writable by Controllers.
    pub fn writable(mut self) -> Self {
        self.access = Access::ReadWrite;
        self
    }

    /// Sets the access explicitly.
    pub fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// List-valued (comma-separated items of the base type).
    pub fn list(mut self) -> Self {
        self.list = true;
        self
    }

    /// Value survives restarts (stored in the [`crate::Store`]).
    pub fn persistent(mut self) -> Self {
        self.persistent = true;
        self
    }

    /// ValueChange subscriptions are ignored (counters, fast-changing values).
    pub fn value_change_ignored(mut self) -> Self {
        self.value_change = ValueChangeMode::WillIgnore;
        self
    }

    /// Value of a new instance when none is given.
    pub fn default_value(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self
    }

    /// Controller Sets go to the instance's provider first ([`Backing::WriteThrough`]).
    pub fn write_through(mut self) -> Self {
        self.backing = Backing::WriteThrough;
        self
    }

    /// Every read and write goes to the provider ([`Backing::Live`]).
    pub fn live(mut self) -> Self {
        self.backing = Backing::Live;
        self
    }

    /// The value is a path reference to an object (followable with `+`).
    pub fn reference(mut self) -> Self {
        self.reference = true;
        self
    }

    /// Name of the TR-106 named data type (`Alias`, `MACAddress`, ...), for reports.
    pub fn data_type(mut self, name: &'static str) -> Self {
        self.data_type = Some(name);
        self
    }

    /// Maximum length in characters (bytes for base64/hexBinary).
    pub fn max_len(mut self, n: u32) -> Self {
        self.constraints.max_len = Some(n);
        self
    }

    /// Minimum length.
    pub fn min_len(mut self, n: u32) -> Self {
        self.constraints.min_len = Some(n);
        self
    }

    /// Inclusive integer range.
    pub fn range(mut self, min: i128, max: i128) -> Self {
        self.constraints.int_range = Some((min, max));
        self
    }

    /// Inclusive decimal range.
    pub fn decimal_range(mut self, min: Decimal, max: Decimal) -> Self {
        self.constraints.decimal_range = Some((min, max));
        self
    }

    /// Allowed values (vendor extensions `X_...` are also accepted, as TR-106 allows).
    pub fn enumeration(mut self, values: &[&str]) -> Self {
        self.constraints.enumeration = values.iter().map(|v| Arc::from(*v)).collect();
        self
    }

    /// An XML-Schema-style pattern the value must match entirely; several patterns
    /// are alternatives.
    pub fn pattern(mut self, pattern: &str) -> Self {
        self.constraints.patterns.push(Pattern::new(pattern));
        self
    }

    /// The parameter's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The base type.
    pub fn ty(&self) -> ParamType {
        self.ty
    }

    /// Whether the parameter is list-valued.
    pub fn is_list(&self) -> bool {
        self.list
    }

    /// Access for Controllers.
    pub fn get_access(&self) -> Access {
        self.access
    }

    /// Constraints checked on Set.
    pub fn constraints(&self) -> &Constraints {
        &self.constraints
    }

    /// ValueChange semantics.
    pub fn value_change(&self) -> ValueChangeMode {
        self.value_change
    }

    /// Whether the value is persisted.
    pub fn is_persistent(&self) -> bool {
        self.persistent
    }

    /// Where the value comes from.
    pub fn backing(&self) -> Backing {
        self.backing
    }

    /// Whether the value is a path reference.
    pub fn is_reference(&self) -> bool {
        self.reference
    }

    /// The named data type, if any.
    pub fn named_type(&self) -> Option<&'static str> {
        self.data_type
    }

    /// The table this `NumberOfEntries` parameter counts, if it is one.
    pub fn counts_table(&self) -> Option<ObjId> {
        self.num_entries_of
    }

    /// Whether this is the row's `Alias`.
    pub fn is_alias(&self) -> bool {
        self.is_alias
    }

    /// The value a new instance starts with.
    pub fn initial_value(&self) -> Value {
        match &self.default {
            Some(v) => v.clone(),
            None if self.list => Value::List(Vec::new()),
            None => self.ty.zero(),
        }
    }
}

/// A command or event argument.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgDef {
    pub(crate) name: Arc<str>,
    pub(crate) ty: ParamType,
    pub(crate) list: bool,
    pub(crate) mandatory: bool,
    pub(crate) constraints: Constraints,
}

impl ArgDef {
    /// An optional argument of type `ty`.
    pub fn new(name: &str, ty: ParamType) -> ArgDef {
        ArgDef {
            name: Arc::from(name),
            ty,
            list: false,
            mandatory: false,
            constraints: Constraints::default(),
        }
    }

    /// Must be present in Operate (missing: 7027).
    pub fn mandatory(mut self) -> Self {
        self.mandatory = true;
        self
    }

    /// List-valued.
    pub fn list(mut self) -> Self {
        self.list = true;
        self
    }

    /// Inclusive integer range.
    pub fn range(mut self, min: i128, max: i128) -> Self {
        self.constraints.int_range = Some((min, max));
        self
    }

    /// Allowed values.
    pub fn enumeration(mut self, values: &[&str]) -> Self {
        self.constraints.enumeration = values.iter().map(|v| Arc::from(*v)).collect();
        self
    }

    /// The argument's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its type.
    pub fn ty(&self) -> ParamType {
        self.ty
    }

    /// Whether it is list-valued.
    pub fn is_list(&self) -> bool {
        self.list
    }

    /// Whether it is mandatory.
    pub fn is_mandatory(&self) -> bool {
        self.mandatory
    }

    /// Checks and canonicalises a value given for this argument.
    pub fn check(&self, raw: &str) -> Result<Value, String> {
        let v = Value::parse(self.ty, self.list, raw).map_err(|e| e.0)?;
        self.constraints.check(&v, self.ty)?;
        Ok(v)
    }
}

/// A command definition (`Name()`).
#[derive(Debug, Clone, PartialEq)]
pub struct CommandDef {
    pub(crate) name: Arc<str>,
    pub(crate) is_async: bool,
    pub(crate) input: Vec<ArgDef>,
    pub(crate) output: Vec<ArgDef>,
}

impl CommandDef {
    /// A synchronous command; `name` ends with `()` (added if missing).
    pub fn new(name: &str) -> CommandDef {
        let name = if name.ends_with("()") {
            name.to_owned()
        } else {
            format!("{name}()")
        };
        CommandDef {
            name: Arc::from(name),
            is_async: false,
            input: Vec::new(),
            output: Vec::new(),
        }
    }

    /// Asynchronous (answered with a Request object, completed by OperationComplete).
    pub fn asynchronous(mut self) -> Self {
        self.is_async = true;
        self
    }

    /// Adds an input argument.
    pub fn input(mut self, arg: ArgDef) -> Self {
        self.input.push(arg);
        self
    }

    /// Adds an output argument.
    pub fn output(mut self, arg: ArgDef) -> Self {
        self.output.push(arg);
        self
    }

    /// The name with `()`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is asynchronous.
    pub fn is_async(&self) -> bool {
        self.is_async
    }

    /// Input arguments.
    pub fn inputs(&self) -> &[ArgDef] {
        &self.input
    }

    /// Output arguments.
    pub fn outputs(&self) -> &[ArgDef] {
        &self.output
    }
}

/// An event definition (`Name!`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventDef {
    pub(crate) name: Arc<str>,
    pub(crate) args: Vec<ArgDef>,
}

impl EventDef {
    /// An event; `name` ends with `!` (added if missing).
    pub fn new(name: &str) -> EventDef {
        let name = if name.ends_with('!') {
            name.to_owned()
        } else {
            format!("{name}!")
        };
        EventDef {
            name: Arc::from(name),
            args: Vec::new(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: ArgDef) -> Self {
        self.args.push(arg);
        self
    }

    /// The name with `!`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Arguments.
    pub fn args(&self) -> &[ArgDef] {
        &self.args
    }
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

    fn ok(p: &ParamDef, v: &str) -> bool {
        Value::parse(p.ty(), p.is_list(), v)
            .is_ok_and(|x| p.constraints().check(&x, p.ty()).is_ok())
    }

    #[test]
    fn named_data_types_check_their_patterns() {
        let eui = ParamDef::ieee_eui64("IEEE");
        assert!(ok(&eui, ""));
        assert!(ok(&eui, "00:12:4b:00:1c:a1:b2:c3"));
        assert!(!ok(&eui, "00:12:4b:00:1c:a1:b2"));
        assert!(!ok(&eui, "00-12-4b-00-1c-a1-b2-c3"));
        let mac = ParamDef::mac_address("MAC");
        assert!(ok(&mac, "AA:bb:01:02:03:04"));
        assert!(!ok(&mac, ""));
        let alias = ParamDef::alias();
        assert_eq!(alias.get_access(), Access::WriteOnceReadOnly);
        assert!(ok(&alias, &"a".repeat(64)));
        assert!(!ok(&alias, &"a".repeat(65)));
    }

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
