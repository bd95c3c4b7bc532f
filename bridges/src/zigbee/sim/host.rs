//! The host side of a simulated coordinator, shared by the ZNP and EZSP simulators: serving
//! a loopback TCP port or a PTY, handing the link to a newly connecting host, unplugging,
//! replugging and hanging the firmware, running the NCP's timed events, and letting tests
//! wait on the state. What differs per radio (the framing of one connection, the NCP's
//! behaviour) comes in through [`Radio`] and [`CoordinatorState`].
//!
//! Concurrency: the NCP state sits behind a `std::sync::Mutex` held only while one frame or
//! timed event is handled (never across an `.await`). Frames for the host go through the
//! current connection's [`Radio::Link`]; a new connection replaces the old one, and the state
//! survives, as a powered stick's does across host restarts.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Notify, futures::Notified, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_serial::{SerialPort, SerialStream};

use super::ncp::{CoordinatorState, Out};
use crate::api::SerialPortSpec;
use crate::zigbee::zcl::{TypedValue, ZclValue};

/// What one radio's simulator brings to the shared host side.
pub trait Radio: Sized + Send + Sync + 'static {
    /// Simulator settings given to `start_tcp` / `start_pty`.
    type Config;
    /// The NCP's behaviour.
    type State: CoordinatorState;
    /// How frames reach the connected host.
    type Link: Send + 'static;
    /// The radio's name in logs ("ZNP", "EZSP").
    const NAME: &'static str;

    /// Splits the settings into the per-connection settings and a factory-new NCP state.
    fn new(config: Self::Config) -> (Self, Self::State);

    /// Sends one frame to the host; false if the link is gone.
    fn send(link: &Self::Link, frame: <Self::State as CoordinatorState>::Frame) -> bool;

    /// Serves one host connection until it closes or [`Shared::kicked`] fires: registers its
    /// link with [`Shared::connect`] and passes host frames to [`Shared::from_host`].
    fn serve<S: AsyncRead + AsyncWrite + Unpin + Send>(
        stream: S,
        shared: &Arc<Shared<Self>>,
    ) -> impl Future<Output = ()> + Send;
}

/// The state one simulator's tasks share.
pub struct Shared<R: Radio> {
    radio: R,
    state: Mutex<R::State>,
    /// The current connection's id and link.
    conn: Mutex<Option<(u64, R::Link)>>,
    next_conn: Mutex<u64>,
    unplugged: Mutex<bool>,
    /// Firmware hung: frames are read and ignored.
    hung: Mutex<bool>,
    kick: Notify,
    /// Signalled after every frame or timed event handled.
    changed: Notify,
    replugged: Notify,
    /// Number of host connections being served.
    active: watch::Sender<usize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock only happens in a test that already failed.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current connection's registration; dropping it forgets the link unless a newer
/// connection replaced it already.
pub struct Connected<'a, R: Radio> {
    shared: &'a Shared<R>,
    id: u64,
}

impl<R: Radio> Drop for Connected<'_, R> {
    fn drop(&mut self) {
        let mut conn = lock(&self.shared.conn);
        if conn.as_ref().is_some_and(|(c, _)| *c == self.id) {
            *conn = None;
        }
    }
}

impl<R: Radio> Shared<R> {
    /// The radio's per-connection settings.
    pub fn radio(&self) -> &R {
        &self.radio
    }

    /// Fires when this connection must end (unplugged, or a new host connected). Take it
    /// before anything else so that no kick is missed.
    pub fn kicked(&self) -> Pin<Box<Notified<'_>>> {
        let mut kicked = Box::pin(self.kick.notified());
        kicked.as_mut().enable();
        kicked
    }

    /// Makes `link` the way to the host until the returned guard is dropped.
    pub fn connect(&self, link: R::Link) -> Connected<'_, R> {
        let id = {
            let mut n = lock(&self.next_conn);
            *n += 1;
            *n
        };
        *lock(&self.conn) = Some((id, link));
        Connected { shared: self, id }
    }

    /// Runs `f` on the current link; `None` without a host.
    pub fn with_link<T>(&self, f: impl FnOnce(&R::Link) -> T) -> Option<T> {
        lock(&self.conn).as_ref().map(|(_, link)| f(link))
    }

    /// Reads or changes the NCP state under its lock.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut R::State) -> T) -> T {
        f(&mut lock(&self.state))
    }

    /// A frame from the host: ignored while hung, else handled by `handle` and answered.
    pub fn from_host(
        self: &Arc<Self>,
        handle: impl FnOnce(&mut R::State) -> Vec<Out<<R::State as CoordinatorState>::Frame>>,
    ) {
        if *lock(&self.hung) {
            return;
        }
        let outs = handle(&mut lock(&self.state));
        deliver(self, outs);
        self.changed.notify_waiters();
    }
}

fn deliver<R: Radio>(
    shared: &Arc<Shared<R>>,
    outs: Vec<Out<<R::State as CoordinatorState>::Frame>>,
) {
    for o in outs {
        match o {
            Out::Frame(f) => {
                if let Some((_, link)) = lock(&shared.conn).as_ref() {
                    R::send(link, f);
                }
            }
            Out::Later(after, timed) => {
                let weak: Weak<Shared<R>> = Arc::downgrade(shared);
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    if let Some(shared) = weak.upgrade() {
                        let outs = lock(&shared.state).timed(timed);
                        deliver(&shared, outs);
                        shared.changed.notify_waiters();
                    }
                });
            }
        }
    }
}

/// Where the simulated dongle is reachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimPort {
    /// A loopback TCP listener (network coordinator, ser2net style).
    Tcp(SocketAddr),
    /// The slave side of a pseudo-terminal, opened like a USB stick's `/dev/tty*`.
    Pty(PathBuf),
}

/// A running coordinator simulator; dropping it stops it.
pub struct SimHost<R: Radio> {
    port: SimPort,
    shared: Arc<Shared<R>>,
    task: JoinHandle<()>,
}

impl<R: Radio> Drop for SimHost<R> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn shared<R: Radio>(config: R::Config) -> Arc<Shared<R>> {
    let (radio, state) = R::new(config);
    Arc::new(Shared {
        radio,
        state: Mutex::new(state),
        conn: Mutex::new(None),
        next_conn: Mutex::new(0),
        unplugged: Mutex::new(false),
        hung: Mutex::new(false),
        kick: Notify::new(),
        changed: Notify::new(),
        replugged: Notify::new(),
        active: watch::Sender::new(0),
    })
}

impl<R: Radio> SimHost<R> {
    /// Listens on `127.0.0.1:port` (0 picks a free port).
    pub async fn start_tcp(config: R::Config, port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = shared(config);
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        tracing::info!(%addr, "{} simulator listening", R::NAME);
        Ok(SimHost {
            port: SimPort::Tcp(addr),
            shared,
            task,
        })
    }

    /// Opens a pseudo-terminal pair and serves its master side; the host opens
    /// [`SimHost::port`]'s path like a serial device. The simulator keeps the slave side open
    /// too, so the host may close and reopen the path.
    pub async fn start_pty(config: R::Config) -> std::io::Result<Self> {
        // pair() takes neither TIOCEXCL nor a flock on the slave, so the host's open (which
        // takes both) succeeds while this copy stays open.
        let (mut master, slave) = SerialStream::pair().map_err(std::io::Error::other)?;
        let path = slave
            .name()
            .ok_or_else(|| std::io::Error::other("PTY without a name"))?;
        let shared = shared(config);
        let s = shared.clone();
        let task = tokio::spawn(async move {
            let _slave = slave;
            loop {
                serve(&mut master, s.clone()).await;
                // Unplugged: the master stays unread until replugged.
                while *lock(&s.unplugged) {
                    s.replugged.notified().await;
                }
            }
        });
        tracing::info!(%path, "{} simulator on a PTY", R::NAME);
        Ok(SimHost {
            port: SimPort::Pty(PathBuf::from(path)),
            shared,
            task,
        })
    }

    /// Where the simulator is reachable.
    pub fn port(&self) -> &SimPort {
        &self.port
    }

    /// The port spec a host opens: `tcp://127.0.0.1:N` or the PTY's path.
    pub fn port_spec(&self) -> SerialPortSpec {
        match &self.port {
            SimPort::Tcp(a) => SerialPortSpec::tcp(a.ip().to_string(), a.port()),
            SimPort::Pty(p) => SerialPortSpec::device(p),
        }
    }

    /// The port as text: `tcp://127.0.0.1:N` or the PTY's path.
    pub fn url(&self) -> String {
        match &self.port {
            SimPort::Tcp(a) => format!("tcp://{a}"),
            SimPort::Pty(p) => p.display().to_string(),
        }
    }

    /// Drops the current connection and refuses new ones until [`SimHost::replug`]
    /// (on a PTY: stops answering until replugged).
    pub fn unplug(&self) {
        *lock(&self.shared.unplugged) = true;
        self.shared.kick.notify_waiters();
    }

    /// Accepts connections again.
    pub fn replug(&self) {
        *lock(&self.shared.unplugged) = false;
        self.shared.replugged.notify_waiters();
    }

    /// Makes the firmware hang (read and ignore every frame; an EZSP NCP's ASH layer still
    /// acknowledges) or recover, with the port staying open: the failure hosts most often
    /// report.
    pub fn set_hung(&self, hung: bool) {
        *lock(&self.shared.hung) = hung;
    }

    /// Reads or changes the simulator state (NV or tokens, devices) under its lock.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut R::State) -> T) -> T {
        self.shared.with_state(f)
    }

    /// The shared state the radio's own controls (frame injection, faults) work on.
    pub(crate) fn shared(&self) -> &Arc<Shared<R>> {
        &self.shared
    }

    /// The current value of a virtual device's attribute.
    pub fn attribute(&self, ieee: u64, ep: u8, cluster: u16, attr: u16) -> Option<TypedValue> {
        self.with_state(|s| {
            s.devices_mut()
                .iter()
                .find(|d| d.device.ieee == ieee)
                .and_then(|d| d.device.attribute(ep, cluster, attr).cloned())
        })
    }

    /// Makes a joined device report a new attribute value; false if it cannot.
    pub fn report(&self, ieee: u64, ep: u8, cluster: u16, attr: u16, value: ZclValue) -> bool {
        let out = self.with_state(|s| s.report_now(ieee, ep, cluster, attr, value));
        let sent = out.is_some();
        deliver(&self.shared, out.into_iter().collect());
        sent
    }

    /// Makes a joined device send a cluster command (a remote's button); false if it cannot.
    pub fn press(&self, ieee: u64, ep: u8, cluster: u16, command: u8, payload: Vec<u8>) -> bool {
        let out = self.with_state(|s| s.command_now(ieee, ep, cluster, command, payload));
        let sent = out.is_some();
        deliver(&self.shared, out.into_iter().collect());
        sent
    }

    /// Makes a device stop (or resume) answering.
    pub fn set_responsive(&self, ieee: u64, responsive: bool) {
        self.with_state(|s| {
            for d in s.devices_mut().iter_mut().filter(|d| d.device.ieee == ieee) {
                d.device.responsive = responsive;
            }
        });
    }

    /// Waits until `pred` holds for the simulator state (checked after every host frame and
    /// timed event).
    pub async fn wait_until(&self, pred: impl Fn(&R::State) -> bool) {
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if pred(&lock(&self.shared.state)) {
                return;
            }
            changed.await;
        }
    }

    /// Waits until no host is connected (a host that went away has closed its port).
    pub async fn wait_idle(&self) {
        let mut rx = self.shared.active.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

async fn accept_loop<R: Radio>(listener: TcpListener, shared: Arc<Shared<R>>) {
    let mut conns = JoinSet::new();
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        if *lock(&shared.unplugged) {
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        tracing::debug!(%peer, "{} simulator: host connected", R::NAME);
        shared.kick.notify_waiters();
        while conns.try_join_next().is_some() {}
        conns.spawn(serve(stream, shared.clone()));
    }
}

async fn serve<R: Radio, S: AsyncRead + AsyncWrite + Unpin + Send>(
    stream: S,
    shared: Arc<Shared<R>>,
) {
    shared.active.send_modify(|n| *n += 1);
    R::serve(stream, &shared).await;
    shared.active.send_modify(|n| *n = n.saturating_sub(1));
    tracing::debug!("{} simulator: connection closed", R::NAME);
}
