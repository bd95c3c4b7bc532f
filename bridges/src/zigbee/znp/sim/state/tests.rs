//! The simulated firmware's NV bookkeeping and host-facing commands, frame by frame.

use super::super::nib;
use super::*;
use crate::zigbee::znp::commands::LongBytes;
use crate::zigbee::znp::commands::sys::nvex;

const IEEE: u64 = 0x0012_4B00_0000_00AA;
const KEY: [u8; 16] = [9; 16];

fn state() -> SimState {
    let scenario = Scenario::parse(
        "[[device]]\npreset = \"temperature_humidity\"\nieee = \"00124b0000000101\"\nnwk = 0x3101\n\
         [[device]]\npreset = \"plug\"\nieee = \"00124b0000000102\"\nnwk = 0x3102\n",
    )
    .unwrap();
    SimState::new(IEEE, scenario)
}

fn frames(out: &[Out]) -> Vec<&MtFrame> {
    out.iter()
        .filter_map(|o| match o {
            Out::Frame(f) => Some(f),
            Out::Later(..) => None,
        })
        .collect()
}

fn first<M: MtMessage>(out: &[Out]) -> M {
    frames(out)
        .into_iter()
        .find_map(|f| M::from_frame(f).ok())
        .expect("answer of this type")
}

#[test]
fn formation_saves_nib_keys_and_frame_counter_like_zstack() {
    let mut s = state();
    s.form_network(0x1A62, 0xDDDD_0000_1111_2222, 20, KEY);
    let n = s.nv.get(nv::NIB).and_then(nib::read_nib).unwrap();
    assert_eq!(
        (
            n.pan_id,
            n.extended_pan_id,
            n.channel,
            n.channel_list,
            n.key_loaded
        ),
        (0x1A62, 0xDDDD_0000_1111_2222, 20, 1 << 20, true)
    );
    assert_eq!(s.nv.get(nv::NWK_ACTIVE_KEY_INFO).unwrap()[1..], KEY);
    let sec = s.nv.get_ex(nvex::NWK_SEC_MATERIAL_TABLE, 0).unwrap();
    assert_eq!(nib::read_sec_material(sec).1, 0xDDDD_0000_1111_2222);
    assert_eq!(s.network(), (0x1A62, 0xDDDD_0000_1111_2222, 20, KEY));
}

#[test]
fn reset_with_clear_config_restores_defaults_but_keeps_the_ieee_override() {
    let mut s = state();
    s.form_network(0x1A62, 0x77, 15, KEY);
    s.nv.set(nv::EXTADDR, 0x1234u64.to_le_bytes().to_vec());
    s.nv.set(nv::STARTUP_OPTION, vec![0x03]);
    let out = s.handle(&sys::ResetReq { kind: 1 }.to_frame());
    assert!(sys::ResetInd::from_frame(frames(&out)[0]).is_ok());
    assert_eq!(s.nv.get(nv::NIB), Some(&nib::factory_nib()[..]));
    assert_eq!(s.nv.get(nv::BDBNODEISONANETWORK), Some(&[0][..]));
    assert_eq!(s.ieee, 0x1234);
    // A deleted EXTADDR comes back as the chip's own address.
    s.nv.delete(nv::EXTADDR);
    s.handle(&sys::ResetReq { kind: 1 }.to_frame());
    assert_eq!(s.ieee, IEEE);
    assert_eq!(s.nv.get(nv::EXTADDR), Some(&IEEE.to_le_bytes()[..]));
}

#[test]
fn joined_devices_get_address_and_link_key_entries_until_they_leave() {
    let mut s = state();
    s.form_network(0x1A62, 0x77, 15, KEY);
    s.join(0);
    s.join(1);
    let users: Vec<(u8, Option<u64>)> =
        s.nv.table(nvex::ADDRMGR)
            .take(3)
            .map(|(_, e)| (e[0], nib::addrmgr_ieee(e)))
            .collect();
    // The sensor is a child (end device), the plug a router.
    assert_eq!(
        users,
        [
            (0x03, Some(0x0012_4B00_0000_0101)),
            (0x02, Some(0x0012_4B00_0000_0102)),
            (0xFF, None)
        ]
    );
    assert_eq!(
        nib::tclk_ieee(s.nv.get_ex(nvex::TCLK_TABLE, 1).unwrap()),
        0x0012_4B00_0000_0102
    );
    s.handle(
        &mtzdo::MgmtLeaveReq {
            dst_addr: 0x3102,
            ieee: 0x0012_4B00_0000_0102,
            remove_children_rejoin: 0,
        }
        .to_frame(),
    );
    assert!(
        s.nv.table(nvex::ADDRMGR)
            .all(|(_, e)| nib::addrmgr_ieee(e) != Some(0x0012_4B00_0000_0102))
    );
    assert_eq!(nib::tclk_ieee(s.nv.get_ex(nvex::TCLK_TABLE, 1).unwrap()), 0);
}

#[test]
fn extended_nv_commands_address_legacy_items_and_tables() {
    let mut s = state();
    let len: sys::NvLengthRsp = first(
        &s.handle(
            &sys::NvLength {
                sys_id: 1,
                item_id: 0,
                sub_id: nv::NIB,
            }
            .to_frame(),
        ),
    );
    assert_eq!(len.length, nib::NIB_LEN as u32);
    let w: sys::OsalNvWriteExtRsp = first(
        &s.handle(
            &sys::OsalNvWriteExt {
                id: nv::NIB,
                offset: 100,
                value: LongBytes(vec![0xAB; 16]),
            }
            .to_frame(),
        ),
    );
    assert_eq!(w.status, 0);
    let r: sys::OsalNvReadExtRsp = first(
        &s.handle(
            &sys::OsalNvReadExt {
                id: nv::NIB,
                offset: 110,
            }
            .to_frame(),
        ),
    );
    assert_eq!(r.value.0, [0xAB; 6]);
    let missing: sys::NvLengthRsp = first(
        &s.handle(
            &sys::NvLength {
                sys_id: 1,
                item_id: nvex::TCLK_TABLE,
                sub_id: super::super::nv::TCLK_ENTRIES,
            }
            .to_frame(),
        ),
    );
    assert_eq!(missing.length, 0);
}

#[test]
fn assoc_find_device_answers_the_aligned_struct() {
    let mut s = state();
    let rsp: util::AssocFindDeviceRsp =
        first(&s.handle(&util::AssocFindDevice { index: 0 }.to_frame()));
    assert_eq!(rsp.device.0.len(), nib::ASSOC_DEVICE_LEN);
}

#[test]
fn zdp_over_af_to_the_coordinator_lists_its_registered_endpoints() {
    let mut s = state();
    s.handle(
        &af::Register {
            endpoint: 1,
            profile_id: 0x0104,
            device_id: 5,
            ..Default::default()
        }
        .to_frame(),
    );
    s.handle(&mtzdo::MsgCbRegister { cluster_id: 0xFFFF }.to_frame());
    let out = s.handle(
        &af::DataRequestExt {
            dst_addr_mode: 2,
            dst_addr: 0,
            dst_endpoint: 0,
            src_endpoint: 0,
            cluster_id: zdo::cluster::ACTIVE_EP_REQ,
            tsn: 7,
            data: LongBytes(vec![7, 0, 0]),
            ..Default::default()
        }
        .to_frame(),
    );
    let cb: mtzdo::MsgCbIncoming = first(&out);
    assert_eq!((cb.cluster_id, cb.seq_num), (0x8005, 7));
    // status, NWKAddrOfInterest, count, endpoints
    assert_eq!(cb.data.0, [0, 0, 0, 1, 1]);
    let confirm: af::DataConfirm = first(&out);
    assert_eq!((confirm.status, confirm.tsn), (0, 7));
}

#[test]
fn zdp_over_af_to_an_unknown_address_has_no_route() {
    let mut s = state();
    let out = s.handle(
        &af::DataRequestExt {
            dst_addr_mode: 2,
            dst_addr: 0x4444,
            cluster_id: zdo::cluster::ACTIVE_EP_REQ,
            tsn: 3,
            data: LongBytes(vec![3, 0x44, 0x44]),
            ..Default::default()
        }
        .to_frame(),
    );
    let confirm: af::DataConfirm = first(&out);
    assert_eq!(confirm.status, 0xCD);
    let chk: mtzdo::ExtRouteChkRsp = first(
        &s.handle(
            &mtzdo::ExtRouteChk {
                dst: 0x4444,
                rt_status: 1,
                options: 3,
            }
            .to_frame(),
        ),
    );
    assert_eq!(chk.status, 4);
}

#[test]
fn every_frame_sent_moves_the_nwk_frame_counter_on() {
    let mut s = state();
    s.form_network(0x1A62, 0x77, 15, KEY);
    s.join(1);
    let counter = |s: &SimState| {
        nib::read_sec_material(s.nv.get_ex(nvex::NWK_SEC_MATERIAL_TABLE, 0).unwrap()).0
    };
    let before = counter(&s);
    for tsn in 0..3 {
        s.handle(
            &af::DataRequest {
                dst_addr: 0x3102,
                dst_endpoint: 1,
                src_endpoint: 1,
                cluster_id: 0x0006,
                tsn,
                data: ShortBytes(vec![0x01, tsn, 0x02]),
                ..Default::default()
            }
            .to_frame(),
        );
    }
    assert_eq!(counter(&s), before + 3);
}

#[test]
fn energy_scan_of_the_coordinator_answers_every_scanned_channel() {
    let mut s = state();
    s.handle(&mtzdo::MsgCbRegister { cluster_id: 0xFFFF }.to_frame());
    let all: u32 = 0x07FF_F800;
    let mut req = vec![9];
    req.extend_from_slice(&all.to_le_bytes());
    req.extend_from_slice(&[4, 1]);
    let out = s.handle(
        &af::DataRequestExt {
            dst_addr_mode: 2,
            dst_addr: 0,
            cluster_id: 0x0038,
            tsn: 9,
            data: LongBytes(req),
            ..Default::default()
        }
        .to_frame(),
    );
    let cb: mtzdo::MsgCbIncoming = first(&out);
    assert_eq!((cb.cluster_id, cb.seq_num), (0x8038, 9));
    let d = &cb.data.0;
    assert_eq!(d[0], 0);
    assert_eq!(u32::from_le_bytes([d[1], d[2], d[3], d[4]]), all);
    assert_eq!(d[9], 16);
    let energies = &d[10..];
    assert_eq!(energies.len(), 16);
    // Channel 20 is the quietest.
    let quietest = energies
        .iter()
        .enumerate()
        .min_by_key(|(_, e)| **e)
        .map(|(i, _)| i + 11);
    assert_eq!(quietest, Some(20));
}

#[test]
fn truncated_extended_requests_get_an_rpc_invalid_length_error() {
    let mut s = state();
    for header in [
        sys::NvRead::HEADER,
        sys::OsalNvWriteExt::HEADER,
        af::DataRequestExt::HEADER,
        mtzdo::ExtRouteChk::HEADER,
        util::AssocFindDevice::HEADER,
    ] {
        let out = s.handle(&MtFrame::new(header, Vec::new()));
        let e: RpcError = first(&out);
        assert_eq!(
            (e.error_code, e.cmd0, e.cmd1),
            (4, header.cmd0(), header.id),
            "{header:?}"
        );
    }
    // A write whose declared length runs past the frame is refused the same way.
    let mut bad = vec![0x21, 0x00, 0x00, 0x00];
    bad.extend_from_slice(&200u16.to_le_bytes());
    bad.extend_from_slice(&[0; 4]);
    let out = s.handle(&MtFrame::new(sys::OsalNvWriteExt::HEADER, bad));
    let e: RpcError = first(&out);
    assert_eq!(e.error_code, 4);
}

#[test]
fn devices_paired_from_the_start_are_in_the_tables_of_the_formed_network() {
    let scenario = Scenario::parse(
        "[[device]]\npreset = \"plug\"\nieee = \"00124b0000000102\"\njoin = \"paired\"\n",
    )
    .unwrap();
    let mut s = SimState::new(IEEE, scenario);
    s.form_network(0x1A62, 0x77, 15, KEY);
    let ieees: Vec<u64> =
        s.nv.table(nvex::ADDRMGR)
            .filter_map(|(_, e)| nib::addrmgr_ieee(e))
            .collect();
    assert_eq!(ieees, [0x0012_4B00_0000_0102]);
}
