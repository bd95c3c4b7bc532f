//! What the bridge keeps per paired device and how it becomes the radio-neutral
//! `DeviceDescriptor`: identity from the interview, one capability per mapped attribute of
//! each endpoint (device-level when one endpoint has capabilities, `Node`s `ep<N>` when
//! several do), and the latest converted values.

use crate::api::{
    CapabilityId, CommandSpec, DeviceDescriptor, DeviceId, Eui64, EventSpec, InterviewState,
    IoTDeviceType, Node, PowerSource, Value,
};
use crate::zigbee::interview::Interview;
use crate::zigbee::mapping::{self, AttrCache};
use crate::zigbee::zcl::ZclValue;
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::zdo::{NodeDescriptor, SimpleDescriptor};

/// Client clusters whose commands a device sends to us (remotes, wall switches, scene
/// buttons): each command becomes a [`COMMAND_EVENT`] event.
pub const COMMAND_CLUSTERS: &[u16] = &[id::ON_OFF, id::LEVEL_CONTROL, 0x0005, id::COLOR_CONTROL];
/// Name of the event a device's command produces (vendor-prefixed by the agent).
pub const COMMAND_EVENT: &str = "Command";
/// Its arguments: endpoint number, cluster name, command name, payload in hex.
pub const COMMAND_EVENT_ARGS: &[&str] = &["Endpoint", "Cluster", "Command", "Payload"];

/// One paired device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRecord {
    /// IEEE address.
    pub ieee: u64,
    /// Current short address.
    pub nwk: u16,
    /// Node descriptor.
    pub node: Option<NodeDescriptor>,
    /// Application endpoints.
    pub endpoints: Vec<SimpleDescriptor>,
    /// Basic ManufacturerName.
    pub manufacturer: String,
    /// Basic ModelIdentifier.
    pub model: String,
    /// Firmware.
    pub firmware: String,
    /// Basic PowerSource.
    pub power_source: Option<u8>,
    /// Attribute values.
    pub cache: AttrCache,
    /// Interview progress.
    pub interview: InterviewState,
}

/// The TR-181 device type for a Home Automation device id (HA 1.2 Table 5-1 / ZLL).
fn device_type(device_id: u16) -> Option<IoTDeviceType> {
    Some(match device_id {
        0x0100..=0x0102 | 0x010C | 0x010D | 0x0200 | 0x0210 | 0x0220 => IoTDeviceType::Light,
        0x000A => IoTDeviceType::Lock,
        0x0301 => IoTDeviceType::Thermostat,
        0x0053 => IoTDeviceType::Meter,
        0x0106 | 0x0107 | 0x0302 | 0x0402 => IoTDeviceType::Sensor,
        0x0403 => IoTDeviceType::Siren,
        _ => return None,
    })
}

impl DeviceRecord {
    /// A device seen joining, not yet interviewed.
    pub fn new(ieee: u64, nwk: u16) -> Self {
        DeviceRecord {
            ieee,
            nwk,
            node: None,
            endpoints: Vec::new(),
            manufacturer: String::new(),
            model: String::new(),
            firmware: String::new(),
            power_source: None,
            cache: AttrCache::new(),
            interview: InterviewState::Pending,
        }
    }

    /// The device id.
    pub fn id(&self) -> DeviceId {
        DeviceId::Zigbee(Eui64(self.ieee))
    }

    /// Takes what an interview learnt (keeping earlier values a partial interview missed).
    pub fn apply(&mut self, iv: Interview) {
        if iv.node.is_some() {
            self.node = iv.node;
        }
        if !iv.endpoints.is_empty() {
            self.endpoints = iv.endpoints;
        }
        for (field, v) in [
            (&mut self.manufacturer, iv.manufacturer),
            (&mut self.model, iv.model),
            (&mut self.firmware, iv.firmware),
        ] {
            if !v.is_empty() {
                *field = v;
            }
        }
        self.power_source = iv.power_source.or(self.power_source);
        self.cache.extend(iv.values);
        self.interview = iv.state;
    }

    /// Whether the device is mains powered (Node Descriptor, else Basic PowerSource).
    pub fn power(&self) -> PowerSource {
        if let Some(n) = self.node {
            return if n.mains_powered() {
                PowerSource::Mains
            } else {
                PowerSource::Battery
            };
        }
        match self.power_source.map(|p| p & 0x7F) {
            Some(1 | 2 | 4 | 5 | 6) => PowerSource::Mains,
            Some(3) => PowerSource::Battery,
            _ => PowerSource::Unknown,
        }
    }

    /// The descriptor the agent sees.
    pub fn descriptor(&self) -> DeviceDescriptor {
        let mut d = DeviceDescriptor::new(self.id());
        d.manufacturer = self.manufacturer.clone();
        d.model = self.model.clone();
        d.firmware = self.firmware.clone();
        d.power = self.power();
        d.interview = self.interview;
        d.device_type = self
            .endpoints
            .first()
            .and_then(|e| device_type(e.device_id));
        d.description = if self.model.is_empty() {
            format!("Zigbee device {:016x}", self.ieee)
        } else {
            format!("{} {}", self.manufacturer, self.model)
        };
        let per_ep: Vec<(u8, Vec<_>)> = self
            .endpoints
            .iter()
            .map(|e| {
                let caps = mapping::RULES
                    .iter()
                    .filter(|r| e.in_clusters.contains(&r.cluster))
                    .map(|r| mapping::capability(e.endpoint, r, &self.cache))
                    .collect::<Vec<_>>();
                (e.endpoint, caps)
            })
            .filter(|(_, c)| !c.is_empty())
            .collect();
        if per_ep.len() == 1 {
            d.capabilities = per_ep.into_iter().flat_map(|(_, c)| c).collect();
        } else {
            d.nodes = per_ep
                .into_iter()
                .map(|(ep, capabilities)| Node {
                    key: format!("ep{ep}"),
                    device_type: self
                        .endpoints
                        .iter()
                        .find(|e| e.endpoint == ep)
                        .and_then(|e| device_type(e.device_id)),
                    description: format!("endpoint {ep}"),
                    capabilities,
                })
                .collect();
        }
        if self
            .endpoints
            .iter()
            .any(|e| e.in_clusters.contains(&id::IDENTIFY))
        {
            d.commands.push(CommandSpec {
                name: "Identify".into(),
                capability: None,
                input_args: vec!["Seconds".into()],
                output_args: vec![],
            });
        }
        if self
            .endpoints
            .iter()
            .any(|e| e.out_clusters.iter().any(|c| COMMAND_CLUSTERS.contains(c)))
        {
            d.events.push(EventSpec {
                name: COMMAND_EVENT.into(),
                args: COMMAND_EVENT_ARGS.iter().map(|a| (*a).into()).collect(),
            });
        }
        d
    }

    /// The current value of a capability.
    pub fn value(&self, cap: &CapabilityId) -> Option<Value> {
        let (ep, rule) = mapping::parse_capability_id(cap.as_str())?;
        mapping::convert(
            ep,
            rule,
            self.cache.get(&(ep, rule.cluster, rule.attribute))?,
            &self.cache,
        )
    }

    /// Records an attribute value; returns the capability whose value changed, if any.
    pub fn update(
        &mut self,
        ep: u8,
        cluster: u16,
        attr: u16,
        v: ZclValue,
    ) -> Option<(CapabilityId, Value)> {
        let rule = mapping::rule_for(cluster, attr);
        let before = rule.and_then(|r| {
            self.cache
                .get(&(ep, cluster, attr))
                .and_then(|old| mapping::convert(ep, r, old, &self.cache))
        });
        self.cache.insert((ep, cluster, attr), v);
        let rule = rule?;
        if !self
            .endpoints
            .iter()
            .any(|e| e.endpoint == ep && e.in_clusters.contains(&cluster))
        {
            return None;
        }
        let after = mapping::convert(ep, rule, self.cache.get(&(ep, cluster, attr))?, &self.cache)?;
        (before.as_ref() != Some(&after))
            .then(|| (CapabilityId::new(mapping::capability_id(ep, rule)), after))
    }
}
