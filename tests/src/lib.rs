//! End-to-end tests

pub mod mosquitto;
