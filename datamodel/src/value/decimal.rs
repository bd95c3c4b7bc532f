//! TR-106 `decimal`: a signed decimal number kept exactly (mantissa and scale), so
//! `21.50` written by a device reads back as `21.50`.

use std::cmp::Ordering;
use std::fmt;

/// An exact decimal number: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i64,
    scale: u8,
}

/// More fraction digits than this are refused rather than rounded.
const MAX_SCALE: u8 = 18;

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };

    /// `mantissa × 10^-scale`; `None` if the scale is over 18.
    pub fn new(mantissa: i64, scale: u8) -> Option<Decimal> {
        (scale <= MAX_SCALE).then_some(Decimal { mantissa, scale })
    }

    /// Parses `[-]digits[.digits]` (also `.5` and `5.`), nothing else.
    pub fn parse(s: &str) -> Option<Decimal> {
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let scale = u8::try_from(frac.len()).ok().filter(|s| *s <= MAX_SCALE)?;
        let mut mantissa: i64 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
        }
        Some(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
        })
    }

    /// The closest `f64` (for display arithmetic only; comparisons are exact).
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(i32::from(self.scale))
    }

    /// The value rounded to `scale` fraction digits from an `f64`; `None` if out of range.
    pub fn from_f64(v: f64, scale: u8) -> Option<Decimal> {
        if !v.is_finite() || scale > MAX_SCALE {
            return None;
        }
        let m = (v * 10f64.powi(i32::from(scale))).round();
        if m.abs() >= 9.2e18 {
            return None;
        }
        Some(Decimal {
            mantissa: m as i64,
            scale,
        })
    }

    fn widened(self, scale: u8) -> i128 {
        i128::from(self.mantissa) * 10i128.pow(u32::from(scale - self.scale))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let scale = self.scale.max(other.scale);
        self.widened(scale).cmp(&other.widened(scale))
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let abs = self.mantissa.unsigned_abs();
        let div = 10u64.pow(u32::from(self.scale));
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / div,
            abs % div,
            width = usize::from(self.scale)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_the_written_scale() {
        assert_eq!(Decimal::parse("21.50").unwrap().to_string(), "21.50");
        assert_eq!(Decimal::parse("-0.05").unwrap().to_string(), "-0.05");
        assert_eq!(Decimal::parse(".5").unwrap().to_string(), "0.5");
        assert_eq!(Decimal::parse("7").unwrap().to_string(), "7");
    }

    #[test]
    fn malformed_decimals_are_rejected() {
        for s in [
            "",
            ".",
            "-",
            "1.2.3",
            "1e3",
            "+1",
            " 1",
            "99999999999999999999",
        ] {
            assert!(Decimal::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn comparison_ignores_scale() {
        assert_eq!(
            Decimal::parse("1.50")
                .unwrap()
                .cmp(&Decimal::parse("1.5").unwrap()),
            Ordering::Equal
        );
        assert!(Decimal::parse("-2").unwrap() < Decimal::parse("-1.99").unwrap());
    }
}
