//! Thermostat Setpoint CC (0x43, SDS13781 "Thermostat Setpoint Command Class", v1-3): each
//! setpoint type is a LevelControl of Type `Temperature` in `degC` (°F reports are
//! converted; Sets are sent in °C with one decimal).
//!
//! Report/Set: `[0x43, 0x03|0x01, type(4 bits), precision(3)|scale(2)|size(3), value]`.

use std::borrow::Cow;

use super::multilevel_sensor::{Convert, convert};
use super::{
    CapDef, CcError, CcId, CcSpec, Decoded, need, no_follow_up, read_scaled, write_scaled,
};
use crate::api::{CapabilityKind, Decimal, IoTLevelType, IoTUnitType, Value};

/// THERMOSTAT_SETPOINT_SET.
pub const SET: u8 = 0x01;
/// THERMOSTAT_SETPOINT_GET.
pub const GET: u8 = 0x02;
/// THERMOSTAT_SETPOINT_REPORT.
pub const REPORT: u8 = 0x03;

/// Setpoint type -> property, name.
pub const TYPES: &[(u8, &str, &str)] = &[
    (0x01, "heating", "Heating setpoint"),
    (0x02, "cooling", "Cooling setpoint"),
    (0x07, "furnace", "Furnace setpoint"),
    (0x0B, "energy_save_heating", "Energy save heating setpoint"),
    (0x0C, "energy_save_cooling", "Energy save cooling setpoint"),
    (0x0D, "away_heating", "Away heating setpoint"),
    (0x0E, "away_cooling", "Away cooling setpoint"),
];

/// Setpoint range offered to Controllers, °C.
pub const RANGE_C: (i64, i64) = (5, 35);

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::ThermostatSetpoint,
    name: "Thermostat Setpoint",
    controls: super::none_controls,
    interview: |_| vec![vec![0x43, GET, 0x01], vec![0x43, GET, 0x02]],
    follow_up: no_follow_up,
    decode,
    set,
    get: |property, _| {
        TYPES
            .iter()
            .find(|t| t.1 == property)
            .map(|t| vec![0x43, GET, t.0])
    },
};

fn def(t: &(u8, &'static str, &'static str)) -> CapDef {
    CapDef {
        cc: CcId::ThermostatSetpoint,
        property: Cow::Borrowed(t.1),
        name: Cow::Borrowed(t.2),
        kind: CapabilityKind::LevelControl {
            kind: IoTLevelType::Temperature,
            unit: IoTUnitType::DegC,
            min: Decimal::from_int(RANGE_C.0),
            max: Decimal::from_int(RANGE_C.1),
            step: Some(Decimal::new(5, 1)),
        },
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::ThermostatSetpoint)?;
    if cmd[1] != REPORT {
        return Ok(Vec::new());
    }
    need(cmd, 5, CcId::ThermostatSetpoint)?;
    let Some(t) = TYPES.iter().find(|t| t.0 == cmd[2] & 0x0F) else {
        // Type 0 is what a device reports for a type it does not support.
        return Ok(Vec::new());
    };
    let (raw, scale) = read_scaled(cmd[3], &cmd[4..]).ok_or(CcError::Invalid {
        cc: CcId::ThermostatSetpoint,
        reason: "bad value size",
    })?;
    let how = if scale == 1 {
        Convert::FahrenheitToCelsius
    } else {
        Convert::Same
    };
    Ok(convert(raw, how)
        .map(|v| Decoded::Reading {
            def: def(t),
            value: Value::Decimal(v),
        })
        .into_iter()
        .collect())
}

fn set(property: &str, value: &Value, _: u8) -> Result<Vec<u8>, CcError> {
    let err = |reason| CcError::CannotSet {
        property: property.to_owned(),
        reason,
    };
    let t = TYPES
        .iter()
        .find(|t| t.1 == property)
        .ok_or_else(|| err("unknown setpoint"))?;
    let d = value.as_decimal().ok_or_else(|| err("not a number"))?;
    let tenths = (d.to_f64() * 10.0).round();
    if !(-32768.0..=32767.0).contains(&tenths) {
        return Err(err("out of range"));
    }
    let mut out = vec![0x43, SET, t.0];
    out.extend(write_scaled(tenths as i32, 1, 0));
    Ok(out)
}

/// THERMOSTAT_SETPOINT_REPORT in °C with one decimal (simulator side).
pub fn report(setpoint_type: u8, tenths_c: i32) -> Vec<u8> {
    let mut out = vec![0x43, REPORT, setpoint_type & 0x0F];
    out.extend(write_scaled(tenths_c, 1, 0));
    out
}

/// Decodes a Set into (type, value in tenths of the scale) (simulator side).
pub fn parse_set(cmd: &[u8]) -> Option<(u8, i32)> {
    if cmd.len() < 5 || cmd[1] != SET {
        return None;
    }
    let (raw, _) = read_scaled(cmd[3], &cmd[4..])?;
    let tenths = raw.to_f64() * 10.0;
    Some((cmd[2] & 0x0F, tenths.round() as i32))
}
