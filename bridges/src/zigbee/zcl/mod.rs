//! Zigbee Cluster Library (ZCL r8): frame header, general commands, data types and the
//! cluster tables. Radio-neutral: the payload of an APS frame in, the same out.

pub mod clusters;
pub mod frame;
pub mod types;

pub use frame::{
    AttributeRecord, Direction, FrameKind, GeneralCommand, ReadRecord, ReportingConfig, ZclFrame,
    ZclHeader,
};
pub use types::{TypedValue, ZclDecodeError, ZclValue};
