//! Z-Wave command classes as data: one module per CC declares its ids, its frames and how
//! they map to TR-181 IoT capabilities; this module is the small engine that uses them.
//!
//! Implements the command class definitions of the Z-Wave Application Command Class
//! specification (SDS13781, "Z-Wave Plus Application Command Class Specification"), and the
//! project's mapping to TR-181's IoT model (documented in `docs/DEVICES.md`).
//!
//! A CC frame is `[cc id, command, parameters...]`. Each [`CcSpec`] in [`ALL`] gives:
//! the capabilities the CC implies from the NIF alone (`controls`), the frames the interview
//! sends (`interview`), follow-up frames once the device said what it supports
//! (`follow_up`), the decoder turning any incoming frame into [`Decoded`] items, and the
//! encoder for a write (`set`) plus the Get that confirms it (`get`). Adding a CC is adding
//! a module and a table entry.

use std::borrow::Cow;

use crate::api::{CapabilityKind, Decimal, EventArgs, Value};

pub mod association;
pub mod basic;
pub mod battery;
pub mod binary_sensor;
pub mod binary_switch;
pub mod central_scene;
pub mod color_switch;
pub mod configuration;
pub mod door_lock;
pub mod manufacturer_specific;
pub mod meter;
pub mod multi_channel;
pub mod multilevel_sensor;
pub mod multilevel_switch;
pub mod notification;
pub mod security0;
pub mod supervision;
pub mod thermostat_mode;
pub mod thermostat_operating_state;
pub mod thermostat_setpoint;
pub mod version;
pub mod wake_up;

#[cfg(test)]
mod tests;

enum_with_unknown! {
    /// Command class ids.
    pub enum CcId {
        /// COMMAND_CLASS_BASIC.
        Basic = 0x20,
        /// COMMAND_CLASS_SWITCH_BINARY.
        BinarySwitch = 0x25,
        /// COMMAND_CLASS_SWITCH_MULTILEVEL.
        MultilevelSwitch = 0x26,
        /// COMMAND_CLASS_SENSOR_BINARY.
        BinarySensor = 0x30,
        /// COMMAND_CLASS_SENSOR_MULTILEVEL.
        MultilevelSensor = 0x31,
        /// COMMAND_CLASS_METER.
        Meter = 0x32,
        /// COMMAND_CLASS_SWITCH_COLOR.
        ColorSwitch = 0x33,
        /// COMMAND_CLASS_THERMOSTAT_MODE.
        ThermostatMode = 0x40,
        /// COMMAND_CLASS_THERMOSTAT_OPERATING_STATE.
        ThermostatOperatingState = 0x42,
        /// COMMAND_CLASS_THERMOSTAT_SETPOINT.
        ThermostatSetpoint = 0x43,
        /// COMMAND_CLASS_CENTRAL_SCENE.
        CentralScene = 0x5B,
        /// COMMAND_CLASS_ZWAVEPLUS_INFO.
        ZWavePlusInfo = 0x5E,
        /// COMMAND_CLASS_MULTI_CHANNEL.
        MultiChannel = 0x60,
        /// COMMAND_CLASS_DOOR_LOCK.
        DoorLock = 0x62,
        /// COMMAND_CLASS_SUPERVISION.
        Supervision = 0x6C,
        /// COMMAND_CLASS_CONFIGURATION.
        Configuration = 0x70,
        /// COMMAND_CLASS_NOTIFICATION (formerly ALARM).
        Notification = 0x71,
        /// COMMAND_CLASS_MANUFACTURER_SPECIFIC.
        ManufacturerSpecific = 0x72,
        /// COMMAND_CLASS_BATTERY.
        Battery = 0x80,
        /// COMMAND_CLASS_WAKE_UP.
        WakeUp = 0x84,
        /// COMMAND_CLASS_ASSOCIATION.
        Association = 0x85,
        /// COMMAND_CLASS_VERSION.
        Version = 0x86,
        /// COMMAND_CLASS_SECURITY (S0).
        Security = 0x98,
        /// COMMAND_CLASS_SECURITY_2.
        Security2 = 0x9F,
    }
}

/// A frame that does not match its CC's layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CcError {
    /// Shorter than the command's layout.
    #[error("{cc:?} command {command:#04x} truncated")]
    Truncated {
        /// Command class.
        cc: CcId,
        /// Command.
        command: u8,
    },
    /// A field value the spec does not allow.
    #[error("{cc:?}: {reason}")]
    Invalid {
        /// Command class.
        cc: CcId,
        /// What is wrong.
        reason: &'static str,
    },
    /// The property cannot be written or the value does not fit.
    #[error("cannot set {property}: {reason}")]
    CannotSet {
        /// The property.
        property: String,
        /// Why.
        reason: &'static str,
    },
}

/// A capability a CC provides, before it is placed on a device or end point.
#[derive(Debug, Clone, PartialEq)]
pub struct CapDef {
    /// The CC that owns it.
    pub cc: CcId,
    /// Property name within the CC (the last part of the capability id).
    pub property: Cow<'static, str>,
    /// Default capability name.
    pub name: Cow<'static, str>,
    /// TR-181 class and sub-object data.
    pub kind: CapabilityKind,
}

impl CapDef {
    /// The capability id on end point `ep` (0 = the root device): `ep0/0x25/switch`.
    pub fn id(&self, ep: u8) -> String {
        capability_id(ep, self.cc, &self.property)
    }
}

/// Capability id for `property` of `cc` on end point `ep`.
pub fn capability_id(ep: u8, cc: CcId, property: &str) -> String {
    format!("ep{ep}/0x{:02x}/{property}", u8::from(cc))
}

/// Splits a capability id into end point, CC and property.
pub fn parse_capability_id(id: &str) -> Option<(u8, CcId, &str)> {
    let (ep, rest) = id.strip_prefix("ep")?.split_once('/')?;
    let (cc, prop) = rest.strip_prefix("0x")?.split_once('/')?;
    Some((
        ep.parse().ok()?,
        CcId::from(u8::from_str_radix(cc, 16).ok()?),
        prop,
    ))
}

/// Interview facts a CC frame carries (not capability values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeFact {
    /// Version CC: the version of one CC.
    CcVersion {
        /// The CC.
        cc: CcId,
        /// Its version (0 = not supported).
        version: u8,
    },
    /// Version CC: firmware.
    Firmware {
        /// "major.minor".
        version: String,
    },
    /// Manufacturer Specific CC.
    Manufacturer {
        /// Manufacturer id.
        manufacturer_id: u16,
        /// Product type.
        product_type: u16,
        /// Product id.
        product_id: u16,
    },
    /// Wake Up Interval Report.
    WakeUpInterval {
        /// Seconds.
        seconds: u32,
        /// Node that receives the notifications.
        target: u8,
    },
    /// Wake Up Notification: a sleeping node is awake now.
    WakeUpNotification,
    /// Multi Channel End Point Report.
    EndPoints {
        /// Number of individual end points.
        count: u8,
    },
    /// Multi Channel Capability Report.
    EndPointCapability {
        /// End point.
        ep: u8,
        /// Generic and specific device class.
        classes: (u8, u8),
        /// Supported CCs.
        command_classes: Vec<CcId>,
    },
    /// Configuration Report.
    Configuration {
        /// Parameter number.
        param: u8,
        /// Value (sign-extended).
        value: i32,
    },
    /// Association Report.
    Association {
        /// Group.
        group: u8,
        /// Member node ids.
        nodes: Vec<u8>,
    },
    /// Association Groupings Report.
    AssociationGroups(u8),
    /// What a sensor-like CC supports (sensor types, meter scales, notification types,
    /// number of scenes): drives `follow_up`.
    Supported {
        /// The CC.
        cc: CcId,
        /// Supported ids (meaning per CC).
        ids: Vec<u8>,
    },
}

/// What one incoming CC frame means.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A capability's current value (the definition comes along, so reports of types
    /// learned late still map).
    Reading {
        /// The capability.
        def: CapDef,
        /// Its value.
        value: Value,
    },
    /// A momentary event (button press, alarm without a TR-181 sensor type).
    Event {
        /// Event name.
        name: &'static str,
        /// Arguments.
        args: EventArgs,
    },
    /// An interview fact.
    Fact(NodeFact),
}

/// One command class in the table.
pub struct CcSpec {
    /// The CC.
    pub id: CcId,
    /// Name as the spec spells it.
    pub name: &'static str,
    /// Capabilities implied by the CC being in the NIF (version given).
    pub controls: fn(u8) -> Vec<CapDef>,
    /// Frames the interview sends to learn support and current values (version given).
    pub interview: fn(u8) -> Vec<Vec<u8>>,
    /// Frames to send after a [`NodeFact::Supported`] of this CC (version given).
    pub follow_up: fn(&NodeFact, u8) -> Vec<Vec<u8>>,
    /// Decodes a frame of this CC (`cmd[0]` is the CC id).
    pub decode: fn(&[u8]) -> Result<Vec<Decoded>, CcError>,
    /// Encodes a Set of `property` to `value` (version given).
    pub set: fn(&str, &Value, u8) -> Result<Vec<u8>, CcError>,
    /// The Get whose Report confirms `property`.
    pub get: fn(&str, u8) -> Option<Vec<u8>>,
}

/// Every CC this bridge maps, looked up by [`spec`].
pub const ALL: &[&CcSpec] = &[
    &basic::CC,
    &binary_switch::CC,
    &multilevel_switch::CC,
    &binary_sensor::CC,
    &multilevel_sensor::CC,
    &meter::CC,
    &color_switch::CC,
    &thermostat_mode::CC,
    &thermostat_operating_state::CC,
    &thermostat_setpoint::CC,
    &central_scene::CC,
    &multi_channel::CC,
    &door_lock::CC,
    &supervision::CC,
    &security0::CC,
    &configuration::CC,
    &notification::CC,
    &manufacturer_specific::CC,
    &battery::CC,
    &wake_up::CC,
    &association::CC,
    &version::CC,
];

/// The table entry of `id`.
pub fn spec(id: CcId) -> Option<&'static CcSpec> {
    ALL.iter().copied().find(|s| s.id == id)
}

/// Decodes any CC frame; unknown CCs give `Ok(vec![])` (logged by the caller).
pub fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    match cmd.first().map(|b| CcId::from(*b)).and_then(spec) {
        Some(s) => (s.decode)(cmd),
        None => Ok(Vec::new()),
    }
}

// ---- helpers shared by the CC modules -------------------------------------------------

pub(crate) fn none_controls(_: u8) -> Vec<CapDef> {
    Vec::new()
}

pub(crate) fn no_frames(_: u8) -> Vec<Vec<u8>> {
    Vec::new()
}

pub(crate) fn no_follow_up(_: &NodeFact, _: u8) -> Vec<Vec<u8>> {
    Vec::new()
}

pub(crate) fn read_only(property: &str, _: &Value, _: u8) -> Result<Vec<u8>, CcError> {
    Err(CcError::CannotSet {
        property: property.to_owned(),
        reason: "read-only",
    })
}

pub(crate) fn no_get(_: &str, _: u8) -> Option<Vec<u8>> {
    None
}

/// Checks `cmd` has at least `n` bytes.
pub(crate) fn need(cmd: &[u8], n: usize, cc: CcId) -> Result<(), CcError> {
    if cmd.len() < n {
        Err(CcError::Truncated {
            cc,
            command: cmd.get(1).copied().unwrap_or(0),
        })
    } else {
        Ok(())
    }
}

/// Reads a signed big-endian integer of 1, 2 or 4 bytes.
pub(crate) fn read_int(bytes: &[u8], size: usize) -> Option<i32> {
    let b = bytes.get(..size)?;
    match size {
        1 => Some(i32::from(b[0] as i8)),
        2 => Some(i32::from(i16::from_be_bytes([b[0], b[1]]))),
        4 => Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        _ => None,
    }
}

/// Smallest size (1, 2 or 4) that holds `v`, and its big-endian bytes.
pub(crate) fn write_int(v: i32) -> Vec<u8> {
    if let Ok(b) = i8::try_from(v) {
        vec![b as u8]
    } else if let Ok(s) = i16::try_from(v) {
        s.to_be_bytes().to_vec()
    } else {
        v.to_be_bytes().to_vec()
    }
}

/// Decodes the common `precision(3) | scale(2) | size(3)` byte plus value.
pub(crate) fn read_scaled(pss: u8, bytes: &[u8]) -> Option<(Decimal, u8)> {
    let precision = pss >> 5;
    let scale = (pss >> 3) & 0x03;
    let size = usize::from(pss & 0x07);
    let raw = read_int(bytes, size)?;
    Some((Decimal::new(i64::from(raw), precision), scale))
}

/// Encodes `value` (already multiplied by 10^precision) with the PSS byte.
pub(crate) fn write_scaled(raw: i32, precision: u8, scale: u8) -> Vec<u8> {
    let value = write_int(raw);
    let mut out = vec![((precision & 0x07) << 5) | ((scale & 0x03) << 3) | value.len() as u8];
    out.extend(value);
    out
}

/// A Z-Wave "on/off" byte: 0x00 off, 0x01-0x63 and 0xFF on, anything else invalid.
pub(crate) fn on_off(b: u8) -> Option<bool> {
    match b {
        0x00 => Some(false),
        0x01..=0x63 | 0xFF => Some(true),
        _ => None,
    }
}
