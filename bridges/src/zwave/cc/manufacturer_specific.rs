//! Manufacturer Specific CC (0x72, SDS13781 "Manufacturer Specific Command Class", v1-2):
//! manufacturer id, product type and product id, used as the device's identity.

use super::{CcError, CcId, CcSpec, Decoded, NodeFact, need, no_follow_up, no_get, read_only};

/// MANUFACTURER_SPECIFIC_GET.
pub const GET: u8 = 0x04;
/// MANUFACTURER_SPECIFIC_REPORT.
pub const REPORT: u8 = 0x05;

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::ManufacturerSpecific,
    name: "Manufacturer Specific",
    controls: super::none_controls,
    interview: |_| vec![vec![0x72, GET]],
    follow_up: no_follow_up,
    decode,
    set: read_only,
    get: no_get,
};

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::ManufacturerSpecific)?;
    if cmd[1] != REPORT {
        return Ok(Vec::new());
    }
    need(cmd, 8, CcId::ManufacturerSpecific)?;
    let u = |i: usize| u16::from_be_bytes([cmd[i], cmd[i + 1]]);
    Ok(vec![Decoded::Fact(NodeFact::Manufacturer {
        manufacturer_id: u(2),
        product_type: u(4),
        product_id: u(6),
    })])
}

/// MANUFACTURER_SPECIFIC_REPORT (simulator side).
pub fn report(manufacturer_id: u16, product_type: u16, product_id: u16) -> Vec<u8> {
    let mut out = vec![0x72, REPORT];
    for v in [manufacturer_id, product_type, product_id] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}
