//! One IoT capability of a device (`IoTCapability.{i}.` in TR-181's IoT model, TR-369
//! Appendix "IoT Data Model Theory of Operation"): its class, the matching sub-object's
//! Type/Unit/range data, and the conversion of a Controller's string to a typed [`Value`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::value::{Decimal, Value, ValueParseError, parse_bool};
use super::vocab::{
    BinaryControlType, BinarySensorType, CapabilityClass, IoTBlobSensorType, IoTEnumControlType,
    IoTEnumSensorType, IoTLevelType, IoTUnitType, MultiLevelSensorType,
};

/// Identifies a capability within its device, stable across restarts and re-interviews.
///
/// Each radio chooses a readable form that encodes where the value lives, e.g. Zigbee
/// `ep1/0x0402/0x0000` (endpoint/cluster/attribute), Z-Wave `ep0/0x31/Air temperature`
/// (end point/command class/property), BLE `bthome/0x02` (object id). Unique across the
/// device's own capabilities and those of all its nodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CapabilityId(pub String);

impl CapabilityId {
    /// A capability id from any string-like value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CapabilityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for CapabilityId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for CapabilityId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// The class-specific data of a capability: exactly one TR-181 sub-object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CapabilityKind {
    /// `BinaryControl.`: a boolean the Controller sets (`Toggle()` implied).
    BinaryControl {
        /// `Type`.
        kind: BinaryControlType,
    },
    /// `LevelControl.`: a decimal between min and max (`StepUp()`/`StepDown()` implied
    /// when `step` is set).
    LevelControl {
        /// `Type`.
        kind: IoTLevelType,
        /// `Unit`.
        unit: IoTUnitType,
        /// `MinValue`.
        min: Decimal,
        /// `MaxValue`.
        max: Decimal,
        /// `StepValue`.
        step: Option<Decimal>,
    },
    /// `EnumControl.`: one of `valid_values`.
    EnumControl {
        /// `Type`.
        kind: IoTEnumControlType,
        /// `ValidValues`.
        valid_values: Vec<String>,
    },
    /// `BinarySensor.`: a boolean the device reports.
    BinarySensor {
        /// `Type`.
        kind: BinarySensorType,
    },
    /// `LevelSensor.`: a decimal the device reports.
    LevelSensor {
        /// `Type`.
        kind: IoTLevelType,
        /// `Unit`.
        unit: IoTUnitType,
        /// `LowLevelThreshold` default, where the device has a low-level notion (battery).
        low_level_threshold: Option<Decimal>,
        /// `HighLevelThreshold` default.
        high_level_threshold: Option<Decimal>,
    },
    /// `MultiLevelSensor.`: several decimals in one unit.
    MultiLevelSensor {
        /// `Type`.
        kind: MultiLevelSensorType,
        /// `Unit`.
        unit: IoTUnitType,
        /// `ValueNames`.
        value_names: Vec<String>,
    },
    /// `EnumSensor.`: one of `valid_values`, reported by the device.
    EnumSensor {
        /// `Type`.
        kind: IoTEnumSensorType,
        /// `ValidValues`.
        valid_values: Vec<String>,
    },
    /// `BlobSensor.`: bytes the device reports.
    BlobSensor {
        /// `Type`.
        kind: IoTBlobSensorType,
    },
}

impl CapabilityKind {
    /// The TR-181 `Class` this data belongs to.
    pub fn class(&self) -> CapabilityClass {
        match self {
            Self::BinaryControl { .. } => CapabilityClass::BinaryControl,
            Self::LevelControl { .. } => CapabilityClass::LevelControl,
            Self::EnumControl { .. } => CapabilityClass::EnumControl,
            Self::BinarySensor { .. } => CapabilityClass::BinarySensor,
            Self::LevelSensor { .. } => CapabilityClass::LevelSensor,
            Self::MultiLevelSensor { .. } => CapabilityClass::MultiLevelSensor,
            Self::EnumSensor { .. } => CapabilityClass::EnumSensor,
            Self::BlobSensor { .. } => CapabilityClass::BlobSensor,
        }
    }

    /// The sub-object's `Type` string.
    pub fn type_str(&self) -> &'static str {
        match self {
            Self::BinaryControl { kind } => kind.as_str(),
            Self::LevelControl { kind, .. } | Self::LevelSensor { kind, .. } => kind.as_str(),
            Self::EnumControl { kind, .. } => kind.as_str(),
            Self::BinarySensor { kind } => kind.as_str(),
            Self::MultiLevelSensor { kind, .. } => kind.as_str(),
            Self::EnumSensor { kind, .. } => kind.as_str(),
            Self::BlobSensor { kind } => kind.as_str(),
        }
    }

    /// The `Unit`, for the classes that have one.
    pub fn unit(&self) -> Option<IoTUnitType> {
        match self {
            Self::LevelControl { unit, .. }
            | Self::LevelSensor { unit, .. }
            | Self::MultiLevelSensor { unit, .. } => Some(*unit),
            _ => None,
        }
    }
}

/// A Controller's value that does not fit the capability.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    /// Not parseable as the class's type.
    #[error(transparent)]
    Syntax(#[from] ValueParseError),
    /// Outside `MinValue`..`MaxValue`.
    #[error("{value} is outside {min}..{max}")]
    OutOfRange {
        /// The value.
        value: String,
        /// `MinValue`.
        min: String,
        /// `MaxValue`.
        max: String,
    },
    /// Not one of `ValidValues`.
    #[error("{0:?} is not one of the valid values")]
    NotValid(String),
    /// The capability is a sensor: its value cannot be set.
    #[error("capability is read-only")]
    ReadOnly,
}

/// One capability of a device or node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capability {
    /// Stable id within the device.
    pub id: CapabilityId,
    /// Default `Name` (the Controller may rename it).
    pub name: String,
    /// The sub-object's `Description`.
    pub description: String,
    /// Class and class-specific data.
    pub kind: CapabilityKind,
    /// Whether the Controller may set `Value` (controls the device accepts writes for).
    pub writable: bool,
    /// Last known value, if any.
    pub value: Option<Value>,
}

impl Capability {
    /// A capability; controls are writable, sensors are not.
    pub fn new(id: impl Into<CapabilityId>, name: impl Into<String>, kind: CapabilityKind) -> Self {
        let writable = matches!(
            kind.class(),
            CapabilityClass::BinaryControl
                | CapabilityClass::LevelControl
                | CapabilityClass::EnumControl
        );
        Self {
            id: id.into(),
            name: name.into(),
            description: String::new(),
            kind,
            writable,
            value: None,
        }
    }

    /// The TR-181 `Class`.
    pub fn class(&self) -> CapabilityClass {
        self.kind.class()
    }

    /// Converts a Controller's string for `Value` into the typed value this capability
    /// takes, checking range and valid values.
    pub fn parse_value(&self, s: &str) -> Result<Value, InvalidValue> {
        if !self.writable {
            return Err(InvalidValue::ReadOnly);
        }
        match &self.kind {
            CapabilityKind::BinaryControl { .. } | CapabilityKind::BinarySensor { .. } => {
                Ok(Value::Bool(parse_bool(s)?))
            }
            CapabilityKind::LevelControl { min, max, .. } => {
                let d: Decimal = s.parse()?;
                if d < *min || d > *max {
                    return Err(InvalidValue::OutOfRange {
                        value: d.to_string(),
                        min: min.to_string(),
                        max: max.to_string(),
                    });
                }
                Ok(Value::Decimal(d))
            }
            CapabilityKind::LevelSensor { .. } => Ok(Value::Decimal(s.parse()?)),
            CapabilityKind::EnumControl { valid_values, .. }
            | CapabilityKind::EnumSensor { valid_values, .. } => {
                if valid_values.iter().any(|v| v == s) {
                    Ok(Value::String(s.to_owned()))
                } else {
                    Err(InvalidValue::NotValid(s.to_owned()))
                }
            }
            CapabilityKind::MultiLevelSensor { .. } => {
                let list = s
                    .split(',')
                    .map(|p| p.trim().parse::<Decimal>())
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::Decimals(list))
            }
            CapabilityKind::BlobSensor { .. } => Err(InvalidValue::ReadOnly),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dimmer() -> Capability {
        Capability::new(
            "ep1/0x0008/0x0000",
            "Brightness",
            CapabilityKind::LevelControl {
                kind: IoTLevelType::Brightness,
                unit: IoTUnitType::Percent,
                min: Decimal::from_int(0),
                max: Decimal::from_int(100),
                step: Some(Decimal::from_int(10)),
            },
        )
    }

    #[test]
    fn level_control_value_is_range_checked() {
        let c = dimmer();
        assert_eq!(
            c.parse_value("42.5"),
            Ok(Value::Decimal(Decimal::new(425, 1)))
        );
        assert!(matches!(
            c.parse_value("101"),
            Err(InvalidValue::OutOfRange { .. })
        ));
        assert!(matches!(c.parse_value("x"), Err(InvalidValue::Syntax(_))));
    }

    #[test]
    fn sensors_are_not_writable() {
        let c = Capability::new(
            "bthome/0x02",
            "Temperature",
            CapabilityKind::LevelSensor {
                kind: IoTLevelType::Temperature,
                unit: IoTUnitType::DegC,
                low_level_threshold: None,
                high_level_threshold: None,
            },
        );
        assert!(!c.writable);
        assert_eq!(c.parse_value("20"), Err(InvalidValue::ReadOnly));
        assert_eq!(c.kind.unit(), Some(IoTUnitType::DegC));
        assert_eq!(c.kind.type_str(), "Temperature");
    }

    #[test]
    fn enum_control_accepts_only_valid_values() {
        let c = Capability::new(
            "ep1/0x0201/0x001c",
            "Mode",
            CapabilityKind::EnumControl {
                kind: IoTEnumControlType::ThermostatMode,
                valid_values: vec!["Off".into(), "Heat".into()],
            },
        );
        assert_eq!(c.parse_value("Heat"), Ok(Value::String("Heat".into())));
        assert_eq!(
            c.parse_value("Cool"),
            Err(InvalidValue::NotValid("Cool".into()))
        );
    }

    #[test]
    fn binary_control_accepts_tr106_booleans() {
        let c = Capability::new(
            "ep1/0x0006/0x0000",
            "Switch",
            CapabilityKind::BinaryControl {
                kind: BinaryControlType::Switch,
            },
        );
        assert_eq!(c.class(), CapabilityClass::BinaryControl);
        assert_eq!(c.parse_value("1"), Ok(Value::Bool(true)));
        assert!(c.parse_value("on").is_err());
    }
}
