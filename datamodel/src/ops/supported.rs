//! GetSupportedDM (TR-369 section "GetSupportedDM"): the schema as the Controller
//! sees it. Paths may be supported paths (`Device.ProxiedDevice.{i}.`) or concrete
//! ones (`Device.ProxiedDevice.1.`, mapped to their definition).
//!
//! `first_level_only` returns the object with its members and its immediate child
//! objects without theirs.
//!
//! Divergent paths: this engine's schema is per object type (every instance of a
//! table has the same supported model, optional sub-objects included), so
//! `divergent_paths` is always empty.

use crate::error::{DmError, ErrorKind};
use crate::model::DataModel;
use crate::path::{self, Leaf, Segment};
use crate::schema::{Access, ObjAccess, ObjId, ParamType, Schema, ValueChangeMode};

/// What to include (the request's flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportedDmOptions {
    /// Only the object and its direct child objects.
    pub first_level_only: bool,
    /// Include commands.
    pub return_commands: bool,
    /// Include events.
    pub return_events: bool,
    /// Include parameters.
    pub return_params: bool,
    /// Include unique key sets (USP 1.4).
    pub return_unique_key_sets: bool,
}

impl Default for SupportedDmOptions {
    fn default() -> Self {
        SupportedDmOptions {
            first_level_only: false,
            return_commands: true,
            return_events: true,
            return_params: true,
            return_unique_key_sets: true,
        }
    }
}

/// One supported object (`SupportedObjectResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedObject {
    /// Supported path, e.g. `Device.ProxiedDevice.{i}.`.
    pub path: String,
    /// What Controllers may do with rows.
    pub access: ObjAccess,
    /// Whether it is a table.
    pub is_multi_instance: bool,
    /// Parameters.
    pub params: Vec<SupportedParam>,
    /// Commands.
    pub commands: Vec<SupportedCommand>,
    /// Events.
    pub events: Vec<SupportedEvent>,
    /// Unique key sets (parameter names).
    pub unique_key_sets: Vec<Vec<String>>,
    /// Always empty (see the module documentation).
    pub divergent_paths: Vec<String>,
}

/// A supported parameter (`SupportedParamResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedParam {
    /// Name relative to the object.
    pub name: String,
    /// Access; `WriteOnceReadOnly` is reported by USP as read-write.
    pub access: Access,
    /// Base type (a list of them if `is_list`).
    pub value_type: ParamType,
    /// List-valued.
    pub is_list: bool,
    /// ValueChange semantics.
    pub value_change: ValueChangeMode,
}

/// A supported command (`SupportedCommandResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedCommand {
    /// Name with `()`.
    pub name: String,
    /// Input argument names.
    pub input_args: Vec<String>,
    /// Output argument names.
    pub output_args: Vec<String>,
    /// Asynchronous.
    pub is_async: bool,
}

/// A supported event (`SupportedEventResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedEvent {
    /// Name with `!`.
    pub name: String,
    /// Argument names.
    pub args: Vec<String>,
}

impl DataModel {
    /// GetSupportedDM: one result per requested path.
    pub fn get_supported_dm<S: AsRef<str>>(
        &self,
        paths: &[S],
        opts: SupportedDmOptions,
    ) -> Vec<Result<Vec<SupportedObject>, DmError>> {
        let schema = self.schema();
        paths
            .iter()
            .map(|p| supported(&schema, p.as_ref(), opts))
            .collect()
    }
}

fn supported(
    schema: &Schema,
    path: &str,
    opts: SupportedDmOptions,
) -> Result<Vec<SupportedObject>, DmError> {
    let expr = path::parse_supported(path)?;
    if !matches!(expr.leaf, Leaf::Object) {
        return Err(DmError::new(
            ErrorKind::WrongPathKind,
            path,
            "GetSupportedDM takes object paths ending with '.'",
        ));
    }
    let mut def = Schema::ROOT;
    let mut at_table = false;
    for seg in &expr.segments {
        match seg {
            Segment::Name(n) if !at_table => {
                def = schema
                    .child(def, n)
                    .ok_or_else(|| DmError::not_supported(path))?;
                at_table = schema.obj(def).is_table();
            }
            Segment::Instance(_) | Segment::Wildcard | Segment::Search(_) if at_table => {
                at_table = false
            }
            _ => return Err(DmError::not_supported(path)),
        }
    }
    let mut out = Vec::new();
    describe(schema, def, opts, 0, &mut out);
    Ok(out)
}

fn describe(
    schema: &Schema,
    id: ObjId,
    opts: SupportedDmOptions,
    depth: u32,
    out: &mut Vec<SupportedObject>,
) {
    let def = schema.obj(id);
    // With first_level_only the immediate children are listed as objects only, their
    // members left to a request of their own (as obuspa, the reference agent, does).
    let opts = if opts.first_level_only && depth >= 1 {
        SupportedDmOptions {
            return_commands: false,
            return_events: false,
            return_params: false,
            return_unique_key_sets: false,
            ..opts
        }
    } else {
        opts
    };
    let params = if opts.return_params {
        def.params()
            .iter()
            .map(|p| SupportedParam {
                name: p.name().to_owned(),
                access: p.get_access(),
                value_type: p.ty(),
                is_list: p.is_list(),
                value_change: p.value_change(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let commands = if opts.return_commands {
        def.commands()
            .iter()
            .map(|c| SupportedCommand {
                name: c.name().to_owned(),
                input_args: c.inputs().iter().map(|a| a.name().to_owned()).collect(),
                output_args: c.outputs().iter().map(|a| a.name().to_owned()).collect(),
                is_async: c.is_async(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let events = if opts.return_events {
        def.events()
            .iter()
            .map(|e| SupportedEvent {
                name: e.name().to_owned(),
                args: e.args().iter().map(|a| a.name().to_owned()).collect(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let unique_key_sets = match (opts.return_unique_key_sets, def.table()) {
        (true, Some(t)) => t
            .unique_keys
            .iter()
            .map(|k| k.iter().map(|s| s.to_string()).collect())
            .collect(),
        _ => Vec::new(),
    };
    out.push(SupportedObject {
        path: def.path().to_owned(),
        access: def.access(),
        is_multi_instance: def.is_table(),
        params,
        commands,
        events,
        unique_key_sets,
        divergent_paths: Vec::new(),
    });
    if opts.first_level_only && depth >= 1 {
        return;
    }
    for c in def.children() {
        describe(schema, *c, opts, depth + 1, out);
    }
}
