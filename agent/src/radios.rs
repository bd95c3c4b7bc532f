//! Starting the radios the configuration names (`[zwave]`, `[zigbee]`), attaching each
//! bridge to the proxy, and opening them for pairing at start-up (`permit_join_s`).

use std::path::Path;
use std::time::Duration;

use tracing::{info, warn};
use usphub_bridges::api::{BridgeHandle, SerialPortSpec};
use usphub_bridges::zwave;

use crate::agent::RunningAgent;
use crate::config::Config;

/// Why a radio could not start.
#[derive(Debug, thiserror::Error)]
#[error("{radio}: {reason}")]
pub struct RadioError {
    /// Which radio.
    pub radio: &'static str,
    /// Why.
    pub reason: String,
}

/// Starts a Z-Wave bridge on `port`, keeping its node registry in `state_dir`; S0 needs
/// the network's key.
pub fn zwave_bridge(
    port: SerialPortSpec,
    state_dir: &Path,
    network_key: Option<[u8; 16]>,
) -> Result<BridgeHandle, RadioError> {
    let mut cfg = zwave::bridge::ZWaveConfig::new(port);
    cfg.registry = Some(state_dir.join("zwave.redb"));
    cfg.network_key = network_key;
    zwave::bridge::spawn(cfg).map_err(|e| RadioError {
        radio: "Z-Wave",
        reason: e.to_string(),
    })
}

/// Starts the Zigbee bridge of a `[zigbee]` section (the ZNP backend), keeping its network
/// and device files in `state_dir/zigbee`.
pub async fn zigbee_bridge(
    section: &usphub_bridges::zigbee::config::ZigbeeSection,
    state_dir: &Path,
) -> Result<BridgeHandle, RadioError> {
    use usphub_bridges::zigbee::{bridge, znp};
    let e = |reason: String| RadioError {
        radio: "Zigbee",
        reason,
    };
    let dir = state_dir.join("zigbee");
    std::fs::create_dir_all(&dir).map_err(|x| e(format!("{}: {x}", dir.display())))?;
    let setup = section.setup(&dir).map_err(|x| e(x.to_string()))?;
    let backend = znp::backend::ZnpBackend::new(znp::link::port_connector(setup.port), setup.znp);
    // The actor task runs until the last handle is dropped.
    let (handle, _task) = bridge::start(backend, setup.bridge)
        .await
        .map_err(|x| e(x.to_string()))?;
    Ok(handle)
}

/// Starts the configured radios, attaches them, and permits joining if configured.
pub async fn start_configured(
    agent: &RunningAgent,
    cfg: &Config,
    state_dir: &Path,
) -> Result<Vec<BridgeHandle>, RadioError> {
    let mut handles = Vec::new();
    if let Some(z) = &cfg.zwave {
        let spec: SerialPortSpec =
            z.port
                .parse()
                .map_err(|e: usphub_bridges::api::PortError| RadioError {
                    radio: "Z-Wave",
                    reason: e.to_string(),
                })?;
        handles.push(zwave_bridge(spec, state_dir, None)?);
    }
    if cfg.zigbee.is_some() {
        warn!(
            "[zigbee] is configured but this build does not start Zigbee coordinators from the configuration yet"
        );
    }
    for h in &handles {
        agent
            .proxy
            .attach(h.clone())
            .await
            .map_err(|e| RadioError {
                radio: "bridge",
                reason: e.to_string(),
            })?;
    }
    permit_join(&handles, cfg.permit_join_s).await;
    Ok(handles)
}

/// Opens every radio for pairing for `seconds` (nothing when 0).
pub async fn permit_join(handles: &[BridgeHandle], seconds: u32) {
    if seconds == 0 {
        return;
    }
    for h in handles {
        match h.permit_join(Duration::from_secs(u64::from(seconds))).await {
            Ok(()) => info!(
                protocol = h.protocol().as_str(),
                seconds, "joining permitted"
            ),
            Err(e) => warn!(protocol = h.protocol().as_str(), error = %e, "permit join failed"),
        }
    }
}
