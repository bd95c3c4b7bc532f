//! Hot-plug: add/remove events for serial ports, from udev's netlink monitor (tokio-udev) or
//! from any other [`HotplugSource`], and a [`DongleTracker`] that turns them into
//! "this stick appeared / went away" with its identification.
//!
//! Concurrency: udev's monitor socket is not `Send`, so [`UdevMonitor`] owns it on a thread
//! of its own (with a current-thread runtime) and forwards events over a bounded channel;
//! when the channel is full the thread waits (udev queues in the kernel socket meanwhile).
//! The thread ends when the [`UdevMonitor`] is dropped.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use tokio::sync::mpsc;

use crate::identify::{Identified, ProbeMode, identify};
use crate::probe::ProbeConfig;
use crate::sysfs::{SerialPortInfo, SysRoots, enumerate};

/// A serial device came or went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HotplugEvent {
    /// A USB serial port appeared (udev has created its links by then).
    Added(SerialPortInfo),
    /// A serial port disappeared.
    Removed {
        /// Kernel name, e.g. `ttyUSB0`.
        name: String,
    },
}

/// Where hot-plug events come from: udev in the daemon, a channel in tests.
pub trait HotplugSource: Send {
    /// The next event; `None` when the source has ended.
    fn next_event(&mut self) -> Pin<Box<dyn Future<Output = Option<HotplugEvent>> + Send + '_>>;
}

/// A source fed through a channel: the test double, and the end of [`UdevMonitor`]'s thread.
#[derive(Debug)]
pub struct ChannelSource {
    rx: mpsc::Receiver<HotplugEvent>,
}

impl ChannelSource {
    /// A source and the sender that feeds it.
    pub fn new(capacity: usize) -> (mpsc::Sender<HotplugEvent>, ChannelSource) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (tx, ChannelSource { rx })
    }
}

impl HotplugSource for ChannelSource {
    fn next_event(&mut self) -> Pin<Box<dyn Future<Output = Option<HotplugEvent>> + Send + '_>> {
        Box::pin(self.rx.recv())
    }
}

#[cfg(target_os = "linux")]
pub use self::udev_monitor::UdevMonitor;

#[cfg(target_os = "linux")]
mod udev_monitor {
    use std::io;
    use std::pin::Pin;

    use futures_util::StreamExt;
    use tokio::sync::{mpsc, oneshot};
    use tokio_udev::{AsyncMonitorSocket, EventType, MonitorBuilder};

    use super::{HotplugEvent, HotplugSource};
    use crate::sysfs::{SysRoots, port_info};

    /// udev's netlink monitor for the `tty` subsystem.
    #[derive(Debug)]
    pub struct UdevMonitor {
        rx: mpsc::Receiver<HotplugEvent>,
    }

    impl UdevMonitor {
        /// Starts listening to udevd's events (sent once its rules ran, so by-id links exist).
        /// Fails where the netlink socket cannot be opened (sandboxes); callers then run
        /// without hot-plug.
        pub async fn start(roots: SysRoots) -> io::Result<UdevMonitor> {
            Self::start_with(roots, false).await
        }

        /// Starts listening to the kernel's own events, for systems without udevd (some
        /// containers): no by-id links or rules then, ports are identified from sysfs alone.
        pub async fn start_kernel(roots: SysRoots) -> io::Result<UdevMonitor> {
            Self::start_with(roots, true).await
        }

        async fn start_with(roots: SysRoots, kernel: bool) -> io::Result<UdevMonitor> {
            let (tx, rx) = mpsc::channel(64);
            let (ready_tx, ready_rx) = oneshot::channel();
            std::thread::Builder::new()
                .name("usphub-udev".into())
                .spawn(move || run(roots, kernel, tx, ready_tx))?;
            ready_rx
                .await
                .map_err(|_| io::Error::other("udev monitor thread ended"))??;
            Ok(UdevMonitor { rx })
        }
    }

    impl HotplugSource for UdevMonitor {
        fn next_event(
            &mut self,
        ) -> Pin<Box<dyn Future<Output = Option<HotplugEvent>> + Send + '_>> {
            Box::pin(self.rx.recv())
        }
    }

    fn run(
        roots: SysRoots,
        kernel: bool,
        tx: mpsc::Sender<HotplugEvent>,
        ready: oneshot::Sender<io::Result<()>>,
    ) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        runtime.block_on(async move {
            let builder = if kernel {
                MonitorBuilder::new_kernel()
            } else {
                MonitorBuilder::new()
            };
            let socket = builder
                .and_then(|b| b.match_subsystem("tty"))
                .and_then(|b| b.listen())
                .and_then(AsyncMonitorSocket::new);
            let mut socket = match socket {
                Ok(s) => {
                    let _ = ready.send(Ok(()));
                    s
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            loop {
                let event = tokio::select! {
                    ev = socket.next() => ev,
                    () = tx.closed() => return,
                };
                let event = match event {
                    Some(Ok(ev)) => ev,
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "udev monitor read failed");
                        continue;
                    }
                    None => return,
                };
                let Some(name) = event.sysname().to_str().map(str::to_owned) else {
                    continue;
                };
                tracing::trace!(%name, kind = ?event.event_type(), "tty uevent");
                let out = match event.event_type() {
                    EventType::Add => match port_info(&roots, &name) {
                        Some(info) if info.usb.is_some() => HotplugEvent::Added(info),
                        _ => continue,
                    },
                    EventType::Remove => HotplugEvent::Removed { name },
                    _ => continue,
                };
                tracing::debug!(?out, "udev event");
                if tx.send(out).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// A stick appeared or went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DongleChange {
    /// Plugged in (or present at start), with what it was identified as.
    Appeared(Identified),
    /// Unplugged; the identification it had while present.
    Gone(Identified),
}

/// The set of USB serial ports present, kept current from hot-plug events.
#[derive(Debug)]
pub struct DongleTracker {
    present: BTreeMap<String, Identified>,
    mode: ProbeMode,
    config: ProbeConfig,
    /// Ports a bridge has open (device path or by-id link): never probed.
    busy: Vec<PathBuf>,
}

impl DongleTracker {
    /// An empty tracker that identifies new ports with `mode`.
    pub fn new(mode: ProbeMode, config: ProbeConfig) -> Self {
        Self {
            present: BTreeMap::new(),
            mode,
            config,
            busy: Vec::new(),
        }
    }

    /// Marks a port as opened by a bridge: while marked, a port appearing under this device
    /// path or by-id link is identified from the table only, never probed.
    pub fn mark_busy(&mut self, path: impl Into<PathBuf>) {
        let path = path.into();
        if !self.busy.contains(&path) {
            self.busy.push(path);
        }
    }

    /// Undoes [`DongleTracker::mark_busy`].
    pub fn mark_free(&mut self, path: &Path) {
        self.busy.retain(|p| p != path);
    }

    fn is_busy(&self, port: &SerialPortInfo) -> bool {
        self.busy
            .iter()
            .any(|b| *b == port.path || port.by_id.as_ref() == Some(b))
    }

    /// Identifies every port present now (start-up); each is reported as appeared.
    pub async fn scan(&mut self, roots: &SysRoots) -> std::io::Result<Vec<DongleChange>> {
        let mut out = Vec::new();
        for port in enumerate(roots)? {
            if let Some(c) = self.apply(HotplugEvent::Added(port)).await {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Applies one event; `None` when it changes nothing (a repeated add, an unknown remove).
    /// An add of an ambiguous stick probes it (a few seconds at most) before returning.
    pub async fn apply(&mut self, event: HotplugEvent) -> Option<DongleChange> {
        match event {
            HotplugEvent::Added(port) => {
                if self
                    .present
                    .get(&port.name)
                    .is_some_and(|p| p.usb == port.usb && p.by_id == port.by_id)
                {
                    return None;
                }
                let mode = if self.is_busy(&port) {
                    ProbeMode::Never
                } else {
                    self.mode
                };
                let id = identify(&port, mode, &self.config).await;
                self.present.insert(port.name.clone(), id.clone());
                Some(DongleChange::Appeared(id))
            }
            HotplugEvent::Removed { name } => self.present.remove(&name).map(DongleChange::Gone),
        }
    }

    /// The next change from `source`; `None` when the source ends.
    pub async fn next_change(&mut self, source: &mut dyn HotplugSource) -> Option<DongleChange> {
        loop {
            let event = source.next_event().await?;
            if let Some(change) = self.apply(event).await {
                return Some(change);
            }
        }
    }

    /// What is plugged in now, by kernel name.
    pub fn present(&self) -> impl Iterator<Item = &Identified> {
        self.present.values()
    }

    /// The identification of a present port by device path or by-id link.
    pub fn find(&self, path: &Path) -> Option<&Identified> {
        self.present
            .values()
            .find(|i| Path::new(&i.path) == path || i.by_id.as_deref() == Some(path))
    }
}
