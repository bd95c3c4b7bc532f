//! Meter CC (0x32, SDS13781 "Meter Command Class", v1-5): electric, gas and water meters,
//! mapped by [`SCALES`] to LevelSensors (energy `kWh`, power `W`, voltage `V`, current `A`,
//! volumes in `cu-m`/`l`).
//!
//! Report: `[0x32, 0x02, scale2(1)|rate(2)|type(5), precision(3)|scale(2)|size(3), value,
//! (delta time(2), previous value)]`; the scale is `scale2 << 2 | scale`.

use std::borrow::Cow;

use super::multilevel_sensor::{Convert, convert};
use super::{CapDef, CcError, CcId, CcSpec, Decoded, NodeFact, need, read_only, read_scaled};
use crate::api::{CapabilityKind, IoTLevelType, IoTUnitType, Value};

/// METER_GET.
pub const GET: u8 = 0x01;
/// METER_REPORT.
pub const REPORT: u8 = 0x02;
/// METER_SUPPORTED_GET (v2).
pub const SUPPORTED_GET: u8 = 0x03;
/// METER_SUPPORTED_REPORT (v2).
pub const SUPPORTED_REPORT: u8 = 0x04;

/// Meter type (1 electric, 2 gas, 3 water), scale -> property, name, Type, unit, conversion.
pub const SCALES: &[(u8, u8, &str, &str, IoTLevelType, IoTUnitType, Convert)] = &[
    (
        1,
        0,
        "electric_kWh",
        "Energy",
        IoTLevelType::Energy,
        IoTUnitType::KilowattHour,
        Convert::Same,
    ),
    (
        1,
        2,
        "electric_W",
        "Power",
        IoTLevelType::Power,
        IoTUnitType::Watt,
        Convert::Same,
    ),
    (
        1,
        3,
        "electric_pulses",
        "Pulse count",
        IoTLevelType::Counter,
        IoTUnitType::Dimensionless,
        Convert::Same,
    ),
    (
        1,
        4,
        "electric_V",
        "Voltage",
        IoTLevelType::Meter,
        IoTUnitType::Volt,
        Convert::Same,
    ),
    (
        1,
        5,
        "electric_A",
        "Current",
        IoTLevelType::Meter,
        IoTUnitType::Ampere,
        Convert::Same,
    ),
    (
        2,
        0,
        "gas_volume",
        "Gas volume",
        IoTLevelType::Volume,
        IoTUnitType::CubicMetre,
        Convert::Same,
    ),
    (
        2,
        1,
        "gas_volume",
        "Gas volume",
        IoTLevelType::Volume,
        IoTUnitType::CubicMetre,
        Convert::Factor(0.028_316_846_6),
    ),
    (
        2,
        3,
        "gas_pulses",
        "Gas pulse count",
        IoTLevelType::Counter,
        IoTUnitType::Dimensionless,
        Convert::Same,
    ),
    (
        3,
        0,
        "water_volume",
        "Water volume",
        IoTLevelType::Volume,
        IoTUnitType::CubicMetre,
        Convert::Same,
    ),
    (
        3,
        1,
        "water_volume",
        "Water volume",
        IoTLevelType::Volume,
        IoTUnitType::CubicMetre,
        Convert::Factor(0.028_316_846_6),
    ),
    (
        3,
        2,
        "water_volume",
        "Water volume",
        IoTLevelType::Volume,
        IoTUnitType::CubicMetre,
        Convert::Factor(0.003_785_411_78),
    ),
    (
        3,
        3,
        "water_pulses",
        "Water pulse count",
        IoTLevelType::Counter,
        IoTUnitType::Dimensionless,
        Convert::Same,
    ),
];

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::Meter,
    name: "Meter",
    controls: super::none_controls,
    interview: |v| {
        if v >= 2 {
            vec![vec![0x32, SUPPORTED_GET]]
        } else {
            vec![vec![0x32, GET]]
        }
    },
    follow_up: |fact, _| match fact {
        NodeFact::Supported { ids, .. } => ids
            .iter()
            .map(|s| vec![0x32, GET, (s & 0x07) << 3])
            .collect(),
        _ => Vec::new(),
    },
    decode,
    set: read_only,
    get: |property, v| {
        let e = SCALES.iter().find(|e| e.2 == property)?;
        Some(if v >= 2 {
            vec![0x32, GET, (e.1 & 0x07) << 3]
        } else {
            vec![0x32, GET]
        })
    },
};

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::Meter)?;
    match cmd[1] {
        REPORT => {
            need(cmd, 5, CcId::Meter)?;
            let meter_type = cmd[2] & 0x1F;
            let (raw, scale_lo) = read_scaled(cmd[3], &cmd[4..]).ok_or(CcError::Invalid {
                cc: CcId::Meter,
                reason: "bad value size",
            })?;
            let scale = ((cmd[2] & 0x80) >> 5) | scale_lo;
            let Some(e) = SCALES.iter().find(|e| e.0 == meter_type && e.1 == scale) else {
                tracing::info!(meter_type, scale, "zwave: unmapped meter scale");
                return Ok(Vec::new());
            };
            let def = CapDef {
                cc: CcId::Meter,
                property: Cow::Borrowed(e.2),
                name: Cow::Borrowed(e.3),
                kind: CapabilityKind::LevelSensor {
                    kind: e.4,
                    unit: e.5,
                    low_level_threshold: None,
                    high_level_threshold: None,
                },
            };
            Ok(convert(raw, e.6)
                .map(|v| Decoded::Reading {
                    def,
                    value: Value::Decimal(v),
                })
                .into_iter()
                .collect())
        }
        SUPPORTED_REPORT => {
            need(cmd, 4, CcId::Meter)?;
            let mask = cmd[3] & 0x7F;
            Ok(vec![Decoded::Fact(NodeFact::Supported {
                cc: CcId::Meter,
                ids: (0..7).filter(|s| mask & (1 << s) != 0).collect(),
            })])
        }
        _ => Ok(Vec::new()),
    }
}

/// METER_REPORT v3 for an electric meter (simulator side); `raw` is value × 10^precision.
pub fn report(meter_type: u8, scale: u8, precision: u8, raw: i32) -> Vec<u8> {
    let mut out = vec![0x32, REPORT, ((scale & 0x04) << 5) | (meter_type & 0x1F)];
    out.extend(super::write_scaled(raw, precision, scale & 0x03));
    out
}

/// METER_SUPPORTED_REPORT (simulator side).
pub fn supported_report(meter_type: u8, scales: &[u8]) -> Vec<u8> {
    let mask = scales.iter().fold(0u8, |m, s| m | (1 << (s & 0x07)));
    vec![0x32, SUPPORTED_REPORT, meter_type & 0x1F, mask & 0x7F]
}
