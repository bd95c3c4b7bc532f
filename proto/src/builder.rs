//! Constructors for USP Msgs and Records, so callers never assemble the nested
//! header/body/oneof structure by hand.
//!
//! Requests and responses are built from their prost body type (`usp::Get`,
//! `usp::GetResp`, ...) with [`request`] / [`response`], which pick the matching header
//! `msg_type` from the body; [`error`] builds an Error message; [`Record`]s wrap a Msg
//! with [`no_session_record`] and the connect records with their own constructors.

use std::collections::BTreeMap;

use prost::Message;

use crate::usp::{self, Body, Header, Msg, body, header::MsgType, request, response};
use crate::usp_record::{self as rec, Record, record::RecordType};
use crate::{ErrorCode, USP_VERSION};

/// A request body that knows its oneof variant and header type.
pub trait RequestBody: Sized {
    /// The header msg_type for this request.
    const MSG_TYPE: MsgType;
    /// Wraps the body into the Request oneof.
    fn into_req(self) -> request::ReqType;
}

/// A response body that knows its oneof variant and header type.
pub trait ResponseBody: Sized {
    /// The header msg_type for this response.
    const MSG_TYPE: MsgType;
    /// Wraps the body into the Response oneof.
    fn into_resp(self) -> response::RespType;
}

macro_rules! bodies {
    ($trait:ident, $method:ident, $oneof:ty, $( $ty:ident => $variant:ident, $mt:ident; )*) => {
        $(
            impl $trait for usp::$ty {
                const MSG_TYPE: MsgType = MsgType::$mt;
                fn $method(self) -> $oneof {
                    <$oneof>::$variant(self)
                }
            }
        )*
    };
}

bodies!(RequestBody, into_req, request::ReqType,
    Get => Get, Get;
    GetSupportedDm => GetSupportedDm, GetSupportedDm;
    GetInstances => GetInstances, GetInstances;
    Set => Set, Set;
    Add => Add, Add;
    Delete => Delete, Delete;
    Operate => Operate, Operate;
    Notify => Notify, Notify;
    GetSupportedProtocol => GetSupportedProtocol, GetSupportedProto;
    Register => Register, Register;
    Deregister => Deregister, Deregister;
);

bodies!(ResponseBody, into_resp, response::RespType,
    GetResp => GetResp, GetResp;
    GetSupportedDmResp => GetSupportedDmResp, GetSupportedDmResp;
    GetInstancesResp => GetInstancesResp, GetInstancesResp;
    SetResp => SetResp, SetResp;
    AddResp => AddResp, AddResp;
    DeleteResp => DeleteResp, DeleteResp;
    OperateResp => OperateResp, OperateResp;
    NotifyResp => NotifyResp, NotifyResp;
    GetSupportedProtocolResp => GetSupportedProtocolResp, GetSupportedProtoResp;
    RegisterResp => RegisterResp, RegisterResp;
    DeregisterResp => DeregisterResp, DeregisterResp;
);

fn header(msg_id: impl Into<String>, t: MsgType) -> Option<Header> {
    Some(Header {
        msg_id: msg_id.into(),
        msg_type: t as i32,
    })
}

/// A request Msg with the header type matching its body.
pub fn request<B: RequestBody>(msg_id: impl Into<String>, body: B) -> Msg {
    Msg {
        header: header(msg_id, B::MSG_TYPE),
        body: Some(Body {
            msg_body: Some(body::MsgBody::Request(usp::Request {
                req_type: Some(body.into_req()),
            })),
        }),
    }
}

/// A response Msg with the header type matching its body.
pub fn response<B: ResponseBody>(msg_id: impl Into<String>, body: B) -> Msg {
    Msg {
        header: header(msg_id, B::MSG_TYPE),
        body: Some(Body {
            msg_body: Some(body::MsgBody::Response(usp::Response {
                resp_type: Some(body.into_resp()),
            })),
        }),
    }
}

/// An Error Msg answering `msg_id`.
pub fn error(
    msg_id: impl Into<String>,
    code: ErrorCode,
    err_msg: impl Into<String>,
    param_errs: Vec<usp::error::ParamError>,
) -> Msg {
    Msg {
        header: header(msg_id, MsgType::Error),
        body: Some(Body {
            msg_body: Some(body::MsgBody::Error(usp::Error {
                err_code: code.code(),
                err_msg: err_msg.into(),
                param_errs,
            })),
        }),
    }
}

/// One parameter error of an Error message.
pub fn param_error(
    path: impl Into<String>,
    code: ErrorCode,
    msg: impl Into<String>,
) -> usp::error::ParamError {
    usp::error::ParamError {
        param_path: path.into(),
        err_code: code.code(),
        err_msg: msg.into(),
    }
}

/// A Get request.
pub fn get(msg_id: impl Into<String>, paths: &[&str], max_depth: u32) -> Msg {
    request(
        msg_id,
        usp::Get {
            param_paths: paths.iter().map(|p| p.to_string()).collect(),
            max_depth,
        },
    )
}

/// A GetSupportedProtocol request.
pub fn get_supported_protocol(msg_id: impl Into<String>, versions: &str) -> Msg {
    request(
        msg_id,
        usp::GetSupportedProtocol {
            controller_supported_protocol_versions: versions.to_string(),
        },
    )
}

/// A ValueChange Notify.
pub fn notify_value_change(
    msg_id: impl Into<String>,
    subscription_id: impl Into<String>,
    send_resp: bool,
    param_path: impl Into<String>,
    param_value: impl Into<String>,
) -> Msg {
    request(
        msg_id,
        usp::Notify {
            subscription_id: subscription_id.into(),
            send_resp,
            notification: Some(usp::notify::Notification::ValueChange(
                usp::notify::ValueChange {
                    param_path: param_path.into(),
                    param_value: param_value.into(),
                },
            )),
        },
    )
}

/// An Event Notify (e.g. `Boot!`).
pub fn notify_event(
    msg_id: impl Into<String>,
    subscription_id: impl Into<String>,
    send_resp: bool,
    obj_path: impl Into<String>,
    event_name: impl Into<String>,
    params: BTreeMap<String, String>,
) -> Msg {
    request(
        msg_id,
        usp::Notify {
            subscription_id: subscription_id.into(),
            send_resp,
            notification: Some(usp::notify::Notification::Event(usp::notify::Event {
                obj_path: obj_path.into(),
                event_name: event_name.into(),
                params,
            })),
        },
    )
}

/// A Record header with no record type yet.
fn record(to_id: &str, from_id: &str, rt: RecordType) -> Record {
    Record {
        version: USP_VERSION.to_string(),
        to_id: to_id.to_string(),
        from_id: from_id.to_string(),
        payload_security: rec::record::PayloadSecurity::Plaintext as i32,
        mac_signature: Vec::new(),
        sender_cert: Vec::new(),
        record_type: Some(rt),
    }
}

/// Wraps a Msg into a no-session-context Record.
pub fn no_session_record(to_id: &str, from_id: &str, msg: &Msg) -> Record {
    record(
        to_id,
        from_id,
        RecordType::NoSessionContext(rec::NoSessionContextRecord {
            payload: msg.encode_to_vec(),
        }),
    )
}

/// The WebSocketConnect Record an Agent sends when a WebSocket session opens.
pub fn websocket_connect_record(to_id: &str, from_id: &str) -> Record {
    record(
        to_id,
        from_id,
        RecordType::WebsocketConnect(rec::WebSocketConnectRecord {}),
    )
}

/// The MQTTConnect Record an Agent sends once subscribed to its topic.
pub fn mqtt_connect_record(to_id: &str, from_id: &str, subscribed_topic: &str) -> Record {
    record(
        to_id,
        from_id,
        RecordType::MqttConnect(rec::MqttConnectRecord {
            version: rec::mqtt_connect_record::MqttVersion::V5 as i32,
            subscribed_topic: subscribed_topic.to_string(),
        }),
    )
}

/// The UDSConnect Record sent when a Unix domain socket connection opens.
pub fn uds_connect_record(to_id: &str, from_id: &str) -> Record {
    record(
        to_id,
        from_id,
        RecordType::UdsConnect(rec::UdsConnectRecord {}),
    )
}

/// A Disconnect Record with a reason.
pub fn disconnect_record(to_id: &str, from_id: &str, code: ErrorCode, reason: &str) -> Record {
    record(
        to_id,
        from_id,
        RecordType::Disconnect(rec::DisconnectRecord {
            reason: reason.to_string(),
            reason_code: code.code(),
        }),
    )
}

/// Encodes a Record to bytes.
pub fn encode_record(record: &Record) -> Vec<u8> {
    record.encode_to_vec()
}

/// The msg_id of a Msg, or "" when it has no header.
pub fn msg_id(msg: &Msg) -> &str {
    msg.header.as_ref().map(|h| h.msg_id.as_str()).unwrap_or("")
}
