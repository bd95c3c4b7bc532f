//! `BridgeHandle` requests: permit join, write (confirmed by the device's Default
//! Response), Toggle/StepUp/StepDown/Identify, refresh, remove. Each radio round trip runs
//! in its own task and reports back through the actor's internal channel.

use crate::api::{Args, BridgeError, BridgeRequest, CapabilityId, Decimal, DeviceId, Reply, Value};
use crate::zigbee::backend::ZigbeeBackend;
use crate::zigbee::interview::read_attributes;
use crate::zigbee::mapping::{self, Control};
use crate::zigbee::requester::{EXPECT_DEFAULT, EXPECT_WRITE, Target};
use crate::zigbee::zcl::clusters::{self, id};
use crate::zigbee::zcl::frame::{cmd, status};
use crate::zigbee::zcl::types::ty;
use crate::zigbee::zcl::{AttributeRecord, GeneralCommand, TypedValue, ZclValue};
use crate::zigbee::zdo::Zdp;

use super::{Actor, Done, Internal, bridge_error, default_status};

impl<B: ZigbeeBackend> Actor<B> {
    pub(super) fn on_request(&mut self, r: BridgeRequest) {
        match r {
            BridgeRequest::Devices { reply } => {
                let _ = reply.send(Ok(self
                    .devices
                    .values()
                    .map(|d| d.rec.descriptor())
                    .collect()));
            }
            BridgeRequest::PermitJoin { duration, reply } => {
                if !self.radio_online {
                    let _ = reply.send(Err(BridgeError::RadioOffline));
                    return;
                }
                let req = self.req.clone();
                let secs = duration.as_secs().min(254) as u8;
                tokio::spawn(async move {
                    let r = req
                        .backend()
                        .permit_join(secs)
                        .await
                        .map_err(|e| bridge_error(e.into()));
                    let _ = reply.send(r);
                });
            }
            BridgeRequest::Write {
                device,
                capability,
                value,
                reply,
            } => self.write(device, capability, value, reply),
            BridgeRequest::Invoke {
                device,
                capability,
                command,
                reply,
                args,
            } => self.invoke(device, capability, &command, &args, reply),
            BridgeRequest::Refresh {
                device,
                reinterview,
                reply,
            } => self.refresh(device, reinterview, reply),
            BridgeRequest::Remove {
                device,
                force,
                reply,
            } => self.remove(device, force, reply),
        }
    }

    /// Resolves a device and capability to (ieee, nwk, endpoint, rule).
    fn target(
        &self,
        device: &DeviceId,
        cap: &CapabilityId,
    ) -> Result<(u64, u16, u8, &'static mapping::Rule), BridgeError> {
        let dev = self.dev_by_id(device)?;
        let unknown = || BridgeError::UnknownCapability(cap.clone());
        let (ep, rule) = mapping::parse_capability_id(cap.as_str()).ok_or_else(unknown)?;
        if !dev
            .rec
            .endpoints
            .iter()
            .any(|e| e.endpoint == ep && e.in_clusters.contains(&rule.cluster))
        {
            return Err(unknown());
        }
        if !self.radio_online {
            return Err(BridgeError::RadioOffline);
        }
        Ok((dev.rec.ieee, dev.rec.nwk, ep, rule))
    }

    fn write(&mut self, device: DeviceId, cap: CapabilityId, value: Value, reply: Reply<()>) {
        let (ieee, nwk, ep, rule) = match self.target(&device, &cap) {
            Ok(t) => t,
            Err(e) => return drop(reply.send(Err(e))),
        };
        let Some(control) = rule.control else {
            let e = BridgeError::Unsupported(format!("{cap} is read-only"));
            return drop(reply.send(Err(e)));
        };
        let to = Target {
            nwk,
            endpoint: ep,
            cluster: rule.cluster,
        };
        let attr = rule.attribute;
        match plan(control, rule, &value) {
            Err(e) => drop(reply.send(Err(e))),
            Ok(Plan::Command(command, payload, v)) => {
                let updates = vec![(ep, rule.cluster, attr, v)];
                self.command(ieee, to, command, payload, Some(updates), Done::Unit(reply));
            }
            Ok(Plan::Attribute(tv)) => self.write_attribute(ieee, to, attr, tv, reply),
        }
    }

    /// Write Attributes of one attribute; the value is kept once the device accepted it.
    fn write_attribute(&self, ieee: u64, to: Target, attr: u16, v: TypedValue, reply: Reply<()>) {
        let (req, tx) = (self.req.clone(), self.internal.clone());
        tokio::spawn(async move {
            let rec = AttributeRecord {
                id: attr,
                value: v.clone(),
            };
            let payload = GeneralCommand::WriteAttributes(vec![rec]).encode();
            let f = match req
                .zcl(to, true, cmd::WRITE_ATTRIBUTES, payload, EXPECT_WRITE)
                .await
            {
                Ok(f) => f,
                Err(e) => return drop(reply.send(Err(bridge_error(e)))),
            };
            match GeneralCommand::parse(f.header.command, &f.payload) {
                Ok(GeneralCommand::WriteAttributesRsp(failed)) if failed.is_empty() => {}
                other => {
                    let e = BridgeError::Refused(format!("device refused the write: {other:?}"));
                    return drop(reply.send(Err(e)));
                }
            }
            let updates = vec![(to.endpoint, to.cluster, attr, v.value)];
            let done = Some(Done::Unit(reply));
            let _ = tx
                .send(Internal::Updates {
                    ieee,
                    updates,
                    done,
                })
                .await;
        });
    }

    /// Sends a cluster command; on a SUCCESS Default Response applies `updates` (or reads the
    /// attribute back when `None`) and completes `done`.
    fn command(
        &self,
        ieee: u64,
        to: Target,
        command: u8,
        payload: Vec<u8>,
        updates: Option<Vec<(u8, u16, u16, ZclValue)>>,
        done: Done,
    ) {
        let req = self.req.clone();
        let tx = self.internal.clone();
        let Target {
            nwk,
            endpoint: ep,
            cluster,
        } = to;
        tokio::spawn(async move {
            let f = match req.zcl(to, false, command, payload, EXPECT_DEFAULT).await {
                Ok(f) => f,
                Err(e) => return done.fail(bridge_error(e)),
            };
            match default_status(&f) {
                Some(status::SUCCESS) => {}
                Some(s) => {
                    return done.fail(BridgeError::Refused(format!(
                        "device answered ZCL status {s:#04x}"
                    )));
                }
                None => return done.fail(BridgeError::Refused("unexpected answer".into())),
            }
            let updates = match updates {
                Some(u) => u,
                None => {
                    let attrs: Vec<u16> = mapping::RULES
                        .iter()
                        .filter(|r| r.cluster == cluster)
                        .map(|r| r.attribute)
                        .collect();
                    match read_attributes(&req, nwk, ep, cluster, &attrs).await {
                        Ok(vals) => vals.into_iter().map(|(a, v)| (ep, cluster, a, v)).collect(),
                        Err(e) => {
                            tracing::debug!(error = %e, "read-back after command failed; a report will follow");
                            Vec::new()
                        }
                    }
                }
            };
            let _ = tx
                .send(Internal::Updates {
                    ieee,
                    updates,
                    done: Some(done),
                })
                .await;
        });
    }

    fn invoke(
        &mut self,
        device: DeviceId,
        cap: Option<CapabilityId>,
        command: &str,
        args: &Args,
        reply: Reply<Args>,
    ) {
        let Some(cap) = cap else {
            if command != "Identify" {
                return drop(reply.send(Err(BridgeError::Unsupported(format!(
                    "device command {command}"
                )))));
            }
            let dev = match self.dev_by_id(&device) {
                Ok(d) => d,
                Err(e) => return drop(reply.send(Err(e))),
            };
            let Some(ep) = dev
                .rec
                .endpoints
                .iter()
                .find(|e| e.in_clusters.contains(&id::IDENTIFY))
                .map(|e| e.endpoint)
            else {
                return drop(
                    reply.send(Err(BridgeError::Unsupported("no Identify cluster".into()))),
                );
            };
            let secs: u16 = args
                .get("Seconds")
                .and_then(|s| s.parse().ok())
                .unwrap_or(5);
            let (ieee, nwk) = (dev.rec.ieee, dev.rec.nwk);
            return self.command(
                ieee,
                Target {
                    nwk,
                    endpoint: ep,
                    cluster: id::IDENTIFY,
                },
                0x00,
                secs.to_le_bytes().to_vec(),
                Some(Vec::new()),
                Done::Args(reply),
            );
        };
        let (ieee, nwk, ep, rule) = match self.target(&device, &cap) {
            Ok(t) => t,
            Err(e) => return drop(reply.send(Err(e))),
        };
        let (cmd_id, payload) = match (rule.control, command) {
            (Some(Control::OnOff), "Toggle") => (0x02, vec![]),
            (Some(Control::Level), "StepUp") => (0x06, vec![0x00, 25, 0, 0]),
            (Some(Control::Level), "StepDown") => (0x06, vec![0x01, 25, 0, 0]),
            _ => {
                return drop(reply.send(Err(BridgeError::Unsupported(format!(
                    "{command}() on {cap}"
                )))));
            }
        };
        self.command(
            ieee,
            Target {
                nwk,
                endpoint: ep,
                cluster: rule.cluster,
            },
            cmd_id,
            payload,
            None,
            Done::Args(reply),
        );
    }

    fn refresh(&mut self, device: DeviceId, reinterview: bool, reply: Reply<()>) {
        let (ieee, nwk, endpoints) = match self.dev_by_id(&device) {
            Ok(d) => (d.rec.ieee, d.rec.nwk, d.rec.endpoints.clone()),
            Err(e) => return drop(reply.send(Err(e))),
        };
        if !self.radio_online {
            return drop(reply.send(Err(BridgeError::RadioOffline)));
        }
        if reinterview {
            return self.start_interview(ieee, Some(reply));
        }
        let req = self.req.clone();
        let tx = self.internal.clone();
        tokio::spawn(async move {
            let mut updates = Vec::new();
            for ep in &endpoints {
                for &cluster in &ep.in_clusters {
                    let attrs: Vec<u16> = mapping::RULES
                        .iter()
                        .filter(|r| r.cluster == cluster)
                        .map(|r| r.attribute)
                        .collect();
                    if attrs.is_empty() {
                        continue;
                    }
                    match read_attributes(&req, nwk, ep.endpoint, cluster, &attrs).await {
                        Ok(vals) => updates
                            .extend(vals.into_iter().map(|(a, v)| (ep.endpoint, cluster, a, v))),
                        Err(e) => return drop(reply.send(Err(bridge_error(e)))),
                    }
                }
            }
            let _ = tx
                .send(Internal::Updates {
                    ieee,
                    updates,
                    done: Some(Done::Unit(reply)),
                })
                .await;
        });
    }

    fn remove(&mut self, device: DeviceId, force: bool, reply: Reply<()>) {
        let (ieee, nwk) = match self.dev_by_id(&device) {
            Ok(d) => (d.rec.ieee, d.rec.nwk),
            Err(e) => return drop(reply.send(Err(e))),
        };
        if !self.radio_online && !force {
            return drop(reply.send(Err(BridgeError::RadioOffline)));
        }
        let req = self.req.clone();
        let tx = self.internal.clone();
        tokio::spawn(async move {
            match req.zdp(nwk, Zdp::MgmtLeaveReq { ieee, flags: 0 }).await {
                Ok(Zdp::StatusRsp { status: 0, .. }) => {}
                Ok(other) if !force => {
                    return drop(reply.send(Err(BridgeError::Refused(format!(
                        "leave refused: {other:?}"
                    )))));
                }
                Err(e) if !force => return drop(reply.send(Err(bridge_error(e)))),
                _ => tracing::warn!(
                    ieee = format_args!("{ieee:016x}"),
                    "device did not confirm leaving; removed anyway"
                ),
            }
            let _ = tx.send(Internal::Removed { ieee, reply }).await;
        });
    }
}

/// How one write reaches the device.
enum Plan {
    /// A cluster command and the attribute value it sets.
    Command(u8, Vec<u8>, ZclValue),
    /// Write Attributes with this value.
    Attribute(TypedValue),
}

fn in_range(rule: &mapping::Rule, value: &Value) -> Result<Decimal, BridgeError> {
    let d = value
        .as_decimal()
        .ok_or_else(|| BridgeError::InvalidValue(format!("{value} is not a number")))?;
    if let mapping::Shape::LevelControl(_, _, range) = rule.shape {
        let (min, max) = range.bounds();
        if d < min || d > max {
            return Err(BridgeError::InvalidValue(format!(
                "{value} is outside {min}..{max}"
            )));
        }
    }
    Ok(d)
}

fn plan(control: Control, rule: &mapping::Rule, value: &Value) -> Result<Plan, BridgeError> {
    let not_bool = || BridgeError::InvalidValue(format!("{value} is not a boolean"));
    Ok(match control {
        Control::OnOff => {
            let on = value.as_bool().ok_or_else(not_bool)?;
            Plan::Command(u8::from(on), vec![], ZclValue::Bool(on))
        }
        Control::Lock => {
            let lock = value.as_bool().ok_or_else(not_bool)?;
            // Lock Door / Unlock Door with an empty PIN (octet string of length 0).
            let (command, state) = if lock { (0x00, 1) } else { (0x01, 2) };
            Plan::Command(command, vec![0], ZclValue::Unsigned(state))
        }
        Control::Level => {
            let level = mapping::percent_to_level(in_range(rule, value)?);
            Plan::Command(
                0x04,
                vec![level, 0, 0],
                ZclValue::Unsigned(u64::from(level)),
            )
        }
        Control::Lift => {
            let pct = in_range(rule, value)?.to_f64().round() as u8;
            Plan::Command(0x05, vec![pct], ZclValue::Unsigned(u64::from(pct)))
        }
        Control::ColourTemperature => {
            let kelvin = in_range(rule, value)?.to_f64();
            // The lamp keeps mireds; what it reports back is 10^6 / mireds, rounded.
            let mireds = (1_000_000.0 / kelvin).round().clamp(1.0, 65_279.0) as u16;
            let [lo, hi] = mireds.to_le_bytes();
            // Transition time 0 (tenths of a second): at once, as Move to Level is sent.
            Plan::Command(
                0x0A,
                vec![lo, hi, 0, 0],
                ZclValue::Unsigned(u64::from(mireds)),
            )
        }
        Control::Hue => {
            let deg = in_range(rule, value)?.to_f64();
            let hue = (deg * 254.0 / 360.0).round().clamp(0.0, 254.0) as u8;
            // Direction 0: the shortest way round; transition 0: at once.
            Plan::Command(0x00, vec![hue, 0, 0, 0], ZclValue::Unsigned(u64::from(hue)))
        }
        Control::Saturation => {
            let sat = mapping::percent_to_level(in_range(rule, value)?);
            Plan::Command(0x03, vec![sat, 0, 0], ZclValue::Unsigned(u64::from(sat)))
        }
        Control::WriteAttribute(scale) => {
            let d = in_range(rule, value)?;
            let raw = (d.to_f64() * 10f64.powi(i32::from(scale))).round() as i64;
            let ty = clusters::attribute(rule.cluster, rule.attribute).map_or(ty::INT16, |a| a.ty);
            let v = if matches!(ty, 0x28..=0x2F) {
                ZclValue::Signed(raw)
            } else {
                ZclValue::Unsigned(raw.max(0) as u64)
            };
            Plan::Attribute(TypedValue::new(ty, v))
        }
    })
}
