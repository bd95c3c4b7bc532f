//! The provider behind every mounted device: a Controller's Set of a capability `Value`
//! goes to the bridge and succeeds only once the device confirmed it; `Toggle()`,
//! `StepUp()`, `StepDown()`, `X_USPHUB_Remove()` and `X_USPHUB_Refresh()` become bridge
//! requests. The data model calls it with its lock released (a radio round trip can take
//! seconds).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use usp_datamodel::{Args, BoxFuture, CommandCall, DmError, ErrorKind, LiveSet, Provider};
use usphub_bridges::api::{
    BridgeError, BridgeHandle, Capability, CapabilityKind, Decimal, DeviceDescriptor, DeviceId,
    Value,
};

use super::mount::CapPath;

/// What a device's provider knows: its bridge, its id, its capabilities by sub-object path.
pub struct DeviceProvider {
    /// The bridge that owns the device.
    pub handle: BridgeHandle,
    /// The device.
    pub device: DeviceId,
    /// Class sub-object path relative to the row → (capability, last known value).
    pub caps: Arc<RwLock<HashMap<String, Capability>>>,
    /// The device-level vendor commands the device accepts (bridge names, e.g. `Identify`).
    pub commands: Arc<RwLock<Vec<String>>>,
}

impl DeviceProvider {
    /// Builds the lookup table from the mount result.
    pub fn table(caps: &HashMap<String, (CapPath, Capability)>) -> HashMap<String, Capability> {
        caps.values()
            .map(|(p, c)| (p.object(), c.clone()))
            .collect()
    }

    /// The device-level vendor commands of a descriptor.
    pub fn commands(d: &DeviceDescriptor) -> Vec<String> {
        d.commands
            .iter()
            .filter(|c| c.capability.is_none())
            .map(|c| c.name.clone())
            .collect()
    }

    fn capability(&self, obj_path: &str) -> Option<Capability> {
        let rel = relative(obj_path)?;
        self.caps.read().ok()?.get(rel).cloned()
    }
}

/// The data model error for a bridge failure on `path`.
pub fn bridge_error(path: &str, e: BridgeError) -> DmError {
    let msg = match &e {
        BridgeError::Timeout => "the device did not confirm in time".to_string(),
        BridgeError::Asleep => "the device is asleep; the request was not queued".to_string(),
        other => other.to_string(),
    };
    let kind = match e {
        BridgeError::InvalidValue(_) => ErrorKind::InvalidValue,
        _ => ErrorKind::ParameterActionFailed,
    };
    DmError::new(kind, path, msg)
}

impl Provider for DeviceProvider {
    fn set(&self, req: LiveSet) -> BoxFuture<Vec<Result<(), DmError>>> {
        let cap = self.capability(&req.obj_path);
        let handle = self.handle.clone();
        let device = self.device;
        let caps = self.caps.clone();
        Box::pin(async move {
            let mut out = Vec::with_capacity(req.params.len());
            for (name, value) in &req.params {
                let path = format!("{}{name}", req.obj_path);
                let Some(cap) = cap.as_ref().filter(|_| name == "Value") else {
                    out.push(Err(DmError::new(
                        ErrorKind::NotWritable,
                        &path,
                        "not a device value",
                    )));
                    continue;
                };
                let typed = match cap.parse_value(&value.to_string()) {
                    Ok(v) => v,
                    Err(e) => {
                        out.push(Err(DmError::new(
                            ErrorKind::InvalidValue,
                            &path,
                            e.to_string(),
                        )));
                        continue;
                    }
                };
                let r = handle.write(device, cap.id.clone(), typed.clone()).await;
                if r.is_ok() {
                    remember(&caps, &req.obj_path, typed);
                }
                out.push(r.map_err(|e| bridge_error(&path, e)));
            }
            out
        })
    }

    fn operate(&self, call: CommandCall) -> BoxFuture<Result<Args, DmError>> {
        let handle = self.handle.clone();
        let device = self.device;
        let cap = self.capability(&call.obj_path);
        let caps = self.caps.clone();
        let vendor = vendor_command(&call.command).map(|name| {
            let known = self
                .commands
                .read()
                .is_ok_and(|c| c.iter().any(|n| n == name));
            (name.to_string(), known)
        });
        Box::pin(async move {
            let path = format!("{}{}", call.obj_path, call.command);
            if let Some((name, known)) = vendor {
                if !known {
                    return Err(DmError::new(
                        ErrorKind::CommandFailure,
                        &path,
                        format!("this device does not support {name} (see X_USPHUB_Commands)"),
                    ));
                }
                return handle
                    .invoke(device, None, name, call.input.clone())
                    .await
                    .map_err(|e| failure(&path, e));
            }
            match (call.command.as_str(), cap) {
                ("X_USPHUB_Remove()", _) => {
                    let force = call
                        .input
                        .get("Force")
                        .is_some_and(|v| v == "true" || v == "1");
                    handle
                        .remove(device, force)
                        .await
                        .map_err(|e| failure(&path, e))?;
                    Ok(Args::new())
                }
                ("X_USPHUB_Refresh()", _) => {
                    let re = call
                        .input
                        .get("Reinterview")
                        .is_some_and(|v| v == "true" || v == "1");
                    handle
                        .refresh(device, re)
                        .await
                        .map_err(|e| failure(&path, e))?;
                    Ok(Args::new())
                }
                (cmd, Some(cap)) => {
                    let next = stepped(&cap, cmd).ok_or_else(|| {
                        DmError::new(
                            ErrorKind::CommandFailure,
                            &path,
                            "no current value to step from",
                        )
                    })?;
                    handle
                        .write(device, cap.id.clone(), next.clone())
                        .await
                        .map_err(|e| failure(&path, e))?;
                    remember(&caps, &call.obj_path, next);
                    Ok(Args::new())
                }
                (_, None) => Err(DmError::new(
                    ErrorKind::CommandFailure,
                    &path,
                    "unknown command",
                )),
            }
        })
    }
}

/// The device-level vendor commands a bridge may offer, as `X_USPHUB_<name>()`.
pub const VENDOR_COMMANDS: [&str; 4] = ["Identify", "ConfigGet", "ConfigSet", "ReplaceFailedNode"];

/// `X_USPHUB_Identify()` → `Identify` for the commands of [`VENDOR_COMMANDS`].
fn vendor_command(command: &str) -> Option<&str> {
    let name = command.strip_prefix("X_USPHUB_")?.strip_suffix("()")?;
    VENDOR_COMMANDS.contains(&name).then_some(name)
}

fn failure(path: &str, e: BridgeError) -> DmError {
    DmError::new(
        ErrorKind::CommandFailure,
        path,
        bridge_error(path, e).message,
    )
}

/// The part of an object path below its `Device.ProxiedDevice.{i}.` row
/// (`IoTCapability.2.BinaryControl.`). The provider is mounted with the row, before the
/// table has chosen the row's number, so it reads the number from each call's path.
fn relative(obj_path: &str) -> Option<&str> {
    let rest = obj_path.strip_prefix(super::schema::TABLE)?;
    let (number, rel) = rest.split_once('.')?;
    number.bytes().all(|b| b.is_ascii_digit()).then_some(rel)
}

fn remember(caps: &RwLock<HashMap<String, Capability>>, obj_path: &str, v: Value) {
    if let Some(rel) = relative(obj_path)
        && let Ok(mut m) = caps.write()
        && let Some(c) = m.get_mut(rel)
    {
        c.value = Some(v);
    }
}

/// The value `Toggle()`, `StepUp()` or `StepDown()` asks for, from the current one.
pub fn stepped(cap: &Capability, command: &str) -> Option<Value> {
    match (&cap.kind, command) {
        (CapabilityKind::BinaryControl { .. }, "Toggle()") => Some(Value::Bool(
            !cap.value.as_ref().and_then(Value::as_bool).unwrap_or(false),
        )),
        (CapabilityKind::LevelControl { min, max, step, .. }, "StepUp()" | "StepDown()") => {
            let cur = cap
                .value
                .as_ref()
                .and_then(Value::as_decimal)
                .unwrap_or(*min);
            let step = step.unwrap_or(Decimal::from_int(1)).to_f64();
            let delta = if command == "StepUp()" { step } else { -step };
            let next = (cur.to_f64() + delta).clamp(min.to_f64(), max.to_f64());
            Decimal::from_f64(next, cur.scale().max(min.scale())).map(Value::Decimal)
        }
        (CapabilityKind::EnumControl { valid_values, .. }, "StepUp()" | "StepDown()") => {
            if valid_values.is_empty() {
                return None;
            }
            let cur = match &cap.value {
                Some(Value::String(s)) => valid_values.iter().position(|v| v == s).unwrap_or(0),
                _ => 0,
            };
            let n = valid_values.len();
            let next = if command == "StepUp()" {
                (cur + 1).min(n - 1)
            } else {
                cur.saturating_sub(1)
            };
            Some(Value::String(valid_values[next].clone()))
        }
        _ => None,
    }
}
