//! The Serial API port actor: owns the port, drives [`Transaction`]s, ACKs what the stick
//! sends and survives the port going away.
//!
//! Concurrency: one task owns the port (any `AsyncRead + AsyncWrite`, opened by a
//! [`Connector`]); [`SerialHandle`]s queue requests on a bounded `mpsc` (64) and get the
//! result on a `oneshot`. One request is in flight at a time, as the Serial API requires.
//! Frames from the stick that are not the in-flight request's response or callback
//! (ApplicationCommandHandler, ApplicationUpdate, later inclusion callbacks, ...) go out on
//! an `mpsc` of [`Inbound`]; if the consumer falls 1024 frames behind, frames are dropped
//! and logged rather than stalling the ACKs the stick is waiting for.
//!
//! Every unit (ACK, NAK, data frame) is written with its own `write_all` + `flush`: sticks
//! and especially the zwave-js mock server treat one write as one unit (FACTS.md).
//!
//! When the port fails or closes, the in-flight request fails with
//! [`TransactionError::PortLost`], [`Inbound::Down`] is sent, requests arriving while down
//! fail fast with [`TransactionError::Offline`], and the connector is retried with
//! exponential back-off; [`Inbound::Up`] announces a new session (the bridge re-runs its
//! start-up sequence).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tokio_util::codec::Decoder;

use super::codec::{SerialCodec, Unit};
use super::frame::{Frame, FrameType, request};
use super::functions::HostRequest;
use super::transport::{Action, Input, Outcome, Timeouts, Transaction, TransactionError};

/// A byte stream to a stick: a serial port, a TCP connection, a test pipe.
pub trait PortIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> PortIo for T {}

/// An opened port.
pub type BoxPort = Box<dyn PortIo>;
/// The future a [`Connector`] returns.
pub type ConnectFuture = Pin<Box<dyn Future<Output = io::Result<BoxPort>> + Send>>;

/// Opens (and re-opens, after a loss) the port.
pub trait Connector: Send + 'static {
    /// Opens the port once.
    fn connect(&mut self) -> ConnectFuture;
}

impl<F> Connector for F
where
    F: FnMut() -> ConnectFuture + Send + 'static,
{
    fn connect(&mut self) -> ConnectFuture {
        self()
    }
}

/// A connector for `host:port` over TCP (ser2net, network sticks, the simulator).
pub fn tcp_connector(addr: String) -> impl Connector {
    move || -> ConnectFuture {
        let addr = addr.clone();
        Box::pin(async move {
            let s = tokio::net::TcpStream::connect(&addr).await?;
            // One unit per segment, without Nagle delays (FACTS.md).
            s.set_nodelay(true)?;
            Ok(Box::new(s) as BoxPort)
        })
    }
}

/// What the actor reports besides request results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A port session started.
    Up,
    /// The port was lost.
    Down,
    /// A frame from the stick that no request was waiting for.
    Frame(Frame<Bytes>),
}

/// Port actor settings.
#[derive(Debug, Clone, Copy)]
pub struct PortConfig {
    /// Transaction timeouts.
    pub timeouts: Timeouts,
    /// A partial frame older than this is discarded (Host API "byte timeout").
    pub byte_timeout: Duration,
    /// First reconnect delay; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// Smallest gap between two writes (0 for sticks; the zwave-js mock server needs ~20 ms).
    pub min_write_gap: Duration,
}

impl Default for PortConfig {
    fn default() -> Self {
        Self {
            timeouts: Timeouts::default(),
            byte_timeout: Duration::from_millis(1500),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            min_write_gap: Duration::ZERO,
        }
    }
}

type Reply = oneshot::Sender<Result<Outcome, TransactionError>>;

/// A cheap, cloneable handle to the port actor.
#[derive(Debug, Clone)]
pub struct SerialHandle {
    tx: mpsc::Sender<(HostRequest, Reply)>,
}

impl SerialHandle {
    /// Queues `req` and waits for its outcome.
    pub async fn request(&self, req: HostRequest) -> Result<Outcome, TransactionError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send((req, reply))
            .await
            .map_err(|_| TransactionError::PortLost)?;
        rx.await.unwrap_or(Err(TransactionError::PortLost))
    }
}

/// Starts the actor; it stops when every [`SerialHandle`] is dropped.
pub fn spawn(
    connector: impl Connector,
    config: PortConfig,
) -> (SerialHandle, mpsc::Receiver<Inbound>) {
    let (tx, rx) = mpsc::channel(64);
    let (in_tx, in_rx) = mpsc::channel(1024);
    tokio::spawn(run(Box::new(connector), config, rx, in_tx));
    (SerialHandle { tx }, in_rx)
}

async fn run(
    mut connector: Box<dyn Connector>,
    config: PortConfig,
    mut requests: mpsc::Receiver<(HostRequest, Reply)>,
    inbound: mpsc::Sender<Inbound>,
) {
    let mut delay = config.reconnect_min;
    loop {
        match connector.connect().await {
            Ok(port) => {
                delay = config.reconnect_min;
                // Up/Down must not be lost (the bridge re-initialises on Up); its consumer
                // never waits on this actor, so awaiting queue space cannot deadlock.
                let _ = inbound.send(Inbound::Up).await;
                let mut session = Session::new(port, config, &inbound);
                let ended = session.run(&mut requests).await;
                let _ = inbound.send(Inbound::Down).await;
                match ended {
                    SessionEnd::HandlesDropped => return,
                    SessionEnd::PortLost(e) => {
                        tracing::warn!(error = %e, "zwave: serial port lost")
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?delay, "zwave: cannot open serial port")
            }
        }
        // Back off, failing requests fast meanwhile.
        let until = Instant::now() + delay;
        loop {
            tokio::select! {
                _ = sleep_until(until) => break,
                r = requests.recv() => match r {
                    Some((_, reply)) => { let _ = reply.send(Err(TransactionError::Offline)); }
                    None => return,
                },
            }
        }
        delay = (delay * 2).min(config.reconnect_max);
    }
}

fn forward(inbound: &mpsc::Sender<Inbound>, msg: Inbound) {
    if let Err(e) = inbound.try_send(msg) {
        tracing::warn!(error = %e, "zwave: inbound queue full or closed, frame dropped");
    }
}

enum SessionEnd {
    HandlesDropped,
    PortLost(io::Error),
}

struct InFlight {
    tx: Transaction,
    frame: Frame<Bytes>,
    reply: Reply,
    deadline: Option<Instant>,
}

struct Session<'a> {
    port: BoxPort,
    codec: SerialCodec,
    buf: BytesMut,
    partial_since: Option<Instant>,
    last_write: Option<Instant>,
    config: PortConfig,
    inbound: &'a mpsc::Sender<Inbound>,
    current: Option<InFlight>,
}

impl<'a> Session<'a> {
    fn new(port: BoxPort, config: PortConfig, inbound: &'a mpsc::Sender<Inbound>) -> Self {
        Self {
            port,
            codec: SerialCodec::new(),
            buf: BytesMut::with_capacity(512),
            partial_since: None,
            last_write: None,
            config,
            inbound,
            current: None,
        }
    }

    async fn run(&mut self, requests: &mut mpsc::Receiver<(HostRequest, Reply)>) -> SessionEnd {
        let result = self.serve(requests).await;
        if let Some(c) = self.current.take() {
            let _ = c.reply.send(Err(TransactionError::PortLost));
        }
        result
    }

    async fn serve(&mut self, requests: &mut mpsc::Receiver<(HostRequest, Reply)>) -> SessionEnd {
        loop {
            let deadline = self.current.as_ref().and_then(|c| c.deadline);
            let byte_deadline = self.partial_since.map(|t| t + self.config.byte_timeout);
            let idle = self.current.is_none();
            let step = tokio::select! {
                n = self.port.read_buf(&mut self.buf) => match n {
                    Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "port closed")),
                    Ok(_) => self.on_bytes().await,
                    Err(e) => Err(e),
                },
                r = requests.recv(), if idle => match r {
                    Some((req, reply)) => self.start(req, reply).await,
                    None => return SessionEnd::HandlesDropped,
                },
                _ = sleep_until_opt(deadline) => self.feed(Input::Timeout).await,
                _ = sleep_until_opt(byte_deadline) => {
                    self.codec.discard_partial(&mut self.buf);
                    self.partial_since = None;
                    self.on_bytes().await
                }
            };
            if let Err(e) = step {
                return SessionEnd::PortLost(e);
            }
        }
    }

    async fn write_unit(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(last) = self.last_write
            && !self.config.min_write_gap.is_zero()
        {
            sleep_until(last + self.config.min_write_gap).await;
        }
        self.port.write_all(bytes).await?;
        self.port.flush().await?;
        self.last_write = Some(Instant::now());
        Ok(())
    }

    async fn start(&mut self, req: HostRequest, reply: Reply) -> io::Result<()> {
        let frame = match request(req.function, &req.payload) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, function = ?req.function, "zwave: request does not fit a frame");
                let _ = reply.send(Err(TransactionError::Refused(Bytes::new())));
                return Ok(());
            }
        };
        self.current = Some(InFlight {
            tx: Transaction::new(&req, self.config.timeouts),
            frame,
            reply,
            deadline: None,
        });
        self.feed(Input::Start).await
    }

    async fn feed(&mut self, input: Input) -> io::Result<()> {
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        let actions = cur.tx.step(input);
        for action in actions {
            match action {
                Action::Send => {
                    let bytes = cur_frame(&self.current);
                    self.write_unit(&bytes).await?;
                }
                Action::SetTimer(d) => {
                    if let Some(c) = self.current.as_mut() {
                        c.deadline = Some(Instant::now() + d);
                    }
                }
                Action::Finish(result) => {
                    if let Some(c) = self.current.take() {
                        let _ = c.reply.send(result);
                    }
                }
            }
        }
        Ok(())
    }

    async fn on_bytes(&mut self) -> io::Result<()> {
        loop {
            let unit = self.codec.decode(&mut self.buf)?;
            let Some(unit) = unit else { break };
            match unit {
                Unit::Ack => self.feed(Input::Ack).await?,
                Unit::Nak => self.feed(Input::Nak).await?,
                Unit::Can => self.feed(Input::Can).await?,
                Unit::Corrupt(_) => self.write_unit(&[super::frame::NAK]).await?,
                Unit::Frame(f) => {
                    self.write_unit(&[super::frame::ACK]).await?;
                    self.dispatch(f).await?;
                }
            }
        }
        self.partial_since = match (self.buf.is_empty(), self.partial_since) {
            (true, _) => None,
            (false, Some(t)) => Some(t),
            (false, None) => Some(Instant::now()),
        };
        Ok(())
    }

    async fn dispatch(&mut self, f: Frame<Bytes>) -> io::Result<()> {
        let function = f.function_id();
        let cur = self.current.as_ref().map(|c| &c.tx);
        let input = match f.frame_type() {
            FrameType::Response if cur.is_some_and(|t| t.matches_response(function)) => {
                Some(Input::Response(f.payload_bytes()))
            }
            FrameType::Request
                if cur.is_some_and(|t| t.matches_callback(function, f.payload())) =>
            {
                Some(Input::Callback(f.payload_bytes()))
            }
            FrameType::Response => {
                tracing::warn!(?function, "zwave: unexpected response frame dropped");
                None
            }
            _ => {
                forward(self.inbound, Inbound::Frame(f));
                None
            }
        };
        match input {
            Some(i) => self.feed(i).await,
            None => Ok(()),
        }
    }
}

fn cur_frame(cur: &Option<InFlight>) -> Bytes {
    cur.as_ref()
        .map(|c| c.frame.clone().into_inner())
        .unwrap_or_default()
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(t) => sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
