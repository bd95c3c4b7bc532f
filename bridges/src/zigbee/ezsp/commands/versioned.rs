//! EZSP frames whose layout changed between protocol versions, encoded by hand: the v14
//! `sl_status_t` move, two-byte message tags, `incomingMessageHandler`'s packet info,
//! `leaveNetwork`'s options, `exportKey`'s field order; plus `addEndpoint`'s split lists.

use super::types::*;
use super::{Callback, Command};
use crate::zigbee::ezsp::wire::{
    DecodeError, LvBytes, LvList16, Reader, Status, Wire, wire_struct,
};

/// `exportKey` (v13+).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportKey {
    /// Which key.
    pub context: SecurityManagerContext,
}
impl Wire for ExportKey {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        self.context.encode(v, out);
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        SecurityManagerContext::decode(v, r).map(|context| ExportKey { context })
    }
}
command!(ExportKey = 0x0114, "exportKey", ExportKeyRsp);

/// `exportKey` response: v13 sends the key then an `sl_status_t`; v14 the status, the key
/// and the context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportKeyRsp {
    /// `sl_status_t`.
    pub status: u32,
    /// The key.
    pub key: [u8; 16],
    /// The context (v14+).
    pub context: Option<SecurityManagerContext>,
}
impl Wire for ExportKeyRsp {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        if v >= 14 {
            self.status.encode(v, out);
            self.key.encode(v, out);
            self.context.clone().unwrap_or_default().encode(v, out);
        } else {
            self.key.encode(v, out);
            self.status.encode(v, out);
        }
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if v >= 14 {
            Ok(ExportKeyRsp {
                status: u32::decode(v, r)?,
                key: <[u8; 16]>::decode(v, r)?,
                context: Some(SecurityManagerContext::decode(v, r)?),
            })
        } else {
            let key = <[u8; 16]>::decode(v, r)?;
            Ok(ExportKeyRsp {
                key,
                status: u32::decode(v, r)?,
                context: None,
            })
        }
    }
}

/// `leaveNetwork`; v14 added an options byte.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaveNetwork {
    /// `SlZigbeeLeaveNetworkOption` (v14+).
    pub options: u8,
}
impl Wire for LeaveNetwork {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        if v >= 14 {
            out.push(self.options);
        }
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let options = if v >= 14 { u8::decode(v, r)? } else { 0 };
        Ok(LeaveNetwork { options })
    }
}
command!(LeaveNetwork = 0x0020, "leaveNetwork", StatusRsp);

/// A message tag: one byte before v14, two from v14.
fn encode_tag(tag: u16, v: u8, out: &mut Vec<u8>) {
    if v >= 14 {
        tag.encode(v, out);
    } else {
        out.push(tag as u8);
    }
}

fn decode_tag(v: u8, r: &mut Reader<'_>) -> Result<u16, DecodeError> {
    if v >= 14 {
        u16::decode(v, r)
    } else {
        u8::decode(v, r).map(u16::from)
    }
}

/// `sendUnicast`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendUnicast {
    /// `EmberOutgoingMessageType`.
    pub message_type: u8,
    /// Destination short address (or table index).
    pub destination: u16,
    /// APS header.
    pub aps_frame: EmberApsFrame,
    /// Host tag echoed in `messageSentHandler`.
    pub message_tag: u16,
    /// Payload.
    pub message: LvBytes,
}
impl Wire for SendUnicast {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        out.push(self.message_type);
        self.destination.encode(v, out);
        self.aps_frame.encode(v, out);
        encode_tag(self.message_tag, v, out);
        self.message.encode(v, out);
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SendUnicast {
            message_type: u8::decode(v, r)?,
            destination: u16::decode(v, r)?,
            aps_frame: EmberApsFrame::decode(v, r)?,
            message_tag: decode_tag(v, r)?,
            message: LvBytes::decode(v, r)?,
        })
    }
}
command!(SendUnicast = 0x0034, "sendUnicast", SendRsp);

wire_struct! {
    /// `sendUnicast` / `sendBroadcast` response.
    pub struct SendRsp {
        /// Status.
        pub status: Status,
        /// APS sequence number used.
        pub sequence: u8,
    }
}

/// `sendBroadcast`; v14 added alias and NWK sequence fields and a two-byte tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendBroadcast {
    /// 0xFFFC routers, 0xFFFD rx-on-when-idle, 0xFFFF all.
    pub destination: u16,
    /// APS header.
    pub aps_frame: EmberApsFrame,
    /// Hops.
    pub radius: u8,
    /// Host tag.
    pub message_tag: u16,
    /// Payload.
    pub message: LvBytes,
}
impl Wire for SendBroadcast {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        if v >= 14 {
            0xFFFFu16.encode(v, out); // no alias
        }
        self.destination.encode(v, out);
        if v >= 14 {
            out.push(0); // NWK sequence, only used with an alias
        }
        self.aps_frame.encode(v, out);
        out.push(self.radius);
        encode_tag(self.message_tag, v, out);
        self.message.encode(v, out);
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if v >= 14 {
            u16::decode(v, r)?;
        }
        let destination = u16::decode(v, r)?;
        if v >= 14 {
            u8::decode(v, r)?;
        }
        Ok(SendBroadcast {
            destination,
            aps_frame: EmberApsFrame::decode(v, r)?,
            radius: u8::decode(v, r)?,
            message_tag: decode_tag(v, r)?,
            message: LvBytes::decode(v, r)?,
        })
    }
}
command!(SendBroadcast = 0x0036, "sendBroadcast", SendRsp);

/// `sendMulticast`; v14 replaced the non-member radius with a broadcast address, added alias
/// and NWK sequence fields and widened the tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendMulticast {
    /// APS header (`group_id` is the group).
    pub aps_frame: EmberApsFrame,
    /// Hops (0: maximum).
    pub hops: u8,
    /// Hops through non-members (before v14).
    pub nonmember_radius: u8,
    /// Broadcast address that carries the multicast (v14+; 0xFFFD rx-on-when-idle).
    pub broadcast_addr: u16,
    /// Host tag.
    pub message_tag: u16,
    /// Payload.
    pub message: LvBytes,
}
impl Wire for SendMulticast {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        self.aps_frame.encode(v, out);
        out.push(self.hops);
        if v >= 14 {
            self.broadcast_addr.encode(v, out);
            0xFFFFu16.encode(v, out); // no alias
            out.push(0); // NWK sequence, only used with an alias
        } else {
            out.push(self.nonmember_radius);
        }
        encode_tag(self.message_tag, v, out);
        self.message.encode(v, out);
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let aps_frame = EmberApsFrame::decode(v, r)?;
        let hops = u8::decode(v, r)?;
        let (mut nonmember_radius, mut broadcast_addr) = (0, 0);
        if v >= 14 {
            broadcast_addr = u16::decode(v, r)?;
            u16::decode(v, r)?;
            u8::decode(v, r)?;
        } else {
            nonmember_radius = u8::decode(v, r)?;
        }
        Ok(SendMulticast {
            aps_frame,
            hops,
            nonmember_radius,
            broadcast_addr,
            message_tag: decode_tag(v, r)?,
            message: LvBytes::decode(v, r)?,
        })
    }
}
command!(SendMulticast = 0x0038, "sendMulticast", SendRsp);

/// `addEndpoint`: the two counts precede the two lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddEndpoint {
    /// Endpoint.
    pub endpoint: u8,
    /// Profile.
    pub profile_id: u16,
    /// Device id.
    pub device_id: u16,
    /// Device version.
    pub device_version: u8,
    /// Server clusters (at most 255).
    pub input_clusters: Vec<u16>,
    /// Client clusters (at most 255).
    pub output_clusters: Vec<u16>,
}
impl Wire for AddEndpoint {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        let (i, o) = (
            &self.input_clusters[..self.input_clusters.len().min(255)],
            &self.output_clusters[..self.output_clusters.len().min(255)],
        );
        out.push(self.endpoint);
        self.profile_id.encode(v, out);
        self.device_id.encode(v, out);
        out.extend_from_slice(&[self.device_version, i.len() as u8, o.len() as u8]);
        for c in i.iter().chain(o) {
            c.encode(v, out);
        }
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let endpoint = u8::decode(v, r)?;
        let profile_id = u16::decode(v, r)?;
        let device_id = u16::decode(v, r)?;
        let device_version = u8::decode(v, r)?;
        let ni = usize::from(u8::decode(v, r)?);
        let no = usize::from(u8::decode(v, r)?);
        let mut list = |n| {
            (0..n)
                .map(|_| u16::decode(v, r))
                .collect::<Result<Vec<_>, _>>()
        };
        let input_clusters = list(ni)?;
        let output_clusters = list(no)?;
        Ok(AddEndpoint {
            endpoint,
            profile_id,
            device_id,
            device_version,
            input_clusters,
            output_clusters,
        })
    }
}
command!(AddEndpoint = 0x0002, "addEndpoint", StatusRsp);

/// `incomingMessageHandler`; v14 replaced LQI/RSSI with a packet-info block that also
/// carries the sender's EUI-64 and a timestamp, and moved the sender before them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncomingMessageHandler {
    /// `EmberIncomingMessageType`.
    pub message_type: u8,
    /// APS header.
    pub aps_frame: EmberApsFrame,
    /// Last hop LQI.
    pub lqi: u8,
    /// Last hop RSSI.
    pub rssi: i8,
    /// Sender's short address.
    pub sender: u16,
    /// Sender's EUI-64 (v14+; 0 when unknown).
    pub sender_eui64: u64,
    /// Binding table index.
    pub binding_index: u8,
    /// Address table index.
    pub address_index: u8,
    /// Timestamp (v14+).
    pub timestamp: u32,
    /// Payload.
    pub message: LvBytes,
}
impl Wire for IncomingMessageHandler {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        out.push(self.message_type);
        self.aps_frame.encode(v, out);
        if v >= 14 {
            self.sender.encode(v, out);
            self.sender_eui64.encode(v, out);
            out.extend_from_slice(&[self.binding_index, self.address_index, self.lqi]);
            self.rssi.encode(v, out);
            self.timestamp.encode(v, out);
        } else {
            out.push(self.lqi);
            self.rssi.encode(v, out);
            self.sender.encode(v, out);
            out.extend_from_slice(&[self.binding_index, self.address_index]);
        }
        self.message.encode(v, out);
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let message_type = u8::decode(v, r)?;
        let aps_frame = EmberApsFrame::decode(v, r)?;
        let mut m = IncomingMessageHandler {
            message_type,
            aps_frame,
            ..Default::default()
        };
        if v >= 14 {
            m.sender = u16::decode(v, r)?;
            m.sender_eui64 = u64::decode(v, r)?;
            m.binding_index = u8::decode(v, r)?;
            m.address_index = u8::decode(v, r)?;
            m.lqi = u8::decode(v, r)?;
            m.rssi = i8::decode(v, r)?;
            m.timestamp = u32::decode(v, r)?;
        } else {
            m.lqi = u8::decode(v, r)?;
            m.rssi = i8::decode(v, r)?;
            m.sender = u16::decode(v, r)?;
            m.binding_index = u8::decode(v, r)?;
            m.address_index = u8::decode(v, r)?;
        }
        m.message = LvBytes::decode(v, r)?;
        Ok(m)
    }
}
callback!(IncomingMessageHandler = 0x0045, "incomingMessageHandler");

/// `messageSentHandler`; v14 moved the (now four-byte) status first and widened the tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageSentHandler {
    /// `EmberOutgoingMessageType`.
    pub message_type: u8,
    /// Destination.
    pub destination: u16,
    /// APS header.
    pub aps_frame: EmberApsFrame,
    /// The host's tag.
    pub message_tag: u16,
    /// Delivery status.
    pub status: Status,
    /// Payload (when the policy asks for it).
    pub message: LvBytes,
}
impl Wire for MessageSentHandler {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        if v >= 14 {
            self.status.encode(v, out);
        }
        out.push(self.message_type);
        self.destination.encode(v, out);
        self.aps_frame.encode(v, out);
        encode_tag(self.message_tag, v, out);
        if v < 14 {
            self.status.encode(v, out);
        }
        self.message.encode(v, out);
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let early = if v >= 14 {
            Some(Status::decode(v, r)?)
        } else {
            None
        };
        let message_type = u8::decode(v, r)?;
        let destination = u16::decode(v, r)?;
        let aps_frame = EmberApsFrame::decode(v, r)?;
        let message_tag = decode_tag(v, r)?;
        let status = match early {
            Some(s) => s,
            None => Status::decode(v, r)?,
        };
        Ok(MessageSentHandler {
            message_type,
            destination,
            aps_frame,
            message_tag,
            status,
            message: LvBytes::decode(v, r)?,
        })
    }
}
callback!(MessageSentHandler = 0x003F, "messageSentHandler");

wire_struct! {
    /// `trustCenterJoinHandler`.
    pub struct TrustCenterJoinHandler {
        /// Short address.
        pub new_node_id: u16,
        /// EUI-64.
        pub new_node_eui64: u64,
        /// `EmberDeviceUpdate`.
        pub status: u8,
        /// `EmberJoinDecision`.
        pub policy_decision: u8,
        /// Parent's short address.
        pub parent_of_new_node_id: u16,
    }
}
callback!(TrustCenterJoinHandler = 0x0024, "trustCenterJoinHandler");

wire_struct! {
    /// `childJoinHandler`.
    pub struct ChildJoinHandler {
        /// Child table index.
        pub index: u8,
        /// Joined (true) or left.
        pub joining: bool,
        /// Short address.
        pub child_id: u16,
        /// EUI-64.
        pub child_eui64: u64,
        /// `EmberNodeType`.
        pub child_type: u8,
    }
}
callback!(ChildJoinHandler = 0x0023, "childJoinHandler");

wire_struct! {
    /// `stackStatusHandler`.
    pub struct StackStatusHandler { /// Network up/down/opened/closed.
        pub status: Status }
}
callback!(StackStatusHandler = 0x0019, "stackStatusHandler");

wire_struct! {
    /// `incomingRouteRecordHandler`.
    pub struct IncomingRouteRecordHandler {
        /// Source.
        pub source: u16,
        /// Source EUI-64.
        pub source_eui: u64,
        /// LQI.
        pub lqi: u8,
        /// RSSI.
        pub rssi: i8,
        /// Relays.
        pub relays: LvList16,
    }
}
callback!(
    IncomingRouteRecordHandler = 0x0059,
    "incomingRouteRecordHandler"
);
