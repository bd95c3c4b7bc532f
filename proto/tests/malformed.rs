//! Malformed input to `usp_proto::decode::decode_record`: one test per `DecodeError`
//! variant (and the inputs that lead to it), the USP error code each carries, what
//! `from_id()` / `msg_id()` report, and 10,000 pseudo-random inputs that must never panic.

use prost::Message;
use usp_proto::builder::{self, no_session_record};
use usp_proto::decode::{DecodeError, DecodeLimits, DecodedRecord, decode_record};
use usp_proto::usp::header::MsgType;
use usp_proto::usp::{self, Body, Header, Msg, body};
use usp_proto::usp_record::record::{PayloadSecurity, RecordType};
use usp_proto::usp_record::{self as ur, Record};
use usp_proto::{ErrorCode, SUPPORTED_VERSIONS};

const TO_ID: &str = "os::00D09E-usphub-0042";
const FROM_ID: &str = "proto::controller-1";

fn get_msg() -> Msg {
    builder::get("m-1", &["Device.DeviceInfo."], 0)
}

/// A valid no-session Record carrying a Get.
fn valid_record() -> Record {
    no_session_record(TO_ID, FROM_ID, &get_msg())
}

/// A Record carrying `payload` as its no-session payload.
fn record_with_payload(payload: Vec<u8>) -> Vec<u8> {
    let mut rec = valid_record();
    rec.record_type = Some(RecordType::NoSessionContext(ur::NoSessionContextRecord {
        payload,
    }));
    rec.encode_to_vec()
}

/// A Record carrying `msg`, whatever shape it has.
fn record_with_msg(msg: &Msg) -> Vec<u8> {
    record_with_payload(msg.encode_to_vec())
}

fn decode(bytes: &[u8]) -> Result<DecodedRecord, DecodeError> {
    decode_record(bytes, &DecodeLimits::default())
}

fn refused(bytes: &[u8]) -> DecodeError {
    match decode(bytes) {
        Err(e) => e,
        Ok(d) => panic!("accepted malformed input: {d:?}"),
    }
}

/// Asserts the error's USP code and what it knows about the sender and the Msg.
fn assert_carries(e: &DecodeError, code: ErrorCode, from_id: Option<&str>, msg_id: Option<&str>) {
    assert_eq!(e.usp_code(), code, "usp_code of {e:?}");
    assert_eq!(e.from_id(), from_id, "from_id of {e:?}");
    assert_eq!(e.msg_id(), msg_id, "msg_id of {e:?}");
}

#[test]
fn valid_record_is_accepted() {
    match decode(&valid_record().encode_to_vec()) {
        Ok(DecodedRecord::Msg { record, msg }) => {
            assert_eq!(record.from_id, FROM_ID);
            assert_eq!(msg, get_msg());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn default_limit_is_64_kib_and_one_byte_more_is_too_large() {
    assert_eq!(DecodeLimits::default().max_record_size, 64 * 1024);
    let e = refused(&vec![0u8; 64 * 1024 + 1]);
    assert_eq!(
        e,
        DecodeError::TooLarge {
            size: 64 * 1024 + 1,
            max: 64 * 1024
        }
    );
    assert_carries(&e, ErrorCode::ResourcesExceeded, None, None);
}

#[test]
fn custom_limit_accepts_exactly_its_size_and_refuses_one_byte_less() {
    let bytes = valid_record().encode_to_vec();
    let exact = DecodeLimits {
        max_record_size: bytes.len(),
    };
    assert!(decode_record(&bytes, &exact).is_ok());
    let smaller = DecodeLimits {
        max_record_size: bytes.len() - 1,
    };
    assert_eq!(
        decode_record(&bytes, &smaller),
        Err(DecodeError::TooLarge {
            size: bytes.len(),
            max: bytes.len() - 1
        })
    );
}

#[test]
fn garbage_bytes_are_an_unparsable_record() {
    for garbage in [&[0xFFu8; 8][..], b"\x0f\x00", b"\x0a\x7f1.4"] {
        let e = refused(garbage);
        assert!(matches!(e, DecodeError::RecordUndecodable(_)), "{e:?}");
        assert_carries(&e, ErrorCode::RecordNotParsed, None, None);
    }
}

#[test]
fn truncated_record_is_an_unparsable_record() {
    let bytes = valid_record().encode_to_vec();
    // The payload is the last field: cutting into it leaves a length longer than the data.
    let e = refused(&bytes[..bytes.len() - 3]);
    assert!(matches!(e, DecodeError::RecordUndecodable(_)), "{e:?}");
    assert_carries(&e, ErrorCode::RecordNotParsed, None, None);
}

#[test]
fn other_major_empty_or_malformed_versions_are_refused_with_the_sender() {
    for version in ["2.0", "", "1.", "x.y", "1", "1.x", ".4"] {
        let mut rec = valid_record();
        rec.version = version.into();
        let e = refused(&rec.encode_to_vec());
        assert_eq!(
            e,
            DecodeError::UnsupportedVersion {
                version: version.into(),
                supported: SUPPORTED_VERSIONS.join(","),
                from_id: FROM_ID.into(),
            }
        );
        assert_carries(&e, ErrorCode::InvalidRecordValue, Some(FROM_ID), None);
    }
}

#[test]
fn every_1_x_version_is_accepted() {
    for version in ["1.0", "1.3", "1.4", "1.5"] {
        let mut rec = valid_record();
        rec.version = version.into();
        assert!(decode(&rec.encode_to_vec()).is_ok(), "version {version}");
    }
}

/// One length-delimited field with a one-byte tag and a one-byte length.
fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
    assert!(
        number < 16 && bytes.len() < 128,
        "one-byte tag and length only"
    );
    let mut out = vec![(number << 3) | 2, bytes.len() as u8];
    out.extend_from_slice(bytes);
    out
}

#[test]
fn record_whose_only_record_type_has_an_unknown_field_number_is_refused() {
    // version, to_id, from_id, then field 14: a record type this version does not define.
    let bytes = [
        field(1, b"1.4"),
        field(2, TO_ID.as_bytes()),
        field(3, FROM_ID.as_bytes()),
        field(14, b""),
    ]
    .concat();
    let e = refused(&bytes);
    assert_eq!(
        e,
        DecodeError::UnknownRecordType {
            from_id: FROM_ID.into()
        }
    );
    assert_carries(&e, ErrorCode::InvalidRecordValue, Some(FROM_ID), None);
}

#[test]
fn record_without_any_record_type_is_refused() {
    let mut rec = valid_record();
    rec.record_type = None;
    let e = refused(&rec.encode_to_vec());
    assert_eq!(
        e,
        DecodeError::UnknownRecordType {
            from_id: FROM_ID.into()
        }
    );
}

#[test]
fn payload_security_other_than_plaintext_is_refused() {
    for value in [PayloadSecurity::Tls12 as i32, 9] {
        let mut rec = valid_record();
        rec.payload_security = value;
        let e = refused(&rec.encode_to_vec());
        assert_eq!(
            e,
            DecodeError::PayloadSecurity {
                value,
                from_id: FROM_ID.into()
            }
        );
        assert_carries(
            &e,
            ErrorCode::SecureSessionNotSupported,
            Some(FROM_ID),
            None,
        );
    }
}

#[test]
fn session_context_record_is_refused() {
    let mut rec = valid_record();
    rec.record_type = Some(RecordType::SessionContext(ur::SessionContextRecord {
        session_id: 1,
        sequence_id: 1,
        expected_id: 1,
        retransmit_id: 0,
        payload_sar_state: 0,
        payloadrec_sar_state: 0,
        payload: vec![get_msg().encode_to_vec()],
    }));
    let e = refused(&rec.encode_to_vec());
    assert_eq!(
        e,
        DecodeError::SessionContextNotAllowed {
            from_id: FROM_ID.into()
        }
    );
    assert_carries(&e, ErrorCode::SessionContextNotAllowed, Some(FROM_ID), None);
}

#[test]
fn empty_payload_is_refused() {
    let e = refused(&record_with_payload(Vec::new()));
    assert_eq!(
        e,
        DecodeError::EmptyPayload {
            from_id: FROM_ID.into()
        }
    );
    assert_carries(&e, ErrorCode::InvalidRecordValue, Some(FROM_ID), None);
}

#[test]
fn payload_that_is_not_a_msg_is_refused_with_the_sender() {
    for payload in [&[0xFFu8, 0xFF, 0xFF][..], b"\x0a\x09\x0a\x03m-1"] {
        let e = refused(&record_with_payload(payload.to_vec()));
        match &e {
            DecodeError::MsgUndecodable { reason, from_id } => {
                assert!(!reason.is_empty());
                assert_eq!(from_id, FROM_ID);
            }
            other => panic!("{other:?}"),
        }
        assert_carries(&e, ErrorCode::MessageFailed, Some(FROM_ID), None);
    }
}

fn header(msg_type: i32) -> Option<Header> {
    Some(Header {
        msg_id: "m-1".into(),
        msg_type,
    })
}

#[test]
fn msg_without_header_is_incomplete_with_the_sender_and_no_msg_id() {
    let msg = Msg {
        header: None,
        ..get_msg()
    };
    let e = refused(&record_with_msg(&msg));
    assert_eq!(
        e,
        DecodeError::MsgIncomplete {
            what: "no header",
            msg_id: String::new(),
            from_id: FROM_ID.into(),
        }
    );
    assert_carries(&e, ErrorCode::MessageFailed, Some(FROM_ID), None);
}

#[test]
fn msg_without_body_or_with_an_empty_body_is_incomplete_with_sender_and_msg_id() {
    let empty_request = Body {
        msg_body: Some(body::MsgBody::Request(usp::Request { req_type: None })),
    };
    let empty_response = Body {
        msg_body: Some(body::MsgBody::Response(usp::Response { resp_type: None })),
    };
    let empty_body = Body { msg_body: None };
    for (msg_type, body) in [
        (MsgType::Get, None),
        (MsgType::Get, Some(empty_request)),
        (MsgType::GetResp, Some(empty_response)),
        (MsgType::Error, Some(empty_body)),
    ] {
        let msg = Msg {
            header: header(msg_type as i32),
            body,
        };
        let e = refused(&record_with_msg(&msg));
        assert_eq!(
            e,
            DecodeError::MsgIncomplete {
                what: "no body or an empty body",
                msg_id: "m-1".into(),
                from_id: FROM_ID.into(),
            },
            "{msg:?}"
        );
        assert_carries(&e, ErrorCode::MessageFailed, Some(FROM_ID), Some("m-1"));
    }
}

#[test]
fn header_type_disagreeing_with_the_body_is_refused_with_sender_and_msg_id() {
    let set = builder::request("m-1", usp::Set::default());
    let get_resp = builder::response("m-1", usp::GetResp::default());
    for (header_type, body_of, body_type) in [
        (MsgType::Get as i32, &set, MsgType::Set),
        (MsgType::Set as i32, &get_resp, MsgType::GetResp),
        (99, &get_msg(), MsgType::Get),
    ] {
        let msg = Msg {
            header: header(header_type),
            body: body_of.body.clone(),
        };
        let e = refused(&record_with_msg(&msg));
        assert_eq!(
            e,
            DecodeError::MsgTypeMismatch {
                msg_id: "m-1".into(),
                header: header_type,
                body: body_type,
                from_id: FROM_ID.into(),
            }
        );
        assert_carries(&e, ErrorCode::MessageFailed, Some(FROM_ID), Some("m-1"));
    }
}

#[test]
fn error_with_an_empty_msg_id_reports_no_msg_id() {
    let msg = Msg {
        header: Some(Header {
            msg_id: String::new(),
            msg_type: MsgType::Set as i32,
        }),
        body: get_msg().body,
    };
    let e = refused(&record_with_msg(&msg));
    assert!(matches!(e, DecodeError::MsgTypeMismatch { .. }), "{e:?}");
    assert_eq!(e.msg_id(), None);
    assert_eq!(e.from_id(), Some(FROM_ID));
}

#[test]
fn check_msg_without_a_record_reports_no_sender() {
    let msg = Msg {
        header: header(MsgType::Set as i32),
        body: get_msg().body,
    };
    let e = usp_proto::decode::check_msg(&msg).expect_err("header and body disagree");
    assert_eq!(
        e,
        DecodeError::MsgTypeMismatch {
            msg_id: "m-1".into(),
            header: MsgType::Set as i32,
            body: MsgType::Get,
            from_id: String::new(),
        }
    );
    assert_carries(&e, ErrorCode::MessageFailed, None, Some("m-1"));
}

/// xorshift64: deterministic pseudo-random numbers without a crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Half the inputs are random bytes, half are a valid Record with a few bytes changed and
/// maybe truncated, which reaches the Msg-level checks far more often.
fn fuzz_input(rng: &mut XorShift, valid: &[u8]) -> Vec<u8> {
    if rng.next() & 1 == 0 {
        let len = rng.below(300);
        (0..len).map(|_| rng.next() as u8).collect()
    } else {
        let mut bytes = valid.to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(bytes.len());
            bytes[at] = rng.next() as u8;
        }
        if rng.next().is_multiple_of(4) {
            bytes.truncate(rng.below(bytes.len() + 1));
        }
        bytes
    }
}

#[test]
fn ten_thousand_pseudo_random_inputs_never_panic() {
    let valid = valid_record().encode_to_vec();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..10_000 {
        match decode(&fuzz_input(&mut rng, &valid)) {
            Ok(DecodedRecord::Msg { msg, .. }) => {
                usp_proto::decode::check_msg(&msg).expect("an accepted Msg passes its checks");
                accepted += 1;
            }
            Ok(DecodedRecord::Control(_)) => accepted += 1,
            Err(e) => {
                let code = e.usp_code().code();
                assert!((7000..=7106).contains(&code), "{e:?} -> {code}");
                refused += 1;
            }
        }
    }
    assert_eq!(accepted + refused, 10_000);
    // Both outcomes occur (680 / 9,320 with this seed): the inputs reach past the Record.
    assert!(
        accepted > 0 && refused > 0,
        "accepted {accepted}, refused {refused}"
    );
}
