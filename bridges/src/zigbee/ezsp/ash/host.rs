//! The host side of ASH: reset the NCP (CANCEL + RST, wait for RSTACK, UG101 §5), then one
//! task owns the port and runs the [`Arq`] machine; [`AshHost`] handles queue EZSP frames and
//! the EZSP frames the NCP sends come out of an [`AshEvent`] channel.
//!
//! Concurrency: sends queue in a bounded `mpsc` (callers wait when it is full) and complete
//! when the NCP acknowledges them. Received frames go to a bounded event channel; while the
//! consumer lags, the actor keeps them in its own queue and, past
//! [`AshConfig::not_ready_threshold`], tells the NCP with nRdy to hold its callbacks; the
//! port is read regardless of the consumer, so ACKs never wait for it. Writes go through an
//! output buffer drained inside the actor's `select!`, so a slow writer never stops reads. The link ends on port EOF or error, retries
//! exhausted, an ERROR frame or an unexpected RSTACK; the last event is always
//! [`AshEvent::Closed`], and unfinished sends fail.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::arq::{Action, Arq, ArqConfig, Input, Token};
use super::codec::{ASH_VERSION, AshFrame, CANCEL, MAX_DATA_LEN, MIN_DATA_LEN};
use super::port::AshPort;

/// Errors of the host link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AshError {
    /// No RSTACK after every reset attempt.
    #[error("NCP did not answer RST with RSTACK")]
    Timeout,
    /// The link has ended (port closed, retries exhausted, NCP reset or error, closed).
    #[error("ASH link closed")]
    Closed,
    /// The EZSP frame is longer than an ASH DATA field.
    #[error("EZSP frame of {0} bytes exceeds {MAX_DATA_LEN}")]
    TooLong(usize),
    /// The EZSP frame is shorter than any EZSP frame.
    #[error("EZSP frame of {0} bytes is shorter than {MIN_DATA_LEN}")]
    TooShort(usize),
    /// Port I/O failed.
    #[error("port I/O: {0}")]
    Io(String),
    /// The NCP answered the reset with ERROR frames only.
    #[error("NCP reported error {0:#04x}")]
    NcpError(u8),
    /// RSTACK carried an ASH version other than 2.
    #[error("NCP speaks ASH version {0}, not 2")]
    BadVersion(u8),
}

/// What the NCP sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AshEvent {
    /// One EZSP frame, in order, exactly once.
    Frame(Bytes),
    /// RSTACK mid-session: the NCP rebooted; the link ends (a `Closed` follows) and the
    /// backend must start a new one.
    NcpReset {
        /// The RSTACK reset code.
        reset_code: u8,
    },
    /// ERROR frame: the NCP is in the FAILED state; the link ends (a `Closed` follows).
    NcpError {
        /// The error code.
        code: u8,
    },
    /// The link ended: port EOF or I/O error, retries exhausted, NCP reset/error, or close.
    Closed(String),
}

/// Host link parameters. The defaults are UG101's timer values with the window
/// zigbee-herdsman uses (3; bellows uses 1, the NCP itself 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AshConfig {
    /// DATA frames in flight before waiting for ACKs (TX_K), 1..=7.
    pub window: u8,
    /// T_RX_ACK_INIT.
    pub ack_timeout_initial: Duration,
    /// T_RX_ACK_MIN.
    pub ack_timeout_min: Duration,
    /// T_RX_ACK_MAX.
    pub ack_timeout_max: Duration,
    /// Consecutive ACK timeouts (each followed by a retransmission) before the link fails.
    pub max_retries: u32,
    /// How long to wait for RSTACK after each RST (T_RSTACK_MAX).
    pub reset_timeout: Duration,
    /// RST attempts at start (UG101: retry up to five times).
    pub reset_attempts: u32,
    /// Capacity of the event channel.
    pub event_capacity: usize,
    /// Received frames waiting for the consumer at which nRdy is set (cleared when the
    /// queue has drained).
    pub not_ready_threshold: usize,
}

impl Default for AshConfig {
    fn default() -> Self {
        AshConfig {
            window: 3,
            ack_timeout_initial: Duration::from_millis(1600),
            ack_timeout_min: Duration::from_millis(400),
            ack_timeout_max: Duration::from_millis(3200),
            max_retries: 5,
            reset_timeout: Duration::from_secs(5),
            reset_attempts: 5,
            event_capacity: 64,
            not_ready_threshold: 32,
        }
    }
}

impl AshConfig {
    fn arq(&self) -> ArqConfig {
        ArqConfig {
            window: self.window,
            ack_timeout_initial: self.ack_timeout_initial,
            ack_timeout_min: self.ack_timeout_min,
            ack_timeout_max: self.ack_timeout_max,
            max_retries: self.max_retries,
        }
    }
}

/// Checks an EZSP frame's length against the DATA field limits.
pub fn check_len(len: usize) -> Result<(), AshError> {
    if len > MAX_DATA_LEN {
        Err(AshError::TooLong(len))
    } else if len < MIN_DATA_LEN {
        Err(AshError::TooShort(len))
    } else {
        Ok(())
    }
}

struct SendCmd {
    payload: Bytes,
    reply: oneshot::Sender<()>,
}

/// A cheap cloneable handle to the host link task.
#[derive(Clone)]
pub struct AshHost {
    sends: mpsc::Sender<SendCmd>,
    close: Arc<watch::Sender<bool>>,
    reset_code: u8,
}

impl std::fmt::Debug for AshHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AshHost")
            .field("reset_code", &self.reset_code)
            .field("closed", &self.sends.is_closed())
            .finish()
    }
}

impl AshHost {
    /// Sends CANCEL+RST, waits for RSTACK (retrying RST), then runs the link actor on `io`
    /// in a spawned task. Returns the handle and the stream of what the NCP sends.
    pub async fn start<S>(
        io: S,
        config: AshConfig,
    ) -> Result<(AshHost, mpsc::Receiver<AshEvent>), AshError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut port = AshPort::new(io);
        let reset_code = reset_ncp(&mut port, &config).await?;
        tracing::info!(reset_code, "ASH connected");
        let (send_tx, send_rx) = mpsc::channel(64);
        let (event_tx, event_rx) = mpsc::channel(config.event_capacity.max(1));
        let (close_tx, close_rx) = watch::channel(false);
        let actor = HostActor {
            arq: Arq::new(config.arq()),
            config,
            sends: send_rx,
            close: close_rx,
            events: event_tx,
            backlog: VecDeque::new(),
            events_gone: false,
            pending: HashMap::new(),
            next_token: 0,
            not_ready: false,
            out: Vec::new(),
        };
        tokio::spawn(actor.run(port));
        Ok((
            AshHost {
                sends: send_tx,
                close: Arc::new(close_tx),
                reset_code,
            },
            event_rx,
        ))
    }

    /// Queues one EZSP frame (3..=128 bytes); resolves when the NCP has acknowledged it.
    pub async fn send(&self, ezsp: Vec<u8>) -> Result<(), AshError> {
        check_len(ezsp.len())?;
        let (reply, done) = oneshot::channel();
        self.sends
            .send(SendCmd {
                payload: Bytes::from(ezsp),
                reply,
            })
            .await
            .map_err(|_| AshError::Closed)?;
        done.await.map_err(|_| AshError::Closed)
    }

    /// The RSTACK reset code seen at start.
    pub fn reset_code(&self) -> u8 {
        self.reset_code
    }

    /// Whether the link task has ended.
    pub fn is_closed(&self) -> bool {
        self.sends.is_closed()
    }

    /// Resolves when the link task has ended (its final events may still be queued).
    pub async fn closed(&self) {
        self.sends.closed().await;
    }

    /// Stops the link task (it drops the port); pending and later sends fail.
    pub fn close(&self) {
        self.close.send_replace(true);
    }
}

/// CANCEL + RST until RSTACK (UG101 §5: discard everything else, retry up to N times).
async fn reset_ncp<S>(port: &mut AshPort<S>, config: &AshConfig) -> Result<u8, AshError>
where
    S: AsyncRead + AsyncWrite,
{
    let io = |e: std::io::Error| AshError::Io(e.to_string());
    let mut last_error = None;
    for attempt in 0..config.reset_attempts.max(1) {
        tracing::debug!(attempt, "ASH sending RST");
        port.out.put_u8(CANCEL);
        port.queue(&AshFrame::Rst);
        port.flush_all().await.map_err(io)?;
        let deadline = Instant::now() + config.reset_timeout;
        loop {
            match tokio::time::timeout_at(deadline, port.reader.next()).await {
                Err(_) => break,
                Ok(None) => return Err(AshError::Closed),
                Ok(Some(Err(e))) => return Err(io(e)),
                Ok(Some(Ok(Ok(AshFrame::RstAck {
                    version,
                    reset_code,
                })))) => {
                    if version != ASH_VERSION {
                        return Err(AshError::BadVersion(version));
                    }
                    return Ok(reset_code);
                }
                Ok(Some(Ok(Ok(AshFrame::Error { code, .. })))) => {
                    tracing::warn!(code, "NCP sent ERROR while resetting");
                    last_error = Some(code);
                }
                Ok(Some(Ok(other))) => {
                    tracing::debug!(frame = ?other, "discarded while waiting for RSTACK");
                }
            }
        }
    }
    Err(last_error.map_or(AshError::Timeout, AshError::NcpError))
}

struct HostActor {
    config: AshConfig,
    arq: Arq,
    sends: mpsc::Receiver<SendCmd>,
    close: watch::Receiver<bool>,
    events: mpsc::Sender<AshEvent>,
    backlog: VecDeque<AshEvent>,
    events_gone: bool,
    pending: HashMap<Token, oneshot::Sender<()>>,
    next_token: Token,
    not_ready: bool,
    out: Vec<Action>,
}

/// Why the actor stopped, and the event that says so.
struct Ended {
    reason: String,
    event: Option<AshEvent>,
}

impl Ended {
    fn closed(reason: impl Into<String>) -> Self {
        Ended {
            reason: reason.into(),
            event: None,
        }
    }
}

impl HostActor {
    async fn run<S>(mut self, mut port: AshPort<S>)
    where
        S: AsyncRead + AsyncWrite,
    {
        let ended = self.serve(&mut port).await;
        // Best effort: whatever is queued (an ACK, say) is written before the port drops.
        let _ = tokio::time::timeout(Duration::from_millis(100), port.flush_all()).await;
        drop(port);
        tracing::warn!(reason = %ended.reason, stats = ?self.arq.stats(), "ASH link ended");
        // Unfinished and queued sends fail as their reply senders drop; later ones fail at
        // once instead of waiting behind the final events.
        self.sends.close();
        while self.sends.try_recv().is_ok() {}
        self.pending.clear();
        self.backlog.extend(ended.event);
        self.backlog.push_back(AshEvent::Closed(ended.reason));
        for event in self.backlog.drain(..) {
            if self.events.send(event).await.is_err() {
                break;
            }
        }
    }

    async fn serve<S>(&mut self, port: &mut AshPort<S>) -> Ended
    where
        S: AsyncRead + AsyncWrite,
    {
        loop {
            let deadline = self.arq.deadline();
            let deliver = !self.backlog.is_empty() && !self.events_gone;
            // The port is read even while the consumer lags (nRdy asks the NCP to hold its
            // callbacks): a consumer awaiting a send before reading events must not stall
            // the ACKs that send waits for. Only a peer that never drains our writes stops it.
            let readable = !port.congested();
            let writable = !port.out.is_empty();
            let input = tokio::select! {
                _ = self.close.wait_for(|c| *c) => return Ended::closed("closed by the host"),
                written = port.writer.write(&port.out), if writable => {
                    if let Err(e) = written.and_then(|n| port.advance(n)) {
                        return Ended::closed(format!("port I/O: {e}"));
                    }
                    continue;
                }
                item = port.reader.next(), if readable => match item {
                    None => return Ended::closed("port closed"),
                    Some(Err(e)) => return Ended::closed(format!("port I/O: {e}")),
                    Some(Ok(Err(e))) => {
                        tracing::debug!(error = %e, "ASH host received a damaged frame");
                        Input::Bad(e)
                    }
                    Some(Ok(Ok(frame))) => match frame {
                        AshFrame::RstAck { reset_code, .. } => {
                            return Ended {
                                reason: format!("NCP reset (code {reset_code:#04x})"),
                                event: Some(AshEvent::NcpReset { reset_code }),
                            };
                        }
                        AshFrame::Error { code, .. } => {
                            return Ended {
                                reason: format!("NCP error {code:#04x}"),
                                event: Some(AshEvent::NcpError { code }),
                            };
                        }
                        AshFrame::Rst => {
                            tracing::debug!("RST from the NCP side ignored");
                            continue;
                        }
                        frame => {
                            tracing::trace!(?frame, "ASH host received");
                            Input::Frame(frame)
                        }
                    },
                },
                permit = self.events.reserve(), if deliver => {
                    match permit {
                        Ok(permit) => {
                            if let Some(event) = self.backlog.pop_front() {
                                permit.send(event);
                            }
                        }
                        Err(_) => {
                            tracing::debug!("ASH event receiver gone; frames discarded");
                            self.events_gone = true;
                            self.backlog.clear();
                        }
                    }
                    if self.not_ready && self.backlog.is_empty() {
                        self.not_ready = false;
                        Input::SetNotReady(false)
                    } else {
                        continue;
                    }
                }
                cmd = self.sends.recv() => match cmd {
                    None => return Ended::closed("every handle dropped"),
                    Some(cmd) => {
                        self.next_token += 1;
                        self.pending.insert(self.next_token, cmd.reply);
                        Input::Submit { token: self.next_token, payload: cmd.payload }
                    }
                },
                () = sleep_until(deadline) => Input::AckTimeout,
            };
            if let Some(ended) = self.step(port, input) {
                return ended;
            }
            if !self.not_ready && self.backlog.len() >= self.config.not_ready_threshold.max(1) {
                self.not_ready = true;
                if let Some(ended) = self.step(port, Input::SetNotReady(true)) {
                    return ended;
                }
            }
        }
    }

    fn step<S>(&mut self, port: &mut AshPort<S>, input: Input) -> Option<Ended>
    where
        S: AsyncRead + AsyncWrite,
    {
        let mut out = std::mem::take(&mut self.out);
        self.arq.step(Instant::now(), input, &mut out);
        let mut ended = None;
        for action in out.drain(..) {
            match action {
                Action::Send(frame) => {
                    tracing::trace!(?frame, "ASH host sends");
                    port.queue(&frame);
                }
                Action::Deliver(payload) => {
                    if !self.events_gone {
                        self.backlog.push_back(AshEvent::Frame(payload));
                    }
                }
                Action::Acked(token) => {
                    if let Some(reply) = self.pending.remove(&token) {
                        let _ = reply.send(());
                    }
                }
                Action::Failed(reason) => ended = Some(Ended::closed(reason)),
            }
        }
        self.out = out;
        ended
    }
}

/// Sleeps until `deadline`, forever when there is none.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
