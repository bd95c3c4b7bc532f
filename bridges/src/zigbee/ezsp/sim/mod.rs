//! An EmberZNet NCP simulator: the NCP side of ASH ([`serve_ncp`]) and EZSP on a loopback
//! TCP port or a PTY, byte for byte, with the network kept in "tokens" across resets,
//! permit join, and the scenario's virtual devices (the same TOML scenarios as the ZNP
//! simulator). Behaviour is in [`state`]; this module moves bytes and runs timers.
//!
//! Concurrency: the state sits behind a `std::sync::Mutex` held only while one frame or
//! timed event is handled (never across an `.await`). Each host connection gets its own
//! ASH NCP task, fed through an in-memory pipe so that unplugging can cut it; a new
//! connection replaces the old one, and the state survives as a powered stick's tokens do.

pub mod state;

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_serial::{SerialPort, SerialStream};

use super::ash::{AshNcpConfig, AshNcpEvent, AshNcpHandle, NcpFault, serve_ncp};
use crate::api::SerialPortSpec;
use crate::zigbee::sim::Scenario;
use crate::zigbee::zcl::{TypedValue, ZclValue};
pub use crate::zigbee::znp::sim::SimPort;
use state::{NcpState, Out};

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct EzspSimConfig {
    /// The NCP's EUI-64.
    pub ieee: u64,
    /// Virtual devices.
    pub scenario: Scenario,
    /// The EZSP protocol version the firmware speaks (8 and later; 13 is EmberZNet 7.4).
    pub protocol_version: u8,
    /// ASH timing of the NCP side.
    pub ash: AshNcpConfig,
}

impl Default for EzspSimConfig {
    fn default() -> Self {
        EzspSimConfig {
            ieee: 0x000D_6F00_0000_0001,
            scenario: Scenario::default(),
            protocol_version: 13,
            ash: AshNcpConfig::default(),
        }
    }
}

struct Shared {
    state: Mutex<NcpState>,
    conn: Mutex<Option<(u64, AshNcpHandle)>>,
    next_conn: Mutex<u64>,
    unplugged: Mutex<bool>,
    /// Firmware hung: EZSP frames are acknowledged by ASH and ignored.
    hung: Mutex<bool>,
    kick: Notify,
    /// Signalled after every frame handled.
    changed: Notify,
    replugged: Notify,
    /// Number of host connections being served.
    active: watch::Sender<usize>,
    ash: AshNcpConfig,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock only happens in a test that already failed.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running simulator; dropping it stops it.
pub struct EzspSim {
    port: SimPort,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for EzspSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn shared(config: EzspSimConfig) -> Arc<Shared> {
    let state = NcpState::new(config.ieee, config.protocol_version, config.scenario);
    Arc::new(Shared {
        state: Mutex::new(state),
        conn: Mutex::new(None),
        next_conn: Mutex::new(0),
        unplugged: Mutex::new(false),
        hung: Mutex::new(false),
        kick: Notify::new(),
        changed: Notify::new(),
        replugged: Notify::new(),
        active: watch::Sender::new(0),
        ash: config.ash,
    })
}

impl EzspSim {
    /// Listens on `127.0.0.1:port` (0 picks a free port).
    pub async fn start_tcp(config: EzspSimConfig, port: u16) -> std::io::Result<EzspSim> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = shared(config);
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        tracing::info!(%addr, "EZSP simulator listening");
        Ok(EzspSim {
            port: SimPort::Tcp(addr),
            shared,
            task,
        })
    }

    /// Opens a pseudo-terminal pair and serves its master side; the host opens
    /// [`EzspSim::port`]'s path like a serial device and may close and reopen it.
    pub async fn start_pty(config: EzspSimConfig) -> std::io::Result<EzspSim> {
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
        tracing::info!(%path, "EZSP simulator on a PTY");
        Ok(EzspSim {
            port: SimPort::Pty(std::path::PathBuf::from(path)),
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

    /// Drops the current connection and refuses new ones until [`EzspSim::replug`]
    /// (on a PTY: stops answering until replugged).
    pub fn unplug(&self) {
        *lock(&self.shared.unplugged) = true;
        self.shared.kick.notify_waiters();
    }

    /// Makes the EZSP firmware hang (ASH still acknowledges, EZSP frames are ignored) or
    /// recover: the failure hosts most often report.
    pub fn set_hung(&self, hung: bool) {
        *lock(&self.shared.hung) = hung;
    }

    /// Accepts connections again.
    pub fn replug(&self) {
        *lock(&self.shared.unplugged) = false;
        self.shared.replugged.notify_waiters();
    }

    /// The NCP reboots under a connected host (watchdog, brown-out): its EZSP state is
    /// lost and it sends an unsolicited RSTACK with `reset_code`. False without a host.
    pub fn reboot(&self, reset_code: u8) -> bool {
        lock(&self.shared.state).reset();
        self.fault(NcpFault::SendRstAck(reset_code))
    }

    /// Injects an ASH fault into the current connection; false without a host.
    pub fn fault(&self, f: NcpFault) -> bool {
        match lock(&self.shared.conn).as_ref() {
            Some((_, h)) => {
                h.fault(f);
                true
            }
            None => false,
        }
    }

    /// Sends a raw EZSP frame to the connected host (unknown frame ids, broken
    /// parameters); false without a host.
    pub fn inject_frame(&self, ezsp: Vec<u8>) -> bool {
        lock(&self.shared.conn)
            .as_ref()
            .is_some_and(|(_, h)| h.send(ezsp))
    }

    /// Reads or changes the simulator state under its lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut NcpState) -> R) -> R {
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
            for d in s.devices.iter_mut().filter(|d| d.device.ieee == ieee) {
                d.device.responsive = responsive;
            }
        });
    }

    /// Waits until `pred` holds for the simulator state (checked after every host frame).
    pub async fn wait_until(&self, pred: impl Fn(&NcpState) -> bool) {
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

    /// Waits until no host is connected.
    pub async fn wait_idle(&self) {
        let mut rx = self.shared.active.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

fn deliver(shared: &Arc<Shared>, outs: Vec<Out>) {
    for o in outs {
        match o {
            Out::Frame(f) => {
                if let Some((_, h)) = lock(&shared.conn).as_ref() {
                    h.send(f);
                }
            }
            Out::Later(after, timed) => {
                let weak: Weak<Shared> = Arc::downgrade(shared);
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
        tracing::debug!(%peer, "EZSP simulator: host connected");
        shared.kick.notify_waiters();
        while conns.try_join_next().is_some() {}
        conns.spawn(serve(stream, shared.clone()));
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(stream: S, shared: Arc<Shared>) {
    shared.active.send_modify(|n| *n += 1);
    serve_connection(stream, &shared).await;
    shared.active.send_modify(|n| *n = n.saturating_sub(1));
    tracing::debug!("EZSP simulator: connection closed");
}

async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, shared: &Arc<Shared>) {
    let kicked = shared.kick.notified();
    tokio::pin!(kicked);
    kicked.as_mut().enable();
    // The ASH task reads one end of a pipe; this task copies between the port and the other
    // end, so dropping the pipe cuts the ASH task off exactly like a pulled cable.
    let (mut mine, theirs) = tokio::io::duplex(4096);
    let (ncp, mut events) = serve_ncp(theirs, shared.ash.clone());
    let id = {
        let mut n = lock(&shared.next_conn);
        *n += 1;
        *n
    };
    *lock(&shared.conn) = Some((id, ncp));
    let copy = tokio::io::copy_bidirectional(&mut stream, &mut mine);
    tokio::pin!(copy);
    loop {
        tokio::select! {
            _ = &mut copy => break,
            ev = events.recv() => match ev {
                Some(AshNcpEvent::Reset) => lock(&shared.state).reset(),
                Some(AshNcpEvent::Frame(_)) if *lock(&shared.hung) => {}
                Some(AshNcpEvent::Frame(b)) => {
                    let outs = lock(&shared.state).handle(&b);
                    deliver(shared, outs);
                    shared.changed.notify_waiters();
                }
                None => break,
            },
            () = &mut kicked => break,
        }
    }
    let mut conn = lock(&shared.conn);
    if conn.as_ref().is_some_and(|(c, _)| *c == id) {
        *conn = None;
    }
}

#[cfg(test)]
mod bellows_tests;
#[cfg(test)]
mod tests;
