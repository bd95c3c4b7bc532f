//! Providers: code outside the tree that backs a subtree's live parameters, its
//! write-through Sets and its commands (a bridged device, `DeviceInfo.UpTime`, the
//! agent's LocalAgent commands).
//!
//! Concurrency rule: the tree resolves a request under its lock, releases the lock,
//! and only then calls the provider; a provider may therefore take as long as a radio
//! round trip and may itself call back into the [`crate::DataModel`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use crate::error::{DmError, ErrorKind};
use crate::value::Value;

/// A boxed, sendable future (keeps [`Provider`] object-safe without extra crates).
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Command and event arguments: argument name (possibly a relative path such as
/// `Result.1.Status`) to TR-181 string value, as USP carries them.
pub type Args = BTreeMap<String, String>;

/// A read of live parameters of one object instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveGet {
    /// Concrete object path, e.g. `Device.DeviceInfo.`.
    pub obj_path: String,
    /// Parameter names relative to the object.
    pub params: Vec<String>,
}

/// A write of parameters of one object instance, already validated against the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSet {
    /// Concrete object path.
    pub obj_path: String,
    /// Parameter names and their new typed values.
    pub params: Vec<(String, Value)>,
}

/// A command invocation, input arguments already checked against the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandCall {
    /// Concrete object path of the command, e.g. `Device.ProxiedDevice.1.IoTCapability.2.BinaryControl.`.
    pub obj_path: String,
    /// The command's name with `()`.
    pub command: String,
    /// The Controller's command key.
    pub command_key: String,
    /// Input arguments (unknown ones removed, as TR-369 asks).
    pub input: Args,
}

/// Backs parameters and commands of the object instance it is attached to and of
/// everything below it.
///
/// Every method has a default that refuses, so a provider implements only what it
/// backs. Futures are `'static`: clone whatever handle is needed into them.
pub trait Provider: Send + Sync + 'static {
    /// Returns the current values of `req.params`, in the same order.
    fn get(&self, req: LiveGet) -> BoxFuture<Result<Vec<Value>, DmError>> {
        Box::pin(async move {
            Err(DmError::new(
                ErrorKind::ParameterActionFailed,
                req.obj_path,
                "this object has no live parameters",
            ))
        })
    }

    /// Applies `req.params`; one result per parameter, in order. The tree stores a
    /// write-through value only when its result is `Ok`.
    fn set(&self, req: LiveSet) -> BoxFuture<Vec<Result<(), DmError>>> {
        Box::pin(async move {
            req.params
                .iter()
                .map(|(name, _)| {
                    Err(DmError::new(
                        ErrorKind::NotWritable,
                        format!("{}{name}", req.obj_path),
                        "the device refused the write",
                    ))
                })
                .collect()
        })
    }

    /// Runs a command; output arguments on success. For an asynchronous command the
    /// future may take as long as the operation does.
    fn operate(&self, call: CommandCall) -> BoxFuture<Result<Args, DmError>> {
        Box::pin(async move {
            Err(DmError::new(
                ErrorKind::CommandFailure,
                format!("{}{}", call.obj_path, call.command),
                "command not implemented",
            ))
        })
    }
}

type GetFn = dyn Fn(LiveGet) -> BoxFuture<Result<Vec<Value>, DmError>> + Send + Sync;
type SetFn = dyn Fn(LiveSet) -> BoxFuture<Vec<Result<(), DmError>>> + Send + Sync;
type OperateFn = dyn Fn(CommandCall) -> BoxFuture<Result<Args, DmError>> + Send + Sync;

/// A provider made of closures, for small things such as `UpTime`.
///
/// ```
/// use std::time::Instant;
/// use usp_datamodel::{FnProvider, Value};
/// let start = Instant::now();
/// let p = FnProvider::new().on_get(move |req| {
///     let up = start.elapsed().as_secs() as u32;
///     Box::pin(async move { Ok(req.params.iter().map(|_| Value::UnsignedInt(up)).collect()) })
/// });
/// ```
#[derive(Default)]
pub struct FnProvider {
    get: Option<Box<GetFn>>,
    set: Option<Box<SetFn>>,
    operate: Option<Box<OperateFn>>,
}

impl FnProvider {
    /// A provider that refuses everything until given closures.
    pub fn new() -> FnProvider {
        FnProvider::default()
    }

    /// Handles live reads.
    pub fn on_get(
        mut self,
        f: impl Fn(LiveGet) -> BoxFuture<Result<Vec<Value>, DmError>> + Send + Sync + 'static,
    ) -> Self {
        self.get = Some(Box::new(f));
        self
    }

    /// Handles writes.
    pub fn on_set(
        mut self,
        f: impl Fn(LiveSet) -> BoxFuture<Vec<Result<(), DmError>>> + Send + Sync + 'static,
    ) -> Self {
        self.set = Some(Box::new(f));
        self
    }

    /// Handles commands.
    pub fn on_operate(
        mut self,
        f: impl Fn(CommandCall) -> BoxFuture<Result<Args, DmError>> + Send + Sync + 'static,
    ) -> Self {
        self.operate = Some(Box::new(f));
        self
    }
}

struct Refuse;
impl Provider for Refuse {}

impl Provider for FnProvider {
    fn get(&self, req: LiveGet) -> BoxFuture<Result<Vec<Value>, DmError>> {
        match &self.get {
            Some(f) => f(req),
            None => Refuse.get(req),
        }
    }

    fn set(&self, req: LiveSet) -> BoxFuture<Vec<Result<(), DmError>>> {
        match &self.set {
            Some(f) => f(req),
            None => Refuse.set(req),
        }
    }

    fn operate(&self, call: CommandCall) -> BoxFuture<Result<Args, DmError>> {
        match &self.operate {
            Some(f) => f(call),
            None => Refuse.operate(call),
        }
    }
}
