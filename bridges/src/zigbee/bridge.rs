//! The Zigbee bridge actor: owns the device registry, runs interviews, turns ZCL reports into
//! `BridgeEvent::Value`, carries out `BridgeHandle` requests (a write is answered only when
//! the device confirmed it with a Default Response), tracks availability, and follows the
//! radio through port loss. Radio-neutral: generic over [`ZigbeeBackend`].
//!
//! Concurrency: one task owns all state. Anything that waits for the air (interviews,
//! writes, removals, refreshes) runs in its own task with a clone of the [`Requester`] and
//! reports back on an internal channel, so one slow device never blocks the others.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::{
    Args, BridgeError, BridgeEvent, BridgeHandle, BridgeInbox, BridgeRequest, CapabilityId,
    DeviceId, EventSender, InterviewState, PowerSource, ProxyProtocol, Reply, Value,
    bridge_channel,
};
use crate::zigbee::backend::{
    ApsFrame, ApsIncoming, BackendError, BackendEvent, HOST_ENDPOINT, PROFILE_HA, PROFILE_ZDP,
    ZigbeeBackend,
};
use crate::zigbee::interview::{self, Interview, read_attributes};
use crate::zigbee::mapping::{self, Control};
use crate::zigbee::network::{self, NetworkConfig, NetworkFileError};
use crate::zigbee::record::DeviceRecord;
use crate::zigbee::requester::{EXPECT_DEFAULT, RequestError, Requester, Target};
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::zcl::frame::{cmd, status};
use crate::zigbee::zcl::{Direction, FrameKind, GeneralCommand, ZclFrame, ZclHeader, ZclValue};
use crate::zigbee::zdo::Zdp;

/// Bridge settings.
#[derive(Debug, Clone)]
pub struct ZigbeeBridgeConfig {
    /// Where the network parameters are kept (mode 0600).
    pub network_file: PathBuf,
    /// Fixed network parameters, if any.
    pub network: NetworkConfig,
    /// Deadline for each device answer.
    pub response_timeout: Duration,
    /// Shortest gap between two interview attempts of one device.
    pub interview_retry: Duration,
    /// A mains device silent this long is offline (zigbee2mqtt's default: 10 min).
    pub mains_timeout: Duration,
    /// A battery device silent this long is offline (zigbee2mqtt's default: 25 h).
    pub battery_timeout: Duration,
    /// How often availability is checked.
    pub availability_check: Duration,
}

impl ZigbeeBridgeConfig {
    /// Defaults with the network file at `network_file`.
    pub fn new(network_file: impl Into<PathBuf>) -> Self {
        ZigbeeBridgeConfig {
            network_file: network_file.into(),
            network: NetworkConfig::default(),
            response_timeout: Duration::from_secs(10),
            interview_retry: Duration::from_secs(60),
            mains_timeout: Duration::from_secs(600),
            battery_timeout: Duration::from_secs(25 * 3600),
            availability_check: Duration::from_secs(30),
        }
    }
}

/// Errors starting the bridge.
#[derive(Debug, thiserror::Error)]
pub enum ZigbeeError {
    /// The network file could not be read or written.
    #[error(transparent)]
    NetworkFile(#[from] NetworkFileError),
    /// The radio did not start.
    #[error("Zigbee radio: {0}")]
    Backend(#[from] BackendError),
}

/// Starts the radio and the bridge actor; returns the handle and the actor task.
pub async fn start<B: ZigbeeBackend>(
    backend: B,
    config: ZigbeeBridgeConfig,
) -> Result<(BridgeHandle, JoinHandle<()>), ZigbeeError> {
    let settings = network::load_or_create(&config.network_file, &config.network)?;
    let (events_tx, events_rx) = mpsc::channel(512);
    let info = backend.start(settings, events_tx).await?;
    let (handle, inbox) = bridge_channel(ProxyProtocol::ZigBee, 64, 1024);
    let (internal_tx, internal_rx) = mpsc::channel(256);
    let actor = Actor {
        req: Requester::new(backend, config.response_timeout),
        events: inbox.events.clone(),
        devices: BTreeMap::new(),
        by_nwk: HashMap::new(),
        coordinator: info.ieee,
        internal: internal_tx,
        radio_online: true,
        config,
    };
    actor.events.emit(BridgeEvent::RadioState {
        online: true,
        detail: format!(
            "{} channel {} PAN {:#06x}",
            info.firmware, info.channel, info.pan_id
        ),
    });
    let task = tokio::spawn(actor.run(inbox, events_rx, internal_rx));
    Ok((handle, task))
}

struct Dev {
    rec: DeviceRecord,
    last_seen: Instant,
    online: bool,
    interviewing: bool,
    last_interview: Option<Instant>,
}

enum Done {
    Unit(Reply<()>),
    Args(Reply<Args>),
}

impl Done {
    fn ok(self) {
        match self {
            Done::Unit(r) => drop(r.send(Ok(()))),
            Done::Args(r) => drop(r.send(Ok(Args::new()))),
        }
    }

    fn fail(self, e: BridgeError) {
        match self {
            Done::Unit(r) => drop(r.send(Err(e))),
            Done::Args(r) => drop(r.send(Err(e))),
        }
    }
}

enum Internal {
    Interviewed {
        ieee: u64,
        iv: Interview,
        reply: Option<Reply<()>>,
    },
    Updates {
        ieee: u64,
        updates: Vec<(u8, u16, u16, ZclValue)>,
        done: Option<Done>,
    },
    Removed {
        ieee: u64,
        reply: Reply<()>,
    },
}

struct Actor<B> {
    req: Requester<B>,
    events: EventSender,
    devices: BTreeMap<u64, Dev>,
    by_nwk: HashMap<u16, u64>,
    coordinator: u64,
    internal: mpsc::Sender<Internal>,
    radio_online: bool,
    config: ZigbeeBridgeConfig,
}

fn bridge_error(e: RequestError) -> BridgeError {
    match e {
        RequestError::Timeout { .. } | RequestError::Backend(BackendError::Timeout(_)) => {
            BridgeError::Timeout
        }
        RequestError::Backend(BackendError::Offline) => BridgeError::RadioOffline,
        other => BridgeError::Refused(other.to_string()),
    }
}

fn default_status(f: &ZclFrame) -> Option<u8> {
    match GeneralCommand::parse(f.header.command, &f.payload).ok()? {
        GeneralCommand::DefaultRsp { status, .. } => Some(status),
        _ => None,
    }
}

impl<B: ZigbeeBackend> Actor<B> {
    async fn run(
        mut self,
        mut inbox: BridgeInbox,
        mut radio: mpsc::Receiver<BackendEvent>,
        mut internal: mpsc::Receiver<Internal>,
    ) {
        let mut tick = tokio::time::interval(self.config.availability_check);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                req = inbox.requests.recv() => match req {
                    Some(r) => self.on_request(r),
                    None => return,
                },
                ev = radio.recv() => match ev {
                    Some(e) => self.on_radio(e),
                    None => {
                        tracing::error!("Zigbee backend stopped");
                        self.radio_down("backend stopped".into());
                        // Keep answering requests (RadioOffline) until the handles are gone.
                        while let Some(r) = inbox.requests.recv().await { self.on_request(r) }
                        return;
                    }
                },
                Some(i) = internal.recv() => self.on_internal(i),
                _ = tick.tick() => self.check_availability(),
            }
        }
    }

    fn dev_by_id(&self, id: &DeviceId) -> Result<&Dev, BridgeError> {
        match id {
            DeviceId::Zigbee(e) => self
                .devices
                .get(&e.0)
                .ok_or(BridgeError::UnknownDevice(*id)),
            _ => Err(BridgeError::UnknownDevice(*id)),
        }
    }

    fn on_request(&mut self, r: BridgeRequest) {
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

    fn drop_device(&mut self, ieee: u64) {
        if let Some(d) = self.devices.remove(&ieee) {
            self.by_nwk.retain(|_, v| *v != ieee);
            tracing::info!(ieee = format_args!("{ieee:016x}"), "Zigbee device removed");
            self.events.emit(BridgeEvent::DeviceLeft(d.rec.id()));
        }
    }

    fn on_internal(&mut self, i: Internal) {
        match i {
            Internal::Interviewed { ieee, iv, reply } => {
                let Some(d) = self.devices.get_mut(&ieee) else {
                    return;
                };
                d.interviewing = false;
                for p in &iv.problems {
                    tracing::warn!(ieee = format_args!("{ieee:016x}"), nwk = format_args!("{:#06x}", d.rec.nwk), problem = %p, "interview");
                }
                let failed = iv.state == InterviewState::Failed;
                d.rec.apply(iv);
                tracing::info!(ieee = format_args!("{ieee:016x}"), model = %d.rec.model, state = d.rec.interview.as_str(), "interview finished");
                self.events
                    .emit(BridgeEvent::DeviceUpdated(d.rec.descriptor()));
                if let Some(r) = reply {
                    let _ = r.send(if failed {
                        Err(BridgeError::Timeout)
                    } else {
                        Ok(())
                    });
                }
            }
            Internal::Updates {
                ieee,
                updates,
                done,
            } => {
                for (ep, cluster, attr, v) in updates {
                    self.apply_update(ieee, ep, cluster, attr, v);
                }
                if let Some(d) = done {
                    d.ok();
                }
            }
            Internal::Removed { ieee, reply } => {
                self.drop_device(ieee);
                let _ = reply.send(Ok(()));
            }
        }
    }

    fn apply_update(&mut self, ieee: u64, ep: u8, cluster: u16, attr: u16, v: ZclValue) {
        let Some(d) = self.devices.get_mut(&ieee) else {
            return;
        };
        if let Some((capability, value)) = d.rec.update(ep, cluster, attr, v) {
            self.events.emit(BridgeEvent::Value {
                id: d.rec.id(),
                capability,
                value,
                at: SystemTime::now(),
            });
        }
    }

    fn start_interview(&mut self, ieee: u64, reply: Option<Reply<()>>) {
        let Some(d) = self.devices.get_mut(&ieee) else {
            return;
        };
        d.interviewing = true;
        d.last_interview = Some(Instant::now());
        d.rec.interview = InterviewState::InProgress;
        let (req, tx, nwk, coordinator) = (
            self.req.clone(),
            self.internal.clone(),
            d.rec.nwk,
            self.coordinator,
        );
        tokio::spawn(async move {
            let iv = interview::run(&req, nwk, ieee, coordinator).await;
            let _ = tx.send(Internal::Interviewed { ieee, iv, reply }).await;
        });
    }

    fn seen(&mut self, ieee: u64) {
        let Some(d) = self.devices.get_mut(&ieee) else {
            return;
        };
        d.last_seen = Instant::now();
        if !d.online {
            d.online = true;
            self.events.emit(BridgeEvent::Online {
                id: d.rec.id(),
                online: true,
            });
        }
        let retry = d
            .last_interview
            .is_none_or(|t| t.elapsed() >= self.config.interview_retry);
        if d.rec.interview != InterviewState::Complete && !d.interviewing && retry {
            // A sleepy device that failed its interview is awake now: try again.
            self.start_interview(ieee, None);
        }
    }

    fn on_radio(&mut self, e: BackendEvent) {
        match e {
            BackendEvent::Message(m) => self.on_message(m),
            BackendEvent::DeviceJoined { nwk, ieee } => self.on_join(nwk, ieee),
            BackendEvent::DeviceLeft { ieee, .. } => self.drop_device(ieee),
            BackendEvent::PermitJoin { seconds } => self.events.emit(BridgeEvent::PermitJoin {
                open: seconds > 0,
                remaining_s: u32::from(seconds),
            }),
            BackendEvent::RadioUp(info) => {
                self.radio_online = true;
                self.events.emit(BridgeEvent::RadioState {
                    online: true,
                    detail: format!("{} channel {}", info.firmware, info.channel),
                });
                for d in self.devices.values_mut() {
                    d.last_seen = Instant::now();
                    d.online = true;
                    self.events.emit(BridgeEvent::Online {
                        id: d.rec.id(),
                        online: true,
                    });
                }
            }
            BackendEvent::RadioDown(reason) => self.radio_down(reason),
        }
    }

    fn radio_down(&mut self, reason: String) {
        self.radio_online = false;
        tracing::warn!(%reason, "Zigbee radio offline");
        self.events.emit(BridgeEvent::RadioState {
            online: false,
            detail: reason,
        });
        for d in self.devices.values_mut().filter(|d| d.online) {
            d.online = false;
            self.events.emit(BridgeEvent::Online {
                id: d.rec.id(),
                online: false,
            });
        }
    }

    fn on_join(&mut self, nwk: u16, ieee: u64) {
        if let Some(old) = self.devices.get(&ieee).map(|d| d.rec.nwk)
            && old != nwk
        {
            self.by_nwk.remove(&old);
        }
        self.by_nwk.insert(nwk, ieee);
        if let Some(d) = self.devices.get_mut(&ieee) {
            d.rec.nwk = nwk;
            self.seen(ieee);
            return;
        }
        tracing::info!(
            ieee = format_args!("{ieee:016x}"),
            nwk = format_args!("{nwk:#06x}"),
            "Zigbee device joined"
        );
        let rec = DeviceRecord::new(ieee, nwk);
        let dev = Dev {
            rec,
            last_seen: Instant::now(),
            online: true,
            interviewing: false,
            last_interview: None,
        };
        self.devices.insert(ieee, dev);
        self.start_interview(ieee, None);
        if let Some(d) = self.devices.get(&ieee) {
            self.events
                .emit(BridgeEvent::DeviceJoined(d.rec.descriptor()));
        }
    }

    fn on_message(&mut self, m: ApsIncoming) {
        let ieee = self.by_nwk.get(&m.src_nwk).copied();
        if let Some(ieee) = ieee {
            self.seen(ieee);
        }
        if self.req.offer(&m) || m.profile == PROFILE_ZDP {
            return;
        }
        let Some(ieee) = ieee else {
            tracing::warn!(
                nwk = format_args!("{:#06x}", m.src_nwk),
                cluster = m.cluster,
                "message from an unknown device dropped"
            );
            return;
        };
        let f = match ZclFrame::parse(&m.payload) {
            Ok(f) => f,
            Err(e) => {
                return tracing::warn!(ieee = format_args!("{ieee:016x}"), cluster = m.cluster, error = %e, "malformed ZCL frame dropped");
            }
        };
        let ep = m.src_endpoint;
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
            (kind, command) => tracing::debug!(
                ieee = format_args!("{ieee:016x}"),
                cluster = m.cluster,
                ?kind,
                command,
                "ZCL frame ignored"
            ),
        }
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

    fn check_availability(&mut self) {
        let (mains, battery) = (self.config.mains_timeout, self.config.battery_timeout);
        for d in self.devices.values_mut().filter(|d| d.online) {
            let limit = if d.rec.power() == PowerSource::Battery {
                battery
            } else {
                mains
            };
            let silent = d.last_seen.elapsed();
            if silent >= limit {
                d.online = false;
                tracing::info!(
                    ieee = format_args!("{:016x}", d.rec.ieee),
                    ?silent,
                    "Zigbee device offline"
                );
                self.events.emit(BridgeEvent::Online {
                    id: d.rec.id(),
                    online: false,
                });
            } else if silent >= limit / 2
                && d.rec.power() != PowerSource::Battery
                && self.radio_online
            {
                // Ping a silent mains device: any answer marks it seen.
                let (req, nwk) = (self.req.clone(), d.rec.nwk);
                let ep = d.rec.endpoints.first().map_or(1, |e| e.endpoint);
                tokio::spawn(async move {
                    let _ = read_attributes(&req, nwk, ep, id::BASIC, &[0x0000]).await;
                });
            }
        }
    }
}
