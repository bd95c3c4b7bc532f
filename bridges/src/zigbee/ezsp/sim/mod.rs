//! An EmberZNet NCP simulator: the NCP side of ASH ([`serve_ncp`]) and EZSP on a loopback
//! TCP port or a PTY, byte for byte, with the network kept in "tokens" across resets,
//! permit join, and the scenario's virtual devices (the same TOML scenarios as the ZNP
//! simulator). Behaviour is in [`state`]; serving, unplugging and the test controls all
//! simulators share are [`SimHost`]'s; this module adds ASH, NCP reboots and faults.
//!
//! Concurrency: see [`crate::zigbee::sim::host`]. Each host connection gets its own ASH NCP
//! task, fed through an in-memory pipe so that unplugging can cut it.

pub mod state;

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::ash::{AshNcpConfig, AshNcpEvent, AshNcpHandle, NcpFault, serve_ncp};
pub use crate::zigbee::sim::SimPort;
use crate::zigbee::sim::{Radio, Scenario, Shared, SimHost};
use state::NcpState;

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct EzspSimConfig {
    /// The NCP's EUI-64.
    pub ieee: u64,
    /// Virtual devices.
    pub scenario: Scenario,
    /// The EZSP protocol version the firmware speaks (8 and later; 13 is EmberZNet 7.4).
    pub protocol_version: u8,
    /// ASH timing of the NCP side.
    pub ash: AshNcpConfig,
}

impl Default for EzspSimConfig {
    fn default() -> Self {
        EzspSimConfig {
            ieee: 0x000D_6F00_0000_0001,
            scenario: Scenario::default(),
            protocol_version: 13,
            ash: AshNcpConfig::default(),
        }
    }
}

/// A running EZSP simulator; dropping it stops it.
pub type EzspSim = SimHost<EzspRadio>;

/// The EZSP side of [`EzspSim`]: ASH on each connection.
pub struct EzspRadio {
    ash: AshNcpConfig,
}

impl Radio for EzspRadio {
    type Config = EzspSimConfig;
    type State = NcpState;
    type Link = AshNcpHandle;
    const NAME: &'static str = "EZSP";

    fn new(config: EzspSimConfig) -> (Self, NcpState) {
        let state = NcpState::new(config.ieee, config.protocol_version, config.scenario);
        (EzspRadio { ash: config.ash }, state)
    }

    fn send(link: &AshNcpHandle, frame: Vec<u8>) -> bool {
        link.send(frame)
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin + Send>(
        mut stream: S,
        shared: &Arc<Shared<Self>>,
    ) {
        let mut kicked = shared.kicked();
        // The ASH task reads one end of a pipe; this task copies between the port and the
        // other end, so dropping the pipe cuts the ASH task off exactly like a pulled cable.
        let (mut mine, theirs) = tokio::io::duplex(4096);
        let (ncp, mut events) = serve_ncp(theirs, shared.radio().ash.clone());
        let _connected = shared.connect(ncp);
        let copy = tokio::io::copy_bidirectional(&mut stream, &mut mine);
        tokio::pin!(copy);
        loop {
            tokio::select! {
                _ = &mut copy => break,
                ev = events.recv() => match ev {
                    Some(AshNcpEvent::Reset) => shared.with_state(NcpState::reset),
                    Some(AshNcpEvent::Frame(b)) => shared.from_host(|s| s.handle(&b)),
                    None => break,
                },
                () = &mut kicked => break,
            }
        }
    }
}

impl EzspSim {
    /// The NCP reboots under a connected host (watchdog, brown-out): its EZSP state is
    /// lost and it sends an unsolicited RSTACK with `reset_code`. False without a host.
    pub fn reboot(&self, reset_code: u8) -> bool {
        self.with_state(NcpState::reset);
        self.fault(NcpFault::SendRstAck(reset_code))
    }

    /// Injects an ASH fault into the current connection; false without a host.
    pub fn fault(&self, f: NcpFault) -> bool {
        self.shared().with_link(|h| h.fault(f)).is_some()
    }

    /// Sends a raw EZSP frame to the connected host (unknown frame ids, broken
    /// parameters); false without a host.
    pub fn inject_frame(&self, ezsp: Vec<u8>) -> bool {
        self.shared().with_link(|h| h.send(ezsp)) == Some(true)
    }
}

#[cfg(test)]
mod bellows_tests;
#[cfg(test)]
mod tests;
