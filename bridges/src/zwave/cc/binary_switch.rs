//! Binary Switch CC (0x25, SDS13781 "Binary Switch Command Class", v1-2): on/off
//! actuators, mapped to a BinaryControl of Type `Switch`.

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, need, no_follow_up, on_off};
use crate::api::{BinaryControlType, CapabilityKind, Value};

/// SWITCH_BINARY_SET.
pub const SET: u8 = 0x01;
/// SWITCH_BINARY_GET.
pub const GET: u8 = 0x02;
/// SWITCH_BINARY_REPORT.
pub const REPORT: u8 = 0x03;
/// Capability property.
pub const PROPERTY: &str = "switch";

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::BinarySwitch,
    name: "Binary Switch",
    controls: |_| vec![def()],
    interview: |_| vec![vec![0x25, GET]],
    follow_up: no_follow_up,
    decode,
    set,
    get: |_, _| Some(vec![0x25, GET]),
};

fn def() -> CapDef {
    CapDef {
        cc: CcId::BinarySwitch,
        property: Cow::Borrowed(PROPERTY),
        name: Cow::Borrowed("Switch"),
        kind: CapabilityKind::BinaryControl {
            kind: BinaryControlType::Switch,
        },
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::BinarySwitch)?;
    if cmd[1] != REPORT {
        return Ok(Vec::new());
    }
    need(cmd, 3, CcId::BinarySwitch)?;
    // v2 reports carry target value and duration after the current value; current wins.
    Ok(on_off(cmd[2])
        .map(|on| Decoded::Reading {
            def: def(),
            value: Value::Bool(on),
        })
        .into_iter()
        .collect())
}

fn set(property: &str, value: &Value, _: u8) -> Result<Vec<u8>, CcError> {
    let on = value.as_bool().ok_or_else(|| CcError::CannotSet {
        property: property.to_owned(),
        reason: "not a boolean",
    })?;
    Ok(vec![0x25, SET, if on { 0xFF } else { 0x00 }])
}

/// SWITCH_BINARY_REPORT (simulator side).
pub fn report(on: bool) -> Vec<u8> {
    vec![0x25, REPORT, if on { 0xFF } else { 0x00 }]
}
