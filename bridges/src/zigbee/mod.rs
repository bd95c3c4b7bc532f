//! Zigbee bridge: a radio-neutral core (network, interview, ZCL, capability mapping) with
//! coordinator backends below it; TI Z-Stack ZNP is in [`znp`].
//!
//! ```text
//!  BridgeHandle ──► bridge (actor: registry, interview, availability, writes)
//!                     │  requester (ZDP/ZCL request ↔ response matching)
//!                     │  mapping (ZCL attribute → IoTCapability), zcl, zdo codecs
//!                     ▼
//!                  backend::ZigbeeBackend  (send APS frame, permit join, start/resume,
//!                     │                     incoming messages and network events)
//!                     ▼
//!                  znp::backend ─► znp::link (port actor, SREQ/SRSP) ─► znp::frame (MT codec)
//!                                                  ▲ serial /dev/tty* or tcp://
//!                  znp::sim (dongle side) ─────────┘ with sim:: virtual devices (TOML)
//! ```
//!
//! Starting a bridge on a ZNP stick:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use usphub_bridges::api::SerialPortSpec;
//! use usphub_bridges::zigbee::bridge::{ZigbeeBridgeConfig, start};
//! use usphub_bridges::zigbee::znp::backend::{ZnpBackend, ZnpBackendConfig};
//! use usphub_bridges::zigbee::znp::link::port_connector;
//!
//! let port = SerialPortSpec::device("/dev/serial/by-id/usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus");
//! let backend = ZnpBackend::new(port_connector(port), ZnpBackendConfig::default());
//! let (handle, _task) = start(backend, ZigbeeBridgeConfig::new("/var/lib/usphub")).await?;
//! handle.permit_join(std::time::Duration::from_secs(120)).await?;
//! # Ok(())
//! # }
//! ```
//!
//! The EZSP backend implements [`backend::ZigbeeBackend`] the same way and reuses
//! everything above that line, including [`sim`]'s virtual devices for its simulator.

pub mod backend;
pub mod bridge;
pub mod config;
pub mod ezsp;
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
mod backend_tests;
#[cfg(test)]
mod bridge_cluster_tests;
#[cfg(test)]
mod bridge_lifecycle_tests;
#[cfg(test)]
mod bridge_tests;
#[cfg(test)]
mod test_radio;
