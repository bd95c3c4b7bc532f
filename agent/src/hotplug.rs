//! Bridges for sticks as they come and go (docs/DONGLES.md, "Hot-plug" and "Auto-start
//! policy"): a task owns a [`usphub_udev::AutoStart`] over a [`HotplugSource`] (udev's monitor
//! in the daemon, a [`usphub_udev::ChannelSource`] in tests), identifies the sticks present
//! at start-up, and carries out its actions.
//!
//! * `Start`: a ZNP or EZSP stick gets a Zigbee bridge, a Z-Wave stick a Z-Wave bridge (with
//!   the state files a configured radio has, beside the database), attached to
//!   the [`Proxy`], which mounts the devices under the instance numbers its registry keeps
//!   for them. A stick seen before (same stable key: by-id link, else USB serial) resumes the
//!   bridge it had instead of getting a second one.
//! * `Stop`: the stick's port is closed and not reopened until the stick is back; the bridge
//!   reports its radio offline, so its devices read `Online=false`. Nothing is deleted and
//!   the bridge stays attached, answering `RadioOffline`, so its devices keep their rows.
//! * `Ignored`: logged (deCONZ sticks, unidentified ports, auto-start off).
//!
//! Ownership: one task owns the auto-start state, the bridges it started and their port
//! gates; [`Hotplug::shutdown`] stops it and closes every port it opened. A radio the
//! configuration names (`[zigbee]`, `[zwave]`) is started by [`crate::radios`], never here:
//! its port is marked busy (never probed) and sticks of its kind are left to it, because a
//! second coordinator would share its state files.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};
use usphub_bridges::api::{AsyncPort, BridgeHandle, PortAddress, SerialPortSpec, open_port};
use usphub_udev::{
    Action, AutoStart, DongleTracker, Firmware, HotplugSource, Identified, ProbeConfig,
};

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
    let udevd = Path::new("/run/udev/control").exists();
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
    /// Stable keys of the sticks a bridge was started for, sorted.
    pub bridged: Vec<String>,
    /// Those of them plugged in now.
    pub plugged: Vec<String>,
}

/// The running hot-plug task.
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
        let sup = Supervisor {
            proxy,
            state_dir,
            configured: Configured {
                zigbee: cfg.zigbee.is_some(),
                zwave: cfg.zwave.is_some(),
            },
            radios: HashMap::new(),
            status: status_tx,
        };
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(sup.run(auto, source, roots, stop_rx));
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

/// A bridge started for a stick.
struct Radio {
    firmware: Firmware,
    port: SerialPortSpec,
    /// Holds the bridge (and its radio task) for the proxy's mounts; kept for resumption.
    _handle: BridgeHandle,
    /// ZNP sticks: the switch that closes the port on removal and reopens it on return.
    gate: Option<PortGate>,
    /// Its stick is plugged in.
    plugged: bool,
}

/// Carries out auto-start actions; owns the bridges it started.
struct Supervisor {
    proxy: Proxy,
    state_dir: PathBuf,
    configured: Configured,
    radios: HashMap<String, Radio>,
    status: watch::Sender<HotplugStatus>,
}

impl Supervisor {
    async fn run(
        mut self,
        mut auto: AutoStart,
        mut source: Option<Box<dyn HotplugSource>>,
        roots: SysRoots,
        mut stop: oneshot::Receiver<()>,
    ) {
        let scan = tokio::select! {
            _ = &mut stop => return self.close(),
            scan = auto.scan(&roots) => scan,
        };
        match scan {
            Ok(actions) => {
                for a in actions {
                    self.act(a).await;
                }
            }
            Err(e) => warn!(sys = %roots.sys.display(), error = %e, "cannot list serial ports"),
        }
        self.status.send_modify(|s| s.scanned = true);
        loop {
            let next = match source.as_deref_mut() {
                Some(src) => tokio::select! {
                    _ = &mut stop => break,
                    next = auto.next_action(src) => next,
                },
                None => {
                    let _ = (&mut stop).await;
                    break;
                }
            };
            match next {
                Some(a) => self.act(a).await,
                None => {
                    info!("hot-plug events ended; sticks are no longer followed");
                    source = None;
                }
            }
        }
        self.close();
    }

    /// Closes every port this task opened.
    fn close(self) {
        for r in self.radios.values() {
            if let Some(g) = &r.gate {
                g.unplug();
            }
        }
    }

    async fn act(&mut self, action: Action) {
        match action {
            Action::Start {
                key,
                firmware,
                port,
                stick,
            } => self.start(key, firmware, port, &stick).await,
            Action::Stop { key, stick } => self.stop(&key, &stick),
            Action::Ignored { stick, reason } => log_ignored(&stick, reason),
        }
        self.publish();
    }

    async fn start(
        &mut self,
        key: String,
        firmware: Firmware,
        port: SerialPortSpec,
        stick: &Identified,
    ) {
        let product = stick.product.unwrap_or("unknown stick");
        if let Some(why) = self.configured.conflict(firmware) {
            info!(path = %stick.path, product, firmware = firmware.as_str(), "stick not auto-started: {why}");
            return;
        }
        if let Some(r) = self.radios.get_mut(&key) {
            match &r.gate {
                Some(g) => g.plug(port.clone()),
                None if r.port != port => warn!(
                    was = %r.port, now = %port,
                    "stick came back on another port; its bridge keeps reopening the old one"
                ),
                None => {}
            }
            r.port = port;
            r.plugged = true;
            info!(%key, firmware = r.firmware.as_str(), "stick back: its bridge resumes");
            return;
        }
        let started = match firmware {
            Firmware::Znp | Firmware::Ezsp => self.start_zigbee(firmware, &port).await,
            Firmware::ZWave => self.start_zwave(&port),
            Firmware::Deconz | Firmware::Unknown => Err("no bridge for this firmware".into()),
        };
        let (handle, gate) = match started {
            Ok(x) => x,
            Err(e) => {
                warn!(path = %stick.path, product, firmware = firmware.as_str(), error = %e, "bridge not started");
                return;
            }
        };
        if let Err(e) = self.proxy.attach(handle.clone()).await {
            warn!(%key, error = %e, "bridge started but not attached");
        }
        info!(%key, %port, product, firmware = firmware.as_str(), "bridge started for a plugged stick");
        self.radios.insert(
            key,
            Radio {
                firmware,
                port,
                _handle: handle,
                gate,
                plugged: true,
            },
        );
    }

    /// A Zigbee bridge over the ZNP or EZSP backend whose port goes through a [`PortGate`];
    /// its network and device files are those of a configured `[zigbee]` coordinator.
    async fn start_zigbee(
        &self,
        firmware: Firmware,
        port: &SerialPortSpec,
    ) -> Result<(BridgeHandle, Option<PortGate>), String> {
        use usphub_bridges::zigbee::{ezsp, znp};
        let gate = PortGate::new(port.clone());
        let handle = if firmware == Firmware::Ezsp {
            let backend = ezsp::backend::EzspBackend::new(
                gate.connector(),
                ezsp::backend::EzspBackendConfig::default(),
            );
            self.zigbee_bridge(backend).await?
        } else {
            let backend = znp::backend::ZnpBackend::new(
                gate.connector(),
                znp::backend::ZnpBackendConfig::default(),
            );
            self.zigbee_bridge(backend).await?
        };
        Ok((handle, Some(gate)))
    }

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
    fn start_zwave(
        &self,
        port: &SerialPortSpec,
    ) -> Result<(BridgeHandle, Option<PortGate>), String> {
        let key =
            crate::radios::zwave_network_key(None, &self.state_dir).map_err(|e| e.to_string())?;
        let handle = crate::radios::zwave_bridge(port.clone(), &self.state_dir, Some(key))
            .map_err(|e| e.to_string())?;
        Ok((handle, None))
    }

    fn stop(&mut self, key: &str, stick: &Identified) {
        let Some(r) = self.radios.get_mut(key) else {
            debug!(%key, "removed stick had no bridge of this task");
            return;
        };
        match &r.gate {
            Some(g) => g.unplug(),
            // The Z-Wave bridge opens its port itself: the unplugged device fails its reads
            // and the bridge retries until the stick is back.
            None => debug!(%key, "bridge follows the port loss itself"),
        }
        r.plugged = false;
        info!(
            %key, path = %stick.path, firmware = r.firmware.as_str(),
            "stick removed: bridge stopped, its devices stay (offline) until it returns"
        );
    }

    fn publish(&self) {
        let keys = |plugged_only: bool| {
            let mut k: Vec<String> = self
                .radios
                .iter()
                .filter(|(_, r)| r.plugged || !plugged_only)
                .map(|(k, _)| k.clone())
                .collect();
            k.sort();
            k
        };
        let (bridged, plugged) = (keys(false), keys(true));
        self.status.send_modify(|s| {
            s.actions += 1;
            s.bridged = bridged;
            s.plugged = plugged;
        });
    }
}

fn log_ignored(stick: &Identified, reason: &str) {
    let product = stick.product.unwrap_or("unknown stick");
    info!(path = %stick.path, product, firmware = stick.firmware.as_str(), "stick not started: {reason}");
}

/// Whether a stick is present, and which plug-in session: each plug and unplug starts a new
/// one, and a port opened in one session fails as soon as the session ends.
#[derive(Debug, Clone)]
struct GateState {
    spec: Option<SerialPortSpec>,
    session: u64,
}

/// The on/off switch in front of a hot-plugged stick's port. The ZNP link reopens its port
/// after a loss on its own back-off; through the gate, a removed stick's port is closed at
/// once (a stick that vanished may not fail its reads, e.g. behind a PTY or USB hub) and not
/// reopened until the stick is plugged again.
#[derive(Debug, Clone)]
struct PortGate {
    tx: Arc<watch::Sender<GateState>>,
}

impl PortGate {
    fn new(spec: SerialPortSpec) -> PortGate {
        let (tx, _) = watch::channel(GateState {
            spec: Some(spec),
            session: 0,
        });
        PortGate { tx: Arc::new(tx) }
    }

    fn plug(&self, spec: SerialPortSpec) {
        self.tx.send_modify(|s| {
            s.spec = Some(spec);
            s.session += 1;
        });
    }

    fn unplug(&self) {
        self.tx.send_modify(|s| {
            s.spec = None;
            s.session += 1;
        });
    }

    /// A ZNP link connector that opens the stick's current port, or fails at once while it
    /// is unplugged.
    fn connector(&self) -> usphub_bridges::zigbee::znp::link::Connector {
        let tx = self.tx.clone();
        Arc::new(move || {
            let tx = tx.clone();
            Box::pin(async move {
                let state = tx.borrow().clone();
                let spec = state.spec.ok_or_else(|| "stick unplugged".to_string())?;
                let io = open_port(&spec).await.map_err(|e| e.to_string())?;
                let mut rx = tx.subscribe();
                let ended: SessionEnd = Box::pin(async move {
                    // Err: the gate is gone, which ends the session too.
                    let _ = rx.wait_for(|s| s.session != state.session).await;
                });
                Ok(Box::new(GatedPort {
                    io,
                    ended,
                    closed: false,
                }) as Box<dyn AsyncPort>)
            })
        })
    }
}

type SessionEnd = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A port that fails every read and write once its plug-in session has ended, so its owner
/// drops (closes) it.
struct GatedPort {
    io: Box<dyn AsyncPort>,
    ended: SessionEnd,
    closed: bool,
}

impl GatedPort {
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.closed && self.ended.as_mut().poll(cx).is_ready() {
            self.closed = true;
        }
        if self.closed {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "stick unplugged",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for GatedPort {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for GatedPort {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    #[tokio::test]
    async fn gated_port_closes_on_unplug_and_reopens_only_after_plug() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let gate = PortGate::new(SerialPortSpec::tcp("127.0.0.1", addr.port()));
        let connect = gate.connector();

        let mut port = connect().await.unwrap();
        let (mut stick, _) = listener.accept().await.unwrap();
        stick.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        port.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");

        // A read waiting on the stick fails as soon as the stick is unplugged.
        let pending = tokio::spawn(async move {
            let mut b = [0u8; 1];
            let r = port.read(&mut b).await;
            (r.map_err(|e| e.kind()), port)
        });
        gate.unplug();
        let (read, mut port) = pending.await.unwrap();
        assert_eq!(read, Err(io::ErrorKind::NotConnected));
        assert!(port.write_all(b"x").await.is_err(), "writes fail too");
        // The owner drops it: the stick side sees the port closed.
        drop(port);
        let mut rest = Vec::new();
        assert_eq!(stick.read_to_end(&mut rest).await.unwrap(), 0);

        let refused = connect().await.err().unwrap();
        assert!(refused.contains("unplugged"), "{refused}");

        gate.plug(SerialPortSpec::tcp("127.0.0.1", addr.port()));
        let mut port = connect().await.unwrap();
        let (mut stick, _) = listener.accept().await.unwrap();
        port.write_all(b"ok").await.unwrap();
        stick.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    }

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
