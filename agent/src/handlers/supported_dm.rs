//! GetSupportedDM (TR-369 "The GetSupportedDM Message"): the supported model below each
//! requested path, with access, multi-instance shape, parameter types and value-change
//! behaviour, command arguments and type, event arguments and (USP 1.4) unique key sets.
//! A Controller sees only what its role lets it read the meta-information of.

use usp_datamodel::ops::{SupportedDmOptions, SupportedObject};
use usp_datamodel::schema::{Access, ObjAccess, ValueChangeMode};
use usp_datamodel::value::ParamType;
use usp_proto::usp::{GetSupportedDm, GetSupportedDmResp, get_supported_dm_resp as g};

use super::Ctx;
use crate::access::{On, Perm};

/// The data model URI the response names for every requested path.
const DM_INST_URI: &str = "urn:broadband-forum-org:tr-181-2-19-1";

/// Answers a GetSupportedDM.
pub fn handle(ctx: &Ctx<'_>, req: GetSupportedDm) -> GetSupportedDmResp {
    let opts = SupportedDmOptions {
        first_level_only: req.first_level_only,
        return_commands: req.return_commands,
        return_events: req.return_events,
        return_params: req.return_params,
        return_unique_key_sets: req.return_unique_key_sets,
    };
    let results = ctx.dm.get_supported_dm(&req.obj_paths, opts);
    let req_obj_results = req
        .obj_paths
        .into_iter()
        .zip(results)
        .map(|(req_obj_path, r)| match r.map(|objs| visible(ctx, objs)) {
            Ok(None) => g::RequestedObjectResult {
                err_code: usp_proto::ErrorCode::PermissionDenied.code(),
                err_msg: format!("no read permission on the meta-information of {req_obj_path}"),
                req_obj_path,
                data_model_inst_uri: String::new(),
                supported_objs: Vec::new(),
            },
            Ok(Some(objs)) => g::RequestedObjectResult {
                req_obj_path,
                err_code: 0,
                err_msg: String::new(),
                data_model_inst_uri: DM_INST_URI.into(),
                supported_objs: objs.into_iter().map(object).collect(),
            },
            Err(e) => g::RequestedObjectResult {
                req_obj_path,
                err_code: e.usp_code().code(),
                err_msg: e.to_string(),
                data_model_inst_uri: String::new(),
                supported_objs: Vec::new(),
            },
        })
        .collect();
    GetSupportedDmResp { req_obj_results }
}

/// What the Controller may read the meta-information of (`r` on Obj, Param and
/// CommandEvent); `None` when that is nothing (the requested path then carries 7006).
fn visible(ctx: &Ctx<'_>, objs: Vec<SupportedObject>) -> Option<Vec<SupportedObject>> {
    if ctx.access.grants_all() {
        return Some(objs);
    }
    let may = |on, path: &str| ctx.access.allows_supported(on, Perm::Read, path);
    let kept: Vec<SupportedObject> = objs
        .into_iter()
        .filter(|o| may(On::Obj, &o.path))
        .map(|mut o| {
            let path = o.path.clone();
            o.params
                .retain(|p| may(On::Param, &format!("{path}{}", p.name)));
            o.commands
                .retain(|c| may(On::CommandEvent, &format!("{path}{}", c.name)));
            o.events
                .retain(|e| may(On::CommandEvent, &format!("{path}{}", e.name)));
            o
        })
        .collect();
    (!kept.is_empty()).then_some(kept)
}

fn object(o: SupportedObject) -> g::SupportedObjectResult {
    g::SupportedObjectResult {
        supported_obj_path: o.path,
        access: obj_access(o.access) as i32,
        is_multi_instance: o.is_multi_instance,
        supported_commands: o
            .commands
            .into_iter()
            .map(|c| g::SupportedCommandResult {
                command_name: c.name,
                input_arg_names: c.input_args,
                output_arg_names: c.output_args,
                command_type: if c.is_async {
                    g::CmdType::CmdAsync
                } else {
                    g::CmdType::CmdSync
                } as i32,
            })
            .collect(),
        supported_events: o
            .events
            .into_iter()
            .map(|e| g::SupportedEventResult {
                event_name: e.name,
                arg_names: e.args,
            })
            .collect(),
        supported_params: o
            .params
            .into_iter()
            .map(|p| g::SupportedParamResult {
                param_name: p.name,
                access: param_access(p.access) as i32,
                // A list-valued parameter is a comma-separated string on the wire.
                value_type: if p.is_list {
                    g::ParamValueType::ParamString
                } else {
                    value_type(p.value_type)
                } as i32,
                value_change: match p.value_change {
                    ValueChangeMode::Allowed => g::ValueChangeType::ValueChangeAllowed,
                    ValueChangeMode::WillIgnore => g::ValueChangeType::ValueChangeWillIgnore,
                } as i32,
            })
            .collect(),
        divergent_paths: o.divergent_paths,
        unique_key_sets: o
            .unique_key_sets
            .into_iter()
            .map(|k| g::SupportedUniqueKeySet { key_names: k })
            .collect(),
    }
}

fn obj_access(a: ObjAccess) -> g::ObjAccessType {
    match a {
        ObjAccess::ReadOnly => g::ObjAccessType::ObjReadOnly,
        ObjAccess::AddDelete => g::ObjAccessType::ObjAddDelete,
        ObjAccess::AddOnly => g::ObjAccessType::ObjAddOnly,
        ObjAccess::DeleteOnly => g::ObjAccessType::ObjDeleteOnly,
    }
}

fn param_access(a: Access) -> g::ParamAccessType {
    match a {
        Access::ReadOnly => g::ParamAccessType::ParamReadOnly,
        // Write-once parameters are writable when the row is created (Add), which is the
        // only moment a Controller can act on them.
        Access::ReadWrite | Access::WriteOnceReadOnly => g::ParamAccessType::ParamReadWrite,
        Access::WriteOnly => g::ParamAccessType::ParamWriteOnly,
    }
}

fn value_type(t: ParamType) -> g::ParamValueType {
    use g::ParamValueType as V;
    match t {
        ParamType::String => V::ParamString,
        ParamType::UnsignedInt => V::ParamUnsignedInt,
        ParamType::Int => V::ParamInt,
        ParamType::UnsignedLong => V::ParamUnsignedLong,
        ParamType::Long => V::ParamLong,
        ParamType::Boolean => V::ParamBoolean,
        ParamType::DateTime => V::ParamDateTime,
        ParamType::Base64 => V::ParamBase64,
        ParamType::HexBinary => V::ParamHexBinary,
        ParamType::Decimal => V::ParamDecimal,
    }
}
