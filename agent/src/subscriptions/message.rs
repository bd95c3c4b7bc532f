//! Data model changes to USP Notify messages (TR-369 section "Notify": Event,
//! ValueChange, ObjectCreation, ObjectDeletion, OperationComplete).

use std::collections::BTreeMap;

use usp_datamodel::Change;
use usp_proto::builder;
use usp_proto::usp::{self, Msg, notify};

/// `Device.LocalAgent.Subscription.{i}.NotifType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifType {
    /// A parameter's value changed.
    ValueChange,
    /// A table row was created.
    ObjectCreation,
    /// A table row was deleted.
    ObjectDeletion,
    /// An asynchronous command finished.
    OperationComplete,
    /// An event happened.
    Event,
}

impl NotifType {
    /// Parses the TR-181 enumeration value.
    pub fn parse(s: &str) -> Option<NotifType> {
        Some(match s {
            "ValueChange" => NotifType::ValueChange,
            "ObjectCreation" => NotifType::ObjectCreation,
            "ObjectDeletion" => NotifType::ObjectDeletion,
            "OperationComplete" => NotifType::OperationComplete,
            "Event" => NotifType::Event,
            _ => return None,
        })
    }

    /// The kind of notification `change` produces.
    pub fn of(change: &Change) -> NotifType {
        match change {
            Change::ValueChange { .. } => NotifType::ValueChange,
            Change::ObjectCreation { .. } => NotifType::ObjectCreation,
            Change::ObjectDeletion { .. } => NotifType::ObjectDeletion,
            Change::Event { .. } => NotifType::Event,
            Change::OperationComplete { .. } => NotifType::OperationComplete,
        }
    }
}

/// The Notify body's notification for `change`.
pub fn notification(change: &Change) -> notify::Notification {
    match change {
        Change::ValueChange { path, value } => {
            notify::Notification::ValueChange(notify::ValueChange {
                param_path: path.clone(),
                param_value: value.clone(),
            })
        }
        Change::ObjectCreation { path, unique_keys } => {
            notify::Notification::ObjCreation(notify::ObjectCreation {
                obj_path: path.clone(),
                unique_keys: unique_keys.iter().cloned().collect::<BTreeMap<_, _>>(),
            })
        }
        Change::ObjectDeletion { path } => {
            notify::Notification::ObjDeletion(notify::ObjectDeletion {
                obj_path: path.clone(),
            })
        }
        Change::Event {
            obj_path,
            event_name,
            args,
        } => notify::Notification::Event(notify::Event {
            obj_path: obj_path.clone(),
            event_name: event_name.clone(),
            params: args.clone(),
        }),
        Change::OperationComplete {
            obj_path,
            command_name,
            command_key,
            result,
        } => {
            let resp = match result {
                Ok(out) => notify::operation_complete::OperationResp::ReqOutputArgs(
                    notify::operation_complete::OutputArgs {
                        output_args: out.clone(),
                    },
                ),
                Err(e) => notify::operation_complete::OperationResp::CmdFailure(
                    notify::operation_complete::CommandFailure {
                        err_code: e.usp_code().code(),
                        err_msg: e.message.clone(),
                    },
                ),
            };
            notify::Notification::OperComplete(notify::OperationComplete {
                obj_path: obj_path.clone(),
                command_name: command_name.clone(),
                command_key: command_key.clone(),
                operation_resp: Some(resp),
            })
        }
    }
}

/// A Notify request Msg.
pub fn notify_msg(
    msg_id: &str,
    subscription_id: &str,
    send_resp: bool,
    notification: notify::Notification,
) -> Msg {
    builder::request(
        msg_id,
        usp::Notify {
            subscription_id: subscription_id.to_owned(),
            send_resp,
            notification: Some(notification),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use usp_datamodel::{Args, DmError, ErrorKind};
    use usp_proto::usp::{body, request};

    fn body_of(msg: &Msg) -> &usp::Notify {
        match msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) {
            Some(body::MsgBody::Request(usp::Request {
                req_type: Some(request::ReqType::Notify(n)),
            })) => n,
            other => panic!("not a Notify: {other:?}"),
        }
    }

    #[test]
    fn value_change_carries_path_and_value() {
        let c = Change::ValueChange {
            path: "Device.X.1.Name".into(),
            value: "lamp".into(),
        };
        assert_eq!(NotifType::of(&c), NotifType::ValueChange);
        let msg = notify_msg("m1", "sub-a", true, notification(&c));
        let n = body_of(&msg);
        assert_eq!(n.subscription_id, "sub-a");
        assert!(n.send_resp);
        assert_eq!(
            n.notification,
            Some(notify::Notification::ValueChange(notify::ValueChange {
                param_path: "Device.X.1.Name".into(),
                param_value: "lamp".into(),
            }))
        );
        let header = msg.header.as_ref().map(|h| (h.msg_id.as_str(), h.msg_type));
        assert_eq!(header, Some(("m1", usp::header::MsgType::Notify as i32)));
    }

    #[test]
    fn object_creation_carries_unique_keys() {
        let c = Change::ObjectCreation {
            path: "Device.X.2.".into(),
            unique_keys: vec![("Alias".into(), "cpe-2".into())],
        };
        let notify::Notification::ObjCreation(oc) = notification(&c) else {
            panic!("wrong notification kind");
        };
        assert_eq!(oc.obj_path, "Device.X.2.");
        assert_eq!(
            oc.unique_keys.get("Alias").map(String::as_str),
            Some("cpe-2")
        );
    }

    #[test]
    fn failed_operation_reports_its_usp_error_code() {
        let c = Change::OperationComplete {
            obj_path: "Device.X.1.".into(),
            command_name: "Reset()".into(),
            command_key: "k".into(),
            result: Err(DmError::new(
                ErrorKind::CommandFailure,
                "Device.X.1.Reset()",
                "radio timeout",
            )),
        };
        assert_eq!(NotifType::of(&c), NotifType::OperationComplete);
        let notify::Notification::OperComplete(oc) = notification(&c) else {
            panic!("wrong notification kind");
        };
        assert_eq!(oc.command_key, "k");
        match oc.operation_resp {
            Some(notify::operation_complete::OperationResp::CmdFailure(f)) => {
                assert_eq!(f.err_code, 7022);
                assert_eq!(f.err_msg, "radio timeout");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn event_carries_its_arguments() {
        let mut args = Args::new();
        args.insert("Cause".into(), "LocalReboot".into());
        let c = Change::Event {
            obj_path: "Device.".into(),
            event_name: "Boot!".into(),
            args,
        };
        let notify::Notification::Event(e) = notification(&c) else {
            panic!("wrong notification kind");
        };
        assert_eq!(
            (e.obj_path.as_str(), e.event_name.as_str()),
            ("Device.", "Boot!")
        );
        assert_eq!(
            e.params.get("Cause").map(String::as_str),
            Some("LocalReboot")
        );
    }

    #[test]
    fn notif_type_parses_only_tr181_values() {
        assert_eq!(
            NotifType::parse("ObjectDeletion"),
            Some(NotifType::ObjectDeletion)
        );
        assert_eq!(NotifType::parse("valuechange"), None);
        assert_eq!(NotifType::parse(""), None);
    }
}
