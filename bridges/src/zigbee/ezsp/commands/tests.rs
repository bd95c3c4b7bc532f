//! Byte vectors computed with the bellows 1.2.1 serialisers (v13 and v14 command tables) for
//! the same field values, so layout mistakes on either side show up here.

use super::*;
use crate::zigbee::ezsp::wire::{LvBytes, Status};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn aps() -> EmberApsFrame {
    EmberApsFrame {
        profile_id: 0x0104,
        cluster_id: 0x0006,
        source_endpoint: 1,
        destination_endpoint: 1,
        options: 0x0140,
        group_id: 0,
        sequence: 0x22,
    }
}

fn incoming() -> IncomingMessageHandler {
    IncomingMessageHandler {
        message_type: INCOMING_UNICAST,
        aps_frame: aps(),
        lqi: 0xFF,
        rssi: -40,
        sender: 0x1234,
        sender_eui64: 0x0012_4B00_0000_0102,
        binding_index: 0xFF,
        address_index: 0xFF,
        timestamp: 0x0102_0304,
        message: LvBytes(vec![0x18, 0x01, 0x0A]),
    }
}

#[test]
fn incoming_message_before_v14_has_lqi_rssi_then_sender() {
    let bytes = hex("000401060001014001000022ffd83412ffff0318010a");
    let mut m = incoming();
    m.sender_eui64 = 0;
    m.timestamp = 0;
    assert_eq!(encode(&m, 13), bytes);
    assert_eq!(decode::<IncomingMessageHandler>(&bytes, 13), Ok(m));
}

#[test]
fn incoming_message_from_v14_carries_packet_info() {
    let bytes = hex("000401060001014001000022341202010000004b1200ffffffd8040302010318010a");
    assert_eq!(encode(&incoming(), 14), bytes);
    assert_eq!(decode::<IncomingMessageHandler>(&bytes, 17), Ok(incoming()));
    // The v13 reading of v14 bytes must not panic, whatever it yields.
    let _ = decode::<IncomingMessageHandler>(&bytes, 13);
}

#[test]
fn message_sent_status_moves_first_and_widens_at_v14() {
    let mut m = MessageSentHandler {
        message_type: OUTGOING_DIRECT,
        destination: 0x1234,
        aps_frame: aps(),
        message_tag: 7,
        status: Status::delivery_failed(13),
        message: LvBytes(Vec::new()),
    };
    let v13 = hex("0034120401060001014001000022076600");
    assert_eq!(encode(&m, 13), v13);
    assert_eq!(decode::<MessageSentHandler>(&v13, 13), Ok(m.clone()));
    m.status = Status::delivery_failed(14);
    let v14 = hex("020c00000034120401060001014001000022070000");
    assert_eq!(encode(&m, 14), v14);
    assert_eq!(decode::<MessageSentHandler>(&v14, 14), Ok(m));
}

#[test]
fn send_unicast_tag_is_one_byte_before_v14_and_two_after() {
    let mut u = SendUnicast {
        message_type: OUTGOING_DIRECT,
        destination: 0x1234,
        aps_frame: aps(),
        message_tag: 7,
        message: LvBytes(vec![0, 1]),
    };
    assert_eq!(encode(&u, 13), hex("003412040106000101400100002207020001"));
    u.message_tag = 0x0107;
    let v14 = hex("00341204010600010140010000220701020001");
    assert_eq!(encode(&u, 14), v14);
    assert_eq!(decode::<SendUnicast>(&v14, 14), Ok(u));
}

#[test]
fn send_broadcast_from_v14_has_alias_and_nwk_sequence() {
    let b = SendBroadcast {
        destination: 0xFFFC,
        aps_frame: aps(),
        radius: 30,
        message_tag: 1,
        message: LvBytes(vec![1]),
    };
    let v14 = hex("fffffcff0004010600010140010000221e01000101");
    assert_eq!(encode(&b, 14), v14);
    assert_eq!(decode::<SendBroadcast>(&v14, 14), Ok(b));
}

#[test]
fn send_multicast_swaps_the_nonmember_radius_for_a_broadcast_address_at_v14() {
    let mut m = SendMulticast {
        aps_frame: EmberApsFrame {
            destination_endpoint: 0xFF,
            options: 0,
            group_id: 0x0010,
            sequence: 5,
            ..aps()
        },
        hops: 0,
        nonmember_radius: 3,
        broadcast_addr: 0,
        message_tag: 2,
        message: LvBytes(vec![1, 2]),
    };
    let v13 = hex("0401060001ff0000100005000302020102");
    assert_eq!(encode(&m, 13), v13);
    assert_eq!(decode::<SendMulticast>(&v13, 13), Ok(m.clone()));
    m.nonmember_radius = 0;
    m.broadcast_addr = 0xFFFD;
    let v14 = hex("0401060001ff000010000500fdffffff000200020102");
    assert_eq!(encode(&m, 14), v14);
    assert_eq!(decode::<SendMulticast>(&v14, 14), Ok(m));
}

#[test]
fn network_parameters_and_trust_center_join_match_bellows() {
    let np = NetworkParameters {
        extended_pan_id: 0x1122_3344_5566_7788,
        pan_id: 0x1A62,
        radio_tx_power: 8,
        radio_channel: 15,
        join_method: 0,
        nwk_manager_id: 0,
        nwk_update_id: 0,
        channels: 1 << 15,
    };
    let bytes = hex("8877665544332211621a080f0000000000800000");
    assert_eq!(encode(&np, 8), bytes);
    assert_eq!(decode::<NetworkParameters>(&bytes, 8), Ok(np));
    let tcj = hex("341202010000004b120001000000");
    let j: TrustCenterJoinHandler = decode(&tcj, 13).unwrap();
    assert_eq!(
        (j.new_node_id, j.new_node_eui64, j.status),
        (0x1234, 0x0012_4B00_0000_0102, device_update::UNSECURED_JOIN)
    );
    assert_eq!(encode(&j, 13), tcj);
}

#[test]
fn add_endpoint_puts_both_counts_before_both_lists() {
    let a = AddEndpoint {
        endpoint: 1,
        profile_id: 0x0104,
        device_id: 5,
        device_version: 0,
        input_clusters: vec![0, 6],
        output_clusters: vec![0x0402],
    };
    let bytes = hex("0104010500000201000006000204");
    assert_eq!(encode(&a, 13), bytes);
    assert_eq!(decode::<AddEndpoint>(&bytes, 13), Ok(a));
    assert_eq!(
        decode::<AddEndpoint>(&hex("0104010500000209"), 13),
        Err(DecodeError::Truncated)
    );
}

#[test]
fn export_key_response_order_differs_between_v13_and_v14() {
    let key = [0xAB; 16];
    let mut v13 = key.to_vec();
    v13.extend_from_slice(&[0, 0, 0, 0]);
    let r: ExportKeyRsp = decode(&v13, 13).unwrap();
    assert_eq!((r.status, r.key), (0, key));
    let r14 = ExportKeyRsp {
        status: 0,
        key,
        context: Some(SecurityManagerContext {
            core_key_type: KEY_TYPE_NETWORK,
            ..Default::default()
        }),
    };
    let b = encode(&r14, 14);
    assert_eq!(&b[..4], [0, 0, 0, 0]);
    assert_eq!(decode::<ExportKeyRsp>(&b, 14), Ok(r14));
}

#[test]
fn every_declared_frame_decodes_truncated_input_without_panicking() {
    let long = [0xFFu8; 64];
    for n in 0..long.len() {
        let b = &long[..n];
        for v in [8u8, 13, 14, 17] {
            let _ = decode::<IncomingMessageHandler>(b, v);
            let _ = decode::<MessageSentHandler>(b, v);
            let _ = decode::<SendUnicast>(b, v);
            let _ = decode::<SendBroadcast>(b, v);
            let _ = decode::<SendMulticast>(b, v);
            let _ = decode::<AddEndpoint>(b, v);
            let _ = decode::<GetNetworkParametersRsp>(b, v);
            let _ = decode::<ExportKeyRsp>(b, v);
            let _ = decode::<GetKeyRsp>(b, v);
            let _ = decode::<IncomingRouteRecordHandler>(b, v);
        }
    }
    assert_eq!(name(0x0045), "incomingMessageHandler");
    assert_eq!(name(0x7777), "unknown");
}
