//! The BLE bridge: sensors heard by advertisement (BTHome v2, Xiaomi MiBeacon).

pub mod bthome;
pub mod crypto;
pub mod mibeacon;
pub mod reading;
