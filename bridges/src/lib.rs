//! usphub-bridges: the radio bridges (Zigbee, Z-Wave, BLE) behind one radio-neutral API.
//!
//! [`api`] is what the agent uses: device descriptors in TR-181's IoT vocabulary, the actor
//! handle and the event broadcast. Each radio module implements an actor on top of it.

pub mod api;
pub mod ble;
pub mod zigbee;
pub mod zwave;
