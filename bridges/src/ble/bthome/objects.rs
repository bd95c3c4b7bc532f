//! The BTHome v2 object-id table (bthome.io "Sensor data", "Binary sensor data", "Events",
//! "Device information"): for every id its size, sign and scaling — as data. Numbers are
//! little-endian; value = raw × `mult` × 10^-`scale` (exact, no floating point).
//!
//! The format gives no length for an unknown id, so a frame's parse ends at the first id
//! missing here.

use super::super::reading::{BinaryKind, Quantity};

/// How an object's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The packet id (1 byte) used for de-duplication.
    PacketId,
    /// A little-endian integer of `len` bytes scaled into a level.
    Level {
        /// What it measures.
        quantity: Quantity,
        /// Size in bytes (1-4).
        len: u8,
        /// Two's complement.
        signed: bool,
        /// Multiplier applied to the raw integer.
        mult: u16,
        /// Decimal places of the factor (`0.01` = mult 1, scale 2; `0.35` = mult 35, scale 2).
        scale: u8,
    },
    /// One byte, 0 or 1.
    Binary(BinaryKind),
    /// One byte of button event.
    Button,
    /// Event byte + steps byte.
    Dimmer,
    /// Length byte + UTF-8.
    Text,
    /// Length byte + bytes.
    Raw,
    /// u32 seconds since the Unix epoch.
    Timestamp,
    /// u16 device type id.
    DeviceTypeId,
    /// Firmware version in `len` bytes, most significant part last.
    Firmware {
        /// 3 or 4.
        len: u8,
    },
}

impl Format {
    /// Fixed data size after the id, or `None` for length-prefixed formats.
    pub const fn fixed_len(self) -> Option<usize> {
        match self {
            Self::PacketId | Self::Binary(_) | Self::Button => Some(1),
            Self::Level { len, .. } | Self::Firmware { len } => Some(len as usize),
            Self::Dimmer | Self::DeviceTypeId => Some(2),
            Self::Timestamp => Some(4),
            Self::Text | Self::Raw => None,
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectSpec {
    /// Object id.
    pub id: u8,
    /// BTHome's property name.
    pub name: &'static str,
    /// Layout.
    pub format: Format,
}

const fn lvl(
    id: u8,
    name: &'static str,
    quantity: Quantity,
    len: u8,
    signed: bool,
    mult: u16,
    scale: u8,
) -> ObjectSpec {
    ObjectSpec {
        id,
        name,
        format: Format::Level {
            quantity,
            len,
            signed,
            mult,
            scale,
        },
    }
}

const fn bin(id: u8, name: &'static str, kind: BinaryKind) -> ObjectSpec {
    ObjectSpec {
        id,
        name,
        format: Format::Binary(kind),
    }
}

const fn other(id: u8, name: &'static str, format: Format) -> ObjectSpec {
    ObjectSpec { id, name, format }
}

use BinaryKind as B;
use Quantity as Q;

/// Every known object id, sorted by id.
pub const OBJECTS: &[ObjectSpec] = &[
    other(0x00, "packet_id", Format::PacketId),
    lvl(0x01, "battery", Q::Battery, 1, false, 1, 0),
    lvl(0x02, "temperature", Q::Temperature, 2, true, 1, 2),
    lvl(0x03, "humidity", Q::Humidity, 2, false, 1, 2),
    lvl(0x04, "pressure", Q::Pressure, 3, false, 1, 2),
    lvl(0x05, "illuminance", Q::Illuminance, 3, false, 1, 2),
    lvl(0x06, "mass_kg", Q::MassKg, 2, false, 1, 2),
    lvl(0x07, "mass_lb", Q::MassLb, 2, false, 1, 2),
    lvl(0x08, "dewpoint", Q::DewPoint, 2, true, 1, 2),
    lvl(0x09, "count", Q::Count, 1, false, 1, 0),
    lvl(0x0A, "energy", Q::Energy, 3, false, 1, 3),
    lvl(0x0B, "power", Q::Power, 3, false, 1, 2),
    lvl(0x0C, "voltage", Q::Voltage, 2, false, 1, 3),
    lvl(0x0D, "pm2_5", Q::Pm25, 2, false, 1, 0),
    lvl(0x0E, "pm10", Q::Pm10, 2, false, 1, 0),
    bin(0x0F, "generic_boolean", B::Generic),
    bin(0x10, "power", B::Power),
    bin(0x11, "opening", B::Opening),
    lvl(0x12, "co2", Q::Co2, 2, false, 1, 0),
    lvl(0x13, "tvoc", Q::Tvoc, 2, false, 1, 0),
    lvl(0x14, "moisture", Q::Moisture, 2, false, 1, 2),
    bin(0x15, "battery", B::BatteryLow),
    bin(0x16, "battery_charging", B::BatteryCharging),
    bin(0x17, "carbon_monoxide", B::CarbonMonoxide),
    bin(0x18, "cold", B::Cold),
    bin(0x19, "connectivity", B::Connectivity),
    bin(0x1A, "door", B::Door),
    bin(0x1B, "garage_door", B::GarageDoor),
    bin(0x1C, "gas", B::Gas),
    bin(0x1D, "heat", B::Heat),
    bin(0x1E, "light", B::Light),
    bin(0x1F, "lock", B::Lock),
    bin(0x20, "moisture", B::Moisture),
    bin(0x21, "motion", B::Motion),
    bin(0x22, "moving", B::Moving),
    bin(0x23, "occupancy", B::Occupancy),
    bin(0x24, "plug", B::Plug),
    bin(0x25, "presence", B::Presence),
    bin(0x26, "problem", B::Problem),
    bin(0x27, "running", B::Running),
    bin(0x28, "safety", B::Safety),
    bin(0x29, "smoke", B::Smoke),
    bin(0x2A, "sound", B::Sound),
    bin(0x2B, "tamper", B::Tamper),
    bin(0x2C, "vibration", B::Vibration),
    bin(0x2D, "window", B::Window),
    lvl(0x2E, "humidity", Q::Humidity, 1, false, 1, 0),
    lvl(0x2F, "moisture", Q::Moisture, 1, false, 1, 0),
    other(0x3A, "button", Format::Button),
    other(0x3C, "dimmer", Format::Dimmer),
    lvl(0x3D, "count", Q::Count, 2, false, 1, 0),
    lvl(0x3E, "count", Q::Count, 4, false, 1, 0),
    lvl(0x3F, "rotation", Q::Rotation, 2, true, 1, 1),
    lvl(0x40, "distance_mm", Q::DistanceMm, 2, false, 1, 0),
    lvl(0x41, "distance_m", Q::DistanceM, 2, false, 1, 1),
    lvl(0x42, "duration", Q::Duration, 3, false, 1, 3),
    lvl(0x43, "current", Q::Current, 2, false, 1, 3),
    lvl(0x44, "speed", Q::Speed, 2, false, 1, 2),
    lvl(0x45, "temperature", Q::Temperature, 2, true, 1, 1),
    lvl(0x46, "uv_index", Q::UvIndex, 1, false, 1, 1),
    lvl(0x47, "volume", Q::VolumeL, 2, false, 1, 1),
    lvl(0x48, "volume_ml", Q::VolumeMl, 2, false, 1, 0),
    lvl(0x49, "volume_flow_rate", Q::VolumeFlow, 2, false, 1, 3),
    lvl(0x4A, "voltage", Q::Voltage, 2, false, 1, 1),
    lvl(0x4B, "gas", Q::Gas, 3, false, 1, 3),
    lvl(0x4C, "gas", Q::Gas, 4, false, 1, 3),
    lvl(0x4D, "energy", Q::Energy, 4, false, 1, 3),
    lvl(0x4E, "volume", Q::VolumeL, 4, false, 1, 3),
    lvl(0x4F, "water", Q::Water, 4, false, 1, 3),
    other(0x50, "timestamp", Format::Timestamp),
    lvl(0x51, "acceleration", Q::Acceleration, 2, false, 1, 3),
    lvl(0x52, "gyroscope", Q::Gyroscope, 2, false, 1, 3),
    other(0x53, "text", Format::Text),
    other(0x54, "raw", Format::Raw),
    lvl(0x55, "volume_storage", Q::VolumeStorage, 4, false, 1, 3),
    lvl(0x56, "conductivity", Q::Conductivity, 2, false, 1, 0),
    lvl(0x57, "temperature", Q::Temperature, 1, true, 1, 0),
    lvl(0x58, "temperature", Q::Temperature, 1, true, 35, 2),
    lvl(0x59, "count", Q::Count, 1, true, 1, 0),
    lvl(0x5A, "count", Q::Count, 2, true, 1, 0),
    lvl(0x5B, "count", Q::Count, 4, true, 1, 0),
    lvl(0x5C, "power", Q::Power, 4, true, 1, 2),
    lvl(0x5D, "current", Q::Current, 2, true, 1, 3),
    lvl(0x5E, "direction", Q::Direction, 2, false, 1, 2),
    lvl(0x5F, "precipitation", Q::Precipitation, 2, false, 1, 1),
    lvl(0x60, "channel", Q::Channel, 1, false, 1, 0),
    lvl(0x61, "rotational_speed", Q::RotationalSpeed, 2, false, 1, 0),
    lvl(0x62, "speed", Q::Speed, 4, true, 1, 6),
    lvl(0x63, "acceleration", Q::Acceleration, 4, true, 1, 6),
    lvl(0x64, "light_level", Q::LightLevel, 1, false, 1, 0),
    other(0xF0, "device_type_id", Format::DeviceTypeId),
    other(0xF1, "firmware_version", Format::Firmware { len: 4 }),
    other(0xF2, "firmware_version", Format::Firmware { len: 3 }),
];

/// The table row for `id`, if the id is known.
pub fn spec(id: u8) -> Option<&'static ObjectSpec> {
    OBJECTS
        .binary_search_by_key(&id, |o| o.id)
        .ok()
        .and_then(|i| OBJECTS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_without_duplicates_so_lookup_works() {
        for w in OBJECTS.windows(2) {
            assert!(
                w[0].id < w[1].id,
                "{:#04x} before {:#04x}",
                w[0].id,
                w[1].id
            );
        }
        for o in OBJECTS {
            assert_eq!(spec(o.id), Some(o));
        }
        assert_eq!(spec(0x30), None);
    }

    #[test]
    fn level_sizes_are_between_one_and_four_bytes() {
        for o in OBJECTS {
            if let Format::Level { len, .. } = o.format {
                assert!((1..=4).contains(&len), "{}", o.name);
            }
        }
    }
}
