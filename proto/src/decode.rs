//! Defensive decoding of USP Records and Msgs (TR-369 "Record" and "Message Structure").
//!
//! Every check a receiver must make before a handler sees a message: size, version,
//! record type, payload security, payload presence and shape, and agreement between a
//! Msg's header `msg_type` and its body. Each failure is a [`DecodeError`] that carries the
//! USP error code and whatever was learnt before the failure (sender, msg_id), so the
//! caller can build the Error reply or decide to drop the input with a log line.

use prost::Message;

use crate::usp::header::MsgType;
use crate::usp::{Msg, body, request, response};
use crate::usp_record::{Record, record};
use crate::{ErrorCode, SUPPORTED_VERSIONS};

/// Limits applied while decoding untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest encoded Record accepted, in bytes (default 64 KiB).
    pub max_record_size: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_record_size: 64 * 1024,
        }
    }
}

/// Why a Record or Msg was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// The encoded Record is larger than the configured limit.
    #[error("record of {size} bytes exceeds the {max} byte limit")]
    TooLarge {
        /// Size received.
        size: usize,
        /// Configured limit.
        max: usize,
    },
    /// The bytes are not a protobuf Record.
    #[error("record could not be parsed: {0}")]
    RecordUndecodable(String),
    /// The Record's `version` is not one this implementation speaks.
    #[error("unsupported USP version {version:?} (supported: {supported})")]
    UnsupportedVersion {
        /// The version the sender wrote.
        version: String,
        /// What we accept.
        supported: String,
        /// The Record's from_id.
        from_id: String,
    },
    /// The Record has no `record_type` this implementation knows.
    #[error("record from {from_id:?} has a missing or unknown record_type")]
    UnknownRecordType {
        /// The Record's from_id.
        from_id: String,
    },
    /// The Record asks for payload security other than PLAINTEXT.
    #[error("payload_security {value} is not supported (only PLAINTEXT)")]
    PayloadSecurity {
        /// The raw enum value.
        value: i32,
        /// The Record's from_id.
        from_id: String,
    },
    /// A session-context Record arrived; end-to-end sessions are not supported.
    #[error("session context records are not supported")]
    SessionContextNotAllowed {
        /// The Record's from_id.
        from_id: String,
    },
    /// A no-session-context Record with an empty payload.
    #[error("record from {from_id:?} has an empty payload")]
    EmptyPayload {
        /// The Record's from_id.
        from_id: String,
    },
    /// The payload is not a protobuf Msg.
    #[error("payload is not a USP Msg: {reason}")]
    MsgUndecodable {
        /// What prost reported.
        reason: String,
        /// The Record's from_id.
        from_id: String,
    },
    /// The Msg has no header or no body, or a body with nothing in it.
    #[error("msg {msg_id:?} is incomplete: {what}")]
    MsgIncomplete {
        /// What is missing.
        what: &'static str,
        /// The Msg's msg_id when the header was present.
        msg_id: String,
        /// The Record's from_id ("" when the Msg was checked without its Record).
        from_id: String,
    },
    /// The header's `msg_type` disagrees with the body.
    #[error("msg {msg_id:?}: header says {header:?} but the body is {body:?}")]
    MsgTypeMismatch {
        /// The Msg's msg_id.
        msg_id: String,
        /// What the header says (raw enum value when unknown).
        header: i32,
        /// What the body carries.
        body: MsgType,
        /// The Record's from_id ("" when the Msg was checked without its Record).
        from_id: String,
    },
}

impl DecodeError {
    /// The USP error code for this failure.
    pub fn usp_code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge { .. } => ErrorCode::ResourcesExceeded,
            DecodeError::RecordUndecodable(_) => ErrorCode::RecordNotParsed,
            DecodeError::UnsupportedVersion { .. } => ErrorCode::InvalidRecordValue,
            DecodeError::UnknownRecordType { .. } => ErrorCode::InvalidRecordValue,
            DecodeError::PayloadSecurity { .. } => ErrorCode::SecureSessionNotSupported,
            DecodeError::SessionContextNotAllowed { .. } => ErrorCode::SessionContextNotAllowed,
            DecodeError::EmptyPayload { .. } => ErrorCode::InvalidRecordValue,
            DecodeError::MsgUndecodable { .. } => ErrorCode::MessageFailed,
            DecodeError::MsgIncomplete { .. } => ErrorCode::MessageFailed,
            DecodeError::MsgTypeMismatch { .. } => ErrorCode::MessageFailed,
        }
    }

    /// The sender's EndpointID, when the Record was readable far enough to learn it.
    pub fn from_id(&self) -> Option<&str> {
        match self {
            DecodeError::UnsupportedVersion { from_id, .. }
            | DecodeError::UnknownRecordType { from_id }
            | DecodeError::PayloadSecurity { from_id, .. }
            | DecodeError::SessionContextNotAllowed { from_id }
            | DecodeError::EmptyPayload { from_id }
            | DecodeError::MsgUndecodable { from_id, .. } => Some(from_id),
            DecodeError::MsgIncomplete { from_id, .. }
            | DecodeError::MsgTypeMismatch { from_id, .. }
                if !from_id.is_empty() =>
            {
                Some(from_id)
            }
            _ => None,
        }
    }

    /// Sets the sender of a Msg-level error found by [`check_msg`].
    fn with_from_id(mut self, sender: &str) -> Self {
        if let DecodeError::MsgIncomplete { from_id, .. }
        | DecodeError::MsgTypeMismatch { from_id, .. } = &mut self
        {
            *from_id = sender.to_string();
        }
        self
    }

    /// The Msg's msg_id, when the Msg header was readable: an Error reply can then be sent.
    pub fn msg_id(&self) -> Option<&str> {
        match self {
            DecodeError::MsgIncomplete { msg_id, .. }
            | DecodeError::MsgTypeMismatch { msg_id, .. }
                if !msg_id.is_empty() =>
            {
                Some(msg_id)
            }
            _ => None,
        }
    }
}

/// What a Record carried, once checked.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodedRecord {
    /// A Msg in a no-session-context Record.
    Msg {
        /// The full Record (version, to_id, from_id).
        record: Record,
        /// The decoded, checked Msg.
        msg: Msg,
    },
    /// A connect Record (WebSocket/MQTT/STOMP/UDS) or a Disconnect: no Msg inside.
    Control(Record),
}

/// Decodes and checks a Record, then the Msg it carries.
pub fn decode_record(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedRecord, DecodeError> {
    if bytes.len() > limits.max_record_size {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            max: limits.max_record_size,
        });
    }
    let mut rec =
        Record::decode(bytes).map_err(|e| DecodeError::RecordUndecodable(e.to_string()))?;
    check_version(&rec)?;
    if rec.payload_security != 0 {
        return Err(DecodeError::PayloadSecurity {
            value: rec.payload_security,
            from_id: rec.from_id,
        });
    }
    match rec.record_type.take() {
        None => Err(DecodeError::UnknownRecordType {
            from_id: rec.from_id,
        }),
        Some(record::RecordType::SessionContext(_)) => Err(DecodeError::SessionContextNotAllowed {
            from_id: rec.from_id,
        }),
        Some(record::RecordType::NoSessionContext(nsc)) => {
            if nsc.payload.is_empty() {
                return Err(DecodeError::EmptyPayload {
                    from_id: rec.from_id,
                });
            }
            let msg =
                Msg::decode(nsc.payload.as_slice()).map_err(|e| DecodeError::MsgUndecodable {
                    reason: e.to_string(),
                    from_id: rec.from_id.clone(),
                })?;
            // The reply to a bad Msg goes to the Record's sender: keep it in the error.
            check_msg(&msg).map_err(|e| e.with_from_id(&rec.from_id))?;
            rec.record_type = Some(record::RecordType::NoSessionContext(nsc));
            Ok(DecodedRecord::Msg { record: rec, msg })
        }
        Some(other) => {
            rec.record_type = Some(other);
            Ok(DecodedRecord::Control(rec))
        }
    }
}

fn check_version(rec: &Record) -> Result<(), DecodeError> {
    // Minor versions are backward compatible by design (receivers ignore unknown
    // fields), so any 1.x is accepted; another major or a malformed string is not.
    let ok = rec.version.split_once('.').is_some_and(|(major, minor)| {
        major == "1" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(DecodeError::UnsupportedVersion {
            version: rec.version.clone(),
            supported: SUPPORTED_VERSIONS.join(","),
            from_id: rec.from_id.clone(),
        })
    }
}

/// Checks that a Msg has a header and a body, and that they agree on the message type.
pub fn check_msg(msg: &Msg) -> Result<(), DecodeError> {
    let Some(header) = &msg.header else {
        return Err(DecodeError::MsgIncomplete {
            what: "no header",
            msg_id: String::new(),
            from_id: String::new(),
        });
    };
    let msg_id = header.msg_id.clone();
    let Some(body_type) = body_msg_type(msg) else {
        return Err(DecodeError::MsgIncomplete {
            what: "no body or an empty body",
            msg_id,
            from_id: String::new(),
        });
    };
    if header.msg_type != body_type as i32 {
        return Err(DecodeError::MsgTypeMismatch {
            msg_id,
            header: header.msg_type,
            body: body_type,
            from_id: String::new(),
        });
    }
    Ok(())
}

/// The message type a Msg's body carries, or None when the body is missing or empty.
pub fn body_msg_type(msg: &Msg) -> Option<MsgType> {
    use request::ReqType as Q;
    use response::RespType as R;
    let t = match msg.body.as_ref()?.msg_body.as_ref()? {
        body::MsgBody::Error(_) => MsgType::Error,
        body::MsgBody::Request(r) => match r.req_type.as_ref()? {
            Q::Get(_) => MsgType::Get,
            Q::GetSupportedDm(_) => MsgType::GetSupportedDm,
            Q::GetInstances(_) => MsgType::GetInstances,
            Q::Set(_) => MsgType::Set,
            Q::Add(_) => MsgType::Add,
            Q::Delete(_) => MsgType::Delete,
            Q::Operate(_) => MsgType::Operate,
            Q::Notify(_) => MsgType::Notify,
            Q::GetSupportedProtocol(_) => MsgType::GetSupportedProto,
            Q::Register(_) => MsgType::Register,
            Q::Deregister(_) => MsgType::Deregister,
        },
        body::MsgBody::Response(r) => match r.resp_type.as_ref()? {
            R::GetResp(_) => MsgType::GetResp,
            R::GetSupportedDmResp(_) => MsgType::GetSupportedDmResp,
            R::GetInstancesResp(_) => MsgType::GetInstancesResp,
            R::SetResp(_) => MsgType::SetResp,
            R::AddResp(_) => MsgType::AddResp,
            R::DeleteResp(_) => MsgType::DeleteResp,
            R::OperateResp(_) => MsgType::OperateResp,
            R::NotifyResp(_) => MsgType::NotifyResp,
            R::GetSupportedProtocolResp(_) => MsgType::GetSupportedProtoResp,
            R::RegisterResp(_) => MsgType::RegisterResp,
            R::DeregisterResp(_) => MsgType::DeregisterResp,
        },
    };
    Some(t)
}
