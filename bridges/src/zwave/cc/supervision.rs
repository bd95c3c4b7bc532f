//! Supervision CC (0x6C, SDS13781 "Supervision Command Class", v1-2): a Set wrapped in a
//! Supervision Get is answered by a Supervision Report whose status says whether the device
//! applied it — the confirmation the bridge uses for writes to nodes that support it. A
//! device may also wrap its own reports; the controller answers those with Success.
//!
//! Get: `[0x6C, 0x01, status updates(1)|reserved(1)|session id(6), length, cmd...]`;
//! Report: `[0x6C, 0x02, more updates(1)|reserved(1)|session id(6), status, duration]`.

use super::{CcError, CcId, CcSpec, Decoded, need, no_follow_up, no_get, read_only};

/// SUPERVISION_GET.
pub const GET: u8 = 0x01;
/// SUPERVISION_REPORT.
pub const REPORT: u8 = 0x02;

enum_with_unknown! {
    /// Supervision status.
    pub enum Status {
        /// The command is not supported.
        NoSupport = 0x00,
        /// Being applied; a final report follows.
        Working = 0x01,
        /// Not applied.
        Fail = 0x02,
        /// Applied.
        Success = 0xFF,
    }
}

/// The table entry (unwrapping is done by the bridge, see [`unwrap_get`]).
pub const CC: CcSpec = CcSpec {
    id: CcId::Supervision,
    name: "Supervision",
    controls: super::none_controls,
    interview: super::no_frames,
    follow_up: no_follow_up,
    decode: |cmd| {
        need(cmd, 2, CcId::Supervision)?;
        Ok(Vec::<Decoded>::new())
    },
    set: read_only,
    get: no_get,
};

/// Wraps `cmd` in a Supervision Get with `session` (0-63).
pub fn wrap(session: u8, cmd: &[u8]) -> Vec<u8> {
    let len = cmd.len().min(usize::from(u8::MAX));
    let mut out = vec![0x6C, GET, session & 0x3F, len as u8];
    out.extend_from_slice(&cmd[..len]);
    out
}

/// Splits a Supervision Get into (session id, encapsulated command).
pub fn unwrap_get(cmd: &[u8]) -> Option<(u8, &[u8])> {
    if cmd.len() < 4 || cmd[0] != 0x6C || cmd[1] != GET {
        return None;
    }
    let len = usize::from(cmd[3]);
    Some((cmd[2] & 0x3F, cmd.get(4..4 + len)?))
}

/// Parses a Supervision Report into (session id, status).
pub fn parse_report(cmd: &[u8]) -> Result<(u8, Status), CcError> {
    need(cmd, 4, CcId::Supervision)?;
    if cmd[0] != 0x6C || cmd[1] != REPORT {
        return Err(CcError::Invalid {
            cc: CcId::Supervision,
            reason: "not a supervision report",
        });
    }
    Ok((cmd[2] & 0x3F, Status::from(cmd[3])))
}

/// A Supervision Report for `session`.
pub fn report(session: u8, status: Status) -> Vec<u8> {
    vec![0x6C, REPORT, session & 0x3F, status.into(), 0x00]
}
