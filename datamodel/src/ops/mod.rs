//! The operations API: one module per USP message (TR-369 section "Messages"), each
//! taking a plain request and returning exactly what the response message needs.
//! The agent's handlers convert prost types to these at the edge and back.

pub(crate) mod add;
pub(crate) mod delete;
mod get;
mod instances;
mod operate;
mod set;
mod supported;
pub(crate) mod write;

pub use operate::{OperateOutcome, OperateResult, PendingOperation};
pub use supported::{
    SupportedCommand, SupportedDmOptions, SupportedEvent, SupportedObject, SupportedParam,
};

use crate::error::DmError;

/// One object (or object instance) in a Get result with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedObject {
    /// Concrete object path with trailing dot (`resolved_path`).
    pub path: String,
    /// Parameter names relative to `path` and their values (`result_params`), in
    /// schema order.
    pub params: Vec<(String, String)>,
}

/// The result for one requested path of a Get.
pub type GetPathResult = Result<Vec<ResolvedObject>, DmError>;

/// A parameter to set (Set's `UpdateParamSetting`, Add's `CreateParamSetting`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSetting {
    /// Parameter name relative to the object (may go through single sub-objects,
    /// e.g. `Stats.Reset`; only direct names are supported today).
    pub name: String,
    /// Value in TR-181 string form.
    pub value: String,
    /// Whether a failure of this parameter fails the whole object.
    pub required: bool,
}

impl ParamSetting {
    /// A required setting.
    pub fn required(name: &str, value: &str) -> ParamSetting {
        ParamSetting {
            name: name.to_owned(),
            value: value.to_owned(),
            required: true,
        }
    }

    /// A non-required setting.
    pub fn optional(name: &str, value: &str) -> ParamSetting {
        ParamSetting {
            required: false,
            ..ParamSetting::required(name, value)
        }
    }
}

/// A Set request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRequest {
    /// TR-369 `allow_partial`.
    pub allow_partial: bool,
    /// The objects to update.
    pub objects: Vec<SetObject>,
}

/// One `UpdateObject`: an object path (searches allowed) and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetObject {
    /// Object path; may match several instances.
    pub obj_path: String,
    /// Settings applied to each matched instance.
    pub params: Vec<ParamSetting>,
}

/// A failed parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// Full parameter path (Error message `param_path`).
    pub param_path: String,
    /// Name relative to the object (SetResp/AddResp `param`).
    pub name: String,
    /// What failed; `error.usp_code()` is the `err_code`.
    pub error: DmError,
}

/// The whole request failed (allow_partial=false and something failed): the agent
/// answers with an Error message carrying `param_errs`; nothing was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct RequestFailure {
    /// The error for the Error message (`err_code`, `err_msg`).
    pub error: DmError,
    /// Per-parameter failures.
    pub param_errs: Vec<ParamError>,
}

/// Outcome for one `UpdateObject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetObjectResult {
    /// The object path as requested.
    pub requested_path: String,
    /// Updated instances, or the object's failure.
    pub outcome: Result<Vec<UpdatedInstance>, ObjectFailure>,
}

/// An updated instance (`UpdatedInstanceResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatedInstance {
    /// Instance path.
    pub affected_path: String,
    /// Parameters set, with their new values.
    pub updated_params: Vec<(String, String)>,
    /// Non-required parameters that failed.
    pub param_errs: Vec<ParamError>,
}

/// A failed `UpdateObject` (`OperationFailure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFailure {
    /// `err_code`/`err_msg` for the object.
    pub error: DmError,
    /// Instances that failed and why.
    pub instance_failures: Vec<InstanceFailure>,
}

/// A failed instance (`UpdatedInstanceFailure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceFailure {
    /// Instance path.
    pub affected_path: String,
    /// The parameters that failed.
    pub param_errs: Vec<ParamError>,
}

/// An Add request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddRequest {
    /// TR-369 `allow_partial`.
    pub allow_partial: bool,
    /// The objects to create.
    pub objects: Vec<AddObject>,
}

/// One `CreateObject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddObject {
    /// Table path, e.g. `Device.LocalAgent.Subscription.` (the parent may be addressed
    /// by a search that matches exactly one instance).
    pub obj_path: String,
    /// Initial values.
    pub params: Vec<ParamSetting>,
}

/// Outcome for one `CreateObject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddObjectResult {
    /// The table path as requested.
    pub requested_path: String,
    /// The created instance, or why not.
    pub outcome: Result<CreatedInstance, DmError>,
}

/// A created instance (`OperationSuccess` of AddResp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedInstance {
    /// Instance path, e.g. `Device.LocalAgent.Subscription.4.`.
    pub instantiated_path: String,
    /// Non-required parameters that failed.
    pub param_errs: Vec<ParamError>,
    /// The unique keys of the new row.
    pub unique_keys: Vec<(String, String)>,
}

/// A Delete request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    /// TR-369 `allow_partial`.
    pub allow_partial: bool,
    /// Instance paths (searches allowed).
    pub obj_paths: Vec<String>,
}

/// Outcome for one requested delete path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteObjectResult {
    /// The path as requested.
    pub requested_path: String,
    /// The deleted paths, or why nothing was deleted.
    pub outcome: Result<Deleted, DmError>,
}

/// What a successful delete path removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// Removed instance paths (`affected_paths`).
    pub affected_paths: Vec<String>,
    /// Matched instances that could not be removed (`unaffected_path_errs`).
    pub unaffected: Vec<(String, DmError)>,
}

/// One instance in a GetInstances result (`CurrInstance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    /// Instance path with trailing dot.
    pub path: String,
    /// Its unique keys.
    pub unique_keys: Vec<(String, String)>,
}
