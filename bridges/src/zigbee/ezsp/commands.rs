//! The EZSP commands and callbacks this host and the simulator use (UG100 §4-§9), declared as
//! data: one struct per frame with its id, name and response type, encoded field by field
//! through [`Wire`]. Layouts that changed between protocol versions (status width at v14,
//! message tags, `incomingMessageHandler`, `messageSentHandler`, `sendBroadcast`,
//! `leaveNetwork`, `exportKey`) are written out by hand next to their struct.

use super::wire::{DecodeError, LvBytes, LvList16, Reader, Status, Wire, wire_struct};

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

wire_struct! {
    /// `EmberApsFrame`.
    pub struct EmberApsFrame {
        /// Profile.
        pub profile_id: u16,
        /// Cluster.
        pub cluster_id: u16,
        /// Source endpoint.
        pub source_endpoint: u8,
        /// Destination endpoint.
        pub destination_endpoint: u8,
        /// `EmberApsOption` bits.
        pub options: u16,
        /// Group.
        pub group_id: u16,
        /// APS counter.
        pub sequence: u8,
    }
}

wire_struct! {
    /// `EmberNetworkParameters`.
    pub struct NetworkParameters {
        /// Extended PAN id.
        pub extended_pan_id: u64,
        /// PAN id.
        pub pan_id: u16,
        /// Transmit power, dBm.
        pub radio_tx_power: u8,
        /// Channel 11-26.
        pub radio_channel: u8,
        /// `EmberJoinMethod`.
        pub join_method: u8,
        /// Network manager's short address.
        pub nwk_manager_id: u16,
        /// Network update id.
        pub nwk_update_id: u8,
        /// Channel mask.
        pub channels: u32,
    }
}

wire_struct! {
    /// `EmberInitialSecurityState`.
    pub struct InitialSecurityState {
        /// `EmberInitialSecurityBitmask`.
        pub bitmask: u16,
        /// Preconfigured trust-centre link key.
        pub preconfigured_key: [u8; 16],
        /// Network key.
        pub network_key: [u8; 16],
        /// Network key sequence number.
        pub network_key_sequence_number: u8,
        /// Trust centre EUI-64.
        pub preconfigured_trust_center_eui64: u64,
    }
}

/// `EmberInitialSecurityBitmask` bits.
pub mod security_bitmask {
    /// TRUST_CENTER_GLOBAL_LINK_KEY.
    pub const TRUST_CENTER_GLOBAL_LINK_KEY: u16 = 0x0004;
    /// HAVE_PRECONFIGURED_KEY.
    pub const HAVE_PRECONFIGURED_KEY: u16 = 0x0100;
    /// HAVE_NETWORK_KEY.
    pub const HAVE_NETWORK_KEY: u16 = 0x0200;
    /// REQUIRE_ENCRYPTED_KEY.
    pub const REQUIRE_ENCRYPTED_KEY: u16 = 0x0800;
    /// TRUST_CENTER_USES_HASHED_LINK_KEY.
    pub const TRUST_CENTER_USES_HASHED_LINK_KEY: u16 = 0x0084;
}

/// The well-known trust-centre link key "ZigBeeAlliance09".
pub const ZIGBEE_ALLIANCE_09: [u8; 16] = *b"ZigBeeAlliance09";

wire_struct! {
    /// `sl_zb_sec_man_context_t` (v13+).
    pub struct SecurityManagerContext {
        /// `sl_zb_sec_man_key_type_t` (1 network, 2 TC link).
        pub core_key_type: u8,
        /// Key index.
        pub key_index: u8,
        /// Derived key type.
        pub derived_type: u16,
        /// Partner EUI-64.
        pub eui64: u64,
        /// Network index.
        pub multi_network_index: u8,
        /// Flags.
        pub flags: u8,
        /// PSA key algorithm permission.
        pub psa_key_alg_permission: u32,
    }
}

/// `sl_zb_sec_man_key_type_t::NETWORK`.
pub const KEY_TYPE_NETWORK: u8 = 1;

wire_struct! {
    /// `sl_zb_sec_man_network_key_info_t`.
    pub struct NetworkKeyInfo {
        /// A network key is set.
        pub network_key_set: bool,
        /// An alternate key is set.
        pub alternate_network_key_set: bool,
        /// Sequence number.
        pub network_key_sequence_number: u8,
        /// Alternate key sequence number.
        pub alt_network_key_sequence_number: u8,
        /// Outgoing frame counter.
        pub network_key_frame_counter: u32,
    }
}

wire_struct! {
    /// `EmberKeyStruct` (getKey, v8-12).
    pub struct KeyStruct {
        /// `EmberKeyStructBitmask`.
        pub bitmask: u16,
        /// `EmberKeyType`.
        pub key_type: u8,
        /// The key.
        pub key: [u8; 16],
        /// Outgoing frame counter.
        pub outgoing_frame_counter: u32,
        /// Incoming frame counter.
        pub incoming_frame_counter: u32,
        /// Sequence number.
        pub sequence_number: u8,
        /// Partner EUI-64.
        pub partner_eui64: u64,
    }
}

/// `EmberKeyType::CURRENT_NETWORK_KEY`.
pub const EMBER_CURRENT_NETWORK_KEY: u8 = 3;

wire_struct! {
    /// A response that is only a status.
    pub struct StatusRsp { /// Status.
        pub status: Status }
}

wire_struct! {
    /// A command without parameters.
    pub struct NoParams {}
}

macro_rules! simple {
    ($(#[$m:meta])* $t:ident = $id:expr, $name:expr, { $($(#[$fm:meta])* $f:ident : $ft:ty),* } => $rsp:ty) => {
        wire_struct! { $(#[$m])* pub struct $t { $($(#[$fm])* pub $f: $ft),* } }
        command!($t = $id, $name, $rsp);
    };
}

simple!(/// `version`.
    Version = 0x0000, "version", { /// Desired protocol version.
        desired_protocol_version: u8 } => VersionRsp);
wire_struct! {
    /// `version` response.
    pub struct VersionRsp {
        /// The NCP's protocol version.
        pub protocol_version: u8,
        /// Stack type (2: mesh).
        pub stack_type: u8,
        /// Stack version, one nibble per digit (0x7400 = 7.4.0.0).
        pub stack_version: u16,
    }
}
simple!(/// `nop`.
    Nop = 0x0005, "nop", {} => NoParams);
simple!(/// `getMfgToken`.
    GetMfgToken = 0x000B, "getMfgToken", { /// `EzspMfgTokenId`.
        token_id: u8 } => GetMfgTokenRsp);
wire_struct! {
    /// `getMfgToken` response.
    pub struct GetMfgTokenRsp { /// Token bytes.
        pub token_data: LvBytes }
}
simple!(/// `getValue`.
    GetValue = 0x00AA, "getValue", { /// `EzspValueId`.
        value_id: u8 } => GetValueRsp);
wire_struct! {
    /// `getValue` response.
    pub struct GetValueRsp {
        /// Status.
        pub status: Status,
        /// Value bytes.
        pub value: LvBytes,
    }
}
simple!(/// `setValue`.
    SetValue = 0x00AB, "setValue", { /// `EzspValueId`.
        value_id: u8, /// Value bytes.
        value: LvBytes } => StatusRsp);
simple!(/// `getConfigurationValue`.
    GetConfigurationValue = 0x0052, "getConfigurationValue", { /// `EzspConfigId`.
        config_id: u8 } => GetConfigurationValueRsp);
wire_struct! {
    /// `getConfigurationValue` response.
    pub struct GetConfigurationValueRsp {
        /// Status.
        pub status: Status,
        /// Value.
        pub value: u16,
    }
}
simple!(/// `setConfigurationValue`.
    SetConfigurationValue = 0x0053, "setConfigurationValue", { /// `EzspConfigId`.
        config_id: u8, /// Value.
        value: u16 } => StatusRsp);
simple!(/// `setPolicy`.
    SetPolicy = 0x0055, "setPolicy", { /// `EzspPolicyId`.
        policy_id: u8, /// `EzspDecisionId` or decision bitmask.
        decision_id: u8 } => StatusRsp);
simple!(/// `getPolicy`.
    GetPolicy = 0x0056, "getPolicy", { /// `EzspPolicyId`.
        policy_id: u8 } => GetPolicyRsp);
wire_struct! {
    /// `getPolicy` response.
    pub struct GetPolicyRsp {
        /// Status.
        pub status: Status,
        /// Decision.
        pub decision_id: u8,
    }
}
simple!(/// `networkInit`.
    NetworkInit = 0x0017, "networkInit", { /// `EmberNetworkInitBitmask`.
        bitmask: u16 } => StatusRsp);
simple!(/// `networkState`.
    NetworkState = 0x0018, "networkState", {} => NetworkStateRsp);
wire_struct! {
    /// `networkState` response.
    pub struct NetworkStateRsp { /// `EmberNetworkStatus`.
        pub status: u8 }
}
simple!(/// `getNetworkParameters`.
    GetNetworkParameters = 0x0028, "getNetworkParameters", {} => GetNetworkParametersRsp);
wire_struct! {
    /// `getNetworkParameters` response.
    pub struct GetNetworkParametersRsp {
        /// Status.
        pub status: Status,
        /// `EmberNodeType`.
        pub node_type: u8,
        /// Parameters.
        pub parameters: NetworkParameters,
    }
}
simple!(/// `formNetwork`.
    FormNetwork = 0x001E, "formNetwork", { /// Parameters.
        parameters: NetworkParameters } => StatusRsp);
simple!(/// `setInitialSecurityState`.
    SetInitialSecurityState = 0x0068, "setInitialSecurityState", { /// State.
        state: InitialSecurityState } => StatusRsp);
simple!(/// `getCurrentSecurityState`.
    GetCurrentSecurityState = 0x0069, "getCurrentSecurityState", {} => GetCurrentSecurityStateRsp);
wire_struct! {
    /// `getCurrentSecurityState` response.
    pub struct GetCurrentSecurityStateRsp {
        /// Status.
        pub status: Status,
        /// `EmberCurrentSecurityBitmask`.
        pub bitmask: u16,
        /// Trust centre EUI-64.
        pub trust_center_long_address: u64,
    }
}
simple!(/// `permitJoining`.
    PermitJoining = 0x0022, "permitJoining", { /// Seconds (0 closes, 255 forever).
        duration: u8 } => StatusRsp);
simple!(/// `getEui64`.
    GetEui64 = 0x0026, "getEui64", {} => GetEui64Rsp);
wire_struct! {
    /// `getEui64` response.
    pub struct GetEui64Rsp { /// EUI-64.
        pub eui64: u64 }
}
simple!(/// `getNodeId`.
    GetNodeId = 0x0027, "getNodeId", {} => GetNodeIdRsp);
wire_struct! {
    /// `getNodeId` response.
    pub struct GetNodeIdRsp { /// Short address.
        pub node_id: u16 }
}
simple!(/// `getKey` (v8-12).
    GetKey = 0x006A, "getKey", { /// `EmberKeyType`.
        key_type: u8 } => GetKeyRsp);
wire_struct! {
    /// `getKey` response.
    pub struct GetKeyRsp {
        /// Status.
        pub status: Status,
        /// Key.
        pub key_struct: KeyStruct,
    }
}
simple!(/// `getNetworkKeyInfo` (v13+; its status is `sl_status_t` from v13 on).
    GetNetworkKeyInfo = 0x0116, "getNetworkKeyInfo", {} => GetNetworkKeyInfoRsp);
wire_struct! {
    /// `getNetworkKeyInfo` response.
    pub struct GetNetworkKeyInfoRsp {
        /// `sl_status_t`.
        pub status: u32,
        /// Key info.
        pub info: NetworkKeyInfo,
    }
}
simple!(/// `setConcentrator`.
    SetConcentrator = 0x0010, "setConcentrator", {
        /// On.
        on: bool, /// 0xFFF8 low-RAM, 0xFFF9 high-RAM.
        concentrator_type: u16, /// Seconds.
        min_time: u16, /// Seconds.
        max_time: u16, /// Route errors before an MTORR.
        route_error_threshold: u8, /// Delivery failures before an MTORR.
        delivery_failure_threshold: u8, /// Hops (0: maximum).
        max_hops: u8 } => StatusRsp);
simple!(/// `setSourceRoute`.
    SetSourceRoute = 0x00AE, "setSourceRoute", { /// Destination.
        destination: u16, /// Relays, destination side first.
        relays: LvList16 } => StatusRsp);
wire_struct! {
    /// `invalidCommand` (sent by the NCP in place of a response).
    pub struct InvalidCommand { /// `EzspStatus` (e.g. 0x31 invalid frame id).
        pub status: Status }
}
callback!(InvalidCommand = INVALID_COMMAND, "invalidCommand");

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
#[path = "commands_tests.rs"]
mod tests;
