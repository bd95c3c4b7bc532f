//! The agent's configuration: a TOML file (every key documented in docs/CONFIG.md) with
//! defaults that run, overridden by command-line flags so an agent can start with no file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Errors reading or checking the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<toml::de::Error>,
    },
    /// A value is present but unusable.
    #[error("invalid config value {key}: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The agent's USP EndpointID.
    pub endpoint_id: String,
    /// The redb database file (configuration, subscriptions, device registry).
    pub db: PathBuf,
    /// Largest USP Record accepted, in bytes.
    pub max_record_size: usize,
    /// MQTT 5 client MTP, when set.
    pub mqtt: Option<MqttConfig>,
    /// WebSocket server MTP, when set.
    pub websocket: Option<WsServerConfig>,
    /// Controllers this agent trusts.
    #[serde(rename = "controller")]
    pub controllers: Vec<ControllerConfig>,
    /// The Z-Wave stick, when there is one.
    pub zwave: Option<RadioConfig>,
    /// The Zigbee coordinator, when there is one.
    pub zigbee: Option<usphub_bridges::zigbee::config::ZigbeeSection>,
    /// The Bluetooth LE adapter (BlueZ), when BLE sensors are wanted.
    pub ble: Option<usphub_bridges::ble::BleSettings>,
    /// Seconds to permit joining on every radio at start-up (0: closed).
    pub permit_join_s: u32,
    /// `[dongles]`: USB sticks found at start-up or plugged in later, and which of them get
    /// a bridge (docs/DONGLES.md, "Auto-start policy").
    pub dongles: usphub_udev::AutoStartConfig,
}

/// A radio dongle.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RadioConfig {
    /// `/dev/serial/by-id/...`, `/dev/ttyUSB0`, or `tcp://host:port`, with optional
    /// `?baud=115200&flow=rtscts` (see docs/CONFIG.md).
    pub port: String,
    /// Z-Wave only: the S0 network key (32 hex digits). Without it the agent generates one
    /// on first start and keeps it in its state directory (`zwave-s0.key`, mode 0600).
    #[serde(default)]
    pub network_key: Option<String>,
}

impl RadioConfig {
    /// A radio on `port` with defaults for everything else.
    pub fn new(port: impl Into<String>) -> Self {
        RadioConfig {
            port: port.into(),
            network_key: None,
        }
    }
}

/// The MQTT client MTP.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Broker host name or address.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// MQTT client id; empty lets the agent derive one from its EndpointID.
    pub client_id: String,
    /// User name, if the broker wants one.
    pub username: Option<String>,
    /// Password, if the broker wants one.
    pub password: Option<String>,
    /// Keep-alive in seconds.
    pub keepalive_s: u16,
    /// The topic the agent subscribes to; empty derives `usp/agent/<EndpointID>`.
    pub agent_topic: String,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            host: "127.0.0.1".into(),
            port: 1883,
            client_id: String::new(),
            username: None,
            password: None,
            keepalive_s: 60,
            agent_topic: String::new(),
        }
    }
}

/// The WebSocket server MTP.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WsServerConfig {
    /// Address to listen on (loopback by default).
    pub listen: SocketAddr,
    /// The HTTP path Controllers connect to.
    pub path: String,
}

impl Default for WsServerConfig {
    fn default() -> Self {
        WsServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 5683)),
            path: "/usp".into(),
        }
    }
}

/// A trusted Controller.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ControllerConfig {
    /// The Controller's EndpointID.
    pub endpoint_id: String,
    /// Its role: `full` (full access) or `untrusted`.
    #[serde(default = "default_role")]
    pub role: Role,
    /// The MQTT topic it receives on, when it uses MQTT.
    #[serde(default)]
    pub mqtt_topic: Option<String>,
    /// The WebSocket URL the agent connects to, when the Controller is a WebSocket server.
    #[serde(default)]
    pub ws_url: Option<String>,
}

fn default_role() -> Role {
    Role::Full
}

/// A Controller's trust role (Device.LocalAgent.ControllerTrust.Role).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every operation on every path.
    Full,
    /// Only GetSupportedProtocol; everything else is refused with 7006.
    Untrusted,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint_id: default_endpoint_id(),
            db: PathBuf::from("/var/lib/usphub/usphub.redb"),
            max_record_size: usp_proto::DecodeLimits::default().max_record_size,
            mqtt: None,
            websocket: Some(WsServerConfig::default()),
            controllers: Vec::new(),
            zwave: None,
            zigbee: None,
            ble: None,
            permit_join_s: 0,
            dongles: usphub_udev::AutoStartConfig::default(),
        }
    }
}

/// `self::usphub-<hostname>`: a self-assigned EndpointID (TR-369 authority scheme `self`).
pub fn default_endpoint_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("self::usphub-{host}")
}

impl Config {
    /// Reads a TOML file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        })
    }

    /// Parses TOML text and checks it.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::new(),
            source: Box::new(e),
        })?;
        cfg.check()?;
        Ok(cfg)
    }

    /// Checks values that the types alone cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !valid_endpoint_id(&self.endpoint_id) {
            return Err(ConfigError::Invalid {
                key: "endpoint_id",
                reason: format!(
                    "{:?} is not `authority-scheme::instance-id` (e.g. self::usphub-hub1)",
                    self.endpoint_id
                ),
            });
        }
        if self.max_record_size < 1024 {
            return Err(ConfigError::Invalid {
                key: "max_record_size",
                reason: "must be at least 1024 bytes".into(),
            });
        }
        if let Some(r) = &self.zwave
            && let Err(e) = r.port.parse::<usphub_bridges::api::SerialPortSpec>()
        {
            return Err(ConfigError::Invalid {
                key: "zwave.port",
                reason: e.to_string(),
            });
        }
        if let Some(k) = self.zwave.as_ref().and_then(|r| r.network_key.as_deref())
            && crate::radios::parse_key(k).is_none()
        {
            return Err(ConfigError::Invalid {
                key: "zwave.network_key",
                reason: "expected 32 hex digits".into(),
            });
        }
        if let Some(z) = &self.zigbee
            && let Err(e) = z.setup(std::path::Path::new("."))
        {
            return Err(ConfigError::Invalid {
                key: "zigbee",
                reason: e.to_string(),
            });
        }
        for c in &self.controllers {
            if !valid_endpoint_id(&c.endpoint_id) {
                return Err(ConfigError::Invalid {
                    key: "controller.endpoint_id",
                    reason: format!("{:?} is not a USP EndpointID", c.endpoint_id),
                });
            }
        }
        Ok(())
    }

    /// The MQTT topic the agent subscribes to.
    pub fn agent_topic(&self) -> Option<String> {
        self.mqtt.as_ref().map(|m| {
            if m.agent_topic.is_empty() {
                format!("usp/agent/{}", self.endpoint_id)
            } else {
                m.agent_topic.clone()
            }
        })
    }
}

/// TR-369 EndpointID shape: `authority-scheme::[authority-id::]instance-id`, printable, no spaces.
pub fn valid_endpoint_id(id: &str) -> bool {
    const SCHEMES: [&str; 12] = [
        "oui", "cid", "pen", "self", "user", "os", "ops", "uuid", "imei", "proto", "doc", "fqdn",
    ];
    let Some((scheme, rest)) = id.split_once("::") else {
        return false;
    };
    SCHEMES.contains(&scheme)
        && !rest.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults_that_run() {
        let c = Config::parse("").unwrap();
        assert!(c.endpoint_id.starts_with("self::usphub-"));
        assert!(c.websocket.is_some());
        assert_eq!(c.max_record_size, 65536);
    }

    #[test]
    fn controllers_and_mqtt_are_read() {
        let c = Config::parse(
            r#"
endpoint_id = "proto::agent-1"
[mqtt]
host = "127.0.0.1"
port = 1884
[[controller]]
endpoint_id = "proto::ctrl"
mqtt_topic = "usp/ctrl"
[[controller]]
endpoint_id = "proto::guest"
role = "untrusted"
"#,
        )
        .unwrap();
        assert_eq!(c.mqtt.as_ref().unwrap().port, 1884);
        assert_eq!(c.agent_topic().unwrap(), "usp/agent/proto::agent-1");
        assert_eq!(c.controllers.len(), 2);
        assert_eq!(c.controllers[1].role, Role::Untrusted);
    }

    #[test]
    fn dongles_section_names_sticks_and_defaults_to_following_them() {
        assert!(Config::parse("").unwrap().dongles.enable);
        let c = Config::parse(
            r#"
[dongles]
enable = true
auto_start = false
[[dongles.named]]
serial = "b8b49abd27a6ed11a280eba32981d111"
firmware = "znp"
"#,
        )
        .unwrap();
        assert!(!c.dongles.auto_start);
        assert_eq!(c.dongles.named.len(), 1);
        assert!(Config::parse("[dongles]\nauto_strat = true").is_err());
    }

    #[test]
    fn packaged_default_config_parses() {
        let text = include_str!("../../udev/packaging/usphub.toml");
        let c = Config::parse(text).unwrap();
        assert_eq!(c.db, PathBuf::from("/var/lib/usphub/usphub.redb"));
        assert!(c.dongles.enable && c.dongles.auto_start);
        assert!(c.zigbee.is_none() && c.zwave.is_none());
    }

    #[test]
    fn unknown_keys_and_bad_endpoint_ids_are_refused() {
        assert!(matches!(
            Config::parse("bogus = 1"),
            Err(ConfigError::Parse { .. })
        ));
        assert!(matches!(
            Config::parse("endpoint_id = \"no-scheme\""),
            Err(ConfigError::Invalid {
                key: "endpoint_id",
                ..
            })
        ));
    }
}
