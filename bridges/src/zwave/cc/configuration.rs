//! Configuration CC (0x70, SDS13781 "Configuration Command Class", v1-4): device
//! parameters by number, read and written through vendor commands (`ConfigGet`,
//! `ConfigSet`), not as capabilities.

use super::{
    CcError, CcId, CcSpec, Decoded, NodeFact, need, no_follow_up, no_get, read_int, read_only,
    write_int,
};

/// CONFIGURATION_SET.
pub const SET: u8 = 0x04;
/// CONFIGURATION_GET.
pub const GET: u8 = 0x05;
/// CONFIGURATION_REPORT.
pub const REPORT: u8 = 0x06;

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::Configuration,
    name: "Configuration",
    controls: super::none_controls,
    interview: super::no_frames,
    follow_up: no_follow_up,
    decode,
    set: read_only,
    get: no_get,
};

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::Configuration)?;
    if cmd[1] != REPORT {
        return Ok(Vec::new());
    }
    need(cmd, 4, CcId::Configuration)?;
    let size = usize::from(cmd[3] & 0x07);
    let value = read_int(&cmd[4..], size).ok_or(CcError::Invalid {
        cc: CcId::Configuration,
        reason: "bad parameter size",
    })?;
    Ok(vec![Decoded::Fact(NodeFact::Configuration {
        param: cmd[2],
        value,
    })])
}

/// CONFIGURATION_GET for `param`.
pub fn get(param: u8) -> Vec<u8> {
    vec![0x70, GET, param]
}

/// CONFIGURATION_SET of `param` to `value` (smallest size that holds it).
pub fn set(param: u8, value: i32) -> Vec<u8> {
    let v = write_int(value);
    let mut out = vec![0x70, SET, param, v.len() as u8];
    out.extend(v);
    out
}

/// CONFIGURATION_REPORT (simulator side).
pub fn report(param: u8, value: i32) -> Vec<u8> {
    let v = write_int(value);
    let mut out = vec![0x70, REPORT, param, v.len() as u8];
    out.extend(v);
    out
}

/// Decodes a CONFIGURATION_SET (simulator side): parameter and value.
pub fn parse_set(cmd: &[u8]) -> Option<(u8, i32)> {
    if cmd.len() < 4 || cmd[1] != SET {
        return None;
    }
    Some((cmd[2], read_int(&cmd[4..], usize::from(cmd[3] & 0x07))?))
}
