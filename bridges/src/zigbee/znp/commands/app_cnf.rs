//! APP_CNF subsystem (MT_APP_CONFIG.c): Base Device Behaviour commissioning.

use super::mt_commands;

/// BDB commissioning modes (bit mask).
pub mod mode {
    /// Initialisation.
    pub const INIT: u8 = 0x01;
    /// Network steering (open joining).
    pub const STEERING: u8 = 0x02;
    /// Network formation.
    pub const FORMATION: u8 = 0x04;
}

mt_commands! {
    subsystem = AppCnf;
    /// Starts BDB commissioning in the given mode(s).
    sreq BdbStartCommissioning = 0x05, "APP_CNF_BDB_START_COMMISSIONING" { mode: u8 } => BdbStartCommissioningRsp { status: u8 };
    /// Sets the primary or secondary channel mask.
    sreq BdbSetChannel = 0x08, "APP_CNF_BDB_SET_CHANNEL" { is_primary: bool, channel_mask: u32 } => BdbSetChannelRsp { status: u8 };
    /// Progress of commissioning; `remaining_modes == 0` when finished.
    areq BdbCommissioningNotification = 0x80, "APP_CNF_BDB_COMMISSIONING_NOTIFICATION" { status: u8, mode: u8, remaining_modes: u8 };
}
