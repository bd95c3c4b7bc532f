//! The change stream: every modification of the tree, every event and every completed
//! asynchronous operation, as the notifications of TR-369 section "Notifications"
//! need them (ValueChange, ObjectCreation, ObjectDeletion, Event, OperationComplete).
//!
//! Changes are published on a tokio `broadcast` channel after they are applied (and,
//! for persistent data, committed). A receiver that falls behind gets
//! `RecvError::Lagged` and should re-read the state it cares about.

use crate::error::DmError;
use crate::provider::Args;

/// Default capacity of the broadcast channel. The channel carries `Arc<Change>` and
/// initialises every slot up front, so this costs 8192 × 40 bytes (320 KB) of memory that is
/// touched from the start; with `Change` itself in the slots (≈150 bytes) it was 1.2 MB of an
/// idle agent's 2.3 MB of private memory. See [`crate::DataModel::with_options`] to choose
/// another.
pub const CHANGE_CHANNEL_CAPACITY: usize = 8192;

/// One change of the data model.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A parameter's value changed (not sent for parameters whose value-change mode
    /// is `WillIgnore`, nor for `NumberOfEntries` counters).
    ValueChange {
        /// Full parameter path.
        path: String,
        /// New value, TR-181 string form.
        value: String,
    },
    /// A table row was created.
    ObjectCreation {
        /// Instance path with trailing dot, e.g. `Device.ProxiedDevice.3.`.
        path: String,
        /// The row's unique-key parameters and values.
        unique_keys: Vec<(String, String)>,
    },
    /// A table row was deleted.
    ObjectDeletion {
        /// Instance path with trailing dot.
        path: String,
    },
    /// An event happened.
    Event {
        /// Object path of the event, e.g. `Device.`.
        obj_path: String,
        /// Event name with `!`, e.g. `Boot!`.
        event_name: String,
        /// Event arguments.
        args: Args,
    },
    /// An asynchronous command finished.
    OperationComplete {
        /// Object path of the command.
        obj_path: String,
        /// Command name with `()`.
        command_name: String,
        /// The Controller's command key.
        command_key: String,
        /// Output arguments, or the failure (`usp_code()` gives the error code).
        result: Result<Args, DmError>,
    },
}

impl Change {
    /// The path a subscription's ReferenceList is matched against: the parameter path,
    /// the instance path, or the event/command path (`Device.Boot!`, `Device.X.Reset()`).
    pub fn subject(&self) -> String {
        match self {
            Change::ValueChange { path, .. }
            | Change::ObjectCreation { path, .. }
            | Change::ObjectDeletion { path } => path.clone(),
            Change::Event {
                obj_path,
                event_name,
                ..
            } => format!("{obj_path}{event_name}"),
            Change::OperationComplete {
                obj_path,
                command_name,
                ..
            } => format!("{obj_path}{command_name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every slot of the broadcast channel holds one `Change`: keep it small, since
    /// the channel's memory is part of the agent's resident size.
    #[test]
    fn a_change_fits_in_128_bytes() {
        assert!(std::mem::size_of::<super::Change>() <= 128);
    }
}
