//! Radio-neutral simulation of Zigbee devices, shared by the coordinator simulators
//! (`znp::sim`, and the EZSP simulator to come): virtual devices, presets and TOML scenarios.

pub mod device;
pub mod presets;
pub mod scenario;

pub use device::{VirtualDevice, VirtualEndpoint};
pub use scenario::{JoinMode, Scenario, ScenarioDevice, ScenarioError, ScriptedReport};

#[cfg(test)]
mod tests;
