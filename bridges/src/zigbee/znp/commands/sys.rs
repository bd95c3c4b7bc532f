//! SYS subsystem (MT_SYS.c): reset, ping, version, OSAL NV items.

use super::{LongBytes, Rest, ShortBytes, mt_commands};

/// OSAL NV item ids (ZCD_NV_* in ZComDef.h) the backend and simulator use.
pub mod nv {
    /// IEEE address override.
    pub const EXTADDR: u16 = 0x0001;
    /// Start-up options: bit 0 clear config, bit 1 clear state.
    pub const STARTUP_OPTION: u16 = 0x0003;
    /// Network information base.
    pub const NIB: u16 = 0x0021;
    /// Extended PAN id (8 bytes, little-endian).
    pub const EXTENDED_PAN_ID: u16 = 0x002D;
    /// Active network key information.
    pub const NWK_ACTIVE_KEY_INFO: u16 = 0x003A;
    /// BDB "node is on a network" flag (1 byte).
    pub const BDBNODEISONANETWORK: u16 = 0x0055;
    /// Marker that the host configured Z-Stack 3.
    pub const HAS_CONFIGURED_ZSTACK3: u16 = 0x0060;
    /// Pre-configured network key (16 bytes).
    pub const PRECFGKEY: u16 = 0x0062;
    /// Whether the pre-configured key is distributed.
    pub const PRECFGKEYS_ENABLE: u16 = 0x0063;
    /// PAN id (2 bytes).
    pub const PANID: u16 = 0x0083;
    /// Channel mask (4 bytes).
    pub const CHANLIST: u16 = 0x0084;
    /// Logical type: 0 coordinator, 1 router, 2 end device.
    pub const LOGICAL_TYPE: u16 = 0x0087;
    /// Deliver ZDO responses as AREQ callbacks.
    pub const ZDO_DIRECT_CB: u16 = 0x008F;
    /// Alternate network key information.
    pub const NWK_ALTERN_KEY_INFO: u16 = 0x003B;
    /// Extended PAN id the next formation uses (0: the coordinator's IEEE address).
    pub const APS_USE_EXT_PANID: u16 = 0x0047;
    /// APS link key table (u16 count, then 6-byte entries).
    pub const APS_LINK_KEY_TABLE: u16 = 0x004C;
    /// Trust-centre link key seed (16 bytes) the per-device keys are hashed from.
    pub const TCLK_SEED: u16 = 0x0101;
    /// Many-to-one source routing on.
    pub const CONCENTRATOR_ENABLE: u16 = 0x0032;
    /// Many-to-one route request period (s).
    pub const CONCENTRATOR_DISCOVERY: u16 = 0x0033;
    /// Route record required.
    pub const CONCENTRATOR_RC: u16 = 0x0036;
    /// Source route expiry (s).
    pub const SRC_RTG_EXPIRY_TIME: u16 = 0x0038;
    /// End-device ageing on.
    pub const NWK_CHILD_AGE_ENABLE: u16 = 0x003E;
    /// Broadcast delivery time.
    pub const BCAST_DELIVERY_TIME: u16 = 0x0030;
}

/// Z-Stack 3.30 extended NV: system and item ids of the tables addressed with sub-ids
/// (SYS_NV_* commands; the legacy OSAL items are system 1, item 0, sub-id = OSAL id).
pub mod nvex {
    /// System id of Z-Stack's own items.
    pub const SYS_ZSTACK: u8 = 0x01;
    /// Legacy OSAL items.
    pub const LEGACY: u16 = 0x0000;
    /// Address manager table (12-byte entries).
    pub const ADDRMGR: u16 = 0x0001;
    /// Hashed trust-centre link key table (20-byte entries).
    pub const TCLK_TABLE: u16 = 0x0004;
    /// Unhashed APS link keys (24-byte entries).
    pub const APS_KEY_DATA_TABLE: u16 = 0x0006;
    /// Network frame counters per extended PAN id (12-byte entries).
    pub const NWK_SEC_MATERIAL_TABLE: u16 = 0x0007;
}

/// Z-Stack's generic status codes (ZStatus_t) seen in SRSPs.
pub mod status {
    /// Success.
    pub const SUCCESS: u8 = 0x00;
    /// Failure.
    pub const FAILURE: u8 = 0x01;
    /// Invalid parameter.
    pub const INVALID_PARAMETER: u8 = 0x02;
    /// NV item created by OSAL_NV_ITEM_INIT (it did not exist).
    pub const NV_ITEM_UNINIT: u8 = 0x09;
    /// NV operation failed (item missing, bad offset).
    pub const NV_OPER_FAILED: u8 = 0x0A;
    /// NV item length mismatch.
    pub const NV_BAD_ITEM_LEN: u8 = 0x0C;
}

mt_commands! {
    subsystem = Sys;
    /// Resets the target (0 hard, 1 soft); answered by SYS_RESET_IND.
    areq ResetReq = 0x00, "SYS_RESET_REQ" { kind: u8 };
    /// Link check; answers the capability bitmap of the subsystems built in.
    sreq Ping = 0x01, "SYS_PING" {} => PingRsp { capabilities: u16 };
    /// Firmware version.
    sreq Version = 0x02, "SYS_VERSION" {} => VersionRsp {
        transport_rev: u8, product: u8, major_rel: u8, minor_rel: u8, maint_rel: u8,
        /// Build date as YYYYMMDD on Z-Stack 3.x.
        code_revision: Option<u32>,
        bootloader: Rest,
    };
    /// Reads the IEEE address.
    sreq GetExtAddr = 0x04, "SYS_GET_EXTADDR" {} => GetExtAddrRsp { ext_addr: u64 };
    /// Creates an NV item if missing.
    sreq OsalNvItemInit = 0x07, "SYS_OSAL_NV_ITEM_INIT" { id: u16, item_len: u16, value: ShortBytes } => OsalNvItemInitRsp { status: u8 };
    /// Reads an NV item from an offset.
    sreq OsalNvRead = 0x08, "SYS_OSAL_NV_READ" { id: u16, offset: u8 } => OsalNvReadRsp { status: u8, value: ShortBytes };
    /// Writes an NV item at an offset.
    sreq OsalNvWrite = 0x09, "SYS_OSAL_NV_WRITE" { id: u16, offset: u8, value: ShortBytes } => OsalNvWriteRsp { status: u8 };
    /// Deletes an NV item.
    sreq OsalNvDelete = 0x12, "SYS_OSAL_NV_DELETE" { id: u16, item_len: u16 } => OsalNvDeleteRsp { status: u8 };
    /// Length of an NV item (0 when missing).
    sreq OsalNvLength = 0x13, "SYS_OSAL_NV_LENGTH" { id: u16 } => OsalNvLengthRsp { length: u16 };
    /// SYS_OSAL_NV_READ with a 16-bit offset.
    sreq OsalNvReadExt = 0x1C, "SYS_OSAL_NV_READ_EXT" { id: u16, offset: u16 } => OsalNvReadExtRsp { status: u8, value: ShortBytes };
    /// SYS_OSAL_NV_WRITE with a 16-bit offset and length.
    sreq OsalNvWriteExt = 0x1D, "SYS_OSAL_NV_WRITE_EXT" { id: u16, offset: u16, value: LongBytes } => OsalNvWriteExtRsp { status: u8 };
    /// Creates an extended NV item.
    sreq NvCreate = 0x30, "SYS_NV_CREATE" { sys_id: u8, item_id: u16, sub_id: u16, length: u32 } => NvCreateRsp { status: u8 };
    /// Deletes an extended NV item.
    sreq NvDelete = 0x31, "SYS_NV_DELETE" { sys_id: u8, item_id: u16, sub_id: u16 } => NvDeleteRsp { status: u8 };
    /// Length of an extended NV item (0 when missing).
    sreq NvLength = 0x32, "SYS_NV_LENGTH" { sys_id: u8, item_id: u16, sub_id: u16 } => NvLengthRsp { length: u32 };
    /// Reads part of an extended NV item.
    sreq NvRead = 0x33, "SYS_NV_READ" { sys_id: u8, item_id: u16, sub_id: u16, offset: u16, length: u8 } => NvReadRsp { status: u8, value: ShortBytes };
    /// Writes part of an extended NV item.
    sreq NvWrite = 0x34, "SYS_NV_WRITE" { sys_id: u8, item_id: u16, sub_id: u16, offset: u16, value: ShortBytes } => NvWriteRsp { status: u8 };
    /// Sent after every reset.
    areq ResetInd = 0x80, "SYS_RESET_IND" { reason: u8, transport_rev: u8, product: u8, major_rel: u8, minor_rel: u8, hw_rev: u8 };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zigbee::znp::commands::MtMessage;

    #[test]
    fn ping_request_encodes_to_spec_frame() {
        assert_eq!(
            Ping {}.to_frame().to_bytes().unwrap(),
            [0xFE, 0x00, 0x21, 0x01, 0x20]
        );
    }

    #[test]
    fn version_response_with_and_without_code_revision_decodes() {
        let old = VersionRsp::decode_payload(&[2, 0, 2, 6, 3]).unwrap();
        assert_eq!((old.major_rel, old.code_revision), (2, None));
        let new =
            VersionRsp::decode_payload(&[2, 1, 2, 7, 1, 0x14, 0x64, 0x34, 0x01, 0x00]).unwrap();
        assert_eq!(new.code_revision, Some(20_210_708));
        assert_eq!(new.bootloader, Rest(vec![0]));
    }

    #[test]
    fn nv_read_request_frame_matches_hand_computed_bytes() {
        // SYS_OSAL_NV_READ(id 0x0083 PANID, offset 0): FE 03 21 08 83 00 00 FCS
        let bytes = OsalNvRead {
            id: nv::PANID,
            offset: 0,
        }
        .to_frame()
        .to_bytes()
        .unwrap();
        assert_eq!(
            bytes,
            [
                0xFE,
                0x03,
                0x21,
                0x08,
                0x83,
                0x00,
                0x00,
                0x03 ^ 0x21 ^ 0x08 ^ 0x83
            ]
        );
    }

    #[test]
    fn truncated_reset_indication_is_an_error() {
        assert!(ResetInd::decode_payload(&[0, 2, 1]).is_err());
    }
}
