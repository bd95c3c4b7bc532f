//! The radio-neutral description of a paired device: its stable identity ([`DeviceId`]),
//! what it is (manufacturer, model, TR-181 `IoTDeviceType`) and what it can do (nodes and
//! capabilities). This is all the agent sees of a radio (`Device.ProxiedDevice.{i}.`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::capability::{Capability, CapabilityId};
use super::vocab::{IoTDeviceType, ProxyProtocol};

/// An IEEE EUI-64 (Zigbee extended address). Printed as 16 lowercase hex digits, most
/// significant byte first; the Zigbee wire carries it little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Eui64(pub u64);

impl Eui64 {
    /// From the 8 bytes as they appear on the Zigbee wire (little-endian).
    pub fn from_le_bytes(b: [u8; 8]) -> Self {
        Self(u64::from_le_bytes(b))
    }

    /// The 8 bytes in Zigbee wire order (little-endian).
    pub fn to_le_bytes(self) -> [u8; 8] {
        self.0.to_le_bytes()
    }
}

impl fmt::Display for Eui64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for Eui64 {
    type Err = DeviceIdParseError;
    /// Accepts `00124b0001020304`, `0x00124B0001020304` and `00:12:4b:00:01:02:03:04`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.strip_prefix("0x").unwrap_or(s);
        let hex: String = t.chars().filter(|c| *c != ':' && *c != '-').collect();
        if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DeviceIdParseError(s.to_owned()));
        }
        u64::from_str_radix(&hex, 16)
            .map(Self)
            .map_err(|_| DeviceIdParseError(s.to_owned()))
    }
}

/// A Bluetooth device address, most significant byte first (as BlueZ prints it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BleAddress(pub [u8; 6]);

impl fmt::Display for BleAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for BleAddress {
    type Err = DeviceIdParseError;
    /// Accepts `AA:BB:CC:DD:EE:FF` (either case, `:` or `-` separators).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DeviceIdParseError(s.to_owned());
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for slot in &mut out {
            let p = parts.next().ok_or_else(err)?;
            if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err());
            }
            *slot = u8::from_str_radix(p, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(Self(out))
    }
}

/// The stable identity of a device across restarts, re-interviews and dongle swaps.
///
/// Canonical string forms (what the registry stores and `FromStr` reads back):
/// `zigbee:00124b0001020304`, `zwave:c0ffee01:5` (home id as 8 hex digits, node id
/// decimal), `ble:AA:BB:CC:DD:EE:FF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceId {
    /// A Zigbee device by its IEEE address.
    Zigbee(Eui64),
    /// A Z-Wave node in the network `home_id`.
    ZWave {
        /// The controller's home id.
        home_id: u32,
        /// The node id (1-232 classic, up to 4000 Long Range).
        node_id: u16,
    },
    /// A BLE device by its address.
    Ble(BleAddress),
}

/// A string that is not a canonical device id (or address).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid device id {0:?}")]
pub struct DeviceIdParseError(pub String);

impl DeviceId {
    /// The `ProxyProtocol` of the radio this device is on.
    pub fn protocol(&self) -> ProxyProtocol {
        match self {
            Self::Zigbee(_) => ProxyProtocol::ZigBee,
            Self::ZWave { .. } => ProxyProtocol::ZWave,
            Self::Ble(_) => ProxyProtocol::Ble,
        }
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Zigbee(e) => write!(f, "zigbee:{e}"),
            Self::ZWave { home_id, node_id } => write!(f, "zwave:{home_id:08x}:{node_id}"),
            Self::Ble(a) => write!(f, "ble:{a}"),
        }
    }
}

impl FromStr for DeviceId {
    type Err = DeviceIdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DeviceIdParseError(s.to_owned());
        let (scheme, rest) = s.split_once(':').ok_or_else(err)?;
        match scheme {
            "zigbee" => rest.parse().map(Self::Zigbee).map_err(|_| err()),
            "ble" => rest.parse().map(Self::Ble).map_err(|_| err()),
            "zwave" => {
                let (home, node) = rest.split_once(':').ok_or_else(err)?;
                if home.len() != 8 || !home.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(err());
                }
                let home_id = u32::from_str_radix(home, 16).map_err(|_| err())?;
                if node.is_empty() || !node.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                let node_id = node.parse::<u16>().map_err(|_| err())?;
                Ok(Self::ZWave { home_id, node_id })
            }
            _ => Err(err()),
        }
    }
}

/// Serde through the canonical string form (`Display`/`FromStr`).
macro_rules! serde_as_string {
    ($($t:ty),+) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}

serde_as_string!(DeviceId, Eui64, BleAddress);

/// How far the bridge got in learning what a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InterviewState {
    /// Joined; nothing asked yet.
    Pending,
    /// Being interviewed now.
    InProgress,
    /// Some steps failed or are waiting for a sleepy device; will be retried.
    Partial,
    /// Everything known; capabilities are final.
    Complete,
    /// Gave up after retries; capabilities are what could be learned.
    Failed,
}

impl InterviewState {
    /// The string form used in the vendor parameter of the data model.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::InProgress => "InProgress",
            Self::Partial => "Partial",
            Self::Complete => "Complete",
            Self::Failed => "Failed",
        }
    }
}

/// Where a device gets its power; decides the availability timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PowerSource {
    /// Mains powered, always listening.
    Mains,
    /// Battery powered, usually sleepy.
    Battery,
    /// Not (yet) known.
    Unknown,
}

/// A sub-device (`ProxiedDevice.{i}.Node.{i}.`): a Zigbee endpoint or a Z-Wave
/// multi-channel end point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Stable within the device (e.g. `ep2`, `ch1`); used as the Node's Alias.
    pub key: String,
    /// TR-181 `Node.{i}.Type`, if one fits.
    pub device_type: Option<IoTDeviceType>,
    /// Human-readable description (`Node.{i}.Description`).
    pub description: String,
    /// The node's capabilities (`Node.{i}.IoTCapability.{i}.`).
    pub capabilities: Vec<Capability>,
}

/// A command a device or capability accepts beyond TR-181's Toggle/StepUp/StepDown
/// (which are implied by the capability class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandSpec {
    /// Command name without the vendor prefix and `()` (e.g. `Identify`).
    pub name: String,
    /// The capability the command belongs to; `None` for a device-level command.
    pub capability: Option<CapabilityId>,
    /// Input argument names.
    pub input_args: Vec<String>,
    /// Output argument names.
    pub output_args: Vec<String>,
}

/// An event a device can emit (button press, scene, alarm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSpec {
    /// Event name without the vendor prefix and `!` (e.g. `ButtonPress`).
    pub name: String,
    /// Argument names.
    pub args: Vec<String>,
}

/// Everything the agent needs to mount one `Device.ProxiedDevice.{i}.`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceDescriptor {
    /// Stable identity.
    pub id: DeviceId,
    /// `ProxyProtocol`.
    pub protocol: ProxyProtocol,
    /// Manufacturer as the device reports it (empty if unknown).
    pub manufacturer: String,
    /// Model as the device reports it (empty if unknown).
    pub model: String,
    /// Firmware version (empty if unknown).
    pub firmware: String,
    /// TR-181 `ProxiedDevice.{i}.Type`, if one fits.
    pub device_type: Option<IoTDeviceType>,
    /// Human-readable description (`ProxiedDevice.{i}.Description`).
    pub description: String,
    /// Power source.
    pub power: PowerSource,
    /// Interview progress.
    pub interview: InterviewState,
    /// Device-level capabilities (`ProxiedDevice.{i}.IoTCapability.{i}.`).
    pub capabilities: Vec<Capability>,
    /// Sub-devices with their own capabilities.
    pub nodes: Vec<Node>,
    /// Vendor commands.
    pub commands: Vec<CommandSpec>,
    /// Vendor events.
    pub events: Vec<EventSpec>,
}

impl DeviceDescriptor {
    /// A descriptor with identity only (interview pending, no capabilities).
    pub fn new(id: DeviceId) -> Self {
        Self {
            protocol: id.protocol(),
            id,
            manufacturer: String::new(),
            model: String::new(),
            firmware: String::new(),
            device_type: None,
            description: String::new(),
            power: PowerSource::Unknown,
            interview: InterviewState::Pending,
            capabilities: Vec::new(),
            nodes: Vec::new(),
            commands: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Every capability of the device and its nodes, with the node key (if any).
    pub fn all_capabilities(&self) -> impl Iterator<Item = (Option<&str>, &Capability)> {
        self.capabilities
            .iter()
            .map(|c| (None, c))
            .chain(self.nodes.iter().flat_map(|n| {
                n.capabilities
                    .iter()
                    .map(move |c| (Some(n.key.as_str()), c))
            }))
    }

    /// The capability with this id, on the device or on one of its nodes.
    pub fn capability(&self, id: &CapabilityId) -> Option<&Capability> {
        self.all_capabilities()
            .map(|(_, c)| c)
            .find(|c| &c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_round_trip_through_canonical_strings() {
        let ids = [
            DeviceId::Zigbee(Eui64(0x00124b0001020304)),
            DeviceId::ZWave {
                home_id: 0xc0ffee01,
                node_id: 5,
            },
            DeviceId::Ble(BleAddress([0xa4, 0xc1, 0x38, 0x00, 0x01, 0xff])),
        ];
        let strings = [
            "zigbee:00124b0001020304",
            "zwave:c0ffee01:5",
            "ble:A4:C1:38:00:01:FF",
        ];
        for (id, s) in ids.iter().zip(strings) {
            assert_eq!(id.to_string(), s);
            assert_eq!(s.parse::<DeviceId>().as_ref(), Ok(id));
        }
    }

    #[test]
    fn address_parsers_accept_common_spellings() {
        assert_eq!(
            "00:12:4B:00:01:02:03:04".parse::<Eui64>(),
            Ok(Eui64(0x00124b0001020304))
        );
        assert_eq!(
            "0x00124b0001020304".parse::<Eui64>(),
            Ok(Eui64(0x00124b0001020304))
        );
        assert_eq!(
            "a4-c1-38-00-01-ff".parse::<BleAddress>(),
            Ok(BleAddress([0xa4, 0xc1, 0x38, 0, 1, 0xff]))
        );
    }

    #[test]
    fn malformed_device_ids_are_rejected() {
        for bad in [
            "",
            "zigbee:",
            "zigbee:1234",
            "zigbee:+0124b0001020304",
            "zwave:c0ffee01",
            "zwave:c0ffee01:70000",
            "zwave:fee01:5",
            "zwave:+0ffee01:5",
            "ble:+A:C1:38:00:01:FF",
            "ble:A4:C1:38:00:01",
            "ble:A4:C1:38:00:01:FF:00",
            "ble:A4:C1:38:00:1:FFF",
            "thread:abc",
        ] {
            assert!(bad.parse::<DeviceId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn descriptors_survive_a_serde_round_trip() {
        use crate::api::{
            Capability, CapabilityKind, Decimal, IoTLevelType, IoTUnitType, Value,
            vocab::BinaryControlType,
        };
        let mut d = DeviceDescriptor::new(DeviceId::ZWave {
            home_id: 0xc0ffee01,
            node_id: 12,
        });
        d.manufacturer = "Aeotec".into();
        d.device_type = Some(IoTDeviceType::Light);
        let mut level = Capability::new(
            "ep1/0x26/currentValue",
            "Brightness",
            CapabilityKind::LevelControl {
                kind: IoTLevelType::Brightness,
                unit: IoTUnitType::Percent,
                min: Decimal::from_int(0),
                max: Decimal::from_int(99),
                step: Some(Decimal::new(5, 0)),
            },
        );
        level.value = Some(Value::Decimal(Decimal::new(425, 1)));
        d.nodes.push(Node {
            key: "ep1".into(),
            device_type: Some(IoTDeviceType::Light),
            description: "End point 1".into(),
            capabilities: vec![level],
        });
        d.capabilities.push(Capability::new(
            "ep0/0x25/currentValue",
            "Switch",
            CapabilityKind::BinaryControl {
                kind: BinaryControlType::Switch,
            },
        ));
        d.events.push(EventSpec {
            name: "CentralScene".into(),
            args: vec!["Scene".into(), "KeyAttribute".into()],
        });
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("\"zwave:c0ffee01:12\""), "{json}");
        assert!(json.contains("\"42.5\""), "{json}");
        let back: DeviceDescriptor = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(back.capability(&"ep1/0x26/currentValue".into()).is_some());
        assert_eq!(back.all_capabilities().count(), 2);
    }

    #[test]
    fn eui64_wire_order_is_little_endian() {
        let e = Eui64::from_le_bytes([4, 3, 2, 1, 0, 0x4b, 0x12, 0]);
        assert_eq!(e.to_string(), "00124b0001020304");
        assert_eq!(e.to_le_bytes(), [4, 3, 2, 1, 0, 0x4b, 0x12, 0]);
    }
}
