//! ZCL attributes to TR-181 IoT capabilities, as one table (documented in
//! `docs/DEVICES.md`): which cluster attribute becomes which IoTCapability class,
//! Type and Unit, how the raw value is scaled (ZCL r8 measurement clusters' rules), how a
//! Controller's write becomes a ZCL command, and how the attribute is reported.

use std::collections::BTreeMap;

use crate::api::{
    BinaryControlType, BinarySensorType, Capability, CapabilityId, CapabilityKind, Decimal,
    IoTLevelType, IoTUnitType, Value,
};
use crate::zigbee::zcl::ZclValue;
use crate::zigbee::zcl::clusters::id;

/// Known attribute values of a device by (endpoint, cluster, attribute).
pub type AttrCache = BTreeMap<(u8, u16, u16), ZclValue>;

/// How a raw attribute value becomes a capability value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convert {
    /// Boolean attribute.
    Bool,
    /// True when the enumeration has this value (Door Lock LockState 1 = locked).
    Equals(i64),
    /// One bit of a bitmap.
    Bit(u8),
    /// Integer divided by 10^places (Temperature 0.01 degC, Humidity 0.01 %).
    Scaled(u8),
    /// Integer multiplied by a factor (Pressure: 0.1 kPa = 100 Pa).
    Times(i64),
    /// Level Control CurrentLevel 0..254 as 0..100 %.
    LevelPercent,
    /// Color Control mireds (10^6 / K) as Kelvin, rounded to whole kelvins.
    MiredToKelvin,
    /// Color Control CurrentHue 0..254 as 0..360 degrees, rounded to whole degrees.
    Hue,
    /// Illuminance MeasuredValue = 10000 log10(lx) + 1.
    Illuminance,
    /// Integer times the multiplier attribute over the divisor attribute of the same
    /// cluster (default 1), in units of 10^-places after scaling.
    MulDiv {
        /// Multiplier attribute id.
        mul: u16,
        /// Divisor attribute id.
        div: u16,
    },
}

/// A LevelControl range as (mantissa, scale) decimals, so the table stays `const`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// MinValue.
    pub min: (i64, u8),
    /// MaxValue.
    pub max: (i64, u8),
    /// StepValue.
    pub step: (i64, u8),
}

impl Range {
    /// MinValue and MaxValue as decimals.
    pub fn bounds(&self) -> (Decimal, Decimal) {
        (
            Decimal::new(self.min.0, self.min.1),
            Decimal::new(self.max.0, self.max.1),
        )
    }
}

/// White-light colour temperatures lamps offer (1000 K is 1000 mireds, 10000 K is 100).
const KELVIN: Range = Range {
    min: (1000, 0),
    max: (10000, 0),
    step: (100, 0),
};

/// Hue in degrees around the colour wheel.
const DEGREES: Range = Range {
    min: (0, 0),
    max: (360, 0),
    step: (10, 0),
};

const PERCENT: Range = Range {
    min: (0, 0),
    max: (100, 0),
    step: (10, 0),
};

/// How a Controller's write is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// On/Off cluster: On (0x01) / Off (0x00), Toggle (0x02).
    OnOff,
    /// Level Control: Move to Level (with On/Off) (0x04), Step (with On/Off) (0x06).
    Level,
    /// Door Lock: Lock Door (0x00) / Unlock Door (0x01).
    Lock,
    /// Window Covering: Go To Lift Percentage (0x05).
    Lift,
    /// Write Attributes of the attribute itself, value × 10^scale as the attribute's type.
    WriteAttribute(u8),
    /// Color Control: Move to Color Temperature (0x0A), Kelvin given, mireds sent.
    ColourTemperature,
    /// Color Control: Move to Hue (0x00), degrees given, 0..254 sent.
    Hue,
    /// Color Control: Move to Saturation (0x03), percent given, 0..254 sent.
    Saturation,
}

/// The capability shape; IAS Zone's Type depends on the device's ZoneType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// BinaryControl of this Type.
    BinaryControl(BinaryControlType),
    /// BinarySensor of this Type.
    BinarySensor(BinarySensorType),
    /// BinarySensor whose Type follows IAS Zone's ZoneType attribute.
    IasZone,
    /// LevelControl with its range.
    LevelControl(IoTLevelType, IoTUnitType, Range),
    /// LevelSensor with an optional low-level threshold.
    LevelSensor(IoTLevelType, IoTUnitType, Option<i64>),
}

/// One row of the mapping table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Cluster.
    pub cluster: u16,
    /// Attribute.
    pub attribute: u16,
    /// Stable key; the capability id is `ep<endpoint>.<key>`.
    pub key: &'static str,
    /// Default capability Name.
    pub name: &'static str,
    /// What the value means (capability Description).
    pub description: &'static str,
    /// Capability shape.
    pub shape: Shape,
    /// Value conversion.
    pub convert: Convert,
    /// Write support.
    pub control: Option<Control>,
    /// Configure Reporting: (min s, max s, reportable change in raw units).
    pub reporting: Option<(u16, u16, i64)>,
}

use IoTLevelType as L;
use IoTUnitType as U;

/// The mapping table.
pub const RULES: &[Rule] = &[
    Rule {
        cluster: id::ON_OFF,
        attribute: 0x0000,
        key: "switch",
        name: "Switch",
        description: "On/Off cluster OnOff",
        shape: Shape::BinaryControl(BinaryControlType::Switch),
        convert: Convert::Bool,
        control: Some(Control::OnOff),
        reporting: Some((0, 300, 0)),
    },
    Rule {
        cluster: id::LEVEL_CONTROL,
        attribute: 0x0000,
        key: "brightness",
        name: "Brightness",
        description: "Level Control CurrentLevel (0-254) as percent",
        shape: Shape::LevelControl(L::Brightness, U::Percent, PERCENT),
        convert: Convert::LevelPercent,
        control: Some(Control::Level),
        reporting: Some((1, 300, 1)),
    },
    Rule {
        cluster: id::COLOR_CONTROL,
        attribute: 0x0007,
        key: "colour_temperature",
        name: "Colour temperature",
        description: "Color Control ColorTemperatureMireds as Kelvin (1000000 / mireds)",
        shape: Shape::LevelControl(L::Temperature, U::Kelvin, KELVIN),
        convert: Convert::MiredToKelvin,
        control: Some(Control::ColourTemperature),
        reporting: Some((1, 300, 10)),
    },
    Rule {
        cluster: id::COLOR_CONTROL,
        attribute: 0x0000,
        key: "hue",
        name: "Hue",
        description: "Color Control CurrentHue (0-254) as degrees (vendor type X_USPHUB_Hue)",
        shape: Shape::LevelControl(L::XUsphubHue, U::Degree, DEGREES),
        convert: Convert::Hue,
        control: Some(Control::Hue),
        reporting: Some((1, 300, 1)),
    },
    Rule {
        cluster: id::COLOR_CONTROL,
        attribute: 0x0001,
        key: "saturation",
        name: "Saturation",
        description: "Color Control CurrentSaturation (0-254) as percent (vendor type X_USPHUB_Saturation)",
        shape: Shape::LevelControl(L::XUsphubSaturation, U::Percent, PERCENT),
        convert: Convert::LevelPercent,
        control: Some(Control::Saturation),
        reporting: Some((1, 300, 1)),
    },
    Rule {
        cluster: id::TEMPERATURE,
        attribute: 0x0000,
        key: "temperature",
        name: "Temperature",
        description: "Temperature Measurement MeasuredValue (0.01 degC)",
        shape: Shape::LevelSensor(L::Temperature, U::DegC, None),
        convert: Convert::Scaled(2),
        control: None,
        reporting: Some((10, 3600, 10)),
    },
    Rule {
        cluster: id::HUMIDITY,
        attribute: 0x0000,
        key: "humidity",
        name: "Humidity",
        description: "Relative Humidity Measurement MeasuredValue (0.01 %)",
        shape: Shape::LevelSensor(L::Humidity, U::Percent, None),
        convert: Convert::Scaled(2),
        control: None,
        reporting: Some((10, 3600, 100)),
    },
    Rule {
        cluster: id::PRESSURE,
        attribute: 0x0000,
        key: "pressure",
        name: "Pressure",
        description: "Pressure Measurement MeasuredValue (0.1 kPa)",
        shape: Shape::LevelSensor(L::Pressure, U::Pascal, None),
        convert: Convert::Times(100),
        control: None,
        reporting: Some((10, 3600, 1)),
    },
    Rule {
        cluster: id::ILLUMINANCE,
        attribute: 0x0000,
        key: "illuminance",
        name: "Illuminance",
        description: "Illuminance Measurement MeasuredValue (10000 log10 lx + 1)",
        shape: Shape::LevelSensor(L::Luminance, U::Lux, None),
        convert: Convert::Illuminance,
        control: None,
        reporting: Some((10, 3600, 500)),
    },
    Rule {
        cluster: id::OCCUPANCY,
        attribute: 0x0000,
        key: "occupancy",
        name: "Motion",
        description: "Occupancy Sensing Occupancy bit 0",
        shape: Shape::BinarySensor(BinarySensorType::MotionDetected),
        convert: Convert::Bit(0),
        control: None,
        reporting: Some((0, 600, 0)),
    },
    Rule {
        cluster: id::IAS_ZONE,
        attribute: 0x0002,
        key: "zone",
        name: "Zone",
        description: "IAS Zone ZoneStatus Alarm1 (bit 0); Type from ZoneType",
        shape: Shape::IasZone,
        convert: Convert::Bit(0),
        control: None,
        reporting: None,
    },
    Rule {
        cluster: id::POWER_CONFIG,
        attribute: 0x0021,
        key: "battery",
        name: "Battery",
        description: "Power Configuration BatteryPercentageRemaining (0.5 %)",
        shape: Shape::LevelSensor(L::Battery, U::Percent, Some(10)),
        convert: Convert::Scaled(0),
        control: None,
        reporting: Some((3600, 43200, 2)),
    },
    Rule {
        cluster: id::POWER_CONFIG,
        attribute: 0x0020,
        key: "battery_voltage",
        name: "Battery voltage",
        description: "Power Configuration BatteryVoltage (0.1 V)",
        shape: Shape::LevelSensor(L::Battery, U::Volt, None),
        convert: Convert::Scaled(1),
        control: None,
        reporting: None,
    },
    Rule {
        cluster: id::ELECTRICAL_MEASUREMENT,
        attribute: 0x050B,
        key: "power",
        name: "Power",
        description: "Electrical Measurement ActivePower x ACPowerMultiplier / ACPowerDivisor",
        shape: Shape::LevelSensor(L::Power, U::Watt, None),
        convert: Convert::MulDiv {
            mul: 0x0604,
            div: 0x0605,
        },
        control: None,
        reporting: Some((5, 600, 1)),
    },
    Rule {
        cluster: id::ELECTRICAL_MEASUREMENT,
        attribute: 0x0505,
        key: "voltage",
        name: "Voltage",
        description: "Electrical Measurement RMSVoltage x ACVoltageMultiplier / ACVoltageDivisor",
        shape: Shape::LevelSensor(L::Meter, U::Volt, None),
        convert: Convert::MulDiv {
            mul: 0x0600,
            div: 0x0601,
        },
        control: None,
        reporting: Some((5, 600, 10)),
    },
    Rule {
        cluster: id::ELECTRICAL_MEASUREMENT,
        attribute: 0x0508,
        key: "current",
        name: "Current",
        description: "Electrical Measurement RMSCurrent x ACCurrentMultiplier / ACCurrentDivisor",
        shape: Shape::LevelSensor(L::Meter, U::Ampere, None),
        convert: Convert::MulDiv {
            mul: 0x0602,
            div: 0x0603,
        },
        control: None,
        reporting: Some((5, 600, 10)),
    },
    Rule {
        cluster: id::METERING,
        attribute: 0x0000,
        key: "energy",
        name: "Energy",
        description: "Metering CurrentSummationDelivered x Multiplier / Divisor (kWh)",
        shape: Shape::LevelSensor(L::Energy, U::KilowattHour, None),
        convert: Convert::MulDiv {
            mul: 0x0301,
            div: 0x0302,
        },
        control: None,
        reporting: Some((10, 3600, 1)),
    },
    Rule {
        cluster: id::DOOR_LOCK,
        attribute: 0x0000,
        key: "lock",
        name: "Lock",
        description: "Door Lock LockState (1 locked, 2 unlocked)",
        shape: Shape::BinaryControl(BinaryControlType::Locked),
        convert: Convert::Equals(1),
        control: Some(Control::Lock),
        reporting: Some((0, 3600, 0)),
    },
    Rule {
        cluster: id::WINDOW_COVERING,
        attribute: 0x0008,
        key: "lift",
        name: "Position",
        description: "Window Covering CurrentPositionLiftPercentage (0 open, 100 closed)",
        shape: Shape::LevelControl(L::Position, U::Percent, PERCENT),
        convert: Convert::Scaled(0),
        control: Some(Control::Lift),
        reporting: Some((1, 3600, 1)),
    },
    Rule {
        cluster: id::THERMOSTAT,
        attribute: 0x0000,
        key: "local_temperature",
        name: "Room temperature",
        description: "Thermostat LocalTemperature (0.01 degC)",
        shape: Shape::LevelSensor(L::Temperature, U::DegC, None),
        convert: Convert::Scaled(2),
        control: None,
        reporting: Some((10, 3600, 10)),
    },
    Rule {
        cluster: id::THERMOSTAT,
        attribute: 0x0012,
        key: "heating_setpoint",
        name: "Heating setpoint",
        description: "Thermostat OccupiedHeatingSetpoint (0.01 degC)",
        shape: Shape::LevelControl(
            L::Temperature,
            U::DegC,
            Range {
                min: (5, 0),
                max: (30, 0),
                step: (5, 1),
            },
        ),
        convert: Convert::Scaled(2),
        control: Some(Control::WriteAttribute(2)),
        reporting: Some((1, 3600, 10)),
    },
];

/// The attributes read during the interview so conversions can scale (ZoneType,
/// multipliers and divisors), by cluster.
pub const SCALING_ATTRIBUTES: &[(u16, &[u16])] = &[
    (id::IAS_ZONE, &[0x0001]),
    (
        id::ELECTRICAL_MEASUREMENT,
        &[0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605],
    ),
    (id::METERING, &[0x0301, 0x0302]),
];

/// The rule for a cluster attribute.
pub fn rule_for(cluster: u16, attribute: u16) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.cluster == cluster && r.attribute == attribute)
}

/// The rule behind a capability key.
pub fn rule_by_key(key: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.key == key)
}

/// The capability id of `rule` on endpoint `ep`.
pub fn capability_id(ep: u8, rule: &Rule) -> String {
    format!("ep{ep}.{}", rule.key)
}

/// Splits a capability id into endpoint and rule.
pub fn parse_capability_id(id: &str) -> Option<(u8, &'static Rule)> {
    let (ep, key) = id.strip_prefix("ep")?.split_once('.')?;
    Some((ep.parse().ok()?, rule_by_key(key)?))
}

fn zone_type(ep: u8, cache: &AttrCache) -> BinarySensorType {
    match cache
        .get(&(ep, id::IAS_ZONE, 0x0001))
        .and_then(ZclValue::as_i64)
    {
        Some(0x000D) => BinarySensorType::MotionDetected,
        Some(0x0028) => BinarySensorType::SmokeDetected,
        Some(0x002A) => BinarySensorType::WaterDetected,
        Some(0x002B) => BinarySensorType::CarbonMonoxideDetected,
        // 0x0015 contact switch, and unknown zone types: a contact is the common case.
        _ => BinarySensorType::DoorOpen,
    }
}

/// Builds the capability for `rule` on endpoint `ep`.
pub fn capability(ep: u8, rule: &Rule, cache: &AttrCache) -> Capability {
    let kind = match rule.shape {
        Shape::BinaryControl(kind) => CapabilityKind::BinaryControl { kind },
        Shape::BinarySensor(kind) => CapabilityKind::BinarySensor { kind },
        Shape::IasZone => CapabilityKind::BinarySensor {
            kind: zone_type(ep, cache),
        },
        Shape::LevelControl(kind, unit, range) => CapabilityKind::LevelControl {
            kind,
            unit,
            min: Decimal::new(range.min.0, range.min.1),
            max: Decimal::new(range.max.0, range.max.1),
            step: Some(Decimal::new(range.step.0, range.step.1)),
        },
        Shape::LevelSensor(kind, unit, low) => CapabilityKind::LevelSensor {
            kind,
            unit,
            low_level_threshold: low.map(Decimal::from_int),
            high_level_threshold: None,
        },
    };
    let mut cap = Capability::new(CapabilityId::new(capability_id(ep, rule)), rule.name, kind);
    cap.description = rule.description.to_owned();
    cap.value = cache
        .get(&(ep, rule.cluster, rule.attribute))
        .and_then(|v| convert(ep, rule, v, cache));
    cap
}

/// Converts a raw attribute value to the capability's value; `None` for a value that does
/// not fit (wrong type, ZCL "invalid" markers).
pub fn convert(ep: u8, rule: &Rule, raw: &ZclValue, cache: &AttrCache) -> Option<Value> {
    let int = raw.as_i64();
    Some(match rule.convert {
        Convert::Bool => Value::Bool(int? != 0),
        Convert::Equals(x) => Value::Bool(int? == x),
        Convert::Bit(b) => Value::Bool(int? >> b & 1 == 1),
        Convert::Scaled(places) => {
            let v = int?;
            // 0x8000 (int16) / 0xFFFF (uint16) / 0xFF (uint8): "invalid measurement".
            if v == -0x8000 || v == 0xFFFF || (rule.cluster == id::POWER_CONFIG && v == 0xFF) {
                return None;
            }
            let places = if rule.key == "battery" { 1 } else { places };
            let v = if rule.key == "battery" { v * 5 } else { v };
            Value::Decimal(Decimal::new(v, places))
        }
        Convert::Times(f) => Value::Decimal(Decimal::from_int(int?.checked_mul(f)?)),
        Convert::LevelPercent => {
            Value::Decimal(Decimal::new((int?.clamp(0, 254) * 1000 + 127) / 254, 1))
        }
        Convert::MiredToKelvin => {
            // 0 is no colour temperature, 0xFFFF "undefined".
            let mireds = int?;
            if mireds <= 0 || mireds >= 0xFFFF {
                return None;
            }
            Value::Decimal(Decimal::from_int((1_000_000 + mireds / 2) / mireds))
        }
        Convert::Hue => {
            let v = int?.clamp(0, 254);
            Value::Decimal(Decimal::from_int((v * 360 + 127) / 254))
        }
        Convert::Illuminance => {
            let v = int?;
            if v <= 0 || v == 0xFFFF {
                return Some(Value::Decimal(Decimal::from_int(0)));
            }
            Value::Decimal(Decimal::from_f64(
                10f64.powf((v as f64 - 1.0) / 10000.0),
                1,
            )?)
        }
        Convert::MulDiv { mul, div } => {
            let get = |a: u16| {
                cache
                    .get(&(ep, rule.cluster, a))
                    .and_then(ZclValue::as_i64)
                    .filter(|v| *v > 0)
            };
            let (m, d) = (get(mul).unwrap_or(1), get(div).unwrap_or(1));
            // Up to 3 decimal places keeps kWh from Wh-resolution meters exact.
            let scaled = i128::from(int?) * i128::from(m) * 1000 / i128::from(d);
            Value::Decimal(Decimal::new(i64::try_from(scaled).ok()?, 3))
        }
    })
}

/// Level Control level (0..254) for a percent value.
pub fn percent_to_level(pct: Decimal) -> u8 {
    let v = (pct.to_f64() * 254.0 / 100.0).round();
    v.clamp(0.0, 254.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(cluster: u16, attr: u16, raw: ZclValue, cache: &AttrCache) -> Option<Value> {
        convert(1, rule_for(cluster, attr).unwrap(), &raw, cache)
    }

    #[test]
    fn colour_temperature_mireds_become_kelvin() {
        let c = AttrCache::new();
        let k = |m: u64| conv(id::COLOR_CONTROL, 0x0007, ZclValue::Unsigned(m), &c);
        assert_eq!(k(370), Some(Value::Decimal(Decimal::from_int(2703))));
        assert_eq!(k(153), Some(Value::Decimal(Decimal::from_int(6536))));
        assert_eq!(k(0), None);
        assert_eq!(k(0xFFFF), None);
        let rule = rule_for(id::COLOR_CONTROL, 0x0007).unwrap();
        let cap = capability(1, rule, &c);
        assert_eq!(cap.kind.type_str(), "Temperature");
        assert!(matches!(
            cap.kind,
            CapabilityKind::LevelControl {
                unit: IoTUnitType::Kelvin,
                ..
            }
        ));
    }

    #[test]
    fn measurement_clusters_convert_with_zcl_scaling_to_tr181_units() {
        let c = AttrCache::new();
        assert_eq!(
            conv(id::TEMPERATURE, 0, ZclValue::Signed(2150), &c),
            Some(Value::Decimal(Decimal::new(2150, 2)))
        );
        assert_eq!(
            conv(id::TEMPERATURE, 0, ZclValue::Signed(-550), &c),
            Some(Value::Decimal(Decimal::new(-55, 1)))
        );
        assert_eq!(
            conv(id::TEMPERATURE, 0, ZclValue::Signed(-0x8000), &c),
            None
        );
        assert_eq!(
            conv(id::HUMIDITY, 0, ZclValue::Unsigned(4500), &c),
            Some(Value::Decimal(Decimal::from_int(45)))
        );
        assert_eq!(
            conv(id::PRESSURE, 0, ZclValue::Signed(1013), &c),
            Some(Value::Decimal(Decimal::from_int(101_300)))
        );
        assert_eq!(
            conv(id::ILLUMINANCE, 0, ZclValue::Unsigned(20_001), &c),
            Some(Value::Decimal(Decimal::from_int(100)))
        );
        assert_eq!(
            conv(id::POWER_CONFIG, 0x0021, ZclValue::Unsigned(200), &c),
            Some(Value::Decimal(Decimal::from_int(100)))
        );
        assert_eq!(
            conv(id::POWER_CONFIG, 0x0021, ZclValue::Unsigned(0xFF), &c),
            None
        );
        assert_eq!(
            conv(id::POWER_CONFIG, 0x0020, ZclValue::Unsigned(30), &c),
            Some(Value::Decimal(Decimal::from_int(3)))
        );
        assert_eq!(
            conv(id::OCCUPANCY, 0, ZclValue::Unsigned(1), &c),
            Some(Value::Bool(true))
        );
        assert_eq!(
            conv(id::LEVEL_CONTROL, 0, ZclValue::Unsigned(254), &c),
            Some(Value::Decimal(Decimal::from_int(100)))
        );
        assert_eq!(
            conv(id::LEVEL_CONTROL, 0, ZclValue::Unsigned(127), &c),
            Some(Value::Decimal(Decimal::from_int(50)))
        );
    }

    #[test]
    fn electrical_values_use_the_devices_multiplier_and_divisor() {
        let mut c = AttrCache::new();
        c.insert(
            (1, id::ELECTRICAL_MEASUREMENT, 0x0601),
            ZclValue::Unsigned(10),
        );
        c.insert((1, id::METERING, 0x0302), ZclValue::Unsigned(1000));
        assert_eq!(
            conv(
                id::ELECTRICAL_MEASUREMENT,
                0x0505,
                ZclValue::Unsigned(2301),
                &c
            ),
            Some(Value::Decimal(Decimal::new(2301, 1)))
        );
        assert_eq!(
            conv(id::METERING, 0, ZclValue::Unsigned(123_456), &c),
            Some(Value::Decimal(Decimal::new(123_456, 3)))
        );
        // No divisor known: 1.
        assert_eq!(
            conv(id::ELECTRICAL_MEASUREMENT, 0x050B, ZclValue::Signed(60), &c),
            Some(Value::Decimal(Decimal::from_int(60)))
        );
    }

    #[test]
    fn ias_zone_type_picks_the_binary_sensor_type() {
        let mut c = AttrCache::new();
        let rule = rule_for(id::IAS_ZONE, 2).unwrap();
        c.insert((1, id::IAS_ZONE, 1), ZclValue::Unsigned(0x002A));
        assert_eq!(
            capability(1, rule, &c).kind,
            CapabilityKind::BinarySensor {
                kind: BinarySensorType::WaterDetected
            }
        );
        c.insert((1, id::IAS_ZONE, 1), ZclValue::Unsigned(0x0015));
        assert_eq!(
            capability(1, rule, &c).kind,
            CapabilityKind::BinarySensor {
                kind: BinarySensorType::DoorOpen
            }
        );
    }

    #[test]
    fn capability_ids_round_trip_and_rules_are_unique() {
        let rule = rule_for(id::ON_OFF, 0).unwrap();
        assert_eq!(capability_id(2, rule), "ep2.switch");
        assert_eq!(parse_capability_id("ep2.switch"), Some((2, rule)));
        assert_eq!(parse_capability_id("ep2.toaster"), None);
        for (i, r) in RULES.iter().enumerate() {
            assert!(RULES[i + 1..].iter().all(|o| o.key != r.key && (o.cluster, o.attribute) != (r.cluster, r.attribute)));
        }
    }

    #[test]
    fn lock_cover_and_thermostat_attributes_convert() {
        let c = AttrCache::new();
        assert_eq!(
            conv(id::DOOR_LOCK, 0, ZclValue::Unsigned(1), &c),
            Some(Value::Bool(true))
        );
        assert_eq!(
            conv(id::DOOR_LOCK, 0, ZclValue::Unsigned(2), &c),
            Some(Value::Bool(false))
        );
        assert_eq!(
            conv(id::WINDOW_COVERING, 8, ZclValue::Unsigned(40), &c),
            Some(Value::Decimal(Decimal::from_int(40)))
        );
        assert_eq!(
            conv(id::THERMOSTAT, 0x12, ZclValue::Signed(2050), &c),
            Some(Value::Decimal(Decimal::new(205, 1)))
        );
        let rule = rule_for(id::THERMOSTAT, 0x12).unwrap();
        let CapabilityKind::LevelControl { min, max, step, .. } = capability(1, rule, &c).kind
        else {
            panic!()
        };
        assert_eq!(
            (min, max, step),
            (
                Decimal::from_int(5),
                Decimal::from_int(30),
                Some(Decimal::new(5, 1))
            )
        );
    }

    #[test]
    fn percent_maps_to_level_range() {
        assert_eq!(percent_to_level(Decimal::from_int(100)), 254);
        assert_eq!(percent_to_level(Decimal::from_int(0)), 0);
        assert_eq!(percent_to_level(Decimal::from_int(50)), 127);
    }
}
