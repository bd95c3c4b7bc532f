//! AF_DATA_REQUEST_EXT (any address mode, ZDP requests sent as APS frames to endpoint 0,
//! which is how zigpy-znp talks ZDO) and the ZDO route commands hosts call before unicasts.
//! ZDP requests for the coordinator itself are answered from its registered endpoints, as
//! Z-Stack's ZDO does.

use crate::zigbee::backend::{ApsFrame, ApsIncoming, PROFILE_ZDP};
use crate::zigbee::zdo::{self, NodeDescriptor, SimpleDescriptor, Zdp};
use crate::zigbee::znp::commands::{MtMessage, RpcError, ShortBytes, af, zdo as mtzdo};
use crate::zigbee::znp::frame::MtFrame;

use super::{Out, SimState, emit};

/// AF address modes.
const ADDR_NWK: u8 = 0x02;
/// ZDO route status "no routing table entry".
const ROUTE_NO_ENTRY: u8 = 4;
/// AF_DATA_CONFIRM status for an address nobody answers (NWK_NO_ROUTE).
const NWK_NO_ROUTE: u8 = 0xCD;
/// AF_DATA_CONFIRM status for a device that does not acknowledge (MAC_NO_ACK).
const MAC_NO_ACK: u8 = 0xE9;
/// ZDP Mgmt_NWK_Update_req / Mgmt_NWK_Update_notify.
const MGMT_NWK_UPDATE_REQ: u16 = 0x0038;
const MGMT_NWK_UPDATE_NOTIFY: u16 = 0x8038;

/// The simulated RF energy (0-255) per channel an energy scan finds: Wi-Fi-like noise
/// everywhere, quietest on 20, so hosts that pick a channel by scanning pick 20.
fn channel_energy(channel: u8) -> u8 {
    match channel {
        20 => 5,
        19 | 21 => 40,
        15 | 25 => 60,
        _ => 120,
    }
}

impl SimState {
    /// Answers `f` if it is AF_DATA_REQUEST_EXT or a ZDO route command.
    pub(super) fn handle_ext(&mut self, f: &MtFrame) -> Option<Vec<Out>> {
        let malformed = || {
            vec![emit(RpcError {
                error_code: 4,
                cmd0: f.header.cmd0(),
                cmd1: f.header.id,
            })]
        };
        if f.header == af::DataRequestExt::HEADER {
            return Some(match af::DataRequestExt::from_frame(f) {
                Ok(r) => self.data_request_ext(r),
                Err(_) => malformed(),
            });
        }
        if f.header == mtzdo::ExtRouteChk::HEADER {
            return Some(match mtzdo::ExtRouteChk::from_frame(f) {
                Ok(r) => {
                    let known = r.dst == 0 || self.device_by_nwk(r.dst).is_some();
                    let status = if known { 0 } else { ROUTE_NO_ENTRY };
                    vec![emit(mtzdo::ExtRouteChkRsp { status })]
                }
                Err(_) => malformed(),
            });
        }
        if f.header == mtzdo::ExtRouteDisc::HEADER {
            return Some(match mtzdo::ExtRouteDisc::from_frame(f) {
                Ok(_) => vec![emit(mtzdo::ExtRouteDiscRsp { status: 0 })],
                Err(_) => malformed(),
            });
        }
        None
    }

    fn data_request_ext(&mut self, r: af::DataRequestExt) -> Vec<Out> {
        let rsp = emit(af::DataRequestExtRsp { status: 0 });
        if r.dst_addr_mode != ADDR_NWK {
            // Broadcasts and group frames: accepted and sent; no simulated device is in a
            // group, and ZDP broadcasts the host sends (permit joining) also come as their
            // own MT commands.
            self.af_requests += 1;
            self.count_tx();
            return vec![rsp];
        }
        let nwk = (r.dst_addr & 0xFFFF) as u16;
        if r.dst_endpoint != 0 {
            // Unicast to an application endpoint: what AF_DATA_REQUEST does, with this SRSP.
            let mut out = self.data_request(af::DataRequest {
                dst_addr: nwk,
                dst_endpoint: r.dst_endpoint,
                src_endpoint: r.src_endpoint,
                cluster_id: r.cluster_id,
                tsn: r.tsn,
                options: r.options,
                radius: r.radius,
                data: ShortBytes(r.data.0),
            });
            if let Some(first) = out.first_mut() {
                *first = rsp;
            }
            return out;
        }
        self.af_requests += 1;
        self.count_tx();
        let frame = ApsFrame {
            dst_nwk: nwk,
            dst_endpoint: 0,
            src_endpoint: 0,
            profile: PROFILE_ZDP,
            cluster: r.cluster_id,
            payload: r.data.0,
        };
        let (status, answers) = if nwk == 0 {
            (0, self.coordinator_zdp(&frame).into_iter().collect())
        } else {
            match self.device_by_nwk(nwk) {
                Some(d) if !d.device.responsive => (MAC_NO_ACK, Vec::new()),
                Some(d) => (0, d.device.handle(&frame)),
                None => (NWK_NO_ROUTE, Vec::new()),
            }
        };
        let mut out = vec![
            rsp,
            emit(af::DataConfirm {
                status,
                endpoint: r.src_endpoint,
                tsn: r.tsn,
            }),
        ];
        for a in answers {
            out.extend(self.typed_zdo_callback(&a));
            if self.wants_zdo_cb(a.cluster) {
                out.push(self.msg_cb(&a));
            }
        }
        out
    }

    /// The coordinator's own ZDO answering a ZDP request addressed to it.
    fn coordinator_zdp(&self, frame: &ApsFrame) -> Option<ApsIncoming> {
        if frame.cluster == MGMT_NWK_UPDATE_REQ {
            return energy_scan(&frame.payload);
        }
        let (tsn, req) = Zdp::parse(frame.cluster, &frame.payload).ok()?;
        let rsp = match req {
            Zdp::NodeDescReq { .. } => Zdp::NodeDescRsp {
                status: zdo::SUCCESS,
                nwk: 0,
                // Coordinator, mains powered, receiver on, allocates addresses.
                descriptor: Some(NodeDescriptor {
                    logical_type: 0,
                    mac_capabilities: 0x8F,
                    manufacturer_code: 0x0000,
                }),
            },
            Zdp::ActiveEpReq { .. } => Zdp::ActiveEpRsp {
                status: zdo::SUCCESS,
                nwk: 0,
                endpoints: self.endpoints.keys().copied().collect(),
            },
            Zdp::SimpleDescReq { endpoint, .. } => match self.endpoints.get(&endpoint) {
                Some(e) => Zdp::SimpleDescRsp {
                    status: zdo::SUCCESS,
                    nwk: 0,
                    descriptor: Some(SimpleDescriptor {
                        endpoint,
                        profile: e.profile_id,
                        device_id: e.device_id,
                        device_version: e.device_version,
                        in_clusters: e.input_clusters.0.clone(),
                        out_clusters: e.output_clusters.0.clone(),
                    }),
                },
                // NOT_ACTIVE
                None => Zdp::SimpleDescRsp {
                    status: 0x83,
                    nwk: 0,
                    descriptor: None,
                },
            },
            Zdp::IeeeAddrReq { .. } => Zdp::IeeeAddrRsp {
                status: zdo::SUCCESS,
                ieee: self.ieee,
                nwk: 0,
            },
            _ => return None,
        };
        Some(ApsIncoming {
            src_nwk: 0,
            src_endpoint: 0,
            dst_endpoint: 0,
            profile: PROFILE_ZDP,
            cluster: rsp.cluster(),
            lqi: 255,
            payload: rsp.encode(tsn),
        })
    }
}

/// Mgmt_NWK_Update_req with a scan duration (0-5): the energy detection scan's
/// Mgmt_NWK_Update_notify. Channel change requests (0xFE, 0xFF) are not answered.
fn energy_scan(payload: &[u8]) -> Option<ApsIncoming> {
    let (&tsn, rest) = payload.split_first()?;
    let mask = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
    if *rest.get(4)? > 5 {
        return None;
    }
    let channels: Vec<u8> = (11..=26).filter(|c| mask & (1 << c) != 0).collect();
    let scanned = channels.iter().fold(0u32, |m, c| m | 1 << c);
    let mut p = vec![tsn, zdo::SUCCESS];
    p.extend_from_slice(&scanned.to_le_bytes());
    // Total transmissions and failures.
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.push(channels.len() as u8);
    p.extend(channels.iter().map(|c| channel_energy(*c)));
    Some(ApsIncoming {
        src_nwk: 0,
        src_endpoint: 0,
        dst_endpoint: 0,
        profile: PROFILE_ZDP,
        cluster: MGMT_NWK_UPDATE_NOTIFY,
        lqi: 255,
        payload: p,
    })
}
