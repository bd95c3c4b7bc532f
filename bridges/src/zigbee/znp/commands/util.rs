//! UTIL subsystem (MT_UTIL.c).

use super::{List8, Rest, mt_commands};

mt_commands! {
    subsystem = Util;
    /// The coordinator's own addresses and state.
    sreq GetDeviceInfo = 0x00, "UTIL_GET_DEVICE_INFO" {} => GetDeviceInfoRsp {
        status: u8, ieee: u64, short_addr: u16, device_type: u8, device_state: u8,
        assoc_devices: List8<u16>,
    };
    /// Sets an LED's mode (0 off, 1 on, 0xFF blink).
    sreq LedControl = 0x0A, "UTIL_LED_CONTROL" { led_id: u8, mode: u8 } => LedControlRsp { status: u8 };
    /// The `index`-th associated device as Z-Stack's in-memory `associated_devices_t`
    /// (36 bytes on 32-bit CC26xx/CC13xx builds, 28 on packed CC253x ones).
    sreq AssocFindDevice = 0x49, "UTIL_ASSOC_FIND_DEVICE" { index: u8 } => AssocFindDeviceRsp { device: Rest };
}
