//! Virtual device behaviour: ZDP answers, ZCL reads/writes/commands and reports.

use super::presets;
use crate::zigbee::backend::{ApsFrame, PROFILE_HA, PROFILE_ZDP};
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::zcl::frame::{cmd, status};
use crate::zigbee::zcl::types::ty;
use crate::zigbee::zcl::{
    AttributeRecord, GeneralCommand, TypedValue, ZclFrame, ZclHeader, ZclValue,
};
use crate::zigbee::zdo::{self, Zdp};

fn zcl(cluster: u16, header: ZclHeader, payload: Vec<u8>) -> ApsFrame {
    ApsFrame {
        dst_nwk: 0x1001,
        dst_endpoint: 1,
        src_endpoint: 1,
        profile: PROFILE_HA,
        cluster,
        payload: ZclFrame { header, payload }.to_bytes(),
    }
}

#[test]
fn plug_answers_active_endpoints_and_simple_descriptor() {
    let mut plug = presets::build("plug", 1, 0x1001, "m", "p").unwrap();
    let req = |c: u16, z: Zdp| ApsFrame {
        dst_nwk: 0x1001,
        dst_endpoint: 0,
        src_endpoint: 0,
        profile: PROFILE_ZDP,
        cluster: c,
        payload: z.encode(3),
    };
    let out = plug.handle(&req(
        zdo::cluster::ACTIVE_EP_REQ,
        Zdp::ActiveEpReq { nwk: 0x1001 },
    ));
    let (tsn, rsp) = Zdp::parse(out[0].cluster, &out[0].payload).unwrap();
    assert_eq!(
        (tsn, rsp),
        (
            3,
            Zdp::ActiveEpRsp {
                status: 0,
                nwk: 0x1001,
                endpoints: vec![1]
            }
        )
    );
    let out = plug.handle(&req(
        zdo::cluster::SIMPLE_DESC_REQ,
        Zdp::SimpleDescReq {
            nwk: 0x1001,
            endpoint: 1,
        },
    ));
    let (_, rsp) = Zdp::parse(out[0].cluster, &out[0].payload).unwrap();
    let Zdp::SimpleDescRsp {
        descriptor: Some(d),
        ..
    } = rsp
    else {
        panic!("{rsp:?}")
    };
    assert!(d.in_clusters.contains(&id::ON_OFF));
}

#[test]
fn on_command_switches_plug_and_is_confirmed_with_default_response_and_report() {
    let mut plug = presets::build("plug", 1, 0x1001, "m", "p").unwrap();
    let out = plug.handle(&zcl(id::ON_OFF, ZclHeader::cluster(7, 0x01), vec![]));
    assert_eq!(
        plug.attribute(1, id::ON_OFF, 0).unwrap().value,
        ZclValue::Bool(true)
    );
    let rsp = ZclFrame::parse(&out[0].payload).unwrap();
    assert_eq!(rsp.header.tsn, 7);
    assert_eq!(
        GeneralCommand::parse(rsp.header.command, &rsp.payload).unwrap(),
        GeneralCommand::DefaultRsp {
            command: 0x01,
            status: status::SUCCESS
        }
    );
    let report = ZclFrame::parse(&out[1].payload).unwrap();
    assert_eq!(report.header.command, cmd::REPORT_ATTRIBUTES);
}

#[test]
fn read_of_missing_attribute_reports_unsupported_and_write_changes_value() {
    let mut bulb = presets::build("dimmable_bulb", 1, 0x1001, "m", "p").unwrap();
    let read = GeneralCommand::ReadAttributes(vec![0x0004, 0x0099]);
    let out = bulb.handle(&zcl(
        id::BASIC,
        ZclHeader::global(1, cmd::READ_ATTRIBUTES),
        read.encode(),
    ));
    let f = ZclFrame::parse(&out[0].payload).unwrap();
    let GeneralCommand::ReadAttributesRsp(recs) =
        GeneralCommand::parse(f.header.command, &f.payload).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        recs[0].result.as_ref().unwrap().value,
        ZclValue::String("m".into())
    );
    assert_eq!(recs[1].result, Err(status::UNSUPPORTED_ATTRIBUTE));

    let write = GeneralCommand::WriteAttributes(vec![AttributeRecord {
        id: 0,
        value: TypedValue::new(ty::UINT8, ZclValue::Unsigned(100)),
    }]);
    let out = bulb.handle(&zcl(
        id::LEVEL_CONTROL,
        ZclHeader::global(2, cmd::WRITE_ATTRIBUTES),
        write.encode(),
    ));
    let f = ZclFrame::parse(&out[0].payload).unwrap();
    assert_eq!(
        GeneralCommand::parse(f.header.command, &f.payload).unwrap(),
        GeneralCommand::WriteAttributesRsp(vec![])
    );
    assert_eq!(
        bulb.attribute(1, id::LEVEL_CONTROL, 0).unwrap().value,
        ZclValue::Unsigned(100)
    );
}

#[test]
fn silent_device_answers_nothing() {
    let mut plug = presets::build("plug", 1, 0x1001, "m", "p").unwrap();
    plug.responsive = false;
    assert!(
        plug.handle(&zcl(id::ON_OFF, ZclHeader::cluster(7, 0x01), vec![]))
            .is_empty()
    );
}

#[test]
fn colour_bulb_moves_to_a_colour_temperature_and_reports_it() {
    let mut bulb = presets::build("colour_bulb", 1, 0x1001, "m", "p").unwrap();
    // Move to Color Temperature: 250 mireds (4000 K), transition 0.
    let out = bulb.handle(&zcl(
        id::COLOR_CONTROL,
        ZclHeader::cluster(4, 0x0A),
        vec![0xFA, 0x00, 0x00, 0x00],
    ));
    assert_eq!(
        bulb.attribute(1, id::COLOR_CONTROL, 0x0007).unwrap().value,
        ZclValue::Unsigned(250)
    );
    assert_eq!(
        bulb.attribute(1, id::COLOR_CONTROL, 0x0008).unwrap().value,
        ZclValue::Unsigned(2)
    );
    let report = ZclFrame::parse(&out[1].payload).unwrap();
    assert_eq!(report.header.command, cmd::REPORT_ATTRIBUTES);
    // A truncated Move to Color is refused as malformed and changes nothing.
    let out = bulb.handle(&zcl(
        id::COLOR_CONTROL,
        ZclHeader::cluster(5, 0x07),
        vec![0x01],
    ));
    let f = ZclFrame::parse(&out[0].payload).unwrap();
    assert_eq!(
        GeneralCommand::parse(f.header.command, &f.payload).unwrap(),
        GeneralCommand::DefaultRsp {
            command: 0x07,
            status: 0x80
        }
    );
    assert_eq!(
        bulb.attribute(1, id::COLOR_CONTROL, 0x0003).unwrap().value,
        ZclValue::Unsigned(0x616B)
    );
}
