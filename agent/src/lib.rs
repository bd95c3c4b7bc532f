//! usphub: a USP (TR-369) agent for smart-home hubs.

pub mod access;
pub mod agent;
pub mod config;
pub mod ctl;
pub mod demo;
pub mod dispatch;
pub mod handlers;
pub mod hotplug;
pub mod localagent;
pub mod memory;
pub mod mqtt_client;
pub mod mtp;
pub mod proxy;
pub mod radios;
pub mod session;
pub mod signals;
pub mod sim;
pub mod subscriptions;
