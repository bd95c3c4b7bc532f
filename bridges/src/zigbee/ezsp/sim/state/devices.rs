//! The simulated network's devices as the NCP sees them: joins (trust-centre callback and
//! Device_annce), leaves, scripted and test-driven reports and commands, all delivered as
//! `incomingMessageHandler` callbacks.

use std::time::Duration;

use super::{NcpState, Out, SimDevice, Timed};
use crate::zigbee::backend::ApsIncoming;
use crate::zigbee::ezsp::commands::{self as c, EmberApsFrame};
use crate::zigbee::ezsp::wire::LvBytes;

impl NcpState {
    pub(super) fn scripted_report(&mut self, t: Timed, device: usize, report: usize) -> Vec<Out> {
        let up = self.network_up;
        let Some(d) = self.devices.get_mut(device) else {
            return Vec::new();
        };
        let Some(r) = d.reports.get(report).cloned() else {
            return Vec::new();
        };
        if !d.joined || !d.device.responsive || !up {
            return Vec::new();
        }
        let msg = r
            .zcl_value()
            .and_then(|v| d.device.report(r.endpoint, r.cluster, r.attribute, v));
        let mut out: Vec<Out> = msg
            .iter()
            .map(|m| self.incoming(m, c::INCOMING_UNICAST))
            .collect();
        if let Some(every) = r.every_ms {
            out.push(Out::Later(Duration::from_millis(every.max(10)), t));
        }
        out
    }

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
        out.extend(report_schedule(i, &self.devices[i]));
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
        let m = d.device.command(ep, cluster, command, payload)?;
        Some(self.incoming(&m, c::INCOMING_UNICAST))
    }

    /// A device sends a report now; `None` if it cannot.
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
        let m = d.device.report(ep, cluster, attr, v)?;
        Some(self.incoming(&m, c::INCOMING_UNICAST))
    }
}

pub(super) fn report_schedule(i: usize, d: &SimDevice) -> Vec<Out> {
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
