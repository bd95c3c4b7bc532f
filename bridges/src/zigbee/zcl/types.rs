//! ZCL attribute data types (ZCL r8 §2.6.2, Table 2-11): ids, sizes, and a typed value codec.
//!
//! Unknown type ids and truncated values are explicit errors, never panics; string lengths
//! are bounded by the frame they arrive in.

use crate::zigbee::znp::commands::Reader;

/// Errors decoding ZCL data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZclDecodeError {
    /// The frame ended inside a field.
    #[error("ZCL frame truncated")]
    Truncated,
    /// A data type id this codec does not know (its size is unknown, so the rest is lost).
    #[error("unknown ZCL data type {0:#04x}")]
    UnknownType(u8),
    /// A frame control value this codec does not accept.
    #[error("invalid ZCL frame: {0}")]
    Invalid(&'static str),
}

impl From<crate::zigbee::znp::commands::DecodeError> for ZclDecodeError {
    fn from(_: crate::zigbee::znp::commands::DecodeError) -> Self {
        ZclDecodeError::Truncated
    }
}

/// ZCL data type ids used here.
pub mod ty {
    /// No data.
    pub const NO_DATA: u8 = 0x00;
    /// 8-bit data.
    pub const DATA8: u8 = 0x08;
    /// Boolean.
    pub const BOOL: u8 = 0x10;
    /// 8-bit bitmap.
    pub const BITMAP8: u8 = 0x18;
    /// 16-bit bitmap.
    pub const BITMAP16: u8 = 0x19;
    /// 32-bit bitmap.
    pub const BITMAP32: u8 = 0x1B;
    /// Unsigned 8-bit integer.
    pub const UINT8: u8 = 0x20;
    /// Unsigned 16-bit integer.
    pub const UINT16: u8 = 0x21;
    /// Unsigned 24-bit integer.
    pub const UINT24: u8 = 0x22;
    /// Unsigned 32-bit integer.
    pub const UINT32: u8 = 0x23;
    /// Unsigned 48-bit integer.
    pub const UINT48: u8 = 0x25;
    /// Unsigned 64-bit integer.
    pub const UINT64: u8 = 0x27;
    /// Signed 8-bit integer.
    pub const INT8: u8 = 0x28;
    /// Signed 16-bit integer.
    pub const INT16: u8 = 0x29;
    /// Signed 24-bit integer.
    pub const INT24: u8 = 0x2A;
    /// Signed 32-bit integer.
    pub const INT32: u8 = 0x2B;
    /// 8-bit enumeration.
    pub const ENUM8: u8 = 0x30;
    /// 16-bit enumeration.
    pub const ENUM16: u8 = 0x31;
    /// IEEE 754 single precision.
    pub const SINGLE: u8 = 0x39;
    /// IEEE 754 double precision.
    pub const DOUBLE: u8 = 0x3A;
    /// Octet string (one-byte length).
    pub const OCTET_STRING: u8 = 0x41;
    /// Character string (one-byte length).
    pub const CHAR_STRING: u8 = 0x42;
    /// UTC time (seconds since 2000-01-01).
    pub const UTC_TIME: u8 = 0xE2;
    /// IEEE address.
    pub const IEEE: u8 = 0xF0;
}

/// The shape of a data type's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    None,
    Bool,
    Unsigned(usize),
    Signed(usize),
    Single,
    Double,
    String8,
    String16,
}

fn shape(t: u8) -> Option<Shape> {
    Some(match t {
        0x00 => Shape::None,
        0x10 => Shape::Bool,
        // data8..data64, bitmap8..bitmap64, uint8..uint64, enum8/16, UTC/date/time, ids.
        0x08..=0x0F => Shape::Unsigned(usize::from(t - 0x07)),
        0x18..=0x1F => Shape::Unsigned(usize::from(t - 0x17)),
        0x20..=0x27 => Shape::Unsigned(usize::from(t - 0x1F)),
        0x28..=0x2F => Shape::Signed(usize::from(t - 0x27)),
        0x30 => Shape::Unsigned(1),
        0x31 => Shape::Unsigned(2),
        0x39 => Shape::Single,
        0x3A => Shape::Double,
        0x41 | 0x42 => Shape::String8,
        0x43 | 0x44 => Shape::String16,
        0xE0..=0xE2 => Shape::Unsigned(4),
        0xE8 | 0xE9 => Shape::Unsigned(2),
        0xEA => Shape::Unsigned(4),
        0xF0 => Shape::Unsigned(8),
        _ => return None,
    })
}

/// Whether reports of this type carry a "reportable change" in Configure Reporting
/// (analog types: integers, floats, times — ZCL §2.5.7.1.7).
pub fn is_analog(t: u8) -> bool {
    matches!(t, 0x20..=0x2F | 0x38..=0x3A | 0xE0..=0xE2)
}

/// A decoded attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum ZclValue {
    /// No data.
    None,
    /// Boolean (0xFF "invalid" decodes as `None` upstream of here is not attempted).
    Bool(bool),
    /// Unsigned integers, bitmaps, enums, times and addresses.
    Unsigned(u64),
    /// Signed integers.
    Signed(i64),
    /// Floats.
    Float(f64),
    /// Octet strings.
    Bytes(Vec<u8>),
    /// Character strings (invalid UTF-8 replaced).
    String(String),
}

impl ZclValue {
    /// The value as a signed number, for integer and float types.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ZclValue::Unsigned(u) => i64::try_from(*u).ok(),
            ZclValue::Signed(i) => Some(*i),
            ZclValue::Bool(b) => Some(i64::from(*b)),
            ZclValue::Float(f) if f.is_finite() => Some(*f as i64),
            _ => None,
        }
    }
}

/// An attribute value with its data type id.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedValue {
    /// Data type id.
    pub ty: u8,
    /// Value.
    pub value: ZclValue,
}

impl TypedValue {
    /// A value of type `ty`.
    pub fn new(ty: u8, value: ZclValue) -> Self {
        TypedValue { ty, value }
    }

    /// Reads a value of type `ty`.
    pub fn decode(ty: u8, r: &mut Reader<'_>) -> Result<Self, ZclDecodeError> {
        let value = match shape(ty).ok_or(ZclDecodeError::UnknownType(ty))? {
            Shape::None => ZclValue::None,
            Shape::Bool => ZclValue::Bool(r.take(1)?[0] == 1),
            Shape::Unsigned(n) => ZclValue::Unsigned(le_uint(r.take(n)?)),
            Shape::Signed(n) => {
                let raw = le_uint(r.take(n)?);
                let shift = 64 - 8 * n as u32;
                ZclValue::Signed(((raw << shift) as i64) >> shift)
            }
            Shape::Single => {
                let b = r.take(4)?;
                ZclValue::Float(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            Shape::Double => {
                let mut a = [0u8; 8];
                a.copy_from_slice(r.take(8)?);
                ZclValue::Float(f64::from_le_bytes(a))
            }
            Shape::String8 | Shape::String16 => {
                let long = matches!(shape(ty), Some(Shape::String16));
                let n = if long {
                    le_uint(r.take(2)?) as usize
                } else {
                    usize::from(r.take(1)?[0])
                };
                // 0xFF / 0xFFFF: invalid (absent) string.
                let n = if (!long && n == 0xFF) || (long && n == 0xFFFF) {
                    0
                } else {
                    n
                };
                let b = r.take(n)?;
                if ty == ty::OCTET_STRING || ty == 0x43 {
                    ZclValue::Bytes(b.to_vec())
                } else {
                    ZclValue::String(String::from_utf8_lossy(b).trim_end_matches('\0').to_owned())
                }
            }
        };
        Ok(TypedValue { ty, value })
    }

    /// Appends the value (without its type id).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let Some(s) = shape(self.ty) else { return };
        match (s, &self.value) {
            (Shape::None, _) => {}
            (Shape::Bool, v) => out.push(u8::from(v.as_i64().unwrap_or(0) != 0)),
            (Shape::Unsigned(n) | Shape::Signed(n), v) => {
                let raw = v.as_i64().unwrap_or(0) as u64;
                out.extend_from_slice(&raw.to_le_bytes()[..n]);
            }
            (Shape::Single, v) => out.extend_from_slice(&(float(v) as f32).to_le_bytes()),
            (Shape::Double, v) => out.extend_from_slice(&float(v).to_le_bytes()),
            (Shape::String8 | Shape::String16, v) => {
                let bytes: &[u8] = match v {
                    ZclValue::Bytes(b) => b,
                    ZclValue::String(s) => s.as_bytes(),
                    _ => &[],
                };
                if s == Shape::String8 {
                    let n = bytes.len().min(254);
                    out.push(n as u8);
                    out.extend_from_slice(&bytes[..n]);
                } else {
                    let n = bytes.len().min(0xFFFE);
                    out.extend_from_slice(&(n as u16).to_le_bytes());
                    out.extend_from_slice(&bytes[..n]);
                }
            }
        }
    }
}

fn float(v: &ZclValue) -> f64 {
    match v {
        ZclValue::Float(f) => *f,
        other => other.as_i64().unwrap_or(0) as f64,
    }
}

fn le_uint(b: &[u8]) -> u64 {
    b.iter()
        .rev()
        .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: TypedValue) {
        let mut out = Vec::new();
        v.encode(&mut out);
        let back = TypedValue::decode(v.ty, &mut Reader::new(&out)).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn signed_int16_sign_extends() {
        let v = TypedValue::decode(ty::INT16, &mut Reader::new(&[0x18, 0xFC])).unwrap();
        assert_eq!(v.value, ZclValue::Signed(-1000));
        let v = TypedValue::decode(ty::INT24, &mut Reader::new(&[0xFF, 0xFF, 0xFF])).unwrap();
        assert_eq!(v.value, ZclValue::Signed(-1));
    }

    #[test]
    fn values_of_every_shape_round_trip() {
        round_trip(TypedValue::new(ty::BOOL, ZclValue::Bool(true)));
        round_trip(TypedValue::new(
            ty::UINT48,
            ZclValue::Unsigned(0x0102_0304_0506),
        ));
        round_trip(TypedValue::new(ty::INT32, ZclValue::Signed(-70_000)));
        round_trip(TypedValue::new(ty::SINGLE, ZclValue::Float(21.5)));
        round_trip(TypedValue::new(ty::DOUBLE, ZclValue::Float(-0.125)));
        round_trip(TypedValue::new(
            ty::CHAR_STRING,
            ZclValue::String("lumi.plug".into()),
        ));
        round_trip(TypedValue::new(
            ty::OCTET_STRING,
            ZclValue::Bytes(vec![1, 2, 3]),
        ));
        round_trip(TypedValue::new(ty::UTC_TIME, ZclValue::Unsigned(1_000_000)));
    }

    #[test]
    fn unknown_type_and_truncated_string_are_errors() {
        assert_eq!(
            TypedValue::decode(0x4C, &mut Reader::new(&[0])),
            Err(ZclDecodeError::UnknownType(0x4C))
        );
        assert_eq!(
            TypedValue::decode(ty::CHAR_STRING, &mut Reader::new(&[5, b'a'])),
            Err(ZclDecodeError::Truncated)
        );
    }

    #[test]
    fn invalid_string_length_0xff_is_empty() {
        let v = TypedValue::decode(ty::CHAR_STRING, &mut Reader::new(&[0xFF])).unwrap();
        assert_eq!(v.value, ZclValue::String(String::new()));
    }
}
