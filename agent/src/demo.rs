//! `usphub demo`: the embedded default. The bridges' own simulators stand in for the
//! dongles (they speak the real serial protocols on loopback TCP ports), and the agent
//! drives them exactly as it would drive a stick: nothing here is a shortcut around a
//! bridge.

use std::path::Path;

use tracing::info;
use usphub_bridges::api::SerialPortSpec;
use usphub_bridges::zwave;

use crate::agent::RunningAgent;

/// The simulated radios of a demo; dropping it stops them.
pub struct DemoRadios {
    /// The Z-Wave controller simulator.
    pub zwave: zwave::sim::SimHandle,
}

/// Why the demo radios could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A simulator or a bridge failed to start.
    #[error("{0}")]
    Start(String),
}

/// Starts the simulators and their bridges, and attaches the bridges to the agent.
pub async fn start(agent: &RunningAgent, state_dir: &Path) -> Result<DemoRadios, DemoError> {
    let err = |what: &str, e: &dyn std::fmt::Display| DemoError::Start(format!("{what}: {e}"));
    let zsim = zwave::sim::spawn_tcp(&zwave::sim::scenario::Scenario::demo(), "127.0.0.1:0")
        .await
        .map_err(|e| err("Z-Wave simulator", &e))?;
    let spec: SerialPortSpec = zsim.url().parse().map_err(|e| err("Z-Wave port", &e))?;
    let handle =
        crate::radios::zwave_bridge(spec, state_dir).map_err(|e| err("Z-Wave bridge", &e))?;
    agent
        .proxy
        .attach(handle)
        .await
        .map_err(|e| err("Z-Wave bridge", &e))?;
    info!(port = %zsim.url(), "simulated Z-Wave stick attached");
    Ok(DemoRadios { zwave: zsim })
}
