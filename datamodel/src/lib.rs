//! usp-datamodel: the TR-369 / TR-181 data model engine of usphub.
//!
//! Every USP message the agent answers is answered from a [`DataModel`]; every bridged
//! radio device lives in it under `Device.ProxiedDevice.{i}.`.
//!
//! # Pieces
//! - [`schema`]: the supported data model, declared in Rust with a [`SchemaBuilder`]
//!   (objects, tables with unique keys and Add/Delete rights, parameters with TR-181
//!   types, access and constraints, commands, events). [`schema::iot`] declares
//!   TR-181's `Device.ProxiedDevice.{i}.` IoT subtree.
//! - [`path`]: the full TR-369 path grammar (instance numbers, `*`, `[a==1&&b>2]`
//!   searches, unique-key addressing, `+`/`#n+` reference following).
//! - [`value`]: typed values with their TR-181 string forms.
//! - [`DataModel`]: the shared handle (cheap `Clone`) with the operations the USP
//!   handlers call — [`DataModel::get`], [`DataModel::set`], [`DataModel::add`],
//!   [`DataModel::delete`], [`DataModel::operate`], [`DataModel::get_instances`],
//!   [`DataModel::get_supported_dm`] — and the in-process API: [`DataModel::set_value`],
//!   [`DataModel::set_values`], [`DataModel::create_instance`],
//!   [`DataModel::delete_instance`], [`DataModel::create_object`],
//!   [`DataModel::mount`] / [`DataModel::unmount`], [`DataModel::emit_event`],
//!   [`DataModel::attach_provider`].
//! - [`Provider`]: backs live parameters, write-through Sets and commands of a
//!   subtree; called with no lock held.
//! - [`Change`]: the stream ([`DataModel::changes`]) subscriptions are built on;
//!   [`DataModel::compile`] + [`DataModel::matches`] test a ReferenceList entry
//!   against a change cheaply.
//! - [`Store`]: redb persistence of persistent tables and parameters.
//! - [`DmError`]: every failure, typed; [`DmError::usp_code`] is the one mapping to
//!   USP error codes.
//! - [`fixture`]: the benchmark tree of proxied devices (also used by the agent's bench).
//!
//! The async operations must run inside a tokio runtime: provider calls over several
//! objects are spawned so they overlap, and store commits run on the blocking pool.
//!
//! # How the agent uses it
//! - **USP handlers**: convert the prost request into [`SetRequest`], [`AddRequest`],
//!   ... call the operation, map [`DmError::usp_code`] / `message` into the response.
//!   `Err(RequestFailure)` from set/add/delete means "answer with an Error message"
//!   (allow_partial=false); per-object failures are inside the `Ok` results.
//!   [`DataModel::add_with`] lets the agent add its own values to each new row (a
//!   Subscription's `Recipient`) before unique keys are checked.
//! - **Operate**: [`OperateOutcome::Sync`] answers at once; for
//!   [`OperateOutcome::Async`] create `Device.LocalAgent.Request.{i}.`
//!   ([`DataModel::create_instance`]), answer with its path, then
//!   [`PendingOperation::spawn_reporting`] (publishes [`Change::OperationComplete`]).
//! - **Subscriptions**: [`DataModel::compile`] each ReferenceList entry once, read
//!   [`DataModel::changes`], and test [`Change::subject`] with [`DataModel::matches`].
//! - **LocalAgent / DeviceInfo**: declare the objects with the [`SchemaBuilder`],
//!   attach [`FnProvider`]s for live values (`UpTime`) and commands, write read-only
//!   state with [`DataModel::set_value`].
//! - **Proxied devices**: [`schema::iot::declare`] then [`DataModel::mount`] a
//!   [`Subtree`] per device (with its [`Provider`] for write-through values and
//!   commands), [`DataModel::unmount`] with [`Unmount::Retain`] when it leaves; values
//!   reported by the radio go in with [`DataModel::set_values`]. Vendor parameters
//!   (`X_USPHUB_...`) are added with [`DataModel::extend_schema`].
//!
//! # Example
//! ```
//! use usp_datamodel::{DataModel, Schema, Obj, ParamDef, ParamType};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut b = Schema::builder();
//! b.object("Device.DeviceInfo.", Obj::single())
//!     .param(ParamDef::new("Manufacturer", ParamType::String));
//! let dm = DataModel::new(b.build().unwrap());
//! dm.set_value("Device.DeviceInfo.Manufacturer", "usphub").await.unwrap();
//! let res = dm.get(&["Device.DeviceInfo.Manufacturer"], 0).await;
//! assert_eq!(res[0].as_ref().unwrap()[0].params[0].1, "usphub");
//! # });
//! ```

pub mod change;
pub mod error;
pub mod fixture;
mod model;
mod mount;
pub mod ops;
pub mod path;
pub mod provider;
pub mod schema;
pub mod store;
mod tree;
pub mod value;

pub use change::Change;
pub use error::{DmError, DmResult, ErrorKind};
pub use model::DataModel;
pub use mount::{InitValue, Subtree, Unmount};
pub use ops::{
    AddObject, AddObjectResult, AddRequest, CreatedInstance, DeleteObjectResult, DeleteRequest,
    Deleted, GetPathResult, InstanceFailure, InstanceInfo, ObjectFailure, OperateOutcome,
    OperateResult, ParamError, ParamSetting, PendingOperation, RequestFailure, ResolvedObject,
    SetObject, SetObjectResult, SetRequest, SupportedCommand, SupportedDmOptions, SupportedEvent,
    SupportedObject, SupportedParam, UpdatedInstance,
};
pub use path::PathExpr;
pub use provider::{Args, BoxFuture, CommandCall, FnProvider, LiveGet, LiveSet, Provider};
pub use schema::{
    Access, ArgDef, Backing, CommandDef, EventDef, Obj, ObjAccess, ParamDef, Schema, SchemaBuilder,
    SchemaError, ValueChangeMode,
};
pub use store::{Store, StoreError};
pub use usp_proto::ErrorCode;
pub use value::{DateTime, Decimal, ParamType, Value};

/// The vendor prefix of every parameter, object, command and event usphub adds to
/// TR-181 (TR-106 section 3.3 vendor extensions).
pub const VENDOR_PREFIX: &str = "X_USPHUB_";
