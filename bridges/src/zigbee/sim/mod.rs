//! Radio-neutral simulation of a Zigbee coordinator, shared by the ZNP and EZSP simulators
//! (`znp::sim`, `ezsp::sim`): virtual devices, presets and TOML scenarios, the devices'
//! network state and timed events ([`ncp`]), and the host side that serves a simulated
//! stick on a TCP port or a PTY ([`host`]).

pub mod device;
pub mod host;
pub mod ncp;
pub mod presets;
pub mod scenario;

pub use device::{VirtualDevice, VirtualEndpoint};
pub use host::{Radio, Shared, SimHost, SimPort};
pub use ncp::{CoordinatorState, DATA_LOG_LEN, Out, SimDevice, Timed};
pub use scenario::{JoinMode, Scenario, ScenarioDevice, ScenarioError, ScriptedReport};

#[cfg(test)]
mod ncp_tests;
#[cfg(test)]
mod tests;
