//! Serial API functions: ids, the table of what each exchange looks like, and typed
//! request/response/callback payloads.
//!
//! Implements the function descriptions of the Z-Wave Host API Specification (INS13954,
//! chapter "Serial API functions"). Byte layouts were cross-checked against zwave-js
//! (`packages/zwave-js/src/lib/serialapi`). Every exchange is one of:
//! a request the stick ACKs and answers with a response frame of the same function id,
//! optionally followed later by a request frame from the stick (the *callback*) whose first
//! payload byte is the callback id the host chose (0 = no callback wanted).

use bytes::Bytes;

pub use super::network::{
    ApplicationUpdate, FailedNodeStatus, NodeInfo, NodeStatus, NodeStatusCallback, UpdateType, mode,
};

enum_with_unknown! {
    /// Serial API function ids (FUNC_ID_* in the Host API spec).
    pub enum FunctionId {
        /// FUNC_ID_SERIAL_API_GET_INIT_DATA.
        GetSerialApiInitData = 0x02,
        /// FUNC_ID_APPLICATION_COMMAND_HANDLER: a command class frame from a node.
        ApplicationCommandHandler = 0x04,
        /// FUNC_ID_ZW_GET_CONTROLLER_CAPABILITIES.
        GetControllerCapabilities = 0x05,
        /// FUNC_ID_SERIAL_API_GET_CAPABILITIES.
        GetSerialApiCapabilities = 0x07,
        /// FUNC_ID_SERIAL_API_SOFT_RESET.
        SoftReset = 0x08,
        /// FUNC_ID_SERIAL_API_STARTED: sent by 7xx sticks after a reset.
        SerialApiStarted = 0x0A,
        /// FUNC_ID_SERIAL_API_SETUP.
        SerialApiSetup = 0x0B,
        /// FUNC_ID_ZW_SEND_DATA.
        SendData = 0x13,
        /// FUNC_ID_ZW_GET_VERSION.
        GetVersion = 0x15,
        /// FUNC_ID_MEMORY_GET_ID: home id and own node id.
        MemoryGetId = 0x20,
        /// FUNC_ID_ZW_GET_NODE_PROTOCOL_INFO.
        GetNodeProtocolInfo = 0x41,
        /// FUNC_ID_ZW_APPLICATION_UPDATE: node information and other events.
        ApplicationUpdate = 0x49,
        /// FUNC_ID_ZW_ADD_NODE_TO_NETWORK: inclusion.
        AddNodeToNetwork = 0x4A,
        /// FUNC_ID_ZW_REMOVE_NODE_FROM_NETWORK: exclusion.
        RemoveNodeFromNetwork = 0x4B,
        /// FUNC_ID_ZW_REQUEST_NODE_INFO.
        RequestNodeInfo = 0x60,
        /// FUNC_ID_ZW_REMOVE_FAILED_NODE_ID.
        RemoveFailedNode = 0x61,
        /// FUNC_ID_ZW_IS_FAILED_NODE_ID.
        IsFailedNode = 0x62,
        /// FUNC_ID_ZW_REPLACE_FAILED_NODE.
        ReplaceFailedNode = 0x63,
        /// FUNC_ID_APPLICATION_COMMAND_HANDLER_BRIDGE (bridge controller library).
        BridgeApplicationCommandHandler = 0xA8,
    }
}

/// How one function's exchange looks on the wire.
#[derive(Debug, Clone, Copy)]
pub struct FunctionSpec {
    /// The function.
    pub id: FunctionId,
    /// The stick answers the request with a response frame.
    pub response: bool,
    /// The stick later sends a callback carrying the request's callback id.
    pub callback: bool,
    /// Whether a response payload means "accepted"; `false` ends the exchange early.
    pub response_ok: fn(&[u8]) -> bool,
}

fn first_nonzero(p: &[u8]) -> bool {
    p.first().is_some_and(|b| *b != 0)
}

fn first_zero(p: &[u8]) -> bool {
    // RemoveFailedNode/ReplaceFailedNode answer 0 when the operation started.
    p.first() == Some(&0)
}

fn always(_: &[u8]) -> bool {
    true
}

const fn spec(
    id: FunctionId,
    response: bool,
    callback: bool,
    ok: fn(&[u8]) -> bool,
) -> FunctionSpec {
    FunctionSpec {
        id,
        response,
        callback,
        response_ok: ok,
    }
}

/// The host-initiated functions this implementation uses.
pub const FUNCTIONS: &[FunctionSpec] = &[
    spec(FunctionId::SoftReset, false, false, always),
    spec(FunctionId::GetSerialApiCapabilities, true, false, always),
    spec(FunctionId::GetVersion, true, false, always),
    spec(FunctionId::MemoryGetId, true, false, always),
    spec(FunctionId::GetControllerCapabilities, true, false, always),
    spec(FunctionId::GetSerialApiInitData, true, false, always),
    spec(FunctionId::GetNodeProtocolInfo, true, false, always),
    spec(FunctionId::SerialApiSetup, true, false, always),
    spec(FunctionId::SendData, true, true, first_nonzero),
    spec(FunctionId::AddNodeToNetwork, false, true, always),
    spec(FunctionId::RemoveNodeFromNetwork, false, true, always),
    spec(FunctionId::RemoveFailedNode, true, true, first_zero),
    spec(FunctionId::ReplaceFailedNode, true, true, first_zero),
    spec(FunctionId::IsFailedNode, true, false, always),
    spec(FunctionId::RequestNodeInfo, true, false, first_nonzero),
];

/// The table entry for `id`; unknown functions are treated as request + response.
pub fn spec_of(id: FunctionId) -> FunctionSpec {
    FUNCTIONS
        .iter()
        .copied()
        .find(|s| s.id == id)
        .unwrap_or(spec(id, true, false, always))
}

/// A payload was shorter than its layout or otherwise malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed {function:?} payload")]
pub struct PayloadError {
    /// Function whose payload failed to parse.
    pub function: FunctionId,
}

pub(crate) fn need(p: &[u8], n: usize, function: FunctionId) -> Result<(), PayloadError> {
    if p.len() < n {
        Err(PayloadError { function })
    } else {
        Ok(())
    }
}

/// A request the host sends, with the payload already encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRequest {
    /// The function.
    pub function: FunctionId,
    /// Encoded payload (callback id included where the function carries one).
    pub payload: Vec<u8>,
    /// Callback id, 0 when no callback is wanted.
    pub callback_id: u8,
}

impl HostRequest {
    /// A request with no payload and no callback.
    pub fn simple(function: FunctionId) -> Self {
        Self {
            function,
            payload: Vec::new(),
            callback_id: 0,
        }
    }

    /// GetNodeProtocolInfo / RequestNodeInfo / IsFailedNode for one node.
    pub fn for_node(function: FunctionId, node: u8) -> Self {
        Self {
            function,
            payload: vec![node],
            callback_id: 0,
        }
    }

    /// SendData: `command` (a CC frame) to `node` with transmit options and callback id.
    pub fn send_data(node: u8, command: &[u8], tx_options: u8, callback_id: u8) -> Self {
        let mut payload = Vec::with_capacity(command.len() + 4);
        payload.push(node);
        // A CC frame never exceeds a Serial API frame; callers bound it, this clamps.
        let len = command.len().min(usize::from(u8::MAX));
        payload.push(len as u8);
        payload.extend_from_slice(&command[..len]);
        payload.push(tx_options);
        payload.push(callback_id);
        Self {
            function: FunctionId::SendData,
            payload,
            callback_id,
        }
    }

    /// AddNodeToNetwork / RemoveNodeFromNetwork with `mode` (see [`AddNodeMode`]).
    pub fn node_mode(function: FunctionId, mode: u8, callback_id: u8) -> Self {
        Self {
            function,
            payload: vec![mode, callback_id],
            callback_id,
        }
    }

    /// RemoveFailedNode / ReplaceFailedNode for `node`.
    pub fn failed_node(function: FunctionId, node: u8, callback_id: u8) -> Self {
        Self {
            function,
            payload: vec![node, callback_id],
            callback_id,
        }
    }

    /// SerialApiSetup SetTxStatusReport (sub-command 0x02).
    pub fn set_tx_status_report(enable: bool) -> Self {
        Self {
            function: FunctionId::SerialApiSetup,
            payload: vec![0x02, if enable { 0xFF } else { 0x00 }],
            callback_id: 0,
        }
    }
}

/// Transmit options for SendData: ACK | AUTO_ROUTE | EXPLORE.
pub const TX_OPTIONS_DEFAULT: u8 = 0x01 | 0x04 | 0x20;

/// GetVersion response: library version string and library type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// E.g. "Z-Wave 7.17".
    pub version: String,
    /// Library type (1 = static controller, 7 = bridge controller, ...).
    pub library_type: u8,
}

impl VersionInfo {
    /// Parses the NUL-terminated version string and the final library type byte.
    ///
    /// The spec shows a 12-byte field ("Z-Wave x.yy\0"); sticks and the zwave-js mock send
    /// longer strings ("Z-Wave 7.17.99"), so the library type is taken from the last byte.
    pub fn parse(p: &[u8]) -> Result<Self, PayloadError> {
        need(p, 2, FunctionId::GetVersion)?;
        let (text, last) = p.split_at(p.len() - 1);
        let end = text.iter().position(|b| *b == 0).unwrap_or(text.len());
        Ok(Self {
            version: String::from_utf8_lossy(&text[..end]).into_owned(),
            library_type: last[0],
        })
    }

    /// Encodes the response payload: the string padded with NULs to at least 12 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let text = &self.version.as_bytes()[..self.version.len().min(64)];
        let mut out = text.to_vec();
        out.resize(text.len().max(11) + 1, 0);
        out.push(self.library_type);
        out
    }
}

/// GetSerialApiCapabilities response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialApiCapabilities {
    /// Firmware version and revision.
    pub firmware: (u8, u8),
    /// Manufacturer id.
    pub manufacturer_id: u16,
    /// Product type.
    pub product_type: u16,
    /// Product id.
    pub product_id: u16,
    /// Supported function ids (bit n-1 = function n).
    pub supported: [u8; 32],
}

impl SerialApiCapabilities {
    /// Parses the 8-byte header and a function bitmask of up to 32 bytes.
    pub fn parse(p: &[u8]) -> Result<Self, PayloadError> {
        need(p, 8, FunctionId::GetSerialApiCapabilities)?;
        let mut supported = [0u8; 32];
        let mask = &p[8..p.len().min(40)];
        supported[..mask.len()].copy_from_slice(mask);
        Ok(Self {
            firmware: (p[0], p[1]),
            manufacturer_id: u16::from_be_bytes([p[2], p[3]]),
            product_type: u16::from_be_bytes([p[4], p[5]]),
            product_id: u16::from_be_bytes([p[6], p[7]]),
            supported,
        })
    }

    /// Encodes the response payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.firmware.0, self.firmware.1];
        out.extend_from_slice(&self.manufacturer_id.to_be_bytes());
        out.extend_from_slice(&self.product_type.to_be_bytes());
        out.extend_from_slice(&self.product_id.to_be_bytes());
        out.extend_from_slice(&self.supported);
        out
    }

    /// Whether the stick implements `f`.
    pub fn supports(&self, f: FunctionId) -> bool {
        bitmask_has(&self.supported, u8::from(f))
    }
}

/// Whether a 1-based bitmask (bit 0 of byte 0 = value 1) contains `n`.
pub fn bitmask_has(mask: &[u8], n: u8) -> bool {
    if n == 0 {
        return false;
    }
    let i = usize::from(n - 1);
    mask.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// Builds a 1-based bitmask of `len` bytes from the values in `items`.
pub fn bitmask_from(items: impl IntoIterator<Item = u8>, len: usize) -> Vec<u8> {
    let mut mask = vec![0u8; len];
    for n in items.into_iter().filter(|n| *n > 0) {
        let i = usize::from(n - 1);
        if let Some(b) = mask.get_mut(i / 8) {
            *b |= 1 << (i % 8);
        }
    }
    mask
}

/// Values present in a 1-based bitmask.
pub fn bitmask_values(mask: &[u8]) -> Vec<u8> {
    (1..=u8::MAX).filter(|n| bitmask_has(mask, *n)).collect()
}

/// MemoryGetId response: the network's home id and the controller's node id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryId {
    /// Home id.
    pub home_id: u32,
    /// The controller's own node id.
    pub node_id: u8,
}

impl MemoryId {
    /// Parses home id (4 bytes big-endian) and node id.
    pub fn parse(p: &[u8]) -> Result<Self, PayloadError> {
        need(p, 5, FunctionId::MemoryGetId)?;
        Ok(Self {
            home_id: u32::from_be_bytes([p[0], p[1], p[2], p[3]]),
            node_id: p[4],
        })
    }

    /// Encodes the response payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.home_id.to_be_bytes().to_vec();
        out.push(self.node_id);
        out
    }
}

/// GetSerialApiInitData response: the node list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitData {
    /// Serial API version.
    pub api_version: u8,
    /// Capability flags (0x01 end node, 0x04 secondary, 0x08 SIS).
    pub capabilities: u8,
    /// Node ids present in the network (controller included).
    pub nodes: Vec<u8>,
    /// Chip type and version.
    pub chip: (u8, u8),
}

/// Bytes of the node bitmask in GetSerialApiInitData (232 nodes).
pub const NODE_BITMASK_LEN: usize = 29;

impl InitData {
    /// Parses version, capabilities, the length-prefixed node bitmask and the chip bytes.
    pub fn parse(p: &[u8]) -> Result<Self, PayloadError> {
        let f = FunctionId::GetSerialApiInitData;
        need(p, 3, f)?;
        let len = usize::from(p[2]);
        need(p, 3 + len, f)?;
        let mask = &p[3..3 + len];
        let chip = (
            p.get(3 + len).copied().unwrap_or(0),
            p.get(4 + len).copied().unwrap_or(0),
        );
        Ok(Self {
            api_version: p[0],
            capabilities: p[1],
            nodes: bitmask_values(mask),
            chip,
        })
    }

    /// Encodes the response payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.api_version, self.capabilities, NODE_BITMASK_LEN as u8];
        out.extend(bitmask_from(self.nodes.iter().copied(), NODE_BITMASK_LEN));
        out.push(self.chip.0);
        out.push(self.chip.1);
        out
    }
}

/// GetNodeProtocolInfo response (also the first bytes of a node information frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct NodeProtocolInfo {
    /// Capability byte: bit 7 listening, bit 6 routing, bits 0-2 protocol version.
    pub capability: u8,
    /// Security byte: bit 7 optional functionality, bits 5-6 FLiRS (250/1000 ms).
    pub security: u8,
    /// Reserved/speed extension byte.
    pub reserved: u8,
    /// Basic device class.
    pub basic: u8,
    /// Generic device class.
    pub generic: u8,
    /// Specific device class.
    pub specific: u8,
}

impl NodeProtocolInfo {
    /// Parses the six bytes; a missing node answers generic class 0.
    pub fn parse(p: &[u8]) -> Result<Self, PayloadError> {
        need(p, 6, FunctionId::GetNodeProtocolInfo)?;
        Ok(Self {
            capability: p[0],
            security: p[1],
            reserved: p[2],
            basic: p[3],
            generic: p[4],
            specific: p[5],
        })
    }

    /// Encodes the response payload.
    pub fn encode(&self) -> Vec<u8> {
        vec![
            self.capability,
            self.security,
            self.reserved,
            self.basic,
            self.generic,
            self.specific,
        ]
    }

    /// Always listening (mains powered).
    pub fn is_listening(&self) -> bool {
        self.capability & 0x80 != 0
    }

    /// Frequently listening (FLiRS, woken by a beam).
    pub fn is_frequent_listening(&self) -> bool {
        self.security & 0x60 != 0
    }

    /// Sleeps between Wake Up Notifications: neither listening nor FLiRS.
    pub fn is_sleeping(&self) -> bool {
        !self.is_listening() && !self.is_frequent_listening()
    }
}

/// SendData callback: how the transmission ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendDataCallback {
    /// The callback id from the request.
    pub callback_id: u8,
    /// Transmit status.
    pub status: TxStatus,
}

enum_with_unknown! {
    /// Transmit status of a SendData callback.
    pub enum TxStatus {
        /// The node acknowledged the frame.
        Ok = 0x00,
        /// No acknowledgement from the node.
        NoAck = 0x01,
        /// Transmission failed (network busy).
        Fail = 0x02,
        /// Routing not idle.
        NotIdle = 0x03,
        /// No route to the node.
        NoRoute = 0x04,
    }
}

impl SendDataCallback {
    /// Parses callback id and status (a trailing TX report is ignored).
    pub fn parse(p: &[u8]) -> Result<Self, PayloadError> {
        need(p, 2, FunctionId::SendData)?;
        Ok(Self {
            callback_id: p[0],
            status: TxStatus::from(p[1]),
        })
    }
}

/// An ApplicationCommandHandler (or its bridge variant): a CC frame from a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationCommand {
    /// Receive status flags.
    pub rx_status: u8,
    /// Sending node.
    pub source: u8,
    /// The command class frame (CC id, command, parameters).
    pub command: Bytes,
}

impl ApplicationCommand {
    /// Parses 0x04 (rxStatus, source, len, cmd) or 0xA8 (rxStatus, dest, source, len, cmd).
    pub fn parse(function: FunctionId, p: &Bytes) -> Result<Self, PayloadError> {
        let (src_at, len_at) = match function {
            FunctionId::BridgeApplicationCommandHandler => (2, 3),
            _ => (1, 2),
        };
        need(p, len_at + 1, function)?;
        let len = usize::from(p[len_at]);
        need(p, len_at + 1 + len, function)?;
        Ok(Self {
            rx_status: p[0],
            source: p[src_at],
            command: p.slice(len_at + 1..len_at + 1 + len),
        })
    }

    /// Encodes a 0x04 payload (simulator side).
    pub fn encode(source: u8, command: &[u8]) -> Vec<u8> {
        let mut out = vec![0x00, source, command.len().min(255) as u8];
        out.extend_from_slice(&command[..command.len().min(255)]);
        out
    }
}

#[cfg(test)]
mod tests;
