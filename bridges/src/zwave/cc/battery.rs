//! Battery CC (0x80, SDS13781 "Battery Command Class", v1): a LevelSensor of Type
//! `Battery` in `%`; the "low battery" value 0xFF reads as 0 %.

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, need, no_follow_up, read_only};
use crate::api::{CapabilityKind, Decimal, IoTLevelType, IoTUnitType, Value};

/// BATTERY_GET.
pub const GET: u8 = 0x02;
/// BATTERY_REPORT.
pub const REPORT: u8 = 0x03;
/// Capability property.
pub const PROPERTY: &str = "battery";
/// `LowLevelThreshold` proposed for batteries, in %.
pub const LOW_LEVEL: i64 = 10;

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::Battery,
    name: "Battery",
    controls: |_| vec![def()],
    interview: |_| vec![vec![0x80, GET]],
    follow_up: no_follow_up,
    decode,
    set: read_only,
    get: |_, _| Some(vec![0x80, GET]),
};

fn def() -> CapDef {
    CapDef {
        cc: CcId::Battery,
        property: Cow::Borrowed(PROPERTY),
        name: Cow::Borrowed("Battery"),
        kind: CapabilityKind::LevelSensor {
            kind: IoTLevelType::Battery,
            unit: IoTUnitType::Percent,
            low_level_threshold: Some(Decimal::from_int(LOW_LEVEL)),
            high_level_threshold: None,
        },
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::Battery)?;
    if cmd[1] != REPORT {
        return Ok(Vec::new());
    }
    need(cmd, 3, CcId::Battery)?;
    let level = match cmd[2] {
        0xFF => 0,
        l @ 0..=100 => l,
        _ => {
            return Err(CcError::Invalid {
                cc: CcId::Battery,
                reason: "battery level above 100",
            });
        }
    };
    Ok(vec![Decoded::Reading {
        def: def(),
        value: Value::Decimal(Decimal::from_int(i64::from(level))),
    }])
}

/// BATTERY_REPORT (simulator side).
pub fn report(level: u8) -> Vec<u8> {
    vec![0x80, REPORT, level]
}
