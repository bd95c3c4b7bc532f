//! Turning a radio-neutral `DeviceDescriptor` into the TR-181 subtree mounted at
//! `Device.ProxiedDevice.{i}.`: one `IoTCapability.{i}.` per capability with its class
//! sub-object (Type, Unit, range, valid values, current Value), `Node.{i}.` per endpoint,
//! and the vendor identity parameters. Numbers come from the registry, so they are stable.

use std::collections::HashMap;

use usp_datamodel::Subtree;
use usphub_bridges::api::{Capability, CapabilityKind, DeviceDescriptor, Value};

use super::registry::{Entry, NodeEntry, number_for};

/// A capability's place in the mounted subtree: its IoTCapability row relative to the
/// device row (`IoTCapability.2.`, `Node.1.IoTCapability.3.`) and its class sub-object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CapPath {
    /// The IoTCapability row, relative to the ProxiedDevice row.
    pub row: String,
    /// The class sub-object name (`BinaryControl`, ...).
    pub class: &'static str,
}

impl CapPath {
    /// The class sub-object path relative to the device row (`IoTCapability.2.LevelSensor.`).
    pub fn object(&self) -> String {
        format!("{}{}.", self.row, self.class)
    }
}

/// The subtree for a device, and where each capability landed (capability id → path).
pub fn device_subtree(
    d: &DeviceDescriptor,
    entry: &mut Entry,
) -> (Subtree, HashMap<String, (CapPath, Capability)>) {
    let mut caps = HashMap::new();
    let mut root = Subtree::new()
        .param_str("Online", "true")
        .param_str("LastTimeContacted", &now());
    for (name, value) in device_params(d) {
        root = root.param_str(name, &value);
    }
    for c in &d.capabilities {
        let n = number_for(&mut entry.caps, &mut entry.next_cap, c.id.as_str());
        let path = CapPath {
            row: format!("IoTCapability.{n}."),
            class: c.class().as_str(),
        };
        root = root.row("IoTCapability", n, capability_subtree(c));
        caps.insert(c.id.as_str().to_string(), (path, c.clone()));
    }
    for node in &d.nodes {
        let next_node = &mut entry.next_node;
        let ne = entry.nodes.entry(node.key.clone()).or_insert_with(|| {
            *next_node += 1;
            NodeEntry {
                instance: *next_node,
                ..NodeEntry::default()
            }
        });
        let mut sub = Subtree::new()
            .param_str("Alias", &node.key)
            .param_str("Type", node.device_type.map(|t| t.as_str()).unwrap_or(""))
            .param_str("Description", &node.description);
        for c in &node.capabilities {
            let n = number_for(&mut ne.caps, &mut ne.next_cap, c.id.as_str());
            let path = CapPath {
                row: format!("Node.{}.IoTCapability.{n}.", ne.instance),
                class: c.class().as_str(),
            };
            sub = sub.row("IoTCapability", n, capability_subtree(c));
            caps.insert(c.id.as_str().to_string(), (path, c.clone()));
        }
        root = root.row("Node", ne.instance, sub);
    }
    (root, caps)
}

/// The device-level parameters a descriptor determines (re-applied when it changes).
pub fn device_params(d: &DeviceDescriptor) -> Vec<(&'static str, String)> {
    vec![
        (
            "Type",
            d.device_type.map(|t| t.as_str()).unwrap_or("").to_string(),
        ),
        ("Description", d.description.clone()),
        ("ProxyProtocol", d.protocol.as_str().to_string()),
        ("X_USPHUB_Address", d.id.to_string()),
        ("X_USPHUB_Manufacturer", d.manufacturer.clone()),
        ("X_USPHUB_Model", d.model.clone()),
        ("X_USPHUB_Firmware", d.firmware.clone()),
        ("X_USPHUB_PowerSource", format!("{:?}", d.power)),
        ("X_USPHUB_InterviewState", format!("{:?}", d.interview)),
        (
            "X_USPHUB_Commands",
            super::provider::DeviceProvider::commands(d).join(","),
        ),
    ]
}

/// The `IoTCapability.{i}.` row of one capability.
pub fn capability_subtree(c: &Capability) -> Subtree {
    let value = c.value.as_ref().map(Value::to_tr181_string);
    let class = c.class().as_str();
    let mut obj = Subtree::new()
        .param_str("Type", c.kind.type_str())
        .param_str("Description", &c.description);
    let now = now();
    let touched = value.is_some();
    match &c.kind {
        CapabilityKind::BinaryControl { .. } | CapabilityKind::BinarySensor { .. } => {
            obj = obj.param_str("Value", value.as_deref().unwrap_or("false"));
        }
        CapabilityKind::LevelControl {
            unit,
            min,
            max,
            step,
            ..
        } => {
            obj = obj
                .param_str("Value", value.as_deref().unwrap_or(&min.to_string()))
                .param_str("Unit", unit.as_str())
                .param_str("MinValue", &min.to_string())
                .param_str("MaxValue", &max.to_string());
            if let Some(s) = step {
                obj = obj.param_str("StepValue", &s.to_string());
            }
        }
        CapabilityKind::EnumControl { valid_values, .. } => {
            let first = valid_values.first().cloned().unwrap_or_default();
            obj = obj
                .param_str("Value", value.as_deref().unwrap_or(&first))
                .param_str("ValidValues", &valid_values.join(","));
        }
        CapabilityKind::EnumSensor { valid_values, .. } => {
            obj = obj
                .param_str("ValidValues", &valid_values.join(","))
                .param_str("Value", value.as_deref().unwrap_or(""));
        }
        CapabilityKind::LevelSensor {
            unit,
            low_level_threshold,
            high_level_threshold,
            ..
        } => {
            obj = obj
                .param_str("Value", value.as_deref().unwrap_or("0"))
                .param_str("Unit", unit.as_str());
            if let Some(t) = low_level_threshold {
                obj = obj.param_str("LowLevelThreshold", &t.to_string());
            }
            if let Some(t) = high_level_threshold {
                obj = obj.param_str("HighLevelThreshold", &t.to_string());
            }
        }
        CapabilityKind::MultiLevelSensor {
            unit, value_names, ..
        } => {
            obj = obj
                .param_str("Values", value.as_deref().unwrap_or(""))
                .param_str("ValueNames", &value_names.join(","))
                .param_str("Unit", unit.as_str());
        }
        CapabilityKind::BlobSensor { .. } => {
            obj = obj.param_str("Value", value.as_deref().unwrap_or(""));
        }
    }
    if touched && !class.ends_with("Control") {
        obj = obj
            .param_str("LastChange", &now)
            .param_str("LastContactTime", &now);
    }
    Subtree::new()
        .param_str("Name", &c.name)
        .param_str("Class", class)
        .param_str("X_USPHUB_Id", c.id.as_str())
        .child(class, obj)
}

/// Now, in TR-181 dateTime form.
pub fn now() -> String {
    usp_datamodel::DateTime::now().to_string()
}
