//! Bridge requests (`BridgeHandle` calls) for Z-Wave: permit join, remove, confirmed
//! writes, commands (`Toggle`, `ConfigGet`, `ConfigSet`), refresh and the device list.
//!
//! Writes: the Set is sent, then the CC's Get; the request succeeds when the Report for
//! that property arrives (so the value really changed on the device), and fails with
//! `Timeout` if the node does not acknowledge or report within the report timeout.
//! Sleeping nodes follow [`SleepingWrites`](super::SleepingWrites).

use std::time::Duration;

use tokio::sync::oneshot;

use crate::api::{Args, BridgeError, BridgeRequest, CapabilityId, DeviceId, Value};
use crate::zwave::cc::{self, Decoded, NodeFact, configuration, parse_capability_id, supervision};

use super::SleepingWrites;
use super::actor::{Actor, Internal, Pending};
use super::context::{NodeIo, Pattern};
use super::inclusion::{Membership, exclude, include, remove_failed, replace_failed};
use crate::zwave::serial::functions::NodeInfo;

/// How long exclusion waits for the node's button.
const EXCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

/// A write resolved to frames.
struct WritePlan {
    node: u8,
    ep: u8,
    /// The capability and value, for the supervised path.
    cap: CapabilityId,
    value: Value,
    /// The node supports Supervision: wrap the Set and trust its status.
    supervised: bool,
    set: Vec<u8>,
    get: Option<Vec<u8>>,
    property: String,
}

impl Actor {
    pub(super) fn on_request(&mut self, r: BridgeRequest) {
        match r {
            BridgeRequest::Devices { reply } => {
                let list = match self.home_id() {
                    Some(h) => self.nodes.values().map(|s| s.rec.descriptor(h)).collect(),
                    None => Vec::new(),
                };
                let _ = reply.send(Ok(list));
            }
            BridgeRequest::PermitJoin { duration, reply } => self.permit_join(duration, reply),
            BridgeRequest::Remove {
                device,
                force,
                reply,
            } => self.remove(device, force, reply),
            BridgeRequest::Write {
                device,
                capability,
                value,
                reply,
            } => match self.plan_write(&device, &capability, &value) {
                Ok(plan) => self.write(plan, reply),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            BridgeRequest::Invoke {
                device,
                capability,
                command,
                args,
                reply,
            } => {
                self.invoke(device, capability, &command, args, reply);
            }
            BridgeRequest::Refresh {
                device,
                reinterview,
                reply,
            } => {
                let r = self.node_of(&device).map(|n| {
                    if reinterview {
                        self.schedule_interview(n);
                    } else {
                        self.refresh(n);
                    }
                });
                let _ = reply.send(r);
            }
        }
    }

    fn node_of(&self, device: &DeviceId) -> Result<u8, BridgeError> {
        let home = self.home_id().ok_or(BridgeError::RadioOffline)?;
        if self.controller.is_none() {
            return Err(BridgeError::RadioOffline);
        }
        match device {
            DeviceId::ZWave { home_id, node_id } if *home_id == home => u8::try_from(*node_id)
                .ok()
                .filter(|n| self.nodes.contains_key(n))
                .ok_or(BridgeError::UnknownDevice(*device)),
            _ => Err(BridgeError::UnknownDevice(*device)),
        }
    }

    fn permit_join(&mut self, duration: Duration, reply: crate::api::Reply<()>) {
        if let Some(c) = self.inclusion.take() {
            let _ = c.send(());
        }
        if duration.is_zero() {
            let _ = reply.send(if self.controller.is_some() {
                Ok(())
            } else {
                Err(BridgeError::RadioOffline)
            });
            return;
        }
        if self.controller.is_none() {
            let _ = reply.send(Err(BridgeError::RadioOffline));
            return;
        }
        let (cancel_tx, cancel_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        self.inclusion = Some(cancel_tx);
        tokio::spawn(include(
            self.io.clone(),
            duration,
            cancel_rx,
            ready_tx,
            self.membership.clone(),
        ));
        let events = self.events.clone();
        let remaining_s = u32::try_from(duration.as_secs()).unwrap_or(u32::MAX);
        tokio::spawn(async move {
            let r = match ready_rx.await {
                Ok(Ok(())) => {
                    events.emit(crate::api::BridgeEvent::PermitJoin {
                        open: true,
                        remaining_s,
                    });
                    Ok(())
                }
                Ok(Err(e)) => Err(e.into()),
                Err(_) => Err(BridgeError::Stopped),
            };
            let _ = reply.send(r);
        });
    }

    fn remove(&mut self, device: DeviceId, force: bool, reply: crate::api::Reply<()>) {
        let n = match self.node_of(&device) {
            Ok(n) => n,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let io = self.io.clone();
        let out = self.membership.clone();
        tokio::spawn(async move {
            let r = if force {
                match remove_failed(&io, n).await {
                    Ok(true) => Ok(()),
                    other => {
                        // "force" drops the device even if the controller keeps it listed.
                        tracing::warn!(node = n, result = ?other, "zwave: node not removed by the stick, dropping it anyway");
                        Ok(())
                    }
                }
                .map(|()| true)
            } else {
                exclude(&io, n, EXCLUSION_TIMEOUT, &out)
                    .await
                    .map_err(BridgeError::from)
            };
            let r = match r {
                Ok(true) => {
                    let _ = out.send(Membership::Removed(n)).await;
                    Ok(())
                }
                Ok(false) => Err(BridgeError::Timeout),
                Err(e) => Err(e),
            };
            let _ = reply.send(r);
        });
    }

    fn plan_write(
        &self,
        device: &DeviceId,
        cap: &CapabilityId,
        value: &Value,
    ) -> Result<WritePlan, BridgeError> {
        let n = self.node_of(device)?;
        let rec = &self.nodes[&n].rec;
        let c = rec
            .capability(cap)
            .ok_or_else(|| BridgeError::UnknownCapability(cap.clone()))?;
        if !c.writable {
            return Err(BridgeError::InvalidValue("capability is read-only".into()));
        }
        let (ep, cc_id, property) = parse_capability_id(cap.as_str())
            .ok_or_else(|| BridgeError::UnknownCapability(cap.clone()))?;
        let spec = cc::spec(cc_id).ok_or_else(|| BridgeError::Unsupported(format!("{cc_id:?}")))?;
        let v = rec.version(cc_id.into());
        let set =
            (spec.set)(property, value, v).map_err(|e| BridgeError::InvalidValue(e.to_string()))?;
        let supervised = rec.ccs_of(ep).contains(&0x6C) || rec.ccs.contains(&0x6C);
        Ok(WritePlan {
            node: n,
            ep,
            cap: cap.clone(),
            value: value.clone(),
            supervised,
            set,
            get: (spec.get)(property, v),
            property: property.to_owned(),
        })
    }

    fn write(&mut self, plan: WritePlan, reply: crate::api::Reply<()>) {
        let Some(s) = self.nodes.get_mut(&plan.node) else {
            let _ = reply.send(Err(BridgeError::Stopped));
            return;
        };
        if s.rec.is_sleeping() && !s.awake {
            let r = match self.cfg.sleeping_writes {
                SleepingWrites::Queue => {
                    s.queue.push_back(Pending::Write {
                        ep: plan.ep,
                        set: plan.set,
                        get: plan.get,
                    });
                    Ok(())
                }
                SleepingWrites::Refuse => Err(BridgeError::Asleep),
            };
            let _ = reply.send(r);
            return;
        }
        let io = self.io.clone();
        let tx = self.internal.clone();
        tokio::spawn(async move {
            let r = if plan.supervised {
                let r = supervised_write(&io, &plan).await;
                if r.is_ok() {
                    let _ = tx
                        .send(Internal::Applied {
                            node: plan.node,
                            capability: plan.cap.clone(),
                            value: plan.value.clone(),
                        })
                        .await;
                }
                r
            } else {
                confirmed_write(&io, &plan).await
            };
            if r == Err(BridgeError::Timeout) {
                let _ = tx.send(Internal::Unreachable(plan.node)).await;
            }
            let _ = reply.send(r);
        });
    }

    fn refresh(&mut self, n: u8) {
        let Some(s) = self.nodes.get(&n) else { return };
        let mut gets = Vec::new();
        for (ep, caps) in &s.rec.capabilities {
            for c in caps {
                let Some((_, cc_id, prop)) = parse_capability_id(c.id.as_str()) else {
                    continue;
                };
                let Some(spec) = cc::spec(cc_id) else {
                    continue;
                };
                if let Some(g) = (spec.get)(prop, s.rec.version(cc_id.into()))
                    && !gets.contains(&(*ep, g.clone()))
                {
                    gets.push((*ep, g));
                }
            }
        }
        if s.rec.is_sleeping() && !s.awake {
            if let Some(st) = self.nodes.get_mut(&n) {
                // A Get alone: its Report updates the value when the node wakes.
                for (ep, g) in gets {
                    st.queue.push_back(Pending::Write {
                        ep,
                        set: g,
                        get: None,
                    });
                }
            }
            return;
        }
        let io = self.io.clone();
        tokio::spawn(async move {
            for (ep, g) in gets {
                if let Err(e) = io.get(n, ep, &g).await {
                    tracing::info!(node = n, error = %e, "zwave: refresh get failed");
                }
            }
        });
    }

    fn invoke(
        &mut self,
        device: DeviceId,
        cap: Option<CapabilityId>,
        command: &str,
        args: Args,
        reply: crate::api::Reply<Args>,
    ) {
        let n = match self.node_of(&device) {
            Ok(n) => n,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        match (command, cap) {
            ("Toggle", Some(cap)) => self.toggle(device, n, cap, reply),
            ("StepUp" | "StepDown", Some(cap)) => {
                let up = command == "StepUp";
                self.step(device, n, cap, up, reply)
            }
            ("ConfigGet" | "ConfigSet", None) => match config_args(command, &args) {
                Ok((param, set)) => {
                    let io = self.io.clone();
                    tokio::spawn(async move {
                        let _ = reply.send(config_get_set(&io, n, param, set).await);
                    });
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            ("ReplaceFailedNode", None) => {
                let io = self.io.clone();
                let out = self.membership.clone();
                tokio::spawn(async move {
                    let r = match replace_failed(&io, n, EXCLUSION_TIMEOUT).await {
                        Ok(true) => {
                            // The replacement is a new device under the same node id.
                            let _ = out.send(Membership::Removed(n)).await;
                            let info = NodeInfo {
                                node_id: n,
                                ..NodeInfo::default()
                            };
                            let _ = out.send(Membership::Added(info)).await;
                            Ok(Args::new())
                        }
                        Ok(false) => Err(BridgeError::Refused(
                            "node is not failed or no replacement joined".into(),
                        )),
                        Err(e) => Err(e.into()),
                    };
                    let _ = reply.send(r);
                });
            }
            (other, _) => {
                let _ = reply.send(Err(BridgeError::Unsupported(format!("command {other}"))));
            }
        }
    }

    /// TR-181 `Toggle()` of a BinaryControl: a confirmed write of the inverted value.
    fn toggle(
        &mut self,
        device: DeviceId,
        n: u8,
        cap: CapabilityId,
        reply: crate::api::Reply<Args>,
    ) {
        let current = self.nodes[&n]
            .rec
            .capability(&cap)
            .and_then(|c| c.value.as_ref())
            .and_then(Value::as_bool);
        let value = Value::Bool(!current.unwrap_or(false));
        self.write_for_command(device, cap, value, reply);
    }

    /// TR-181 `StepUp()`/`StepDown()` of a LevelControl: the current value ± `StepValue`,
    /// kept within `MinValue`..`MaxValue`, as a confirmed write.
    fn step(
        &mut self,
        device: DeviceId,
        n: u8,
        cap: CapabilityId,
        up: bool,
        reply: crate::api::Reply<Args>,
    ) {
        let Some(c) = self.nodes[&n].rec.capability(&cap) else {
            let _ = reply.send(Err(BridgeError::UnknownCapability(cap)));
            return;
        };
        let crate::api::CapabilityKind::LevelControl {
            min,
            max,
            step: Some(step),
            ..
        } = &c.kind
        else {
            let _ = reply.send(Err(BridgeError::Unsupported(
                "StepUp/StepDown need a LevelControl with StepValue".into(),
            )));
            return;
        };
        let current = c
            .value
            .as_ref()
            .and_then(Value::as_decimal)
            .unwrap_or(*min)
            .to_f64();
        let next = if up {
            current + step.to_f64()
        } else {
            current - step.to_f64()
        };
        let next = next.clamp(min.to_f64(), max.to_f64());
        let Some(d) = crate::api::Decimal::from_f64(next, 2) else {
            let _ = reply.send(Err(BridgeError::InvalidValue(
                "step result out of range".into(),
            )));
            return;
        };
        self.write_for_command(device, cap, Value::Decimal(d), reply);
    }

    /// A confirmed write on behalf of a command; the command's output is empty.
    fn write_for_command(
        &mut self,
        device: DeviceId,
        cap: CapabilityId,
        value: Value,
        reply: crate::api::Reply<Args>,
    ) {
        let (tx, rx) = oneshot::channel();
        match self.plan_write(&device, &cap, &value) {
            Ok(plan) => self.write(plan, tx),
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        }
        tokio::spawn(async move {
            let r = rx.await.unwrap_or(Err(BridgeError::Stopped));
            let _ = reply.send(r.map(|()| Args::new()));
        });
    }
}

/// Sends the Set inside a Supervision Get; the device's Supervision Report decides.
async fn supervised_write(io: &NodeIo, plan: &WritePlan) -> Result<(), BridgeError> {
    let session = io.next_callback_id() & 0x3F;
    let mut rx = io.wait_for(Pattern::Command {
        node: plan.node,
        ep: plan.ep,
        cc: 0x6C,
    });
    io.send(plan.node, plan.ep, &supervision::wrap(session, &plan.set))
        .await?;
    let deadline = tokio::time::Instant::now() + io.report_timeout;
    loop {
        let Ok(Some(report)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            return Err(BridgeError::Timeout);
        };
        match supervision::parse_report(&report) {
            Ok((s, _)) if s != session => continue,
            Ok((_, supervision::Status::Success)) => return Ok(()),
            // Working: a final report follows within the announced duration.
            Ok((_, supervision::Status::Working)) => continue,
            Ok((_, status)) => {
                return Err(BridgeError::Refused(format!("device answered {status:?}")));
            }
            Err(_) => continue,
        }
    }
}

/// Parameter (1-255) and, for ConfigSet, the Set frame from the command's arguments.
fn config_args(command: &str, args: &Args) -> Result<(u8, Option<Vec<u8>>), BridgeError> {
    let int = |k: &str| -> Result<i64, BridgeError> {
        args.get(k)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                BridgeError::InvalidValue(format!("argument {k} missing or not an integer"))
            })
    };
    let param = u8::try_from(int("Parameter")?)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| BridgeError::InvalidValue("Parameter must be 1-255".into()))?;
    if command != "ConfigSet" {
        return Ok((param, None));
    }
    let value = i32::try_from(int("Value")?)
        .map_err(|_| BridgeError::InvalidValue("Value out of range".into()))?;
    Ok((param, Some(configuration::set(param, value))))
}

async fn confirmed_write(io: &NodeIo, plan: &WritePlan) -> Result<(), BridgeError> {
    io.send(plan.node, plan.ep, &plan.set).await?;
    let Some(get) = &plan.get else {
        return Ok(());
    };
    let report = io.get(plan.node, plan.ep, get).await?;
    let confirmed = cc::decode(&report)
        .unwrap_or_default()
        .iter()
        .any(|d| matches!(d, Decoded::Reading { def, .. } if def.property == plan.property));
    if confirmed {
        Ok(())
    } else {
        Err(BridgeError::Timeout)
    }
}

async fn config_get_set(
    io: &NodeIo,
    n: u8,
    param: u8,
    set: Option<Vec<u8>>,
) -> Result<Args, BridgeError> {
    if let Some(set) = set {
        io.send(n, 0, &set).await?;
    }
    let report = io.get(n, 0, &configuration::get(param)).await?;
    for d in cc::decode(&report).unwrap_or_default() {
        if let Decoded::Fact(NodeFact::Configuration { param: p, value }) = d
            && p == param
        {
            let mut out = Args::new();
            out.insert("Value".into(), value.to_string());
            return Ok(out);
        }
    }
    Err(BridgeError::Timeout)
}
