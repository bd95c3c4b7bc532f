//! Color Switch CC (0x33, SDS13781 "Color Switch Command Class", v1-3): TR-181 has no color
//! control, so each color component becomes a LevelControl of Type `Intensity` (0-255,
//! unit `-`): `red`, `green`, `blue`, `warm_white`, `cold_white`.
//!
//! Report: `[0x33, 0x04, component, value, (target, duration)]`; Set:
//! `[0x33, 0x05, count, (component, value)..., (duration)]`.

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, NodeFact, need};
use crate::api::{CapabilityKind, Decimal, IoTLevelType, IoTUnitType, Value};

/// SWITCH_COLOR_SUPPORTED_GET.
pub const SUPPORTED_GET: u8 = 0x01;
/// SWITCH_COLOR_SUPPORTED_REPORT.
pub const SUPPORTED_REPORT: u8 = 0x02;
/// SWITCH_COLOR_GET.
pub const GET: u8 = 0x03;
/// SWITCH_COLOR_REPORT.
pub const REPORT: u8 = 0x04;
/// SWITCH_COLOR_SET.
pub const SET: u8 = 0x05;

/// Component id -> property, name.
pub const COMPONENTS: &[(u8, &str, &str)] = &[
    (0, "warm_white", "Warm white"),
    (1, "cold_white", "Cold white"),
    (2, "red", "Red"),
    (3, "green", "Green"),
    (4, "blue", "Blue"),
];

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::ColorSwitch,
    name: "Color Switch",
    controls: super::none_controls,
    interview: |_| vec![vec![0x33, SUPPORTED_GET]],
    follow_up: |fact, _| match fact {
        NodeFact::Supported { ids, .. } => ids.iter().map(|c| vec![0x33, GET, *c]).collect(),
        _ => Vec::new(),
    },
    decode,
    set,
    get: |property, _| {
        COMPONENTS
            .iter()
            .find(|c| c.1 == property)
            .map(|c| vec![0x33, GET, c.0])
    },
};

fn def(c: &(u8, &'static str, &'static str)) -> CapDef {
    CapDef {
        cc: CcId::ColorSwitch,
        property: Cow::Borrowed(c.1),
        name: Cow::Borrowed(c.2),
        kind: CapabilityKind::LevelControl {
            kind: IoTLevelType::Intensity,
            unit: IoTUnitType::Dimensionless,
            min: Decimal::from_int(0),
            max: Decimal::from_int(255),
            step: Some(Decimal::from_int(16)),
        },
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::ColorSwitch)?;
    match cmd[1] {
        REPORT => {
            need(cmd, 4, CcId::ColorSwitch)?;
            Ok(COMPONENTS
                .iter()
                .find(|c| c.0 == cmd[2])
                .map(|c| Decoded::Reading {
                    def: def(c),
                    value: Value::Decimal(Decimal::from_int(i64::from(cmd[3]))),
                })
                .into_iter()
                .collect())
        }
        SUPPORTED_REPORT => {
            need(cmd, 4, CcId::ColorSwitch)?;
            let mask = u16::from_le_bytes([cmd[2], cmd[3]]);
            Ok(vec![Decoded::Fact(NodeFact::Supported {
                cc: CcId::ColorSwitch,
                ids: (0..5).filter(|c| mask & (1 << c) != 0).collect(),
            })])
        }
        _ => Ok(Vec::new()),
    }
}

fn set(property: &str, value: &Value, _: u8) -> Result<Vec<u8>, CcError> {
    let err = |reason| CcError::CannotSet {
        property: property.to_owned(),
        reason,
    };
    let c = COMPONENTS
        .iter()
        .find(|c| c.1 == property)
        .ok_or_else(|| err("unknown component"))?;
    let v = value
        .as_decimal()
        .ok_or_else(|| err("not a number"))?
        .to_f64()
        .round();
    if !(0.0..=255.0).contains(&v) {
        return Err(err("outside 0..255"));
    }
    Ok(vec![0x33, SET, 0x01, c.0, v as u8])
}

/// SWITCH_COLOR_REPORT v1 (simulator side).
pub fn report(component: u8, value: u8) -> Vec<u8> {
    vec![0x33, REPORT, component, value]
}

/// SWITCH_COLOR_SUPPORTED_REPORT (simulator side).
pub fn supported_report(components: &[u8]) -> Vec<u8> {
    let mask = components.iter().fold(0u16, |m, c| m | (1 << (c & 0x0F)));
    let b = mask.to_le_bytes();
    vec![0x33, SUPPORTED_REPORT, b[0], b[1]]
}
