//! The EZSP protocol layer (UG100 §2): one command at a time, matched to its response by
//! sequence number and frame id, with a deadline; asynchronous callbacks broadcast to every
//! subscriber; `invalidCommand` and truncated responses turned into errors. It runs over any
//! frame transport (ASH in production, in-memory channels in tests).
//!
//! Concurrency: [`serve`] owns the transport while a connection lasts; callers queue
//! [`Request`]s in a bounded `mpsc` (they wait when it is full). The NCP takes one command
//! at a time, so the next request is sent only after the previous one was answered or timed
//! out. A transport send runs as a future inside the loop, so received frames keep being
//! read while ASH waits for its acknowledgement.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

use super::commands::{
    self, Callback, Command, INVALID_COMMAND, InvalidCommand, Version, VersionRsp,
};
use super::frame::{FC_OVERFLOW, FC_TRUNCATED, FrameError, Header, HeaderFormat};
use super::wire::DecodeError;

/// A send on the transport; resolves when the peer has the frame (ASH: acknowledged).
pub type SendFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// The sending half of a frame transport.
pub trait FrameSink: Send + Sync + 'static {
    /// Sends one EZSP frame.
    fn send_frame(&self, frame: Vec<u8>) -> SendFuture;
}

/// What a frame transport reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// One EZSP frame from the NCP.
    Frame(Bytes),
    /// The NCP reset or reported a fatal error: its EZSP state is gone.
    Reset(String),
    /// The transport is closed.
    Closed(String),
}

/// A connected transport.
pub struct Transport {
    /// Sending half.
    pub sink: Arc<dyn FrameSink>,
    /// Receiving half.
    pub events: mpsc::Receiver<LinkEvent>,
}

/// Errors of an EZSP request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EzspError {
    /// No response in time.
    #[error("timed out waiting for the {0} response")]
    Timeout(&'static str),
    /// The NCP answered `invalidCommand`.
    #[error("NCP refused {what}: invalidCommand status {status:#04x}")]
    InvalidCommand {
        /// The command.
        what: &'static str,
        /// `EzspStatus` / `sl_status_t`.
        status: u32,
    },
    /// The NCP flagged the response as truncated.
    #[error("NCP truncated the {0} response")]
    Truncated(&'static str),
    /// The response did not decode.
    #[error("malformed {what} response: {error}")]
    Decode {
        /// The command.
        what: &'static str,
        /// Why.
        error: DecodeError,
    },
    /// A command answered with a failure status.
    #[error("{what} failed with status {status:#x}")]
    Status {
        /// The command.
        what: &'static str,
        /// Status as received.
        status: u32,
    },
    /// The frame could not be built.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The NCP's protocol version is not supported.
    #[error("unsupported EZSP protocol version {0}")]
    UnsupportedVersion(u8),
    /// The link is down.
    #[error("EZSP link offline")]
    Offline,
    /// The link task has stopped.
    #[error("EZSP link stopped")]
    Stopped,
}

/// A callback from the NCP (frame id and raw parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackFrame {
    /// Frame id.
    pub frame_id: u16,
    /// Parameters.
    pub params: Bytes,
}

/// A queued command.
pub struct Request {
    frame_id: u16,
    params: Vec<u8>,
    /// Send with the v4 header whatever the negotiated version (`version` only).
    legacy: bool,
    reply: oneshot::Sender<Result<Bytes, EzspError>>,
}

impl Request {
    /// Answers the request with an error without sending it.
    pub fn fail(self, e: EzspError) {
        let _ = self.reply.send(Err(e));
    }
}

/// Whether the link is usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Opening the port or resetting ASH.
    Connecting,
    /// ASH is up; `generation` counts connections (a new one means the NCP restarted and
    /// the version and network must be set up again).
    Up {
        /// 1 for the first connection, then +1 per reconnect.
        generation: u64,
    },
    /// The port failed; retrying after back-off.
    Down {
        /// Why.
        reason: String,
    },
}

/// Protocol timing.
#[derive(Debug, Clone)]
pub struct ProtocolConfig {
    /// Deadline of each response.
    pub response_timeout: Duration,
    /// Consecutive timeouts after which the connection is considered lost.
    pub max_timeouts: u32,
}

impl Default for ProtocolConfig {
    fn default() -> Self {
        ProtocolConfig {
            response_timeout: Duration::from_secs(5),
            max_timeouts: 3,
        }
    }
}

/// The oldest and newest protocol versions this host negotiates.
pub const MIN_VERSION: u8 = 8;
/// The newest protocol version checked against the references (EmberZNet 8.x / v17+ keep
/// the v14 layouts for the commands used here, so newer NCPs are accepted with a warning).
pub const MAX_TESTED_VERSION: u8 = 17;

/// A cheap cloneable handle to the EZSP link.
#[derive(Clone)]
pub struct EzspHandle {
    requests: mpsc::Sender<Request>,
    callbacks: broadcast::Sender<CallbackFrame>,
    state: watch::Receiver<LinkState>,
    version: Arc<AtomicU8>,
    reconnect: Arc<Notify>,
}

impl std::fmt::Debug for EzspHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EzspHandle")
            .field("state", &*self.state.borrow())
            .field("version", &self.version())
            .finish()
    }
}

/// The loop's side of a handle.
pub struct Served {
    /// Queued commands.
    pub requests: mpsc::Receiver<Request>,
    /// Callback broadcast.
    pub callbacks: broadcast::Sender<CallbackFrame>,
    /// Link state publisher.
    pub state: watch::Sender<LinkState>,
    /// Negotiated version.
    pub version: Arc<AtomicU8>,
    /// Signalled when a handle asks for a fresh connection.
    pub reconnect: Arc<Notify>,
}

/// A handle and the loop's side of it.
pub fn channel() -> (EzspHandle, Served) {
    let (req_tx, req_rx) = mpsc::channel(64);
    let (cb_tx, _) = broadcast::channel(256);
    let (state_tx, state_rx) = watch::channel(LinkState::Connecting);
    let version = Arc::new(AtomicU8::new(4));
    let reconnect = Arc::new(Notify::new());
    let handle = EzspHandle {
        requests: req_tx,
        callbacks: cb_tx.clone(),
        state: state_rx,
        version: version.clone(),
        reconnect: reconnect.clone(),
    };
    let served = Served {
        requests: req_rx,
        callbacks: cb_tx,
        state: state_tx,
        version,
        reconnect,
    };
    (handle, served)
}

impl EzspHandle {
    /// The negotiated protocol version (4 until negotiated).
    pub fn version(&self) -> u8 {
        self.version.load(Ordering::Relaxed)
    }

    /// Drops the current connection so the link resets the NCP and connects again (the
    /// NCP answers ASH but not EZSP, or its set-up failed).
    pub fn reconnect(&self) {
        self.reconnect.notify_one();
    }

    /// Subscribes to callbacks.
    pub fn callbacks(&self) -> broadcast::Receiver<CallbackFrame> {
        self.callbacks.subscribe()
    }

    /// The link state.
    pub fn state(&self) -> watch::Receiver<LinkState> {
        self.state.clone()
    }

    async fn submit(
        &self,
        frame_id: u16,
        params: Vec<u8>,
        legacy: bool,
    ) -> Result<Bytes, EzspError> {
        let (reply, rx) = oneshot::channel();
        let req = Request {
            frame_id,
            params,
            legacy,
            reply,
        };
        self.requests
            .send(req)
            .await
            .map_err(|_| EzspError::Stopped)?;
        rx.await.map_err(|_| EzspError::Stopped)?
    }

    /// Sends a command and decodes its response for the negotiated version.
    pub async fn request<C: Command>(&self, cmd: &C) -> Result<C::Response, EzspError> {
        let v = self.version();
        let params = self.submit(C::ID, commands::encode(cmd, v), false).await?;
        commands::decode(&params, v).map_err(|error| EzspError::Decode {
            what: C::NAME,
            error,
        })
    }

    /// Negotiates the protocol version: `version` with the legacy header first, then again
    /// in the NCP's own layout. Returns the NCP's answer.
    pub async fn negotiate(&self) -> Result<VersionRsp, EzspError> {
        let first = Version {
            desired_protocol_version: 4,
        };
        let params = self
            .submit(Version::ID, commands::encode(&first, 4), true)
            .await?;
        let rsp: VersionRsp = commands::decode(&params, 4).map_err(|error| EzspError::Decode {
            what: Version::NAME,
            error,
        })?;
        let v = rsp.protocol_version;
        if v < MIN_VERSION {
            return Err(EzspError::UnsupportedVersion(v));
        }
        if v > MAX_TESTED_VERSION {
            tracing::warn!(
                version = v,
                "EZSP version newer than tested; using the v14+ layouts"
            );
        }
        self.version.store(v, Ordering::Relaxed);
        let again = self
            .request(&Version {
                desired_protocol_version: v,
            })
            .await?;
        if again.protocol_version != v {
            return Err(EzspError::UnsupportedVersion(again.protocol_version));
        }
        Ok(again)
    }
}

/// Waits on `rx` for a callback of type `C` matching `pred`, up to `timeout`.
pub async fn wait_for<C: Callback>(
    rx: &mut broadcast::Receiver<CallbackFrame>,
    version: u8,
    timeout: Duration,
    mut pred: impl FnMut(&C) -> bool,
) -> Result<C, EzspError> {
    let fut = async {
        loop {
            match rx.recv().await {
                Ok(f) if f.frame_id == C::ID => match commands::decode::<C>(&f.params, version) {
                    Ok(c) if pred(&c) => return Ok(c),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, what = C::NAME, "malformed callback ignored")
                    }
                },
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(n, "EZSP callback subscriber lagged")
                }
                Err(broadcast::error::RecvError::Closed) => return Err(EzspError::Stopped),
            }
        }
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| EzspError::Timeout(C::NAME))?
}

/// Why [`serve`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The transport failed, the NCP reset, or it stopped answering.
    Lost(String),
    /// Every handle is gone.
    HandlesGone,
}

struct Inflight {
    seq: u8,
    frame_id: u16,
    format: HeaderFormat,
    reply: oneshot::Sender<Result<Bytes, EzspError>>,
    deadline: Instant,
}

/// Serves requests over `t` until it fails or every handle is gone. `seq` carries the
/// sequence number across connections.
pub async fn serve(
    t: &mut Transport,
    served: &mut Served,
    seq: &mut u8,
    config: &ProtocolConfig,
) -> Ended {
    let mut inflight: Option<Inflight> = None;
    let mut sending: Option<SendFuture> = None;
    let mut timeouts = 0u32;
    let ended = loop {
        let deadline = inflight.as_ref().map(|i| i.deadline);
        tokio::select! {
            ev = t.events.recv() => match ev {
                Some(LinkEvent::Frame(b)) => {
                    let v = served.version.load(Ordering::Relaxed);
                    if on_frame(&b, v, &mut inflight, &served.callbacks) {
                        timeouts = 0;
                    }
                }
                Some(LinkEvent::Reset(r)) => break Ended::Lost(format!("NCP reset: {r}")),
                Some(LinkEvent::Closed(r)) => break Ended::Lost(r),
                None => break Ended::Lost("transport closed".into()),
            },
            sent = async { match &mut sending { Some(f) => f.await, None => std::future::pending().await } } => {
                sending = None;
                if let Err(e) = sent {
                    break Ended::Lost(format!("send failed: {e}"));
                }
            },
            req = served.requests.recv(), if inflight.is_none() && sending.is_none() => {
                let Some(req) = req else { break Ended::HandlesGone };
                let v = served.version.load(Ordering::Relaxed);
                let format = if req.legacy { HeaderFormat::Legacy } else { HeaderFormat::for_version(v) };
                match Header::command(*seq, req.frame_id).emit(format, &req.params) {
                    Ok(bytes) => {
                        tracing::trace!(frame = commands::name(req.frame_id), seq = *seq, "EZSP send");
                        sending = Some(t.sink.send_frame(bytes));
                        inflight = Some(Inflight {
                            seq: *seq,
                            frame_id: req.frame_id,
                            format,
                            reply: req.reply,
                            deadline: Instant::now() + config.response_timeout,
                        });
                        *seq = seq.wrapping_add(1);
                    }
                    Err(e) => { let _ = req.reply.send(Err(e.into())); }
                }
            },
            () = served.reconnect.notified() => break Ended::Lost("reconnect requested".into()),
            () = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                if let Some(i) = inflight.take() {
                    let what = commands::name(i.frame_id);
                    tracing::warn!(frame = what, seq = i.seq, "EZSP response timed out");
                    let _ = i.reply.send(Err(EzspError::Timeout(what)));
                }
                timeouts += 1;
                if timeouts >= config.max_timeouts.max(1) {
                    break Ended::Lost(format!("NCP stopped answering ({timeouts} commands timed out)"));
                }
            },
        }
    };
    if let Some(i) = inflight {
        let _ = i.reply.send(Err(EzspError::Offline));
    }
    ended
}

/// Handles one received frame; true when it answered the command in flight.
fn on_frame(
    bytes: &[u8],
    version: u8,
    inflight: &mut Option<Inflight>,
    callbacks: &broadcast::Sender<CallbackFrame>,
) -> bool {
    let format = inflight
        .as_ref()
        .map_or(HeaderFormat::for_version(version), |i| i.format);
    let (h, params) = match Header::parse(bytes, format) {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, "EZSP frame dropped");
            return false;
        }
    };
    if !h.is_response() {
        tracing::warn!(frame_id = h.frame_id, "EZSP command from the NCP ignored");
        return false;
    }
    if h.control & FC_OVERFLOW != 0 {
        tracing::warn!("NCP reports a memory overflow: callbacks may have been lost");
    }
    let answers = inflight.as_ref().is_some_and(|i| {
        i.seq == h.seq
            && !h.is_async_callback()
            && (h.frame_id == i.frame_id || h.frame_id == INVALID_COMMAND)
    });
    if answers && let Some(i) = inflight.take() {
        let what = commands::name(i.frame_id);
        let result = if h.frame_id == INVALID_COMMAND && i.frame_id != INVALID_COMMAND {
            let status =
                commands::decode::<InvalidCommand>(params, version).map_or(0, |c| c.status.0);
            tracing::warn!(frame = what, status, "NCP answered invalidCommand");
            Err(EzspError::InvalidCommand { what, status })
        } else if h.control & FC_TRUNCATED != 0 {
            Err(EzspError::Truncated(what))
        } else {
            Ok(Bytes::copy_from_slice(params))
        };
        let _ = i.reply.send(result);
        return true;
    }
    if h.frame_id == INVALID_COMMAND {
        tracing::warn!(
            seq = h.seq,
            "invalidCommand for no command in flight ignored"
        );
        return false;
    }
    tracing::trace!(frame = commands::name(h.frame_id), "EZSP callback");
    let _ = callbacks.send(CallbackFrame {
        frame_id: h.frame_id,
        params: Bytes::copy_from_slice(params),
    });
    false
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
