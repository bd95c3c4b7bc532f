//! ZigBee Device Profile frames (Zigbee 3.0 spec §2.4, endpoint 0, profile 0x0000): the
//! requests the core sends and the responses and announcements it understands. Every
//! ZDP payload starts with a transaction sequence number.

use crate::zigbee::znp::commands::{DecodeError, Reader, Wire};

/// ZDP cluster ids.
pub mod cluster {
    /// Device_annce.
    pub const DEVICE_ANNCE: u16 = 0x0013;
    /// Node_Desc_req.
    pub const NODE_DESC_REQ: u16 = 0x0002;
    /// IEEE_addr_req.
    pub const IEEE_ADDR_REQ: u16 = 0x0001;
    /// Simple_Desc_req.
    pub const SIMPLE_DESC_REQ: u16 = 0x0004;
    /// Active_EP_req.
    pub const ACTIVE_EP_REQ: u16 = 0x0005;
    /// Bind_req.
    pub const BIND_REQ: u16 = 0x0021;
    /// Mgmt_Leave_req.
    pub const MGMT_LEAVE_REQ: u16 = 0x0034;
    /// Mgmt_Permit_Joining_req.
    pub const MGMT_PERMIT_JOIN_REQ: u16 = 0x0036;
    /// Responses set bit 15 of the request's cluster id.
    pub const RESPONSE: u16 = 0x8000;
}

/// ZDP status SUCCESS.
pub const SUCCESS: u8 = 0x00;

/// Node Descriptor (Zigbee spec §2.3.2.3), the fields the core uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeDescriptor {
    /// 0 coordinator, 1 router, 2 end device.
    pub logical_type: u8,
    /// MAC capability flags: bit 2 mains powered, bit 3 receiver on when idle.
    pub mac_capabilities: u8,
    /// Manufacturer code.
    pub manufacturer_code: u16,
}

impl NodeDescriptor {
    /// Parses the 13-byte descriptor.
    pub fn parse(b: &[u8]) -> Result<Self, DecodeError> {
        if b.len() < 13 {
            return Err(DecodeError::Truncated);
        }
        Ok(NodeDescriptor {
            logical_type: b[0] & 0x07,
            mac_capabilities: b[2],
            manufacturer_code: u16::from_le_bytes([b[3], b[4]]),
        })
    }

    /// Serialises the 13-byte descriptor (2.4 GHz band, 82-byte buffers, server mask 0).
    pub fn to_bytes(&self) -> [u8; 13] {
        let m = self.manufacturer_code.to_le_bytes();
        [
            self.logical_type & 0x07,
            0x40,
            self.mac_capabilities,
            m[0],
            m[1],
            82,
            82,
            0,
            0,
            0,
            82,
            0,
            0,
        ]
    }

    /// Whether the device is mains powered (MAC capability bit 2).
    pub fn mains_powered(&self) -> bool {
        self.mac_capabilities & 0x04 != 0
    }
}

/// Simple Descriptor of one endpoint (§2.3.2.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimpleDescriptor {
    /// Endpoint.
    pub endpoint: u8,
    /// Application profile (0x0104 Home Automation).
    pub profile: u16,
    /// Application device id.
    pub device_id: u16,
    /// Device version.
    pub device_version: u8,
    /// Server clusters.
    pub in_clusters: Vec<u16>,
    /// Client clusters.
    pub out_clusters: Vec<u16>,
}

fn clusters(r: &mut Reader<'_>) -> Result<Vec<u16>, DecodeError> {
    let n = usize::from(u8::decode(r)?);
    if n * 2 > r.remaining() {
        return Err(DecodeError::BadLength(n));
    }
    (0..n).map(|_| u16::decode(r)).collect()
}

impl SimpleDescriptor {
    /// Parses a descriptor (without the length byte before it).
    pub fn parse(b: &[u8]) -> Result<Self, DecodeError> {
        let r = &mut Reader::new(b);
        Ok(SimpleDescriptor {
            endpoint: u8::decode(r)?,
            profile: u16::decode(r)?,
            device_id: u16::decode(r)?,
            device_version: u8::decode(r)? & 0x0F,
            in_clusters: clusters(r)?,
            out_clusters: clusters(r)?,
        })
    }

    /// Serialises the descriptor (without the length byte).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.endpoint];
        out.extend_from_slice(&self.profile.to_le_bytes());
        out.extend_from_slice(&self.device_id.to_le_bytes());
        out.push(self.device_version);
        for list in [&self.in_clusters, &self.out_clusters] {
            out.push(list.len().min(255) as u8);
            list.iter()
                .take(255)
                .for_each(|c| out.extend_from_slice(&c.to_le_bytes()));
        }
        out
    }
}

/// A ZDP message the core sends or receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zdp {
    /// Node_Desc_req for `nwk`.
    NodeDescReq {
        /// NWKAddrOfInterest.
        nwk: u16,
    },
    /// Node_Desc_rsp.
    NodeDescRsp {
        /// Status.
        status: u8,
        /// NWKAddrOfInterest.
        nwk: u16,
        /// Descriptor when status is SUCCESS.
        descriptor: Option<NodeDescriptor>,
    },
    /// Active_EP_req.
    ActiveEpReq {
        /// NWKAddrOfInterest.
        nwk: u16,
    },
    /// Active_EP_rsp.
    ActiveEpRsp {
        /// Status.
        status: u8,
        /// NWKAddrOfInterest.
        nwk: u16,
        /// Active endpoints.
        endpoints: Vec<u8>,
    },
    /// Simple_Desc_req.
    SimpleDescReq {
        /// NWKAddrOfInterest.
        nwk: u16,
        /// Endpoint.
        endpoint: u8,
    },
    /// Simple_Desc_rsp.
    SimpleDescRsp {
        /// Status.
        status: u8,
        /// NWKAddrOfInterest.
        nwk: u16,
        /// Descriptor when status is SUCCESS.
        descriptor: Option<SimpleDescriptor>,
    },
    /// Bind_req: bind `cluster` of `src` endpoint to `dst` (IEEE) endpoint.
    BindReq {
        /// Source IEEE.
        src: u64,
        /// Source endpoint.
        src_endpoint: u8,
        /// Cluster.
        cluster: u16,
        /// Destination IEEE.
        dst: u64,
        /// Destination endpoint.
        dst_endpoint: u8,
    },
    /// Mgmt_Leave_req: `flags` bit 6 remove children, bit 7 rejoin.
    MgmtLeaveReq {
        /// Device to leave.
        ieee: u64,
        /// Flags.
        flags: u8,
    },
    /// Mgmt_Permit_Joining_req.
    MgmtPermitJoinReq {
        /// Seconds (0 closes, 255 forever).
        duration: u8,
        /// Trust centre significance.
        tc_significance: u8,
    },
    /// A status-only response (Bind_rsp, Mgmt_Leave_rsp, Mgmt_Permit_Joining_rsp).
    StatusRsp {
        /// Response cluster id.
        cluster: u16,
        /// Status.
        status: u8,
    },
    /// Device_annce.
    DeviceAnnce {
        /// Short address.
        nwk: u16,
        /// IEEE address.
        ieee: u64,
        /// MAC capability flags.
        capabilities: u8,
    },
    /// IEEE_addr_req (single device response).
    IeeeAddrReq {
        /// NWKAddrOfInterest.
        nwk: u16,
    },
    /// IEEE_addr_rsp.
    IeeeAddrRsp {
        /// Status.
        status: u8,
        /// IEEE address of the device.
        ieee: u64,
        /// Its short address.
        nwk: u16,
    },
    /// Any other ZDP cluster.
    Unknown {
        /// Cluster id.
        cluster: u16,
    },
}

impl Zdp {
    /// The ZDP cluster id of this message.
    pub fn cluster(&self) -> u16 {
        use cluster::*;
        match self {
            Zdp::IeeeAddrReq { .. } => IEEE_ADDR_REQ,
            Zdp::IeeeAddrRsp { .. } => IEEE_ADDR_REQ | RESPONSE,
            Zdp::NodeDescReq { .. } => NODE_DESC_REQ,
            Zdp::NodeDescRsp { .. } => NODE_DESC_REQ | RESPONSE,
            Zdp::ActiveEpReq { .. } => ACTIVE_EP_REQ,
            Zdp::ActiveEpRsp { .. } => ACTIVE_EP_REQ | RESPONSE,
            Zdp::SimpleDescReq { .. } => SIMPLE_DESC_REQ,
            Zdp::SimpleDescRsp { .. } => SIMPLE_DESC_REQ | RESPONSE,
            Zdp::BindReq { .. } => BIND_REQ,
            Zdp::MgmtLeaveReq { .. } => MGMT_LEAVE_REQ,
            Zdp::MgmtPermitJoinReq { .. } => MGMT_PERMIT_JOIN_REQ,
            Zdp::StatusRsp { cluster, .. } | Zdp::Unknown { cluster } => *cluster,
            Zdp::DeviceAnnce { .. } => DEVICE_ANNCE,
        }
    }

    /// Serialises the message after its TSN.
    pub fn encode(&self, tsn: u8) -> Vec<u8> {
        let mut o = vec![tsn];
        match self {
            Zdp::NodeDescReq { nwk } | Zdp::ActiveEpReq { nwk } => nwk.encode(&mut o),
            Zdp::IeeeAddrReq { nwk } => {
                nwk.encode(&mut o);
                // Request type 0 (single device), start index 0.
                o.extend_from_slice(&[0, 0]);
            }
            Zdp::IeeeAddrRsp { status, ieee, nwk } => {
                o.push(*status);
                ieee.encode(&mut o);
                nwk.encode(&mut o);
            }
            Zdp::SimpleDescReq { nwk, endpoint } => {
                nwk.encode(&mut o);
                o.push(*endpoint);
            }
            Zdp::NodeDescRsp {
                status,
                nwk,
                descriptor,
            } => {
                o.push(*status);
                nwk.encode(&mut o);
                if let Some(d) = descriptor {
                    o.extend_from_slice(&d.to_bytes());
                }
            }
            Zdp::ActiveEpRsp {
                status,
                nwk,
                endpoints,
            } => {
                o.push(*status);
                nwk.encode(&mut o);
                o.push(endpoints.len().min(255) as u8);
                o.extend(endpoints.iter().take(255));
            }
            Zdp::SimpleDescRsp {
                status,
                nwk,
                descriptor,
            } => {
                o.push(*status);
                nwk.encode(&mut o);
                let d = descriptor
                    .as_ref()
                    .map(SimpleDescriptor::to_bytes)
                    .unwrap_or_default();
                o.push(d.len().min(255) as u8);
                o.extend_from_slice(&d);
            }
            Zdp::BindReq {
                src,
                src_endpoint,
                cluster,
                dst,
                dst_endpoint,
            } => {
                src.encode(&mut o);
                o.push(*src_endpoint);
                cluster.encode(&mut o);
                o.push(0x03);
                dst.encode(&mut o);
                o.push(*dst_endpoint);
            }
            Zdp::MgmtLeaveReq { ieee, flags } => {
                ieee.encode(&mut o);
                o.push(*flags);
            }
            Zdp::MgmtPermitJoinReq {
                duration,
                tc_significance,
            } => o.extend_from_slice(&[*duration, *tc_significance]),
            Zdp::StatusRsp { status, .. } => o.push(*status),
            Zdp::DeviceAnnce {
                nwk,
                ieee,
                capabilities,
            } => {
                nwk.encode(&mut o);
                ieee.encode(&mut o);
                o.push(*capabilities);
            }
            Zdp::Unknown { .. } => {}
        }
        o
    }

    /// Parses a ZDP payload (TSN first) of `cluster`; returns the TSN and the message.
    pub fn parse(cluster_id: u16, data: &[u8]) -> Result<(u8, Zdp), DecodeError> {
        use cluster::*;
        let r = &mut Reader::new(data);
        let tsn = u8::decode(r)?;
        let msg = match cluster_id {
            IEEE_ADDR_REQ => Zdp::IeeeAddrReq {
                nwk: u16::decode(r)?,
            },
            c if c == IEEE_ADDR_REQ | RESPONSE => {
                let status = u8::decode(r)?;
                Zdp::IeeeAddrRsp {
                    status,
                    ieee: u64::decode(r)?,
                    nwk: u16::decode(r)?,
                }
            }
            NODE_DESC_REQ => Zdp::NodeDescReq {
                nwk: u16::decode(r)?,
            },
            ACTIVE_EP_REQ => Zdp::ActiveEpReq {
                nwk: u16::decode(r)?,
            },
            SIMPLE_DESC_REQ => Zdp::SimpleDescReq {
                nwk: u16::decode(r)?,
                endpoint: u8::decode(r)?,
            },
            BIND_REQ => {
                let src = u64::decode(r)?;
                let src_endpoint = u8::decode(r)?;
                let cluster = u16::decode(r)?;
                if u8::decode(r)? != 0x03 {
                    return Err(DecodeError::WrongCommand);
                }
                Zdp::BindReq {
                    src,
                    src_endpoint,
                    cluster,
                    dst: u64::decode(r)?,
                    dst_endpoint: u8::decode(r)?,
                }
            }
            MGMT_LEAVE_REQ => Zdp::MgmtLeaveReq {
                ieee: u64::decode(r)?,
                flags: u8::decode(r)?,
            },
            MGMT_PERMIT_JOIN_REQ => Zdp::MgmtPermitJoinReq {
                duration: u8::decode(r)?,
                tc_significance: u8::decode(r)?,
            },
            DEVICE_ANNCE => Zdp::DeviceAnnce {
                nwk: u16::decode(r)?,
                ieee: u64::decode(r)?,
                capabilities: u8::decode(r)?,
            },
            c if c == NODE_DESC_REQ | RESPONSE => {
                let status = u8::decode(r)?;
                let nwk = u16::decode(r)?;
                let descriptor = if status == SUCCESS {
                    Some(NodeDescriptor::parse(r.rest())?)
                } else {
                    None
                };
                Zdp::NodeDescRsp {
                    status,
                    nwk,
                    descriptor,
                }
            }
            c if c == ACTIVE_EP_REQ | RESPONSE => {
                let status = u8::decode(r)?;
                let nwk = u16::decode(r)?;
                let n = usize::from(u8::decode(r)?);
                Zdp::ActiveEpRsp {
                    status,
                    nwk,
                    endpoints: r.take(n)?.to_vec(),
                }
            }
            c if c == SIMPLE_DESC_REQ | RESPONSE => {
                let status = u8::decode(r)?;
                let nwk = u16::decode(r)?;
                let n = usize::from(u8::decode(r)?);
                let descriptor = if status == SUCCESS {
                    Some(SimpleDescriptor::parse(r.take(n)?)?)
                } else {
                    None
                };
                Zdp::SimpleDescRsp {
                    status,
                    nwk,
                    descriptor,
                }
            }
            c if c & RESPONSE != 0 => Zdp::StatusRsp {
                cluster: c,
                status: u8::decode(r)?,
            },
            c => Zdp::Unknown { cluster: c },
        };
        Ok((tsn, msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_descriptor_response_round_trips() {
        let d = SimpleDescriptor {
            endpoint: 1,
            profile: 0x0104,
            device_id: 0x0101,
            device_version: 1,
            in_clusters: vec![0x0000, 0x0006, 0x0008],
            out_clusters: vec![0x0019],
        };
        let msg = Zdp::SimpleDescRsp {
            status: SUCCESS,
            nwk: 0x1234,
            descriptor: Some(d),
        };
        let bytes = msg.encode(5);
        assert_eq!(&bytes[..5], &[5, 0, 0x34, 0x12, 16]);
        assert_eq!(Zdp::parse(0x8004, &bytes).unwrap(), (5, msg));
    }

    #[test]
    fn node_descriptor_response_reads_mains_power_and_manufacturer() {
        let nd = NodeDescriptor {
            logical_type: 1,
            mac_capabilities: 0x8E,
            manufacturer_code: 0x1037,
        };
        let msg = Zdp::NodeDescRsp {
            status: SUCCESS,
            nwk: 0x4567,
            descriptor: Some(nd),
        };
        let (tsn, back) = Zdp::parse(0x8002, &msg.encode(9)).unwrap();
        assert_eq!((tsn, &back), (9, &msg));
        assert!(nd.mains_powered());
    }

    #[test]
    fn ieee_address_response_round_trips() {
        let msg = Zdp::IeeeAddrRsp {
            status: SUCCESS,
            ieee: 0x00124B0000000101,
            nwk: 0x1001,
        };
        let bytes = msg.encode(4);
        assert_eq!(
            bytes,
            [4, 0, 0x01, 0x01, 0, 0, 0, 0x4B, 0x12, 0, 0x01, 0x10]
        );
        assert_eq!(Zdp::parse(0x8001, &bytes).unwrap(), (4, msg));
    }

    #[test]
    fn truncated_active_endpoint_response_is_an_error() {
        assert_eq!(
            Zdp::parse(0x8005, &[1, 0, 0x34, 0x12, 3, 1]),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn device_announce_decodes_from_spec_layout() {
        let bytes = [0x80, 0x34, 0x12, 8, 7, 6, 5, 4, 3, 2, 1, 0x80];
        let (_, msg) = Zdp::parse(0x0013, &bytes).unwrap();
        assert_eq!(
            msg,
            Zdp::DeviceAnnce {
                nwk: 0x1234,
                ieee: 0x0102_0304_0506_0708,
                capabilities: 0x80
            }
        );
    }
}
