//! Delete (TR-369 "The Delete Message"): a valid path that matches nothing succeeds with no
//! affected paths; rows that cannot be removed are listed as unaffected.

use usp_datamodel::ops::DeleteRequest;
use usp_proto::usp::{Delete, DeleteResp, Msg, delete_resp};

use super::Ctx;
use super::set::request_failure;

/// Answers a Delete; `Err` is the Error message.
pub async fn handle(ctx: &Ctx<'_>, req: Delete) -> Result<DeleteResp, Msg> {
    let results = ctx
        .dm
        .delete(DeleteRequest {
            allow_partial: req.allow_partial,
            obj_paths: req.obj_paths,
        })
        .await
        .map_err(|f| request_failure(ctx.msg_id, f))?;
    let deleted_obj_results = results
        .into_iter()
        .map(|r| {
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
        })
        .collect();
    Ok(DeleteResp {
        deleted_obj_results,
    })
}
