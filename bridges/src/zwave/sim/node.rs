//! Virtual Z-Wave nodes: what a device does with the CC frames the controller sends it.
//!
//! A node answers Gets with Reports, applies Sets, keeps its association, wake-up and
//! configuration state, and logs every frame it received so tests can check what reached
//! the "radio". Frames are built with the same `cc` encoders the bridge decodes with, so
//! the two cannot drift apart. Multi Channel encapsulated frames are routed to end points
//! and answered encapsulated.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::zwave::cc::{
    self, association, basic, battery, binary_switch, central_scene, configuration, door_lock,
    manufacturer_specific, meter, multi_channel, multilevel_sensor, multilevel_switch,
    notification, supervision, thermostat_mode, thermostat_operating_state, thermostat_setpoint,
    version, wake_up,
};
use crate::zwave::serial::functions::{NodeInfo, NodeProtocolInfo};

/// Kinds of virtual device a scenario can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A mains plug: Binary Switch with an electric meter (kWh, W).
    BinarySwitch,
    /// A dimmer: Multilevel Switch.
    Dimmer,
    /// A sleeping battery multisensor: temperature, humidity, illuminance, motion
    /// (Notification), battery, wake up.
    Multisensor,
    /// A double switch: two Multi Channel end points with a Binary Switch each.
    DoubleSwitch,
    /// A wall controller sending Central Scene notifications.
    Button,
    /// A thermostat: Thermostat Mode, Operating State, Setpoint (heating, cooling), air
    /// temperature; answers Supervision.
    Thermostat,
    /// A door lock (FLiRS) with Door Lock and Battery CCs, without security.
    DoorLock,
    /// A door lock that accepts Door Lock and Battery only inside Security 0; it gets its
    /// network key at inclusion.
    SecureDoorLock,
}

/// A multilevel sensor value: type, scale, precision, raw value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SensorValue {
    /// Sensor type.
    pub sensor_type: u8,
    /// Scale.
    pub scale: u8,
    /// Decimal places of `raw`.
    pub precision: u8,
    /// Value × 10^precision.
    pub raw: i32,
}

/// State of one end point (0 = the root device).
#[derive(Debug, Clone, Default)]
pub struct EndPointState {
    /// CCs of this end point.
    pub ccs: Vec<u8>,
    /// Binary Switch state.
    pub switch: Option<bool>,
    /// Multilevel Switch level.
    pub level: Option<u8>,
    /// Multilevel sensor values.
    pub sensors: Vec<SensorValue>,
    /// Electric meter: (scale, precision, raw).
    pub meter: Vec<(u8, u8, i32)>,
    /// Thermostat mode.
    pub mode: Option<u8>,
    /// Thermostat operating state.
    pub operating_state: Option<u8>,
    /// Thermostat setpoints: type -> tenths of °C.
    pub setpoints: BTreeMap<u8, i32>,
    /// Door lock: (locked, door open).
    pub lock: Option<(bool, bool)>,
}

/// One virtual node.
#[derive(Debug, Clone)]
pub struct VirtualNode {
    /// Node id.
    pub id: u8,
    /// What it is.
    pub kind: NodeKind,
    /// Protocol info as GetNodeProtocolInfo returns it.
    pub protocol: NodeProtocolInfo,
    /// End points; index 0 is the root.
    pub end_points: Vec<EndPointState>,
    /// (manufacturer id, product type, product id).
    pub manufacturer: (u16, u16, u16),
    /// Firmware (major, minor).
    pub firmware: (u8, u8),
    /// Battery level, for battery devices.
    pub battery: Option<u8>,
    /// Sleeping device (needs Wake Up).
    pub sleeping: bool,
    /// A sleeping device is awake between Wake Up Notification and No More Information.
    pub awake: bool,
    /// Wake Up interval and target.
    pub wake_up: (u32, u8),
    /// Association groups.
    pub associations: BTreeMap<u8, Vec<u8>>,
    /// Configuration parameters.
    pub config: BTreeMap<u8, i32>,
    /// Every CC frame received, in order.
    pub received: Vec<Vec<u8>>,
    /// Answers nothing at all (a dead node).
    pub dead: bool,
    /// Security 0 state (secure nodes only).
    pub s0: Option<super::secure::S0Device>,
}

const LISTENING: NodeProtocolInfo = NodeProtocolInfo {
    capability: 0xD3,
    security: 0x9C,
    reserved: 0x01,
    basic: 0x04,
    generic: 0x10,
    specific: 0x01,
};

impl VirtualNode {
    /// A node of `kind` with its factory state.
    pub fn new(id: u8, kind: NodeKind) -> Self {
        let mut node = Self {
            id,
            kind,
            protocol: LISTENING,
            end_points: Vec::new(),
            manufacturer: (0x7FFF, 0x0001, u16::from(id)),
            firmware: (1, 2),
            battery: None,
            sleeping: false,
            awake: true,
            wake_up: (0, 0),
            associations: BTreeMap::new(),
            config: BTreeMap::from([(1, 0)]),
            received: Vec::new(),
            dead: false,
            s0: None,
        };
        match kind {
            NodeKind::BinarySwitch
            | NodeKind::Dimmer
            | NodeKind::DoubleSwitch
            | NodeKind::Button => {
                node.fit_actuator(kind);
            }
            _ => node.fit_sensor_or_lock(kind),
        }
        node
    }

    /// Factory state of switches, dimmers and controllers.
    fn fit_actuator(&mut self, kind: NodeKind) {
        let node = self;
        match kind {
            NodeKind::BinarySwitch => {
                let mut e = ep(&[0x25, 0x32]);
                e.switch = Some(false);
                e.meter = vec![(0, 2, 1234), (2, 1, 0)];
                node.end_points.push(e);
            }
            NodeKind::Dimmer => {
                let mut e = ep(&[0x26]);
                e.level = Some(0);
                node.end_points.push(e);
                node.protocol.generic = 0x11;
            }
            NodeKind::DoubleSwitch => {
                node.end_points.push(ep(&[0x60, 0x25]));
                node.end_points[0].switch = Some(false);
                for _ in 0..2 {
                    node.end_points.push(EndPointState {
                        ccs: vec![0x25],
                        switch: Some(false),
                        ..EndPointState::default()
                    });
                }
            }
            NodeKind::Button => {
                node.end_points.push(ep(&[0x5B]));
                node.protocol.generic = 0x18;
            }
            _ => {}
        }
    }

    /// Factory state of sensors, thermostats and locks.
    fn fit_sensor_or_lock(&mut self, kind: NodeKind) {
        let node = self;
        match kind {
            NodeKind::Multisensor => {
                let mut e = ep(&[0x31, 0x71, 0x80, 0x84]);
                e.sensors = vec![
                    SensorValue {
                        sensor_type: 0x01,
                        scale: 0,
                        precision: 1,
                        raw: 215,
                    },
                    SensorValue {
                        sensor_type: 0x05,
                        scale: 0,
                        precision: 0,
                        raw: 45,
                    },
                    SensorValue {
                        sensor_type: 0x03,
                        scale: 1,
                        precision: 0,
                        raw: 300,
                    },
                ];
                node.end_points.push(e);
                node.protocol.capability = 0x53;
                node.protocol.generic = 0x21;
                node.battery = Some(90);
                node.sleeping = true;
                node.awake = false;
                node.wake_up = (3600, 0);
            }
            NodeKind::Thermostat => {
                let mut e = ep(&[0x40, 0x42, 0x43, 0x31, 0x6C]);
                e.mode = Some(1);
                e.operating_state = Some(0);
                e.setpoints = BTreeMap::from([(1, 200), (2, 260)]);
                e.sensors = vec![SensorValue {
                    sensor_type: 0x01,
                    scale: 0,
                    precision: 1,
                    raw: 195,
                }];
                node.end_points.push(e);
                node.protocol.generic = 0x08;
            }
            NodeKind::SecureDoorLock => {
                let mut e = ep(&[0x98]);
                e.lock = Some((true, false));
                node.end_points.push(e);
                node.battery = Some(80);
                node.protocol.capability = 0x53;
                node.protocol.security = 0xDC;
                node.protocol.generic = 0x40;
                node.s0 = Some(super::secure::S0Device::new(vec![0x62, 0x80]));
            }
            NodeKind::DoorLock => {
                let mut e = ep(&[0x62, 0x80]);
                e.lock = Some((true, false));
                node.end_points.push(e);
                node.battery = Some(80);
                node.protocol.capability = 0x53;
                node.protocol.security = 0xDC;
                node.protocol.generic = 0x40;
            }
            _ => {}
        }
    }

    /// The node information frame.
    pub fn nif(&self) -> NodeInfo {
        NodeInfo {
            node_id: self.id,
            classes: (
                self.protocol.basic,
                self.protocol.generic,
                self.protocol.specific,
            ),
            command_classes: self
                .end_points
                .first()
                .map(|e| e.ccs.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether a frame sent now reaches the node.
    pub fn reachable(&self) -> bool {
        !self.dead && (!self.sleeping || self.awake)
    }

    fn cc_version(&self, cc: u8) -> u8 {
        let supported = self.end_points.iter().any(|e| e.ccs.contains(&cc));
        if !supported {
            return 0;
        }
        match cc {
            0x31 => 5,
            0x32 => 3,
            0x71 => 8,
            0x26 | 0x84 | 0x85 | 0x86 | 0x72 | 0x5B => 2,
            0x60 => 3,
            0x43 => 3,
            _ => 1,
        }
    }

    /// Handles one CC frame from the controller and returns the frames the node sends back.
    pub fn handle(&mut self, cmd: &[u8]) -> Vec<Vec<u8>> {
        self.received.push(cmd.to_vec());
        if self.s0.is_some()
            && let Some(out) = self.handle_s0(cmd)
        {
            return out;
        }
        self.handle_unsecured(cmd)
    }

    /// Handles a frame that arrived plain or was decrypted already.
    pub(super) fn handle_unsecured(&mut self, cmd: &[u8]) -> Vec<Vec<u8>> {
        if let Some((ep, inner)) = multi_channel::unwrap_to(cmd) {
            let inner = inner.to_vec();
            return self
                .handle_at(usize::from(ep), &inner)
                .into_iter()
                .map(|r| multi_channel::wrap(ep, 0, &r))
                .collect();
        }
        self.handle_at(0, cmd)
    }

    fn handle_at(&mut self, ep: usize, cmd: &[u8]) -> Vec<Vec<u8>> {
        if ep >= self.end_points.len() || cmd.len() < 2 {
            return Vec::new();
        }
        if let Some((session, inner)) = supervision::unwrap_get(cmd) {
            let inner = inner.to_vec();
            let mut out = self.handle_at(ep, &inner);
            out.push(supervision::report(session, supervision::Status::Success));
            return out;
        }
        let arg = |i: usize| cmd.get(i).copied().unwrap_or(0);
        match (cmd[0], cmd[1]) {
            (0x60, multi_channel::END_POINT_GET) => {
                vec![multi_channel::end_point_report(
                    (self.end_points.len() - 1) as u8,
                )]
            }
            (0x60, multi_channel::CAPABILITY_GET) => {
                let ep = usize::from(arg(2) & 0x7F);
                self.end_points
                    .get(ep)
                    .filter(|_| ep > 0)
                    .map(|e| multi_channel::capability_report(ep as u8, 0x10, 0x01, &e.ccs))
                    .into_iter()
                    .collect()
            }
            (0x40 | 0x42 | 0x43 | 0x62, _) => climate_and_lock(&mut self.end_points[ep], cmd),
            (0x20 | 0x25 | 0x26 | 0x31 | 0x32 | 0x71, _) => {
                actuators_and_sensors(&mut self.end_points[ep], cmd)
            }
            _ => self.handle_management(cmd),
        }
    }

    fn handle_management(&mut self, cmd: &[u8]) -> Vec<Vec<u8>> {
        let arg = |i: usize| cmd.get(i).copied().unwrap_or(0);
        match (arg(0), arg(1)) {
            (0x80, battery::GET) => self.battery.map(battery::report).into_iter().collect(),
            (0x84, wake_up::INTERVAL_SET) if cmd.len() >= 6 => {
                self.wake_up = (u32::from_be_bytes([0, arg(2), arg(3), arg(4)]), arg(5));
                Vec::new()
            }
            (0x84, wake_up::INTERVAL_GET) => {
                vec![wake_up::interval_report(self.wake_up.0, self.wake_up.1)]
            }
            (0x84, wake_up::NO_MORE_INFORMATION) => {
                if self.sleeping {
                    self.awake = false;
                }
                Vec::new()
            }
            (0x85, association::SET) => {
                let members = self.associations.entry(arg(2)).or_default();
                for n in cmd.iter().skip(3) {
                    if !members.contains(n) {
                        members.push(*n);
                    }
                }
                Vec::new()
            }
            (0x85, association::GET) => {
                let nodes = self.associations.get(&arg(2)).cloned().unwrap_or_default();
                vec![association::report(arg(2), 5, &nodes)]
            }
            (0x86, version::GET) => vec![version::report((7, 13), self.firmware)],
            (0x86, version::CC_GET) => vec![version::cc_report(arg(2), self.cc_version(arg(2)))],
            (0x72, manufacturer_specific::GET) => {
                let (m, t, p) = self.manufacturer;
                vec![manufacturer_specific::report(m, t, p)]
            }
            (0x70, configuration::SET) => {
                if let Some((p, v)) = configuration::parse_set(cmd) {
                    self.config.insert(p, v);
                }
                Vec::new()
            }
            (0x70, configuration::GET) => self
                .config
                .get(&arg(2))
                .map(|v| configuration::report(arg(2), *v))
                .into_iter()
                .collect(),
            (0x5B, central_scene::SUPPORTED_GET) => vec![central_scene::supported_report(2)],
            _ => {
                tracing::debug!(node = self.id, cmd = ?cmd, "zwave sim: command ignored");
                Vec::new()
            }
        }
    }

    /// Changes a multilevel sensor's raw value (for scripted reports).
    pub fn set_sensor(&mut self, sensor_type: u8, raw: i32) -> Option<Vec<u8>> {
        let e = self.end_points.first_mut()?;
        let s = e
            .sensors
            .iter_mut()
            .find(|s| s.sensor_type == sensor_type)?;
        s.raw = raw;
        Some(multilevel_sensor::report(
            s.sensor_type,
            s.scale,
            s.precision,
            s.raw,
        ))
    }

    /// Whether the node's root supports `cc`.
    pub fn supports(&self, cc: cc::CcId) -> bool {
        self.end_points
            .first()
            .is_some_and(|e| e.ccs.contains(&u8::from(cc)))
    }
}

/// Switches, dimmers, sensors, meters and notifications of one end point.
fn actuators_and_sensors(e: &mut EndPointState, cmd: &[u8]) -> Vec<Vec<u8>> {
    let arg = |i: usize| cmd.get(i).copied().unwrap_or(0);
    let one = |r: Option<Vec<u8>>| r.into_iter().collect::<Vec<_>>();
    match (cmd[0], cmd[1]) {
        (0x25, binary_switch::SET) => e.switch = Some(arg(2) != 0),
        (0x25, binary_switch::GET) => return one(e.switch.map(binary_switch::report)),
        (0x26, multilevel_switch::SET) | (0x20, basic::SET) if e.level.is_some() => {
            e.level = Some(if arg(2) == 0xFF { 99 } else { arg(2).min(99) });
        }
        (0x26, multilevel_switch::GET) => return one(e.level.map(multilevel_switch::report)),
        (0x20, basic::SET) => e.switch = Some(arg(2) != 0),
        (0x20, basic::GET) => {
            let v = e.level.or(e.switch.map(|s| if s { 0xFF } else { 0 }));
            return one(v.map(basic::report));
        }
        (0x31, multilevel_sensor::SUPPORTED_GET) => {
            let types: Vec<u8> = e.sensors.iter().map(|s| s.sensor_type).collect();
            return vec![multilevel_sensor::supported_report(&types)];
        }
        (0x31, multilevel_sensor::GET) => {
            let s = e
                .sensors
                .iter()
                .find(|s| cmd.len() < 3 || s.sensor_type == arg(2));
            return one(
                s.map(|s| multilevel_sensor::report(s.sensor_type, s.scale, s.precision, s.raw))
            );
        }
        (0x32, meter::SUPPORTED_GET) => {
            let scales: Vec<u8> = e.meter.iter().map(|m| m.0).collect();
            return vec![meter::supported_report(1, &scales)];
        }
        (0x32, meter::GET) => {
            let scale = (arg(2) >> 3) & 0x07;
            let m = e.meter.iter().find(|m| cmd.len() < 3 || m.0 == scale);
            return one(m.map(|m| meter::report(1, m.0, m.1, m.2)));
        }
        (0x71, notification::SUPPORTED_GET) => {
            return vec![vec![0x71, notification::SUPPORTED_REPORT, 0x01, 0x80]];
        }
        (0x71, notification::GET) if arg(3) == 0x07 => {
            return vec![notification::report(0x07, 0x00, None)];
        }
        _ => {}
    }
    Vec::new()
}

/// Thermostat and door lock CCs of one end point.
fn climate_and_lock(e: &mut EndPointState, cmd: &[u8]) -> Vec<Vec<u8>> {
    let arg = |i: usize| cmd.get(i).copied().unwrap_or(0);
    let one = |r: Option<Vec<u8>>| r.into_iter().collect::<Vec<_>>();
    match (cmd[0], cmd[1]) {
        (0x40, thermostat_mode::SET) => e.mode = Some(arg(2) & 0x1F),
        (0x40, thermostat_mode::GET) => return one(e.mode.map(thermostat_mode::report)),
        (0x42, thermostat_operating_state::GET) => {
            return one(e.operating_state.map(thermostat_operating_state::report));
        }
        (0x43, thermostat_setpoint::SET) => {
            if let Some((t, v)) = thermostat_setpoint::parse_set(cmd) {
                e.setpoints.insert(t, v);
            }
        }
        (0x43, thermostat_setpoint::GET) => {
            let t = arg(2) & 0x0F;
            // Type 0 with a zero value: "not supported" (spec).
            let report = match e.setpoints.get(&t) {
                Some(v) => thermostat_setpoint::report(t, *v),
                None => thermostat_setpoint::report(0, 0),
            };
            return vec![report];
        }
        (0x62, door_lock::SET) => {
            if let Some(l) = e.lock.as_mut() {
                l.0 = arg(2) == door_lock::SECURED;
            }
        }
        (0x62, door_lock::GET) => return one(e.lock.map(|(l, d)| door_lock::report(l, d))),
        _ => {}
    }
    Vec::new()
}

/// An end point with `ccs` plus the management CCs every node has.
fn ep(ccs: &[u8]) -> EndPointState {
    EndPointState {
        ccs: ccs
            .iter()
            .chain([0x86, 0x72, 0x85, 0x70].iter())
            .copied()
            .collect(),
        ..EndPointState::default()
    }
}
