//! A ZNP coordinator simulator: the dongle side of the MT protocol on a loopback TCP port,
//! byte for byte (framing by [`MtCodec`], behaviour in [`state`]), with NV items, network
//! formation and resume, permit join and the scenario's virtual devices.
//!
//! Concurrency: the simulator state sits behind a `std::sync::Mutex` that is only held while
//! one frame or timed event is handled (never across an `.await`); frames for the host go
//! through an unbounded channel to the task owning the current connection. A new connection
//! replaces the old one; the state survives, as a powered dongle's does across host restarts.

pub mod nib;
pub mod nv;
pub mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_serial::{SerialPort, SerialStream};
use tokio_util::codec::{Framed, FramedParts};

use super::frame::{MtCodec, MtFrame};
use super::link::BOOTLOADER_SKIP_BYTE;
use crate::api::SerialPortSpec;
use crate::zigbee::sim::Scenario;
use crate::zigbee::zcl::{TypedValue, ZclValue};
use state::{Out, SimState};

/// Simulator settings.
#[derive(Debug, Clone, Default)]
pub struct ZnpSimConfig {
    /// Coordinator IEEE address.
    pub ieee: u64,
    /// Virtual devices.
    pub scenario: Scenario,
    /// Ignore every byte of a new connection until the boot loader skip byte (0xEF) arrives,
    /// as a CC26xx stick sitting in its serial boot loader does.
    pub require_bootloader_skip: bool,
}

/// What goes to the connected host.
enum ToHost {
    /// A well-formed frame.
    Frame(MtFrame),
    /// Raw bytes (bad-input tests: garbage, broken frames).
    Raw(Vec<u8>),
}

struct Shared {
    state: Mutex<SimState>,
    conn: Mutex<Option<mpsc::UnboundedSender<ToHost>>>,
    unplugged: Mutex<bool>,
    /// Firmware hung: frames are read and ignored.
    muted: Mutex<bool>,
    kick: Notify,
    /// Signalled after every frame handled.
    changed: Notify,
    replugged: Notify,
    /// Number of host connections being served.
    active: watch::Sender<usize>,
    require_skip: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock only happens in a test that already failed.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where the simulated dongle is reachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimPort {
    /// A loopback TCP listener (network coordinator, ser2net style).
    Tcp(SocketAddr),
    /// The slave side of a pseudo-terminal, opened like a USB stick's `/dev/tty*`.
    Pty(PathBuf),
}

/// A running simulator; dropping it stops it.
pub struct ZnpSim {
    port: SimPort,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for ZnpSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn shared(config: ZnpSimConfig) -> Arc<Shared> {
    Arc::new(Shared {
        state: Mutex::new(SimState::new(config.ieee, config.scenario)),
        conn: Mutex::new(None),
        unplugged: Mutex::new(false),
        muted: Mutex::new(false),
        kick: Notify::new(),
        changed: Notify::new(),
        replugged: Notify::new(),
        active: watch::Sender::new(0),
        require_skip: config.require_bootloader_skip,
    })
}

impl ZnpSim {
    /// Listens on `127.0.0.1:port` (0 picks a free port).
    pub async fn start_tcp(config: ZnpSimConfig, port: u16) -> std::io::Result<ZnpSim> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = shared(config);
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        tracing::info!(%addr, "ZNP simulator listening");
        Ok(ZnpSim {
            port: SimPort::Tcp(addr),
            shared,
            task,
        })
    }

    /// Opens a pseudo-terminal pair and serves its master side; the host opens
    /// [`ZnpSim::port`]'s path like a serial device. The simulator keeps the slave side open
    /// too, so the host may close and reopen the path.
    pub async fn start_pty(config: ZnpSimConfig) -> std::io::Result<ZnpSim> {
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
        tracing::info!(%path, "ZNP simulator on a PTY");
        Ok(ZnpSim {
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

    /// Drops the current connection and refuses new ones until [`ZnpSim::replug`]
    /// (on a PTY: stops answering until replugged).
    pub fn unplug(&self) {
        *lock(&self.shared.unplugged) = true;
        self.shared.kick.notify_waiters();
    }

    /// Makes the firmware hang (read and ignore every frame) or recover, with the port
    /// staying open: the failure hosts most often report.
    pub fn set_hung(&self, hung: bool) {
        *lock(&self.shared.muted) = hung;
    }

    /// Accepts connections again.
    pub fn replug(&self) {
        *lock(&self.shared.unplugged) = false;
        self.shared.replugged.notify_waiters();
    }

    /// Reads the simulator state (NV, devices) under its lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut SimState) -> R) -> R {
        f(&mut lock(&self.shared.state))
    }

    /// The current value of a virtual device's attribute.
    pub fn attribute(&self, ieee: u64, ep: u8, cluster: u16, attr: u16) -> Option<TypedValue> {
        self.with_state(|s| {
            s.devices
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

    /// Writes raw bytes to the connected host (garbage, frames with a bad FCS); false when
    /// no host is connected.
    pub fn inject_raw(&self, bytes: &[u8]) -> bool {
        lock(&self.shared.conn)
            .as_ref()
            .is_some_and(|tx| tx.send(ToHost::Raw(bytes.to_vec())).is_ok())
    }

    /// Sends a frame to the connected host as the firmware would (an AF_INCOMING_MSG from a
    /// device, an indication); false when no host is connected.
    pub fn inject_frame(&self, frame: MtFrame) -> bool {
        lock(&self.shared.conn)
            .as_ref()
            .is_some_and(|tx| tx.send(ToHost::Frame(frame)).is_ok())
    }

    /// Waits until no host is connected (a host that went away has closed its port).
    pub async fn wait_idle(&self) {
        let mut rx = self.shared.active.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Makes a joined device send a cluster command (a remote's button); false if it cannot.
    pub fn press(&self, ieee: u64, ep: u8, cluster: u16, command: u8, payload: Vec<u8>) -> bool {
        let out = self.with_state(|s| s.command_now(ieee, ep, cluster, command, payload));
        let sent = out.is_some();
        deliver(&self.shared, out.into_iter().collect());
        sent
    }

    /// Waits until `pred` holds for the simulator state (checked after every host frame).
    pub async fn wait_until(&self, pred: impl Fn(&SimState) -> bool) {
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

    /// Makes a device stop (or resume) answering.
    pub fn set_responsive(&self, ieee: u64, responsive: bool) {
        self.with_state(|s| {
            for d in s.devices.iter_mut().filter(|d| d.device.ieee == ieee) {
                d.device.responsive = responsive;
            }
        });
    }
}

fn deliver(shared: &Arc<Shared>, outs: Vec<Out>) {
    for o in outs {
        match o {
            Out::Frame(f) => {
                if let Some(tx) = lock(&shared.conn).as_ref() {
                    let _ = tx.send(ToHost::Frame(f));
                }
            }
            Out::Later(after, timed) => {
                let weak: Weak<Shared> = Arc::downgrade(shared);
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    if let Some(shared) = weak.upgrade() {
                        let outs = lock(&shared.state).timed(timed);
                        deliver(&shared, outs);
                    }
                });
            }
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
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
        tracing::debug!(%peer, "ZNP simulator: host connected");
        shared.kick.notify_waiters();
        while conns.try_join_next().is_some() {}
        conns.spawn(serve(stream, shared.clone()));
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(stream: S, shared: Arc<Shared>) {
    shared.active.send_modify(|n| *n += 1);
    serve_connection(stream, &shared).await;
    shared.active.send_modify(|n| *n = n.saturating_sub(1));
    tracing::debug!("ZNP simulator: connection closed");
}

async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, shared: &Arc<Shared>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let kicked = shared.kick.notified();
    tokio::pin!(kicked);
    kicked.as_mut().enable();
    let mut leftover = BytesMut::new();
    if shared.require_skip {
        let mut buf = [0u8; 512];
        loop {
            let n = tokio::select! {
                n = stream.read(&mut buf) => match n { Ok(0) | Err(_) => return, Ok(n) => n },
                () = &mut kicked => return,
            };
            if let Some(p) = buf[..n].iter().position(|&b| b == BOOTLOADER_SKIP_BYTE) {
                leftover.extend_from_slice(&buf[p..n]);
                break;
            }
        }
    }
    *lock(&shared.conn) = Some(tx);
    // from_parts marks a non-empty read buffer readable, so bytes that came with the skip
    // byte are decoded without waiting for more input.
    let mut parts = FramedParts::new::<MtFrame>(stream, MtCodec::new());
    parts.read_buf = leftover;
    let mut port = Framed::from_parts(parts);
    loop {
        tokio::select! {
            frame = port.next() => match frame {
                Some(Ok(_)) if *lock(&shared.muted) => {}
                Some(Ok(f)) => {
                    let outs = lock(&shared.state).handle(&f);
                    deliver(shared, outs);
                    shared.changed.notify_waiters();
                }
                _ => break,
            },
            out = rx.recv() => match out {
                Some(ToHost::Frame(f)) => if port.send(f).await.is_err() { break },
                Some(ToHost::Raw(b)) => {
                    let io = port.get_mut();
                    if io.write_all(&b).await.is_err() || io.flush().await.is_err() { break }
                }
                None => break,
            },
            () = &mut kicked => break,
        }
    }
}
