//! What the bridge knows about one node ([`NodeRecord`], persisted) and how it becomes the
//! radio-neutral [`DeviceDescriptor`]: end point 0 gives the device's own capabilities,
//! each Multi Channel end point a `Node` keyed `ep<n>`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{
    Capability, CapabilityId, CommandSpec, DeviceDescriptor, DeviceId, EventSpec, InterviewState,
    IoTDeviceType, Node, PowerSource, Value,
};
use crate::zwave::cc::{self, CapDef, CcId};
use crate::zwave::serial::functions::NodeProtocolInfo;

/// Everything learned about a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Node id.
    pub node_id: u8,
    /// Protocol info (listening, FLiRS, device classes).
    pub protocol: NodeProtocolInfo,
    /// CCs of the root device from its NIF (and, once learned, its secure CCs).
    pub ccs: Vec<u8>,
    /// CCs the node accepts only inside Security 0.
    #[serde(default)]
    pub secure_ccs: Vec<u8>,
    /// CC versions (Version CC); absent = not asked yet (version 1 assumed).
    pub versions: BTreeMap<u8, u8>,
    /// Multi Channel end points (1..) and their CCs.
    pub end_points: BTreeMap<u8, Vec<u8>>,
    /// (manufacturer id, product type, product id).
    pub manufacturer: Option<(u16, u16, u16)>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// Wake Up interval in seconds, for sleeping nodes.
    pub wake_up_interval: Option<u32>,
    /// Interview progress.
    pub interview: InterviewState,
    /// Capabilities per end point.
    pub capabilities: BTreeMap<u8, Vec<Capability>>,
}

impl NodeRecord {
    /// A node known only by id and protocol info.
    pub fn new(node_id: u8, protocol: NodeProtocolInfo) -> Self {
        Self {
            node_id,
            protocol,
            ccs: Vec::new(),
            secure_ccs: Vec::new(),
            versions: BTreeMap::new(),
            end_points: BTreeMap::new(),
            manufacturer: None,
            firmware: None,
            wake_up_interval: None,
            interview: InterviewState::Pending,
            capabilities: BTreeMap::new(),
        }
    }

    /// The device id in network `home_id`.
    pub fn device_id(&self, home_id: u32) -> DeviceId {
        DeviceId::ZWave {
            home_id,
            node_id: u16::from(self.node_id),
        }
    }

    /// Version of `cc` (1 when unknown).
    pub fn version(&self, cc: u8) -> u8 {
        self.versions
            .get(&cc)
            .copied()
            .filter(|v| *v > 0)
            .unwrap_or(1)
    }

    /// CCs of end point `ep`.
    pub fn ccs_of(&self, ep: u8) -> &[u8] {
        if ep == 0 {
            &self.ccs
        } else {
            self.end_points.get(&ep).map_or(&[], |v| &v[..])
        }
    }

    /// The node speaks S2 only (no S0), which this bridge does not implement.
    pub fn requires_s2(&self) -> bool {
        self.ccs.contains(&0x9F) && !self.ccs.contains(&0x98)
    }

    /// Sleeps between wake-ups.
    pub fn is_sleeping(&self) -> bool {
        self.protocol.is_sleeping()
    }

    /// Adds the capability `def` on `ep` if missing; true if added.
    pub fn ensure_capability(&mut self, ep: u8, def: &CapDef) -> bool {
        let id = CapabilityId::new(def.id(ep));
        let caps = self.capabilities.entry(ep).or_default();
        if caps.iter().any(|c| c.id == id) {
            return false;
        }
        caps.push(Capability::new(id, def.name.as_ref(), def.kind.clone()));
        true
    }

    /// Stores a value; returns true if it changed.
    pub fn set_value(&mut self, ep: u8, def: &CapDef, value: Value) -> bool {
        let id = def.id(ep);
        let Some(cap) = self
            .capabilities
            .get_mut(&ep)
            .and_then(|caps| caps.iter_mut().find(|c| c.id.as_str() == id))
        else {
            return false;
        };
        if cap.value.as_ref() == Some(&value) {
            return false;
        }
        cap.value = Some(value);
        true
    }

    /// Stores a value by capability id; returns true if it changed.
    pub fn set_value_by_id(&mut self, id: &CapabilityId, value: Value) -> bool {
        let Some(cap) = self
            .capabilities
            .values_mut()
            .flatten()
            .find(|c| &c.id == id)
        else {
            return false;
        };
        if cap.value.as_ref() == Some(&value) {
            return false;
        }
        cap.value = Some(value);
        true
    }

    /// The capability with this id.
    pub fn capability(&self, id: &CapabilityId) -> Option<&Capability> {
        self.capabilities.values().flatten().find(|c| &c.id == id)
    }

    /// Adds the capabilities the CCs imply by themselves (switches, battery, ...).
    pub fn add_static_capabilities(&mut self) {
        let eps: Vec<u8> = std::iter::once(0)
            .chain(self.end_points.keys().copied())
            .collect();
        for ep in eps {
            let ccs = self.ccs_of(ep).to_vec();
            let has_actuator = ccs.contains(&0x25) || ccs.contains(&0x26);
            for c in ccs {
                // Basic is the fallback actuator only (zwave-js hides it the same way).
                if c == 0x20 && has_actuator {
                    continue;
                }
                let Some(spec) = cc::spec(CcId::from(c)) else {
                    continue;
                };
                for def in (spec.controls)(self.version(c)) {
                    self.ensure_capability(ep, &def);
                }
            }
        }
    }

    /// The descriptor the agent mounts.
    pub fn descriptor(&self, home_id: u32) -> DeviceDescriptor {
        let mut d = DeviceDescriptor::new(self.device_id(home_id));
        if let Some((m, t, p)) = self.manufacturer {
            d.manufacturer = format!("0x{m:04x}");
            d.model = format!("0x{t:04x}:0x{p:04x}");
        }
        d.firmware = self.firmware.clone().unwrap_or_default();
        d.device_type = device_type(self.protocol.generic);
        d.description = if self.requires_s2() {
            format!(
                "Z-Wave node {} (security class S2 not supported: secure functions unavailable)",
                self.node_id
            )
        } else {
            format!("Z-Wave node {}", self.node_id)
        };
        d.power = if self.protocol.is_listening() || self.protocol.is_frequent_listening() {
            PowerSource::Mains
        } else {
            PowerSource::Battery
        };
        d.interview = self.interview;
        d.capabilities = self.capabilities.get(&0).cloned().unwrap_or_default();
        d.nodes = self
            .end_points
            .keys()
            .map(|ep| Node {
                key: format!("ep{ep}"),
                device_type: None,
                description: format!("End point {ep}"),
                capabilities: self.capabilities.get(ep).cloned().unwrap_or_default(),
            })
            .collect();
        let all_ccs = || self.ccs.iter().chain(self.end_points.values().flatten());
        // Any node may send Basic Set to its Lifeline (motion sensors, remotes do).
        d.events.push(EventSpec {
            name: "BasicSet".into(),
            args: vec!["Value".into()],
        });
        if all_ccs().any(|c| *c == 0x5B) {
            d.events.push(EventSpec {
                name: "CentralScene".into(),
                args: vec!["Scene".into(), "Action".into()],
            });
        }
        if all_ccs().any(|c| *c == 0x71) {
            d.events.push(EventSpec {
                name: "Notification".into(),
                args: vec!["Type".into(), "Event".into()],
            });
        }
        d.commands.push(CommandSpec {
            name: "ReplaceFailedNode".into(),
            capability: None,
            input_args: Vec::new(),
            output_args: Vec::new(),
        });
        if self.ccs.contains(&0x70) {
            for (name, inputs, outputs) in [
                ("ConfigGet", vec!["Parameter"], vec!["Value"]),
                ("ConfigSet", vec!["Parameter", "Value"], vec![]),
            ] {
                d.commands.push(CommandSpec {
                    name: name.into(),
                    capability: None,
                    input_args: inputs.into_iter().map(String::from).collect(),
                    output_args: outputs.into_iter().map(String::from).collect(),
                });
            }
        }
        d
    }
}

/// TR-181 device type from the generic device class, where one fits.
pub fn device_type(generic: u8) -> Option<IoTDeviceType> {
    match generic {
        0x08 => Some(IoTDeviceType::Thermostat),
        0x11 => Some(IoTDeviceType::Light),
        0x07 | 0x20 | 0x21 => Some(IoTDeviceType::Sensor),
        0x31 => Some(IoTDeviceType::Meter),
        0x40 => Some(IoTDeviceType::Lock),
        0x17 => Some(IoTDeviceType::Alarm),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::CapabilityClass;

    fn switch_record() -> NodeRecord {
        let mut r = NodeRecord::new(
            4,
            NodeProtocolInfo {
                capability: 0xD3,
                security: 0x9C,
                reserved: 1,
                basic: 4,
                generic: 0x10,
                specific: 1,
            },
        );
        r.ccs = vec![0x20, 0x25, 0x60, 0x70];
        r.end_points.insert(1, vec![0x25]);
        r.end_points.insert(2, vec![0x26]);
        r
    }

    #[test]
    fn end_points_become_nodes_with_their_own_capabilities() {
        let mut r = switch_record();
        r.add_static_capabilities();
        let d = r.descriptor(0xC0FF_EE01);
        assert_eq!(d.id.to_string(), "zwave:c0ffee01:4");
        assert_eq!(
            d.capabilities.len(),
            1,
            "Basic hidden next to Binary Switch"
        );
        assert_eq!(d.capabilities[0].id.as_str(), "ep0/0x25/switch");
        assert_eq!(d.nodes.len(), 2);
        assert_eq!(d.nodes[0].key, "ep1");
        assert_eq!(
            d.nodes[1].capabilities[0].class(),
            CapabilityClass::LevelControl
        );
        assert_eq!(d.power, PowerSource::Mains);
        assert_eq!(d.commands.len(), 3);
    }

    #[test]
    fn values_change_only_when_different_and_record_round_trips_json() {
        let mut r = switch_record();
        r.add_static_capabilities();
        let def = &cc::binary_switch::CC;
        let def = (def.controls)(1).remove(0);
        assert!(r.set_value(0, &def, Value::Bool(true)));
        assert!(!r.set_value(0, &def, Value::Bool(true)));
        let json = serde_json::to_vec(&r).unwrap();
        let back: NodeRecord = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, r);
    }
}
