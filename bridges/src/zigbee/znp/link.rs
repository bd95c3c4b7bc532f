//! The ZNP link actor: one task owns the port, runs the [`Transactions`] machine, broadcasts
//! AREQ callbacks, and survives port loss (offline, back-off, reconnect, handshake again).
//!
//! Start-up handshake on every (re)connect, as Z-Stack sticks need it: SYS_PING; if no answer,
//! write the serial-bootloader skip byte (0xEF, `FORCE_RUN` of the CC2538/CC26xx boot loader)
//! 256 times and ping again. Only after a ping answer is the link `Up`.
//!
//! Concurrency: requests queue in a bounded `mpsc` (callers wait when it is full); callbacks
//! go out on a `broadcast` (a lagging subscriber loses the oldest, the link never blocks).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{Instant, Sleep};
use tokio_util::codec::Framed;

use super::commands::{DecodeError, MtMessage, Request, sys::Ping};
use super::frame::{FrameError, MtCodec, MtFrame};
use super::transaction::{Action, Input, Token, TransactionError, Transactions};
use crate::api::{AsyncPort, SerialPortSpec, open_port};

/// The CC2538/CC26xx serial boot loader's FORCE_RUN byte (0x10 ^ 0xFF).
pub const BOOTLOADER_SKIP_BYTE: u8 = 0xEF;

/// Errors of a ZNP request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZnpError {
    /// The transaction failed (timeout, RPC error, port lost).
    #[error(transparent)]
    Transaction(#[from] TransactionError),
    /// The SRSP or callback did not decode.
    #[error("malformed {what}: {error}")]
    Decode {
        /// Which message.
        what: &'static str,
        /// Why.
        error: DecodeError,
    },
    /// Z-Stack answered with a non-success status.
    #[error("{what} failed with status {status:#04x}")]
    Status {
        /// Which request.
        what: &'static str,
        /// Z-Stack status code.
        status: u8,
    },
    /// An awaited callback did not arrive in time.
    #[error("timed out waiting for {0}")]
    CallbackTimeout(&'static str),
    /// The link is down.
    #[error("ZNP link offline")]
    Offline,
    /// The link task has stopped.
    #[error("ZNP link stopped")]
    Stopped,
}

/// Whether the link is usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Opening the port or handshaking.
    Connecting,
    /// Handshake done; `generation` counts successful connects (a new one means Z-Stack may
    /// have restarted and the network must be resumed).
    Up {
        /// 1 for the first connect, then +1 per reconnect.
        generation: u64,
    },
    /// The port failed; retrying after back-off.
    Down {
        /// Why.
        reason: String,
    },
}

/// Opens the port; called on start and on every reconnect.
pub type Connector = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Box<dyn AsyncPort>, String>> + Send>>
        + Send
        + Sync,
>;

/// A connector for a serial device or `tcp://` spec through the bridges API's `open_port`.
pub fn port_connector(spec: SerialPortSpec) -> Connector {
    Arc::new(move || {
        let spec = spec.clone();
        Box::pin(async move { open_port(&spec).await.map_err(|e| e.to_string()) })
    })
}

/// Link timing.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Deadline for each SRSP.
    pub sreq_timeout: Duration,
    /// Deadline for a handshake ping.
    pub ping_timeout: Duration,
    /// Handshake attempts (the second and later send the bootloader skip bytes first).
    pub ping_attempts: u32,
    /// First reconnect delay; doubles up to `backoff_max`.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// Consecutive SRSP timeouts after which the port is reopened and the link handshakes
    /// again.
    pub max_timeouts: u32,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            sreq_timeout: Duration::from_secs(6),
            ping_timeout: Duration::from_secs(1),
            ping_attempts: 3,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_timeouts: 3,
        }
    }
}

type Completion = oneshot::Sender<Result<Option<MtFrame>, TransactionError>>;

struct Submit {
    frame: MtFrame,
    reply: Completion,
}

/// A cheap cloneable handle to the link task.
#[derive(Clone)]
pub struct ZnpHandle {
    requests: mpsc::Sender<Submit>,
    callbacks: broadcast::Sender<MtFrame>,
    state: watch::Receiver<LinkState>,
}

impl std::fmt::Debug for ZnpHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZnpHandle")
            .field("state", &*self.state.borrow())
            .finish()
    }
}

impl ZnpHandle {
    async fn submit(&self, frame: MtFrame) -> Result<Option<MtFrame>, ZnpError> {
        let (reply, rx) = oneshot::channel();
        self.requests
            .send(Submit { frame, reply })
            .await
            .map_err(|_| ZnpError::Stopped)?;
        match rx.await {
            Ok(r) => Ok(r?),
            Err(_) => Err(ZnpError::Stopped),
        }
    }

    /// Sends an SREQ and decodes its SRSP.
    pub async fn request<R: Request>(&self, req: &R) -> Result<R::Response, ZnpError> {
        let frame = self.submit(req.to_frame()).await?;
        let what = super::commands::lookup(R::HEADER).map_or("SRSP", |c| c.name);
        let frame = frame.ok_or(ZnpError::Decode {
            what,
            error: DecodeError::Truncated,
        })?;
        R::Response::from_frame(&frame).map_err(|error| ZnpError::Decode { what, error })
    }

    /// Sends an AREQ (no response).
    pub async fn send<M: MtMessage>(&self, msg: &M) -> Result<(), ZnpError> {
        self.submit(msg.to_frame()).await.map(|_| ())
    }

    /// Subscribes to AREQ callbacks from Z-Stack.
    pub fn callbacks(&self) -> broadcast::Receiver<MtFrame> {
        self.callbacks.subscribe()
    }

    /// The link state, updated on every change.
    pub fn state(&self) -> watch::Receiver<LinkState> {
        self.state.clone()
    }
}

/// Waits on `rx` for a callback of type `M` matching `pred`, up to `timeout`.
pub async fn wait_for<M: MtMessage>(
    rx: &mut broadcast::Receiver<MtFrame>,
    timeout: Duration,
    what: &'static str,
    mut pred: impl FnMut(&M) -> bool,
) -> Result<M, ZnpError> {
    let fut = async {
        loop {
            match rx.recv().await {
                Ok(f) if f.header == M::HEADER => match M::from_frame(&f) {
                    Ok(m) if pred(&m) => return Ok(m),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, what, "malformed callback ignored"),
                },
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(n, "callback subscriber lagged")
                }
                Err(broadcast::error::RecvError::Closed) => return Err(ZnpError::Stopped),
            }
        }
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| ZnpError::CallbackTimeout(what))?
}

/// Starts the link task; it runs until every handle is dropped.
pub fn spawn_link(connector: Connector, config: LinkConfig) -> ZnpHandle {
    let (req_tx, req_rx) = mpsc::channel(64);
    let (cb_tx, _) = broadcast::channel(256);
    let (state_tx, state_rx) = watch::channel(LinkState::Connecting);
    let actor = LinkActor {
        connector,
        config,
        requests: req_rx,
        callbacks: cb_tx.clone(),
        state: state_tx,
    };
    tokio::spawn(actor.run());
    ZnpHandle {
        requests: req_tx,
        callbacks: cb_tx,
        state: state_rx,
    }
}

type Port = Framed<Box<dyn AsyncPort>, MtCodec>;

enum Ended {
    PortLost(String),
    HandlesGone,
}

struct LinkActor {
    connector: Connector,
    config: LinkConfig,
    requests: mpsc::Receiver<Submit>,
    callbacks: broadcast::Sender<MtFrame>,
    state: watch::Sender<LinkState>,
}

impl LinkActor {
    async fn run(mut self) {
        let mut backoff = self.config.backoff_min;
        let mut generation = 0;
        loop {
            self.state.send_replace(LinkState::Connecting);
            let reason = match (self.connector)().await {
                Ok(port) => {
                    let mut port = Framed::new(port, MtCodec::new());
                    match self.handshake(&mut port).await {
                        Ok(()) => {
                            generation += 1;
                            backoff = self.config.backoff_min;
                            tracing::info!(generation, "ZNP link up");
                            self.state.send_replace(LinkState::Up { generation });
                            match self.serve(port).await {
                                Ended::HandlesGone => return,
                                Ended::PortLost(r) => r,
                            }
                        }
                        Err(r) => r,
                    }
                }
                Err(e) => e,
            };
            tracing::warn!(%reason, retry_in = ?backoff, "ZNP link down");
            self.state.send_replace(LinkState::Down { reason });
            if !self.idle_for(backoff).await {
                return;
            }
            backoff = (backoff * 2).min(self.config.backoff_max);
        }
    }

    /// Refuses requests while offline; false when every handle is gone.
    async fn idle_for(&mut self, d: Duration) -> bool {
        let until = tokio::time::sleep(d);
        tokio::pin!(until);
        loop {
            tokio::select! {
                () = &mut until => return true,
                req = self.requests.recv() => match req {
                    Some(s) => { let _ = s.reply.send(Err(TransactionError::PortLost)); }
                    None => return false,
                },
            }
        }
    }

    async fn handshake(&mut self, port: &mut Port) -> Result<(), String> {
        for attempt in 0..self.config.ping_attempts {
            if attempt > 0 {
                tracing::debug!("sending bootloader skip bytes");
                let skip = [BOOTLOADER_SKIP_BYTE; 256];
                let io = port.get_mut();
                io.write_all(&skip).await.map_err(|e| e.to_string())?;
                io.flush().await.map_err(|e| e.to_string())?;
            }
            port.send(Ping {}.to_frame())
                .await
                .map_err(|e| e.to_string())?;
            let deadline = Instant::now() + self.config.ping_timeout;
            loop {
                match tokio::time::timeout_at(deadline, port.next()).await {
                    Err(_) => break,
                    Ok(None) => return Err("port closed during handshake".into()),
                    Ok(Some(Err(e))) => return Err(e.to_string()),
                    Ok(Some(Ok(f))) if f.header == <Ping as Request>::Response::HEADER => {
                        return Ok(());
                    }
                    Ok(Some(Ok(f))) if f.header.frame_type == super::frame::FrameType::Areq => {
                        let _ = self.callbacks.send(f);
                    }
                    Ok(Some(Ok(_))) => {}
                }
            }
        }
        Err("no answer to SYS_PING".into())
    }

    async fn serve(&mut self, mut port: Port) -> Ended {
        let mut machine = Transactions::new();
        let mut pending: HashMap<Token, Completion> = HashMap::new();
        let mut timer: Option<(Token, Pin<Box<Sleep>>)> = None;
        let mut next_token: Token = 0;
        let mut silent = 0u32;
        let ended = loop {
            let input = tokio::select! {
                frame = port.next() => match frame {
                    Some(Ok(f)) => Input::Received(f),
                    Some(Err(e)) => break Ended::PortLost(e.to_string()),
                    None => break Ended::PortLost("port closed".into()),
                },
                req = self.requests.recv() => match req {
                    Some(s) => {
                        next_token += 1;
                        pending.insert(next_token, s.reply);
                        Input::Submit { token: next_token, frame: s.frame }
                    }
                    None => break Ended::HandlesGone,
                },
                token = async { match &mut timer { Some((t, s)) => { s.as_mut().await; *t } None => std::future::pending().await } } => {
                    timer = None;
                    Input::TimedOut(token)
                }
            };
            let actions = machine.step(input);
            for a in &actions {
                match a {
                    Action::Complete {
                        result: Err(TransactionError::Timeout(_)),
                        ..
                    } => silent += 1,
                    Action::Complete {
                        result: Ok(Some(_)) | Err(TransactionError::Rpc { .. }),
                        ..
                    } => silent = 0,
                    _ => {}
                }
            }
            if let Err(e) = self
                .apply(actions, &mut port, &mut pending, &mut timer)
                .await
            {
                break Ended::PortLost(e.to_string());
            }
            if silent >= self.config.max_timeouts.max(1) {
                // The firmware hangs while the port is fine (the most reported ZNP failure):
                // reopen the port and handshake again rather than waiting for a restart.
                break Ended::PortLost(format!(
                    "Z-Stack stopped answering ({silent} requests timed out)"
                ));
            }
        };
        let actions = machine.step(Input::PortLost);
        let _ = self
            .apply(actions, &mut port, &mut pending, &mut timer)
            .await;
        ended
    }

    async fn apply(
        &mut self,
        actions: Vec<Action>,
        port: &mut Port,
        pending: &mut HashMap<Token, Completion>,
        timer: &mut Option<(Token, Pin<Box<Sleep>>)>,
    ) -> Result<(), FrameError> {
        for action in actions {
            match action {
                Action::Send {
                    frame,
                    deadline_for,
                } => {
                    tracing::trace!(frame = %super::commands::describe(frame.header), "MT send");
                    if let Some(t) = deadline_for {
                        *timer = Some((t, Box::pin(tokio::time::sleep(self.config.sreq_timeout))));
                    }
                    port.send(frame).await?;
                }
                Action::Complete { token, result } => {
                    if let Some(reply) = pending.remove(&token) {
                        let _ = reply.send(result);
                    }
                }
                Action::Callback(frame) => {
                    tracing::trace!(frame = %super::commands::describe(frame.header), "MT callback");
                    let _ = self.callbacks.send(frame);
                }
                Action::Unexpected(frame) => {
                    tracing::warn!(frame = %super::commands::describe(frame.header), "unexpected MT frame dropped");
                }
            }
        }
        Ok(())
    }
}
