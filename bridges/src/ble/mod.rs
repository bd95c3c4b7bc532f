//! The BLE bridge: sensors heard by advertisement (BTHome v2, Xiaomi MiBeacon).

pub mod bridge;
pub mod bthome;
pub mod crypto;
pub mod decode;
pub mod mapping;
pub mod mibeacon;
pub mod reading;
pub mod registry;
pub mod scanner;
