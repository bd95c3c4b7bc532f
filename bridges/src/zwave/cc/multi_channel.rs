//! Multi Channel CC (0x60, SDS13781 "Multi Channel Command Class", v3-4): end points of
//! one node (a double switch has two), each with its own CCs, and the encapsulation that
//! addresses them. Each end point becomes a `Node.{i}.` of the proxied device.
//!
//! Encapsulation: `[0x60, 0x0D, source end point, destination end point, cmd...]`.

use super::{CcError, CcId, CcSpec, Decoded, NodeFact, need, no_follow_up, no_get, read_only};

/// MULTI_CHANNEL_END_POINT_GET.
pub const END_POINT_GET: u8 = 0x07;
/// MULTI_CHANNEL_END_POINT_REPORT.
pub const END_POINT_REPORT: u8 = 0x08;
/// MULTI_CHANNEL_CAPABILITY_GET.
pub const CAPABILITY_GET: u8 = 0x09;
/// MULTI_CHANNEL_CAPABILITY_REPORT.
pub const CAPABILITY_REPORT: u8 = 0x0A;
/// MULTI_CHANNEL_CMD_ENCAP.
pub const ENCAP: u8 = 0x0D;

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::MultiChannel,
    name: "Multi Channel",
    controls: super::none_controls,
    interview: |_| vec![vec![0x60, END_POINT_GET]],
    follow_up: no_follow_up,
    decode,
    set: read_only,
    get: no_get,
};

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::MultiChannel)?;
    match cmd[1] {
        END_POINT_REPORT => {
            need(cmd, 4, CcId::MultiChannel)?;
            Ok(vec![Decoded::Fact(NodeFact::EndPoints {
                count: cmd[3] & 0x7F,
            })])
        }
        CAPABILITY_REPORT => {
            need(cmd, 5, CcId::MultiChannel)?;
            Ok(vec![Decoded::Fact(NodeFact::EndPointCapability {
                ep: cmd[2] & 0x7F,
                classes: (cmd[3], cmd[4]),
                command_classes: cmd[5..]
                    .iter()
                    .copied()
                    .take_while(|c| *c != 0xEF)
                    .map(CcId::from)
                    .collect(),
            })])
        }
        _ => Ok(Vec::new()),
    }
}

/// Splits an encapsulated frame into (source end point, inner frame).
pub fn unwrap(cmd: &[u8]) -> Option<(u8, &[u8])> {
    if cmd.len() >= 5 && cmd[0] == 0x60 && cmd[1] == ENCAP {
        Some((cmd[2] & 0x7F, &cmd[4..]))
    } else {
        None
    }
}

/// Splits an encapsulated frame as the device sees it: (destination end point, inner).
pub fn unwrap_to(cmd: &[u8]) -> Option<(u8, &[u8])> {
    if cmd.len() >= 5 && cmd[0] == 0x60 && cmd[1] == ENCAP {
        Some((cmd[3] & 0x7F, &cmd[4..]))
    } else {
        None
    }
}

/// Encapsulates `inner` from end point `from` to end point `to`.
pub fn wrap(from: u8, to: u8, inner: &[u8]) -> Vec<u8> {
    let mut out = vec![0x60, ENCAP, from & 0x7F, to & 0x7F];
    out.extend_from_slice(inner);
    out
}

/// MULTI_CHANNEL_CAPABILITY_GET for `ep`.
pub fn capability_get(ep: u8) -> Vec<u8> {
    vec![0x60, CAPABILITY_GET, ep & 0x7F]
}

/// MULTI_CHANNEL_END_POINT_REPORT (simulator side).
pub fn end_point_report(count: u8) -> Vec<u8> {
    vec![0x60, END_POINT_REPORT, 0x00, count & 0x7F]
}

/// MULTI_CHANNEL_CAPABILITY_REPORT (simulator side).
pub fn capability_report(ep: u8, generic: u8, specific: u8, ccs: &[u8]) -> Vec<u8> {
    let mut out = vec![0x60, CAPABILITY_REPORT, ep & 0x7F, generic, specific];
    out.extend_from_slice(ccs);
    out
}
