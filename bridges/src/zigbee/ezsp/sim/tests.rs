//! The simulated NCP's state machine, frame in, frames out (no I/O).

use super::state::{NcpState, Out};
use crate::zigbee::ezsp::commands::{self as c, Callback, Command};
use crate::zigbee::ezsp::frame::{Header, HeaderFormat};
use crate::zigbee::ezsp::wire::{Status, Wire};
use crate::zigbee::sim::Scenario;

fn cmd<C: Command>(seq: u8, v: u8, command: &C) -> Vec<u8> {
    Header::command(seq, C::ID)
        .emit(HeaderFormat::for_version(v), &c::encode(command, v))
        .unwrap()
}

fn frames(outs: &[Out], v: u8) -> Vec<(Header, Vec<u8>)> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Frame(b) => Header::parse(b, HeaderFormat::for_version(v))
                .ok()
                .map(|(h, p)| (h, p.to_vec())),
            Out::Later(..) => None,
        })
        .collect()
}

fn rsp<W: Wire>(outs: &[Out], v: u8) -> W {
    let (_, p) = &frames(outs, v)[0];
    c::decode(p, v).unwrap()
}

#[test]
fn legacy_version_is_answered_in_the_legacy_layout_with_the_ncp_version() {
    let mut s = NcpState::new(1, 14, Scenario::default());
    let out = s.handle(&[0x00, 0x00, 0x00, 0x04]);
    let Out::Frame(b) = &out[0] else { panic!() };
    assert_eq!(&b[..4], [0x00, 0x80, 0x00, 14]);
    let out = s.handle(&cmd(
        1,
        14,
        &c::Version {
            desired_protocol_version: 14,
        },
    ));
    let r: c::VersionRsp = rsp(&out, 14);
    assert_eq!(r.protocol_version, 14);
}

#[test]
fn unknown_frame_ids_and_malformed_parameters_get_invalid_command() {
    let mut s = NcpState::new(1, 13, Scenario::default());
    let out = s.handle(&[0x05, 0x00, 0x01, 0x77, 0x07]);
    let f = frames(&out, 13);
    assert_eq!(
        (f[0].0.seq, f[0].0.frame_id, f[0].1.clone()),
        (5, c::INVALID_COMMAND, vec![0x31])
    );
    let out = s.handle(&[0x06, 0x00, 0x01, 0x52, 0x00]);
    assert_eq!(frames(&out, 13)[0].0.frame_id, c::INVALID_COMMAND);
}

#[test]
fn the_network_survives_an_ncp_reset_but_must_be_initialised_again() {
    let v = 14;
    let mut s = NcpState::new(1, v, Scenario::default());
    let r: c::StatusRsp = rsp(&s.handle(&cmd(0, v, &c::NetworkInit { bitmask: 0 })), v);
    assert_eq!(r.status, Status::not_joined(v));
    let params = c::NetworkParameters {
        pan_id: 0x1234,
        extended_pan_id: 7,
        radio_channel: 20,
        ..Default::default()
    };
    let out = s.handle(&cmd(1, v, &c::FormNetwork { parameters: params }));
    let f = frames(&out, v);
    assert_eq!(f[1].0.frame_id, c::StackStatusHandler::ID);
    s.reset();
    assert!(!s.network_up);
    let r: c::GetNetworkParametersRsp = rsp(&s.handle(&cmd(2, v, &c::GetNetworkParameters {})), v);
    assert_eq!(r.status, Status::not_joined(v));
    let r: c::StatusRsp = rsp(&s.handle(&cmd(3, v, &c::NetworkInit { bitmask: 0 })), v);
    assert!(r.status.is_ok());
    let r: c::GetNetworkParametersRsp = rsp(&s.handle(&cmd(4, v, &c::GetNetworkParameters {})), v);
    assert_eq!(
        (r.parameters.pan_id, r.parameters.radio_channel),
        (0x1234, 20)
    );
}

#[test]
fn an_end_device_joins_with_trust_center_child_and_device_annce_callbacks() {
    let scenario = "[[device]]\npreset = \"temperature_humidity\"\nieee = \"00124b0000000101\"\nnwk = 0x2001\n";
    let v = 13;
    let mut s = NcpState::new(1, v, Scenario::parse(scenario).unwrap());
    s.form_network(0x1234, 7, 15, [1; 16]);
    s.handle(&cmd(0, v, &c::NetworkInit { bitmask: 0 }));
    let out = s.join(0);
    let ids: Vec<u16> = frames(&out, v).iter().map(|(h, _)| h.frame_id).collect();
    assert_eq!(
        ids,
        [
            c::TrustCenterJoinHandler::ID,
            c::ChildJoinHandler::ID,
            c::IncomingMessageHandler::ID
        ]
    );
    let (_, p) = &frames(&out, v)[1];
    let child: c::ChildJoinHandler = c::decode(p, v).unwrap();
    assert_eq!(
        (child.joining, child.child_id, child.child_type),
        (true, 0x2001, 4)
    );
    assert!(s.join(0).is_empty());
}
