//! Operate (TR-369 "The Operate Message"): synchronous commands answer with their output
//! arguments; asynchronous ones answer with a `Device.LocalAgent.Request.{i}.` row that
//! lives until the command ends, when an OperationComplete goes out on the change stream.
//! A command failure is `cmd_failure` in the response, never an Error message; a path
//! that is not a valid command is an Error message.

use tracing::warn;
use usp_datamodel::DataModel;
use usp_datamodel::ops::{OperateOutcome, PendingOperation};
use usp_proto::builder;
use usp_proto::usp::{
    Msg, Operate, OperateResp, operate_resp::OperationResult, operate_resp::operation_result as r,
};

use super::{Ctx, denied, denied_msg};
use crate::access::{On, Perm};
use usp_proto::ErrorCode;

/// Answers an Operate; `Err` is the Error message.
pub async fn handle(ctx: &Ctx<'_>, req: Operate) -> Result<OperateResp, Msg> {
    if let Some((obj, name)) = split_command(&req.command) {
        let d = denied(ctx, On::CommandEvent, Perm::Execute, obj, &[name]);
        if !d.is_empty() {
            return Err(builder::error(
                ctx.msg_id,
                ErrorCode::PermissionDenied,
                denied_msg(&ctx.session.controller, "execute", &d.join(", ")),
                Vec::new(),
            ));
        }
    }
    let results = ctx
        .dm
        .operate(&req.command, &req.command_key, &req.input_args)
        .await
        .map_err(|e| builder::error(ctx.msg_id, e.usp_code(), e.to_string(), Vec::new()))?;
    let mut operation_results = Vec::with_capacity(results.len());
    for res in results {
        let resp = match res.outcome {
            OperateOutcome::Sync(out) => {
                r::OperationResp::ReqOutputArgs(r::OutputArgs { output_args: out })
            }
            OperateOutcome::Failed(e) => r::OperationResp::CmdFailure(r::CommandFailure {
                err_code: e.usp_code().code(),
                err_msg: e.to_string(),
            }),
            OperateOutcome::Async(pending) => {
                match start_async(ctx.dm, pending, &ctx.session.controller).await {
                    Ok(request_path) => r::OperationResp::ReqObjPath(request_path),
                    Err(e) => r::OperationResp::CmdFailure(r::CommandFailure {
                        err_code: e.usp_code().code(),
                        err_msg: e.to_string(),
                    }),
                }
            }
        };
        operation_results.push(OperationResult {
            executed_command: res.executed_command,
            operation_resp: Some(resp),
        });
    }
    Ok(OperateResp { operation_results })
}

/// Records the operation in the Request table, runs it, and when it ends publishes
/// OperationComplete and removes the row.
/// `Device.X.*.Reboot()` → (`Device.X.*.`, `Reboot()`); `None` for a malformed path (the
/// data model refuses it with the right error).
fn split_command(command: &str) -> Option<(&str, &str)> {
    let dot = command.strip_suffix("()")?.rfind('.')?;
    Some((&command[..=dot], &command[dot + 1..]))
}

async fn start_async(
    dm: &DataModel,
    op: PendingOperation,
    originator: &str,
) -> usp_datamodel::DmResult<String> {
    let command = format!("{}{}", op.obj_path, op.command_name);
    let row = crate::localagent::add_row(
        dm,
        "Device.LocalAgent.Request.",
        &[
            ("Originator", originator),
            ("Command", &command),
            ("CommandKey", &op.command_key),
            ("Status", "Active"),
        ],
    )
    .await?;
    let dm2 = dm.clone();
    let row2 = row.clone();
    tokio::spawn(async move {
        let (obj, name, key) = (
            op.obj_path.clone(),
            op.command_name.clone(),
            op.command_key.clone(),
        );
        let result = op.run().await;
        let status = if result.is_ok() { "Success" } else { "Error" };
        if let Err(e) = dm2.set_value(&format!("{row2}Status"), status).await {
            warn!(error = %e, "request status not updated");
        }
        dm2.emit_operation_complete(&obj, &name, &key, result);
        if let Err(e) = dm2.delete_instance(&row2).await {
            warn!(error = %e, row = %row2, "finished request row not removed");
        }
    });
    Ok(row)
}
