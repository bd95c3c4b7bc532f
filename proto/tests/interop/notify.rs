//! Notify with each notification kind, and NotifyResp.

use rusp_lib::usp_builder as rb;
use usp_proto::builder::{request, response};
use usp_proto::usp;
use usp_proto::usp::notify::{self as n, Notification};

use super::support::{Case, hmap, map};

/// A Notify whose subscription_id and send_resp are the same for every kind.
fn notify(msg_id: &str, rusp: rb::NotifyBuilder, ours: Notification) -> Case {
    Case {
        rusp: rusp.build().expect("rusp Notify"),
        ours: request(
            msg_id,
            usp::Notify {
                subscription_id: "sub-42".into(),
                send_resp: true,
                notification: Some(ours),
            },
        ),
    }
}

fn rusp_notify() -> rb::NotifyBuilder {
    rb::NotifyBuilder::new("sub-42".into()).with_send_resp(true)
}

pub fn event() -> Case {
    let params = [("Cause", "LocalReboot"), ("FirmwareUpdated", "false")];
    notify(
        "notify-event",
        rusp_notify().with_event("Device.".into(), "Boot!".into(), hmap(&params)),
        Notification::Event(n::Event {
            obj_path: "Device.".into(),
            event_name: "Boot!".into(),
            params: map(&params),
        }),
    )
}

pub fn value_change() -> Case {
    notify(
        "notify-vc",
        rusp_notify().with_value_change("Device.ProxiedDevice.1.Online".into(), "true".into()),
        Notification::ValueChange(n::ValueChange {
            param_path: "Device.ProxiedDevice.1.Online".into(),
            param_value: "true".into(),
        }),
    )
}

pub fn obj_creation() -> Case {
    let keys = [("Alias", "lamp-3")];
    notify(
        "notify-create",
        rusp_notify().with_object_creation("Device.ProxiedDevice.3.".into(), hmap(&keys)),
        Notification::ObjCreation(n::ObjectCreation {
            obj_path: "Device.ProxiedDevice.3.".into(),
            unique_keys: map(&keys),
        }),
    )
}

pub fn obj_deletion() -> Case {
    notify(
        "notify-delete",
        rusp_notify().with_object_deletion("Device.ProxiedDevice.4.".into()),
        Notification::ObjDeletion(n::ObjectDeletion {
            obj_path: "Device.ProxiedDevice.4.".into(),
        }),
    )
}

pub fn oper_complete_output_args() -> Case {
    let out = [("Acknowledged", "true"), ("Duration", "30")];
    notify(
        "notify-oc-ok",
        rusp_notify().with_operation_complete_output_args(
            "Device.ProxiedDevice.1.".into(),
            "Identify()".into(),
            "ck-identify".into(),
            hmap(&out),
        ),
        Notification::OperComplete(n::OperationComplete {
            obj_path: "Device.ProxiedDevice.1.".into(),
            command_name: "Identify()".into(),
            command_key: "ck-identify".into(),
            operation_resp: Some(n::operation_complete::OperationResp::ReqOutputArgs(
                n::operation_complete::OutputArgs {
                    output_args: map(&out),
                },
            )),
        }),
    )
}

pub fn oper_complete_cmd_failure() -> Case {
    notify(
        "notify-oc-fail",
        rusp_notify().with_operation_complete_cmd_failure(
            "Device.X_USPHUB_Radio.1.".into(),
            "PermitJoin()".into(),
            "ck-join".into(),
            7023,
            "canceled by user".into(),
        ),
        Notification::OperComplete(n::OperationComplete {
            obj_path: "Device.X_USPHUB_Radio.1.".into(),
            command_name: "PermitJoin()".into(),
            command_key: "ck-join".into(),
            operation_resp: Some(n::operation_complete::OperationResp::CmdFailure(
                n::operation_complete::CommandFailure {
                    err_code: 7023,
                    err_msg: "canceled by user".into(),
                },
            )),
        }),
    )
}

pub fn on_board_req() -> Case {
    notify(
        "notify-onboard",
        rusp_notify().with_onboard_request(
            "00D09E".into(),
            "usphub-pi4".into(),
            "SN-0042".into(),
            "1.3,1.4".into(),
        ),
        Notification::OnBoardReq(n::OnBoardRequest {
            oui: "00D09E".into(),
            product_class: "usphub-pi4".into(),
            serial_number: "SN-0042".into(),
            agent_supported_protocol_versions: "1.3,1.4".into(),
        }),
    )
}

pub fn notify_resp() -> Case {
    Case {
        rusp: rb::NotifyRespBuilder::new("sub-43".into())
            .build()
            .expect("rusp NotifyResp"),
        ours: response(
            "notify-resp-1",
            usp::NotifyResp {
                subscription_id: "sub-43".into(),
            },
        ),
    }
}

both_ways! {
    event() => notify_event_from_rusp_decodes_with_every_field,
        notify_event_to_rusp_and_back_keeps_every_field;
    value_change() => notify_value_change_from_rusp_decodes_with_every_field,
        notify_value_change_to_rusp_and_back_keeps_every_field;
    obj_creation() => notify_obj_creation_from_rusp_decodes_with_every_field,
        notify_obj_creation_to_rusp_and_back_keeps_every_field;
    obj_deletion() => notify_obj_deletion_from_rusp_decodes_with_every_field,
        notify_obj_deletion_to_rusp_and_back_keeps_every_field;
    oper_complete_output_args() =>
        notify_oper_complete_with_output_args_from_rusp_decodes_with_every_field,
        notify_oper_complete_with_output_args_to_rusp_and_back_keeps_every_field;
    oper_complete_cmd_failure() =>
        notify_oper_complete_with_cmd_failure_from_rusp_decodes_with_every_field,
        notify_oper_complete_with_cmd_failure_to_rusp_and_back_keeps_every_field;
    on_board_req() => notify_on_board_req_from_rusp_decodes_with_every_field,
        notify_on_board_req_to_rusp_and_back_keeps_every_field;
    notify_resp() => notify_resp_from_rusp_decodes_with_every_field,
        notify_resp_to_rusp_and_back_keeps_every_field;
}
