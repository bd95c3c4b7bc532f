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

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::codec::Framed;

use super::arq::{Action, Arq, ArqConfig, Input};
use super::codec::{
    ASH_VERSION, AshCodec, AshFrame, AshFrameError, encode_with_crc_xor, reset_code,
};
use super::host::{check_len, sleep_until};

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
        failed: false,
        drop_next_ack: false,
        corrupt_next: false,
        nak_next: false,
        events: event_tx,
        next_token: 0,
        out: Vec::new(),
    };
    tokio::spawn(async move {
        let reason = actor.run(Framed::new(io, AshCodec::new()), cmd_rx).await;
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

type Port<S> = Framed<S, AshCodec>;

struct NcpActor {
    config: AshNcpConfig,
    arq: Arq,
    connected: bool,
    failed: bool,
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
        mut port: Port<S>,
        mut cmds: mpsc::UnboundedReceiver<NcpCmd>,
    ) -> String
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut cmds_open = true;
        loop {
            let deadline = if self.connected && !self.failed {
                self.arq.deadline()
            } else {
                None
            };
            // Commands first: a fault injected before a frame arrives applies to it.
            let result = tokio::select! {
                biased;
                cmd = cmds.recv(), if cmds_open => match cmd {
                    None => { cmds_open = false; Ok(()) }
                    Some(NcpCmd::Send(payload)) => {
                        self.next_token += 1;
                        let input = Input::Submit { token: self.next_token, payload };
                        self.step(&mut port, input).await
                    }
                    Some(NcpCmd::Fault(f)) => self.on_fault(&mut port, f).await,
                },
                item = port.next() => match item {
                    None => return "port closed".into(),
                    Some(Err(e)) => return format!("port I/O: {e}"),
                    Some(Ok(item)) => self.on_received(&mut port, item).await,
                },
                () = sleep_until(deadline) => self.step(&mut port, Input::AckTimeout).await,
            };
            if let Err(e) = result {
                return format!("port I/O: {e}");
            }
        }
    }

    async fn on_received<S>(
        &mut self,
        port: &mut Port<S>,
        item: Result<AshFrame, AshFrameError>,
    ) -> std::io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match item {
            Ok(AshFrame::Rst) => {
                self.reset();
                let _ = self.events.send(AshNcpEvent::Reset);
                self.write(
                    port,
                    AshFrame::RstAck {
                        version: ASH_VERSION,
                        reset_code: self.config.reset_code,
                    },
                )
                .await?;
                port.flush().await
            }
            _ if !self.connected => Ok(()),
            _ if self.failed => {
                let error = self.error_frame(reset_code::EXCEEDED_MAXIMUM_ACK_TIMEOUT_COUNT);
                self.write(port, error).await?;
                port.flush().await
            }
            Ok(AshFrame::Data { frm_num, .. }) if self.nak_next => {
                self.nak_next = false;
                tracing::debug!(frm_num, "simulated NCP rejects a DATA frame");
                let damaged = AshFrameError::BadCrc { control: 0 };
                self.step(port, Input::Bad(damaged)).await
            }
            Ok(AshFrame::RstAck { .. } | AshFrame::Error { .. }) => Ok(()),
            Ok(frame) => self.step(port, Input::Frame(frame)).await,
            Err(e) => self.step(port, Input::Bad(e)).await,
        }
    }

    fn reset(&mut self) {
        self.arq = Arq::new(self.config.arq());
        self.connected = true;
        self.failed = false;
    }

    fn error_frame(&self, code: u8) -> AshFrame {
        AshFrame::Error {
            version: ASH_VERSION,
            code,
        }
    }

    async fn on_fault<S>(&mut self, port: &mut Port<S>, fault: NcpFault) -> std::io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match fault {
            NcpFault::DropNextAck => self.drop_next_ack = true,
            NcpFault::CorruptNextFrame => self.corrupt_next = true,
            NcpFault::NakNext => self.nak_next = true,
            NcpFault::SendRaw(bytes) => {
                port.flush().await?;
                port.get_mut().write_all(&bytes).await?;
                port.get_mut().flush().await?;
            }
            NcpFault::SendError(code) => {
                self.failed = true;
                let error = self.error_frame(code);
                self.write(port, error).await?;
                port.flush().await?;
            }
            NcpFault::SendRstAck(code) => {
                self.arq = Arq::new(self.config.arq());
                self.write(
                    port,
                    AshFrame::RstAck {
                        version: ASH_VERSION,
                        reset_code: code,
                    },
                )
                .await?;
                port.flush().await?;
            }
        }
        Ok(())
    }

    async fn write<S>(&mut self, port: &mut Port<S>, frame: AshFrame) -> std::io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if std::mem::take(&mut self.corrupt_next) {
            let mut bytes = BytesMut::new();
            encode_with_crc_xor(&frame, &mut bytes, 0x0101);
            port.flush().await?;
            port.get_mut().write_all(&bytes).await?;
            return Ok(());
        }
        port.feed(frame).await
    }

    async fn step<S>(&mut self, port: &mut Port<S>, input: Input) -> std::io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut out = std::mem::take(&mut self.out);
        self.arq.step(Instant::now(), input, &mut out);
        let mut result = Ok(());
        for action in out.drain(..) {
            match action {
                Action::Send(AshFrame::Ack { .. }) if self.drop_next_ack => {
                    self.drop_next_ack = false;
                    tracing::debug!("simulated NCP drops an ACK");
                }
                Action::Send(frame) => {
                    if let Err(e) = self.write(port, frame).await {
                        result = Err(e);
                        break;
                    }
                }
                Action::Deliver(payload) => {
                    let _ = self.events.send(AshNcpEvent::Frame(payload));
                }
                Action::Acked(_) => {}
                Action::Failed(reason) => {
                    tracing::warn!(%reason, "simulated NCP enters the FAILED state");
                    self.failed = true;
                    let error = self.error_frame(reset_code::EXCEEDED_MAXIMUM_ACK_TIMEOUT_COUNT);
                    if let Err(e) = self.write(port, error).await {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        self.out = out;
        result?;
        port.flush().await
    }
}
