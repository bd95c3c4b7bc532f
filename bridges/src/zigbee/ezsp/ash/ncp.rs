//! The NCP side of ASH, for the EZSP simulator and as the peer in tests: answers RST with
//! RSTACK, runs the same [`Arq`] machine as the host (ACKs, NAKs, retransmission of its own
//! DATA), enters the FAILED state (ERROR frames until RST) when the host stops
//! acknowledging, and takes fault-injection hooks ([`NcpFault`]).
//!
//! Before the first RST the NCP ignores everything else, as a freshly booted NCP waits for
//! the host's reset. The host's nRdy flag is recorded by the machine but the ASH layer cannot
//! tell callbacks from responses, so it keeps sending; the EZSP layer may hold callbacks.
//! Events go out on an unbounded channel (the simulator consumes them promptly).

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::arq::{Action, Arq, ArqConfig, Input};
use super::codec::{ASH_VERSION, AshFrame, AshFrameError, encode_with_crc_xor, reset_code};
use super::host::{check_len, sleep_until};
use super::port::AshPort;

/// NCP link parameters; defaults are UG101's NCP configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AshNcpConfig {
    /// Reset code sent in RSTACK after an RST (real NCPs: RESET_SOFTWARE, 0x0B).
    pub reset_code: u8,
    /// DATA frames in flight (TX_K = 5).
    pub window: u8,
    /// T_RX_ACK_INIT.
    pub ack_timeout_initial: Duration,
    /// T_RX_ACK_MIN.
    pub ack_timeout_min: Duration,
    /// T_RX_ACK_MAX.
    pub ack_timeout_max: Duration,
    /// Consecutive ACK timeouts before the FAILED state (ACK_TIMEOUTS = 4).
    pub max_retries: u32,
}

impl Default for AshNcpConfig {
    fn default() -> Self {
        AshNcpConfig {
            reset_code: reset_code::SOFTWARE,
            window: 5,
            ack_timeout_initial: Duration::from_millis(1600),
            ack_timeout_min: Duration::from_millis(400),
            ack_timeout_max: Duration::from_millis(3200),
            max_retries: 4,
        }
    }
}

impl AshNcpConfig {
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

/// Faults the simulated NCP can be told to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NcpFault {
    /// Do not send the next ACK frame (the host times out and retransmits).
    DropNextAck,
    /// Send the next frame with a wrong CRC.
    CorruptNextFrame,
    /// Write these bytes to the port as they are.
    SendRaw(Vec<u8>),
    /// Send ERROR with this code and enter the FAILED state.
    SendError(u8),
    /// Send an unsolicited RSTACK with this code, as after a reboot (state is reset).
    SendRstAck(u8),
    /// Treat the next DATA frame from the host as damaged: NAK it.
    NakNext,
}

/// What the host sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AshNcpEvent {
    /// The host sent RST: the EZSP layer must forget its state (e.g. the version).
    Reset,
    /// One EZSP frame from the host, in order, exactly once.
    Frame(Bytes),
}

enum NcpCmd {
    Send(Bytes),
    Fault(NcpFault),
}

/// A cheap cloneable handle to the simulated NCP's link task.
#[derive(Clone)]
pub struct AshNcpHandle {
    cmds: mpsc::UnboundedSender<NcpCmd>,
    done: watch::Receiver<bool>,
}

impl std::fmt::Debug for AshNcpHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AshNcpHandle")
            .field("done", &*self.done.borrow())
            .finish()
    }
}

impl AshNcpHandle {
    /// Queues a DATA frame to the host; false when the task has ended or the length is
    /// outside 3..=128.
    pub fn send(&self, ezsp: Vec<u8>) -> bool {
        check_len(ezsp.len()).is_ok() && self.cmds.send(NcpCmd::Send(Bytes::from(ezsp))).is_ok()
    }

    /// Injects a fault (test hook).
    pub fn fault(&self, f: NcpFault) {
        let _ = self.cmds.send(NcpCmd::Fault(f));
    }

    /// Resolves when the port has ended.
    pub async fn closed(&self) {
        let mut done = self.done.clone();
        let _ = done.wait_for(|d| *d).await;
    }
}

/// Spawns the NCP link task on `io`.
pub fn serve_ncp<S>(
    io: S,
    config: AshNcpConfig,
) -> (AshNcpHandle, mpsc::UnboundedReceiver<AshNcpEvent>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let (done_tx, done_rx) = watch::channel(false);
    let actor = NcpActor {
        arq: Arq::new(config.arq()),
        config,
        connected: false,
        failed: None,
        drop_next_ack: false,
        corrupt_next: false,
        nak_next: false,
        events: event_tx,
        next_token: 0,
        out: Vec::new(),
    };
    tokio::spawn(async move {
        let reason = actor.run(AshPort::new(io), cmd_rx).await;
        tracing::debug!(%reason, "simulated NCP link ended");
        done_tx.send_replace(true);
    });
    (
        AshNcpHandle {
            cmds: cmd_tx,
            done: done_rx,
        },
        event_rx,
    )
}

struct NcpActor {
    config: AshNcpConfig,
    arq: Arq,
    connected: bool,
    failed: Option<u8>,
    drop_next_ack: bool,
    corrupt_next: bool,
    nak_next: bool,
    events: mpsc::UnboundedSender<AshNcpEvent>,
    next_token: u64,
    out: Vec<Action>,
}

impl NcpActor {
    async fn run<S>(
        mut self,
        mut port: AshPort<S>,
        mut cmds: mpsc::UnboundedReceiver<NcpCmd>,
    ) -> String
    where
        S: AsyncRead + AsyncWrite,
    {
        let mut cmds_open = true;
        loop {
            let deadline = if self.connected && self.failed.is_none() {
                self.arq.deadline()
            } else {
                None
            };
            let writable = !port.out.is_empty();
            let readable = !port.congested();
            // Commands first: a fault injected before a frame arrives applies to it.
            tokio::select! {
                biased;
                cmd = cmds.recv(), if cmds_open => match cmd {
                    None => cmds_open = false,
                    Some(NcpCmd::Send(payload)) => {
                        self.next_token += 1;
                        let input = Input::Submit { token: self.next_token, payload };
                        self.step(&mut port, input);
                    }
                    Some(NcpCmd::Fault(f)) => self.on_fault(&mut port, f),
                },
                written = port.writer.write(&port.out), if writable => {
                    if let Err(e) = written.and_then(|n| port.advance(n)) {
                        return format!("port I/O: {e}");
                    }
                }
                item = port.reader.next(), if readable => match item {
                    None => return "port closed".into(),
                    Some(Err(e)) => return format!("port I/O: {e}"),
                    Some(Ok(item)) => self.on_received(&mut port, item),
                },
                () = sleep_until(deadline) => self.step(&mut port, Input::AckTimeout),
            }
        }
    }

    fn on_received<S>(&mut self, port: &mut AshPort<S>, item: Result<AshFrame, AshFrameError>)
    where
        S: AsyncRead + AsyncWrite,
    {
        match item {
            Ok(AshFrame::Rst) => {
                self.reset();
                let _ = self.events.send(AshNcpEvent::Reset);
                let rstack = AshFrame::RstAck {
                    version: ASH_VERSION,
                    reset_code: self.config.reset_code,
                };
                self.write(port, &rstack);
            }
            _ if !self.connected => {}
            _ if let Some(code) = self.failed => {
                let error = self.error_frame(code);
                self.write(port, &error);
            }
            Ok(AshFrame::Data { frm_num, .. }) if self.nak_next => {
                self.nak_next = false;
                tracing::debug!(frm_num, "simulated NCP rejects a DATA frame");
                let damaged = AshFrameError::BadCrc { control: 0 };
                self.step(port, Input::Bad(damaged));
            }
            Ok(AshFrame::RstAck { .. } | AshFrame::Error { .. }) => {}
            Ok(frame) => self.step(port, Input::Frame(frame)),
            Err(e) => self.step(port, Input::Bad(e)),
        }
    }

    fn reset(&mut self) {
        self.arq = Arq::new(self.config.arq());
        self.connected = true;
        self.failed = None;
    }

    fn error_frame(&self, code: u8) -> AshFrame {
        AshFrame::Error {
            version: ASH_VERSION,
            code,
        }
    }

    fn on_fault<S>(&mut self, port: &mut AshPort<S>, fault: NcpFault)
    where
        S: AsyncRead + AsyncWrite,
    {
        match fault {
            NcpFault::DropNextAck => self.drop_next_ack = true,
            NcpFault::CorruptNextFrame => self.corrupt_next = true,
            NcpFault::NakNext => self.nak_next = true,
            NcpFault::SendRaw(bytes) => port.out.extend_from_slice(&bytes),
            NcpFault::SendError(code) => {
                self.failed = Some(code);
                let error = self.error_frame(code);
                self.write(port, &error);
            }
            NcpFault::SendRstAck(code) => {
                self.arq = Arq::new(self.config.arq());
                let rstack = AshFrame::RstAck {
                    version: ASH_VERSION,
                    reset_code: code,
                };
                self.write(port, &rstack);
            }
        }
    }

    fn write<S>(&mut self, port: &mut AshPort<S>, frame: &AshFrame)
    where
        S: AsyncRead + AsyncWrite,
    {
        if std::mem::take(&mut self.corrupt_next) {
            encode_with_crc_xor(frame, &mut port.out, 0x0101);
        } else {
            port.queue(frame);
        }
    }

    fn step<S>(&mut self, port: &mut AshPort<S>, input: Input)
    where
        S: AsyncRead + AsyncWrite,
    {
        let mut out = std::mem::take(&mut self.out);
        self.arq.step(Instant::now(), input, &mut out);
        for action in out.drain(..) {
            match action {
                Action::Send(AshFrame::Ack { .. }) if self.drop_next_ack => {
                    self.drop_next_ack = false;
                    tracing::debug!("simulated NCP drops an ACK");
                }
                Action::Send(frame) => self.write(port, &frame),
                Action::Deliver(payload) => {
                    let _ = self.events.send(AshNcpEvent::Frame(payload));
                }
                Action::Acked(_) => {}
                Action::Failed(reason) => {
                    tracing::warn!(%reason, "simulated NCP enters the FAILED state");
                    let code = reset_code::EXCEEDED_MAXIMUM_ACK_TIMEOUT_COUNT;
                    self.failed = Some(code);
                    let error = self.error_frame(code);
                    self.write(port, &error);
                }
            }
        }
        self.out = out;
    }
}
