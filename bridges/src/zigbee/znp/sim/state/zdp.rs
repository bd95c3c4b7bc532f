//! ZDP requests the simulated firmware answers on behalf of its devices (ZDO_*_REQ in,
//! ZDO_*_RSP and ZDO_MSG_CB_INCOMING out) and device removal (Mgmt_Leave).

use crate::zigbee::backend::{ApsFrame, ApsIncoming, PROFILE_ZDP};
use crate::zigbee::zdo::{self, Zdp};
use crate::zigbee::znp::commands::{List8, Rest, zdo as mtzdo};

use super::{Out, SimState, emit};

impl SimState {
    pub(super) fn zdo_request(&mut self, dst: u16, req: Zdp, rsp: impl Fn(u8) -> Out) -> Vec<Out> {
        self.zdp_tsn = self.zdp_tsn.wrapping_add(1);
        let frame = ApsFrame {
            dst_nwk: dst,
            dst_endpoint: 0,
            src_endpoint: 0,
            profile: PROFILE_ZDP,
            cluster: req.cluster(),
            payload: req.encode(self.zdp_tsn),
        };
        let Some(d) = self.device_by_nwk(dst) else {
            return vec![rsp(0x02)];
        };
        let answers = d.device.handle(&frame);
        let mut out = vec![rsp(0)];
        for a in answers {
            out.extend(self.typed_zdo_callback(&a));
            if self.wants_zdo_cb(a.cluster) {
                out.push(self.msg_cb(&a));
            }
        }
        out
    }

    /// The dedicated ZDO_*_RSP callback Z-Stack sends besides ZDO_MSG_CB_INCOMING.
    pub(super) fn typed_zdo_callback(&self, a: &ApsIncoming) -> Option<Out> {
        let (_, msg) = Zdp::parse(a.cluster, &a.payload).ok()?;
        let src_addr = a.src_nwk;
        Some(match msg {
            Zdp::NodeDescRsp {
                status,
                nwk,
                descriptor,
            } => emit(mtzdo::NodeDescRsp {
                src_addr,
                status,
                nwk_addr: nwk,
                descriptor: Rest(
                    descriptor
                        .map(|d| d.to_bytes().to_vec())
                        .unwrap_or_default(),
                ),
            }),
            Zdp::ActiveEpRsp {
                status,
                nwk,
                endpoints,
            } => emit(mtzdo::ActiveEpRsp {
                src_addr,
                status,
                nwk_addr: nwk,
                endpoints: List8(endpoints),
            }),
            Zdp::SimpleDescRsp {
                status,
                nwk,
                descriptor,
            } => {
                let d = descriptor.map(|d| d.to_bytes()).unwrap_or_default();
                emit(mtzdo::SimpleDescRsp {
                    src_addr,
                    status,
                    nwk_addr: nwk,
                    len: d.len() as u8,
                    descriptor: Rest(d),
                })
            }
            Zdp::StatusRsp { cluster, status }
                if cluster == zdo::cluster::BIND_REQ | zdo::cluster::RESPONSE =>
            {
                emit(mtzdo::BindRsp { src_addr, status })
            }
            _ => return None,
        })
    }

    pub(super) fn msg_cb(&self, a: &ApsIncoming) -> Out {
        let (tsn, data) = a
            .payload
            .split_first()
            .map_or((0, &[][..]), |(t, d)| (*t, d));
        emit(mtzdo::MsgCbIncoming {
            src_addr: a.src_nwk,
            was_broadcast: 0,
            cluster_id: a.cluster,
            security_use: 0,
            seq_num: tsn,
            mac_dst_addr: 0,
            data: Rest(data.to_vec()),
        })
    }

    pub(super) fn leave(&mut self, nwk: u16) -> Vec<Out> {
        let Some(d) = self.device_by_nwk(nwk) else {
            return vec![emit(mtzdo::MgmtLeaveReqRsp { status: 0x02 })];
        };
        if !d.device.responsive {
            return vec![emit(mtzdo::MgmtLeaveReqRsp { status: 0 })];
        }
        d.joined = false;
        let ieee = d.device.ieee;
        self.forget_device(ieee);
        let rsp_cluster = zdo::cluster::MGMT_LEAVE_REQ | zdo::cluster::RESPONSE;
        self.zdp_tsn = self.zdp_tsn.wrapping_add(1);
        let rsp = Zdp::StatusRsp {
            cluster: rsp_cluster,
            status: 0,
        };
        let aps = ApsIncoming {
            src_nwk: nwk,
            src_endpoint: 0,
            dst_endpoint: 0,
            profile: PROFILE_ZDP,
            cluster: rsp_cluster,
            lqi: 0,
            payload: rsp.encode(self.zdp_tsn),
        };
        let mut out = vec![
            emit(mtzdo::MgmtLeaveReqRsp { status: 0 }),
            emit(mtzdo::MgmtLeaveRsp {
                src_addr: nwk,
                status: 0,
            }),
        ];
        if self.wants_zdo_cb(rsp_cluster) {
            out.push(self.msg_cb(&aps));
        }
        out.push(emit(mtzdo::LeaveInd {
            nwk_addr: nwk,
            ieee,
            request: 0,
            remove: 0,
            rejoin: 0,
        }));
        out
    }
}
