//! A Z-Wave Serial API controller simulator (the stick's side) on a loopback TCP port.
//!
//! It speaks the real protocol byte for byte (Host API spec, "Data frame handshake"): it
//! ACKs every valid host frame (NAK for a bad checksum), sends responses, callbacks and
//! node frames one at a time, waits for the host's ACK and retransmits after a NAK, CAN or
//! 1600 ms silence (3 attempts). Functions are answered by [`controller::Controller`], node
//! behaviour comes from [`node::VirtualNode`]s built from a [`scenario::Scenario`].
//!
//! Concurrency: one task owns the listener, the current connection and all state; a
//! [`SimHandle`] sends it commands (scripted reports, wake-ups, faults, unplugging). One
//! host connection at a time, like a serial port; after a disconnect it accepts the next.

pub mod controller;
pub mod node;
pub mod scenario;
pub mod secure;

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tokio_util::codec::Decoder;

use self::controller::Controller;
use self::node::VirtualNode;
use self::scenario::Scenario;
use crate::zwave::cc::{multi_channel, wake_up};
use crate::zwave::serial::codec::{SerialCodec, Unit};
use crate::zwave::serial::frame::{ACK, CAN, FrameType, NAK};

/// ACK wait before the simulator retransmits a frame.
const ACK_TIMEOUT: Duration = Duration::from_millis(1600);
/// Attempts per frame.
const ATTEMPTS: u8 = 3;

/// A fault to inject, consumed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer the next host frame with NAK (and drop it).
    NakNextFrame,
    /// Answer the next host frame with CAN (and drop it).
    CanNextFrame,
    /// Do not answer the next host frame at all.
    IgnoreNextFrame,
    /// Send the next outgoing frame with a wrong checksum first.
    CorruptNextOutgoing,
    /// Send garbage bytes before the next outgoing frame.
    GarbageBeforeNextOutgoing,
}

enum Command {
    FromNode(u8, u8, Vec<u8>),
    SetSensor(u8, u8, i32),
    WakeUp(u8),
    Disconnect,
    Fault(Fault),
    AddPending(Box<VirtualNode>),
    ExcludeNext(u8),
    SetDead(u8, bool),
    Nodes(oneshot::Sender<BTreeMap<u8, VirtualNode>>),
}

/// Controls a running simulator; dropping every handle stops it.
#[derive(Clone, Debug)]
pub struct SimHandle {
    tx: mpsc::Sender<Command>,
    addr: SocketAddr,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sim command")
    }
}

impl SimHandle {
    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `tcp://` URL of the simulator.
    pub fn url(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    async fn send(&self, c: Command) {
        // A stopped simulator has nothing left to control.
        let _ = self.tx.send(c).await;
    }

    /// Node `node` (end point `ep`, 0 = root) sends `cmd` unsolicited.
    pub async fn report(&self, node: u8, ep: u8, cmd: Vec<u8>) {
        self.send(Command::FromNode(node, ep, cmd)).await;
    }

    /// Changes a multilevel sensor value of `node` and reports it.
    pub async fn set_sensor(&self, node: u8, sensor_type: u8, raw: i32) {
        self.send(Command::SetSensor(node, sensor_type, raw)).await;
    }

    /// Wakes a sleeping node: it sends a Wake Up Notification and listens until told
    /// No More Information.
    pub async fn wake_up(&self, node: u8) {
        self.send(Command::WakeUp(node)).await;
    }

    /// Drops the host connection (an unplugged stick).
    pub async fn disconnect(&self) {
        self.send(Command::Disconnect).await;
    }

    /// Injects a fault.
    pub async fn fault(&self, f: Fault) {
        self.send(Command::Fault(f)).await;
    }

    /// Adds a node that joins at the next inclusion (or now, if inclusion runs).
    pub async fn add_pending(&self, node: VirtualNode) {
        self.send(Command::AddPending(Box::new(node))).await;
    }

    /// Presses `node`'s button for the next exclusion.
    pub async fn exclude_next(&self, node: u8) {
        self.send(Command::ExcludeNext(node)).await;
    }

    /// Makes a node dead (answers nothing) or alive again.
    pub async fn set_dead(&self, node: u8, dead: bool) {
        self.send(Command::SetDead(node, dead)).await;
    }

    /// A snapshot of the nodes in the network.
    pub async fn nodes(&self) -> BTreeMap<u8, VirtualNode> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Nodes(tx)).await;
        rx.await.unwrap_or_default()
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding the port or reading the scenario file failed.
    #[error("zwave simulator: {0}")]
    Io(#[from] io::Error),
    /// The scenario is not valid.
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
}

/// Entry point for `usphub sim zwave --listen ADDR [--scenario FILE]` and `usphub demo`:
/// loads the TOML scenario (the live demo scenario when none is given) and starts the
/// simulator on `listen`.
pub async fn serve(
    listen: &str,
    scenario_file: Option<&std::path::Path>,
) -> Result<SimHandle, SimError> {
    let scenario = match scenario_file {
        Some(path) => {
            let len = tokio::fs::metadata(path).await?.len();
            if len > scenario::MAX_SCENARIO_BYTES as u64 {
                return Err(scenario::ScenarioError::TooLarge.into());
            }
            Scenario::from_toml(&tokio::fs::read_to_string(path).await?)?
        }
        None => Scenario {
            live: true,
            ..Scenario::demo()
        },
    };
    Ok(spawn_tcp(&scenario, listen).await?)
}

/// Starts the simulator on `addr` (use `127.0.0.1:0` for a free port).
pub async fn spawn_tcp(scenario: &Scenario, addr: &str) -> io::Result<SimHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (nodes, pending) = scenario.build();
    let controller = Controller::new(scenario.home_id, nodes, pending);
    let (tx, rx) = mpsc::channel(64);
    let mut sim = Sim::new(controller);
    sim.live = scenario.live;
    tokio::spawn(sim.run(listener, rx));
    Ok(SimHandle { tx, addr })
}

struct Link {
    rd: OwnedReadHalf,
    wr: OwnedWriteHalf,
    buf: BytesMut,
    codec: SerialCodec,
    outq: VecDeque<Bytes>,
    /// Frame sent and not yet ACKed: bytes, deadline, attempts.
    awaiting: Option<(Bytes, Instant, u8)>,
}

impl Link {
    fn new(s: TcpStream) -> io::Result<Self> {
        s.set_nodelay(true)?;
        let (rd, wr) = s.into_split();
        Ok(Self {
            rd,
            wr,
            buf: BytesMut::with_capacity(512),
            codec: SerialCodec::new(),
            outq: VecDeque::new(),
            awaiting: None,
        })
    }

    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.wr.write_all(bytes).await?;
        self.wr.flush().await
    }
}

struct Sim {
    ctl: Controller,
    faults: VecDeque<Fault>,
    live: bool,
    next_wake: BTreeMap<u8, Instant>,
    wake_count: u32,
}

async fn read_opt(link: &mut Option<Link>) -> io::Result<usize> {
    match link {
        Some(l) => l.rd.read_buf(&mut l.buf).await,
        None => std::future::pending().await,
    }
}

async fn until_opt(at: Option<Instant>) {
    match at {
        Some(t) => sleep_until(t).await,
        None => std::future::pending().await,
    }
}

impl Sim {
    fn new(ctl: Controller) -> Self {
        Self {
            ctl,
            faults: VecDeque::new(),
            live: false,
            next_wake: BTreeMap::new(),
            wake_count: 0,
        }
    }

    async fn run(mut self, listener: TcpListener, mut cmds: mpsc::Receiver<Command>) {
        let mut link: Option<Link> = None;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let deadline = link.as_ref().and_then(|l| l.awaiting.as_ref().map(|a| a.1));
            let result = tokio::select! {
                // A new host takes the stick over, as after a re-plug or a ser2net
                // reconnect: the previous link is dropped rather than left blocking it.
                acc = listener.accept() => match acc.and_then(|(s, _)| Link::new(s)) {
                    Ok(l) => {
                        if link.is_some() {
                            tracing::info!("zwave sim: a new host connected; the previous link is dropped");
                        }
                        link = Some(l);
                        Ok(())
                    }
                    Err(e) => { tracing::warn!(error = %e, "zwave sim: accept failed"); Ok(()) }
                },
                c = cmds.recv() => match c {
                    None => return,
                    Some(Command::Disconnect) => { link = None; Ok(()) }
                    Some(c) => self.command(c, &mut link).await,
                },
                n = read_opt(&mut link) => match n {
                    Ok(0) | Err(_) => { link = None; Ok(()) }
                    Ok(_) => self.on_bytes(&mut link).await,
                },
                _ = until_opt(deadline) => self.retransmit(&mut link).await,
                _ = tick.tick(), if self.live => self.on_tick(&mut link).await,
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "zwave sim: connection lost");
                link = None;
            }
        }
    }

    async fn command(&mut self, c: Command, link: &mut Option<Link>) -> io::Result<()> {
        let frames = match c {
            Command::FromNode(node, ep, cmd) => {
                let cmd = if ep > 0 {
                    multi_channel::wrap(ep, 0, &cmd)
                } else {
                    cmd
                };
                Controller::from_node(node, &cmd)
            }
            Command::SetSensor(node, t, raw) => {
                let report = self
                    .ctl
                    .nodes
                    .get_mut(&node)
                    .and_then(|n| n.set_sensor(t, raw));
                report
                    .map(|r| Controller::from_node(node, &r))
                    .unwrap_or_default()
            }
            Command::WakeUp(node) => match self.ctl.nodes.get_mut(&node) {
                Some(n) => {
                    n.awake = true;
                    Controller::from_node(node, &wake_up::notification())
                }
                None => Vec::new(),
            },
            Command::Fault(f) => {
                self.faults.push_back(f);
                Vec::new()
            }
            Command::AddPending(n) => {
                self.ctl.pending.push_back(*n);
                self.ctl.include_pending()
            }
            Command::ExcludeNext(n) => {
                self.ctl.exclude_next = Some(n);
                Vec::new()
            }
            Command::SetDead(n, dead) => {
                if let Some(n) = self.ctl.nodes.get_mut(&n) {
                    n.dead = dead;
                }
                Vec::new()
            }
            Command::Nodes(reply) => {
                let _ = reply.send(self.ctl.nodes.clone());
                Vec::new()
            }
            Command::Disconnect => Vec::new(),
        };
        if let Some(l) = link.as_mut() {
            l.outq.extend(frames.into_iter().map(|f| f.into_inner()));
            self.pump(l).await?;
        }
        Ok(())
    }

    /// Live mode: wakes sleeping nodes at their interval; each wake-up carries a slightly
    /// changed temperature report, as a real multisensor would send.
    async fn on_tick(&mut self, link: &mut Option<Link>) -> io::Result<()> {
        let now = Instant::now();
        let mut frames = Vec::new();
        for (id, n) in self
            .ctl
            .nodes
            .iter_mut()
            .filter(|(_, n)| n.sleeping && !n.dead)
        {
            let interval = Duration::from_secs(u64::from(n.wake_up.0.max(1)));
            let due = *self
                .next_wake
                .entry(*id)
                .or_insert(now + interval.min(Duration::from_secs(10)));
            if now < due {
                continue;
            }
            self.next_wake.insert(*id, now + interval);
            n.awake = true;
            frames.extend(Controller::from_node(*id, &wake_up::notification()));
            self.wake_count = self.wake_count.wrapping_add(1);
            let drift = if self.wake_count.is_multiple_of(2) {
                -1
            } else {
                1
            };
            let raw = n
                .end_points
                .first()
                .and_then(|e| e.sensors.first())
                .map(|s| s.raw + drift);
            if let Some(report) = raw.and_then(|r| n.set_sensor(0x01, r)) {
                frames.extend(Controller::from_node(*id, &report));
            }
        }
        if let Some(l) = link.as_mut() {
            l.outq.extend(frames.into_iter().map(|f| f.into_inner()));
            self.pump(l).await?;
        }
        Ok(())
    }

    fn take_fault(&mut self, pred: impl Fn(Fault) -> bool) -> Option<Fault> {
        let i = self.faults.iter().position(|f| pred(*f))?;
        self.faults.remove(i)
    }

    async fn on_bytes(&mut self, link: &mut Option<Link>) -> io::Result<()> {
        let Some(l) = link.as_mut() else {
            return Ok(());
        };
        while let Some(unit) = l.codec.decode(&mut l.buf)? {
            match unit {
                Unit::Ack => {
                    l.awaiting = None;
                }
                Unit::Nak | Unit::Can => {
                    // Retransmit soon (the host backs off; the stick just retries).
                    if let Some(a) = l.awaiting.as_mut() {
                        a.1 = Instant::now() + Duration::from_millis(100);
                    }
                }
                Unit::Corrupt(_) => l.write(&[NAK]).await?,
                Unit::Frame(f) => {
                    let inbound_fault = self.take_fault(|f| {
                        matches!(
                            f,
                            Fault::NakNextFrame | Fault::CanNextFrame | Fault::IgnoreNextFrame
                        )
                    });
                    match inbound_fault {
                        Some(Fault::NakNextFrame) => l.write(&[NAK]).await?,
                        Some(Fault::CanNextFrame) => l.write(&[CAN]).await?,
                        Some(_) => {}
                        None => {
                            l.write(&[ACK]).await?;
                            if f.frame_type() == FrameType::Request {
                                let frames = self.ctl.on_request(f.function_id(), f.payload());
                                l.outq.extend(frames.into_iter().map(|f| f.into_inner()));
                            }
                        }
                    }
                }
            }
        }
        self.pump(l).await
    }

    async fn pump(&mut self, l: &mut Link) -> io::Result<()> {
        if l.awaiting.is_some() {
            return Ok(());
        }
        let Some(frame) = l.outq.pop_front() else {
            return Ok(());
        };
        if self
            .take_fault(|f| f == Fault::GarbageBeforeNextOutgoing)
            .is_some()
        {
            l.write(&[0xAA, 0x55, 0x00]).await?;
        }
        if self
            .take_fault(|f| f == Fault::CorruptNextOutgoing)
            .is_some()
        {
            let mut bad = frame.to_vec();
            if let Some(last) = bad.last_mut() {
                *last ^= 0xFF;
            }
            l.write(&bad).await?;
        } else {
            l.write(&frame).await?;
        }
        l.awaiting = Some((frame, Instant::now() + ACK_TIMEOUT, 1));
        Ok(())
    }

    async fn retransmit(&mut self, link: &mut Option<Link>) -> io::Result<()> {
        let Some(l) = link.as_mut() else {
            return Ok(());
        };
        match l.awaiting.take() {
            Some((frame, _, attempts)) if attempts < ATTEMPTS => {
                l.write(&frame).await?;
                l.awaiting = Some((frame, Instant::now() + ACK_TIMEOUT, attempts + 1));
                Ok(())
            }
            Some(_) => {
                tracing::warn!("zwave sim: host never ACKed a frame, dropped");
                self.pump(l).await
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
