//! GetSupportedDMResp: every object access type, every parameter access / value type /
//! value-change value, sync/async/unknown commands with arguments, events, divergent paths
//! and (USP 1.4) unique key sets.

use rusp_lib::usp as r;
use rusp_lib::usp::mod_Body::OneOfmsg_body;
use rusp_lib::usp::mod_Response::OneOfresp_type;
use rusp_lib::usp_builder as rb;
use usp_proto::builder::response;
use usp_proto::usp;
use usp_proto::usp::get_supported_dm_resp::{
    CmdType, ObjAccessType, ParamAccessType, ParamValueType, RequestedObjectResult,
    SupportedCommandResult, SupportedEventResult, SupportedObjectResult, SupportedParamResult,
    SupportedUniqueKeySet, ValueChangeType,
};

use super::support::{Case, strings};

type ParamRow = (
    &'static str,
    ParamAccessType,
    ParamValueType,
    ValueChangeType,
);

/// One parameter per value type; access and value-change vary across rows.
#[rustfmt::skip]
const PARAMS: [ParamRow; 11] = [
    ("Name", ParamAccessType::ParamReadWrite, ParamValueType::ParamString, ValueChangeType::ValueChangeAllowed),
    ("Online", ParamAccessType::ParamReadOnly, ParamValueType::ParamBoolean, ValueChangeType::ValueChangeAllowed),
    ("LastTimeContacted", ParamAccessType::ParamReadOnly, ParamValueType::ParamDateTime, ValueChangeType::ValueChangeWillIgnore),
    ("Temperature", ParamAccessType::ParamReadOnly, ParamValueType::ParamDecimal, ValueChangeType::ValueChangeUnknown),
    ("NetworkKey", ParamAccessType::ParamWriteOnly, ParamValueType::ParamHexBinary, ValueChangeType::ValueChangeUnknown),
    ("Offset", ParamAccessType::ParamReadWrite, ParamValueType::ParamInt, ValueChangeType::ValueChangeAllowed),
    ("EnergyBalance", ParamAccessType::ParamReadOnly, ParamValueType::ParamLong, ValueChangeType::ValueChangeWillIgnore),
    ("Icon", ParamAccessType::ParamReadWrite, ParamValueType::ParamBase64, ValueChangeType::ValueChangeAllowed),
    ("NodeNumberOfEntries", ParamAccessType::ParamReadOnly, ParamValueType::ParamUnsignedInt, ValueChangeType::ValueChangeAllowed),
    ("Uptime", ParamAccessType::ParamReadOnly, ParamValueType::ParamUnsignedLong, ValueChangeType::ValueChangeWillIgnore),
    ("X_USPHUB_Opaque", ParamAccessType::ParamReadOnly, ParamValueType::ParamUnknown, ValueChangeType::ValueChangeUnknown),
];

/// The same row through rusp-lib's setters, chosen by name, not by number. rusp-lib's
/// builder refuses PARAM_UNKNOWN, so that row is added as a struct by [`add_unknowns`].
fn rusp_param(&(name, access, value_type, value_change): &ParamRow) -> rb::GSDMParamResult {
    let p = rb::GSDMParamResult::new(name.into());
    let p = match access {
        ParamAccessType::ParamReadOnly => p.set_access_read_only(),
        ParamAccessType::ParamReadWrite => p.set_access_read_write(),
        ParamAccessType::ParamWriteOnly => p.set_access_write_only(),
    };
    let p = match value_type {
        ParamValueType::ParamUnknown => unreachable!("rusp-lib's builder refuses it"),
        ParamValueType::ParamBase64 => p.set_type_base64(),
        ParamValueType::ParamBoolean => p.set_type_boolean(),
        ParamValueType::ParamDateTime => p.set_type_datetime(),
        ParamValueType::ParamDecimal => p.set_type_decimal(),
        ParamValueType::ParamHexBinary => p.set_type_hexbinary(),
        ParamValueType::ParamInt => p.set_type_int(),
        ParamValueType::ParamLong => p.set_type_long(),
        ParamValueType::ParamString => p.set_type_string(),
        ParamValueType::ParamUnsignedInt => p.set_type_unsigned_int(),
        ParamValueType::ParamUnsignedLong => p.set_type_unsigned_long(),
    };
    match value_change {
        ValueChangeType::ValueChangeUnknown => p,
        ValueChangeType::ValueChangeAllowed => p.set_value_change_allowed(),
        ValueChangeType::ValueChangeWillIgnore => p.set_value_change_will_ignore(),
    }
}

fn our_param(&(name, access, value_type, value_change): &ParamRow) -> SupportedParamResult {
    SupportedParamResult {
        param_name: name.into(),
        access: access as i32,
        value_type: value_type as i32,
        value_change: value_change as i32,
    }
}

fn rusp_objects() -> Vec<rb::GSDMSupportedObjectResultBuilder> {
    vec![
        rb::GSDMSupportedObjectResultBuilder::new("Device.ProxiedDevice.{i}.".into())
            .set_access_add_delete()
            .with_is_multi_instance(true)
            .with_supported_commands(vec![
                rb::GSDMCommandResult::new("Identify()".into())
                    .with_input_arg_names(strings(&["Duration", "Pattern"]))
                    .with_output_arg_names(strings(&["Acknowledged"]))
                    .set_async(),
            ])
            .with_supported_events(vec![
                rb::GSDMEventResult::new("Alarm!".into())
                    .with_arg_names(strings(&["Code", "Severity"])),
            ])
            .with_supported_params(PARAMS[..PARAMS.len() - 1].iter().map(rusp_param).collect())
            .with_divergent_paths(strings(&[
                "Device.ProxiedDevice.1.",
                "Device.ProxiedDevice.2.",
            ]))
            .with_unique_key_sets(vec![
                strings(&["Alias"]),
                strings(&["Type", "SerialNumber"]),
            ]),
        rb::GSDMSupportedObjectResultBuilder::new("Device.LocalAgent.".into())
            .set_access_read_only()
            .with_supported_commands(vec![
                rb::GSDMCommandResult::new("AddCertificate()".into())
                    .with_input_arg_names(strings(&["Alias", "Certificate"]))
                    .set_sync(),
            ])
            .with_supported_events(vec![
                rb::GSDMEventResult::new("Boot!".into()).with_arg_names(strings(&[
                    "Cause",
                    "CommandKey",
                    "ParameterMap",
                ])),
                rb::GSDMEventResult::new("X_USPHUB_Tick!".into()),
            ]),
        rb::GSDMSupportedObjectResultBuilder::new("Device.LocalAgent.Subscription.{i}.".into())
            .set_access_add_only()
            .with_is_multi_instance(true),
        rb::GSDMSupportedObjectResultBuilder::new("Device.LocalAgent.Request.{i}.".into())
            .set_access_delete_only()
            .with_is_multi_instance(true),
    ]
}

fn our_objects() -> Vec<SupportedObjectResult> {
    let bare = |path: &str, access: ObjAccessType| SupportedObjectResult {
        supported_obj_path: path.into(),
        access: access as i32,
        is_multi_instance: true,
        supported_commands: vec![],
        supported_events: vec![],
        supported_params: vec![],
        divergent_paths: vec![],
        unique_key_sets: vec![],
    };
    vec![
        SupportedObjectResult {
            supported_obj_path: "Device.ProxiedDevice.{i}.".into(),
            access: ObjAccessType::ObjAddDelete as i32,
            is_multi_instance: true,
            supported_commands: vec![SupportedCommandResult {
                command_name: "Identify()".into(),
                input_arg_names: strings(&["Duration", "Pattern"]),
                output_arg_names: strings(&["Acknowledged"]),
                command_type: CmdType::CmdAsync as i32,
            }],
            supported_events: vec![SupportedEventResult {
                event_name: "Alarm!".into(),
                arg_names: strings(&["Code", "Severity"]),
            }],
            supported_params: PARAMS.iter().map(our_param).collect(),
            divergent_paths: strings(&["Device.ProxiedDevice.1.", "Device.ProxiedDevice.2."]),
            unique_key_sets: vec![
                SupportedUniqueKeySet {
                    key_names: strings(&["Alias"]),
                },
                SupportedUniqueKeySet {
                    key_names: strings(&["Type", "SerialNumber"]),
                },
            ],
        },
        SupportedObjectResult {
            supported_obj_path: "Device.LocalAgent.".into(),
            access: ObjAccessType::ObjReadOnly as i32,
            is_multi_instance: false,
            supported_commands: vec![
                SupportedCommandResult {
                    command_name: "AddCertificate()".into(),
                    input_arg_names: strings(&["Alias", "Certificate"]),
                    output_arg_names: vec![],
                    command_type: CmdType::CmdSync as i32,
                },
                SupportedCommandResult {
                    command_name: "X_USPHUB_Probe()".into(),
                    input_arg_names: vec![],
                    output_arg_names: vec![],
                    command_type: CmdType::CmdUnknown as i32,
                },
            ],
            supported_events: vec![
                SupportedEventResult {
                    event_name: "Boot!".into(),
                    arg_names: strings(&["Cause", "CommandKey", "ParameterMap"]),
                },
                SupportedEventResult {
                    event_name: "X_USPHUB_Tick!".into(),
                    arg_names: vec![],
                },
            ],
            supported_params: vec![],
            divergent_paths: vec![],
            unique_key_sets: vec![],
        },
        bare(
            "Device.LocalAgent.Subscription.{i}.",
            ObjAccessType::ObjAddOnly,
        ),
        bare(
            "Device.LocalAgent.Request.{i}.",
            ObjAccessType::ObjDeleteOnly,
        ),
    ]
}

/// Adds what rusp-lib's builders refuse to build (a parameter of unknown value type, a
/// command of unknown type) as rusp-lib structs, in the places the usp-proto value has them.
fn add_unknowns(body: &mut r::Body) {
    use r::mod_GetSupportedDMResp::{
        CmdType as RCmd, ParamAccessType as RAccess, ParamValueType as RType,
        SupportedCommandResult as RCommand, SupportedParamResult as RParam,
        ValueChangeType as RChange,
    };
    let OneOfmsg_body::response(r::Response {
        resp_type: OneOfresp_type::get_supported_dm_resp(resp),
    }) = &mut body.msg_body
    else {
        panic!("the fixture is a GetSupportedDMResp");
    };
    let objs = &mut resp.req_obj_results[0].supported_objs;
    let (name, ..) = PARAMS[PARAMS.len() - 1];
    objs[0].supported_params.push(RParam {
        param_name: name.into(),
        access: RAccess::PARAM_READ_ONLY,
        value_type: RType::PARAM_UNKNOWN,
        value_change: RChange::VALUE_CHANGE_UNKNOWN,
    });
    objs[1].supported_commands.push(RCommand {
        command_name: "X_USPHUB_Probe()".into(),
        input_arg_names: vec![],
        output_arg_names: vec![],
        command_type: RCmd::CMD_UNKNOWN,
    });
}

const DM_URI: &str = "urn:broadband-forum-org:tr-181-2-19-0-usp";

/// A successful requested object with four supported objects, and a failed one.
pub fn get_supported_dm_resp() -> Case {
    let rusp = rb::GetSupportedDMRespBuilder::new().with_req_obj_results(vec![
        rb::GSDMReqObjectResultBuilder::new("Device.".into())
            .set_err(0, Some(String::new()))
            .with_data_model_inst_uri(DM_URI.into())
            .with_supported_objs(rusp_objects()),
        rb::GSDMReqObjectResultBuilder::new("Device.Bogus.".into())
            .set_err(7026, Some("not in the supported model".into())),
    ]);
    let ours = usp::GetSupportedDmResp {
        req_obj_results: vec![
            RequestedObjectResult {
                req_obj_path: "Device.".into(),
                err_code: 0,
                err_msg: String::new(),
                data_model_inst_uri: DM_URI.into(),
                supported_objs: our_objects(),
            },
            RequestedObjectResult {
                req_obj_path: "Device.Bogus.".into(),
                err_code: 7026,
                err_msg: "not in the supported model".into(),
                data_model_inst_uri: String::new(),
                supported_objs: vec![],
            },
        ],
    };
    let mut rusp = rusp.build().expect("rusp GetSupportedDMResp");
    add_unknowns(&mut rusp);
    Case {
        rusp,
        ours: response("gsdm-resp-1", ours),
    }
}

both_ways! {
    get_supported_dm_resp() => get_supported_dm_resp_from_rusp_decodes_with_every_field,
        get_supported_dm_resp_to_rusp_and_back_keeps_every_field;
}
