//! ZCL frames (ZCL r8 §2.4): the header and the general (profile-wide) commands.
//!
//! ```text
//! +---------------+-------------------+-----+------------+---------------+
//! | frame control | manufacturer code | TSN | command id | payload       |
//! | u8            | u16 (if bit 2)    | u8  | u8         |               |
//! +---------------+-------------------+-----+------------+---------------+
//! frame control: bits 0-1 type (0 global, 1 cluster-specific), bit 2 manufacturer specific,
//!                bit 3 direction (1 = server to client), bit 4 disable default response
//! ```

use super::types::{TypedValue, ZclDecodeError, is_analog};
use crate::zigbee::znp::commands::Reader;

/// Largest number of records decoded from one frame (bounded by the APS payload anyway).
const MAX_RECORDS: usize = 64;

/// ZCL status codes used here (ZCL r8 §2.6.3).
pub mod status {
    /// Success.
    pub const SUCCESS: u8 = 0x00;
    /// Generic failure.
    pub const FAILURE: u8 = 0x01;
    /// Unsupported cluster command.
    pub const UNSUP_COMMAND: u8 = 0x81;
    /// Unsupported attribute.
    pub const UNSUPPORTED_ATTRIBUTE: u8 = 0x86;
    /// Invalid value.
    pub const INVALID_VALUE: u8 = 0x87;
    /// Read-only attribute.
    pub const READ_ONLY: u8 = 0x88;
    /// Wrong data type.
    pub const INVALID_DATA_TYPE: u8 = 0x8D;
}

/// General command ids (ZCL r8 Table 2-3).
pub mod cmd {
    /// Read Attributes.
    pub const READ_ATTRIBUTES: u8 = 0x00;
    /// Read Attributes Response.
    pub const READ_ATTRIBUTES_RSP: u8 = 0x01;
    /// Write Attributes.
    pub const WRITE_ATTRIBUTES: u8 = 0x02;
    /// Write Attributes Response.
    pub const WRITE_ATTRIBUTES_RSP: u8 = 0x04;
    /// Configure Reporting.
    pub const CONFIGURE_REPORTING: u8 = 0x06;
    /// Configure Reporting Response.
    pub const CONFIGURE_REPORTING_RSP: u8 = 0x07;
    /// Report Attributes.
    pub const REPORT_ATTRIBUTES: u8 = 0x0A;
    /// Default Response.
    pub const DEFAULT_RSP: u8 = 0x0B;
    /// Discover Attributes.
    pub const DISCOVER_ATTRIBUTES: u8 = 0x0C;
    /// Discover Attributes Response.
    pub const DISCOVER_ATTRIBUTES_RSP: u8 = 0x0D;
}

/// Global (profile-wide) or cluster-specific command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// General command (Read/Write Attributes, Report, ...).
    Global,
    /// Command defined by the cluster.
    ClusterSpecific,
}

/// Who sent the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server (commands, reads, writes).
    ClientToServer,
    /// Server to client (responses, reports).
    ServerToClient,
}

/// The ZCL header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZclHeader {
    /// Global or cluster-specific.
    pub kind: FrameKind,
    /// Manufacturer code of a manufacturer-specific frame.
    pub manufacturer: Option<u16>,
    /// Direction.
    pub direction: Direction,
    /// Disable Default Response bit.
    pub disable_default_response: bool,
    /// Transaction sequence number.
    pub tsn: u8,
    /// Command id.
    pub command: u8,
}

impl ZclHeader {
    /// A client-to-server global command header.
    pub fn global(tsn: u8, command: u8) -> Self {
        ZclHeader {
            kind: FrameKind::Global,
            manufacturer: None,
            direction: Direction::ClientToServer,
            disable_default_response: false,
            tsn,
            command,
        }
    }

    /// A client-to-server cluster-specific command header.
    pub fn cluster(tsn: u8, command: u8) -> Self {
        ZclHeader {
            kind: FrameKind::ClusterSpecific,
            ..Self::global(tsn, command)
        }
    }

    /// The answer's header: global command `command`, the direction flipped (a read of a
    /// client-side attribute, such as the OTA client's, is answered client-to-server),
    /// default responses disabled.
    pub fn response(self, command: u8) -> Self {
        ZclHeader {
            kind: FrameKind::Global,
            direction: match self.direction {
                Direction::ClientToServer => Direction::ServerToClient,
                Direction::ServerToClient => Direction::ClientToServer,
            },
            disable_default_response: true,
            command,
            ..self
        }
    }
}

/// A ZCL frame: header and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZclFrame {
    /// Header.
    pub header: ZclHeader,
    /// Command payload.
    pub payload: Vec<u8>,
}

impl ZclFrame {
    /// Parses an APS payload.
    pub fn parse(data: &[u8]) -> Result<Self, ZclDecodeError> {
        let mut r = Reader::new(data);
        let fc = r.take(1)?[0];
        let kind = match fc & 0x03 {
            0 => FrameKind::Global,
            1 => FrameKind::ClusterSpecific,
            _ => return Err(ZclDecodeError::Invalid("reserved frame type")),
        };
        let manufacturer = if fc & 0x04 != 0 {
            let b = r.take(2)?;
            Some(u16::from_le_bytes([b[0], b[1]]))
        } else {
            None
        };
        let direction = if fc & 0x08 != 0 {
            Direction::ServerToClient
        } else {
            Direction::ClientToServer
        };
        let tsn = r.take(1)?[0];
        let command = r.take(1)?[0];
        let header = ZclHeader {
            kind,
            manufacturer,
            direction,
            disable_default_response: fc & 0x10 != 0,
            tsn,
            command,
        };
        Ok(ZclFrame {
            header,
            payload: r.rest().to_vec(),
        })
    }

    /// Serialises to an APS payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let h = &self.header;
        let mut fc = match h.kind {
            FrameKind::Global => 0,
            FrameKind::ClusterSpecific => 1,
        };
        if h.manufacturer.is_some() {
            fc |= 0x04;
        }
        if h.direction == Direction::ServerToClient {
            fc |= 0x08;
        }
        if h.disable_default_response {
            fc |= 0x10;
        }
        let mut out = vec![fc];
        if let Some(m) = h.manufacturer {
            out.extend_from_slice(&m.to_le_bytes());
        }
        out.push(h.tsn);
        out.push(h.command);
        out.extend_from_slice(&self.payload);
        out
    }
}

/// One attribute id with its typed value (Write Attributes, Report Attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeRecord {
    /// Attribute id.
    pub id: u16,
    /// Value.
    pub value: TypedValue,
}

/// One Read Attributes Response record.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRecord {
    /// Attribute id.
    pub id: u16,
    /// Value, or the ZCL status why there is none.
    pub result: Result<TypedValue, u8>,
}

/// One Configure Reporting record (direction 0: the device reports).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportingConfig {
    /// Attribute id.
    pub id: u16,
    /// Data type.
    pub ty: u8,
    /// Minimum reporting interval, s.
    pub min_interval: u16,
    /// Maximum reporting interval, s.
    pub max_interval: u16,
    /// Reportable change, for analog types.
    pub reportable_change: Option<TypedValue>,
}

/// A decoded general command.
#[derive(Debug, Clone, PartialEq)]
pub enum GeneralCommand {
    /// Read Attributes.
    ReadAttributes(Vec<u16>),
    /// Read Attributes Response.
    ReadAttributesRsp(Vec<ReadRecord>),
    /// Write Attributes.
    WriteAttributes(Vec<AttributeRecord>),
    /// Write Attributes Response: empty when all succeeded, else (status, attribute) pairs.
    WriteAttributesRsp(Vec<(u8, u16)>),
    /// Configure Reporting.
    ConfigureReporting(Vec<ReportingConfig>),
    /// Configure Reporting Response: empty when all succeeded.
    ConfigureReportingRsp(Vec<(u8, u16)>),
    /// Report Attributes.
    ReportAttributes(Vec<AttributeRecord>),
    /// Default Response: (command id answered, status).
    DefaultRsp {
        /// Command answered.
        command: u8,
        /// ZCL status.
        status: u8,
    },
    /// Discover Attributes: start id, maximum count.
    DiscoverAttributes {
        /// First attribute id.
        start: u16,
        /// Maximum records.
        max: u8,
    },
    /// Discover Attributes Response: complete flag and (id, type) pairs.
    DiscoverAttributesRsp {
        /// No more attributes.
        complete: bool,
        /// Attribute ids and types.
        attributes: Vec<(u16, u8)>,
    },
    /// A general command this codec does not decode.
    Unknown(u8),
}

fn u16_of(r: &mut Reader<'_>) -> Result<u16, ZclDecodeError> {
    let b = r.take(2)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn records<T>(
    r: &mut Reader<'_>,
    mut one: impl FnMut(&mut Reader<'_>) -> Result<T, ZclDecodeError>,
) -> Result<Vec<T>, ZclDecodeError> {
    let mut out = Vec::new();
    while r.remaining() > 0 {
        if out.len() == MAX_RECORDS {
            return Err(ZclDecodeError::Invalid("too many records"));
        }
        out.push(one(r)?);
    }
    Ok(out)
}

fn status_pairs(
    r: &mut Reader<'_>,
    with_direction: bool,
) -> Result<Vec<(u8, u16)>, ZclDecodeError> {
    // A single SUCCESS byte means every record succeeded (ZCL §2.5.5, §2.5.8).
    if r.remaining() == 1 {
        let s = r.take(1)?[0];
        return Ok(if s == status::SUCCESS {
            Vec::new()
        } else {
            vec![(s, 0xFFFF)]
        });
    }
    records(r, |r| {
        let s = r.take(1)?[0];
        if with_direction {
            r.take(1)?;
        }
        Ok((s, u16_of(r)?))
    })
}

impl GeneralCommand {
    /// Decodes the payload of general command `id`.
    pub fn parse(id: u8, payload: &[u8]) -> Result<Self, ZclDecodeError> {
        let r = &mut Reader::new(payload);
        Ok(match id {
            cmd::READ_ATTRIBUTES => GeneralCommand::ReadAttributes(records(r, u16_of)?),
            cmd::READ_ATTRIBUTES_RSP => GeneralCommand::ReadAttributesRsp(records(r, |r| {
                let id = u16_of(r)?;
                let s = r.take(1)?[0];
                let result = if s == status::SUCCESS {
                    let ty = r.take(1)?[0];
                    Ok(TypedValue::decode(ty, r)?)
                } else {
                    Err(s)
                };
                Ok(ReadRecord { id, result })
            })?),
            cmd::WRITE_ATTRIBUTES | cmd::REPORT_ATTRIBUTES => {
                let recs = records(r, |r| {
                    let id = u16_of(r)?;
                    let ty = r.take(1)?[0];
                    Ok(AttributeRecord {
                        id,
                        value: TypedValue::decode(ty, r)?,
                    })
                })?;
                if id == cmd::WRITE_ATTRIBUTES {
                    GeneralCommand::WriteAttributes(recs)
                } else {
                    GeneralCommand::ReportAttributes(recs)
                }
            }
            cmd::WRITE_ATTRIBUTES_RSP => {
                GeneralCommand::WriteAttributesRsp(status_pairs(r, false)?)
            }
            cmd::CONFIGURE_REPORTING_RSP => {
                GeneralCommand::ConfigureReportingRsp(status_pairs(r, true)?)
            }
            cmd::CONFIGURE_REPORTING => GeneralCommand::ConfigureReporting(records(r, |r| {
                let direction = r.take(1)?[0];
                if direction != 0 {
                    return Err(ZclDecodeError::Invalid(
                        "only direction 0 reporting configs are decoded",
                    ));
                }
                let id = u16_of(r)?;
                let ty = r.take(1)?[0];
                let min_interval = u16_of(r)?;
                let max_interval = u16_of(r)?;
                let reportable_change = if is_analog(ty) {
                    Some(TypedValue::decode(ty, r)?)
                } else {
                    None
                };
                Ok(ReportingConfig {
                    id,
                    ty,
                    min_interval,
                    max_interval,
                    reportable_change,
                })
            })?),
            cmd::DEFAULT_RSP => {
                let b = r.take(2)?;
                GeneralCommand::DefaultRsp {
                    command: b[0],
                    status: b[1],
                }
            }
            cmd::DISCOVER_ATTRIBUTES => {
                let start = u16_of(r)?;
                GeneralCommand::DiscoverAttributes {
                    start,
                    max: r.take(1)?[0],
                }
            }
            cmd::DISCOVER_ATTRIBUTES_RSP => {
                let complete = r.take(1)?[0] != 0;
                let attributes = records(r, |r| Ok((u16_of(r)?, r.take(1)?[0])))?;
                GeneralCommand::DiscoverAttributesRsp {
                    complete,
                    attributes,
                }
            }
            other => GeneralCommand::Unknown(other),
        })
    }

    /// The command id.
    pub fn id(&self) -> u8 {
        match self {
            GeneralCommand::ReadAttributes(_) => cmd::READ_ATTRIBUTES,
            GeneralCommand::ReadAttributesRsp(_) => cmd::READ_ATTRIBUTES_RSP,
            GeneralCommand::WriteAttributes(_) => cmd::WRITE_ATTRIBUTES,
            GeneralCommand::WriteAttributesRsp(_) => cmd::WRITE_ATTRIBUTES_RSP,
            GeneralCommand::ConfigureReporting(_) => cmd::CONFIGURE_REPORTING,
            GeneralCommand::ConfigureReportingRsp(_) => cmd::CONFIGURE_REPORTING_RSP,
            GeneralCommand::ReportAttributes(_) => cmd::REPORT_ATTRIBUTES,
            GeneralCommand::DefaultRsp { .. } => cmd::DEFAULT_RSP,
            GeneralCommand::DiscoverAttributes { .. } => cmd::DISCOVER_ATTRIBUTES,
            GeneralCommand::DiscoverAttributesRsp { .. } => cmd::DISCOVER_ATTRIBUTES_RSP,
            GeneralCommand::Unknown(id) => *id,
        }
    }

    /// Encodes the payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let attr = |out: &mut Vec<u8>, a: &AttributeRecord| {
            out.extend_from_slice(&a.id.to_le_bytes());
            out.push(a.value.ty);
            a.value.encode(out);
        };
        let pairs = |out: &mut Vec<u8>, p: &[(u8, u16)], direction: bool| {
            if p.is_empty() {
                out.push(status::SUCCESS);
            }
            for (s, id) in p {
                out.push(*s);
                if direction {
                    out.push(0);
                }
                out.extend_from_slice(&id.to_le_bytes());
            }
        };
        match self {
            GeneralCommand::ReadAttributes(ids) => ids
                .iter()
                .for_each(|i| out.extend_from_slice(&i.to_le_bytes())),
            GeneralCommand::ReadAttributesRsp(recs) => {
                for rec in recs {
                    out.extend_from_slice(&rec.id.to_le_bytes());
                    match &rec.result {
                        Ok(v) => {
                            out.push(status::SUCCESS);
                            out.push(v.ty);
                            v.encode(&mut out);
                        }
                        Err(s) => out.push(*s),
                    }
                }
            }
            GeneralCommand::WriteAttributes(recs) | GeneralCommand::ReportAttributes(recs) => {
                recs.iter().for_each(|a| attr(&mut out, a))
            }
            GeneralCommand::WriteAttributesRsp(p) => pairs(&mut out, p, false),
            GeneralCommand::ConfigureReportingRsp(p) => pairs(&mut out, p, true),
            GeneralCommand::ConfigureReporting(cfgs) => {
                for c in cfgs {
                    out.push(0);
                    out.extend_from_slice(&c.id.to_le_bytes());
                    out.push(c.ty);
                    out.extend_from_slice(&c.min_interval.to_le_bytes());
                    out.extend_from_slice(&c.max_interval.to_le_bytes());
                    if let Some(ch) = &c.reportable_change {
                        ch.encode(&mut out);
                    }
                }
            }
            GeneralCommand::DefaultRsp { command, status } => {
                out.extend_from_slice(&[*command, *status])
            }
            GeneralCommand::DiscoverAttributes { start, max } => {
                out.extend_from_slice(&start.to_le_bytes());
                out.push(*max);
            }
            GeneralCommand::DiscoverAttributesRsp {
                complete,
                attributes,
            } => {
                out.push(u8::from(*complete));
                for (id, ty) in attributes {
                    out.extend_from_slice(&id.to_le_bytes());
                    out.push(*ty);
                }
            }
            GeneralCommand::Unknown(_) => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_answer_flows_opposite_to_its_request() {
        let read = ZclHeader::global(7, 0x00);
        let answer = read.response(0x01);
        assert_eq!(answer.direction, Direction::ServerToClient);
        assert_eq!((answer.tsn, answer.command), (7, 0x01));
        assert!(answer.disable_default_response);
        // A read of a client-side attribute (OTA client) is answered client to server.
        let client_read = ZclHeader {
            direction: Direction::ServerToClient,
            ..read
        };
        assert_eq!(
            client_read.response(0x01).direction,
            Direction::ClientToServer
        );
    }

    use super::super::types::{ZclValue, ty};
    use super::*;

    #[test]
    fn temperature_report_from_spec_layout_decodes() {
        // Server-to-client, disable default response, TSN 1, Report Attributes:
        // MeasuredValue (0x0000) int16 = 0x0834 (21.00 degC).
        let bytes = [0x18, 0x01, 0x0A, 0x00, 0x00, 0x29, 0x34, 0x08];
        let f = ZclFrame::parse(&bytes).unwrap();
        assert_eq!(f.header.direction, Direction::ServerToClient);
        assert!(f.header.disable_default_response);
        assert_eq!(f.header.command, cmd::REPORT_ATTRIBUTES);
        let g = GeneralCommand::parse(f.header.command, &f.payload).unwrap();
        let expected = AttributeRecord {
            id: 0,
            value: TypedValue::new(ty::INT16, ZclValue::Signed(2100)),
        };
        assert_eq!(g, GeneralCommand::ReportAttributes(vec![expected]));
        assert_eq!(f.to_bytes(), bytes);
    }

    #[test]
    fn manufacturer_specific_header_round_trips() {
        let mut h = ZclHeader::cluster(9, 0x02);
        h.manufacturer = Some(0x115F);
        let f = ZclFrame {
            header: h,
            payload: vec![1],
        };
        let bytes = f.to_bytes();
        assert_eq!(bytes, [0x05, 0x5F, 0x11, 9, 0x02, 1]);
        assert_eq!(ZclFrame::parse(&bytes).unwrap(), f);
    }

    #[test]
    fn read_response_with_unsupported_attribute_keeps_other_records() {
        let rsp = GeneralCommand::ReadAttributesRsp(vec![
            ReadRecord {
                id: 0x0004,
                result: Ok(TypedValue::new(
                    ty::CHAR_STRING,
                    ZclValue::String("ACME".into()),
                )),
            },
            ReadRecord {
                id: 0x4000,
                result: Err(status::UNSUPPORTED_ATTRIBUTE),
            },
        ]);
        let bytes = rsp.encode();
        assert_eq!(
            GeneralCommand::parse(cmd::READ_ATTRIBUTES_RSP, &bytes).unwrap(),
            rsp
        );
    }

    #[test]
    fn write_response_single_success_byte_means_all_written() {
        assert_eq!(
            GeneralCommand::parse(cmd::WRITE_ATTRIBUTES_RSP, &[0]).unwrap(),
            GeneralCommand::WriteAttributesRsp(vec![])
        );
        let failed = GeneralCommand::WriteAttributesRsp(vec![(status::READ_ONLY, 0x0000)]);
        assert_eq!(
            GeneralCommand::parse(cmd::WRITE_ATTRIBUTES_RSP, &failed.encode()).unwrap(),
            failed
        );
    }

    #[test]
    fn configure_reporting_round_trips_with_reportable_change_only_for_analog() {
        let cfg = GeneralCommand::ConfigureReporting(vec![
            ReportingConfig {
                id: 0,
                ty: ty::BOOL,
                min_interval: 0,
                max_interval: 300,
                reportable_change: None,
            },
            ReportingConfig {
                id: 0,
                ty: ty::INT16,
                min_interval: 10,
                max_interval: 3600,
                reportable_change: Some(TypedValue::new(ty::INT16, ZclValue::Signed(50))),
            },
        ]);
        assert_eq!(
            GeneralCommand::parse(cmd::CONFIGURE_REPORTING, &cfg.encode()).unwrap(),
            cfg
        );
        let rsp =
            GeneralCommand::ConfigureReportingRsp(vec![(status::UNSUPPORTED_ATTRIBUTE, 0x0001)]);
        assert_eq!(
            GeneralCommand::parse(cmd::CONFIGURE_REPORTING_RSP, &rsp.encode()).unwrap(),
            rsp
        );
    }

    #[test]
    fn truncated_and_reserved_frames_are_errors() {
        assert_eq!(
            ZclFrame::parse(&[0x18, 0x01]),
            Err(ZclDecodeError::Truncated)
        );
        assert!(matches!(
            ZclFrame::parse(&[0x03, 1, 1]),
            Err(ZclDecodeError::Invalid(_))
        ));
        assert_eq!(
            GeneralCommand::parse(cmd::REPORT_ATTRIBUTES, &[0x00, 0x00, 0x29, 0x34]),
            Err(ZclDecodeError::Truncated)
        );
        assert_eq!(
            GeneralCommand::parse(0x99, &[1, 2]).unwrap(),
            GeneralCommand::Unknown(0x99)
        );
    }
}
