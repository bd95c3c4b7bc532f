//! Payload layouts checked against Host API byte examples.

use super::*;

#[test]
fn function_ids_round_trip_and_unknown_survives() {
    for s in FUNCTIONS {
        assert_eq!(FunctionId::from(u8::from(s.id)), s.id);
    }
    assert_eq!(FunctionId::from(0xEE), FunctionId::Unknown(0xEE));
    assert_eq!(u8::from(FunctionId::Unknown(0xEE)), 0xEE);
    assert_eq!(u8::from(FunctionId::SendData), 0x13);
    assert_eq!(u8::from(FunctionId::BridgeApplicationCommandHandler), 0xA8);
}

#[test]
fn send_data_table_entry_expects_response_and_callback() {
    let s = spec_of(FunctionId::SendData);
    assert!(s.response && s.callback);
    assert!((s.response_ok)(&[0x01]));
    assert!(!(s.response_ok)(&[0x00]));
    assert!(!spec_of(FunctionId::SoftReset).response);
    assert!((spec_of(FunctionId::RemoveFailedNode).response_ok)(&[0x00]));
}

#[test]
fn version_response_parses_zwave_js_mock_answer() {
    let mut p = b"Z-Wave 7.17\0".to_vec();
    p.push(0x01);
    let v = VersionInfo::parse(&p).unwrap();
    assert_eq!(v.version, "Z-Wave 7.17");
    assert_eq!(v.library_type, 1);
    assert_eq!(VersionInfo::parse(&v.encode()).unwrap(), v);
    assert_eq!(v.encode().len(), 13);
    let mock = VersionInfo::parse(b"Z-Wave 7.17.99\0\x07").unwrap();
    assert_eq!(mock.version, "Z-Wave 7.17.99");
    assert_eq!(mock.library_type, 7);
    assert!(VersionInfo::parse(&p[..1]).is_err());
}

#[test]
fn init_data_node_bitmask_decodes_node_ids() {
    // Nodes 1, 2 and 9.
    let mut p = vec![0x08, 0x00, 29, 0b0000_0011, 0b0000_0001];
    p.extend_from_slice(&[0u8; 27]);
    p.extend_from_slice(&[0x07, 0x00]);
    let d = InitData::parse(&p).unwrap();
    assert_eq!(d.nodes, vec![1, 2, 9]);
    assert_eq!(InitData::parse(&d.encode()).unwrap(), d);
    assert!(InitData::parse(&[0x08, 0x00, 29, 0x01]).is_err());
}

#[test]
fn memory_get_id_reads_big_endian_home_id() {
    let m = MemoryId::parse(&[0xC0, 0xFF, 0xEE, 0x01, 0x01]).unwrap();
    assert_eq!(m.home_id, 0xC0FF_EE01);
    assert_eq!(m.node_id, 1);
}

#[test]
fn node_protocol_info_classifies_listening_flirs_and_sleeping() {
    let switch = NodeProtocolInfo::parse(&[0xD3, 0x9C, 0x01, 0x04, 0x10, 0x01]).unwrap();
    assert!(switch.is_listening() && !switch.is_sleeping());
    let lock = NodeProtocolInfo::parse(&[0x53, 0xDC, 0x01, 0x04, 0x40, 0x03]).unwrap();
    assert!(lock.is_frequent_listening() && !lock.is_sleeping());
    let sensor = NodeProtocolInfo::parse(&[0x53, 0x9C, 0x01, 0x04, 0x07, 0x01]).unwrap();
    assert!(sensor.is_sleeping());
}

#[test]
fn application_command_handler_extracts_cc_frame() {
    // Node 5 sends Binary Switch Report 0xFF.
    let p = Bytes::from_static(&[0x00, 0x05, 0x03, 0x25, 0x03, 0xFF]);
    let a = ApplicationCommand::parse(FunctionId::ApplicationCommandHandler, &p).unwrap();
    assert_eq!(a.source, 5);
    assert_eq!(&a.command[..], &[0x25, 0x03, 0xFF]);
    let b = Bytes::from_static(&[0x00, 0x01, 0x05, 0x03, 0x25, 0x03, 0xFF, 0x00, 0x7F]);
    let a = ApplicationCommand::parse(FunctionId::BridgeApplicationCommandHandler, &b).unwrap();
    assert_eq!(a.source, 5);
    let short = Bytes::from_static(&[0x00, 0x05, 0x09, 0x25]);
    assert!(ApplicationCommand::parse(FunctionId::ApplicationCommandHandler, &short).is_err());
}

#[test]
fn application_update_nif_lists_command_classes_before_mark() {
    let p = [0x84, 0x07, 0x06, 0x04, 0x10, 0x01, 0x25, 0x32, 0xEF, 0x20];
    let u = ApplicationUpdate::parse(&p).unwrap();
    assert_eq!(u.update, UpdateType::NodeInfoReceived);
    assert_eq!(u.info.node_id, 7);
    assert_eq!(u.info.classes, (0x04, 0x10, 0x01));
    assert_eq!(u.info.command_classes, vec![0x25, 0x32]);
}

#[test]
fn add_node_callbacks_parse_with_and_without_nif() {
    let ready =
        NodeStatusCallback::parse(FunctionId::AddNodeToNetwork, &[0x03, 0x01, 0x00, 0x00]).unwrap();
    assert_eq!(ready.status, NodeStatus::LearnReady);
    let cb = NodeStatusCallback {
        callback_id: 3,
        status: NodeStatus::AddingEndNode,
        info: NodeInfo {
            node_id: 4,
            classes: (4, 0x10, 1),
            command_classes: vec![0x25, 0x86],
        },
    };
    assert_eq!(
        NodeStatusCallback::parse(FunctionId::AddNodeToNetwork, &cb.encode()).unwrap(),
        cb
    );
}

#[test]
fn send_data_request_layout_matches_spec() {
    let r = HostRequest::send_data(2, &[0x20, 0x01, 0xFF], 0x25, 1);
    assert_eq!(r.payload, vec![0x02, 0x03, 0x20, 0x01, 0xFF, 0x25, 0x01]);
    let cb = SendDataCallback::parse(&[0x01, 0x01]).unwrap();
    assert_eq!(cb.status, TxStatus::NoAck);
}
