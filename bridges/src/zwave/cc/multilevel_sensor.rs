//! Multilevel Sensor CC (0x31, SDS13781 "Multilevel Sensor Command Class", v1-11) and the
//! table mapping its sensor types and scales to TR-181 `IoTLevelType` and `IoTUnitType`.
//!
//! Report: `[0x31, 0x05, type, precision(3)|scale(2)|size(3), value(size, signed BE)]`.
//! Scales TR-181 has no unit for are converted (°F to degC, Btu/h to W, kPa to Pa, ...):
//! a Controller always sees one unit per Type.

use std::borrow::Cow;

use super::{CapDef, CcError, CcId, CcSpec, Decoded, NodeFact, need, read_only, read_scaled};
use crate::api::{CapabilityKind, Decimal, IoTLevelType, IoTUnitType, Value};
use crate::zwave::serial::functions::bitmask_values;

/// SENSOR_MULTILEVEL_SUPPORTED_GET_SENSOR (v5).
pub const SUPPORTED_GET: u8 = 0x01;
/// SENSOR_MULTILEVEL_SUPPORTED_SENSOR_REPORT (v5).
pub const SUPPORTED_REPORT: u8 = 0x02;
/// SENSOR_MULTILEVEL_GET.
pub const GET: u8 = 0x04;
/// SENSOR_MULTILEVEL_REPORT.
pub const REPORT: u8 = 0x05;

/// How a scale's raw value becomes the TR-181 unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Convert {
    /// Already in the unit.
    Same,
    /// `x * factor`.
    Factor(f64),
    /// Fahrenheit to Celsius.
    FahrenheitToCelsius,
}

/// One sensor type: property, name, Type, and per scale (0-3) the unit and conversion.
pub struct SensorType {
    /// Sensor type id.
    pub id: u8,
    /// Capability property.
    pub property: &'static str,
    /// Default name.
    pub name: &'static str,
    /// TR-181 Type.
    pub level: IoTLevelType,
    /// Scales 0..=3 -> unit and conversion; `None` = not mapped.
    pub scales: [Option<(IoTUnitType, Convert)>; 4],
}

use Convert::{Factor, FahrenheitToCelsius as F2C, Same};
use IoTLevelType as L;
use IoTUnitType as U;

const fn st(
    id: u8,
    property: &'static str,
    name: &'static str,
    level: IoTLevelType,
    scales: [Option<(IoTUnitType, Convert)>; 4],
) -> SensorType {
    SensorType {
        id,
        property,
        name,
        level,
        scales,
    }
}

const TEMP: [Option<(IoTUnitType, Convert)>; 4] =
    [Some((U::DegC, Same)), Some((U::DegC, F2C)), None, None];
const PRESSURE: [Option<(IoTUnitType, Convert)>; 4] = [
    Some((U::Pascal, Factor(1000.0))),
    Some((U::Pascal, Factor(3386.389))),
    None,
    None,
];

/// The sensor type table.
pub const TYPES: &[SensorType] = &[
    st(0x01, "temperature", "Air temperature", L::Temperature, TEMP),
    st(
        0x03,
        "luminance",
        "Illuminance",
        L::Luminance,
        [Some((U::Percent, Same)), Some((U::Lux, Same)), None, None],
    ),
    st(
        0x04,
        "power",
        "Power",
        L::Power,
        [
            Some((U::Watt, Same)),
            Some((U::Watt, Factor(0.293_071_07))),
            None,
            None,
        ],
    ),
    st(
        0x05,
        "humidity",
        "Humidity",
        L::Humidity,
        [Some((U::Percent, Same)), None, None, None],
    ),
    st(
        0x06,
        "velocity",
        "Velocity",
        L::Speed,
        [
            Some((U::MetrePerSecond, Same)),
            Some((U::MetrePerSecond, Factor(0.447_04))),
            None,
            None,
        ],
    ),
    st(
        0x08,
        "atmospheric_pressure",
        "Atmospheric pressure",
        L::Pressure,
        PRESSURE,
    ),
    st(
        0x09,
        "barometric_pressure",
        "Barometric pressure",
        L::Pressure,
        PRESSURE,
    ),
    st(0x0B, "dew_point", "Dew point", L::Temperature, TEMP),
    st(
        0x0D,
        "tide_level",
        "Tide level",
        L::Depth,
        [
            Some((U::Metre, Same)),
            Some((U::Metre, Factor(0.3048))),
            None,
            None,
        ],
    ),
    st(
        0x0E,
        "weight",
        "Weight",
        L::Weight,
        [
            Some((U::Kilogram, Same)),
            Some((U::Kilogram, Factor(0.453_592_37))),
            None,
            None,
        ],
    ),
    st(
        0x0F,
        "voltage",
        "Voltage",
        L::Meter,
        [
            Some((U::Volt, Same)),
            Some((U::Volt, Factor(0.001))),
            None,
            None,
        ],
    ),
    st(
        0x10,
        "current",
        "Current",
        L::Meter,
        [
            Some((U::Ampere, Same)),
            Some((U::Ampere, Factor(0.001))),
            None,
            None,
        ],
    ),
    st(
        0x11,
        "co2",
        "CO2 level",
        L::Concentration,
        [Some((U::PartsPerMillion, Same)), None, None, None],
    ),
    st(
        0x12,
        "air_flow",
        "Air flow",
        L::Flow,
        [
            Some((U::CubicMetrePerSecond, Factor(1.0 / 3600.0))),
            Some((U::CubicMetrePerSecond, Factor(0.000_471_947))),
            None,
            None,
        ],
    ),
    st(
        0x13,
        "tank_capacity",
        "Tank capacity",
        L::Volume,
        [
            Some((U::Litre, Same)),
            Some((U::CubicMetre, Same)),
            Some((U::Litre, Factor(3.785_411_78))),
            None,
        ],
    ),
    st(
        0x14,
        "distance",
        "Distance",
        L::Distance,
        [
            Some((U::Metre, Same)),
            Some((U::Centimetre, Same)),
            Some((U::Metre, Factor(0.3048))),
            None,
        ],
    ),
    st(
        0x15,
        "angle_position",
        "Angle position",
        L::Position,
        [
            Some((U::Percent, Same)),
            Some((U::Degree, Same)),
            Some((U::Degree, Same)),
            None,
        ],
    ),
    st(
        0x16,
        "rotation",
        "Rotation",
        L::Speed,
        [Some((U::Rpm, Same)), Some((U::Hertz, Same)), None, None],
    ),
    st(
        0x17,
        "water_temperature",
        "Water temperature",
        L::Temperature,
        TEMP,
    ),
    st(
        0x18,
        "soil_temperature",
        "Soil temperature",
        L::Temperature,
        TEMP,
    ),
    st(
        0x1B,
        "ultraviolet",
        "Ultraviolet",
        L::Radiation,
        [Some((U::UvIndex, Same)), None, None, None],
    ),
    st(
        0x1D,
        "conductivity",
        "Electrical conductivity",
        L::Conductivity,
        [Some((U::Siemens, Same)), None, None, None],
    ),
    st(
        0x1E,
        "loudness",
        "Loudness",
        L::Intensity,
        [Some((U::Decibel, Same)), None, None, None],
    ),
    st(
        0x1F,
        "moisture",
        "Moisture",
        L::Humidity,
        [Some((U::Percent, Same)), None, None, None],
    ),
    st(
        0x21,
        "time",
        "Time",
        L::Duration,
        [Some((U::Second, Same)), None, None, None],
    ),
    st(
        0x22,
        "target_temperature",
        "Target temperature",
        L::Temperature,
        TEMP,
    ),
    st(
        0x28,
        "co",
        "CO level",
        L::Concentration,
        [None, Some((U::PartsPerMillion, Same)), None, None],
    ),
];

/// The table entry.
pub const CC: CcSpec = CcSpec {
    id: CcId::MultilevelSensor,
    name: "Multilevel Sensor",
    controls: super::none_controls,
    interview: |v| {
        if v >= 5 {
            vec![vec![0x31, SUPPORTED_GET]]
        } else {
            vec![vec![0x31, GET]]
        }
    },
    follow_up: |fact, _| match fact {
        NodeFact::Supported { ids, .. } => ids.iter().map(|t| vec![0x31, GET, *t, 0x00]).collect(),
        _ => Vec::new(),
    },
    decode,
    set: read_only,
    get: |property, v| {
        let t = TYPES.iter().find(|t| t.property == property)?;
        Some(if v >= 5 {
            vec![0x31, GET, t.id, 0x00]
        } else {
            vec![0x31, GET]
        })
    },
};

/// Looks up a sensor type.
pub fn sensor_type(id: u8) -> Option<&'static SensorType> {
    TYPES.iter().find(|t| t.id == id)
}

fn def(t: &SensorType, unit: IoTUnitType) -> CapDef {
    CapDef {
        cc: CcId::MultilevelSensor,
        property: Cow::Borrowed(t.property),
        name: Cow::Borrowed(t.name),
        kind: CapabilityKind::LevelSensor {
            kind: t.level,
            unit,
            low_level_threshold: None,
            high_level_threshold: None,
        },
    }
}

/// Converts a raw reading to the mapped unit, keeping at least the reading's precision.
pub fn convert(raw: Decimal, how: Convert) -> Option<Decimal> {
    let places = raw.scale().max(2);
    match how {
        Same => Some(raw),
        Factor(f) => Decimal::from_f64(raw.to_f64() * f, places),
        F2C => Decimal::from_f64((raw.to_f64() - 32.0) * 5.0 / 9.0, places),
    }
}

fn decode(cmd: &[u8]) -> Result<Vec<Decoded>, CcError> {
    need(cmd, 2, CcId::MultilevelSensor)?;
    match cmd[1] {
        REPORT => {
            need(cmd, 5, CcId::MultilevelSensor)?;
            let (raw, scale) = read_scaled(cmd[3], &cmd[4..]).ok_or(CcError::Invalid {
                cc: CcId::MultilevelSensor,
                reason: "bad value size",
            })?;
            let Some(t) = sensor_type(cmd[2]) else {
                tracing::info!(
                    sensor_type = cmd[2],
                    "zwave: unmapped multilevel sensor type"
                );
                return Ok(Vec::new());
            };
            let Some((unit, how)) = t.scales[usize::from(scale)] else {
                tracing::info!(
                    sensor_type = cmd[2],
                    scale,
                    "zwave: unmapped multilevel sensor scale"
                );
                return Ok(Vec::new());
            };
            Ok(convert(raw, how)
                .map(|v| Decoded::Reading {
                    def: def(t, unit),
                    value: Value::Decimal(v),
                })
                .into_iter()
                .collect())
        }
        SUPPORTED_REPORT => Ok(vec![Decoded::Fact(NodeFact::Supported {
            cc: CcId::MultilevelSensor,
            ids: bitmask_values(&cmd[2..]),
        })]),
        _ => Ok(Vec::new()),
    }
}

/// SENSOR_MULTILEVEL_REPORT (simulator side): `raw` is the value times 10^precision.
pub fn report(sensor_type: u8, scale: u8, precision: u8, raw: i32) -> Vec<u8> {
    let mut out = vec![0x31, REPORT, sensor_type];
    out.extend(super::write_scaled(raw, precision, scale));
    out
}

/// SENSOR_MULTILEVEL_SUPPORTED_SENSOR_REPORT (simulator side).
pub fn supported_report(types: &[u8]) -> Vec<u8> {
    let mut out = vec![0x31, SUPPORTED_REPORT];
    let len = types
        .iter()
        .map(|t| usize::from(*t).div_ceil(8))
        .max()
        .unwrap_or(1);
    out.extend(crate::zwave::serial::functions::bitmask_from(
        types.iter().copied(),
        len,
    ));
    out
}
