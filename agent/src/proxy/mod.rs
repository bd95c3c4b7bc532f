//! The glue between the bridges and the data model (TR-369 Appendix "IoT Data Model
//! Theory of Operation"): every `DeviceDescriptor` a bridge reports is mounted as
//! `Device.ProxiedDevice.{i}.` under a stable instance number; `BridgeEvent`s become
//! values, Online flags, events and unmounts; Controller writes and commands go back to
//! the bridge through the mounted device's provider.
//!
//! One task per bridge owns that bridge's event stream; the registry (stable numbers) is
//! shared between them behind a mutex that is never held across an `.await`.

pub mod mount;
pub mod provider;
pub mod registry;
pub mod schema;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};
use usp_datamodel::{
    Args, BoxFuture, CommandCall, DataModel, DmError, ErrorKind, InitValue, Provider, Unmount,
};
use usphub_bridges::api::{BridgeEvent, BridgeHandle, Capability, DeviceDescriptor, DeviceId};

use mount::{CapPath, device_subtree, now};
use provider::DeviceProvider;
use registry::Registry;

/// A mounted device as the glue tracks it.
struct Mounted {
    row: String,
    caps: HashMap<String, CapPath>,
    provider_caps: Arc<RwLock<HashMap<String, Capability>>>,
    provider_commands: Arc<RwLock<Vec<String>>>,
}

/// Mounts the devices of one or more bridges and keeps them current.
#[derive(Clone)]
pub struct Proxy {
    dm: DataModel,
    registry: Arc<Mutex<Registry>>,
    mounted: Arc<Mutex<HashMap<DeviceId, Mounted>>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    /// A proxy over `dm` (whose schema includes [`schema::declare`]).
    pub fn new(dm: DataModel) -> Proxy {
        let registry = Registry::load(dm.store());
        Proxy {
            dm,
            registry: Arc::new(Mutex::new(registry)),
            mounted: Arc::new(Mutex::new(HashMap::new())),
            tasks: Arc::new(Mutex::new(Vec::new())),
            stopping: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Starts serving one bridge: a `Device.X_USPHUB_Bridge.{i}.` row for pairing, the
    /// devices it already knows, then its events until the bridge stops.
    pub async fn attach(&self, handle: BridgeHandle) -> Result<(), DmError> {
        let events = handle.subscribe();
        let bridge_row = self
            .dm
            .mount(
                schema::BRIDGE_TABLE,
                None,
                usp_datamodel::Subtree::new()
                    .param_str("Protocol", handle.protocol().as_str())
                    .param_str("Status", "Up")
                    .provider(Arc::new(BridgeProvider {
                        handle: handle.clone(),
                    })),
            )
            .await?;
        // A radio that came up before the proxy subscribed already said what it is.
        if let Some(info) = handle.status().info {
            self.radio_info(&bridge_row, &info).await;
        }
        let this = self.clone();
        let mut stopping = self.stopping.subscribe();
        let task = tokio::spawn(async move {
            let listed = tokio::select! {
                _ = stopping.wait_for(|s| *s) => return,
                listed = handle.devices() => listed,
            };
            match listed {
                Ok(devices) => {
                    for d in devices {
                        if *stopping.borrow() {
                            return;
                        }
                        this.joined(&handle, d).await;
                    }
                }
                Err(e) => warn!(error = %e, "bridge did not list its devices"),
            }
            this.count_devices(&handle, &bridge_row).await;
            this.run(handle, events, bridge_row).await;
        });
        if let Ok(mut t) = self.tasks.lock() {
            t.push(task);
        }
        Ok(())
    }

    /// Stops following every bridge (the agent is shutting down) and waits until the
    /// tasks are gone, so nothing holds the data model (and its database) any more.
    pub async fn stop(&self) {
        self.stopping.send_replace(true);
        let tasks: Vec<JoinHandle<()>> = match self.tasks.lock() {
            Ok(mut t) => t.drain(..).collect(),
            Err(_) => return,
        };
        for mut task in tasks {
            if tokio::time::timeout(std::time::Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                warn!("a bridge task did not stop in 5 s; aborting it");
                task.abort();
                let _ = task.await;
            }
        }
    }

    async fn run(
        &self,
        handle: BridgeHandle,
        mut events: tokio::sync::broadcast::Receiver<BridgeEvent>,
        bridge_row: String,
    ) {
        let mut stopping = self.stopping.subscribe();
        loop {
            // Stop only between events: an event half-applied could leave a commit running.
            let next = tokio::select! {
                _ = stopping.wait_for(|s| *s) => return,
                next = events.recv() => next,
            };
            match next {
                Ok(ev) => self.on_event(&handle, ev, &bridge_row).await,
                Err(RecvError::Lagged(n)) => {
                    // Values were missed: re-read the devices so the model is current again.
                    warn!(missed = n, "bridge events lagged; resynchronising");
                    if let Ok(devices) = handle.devices().await {
                        for d in devices {
                            self.joined(&handle, d).await;
                        }
                    }
                }
                Err(RecvError::Closed) => break,
            }
        }
        self.set(&format!("{bridge_row}Status"), "Down").await;
        info!(protocol = handle.protocol().as_str(), "bridge stopped");
    }

    /// `DeviceCount` of a bridge row: the mounted devices of its protocol.
    async fn count_devices(&self, handle: &BridgeHandle, bridge_row: &str) {
        let n = self.mounted.lock().map_or(0, |m| {
            m.keys()
                .filter(|id| id.protocol() == *handle.protocol())
                .count()
        });
        self.set(&format!("{bridge_row}DeviceCount"), &n.to_string())
            .await;
    }

    /// The bridge row's radio parameters (absent ones are left empty).
    async fn radio_info(&self, bridge_row: &str, info: &usphub_bridges::api::RadioInfo) {
        let hex =
            |v: Option<u64>, width: usize| v.map(|v| format!("{v:0width$X}")).unwrap_or_default();
        let values = vec![
            ("Firmware", info.firmware.clone()),
            ("Address", info.address.clone()),
            (
                "Channel",
                info.channel.map(|c| c.to_string()).unwrap_or("0".into()),
            ),
            ("PANId", hex(info.pan_id.map(u64::from), 4)),
            ("ExtendedPANId", hex(info.extended_pan_id, 16)),
            ("HomeId", hex(info.home_id.map(u64::from), 8)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), InitValue::from(v)))
        .collect();
        if let Err(e) = self.dm.set_values(bridge_row, values).await {
            warn!(row = %bridge_row, error = %e, "radio parameters not updated");
        }
    }

    async fn on_event(&self, handle: &BridgeHandle, ev: BridgeEvent, bridge_row: &str) {
        match ev {
            BridgeEvent::DeviceJoined(d) | BridgeEvent::DeviceUpdated(d) => {
                self.joined(handle, d).await;
                self.count_devices(handle, bridge_row).await;
            }
            BridgeEvent::DeviceLeft(id) => {
                self.left(&id).await;
                self.count_devices(handle, bridge_row).await;
            }
            BridgeEvent::RadioInfo(info) => self.radio_info(bridge_row, &info).await,
            BridgeEvent::Online { id, online } => {
                if let Some(row) = self.row_of(&id) {
                    self.set(
                        &format!("{row}Online"),
                        if online { "true" } else { "false" },
                    )
                    .await;
                }
            }
            BridgeEvent::Value {
                id,
                capability,
                value,
                ..
            } => {
                let Some((row, path)) = self.cap_path(&id, capability.as_str()) else {
                    debug!(device = %id, capability = %capability, "value for an unmounted capability");
                    return;
                };
                let obj = format!("{row}{}", path.object());
                let value_name = if path.class == "MultiLevelSensor" {
                    "Values"
                } else {
                    "Value"
                };
                let t = now();
                let mut values: Vec<(String, InitValue)> =
                    vec![(value_name.into(), value.to_tr181_string().into())];
                if !path.class.ends_with("Control") {
                    values.push(("LastChange".into(), t.clone().into()));
                    values.push(("LastContactTime".into(), t.clone().into()));
                }
                if let Err(e) = self.dm.set_values(&obj, values).await {
                    warn!(device = %id, error = %e, "value not applied");
                }
                self.set(&format!("{row}LastTimeContacted"), &t).await;
                self.set(&format!("{row}Online"), "true").await;
                self.remember(&id, &path, value);
            }
            BridgeEvent::Event {
                id,
                capability,
                name,
                args,
                ..
            } => {
                let Some(row) = self.row_of(&id) else { return };
                let mut a = Args::new();
                a.insert("Name".into(), name);
                a.insert(
                    "Capability".into(),
                    capability.map(|c| c.to_string()).unwrap_or_default(),
                );
                a.insert(
                    "Arguments".into(),
                    serde_json::to_string(&args).unwrap_or_default(),
                );
                if let Err(e) = self.dm.emit_event(&row, "X_USPHUB_Event!", a) {
                    warn!(device = %id, error = %e, "event not emitted");
                }
            }
            BridgeEvent::RadioState { online, detail } => {
                self.set(
                    &format!("{bridge_row}Status"),
                    if online { "Up" } else { "Down" },
                )
                .await;
                self.set(&format!("{bridge_row}StatusDetail"), &detail)
                    .await;
                // Without its radio no device of this bridge can be reached; when the
                // radio returns they count as reachable again until the bridge's own
                // availability tracking says otherwise.
                let rows: Vec<String> = self
                    .mounted
                    .lock()
                    .map(|m| {
                        m.iter()
                            .filter(|(id, _)| id.protocol() == *handle.protocol())
                            .map(|(_, d)| d.row.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                let flag = if online { "true" } else { "false" };
                for row in rows {
                    self.set(&format!("{row}Online"), flag).await;
                }
            }
            BridgeEvent::PermitJoin { remaining_s, .. } => {
                self.set(
                    &format!("{bridge_row}PermitJoinRemaining"),
                    &remaining_s.to_string(),
                )
                .await;
            }
        }
    }

    /// Mounts (or re-mounts, after a re-interview) a device under its stable number.
    async fn joined(&self, handle: &BridgeHandle, d: DeviceDescriptor) {
        let key = d.id.to_string();
        let mut entry = self.lock_registry().get(&key).cloned().unwrap_or_default();
        if self.updated_in_place(&d, &mut entry).await {
            let pending = self.lock_registry().put(&key, entry);
            Registry::persist(pending).await;
            return;
        }
        let known = entry.instance != 0;
        let (subtree, caps) = device_subtree(&d, &mut entry);
        if let Some(old) = self.mounted_take(&d.id)
            && let Err(e) = self.dm.unmount(&old.row, Unmount::Retain).await
        {
            warn!(device = %key, error = %e, "old mount not removed");
        }
        let provider_caps = Arc::new(RwLock::new(DeviceProvider::table(&caps)));
        let provider_commands = Arc::new(RwLock::new(DeviceProvider::commands(&d)));
        // The provider is part of the mount, so no Set can reach the row before it.
        let provider = Arc::new(DeviceProvider {
            handle: handle.clone(),
            device: d.id,
            caps: provider_caps.clone(),
            commands: provider_commands.clone(),
        });
        let instance = known.then_some(entry.instance);
        let row = match self
            .dm
            .mount(schema::TABLE, instance, subtree.provider(provider))
            .await
        {
            Ok(row) => row,
            Err(e) => {
                warn!(device = %key, error = %e, "device not mounted");
                return;
            }
        };
        if !known {
            // A new device: record the number the table chose.
            entry.instance = instance_number(&row).unwrap_or(0);
        }
        let pending = self.lock_registry().put(&key, entry);
        Registry::persist(pending).await;
        info!(device = %key, row = %row, "device mounted");
        let caps = caps.into_iter().map(|(k, (p, _))| (k, p)).collect();
        if let Ok(mut m) = self.mounted.lock() {
            m.insert(
                d.id,
                Mounted {
                    row,
                    caps,
                    provider_caps,
                    provider_commands,
                },
            );
        }
    }

    /// Applies a new descriptor of a mounted device by difference (a re-interview adds,
    /// removes or changes capabilities): unchanged rows stay, so Controllers see
    /// ObjectCreation/ObjectDeletion only for what really appeared or went. Returns false
    /// when the device is not mounted or its Nodes changed (then it is mounted afresh).
    async fn updated_in_place(&self, d: &DeviceDescriptor, entry: &mut registry::Entry) -> bool {
        let Some((row, old_caps, provider_caps, provider_commands)) =
            self.mounted.lock().ok().and_then(|m| {
                m.get(&d.id).map(|x| {
                    (
                        x.row.clone(),
                        x.caps.clone(),
                        x.provider_caps.clone(),
                        x.provider_commands.clone(),
                    )
                })
            })
        else {
            return false;
        };
        let old_nodes: std::collections::BTreeSet<&String> = entry.nodes.keys().collect();
        let new_nodes: std::collections::BTreeSet<&String> =
            d.nodes.iter().map(|n| &n.key).collect();
        if old_nodes != new_nodes {
            return false;
        }
        let (_, caps) = device_subtree(d, entry);
        for (id, path) in &old_caps {
            if caps.get(id).map(|(p, _)| p) != Some(path)
                && let Err(e) = self.dm.delete_instance(&format!("{row}{}", path.row)).await
            {
                warn!(device = %d.id, error = %e, "capability not removed");
            }
        }
        for (id, (path, cap)) in &caps {
            let full = format!("{row}{}", path.row);
            if old_caps.get(id) == Some(path) {
                if let Some(v) = &cap.value {
                    let name = if path.class == "MultiLevelSensor" {
                        "Values"
                    } else {
                        "Value"
                    };
                    self.set(
                        &format!("{full}{}.{name}", path.class),
                        &v.to_tr181_string(),
                    )
                    .await;
                }
                continue;
            }
            let (table, n) = match full.trim_end_matches('.').rsplit_once('.') {
                Some((t, n)) => (format!("{t}."), n.parse().ok()),
                None => continue,
            };
            if let Err(e) = self
                .dm
                .mount(&table, n, mount::capability_subtree(cap))
                .await
            {
                warn!(device = %d.id, error = %e, "capability not mounted");
            }
        }
        let values = mount::device_params(d)
            .into_iter()
            .map(|(k, v)| (k.to_string(), InitValue::from(v)))
            .collect();
        if let Err(e) = self.dm.set_values(&row, values).await {
            warn!(device = %d.id, error = %e, "device parameters not updated");
        }
        if let Ok(mut t) = provider_caps.write() {
            *t = DeviceProvider::table(&caps);
        }
        if let Ok(mut c) = provider_commands.write() {
            *c = DeviceProvider::commands(d);
        }
        if let Ok(mut m) = self.mounted.lock()
            && let Some(x) = m.get_mut(&d.id)
        {
            x.caps = caps.into_iter().map(|(k, (p, _))| (k, p)).collect();
        }
        debug!(device = %d.id, row = %row, "device updated");
        true
    }

    /// Unmounts a device that left the network; its numbers are kept for its return.
    async fn left(&self, id: &DeviceId) {
        if let Some(old) = self.mounted_take(id) {
            if let Err(e) = self.dm.unmount(&old.row, Unmount::Retain).await {
                warn!(device = %id, error = %e, "device not unmounted");
            }
            info!(device = %id, row = %old.row, "device unmounted");
        }
    }

    fn lock_registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while holding the registry lock cannot leave it half-written (every
        // write is one map insert), so a poisoned lock is still usable.
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn mounted_take(&self, id: &DeviceId) -> Option<Mounted> {
        self.mounted.lock().ok()?.remove(id)
    }

    fn row_of(&self, id: &DeviceId) -> Option<String> {
        Some(self.mounted.lock().ok()?.get(id)?.row.clone())
    }

    fn cap_path(&self, id: &DeviceId, cap: &str) -> Option<(String, CapPath)> {
        let m = self.mounted.lock().ok()?;
        let d = m.get(id)?;
        Some((d.row.clone(), d.caps.get(cap)?.clone()))
    }

    fn remember(&self, id: &DeviceId, path: &CapPath, value: usphub_bridges::api::Value) {
        let Ok(m) = self.mounted.lock() else { return };
        if let Some(d) = m.get(id)
            && let Ok(mut caps) = d.provider_caps.write()
            && let Some(c) = caps.get_mut(&path.object())
        {
            c.value = Some(value);
        }
    }

    async fn set(&self, path: &str, value: &str) {
        if let Err(e) = self.dm.set_value(path, value).await {
            debug!(path, error = %e, "value not set");
        }
    }
}

fn instance_number(row: &str) -> Option<u32> {
    row.strip_prefix(schema::TABLE)?
        .trim_end_matches('.')
        .parse()
        .ok()
}

/// `Device.X_USPHUB_Bridge.{i}.PermitJoin()`: opens the network for pairing.
struct BridgeProvider {
    handle: BridgeHandle,
}

impl Provider for BridgeProvider {
    fn operate(&self, call: CommandCall) -> BoxFuture<Result<Args, DmError>> {
        let handle = self.handle.clone();
        Box::pin(async move {
            let path = format!("{}{}", call.obj_path, call.command);
            if call.command != "PermitJoin()" {
                return Err(DmError::new(
                    ErrorKind::CommandFailure,
                    &path,
                    "unknown command",
                ));
            }
            let secs: u64 = call
                .input
                .get("Duration")
                .and_then(|d| d.parse().ok())
                .unwrap_or(60);
            handle
                .permit_join(std::time::Duration::from_secs(secs))
                .await
                .map_err(|e| DmError::new(ErrorKind::CommandFailure, &path, e.to_string()))?;
            Ok(Args::new())
        })
    }
}
