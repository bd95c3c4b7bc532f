//! Records: every record type with every Record field, and `decode_record` on Records
//! that rusp-lib built around each message type.

use prost::Message;
use rusp_lib::usp_builder as rb;
use rusp_lib::usp_record as rr;
use rusp_lib::usp_record::mod_Record::OneOfrecord_type;
use rusp_lib::usp_record::mod_SessionContextRecord::PayloadSARState as RuspSar;
use usp_proto::decode::{DecodeLimits, DecodedRecord, body_msg_type, decode_record};
use usp_proto::usp_record::record::{PayloadSecurity, RecordType};
use usp_proto::usp_record::session_context_record::PayloadSarState as Sar;
use usp_proto::usp_record::{self as ur, Record};

use super::support::{Case, Interop};
use super::{gsdm_resp, notify, requests, responses};

const VERSION: &str = "1.3";
const TO_ID: &str = "proto::controller-1";
const FROM_ID: &str = "os::00D09E-usphub-0042";
const MAC: &[u8] = b"mac-signature-bytes";
const CERT: &[u8] = b"sender-cert-der";

/// One Record written with rusp-lib and as a usp-proto value.
struct RecordCase {
    rusp: rr::Record,
    ours: Record,
}

impl Interop for RecordCase {
    fn assert_from_rusp(self) {
        let bytes = self.rusp.to_vec().expect("rusp-lib encodes the Record");
        let decoded = Record::decode(bytes.as_slice()).expect("usp-proto decodes rusp's bytes");
        assert_eq!(decoded, self.ours);
    }

    fn assert_to_rusp_and_back(self) {
        let bytes = self.ours.encode_to_vec();
        let theirs = rr::Record::from_bytes(&bytes).expect("rusp-lib decodes and accepts it");
        assert_eq!(theirs, self.rusp, "Record as rusp-lib sees it");
        let again = theirs.to_vec().expect("rusp-lib re-encodes the Record");
        let back = Record::decode(again.as_slice()).expect("usp-proto decodes the re-encoding");
        assert_eq!(back, self.ours, "nothing lost or changed through rusp-lib");
    }
}

/// A rusp-lib Record builder with every header field set.
fn rusp_base() -> rb::RecordBuilder {
    rb::RecordBuilder::new()
        .with_version(VERSION.into())
        .with_to_id(TO_ID.into())
        .with_from_id(FROM_ID.into())
        .with_mac_signature(MAC.to_vec())
        .with_sender_cert(CERT.to_vec())
}

fn ours_base(security: PayloadSecurity, record_type: RecordType) -> Record {
    Record {
        version: VERSION.into(),
        to_id: TO_ID.into(),
        from_id: FROM_ID.into(),
        payload_security: security as i32,
        mac_signature: MAC.to_vec(),
        sender_cert: CERT.to_vec(),
        record_type: Some(record_type),
    }
}

fn built(builder: rb::RecordBuilder) -> rr::Record {
    builder.build().expect("rusp-lib builds the Record")
}

fn no_session_context() -> RecordCase {
    let payload = usp_proto::builder::get_supported_protocol("rec-1", "1.4").encode_to_vec();
    RecordCase {
        rusp: built(
            rusp_base()
                .with_payload_security_tls12()
                .with_no_session_context_payload_bytes(payload.clone()),
        ),
        ours: ours_base(
            PayloadSecurity::Tls12,
            RecordType::NoSessionContext(ur::NoSessionContextRecord { payload }),
        ),
    }
}

/// Each SAR state appears in each of the two SAR fields, never equal within a row.
const SAR_ROWS: [(Sar, Sar); 4] = [
    (Sar::Begin, Sar::Inprocess),
    (Sar::Inprocess, Sar::Complete),
    (Sar::Complete, Sar::None),
    (Sar::None, Sar::Begin),
];

fn rusp_sar(s: Sar) -> RuspSar {
    match s {
        Sar::None => RuspSar::NONE,
        Sar::Begin => RuspSar::BEGIN,
        Sar::Inprocess => RuspSar::INPROCESS,
        Sar::Complete => RuspSar::COMPLETE,
    }
}

/// rusp-lib's SessionContextBuilder fixes both SAR states to NONE and takes one payload,
/// so the record type is its struct, written directly.
fn session_context((sar, rec_sar): (Sar, Sar)) -> RecordCase {
    let payload = vec![b"payload-part-one".to_vec(), b"payload-part-two".to_vec()];
    let mut rusp = built(
        rusp_base()
            .with_payload_security_tls12()
            .as_websocket_connect_record(),
    );
    rusp.record_type = OneOfrecord_type::session_context(rr::SessionContextRecord {
        session_id: 11,
        sequence_id: 22,
        expected_id: 33,
        retransmit_id: 44,
        payload_sar_state: rusp_sar(sar),
        payloadrec_sar_state: rusp_sar(rec_sar),
        payload: payload.clone(),
    });
    let ours = ours_base(
        PayloadSecurity::Tls12,
        RecordType::SessionContext(ur::SessionContextRecord {
            session_id: 11,
            sequence_id: 22,
            expected_id: 33,
            retransmit_id: 44,
            payload_sar_state: sar as i32,
            payloadrec_sar_state: rec_sar as i32,
            payload,
        }),
    );
    RecordCase { rusp, ours }
}

fn websocket_connect() -> RecordCase {
    RecordCase {
        rusp: built(rusp_base().as_websocket_connect_record()),
        ours: ours_base(
            PayloadSecurity::Plaintext,
            RecordType::WebsocketConnect(ur::WebSocketConnectRecord {}),
        ),
    }
}

fn mqtt_connect(v5: bool) -> RecordCase {
    use rr::mod_MQTTConnectRecord::MQTTVersion as RuspV;
    use ur::mqtt_connect_record::MqttVersion as V;
    let (rusp_version, version) = if v5 {
        (RuspV::V5, V::V5)
    } else {
        (RuspV::V3_1_1, V::V311)
    };
    let topic = "usp/agent/os::00D09E-usphub-0042";
    RecordCase {
        rusp: built(rusp_base().as_mqtt_connect_record(rusp_version, topic.into())),
        ours: ours_base(
            PayloadSecurity::Plaintext,
            RecordType::MqttConnect(ur::MqttConnectRecord {
                version: version as i32,
                subscribed_topic: topic.into(),
            }),
        ),
    }
}

fn stomp_connect() -> RecordCase {
    use rr::mod_STOMPConnectRecord::STOMPVersion;
    RecordCase {
        rusp: built(
            rusp_base().as_stomp_connect_record(STOMPVersion::V1_2, "/queue/usphub".into()),
        ),
        ours: ours_base(
            PayloadSecurity::Plaintext,
            RecordType::StompConnect(ur::StompConnectRecord {
                version: ur::stomp_connect_record::StompVersion::V12 as i32,
                subscribed_destination: "/queue/usphub".into(),
            }),
        ),
    }
}

fn uds_connect() -> RecordCase {
    RecordCase {
        rusp: built(rusp_base().as_uds_connect_record()),
        ours: ours_base(
            PayloadSecurity::Plaintext,
            RecordType::UdsConnect(ur::UdsConnectRecord {}),
        ),
    }
}

fn disconnect() -> RecordCase {
    RecordCase {
        rusp: built(rusp_base().as_disconnect_record("shutting down".into(), 7105)),
        ours: ours_base(
            PayloadSecurity::Plaintext,
            RecordType::Disconnect(ur::DisconnectRecord {
                reason: "shutting down".into(),
                reason_code: 7105,
            }),
        ),
    }
}

both_ways! {
    no_session_context() => no_session_context_record_from_rusp_decodes_with_every_field,
        no_session_context_record_to_rusp_and_back_keeps_every_field;
    websocket_connect() => websocket_connect_record_from_rusp_decodes_with_every_field,
        websocket_connect_record_to_rusp_and_back_keeps_every_field;
    mqtt_connect(false) => mqtt_3_1_1_connect_record_from_rusp_decodes_with_every_field,
        mqtt_3_1_1_connect_record_to_rusp_and_back_keeps_every_field;
    mqtt_connect(true) => mqtt_5_connect_record_from_rusp_decodes_with_every_field,
        mqtt_5_connect_record_to_rusp_and_back_keeps_every_field;
    stomp_connect() => stomp_connect_record_from_rusp_decodes_with_every_field,
        stomp_connect_record_to_rusp_and_back_keeps_every_field;
    uds_connect() => uds_connect_record_from_rusp_decodes_with_every_field,
        uds_connect_record_to_rusp_and_back_keeps_every_field;
    disconnect() => disconnect_record_from_rusp_decodes_with_every_field,
        disconnect_record_to_rusp_and_back_keeps_every_field;
}

#[test]
fn session_context_record_from_rusp_decodes_with_every_field() {
    for row in SAR_ROWS {
        session_context(row).assert_from_rusp();
    }
}

#[test]
fn session_context_record_to_rusp_and_back_keeps_every_field() {
    for row in SAR_ROWS {
        session_context(row).assert_to_rusp_and_back();
    }
}

/// Every message case of the other files.
const ALL_MSGS: &[fn() -> Case] = &[
    requests::get,
    requests::set,
    requests::add,
    requests::delete,
    requests::operate,
    || requests::get_supported_dm(requests::GSDM_FLAG_ROWS[4]),
    requests::get_instances,
    requests::get_supported_protocol,
    requests::register,
    requests::deregister,
    notify::event,
    notify::value_change,
    notify::obj_creation,
    notify::obj_deletion,
    notify::oper_complete_output_args,
    notify::oper_complete_cmd_failure,
    notify::on_board_req,
    notify::notify_resp,
    responses::get_resp,
    responses::set_resp_success,
    responses::set_resp_failure,
    responses::add_resp_success,
    responses::add_resp_failure,
    responses::delete_resp_success,
    responses::delete_resp_failure,
    responses::operate_resp,
    responses::get_instances_resp,
    responses::get_supported_protocol_resp,
    responses::register_resp,
    responses::deregister_resp,
    responses::error_with_param_errs,
    gsdm_resp::get_supported_dm_resp,
];

#[test]
fn decode_record_accepts_rusp_records_carrying_each_message_type() {
    let mut seen = std::collections::BTreeSet::new();
    for case in ALL_MSGS.iter().map(|f| f()) {
        let record = rb::RecordBuilder::new()
            .with_to_id(TO_ID.into())
            .with_from_id(FROM_ID.into())
            .with_no_session_context_payload(&case.rusp_msg())
            .build()
            .expect("rusp-lib builds the Record");
        let bytes = record.to_vec().expect("rusp-lib encodes the Record");
        match decode_record(&bytes, &DecodeLimits::default()) {
            Ok(DecodedRecord::Msg { record, msg }) => {
                assert_eq!(record.version, "1.4", "{}", case.msg_id());
                assert_eq!(record.to_id, TO_ID, "{}", case.msg_id());
                assert_eq!(record.from_id, FROM_ID, "{}", case.msg_id());
                assert_eq!(msg, case.ours, "{}", case.msg_id());
                seen.insert(body_msg_type(&msg).expect("checked Msg has a body type") as i32);
            }
            other => panic!("{}: {other:?}", case.msg_id()),
        }
    }
    // Error plus 11 requests plus 11 responses.
    assert_eq!(seen.len(), 23, "every USP message type was carried");
}

#[test]
fn decode_record_passes_rusp_connect_and_disconnect_records_through_as_control() {
    for case in [
        websocket_connect(),
        mqtt_connect(true),
        stomp_connect(),
        uds_connect(),
        disconnect(),
    ] {
        let bytes = case.rusp.to_vec().expect("rusp-lib encodes the Record");
        match decode_record(&bytes, &DecodeLimits::default()) {
            Ok(DecodedRecord::Control(record)) => assert_eq!(record, case.ours),
            other => panic!("{:?}: {other:?}", case.ours.record_type),
        }
    }
}
