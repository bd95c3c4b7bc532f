//! One handler per USP message (TR-369 "Messages"), behind one exhaustive match.
//!
//! prost request bodies are converted to the data model's plain requests here, at the
//! edge, and the data model's results back into response bodies; the data model decides
//! every error code ([`usp_datamodel::DmError::usp_code`]), the handlers only place it.

mod add;
mod delete;
mod get;
mod instances;
mod operate;
mod set;
mod supported_dm;

use std::collections::BTreeMap;

use usp_datamodel::DataModel;
use usp_proto::ErrorCode;
use usp_proto::builder;
use usp_proto::usp::{Msg, request::ReqType};

use crate::session::Session;

/// What a handler knows about the request it serves.
pub struct Ctx<'a> {
    /// The data model.
    pub dm: &'a DataModel,
    /// The msg_id to answer.
    pub msg_id: &'a str,
    /// Who sent it, and how to reach them.
    pub session: &'a Session,
    /// What the sender may do.
    pub access: &'a crate::access::Access,
}

/// Answers one request: a response Msg, or an Error Msg; `None` when the Controller
/// asked for no response (Operate with `send_resp` false).
pub async fn handle(ctx: &Ctx<'_>, req: ReqType) -> Option<Msg> {
    let id = ctx.msg_id;
    let answer = match req {
        ReqType::Get(r) => builder::response(id, get::handle(ctx, r).await),
        ReqType::Set(r) => either(id, set::handle(ctx, r).await),
        ReqType::Add(r) => either(id, add::handle(ctx, r).await),
        ReqType::Delete(r) => either(id, delete::handle(ctx, r).await),
        ReqType::Operate(r) => {
            let send_resp = r.send_resp;
            let answer = either(id, operate::handle(ctx, r).await);
            if !send_resp {
                return None;
            }
            answer
        }
        ReqType::GetSupportedDm(r) => builder::response(id, supported_dm::handle(ctx, r)),
        ReqType::GetInstances(r) => builder::response(id, instances::handle(ctx, r)),
        ReqType::GetSupportedProtocol(_) => builder::response(
            id,
            usp_proto::usp::GetSupportedProtocolResp {
                agent_supported_protocol_versions: usp_proto::supported_versions_csv(),
            },
        ),
        ReqType::Notify(_) => builder::error(
            id,
            ErrorCode::MessageNotSupported,
            "an Agent does not accept Notify requests",
            Vec::new(),
        ),
        ReqType::Register(_) | ReqType::Deregister(_) => builder::error(
            id,
            ErrorCode::MessageNotSupported,
            "Register/Deregister are accepted only from USP Services; this agent hosts none",
            Vec::new(),
        ),
    };
    Some(answer)
}

/// A response body, or the Error message the handler already built.
fn either<B: builder::ResponseBody>(id: &str, r: Result<B, Msg>) -> Msg {
    match r {
        Ok(body) => builder::response(id, body),
        Err(err) => err,
    }
}

/// Pairs (name, value) as a protobuf map.
pub(crate) fn to_map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}

/// The concrete paths below `obj_path` (resolved now) at which the Controller lacks `perm`:
/// `sub` names what is checked under each resolved object (`""` for the object itself, a
/// parameter name, a command). A path that does not resolve is left for the data model to
/// refuse with its own error.
pub(crate) fn denied(
    ctx: &Ctx<'_>,
    on: crate::access::On,
    perm: crate::access::Perm,
    obj_path: &str,
    subs: &[&str],
) -> Vec<String> {
    if ctx.access.grants_all() {
        return Vec::new();
    }
    let Ok(objects) = ctx.dm.resolve(obj_path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for o in objects {
        for sub in subs {
            let path = format!("{o}{sub}");
            if !ctx.access.allows(ctx.dm, on, perm, &path) {
                out.push(path);
            }
        }
    }
    out
}

/// The err_msg of a permission refusal.
pub(crate) fn denied_msg(controller: &str, what: &str, path: &str) -> String {
    format!("controller {controller} has no {what} permission on {path}")
}
