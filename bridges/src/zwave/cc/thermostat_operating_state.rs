//! Thermostat Operating State CC (0x42, SDS13781, v1-2): an EnumSensor of Type
//! `OperatingState` (what the HVAC is doing now).

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, need, no_follow_up, read_only};
use crate::api::{CapabilityKind, IoTEnumSensorType, Value};

/// THERMOSTAT_OPERATING_STATE_GET.
pub const GET: u8 = 0x02;
/// THERMOSTAT_OPERATING_STATE_REPORT.
pub const REPORT: u8 = 0x03;

/// State number -> name.
pub const STATES: &[(u8, &str)] = &[
    (0x00, "Idle"),
    (0x01, "Heating"),
    (0x02, "Cooling"),
    (0x03, "FanOnly"),
    (0x04, "PendingHeat"),
    (0x05, "PendingCool"),
    (0x06, "VentEconomizer"),
    (0x07, "AuxHeating"),
    (0x08, "SecondStageHeating"),
    (0x09, "SecondStageCooling"),
    (0x0A, "SecondStageAuxHeat"),
    (0x0B, "ThirdStageAuxHeat"),
];

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::ThermostatOperatingState,
    name: "Thermostat Operating State",
    controls: |_| vec![def()],
    interview: |_| vec![vec![0x42, GET]],
    follow_up: no_follow_up,
    decode,
    set: read_only,
    get: |_, _| Some(vec![0x42, GET]),
};

fn def() -> CapDef {
    CapDef {
        cc: CcId::ThermostatOperatingState,
        property: Cow::Borrowed("state"),
        name: Cow::Borrowed("Operating state"),
        kind: CapabilityKind::EnumSensor {
            kind: IoTEnumSensorType::OperatingState,
            valid_values: STATES.iter().map(|s| s.1.to_owned()).collect(),
        },
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::ThermostatOperatingState)?;
    if cmd[1] != REPORT {
        return Ok(Vec::new());
    }
    need(cmd, 3, CcId::ThermostatOperatingState)?;
    let state = cmd[2] & 0x0F;
    Ok(STATES
        .iter()
        .find(|s| s.0 == state)
        .map(|s| Decoded::Reading {
            def: def(),
            value: Value::String(s.1.to_owned()),
        })
        .into_iter()
        .collect())
}

/// THERMOSTAT_OPERATING_STATE_REPORT (simulator side).
pub fn report(state: u8) -> Vec<u8> {
    vec![0x42, REPORT, state & 0x0F]
}
