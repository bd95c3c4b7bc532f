//! The `[zigbee]` section of the agent's TOML configuration and how it becomes the port,
//! backend and bridge settings. Every key is optional except `port`; defaults run.
//!
//! ```toml
//! [zigbee]
//! port = "/dev/serial/by-id/usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus-if00?baud=115200"
//! # or port = "tcp://192.168.1.20:6638"
//! backend = "znp"                 # znp, ezsp, or auto (probe the port at start-up)
//! channel = 15                    # 11-26, used when a network is formed
//! pan_id = 0x1a62                 # random when absent
//! extended_pan_id = "dddd000011112222"  # 16 hex digits, random when absent
//! network_key = "00112233445566778899aabbccddeeff"  # random when absent (never logged)
//! response_timeout_s = 10
//! mains_offline_after_s = 600
//! battery_offline_after_s = 90000
//! ```

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use super::bridge::ZigbeeBridgeConfig;
use super::znp::backend::ZnpBackendConfig;
use crate::api::SerialPortSpec;

/// Which coordinator firmware family the port speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// TI Z-Stack ZNP (CC2652/CC1352 sticks, SLZB-06, TubesZB, ...).
    #[default]
    Znp,
    /// Silicon Labs EmberZNet NCP over ASH (SkyConnect/ZBT-1, Sonoff ZBDongle-E, ...).
    Ezsp,
    /// Probe the port once at start-up (ZNP ping, then ASH reset) and use what answers.
    Auto,
}

impl FromStr for BackendKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "znp" => Ok(BackendKind::Znp),
            "ezsp" => Ok(BackendKind::Ezsp),
            "auto" => Ok(BackendKind::Auto),
            other => Err(format!(
                "unknown Zigbee backend {other:?} (expected znp, ezsp or auto)"
            )),
        }
    }
}

/// The `[zigbee]` configuration section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZigbeeSection {
    /// Serial device path or `tcp://host:port`, with optional `?baud=&flow=`.
    pub port: String,
    /// Coordinator backend.
    #[serde(default)]
    pub backend: BackendKind,
    /// Channel for a new network.
    pub channel: Option<u8>,
    /// PAN id for a new network.
    pub pan_id: Option<u16>,
    /// Extended PAN id for a new network (16 hex digits).
    pub extended_pan_id: Option<String>,
    /// Network key for a new network (32 hex digits).
    pub network_key: Option<String>,
    /// Deadline for each device answer, seconds.
    pub response_timeout_s: Option<u64>,
    /// A silent mains device is offline after this many seconds.
    pub mains_offline_after_s: Option<u64>,
    /// A silent battery device is offline after this many seconds.
    pub battery_offline_after_s: Option<u64>,
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[zigbee] {key}: {reason}")]
pub struct ConfigError {
    /// The key.
    pub key: &'static str,
    /// What is wrong.
    pub reason: String,
}

fn hex<const N: usize>(key: &'static str, s: &str) -> Result<[u8; N], ConfigError> {
    let bad = || ConfigError {
        key,
        reason: format!("expected {} hex digits", 2 * N),
    };
    if s.len() != 2 * N || !s.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Everything needed to start the bridge.
#[derive(Debug, Clone)]
pub struct ZigbeeSetup {
    /// The port to open.
    pub port: SerialPortSpec,
    /// Backend family.
    pub backend: BackendKind,
    /// ZNP backend settings.
    pub znp: ZnpBackendConfig,
    /// Bridge settings.
    pub bridge: ZigbeeBridgeConfig,
}

impl ZigbeeSection {
    /// A section with only the port set (`usphub run --zigbee PORT`).
    pub fn new(port: impl Into<String>) -> Self {
        ZigbeeSection {
            port: port.into(),
            backend: BackendKind::default(),
            channel: None,
            pan_id: None,
            extended_pan_id: None,
            network_key: None,
            response_timeout_s: None,
            mains_offline_after_s: None,
            battery_offline_after_s: None,
        }
    }

    /// Validates the section; the bridge keeps its files in `state_dir`.
    pub fn setup(&self, state_dir: &Path) -> Result<ZigbeeSetup, ConfigError> {
        let port = SerialPortSpec::from_str(&self.port).map_err(|e| ConfigError {
            key: "port",
            reason: e.to_string(),
        })?;
        let mut bridge = ZigbeeBridgeConfig::new(state_dir);
        if let Some(c) = self.channel {
            if !(11..=26).contains(&c) {
                return Err(ConfigError {
                    key: "channel",
                    reason: format!("{c} is not 11-26"),
                });
            }
            bridge.network.channel = Some(c);
        }
        if let Some(p) = self.pan_id {
            if p == 0 || p >= 0xFFF0 {
                return Err(ConfigError {
                    key: "pan_id",
                    reason: format!("{p:#06x} is reserved"),
                });
            }
            bridge.network.pan_id = Some(p);
        }
        if let Some(e) = &self.extended_pan_id {
            bridge.network.extended_pan_id =
                Some(u64::from_be_bytes(hex::<8>("extended_pan_id", e)?));
        }
        if let Some(k) = &self.network_key {
            bridge.network.network_key = Some(hex::<16>("network_key", k)?);
        }
        if let Some(s) = self.response_timeout_s {
            bridge.response_timeout = Duration::from_secs(s.clamp(1, 120));
        }
        if let Some(s) = self.mains_offline_after_s {
            bridge.mains_timeout = Duration::from_secs(s.max(60));
        }
        if let Some(s) = self.battery_offline_after_s {
            bridge.battery_timeout = Duration::from_secs(s.max(60));
        }
        Ok(ZigbeeSetup {
            port,
            backend: self.backend,
            znp: ZnpBackendConfig::default(),
            bridge,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_section_runs_with_defaults() {
        let s: ZigbeeSection = toml::from_str("port = \"tcp://127.0.0.1:6638\"").unwrap();
        let setup = s.setup(Path::new("/var/lib/usphub")).unwrap();
        assert!(setup.port.is_tcp());
        assert_eq!(setup.backend, BackendKind::Znp);
        assert_eq!(
            setup.bridge.network_file,
            Path::new("/var/lib/usphub/zigbee-network.toml")
        );
        assert_eq!(setup.bridge.network.channel, None);
    }

    #[test]
    fn network_values_are_validated() {
        let s: ZigbeeSection = toml::from_str(
            "port = \"/dev/ttyUSB0\"\nchannel = 25\npan_id = 0x1a62\nextended_pan_id = \"00124b0001020304\"\nnetwork_key = \"00112233445566778899aabbccddeeff\"\n",
        )
        .unwrap();
        let setup = s.setup(Path::new("/tmp")).unwrap();
        assert_eq!(setup.bridge.network.channel, Some(25));
        assert_eq!(
            setup.bridge.network.extended_pan_id,
            Some(0x00124B0001020304)
        );
        assert_eq!(setup.bridge.network.network_key.map(|k| k[15]), Some(0xFF));
        let bad: ZigbeeSection = toml::from_str("port = \"/dev/ttyUSB0\"\nchannel = 27\n").unwrap();
        assert_eq!(bad.setup(Path::new("/tmp")).unwrap_err().key, "channel");
        let bad: ZigbeeSection =
            toml::from_str("port = \"/dev/ttyUSB0\"\nnetwork_key = \"00\"\n").unwrap();
        assert_eq!(bad.setup(Path::new("/tmp")).unwrap_err().key, "network_key");
        assert!(toml::from_str::<ZigbeeSection>("port = \"x\"\nbackend = \"deconz\"\n").is_err());
    }
}
