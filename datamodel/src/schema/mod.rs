//! The supported data model (TR-369 section "Supported Data Model", TR-181 object and
//! parameter definitions): objects, multi-instance tables with their unique keys,
//! parameters with type, access and constraints, commands and events.
//!
//! A [`Schema`] is declared in Rust with a [`SchemaBuilder`] and is immutable once
//! built; it grows at run time by building an extended copy
//! ([`crate::DataModel::extend_schema`]). Objects live in an arena indexed by
//! [`ObjId`]; every lookup by name is a short linear scan over interned names, so
//! resolving a path allocates nothing.

mod builder;
mod constraints;
mod defs;
pub mod iot;
mod pattern;

use std::collections::HashMap;
use std::sync::Arc;

pub use builder::{Obj, ObjectBuilder, SchemaBuilder, SchemaError};
pub use constraints::Constraints;
pub use defs::{ArgDef, CommandDef, EventDef, ParamDef};
pub use pattern::Pattern;

pub use crate::value::ParamType;

/// Index of an object definition in a [`Schema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjId(pub(crate) u32);

/// Parameter access as TR-181 declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Controllers can read but not write.
    ReadOnly,
    /// Controllers can read and write.
    ReadWrite,
    /// Writable only while creating the instance (Add), read-only afterwards.
    WriteOnceReadOnly,
    /// Writable; reads return an empty string (passwords, keys).
    WriteOnly,
}

/// What Controllers may do with a table's rows (GetSupportedDM `ObjAccessType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjAccess {
    /// No Add, no Delete (also every single-instance object).
    ReadOnly,
    /// Add and Delete.
    AddDelete,
    /// Add only.
    AddOnly,
    /// Delete only.
    DeleteOnly,
}

impl ObjAccess {
    /// Whether a Controller may Add rows.
    pub fn can_add(self) -> bool {
        matches!(self, ObjAccess::AddDelete | ObjAccess::AddOnly)
    }

    /// Whether a Controller may Delete rows.
    pub fn can_delete(self) -> bool {
        matches!(self, ObjAccess::AddDelete | ObjAccess::DeleteOnly)
    }
}

/// Whether value changes of a parameter may be subscribed to (GetSupportedDM
/// `ValueChangeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueChangeMode {
    /// ValueChange notifications are sent.
    Allowed,
    /// The agent ignores ValueChange subscriptions on this parameter (e.g. counters).
    WillIgnore,
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backing {
    /// Stored in the tree; Set validates and stores.
    Stored,
    /// Stored in the tree (kept current by the owner with internal sets); a
    /// Controller's Set is first forwarded to the instance's [`crate::Provider`] and stored
    /// only when it succeeds (e.g. a bridged device's `Value`).
    WriteThrough,
    /// Not stored: every Get asks the provider, every Set goes to it (e.g. `UpTime`).
    Live,
}

/// The shape of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjKind {
    /// A single-instance object. `optional` objects exist only in the instances
    /// that create them (TR-181's discriminated objects such as
    /// `IoTCapability.{i}.LevelSensor.`); the others exist whenever their parent does.
    Single {
        /// Created explicitly rather than with the parent.
        optional: bool,
    },
    /// A multi-instance object (table).
    Table(TableDef),
}

/// Table properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// Unique key sets: each is a list of parameter names whose values together are
    /// unique among the rows.
    pub unique_keys: Vec<Vec<Arc<str>>>,
    /// What Controllers may do.
    pub access: ObjAccess,
    /// Maximum number of rows, if bounded.
    pub max_entries: Option<u32>,
    /// Name of the parent's `<Name>NumberOfEntries` parameter.
    pub num_entries_param: Arc<str>,
}

/// One object definition.
#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub(crate) name: Arc<str>,
    pub(crate) path: String,
    pub(crate) parent: Option<ObjId>,
    pub(crate) kind: ObjKind,
    pub(crate) persistent: bool,
    pub(crate) persistent_numbering: bool,
    pub(crate) children: Vec<ObjId>,
    pub(crate) params: Vec<ParamDef>,
    pub(crate) commands: Vec<CommandDef>,
    pub(crate) events: Vec<EventDef>,
}

impl ObjectDef {
    /// The object's own name (`ProxiedDevice`), `Device` for the root.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The supported path, e.g. `Device.ProxiedDevice.{i}.IoTCapability.{i}.`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The parent object, `None` for `Device.`.
    pub fn parent(&self) -> Option<ObjId> {
        self.parent
    }

    /// Single or table.
    pub fn kind(&self) -> &ObjKind {
        &self.kind
    }

    /// The table properties, if this is a table.
    pub fn table(&self) -> Option<&TableDef> {
        match &self.kind {
            ObjKind::Table(t) => Some(t),
            ObjKind::Single { .. } => None,
        }
    }

    /// Whether this is a multi-instance object.
    pub fn is_table(&self) -> bool {
        self.table().is_some()
    }

    /// Whether this is an optional single-instance object.
    pub fn is_optional(&self) -> bool {
        matches!(self.kind, ObjKind::Single { optional: true })
    }

    /// GetSupportedDM access of the object.
    pub fn access(&self) -> ObjAccess {
        self.table().map_or(ObjAccess::ReadOnly, |t| t.access)
    }

    /// Whether rows (and their persistent parameters) survive a restart.
    pub fn is_persistent(&self) -> bool {
        self.persistent
    }

    /// Child objects, in declaration order.
    pub fn children(&self) -> &[ObjId] {
        &self.children
    }

    /// Parameters, in declaration order.
    pub fn params(&self) -> &[ParamDef] {
        &self.params
    }

    /// Commands, in declaration order.
    pub fn commands(&self) -> &[CommandDef] {
        &self.commands
    }

    /// Events, in declaration order.
    pub fn events(&self) -> &[EventDef] {
        &self.events
    }

    /// Index of the parameter named `name`.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| &*p.name == name)
    }

    /// The parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&ParamDef> {
        self.params.iter().find(|p| &*p.name == name)
    }

    /// Index of the command named `name` (with its `()`).
    pub fn command_index(&self, name: &str) -> Option<usize> {
        self.commands.iter().position(|c| &*c.name == name)
    }

    /// Index of the event named `name` (with its `!`).
    pub fn event_index(&self, name: &str) -> Option<usize> {
        self.events.iter().position(|e| &*e.name == name)
    }
}

/// The supported data model: an arena of object definitions rooted at `Device.`.
#[derive(Debug, Clone)]
pub struct Schema {
    pub(crate) objects: Vec<ObjectDef>,
    pub(crate) by_path: HashMap<String, ObjId>,
}

impl Schema {
    /// The id of `Device.`.
    pub const ROOT: ObjId = ObjId(0);

    /// A builder starting from an empty `Device.` object.
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder::new()
    }

    /// A builder that extends a copy of this schema.
    pub fn extend(&self) -> SchemaBuilder {
        SchemaBuilder::from_schema(self.clone())
    }

    /// The object definition `id`.
    ///
    /// Ids come from this schema (or an earlier version of it: schemas only grow), so
    /// the index is always in bounds.
    pub fn obj(&self, id: ObjId) -> &ObjectDef {
        &self.objects[id.0 as usize]
    }

    /// The object whose supported path is `path` (`Device.ProxiedDevice.{i}.`).
    pub fn object_by_path(&self, path: &str) -> Option<ObjId> {
        self.by_path.get(path).copied()
    }

    /// The child of `parent` named `name`.
    pub fn child(&self, parent: ObjId, name: &str) -> Option<ObjId> {
        self.obj(parent)
            .children
            .iter()
            .copied()
            .find(|c| &*self.obj(*c).name == name)
    }

    /// Position of `child` among its parent's children.
    pub(crate) fn child_slot(&self, parent: ObjId, child: ObjId) -> Option<usize> {
        self.obj(parent).children.iter().position(|c| *c == child)
    }

    /// Every object id, in declaration order.
    pub fn ids(&self) -> impl Iterator<Item = ObjId> + '_ {
        (0..self.objects.len() as u32).map(ObjId)
    }

    /// Number of object definitions.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Always false: the root exists.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The supported path of a concrete object, parameter, command or event path:
    /// `Device.ProxiedDevice.3.IoTCapability.1.LevelSensor.Value` gives
    /// `Device.ProxiedDevice.{i}.IoTCapability.{i}.LevelSensor.Value`; `None` if the
    /// path is not in this schema.
    pub fn supported_path_of(&self, concrete: &str) -> Option<String> {
        let rest = concrete.strip_prefix("Device.")?;
        let mut out = String::from("Device.");
        let mut def = Schema::ROOT;
        let mut parts = rest.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                // The last element: empty for an object path, else a member name.
                let obj = self.obj(def);
                let known = part.is_empty()
                    || obj.param(part).is_some()
                    || obj.command_index(part).is_some()
                    || obj.event_index(part).is_some();
                return known.then(|| out + part);
            }
            def = self.child(def, part)?;
            out.push_str(part);
            out.push('.');
            if self.obj(def).is_table() {
                parts.next()?.parse::<u32>().ok()?;
                out.push_str("{i}.");
            }
        }
        Some(out)
    }

    /// Whether anything at or below object `id` can be in the store (a persistent
    /// table, counter or parameter); removals of other subtrees skip the store.
    pub fn may_persist(&self, id: ObjId) -> bool {
        let mut stack = vec![id];
        while let Some(o) = stack.pop() {
            let def = self.obj(o);
            if def.persistent || def.persistent_numbering || def.params.iter().any(|p| p.persistent)
            {
                return true;
            }
            stack.extend(def.children.iter().copied());
        }
        false
    }

    /// Whether `id` is `ancestor` or lies below it.
    pub fn is_within(&self, mut id: ObjId, ancestor: ObjId) -> bool {
        loop {
            if id == ancestor {
                return true;
            }
            match self.obj(id).parent {
                Some(p) => id = p,
                None => return false,
            }
        }
    }
}
