//! EZSP frames whose layout is the same in every supported version (apart from the status
//! width, which [`Status`] handles): declared as data.

use super::types::*;
use super::{Callback, Command, INVALID_COMMAND};
use crate::zigbee::ezsp::wire::{LvBytes, LvList16, Status, wire_struct};

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
