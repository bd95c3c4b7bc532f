//! Door Lock CC (0x62, SDS13781 "Door Lock Command Class", v1-4): the bolt as a
//! BinaryControl of Type `Locked` and, where the device reports it, the door as a
//! BinarySensor `DoorOpen`. Most locks accept this CC only inside S0/S2 security, which this
//! bridge does not implement yet (see docs/DEVICES.md).
//!
//! Operation Report: `[0x62, 0x03, mode, handle modes, door condition, timeout min, s]`;
//! mode 0xFF = secured, 0x00-0x21 = some form of unsecured; door condition bit 0: 0 = open.

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, need, no_follow_up};
use crate::api::{BinaryControlType, BinarySensorType, CapabilityKind, Value};

/// DOOR_LOCK_OPERATION_SET.
pub const SET: u8 = 0x01;
/// DOOR_LOCK_OPERATION_GET.
pub const GET: u8 = 0x02;
/// DOOR_LOCK_OPERATION_REPORT.
pub const REPORT: u8 = 0x03;
/// Mode: secured.
pub const SECURED: u8 = 0xFF;
/// Mode: unsecured.
pub const UNSECURED: u8 = 0x00;

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::DoorLock,
    name: "Door Lock",
    controls: |_| vec![locked()],
    interview: |_| vec![vec![0x62, GET]],
    follow_up: no_follow_up,
    decode,
    set,
    get: |_, _| Some(vec![0x62, GET]),
};

fn locked() -> CapDef {
    CapDef {
        cc: CcId::DoorLock,
        property: Cow::Borrowed("locked"),
        name: Cow::Borrowed("Lock"),
        kind: CapabilityKind::BinaryControl {
            kind: BinaryControlType::Locked,
        },
    }
}

fn door() -> CapDef {
    CapDef {
        cc: CcId::DoorLock,
        property: Cow::Borrowed("door"),
        name: Cow::Borrowed("Door"),
        kind: CapabilityKind::BinarySensor {
            kind: BinarySensorType::DoorOpen,
        },
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::DoorLock)?;
    if cmd[1] != REPORT {
        return Ok(Vec::new());
    }
    need(cmd, 3, CcId::DoorLock)?;
    let mut out = Vec::new();
    match cmd[2] {
        SECURED => out.push(Decoded::Reading {
            def: locked(),
            value: Value::Bool(true),
        }),
        0x00..=0x21 => out.push(Decoded::Reading {
            def: locked(),
            value: Value::Bool(false),
        }),
        other => tracing::info!(mode = other, "zwave: door lock mode unknown"),
    }
    if let Some(cond) = cmd.get(4) {
        out.push(Decoded::Reading {
            def: door(),
            value: Value::Bool(cond & 0x01 == 0),
        });
    }
    Ok(out)
}

fn set(property: &str, value: &Value, _: u8) -> Result<Vec<u8>, CcError> {
    let lock = value
        .as_bool()
        .filter(|_| property == "locked")
        .ok_or_else(|| CcError::CannotSet {
            property: property.to_owned(),
            reason: "not a boolean lock state",
        })?;
    Ok(vec![0x62, SET, if lock { SECURED } else { UNSECURED }])
}

/// DOOR_LOCK_OPERATION_REPORT (simulator side).
pub fn report(locked: bool, door_open: bool) -> Vec<u8> {
    let mode = if locked { SECURED } else { UNSECURED };
    vec![0x62, REPORT, mode, 0x00, u8::from(!door_open), 0xFE, 0xFE]
}
