//! Structures shared by several EZSP frames (UG100 §3 "Structures") and their constants.

use crate::zigbee::ezsp::wire::{Status, wire_struct};

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
