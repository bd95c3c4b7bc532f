//! Typed parameter values and their TR-181 string forms (TR-106 section 3.2, "Data
//! Types"; TR-369 carries every value as its string form).
//!
//! A [`Value`] is stored typed in the tree; [`Value::parse`] accepts the wire form
//! (including the lenient inputs TR-106 allows, such as `1`/`0` for booleans) and
//! `Display` writes the canonical form.

mod base64;
mod datetime;
mod decimal;

use std::cmp::Ordering;
use std::fmt;

pub use datetime::DateTime;
pub use decimal::Decimal;

/// The TR-181 base types a parameter (or argument) can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamType {
    /// `string`
    String,
    /// `unsignedInt` (32 bits)
    UnsignedInt,
    /// `int` (32 bits)
    Int,
    /// `unsignedLong` (64 bits)
    UnsignedLong,
    /// `long` (64 bits)
    Long,
    /// `boolean`
    Boolean,
    /// `dateTime`
    DateTime,
    /// `base64`
    Base64,
    /// `hexBinary`
    HexBinary,
    /// `decimal`
    Decimal,
}

impl ParamType {
    /// The name TR-181 XML uses for this type (`unsignedInt`, `dateTime`, ...).
    pub fn xml_name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::UnsignedInt => "unsignedInt",
            ParamType::Int => "int",
            ParamType::UnsignedLong => "unsignedLong",
            ParamType::Long => "long",
            ParamType::Boolean => "boolean",
            ParamType::DateTime => "dateTime",
            ParamType::Base64 => "base64",
            ParamType::HexBinary => "hexBinary",
            ParamType::Decimal => "decimal",
        }
    }

    /// Whether the type is ordered numerically (relational search operators apply).
    pub fn is_ordered(self) -> bool {
        matches!(
            self,
            ParamType::UnsignedInt
                | ParamType::Int
                | ParamType::UnsignedLong
                | ParamType::Long
                | ParamType::DateTime
                | ParamType::Decimal
        )
    }

    /// The value a parameter of this type has before anything sets it.
    pub fn zero(self) -> Value {
        match self {
            ParamType::String => Value::String(String::new()),
            ParamType::UnsignedInt => Value::UnsignedInt(0),
            ParamType::Int => Value::Int(0),
            ParamType::UnsignedLong => Value::UnsignedLong(0),
            ParamType::Long => Value::Long(0),
            ParamType::Boolean => Value::Boolean(false),
            ParamType::DateTime => Value::DateTime(DateTime::UNKNOWN),
            ParamType::Base64 => Value::Base64(Vec::new()),
            ParamType::HexBinary => Value::HexBinary(Vec::new()),
            ParamType::Decimal => Value::Decimal(Decimal::ZERO),
        }
    }
}

/// A typed value. Lists hold items of one base type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A string.
    String(String),
    /// An unsignedInt.
    UnsignedInt(u32),
    /// An int.
    Int(i32),
    /// An unsignedLong.
    UnsignedLong(u64),
    /// A long.
    Long(i64),
    /// A boolean.
    Boolean(bool),
    /// A dateTime.
    DateTime(DateTime),
    /// base64: the decoded bytes.
    Base64(Vec<u8>),
    /// hexBinary: the decoded bytes.
    HexBinary(Vec<u8>),
    /// A decimal.
    Decimal(Decimal),
    /// A list-valued parameter's items.
    List(Vec<Value>),
}

/// Why a string is not a valid value of a type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl Value {
    /// Parses the TR-181 string form of a `ty` value (a comma-separated list if `list`).
    pub fn parse(ty: ParamType, list: bool, s: &str) -> Result<Value, ValueError> {
        if list {
            if s.trim().is_empty() {
                return Ok(Value::List(Vec::new()));
            }
            let items = s
                .split(',')
                .map(|item| Value::parse_scalar(ty, item.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Value::List(items));
        }
        Value::parse_scalar(ty, s)
    }

    fn parse_scalar(ty: ParamType, s: &str) -> Result<Value, ValueError> {
        let bad = |what: &str| ValueError(format!("{s:?} is not a valid {what}"));
        Ok(match ty {
            ParamType::String => Value::String(s.to_owned()),
            ParamType::UnsignedInt => {
                Value::UnsignedInt(parse_int(s).ok_or_else(|| bad("unsignedInt"))?)
            }
            ParamType::Int => Value::Int(parse_int(s).ok_or_else(|| bad("int"))?),
            ParamType::UnsignedLong => {
                Value::UnsignedLong(parse_int(s).ok_or_else(|| bad("unsignedLong"))?)
            }
            ParamType::Long => Value::Long(parse_int(s).ok_or_else(|| bad("long"))?),
            ParamType::Boolean => Value::Boolean(match s {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(bad("boolean (true, false, 1 or 0)")),
            }),
            ParamType::DateTime => {
                Value::DateTime(DateTime::parse(s).ok_or_else(|| bad("dateTime"))?)
            }
            ParamType::Base64 => Value::Base64(base64::decode(s).ok_or_else(|| bad("base64"))?),
            ParamType::HexBinary => {
                Value::HexBinary(decode_hex(s).ok_or_else(|| bad("hexBinary"))?)
            }
            ParamType::Decimal => Value::Decimal(Decimal::parse(s).ok_or_else(|| bad("decimal"))?),
        })
    }

    /// Compares two values of the same type; `None` when they are not comparable.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            (Value::UnsignedInt(a), Value::UnsignedInt(b)) => Some(a.cmp(b)),
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::UnsignedLong(a), Value::UnsignedLong(b)) => Some(a.cmp(b)),
            (Value::Long(a), Value::Long(b)) => Some(a.cmp(b)),
            (Value::Boolean(a), Value::Boolean(b)) => Some(a.cmp(b)),
            (Value::DateTime(a), Value::DateTime(b)) => Some(a.cmp(b)),
            (Value::Base64(a), Value::Base64(b)) | (Value::HexBinary(a), Value::HexBinary(b)) => {
                Some(a.cmp(b))
            }
            (Value::Decimal(a), Value::Decimal(b)) => Some(a.cmp(b)),
            (Value::List(a), Value::List(b)) => {
                (a == b).then_some(Ordering::Equal).or(Some(Ordering::Less))
            }
            _ => None,
        }
    }

    /// The value as a boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as a string slice, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an unsigned 64-bit number, if it is an unsigned integer type.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::UnsignedInt(v) => Some(u64::from(*v)),
            Value::UnsignedLong(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as a signed 64-bit number, if it is an integer type that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::UnsignedInt(v) => Some(i64::from(*v)),
            Value::Int(v) => Some(i64::from(*v)),
            Value::UnsignedLong(v) => i64::try_from(*v).ok(),
            Value::Long(v) => Some(*v),
            _ => None,
        }
    }

    /// Writes the canonical string form into `out` (avoids a temporary `String`).
    pub fn write_to(&self, out: &mut String) {
        use std::fmt::Write;
        // Writing into a String cannot fail.
        let _ = write!(out, "{self}");
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => f.write_str(s),
            Value::UnsignedInt(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::UnsignedLong(v) => write!(f, "{v}"),
            Value::Long(v) => write!(f, "{v}"),
            Value::Boolean(b) => f.write_str(if *b { "true" } else { "false" }),
            Value::DateTime(d) => write!(f, "{d}"),
            Value::Base64(b) => f.write_str(&base64::encode(b)),
            Value::HexBinary(b) => {
                for byte in b {
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
            Value::Decimal(d) => write!(f, "{d}"),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::UnsignedInt(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::UnsignedLong(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Long(v)
    }
}
impl From<DateTime> for Value {
    fn from(v: DateTime) -> Self {
        Value::DateTime(v)
    }
}
impl From<Decimal> for Value {
    fn from(v: Decimal) -> Self {
        Value::Decimal(v)
    }
}

/// Parses a decimal integer the way TR-106 writes them: optional `-`, digits only
/// (no `+`, no spaces, no hex).
fn parse_int<T: std::str::FromStr>(s: &str) -> Option<T> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boolean_accepts_one_and_zero_and_writes_words() {
        assert_eq!(
            Value::parse(ParamType::Boolean, false, "1")
                .unwrap()
                .to_string(),
            "true"
        );
        assert_eq!(
            Value::parse(ParamType::Boolean, false, "0")
                .unwrap()
                .to_string(),
            "false"
        );
        assert!(Value::parse(ParamType::Boolean, false, "True").is_err());
        assert!(Value::parse(ParamType::Boolean, false, "").is_err());
    }

    #[test]
    fn integers_reject_plus_spaces_and_overflow() {
        assert_eq!(
            Value::parse(ParamType::Int, false, "-12").unwrap(),
            Value::Int(-12)
        );
        assert!(Value::parse(ParamType::Int, false, "+12").is_err());
        assert!(Value::parse(ParamType::Int, false, " 12").is_err());
        assert!(Value::parse(ParamType::UnsignedInt, false, "-1").is_err());
        assert!(Value::parse(ParamType::UnsignedInt, false, "4294967296").is_err());
        assert_eq!(
            Value::parse(ParamType::UnsignedLong, false, "18446744073709551615").unwrap(),
            Value::UnsignedLong(u64::MAX)
        );
        assert!(Value::parse(ParamType::Long, false, "-").is_err());
    }

    #[test]
    fn lists_split_on_commas_and_trim_items() {
        let v = Value::parse(ParamType::UnsignedInt, true, "1, 2,3").unwrap();
        assert_eq!(v.to_string(), "1,2,3");
        assert_eq!(
            Value::parse(ParamType::String, true, "").unwrap(),
            Value::List(vec![])
        );
        assert!(Value::parse(ParamType::Int, true, "1,x").is_err());
    }

    #[test]
    fn hexbinary_round_trips_and_rejects_odd_length() {
        let v = Value::parse(ParamType::HexBinary, false, "00FFa1").unwrap();
        assert_eq!(v.to_string(), "00ffa1");
        assert!(Value::parse(ParamType::HexBinary, false, "abc").is_err());
        assert!(Value::parse(ParamType::HexBinary, false, "zz").is_err());
    }

    #[test]
    fn base64_round_trips() {
        let v = Value::parse(ParamType::Base64, false, "aGVsbG8=").unwrap();
        assert_eq!(v, Value::Base64(b"hello".to_vec()));
        assert_eq!(v.to_string(), "aGVsbG8=");
        assert!(Value::parse(ParamType::Base64, false, "a$==").is_err());
    }

    #[test]
    fn numeric_values_compare_by_value() {
        let a = Value::parse(ParamType::Decimal, false, "2.50").unwrap();
        let b = Value::parse(ParamType::Decimal, false, "10").unwrap();
        assert_eq!(a.compare(&b), Some(Ordering::Less));
        assert_eq!(Value::Int(1).compare(&Value::String("1".into())), None);
    }
}
