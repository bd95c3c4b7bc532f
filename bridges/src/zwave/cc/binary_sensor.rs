//! Binary Sensor CC (0x30, SDS13781 "Binary Sensor Command Class", v1-2): mapped to
//! BinarySensor capabilities by the sensor type table [`TYPES`]. Version 1 reports carry no
//! type and are treated as "General purpose", which most such devices use for motion.

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, NodeFact, need, on_off, read_only};
use crate::api::{BinarySensorType, CapabilityKind, Value};
use crate::zwave::serial::functions::bitmask_values;

/// SENSOR_BINARY_SUPPORTED_GET_SENSOR (v2).
pub const SUPPORTED_GET: u8 = 0x01;
/// SENSOR_BINARY_GET.
pub const GET: u8 = 0x02;
/// SENSOR_BINARY_REPORT.
pub const REPORT: u8 = 0x03;
/// SENSOR_BINARY_SUPPORTED_SENSOR_REPORT (v2).
pub const SUPPORTED_REPORT: u8 = 0x04;

/// Sensor type -> (property, name, TR-181 BinarySensor Type).
pub const TYPES: &[(u8, &str, BinarySensorType)] = &[
    (0x01, "general", BinarySensorType::MotionDetected),
    (0x02, "smoke", BinarySensorType::SmokeDetected),
    (0x03, "co", BinarySensorType::CarbonMonoxideDetected),
    (0x04, "co2", BinarySensorType::CarbonDioxideDetected),
    (0x06, "water", BinarySensorType::WaterDetected),
    (0x0A, "door", BinarySensorType::DoorOpen),
    (0x0C, "motion", BinarySensorType::MotionDetected),
];

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::BinarySensor,
    name: "Binary Sensor",
    controls: super::none_controls,
    interview: |v| {
        if v >= 2 {
            vec![vec![0x30, SUPPORTED_GET]]
        } else {
            vec![vec![0x30, GET]]
        }
    },
    follow_up: |fact, _| match fact {
        NodeFact::Supported { ids, .. } => ids.iter().map(|t| vec![0x30, GET, *t]).collect(),
        _ => Vec::new(),
    },
    decode,
    set: read_only,
    get: |property, _| {
        TYPES
            .iter()
            .find(|t| t.1 == property)
            .map(|t| vec![0x30, GET, t.0])
    },
};

/// The capability for sensor type `t`, if mapped.
pub fn def(t: u8) -> Option<CapDef> {
    TYPES.iter().find(|e| e.0 == t).map(|e| CapDef {
        cc: CcId::BinarySensor,
        property: Cow::Borrowed(e.1),
        name: Cow::Borrowed(e.2.as_str()),
        kind: CapabilityKind::BinarySensor { kind: e.2 },
    })
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::BinarySensor)?;
    match cmd[1] {
        REPORT => {
            need(cmd, 3, CcId::BinarySensor)?;
            let t = cmd.get(3).copied().unwrap_or(0x01);
            let Some(def) = def(t) else {
                tracing::debug!(sensor_type = t, "zwave: unmapped binary sensor type");
                return Ok(Vec::new());
            };
            Ok(on_off(cmd[2])
                .map(|v| Decoded::Reading {
                    def,
                    value: Value::Bool(v),
                })
                .into_iter()
                .collect())
        }
        SUPPORTED_REPORT => Ok(vec![Decoded::Fact(NodeFact::Supported {
            cc: CcId::BinarySensor,
            // Bit 0 of the mask is reserved: type n is bit n.
            ids: bitmask_values(&cmd[2..])
                .into_iter()
                .map(|v| v - 1)
                .filter(|t| *t > 0)
                .collect(),
        })]),
        _ => Ok(Vec::new()),
    }
}

/// SENSOR_BINARY_REPORT v2 (simulator side).
pub fn report(sensor_type: u8, on: bool) -> Vec<u8> {
    vec![0x30, REPORT, if on { 0xFF } else { 0x00 }, sensor_type]
}
