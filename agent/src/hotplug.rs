//! Bridges for sticks as they come and go (docs/DONGLES.md, "Hot-plug" and "Auto-start
//! policy"): a [`usphub_udev::AutoStart`] over a [`HotplugSource`] (udev's monitor in the
//! daemon, a [`usphub_udev::ChannelSource`] in tests) identifies the sticks present at
//! start-up and those plugged in later; its actions are carried out here.
//!
//! * `Start`: a ZNP or EZSP stick gets a Zigbee bridge, a Z-Wave stick a Z-Wave bridge (with
//!   the state files a configured radio has, beside the database), attached to
//!   the [`Proxy`], which mounts the devices under the instance numbers its registry keeps
//!   for them. A stick seen before (same stable key: by-id link, else USB serial) resumes the
//!   bridge it had instead of getting a second one.
//! * `Stop`: the stick's port is closed and not reopened until the stick is back (through a
//!   [`gate`] in front of the bridge's port, whatever the radio); the bridge reports its
//!   radio offline, so its devices read
//!   `Online=false`. Nothing is deleted and the bridge stays attached, answering
//!   `RadioOffline`, so its devices keep their rows.
//! * `Ignored`: logged (deCONZ sticks, unidentified ports, auto-start off).
//!
//! Ownership: a driver task owns the auto-start state and the event source (identification
//! and probes run there) and hands the actions over a bounded channel, in order, to the
//! supervisor task, which owns the bridges and their port gates; each bridge starts in a task
//! of its own (a radio that does not answer holds its start up to a minute), so one slow
//! stick never holds up another's removal. [`Hotplug::shutdown`] stops both tasks and closes
//! every port they opened.
//!
//! A radio the configuration names (`[zigbee]`, `[zwave]`) is started by [`crate::radios`],
//! never here: its port is marked busy (never probed) and sticks of its kind are left to it,
//! because a second coordinator would share its state files.

mod gate;

use std::collections::HashMap;
use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn};
use usphub_bridges::api::{BridgeHandle, PortAddress, SerialPortSpec};
use usphub_udev::{
    Action, AutoStart, DongleTracker, Firmware, HotplugSource, Identified, ProbeConfig,
};

use self::gate::PortGate;
use crate::config::Config;
use crate::proxy::Proxy;

/// The hot-plug vocabulary, for callers (tests) that have no direct dependency on
/// `usphub-udev`.
pub use usphub_udev::{
    AutoStartConfig, ChannelSource, HotplugEvent, NamedDongle, ProbeMode, Selector, SerialPortInfo,
    SysRoots, UsbInfo,
};

/// Where hot-plug events come from and where sysfs is; the daemon uses udev and `/sys`.
pub struct HotplugOptions {
    /// The event source.
    pub source: Box<dyn HotplugSource>,
    /// sysfs and /dev, for the start-up scan.
    pub roots: SysRoots,
    /// When ports are probed to tell an ambiguous stick's firmware.
    pub probe: ProbeMode,
}

impl HotplugOptions {
    /// Events from `source`, sysfs under `roots`, ambiguous sticks probed.
    pub fn new(source: impl HotplugSource + 'static, roots: SysRoots) -> Self {
        HotplugOptions {
            source: Box::new(source),
            roots,
            probe: ProbeMode::WhenAmbiguous,
        }
    }

    /// udev's netlink monitor on the real `/sys` and `/dev`. Never fails: without a monitor
    /// (no netlink in a sandbox) the source is `None` and only the start-up scan runs.
    pub async fn udev() -> (Option<Box<dyn HotplugSource>>, SysRoots) {
        let roots = SysRoots::default();
        (open_udev(&roots).await, roots)
    }
}

#[cfg(target_os = "linux")]
async fn open_udev(roots: &SysRoots) -> Option<Box<dyn HotplugSource>> {
    use usphub_udev::UdevMonitor;
    // udevd's events come after its rules ran (by-id links exist); without udevd (some
    // containers) the kernel's own events are all there is.
    let udevd = std::path::Path::new("/run/udev/control").exists();
    let first = if udevd {
        UdevMonitor::start(roots.clone()).await
    } else {
        UdevMonitor::start_kernel(roots.clone()).await
    };
    match first {
        Ok(m) => {
            info!(udevd, "following USB serial hot-plug");
            Some(Box::new(m))
        }
        Err(e) => {
            warn!(error = %e, "cannot open the udev monitor; sticks present at start-up only");
            None
        }
    }
}

#[cfg(not(target_os = "linux"))]
async fn open_udev(_roots: &SysRoots) -> Option<Box<dyn HotplugSource>> {
    warn!("no udev on this system; sticks present at start-up only");
    None
}

/// What the hot-plug task has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HotplugStatus {
    /// The start-up scan is done (its actions are counted).
    pub scanned: bool,
    /// Actions carried out: bridges started, resumed or stopped, sticks left alone.
    pub actions: u64,
    /// Stable keys of the sticks a bridge was started (and attached) for, sorted.
    pub bridged: Vec<String>,
    /// Those of them plugged in now.
    pub plugged: Vec<String>,
}

/// The running hot-plug tasks.
pub struct Hotplug {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    status: watch::Receiver<HotplugStatus>,
}

impl Hotplug {
    /// Starts following sticks for `cfg` (`[dongles]`), with bridge state in `state_dir`.
    /// `options` = `None`: udev and the real sysfs.
    pub async fn start(
        proxy: Proxy,
        cfg: &Config,
        state_dir: PathBuf,
        options: Option<HotplugOptions>,
    ) -> Hotplug {
        let (source, roots, probe) = match options {
            Some(o) => (Some(o.source), o.roots, o.probe),
            None => {
                let (source, roots) = HotplugOptions::udev().await;
                (source, roots, ProbeMode::WhenAmbiguous)
            }
        };
        let mut auto = AutoStart::new(
            DongleTracker::new(probe, ProbeConfig::default()),
            cfg.dongles.clone(),
        );
        for path in configured_ports(cfg) {
            auto.mark_busy(path);
        }
        let (status_tx, status) = watch::channel(HotplugStatus::default());
        let (steps_tx, steps) = mpsc::channel(16);
        let driver = tokio::spawn(drive(auto, source, roots, steps_tx));
        let sup = Supervisor {
            proxy,
            state_dir,
            configured: Configured {
                zigbee: cfg.zigbee.is_some(),
                zwave: cfg.zwave.is_some(),
            },
            radios: HashMap::new(),
            starting: JoinSet::new(),
            starting_keys: HashMap::new(),
            status: status_tx,
        };
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(sup.run(steps, driver, stop_rx));
        Hotplug {
            stop: Some(stop_tx),
            task,
            status,
        }
    }

    /// What it has done so far, updated after each action.
    pub fn status(&self) -> watch::Receiver<HotplugStatus> {
        self.status.clone()
    }

    /// Stops following sticks and closes the ports it opened (the bridges stay attached to
    /// the proxy until it stops).
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Err(e) = (&mut self.task).await {
            warn!(error = %e, "hot-plug task ended abnormally");
        }
    }
}

/// The device paths of the radios the configuration names, and what they link to.
fn configured_ports(cfg: &Config) -> Vec<PathBuf> {
    let specs = [
        cfg.zigbee.as_ref().map(|z| z.port.as_str()),
        cfg.zwave.as_ref().map(|z| z.port.as_str()),
    ];
    let mut out = Vec::new();
    for spec in specs.into_iter().flatten() {
        if let Ok(SerialPortSpec {
            address: PortAddress::Device(p),
            ..
        }) = spec.parse::<SerialPortSpec>()
        {
            if let Ok(real) = std::fs::canonicalize(&p) {
                out.push(real);
            }
            out.push(p);
        }
    }
    out
}

/// Which radio kinds the configuration starts itself.
#[derive(Debug, Clone, Copy, Default)]
struct Configured {
    zigbee: bool,
    zwave: bool,
}

impl Configured {
    /// Why a stick of `firmware` is not auto-started, when its kind is configured.
    fn conflict(self, firmware: Firmware) -> Option<&'static str> {
        match firmware {
            Firmware::Znp | Firmware::Ezsp if self.zigbee => {
                Some("[zigbee] is configured: the agent runs that coordinator only")
            }
            Firmware::ZWave if self.zwave => {
                Some("[zwave] is configured: the agent runs that controller only")
            }
            _ => None,
        }
    }
}

/// What the driver hands the supervisor, in order.
enum Step {
    /// An action to carry out (boxed: an identified stick is a few hundred bytes).
    Act(Box<Action>),
    /// The actions of the start-up scan have all been handed over.
    Scanned,
}

/// Identifies the sticks present at start-up, then follows `source`, handing every action to
/// the supervisor. Identification (a probe takes seconds) runs here and bridges start in
/// tasks of their own, so neither holds up the other; the bounded channel makes this task
/// wait, not drop events, when the supervisor is behind.
async fn drive(
    mut auto: AutoStart,
    source: Option<Box<dyn HotplugSource>>,
    roots: SysRoots,
    steps: mpsc::Sender<Step>,
) {
    match auto.scan(&roots).await {
        Ok(actions) => {
            for a in actions {
                if steps.send(Step::Act(Box::new(a))).await.is_err() {
                    return;
                }
            }
        }
        Err(e) => warn!(sys = %roots.sys.display(), error = %e, "cannot list serial ports"),
    }
    if steps.send(Step::Scanned).await.is_err() {
        return;
    }
    let Some(mut source) = source else { return };
    while let Some(a) = auto.next_action(source.as_mut()).await {
        if steps.send(Step::Act(Box::new(a))).await.is_err() {
            return;
        }
    }
    info!("hot-plug events ended; sticks are no longer followed");
}

/// A bridge started (or starting) for a stick.
struct Radio {
    firmware: Firmware,
    port: SerialPortSpec,
    /// The bridge once started and attached; held for the proxy's mounts and for resumption.
    handle: Option<BridgeHandle>,
    /// The switch that closes the port on removal and reopens it on return.
    gate: PortGate,
    /// Its stick is plugged in.
    plugged: bool,
}

/// A bridge start finished: the stick's key and the attached bridge, or why not.
type Started = (String, Result<BridgeHandle, String>);

/// Carries out auto-start actions; owns the bridges it started.
struct Supervisor {
    proxy: Proxy,
    state_dir: PathBuf,
    configured: Configured,
    radios: HashMap<String, Radio>,
    /// Bridges starting (a radio that does not answer holds its start up to a minute).
    starting: JoinSet<Started>,
    starting_keys: HashMap<tokio::task::Id, String>,
    status: watch::Sender<HotplugStatus>,
}

impl Supervisor {
    async fn run(
        mut self,
        mut steps: mpsc::Receiver<Step>,
        driver: JoinHandle<()>,
        mut stop: oneshot::Receiver<()>,
    ) {
        let mut following = true;
        loop {
            tokio::select! {
                // Also when the Hotplug was dropped without a shutdown.
                _ = &mut stop => break,
                step = steps.recv(), if following => match step {
                    Some(Step::Act(a)) => self.act(*a),
                    Some(Step::Scanned) => self.status.send_modify(|s| s.scanned = true),
                    None => following = false,
                },
                Some(done) = self.starting.join_next_with_id(), if !self.starting.is_empty() => {
                    self.started(done);
                }
            }
        }
        driver.abort();
        self.starting.abort_all();
        self.close();
    }

    /// Closes every port this task opened.
    fn close(self) {
        for r in self.radios.values() {
            r.gate.unplug();
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Start {
                key,
                firmware,
                port,
                stick,
            } => self.start(key, firmware, port, &stick),
            Action::Stop { key, stick } => self.stop(&key, &stick),
            Action::Ignored { stick, reason } => log_ignored(&stick, reason),
        }
        self.publish(true);
    }

    fn start(&mut self, key: String, firmware: Firmware, port: SerialPortSpec, stick: &Identified) {
        let product = stick.product.unwrap_or("unknown stick");
        if let Some(why) = self.configured.conflict(firmware) {
            info!(path = %stick.path, product, firmware = firmware.as_str(), "stick not auto-started: {why}");
            return;
        }
        if let Some(r) = self.radios.get_mut(&key) {
            r.gate.plug(port.clone());
            r.port = port;
            r.plugged = true;
            info!(%key, firmware = r.firmware.as_str(), "stick back: its bridge resumes");
            return;
        }
        let gate = PortGate::new(port.clone());
        let job = StartJob {
            firmware,
            port: port.clone(),
            gate: gate.clone(),
            state_dir: self.state_dir.clone(),
            proxy: self.proxy.clone(),
        };
        info!(%key, %port, product, firmware = firmware.as_str(), "starting a bridge for a plugged stick");
        let task_key = key.clone();
        let task = self
            .starting
            .spawn(async move { (task_key, job.run().await) });
        self.starting_keys.insert(task.id(), key.clone());
        self.radios.insert(
            key,
            Radio {
                firmware,
                port,
                handle: None,
                gate,
                plugged: true,
            },
        );
    }

    fn started(&mut self, done: Result<(tokio::task::Id, Started), tokio::task::JoinError>) {
        let (key, result) = match done {
            Ok((id, started)) => {
                self.starting_keys.remove(&id);
                started
            }
            Err(e) => {
                let key = self.starting_keys.remove(&e.id()).unwrap_or_default();
                (key, Err(format!("start task failed: {e}")))
            }
        };
        match result {
            Ok(handle) => {
                if let Some(r) = self.radios.get_mut(&key) {
                    info!(%key, port = %r.port, "bridge started and attached");
                    r.handle = Some(handle);
                }
            }
            Err(e) => {
                // Forgotten, so that plugging the stick in again tries again.
                warn!(%key, error = %e, "bridge not started");
                if let Some(r) = self.radios.remove(&key) {
                    r.gate.unplug();
                }
            }
        }
        self.publish(false);
    }

    fn stop(&mut self, key: &str, stick: &Identified) {
        let Some(r) = self.radios.get_mut(key) else {
            debug!(%key, "removed stick had no bridge of this task");
            return;
        };
        r.gate.unplug();
        r.plugged = false;
        info!(
            %key, path = %stick.path, firmware = r.firmware.as_str(),
            "stick removed: bridge stopped, its devices stay (offline) until it returns"
        );
    }

    /// Publishes the status; `action` counts one more action carried out.
    fn publish(&self, action: bool) {
        let keys = |plugged_only: bool| {
            let mut k: Vec<String> = self
                .radios
                .iter()
                .filter(|(_, r)| r.handle.is_some() && (r.plugged || !plugged_only))
                .map(|(k, _)| k.clone())
                .collect();
            k.sort();
            k
        };
        let (bridged, plugged) = (keys(false), keys(true));
        self.status.send_modify(|s| {
            s.actions += u64::from(action);
            s.bridged = bridged;
            s.plugged = plugged;
        });
    }
}

/// Starting one bridge, off the supervisor's task.
struct StartJob {
    firmware: Firmware,
    port: SerialPortSpec,
    gate: PortGate,
    state_dir: PathBuf,
    proxy: Proxy,
}

impl StartJob {
    /// Starts the bridge and attaches it to the proxy.
    async fn run(self) -> Result<BridgeHandle, String> {
        use usphub_bridges::zigbee::{ezsp, znp};
        let gate = &self.gate;
        let handle = match self.firmware {
            Firmware::Ezsp => {
                let backend = ezsp::backend::EzspBackend::new(
                    gate.connector(),
                    ezsp::backend::EzspBackendConfig::default(),
                );
                self.zigbee_bridge(backend).await?
            }
            Firmware::Znp => {
                let backend = znp::backend::ZnpBackend::new(
                    gate.connector(),
                    znp::backend::ZnpBackendConfig::default(),
                );
                self.zigbee_bridge(backend).await?
            }
            Firmware::ZWave => self.zwave_bridge(gate)?,
            f => return Err(format!("no bridge for {} sticks", f.as_str())),
        };
        self.proxy
            .attach(handle.clone())
            .await
            .map_err(|e| format!("not attached: {e}"))?;
        Ok(handle)
    }

    /// A Zigbee bridge whose network and device files are those of a configured `[zigbee]`
    /// coordinator (`zigbee/` beside the database).
    async fn zigbee_bridge<B: usphub_bridges::zigbee::backend::ZigbeeBackend>(
        &self,
        backend: B,
    ) -> Result<BridgeHandle, String> {
        use usphub_bridges::zigbee::bridge;
        let dir = self.state_dir.join("zigbee");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // The actor task runs until the last handle is dropped.
        let (handle, _task) = bridge::start(backend, bridge::ZigbeeBridgeConfig::new(&dir))
            .await
            .map_err(|e| e.to_string())?;
        Ok(handle)
    }

    /// A Z-Wave bridge with the agent's S0 key (generated and kept on first use), its node
    /// registry beside the database as for a configured `[zwave]` stick.
    fn zwave_bridge(&self, gate: &PortGate) -> Result<BridgeHandle, String> {
        let key =
            crate::radios::zwave_network_key(None, &self.state_dir).map_err(|e| e.to_string())?;
        let cfg = crate::radios::zwave_config(self.port.clone(), &self.state_dir, Some(key));
        usphub_bridges::zwave::bridge::spawn_with(cfg, gate.zwave_connector())
            .map_err(|e| e.to_string())
    }
}

fn log_ignored(stick: &Identified, reason: &str) {
    let product = stick.product.unwrap_or("unknown stick");
    info!(path = %stick.path, product, firmware = stick.firmware.as_str(), "stick not started: {reason}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_radio_kinds_are_not_auto_started() {
        let none = Configured::default();
        assert_eq!(none.conflict(Firmware::Znp), None);
        assert_eq!(none.conflict(Firmware::ZWave), None);
        let zigbee = Configured {
            zigbee: true,
            zwave: false,
        };
        assert!(zigbee.conflict(Firmware::Znp).is_some());
        assert!(zigbee.conflict(Firmware::Ezsp).is_some());
        assert_eq!(zigbee.conflict(Firmware::ZWave), None);
        let zwave = Configured {
            zigbee: false,
            zwave: true,
        };
        assert!(zwave.conflict(Firmware::ZWave).is_some());
        assert_eq!(zwave.conflict(Firmware::Znp), None);
    }

    #[test]
    fn configured_ports_include_the_link_and_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("ttyUSB0");
        std::fs::write(&target, b"").unwrap();
        let link = dir.path().join("usb-ITead_Sonoff-if00-port0");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let cfg = Config::parse(&format!(
            "[zwave]\nport = \"{}\"\n[zigbee]\nport = \"tcp://127.0.0.1:6638\"\n",
            link.display()
        ))
        .unwrap();
        let ports = configured_ports(&cfg);
        assert!(ports.contains(&link), "{ports:?}");
        assert!(
            ports.contains(&std::fs::canonicalize(&target).unwrap()),
            "{ports:?}"
        );
        assert_eq!(ports.len(), 2, "a tcp:// port has no device path");
    }
}
