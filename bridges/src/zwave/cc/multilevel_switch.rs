//! Multilevel Switch CC (0x26, SDS13781 "Multilevel Switch Command Class", v1-4): dimmers
//! and shades, mapped to a LevelControl 0-99 in `%` (the CC's own range; 0xFF = "last
//! level" reads as 99).

use std::borrow::Cow;

use super::basic::{level, level_byte};
use super::{CapDef, CcError, CcId, CcSpec, Decoded, need, no_follow_up};
use crate::api::{CapabilityKind, Decimal, IoTLevelType, IoTUnitType, Value};

/// SWITCH_MULTILEVEL_SET.
pub const SET: u8 = 0x01;
/// SWITCH_MULTILEVEL_GET.
pub const GET: u8 = 0x02;
/// SWITCH_MULTILEVEL_REPORT.
pub const REPORT: u8 = 0x03;
/// Capability property.
pub const PROPERTY: &str = "level";

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::MultilevelSwitch,
    name: "Multilevel Switch",
    controls: |_| vec![def()],
    interview: |_| vec![vec![0x26, GET]],
    follow_up: no_follow_up,
    decode,
    set,
    get: |_, _| Some(vec![0x26, GET]),
};

fn def() -> CapDef {
    CapDef {
        cc: CcId::MultilevelSwitch,
        property: Cow::Borrowed(PROPERTY),
        name: Cow::Borrowed("Level"),
        kind: CapabilityKind::LevelControl {
            kind: IoTLevelType::Brightness,
            unit: IoTUnitType::Percent,
            min: Decimal::from_int(0),
            max: Decimal::from_int(99),
            step: Some(Decimal::from_int(10)),
        },
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::MultilevelSwitch)?;
    if cmd[1] != REPORT {
        return Ok(Vec::new());
    }
    need(cmd, 3, CcId::MultilevelSwitch)?;
    Ok(level(cmd[2])
        .map(|l| Decoded::Reading {
            def: def(),
            value: Value::Decimal(Decimal::from_int(i64::from(l))),
        })
        .into_iter()
        .collect())
}

fn set(property: &str, value: &Value, version: u8) -> Result<Vec<u8>, CcError> {
    let mut out = vec![0x26, SET, level_byte(property, value)?];
    if version >= 2 {
        // Duration 0xFF: the device's factory default dimming duration.
        out.push(0xFF);
    }
    Ok(out)
}

/// SWITCH_MULTILEVEL_REPORT (simulator side).
pub fn report(level: u8) -> Vec<u8> {
    vec![0x26, REPORT, level]
}
