//! Silicon Labs EZSP backend: the ASH serial link layer (UG101) in [`ash`], the EZSP frame
//! layer and commands (UG100), a [`super::backend::ZigbeeBackend`] implementation and an NCP
//! simulator that reuses [`super::sim`]'s virtual devices.

pub mod ash;
pub mod backend;
pub mod commands;
pub mod frame;
pub mod link;
pub mod protocol;
pub mod sim;
pub mod wire;

#[cfg(test)]
mod backend_tests;
#[cfg(test)]
mod bridge_tests;
