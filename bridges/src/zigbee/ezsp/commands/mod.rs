//! The EZSP commands and callbacks this host and the simulator use (UG100 §4-§9), declared as
//! data: one struct per frame with its id, name and response type, encoded field by field
//! through [`Wire`]. Layouts that changed between protocol versions (status width at v14,
//! message tags, `incomingMessageHandler`, `messageSentHandler`, `sendBroadcast`,
//! `leaveNetwork`, `exportKey`) are written out by hand next to their struct.

use super::wire::{DecodeError, Reader, Wire};

/// A host-to-NCP command with its response.
pub trait Command: Wire {
    /// Frame id.
    const ID: u16;
    /// Name as UG100 spells it.
    const NAME: &'static str;
    /// The response's parameters.
    type Response: Wire;
}

/// An NCP-to-host callback.
pub trait Callback: Wire {
    /// Frame id.
    const ID: u16;
    /// Name as UG100 spells it.
    const NAME: &'static str;
}

macro_rules! command {
    ($t:ident = $id:expr, $name:expr, $rsp:ty) => {
        impl Command for $t {
            const ID: u16 = $id;
            const NAME: &'static str = $name;
            type Response = $rsp;
        }
    };
}

macro_rules! callback {
    ($t:ident = $id:expr, $name:expr) => {
        impl Callback for $t {
            const ID: u16 = $id;
            const NAME: &'static str = $name;
        }
    };
}

/// Frame ids and names of every frame this module declares (for logs and the simulator).
pub const FRAMES: &[(u16, &str)] = &[
    (0x0000, "version"),
    (0x0002, "addEndpoint"),
    (0x0005, "nop"),
    (0x000B, "getMfgToken"),
    (0x0010, "setConcentrator"),
    (0x0017, "networkInit"),
    (0x0018, "networkState"),
    (0x0019, "stackStatusHandler"),
    (0x001E, "formNetwork"),
    (0x0020, "leaveNetwork"),
    (0x0022, "permitJoining"),
    (0x0023, "childJoinHandler"),
    (0x0024, "trustCenterJoinHandler"),
    (0x0026, "getEui64"),
    (0x0027, "getNodeId"),
    (0x0028, "getNetworkParameters"),
    (0x0034, "sendUnicast"),
    (0x0036, "sendBroadcast"),
    (0x0038, "sendMulticast"),
    (0x003F, "messageSentHandler"),
    (0x0045, "incomingMessageHandler"),
    (0x0052, "getConfigurationValue"),
    (0x0053, "setConfigurationValue"),
    (0x0055, "setPolicy"),
    (0x0056, "getPolicy"),
    (0x0058, "invalidCommand"),
    (0x0059, "incomingRouteRecordHandler"),
    (0x0068, "setInitialSecurityState"),
    (0x0069, "getCurrentSecurityState"),
    (0x006A, "getKey"),
    (0x00AA, "getValue"),
    (0x00AB, "setValue"),
    (0x00AE, "setSourceRoute"),
    (0x0114, "exportKey"),
    (0x0116, "getNetworkKeyInfo"),
];

/// The name of a frame id, for logs.
pub fn name(id: u16) -> &'static str {
    FRAMES
        .iter()
        .find(|(i, _)| *i == id)
        .map_or("unknown", |(_, n)| n)
}

/// `invalidCommand`'s frame id: the NCP's answer to a frame it cannot take.
pub const INVALID_COMMAND: u16 = 0x0058;

/// `EmberOutgoingMessageType::OUTGOING_DIRECT`.
pub const OUTGOING_DIRECT: u8 = 0x00;
/// `EmberIncomingMessageType::INCOMING_UNICAST`.
pub const INCOMING_UNICAST: u8 = 0x00;
/// `EmberNodeType::COORDINATOR`.
pub const NODE_COORDINATOR: u8 = 0x01;
/// `EmberNetworkStatus` values.
pub mod network_status {
    /// Not on a network.
    pub const NO_NETWORK: u8 = 0;
    /// On a network.
    pub const JOINED_NETWORK: u8 = 2;
}
/// `EmberDeviceUpdate` values of `trustCenterJoinHandler`.
pub mod device_update {
    /// Secured rejoin.
    pub const SECURED_REJOIN: u8 = 0;
    /// Unsecured join (a new device).
    pub const UNSECURED_JOIN: u8 = 1;
    /// The device left.
    pub const DEVICE_LEFT: u8 = 2;
    /// Unsecured rejoin.
    pub const UNSECURED_REJOIN: u8 = 3;
}
/// `EmberApsOption` bits.
pub mod aps_option {
    /// APS retries (ask for an APS ACK).
    pub const RETRY: u16 = 0x0040;
    /// Discover a route when none is known.
    pub const ENABLE_ROUTE_DISCOVERY: u16 = 0x0100;
    /// Find the EUI-64 of the destination when needed.
    pub const ENABLE_ADDRESS_DISCOVERY: u16 = 0x1000;
}

mod simple;
mod types;
mod versioned;

pub use simple::*;
pub use types::*;
pub use versioned::*;

/// Encodes a value's parameters for `version`.
pub fn encode<W: Wire>(w: &W, version: u8) -> Vec<u8> {
    let mut out = Vec::new();
    w.encode(version, &mut out);
    out
}

/// Decodes parameters for `version`; trailing bytes are ignored (later firmware appends).
pub fn decode<W: Wire>(params: &[u8], version: u8) -> Result<W, DecodeError> {
    W::decode(version, &mut Reader::new(params))
}

#[cfg(test)]
mod tests;
