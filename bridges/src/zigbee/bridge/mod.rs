//! The Zigbee bridge actor: owns the device registry, runs interviews, turns ZCL reports into
//! `BridgeEvent::Value`, carries out `BridgeHandle` requests (a write is answered only when
//! the device confirmed it with a Default Response), tracks availability, and follows the
//! radio through port loss. Radio-neutral: generic over [`ZigbeeBackend`].
//!
//! Concurrency: one task owns all state. Anything that waits for the air (interviews,
//! writes, removals, refreshes) runs in its own task with a clone of the [`Requester`] and
//! reports back on an internal channel, so one slow device never blocks the others.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::{
    Args, BridgeError, BridgeEvent, BridgeHandle, BridgeInbox, DeviceId, EventSender,
    InterviewState, PowerSource, ProxyProtocol, Reply, bridge_channel,
};
use crate::zigbee::backend::{BackendError, BackendEvent, NetworkSettings, ZigbeeBackend};
use crate::zigbee::interview::{self, Interview, read_attributes};
use crate::zigbee::network::{self, NetworkConfig, NetworkFileError};
use crate::zigbee::record::DeviceRecord;
use crate::zigbee::registry::{self, RegistryError};
use crate::zigbee::requester::{RequestError, Requester};
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::zcl::{GeneralCommand, ZclFrame, ZclValue};

mod messages;
mod requests;

/// Bridge settings.
#[derive(Debug, Clone)]
pub struct ZigbeeBridgeConfig {
    /// Where the network parameters are kept (mode 0600).
    pub network_file: PathBuf,
    /// Where the paired devices are kept.
    pub registry_file: PathBuf,
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
    /// Defaults, keeping `zigbee-network.toml` and `zigbee-devices.toml` in `state_dir`.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        let dir = state_dir.into();
        ZigbeeBridgeConfig {
            network_file: dir.join("zigbee-network.toml"),
            registry_file: dir.join("zigbee-devices.toml"),
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
    /// The device registry could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The radio did not start.
    #[error("Zigbee radio: {0}")]
    Backend(#[from] BackendError),
}

/// Starts the radio and the bridge actor; returns the handle and the actor task.
///
/// Waits for the first start attempt (the backend's own start-up timeout). A radio that is
/// not there yet (unplugged stick, unreachable network coordinator) does not fail the
/// start: the bridge runs offline (`RadioState { online: false }`, requests answer
/// `RadioOffline`) and keeps trying in the background. A stored network that differs from
/// the settings does fail it: forming over it needs the explicit [`reset_network`].
pub async fn start<B: ZigbeeBackend>(
    backend: B,
    config: ZigbeeBridgeConfig,
) -> Result<(BridgeHandle, JoinHandle<()>), ZigbeeError> {
    let settings = network::load_or_create(&config.network_file, &config.network)?;
    let records = registry::load(&config.registry_file)?;
    let (events_tx, events_rx) = mpsc::channel(512);
    let info = match backend.start(settings.clone(), events_tx.clone()).await {
        Ok(info) => Some(info),
        Err(e @ BackendError::NetworkMismatch(_)) => return Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "Zigbee radio not available; retrying in the background");
            tokio::spawn(keep_starting(backend.clone(), settings, events_tx));
            None
        }
    };
    let (handle, inbox) = bridge_channel(ProxyProtocol::ZigBee, 64, 1024);
    let (internal_tx, internal_rx) = mpsc::channel(256);
    let mut actor = Actor {
        req: Requester::new(backend, config.response_timeout),
        events: inbox.events.clone(),
        devices: BTreeMap::new(),
        by_nwk: HashMap::new(),
        coordinator: info.as_ref().map_or(0, |i| i.ieee),
        internal: internal_tx,
        radio_online: info.is_some(),
        discovering: HashSet::new(),
        persister: spawn_persister(config.registry_file.clone()),
        config,
    };
    for rec in records {
        actor.by_nwk.insert(rec.nwk, rec.ieee);
        let dev = Dev {
            rec,
            last_seen: Instant::now(),
            online: info.is_some(),
            interviewing: false,
            last_interview: None,
        };
        actor
            .events
            .emit(BridgeEvent::DeviceJoined(dev.rec.descriptor()));
        actor.devices.insert(dev.rec.ieee, dev);
    }
    tracing::info!(
        devices = actor.devices.len(),
        "Zigbee device registry loaded"
    );
    actor.events.emit(match &info {
        Some(info) => BridgeEvent::RadioState {
            online: true,
            detail: format!(
                "{} channel {} PAN {:#06x}",
                info.firmware, info.channel, info.pan_id
            ),
        },
        None => BridgeEvent::RadioState {
            online: false,
            detail: "radio not available yet".into(),
        },
    });
    if let Some(info) = &info {
        actor.events.emit(BridgeEvent::RadioInfo(radio_info(info)));
    }
    let task = tokio::spawn(actor.run(inbox, events_rx, internal_rx));
    Ok((handle, task))
}

/// What Controllers may see of the coordinator and its network (no key).
fn radio_info(info: &crate::zigbee::backend::NetworkInfo) -> crate::api::RadioInfo {
    crate::api::RadioInfo {
        firmware: info.firmware.clone(),
        address: crate::api::Eui64(info.ieee).to_string(),
        channel: Some(info.channel),
        pan_id: Some(info.pan_id),
        extended_pan_id: Some(info.extended_pan_id),
        home_id: None,
    }
}

/// Retries the backend start until it succeeds (reported as `RadioUp`) or finds a
/// mismatching network (reported as `RadioDown`, no further retries).
async fn keep_starting<B: ZigbeeBackend>(
    backend: B,
    settings: NetworkSettings,
    events: mpsc::Sender<BackendEvent>,
) {
    let mut delay = Duration::from_millis(500);
    loop {
        tokio::select! {
            () = events.closed() => return,
            () = tokio::time::sleep(delay) => {}
        }
        let event = match backend.start(settings.clone(), events.clone()).await {
            Ok(info) => BackendEvent::RadioUp(info),
            Err(e @ BackendError::NetworkMismatch(_)) => BackendEvent::RadioDown(e.to_string()),
            Err(e) => {
                tracing::debug!(error = %e, "Zigbee radio still not available");
                delay = (delay * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        let _ = events.send(event).await;
        return;
    }
}

/// The explicit network reset: the radio forgets its network and the host forgets the
/// network parameters and the paired devices, so the next [`start`] forms a new network.
/// Every paired device is orphaned and must be paired again.
pub async fn reset_network<B: ZigbeeBackend>(
    backend: &B,
    config: &ZigbeeBridgeConfig,
) -> Result<(), ZigbeeError> {
    backend.reset_network().await?;
    for path in [&config.network_file, &config.registry_file] {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ZigbeeError::NetworkFile(NetworkFileError::Io {
                    path: path.display().to_string(),
                    source,
                }));
            }
        }
    }
    Ok(())
}

/// Writes registry snapshots off the actor task (file I/O and fsync block): a `watch`
/// keeps only the newest snapshot, so bursts of joins cost one write, not one per change.
struct Persister {
    tx: watch::Sender<Option<Vec<DeviceRecord>>>,
    task: JoinHandle<()>,
}

fn spawn_persister(path: PathBuf) -> Persister {
    let (tx, mut rx) = watch::channel::<Option<Vec<DeviceRecord>>>(None);
    let task = tokio::spawn(async move {
        // Ends when the actor drops the sender, after saving any snapshot not yet saved.
        while rx.changed().await.is_ok() {
            let Some(records) = rx.borrow_and_update().clone() else {
                continue;
            };
            let path = path.clone();
            let saved =
                tokio::task::spawn_blocking(move || registry::save(&path, records.iter())).await;
            match saved {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "device registry not saved"),
                Err(e) => tracing::error!(error = %e, "device registry writer failed"),
            }
        }
    });
    Persister { tx, task }
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
    Discovered {
        nwk: u16,
        ieee: Option<u64>,
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
    /// Unknown short addresses whose IEEE address is being asked.
    discovering: HashSet<u16>,
    persister: Persister,
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
        inbox: BridgeInbox,
        radio: mpsc::Receiver<BackendEvent>,
        internal: mpsc::Receiver<Internal>,
    ) {
        self.serve(inbox, radio, internal).await;
        // Flush the registry before the task ends, so a restart sees the last state.
        let Persister { tx, task } = self.persister;
        drop(tx);
        let _ = task.await;
    }

    async fn serve(
        &mut self,
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

    /// Hands a snapshot of the registry to the persister task (the latest one wins).
    fn persist(&self) {
        let snapshot = self.devices.values().map(|d| d.rec.clone()).collect();
        self.persister.tx.send_replace(Some(snapshot));
    }

    fn drop_device(&mut self, ieee: u64) {
        if let Some(d) = self.devices.remove(&ieee) {
            self.by_nwk.retain(|_, v| *v != ieee);
            tracing::info!(ieee = format_args!("{ieee:016x}"), "Zigbee device removed");
            self.events.emit(BridgeEvent::DeviceLeft(d.rec.id()));
            self.persist();
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
                self.persist();
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
            Internal::Discovered { nwk, ieee } => {
                self.discovering.remove(&nwk);
                if let Some(ieee) = ieee {
                    self.on_join(nwk, ieee);
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
            BackendEvent::DeviceLeft {
                ieee,
                rejoin: false,
                ..
            } => self.drop_device(ieee),
            BackendEvent::DeviceLeft {
                ieee, rejoin: true, ..
            } => {
                tracing::info!(
                    ieee = format_args!("{ieee:016x}"),
                    "device left to rejoin; kept"
                );
            }
            BackendEvent::PermitJoin { seconds } => self.events.emit(BridgeEvent::PermitJoin {
                open: seconds > 0,
                remaining_s: u32::from(seconds),
            }),
            BackendEvent::RadioUp(info) => {
                self.radio_online = true;
                self.coordinator = info.ieee;
                self.events.emit(BridgeEvent::RadioState {
                    online: true,
                    detail: format!("{} channel {}", info.firmware, info.channel),
                });
                self.events.emit(BridgeEvent::RadioInfo(radio_info(&info)));
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
            let moved = d.rec.nwk != nwk;
            d.rec.nwk = nwk;
            self.seen(ieee);
            if moved {
                self.persist();
            }
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
        self.persist();
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
