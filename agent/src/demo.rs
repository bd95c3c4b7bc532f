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
    /// The ZNP coordinator simulator.
    pub zigbee: usphub_bridges::zigbee::znp::sim::ZnpSim,
    /// The simulated BLE advertisers' task (the real BLE bridge actor decodes them).
    pub ble: tokio::task::JoinHandle<()>,
}

impl Drop for DemoRadios {
    fn drop(&mut self) {
        self.ble.abort();
    }
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
    let zsim_zwave = zwave::sim::spawn_tcp(&zwave::sim::scenario::Scenario::demo(), "127.0.0.1:0")
        .await
        .map_err(|e| err("Z-Wave simulator", &e))?;
    let spec: SerialPortSpec = zsim_zwave
        .url()
        .parse()
        .map_err(|e| err("Z-Wave port", &e))?;
    let handle =
        // The simulated S0 lock was included with the scenario's network key.
        crate::radios::zwave_bridge(spec, state_dir, Some(zwave::sim::scenario::DEMO_NETWORK_KEY))
            .map_err(|e| err("Z-Wave bridge", &e))?;
    agent
        .proxy
        .attach(handle)
        .await
        .map_err(|e| err("Z-Wave bridge", &e))?;
    info!(port = %zsim_zwave.url(), "simulated Z-Wave stick attached");

    // Zigbee: the ZNP coordinator simulator behind the real ZNP backend and Zigbee core.
    let (zsim, zigbee) = zigbee_radio(state_dir).await?;
    agent
        .proxy
        .attach(zigbee)
        .await
        .map_err(|e| err("Zigbee bridge", &e))?;
    info!(port = %zsim.url(), "simulated Zigbee coordinator attached");

    // BLE: BTHome and MiBeacon sensors encoded by the real encoders, decoded by the real
    // BLE bridge (no adapter or BlueZ needed); one more starts advertising when joining
    // is permitted.
    let (ble, ble_task) = usphub_bridges::ble::sim::start(
        &usphub_bridges::ble::BleSettings::default(),
        usphub_bridges::ble::sim::SimScenario::default(),
    );
    agent
        .proxy
        .attach(ble)
        .await
        .map_err(|e| err("BLE bridge", &e))?;
    info!("simulated BLE advertisers attached");
    Ok(DemoRadios {
        zwave: zsim_zwave,
        zigbee: zsim,
        ble: ble_task,
    })
}

/// The demo's Zigbee devices (also `usphub sim znp`'s default scenario).
pub const ZIGBEE_SCENARIO: &str = include_str!("demo_zigbee.toml");
/// The simulated coordinator's IEEE address.
pub const ZIGBEE_COORDINATOR_IEEE: u64 = 0x00124b00_00d0e000;

/// The demo's Zigbee network: a ZNP simulator with the devices of `demo_zigbee.toml`,
/// behind the same bridge set-up as a configured `[zigbee]` stick.
async fn zigbee_radio(
    state_dir: &Path,
) -> Result<
    (
        usphub_bridges::zigbee::znp::sim::ZnpSim,
        usphub_bridges::api::BridgeHandle,
    ),
    DemoError,
> {
    use usphub_bridges::zigbee::{config::ZigbeeSection, sim::Scenario, znp};
    let err = |what: &str, e: &dyn std::fmt::Display| DemoError::Start(format!("{what}: {e}"));
    let scenario = Scenario::parse(ZIGBEE_SCENARIO).map_err(|e| err("Zigbee scenario", &e))?;
    let sim = znp::sim::ZnpSim::start_tcp(
        znp::sim::ZnpSimConfig {
            ieee: ZIGBEE_COORDINATOR_IEEE,
            scenario,
            require_bootloader_skip: false,
        },
        0,
    )
    .await
    .map_err(|e| err("Zigbee simulator", &e))?;
    let section: ZigbeeSection =
        toml::from_str(&format!("port = {:?}", sim.url())).map_err(|e| err("Zigbee port", &e))?;
    let handle = crate::radios::zigbee_bridge(&section, state_dir)
        .await
        .map_err(|e| err("Zigbee bridge", &e))?;
    Ok((sim, handle))
}
