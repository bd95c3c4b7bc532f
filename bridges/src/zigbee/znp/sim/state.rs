//! The simulated Z-Stack 3.x coordinator's behaviour: one MT request in, the SRSP and the
//! AREQs the firmware would send out. Pure (no I/O): the server in `sim/mod.rs` delivers
//! frames and runs the timed events this module schedules.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::zigbee::backend::{ApsFrame, ApsIncoming};
use crate::zigbee::sim::{JoinMode, Scenario, VirtualDevice};
use crate::zigbee::zdo::{self, Zdp};
use crate::zigbee::znp::commands::sys::{self as sys, nv, nvex};
use crate::zigbee::znp::commands::{
    List8, MtMessage, Rest, RpcError, ShortBytes, af, app_cnf, util, zdo as mtzdo,
};
use crate::zigbee::znp::frame::{FrameType, MtFrame};

use super::nib::{self, NibNetwork};
use super::nv::NvStore;

mod afext;
mod nvcmd;
#[cfg(test)]
mod tests;
mod zdp;

/// How many host data frames [`SimState::data_log`] keeps.
pub const DATA_LOG_LEN: usize = 32;

/// A timed event the server runs later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timed {
    /// Device `n` of the scenario joins.
    Join(usize),
    /// Scripted report `report` of device `device`.
    Report {
        /// Device index.
        device: usize,
        /// Report index.
        report: usize,
    },
    /// Joining closes.
    ClosePermitJoin,
    /// Device `n` stops answering.
    Silent(usize),
    /// Device `n` leaves the network by itself.
    Leave(usize),
}

/// Something to do after handling a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Send this frame now.
    Frame(MtFrame),
    /// Run this event after a delay.
    Later(Duration, Timed),
}

/// One scenario device and its network state.
#[derive(Debug, Clone)]
pub struct SimDevice {
    /// The device model.
    pub device: VirtualDevice,
    /// When it joins.
    pub join: JoinMode,
    /// Whether it is in the network now.
    pub joined: bool,
    /// Scripted reports.
    pub reports: Vec<crate::zigbee::sim::ScriptedReport>,
    /// Goes silent this long after joining.
    pub silent_after_ms: Option<u64>,
    /// Leaves this long after joining.
    pub leave_after_ms: Option<u64>,
}

/// The coordinator's state.
#[derive(Debug)]
pub struct SimState {
    /// NV items.
    pub nv: NvStore,
    /// Coordinator IEEE address (NV EXTADDR as of the last reset).
    pub ieee: u64,
    /// The chip's factory IEEE address, used when EXTADDR is deleted.
    hardware_ieee: u64,
    /// ZDO device state (0 HOLD, 9 ZB_COORD).
    pub dev_state: u8,
    /// Virtual devices.
    pub devices: Vec<SimDevice>,
    /// AF_DATA_REQUESTs received (to observe host retries).
    pub af_requests: u64,
    /// The last APS data frames the host sent (at most [`DATA_LOG_LEN`]).
    pub data_log: std::collections::VecDeque<ApsFrame>,
    endpoints: std::collections::BTreeMap<u8, af::Register>,
    zdo_callbacks: BTreeSet<u16>,
    primary_channels: u32,
    zdp_tsn: u8,
    random: u64,
}

fn emit<M: MtMessage>(m: M) -> Out {
    Out::Frame(m.to_frame())
}

impl SimState {
    /// A factory-new coordinator with the scenario's devices.
    pub fn new(ieee: u64, scenario: Scenario) -> Self {
        let devices = scenario
            .devices
            .into_iter()
            .map(|d| SimDevice {
                joined: d.join == JoinMode::Paired,
                device: d.device,
                join: d.join,
                reports: d.reports,
                silent_after_ms: d.silent_after_ms,
                leave_after_ms: d.leave_after_ms,
            })
            .collect();
        SimState {
            nv: NvStore::factory(ieee),
            ieee,
            hardware_ieee: ieee,
            dev_state: mtzdo::state::HOLD,
            devices,
            af_requests: 0,
            data_log: std::collections::VecDeque::new(),
            endpoints: std::collections::BTreeMap::new(),
            zdo_callbacks: BTreeSet::new(),
            primary_channels: 0x0000_0800,
            zdp_tsn: 0,
            random: ieee ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: the simulator's "random" PAN ids and keys only need to differ per run.
        self.random ^= self.random >> 12;
        self.random ^= self.random << 25;
        self.random ^= self.random >> 27;
        self.random.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn on_network(&self) -> bool {
        self.nv.get(nv::BDBNODEISONANETWORK) == Some(&[1][..])
    }

    /// PAN id, extended PAN id, channel and key: the NIB and active key of the network the
    /// coordinator is on, else the configuration items the next formation would use.
    pub fn network(&self) -> (u16, u64, u8, [u8; 16]) {
        let running = self
            .on_network()
            .then(|| self.nv.get(nv::NIB).and_then(nib::read_nib))
            .flatten()
            .filter(|n| n.channel != 0);
        if let Some(n) = running {
            let mut k = [0u8; 16];
            if let Some(key) = self
                .nv
                .get(nv::NWK_ACTIVE_KEY_INFO)
                .and_then(|v| v.get(1..17))
            {
                k.copy_from_slice(key);
            }
            return (n.pan_id, n.extended_pan_id, n.channel, k);
        }
        let le = |id: u16| self.nv.get(id).unwrap_or(&[]).to_vec();
        let pan = le(nv::PANID);
        let ext = le(nv::APS_USE_EXT_PANID);
        let chan = le(nv::CHANLIST);
        let key = le(nv::PRECFGKEY);
        let pan = if pan.len() == 2 {
            u16::from_le_bytes([pan[0], pan[1]])
        } else {
            0xFFFF
        };
        let ext = ext
            .get(..8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
        let mask = chan
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
        let channel = (11..=26).find(|c| mask & (1 << c) != 0).unwrap_or(11);
        let mut k = [0u8; 16];
        if key.len() == 16 {
            k.copy_from_slice(&key);
        }
        (pan, ext, channel as u8, k)
    }

    /// Handles one frame from the host.
    pub fn handle(&mut self, f: &MtFrame) -> Vec<Out> {
        if f.header.frame_type != FrameType::Sreq && f.header.frame_type != FrameType::Areq {
            return Vec::new();
        }
        macro_rules! on {
            ($t:ty, $f:expr) => {
                if f.header == <$t>::HEADER {
                    return match <$t>::from_frame(f) {
                        Ok(req) => $f(self, req),
                        // Z-Stack answers a malformed request with RPC error "invalid length".
                        Err(_) => vec![emit(RpcError {
                            error_code: 4,
                            cmd0: f.header.cmd0(),
                            cmd1: f.header.id,
                        })],
                    };
                }
            };
        }
        if let Some(out) = self.handle_nv(f).or_else(|| self.handle_ext(f)) {
            return out;
        }
        on!(sys::Ping, |_: &mut Self, _| vec![emit(sys::PingRsp {
            capabilities: 0x0659
        })]);
        on!(sys::Version, |_: &mut Self, _| vec![emit(
            sys::VersionRsp {
                transport_rev: 2,
                product: 1,
                major_rel: 2,
                minor_rel: 7,
                maint_rel: 1,
                code_revision: Some(20_210_708),
                bootloader: Rest(vec![0, 0, 0, 0, 0]),
            }
        )]);
        on!(sys::GetExtAddr, |s: &mut Self, _| vec![emit(
            sys::GetExtAddrRsp { ext_addr: s.ieee }
        )]);
        on!(sys::ResetReq, |s: &mut Self, _| s.reset());
        on!(util::GetDeviceInfo, |s: &mut Self, _| vec![emit(
            util::GetDeviceInfoRsp {
                status: 0,
                ieee: s.ieee,
                short_addr: 0,
                device_type: 0x07,
                device_state: s.dev_state,
                assoc_devices: List8(Vec::new()),
            }
        )]);
        on!(af::Register, |s: &mut Self, r: af::Register| {
            // 0xB8: ZApsDuplicateEntry.
            let st = match s.endpoints.entry(r.endpoint) {
                std::collections::btree_map::Entry::Occupied(_) => 0xB8,
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(r);
                    0
                }
            };
            vec![emit(af::RegisterRsp { status: st })]
        });
        on!(af::DataRequest, |s: &mut Self, r: af::DataRequest| s
            .data_request(r));
        on!(
            mtzdo::MsgCbRegister,
            |s: &mut Self, r: mtzdo::MsgCbRegister| {
                s.zdo_callbacks.insert(r.cluster_id);
                vec![emit(mtzdo::MsgCbRegisterRsp { status: 0 })]
            }
        );
        on!(mtzdo::StartupFromApp, |s: &mut Self, _| s.startup());
        on!(mtzdo::ExtNwkInfo, |s: &mut Self, _| {
            let (pan, ext, channel, _) = s.network();
            vec![emit(mtzdo::ExtNwkInfoRsp {
                short_addr: 0,
                dev_state: s.dev_state,
                pan_id: pan,
                parent_addr: 0,
                extended_pan_id: ext,
                parent_ext_addr: 0,
                channel,
            })]
        });
        on!(
            mtzdo::MgmtPermitJoinReq,
            |s: &mut Self, r: mtzdo::MgmtPermitJoinReq| s.permit_join(r.duration)
        );
        on!(
            mtzdo::MgmtLeaveReq,
            |s: &mut Self, r: mtzdo::MgmtLeaveReq| s.leave(r.dst_addr)
        );
        on!(mtzdo::IeeeAddrReq, |s: &mut Self, r: mtzdo::IeeeAddrReq| {
            let req = Zdp::IeeeAddrReq { nwk: r.short_addr };
            s.zdo_request(r.short_addr, req, |st| {
                emit(mtzdo::IeeeAddrReqRsp { status: st })
            })
        });
        on!(mtzdo::NodeDescReq, |s: &mut Self, r: mtzdo::NodeDescReq| {
            s.zdo_request(
                r.dst_addr,
                Zdp::NodeDescReq {
                    nwk: r.nwk_addr_of_interest,
                },
                |st| emit(mtzdo::NodeDescReqRsp { status: st }),
            )
        });
        on!(mtzdo::ActiveEpReq, |s: &mut Self, r: mtzdo::ActiveEpReq| {
            s.zdo_request(
                r.dst_addr,
                Zdp::ActiveEpReq {
                    nwk: r.nwk_addr_of_interest,
                },
                |st| emit(mtzdo::ActiveEpReqRsp { status: st }),
            )
        });
        on!(
            mtzdo::SimpleDescReq,
            |s: &mut Self, r: mtzdo::SimpleDescReq| {
                let req = Zdp::SimpleDescReq {
                    nwk: r.nwk_addr_of_interest,
                    endpoint: r.endpoint,
                };
                s.zdo_request(r.dst_addr, req, |st| {
                    emit(mtzdo::SimpleDescReqRsp { status: st })
                })
            }
        );
        on!(mtzdo::BindReq, |s: &mut Self, r: mtzdo::BindReq| {
            let req = Zdp::BindReq {
                src: r.src_addr,
                src_endpoint: r.src_endpoint,
                cluster: r.cluster_id,
                dst: r.dst_address,
                dst_endpoint: r.dst_endpoint,
            };
            s.zdo_request(r.dst_addr, req, |st| emit(mtzdo::BindReqRsp { status: st }))
        });
        on!(
            app_cnf::BdbSetChannel,
            |s: &mut Self, r: app_cnf::BdbSetChannel| {
                if r.is_primary {
                    s.primary_channels = r.channel_mask;
                }
                vec![emit(app_cnf::BdbSetChannelRsp { status: 0 })]
            }
        );
        on!(
            app_cnf::BdbStartCommissioning,
            |s: &mut Self, r: app_cnf::BdbStartCommissioning| s.commission(r.mode)
        );
        tracing::debug!(frame = %crate::zigbee::znp::commands::describe(f.header), "simulator: unsupported command");
        if f.header.frame_type == FrameType::Sreq {
            vec![emit(RpcError {
                error_code: 2,
                cmd0: f.header.cmd0(),
                cmd1: f.header.id,
            })]
        } else {
            Vec::new()
        }
    }

    fn reset(&mut self) -> Vec<Out> {
        self.dev_state = mtzdo::state::HOLD;
        self.endpoints.clear();
        self.zdo_callbacks.clear();
        let option = self
            .nv
            .get(nv::STARTUP_OPTION)
            .and_then(|o| o.first().copied())
            .unwrap_or(0);
        let extaddr = self.nv.get(nv::EXTADDR).map(<[u8]>::to_vec);
        let fresh = NvStore::factory(self.hardware_ieee);
        // ZCD_STARTOPT_DEFAULT_CONFIG_STATE (0x01): every item back to its default;
        // ZCD_STARTOPT_DEFAULT_NETWORK_STATE (0x02): forget the network. Applied once.
        if option & 0x01 != 0 {
            self.nv = fresh.clone();
        } else if option & 0x02 != 0 {
            for id in [
                nv::NIB,
                nv::PANID,
                nv::EXTENDED_PAN_ID,
                nv::PRECFGKEY,
                nv::NWK_ACTIVE_KEY_INFO,
                nv::NWK_ALTERN_KEY_INFO,
                nv::BDBNODEISONANETWORK,
            ] {
                if let Some(v) = fresh.get(id) {
                    self.nv.set(id, v.to_vec());
                }
            }
            for item in [
                nvex::ADDRMGR,
                nvex::TCLK_TABLE,
                nvex::APS_KEY_DATA_TABLE,
                nvex::NWK_SEC_MATERIAL_TABLE,
            ] {
                for (sub, v) in fresh.table(item) {
                    self.nv.set_ex(item, sub, v.to_vec());
                }
            }
        }
        if option & 0x03 != 0 {
            self.nv.set(nv::STARTUP_OPTION, vec![0]);
            for d in &mut self.devices {
                d.joined = false;
            }
        }
        // The IEEE address is EXTADDR; a deleted EXTADDR is recreated from the chip's own.
        let extaddr = extaddr
            .filter(|v| v.len() == 8)
            .unwrap_or_else(|| self.hardware_ieee.to_le_bytes().to_vec());
        self.nv.set(nv::EXTADDR, extaddr.clone());
        let mut a = [0u8; 8];
        a.copy_from_slice(&extaddr);
        self.ieee = u64::from_le_bytes(a);
        vec![emit(sys::ResetInd {
            reason: 0,
            transport_rev: 2,
            product: 1,
            major_rel: 2,
            minor_rel: 7,
            hw_rev: 0,
        })]
    }

    fn running(&mut self) -> Vec<Out> {
        let mut out = Vec::new();
        if self.dev_state != mtzdo::state::ZB_COORD {
            self.dev_state = mtzdo::state::ZB_COORD;
            out.push(emit(mtzdo::StateChangeInd {
                state: mtzdo::state::COORD_STARTING,
            }));
            out.push(emit(mtzdo::StateChangeInd {
                state: mtzdo::state::ZB_COORD,
            }));
            for (i, d) in self.devices.iter().enumerate() {
                if d.joined {
                    out.extend(report_schedule(i, d));
                }
            }
        }
        out
    }

    fn startup(&mut self) -> Vec<Out> {
        if !self.on_network() {
            // Not started: a factory-new Z-Stack 3 coordinator waits for BDB formation.
            return vec![emit(mtzdo::StartupFromAppRsp { state: 2 })];
        }
        let mut out = vec![emit(mtzdo::StartupFromAppRsp { state: 0 })];
        out.extend(self.running());
        out
    }

    fn commission(&mut self, mode: u8) -> Vec<Out> {
        let mut out = vec![emit(app_cnf::BdbStartCommissioningRsp { status: 0 })];
        if mode & app_cnf::mode::FORMATION != 0 {
            if !self.on_network() {
                self.form();
            }
            out.extend(self.running());
            out.push(emit(app_cnf::BdbCommissioningNotification {
                status: 0,
                mode: app_cnf::mode::FORMATION,
                remaining_modes: 0,
            }));
        }
        if mode & app_cnf::mode::STEERING != 0 {
            out.extend(self.permit_join(180).into_iter().skip(1));
        }
        out
    }

    /// Forms a network from the configuration items (random PAN id unless set, extended
    /// PAN id from APS_USE_EXT_PANID or the IEEE address, key from PRECFGKEY or random) and
    /// saves it as Z-Stack does: NIB, active and alternate key, frame counter entry, the
    /// network's extended PAN id and "on a network", so a host reading NV sees the network.
    fn form(&mut self) {
        let (mut pan, mut ext, _, key) = self.network();
        if pan == 0xFFFF || pan == 0xFFFE || pan == 0 {
            pan = (self.next_random() as u16 % 0xFFF0).max(1);
        }
        if ext == 0 || ext == u64::MAX {
            ext = self.ieee;
        }
        let channel = (11..=26)
            .find(|c| self.primary_channels & (1 << c) != 0)
            .unwrap_or(11);
        if key == [0; 16] {
            let a = self.next_random().to_le_bytes();
            let b = self.next_random().to_le_bytes();
            self.nv.set(nv::PRECFGKEY, [a, b].concat());
        }
        let mut active_key = vec![0u8];
        active_key.extend_from_slice(self.nv.get(nv::PRECFGKEY).unwrap_or(&[0; 16]));
        let net = NibNetwork {
            pan_id: pan,
            extended_pan_id: ext,
            channel,
            channel_list: 1 << channel,
            key_loaded: true,
        };
        let mut nib_bytes = self.nv.get(nv::NIB).map(<[u8]>::to_vec).unwrap_or_default();
        nib::form_nib(&mut nib_bytes, &net, self.ieee);
        self.nv.set(nv::NIB, nib_bytes);
        self.nv.set(nv::EXTENDED_PAN_ID, ext.to_le_bytes().to_vec());
        self.nv.set(nv::NWK_ACTIVE_KEY_INFO, active_key.clone());
        self.nv.set(nv::NWK_ALTERN_KEY_INFO, active_key);
        self.nv
            .set_ex(nvex::NWK_SEC_MATERIAL_TABLE, 0, nib::sec_material(1, ext));
        self.nv.set(nv::BDBNODEISONANETWORK, vec![1]);
    }

    /// Forms a network with these parameters as if a host had commissioned this coordinator
    /// (test and demo set-up); the previous network, if any, is forgotten.
    pub fn form_network(&mut self, pan_id: u16, extended_pan_id: u64, channel: u8, key: [u8; 16]) {
        self.nv.set(nv::BDBNODEISONANETWORK, vec![0]);
        self.nv.set(nv::PANID, pan_id.to_le_bytes().to_vec());
        self.nv.set(
            nv::APS_USE_EXT_PANID,
            extended_pan_id.to_le_bytes().to_vec(),
        );
        self.nv.set(nv::PRECFGKEY, key.to_vec());
        self.primary_channels = 1 << channel.clamp(11, 26);
        self.form();
    }

    /// Records a device the trust centre let in: an address manager entry and a hashed
    /// trust-centre link key entry, as Z-Stack 3.30 keeps them in its NV tables.
    fn remember_device(&mut self, nwk: u16, ieee: u64, end_device: bool) {
        self.forget_device(ieee);
        let user = nib::addrmgr::SECURITY | if end_device { nib::addrmgr::ASSOC } else { 0 };
        let free = self
            .nv
            .table(nvex::ADDRMGR)
            .find(|(_, e)| nib::addrmgr_ieee(e).is_none())
            .map(|(sub, _)| sub);
        if let Some(sub) = free {
            self.nv
                .set_ex(nvex::ADDRMGR, sub, nib::addrmgr_entry(user, nwk, ieee));
        }
        let free = self
            .nv
            .table(nvex::TCLK_TABLE)
            .find(|(_, e)| nib::tclk_ieee(e) == 0)
            .map(|(sub, _)| sub);
        if let Some(sub) = free {
            self.nv
                .set_ex(nvex::TCLK_TABLE, sub, nib::tclk_entry(ieee, 0));
        }
    }

    /// Drops a device's address manager and link key entries (it left or was removed).
    fn forget_device(&mut self, ieee: u64) {
        let addr: Vec<u16> = self
            .nv
            .table(nvex::ADDRMGR)
            .filter(|(_, e)| nib::addrmgr_ieee(e) == Some(ieee))
            .map(|(sub, _)| sub)
            .collect();
        for sub in addr {
            self.nv
                .set_ex(nvex::ADDRMGR, sub, nib::addrmgr::EMPTY.to_vec());
        }
        let keys: Vec<u16> = self
            .nv
            .table(nvex::TCLK_TABLE)
            .filter(|(_, e)| nib::tclk_ieee(e) == ieee)
            .map(|(sub, _)| sub)
            .collect();
        for sub in keys {
            self.nv
                .set_ex(nvex::TCLK_TABLE, sub, nib::empty_tclk_entry());
        }
    }

    /// Whether ZDP frames of `cluster` go to the host as ZDO_MSG_CB_INCOMING (0xFFFF: all).
    fn wants_zdo_cb(&self, cluster: u16) -> bool {
        self.zdo_callbacks.contains(&cluster) || self.zdo_callbacks.contains(&0xFFFF)
    }

    fn permit_join(&mut self, duration: u8) -> Vec<Out> {
        let mut out = vec![
            emit(mtzdo::MgmtPermitJoinReqRsp { status: 0 }),
            emit(mtzdo::MgmtPermitJoinRsp {
                src_addr: 0,
                status: 0,
            }),
            emit(mtzdo::PermitJoinInd { duration }),
        ];
        if duration > 0 && self.dev_state == mtzdo::state::ZB_COORD {
            let waiting = self
                .devices
                .iter()
                .enumerate()
                .filter(|(_, d)| !d.joined && d.join == JoinMode::OnPermit);
            for (k, (i, _)) in waiting.enumerate() {
                out.push(Out::Later(
                    Duration::from_millis(20 + 30 * k as u64),
                    Timed::Join(i),
                ));
            }
            out.push(Out::Later(
                Duration::from_secs(u64::from(duration)),
                Timed::ClosePermitJoin,
            ));
        }
        out
    }

    /// Runs a timed event.
    pub fn timed(&mut self, t: Timed) -> Vec<Out> {
        match t {
            Timed::Join(i) => self.join(i),
            Timed::ClosePermitJoin => vec![emit(mtzdo::PermitJoinInd { duration: 0 })],
            Timed::Silent(i) => {
                if let Some(d) = self.devices.get_mut(i) {
                    d.device.responsive = false;
                }
                Vec::new()
            }
            Timed::Leave(i) => match self.devices.get_mut(i) {
                Some(d) if d.joined => {
                    d.joined = false;
                    let (nwk_addr, ieee) = (d.device.nwk, d.device.ieee);
                    self.forget_device(ieee);
                    vec![emit(mtzdo::LeaveInd {
                        nwk_addr,
                        ieee,
                        request: 0,
                        remove: 0,
                        rejoin: 0,
                    })]
                }
                _ => Vec::new(),
            },
            Timed::Report { device, report } => {
                let Some(d) = self.devices.get_mut(device) else {
                    return Vec::new();
                };
                let Some(r) = d.reports.get(report).cloned() else {
                    return Vec::new();
                };
                if !d.joined || !d.device.responsive {
                    return Vec::new();
                }
                let mut out = Vec::new();
                if let Some(v) = r.zcl_value()
                    && let Some(msg) = d.device.report(r.endpoint, r.cluster, r.attribute, v)
                {
                    out.push(incoming(&msg));
                }
                if let Some(every) = r.every_ms {
                    out.push(Out::Later(Duration::from_millis(every.max(10)), t));
                }
                out
            }
        }
    }

    /// Device `i` joins: trust-centre indication, then its Device_annce.
    pub fn join(&mut self, i: usize) -> Vec<Out> {
        let Some(d) = self.devices.get_mut(i) else {
            return Vec::new();
        };
        if d.joined {
            return Vec::new();
        }
        d.joined = true;
        let (nwk, ieee) = (d.device.nwk, d.device.ieee);
        // MAC capability bit 1: a full-function device (router); otherwise a child.
        let end_device = d.device.node.mac_capabilities & 0x02 == 0;
        self.remember_device(nwk, ieee, end_device);
        let dev = &self.devices[i].device;
        let mut out = vec![
            emit(mtzdo::TcDevInd {
                src_nwk: dev.nwk,
                src_ieee: dev.ieee,
                parent_nwk: 0,
            }),
            emit(mtzdo::EndDeviceAnnceInd {
                src_addr: dev.nwk,
                nwk_addr: dev.nwk,
                ieee: dev.ieee,
                capabilities: dev.node.mac_capabilities,
            }),
        ];
        if self.wants_zdo_cb(zdo::cluster::DEVICE_ANNCE) {
            let annce = dev.announce();
            out.push(self.msg_cb(&annce));
        }
        out.extend(report_schedule(i, &self.devices[i]));
        out
    }

    fn device_by_nwk(&mut self, nwk: u16) -> Option<&mut SimDevice> {
        self.devices
            .iter_mut()
            .find(|d| d.joined && d.device.nwk == nwk)
    }

    fn data_request(&mut self, r: af::DataRequest) -> Vec<Out> {
        self.af_requests += 1;
        let frame = ApsFrame {
            dst_nwk: r.dst_addr,
            dst_endpoint: r.dst_endpoint,
            src_endpoint: r.src_endpoint,
            profile: crate::zigbee::backend::PROFILE_HA,
            cluster: r.cluster_id,
            payload: r.data.0,
        };
        if self.data_log.len() == DATA_LOG_LEN {
            self.data_log.pop_front();
        }
        self.data_log.push_back(frame.clone());
        let mut out = vec![emit(af::DataRequestRsp { status: 0 })];
        let answers = match self.device_by_nwk(r.dst_addr) {
            // MAC_NO_ACK for a silent device, NWK_NO_ROUTE for an unknown address.
            Some(d) if !d.device.responsive => Err(0xE9),
            Some(d) => Ok(d.device.handle(&frame)),
            None => Err(0xCD),
        };
        let st = if answers.is_ok() {
            0
        } else {
            answers.clone().err().unwrap_or(1)
        };
        out.push(emit(af::DataConfirm {
            status: st,
            endpoint: r.src_endpoint,
            tsn: r.tsn,
        }));
        out.extend(answers.unwrap_or_default().iter().map(incoming));
        out
    }

    /// A device sends a cluster command to the coordinator now (a button press).
    pub fn command_now(
        &mut self,
        ieee: u64,
        ep: u8,
        cluster: u16,
        command: u8,
        payload: Vec<u8>,
    ) -> Option<Out> {
        let d = self
            .devices
            .iter_mut()
            .find(|d| d.device.ieee == ieee && d.joined)?;
        d.device
            .command(ep, cluster, command, payload)
            .map(|m| incoming(&m))
    }

    /// A device sends a report now (test control); false if it cannot.
    pub fn report_now(
        &mut self,
        ieee: u64,
        ep: u8,
        cluster: u16,
        attr: u16,
        v: crate::zigbee::zcl::ZclValue,
    ) -> Option<Out> {
        let d = self
            .devices
            .iter_mut()
            .find(|d| d.device.ieee == ieee && d.joined)?;
        d.device.report(ep, cluster, attr, v).map(|m| incoming(&m))
    }
}

fn report_schedule(i: usize, d: &SimDevice) -> Vec<Out> {
    let reports = d.reports.iter().enumerate().map(|(k, r)| {
        Out::Later(
            Duration::from_millis(r.after_ms),
            Timed::Report {
                device: i,
                report: k,
            },
        )
    });
    let silent = d
        .silent_after_ms
        .map(|ms| Out::Later(Duration::from_millis(ms), Timed::Silent(i)));
    let leave = d
        .leave_after_ms
        .map(|ms| Out::Later(Duration::from_millis(ms), Timed::Leave(i)));
    reports.chain(silent).chain(leave).collect()
}

/// AF_INCOMING_MSG for a device's frame.
fn incoming(a: &ApsIncoming) -> Out {
    emit(af::IncomingMsg {
        group_id: 0,
        cluster_id: a.cluster,
        src_addr: a.src_nwk,
        src_endpoint: a.src_endpoint,
        dst_endpoint: a.dst_endpoint,
        was_broadcast: 0,
        lqi: a.lqi,
        security_use: 0,
        timestamp: 0,
        tsn: 0,
        data: ShortBytes(a.payload.clone()),
        mac_src_addr: a.src_nwk,
        msg_result_radius: 0,
    })
}
