//! The Z-Wave bridge actor: owns the node registry and turns Serial API traffic into
//! [`BridgeEvent`]s; bridge requests are handled in [`super::requests`].
//!
//! Concurrency: this task alone owns node state. Work that waits on the radio (start-up,
//! interviews, inclusion, confirmed writes, wake-up batches) runs in spawned tasks holding a
//! [`NodeIo`]; they report back on the `internal` / `membership` channels and never touch
//! node state. Inbound frames are offered to the tasks' waiters first, then processed
//! here, so a report that answers an interview Get still becomes a capability value.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::api::{BridgeEvent, BridgeInbox, CapabilityId, EventSender, InterviewState};
use crate::zwave::cc::{self, Decoded, NodeFact, multi_channel, supervision};
use crate::zwave::serial::functions::{
    ApplicationCommand, ApplicationUpdate, FunctionId, HostRequest, NodeInfo, NodeProtocolInfo,
    UpdateType,
};
use crate::zwave::serial::port::Inbound;

use super::ZWaveConfig;
use super::context::{NodeIo, ZwError};
use super::inclusion::Membership;
use super::interview::{ControllerInfo, InterviewConfig, interview, startup};
use super::model::NodeRecord;
use super::registry::{Registry, RegistryWriter};

/// Work waiting for a sleeping node to wake up.
#[derive(Debug)]
pub(super) enum Pending {
    /// Interview (or re-interview) the node.
    Interview,
    /// Send `set` to end point `ep`, then `get` to confirm.
    Write {
        /// End point.
        ep: u8,
        /// The Set frame.
        set: Vec<u8>,
        /// The confirming Get.
        get: Option<Vec<u8>>,
    },
}

/// Per-node runtime state.
#[derive(Debug)]
pub(super) struct NodeState {
    pub rec: NodeRecord,
    pub online: bool,
    pub awake: bool,
    pub last_heard: Instant,
    pub queue: VecDeque<Pending>,
}

/// Messages from helper tasks.
#[derive(Debug)]
pub(super) enum Internal {
    Started(Result<(ControllerInfo, BTreeMap<u8, NodeRecord>), ZwError>),
    Joined(NodeRecord),
    Interviewed(NodeRecord),
    Unreachable(u8),
    BatchDone(u8),
    RetryStartup,
    /// A supervised write succeeded: the device applied `value`.
    Applied {
        node: u8,
        capability: CapabilityId,
        value: crate::api::Value,
    },
}

pub(super) struct Actor {
    pub io: NodeIo,
    pub cfg: ZWaveConfig,
    pub registry: Option<Registry>,
    writer: Option<RegistryWriter>,
    pub events: EventSender,
    pub controller: Option<ControllerInfo>,
    pub nodes: BTreeMap<u8, NodeState>,
    pub internal: mpsc::Sender<Internal>,
    pub membership: mpsc::Sender<Membership>,
    pub inclusion: Option<oneshot::Sender<()>>,
    announced: HashSet<u8>,
    port_up: bool,
    home: Option<u32>,
}

impl Actor {
    pub fn new(
        io: NodeIo,
        cfg: ZWaveConfig,
        registry: Option<Registry>,
        events: EventSender,
        internal: mpsc::Sender<Internal>,
        membership: mpsc::Sender<Membership>,
    ) -> Self {
        Self {
            io,
            cfg,
            writer: registry.as_ref().map(Registry::writer),
            registry,
            events,
            controller: None,
            nodes: BTreeMap::new(),
            internal,
            membership,
            inclusion: None,
            announced: HashSet::new(),
            port_up: false,
            home: None,
        }
    }

    pub async fn run(
        mut self,
        mut inbound: mpsc::Receiver<Inbound>,
        mut inbox: BridgeInbox,
        mut internal: mpsc::Receiver<Internal>,
        mut membership: mpsc::Receiver<Membership>,
    ) {
        let mut tick = tokio::time::interval(self.cfg.online_check);
        loop {
            tokio::select! {
                biased;
                Some(m) = internal.recv() => self.on_internal(m),
                Some(m) = membership.recv() => self.on_membership(m),
                i = inbound.recv() => match i {
                    Some(i) => self.on_inbound(i),
                    None => return,
                },
                r = inbox.requests.recv() => match r {
                    Some(r) => self.on_request(r),
                    None => return,
                },
                _ = tick.tick() => self.check_sleepers(),
            }
        }
    }

    /// The network's home id, known from the first start-up on (kept while the port is
    /// down, so devices can still be listed and marked offline).
    pub fn home_id(&self) -> Option<u32> {
        self.home
    }

    pub fn interview_config(&self) -> InterviewConfig {
        InterviewConfig {
            own_id: self.controller.as_ref().map_or(1, |c| c.own_id),
            wake_up_interval_s: self.cfg.wake_up_interval_s,
        }
    }

    fn emit(&self, e: BridgeEvent) {
        self.events.emit(e);
    }

    pub fn emit_updated(&self, n: u8) {
        if let (Some(home), Some(s)) = (self.home_id(), self.nodes.get(&n)) {
            self.emit(BridgeEvent::DeviceUpdated(s.rec.descriptor(home)));
        }
    }

    pub fn set_online(&mut self, n: u8, online: bool) {
        let Some(home) = self.home_id() else { return };
        if let Some(s) = self.nodes.get_mut(&n)
            && s.online != online
        {
            s.online = online;
            let id = s.rec.device_id(home);
            self.emit(BridgeEvent::Online { id, online });
        }
    }

    pub fn persist(&self, n: u8) {
        if let (Some(w), Some(home), Some(s)) = (&self.writer, self.home_id(), self.nodes.get(&n)) {
            w.save(home, &s.rec);
        }
    }

    fn on_inbound(&mut self, i: Inbound) {
        match i {
            Inbound::Up => {
                self.port_up = true;
                tracing::info!("zwave: port up, starting controller");
                let io = self.io.clone();
                let reg = self.registry.clone();
                let tx = self.internal.clone();
                tokio::spawn(async move {
                    let r = startup(&io, reg.as_ref()).await;
                    let _ = tx.send(Internal::Started(r)).await;
                });
            }
            Inbound::Down => {
                self.port_up = false;
                self.on_down();
            }
            Inbound::Frame(f) => {
                let function = f.function_id();
                let payload = f.payload_bytes();
                match function {
                    FunctionId::ApplicationCommandHandler
                    | FunctionId::BridgeApplicationCommandHandler => {
                        match ApplicationCommand::parse(function, &payload) {
                            Ok(a) => self.on_application_command(a.source, a.command),
                            Err(e) => tracing::warn!(error = %e, "zwave: malformed command frame"),
                        }
                    }
                    _ if self
                        .io
                        .with_waiters(|w| w.dispatch_frame(function, &payload)) => {}
                    FunctionId::ApplicationUpdate => self.on_application_update(&payload),
                    FunctionId::SerialApiStarted => {
                        tracing::warn!("zwave: stick restarted unexpectedly, re-initialising");
                        self.on_inbound(Inbound::Up);
                    }
                    other => {
                        tracing::info!(function = ?other, payload = ?&payload[..], "zwave: unhandled frame (stale or unknown callback)")
                    }
                }
            }
        }
    }

    fn on_down(&mut self) {
        tracing::warn!("zwave: port down");
        if let Some(c) = self.inclusion.take() {
            let _ = c.send(());
        }
        let nodes: Vec<u8> = self.nodes.keys().copied().collect();
        for n in nodes {
            self.set_online(n, false);
        }
        self.controller = None;
        self.emit(BridgeEvent::RadioState {
            online: false,
            detail: "serial port lost".into(),
        });
    }

    fn on_application_update(&mut self, p: &Bytes) {
        match ApplicationUpdate::parse(p) {
            Ok(u) if u.update == UpdateType::NodeInfoReceived => {
                let n = u.info.node_id;
                if let Some(s) = self.nodes.get_mut(&n) {
                    s.last_heard = Instant::now();
                    if !u.info.command_classes.is_empty() && s.rec.ccs != u.info.command_classes {
                        s.rec.ccs = u.info.command_classes;
                        s.rec.add_static_capabilities();
                        self.emit_updated(n);
                        self.persist(n);
                    }
                }
                self.set_online(n, true);
            }
            Ok(u) => {
                tracing::debug!(update = ?u.update, node = u.info.node_id, "zwave: application update")
            }
            Err(e) => tracing::warn!(error = %e, "zwave: malformed application update"),
        }
    }

    fn on_application_command(&mut self, node: u8, mut cmd: Bytes) {
        if cmd.first() == Some(&0x98) {
            match self.s0_inbound(node, cmd) {
                Some(inner) => cmd = inner,
                None => return,
            }
        }
        let (ep, mut inner) = match multi_channel::unwrap(&cmd) {
            Some((ep, inner)) => (ep, cmd.slice_ref(inner)),
            None => (0, cmd),
        };
        if let Some((session, wrapped)) = supervision::unwrap_get(&inner) {
            // The device wants to know its report arrived: answer Success, then process it.
            let io = self.io.clone();
            tokio::spawn(async move {
                let report = supervision::report(session, supervision::Status::Success);
                if let Err(e) = io.send(node, ep, &report).await {
                    tracing::info!(node, error = %e, "zwave: supervision report not delivered");
                }
            });
            inner = inner.slice_ref(wrapped);
        }
        self.io
            .with_waiters(|w| w.dispatch_command(node, ep, &inner));
        if !self.nodes.contains_key(&node) {
            tracing::warn!(node, "zwave: frame from unknown node ignored");
            return;
        }
        if let Some(s) = self.nodes.get_mut(&node) {
            s.last_heard = Instant::now();
        }
        self.set_online(node, true);
        match cc::decode(&inner) {
            Ok(items) => {
                for item in items {
                    self.on_decoded(node, ep, item);
                }
            }
            Err(e) => tracing::warn!(node, ep, error = %e, "zwave: malformed command class frame"),
        }
    }

    fn on_decoded(&mut self, node: u8, ep: u8, item: Decoded) {
        let Some(home) = self.home_id() else { return };
        match item {
            Decoded::Reading { def, value } => {
                let Some(s) = self.nodes.get_mut(&node) else {
                    return;
                };
                let ccs = s.rec.ccs_of(ep);
                if def.cc == cc::CcId::Basic && (ccs.contains(&0x25) || ccs.contains(&0x26)) {
                    // Basic mirrors the switch CC, which is the capability shown.
                    return;
                }
                let added = s.rec.ensure_capability(ep, &def);
                let changed = s.rec.set_value(ep, &def, value.clone());
                let id = s.rec.device_id(home);
                if added {
                    self.emit_updated(node);
                    self.persist(node);
                }
                if changed {
                    self.emit(BridgeEvent::Value {
                        id,
                        capability: CapabilityId::new(def.id(ep)),
                        value,
                        at: SystemTime::now(),
                    });
                }
            }
            Decoded::Event { name, mut args } => {
                if ep > 0 {
                    args.insert("EndPoint".into(), ep.to_string());
                }
                let id = crate::api::DeviceId::ZWave {
                    home_id: home,
                    node_id: u16::from(node),
                };
                self.emit(BridgeEvent::Event {
                    id,
                    capability: None,
                    name: name.into(),
                    args,
                    at: SystemTime::now(),
                });
            }
            Decoded::Fact(NodeFact::WakeUpNotification) => self.on_wake_up(node),
            Decoded::Fact(NodeFact::WakeUpInterval { seconds, .. }) => {
                if let Some(s) = self.nodes.get_mut(&node) {
                    s.rec.wake_up_interval = Some(seconds);
                }
            }
            Decoded::Fact(_) => {}
        }
    }

    fn on_internal(&mut self, m: Internal) {
        match m {
            Internal::Started(Ok((info, stored))) => self.on_started(info, stored),
            Internal::Started(Err(e)) => {
                tracing::error!(error = %e, "zwave: controller start-up failed, retrying");
                self.emit(BridgeEvent::RadioState {
                    online: false,
                    detail: format!("start-up failed: {e}"),
                });
                let tx = self.internal.clone();
                let delay = self.cfg.startup_retry;
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Internal::RetryStartup).await;
                });
            }
            Internal::RetryStartup => {
                if self.port_up && self.controller.is_none() {
                    self.on_inbound(Inbound::Up);
                }
            }
            Internal::Joined(rec) => {
                let n = rec.node_id;
                self.insert_node(rec);
                self.persist(n);
            }
            Internal::Interviewed(rec) => self.on_interviewed(rec),
            Internal::Unreachable(n) => {
                if self.nodes.get(&n).is_some_and(|s| !s.rec.is_sleeping()) {
                    self.set_online(n, false);
                }
            }
            Internal::Applied {
                node,
                capability,
                value,
            } => {
                let Some(home) = self.home_id() else { return };
                if let Some(s) = self.nodes.get_mut(&node)
                    && s.rec.set_value_by_id(&capability, value.clone())
                {
                    let id = s.rec.device_id(home);
                    self.emit(BridgeEvent::Value {
                        id,
                        capability,
                        value,
                        at: SystemTime::now(),
                    });
                }
            }
            Internal::BatchDone(n) => {
                if let Some(s) = self.nodes.get_mut(&n) {
                    s.awake = false;
                }
            }
        }
    }

    fn insert_node(&mut self, rec: NodeRecord) {
        let n = rec.node_id;
        if let Some(s0) = self.io.s0.as_ref().filter(|_| !rec.secure_ccs.is_empty()) {
            s0.set_secure(n, &rec.secure_ccs);
        }
        let Some(home) = self.home_id() else { return };
        let desc = rec.descriptor(home);
        self.nodes.insert(
            n,
            NodeState {
                rec,
                online: true,
                awake: false,
                last_heard: Instant::now(),
                queue: VecDeque::new(),
            },
        );
        if self.announced.insert(n) {
            self.emit(BridgeEvent::DeviceJoined(desc));
        } else {
            self.emit(BridgeEvent::DeviceUpdated(desc));
        }
    }

    fn on_started(&mut self, info: ControllerInfo, stored: BTreeMap<u8, NodeRecord>) {
        let present: HashSet<u8> = info.nodes.iter().map(|(n, _)| *n).collect();
        let detail = format!(
            "{} home id {:08x} node {}",
            info.version, info.home_id, info.own_id
        );
        let radio = crate::api::RadioInfo {
            firmware: info.version.clone(),
            address: info.own_id.to_string(),
            home_id: Some(info.home_id),
            ..Default::default()
        };
        let home_changed = self.home_id().is_some_and(|h| h != info.home_id);
        if let (true, Some(old_home)) = (home_changed, self.home_id()) {
            // Another network (another stick): its devices leave, but stay in the registry
            // under their own home id in case that stick comes back.
            for (_, s) in std::mem::take(&mut self.nodes) {
                self.emit(BridgeEvent::DeviceLeft(s.rec.device_id(old_home)));
            }
            self.announced.clear();
        }
        self.controller = Some(info.clone());
        self.home = Some(info.home_id);
        self.io.set_own_id(info.own_id);
        let gone: Vec<u8> = self
            .nodes
            .keys()
            .filter(|n| !present.contains(n))
            .copied()
            .collect();
        for n in gone {
            self.on_membership(Membership::Removed(n));
        }
        let mut to_interview = Vec::new();
        for (n, proto) in info.nodes {
            if self.nodes.contains_key(&n) {
                self.set_online(n, true);
                if self.nodes[&n].rec.interview != InterviewState::Complete {
                    to_interview.push(n);
                }
                continue;
            }
            let rec = stored
                .get(&n)
                .cloned()
                .unwrap_or_else(|| NodeRecord::new(n, proto.unwrap_or_default()));
            if rec.interview != InterviewState::Complete {
                to_interview.push(n);
            }
            self.insert_node(rec);
        }
        for (n, _) in stored.iter().filter(|(n, _)| !present.contains(n)) {
            if let (Some(w), Some(home)) = (&self.writer, self.home_id()) {
                w.remove(home, *n);
            }
        }
        self.emit(BridgeEvent::RadioState {
            online: true,
            detail,
        });
        self.emit(BridgeEvent::RadioInfo(radio));
        for n in to_interview {
            self.schedule_interview(n);
        }
    }

    /// Interviews now (listening node) or at the next wake-up (sleeping node).
    pub fn schedule_interview(&mut self, n: u8) {
        let cfg = self.interview_config();
        let Some(s) = self.nodes.get_mut(&n) else {
            return;
        };
        if s.rec.is_sleeping() && !s.awake {
            if !s.queue.iter().any(|p| matches!(p, Pending::Interview)) {
                s.queue.push_front(Pending::Interview);
            }
            return;
        }
        s.rec.interview = InterviewState::InProgress;
        let rec = s.rec.clone();
        let io = self.io.clone();
        let tx = self.internal.clone();
        tokio::spawn(async move {
            let rec = interview(&io, rec, cfg).await;
            let _ = tx.send(Internal::Interviewed(rec)).await;
        });
    }

    fn on_interviewed(&mut self, mut rec: NodeRecord) {
        let n = rec.node_id;
        let Some(s) = self.nodes.get_mut(&n) else {
            return;
        };
        // Capabilities learned from reports while the interview ran live in the actor's
        // copy; keep them (with their values) and add the interview's.
        for (ep, caps) in std::mem::take(&mut s.rec.capabilities) {
            let merged = rec.capabilities.entry(ep).or_default();
            for c in caps {
                match merged.iter_mut().find(|m| m.id == c.id) {
                    Some(m) => *m = c,
                    None => merged.push(c),
                }
            }
        }
        tracing::info!(
            node = n,
            state = rec.interview.as_str(),
            "zwave: interview finished"
        );
        s.rec = rec;
        self.emit_updated(n);
        self.persist(n);
    }

    fn on_membership(&mut self, m: Membership) {
        match m {
            Membership::Added(info) => self.on_added(info),
            Membership::Removed(n) => {
                let Some(home) = self.home_id() else { return };
                if let Some(s) = self.nodes.remove(&n) {
                    self.announced.remove(&n);
                    self.emit(BridgeEvent::DeviceLeft(s.rec.device_id(home)));
                }
                if let Some(w) = &self.writer {
                    w.remove(home, n);
                }
            }
            Membership::InclusionClosed => {
                self.inclusion = None;
                self.emit(BridgeEvent::PermitJoin {
                    open: false,
                    remaining_s: 0,
                });
            }
        }
    }

    /// A node joined: read its protocol info, announce it, interview it while it is awake.
    fn on_added(&mut self, info: NodeInfo) {
        let io = self.io.clone();
        let tx = self.internal.clone();
        let cfg = self.interview_config();
        tokio::spawn(async move {
            let n = info.node_id;
            let proto = io
                .request(HostRequest::for_node(FunctionId::GetNodeProtocolInfo, n))
                .await
                .ok()
                .and_then(|o| o.response)
                .and_then(|p| NodeProtocolInfo::parse(&p).ok())
                .unwrap_or_default();
            let mut rec = NodeRecord::new(n, proto);
            rec.ccs = info.command_classes;
            rec.interview = InterviewState::InProgress;
            if rec.ccs.contains(&0x98) && io.s0.is_some() {
                match io.key_exchange(n).await {
                    Ok(()) => tracing::info!(node = n, "zwave: S0 network key exchanged"),
                    Err(e) => {
                        tracing::warn!(node = n, error = %e, "zwave: S0 key exchange failed, node included without security")
                    }
                }
            }
            let _ = tx.send(Internal::Joined(rec.clone())).await;
            let rec = interview(&io, rec, cfg).await;
            let _ = tx.send(Internal::Interviewed(rec)).await;
        });
    }
}
