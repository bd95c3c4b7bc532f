//! TI Z-Stack ZNP backend: MT framing, command tables, transport and a dongle simulator.

pub mod backend;
pub mod commands;
pub mod frame;
pub mod link;
pub mod sim;
pub mod transaction;

#[cfg(test)]
mod backend_tests;
#[cfg(test)]
mod link_tests;
