//! A virtual Zigbee device: answers ZDP requests (node/active-endpoint/simple descriptors,
//! bind, leave) and ZCL reads, writes, reporting configuration and cluster commands from a
//! table of attribute values, and builds attribute reports. Radio-neutral: APS frames in and
//! out, so the ZNP and EZSP simulators share it.

use std::collections::BTreeMap;

use crate::zigbee::backend::{ApsFrame, ApsIncoming, PROFILE_ZDP};
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::zcl::frame::{cmd, status};
use crate::zigbee::zcl::types::ty;
use crate::zigbee::zcl::{
    AttributeRecord, FrameKind, GeneralCommand, ReadRecord, TypedValue, ZclFrame, ZclHeader,
    ZclValue,
};
use crate::zigbee::zdo::{self, NodeDescriptor, SimpleDescriptor, Zdp};

/// One endpoint of a virtual device with its attribute values by (cluster, attribute).
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualEndpoint {
    /// Simple descriptor.
    pub descriptor: SimpleDescriptor,
    /// Attribute values.
    pub attributes: BTreeMap<(u16, u16), TypedValue>,
}

/// A virtual device.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualDevice {
    /// IEEE address.
    pub ieee: u64,
    /// Short address.
    pub nwk: u16,
    /// Node descriptor.
    pub node: NodeDescriptor,
    /// Application endpoints.
    pub endpoints: Vec<VirtualEndpoint>,
    /// Whether the device answers at all (false: gone silent).
    pub responsive: bool,
    tsn: u8,
}

impl VirtualDevice {
    /// A device with these endpoints.
    pub fn new(ieee: u64, nwk: u16, node: NodeDescriptor, endpoints: Vec<VirtualEndpoint>) -> Self {
        VirtualDevice {
            ieee,
            nwk,
            node,
            endpoints,
            responsive: true,
            tsn: 0,
        }
    }

    /// The current value of an attribute.
    pub fn attribute(&self, endpoint: u8, cluster: u16, attr: u16) -> Option<&TypedValue> {
        self.endpoint(endpoint)?.attributes.get(&(cluster, attr))
    }

    fn endpoint(&self, ep: u8) -> Option<&VirtualEndpoint> {
        self.endpoints.iter().find(|e| e.descriptor.endpoint == ep)
    }

    fn endpoint_mut(&mut self, ep: u8) -> Option<&mut VirtualEndpoint> {
        self.endpoints
            .iter_mut()
            .find(|e| e.descriptor.endpoint == ep)
    }

    fn frame(
        &self,
        src_endpoint: u8,
        dst_endpoint: u8,
        profile: u16,
        cluster: u16,
        payload: Vec<u8>,
    ) -> ApsIncoming {
        ApsIncoming {
            src_nwk: self.nwk,
            src_endpoint,
            dst_endpoint,
            profile,
            cluster,
            lqi: 180,
            payload,
        }
    }

    /// Handles a frame from the coordinator; returns the device's answers.
    pub fn handle(&mut self, frame: &ApsFrame) -> Vec<ApsIncoming> {
        if !self.responsive {
            return Vec::new();
        }
        if frame.dst_endpoint == 0 && frame.profile == PROFILE_ZDP {
            return self.handle_zdp(frame).into_iter().collect();
        }
        let Ok(zcl) = ZclFrame::parse(&frame.payload) else {
            return Vec::new();
        };
        self.handle_zcl(frame, &zcl)
    }

    fn handle_zdp(&mut self, frame: &ApsFrame) -> Option<ApsIncoming> {
        let (tsn, req) = Zdp::parse(frame.cluster, &frame.payload).ok()?;
        let nwk = self.nwk;
        let rsp = match req {
            Zdp::IeeeAddrReq { .. } => Zdp::IeeeAddrRsp {
                status: zdo::SUCCESS,
                ieee: self.ieee,
                nwk,
            },
            Zdp::NodeDescReq { .. } => Zdp::NodeDescRsp {
                status: zdo::SUCCESS,
                nwk,
                descriptor: Some(self.node),
            },
            Zdp::ActiveEpReq { .. } => Zdp::ActiveEpRsp {
                status: zdo::SUCCESS,
                nwk,
                endpoints: self
                    .endpoints
                    .iter()
                    .map(|e| e.descriptor.endpoint)
                    .collect(),
            },
            Zdp::SimpleDescReq { endpoint, .. } => match self.endpoint(endpoint) {
                Some(e) => Zdp::SimpleDescRsp {
                    status: zdo::SUCCESS,
                    nwk,
                    descriptor: Some(e.descriptor.clone()),
                },
                // NOT_ACTIVE
                None => Zdp::SimpleDescRsp {
                    status: 0x83,
                    nwk,
                    descriptor: None,
                },
            },
            Zdp::BindReq { .. } | Zdp::MgmtLeaveReq { .. } | Zdp::MgmtPermitJoinReq { .. } => {
                Zdp::StatusRsp {
                    cluster: frame.cluster | zdo::cluster::RESPONSE,
                    status: zdo::SUCCESS,
                }
            }
            _ => return None,
        };
        Some(self.frame(0, 0, PROFILE_ZDP, rsp.cluster(), rsp.encode(tsn)))
    }

    fn handle_zcl(&mut self, frame: &ApsFrame, zcl: &ZclFrame) -> Vec<ApsIncoming> {
        let ep = frame.dst_endpoint;
        let (cluster, h) = (frame.cluster, zcl.header);
        let reply = |dev: &Self, command: GeneralCommand| {
            let header = h.response(command.id());
            let payload = ZclFrame {
                header,
                payload: command.encode(),
            }
            .to_bytes();
            dev.frame(ep, frame.src_endpoint, frame.profile, cluster, payload)
        };
        let Some(endpoint) = self.endpoint(ep) else {
            return Vec::new();
        };
        if !endpoint.descriptor.in_clusters.contains(&cluster) {
            return vec![reply(
                self,
                GeneralCommand::DefaultRsp {
                    command: h.command,
                    status: 0xC3,
                },
            )];
        }
        if h.kind == FrameKind::ClusterSpecific {
            let (st, changed) = self.cluster_command(ep, cluster, h.command, &zcl.payload);
            let mut out = Vec::new();
            if !h.disable_default_response || st != status::SUCCESS {
                out.push(reply(
                    self,
                    GeneralCommand::DefaultRsp {
                        command: h.command,
                        status: st,
                    },
                ));
            }
            if !changed.is_empty()
                && let Some(r) = self.report_many(ep, cluster, &changed)
            {
                out.push(r);
            }
            return out;
        }
        let general = match GeneralCommand::parse(h.command, &zcl.payload) {
            Ok(g) => g,
            Err(_) => {
                return vec![reply(
                    self,
                    GeneralCommand::DefaultRsp {
                        command: h.command,
                        status: 0x80,
                    },
                )];
            }
        };
        match general {
            GeneralCommand::ReadAttributes(ids) => {
                let recs = ids
                    .iter()
                    .map(|&id| ReadRecord {
                        id,
                        result: self
                            .attribute(ep, cluster, id)
                            .cloned()
                            .ok_or(status::UNSUPPORTED_ATTRIBUTE),
                    })
                    .collect();
                vec![reply(self, GeneralCommand::ReadAttributesRsp(recs))]
            }
            GeneralCommand::WriteAttributes(recs) => {
                let mut failed = Vec::new();
                for r in recs {
                    match self
                        .endpoint_mut(ep)
                        .and_then(|e| e.attributes.get_mut(&(cluster, r.id)))
                    {
                        Some(v) if v.ty == r.value.ty => *v = r.value,
                        Some(_) => failed.push((status::INVALID_DATA_TYPE, r.id)),
                        None => failed.push((status::UNSUPPORTED_ATTRIBUTE, r.id)),
                    }
                }
                let cie_written = cluster == id::IAS_ZONE && failed.is_empty();
                let mut out = vec![reply(self, GeneralCommand::WriteAttributesRsp(failed))];
                if cie_written {
                    // A zone told its CIE address asks to enrol (IAS Zone §8.2.2.4.2).
                    out.extend(self.enroll_request(ep));
                }
                out
            }
            GeneralCommand::ConfigureReporting(cfgs) => {
                let failed = cfgs
                    .iter()
                    .filter(|c| self.attribute(ep, cluster, c.id).is_none())
                    .map(|c| (status::UNSUPPORTED_ATTRIBUTE, c.id))
                    .collect();
                vec![reply(self, GeneralCommand::ConfigureReportingRsp(failed))]
            }
            GeneralCommand::DefaultRsp { .. } | GeneralCommand::ReportAttributes(_) => Vec::new(),
            other => vec![reply(
                self,
                GeneralCommand::DefaultRsp {
                    command: other.id(),
                    status: status::UNSUP_COMMAND,
                },
            )],
        }
    }

    /// Applies a cluster-specific command; returns the status and the attributes it changed.
    /// Color Control Move to Hue (0x00), Move to Saturation (0x03), Move to Hue and
    /// Saturation (0x06), Move to Color (0x07) and Move to Color Temperature (0x0A), applied
    /// at once (no transition); ColorMode follows.
    fn colour_command(&mut self, ep: u8, command: u8, payload: &[u8]) -> (u8, Vec<u16>) {
        // ZCL MALFORMED_COMMAND.
        const MALFORMED: u8 = 0x80;
        let u16_at = |i: usize| {
            payload
                .get(i..i + 2)
                .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
        };
        let (values, mode): (Vec<(u16, TypedValue)>, u64) = match command {
            // Move to Hue / Move to Saturation: one of the two, hue-saturation mode.
            0x00 | 0x03 if !payload.is_empty() => (
                vec![(
                    if command == 0x00 { 0x0000 } else { 0x0001 },
                    TypedValue::new(ty::UINT8, ZclValue::Unsigned(payload[0].into())),
                )],
                0,
            ),
            0x06 if payload.len() >= 2 => (
                vec![
                    (
                        0x0000,
                        TypedValue::new(ty::UINT8, ZclValue::Unsigned(payload[0].into())),
                    ),
                    (
                        0x0001,
                        TypedValue::new(ty::UINT8, ZclValue::Unsigned(payload[1].into())),
                    ),
                ],
                0,
            ),
            0x07 => match (u16_at(0), u16_at(2)) {
                (Some(x), Some(y)) => (
                    vec![
                        (0x0003, TypedValue::new(ty::UINT16, ZclValue::Unsigned(x))),
                        (0x0004, TypedValue::new(ty::UINT16, ZclValue::Unsigned(y))),
                    ],
                    1,
                ),
                _ => return (MALFORMED, Vec::new()),
            },
            0x0A => match u16_at(0) {
                Some(m) => (
                    vec![(0x0007, TypedValue::new(ty::UINT16, ZclValue::Unsigned(m)))],
                    2,
                ),
                None => return (MALFORMED, Vec::new()),
            },
            _ => return (MALFORMED, Vec::new()),
        };
        let mut changed = Vec::new();
        for (attr, v) in values {
            self.set(ep, id::COLOR_CONTROL, attr, v);
            changed.push(attr);
        }
        self.set(
            ep,
            id::COLOR_CONTROL,
            0x0008,
            TypedValue::new(ty::ENUM8, ZclValue::Unsigned(mode)),
        );
        changed.push(0x0008);
        (status::SUCCESS, changed)
    }

    fn cluster_command(
        &mut self,
        ep: u8,
        cluster: u16,
        command: u8,
        payload: &[u8],
    ) -> (u8, Vec<u16>) {
        let on_off = |dev: &Self| {
            matches!(
                dev.attribute(ep, id::ON_OFF, 0).map(|v| &v.value),
                Some(ZclValue::Bool(true))
            )
        };
        let level = |dev: &Self| {
            dev.attribute(ep, id::LEVEL_CONTROL, 0)
                .and_then(|v| v.value.as_i64())
                .unwrap_or(0)
        };
        match (cluster, command) {
            (id::ON_OFF, 0x00..=0x02) => {
                let new = match command {
                    0x00 => false,
                    0x01 => true,
                    _ => !on_off(self),
                };
                self.set(
                    ep,
                    id::ON_OFF,
                    0,
                    TypedValue::new(ty::BOOL, ZclValue::Bool(new)),
                );
                (status::SUCCESS, vec![0])
            }
            (id::COLOR_CONTROL, 0x00 | 0x03 | 0x06 | 0x07 | 0x0A) => {
                self.colour_command(ep, command, payload)
            }
            (id::LEVEL_CONTROL, 0x00 | 0x04) if !payload.is_empty() => {
                let target = i64::from(payload[0].min(254));
                self.set(
                    ep,
                    id::LEVEL_CONTROL,
                    0,
                    TypedValue::new(ty::UINT8, ZclValue::Unsigned(target as u64)),
                );
                if command == 0x04 {
                    self.set(
                        ep,
                        id::ON_OFF,
                        0,
                        TypedValue::new(ty::BOOL, ZclValue::Bool(target > 1)),
                    );
                }
                (status::SUCCESS, vec![0])
            }
            (id::LEVEL_CONTROL, 0x02 | 0x06) if payload.len() >= 2 => {
                let step = i64::from(payload[1]);
                let target = if payload[0] == 0 {
                    level(self) + step
                } else {
                    level(self) - step
                }
                .clamp(1, 254);
                self.set(
                    ep,
                    id::LEVEL_CONTROL,
                    0,
                    TypedValue::new(ty::UINT8, ZclValue::Unsigned(target as u64)),
                );
                (status::SUCCESS, vec![0])
            }
            (id::DOOR_LOCK, 0x00 | 0x01) => {
                let state = if command == 0x00 { 1 } else { 2 };
                let v = TypedValue::new(ty::ENUM8, ZclValue::Unsigned(state));
                self.set(ep, id::DOOR_LOCK, 0, v);
                (status::SUCCESS, vec![0])
            }
            (id::WINDOW_COVERING, 0x00 | 0x01 | 0x05) => {
                let pct = match command {
                    0x00 => 0,
                    0x01 => 100,
                    _ => match payload.first() {
                        Some(&p) if p <= 100 => p,
                        _ => return (status::INVALID_VALUE, Vec::new()),
                    },
                };
                let v = TypedValue::new(ty::UINT8, ZclValue::Unsigned(u64::from(pct)));
                self.set(ep, id::WINDOW_COVERING, 0x0008, v);
                (status::SUCCESS, vec![0x0008])
            }
            (id::IAS_ZONE, 0x00) if payload.len() >= 2 && payload[0] == 0x00 => {
                // Zone Enroll Response SUCCESS: enrolled with the given zone id.
                self.set(
                    ep,
                    id::IAS_ZONE,
                    0x0000,
                    TypedValue::new(ty::ENUM8, ZclValue::Unsigned(1)),
                );
                let zone_id = TypedValue::new(ty::UINT8, ZclValue::Unsigned(u64::from(payload[1])));
                self.set(ep, id::IAS_ZONE, 0x0011, zone_id);
                (status::SUCCESS, Vec::new())
            }
            (id::IDENTIFY, 0x00) | (id::IAS_ZONE, 0x00) => (status::SUCCESS, Vec::new()),
            _ => (status::UNSUP_COMMAND, Vec::new()),
        }
    }

    fn set(&mut self, ep: u8, cluster: u16, attr: u16, value: TypedValue) {
        if let Some(e) = self.endpoint_mut(ep) {
            e.attributes.insert((cluster, attr), value);
        }
    }

    fn report_many(&mut self, ep: u8, cluster: u16, attrs: &[u16]) -> Option<ApsIncoming> {
        let recs: Vec<_> = attrs
            .iter()
            .filter_map(|&a| {
                Some(AttributeRecord {
                    id: a,
                    value: self.attribute(ep, cluster, a)?.clone(),
                })
            })
            .collect();
        if recs.is_empty() {
            return None;
        }
        self.tsn = self.tsn.wrapping_add(1);
        let header =
            ZclHeader::global(self.tsn, cmd::REPORT_ATTRIBUTES).response(cmd::REPORT_ATTRIBUTES);
        let payload = ZclFrame {
            header,
            payload: GeneralCommand::ReportAttributes(recs).encode(),
        }
        .to_bytes();
        let profile = self.endpoint(ep)?.descriptor.profile;
        Some(self.frame(ep, 1, profile, cluster, payload))
    }

    /// Sets an attribute (keeping its data type) and builds the report a device with
    /// reporting configured would send; `None` when the attribute does not exist.
    pub fn report(
        &mut self,
        ep: u8,
        cluster: u16,
        attr: u16,
        value: ZclValue,
    ) -> Option<ApsIncoming> {
        let ty = self.attribute(ep, cluster, attr)?.ty;
        self.set(ep, cluster, attr, TypedValue::new(ty, value));
        self.report_many(ep, cluster, &[attr])
    }

    /// A cluster command the device sends to the coordinator (a remote's button press).
    pub fn command(
        &mut self,
        ep: u8,
        cluster: u16,
        command: u8,
        payload: Vec<u8>,
    ) -> Option<ApsIncoming> {
        let e = self.endpoint(ep)?;
        if !e.descriptor.out_clusters.contains(&cluster) {
            return None;
        }
        let profile = e.descriptor.profile;
        self.tsn = self.tsn.wrapping_add(1);
        let mut header = ZclHeader::cluster(self.tsn, command);
        header.disable_default_response = true;
        Some(self.frame(
            ep,
            1,
            profile,
            cluster,
            ZclFrame { header, payload }.to_bytes(),
        ))
    }

    fn enroll_request(&mut self, ep: u8) -> Option<ApsIncoming> {
        let zone_type = self.attribute(ep, id::IAS_ZONE, 0x0001)?.value.as_i64()? as u16;
        let profile = self.endpoint(ep)?.descriptor.profile;
        self.tsn = self.tsn.wrapping_add(1);
        let mut header = ZclHeader::cluster(self.tsn, 0x01);
        header.direction = crate::zigbee::zcl::Direction::ServerToClient;
        let mut payload = zone_type.to_le_bytes().to_vec();
        payload.extend_from_slice(&self.node.manufacturer_code.to_le_bytes());
        Some(self.frame(
            ep,
            1,
            profile,
            id::IAS_ZONE,
            ZclFrame { header, payload }.to_bytes(),
        ))
    }

    /// The Device_annce this device broadcasts when it joins.
    pub fn announce(&self) -> ApsIncoming {
        let msg = Zdp::DeviceAnnce {
            nwk: self.nwk,
            ieee: self.ieee,
            capabilities: self.node.mac_capabilities,
        };
        self.frame(0, 0, PROFILE_ZDP, msg.cluster(), msg.encode(0x80))
    }
}
