//! TI Z-Stack ZNP backend: MT framing, command tables, transport and a dongle simulator.

pub mod commands;
pub mod frame;
pub mod link;
pub mod transaction;

#[cfg(test)]
mod link_tests;
