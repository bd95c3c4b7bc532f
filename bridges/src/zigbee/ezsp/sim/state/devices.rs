//! The simulated network's devices as the NCP sees them: joins (trust-centre callback and
//! Device_annce), leaves, scripted and test-driven reports and commands, all delivered as
//! `incomingMessageHandler` callbacks.

use super::{NcpState, Out, SimDevice, Timed};
use crate::zigbee::backend::ApsIncoming;
use crate::zigbee::ezsp::commands::{self as c, EmberApsFrame};
use crate::zigbee::ezsp::wire::LvBytes;
use crate::zigbee::sim::CoordinatorState;

impl NcpState {
    pub(super) fn device_left(&mut self, nwk: u16, ieee: u64) -> Vec<Out> {
        if let Some(d) = self.devices.iter_mut().find(|d| d.device.ieee == ieee) {
            d.joined = false;
        }
        vec![self.callback(&c::TrustCenterJoinHandler {
            new_node_id: nwk,
            new_node_eui64: ieee,
            status: c::device_update::DEVICE_LEFT,
            policy_decision: 3,
            parent_of_new_node_id: 0xFFFF,
        })]
    }

    /// Device `i` joins: trust-centre callback, then its Device_annce broadcast.
    pub fn join(&mut self, i: usize) -> Vec<Out> {
        if !self.network_up {
            return Vec::new();
        }
        let Some(d) = self.devices.get_mut(i) else {
            return Vec::new();
        };
        if d.joined {
            return Vec::new();
        }
        d.joined = true;
        let (nwk, ieee, annce) = (d.device.nwk, d.device.ieee, d.device.announce());
        let node = d.device.node;
        let mut out = vec![self.callback(&c::TrustCenterJoinHandler {
            new_node_id: nwk,
            new_node_eui64: ieee,
            status: c::device_update::UNSECURED_JOIN,
            policy_decision: 0,
            parent_of_new_node_id: 0x0000,
        })];
        // End devices (logical type 2) join as the coordinator's children; a sleepy one
        // (receiver off when idle, MAC capability bit 3 clear) is EMBER_SLEEPY_END_DEVICE.
        if node.logical_type == 2 {
            let sleepy = node.mac_capabilities & 0x08 == 0;
            out.push(self.callback(&c::ChildJoinHandler {
                index: i.min(255) as u8,
                joining: true,
                child_id: nwk,
                child_eui64: ieee,
                child_type: if sleepy { 4 } else { 3 },
            }));
        }
        out.push(self.incoming(&annce, 4));
        out.extend(self.devices[i].schedule(i));
        out
    }

    /// `incomingMessageHandler` for a device's frame.
    pub fn incoming(&self, a: &ApsIncoming, message_type: u8) -> Out {
        let ieee = self
            .devices
            .iter()
            .find(|d| d.device.nwk == a.src_nwk)
            .map_or(0, |d| d.device.ieee);
        self.callback(&c::IncomingMessageHandler {
            message_type,
            aps_frame: EmberApsFrame {
                profile_id: a.profile,
                cluster_id: a.cluster,
                source_endpoint: a.src_endpoint,
                destination_endpoint: a.dst_endpoint,
                options: 0,
                group_id: 0,
                sequence: 0,
            },
            lqi: a.lqi,
            rssi: -50,
            sender: a.src_nwk,
            sender_eui64: ieee,
            binding_index: 0xFF,
            address_index: 0xFF,
            timestamp: 0,
            message: LvBytes(a.payload.clone()),
        })
    }
}

impl CoordinatorState for NcpState {
    type Frame = Vec<u8>;

    fn devices_mut(&mut self) -> &mut [SimDevice] {
        &mut self.devices
    }

    fn timed(&mut self, t: Timed) -> Vec<Out> {
        match t {
            Timed::Join(i) => self.join(i),
            Timed::ClosePermitJoin { epoch } if epoch == self.permit_epoch => {
                vec![self.stack_status(self.network_closed())]
            }
            Timed::ClosePermitJoin { .. } => Vec::new(),
            Timed::Silent(i) => {
                if let Some(d) = self.devices.get_mut(i) {
                    d.device.responsive = false;
                }
                Vec::new()
            }
            Timed::Leave(i) => match self.devices.get(i) {
                Some(d) if d.joined && self.network_up => {
                    let (nwk, ieee) = (d.device.nwk, d.device.ieee);
                    self.device_left(nwk, ieee)
                }
                _ => Vec::new(),
            },
            Timed::Report { device, report } => {
                let up = self.network_up;
                let Some((msg, again)) = self
                    .devices
                    .get_mut(device)
                    .filter(|_| up)
                    .and_then(|d| d.scripted_report(report))
                else {
                    return Vec::new();
                };
                let again = again.map(|after| Out::Later(after, t));
                let msgs = msg.iter().map(|m| self.incoming(m, c::INCOMING_UNICAST));
                msgs.chain(again).collect()
            }
        }
    }

    fn incoming(&self, a: &ApsIncoming) -> Out {
        NcpState::incoming(self, a, c::INCOMING_UNICAST)
    }
}
