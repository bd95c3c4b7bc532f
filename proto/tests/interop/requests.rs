//! Requests: Get, Set, Add, Delete, Operate, GetSupportedDM, GetInstances,
//! GetSupportedProtocol, Register, Deregister.

use rusp_lib::usp_builder as rb;
use usp_proto::builder::request;
use usp_proto::usp;

use super::support::{Case, Interop, map, pairs, strings};

pub fn get() -> Case {
    let paths = ["Device.DeviceInfo.", "Device.LocalAgent.EndpointID"];
    Case {
        rusp: rb::GetBuilder::new()
            .with_max_depth(3)
            .with_params(strings(&paths))
            .build()
            .expect("rusp Get"),
        ours: request(
            "get-1",
            usp::Get {
                param_paths: strings(&paths),
                max_depth: 3,
            },
        ),
    }
}

pub fn set() -> Case {
    let rusp = rb::SetBuilder::new()
        .with_allow_partial(true)
        .with_update_objs(vec![
            rb::UpdateObjectBuilder::new("Device.LocalAgent.Subscription.1.".into())
                .with_param_settings(vec![
                    ("Enable".into(), "true".into(), true),
                    ("NotifType".into(), "ValueChange".into(), false),
                ]),
            rb::UpdateObjectBuilder::new("Device.ProxiedDevice.2.".into())
                .with_param_settings(vec![("Name".into(), "Kitchen lamp".into(), true)]),
        ]);
    let setting = |param: &str, value: &str, required| usp::set::UpdateParamSetting {
        param: param.into(),
        value: value.into(),
        required,
    };
    let ours = usp::Set {
        allow_partial: true,
        update_objs: vec![
            usp::set::UpdateObject {
                obj_path: "Device.LocalAgent.Subscription.1.".into(),
                param_settings: vec![
                    setting("Enable", "true", true),
                    setting("NotifType", "ValueChange", false),
                ],
            },
            usp::set::UpdateObject {
                obj_path: "Device.ProxiedDevice.2.".into(),
                param_settings: vec![setting("Name", "Kitchen lamp", true)],
            },
        ],
    };
    Case {
        rusp: rusp.build().expect("rusp Set"),
        ours: request("set-1", ours),
    }
}

pub fn add() -> Case {
    let rusp = rb::AddBuilder::new()
        .with_allow_partial(true)
        .with_create_objs(vec![
            rb::CreateObjectBuilder::new("Device.LocalAgent.Subscription.".into())
                .with_param_settings(vec![
                    ("ID".into(), "sub-7".into(), true),
                    ("NotifType".into(), "Event".into(), false),
                ]),
            rb::CreateObjectBuilder::new("Device.LocalAgent.Controller.".into()),
        ]);
    let setting = |param: &str, value: &str, required| usp::add::CreateParamSetting {
        param: param.into(),
        value: value.into(),
        required,
    };
    let ours = usp::Add {
        allow_partial: true,
        create_objs: vec![
            usp::add::CreateObject {
                obj_path: "Device.LocalAgent.Subscription.".into(),
                param_settings: vec![
                    setting("ID", "sub-7", true),
                    setting("NotifType", "Event", false),
                ],
            },
            usp::add::CreateObject {
                obj_path: "Device.LocalAgent.Controller.".into(),
                param_settings: vec![],
            },
        ],
    };
    Case {
        rusp: rusp.build().expect("rusp Add"),
        ours: request("add-1", ours),
    }
}

pub fn delete() -> Case {
    let paths = [
        "Device.LocalAgent.Subscription.3.",
        "Device.ProxiedDevice.[Online==false].",
    ];
    Case {
        rusp: rb::DeleteBuilder::new()
            .with_allow_partial(true)
            .with_obj_paths(strings(&paths))
            .build()
            .expect("rusp Delete"),
        ours: request(
            "delete-1",
            usp::Delete {
                allow_partial: true,
                obj_paths: strings(&paths),
            },
        ),
    }
}

pub fn operate() -> Case {
    let args = [("Cause", "RemoteReboot"), ("Delay", "5")];
    Case {
        rusp: rb::OperateBuilder::new("Device.Reboot()".into())
            .with_command_key("ck-7".into())
            .with_send_resp(true)
            .with_input_args(pairs(&args))
            .build()
            .expect("rusp Operate"),
        ours: request(
            "operate-1",
            usp::Operate {
                command: "Device.Reboot()".into(),
                command_key: "ck-7".into(),
                send_resp: true,
                input_args: map(&args),
            },
        ),
    }
}

/// Which of GetSupportedDM's five flags are set, in field order: first_level_only,
/// return_commands, return_events, return_params, return_unique_key_sets.
pub type GsdmFlags = [bool; 5];

/// One flag set at a time (so a swap of two bool fields is visible), then none.
pub const GSDM_FLAG_ROWS: [GsdmFlags; 6] = [
    [true, false, false, false, false],
    [false, true, false, false, false],
    [false, false, true, false, false],
    [false, false, false, true, false],
    [false, false, false, false, true],
    [false, false, false, false, false],
];

pub fn get_supported_dm(flags: GsdmFlags) -> Case {
    let [first_level_only, commands, events, params, unique_key_sets] = flags;
    let paths = ["Device.ProxiedDevice.", "Device.LocalAgent."];
    Case {
        rusp: rb::GetSupportedDMBuilder::new()
            .with_obj_paths(strings(&paths))
            .with_first_level_only(first_level_only)
            .with_return_commands(commands)
            .with_return_events(events)
            .with_return_params(params)
            .with_return_unique_key_sets(unique_key_sets)
            .build()
            .expect("rusp GetSupportedDM"),
        ours: request(
            "gsdm-1",
            usp::GetSupportedDm {
                obj_paths: strings(&paths),
                first_level_only,
                return_commands: commands,
                return_events: events,
                return_params: params,
                return_unique_key_sets: unique_key_sets,
            },
        ),
    }
}

pub fn get_instances() -> Case {
    let paths = ["Device.ProxiedDevice.", "Device.LocalAgent.MTP."];
    Case {
        rusp: rb::GetInstancesBuilder::new()
            .with_obj_paths(strings(&paths))
            .with_first_level_only(true)
            .build()
            .expect("rusp GetInstances"),
        ours: request(
            "getinst-1",
            usp::GetInstances {
                obj_paths: strings(&paths),
                first_level_only: true,
            },
        ),
    }
}

pub fn get_supported_protocol() -> Case {
    Case {
        rusp: rb::GetSupportedProtocolBuilder::new("1.0,1.3,1.4".into())
            .build()
            .expect("rusp GetSupportedProtocol"),
        ours: request(
            "gsp-1",
            usp::GetSupportedProtocol {
                controller_supported_protocol_versions: "1.0,1.3,1.4".into(),
            },
        ),
    }
}

pub fn register() -> Case {
    let paths = ["Device.ProxiedDevice.", "Device.X_USPHUB_Radio."];
    Case {
        rusp: rb::RegisterBuilder::new()
            .with_allow_partial(true)
            .with_reg_paths(strings(&paths))
            .build()
            .expect("rusp Register"),
        ours: request(
            "register-1",
            usp::Register {
                allow_partial: true,
                reg_paths: paths
                    .iter()
                    .map(|p| usp::register::RegistrationPath {
                        path: p.to_string(),
                    })
                    .collect(),
            },
        ),
    }
}

pub fn deregister() -> Case {
    let paths = ["Device.X_USPHUB_Radio.", "Device.ProxiedDevice.4."];
    Case {
        rusp: rb::DeregisterBuilder::new()
            .with_paths(strings(&paths))
            .build()
            .expect("rusp Deregister"),
        ours: request(
            "deregister-1",
            usp::Deregister {
                paths: strings(&paths),
            },
        ),
    }
}

both_ways! {
    get() => get_from_rusp_decodes_with_every_field,
        get_to_rusp_and_back_keeps_every_field;
    set() => set_from_rusp_decodes_with_every_field,
        set_to_rusp_and_back_keeps_every_field;
    add() => add_from_rusp_decodes_with_every_field,
        add_to_rusp_and_back_keeps_every_field;
    delete() => delete_from_rusp_decodes_with_every_field,
        delete_to_rusp_and_back_keeps_every_field;
    operate() => operate_from_rusp_decodes_with_every_field,
        operate_to_rusp_and_back_keeps_every_field;
    get_instances() => get_instances_from_rusp_decodes_with_every_field,
        get_instances_to_rusp_and_back_keeps_every_field;
    get_supported_protocol() => get_supported_protocol_from_rusp_decodes_with_every_field,
        get_supported_protocol_to_rusp_and_back_keeps_every_field;
    register() => register_from_rusp_decodes_with_every_field,
        register_to_rusp_and_back_keeps_every_field;
    deregister() => deregister_from_rusp_decodes_with_every_field,
        deregister_to_rusp_and_back_keeps_every_field;
}

#[test]
fn get_supported_dm_from_rusp_decodes_each_flag_in_its_own_field() {
    for flags in GSDM_FLAG_ROWS {
        get_supported_dm(flags).assert_from_rusp();
    }
}

#[test]
fn get_supported_dm_to_rusp_and_back_keeps_each_flag_in_its_own_field() {
    for flags in GSDM_FLAG_ROWS {
        get_supported_dm(flags).assert_to_rusp_and_back();
    }
}
