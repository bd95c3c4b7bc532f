//! Association CC (0x85, SDS13781 "Association Command Class", v1-3): the interview puts
//! the controller into group 1 (the Z-Wave Plus "Lifeline") so reports reach the hub.

use super::{CcError, CcId, CcSpec, Decoded, NodeFact, need, no_follow_up, no_get, read_only};

/// ASSOCIATION_SET.
pub const SET: u8 = 0x01;
/// ASSOCIATION_GET.
pub const GET: u8 = 0x02;
/// ASSOCIATION_REPORT.
pub const REPORT: u8 = 0x03;
/// ASSOCIATION_REMOVE.
pub const REMOVE: u8 = 0x04;
/// ASSOCIATION_GROUPINGS_GET.
pub const GROUPINGS_GET: u8 = 0x05;
/// ASSOCIATION_GROUPINGS_REPORT.
pub const GROUPINGS_REPORT: u8 = 0x06;
/// The Lifeline group.
pub const LIFELINE: u8 = 1;

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::Association,
    name: "Association",
    controls: super::none_controls,
    interview: |_| vec![vec![0x85, GET, LIFELINE]],
    follow_up: no_follow_up,
    decode,
    set: read_only,
    get: no_get,
};

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::Association)?;
    match cmd[1] {
        REPORT => {
            need(cmd, 5, CcId::Association)?;
            Ok(vec![Decoded::Fact(NodeFact::Association {
                group: cmd[2],
                nodes: cmd[5..]
                    .iter()
                    .copied()
                    .take_while(|n| *n != 0x00)
                    .collect(),
            })])
        }
        GROUPINGS_REPORT => {
            need(cmd, 3, CcId::Association)?;
            Ok(vec![Decoded::Fact(NodeFact::AssociationGroups(cmd[2]))])
        }
        _ => Ok(Vec::new()),
    }
}

/// ASSOCIATION_SET: add `node` to `group`.
pub fn set(group: u8, node: u8) -> Vec<u8> {
    vec![0x85, SET, group, node]
}

/// ASSOCIATION_REPORT (simulator side).
pub fn report(group: u8, max: u8, nodes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x85, REPORT, group, max, 0x00];
    out.extend_from_slice(nodes);
    out
}
