//! Set (TR-369 "The Set Message"): per-object atomicity and `allow_partial` are the data
//! model's; a whole-request failure (allow_partial=false) is an Error message with
//! `param_errs`, anything else a SetResp with per-object success or failure.

use usp_datamodel::ops::{ParamError, ParamSetting, RequestFailure, SetObject, SetRequest};
use usp_proto::builder;
use usp_proto::usp::{Msg, Set, SetResp, set_resp};

use super::{Ctx, denied, denied_msg, to_map};
use crate::access::{On, Perm};
use usp_proto::ErrorCode;

/// Answers a Set; `Err` is the Error message.
pub async fn handle(ctx: &Ctx<'_>, req: Set) -> Result<SetResp, Msg> {
    // Permission first: with allow_partial=false one refused parameter fails the request;
    // otherwise only the objects with a refused parameter fail.
    let mut refused: Vec<Option<Vec<String>>> = Vec::with_capacity(req.update_objs.len());
    for o in &req.update_objs {
        let names: Vec<&str> = o.param_settings.iter().map(|p| p.param.as_str()).collect();
        let d = denied(ctx, On::Param, Perm::Write, &o.obj_path, &names);
        refused.push((!d.is_empty()).then_some(d));
    }
    if !req.allow_partial && refused.iter().any(Option::is_some) {
        let errs = refused
            .iter()
            .flatten()
            .flatten()
            .map(|p| {
                builder::param_error(
                    p.clone(),
                    ErrorCode::PermissionDenied,
                    denied_msg(&ctx.session.controller, "write", p),
                )
            })
            .collect();
        return Err(builder::error(
            ctx.msg_id,
            ErrorCode::PermissionDenied,
            "permission denied",
            errs,
        ));
    }
    let mut requested = Vec::new();
    let mut allowed = Vec::new();
    for (o, r) in req.update_objs.into_iter().zip(&refused) {
        requested.push(o.obj_path.clone());
        if r.is_none() {
            allowed.push(o);
        }
    }
    let dm_req = SetRequest {
        allow_partial: req.allow_partial,
        objects: allowed
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
    let mut results = results.into_iter();
    let updated_obj_results = requested
        .into_iter()
        .zip(refused)
        .filter_map(|(path, refused)| match refused {
            Some(paths) => Some(refused_result(ctx, path, paths)),
            None => results.next().map(updated_result),
        })
        .collect();
    Ok(SetResp {
        updated_obj_results,
    })
}

/// The failure of an object the Controller may not write.
fn refused_result(
    ctx: &Ctx<'_>,
    requested_path: String,
    paths: Vec<String>,
) -> set_resp::UpdatedObjectResult {
    use set_resp::updated_object_result::{OperationStatus, operation_status as os};
    let status = os::OperStatus::OperFailure(os::OperationFailure {
        err_code: ErrorCode::PermissionDenied.code(),
        err_msg: denied_msg(&ctx.session.controller, "write", &paths.join(", ")),
        updated_inst_failures: Vec::new(),
    });
    set_resp::UpdatedObjectResult {
        requested_path,
        oper_status: Some(OperationStatus {
            oper_status: Some(status),
        }),
    }
}

fn updated_result(r: usp_datamodel::ops::SetObjectResult) -> set_resp::UpdatedObjectResult {
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
