//! UTIL subsystem (MT_UTIL.c).

use super::{List8, mt_commands};

mt_commands! {
    subsystem = Util;
    /// The coordinator's own addresses and state.
    sreq GetDeviceInfo = 0x00, "UTIL_GET_DEVICE_INFO" {} => GetDeviceInfoRsp {
        status: u8, ieee: u64, short_addr: u16, device_type: u8, device_state: u8,
        assoc_devices: List8<u16>,
    };
}
