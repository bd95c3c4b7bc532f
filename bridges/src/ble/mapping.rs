//! The one table from BLE readings to TR-181 IoT capabilities (class, Type, Unit, unit
//! conversion) and vendor events. Documented row by row in `docs/DEVICES.md`.
//!
//! Where `IoTUnitType` has no unit for a quantity (µg/m³, µS/cm, mg/m³) the capability uses
//! `-` and its Description names the real unit; quantities with no fitting `IoTLevelType` or
//! `BinarySensor` Type are not mounted (see the document for the list).

use crate::api::{
    BinarySensorType as BT, Capability, CapabilityKind, Decimal, EventArgs, IoTBlobSensorType,
    IoTLevelType as LT, IoTUnitType as U, Value,
};

use super::reading::{BinaryKind, ButtonEvent, DimmerEvent, Quantity, Reading};

/// How a level is converted from the advert's unit to the capability's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Convert {
    /// Same unit.
    Same,
    /// Exact multiplication by `mult × 10^-scale`.
    Exact {
        /// Multiplier.
        mult: i64,
        /// Decimal places of the multiplier.
        scale: u8,
    },
    /// Multiplication by an inexact factor, rounded to `places`.
    Factor {
        /// The factor.
        factor: f64,
        /// Decimal places kept.
        places: u8,
    },
}

/// One row: a level quantity as a LevelSensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelRow {
    /// The reading's quantity.
    pub quantity: Quantity,
    /// Capability id (stable within the device).
    pub key: &'static str,
    /// Default capability name.
    pub name: &'static str,
    /// `LevelSensor.Type`.
    pub kind: LT,
    /// `LevelSensor.Unit`.
    pub unit: U,
    /// Conversion into `unit`.
    pub convert: Convert,
    /// `LevelSensor.Description`.
    pub description: &'static str,
}

const fn row(
    quantity: Quantity,
    key: &'static str,
    name: &'static str,
    kind: LT,
    unit: U,
    convert: Convert,
    description: &'static str,
) -> LevelRow {
    LevelRow {
        quantity,
        key,
        name,
        kind,
        unit,
        convert,
        description,
    }
}

use Convert::Same;
use Quantity as Q;

/// Level quantities that become LevelSensor capabilities.
pub const LEVELS: &[LevelRow] = &[
    row(
        Q::Battery,
        "battery",
        "Battery",
        LT::Battery,
        U::Percent,
        Same,
        "Battery charge",
    ),
    row(
        Q::Temperature,
        "temperature",
        "Temperature",
        LT::Temperature,
        U::DegC,
        Same,
        "Temperature",
    ),
    row(
        Q::DewPoint,
        "dew_point",
        "Dew point",
        LT::Temperature,
        U::DegC,
        Same,
        "Dew point",
    ),
    row(
        Q::Humidity,
        "humidity",
        "Humidity",
        LT::Humidity,
        U::Percent,
        Same,
        "Relative humidity",
    ),
    row(
        Q::Pressure,
        "pressure",
        "Pressure",
        LT::Pressure,
        U::Pascal,
        Convert::Exact {
            mult: 100,
            scale: 0,
        },
        "Atmospheric pressure",
    ),
    row(
        Q::Illuminance,
        "illuminance",
        "Illuminance",
        LT::Luminance,
        U::Lux,
        Same,
        "Illuminance",
    ),
    row(
        Q::MassKg,
        "mass",
        "Mass",
        LT::Weight,
        U::Kilogram,
        Same,
        "Mass",
    ),
    row(
        Q::MassLb,
        "mass",
        "Mass",
        LT::Weight,
        U::Kilogram,
        Convert::Factor {
            factor: 0.453_592_37,
            places: 3,
        },
        "Mass (sent in lb)",
    ),
    row(
        Q::Count,
        "count",
        "Count",
        LT::Counter,
        U::Dimensionless,
        Same,
        "Counter",
    ),
    row(
        Q::Energy,
        "energy",
        "Energy",
        LT::Energy,
        U::KilowattHour,
        Same,
        "Energy",
    ),
    row(
        Q::Power,
        "power",
        "Power",
        LT::Power,
        U::Watt,
        Same,
        "Power",
    ),
    row(
        Q::Voltage,
        "voltage",
        "Voltage",
        LT::Meter,
        U::Volt,
        Same,
        "Voltage",
    ),
    row(
        Q::Current,
        "current",
        "Current",
        LT::Meter,
        U::Ampere,
        Same,
        "Current",
    ),
    row(
        Q::Pm25,
        "pm25",
        "PM2.5",
        LT::Concentration,
        U::Dimensionless,
        Same,
        "PM2.5 in µg/m³",
    ),
    row(
        Q::Pm10,
        "pm10",
        "PM10",
        LT::Concentration,
        U::Dimensionless,
        Same,
        "PM10 in µg/m³",
    ),
    row(
        Q::Tvoc,
        "tvoc",
        "TVOC",
        LT::Concentration,
        U::Dimensionless,
        Same,
        "VOC in µg/m³",
    ),
    row(
        Q::Co2,
        "co2",
        "CO2",
        LT::Concentration,
        U::PartsPerMillion,
        Same,
        "Carbon dioxide",
    ),
    row(
        Q::Moisture,
        "moisture",
        "Moisture",
        LT::Humidity,
        U::Percent,
        Same,
        "Soil moisture",
    ),
    row(
        Q::Rotation,
        "rotation",
        "Rotation",
        LT::Position,
        U::Degree,
        Same,
        "Rotation",
    ),
    row(
        Q::DistanceMm,
        "distance",
        "Distance",
        LT::Distance,
        U::Millimetre,
        Same,
        "Distance",
    ),
    row(
        Q::DistanceM,
        "distance",
        "Distance",
        LT::Distance,
        U::Metre,
        Same,
        "Distance",
    ),
    row(
        Q::Duration,
        "duration",
        "Duration",
        LT::Duration,
        U::Second,
        Same,
        "Duration",
    ),
    row(
        Q::Speed,
        "speed",
        "Speed",
        LT::Speed,
        U::MetrePerSecond,
        Same,
        "Speed",
    ),
    row(
        Q::UvIndex,
        "uv_index",
        "UV index",
        LT::Radiation,
        U::UvIndex,
        Same,
        "UV index",
    ),
    row(
        Q::VolumeL,
        "volume",
        "Volume",
        LT::Volume,
        U::Litre,
        Same,
        "Volume",
    ),
    row(
        Q::VolumeMl,
        "volume",
        "Volume",
        LT::Volume,
        U::Millilitre,
        Same,
        "Volume",
    ),
    row(
        Q::VolumeFlow,
        "flow",
        "Flow",
        LT::Flow,
        U::LitrePerSecond,
        Convert::Factor {
            factor: 1000.0 / 3600.0,
            places: 4,
        },
        "Volume flow rate (sent in m³/h)",
    ),
    row(
        Q::Gas,
        "gas",
        "Gas",
        LT::Volume,
        U::CubicMetre,
        Same,
        "Gas meter",
    ),
    row(
        Q::Water,
        "water",
        "Water",
        LT::Volume,
        U::Litre,
        Same,
        "Water meter",
    ),
    row(
        Q::VolumeStorage,
        "volume_storage",
        "Stored volume",
        LT::Volume,
        U::Litre,
        Same,
        "Stored volume",
    ),
    row(
        Q::Conductivity,
        "conductivity",
        "Conductivity",
        LT::Conductivity,
        U::Dimensionless,
        Same,
        "Conductivity in µS/cm",
    ),
    row(
        Q::Direction,
        "direction",
        "Direction",
        LT::Position,
        U::Degree,
        Same,
        "Direction",
    ),
    row(
        Q::Precipitation,
        "precipitation",
        "Precipitation",
        LT::Depth,
        U::Millimetre,
        Same,
        "Precipitation",
    ),
    row(
        Q::RotationalSpeed,
        "rotational_speed",
        "Rotational speed",
        LT::Speed,
        U::Rpm,
        Same,
        "Rotational speed",
    ),
    row(
        Q::Formaldehyde,
        "formaldehyde",
        "Formaldehyde",
        LT::Concentration,
        U::Dimensionless,
        Same,
        "Formaldehyde in mg/m³",
    ),
];

/// Two-state readings that become BinarySensor capabilities: (kind, id, name, Type).
pub const BINARIES: &[(BinaryKind, &str, &str, BT)] = &[
    (BinaryKind::Opening, "opening", "Opening", BT::DoorOpen),
    (BinaryKind::Door, "door", "Door", BT::DoorOpen),
    (
        BinaryKind::GarageDoor,
        "garage_door",
        "Garage door",
        BT::DoorOpen,
    ),
    (BinaryKind::Window, "window", "Window", BT::WindowOpen),
    (BinaryKind::Motion, "motion", "Motion", BT::MotionDetected),
    (
        BinaryKind::Occupancy,
        "occupancy",
        "Occupancy",
        BT::MotionDetected,
    ),
    (
        BinaryKind::Presence,
        "presence",
        "Presence",
        BT::MotionDetected,
    ),
    (
        BinaryKind::Moisture,
        "water_leak",
        "Water leak",
        BT::WaterDetected,
    ),
    (BinaryKind::Smoke, "smoke", "Smoke", BT::SmokeDetected),
    (
        BinaryKind::CarbonMonoxide,
        "carbon_monoxide",
        "Carbon monoxide",
        BT::CarbonMonoxideDetected,
    ),
];

/// Battery level at or below which `LowLevel` is true by default.
pub const BATTERY_LOW_THRESHOLD: i64 = 20;

/// Vendor event emitted for button objects (arguments `Button`, `Event`).
pub const EVENT_BUTTON: &str = "ButtonPress";
/// Vendor event emitted for dimmer objects (arguments `Dimmer`, `Direction`, `Steps`).
pub const EVENT_DIMMER: &str = "DimmerRotate";

/// What a reading becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// A capability with its current value.
    Capability(Capability),
    /// An event (name, arguments without the occurrence index).
    Event(&'static str, EventArgs),
    /// Firmware version of the device.
    Firmware(String),
    /// Nothing the data model shows (packet id, timestamps, quantities without a TR-181 fit,
    /// idle buttons).
    Ignored,
}

fn convert(v: Decimal, c: Convert) -> Decimal {
    match c {
        Convert::Same => v,
        Convert::Exact { mult, scale } => v
            .mantissa()
            .checked_mul(mult)
            .map(|m| Decimal::new(m, v.scale().saturating_add(scale)))
            .unwrap_or(v),
        Convert::Factor { factor, places } => {
            Decimal::from_f64(v.to_f64() * factor, places).unwrap_or(v)
        }
    }
}

/// The level row for a quantity.
pub fn level_row(q: Quantity) -> Option<&'static LevelRow> {
    LEVELS.iter().find(|r| r.quantity == q)
}

/// Maps one reading (capability ids are the table keys; the caller adds `_2`, `_3` for
/// repeated keys in one frame).
pub fn map(reading: &Reading) -> Mapped {
    match reading {
        Reading::Level { quantity, value } => {
            let Some(r) = level_row(*quantity) else {
                return Mapped::Ignored;
            };
            let mut c = Capability::new(
                r.key,
                r.name,
                CapabilityKind::LevelSensor {
                    kind: r.kind,
                    unit: r.unit,
                    low_level_threshold: (r.quantity == Q::Battery)
                        .then(|| Decimal::from_int(BATTERY_LOW_THRESHOLD)),
                    high_level_threshold: None,
                },
            );
            c.description = r.description.to_owned();
            c.value = Some(Value::Decimal(convert(*value, r.convert)));
            Mapped::Capability(c)
        }
        Reading::Binary { kind, value } => {
            let Some((_, key, name, t)) = BINARIES.iter().find(|(k, ..)| k == kind) else {
                return Mapped::Ignored;
            };
            let mut c = Capability::new(*key, *name, CapabilityKind::BinarySensor { kind: *t });
            c.value = Some(Value::Bool(*value));
            Mapped::Capability(c)
        }
        Reading::Button(ButtonEvent::None) => Mapped::Ignored,
        Reading::Button(ev) => {
            let mut a = EventArgs::new();
            a.insert("Event".into(), ev.as_str().into());
            Mapped::Event(EVENT_BUTTON, a)
        }
        Reading::Dimmer {
            event: DimmerEvent::None,
            ..
        } => Mapped::Ignored,
        Reading::Dimmer { event, steps } => {
            let mut a = EventArgs::new();
            a.insert("Direction".into(), event.as_str().into());
            a.insert("Steps".into(), steps.to_string());
            Mapped::Event(EVENT_DIMMER, a)
        }
        Reading::Text(s) => blob("text", "Text", IoTBlobSensorType::Text, s.as_bytes()),
        Reading::Raw(b) => blob("raw", "Raw data", IoTBlobSensorType::Raw, b),
        Reading::Firmware(f) => Mapped::Firmware(f.clone()),
        Reading::Timestamp(_) | Reading::PacketId(_) | Reading::DeviceTypeId(_) => Mapped::Ignored,
    }
}

fn blob(key: &str, name: &str, kind: IoTBlobSensorType, data: &[u8]) -> Mapped {
    let mut c = Capability::new(key, name, CapabilityKind::BlobSensor { kind });
    c.value = Some(Value::Bytes(data.to_vec()));
    Mapped::Capability(c)
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
