//! Add (TR-369 "The Add Message"): creates rows with initial values; the response names
//! each created instance and its unique keys. Subscriptions get their Recipient here: the
//! Controller that created the row.

use usp_datamodel::ops::{AddObject, AddRequest, ParamSetting};
use usp_proto::usp::{Add, AddResp, Msg, add_resp};

use super::set::request_failure;
use super::{Ctx, denied, denied_msg, to_map};
use crate::access::{On, Perm};
use usp_proto::{ErrorCode, builder};

/// Answers an Add; `Err` is the Error message.
pub async fn handle(ctx: &Ctx<'_>, req: Add) -> Result<AddResp, Msg> {
    let refused: Vec<Vec<String>> = req
        .create_objs
        .iter()
        .map(|o| denied(ctx, On::Obj, Perm::Write, &o.obj_path, &[""]))
        .collect();
    if let Some(paths) = refused.iter().find(|d| !d.is_empty())
        && !req.allow_partial
    {
        return Err(builder::error(
            ctx.msg_id,
            ErrorCode::PermissionDenied,
            denied_msg(&ctx.session.controller, "write", &paths.join(", ")),
            Vec::new(),
        ));
    }
    let mut requested = Vec::new();
    let mut allowed = Vec::new();
    for (o, d) in req.create_objs.into_iter().zip(&refused) {
        requested.push(o.obj_path.clone());
        if d.is_empty() {
            allowed.push(o);
        }
    }
    let dm_req = AddRequest {
        allow_partial: req.allow_partial,
        objects: allowed
            .into_iter()
            .map(|o| AddObject {
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
    // A Subscription records who created it: its Recipient is assigned by the agent
    // (read-only to Controllers) before unique keys (Recipient, ID) are checked.
    let recipient = crate::localagent::recipient_for(ctx.dm, ctx.session).await;
    let results = ctx
        .dm
        .add_with(dm_req, |table| match (&recipient, table) {
            (Some(r), crate::localagent::SUBSCRIPTION_TABLE) => {
                vec![(
                    "Recipient".to_string(),
                    usp_datamodel::InitValue::from(r.as_str()),
                )]
            }
            _ => Vec::new(),
        })
        .await
        .map_err(|f| request_failure(ctx.msg_id, f))?;
    let mut created_obj_results = Vec::with_capacity(requested.len());
    let mut results = results.into_iter();
    for (requested_path, d) in requested.into_iter().zip(refused) {
        use add_resp::created_object_result::{OperationStatus, operation_status as os};
        if !d.is_empty() {
            created_obj_results.push(add_resp::CreatedObjectResult {
                requested_path,
                oper_status: Some(OperationStatus {
                    oper_status: Some(os::OperStatus::OperFailure(os::OperationFailure {
                        err_code: ErrorCode::PermissionDenied.code(),
                        err_msg: denied_msg(&ctx.session.controller, "write", &d.join(", ")),
                    })),
                }),
            });
            continue;
        }
        let Some(r) = results.next() else { break };
        let status = match r.outcome {
            Ok(created) => {
                crate::localagent::on_instance_added(ctx.dm, &created.instantiated_path).await;
                os::OperStatus::OperSuccess(os::OperationSuccess {
                    instantiated_path: created.instantiated_path,
                    param_errs: created
                        .param_errs
                        .into_iter()
                        .map(|e| add_resp::ParameterError {
                            param: e.name,
                            err_code: e.error.usp_code().code(),
                            err_msg: e.error.message,
                        })
                        .collect(),
                    unique_keys: to_map(created.unique_keys),
                })
            }
            Err(e) => os::OperStatus::OperFailure(os::OperationFailure {
                err_code: e.usp_code().code(),
                err_msg: e.to_string(),
            }),
        };
        created_obj_results.push(add_resp::CreatedObjectResult {
            requested_path: r.requested_path,
            oper_status: Some(OperationStatus {
                oper_status: Some(status),
            }),
        });
    }
    Ok(AddResp {
        created_obj_results,
    })
}
