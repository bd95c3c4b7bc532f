//! What a BLE sensor reported, independent of the advertisement format: BTHome and MiBeacon
//! decoders both produce [`Reading`]s, and one mapping table (`mapping.rs`) turns them into
//! TR-181 capabilities.

use crate::api::Decimal;

/// A measured quantity, in the unit named in its doc (the unit the advert carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quantity {
    /// Battery charge, %.
    Battery,
    /// Temperature, °C.
    Temperature,
    /// Dew point, °C.
    DewPoint,
    /// Relative humidity, %.
    Humidity,
    /// Atmospheric pressure, hPa.
    Pressure,
    /// Illuminance, lx.
    Illuminance,
    /// Mass, kg.
    MassKg,
    /// Mass, lb.
    MassLb,
    /// A counter, no unit.
    Count,
    /// Energy, kWh.
    Energy,
    /// Power, W.
    Power,
    /// Voltage, V.
    Voltage,
    /// Current, A.
    Current,
    /// PM2.5, µg/m³.
    Pm25,
    /// PM10, µg/m³.
    Pm10,
    /// Volatile organic compounds, µg/m³.
    Tvoc,
    /// CO2, ppm.
    Co2,
    /// Soil moisture, %.
    Moisture,
    /// Rotation, degrees.
    Rotation,
    /// Distance, mm.
    DistanceMm,
    /// Distance, m.
    DistanceM,
    /// Duration, s.
    Duration,
    /// Speed, m/s.
    Speed,
    /// UV index.
    UvIndex,
    /// Volume, l.
    VolumeL,
    /// Volume, ml.
    VolumeMl,
    /// Volume flow rate, m³/h.
    VolumeFlow,
    /// Gas volume, m³.
    Gas,
    /// Water volume, l.
    Water,
    /// Stored volume, l.
    VolumeStorage,
    /// Conductivity, µS/cm.
    Conductivity,
    /// Direction, degrees.
    Direction,
    /// Precipitation, mm.
    Precipitation,
    /// Rotational speed, rpm.
    RotationalSpeed,
    /// Acceleration, m/s².
    Acceleration,
    /// Angular velocity, °/s.
    Gyroscope,
    /// Formaldehyde, mg/m³.
    Formaldehyde,
    /// Channel number.
    Channel,
    /// Light level (device-defined steps).
    LightLevel,
}

/// A two-state sensor (`true` = the state its name says: open, detected, low ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryKind {
    /// Generic on/off.
    Generic,
    /// Power on.
    Power,
    /// Opening open.
    Opening,
    /// Battery low.
    BatteryLow,
    /// Battery charging.
    BatteryCharging,
    /// Carbon monoxide detected.
    CarbonMonoxide,
    /// Cold.
    Cold,
    /// Connected.
    Connectivity,
    /// Door open.
    Door,
    /// Garage door open.
    GarageDoor,
    /// Gas detected.
    Gas,
    /// Hot.
    Heat,
    /// Light detected.
    Light,
    /// Unlocked (BTHome: 1 = unlocked).
    Lock,
    /// Moisture (water) detected.
    Moisture,
    /// Motion detected.
    Motion,
    /// Moving.
    Moving,
    /// Occupied.
    Occupancy,
    /// Plugged in.
    Plug,
    /// Someone present.
    Presence,
    /// Problem.
    Problem,
    /// Running.
    Running,
    /// Unsafe (BTHome: 1 = unsafe).
    Safety,
    /// Smoke detected.
    Smoke,
    /// Sound detected.
    Sound,
    /// Tampered.
    Tamper,
    /// Vibration detected.
    Vibration,
    /// Window open.
    Window,
}

/// A button event (BTHome object 0x3A; MiBeacon 0x1001 press types map onto it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ButtonEvent {
    /// No event (a multi-button frame's idle button).
    None,
    /// Single press.
    Press,
    /// Double press.
    DoublePress,
    /// Triple press.
    TriplePress,
    /// Long press.
    LongPress,
    /// Long double press.
    LongDoublePress,
    /// Long triple press.
    LongTriplePress,
    /// Held.
    HoldPress,
    /// A value this decoder does not know.
    Unknown(u8),
}

impl ButtonEvent {
    /// From the BTHome event byte.
    pub fn from_bthome(b: u8) -> Self {
        match b {
            0x00 => Self::None,
            0x01 => Self::Press,
            0x02 => Self::DoublePress,
            0x03 => Self::TriplePress,
            0x04 => Self::LongPress,
            0x05 => Self::LongDoublePress,
            0x06 => Self::LongTriplePress,
            0x80 => Self::HoldPress,
            other => Self::Unknown(other),
        }
    }

    /// The event name used in the `ButtonPress` event's `Event` argument.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Press => "press",
            Self::DoublePress => "double_press",
            Self::TriplePress => "triple_press",
            Self::LongPress => "long_press",
            Self::LongDoublePress => "long_double_press",
            Self::LongTriplePress => "long_triple_press",
            Self::HoldPress => "hold_press",
            Self::Unknown(_) => "unknown",
        }
    }
}

/// A rotary dimmer event (BTHome object 0x3C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DimmerEvent {
    /// No rotation.
    None,
    /// Rotated left by `steps`.
    RotateLeft,
    /// Rotated right by `steps`.
    RotateRight,
    /// A value this decoder does not know.
    Unknown(u8),
}

impl DimmerEvent {
    /// From the BTHome event byte.
    pub fn from_bthome(b: u8) -> Self {
        match b {
            0 => Self::None,
            1 => Self::RotateLeft,
            2 => Self::RotateRight,
            other => Self::Unknown(other),
        }
    }

    /// The direction name used in the `DimmerRotate` event.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::RotateLeft => "rotate_left",
            Self::RotateRight => "rotate_right",
            Self::Unknown(_) => "unknown",
        }
    }
}

/// One decoded value from an advertisement.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// A measured level in the quantity's advert unit.
    Level {
        /// What.
        quantity: Quantity,
        /// Value, exact.
        value: Decimal,
    },
    /// A two-state sensor.
    Binary {
        /// What.
        kind: BinaryKind,
        /// State.
        value: bool,
    },
    /// A button event.
    Button(ButtonEvent),
    /// A dimmer event.
    Dimmer {
        /// Direction.
        event: DimmerEvent,
        /// Steps turned.
        steps: u8,
    },
    /// Free text (BTHome 0x53).
    Text(String),
    /// Raw bytes (BTHome 0x54).
    Raw(Vec<u8>),
    /// Device clock, seconds since the Unix epoch (BTHome 0x50).
    Timestamp(u32),
    /// Packet id for de-duplication (BTHome 0x00).
    PacketId(u8),
    /// Device type id (BTHome 0xF0).
    DeviceTypeId(u16),
    /// Firmware version (BTHome 0xF1/0xF2), dotted.
    Firmware(String),
}
