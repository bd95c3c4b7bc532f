//! Version CC (0x86, SDS13781 "Version Command Class", v1-3): the firmware version and the
//! version of each supported CC (which decides the frames the interview uses).

use super::{CcError, CcId, CcSpec, Decoded, NodeFact, need, no_follow_up, no_get, read_only};

/// VERSION_GET.
pub const GET: u8 = 0x11;
/// VERSION_REPORT.
pub const REPORT: u8 = 0x12;
/// VERSION_COMMAND_CLASS_GET.
pub const CC_GET: u8 = 0x13;
/// VERSION_COMMAND_CLASS_REPORT.
pub const CC_REPORT: u8 = 0x14;

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::Version,
    name: "Version",
    controls: super::none_controls,
    interview: |_| vec![vec![0x86, GET]],
    follow_up: no_follow_up,
    decode,
    set: read_only,
    get: no_get,
};

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::Version)?;
    match cmd[1] {
        REPORT => {
            need(cmd, 7, CcId::Version)?;
            Ok(vec![Decoded::Fact(NodeFact::Firmware {
                version: format!("{}.{}", cmd[5], cmd[6]),
            })])
        }
        CC_REPORT => {
            need(cmd, 4, CcId::Version)?;
            Ok(vec![Decoded::Fact(NodeFact::CcVersion {
                cc: CcId::from(cmd[2]),
                version: cmd[3],
            })])
        }
        _ => Ok(Vec::new()),
    }
}

/// VERSION_COMMAND_CLASS_GET for `cc`.
pub fn cc_get(cc: CcId) -> Vec<u8> {
    vec![0x86, CC_GET, cc.into()]
}

/// VERSION_REPORT v1 (simulator side).
pub fn report(protocol: (u8, u8), firmware: (u8, u8)) -> Vec<u8> {
    vec![
        0x86, REPORT, 0x03, protocol.0, protocol.1, firmware.0, firmware.1,
    ]
}

/// VERSION_COMMAND_CLASS_REPORT (simulator side).
pub fn cc_report(cc: u8, version: u8) -> Vec<u8> {
    vec![0x86, CC_REPORT, cc, version]
}
