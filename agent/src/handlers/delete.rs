//! Delete (TR-369 "The Delete Message"): a valid path that matches nothing succeeds with no
//! affected paths; rows that cannot be removed are listed as unaffected.

use usp_datamodel::ops::DeleteRequest;
use usp_proto::usp::{Delete, DeleteResp, Msg, delete_resp};

use super::set::request_failure;
use super::{Ctx, denied, denied_msg};
use crate::access::{On, Perm};
use usp_proto::{ErrorCode, builder};

/// Answers a Delete; `Err` is the Error message.
pub async fn handle(ctx: &Ctx<'_>, req: Delete) -> Result<DeleteResp, Msg> {
    let refused: Vec<Vec<String>> = req
        .obj_paths
        .iter()
        .map(|p| denied(ctx, On::Instance, Perm::Write, p, &[""]))
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
    let allowed: Vec<String> = req
        .obj_paths
        .iter()
        .zip(&refused)
        .filter(|(_, d)| d.is_empty())
        .map(|(p, _)| p.clone())
        .collect();
    let results = ctx
        .dm
        .delete(DeleteRequest {
            allow_partial: req.allow_partial,
            obj_paths: allowed,
        })
        .await
        .map_err(|f| request_failure(ctx.msg_id, f))?;
    let mut results = results.into_iter();
    let deleted_obj_results = req
        .obj_paths
        .into_iter()
        .zip(refused)
        .filter_map(|(requested_path, d)| {
            use delete_resp::deleted_object_result::{OperationStatus, operation_status as os};
            if d.is_empty() {
                return results.next().map(deleted_result);
            }
            Some(delete_resp::DeletedObjectResult {
                requested_path,
                oper_status: Some(OperationStatus {
                    oper_status: Some(os::OperStatus::OperFailure(os::OperationFailure {
                        err_code: ErrorCode::PermissionDenied.code(),
                        err_msg: denied_msg(&ctx.session.controller, "write", &d.join(", ")),
                    })),
                }),
            })
        })
        .collect();
    Ok(DeleteResp {
        deleted_obj_results,
    })
}

fn deleted_result(r: usp_datamodel::ops::DeleteObjectResult) -> delete_resp::DeletedObjectResult {
    use delete_resp::deleted_object_result::{OperationStatus, operation_status as os};
    let status = match r.outcome {
        Ok(d) => os::OperStatus::OperSuccess(os::OperationSuccess {
            affected_paths: d.affected_paths,
            unaffected_path_errs: d
                .unaffected
                .into_iter()
                .map(|(path, e)| delete_resp::UnaffectedPathError {
                    unaffected_path: path,
                    err_code: e.usp_code().code(),
                    err_msg: e.to_string(),
                })
                .collect(),
        }),
        Err(e) => os::OperStatus::OperFailure(os::OperationFailure {
            err_code: e.usp_code().code(),
            err_msg: e.to_string(),
        }),
    };
    delete_resp::DeletedObjectResult {
        requested_path: r.requested_path,
        oper_status: Some(OperationStatus {
            oper_status: Some(status),
        }),
    }
}
