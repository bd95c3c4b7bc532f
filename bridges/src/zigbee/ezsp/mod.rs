//! Silicon Labs EZSP backend: the ASH serial link layer (UG101) in [`ash`], the EZSP frame
//! layer and commands (UG100), a [`super::backend::ZigbeeBackend`] implementation and an NCP
//! simulator that reuses [`super::sim`]'s virtual devices.
//!
//! ```text
//!  bridge core ──► backend::EzspBackend (set-up, resume/form, sendUnicast ↔ messageSent,
//!                     │                  callbacks → BackendEvent, recovery)
//!                     ▼
//!                  link (actor: connect, ASH reset, reconnect with back-off, generations)
//!                     │  protocol (one command at a time, seq + frame id matching,
//!                     │            deadlines, callbacks broadcast, version negotiation)
//!                     │  commands (typed frames, v8-v13 and v14+ layouts) over wire, frame
//!                     ▼
//!                  ash::AshHost ─► serial /dev/tty*, tcp://
//!                                   ▲
//!                  sim (ash::serve_ncp + NCP state + sim:: virtual devices, TCP or PTY)
//! ```
//!
//! Starting a bridge on an EZSP stick (a Sonoff ZBDongle-E, which needs XON/XOFF):
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use usphub_bridges::api::{FlowControl, SerialPortSpec};
//! use usphub_bridges::zigbee::bridge::{ZigbeeBridgeConfig, start};
//! use usphub_bridges::zigbee::ezsp::backend::{EzspBackend, EzspBackendConfig};
//! use usphub_bridges::zigbee::znp::link::port_connector;
//!
//! let mut port = SerialPortSpec::device("/dev/serial/by-id/usb-ITEAD_SONOFF_Zigbee_3.0_USB_Dongle_Plus_V2");
//! port.flow = FlowControl::XonXoff;
//! let backend = EzspBackend::new(port_connector(port), EzspBackendConfig::default());
//! let (handle, _task) = start(backend, ZigbeeBridgeConfig::new("/var/lib/usphub")).await?;
//! handle.permit_join(std::time::Duration::from_secs(120)).await?;
//! # Ok(())
//! # }
//! ```

pub mod ash;
pub mod backend;
pub mod commands;
pub mod frame;
pub mod link;
pub mod protocol;
pub mod sim;
pub mod wire;

#[cfg(test)]
pub(super) mod backend_tests;
