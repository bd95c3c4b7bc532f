//! Typed capability values and their TR-181 string forms (TR-106 section 3.2 data types:
//! `boolean` as `true`/`false`, `decimal` without exponent, `base64` for BlobSensor,
//! comma-separated lists for MultiLevelSensor `Values`).
//!
//! Radio values are integers with a decimal scale (ZCL 0.01 degC, Z-Wave precision, BTHome
//! factors), so decimals are exact: a mantissa and a power-of-ten scale, normalised so that
//! equal numbers compare equal (`21.50` == `21.5`) — needed to publish a value change only when
//! the value really changed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Largest scale (digits after the point) a [`Decimal`] keeps.
pub const MAX_DECIMAL_SCALE: u8 = 12;

/// An exact decimal number: `mantissa × 10^-scale`, trailing zeros removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i64,
    scale: u8,
}

/// A string that is not a TR-181 decimal (or integer/boolean) form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} value {value:?}")]
pub struct ValueParseError {
    /// What was expected (`decimal`, `boolean`, `int`).
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
}

impl Decimal {
    /// `mantissa × 10^-scale`; a scale above [`MAX_DECIMAL_SCALE`] is reduced by rounding.
    pub fn new(mantissa: i64, scale: u8) -> Self {
        let (mut m, mut s) = (mantissa, scale);
        while s > MAX_DECIMAL_SCALE {
            m = div_round(m, 10);
            s -= 1;
        }
        while s > 0 && m % 10 == 0 {
            m /= 10;
            s -= 1;
        }
        Self {
            mantissa: m,
            scale: s,
        }
    }

    /// An integer.
    pub fn from_int(v: i64) -> Self {
        Self::new(v, 0)
    }

    /// `f` rounded to `places` decimal places; `None` if not finite or out of range.
    pub fn from_f64(f: f64, places: u8) -> Option<Self> {
        let places = places.min(MAX_DECIMAL_SCALE);
        let scaled = (f * 10f64.powi(i32::from(places))).round();
        if !scaled.is_finite() || scaled.abs() >= 9.2e18 {
            return None;
        }
        // In range and finite: the cast cannot saturate.
        Some(Self::new(scaled as i64, places))
    }

    /// The mantissa (after normalisation).
    pub fn mantissa(self) -> i64 {
        self.mantissa
    }

    /// Digits after the decimal point (after normalisation).
    pub fn scale(self) -> u8 {
        self.scale
    }

    /// The nearest `f64`.
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(i32::from(self.scale))
    }

    /// This value multiplied by `10^-places`, exactly (a BTHome or ZCL scaling factor).
    pub fn scaled_down(self, places: u8) -> Self {
        Self::new(self.mantissa, self.scale.saturating_add(places))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Both scales are <= MAX_DECIMAL_SCALE, so rescaling into i128 cannot overflow.
        let s = self.scale.max(other.scale);
        let a = i128::from(self.mantissa) * 10i128.pow(u32::from(s - self.scale));
        let b = i128::from(other.mantissa) * 10i128.pow(u32::from(s - other.scale));
        a.cmp(&b)
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn div_round(m: i64, d: i64) -> i64 {
    let q = m / d;
    let r = m % d;
    if r.abs() * 2 >= d { q + m.signum() } else { q }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let abs = self.mantissa.unsigned_abs();
        let p = 10u64.pow(u32::from(self.scale));
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / p,
            abs % p,
            width = usize::from(self.scale)
        )
    }
}

impl FromStr for Decimal {
    type Err = ValueParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ValueParseError {
            kind: "decimal",
            value: s.to_owned(),
        };
        let t = s.trim();
        let (neg, digits) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > usize::from(MAX_DECIMAL_SCALE) {
            return Err(err());
        }
        let mut m: i64 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            m = m
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(err)?;
        }
        // frac.len() <= MAX_DECIMAL_SCALE, so it fits in u8.
        Ok(Self::new(if neg { -m } else { m }, frac.len() as u8))
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A typed capability value as a bridge reports or writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// TR-181 `boolean` (BinaryControl, BinarySensor).
    Bool(bool),
    /// An integer (event arguments, counters).
    Int(i64),
    /// TR-181 `decimal` (LevelSensor, LevelControl).
    Decimal(Decimal),
    /// A string; an enumeration member for EnumControl/EnumSensor.
    String(String),
    /// Raw bytes; TR-181 `base64` (BlobSensor).
    Bytes(Vec<u8>),
    /// A list of decimals (MultiLevelSensor `Values`).
    Decimals(Vec<Decimal>),
}

impl Value {
    /// The TR-181 string form of this value.
    pub fn to_tr181_string(&self) -> String {
        self.to_string()
    }

    /// The value as a boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as a decimal, if it is numeric.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Self::Decimal(d) => Some(*d),
            Self::Int(i) => Some(Decimal::from_int(*i)),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Self::Int(i) => write!(f, "{i}"),
            Self::Decimal(d) => write!(f, "{d}"),
            Self::String(s) => f.write_str(s),
            Self::Bytes(b) => f.write_str(&base64_encode(b)),
            Self::Decimals(v) => {
                for (i, d) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{d}")?;
                }
                Ok(())
            }
        }
    }
}

/// Parses a TR-181 `boolean` (`true`, `false`, `1`, `0`).
pub fn parse_bool(s: &str) -> Result<bool, ValueParseError> {
    match s.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ValueParseError {
            kind: "boolean",
            value: s.to_owned(),
        }),
    }
}

/// Standard base64 (RFC 4648 section 4) with padding, as TR-106 `base64` requires.
pub fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_display_is_exact_and_normalised() {
        assert_eq!(Decimal::new(2150, 2).to_string(), "21.5");
        assert_eq!(Decimal::new(-5, 2).to_string(), "-0.05");
        assert_eq!(Decimal::new(1200, 0).to_string(), "1200");
        assert_eq!(Decimal::new(2150, 2), Decimal::new(215, 1));
        assert_eq!(Decimal::new(7, 0).scaled_down(1).to_string(), "0.7");
    }

    #[test]
    fn decimal_parses_tr181_forms_and_rejects_others() {
        assert_eq!("21.50".parse::<Decimal>(), Ok(Decimal::new(215, 1)));
        assert_eq!("-3".parse::<Decimal>(), Ok(Decimal::from_int(-3)));
        assert_eq!(".5".parse::<Decimal>(), Ok(Decimal::new(5, 1)));
        for bad in ["", "-", "1e3", "1.2.3", "abc", "99999999999999999999"] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad}");
        }
    }

    #[test]
    fn decimals_order_by_value_across_scales() {
        assert!(Decimal::new(215, 1) > Decimal::from_int(21));
        assert!(Decimal::new(-1, 12) < Decimal::from_int(0));
        assert!(Decimal::new(i64::MAX, 0) > Decimal::new(i64::MAX, 12));
    }

    #[test]
    fn decimal_from_f64_rounds_to_places() {
        assert_eq!(
            Decimal::from_f64(0.1 * 2345.0, 1),
            Some(Decimal::new(2345, 1))
        );
        assert_eq!(Decimal::from_f64(f64::NAN, 2), None);
        assert_eq!(Decimal::from_f64(1e30, 2), None);
    }

    #[test]
    fn value_string_forms_follow_tr106() {
        assert_eq!(Value::Bool(true).to_string(), "true");
        assert_eq!(Value::Decimal(Decimal::new(-125, 1)).to_string(), "-12.5");
        assert_eq!(
            Value::Decimals(vec![Decimal::from_int(1), Decimal::new(25, 1)]).to_string(),
            "1,2.5"
        );
        assert_eq!(Value::Bytes(b"Man".to_vec()).to_string(), "TWFu");
        assert_eq!(Value::Bytes(b"Ma".to_vec()).to_string(), "TWE=");
        assert_eq!(Value::Bytes(b"M".to_vec()).to_string(), "TQ==");
        assert_eq!(Value::Bytes(vec![]).to_string(), "");
    }

    #[test]
    fn booleans_accept_numeric_forms() {
        assert_eq!(parse_bool("1"), Ok(true));
        assert_eq!(parse_bool("false"), Ok(false));
        assert!(parse_bool("yes").is_err());
    }
}
