//! The BLE bridge: sensors heard by advertisement (BTHome v2, Xiaomi MiBeacon).
