//! Hot-plug: add/remove events for serial ports, from udev's netlink multicast or
//! from any other [`HotplugSource`], and a [`DongleTracker`] that turns them into
//! "this stick appeared / went away" with its identification.
//!
//! [`UdevMonitor`] reads the uevent netlink socket itself ([`crate::netlink`]) on the caller's
//! runtime; while nobody asks for the next event, the kernel queues them in the socket, and
//! if that overflows the monitor rescans sysfs rather than miss a stick.

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

/// A source fed through a channel: the test double.
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
    use std::collections::{BTreeSet, VecDeque};
    use std::io;
    use std::pin::Pin;

    use super::{HotplugEvent, HotplugSource};
    use crate::netlink::{Received, UeventGroup, UeventSocket};
    use crate::sysfs::{SysRoots, enumerate, port_info};

    /// Hot-plug of USB serial ports from the uevent netlink multicast.
    #[derive(Debug)]
    pub struct UdevMonitor {
        socket: UeventSocket,
        roots: SysRoots,
        /// USB serial ports believed present, to tell removals after an overrun.
        known: BTreeSet<String>,
        /// Events of a rescan not handed out yet.
        pending: VecDeque<HotplugEvent>,
    }

    impl UdevMonitor {
        /// Starts listening to udevd's events (sent once its rules ran, so by-id links exist).
        /// Fails where the netlink socket cannot be opened (sandboxes); callers then run
        /// without hot-plug.
        pub async fn start(roots: SysRoots) -> io::Result<UdevMonitor> {
            Self::start_with(roots, UeventGroup::Udev)
        }

        /// Starts listening to the kernel's own events, for systems without udevd (some
        /// containers): no by-id links or rules then, ports are identified from sysfs alone.
        pub async fn start_kernel(roots: SysRoots) -> io::Result<UdevMonitor> {
            Self::start_with(roots, UeventGroup::Kernel)
        }

        fn start_with(roots: SysRoots, group: UeventGroup) -> io::Result<UdevMonitor> {
            let socket = UeventSocket::open(group)?;
            // After the socket is bound, so a stick plugged in meanwhile is in one or both.
            let known = enumerate(&roots)
                .map(|ports| ports.into_iter().map(|p| p.name).collect())
                .unwrap_or_default();
            Ok(UdevMonitor {
                socket,
                roots,
                known,
                pending: VecDeque::new(),
            })
        }

        async fn next(&mut self) -> Option<HotplugEvent> {
            loop {
                if let Some(ev) = self.pending.pop_front() {
                    return Some(ev);
                }
                let event = match self.socket.recv().await {
                    Ok(Received::Event(ev)) => ev,
                    Ok(Received::Overrun) => {
                        tracing::warn!("uevents were lost (socket buffer full); rescanning ports");
                        self.rescan();
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "uevent socket failed; hot-plug ends");
                        return None;
                    }
                };
                if event.subsystem() != "tty" {
                    continue;
                }
                let name = event.sysname().to_owned();
                tracing::trace!(%name, action = event.action(), "tty uevent");
                let out = match event.action() {
                    "add" => match port_info(&self.roots, &name) {
                        Some(info) if info.usb.is_some() => {
                            self.known.insert(name);
                            HotplugEvent::Added(info)
                        }
                        _ => continue,
                    },
                    "remove" => {
                        self.known.remove(&name);
                        HotplugEvent::Removed { name }
                    }
                    _ => continue,
                };
                tracing::debug!(?out, "hot-plug event");
                return Some(out);
            }
        }

        /// After lost events: every port present now as added (the tracker ignores repeats),
        /// every port believed present but gone as removed.
        fn rescan(&mut self) {
            let Ok(ports) = enumerate(&self.roots) else {
                return;
            };
            let now: BTreeSet<String> = ports.iter().map(|p| p.name.clone()).collect();
            for gone in self.known.difference(&now) {
                self.pending
                    .push_back(HotplugEvent::Removed { name: gone.clone() });
            }
            self.pending
                .extend(ports.into_iter().map(HotplugEvent::Added));
            self.known = now;
        }
    }

    impl HotplugSource for UdevMonitor {
        fn next_event(
            &mut self,
        ) -> Pin<Box<dyn Future<Output = Option<HotplugEvent>> + Send + '_>> {
            Box::pin(self.next())
        }
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
