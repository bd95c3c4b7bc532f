//! GetInstances (TR-369 "The GetInstances Message"): the instances below each requested
//! object path with their unique keys; `first_level_only` stops at the first table level.

use usp_proto::usp::{GetInstances, GetInstancesResp, get_instances_resp as g};

use super::{Ctx, to_map};
use crate::access::{On, Perm};

/// Answers a GetInstances.
pub fn handle(ctx: &Ctx<'_>, req: GetInstances) -> GetInstancesResp {
    let results = ctx.dm.get_instances(&req.obj_paths, req.first_level_only);
    let req_path_results = req
        .obj_paths
        .into_iter()
        .zip(results)
        .map(|(requested_path, r)| match r {
            Ok(insts) => g::RequestedPathResult {
                requested_path,
                err_code: 0,
                err_msg: String::new(),
                curr_insts: insts
                    .into_iter()
                    .filter(|i| {
                        ctx.access.grants_all()
                            || ctx.access.allows(ctx.dm, On::Instance, Perm::Read, &i.path)
                    })
                    .map(|i| g::CurrInstance {
                        instantiated_obj_path: i.path,
                        unique_keys: to_map(i.unique_keys),
                    })
                    .collect(),
            },
            Err(e) => g::RequestedPathResult {
                requested_path,
                err_code: e.usp_code().code(),
                err_msg: e.to_string(),
                curr_insts: Vec::new(),
            },
        })
        .collect();
    GetInstancesResp { req_path_results }
}
