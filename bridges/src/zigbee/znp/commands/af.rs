//! AF subsystem (MT_AF.c): endpoint registration, APS data requests and incoming messages.

use super::{List8, LongBytes, ShortBytes, mt_commands};

/// AF_DATA_REQUEST option bits.
pub mod options {
    /// Request an APS acknowledgement (AF_ACK_REQUEST).
    pub const ACK_REQUEST: u8 = 0x10;
    /// Enable route discovery (AF_DISCV_ROUTE).
    pub const DISCOVER_ROUTE: u8 = 0x20;
}

mt_commands! {
    subsystem = Af;
    /// Registers an application endpoint with its simple descriptor.
    sreq Register = 0x00, "AF_REGISTER" {
        endpoint: u8, profile_id: u16, device_id: u16, device_version: u8, latency_req: u8,
        input_clusters: List8<u16>, output_clusters: List8<u16>,
    } => RegisterRsp { status: u8 };
    /// Sends an APS data frame to a short address.
    sreq DataRequest = 0x01, "AF_DATA_REQUEST" {
        dst_addr: u16, dst_endpoint: u8, src_endpoint: u8, cluster_id: u16,
        tsn: u8, options: u8, radius: u8, data: ShortBytes,
    } => DataRequestRsp { status: u8 };
    /// AF_DATA_REQUEST with any address mode (2 short, 3 IEEE, 1 group, 0x0F broadcast; the
    /// address is always 8 bytes) and a two-byte data length.
    sreq DataRequestExt = 0x02, "AF_DATA_REQUEST_EXT" {
        dst_addr_mode: u8, dst_addr: u64, dst_endpoint: u8, dst_pan_id: u16, src_endpoint: u8,
        cluster_id: u16, tsn: u8, options: u8, radius: u8, data: LongBytes,
    } => DataRequestExtRsp { status: u8 };
    /// Result of an AF_DATA_REQUEST over the air.
    areq DataConfirm = 0x80, "AF_DATA_CONFIRM" { status: u8, endpoint: u8, tsn: u8 };
    /// An APS data frame received for one of our endpoints.
    areq IncomingMsg = 0x81, "AF_INCOMING_MSG" {
        group_id: u16, cluster_id: u16, src_addr: u16, src_endpoint: u8, dst_endpoint: u8,
        was_broadcast: u8, lqi: u8, security_use: u8, timestamp: u32, tsn: u8,
        data: ShortBytes, mac_src_addr: u16, msg_result_radius: u8,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zigbee::znp::commands::MtMessage;
    use crate::zigbee::znp::frame::{Frame, Repr};

    #[test]
    fn incoming_msg_round_trips_through_frame_bytes() {
        let msg = IncomingMsg {
            cluster_id: 0x0402,
            src_addr: 0x1234,
            src_endpoint: 1,
            dst_endpoint: 1,
            lqi: 200,
            tsn: 7,
            data: ShortBytes(vec![0x18, 0x01, 0x0A, 0x00, 0x00, 0x29, 0x34, 0x08]),
            mac_src_addr: 0x1234,
            ..Default::default()
        };
        let bytes = msg.to_frame().to_bytes().unwrap();
        // CMD0 = AREQ(2)<<5 | AF(4) = 0x44, CMD1 = 0x81; 16 + (1 + 8) + 3 = 28 bytes of DATA.
        assert_eq!(&bytes[..4], &[0xFE, 28, 0x44, 0x81]);
        let view = Frame::new_checked(&bytes[..]).unwrap();
        let repr = Repr::parse(&view);
        assert_eq!(IncomingMsg::decode_payload(repr.payload).unwrap(), msg);
    }

    #[test]
    fn register_encodes_cluster_lists_with_counts() {
        let reg = Register {
            endpoint: 1,
            profile_id: 0x0104,
            device_id: 0x0005,
            input_clusters: List8(vec![0x0000, 0x0006]),
            ..Default::default()
        };
        assert_eq!(
            reg.encode_payload(),
            [
                1, 0x04, 0x01, 0x05, 0x00, 0, 0, 2, 0x00, 0x00, 0x06, 0x00, 0
            ]
        );
    }
}
