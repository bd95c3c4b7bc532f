//! Responses (GetSupportedDMResp has its own file) and the Error message.

use rusp_lib::usp_builder as rb;
use usp_proto::builder::{error, param_error, response};
use usp_proto::{ErrorCode, usp};

use super::support::{Case, hmap, map, pairs, strings};

pub fn get_resp() -> Case {
    let info = [("Manufacturer", "usphub"), ("SoftwareVersion", "0.1.0")];
    let fw = [("Alias", "cpe-fw1")];
    let rusp = rb::GetRespBuilder::new().with_req_path_results(vec![
        rb::GetReqPathResultBuilder::new("Device.DeviceInfo.".into())
            .set_err(0, Some(String::new()))
            .with_res_path_results(vec![
                rb::ResolvedPathResultBuilder::new("Device.DeviceInfo.".into())
                    .with_result_params(pairs(&info)),
                rb::ResolvedPathResultBuilder::new("Device.DeviceInfo.FirmwareImage.1.".into())
                    .with_result_params(pairs(&fw)),
            ]),
        rb::GetReqPathResultBuilder::new("Device.Nonexistent.".into())
            .set_err(7026, Some("invalid path".into())),
    ]);
    use usp::get_resp::{RequestedPathResult, ResolvedPathResult};
    let ours = usp::GetResp {
        req_path_results: vec![
            RequestedPathResult {
                requested_path: "Device.DeviceInfo.".into(),
                err_code: 0,
                err_msg: String::new(),
                resolved_path_results: vec![
                    ResolvedPathResult {
                        resolved_path: "Device.DeviceInfo.".into(),
                        result_params: map(&info),
                    },
                    ResolvedPathResult {
                        resolved_path: "Device.DeviceInfo.FirmwareImage.1.".into(),
                        result_params: map(&fw),
                    },
                ],
            },
            RequestedPathResult {
                requested_path: "Device.Nonexistent.".into(),
                err_code: 7026,
                err_msg: "invalid path".into(),
                resolved_path_results: vec![],
            },
        ],
    };
    Case {
        rusp: rusp.build().expect("rusp GetResp"),
        ours: response("get-resp-1", ours),
    }
}

mod set_status {
    pub use usp_proto::usp::set_resp::updated_object_result::OperationStatus;
    pub use usp_proto::usp::set_resp::updated_object_result::operation_status::{
        OperStatus, OperationFailure, OperationSuccess,
    };
}

fn set_resp(msg_id: &str, rusp: rb::SetOperationStatus, ours: set_status::OperStatus) -> Case {
    let path = "Device.LocalAgent.Subscription.*.";
    Case {
        rusp: rb::SetRespBuilder::new()
            .with_updated_obj_results(vec![rb::UpdatedObjectResultsBuilder::new(
                path.into(),
                rusp,
            )])
            .build()
            .expect("rusp SetResp"),
        ours: response(
            msg_id,
            usp::SetResp {
                updated_obj_results: vec![usp::set_resp::UpdatedObjectResult {
                    requested_path: path.into(),
                    oper_status: Some(set_status::OperationStatus {
                        oper_status: Some(ours),
                    }),
                }],
            },
        ),
    }
}

fn set_param_err(param: &str, err_code: u32, err_msg: &str) -> usp::set_resp::ParameterError {
    usp::set_resp::ParameterError {
        param: param.into(),
        err_code,
        err_msg: err_msg.into(),
    }
}

pub fn set_resp_success() -> Case {
    let sub1 = [("Enable", "true"), ("ID", "sub-1")];
    let sub2 = [("Enable", "false")];
    let rusp = rb::SetOperationStatus::new().set_success(vec![
        rb::SetOperationSuccessBuilder::new("Device.LocalAgent.Subscription.1.".into())
            .with_param_errs(vec![rb::SetRespParameterError::new(
                "NotifRetry".into(),
                7013,
                Some("not writable".into()),
            )])
            .with_updated_params(hmap(&sub1)),
        rb::SetOperationSuccessBuilder::new("Device.LocalAgent.Subscription.2.".into())
            .with_updated_params(hmap(&sub2)),
    ]);
    let ours = set_status::OperStatus::OperSuccess(set_status::OperationSuccess {
        updated_inst_results: vec![
            usp::set_resp::UpdatedInstanceResult {
                affected_path: "Device.LocalAgent.Subscription.1.".into(),
                param_errs: vec![set_param_err("NotifRetry", 7013, "not writable")],
                updated_params: map(&sub1),
            },
            usp::set_resp::UpdatedInstanceResult {
                affected_path: "Device.LocalAgent.Subscription.2.".into(),
                param_errs: vec![],
                updated_params: map(&sub2),
            },
        ],
    });
    set_resp("set-resp-ok", rusp, ours)
}

pub fn set_resp_failure() -> Case {
    let rusp = rb::SetOperationStatus::new().set_failure(
        7020,
        Some("could not update".into()),
        vec![
            rb::UpdatedInstanceFailureBuilder::new("Device.LocalAgent.Subscription.3.".into())
                .with_param_errs(vec![rb::SetRespParameterError::new(
                    "NotifType".into(),
                    7012,
                    Some("unknown type".into()),
                )]),
        ],
    );
    let ours = set_status::OperStatus::OperFailure(set_status::OperationFailure {
        err_code: 7020,
        err_msg: "could not update".into(),
        updated_inst_failures: vec![usp::set_resp::UpdatedInstanceFailure {
            affected_path: "Device.LocalAgent.Subscription.3.".into(),
            param_errs: vec![set_param_err("NotifType", 7012, "unknown type")],
        }],
    });
    set_resp("set-resp-fail", rusp, ours)
}

mod add_status {
    pub use usp_proto::usp::add_resp::created_object_result::OperationStatus;
    pub use usp_proto::usp::add_resp::created_object_result::operation_status::{
        OperStatus, OperationFailure, OperationSuccess,
    };
}

fn add_resp(msg_id: &str, rusp: rb::AddOperationStatus, ours: add_status::OperStatus) -> Case {
    let path = "Device.LocalAgent.Subscription.";
    Case {
        rusp: rb::AddRespBuilder::new()
            .with_created_obj_results(vec![rb::CreatedObjectResultsBuilder::new(
                path.into(),
                rusp,
            )])
            .build()
            .expect("rusp AddResp"),
        ours: response(
            msg_id,
            usp::AddResp {
                created_obj_results: vec![usp::add_resp::CreatedObjectResult {
                    requested_path: path.into(),
                    oper_status: Some(add_status::OperationStatus {
                        oper_status: Some(ours),
                    }),
                }],
            },
        ),
    }
}

pub fn add_resp_success() -> Case {
    let keys = [("Alias", "cpe-4"), ("ID", "sub-4")];
    let rusp = rb::AddOperationStatus::new().set_success(
        "Device.LocalAgent.Subscription.4.".into(),
        vec![rb::AddRespParameterError {
            param: "NotifRetry".into(),
            err_code: 7010,
            err_msg: "unsupported parameter".into(),
        }],
        hmap(&keys),
    );
    let ours = add_status::OperStatus::OperSuccess(add_status::OperationSuccess {
        instantiated_path: "Device.LocalAgent.Subscription.4.".into(),
        param_errs: vec![usp::add_resp::ParameterError {
            param: "NotifRetry".into(),
            err_code: 7010,
            err_msg: "unsupported parameter".into(),
        }],
        unique_keys: map(&keys),
    });
    add_resp("add-resp-ok", rusp, ours)
}

pub fn add_resp_failure() -> Case {
    let rusp = rb::AddOperationStatus::new().set_failure(7017, Some("table full".into()));
    let ours = add_status::OperStatus::OperFailure(add_status::OperationFailure {
        err_code: 7017,
        err_msg: "table full".into(),
    });
    add_resp("add-resp-fail", rusp, ours)
}

mod delete_status {
    pub use usp_proto::usp::delete_resp::deleted_object_result::OperationStatus;
    pub use usp_proto::usp::delete_resp::deleted_object_result::operation_status::{
        OperStatus, OperationFailure, OperationSuccess,
    };
}

fn delete_resp(
    msg_id: &str,
    rusp: rb::DeletedObjectResultsBuilder,
    ours: delete_status::OperStatus,
) -> Case {
    Case {
        rusp: rb::DeleteRespBuilder::new()
            .with_deleted_obj_results(vec![rusp])
            .build()
            .expect("rusp DeleteResp"),
        ours: response(
            msg_id,
            usp::DeleteResp {
                deleted_obj_results: vec![usp::delete_resp::DeletedObjectResult {
                    requested_path: "Device.LocalAgent.Subscription.[Enable==false].".into(),
                    oper_status: Some(delete_status::OperationStatus {
                        oper_status: Some(ours),
                    }),
                }],
            },
        ),
    }
}

pub fn delete_resp_success() -> Case {
    let deleted = [
        "Device.LocalAgent.Subscription.5.",
        "Device.LocalAgent.Subscription.6.",
    ];
    let rusp = rb::DeletedObjectResultsBuilder::new(
        "Device.LocalAgent.Subscription.[Enable==false].".into(),
    )
    .set_success(
        strings(&deleted),
        vec![rb::DeleteRespUnaffectedPathError {
            unaffected_path: "Device.LocalAgent.Subscription.7.".into(),
            err_code: 7024,
            err_msg: "in use".into(),
        }],
    );
    let ours = delete_status::OperStatus::OperSuccess(delete_status::OperationSuccess {
        affected_paths: strings(&deleted),
        unaffected_path_errs: vec![usp::delete_resp::UnaffectedPathError {
            unaffected_path: "Device.LocalAgent.Subscription.7.".into(),
            err_code: 7024,
            err_msg: "in use".into(),
        }],
    });
    delete_resp("delete-resp-ok", rusp, ours)
}

pub fn delete_resp_failure() -> Case {
    let rusp = rb::DeletedObjectResultsBuilder::new(
        "Device.LocalAgent.Subscription.[Enable==false].".into(),
    )
    .set_failure(7016, Some("no such object".into()));
    let ours = delete_status::OperStatus::OperFailure(delete_status::OperationFailure {
        err_code: 7016,
        err_msg: "no such object".into(),
    });
    delete_resp("delete-resp-fail", rusp, ours)
}

/// One result of each kind: a Request object path, output arguments, a command failure.
pub fn operate_resp() -> Case {
    let out = [("AverageResponseTime", "12"), ("SuccessCount", "4")];
    let rusp = rb::OperateRespBuilder::new().with_operation_results(vec![
        rb::OperateRespResultBuilder::new(
            "Device.LocalAgent.Controller.1.SendOnBoardRequest()".into(),
        )
        .set_path("Device.LocalAgent.Request.5.".into()),
        rb::OperateRespResultBuilder::new("Device.IP.Diagnostics.IPPing()".into())
            .set_output_args(pairs(&out)),
        rb::OperateRespResultBuilder::new("Device.Reboot()".into())
            .set_failure(7022, Some("reboot refused".into())),
    ]);
    use usp::operate_resp::OperationResult;
    use usp::operate_resp::operation_result::{CommandFailure, OperationResp, OutputArgs};
    let ours = usp::OperateResp {
        operation_results: vec![
            OperationResult {
                executed_command: "Device.LocalAgent.Controller.1.SendOnBoardRequest()".into(),
                operation_resp: Some(OperationResp::ReqObjPath(
                    "Device.LocalAgent.Request.5.".into(),
                )),
            },
            OperationResult {
                executed_command: "Device.IP.Diagnostics.IPPing()".into(),
                operation_resp: Some(OperationResp::ReqOutputArgs(OutputArgs {
                    output_args: map(&out),
                })),
            },
            OperationResult {
                executed_command: "Device.Reboot()".into(),
                operation_resp: Some(OperationResp::CmdFailure(CommandFailure {
                    err_code: 7022,
                    err_msg: "reboot refused".into(),
                })),
            },
        ],
    };
    Case {
        rusp: rusp.build().expect("rusp OperateResp"),
        ours: response("operate-resp-1", ours),
    }
}

pub fn get_instances_resp() -> Case {
    let lamp = [("Alias", "lamp-1")];
    let node = [("Alias", "ep-1"), ("Name", "endpoint one")];
    let rusp = rb::GetInstancesRespBuilder::new().with_req_path_results(vec![
        rb::GetInstancesRespReqPathResultBuilder::new("Device.ProxiedDevice.".into())
            .set_err(0, Some(String::new()))
            .with_curr_insts(vec![
                rb::CurrInstanceBuilder::new("Device.ProxiedDevice.1.".into())
                    .with_unique_keys(pairs(&lamp)),
                rb::CurrInstanceBuilder::new("Device.ProxiedDevice.1.Node.1.".into())
                    .with_unique_keys(pairs(&node)),
            ]),
        rb::GetInstancesRespReqPathResultBuilder::new("Device.Bogus.".into())
            .set_err(7016, Some("object does not exist".into())),
    ]);
    use usp::get_instances_resp::{CurrInstance, RequestedPathResult};
    let ours = usp::GetInstancesResp {
        req_path_results: vec![
            RequestedPathResult {
                requested_path: "Device.ProxiedDevice.".into(),
                err_code: 0,
                err_msg: String::new(),
                curr_insts: vec![
                    CurrInstance {
                        instantiated_obj_path: "Device.ProxiedDevice.1.".into(),
                        unique_keys: map(&lamp),
                    },
                    CurrInstance {
                        instantiated_obj_path: "Device.ProxiedDevice.1.Node.1.".into(),
                        unique_keys: map(&node),
                    },
                ],
            },
            RequestedPathResult {
                requested_path: "Device.Bogus.".into(),
                err_code: 7016,
                err_msg: "object does not exist".into(),
                curr_insts: vec![],
            },
        ],
    };
    Case {
        rusp: rusp.build().expect("rusp GetInstancesResp"),
        ours: response("getinst-resp-1", ours),
    }
}

pub fn get_supported_protocol_resp() -> Case {
    Case {
        rusp: rb::GetSupportedProtocolRespBuilder::new("1.0,1.1,1.2,1.3,1.4".into())
            .build()
            .expect("rusp GetSupportedProtocolResp"),
        ours: response(
            "gsp-resp-1",
            usp::GetSupportedProtocolResp {
                agent_supported_protocol_versions: "1.0,1.1,1.2,1.3,1.4".into(),
            },
        ),
    }
}

/// One successful and one failed registration.
pub fn register_resp() -> Case {
    let rusp = rb::RegisterRespBuilder::new().with_registered_path_results(vec![
        rb::RegisteredPathResultBuilder::new("Device.X_USPHUB_Radio.".into())
            .set_success("Device.X_USPHUB_Radio.1.".into()),
        rb::RegisteredPathResultBuilder::new("Device.ProxiedDevice.".into())
            .set_failure(7031, Some("path already registered".into())),
    ]);
    use usp::register_resp::RegisteredPathResult;
    use usp::register_resp::registered_path_result::OperationStatus;
    use usp::register_resp::registered_path_result::operation_status::{
        OperStatus, OperationFailure, OperationSuccess,
    };
    let ours = usp::RegisterResp {
        registered_path_results: vec![
            RegisteredPathResult {
                requested_path: "Device.X_USPHUB_Radio.".into(),
                oper_status: Some(OperationStatus {
                    oper_status: Some(OperStatus::OperSuccess(OperationSuccess {
                        registered_path: "Device.X_USPHUB_Radio.1.".into(),
                    })),
                }),
            },
            RegisteredPathResult {
                requested_path: "Device.ProxiedDevice.".into(),
                oper_status: Some(OperationStatus {
                    oper_status: Some(OperStatus::OperFailure(OperationFailure {
                        err_code: 7031,
                        err_msg: "path already registered".into(),
                    })),
                }),
            },
        ],
    };
    Case {
        rusp: rusp.build().expect("rusp RegisterResp"),
        ours: response("register-resp-1", ours),
    }
}

/// One successful and one failed deregistration.
pub fn deregister_resp() -> Case {
    let gone = ["Device.X_USPHUB_Radio.", "Device.X_USPHUB_Radio.Zigbee."];
    let rusp = rb::DeregisterRespBuilder::new().with_deregistered_path_results(vec![
        rb::DeregisteredPathResultBuilder::new("Device.X_USPHUB_Radio.".into())
            .set_success(strings(&gone)),
        rb::DeregisteredPathResultBuilder::new("Device.ProxiedDevice.".into())
            .set_failure(7030, Some("not registered by you".into())),
    ]);
    use usp::deregister_resp::DeregisteredPathResult;
    use usp::deregister_resp::deregistered_path_result::OperationStatus;
    use usp::deregister_resp::deregistered_path_result::operation_status::{
        OperStatus, OperationFailure, OperationSuccess,
    };
    let ours = usp::DeregisterResp {
        deregistered_path_results: vec![
            DeregisteredPathResult {
                requested_path: "Device.X_USPHUB_Radio.".into(),
                oper_status: Some(OperationStatus {
                    oper_status: Some(OperStatus::OperSuccess(OperationSuccess {
                        deregistered_path: strings(&gone),
                    })),
                }),
            },
            DeregisteredPathResult {
                requested_path: "Device.ProxiedDevice.".into(),
                oper_status: Some(OperationStatus {
                    oper_status: Some(OperStatus::OperFailure(OperationFailure {
                        err_code: 7030,
                        err_msg: "not registered by you".into(),
                    })),
                }),
            },
        ],
    };
    Case {
        rusp: rusp.build().expect("rusp DeregisterResp"),
        ours: response("deregister-resp-1", ours),
    }
}

/// An Error with two parameter errors, built with usp-proto's own `error` constructor so
/// that the ErrorCode numbers are checked on the wire too.
pub fn error_with_param_errs() -> Case {
    let enable = "Device.LocalAgent.Subscription.1.Enable";
    let bogus = "Device.LocalAgent.Subscription.1.Bogus";
    let rusp = rb::ErrorBuilder::new()
        .set_err(7004, Some("invalid arguments".into()))
        .with_param_errs(vec![
            (enable.into(), 7012, "not a boolean".into()),
            (bogus.into(), 7010, "unsupported parameter".into()),
        ]);
    let ours = error(
        "error-1",
        ErrorCode::InvalidArguments,
        "invalid arguments",
        vec![
            param_error(enable, ErrorCode::InvalidValue, "not a boolean"),
            param_error(
                bogus,
                ErrorCode::UnsupportedParameter,
                "unsupported parameter",
            ),
        ],
    );
    Case {
        rusp: rusp.build().expect("rusp Error"),
        ours,
    }
}

both_ways! {
    get_resp() => get_resp_from_rusp_decodes_with_every_field,
        get_resp_to_rusp_and_back_keeps_every_field;
    set_resp_success() => set_resp_success_from_rusp_decodes_with_every_field,
        set_resp_success_to_rusp_and_back_keeps_every_field;
    set_resp_failure() => set_resp_failure_from_rusp_decodes_with_every_field,
        set_resp_failure_to_rusp_and_back_keeps_every_field;
    add_resp_success() => add_resp_success_from_rusp_decodes_with_every_field,
        add_resp_success_to_rusp_and_back_keeps_every_field;
    add_resp_failure() => add_resp_failure_from_rusp_decodes_with_every_field,
        add_resp_failure_to_rusp_and_back_keeps_every_field;
    delete_resp_success() => delete_resp_success_from_rusp_decodes_with_every_field,
        delete_resp_success_to_rusp_and_back_keeps_every_field;
    delete_resp_failure() => delete_resp_failure_from_rusp_decodes_with_every_field,
        delete_resp_failure_to_rusp_and_back_keeps_every_field;
    operate_resp() => operate_resp_of_each_kind_from_rusp_decodes_with_every_field,
        operate_resp_of_each_kind_to_rusp_and_back_keeps_every_field;
    get_instances_resp() => get_instances_resp_from_rusp_decodes_with_every_field,
        get_instances_resp_to_rusp_and_back_keeps_every_field;
    get_supported_protocol_resp() =>
        get_supported_protocol_resp_from_rusp_decodes_with_every_field,
        get_supported_protocol_resp_to_rusp_and_back_keeps_every_field;
    register_resp() => register_resp_from_rusp_decodes_with_every_field,
        register_resp_to_rusp_and_back_keeps_every_field;
    deregister_resp() => deregister_resp_from_rusp_decodes_with_every_field,
        deregister_resp_to_rusp_and_back_keeps_every_field;
    error_with_param_errs() => error_with_param_errs_from_rusp_decodes_with_every_field,
        error_with_param_errs_to_rusp_and_back_keeps_every_field;
}
