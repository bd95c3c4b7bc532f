//! Thermostat Mode CC (0x40, SDS13781 "Thermostat Mode Command Class", v1-3): an
//! EnumControl of Type `ThermostatMode` whose values are the CC's mode names.

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, need, no_follow_up};
use crate::api::{CapabilityKind, IoTEnumControlType, Value};

/// THERMOSTAT_MODE_SET.
pub const SET: u8 = 0x01;
/// THERMOSTAT_MODE_GET.
pub const GET: u8 = 0x02;
/// THERMOSTAT_MODE_REPORT.
pub const REPORT: u8 = 0x03;
/// Capability property.
pub const PROPERTY: &str = "mode";

/// Mode number -> name (ValidValues).
pub const MODES: &[(u8, &str)] = &[
    (0x00, "Off"),
    (0x01, "Heat"),
    (0x02, "Cool"),
    (0x03, "Auto"),
    (0x04, "Auxiliary"),
    (0x05, "Resume"),
    (0x06, "Fan"),
    (0x07, "Furnace"),
    (0x08, "Dry"),
    (0x09, "Moist"),
    (0x0A, "AutoChangeover"),
    (0x0B, "EnergyHeat"),
    (0x0C, "EnergyCool"),
    (0x0D, "Away"),
    (0x0F, "FullPower"),
];

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::ThermostatMode,
    name: "Thermostat Mode",
    controls: |_| vec![def()],
    interview: |_| vec![vec![0x40, GET]],
    follow_up: no_follow_up,
    decode,
    set,
    get: |_, _| Some(vec![0x40, GET]),
};

fn def() -> CapDef {
    CapDef {
        cc: CcId::ThermostatMode,
        property: Cow::Borrowed(PROPERTY),
        name: Cow::Borrowed("Thermostat mode"),
        kind: CapabilityKind::EnumControl {
            kind: IoTEnumControlType::ThermostatMode,
            valid_values: MODES.iter().map(|m| m.1.to_owned()).collect(),
        },
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::ThermostatMode)?;
    if cmd[1] != REPORT {
        return Ok(Vec::new());
    }
    need(cmd, 3, CcId::ThermostatMode)?;
    let mode = cmd[2] & 0x1F;
    Ok(MODES
        .iter()
        .find(|m| m.0 == mode)
        .map(|m| Decoded::Reading {
            def: def(),
            value: Value::String(m.1.to_owned()),
        })
        .into_iter()
        .collect())
}

fn set(property: &str, value: &Value, _: u8) -> Result<Vec<u8>, CcError> {
    let err = |reason| CcError::CannotSet {
        property: property.to_owned(),
        reason,
    };
    let Value::String(name) = value else {
        return Err(err("not a mode name"));
    };
    let m = MODES
        .iter()
        .find(|m| m.1 == name)
        .ok_or_else(|| err("unknown mode"))?;
    Ok(vec![0x40, SET, m.0])
}

/// THERMOSTAT_MODE_REPORT (simulator side).
pub fn report(mode: u8) -> Vec<u8> {
    vec![0x40, REPORT, mode & 0x1F]
}
