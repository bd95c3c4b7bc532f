//! What the simulated coordinators' behaviour has in common, whatever the wire protocol:
//! the scenario's devices as the network sees them, the timed events they schedule (joins,
//! scripted reports, going silent, leaving), and the interface [`super::host`] drives an
//! NCP's state through.

use std::collections::VecDeque;
use std::time::Duration;

use super::{JoinMode, ScenarioDevice, ScriptedReport, VirtualDevice};
use crate::zigbee::backend::{ApsFrame, ApsIncoming};
use crate::zigbee::zcl::ZclValue;

/// How many host data frames a simulator's `data_log` keeps.
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
    /// Joining closes (the EZSP NCP: only if `epoch` is still the current permit; the ZNP
    /// simulator leaves it 0 and closes on every timer).
    ClosePermitJoin {
        /// Which permit opened it.
        epoch: u32,
    },
    /// Device `n` stops answering.
    Silent(usize),
    /// Device `n` leaves the network by itself.
    Leave(usize),
}

/// Something to do after handling a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Out<F> {
    /// Send this frame now.
    Frame(F),
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
    pub reports: Vec<ScriptedReport>,
    /// Goes silent this long after joining.
    pub silent_after_ms: Option<u64>,
    /// Leaves this long after joining.
    pub leave_after_ms: Option<u64>,
}

impl From<ScenarioDevice> for SimDevice {
    fn from(d: ScenarioDevice) -> Self {
        SimDevice {
            joined: d.join == JoinMode::Paired,
            device: d.device,
            join: d.join,
            reports: d.reports,
            silent_after_ms: d.silent_after_ms,
            leave_after_ms: d.leave_after_ms,
        }
    }
}

impl SimDevice {
    /// What device `i` does by itself once in a running network: its scripted reports,
    /// going silent, leaving.
    pub fn schedule<F>(&self, i: usize) -> Vec<Out<F>> {
        let reports = self.reports.iter().enumerate().map(|(k, r)| {
            Out::Later(
                Duration::from_millis(r.after_ms),
                Timed::Report {
                    device: i,
                    report: k,
                },
            )
        });
        let silent = self
            .silent_after_ms
            .map(|ms| Out::Later(Duration::from_millis(ms), Timed::Silent(i)));
        let leave = self
            .leave_after_ms
            .map(|ms| Out::Later(Duration::from_millis(ms), Timed::Leave(i)));
        reports.chain(silent).chain(leave).collect()
    }

    /// Runs scripted report `report`: the frame the device sends (none if the scripted
    /// value does not encode) and when the report repeats. `None` if it cannot report (no
    /// such report, not joined, not answering).
    pub fn scripted_report(
        &mut self,
        report: usize,
    ) -> Option<(Option<ApsIncoming>, Option<Duration>)> {
        let r = self.reports.get(report)?.clone();
        if !self.joined || !self.device.responsive {
            return None;
        }
        let msg = r
            .zcl_value()
            .and_then(|v| self.device.report(r.endpoint, r.cluster, r.attribute, v));
        Some((
            msg,
            r.every_ms.map(|every| Duration::from_millis(every.max(10))),
        ))
    }
}

/// What the devices already in the network do once it runs (see [`SimDevice::schedule`]).
pub fn network_schedule<F>(devices: &[SimDevice]) -> Vec<Out<F>> {
    let joined = devices.iter().enumerate().filter(|(_, d)| d.joined);
    joined.flat_map(|(i, d)| d.schedule(i)).collect()
}

/// The joins a permit schedules: each device waiting for one, 30 ms apart.
pub fn joins_on_permit<F>(devices: &[SimDevice]) -> Vec<Out<F>> {
    let waiting = devices
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.joined && d.join == JoinMode::OnPermit);
    waiting
        .enumerate()
        .map(|(k, (i, _))| Out::Later(Duration::from_millis(20 + 30 * k as u64), Timed::Join(i)))
        .collect()
}

/// Appends a host data frame to a simulator's log, keeping the last [`DATA_LOG_LEN`].
pub fn log_data(log: &mut VecDeque<ApsFrame>, frame: ApsFrame) {
    if log.len() == DATA_LOG_LEN {
        log.pop_front();
    }
    log.push_back(frame);
}

/// The "random" PAN ids and keys a simulated NCP picks: xorshift64*, seeded from its
/// IEEE address, since they only need to differ per coordinator.
#[derive(Debug, Clone)]
pub struct SimRandom(u64);

impl SimRandom {
    /// The generator of the NCP with this IEEE address.
    pub fn new(ieee: u64) -> Self {
        SimRandom(ieee ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A simulated NCP's behaviour as the host side drives it.
pub trait CoordinatorState: Send + 'static {
    /// A frame for the host.
    type Frame: Send + 'static;

    /// The scenario's devices.
    fn devices_mut(&mut self) -> &mut [SimDevice];

    /// Runs a timed event.
    fn timed(&mut self, t: Timed) -> Vec<Out<Self::Frame>>;

    /// How a device's frame to the coordinator reaches the host (AF_INCOMING_MSG,
    /// `incomingMessageHandler`).
    fn incoming(&self, a: &ApsIncoming) -> Out<Self::Frame>;

    /// A joined device sends a report now (test control); `None` if it cannot.
    fn report_now(
        &mut self,
        ieee: u64,
        ep: u8,
        cluster: u16,
        attr: u16,
        v: ZclValue,
    ) -> Option<Out<Self::Frame>> {
        let d = joined_mut(self.devices_mut(), ieee)?;
        let m = d.device.report(ep, cluster, attr, v)?;
        Some(self.incoming(&m))
    }

    /// A joined device sends a cluster command to the coordinator now (a button press).
    fn command_now(
        &mut self,
        ieee: u64,
        ep: u8,
        cluster: u16,
        command: u8,
        payload: Vec<u8>,
    ) -> Option<Out<Self::Frame>> {
        let d = joined_mut(self.devices_mut(), ieee)?;
        let m = d.device.command(ep, cluster, command, payload)?;
        Some(self.incoming(&m))
    }
}

fn joined_mut(devices: &mut [SimDevice], ieee: u64) -> Option<&mut SimDevice> {
    devices
        .iter_mut()
        .find(|d| d.device.ieee == ieee && d.joined)
}
