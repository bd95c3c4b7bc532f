//! usphub: a USP (TR-369) agent for smart-home hubs.

pub mod mtp;
