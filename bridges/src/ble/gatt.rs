//! GATT characteristics the bridge reads from connected sensors, as a table: Device
//! Information (0x180A), Battery (0x180F) and Environmental Sensing (0x181A), with value
//! formats from the Bluetooth GATT Specification Supplement.

use crate::api::Decimal;

use super::reading::{Quantity, Reading};

/// Device Information service.
pub const SERVICE_DEVICE_INFORMATION: u16 = 0x180A;
/// Battery service.
pub const SERVICE_BATTERY: u16 = 0x180F;
/// Environmental Sensing service.
pub const SERVICE_ENVIRONMENTAL_SENSING: u16 = 0x181A;

/// What a characteristic holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharKind {
    /// A device-information string.
    Info(InfoField),
    /// A measured level: little-endian integer of `len` bytes × 10^-`scale`.
    Level {
        /// Quantity (in the unit of its [`Quantity`] doc after `convert`).
        quantity: Quantity,
        /// Bytes.
        len: u8,
        /// Two's complement.
        signed: bool,
        /// Decimal places.
        scale: u8,
    },
}

/// Device Information strings the descriptor uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoField {
    /// Manufacturer Name String.
    Manufacturer,
    /// Model Number String.
    Model,
    /// Firmware Revision String.
    Firmware,
}

/// One characteristic the bridge knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharSpec {
    /// 16-bit characteristic UUID.
    pub uuid: u16,
    /// Name as the specification spells it.
    pub name: &'static str,
    /// Content.
    pub kind: CharKind,
}

/// Known characteristics.
pub const CHARACTERISTICS: &[CharSpec] = &[
    CharSpec {
        uuid: 0x2A19,
        name: "Battery Level",
        kind: CharKind::Level {
            quantity: Quantity::Battery,
            len: 1,
            signed: false,
            scale: 0,
        },
    },
    CharSpec {
        uuid: 0x2A24,
        name: "Model Number String",
        kind: CharKind::Info(InfoField::Model),
    },
    CharSpec {
        uuid: 0x2A26,
        name: "Firmware Revision String",
        kind: CharKind::Info(InfoField::Firmware),
    },
    CharSpec {
        uuid: 0x2A29,
        name: "Manufacturer Name String",
        kind: CharKind::Info(InfoField::Manufacturer),
    },
    // Pressure is 0.1 Pa; as hPa (the Quantity's unit) that is 10^-3.
    CharSpec {
        uuid: 0x2A6D,
        name: "Pressure",
        kind: CharKind::Level {
            quantity: Quantity::Pressure,
            len: 4,
            signed: false,
            scale: 3,
        },
    },
    CharSpec {
        uuid: 0x2A6E,
        name: "Temperature",
        kind: CharKind::Level {
            quantity: Quantity::Temperature,
            len: 2,
            signed: true,
            scale: 2,
        },
    },
    CharSpec {
        uuid: 0x2A6F,
        name: "Humidity",
        kind: CharKind::Level {
            quantity: Quantity::Humidity,
            len: 2,
            signed: false,
            scale: 2,
        },
    },
];

/// The table row for a characteristic UUID.
pub fn spec(uuid: u16) -> Option<&'static CharSpec> {
    CHARACTERISTICS.iter().find(|c| c.uuid == uuid)
}

/// What one GATT session learned: device information and readings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GattUpdate {
    /// Manufacturer Name String.
    pub manufacturer: Option<String>,
    /// Model Number String.
    pub model: Option<String>,
    /// Firmware Revision String.
    pub firmware: Option<String>,
    /// Readings.
    pub readings: Vec<Reading>,
}

impl GattUpdate {
    /// Adds one decoded characteristic value.
    pub fn add(&mut self, value: CharValue) {
        match value {
            CharValue::Info(InfoField::Manufacturer, s) => self.manufacturer = Some(s),
            CharValue::Info(InfoField::Model, s) => self.model = Some(s),
            CharValue::Info(InfoField::Firmware, s) => self.firmware = Some(s),
            CharValue::Reading(r) => self.readings.push(r),
        }
    }
}

/// A decoded characteristic value.
#[derive(Debug, Clone, PartialEq)]
pub enum CharValue {
    /// A device-information string.
    Info(InfoField, String),
    /// A reading.
    Reading(Reading),
}

/// Decodes a value read or notified from characteristic `uuid`; `None` if unknown or the
/// length does not match the format.
pub fn decode(uuid: u16, data: &[u8]) -> Option<CharValue> {
    match spec(uuid)?.kind {
        CharKind::Info(field) => {
            let text = String::from_utf8_lossy(data);
            Some(CharValue::Info(
                field,
                text.trim_end_matches('\0').trim().to_owned(),
            ))
        }
        CharKind::Level {
            quantity,
            len,
            signed,
            scale,
        } => {
            if data.len() != usize::from(len) {
                return None;
            }
            let u = data
                .iter()
                .rev()
                .fold(0u64, |a, b| (a << 8) | u64::from(*b));
            let bits = 8 * u32::from(len);
            let raw = if signed {
                let shift = 64 - bits;
                ((u << shift) as i64) >> shift
            } else {
                u as i64
            };
            Some(CharValue::Reading(Reading::Level {
                quantity,
                value: Decimal::new(raw, scale),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(v: Option<CharValue>) -> (Quantity, String) {
        match v {
            Some(CharValue::Reading(Reading::Level { quantity, value })) => {
                (quantity, value.to_string())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn environmental_sensing_values_decode_with_their_resolution() {
        assert_eq!(
            level(decode(0x2A6E, &[0x6c, 0x08])),
            (Quantity::Temperature, "21.56".into())
        );
        assert_eq!(
            level(decode(0x2A6E, &[0x18, 0xfc])),
            (Quantity::Temperature, "-10".into())
        );
        assert_eq!(
            level(decode(0x2A6F, &[0x88, 0x13])),
            (Quantity::Humidity, "50".into())
        );
        // 1013250 × 0.1 Pa = 101325 Pa = 1013.25 hPa.
        assert_eq!(
            level(decode(0x2A6D, &1_013_250u32.to_le_bytes())),
            (Quantity::Pressure, "1013.25".into())
        );
        assert_eq!(
            level(decode(0x2A19, &[87])),
            (Quantity::Battery, "87".into())
        );
    }

    #[test]
    fn strings_and_bad_lengths() {
        assert_eq!(
            decode(0x2A29, b"Acme\0"),
            Some(CharValue::Info(InfoField::Manufacturer, "Acme".into()))
        );
        assert_eq!(decode(0x2A6E, &[0x01]), None);
        assert_eq!(decode(0x2A19, &[]), None);
        assert_eq!(decode(0x2A00, b"name"), None);
    }
}
