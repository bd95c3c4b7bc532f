//! SAPI (ZB_*) subsystem (MT_SAPI.c): configuration read/write by config id.

use super::{ShortBytes, mt_commands};

mt_commands! {
    subsystem = Sapi;
    /// Reads a configuration item (an NV id that fits one byte).
    sreq ReadConfiguration = 0x04, "ZB_READ_CONFIGURATION" { config_id: u8 } => ReadConfigurationRsp { status: u8, config_id: u8, value: ShortBytes };
    /// Writes a configuration item.
    sreq WriteConfiguration = 0x05, "ZB_WRITE_CONFIGURATION" { config_id: u8, value: ShortBytes } => WriteConfigurationRsp { status: u8 };
}
