//! Set (TR-369 "The Set Message"): per-object atomicity and `allow_partial` are the data
//! model's; a whole-request failure (allow_partial=false) is an Error message with
//! `param_errs`, anything else a SetResp with per-object success or failure.

use usp_datamodel::ops::{ParamError, ParamSetting, RequestFailure, SetObject, SetRequest};
use usp_proto::builder;
use usp_proto::usp::{Msg, Set, SetResp, set_resp};

use super::{Ctx, to_map};

/// Answers a Set; `Err` is the Error message.
pub async fn handle(ctx: &Ctx<'_>, req: Set) -> Result<SetResp, Msg> {
    let dm_req = SetRequest {
        allow_partial: req.allow_partial,
        objects: req
            .update_objs
            .into_iter()
            .map(|o| SetObject {
                obj_path: o.obj_path,
                params: o
                    .param_settings
                    .into_iter()
                    .map(|p| ParamSetting {
                        name: p.param,
                        value: p.value,
                        required: p.required,
                    })
                    .collect(),
            })
            .collect(),
    };
    let results = ctx
        .dm
        .set(dm_req)
        .await
        .map_err(|f| request_failure(ctx.msg_id, f))?;
    let updated_obj_results = results
        .into_iter()
        .map(|r| {
            use set_resp::updated_object_result::{OperationStatus, operation_status as os};
            let status = match r.outcome {
                Ok(instances) => os::OperStatus::OperSuccess(os::OperationSuccess {
                    updated_inst_results: instances
                        .into_iter()
                        .map(|i| set_resp::UpdatedInstanceResult {
                            affected_path: i.affected_path,
                            param_errs: i.param_errs.into_iter().map(param_err).collect(),
                            updated_params: to_map(i.updated_params),
                        })
                        .collect(),
                }),
                Err(f) => os::OperStatus::OperFailure(os::OperationFailure {
                    err_code: f.error.usp_code().code(),
                    err_msg: f.error.to_string(),
                    updated_inst_failures: f
                        .instance_failures
                        .into_iter()
                        .map(|i| set_resp::UpdatedInstanceFailure {
                            affected_path: i.affected_path,
                            param_errs: i.param_errs.into_iter().map(param_err).collect(),
                        })
                        .collect(),
                }),
            };
            set_resp::UpdatedObjectResult {
                requested_path: r.requested_path,
                oper_status: Some(OperationStatus {
                    oper_status: Some(status),
                }),
            }
        })
        .collect();
    Ok(SetResp {
        updated_obj_results,
    })
}

fn param_err(e: ParamError) -> set_resp::ParameterError {
    set_resp::ParameterError {
        param: e.name,
        err_code: e.error.usp_code().code(),
        err_msg: e.error.message,
    }
}

/// The Error message for a request that failed as a whole (Set/Add/Delete).
pub(crate) fn request_failure(msg_id: &str, f: RequestFailure) -> Msg {
    builder::error(
        msg_id,
        f.error.usp_code(),
        f.error.to_string(),
        f.param_errs
            .into_iter()
            .map(|p| builder::param_error(p.param_path, p.error.usp_code(), p.error.message))
            .collect(),
    )
}
