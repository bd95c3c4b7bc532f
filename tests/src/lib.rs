//! End-to-end tests

pub mod agent;
pub mod controller;
pub mod fake_bridge;
pub mod mosquitto;
