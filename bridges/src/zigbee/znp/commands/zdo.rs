//! ZDO subsystem (MT_ZDO.c): network start, ZDP requests, device and state indications.

use super::{List8, Rest, mt_commands};

/// ZDO device states (devStates_t) reported by ZDO_STATE_CHANGE_IND.
pub mod state {
    /// Initialised, not started.
    pub const HOLD: u8 = 0x00;
    /// Starting as a coordinator.
    pub const COORD_STARTING: u8 = 0x08;
    /// Started as the network coordinator.
    pub const ZB_COORD: u8 = 0x09;
}

mt_commands! {
    subsystem = Zdo;
    /// Asks a device for its IEEE address (req_type 0: single device).
    sreq IeeeAddrReq = 0x01, "ZDO_IEEE_ADDR_REQ" { short_addr: u16, req_type: u8, start_index: u8 } => IeeeAddrReqRsp { status: u8 };
    /// Asks a device for its Node Descriptor; the answer arrives as ZDO_NODE_DESC_RSP.
    sreq NodeDescReq = 0x02, "ZDO_NODE_DESC_REQ" { dst_addr: u16, nwk_addr_of_interest: u16 } => NodeDescReqRsp { status: u8 };
    /// Asks for one endpoint's Simple Descriptor.
    sreq SimpleDescReq = 0x04, "ZDO_SIMPLE_DESC_REQ" { dst_addr: u16, nwk_addr_of_interest: u16, endpoint: u8 } => SimpleDescReqRsp { status: u8 };
    /// Asks for the list of active endpoints.
    sreq ActiveEpReq = 0x05, "ZDO_ACTIVE_EP_REQ" { dst_addr: u16, nwk_addr_of_interest: u16 } => ActiveEpReqRsp { status: u8 };
    /// Creates a binding on a remote device (dst_addr_mode 3 = IEEE + endpoint).
    sreq BindReq = 0x21, "ZDO_BIND_REQ" {
        dst_addr: u16, src_addr: u64, src_endpoint: u8, cluster_id: u16,
        dst_addr_mode: u8, dst_address: u64, dst_endpoint: u8,
    } => BindReqRsp { status: u8 };
    /// Asks a device to leave (bit 0x40 remove children, 0x80 rejoin).
    sreq MgmtLeaveReq = 0x34, "ZDO_MGMT_LEAVE_REQ" { dst_addr: u16, ieee: u64, remove_children_rejoin: u8 } => MgmtLeaveReqRsp { status: u8 };
    /// Opens joining (addr_mode 2 unicast to `dst`, 0x0F broadcast).
    sreq MgmtPermitJoinReq = 0x36, "ZDO_MGMT_PERMIT_JOIN_REQ" { addr_mode: u8, dst: u16, duration: u8, tc_significance: u8 } => MgmtPermitJoinReqRsp { status: u8 };
    /// Delivers every ZDP frame of `cluster_id` as ZDO_MSG_CB_INCOMING.
    sreq MsgCbRegister = 0x3E, "ZDO_MSG_CB_REGISTER" { cluster_id: u16 } => MsgCbRegisterRsp { status: u8 };
    /// Starts the stack: state 0 restored, 1 new network, 2 not started.
    sreq StartupFromApp = 0x40, "ZDO_STARTUP_FROM_APP" { start_delay: u16 } => StartupFromAppRsp { state: u8 };
    /// Starts route discovery to `dst`.
    sreq ExtRouteDisc = 0x45, "ZDO_EXT_ROUTE_DISC" { dst: u16, options: u8, radius: u8 } => ExtRouteDiscRsp { status: u8 };
    /// Checks the routing table for `dst` (0 success, 4 no entry).
    sreq ExtRouteChk = 0x46, "ZDO_EXT_ROUTE_CHK" { dst: u16, rt_status: u8, options: u8 } => ExtRouteChkRsp { status: u8 };
    /// Current network parameters.
    sreq ExtNwkInfo = 0x50, "ZDO_EXT_NWK_INFO" {} => ExtNwkInfoRsp {
        short_addr: u16, dev_state: u8, pan_id: u16, parent_addr: u16,
        extended_pan_id: u64, parent_ext_addr: u64, channel: u8,
    };
    /// Node Descriptor response (raw descriptor bytes after the status fields).
    areq NodeDescRsp = 0x82, "ZDO_NODE_DESC_RSP" { src_addr: u16, status: u8, nwk_addr: u16, descriptor: Rest };
    /// Simple Descriptor response.
    areq SimpleDescRsp = 0x84, "ZDO_SIMPLE_DESC_RSP" { src_addr: u16, status: u8, nwk_addr: u16, len: u8, descriptor: Rest };
    /// Active Endpoints response.
    areq ActiveEpRsp = 0x85, "ZDO_ACTIVE_EP_RSP" { src_addr: u16, status: u8, nwk_addr: u16, endpoints: List8<u8> };
    /// Bind response.
    areq BindRsp = 0xA1, "ZDO_BIND_RSP" { src_addr: u16, status: u8 };
    /// Mgmt_Leave response.
    areq MgmtLeaveRsp = 0xB4, "ZDO_MGMT_LEAVE_RSP" { src_addr: u16, status: u8 };
    /// Mgmt_Permit_Join response.
    areq MgmtPermitJoinRsp = 0xB6, "ZDO_MGMT_PERMIT_JOIN_RSP" { src_addr: u16, status: u8 };
    /// Device state changed (see [`state`]).
    areq StateChangeInd = 0xC0, "ZDO_STATE_CHANGE_IND" { state: u8 };
    /// A device announced itself (joined or rejoined).
    areq EndDeviceAnnceInd = 0xC1, "ZDO_END_DEVICE_ANNCE_IND" { src_addr: u16, nwk_addr: u16, ieee: u64, capabilities: u8 };
    /// A device left the network.
    areq LeaveInd = 0xC9, "ZDO_LEAVE_IND" { nwk_addr: u16, ieee: u64, request: u8, remove: u8, rejoin: u8 };
    /// The trust centre let a device in.
    areq TcDevInd = 0xCA, "ZDO_TC_DEV_IND" { src_nwk: u16, src_ieee: u64, parent_nwk: u16 };
    /// Joining was opened or closed (duration 0).
    areq PermitJoinInd = 0xCB, "ZDO_PERMIT_JOIN_IND" { duration: u8 };
    /// A raw ZDP frame for a registered cluster (ZDP payload after the sequence number).
    areq MsgCbIncoming = 0xFF, "ZDO_MSG_CB_INCOMING" {
        src_addr: u16, was_broadcast: u8, cluster_id: u16, security_use: u8, seq_num: u8,
        mac_dst_addr: u16, data: Rest,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zigbee::znp::commands::MtMessage;

    #[test]
    fn device_announce_decodes_ieee_little_endian() {
        let payload = [0x34, 0x12, 0x34, 0x12, 8, 7, 6, 5, 4, 3, 2, 1, 0x8E];
        let ind = EndDeviceAnnceInd::decode_payload(&payload).unwrap();
        assert_eq!(ind.ieee, 0x0102_0304_0506_0708);
        assert_eq!(ind.nwk_addr, 0x1234);
        assert_eq!(ind.capabilities, 0x8E);
    }

    #[test]
    fn permit_join_request_frame_matches_hand_computed_bytes() {
        let f = MgmtPermitJoinReq {
            addr_mode: 0x0F,
            dst: 0xFFFC,
            duration: 60,
            tc_significance: 1,
        };
        let bytes = f.to_frame().to_bytes().unwrap();
        let body = [0x05u8, 0x25, 0x36, 0x0F, 0xFC, 0xFF, 60, 1];
        let fcs = body.iter().fold(0, |a, b| a ^ b);
        assert_eq!(bytes[1..bytes.len() - 1], body);
        assert_eq!(bytes[bytes.len() - 1], fcs);
    }
}
