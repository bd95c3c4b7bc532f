//! Member definitions of the schema: parameters ([`ParamDef`]), command and event
//! arguments ([`ArgDef`]), commands ([`CommandDef`]) and events ([`EventDef`]), each its
//! own fluent builder.

use std::sync::Arc;

use super::constraints::Constraints;
use super::pattern::Pattern;
use super::{Access, Backing, ObjId, ParamType, ValueChangeMode};
use crate::value::{Decimal, Value};

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

    /// TR-106's `Alias` parameter as USP defines it (`_AliasUSP`: string(64),
    /// writeOnceReadOnly, persistent, not empty, starting with a letter; the agent
    /// assigns a `cpe-` value when a row is created without one).
    pub fn alias() -> ParamDef {
        let mut p = ParamDef::new("Alias", ParamType::String)
            .access(Access::WriteOnceReadOnly)
            .max_len(64)
            .pattern("[A-Za-z].*")
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
        assert!(!ok(&alias, ""), "an Alias is never empty");
        assert!(!ok(&alias, "1st"), "an Alias starts with a letter");
    }
}
