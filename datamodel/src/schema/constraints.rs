//! Value facets of TR-106 section 3.2 (`size`, `range`, `enumeration`, `pattern`)
//! checked on every Set, Add and command argument.

use std::sync::Arc;

use super::pattern::Pattern;
use crate::value::{Decimal, ParamType, Value};

/// The facets a value must satisfy; all empty by default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// Maximum length (characters of a string; bytes of base64/hexBinary; for lists, of
    /// the whole comma-separated string).
    pub max_len: Option<u32>,
    /// Minimum length.
    pub min_len: Option<u32>,
    /// Inclusive range of integer types.
    pub int_range: Option<(i128, i128)>,
    /// Inclusive range of decimals.
    pub decimal_range: Option<(Decimal, Decimal)>,
    /// Allowed string values (empty: any).
    pub enumeration: Vec<Arc<str>>,
    /// Alternatives the whole string must match (empty: any).
    pub patterns: Vec<Pattern>,
}

impl Constraints {
    /// Checks `value` (already of type `ty`); the error says which facet failed.
    pub fn check(&self, value: &Value, ty: ParamType) -> Result<(), String> {
        if let Value::List(items) = value {
            let whole = value.to_string();
            self.check_len(whole.chars().count())?;
            for item in items {
                self.check_item(item, ty, false)?;
            }
            return Ok(());
        }
        self.check_item(value, ty, true)
    }

    fn check_len(&self, len: usize) -> Result<(), String> {
        if let Some(max) = self.max_len
            && len > max as usize
        {
            return Err(format!("longer than the maximum of {max}"));
        }
        if let Some(min) = self.min_len
            && len < min as usize
        {
            return Err(format!("shorter than the minimum of {min}"));
        }
        Ok(())
    }

    fn check_item(&self, value: &Value, _ty: ParamType, with_len: bool) -> Result<(), String> {
        match value {
            Value::String(s) => {
                if with_len {
                    self.check_len(s.chars().count())?;
                }
                if !self.enumeration.is_empty()
                    && !self.enumeration.iter().any(|e| &**e == s)
                    && !s.starts_with("X_")
                {
                    return Err(format!("{s:?} is not one of the allowed values"));
                }
                if !self.patterns.is_empty() && !self.patterns.iter().any(|p| p.matches(s)) {
                    return Err(format!("{s:?} does not match the required pattern"));
                }
            }
            Value::Base64(b) | Value::HexBinary(b) if with_len => self.check_len(b.len())?,
            Value::Decimal(d) => {
                if let Some((min, max)) = self.decimal_range
                    && (*d < min || *d > max)
                {
                    return Err(format!("{d} is outside the range {min} to {max}"));
                }
            }
            _ => {
                let n = match value {
                    Value::UnsignedInt(v) => Some(i128::from(*v)),
                    Value::Int(v) => Some(i128::from(*v)),
                    Value::UnsignedLong(v) => Some(i128::from(*v)),
                    Value::Long(v) => Some(i128::from(*v)),
                    _ => None,
                };
                if let (Some(n), Some((min, max))) = (n, self.int_range)
                    && (n < min || n > max)
                {
                    return Err(format!("{n} is outside the range {min} to {max}"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_enumeration_failures_say_why() {
        let c = Constraints {
            int_range: Some((1, 10)),
            ..Default::default()
        };
        assert!(
            c.check(&Value::UnsignedInt(5), ParamType::UnsignedInt)
                .is_ok()
        );
        assert!(
            c.check(&Value::UnsignedInt(11), ParamType::UnsignedInt)
                .unwrap_err()
                .contains("range")
        );
        let e = Constraints {
            enumeration: vec![Arc::from("ZigBee"), Arc::from("Z-Wave")],
            ..Default::default()
        };
        assert!(e.check(&Value::from("ZigBee"), ParamType::String).is_ok());
        assert!(
            e.check(&Value::from("X_USPHUB_BLE"), ParamType::String)
                .is_ok()
        );
        assert!(
            e.check(&Value::from("Bluetooth"), ParamType::String)
                .is_err()
        );
    }

    #[test]
    fn max_length_counts_characters() {
        let c = Constraints {
            max_len: Some(3),
            ..Default::default()
        };
        assert!(c.check(&Value::from("äöü"), ParamType::String).is_ok());
        assert!(c.check(&Value::from("abcd"), ParamType::String).is_err());
    }
}
