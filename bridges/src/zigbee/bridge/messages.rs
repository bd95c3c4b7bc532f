//! Frames from devices: attribute reports and read responses become values, IAS Zone
//! notifications and enrolment, remote/switch commands become events, and Default
//! Responses go back where the sender asked for one.

use std::time::SystemTime;

use crate::api::BridgeEvent;
use crate::zigbee::backend::{
    ApsFrame, ApsIncoming, HOST_ENDPOINT, PROFILE_HA, PROFILE_ZDP, ZigbeeBackend,
};
use crate::zigbee::record;
use crate::zigbee::zcl::clusters::{self, id};
use crate::zigbee::zcl::frame::cmd;
use crate::zigbee::zcl::{Direction, FrameKind, GeneralCommand, ZclFrame, ZclHeader, ZclValue};
use crate::zigbee::zdo::Zdp;

use super::{Actor, Internal};

impl<B: ZigbeeBackend> Actor<B> {
    pub(super) fn on_message(&mut self, m: ApsIncoming) {
        let ieee = self.by_nwk.get(&m.src_nwk).copied();
        if let Some(ieee) = ieee {
            self.seen(ieee);
        }
        if self.req.offer(&m) || m.profile == PROFILE_ZDP {
            return;
        }
        let Some(ieee) = ieee else {
            self.discover(m.src_nwk);
            return;
        };
        let f = match ZclFrame::parse(&m.payload) {
            Ok(f) => f,
            Err(e) => {
                return tracing::warn!(ieee = format_args!("{ieee:016x}"), cluster = m.cluster, error = %e, "malformed ZCL frame dropped");
            }
        };
        let ep = m.src_endpoint;
        self.default_response(&m, &f);
        match (f.header.kind, f.header.command) {
            (FrameKind::Global, cmd::REPORT_ATTRIBUTES | cmd::READ_ATTRIBUTES_RSP) => {
                match GeneralCommand::parse(f.header.command, &f.payload) {
                    Ok(GeneralCommand::ReportAttributes(recs)) => {
                        for r in recs {
                            self.apply_update(ieee, ep, m.cluster, r.id, r.value.value);
                        }
                    }
                    Ok(GeneralCommand::ReadAttributesRsp(recs)) => {
                        for r in recs {
                            if let Ok(v) = r.result {
                                self.apply_update(ieee, ep, m.cluster, r.id, v.value);
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(ieee = format_args!("{ieee:016x}"), cluster = m.cluster, error = %e, "malformed attribute report dropped")
                    }
                }
            }
            (FrameKind::ClusterSpecific, 0x00)
                if m.cluster == id::IAS_ZONE && f.header.direction == Direction::ServerToClient =>
            {
                // Zone Status Change Notification: ZoneStatus (bitmap16) first.
                if let [a, b, ..] = f.payload[..] {
                    self.apply_update(
                        ieee,
                        ep,
                        id::IAS_ZONE,
                        0x0002,
                        ZclValue::Unsigned(u64::from(u16::from_le_bytes([a, b]))),
                    );
                }
            }
            (FrameKind::ClusterSpecific, 0x01) if m.cluster == id::IAS_ZONE => {
                self.enroll(m.src_nwk, ep, f.header.tsn)
            }
            (FrameKind::ClusterSpecific, command)
                if f.header.direction == Direction::ClientToServer
                    && record::COMMAND_CLUSTERS.contains(&m.cluster) =>
            {
                self.device_command(ieee, ep, m.cluster, command, &f.payload)
            }
            (kind, command) => tracing::debug!(
                ieee = format_args!("{ieee:016x}"),
                cluster = m.cluster,
                ?kind,
                command,
                "ZCL frame ignored"
            ),
        }
    }

    /// Asks an unknown sender for its IEEE address (a device paired before the registry was
    /// lost, or whose announcement was missed) and adopts it; one attempt per address at a
    /// time.
    fn discover(&mut self, nwk: u16) {
        if !self.radio_online || !self.discovering.insert(nwk) {
            return;
        }
        tracing::info!(
            nwk = format_args!("{nwk:#06x}"),
            "message from an unknown device: asking its IEEE address"
        );
        let (req, tx) = (self.req.clone(), self.internal.clone());
        tokio::spawn(async move {
            let ieee = match req.zdp(nwk, Zdp::IeeeAddrReq { nwk }).await {
                Ok(Zdp::IeeeAddrRsp {
                    status: 0, ieee, ..
                }) => Some(ieee),
                other => {
                    tracing::warn!(nwk = format_args!("{nwk:#06x}"), answer = ?other, "unknown device not identified");
                    None
                }
            };
            let _ = tx.send(Internal::Discovered { nwk, ieee }).await;
        });
    }

    /// Acknowledges a report or command whose sender asked for a Default Response (ZCL r8
    /// §2.5.12: sent unless disabled, and never in answer to a response or a Default Response).
    fn default_response(&self, m: &ApsIncoming, f: &ZclFrame) {
        let h = f.header;
        let answerable = match h.kind {
            FrameKind::Global => h.command == cmd::REPORT_ATTRIBUTES,
            FrameKind::ClusterSpecific => h.direction == Direction::ClientToServer,
        };
        if h.disable_default_response || !answerable {
            return;
        }
        let header = ZclHeader {
            kind: FrameKind::Global,
            manufacturer: h.manufacturer,
            direction: match h.direction {
                Direction::ClientToServer => Direction::ServerToClient,
                Direction::ServerToClient => Direction::ClientToServer,
            },
            disable_default_response: true,
            tsn: h.tsn,
            command: cmd::DEFAULT_RSP,
        };
        let payload = GeneralCommand::DefaultRsp {
            command: h.command,
            status: 0,
        }
        .encode();
        let frame = ApsFrame {
            dst_nwk: m.src_nwk,
            dst_endpoint: m.src_endpoint,
            src_endpoint: m.dst_endpoint,
            profile: m.profile,
            cluster: m.cluster,
            payload: ZclFrame { header, payload }.to_bytes(),
        };
        let req = self.req.clone();
        tokio::spawn(async move {
            if let Err(e) = req.send_only(frame).await {
                tracing::debug!(error = %e, "default response not delivered");
            }
        });
    }

    /// A remote's or switch's command to us becomes an event.
    fn device_command(&self, ieee: u64, ep: u8, cluster: u16, command: u8, payload: &[u8]) {
        let Some(d) = self.devices.get(&ieee) else {
            return;
        };
        let name = clusters::cluster(cluster)
            .and_then(|c| c.commands.iter().find(|x| x.id == command))
            .map_or_else(|| format!("{command:#04x}"), |x| x.name.to_owned());
        let mut args = crate::api::EventArgs::new();
        args.insert("Endpoint".into(), ep.to_string());
        args.insert("Cluster".into(), clusters::cluster_name(cluster));
        args.insert("Command".into(), name);
        args.insert(
            "Payload".into(),
            payload.iter().map(|b| format!("{b:02x}")).collect(),
        );
        self.events.emit(BridgeEvent::Event {
            id: d.rec.id(),
            capability: None,
            name: record::COMMAND_EVENT.into(),
            args,
            at: SystemTime::now(),
        });
    }

    /// Answers an IAS Zone Enroll Request with SUCCESS and zone id 1.
    fn enroll(&self, nwk: u16, ep: u8, tsn: u8) {
        let mut header = ZclHeader::cluster(tsn, 0x00);
        header.disable_default_response = true;
        let frame = ApsFrame {
            dst_nwk: nwk,
            dst_endpoint: ep,
            src_endpoint: HOST_ENDPOINT,
            profile: PROFILE_HA,
            cluster: id::IAS_ZONE,
            payload: ZclFrame {
                header,
                payload: vec![0x00, 0x01],
            }
            .to_bytes(),
        };
        let req = self.req.clone();
        tokio::spawn(async move {
            if let Err(e) = req.send_only(frame).await {
                tracing::warn!(nwk = format_args!("{nwk:#06x}"), error = %e, "IAS zone enrolment response failed");
            }
        });
    }
}
