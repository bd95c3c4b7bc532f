//! Wake Up CC (0x84, SDS13781 "Wake Up Command Class", v1-3): sleeping nodes announce
//! that they are awake with a Wake Up Notification; the controller then sends what it
//! queued and ends with Wake Up No More Information.

use super::{CcError, CcId, CcSpec, Decoded, NodeFact, need, no_follow_up, no_get, read_only};

/// WAKE_UP_INTERVAL_SET.
pub const INTERVAL_SET: u8 = 0x04;
/// WAKE_UP_INTERVAL_GET.
pub const INTERVAL_GET: u8 = 0x05;
/// WAKE_UP_INTERVAL_REPORT.
pub const INTERVAL_REPORT: u8 = 0x06;
/// WAKE_UP_NOTIFICATION.
pub const NOTIFICATION: u8 = 0x07;
/// WAKE_UP_NO_MORE_INFORMATION.
pub const NO_MORE_INFORMATION: u8 = 0x08;

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::WakeUp,
    name: "Wake Up",
    controls: super::none_controls,
    interview: |_| vec![vec![0x84, INTERVAL_GET]],
    follow_up: no_follow_up,
    decode,
    set: read_only,
    get: no_get,
};

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::WakeUp)?;
    match cmd[1] {
        NOTIFICATION => Ok(vec![Decoded::Fact(NodeFact::WakeUpNotification)]),
        INTERVAL_REPORT => {
            need(cmd, 6, CcId::WakeUp)?;
            Ok(vec![Decoded::Fact(NodeFact::WakeUpInterval {
                seconds: u32::from_be_bytes([0, cmd[2], cmd[3], cmd[4]]),
                target: cmd[5],
            })])
        }
        _ => Ok(Vec::new()),
    }
}

/// WAKE_UP_INTERVAL_SET: wake every `seconds` (24 bits) and notify `target`.
pub fn interval_set(seconds: u32, target: u8) -> Vec<u8> {
    let b = seconds.min(0x00FF_FFFF).to_be_bytes();
    vec![0x84, INTERVAL_SET, b[1], b[2], b[3], target]
}

/// WAKE_UP_INTERVAL_REPORT (simulator side).
pub fn interval_report(seconds: u32, target: u8) -> Vec<u8> {
    let b = seconds.min(0x00FF_FFFF).to_be_bytes();
    vec![0x84, INTERVAL_REPORT, b[1], b[2], b[3], target]
}

/// WAKE_UP_NOTIFICATION (simulator side).
pub fn notification() -> Vec<u8> {
    vec![0x84, NOTIFICATION]
}

/// WAKE_UP_NO_MORE_INFORMATION.
pub fn no_more_information() -> Vec<u8> {
    vec![0x84, NO_MORE_INFORMATION]
}
