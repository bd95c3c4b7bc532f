//! Central Scene CC (0x5B, SDS13781 "Central Scene Command Class", v1-3): button presses
//! become `CentralScene` events with the scene number and the key attribute.

use super::{CcError, CcId, CcSpec, Decoded, NodeFact, need, no_follow_up, no_get, read_only};
use crate::api::EventArgs;

/// CENTRAL_SCENE_SUPPORTED_GET.
pub const SUPPORTED_GET: u8 = 0x01;
/// CENTRAL_SCENE_SUPPORTED_REPORT.
pub const SUPPORTED_REPORT: u8 = 0x02;
/// CENTRAL_SCENE_NOTIFICATION.
pub const NOTIFICATION: u8 = 0x03;

/// Key attributes 0-6 by name.
pub const KEY_ATTRIBUTES: [&str; 7] = [
    "KeyPressed",
    "KeyReleased",
    "KeyHeldDown",
    "KeyPressed2x",
    "KeyPressed3x",
    "KeyPressed4x",
    "KeyPressed5x",
];

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::CentralScene,
    name: "Central Scene",
    controls: super::none_controls,
    interview: |_| vec![vec![0x5B, SUPPORTED_GET]],
    follow_up: no_follow_up,
    decode,
    set: read_only,
    get: no_get,
};

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::CentralScene)?;
    match cmd[1] {
        NOTIFICATION => {
            need(cmd, 5, CcId::CentralScene)?;
            let attr = usize::from(cmd[3] & 0x07);
            let mut args = EventArgs::new();
            args.insert("Scene".into(), cmd[4].to_string());
            args.insert(
                "Action".into(),
                KEY_ATTRIBUTES
                    .get(attr)
                    .map_or_else(|| attr.to_string(), |s| (*s).to_owned()),
            );
            Ok(vec![Decoded::Event {
                name: "CentralScene",
                args,
            }])
        }
        SUPPORTED_REPORT => {
            need(cmd, 3, CcId::CentralScene)?;
            Ok(vec![Decoded::Fact(NodeFact::Supported {
                cc: CcId::CentralScene,
                ids: (1..=cmd[2]).collect(),
            })])
        }
        _ => Ok(Vec::new()),
    }
}

/// CENTRAL_SCENE_NOTIFICATION (simulator side).
pub fn notification(sequence: u8, key_attribute: u8, scene: u8) -> Vec<u8> {
    vec![0x5B, NOTIFICATION, sequence, key_attribute & 0x07, scene]
}

/// CENTRAL_SCENE_SUPPORTED_REPORT v1 (simulator side).
pub fn supported_report(scenes: u8) -> Vec<u8> {
    vec![0x5B, SUPPORTED_REPORT, scenes]
}
