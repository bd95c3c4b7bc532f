//! The BLE bridge: sensors heard by advertisement (BTHome v2, Xiaomi MiBeacon) through
//! btleplug and BlueZ.
//!
//! ```text
//! BlueZ (D-Bus) -> scanner (btleplug) --ScanEvent, bounded--> bridge actor
//!   -> registry: decode (bthome/, mibeacon) -> readings -> mapping -> capabilities
//!   -> BridgeEvent broadcast
//! ```
//! Start it with [`start`]; its configuration is [`BleSettings`] (`[ble]` in the agent's
//! configuration file). [`sim::start`] runs the same actor on a simulated radio (scripted
//! sensors, real encoders) for `usphub demo`. The capability mapping is documented in
//! `docs/DEVICES.md`.

pub mod bridge;
pub mod bthome;
pub mod crypto;
pub mod decode;
pub mod gatt;
pub mod gatt_client;
pub mod mapping;
pub mod mibeacon;
pub mod reading;
pub mod registry;
pub mod scanner;
pub mod sim;

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::{BleAddress, BridgeHandle};
use registry::{
    BleConfig, BleDeviceConfig, DEFAULT_AVAILABILITY_TIMEOUT, DEFAULT_MAX_TRACKED,
    DEFAULT_TRIGGER_BASED_TIMEOUT,
};
use scanner::ScannerConfig;

/// The `[ble]` section of the configuration file.
///
/// ```toml
/// [ble]
/// adapter = "hci0"                 # default: the first adapter
/// availability_timeout_s = 600     # default 600
/// trigger_based_timeout_s = 90000  # default 25 h, for devices that send only on events
/// max_tracked = 1024               # default 1024
/// gatt_poll_interval_s = 300       # default 300
/// gatt_max_connections = 4         # default 4
/// [[ble.devices]]
/// address = "A4:C1:38:02:83:F4"
/// bind_key = "e9ea895fac7cca6d30532432a516f3a8"   # only for encrypted adverts
/// [[ble.devices]]
/// address = "C4:7C:8D:6B:4F:F3"
/// gatt = true                      # connect and read DIS/Battery/ESS
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BleSettings {
    /// Adapter name (`hci0`); the first adapter when absent.
    pub adapter: Option<String>,
    /// Devices mounted whenever heard.
    pub devices: Vec<BleDeviceConfig>,
    /// Seconds without an advert before a device is offline.
    pub availability_timeout_s: Option<u64>,
    /// The same for devices that advertise only on events (BTHome trigger-based).
    pub trigger_based_timeout_s: Option<u64>,
    /// Bound on tracked advertisers.
    pub max_tracked: Option<usize>,
    /// Seconds between reads of GATT devices that do not notify.
    pub gatt_poll_interval_s: Option<u64>,
    /// At most this many GATT connections at once (default 4).
    pub gatt_max_connections: Option<usize>,
    /// Devices paired earlier (through a join window), from the agent's registry: they are
    /// mounted again whenever heard, like configured ones. Not read from the file.
    #[serde(skip)]
    pub paired: Vec<BleAddress>,
}

impl BleSettings {
    /// The registry part.
    pub fn registry(&self) -> BleConfig {
        let mut devices = self.devices.clone();
        for a in &self.paired {
            if !devices.iter().any(|d| d.address == *a) {
                devices.push(BleDeviceConfig {
                    address: *a,
                    bind_key: None,
                    gatt: false,
                });
            }
        }
        BleConfig {
            devices,
            availability_timeout: self
                .availability_timeout_s
                .map_or(DEFAULT_AVAILABILITY_TIMEOUT, Duration::from_secs),
            trigger_based_timeout: self
                .trigger_based_timeout_s
                .map_or(DEFAULT_TRIGGER_BASED_TIMEOUT, Duration::from_secs),
            max_tracked: self.max_tracked.unwrap_or(DEFAULT_MAX_TRACKED),
        }
    }

    /// The scanner part.
    pub fn scanner(&self) -> ScannerConfig {
        ScannerConfig {
            adapter: self.adapter.clone(),
            gatt_devices: self
                .devices
                .iter()
                .filter(|d| d.gatt)
                .map(|d| d.address)
                .collect(),
            gatt_poll_interval: self
                .gatt_poll_interval_s
                .map_or(gatt_client::DEFAULT_POLL_INTERVAL, Duration::from_secs),
            gatt_max_connections: self
                .gatt_max_connections
                .unwrap_or(gatt_client::DEFAULT_MAX_CONNECTIONS),
        }
    }
}

/// Starts the scanner and the bridge actor; returns the handle and the actor's task. The
/// scanner stops by itself when the actor has stopped (every handle dropped).
pub fn start(settings: &BleSettings) -> (BridgeHandle, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(bridge::SCAN_QUEUE);
    let (handle, task) = bridge::spawn(settings.registry(), rx);
    tokio::spawn(scanner::run(settings.scanner(), tx));
    (handle, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_from_toml_with_defaults() {
        let s: BleSettings = toml::from_str(
            r#"
            adapter = "hci1"
            availability_timeout_s = 120
            [[devices]]
            address = "A4:C1:38:02:83:F4"
            bind_key = "e9ea895fac7cca6d30532432a516f3a8"
            [[devices]]
            address = "a4:c1:38:8d:18:b2"
            "#,
        )
        .unwrap();
        let r = s.registry();
        assert_eq!(r.availability_timeout, Duration::from_secs(120));
        assert_eq!(r.max_tracked, DEFAULT_MAX_TRACKED);
        assert_eq!(r.devices.len(), 2);
        assert!(r.devices[0].bind_key.is_some() && r.devices[1].bind_key.is_none());
        assert_eq!(s.scanner().adapter.as_deref(), Some("hci1"));
        assert_eq!(
            BleSettings::default().registry().availability_timeout,
            DEFAULT_AVAILABILITY_TIMEOUT
        );
    }

    #[test]
    fn paired_devices_are_remounted_like_configured_ones() {
        let a: BleAddress = "A4:C1:38:02:83:F4".parse().unwrap();
        let b: BleAddress = "A4:C1:38:8D:18:B2".parse().unwrap();
        let s = BleSettings {
            devices: vec![BleDeviceConfig {
                address: a,
                bind_key: Some(crate::ble::crypto::BindKey([1; 16])),
                gatt: false,
            }],
            paired: vec![a, b],
            ..BleSettings::default()
        };
        let r = s.registry();
        assert_eq!(r.devices.len(), 2);
        assert!(
            r.devices[0].bind_key.is_some(),
            "the configured key is kept"
        );
        assert_eq!(r.devices[1].address, b);
    }

    #[test]
    fn bad_settings_are_rejected() {
        assert!(toml::from_str::<BleSettings>("[[devices]]\naddress = \"nope\"").is_err());
        assert!(
            toml::from_str::<BleSettings>(
                "[[devices]]\naddress = \"A4:C1:38:02:83:F4\"\nbind_key = \"12\""
            )
            .is_err()
        );
        assert!(toml::from_str::<BleSettings>("scan_interval = 3").is_err());
    }
}
