//! Basic CC (0x20, SDS13781 "Basic Command Class", v1-2): the lowest common denominator of
//! actuators. Mapped to a LevelControl 0-99 % (0xFF "on" reads as 99); the bridge shows it
//! only when a node has no Binary or Multilevel Switch CC.

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, need, no_follow_up};
use crate::api::{CapabilityKind, Decimal, IoTLevelType, IoTUnitType, Value};

/// BASIC_SET.
pub const SET: u8 = 0x01;
/// BASIC_GET.
pub const GET: u8 = 0x02;
/// BASIC_REPORT.
pub const REPORT: u8 = 0x03;
/// Capability property.
pub const PROPERTY: &str = "level";

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::Basic,
    name: "Basic",
    controls,
    interview: |_| vec![vec![0x20, GET]],
    follow_up: no_follow_up,
    decode,
    set,
    get: |_, _| Some(vec![0x20, GET]),
};

fn def() -> CapDef {
    CapDef {
        cc: CcId::Basic,
        property: Cow::Borrowed(PROPERTY),
        name: Cow::Borrowed("Basic"),
        kind: CapabilityKind::LevelControl {
            kind: IoTLevelType::Brightness,
            unit: IoTUnitType::Percent,
            min: Decimal::from_int(0),
            max: Decimal::from_int(99),
            step: Some(Decimal::from_int(1)),
        },
    }
}

fn controls(_: u8) -> Vec<CapDef> {
    vec![def()]
}

/// Maps a Basic/Multilevel value byte to 0-99; 0xFE (unknown) and reserved values to `None`.
pub fn level(b: u8) -> Option<u8> {
    match b {
        0x00..=0x63 => Some(b),
        0xFF => Some(99),
        _ => None,
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::Basic)?;
    match cmd[1] {
        // A node's own Basic Set (motion sensors, remotes) is an event, not a state.
        SET => {
            need(cmd, 3, CcId::Basic)?;
            let mut args = crate::api::EventArgs::new();
            args.insert("Value".into(), cmd[2].to_string());
            Ok(vec![Decoded::Event {
                name: "BasicSet",
                args,
            }])
        }
        REPORT => {
            need(cmd, 3, CcId::Basic)?;
            Ok(level(cmd[2])
                .map(|l| Decoded::Reading {
                    def: def(),
                    value: Value::Decimal(Decimal::from_int(i64::from(l))),
                })
                .into_iter()
                .collect())
        }
        _ => Ok(Vec::new()),
    }
}

/// Encodes a 0-99 level Set from a decimal or boolean value.
pub fn level_byte(property: &str, value: &Value) -> Result<u8, CcError> {
    let err = |reason| CcError::CannotSet {
        property: property.to_owned(),
        reason,
    };
    match value {
        Value::Bool(b) => Ok(if *b { 0xFF } else { 0x00 }),
        v => {
            let d = v.as_decimal().ok_or_else(|| err("not a number"))?;
            let f = d.to_f64().round();
            if !(0.0..=99.0).contains(&f) {
                return Err(err("outside 0..99"));
            }
            Ok(f as u8)
        }
    }
}

fn set(property: &str, value: &Value, _: u8) -> Result<Vec<u8>, CcError> {
    Ok(vec![0x20, SET, level_byte(property, value)?])
}

/// BASIC_REPORT with `value` (simulator side).
pub fn report(value: u8) -> Vec<u8> {
    vec![0x20, REPORT, value]
}
