//! Get (TR-369 "The Get Message"): one RequestedPathResult per requested path; a path that
//! resolves to nothing valid carries its error code in that result, never an Error message.

use usp_proto::usp::{Get, GetResp, get_resp};

use super::{Ctx, to_map};

/// Answers a Get.
pub async fn handle(ctx: &Ctx<'_>, req: Get) -> GetResp {
    let results = ctx.dm.get(&req.param_paths, req.max_depth).await;
    let req_path_results = req
        .param_paths
        .into_iter()
        .zip(results)
        .map(|(requested_path, r)| match r {
            Ok(objects) => get_resp::RequestedPathResult {
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
