//! Zigbee bridge: a radio-neutral core (network, interview, ZCL, capability mapping) with
//! coordinator backends below it; TI Z-Stack ZNP is in [`znp`].

pub mod backend;
pub mod bridge;
pub mod interview;
pub mod mapping;
pub mod network;
pub mod record;
pub mod registry;
pub mod requester;
pub mod sim;
pub mod zcl;
pub mod zdo;
pub mod znp;

#[cfg(test)]
mod bridge_cluster_tests;
#[cfg(test)]
mod bridge_tests;
