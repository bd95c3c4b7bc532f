//! `BridgeHandle` requests: permit join, write (confirmed by the device's Default
//! Response), Toggle/StepUp/StepDown/Identify, refresh, remove. Each radio round trip runs
//! in its own task and reports back through the actor's internal channel.

use crate::api::{Args, BridgeError, BridgeRequest, CapabilityId, DeviceId, Reply, Value};
use crate::zigbee::backend::ZigbeeBackend;
use crate::zigbee::interview::read_attributes;
use crate::zigbee::mapping::{self, Control};
use crate::zigbee::requester::{EXPECT_DEFAULT, Target};
use crate::zigbee::zcl::ZclValue;
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::zcl::frame::status;
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
        let (command, payload, update) = match (rule.control, &value) {
            (Some(Control::OnOff), Value::Bool(on)) => {
                (u8::from(*on), vec![], (id::ON_OFF, ZclValue::Bool(*on)))
            }
            (Some(Control::Level), v) => match v.as_decimal() {
                Some(pct) if pct.to_f64() >= 0.0 && pct.to_f64() <= 100.0 => {
                    let level = mapping::percent_to_level(pct);
                    (
                        0x04,
                        vec![level, 0, 0],
                        (id::LEVEL_CONTROL, ZclValue::Unsigned(u64::from(level))),
                    )
                }
                _ => {
                    return drop(reply.send(Err(BridgeError::InvalidValue(format!(
                        "{value} is not a percentage 0-100"
                    )))));
                }
            },
            (Some(_), _) => {
                return drop(reply.send(Err(BridgeError::InvalidValue(format!(
                    "{value} does not fit {cap}"
                )))));
            }
            (None, _) => {
                return drop(
                    reply.send(Err(BridgeError::Unsupported(format!("{cap} is read-only")))),
                );
            }
        };
        let updates = vec![(ep, update.0, 0x0000, update.1)];
        self.command(
            ieee,
            Target {
                nwk,
                endpoint: ep,
                cluster: rule.cluster,
            },
            command,
            payload,
            Some(updates),
            Done::Unit(reply),
        );
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
