//! The `Device.Boot!` event (TR-181 `Device.Boot!`; TR-369 section "Notifications and
//! Subscription Mechanism", Boot! and BootParameter): its arguments, and the
//! ParameterMap built from a Controller's `BootParameter.{i}.` rows.

use usp_datamodel::{Args, DataModel};

/// `Device.Boot!` Cause (TR-181 enumeration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BootCause {
    /// An ordinary start.
    #[default]
    LocalReboot,
    /// A start after a Controller's `Device.Reboot()`.
    RemoteReboot,
    /// A start with a freshly created configuration.
    LocalFactoryReset,
    /// A start after a Controller's `Device.FactoryReset()`.
    RemoteFactoryReset,
}

impl BootCause {
    /// The TR-181 string.
    pub fn as_str(self) -> &'static str {
        match self {
            BootCause::LocalReboot => "LocalReboot",
            BootCause::RemoteReboot => "RemoteReboot",
            BootCause::LocalFactoryReset => "LocalFactoryReset",
            BootCause::RemoteFactoryReset => "RemoteFactoryReset",
        }
    }
}

/// What the agent knows about this start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootInfo {
    /// `Cause`.
    pub cause: BootCause,
    /// `CommandKey` (of the Reboot() that caused this start; empty otherwise).
    pub command_key: String,
    /// `FirmwareUpdated`.
    pub firmware_updated: bool,
}

impl BootInfo {
    /// An ordinary start, or a factory-reset one when the data model's store was just
    /// created (`fresh_store`).
    pub fn new(fresh_store: bool) -> BootInfo {
        BootInfo {
            cause: if fresh_store {
                BootCause::LocalFactoryReset
            } else {
                BootCause::LocalReboot
            },
            ..BootInfo::default()
        }
    }

    /// The event arguments with `parameter_map` (a JSON object string).
    pub fn args(&self, parameter_map: String) -> Args {
        let mut args = Args::new();
        args.insert("CommandKey".into(), self.command_key.clone());
        args.insert("Cause".into(), self.cause.as_str().into());
        args.insert("FirmwareUpdated".into(), self.firmware_updated.to_string());
        args.insert("ParameterMap".into(), parameter_map);
        args
    }
}

/// The ParameterMap: a JSON object of full parameter path to value for every parameter
/// the `names` (full, partial or wildcard paths) resolve to now. Names that resolve to
/// nothing are skipped with a log line.
pub async fn parameter_map(dm: &DataModel, names: &[String]) -> String {
    let mut map = serde_json::Map::new();
    if !names.is_empty() {
        for (name, result) in names.iter().zip(dm.get(names, 0).await) {
            match result {
                Ok(objects) => {
                    for o in objects {
                        for (param, value) in o.params {
                            map.insert(
                                format!("{}{param}", o.path),
                                serde_json::Value::String(value),
                            );
                        }
                    }
                }
                Err(e) => tracing::warn!(parameter = %name, error = %e, "BootParameter ignored"),
            }
        }
    }
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_store_means_factory_reset() {
        assert_eq!(BootInfo::new(true).cause, BootCause::LocalFactoryReset);
        assert_eq!(BootInfo::new(false).cause, BootCause::LocalReboot);
    }

    #[test]
    fn args_carry_every_boot_argument() {
        let args = BootInfo::new(false).args("{}".into());
        let get = |k: &str| args.get(k).map(String::as_str);
        assert_eq!(get("Cause"), Some("LocalReboot"));
        assert_eq!(get("CommandKey"), Some(""));
        assert_eq!(get("FirmwareUpdated"), Some("false"));
        assert_eq!(get("ParameterMap"), Some("{}"));
    }
}
