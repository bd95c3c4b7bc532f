//! The Z-Wave bridge: a [`BridgeHandle`] over a Serial API controller stick.
//!
//! [`spawn`] opens the port (through [`open_port`], re-opened after a loss), runs the
//! controller start-up, loads the node registry (redb) so known nodes need no re-interview,
//! interviews new nodes, maps command classes to TR-181 IoT capabilities and publishes
//! [`BridgeEvent`](crate::api::BridgeEvent)s.
//!
//! Sleeping nodes (battery devices with Wake Up CC): interviews, writes and refreshes are
//! queued per node and sent at its next Wake Up Notification, followed by Wake Up No More
//! Information. By default ([`SleepingWrites::Queue`]) a write to a sleeping node is
//! accepted at once and applied at the wake-up (its Report then updates the value);
//! [`SleepingWrites::Refuse`] answers `BridgeError::Asleep` instead. A sleeping node goes
//! `Online = false` after missing two wake-up intervals (plus 60 s by default).

mod actor;
pub mod context;
pub mod inclusion;
pub mod interview;
pub mod model;
pub mod registry;
mod requests;
pub mod security;
mod sleeping;

#[cfg(test)]
mod interop;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::api::{BridgeHandle, ProxyProtocol, SerialPortSpec, bridge_channel, open_port};
use crate::zwave::serial::port::{self, BoxPort, ConnectFuture, Connector, PortConfig};

use self::actor::Actor;
use self::context::NodeIo;
use self::registry::{Registry, RegistryError};

/// What a write to a sleeping node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SleepingWrites {
    /// Accept now, send at the next wake-up.
    #[default]
    Queue,
    /// Refuse with `Asleep`.
    Refuse,
}

/// Z-Wave bridge settings.
#[derive(Clone)]
pub struct ZWaveConfig {
    /// The stick: `/dev/serial/by-id/...`, `/dev/ttyACM0` or `tcp://host:port`.
    pub port: SerialPortSpec,
    /// Node registry file; `None` keeps nodes in memory only.
    pub registry: Option<PathBuf>,
    /// Wake Up interval configured on sleeping nodes, seconds.
    pub wake_up_interval_s: u32,
    /// Writes to sleeping nodes.
    pub sleeping_writes: SleepingWrites,
    /// How long to wait for a node's report.
    pub report_timeout: Duration,
    /// Serial link timing.
    pub port_config: PortConfig,
    /// S0 network key (16 bytes); `None` disables Security 0. Never logged or exported.
    pub network_key: Option<[u8; 16]>,
    /// How often sleeping nodes are checked for missed wake-ups.
    pub online_check: Duration,
    /// Grace added to two wake-up intervals before a sleeping node is offline.
    pub missed_wake_up_slack: Duration,
    /// Delay before a failed controller start-up is tried again.
    pub startup_retry: Duration,
}

impl ZWaveConfig {
    /// Defaults for `port`.
    pub fn new(port: SerialPortSpec) -> Self {
        Self {
            port,
            registry: None,
            wake_up_interval_s: 3600,
            sleeping_writes: SleepingWrites::Queue,
            report_timeout: Duration::from_secs(5),
            port_config: PortConfig::default(),
            network_key: None,
            online_check: Duration::from_secs(30),
            missed_wake_up_slack: Duration::from_secs(60),
            startup_retry: Duration::from_secs(5),
        }
    }
}

impl std::fmt::Debug for ZWaveConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZWaveConfig")
            .field("port", &self.port)
            .field("registry", &self.registry)
            .field("network_key", &self.network_key.map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

/// A connector opening `spec` with the shared [`open_port`].
pub fn spec_connector(spec: SerialPortSpec) -> impl Connector {
    move || -> ConnectFuture {
        let spec = spec.clone();
        Box::pin(async move {
            let p = open_port(&spec).await.map_err(std::io::Error::other)?;
            Ok(Box::new(p) as BoxPort)
        })
    }
}

/// Starts the bridge; fails only if the registry file cannot be opened.
pub fn spawn(config: ZWaveConfig) -> Result<BridgeHandle, RegistryError> {
    let connector = spec_connector(config.port.clone());
    spawn_with(config, connector)
}

/// Starts the bridge on ports `connector` opens (a hot-plugged stick's gate) instead of
/// `config.port`, which then only names the stick.
pub fn spawn_with(
    config: ZWaveConfig,
    connector: impl port::Connector,
) -> Result<BridgeHandle, RegistryError> {
    let registry = config.registry.as_deref().map(Registry::open).transpose()?;
    let (serial, inbound) = port::spawn(connector, config.port_config);
    let (handle, inbox) = bridge_channel(ProxyProtocol::ZWave, 64, 1024);
    let (internal_tx, internal_rx) = mpsc::channel(64);
    let (member_tx, member_rx) = mpsc::channel(16);
    let io = NodeIo::new(serial, config.report_timeout, config.network_key);
    let events = inbox.events.clone();
    let actor = Actor::new(io, config, registry, events, internal_tx, member_tx);
    tokio::spawn(actor.run(inbound, inbox, internal_rx, member_rx));
    Ok(handle)
}
