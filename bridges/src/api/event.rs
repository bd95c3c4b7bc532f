//! What a bridge tells the agent, on a `tokio::sync::broadcast` channel.
//!
//! A slow subscriber that falls more than the channel's capacity behind gets
//! `RecvError::Lagged` and must resynchronise with
//! [`BridgeHandle::devices`](super::BridgeHandle::devices); the bridge never blocks on
//! subscribers.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::capability::CapabilityId;
use super::device::{DeviceDescriptor, DeviceId};
use super::value::Value;

/// Named event arguments (`Event!` notification arguments in the data model).
pub type EventArgs = BTreeMap<String, String>;

/// A radio's identity and network parameters; never anything secret (no keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RadioInfo {
    /// Firmware as the radio reports it (e.g. `Z-Stack 20240710`, `Z-Wave 7.17`).
    pub firmware: String,
    /// The radio's own address: coordinator IEEE (EUI-64) or controller node id.
    pub address: String,
    /// Zigbee channel (11-26).
    pub channel: Option<u8>,
    /// Zigbee PAN id.
    pub pan_id: Option<u16>,
    /// Zigbee extended PAN id.
    pub extended_pan_id: Option<u64>,
    /// Z-Wave home id.
    pub home_id: Option<u32>,
}

/// One thing that happened on a radio.
#[derive(Debug, Clone, PartialEq)]
pub enum BridgeEvent {
    /// A device paired (or was loaded from the bridge's registry at start).
    DeviceJoined(DeviceDescriptor),
    /// A known device's description changed (interview progressed, firmware changed).
    DeviceUpdated(DeviceDescriptor),
    /// A device left or was removed.
    DeviceLeft(DeviceId),
    /// A device became reachable or unreachable.
    Online {
        /// The device.
        id: DeviceId,
        /// Whether it is reachable now.
        online: bool,
    },
    /// A capability's value changed (sent only on change, not on every report).
    Value {
        /// The device.
        id: DeviceId,
        /// The capability.
        capability: CapabilityId,
        /// The new value.
        value: Value,
        /// When the radio received it.
        at: SystemTime,
    },
    /// A momentary event: button press, scene activation, alarm.
    Event {
        /// The device.
        id: DeviceId,
        /// The capability the event belongs to, if any.
        capability: Option<CapabilityId>,
        /// Event name (an [`EventSpec`](super::device::EventSpec) name).
        name: String,
        /// Event arguments.
        args: EventArgs,
        /// When the radio received it.
        at: SystemTime,
    },
    /// The radio (dongle, adapter) went up or down.
    RadioState {
        /// Whether the radio is usable.
        online: bool,
        /// A human-readable reason or firmware/port summary.
        detail: String,
    },
    /// What the radio is and which network it runs (sent when the radio comes up).
    RadioInfo(RadioInfo),
    /// Joining was opened or closed.
    PermitJoin {
        /// Whether joining is open.
        open: bool,
        /// Seconds left while open (0 when closed).
        remaining_s: u32,
    },
}

impl BridgeEvent {
    /// The device the event is about, if it is about one.
    pub fn device(&self) -> Option<&DeviceId> {
        match self {
            Self::DeviceJoined(d) | Self::DeviceUpdated(d) => Some(&d.id),
            Self::DeviceLeft(id)
            | Self::Online { id, .. }
            | Self::Value { id, .. }
            | Self::Event { id, .. } => Some(id),
            Self::RadioState { .. } | Self::RadioInfo(_) | Self::PermitJoin { .. } => None,
        }
    }
}
