//! The simulated Z-Stack 3.x coordinator's behaviour: one MT request in, the SRSP and the
//! AREQs the firmware would send out. Pure (no I/O): the server in `sim/mod.rs` delivers
//! frames and runs the timed events this module schedules.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::zigbee::backend::{ApsFrame, ApsIncoming};
use crate::zigbee::sim::Scenario;
use crate::zigbee::sim::ncp::{
    CoordinatorState, SimRandom, joins_on_permit, log_data, network_schedule,
};
use crate::zigbee::zdo::{self, Zdp};
use crate::zigbee::znp::commands::sys::{self as sys, nv};
use crate::zigbee::znp::commands::{
    List8, MtMessage, Rest, RpcError, ShortBytes, af, app_cnf, util, zdo as mtzdo,
};
use crate::zigbee::znp::frame::{FrameType, MtFrame};

use super::nv::NvStore;

mod afext;
mod network;
mod nvcmd;
#[cfg(test)]
mod tests;
mod zdp;

pub use crate::zigbee::sim::{DATA_LOG_LEN, SimDevice, Timed};

/// Something to do after handling a frame.
pub type Out = crate::zigbee::sim::Out<MtFrame>;

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
    random: SimRandom,
}

fn emit<M: MtMessage>(m: M) -> Out {
    Out::Frame(m.to_frame())
}

impl SimState {
    /// A factory-new coordinator with the scenario's devices.
    pub fn new(ieee: u64, scenario: Scenario) -> Self {
        let devices = scenario.devices.into_iter().map(SimDevice::from).collect();
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
            random: SimRandom::new(ieee),
        }
    }

    fn on_network(&self) -> bool {
        self.nv.get(nv::BDBNODEISONANETWORK) == Some(&[1][..])
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
            out.extend(network_schedule(&self.devices));
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
            out.extend(joins_on_permit(&self.devices));
            out.push(Out::Later(
                Duration::from_secs(u64::from(duration)),
                Timed::ClosePermitJoin { epoch: 0 },
            ));
        }
        out
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
        out.extend(self.devices[i].schedule(i));
        out
    }

    fn device_by_nwk(&mut self, nwk: u16) -> Option<&mut SimDevice> {
        self.devices
            .iter_mut()
            .find(|d| d.joined && d.device.nwk == nwk)
    }

    fn data_request(&mut self, r: af::DataRequest) -> Vec<Out> {
        self.af_requests += 1;
        self.count_tx();
        let frame = ApsFrame {
            dst_nwk: r.dst_addr,
            dst_endpoint: r.dst_endpoint,
            src_endpoint: r.src_endpoint,
            profile: crate::zigbee::backend::PROFILE_HA,
            cluster: r.cluster_id,
            payload: r.data.0,
        };
        log_data(&mut self.data_log, frame.clone());
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
}

impl CoordinatorState for SimState {
    type Frame = MtFrame;

    fn devices_mut(&mut self) -> &mut [SimDevice] {
        &mut self.devices
    }

    fn timed(&mut self, t: Timed) -> Vec<Out> {
        match t {
            Timed::Join(i) => self.join(i),
            Timed::ClosePermitJoin { .. } => vec![emit(mtzdo::PermitJoinInd { duration: 0 })],
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
                let Some((msg, again)) = self
                    .devices
                    .get_mut(device)
                    .and_then(|d| d.scripted_report(report))
                else {
                    return Vec::new();
                };
                let again = again.map(|after| Out::Later(after, t));
                msg.iter().map(incoming).chain(again).collect()
            }
        }
    }

    fn incoming(&self, a: &ApsIncoming) -> Out {
        incoming(a)
    }
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
