//! Get (TR-369 "The Get Message"): one RequestedPathResult per requested path; a path that
//! resolves to nothing valid carries its error code in that result, never an Error message.

use usp_datamodel::ops::ResolvedObject;
use usp_proto::ErrorCode;
use usp_proto::usp::{Get, GetResp, get_resp};

use crate::access::{On, Perm};

use super::{Ctx, to_map};

/// Answers a Get.
pub async fn handle(ctx: &Ctx<'_>, req: Get) -> GetResp {
    let results = ctx.dm.get(&req.param_paths, req.max_depth).await;
    let req_path_results = req
        .param_paths
        .into_iter()
        .zip(results)
        .map(|(requested_path, r)| match r.map(|o| readable(ctx, o)) {
            Ok(None) => get_resp::RequestedPathResult {
                err_code: ErrorCode::PermissionDenied.code(),
                err_msg: format!("no read permission on {requested_path}"),
                requested_path,
                resolved_path_results: Vec::new(),
            },
            Ok(Some(objects)) => get_resp::RequestedPathResult {
                requested_path,
                err_code: 0,
                err_msg: String::new(),
                resolved_path_results: objects
                    .into_iter()
                    .map(|o| get_resp::ResolvedPathResult {
                        resolved_path: o.path,
                        result_params: to_map(o.params),
                    })
                    .collect(),
            },
            Err(e) => get_resp::RequestedPathResult {
                requested_path,
                err_code: e.usp_code().code(),
                err_msg: e.to_string(),
                resolved_path_results: Vec::new(),
            },
        })
        .collect();
    GetResp { req_path_results }
}

/// Keeps the parameters the Controller may read; `None` when it may read none of what the
/// path resolved to (the requested path then carries 7006).
fn readable(ctx: &Ctx<'_>, objects: Vec<ResolvedObject>) -> Option<Vec<ResolvedObject>> {
    if ctx.access.grants_all() {
        return Some(objects);
    }
    let had_params = objects.iter().any(|o| !o.params.is_empty());
    let mut kept = Vec::with_capacity(objects.len());
    for mut o in objects {
        let before = o.params.len();
        o.params.retain(|(name, _)| {
            ctx.access
                .allows(ctx.dm, On::Param, Perm::Read, &format!("{}{name}", o.path))
        });
        // An object whose every parameter is hidden is hidden too.
        if before == 0 || !o.params.is_empty() {
            kept.push(o);
        }
    }
    (!had_params || kept.iter().any(|o| !o.params.is_empty())).then_some(kept)
}
