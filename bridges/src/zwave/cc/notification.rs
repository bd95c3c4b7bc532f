//! Notification CC (0x71, SDS13781 "Notification Command Class", v3-8; formerly Alarm):
//! the notification types with a TR-181 BinarySensor Type become BinarySensors via
//! [`STATES`]; every other event (tamper, lock operations, ...) becomes a `Notification`
//! event with its type and event numbers.
//!
//! Report: `[0x71, 0x05, v1 alarm type, v1 alarm level, reserved, status, type, event,
//! params length(5 bits), params...]`. Event 0x00 ("idle") with one parameter clears the
//! state named by that parameter.

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, NodeFact, need, read_only};
use crate::api::{BinarySensorType, CapabilityKind, EventArgs, Value};
use crate::zwave::serial::functions::bitmask_values;

/// NOTIFICATION_GET.
pub const GET: u8 = 0x04;
/// NOTIFICATION_REPORT.
pub const REPORT: u8 = 0x05;
/// NOTIFICATION_SUPPORTED_GET.
pub const SUPPORTED_GET: u8 = 0x07;
/// NOTIFICATION_SUPPORTED_REPORT.
pub const SUPPORTED_REPORT: u8 = 0x08;

/// One notification state: (type, events that set it, events that clear it, property,
/// TR-181 Type).
pub type State = (
    u8,
    &'static [u8],
    &'static [u8],
    &'static str,
    BinarySensorType,
);

/// The notification states mapped to BinarySensors.
pub const STATES: &[State] = &[
    (
        0x01,
        &[0x01, 0x02],
        &[],
        "smoke",
        BinarySensorType::SmokeDetected,
    ),
    (
        0x02,
        &[0x01, 0x02],
        &[],
        "co",
        BinarySensorType::CarbonMonoxideDetected,
    ),
    (
        0x03,
        &[0x01, 0x02],
        &[],
        "co2",
        BinarySensorType::CarbonDioxideDetected,
    ),
    (
        0x05,
        &[0x01, 0x02],
        &[],
        "water",
        BinarySensorType::WaterDetected,
    ),
    (0x06, &[0x16], &[0x17], "door", BinarySensorType::DoorOpen),
    (
        0x07,
        &[0x07, 0x08],
        &[],
        "motion",
        BinarySensorType::MotionDetected,
    ),
];

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::Notification,
    name: "Notification",
    controls: super::none_controls,
    interview: |v| {
        if v >= 3 {
            vec![vec![0x71, SUPPORTED_GET]]
        } else {
            Vec::new()
        }
    },
    follow_up: |fact, _| match fact {
        // v3+ Get: v1 alarm type 0, notification type, event 0x00 (first pending).
        NodeFact::Supported { ids, .. } => ids
            .iter()
            .filter(|t| STATES.iter().any(|s| s.0 == **t))
            .map(|t| vec![0x71, GET, 0x00, *t, 0x00])
            .collect(),
        _ => Vec::new(),
    },
    decode,
    set: read_only,
    get: |property, _| {
        let s = STATES.iter().find(|s| s.3 == property)?;
        Some(vec![0x71, GET, 0x00, s.0, 0x00])
    },
};

fn def(s: &State) -> CapDef {
    CapDef {
        cc: CcId::Notification,
        property: Cow::Borrowed(s.3),
        name: Cow::Borrowed(s.4.as_str()),
        kind: CapabilityKind::BinarySensor { kind: s.4 },
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::Notification)?;
    match cmd[1] {
        REPORT => decode_report(cmd),
        SUPPORTED_REPORT => {
            need(cmd, 3, CcId::Notification)?;
            let len = usize::from(cmd[2] & 0x1F);
            need(cmd, 3 + len, CcId::Notification)?;
            // Bit 0 is reserved: type n is bit n.
            let ids = bitmask_values(&cmd[3..3 + len])
                .into_iter()
                .map(|v| v - 1)
                .filter(|t| *t > 0)
                .collect();
            Ok(vec![Decoded::Fact(NodeFact::Supported {
                cc: CcId::Notification,
                ids,
            })])
        }
        _ => Ok(Vec::new()),
    }
}

fn decode_report(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    if cmd.len() < 8 {
        // v1 Alarm Report: type and level only; surfaced as an event.
        need(cmd, 4, CcId::Notification)?;
        let mut args = EventArgs::new();
        args.insert("AlarmType".into(), cmd[2].to_string());
        args.insert("AlarmLevel".into(), cmd[3].to_string());
        return Ok(vec![Decoded::Event {
            name: "Alarm",
            args,
        }]);
    }
    let (ntype, event) = (cmd[6], cmd[7]);
    let params_len = cmd.get(8).map_or(0, |b| usize::from(b & 0x1F));
    let params = cmd.get(9..(9 + params_len).min(cmd.len())).unwrap_or(&[]);
    if let Some(s) = STATES.iter().find(|s| s.0 == ntype) {
        let value = if s.1.contains(&event) {
            Some(true)
        } else if s.2.contains(&event)
            || (event == 0x00 && params.first().is_none_or(|p| s.1.contains(p)))
        {
            Some(false)
        } else {
            None
        };
        if let Some(v) = value {
            return Ok(vec![Decoded::Reading {
                def: def(s),
                value: Value::Bool(v),
            }]);
        }
    }
    if event == 0x00 {
        return Ok(Vec::new());
    }
    let mut args = EventArgs::new();
    args.insert("Type".into(), ntype.to_string());
    args.insert("Event".into(), event.to_string());
    Ok(vec![Decoded::Event {
        name: "Notification",
        args,
    }])
}

/// NOTIFICATION_REPORT v8 (simulator side); `idle_of` adds the "idle" parameter.
pub fn report(ntype: u8, event: u8, idle_of: Option<u8>) -> Vec<u8> {
    let mut out = vec![0x71, REPORT, 0x00, 0x00, 0x00, 0xFF, ntype, event];
    match idle_of {
        Some(p) => out.extend_from_slice(&[0x01, p]),
        None => out.push(0x00),
    }
    out
}
