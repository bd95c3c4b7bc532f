//! TR-181 IoT vocabulary: every enumeration of `tr-181-2-iot.xml` that a bridge uses to
//! describe a capability (IoTCapability `Class`, each sub-object's `Type`, `IoTUnitType`,
//! `IoTDeviceType`, `ProxyProtocol`).
//!
//! `as_str()` gives the exact enumeration string of the XML; `FromStr` accepts exactly those.
//! Only `ProxyProtocol` admits vendor values (TR-106 section 3.3 `X_<VENDOR>_` names); the
//! other enumerations are closed. The test `vocab_xml` checks every set against the XML in
//! both directions, so a typo or a missing value fails the build's tests.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A string that is not a value of the named TR-181 enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a value of TR-181 enumeration {enumeration}")]
pub struct UnknownEnumValue {
    /// Name of the enumeration (e.g. `IoTUnitType`).
    pub enumeration: &'static str,
    /// The rejected string.
    pub value: String,
}

/// Declares a closed TR-181 enumeration: variants, their XML strings, `as_str`, `FromStr`,
/// `Display` and serde as the string form.
macro_rules! tr181_enum {
    (
        $(#[$meta:meta])*
        $name:ident as $tr_name:literal {
            $( $(#[$vmeta:meta])* $var:ident = $s:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("TR-181 `", $s, "`.")] $var, )+
        }

        impl $name {
            /// The name of this enumeration in TR-181.
            pub const TR181_NAME: &'static str = $tr_name;
            /// Every value, in the XML's order.
            pub const ALL: &'static [Self] = &[ $( Self::$var ),+ ];

            /// The exact TR-181 enumeration string.
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$var => $s ),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownEnumValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $s => Ok(Self::$var), )+
                    _ => Err(UnknownEnumValue { enumeration: $tr_name, value: s.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

tr181_enum! {
    /// `IoTCapability.{i}.Class`: which sub-object the capability instantiates.
    CapabilityClass as "IoTCapability.Class" {
        BinaryControl = "BinaryControl",
        LevelControl = "LevelControl",
        EnumControl = "EnumControl",
        BinarySensor = "BinarySensor",
        LevelSensor = "LevelSensor",
        MultiLevelSensor = "MultiLevelSensor",
        EnumSensor = "EnumSensor",
        BlobSensor = "BlobSensor",
    }
}

tr181_enum! {
    /// `IoTCapability.{i}.BinaryControl.Type`.
    BinaryControlType as "IoTCapability.BinaryControl.Type" {
        Switch = "Switch",
        Locked = "Locked",
    }
}

tr181_enum! {
    /// `IoTCapability.{i}.BinarySensor.Type`.
    BinarySensorType as "IoTCapability.BinarySensor.Type" {
        CarbonDioxideDetected = "CarbonDioxideDetected",
        CarbonMonoxideDetected = "CarbonMonoxideDetected",
        DoorOpen = "DoorOpen",
        MotionDetected = "MotionDetected",
        SmokeDetected = "SmokeDetected",
        WindowOpen = "WindowOpen",
        WaterDetected = "WaterDetected",
    }
}

tr181_enum! {
    /// `IoTCapability.{i}.MultiLevelSensor.Type`.
    MultiLevelSensorType as "IoTCapability.MultiLevelSensor.Type" {
        Rgb = "RGB",
        Location = "Location",
    }
}

tr181_enum! {
    /// `IoTLevelType`: the Type of LevelSensor and LevelControl, and the project's vendor
    /// values for what TR-181 has no type for (colour hue and saturation).
    IoTLevelType as "IoTLevelType" {
        Acceleration = "Acceleration",
        Area = "Area",
        Battery = "Battery",
        Brightness = "Brightness",
        Concentration = "Concentration",
        Conductivity = "Conductivity",
        Distance = "Distance",
        Energy = "Energy",
        Flow = "Flow",
        Humidity = "Humidity",
        Intensity = "Intensity",
        Luminance = "Luminance",
        Meter = "Meter",
        Motion = "Motion",
        Position = "Position",
        Power = "Power",
        Pressure = "Pressure",
        Radiation = "Radiation",
        Speed = "Speed",
        Temperature = "Temperature",
        Volume = "Volume",
        Weight = "Weight",
        Depth = "Depth",
        Counter = "Counter",
        Duration = "Duration",
        /// Vendor value (TR-106 `X_` form): Color Control hue, in degrees.
        XUsphubHue = "X_USPHUB_Hue",
        /// Vendor value (TR-106 `X_` form): Color Control saturation, in percent.
        XUsphubSaturation = "X_USPHUB_Saturation",
    }
}

tr181_enum! {
    /// `IoTEnumControlType`: the Type of EnumControl.
    IoTEnumControlType as "IoTEnumControlType" {
        AlarmMode = "AlarmMode",
        DoorMode = "DoorMode",
        FanMode = "FanMode",
        LockMode = "LockMode",
        OperatingMode = "OperatingMode",
        TemperatureMode = "TemperatureMode",
        ThermostatMode = "ThermostatMode",
    }
}

tr181_enum! {
    /// `IoTEnumSensorType`: the Type of EnumSensor.
    IoTEnumSensorType as "IoTEnumSensorType" {
        AlarmState = "AlarmState",
        DoorState = "DoorState",
        FanState = "FanState",
        LockState = "LockState",
        OperatingState = "OperatingState",
        TemperatureState = "TemperatureState",
        ThermostatFanState = "ThermostatFanState",
    }
}

tr181_enum! {
    /// `IoTBlobSensorType`: the Type of BlobSensor.
    IoTBlobSensorType as "IoTBlobSensorType" {
        Ascii = "ascii",
        Base64 = "base64",
        Id = "id",
        Gif = "gif",
        Jpeg = "jpeg",
        Json = "json",
        Numberplate = "numberplate",
        Text = "text",
        Url = "url",
        Raw = "raw",
        Utf8 = "utf-8",
        Utf16 = "utf-16",
        Utf32 = "utf-32",
        Uuid = "uuid",
        Xml = "xml",
        Yaml = "yaml",
    }
}

tr181_enum! {
    /// `IoTDeviceType`: `ProxiedDevice.{i}.Type` and `Node.{i}.Type`.
    IoTDeviceType as "IoTDeviceType" {
        Alarm = "Alarm",
        AntiTheft = "AntiTheft",
        Bell = "Bell",
        Clock = "Clock",
        Door = "Door",
        Fan = "Fan",
        GarageDoor = "GarageDoor",
        Hvac = "HVAC",
        Light = "Light",
        Lock = "Lock",
        Meter = "Meter",
        Motor = "Motor",
        Oven = "Oven",
        PowerStrip = "PowerStrip",
        Sensor = "Sensor",
        SensorStrip = "SensorStrip",
        Siren = "Siren",
        Thermostat = "Thermostat",
    }
}

tr181_enum! {
    /// `IoTUnitType`: the Unit of level sensors and controls. The XML is normative
    /// (`degC`, not the TR-369 appendix's `Cel`).
    IoTUnitType as "IoTUnitType" {
        Dimensionless = "-",
        Percent = "%",
        Degree = "deg",
        DegC = "degC",
        DegF = "degF",
        Kelvin = "K",
        Kilometre = "km",
        Metre = "m",
        Centimetre = "cm",
        Millimetre = "mm",
        Hour = "h",
        Minute = "min",
        Second = "s",
        Millisecond = "ms",
        SquareKilometre = "sq-km",
        SquareMetre = "sq-m",
        SquareCentimetre = "sq-cm",
        CubicMetre = "cu-m",
        Litre = "l",
        Centilitre = "cl",
        Millilitre = "ml",
        Kilogram = "kg",
        Gram = "g",
        Milligram = "mg",
        WattHour = "Wh",
        KilowattHour = "kWh",
        Watt = "W",
        Ampere = "A",
        Hertz = "Hz",
        Volt = "V",
        Newton = "N",
        Pascal = "Pa",
        Coulomb = "C",
        Farad = "F",
        Ohm = "ohm",
        Siemens = "S",
        Weber = "Wb",
        Tesla = "T",
        Henry = "H",
        Lumen = "lm",
        Lux = "lx",
        MetrePerSecond = "mps",
        Candela = "cd",
        Mole = "mol",
        UvIndex = "UV",
        Rgb = "RGB",
        PartsPerMillion = "ppm",
        Sievert = "Sv",
        Joule = "J",
        Rpm = "rpm",
        PulsesPerSecond = "pps",
        CubicMetrePerSecond = "cu-m/s",
        LitrePerSecond = "liter/s",
        Decibel = "dB",
        DecibelMilliwatt = "dBm",
        ElectronVolt = "eV",
    }
}

/// The project's vendor value of `ProxyProtocol` for Bluetooth Low Energy devices
/// (TR-181 enumerates no Bluetooth value; TR-106 3.3 vendor form).
pub const PROXY_PROTOCOL_BLE: &str = "X_USPHUB_BLE";

/// `ProxiedDevice.{i}.ProxyProtocol`: how the agent reaches the device. TR-181 allows vendor
/// values, which must start with `X_` (TR-106 section 3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProxyProtocol {
    /// TR-181 `Z-Wave`.
    ZWave,
    /// TR-181 `ZigBee`.
    ZigBee,
    /// TR-181 `UPnP-DM`.
    UpnpDm,
    /// The project's vendor value `X_USPHUB_BLE`.
    Ble,
    /// Another vendor value (starts with `X_`).
    Other(String),
}

impl ProxyProtocol {
    /// The name of this enumeration in TR-181.
    pub const TR181_NAME: &'static str = "ProxyProtocol";
    /// The values TR-181 itself enumerates (vendor values excluded).
    pub const STANDARD: &'static [Self] = &[Self::ZWave, Self::ZigBee, Self::UpnpDm];

    /// The TR-181 string (the vendor string for vendor values).
    pub fn as_str(&self) -> &str {
        match self {
            Self::ZWave => "Z-Wave",
            Self::ZigBee => "ZigBee",
            Self::UpnpDm => "UPnP-DM",
            Self::Ble => PROXY_PROTOCOL_BLE,
            Self::Other(s) => s,
        }
    }
}

impl FromStr for ProxyProtocol {
    type Err = UnknownEnumValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "Z-Wave" => Self::ZWave,
            "ZigBee" => Self::ZigBee,
            "UPnP-DM" => Self::UpnpDm,
            PROXY_PROTOCOL_BLE => Self::Ble,
            v if v.starts_with("X_") && v.len() > 2 => Self::Other(v.to_owned()),
            v => {
                return Err(UnknownEnumValue {
                    enumeration: Self::TR181_NAME,
                    value: v.to_owned(),
                });
            }
        })
    }
}

impl fmt::Display for ProxyProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProxyProtocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProxyProtocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_string() {
        for u in IoTUnitType::ALL {
            assert_eq!(u.as_str().parse::<IoTUnitType>(), Ok(*u));
        }
        for t in IoTLevelType::ALL {
            assert_eq!(t.to_string().parse::<IoTLevelType>(), Ok(*t));
        }
        assert_eq!("degC".parse::<IoTUnitType>(), Ok(IoTUnitType::DegC));
    }

    #[test]
    fn appendix_spelling_cel_is_rejected() {
        let err = "Cel".parse::<IoTUnitType>().unwrap_err();
        assert_eq!(err.enumeration, "IoTUnitType");
    }

    #[test]
    fn proxy_protocol_accepts_vendor_values_only_with_x_prefix() {
        assert_eq!("X_USPHUB_BLE".parse(), Ok(ProxyProtocol::Ble));
        assert_eq!(
            "X_ACME_Thread".parse(),
            Ok(ProxyProtocol::Other("X_ACME_Thread".into()))
        );
        assert!("Bluetooth".parse::<ProxyProtocol>().is_err());
        assert!("X_".parse::<ProxyProtocol>().is_err());
    }

    #[test]
    fn enums_serialize_as_their_tr181_strings() {
        let j = serde_json::to_string(&IoTUnitType::Percent).unwrap();
        assert_eq!(j, "\"%\"");
        let back: IoTUnitType = serde_json::from_str(&j).unwrap();
        assert_eq!(back, IoTUnitType::Percent);
        assert!(serde_json::from_str::<IoTUnitType>("\"Cel\"").is_err());
    }
}
