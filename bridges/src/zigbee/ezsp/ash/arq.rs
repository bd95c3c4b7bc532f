//! The ASH CONNECTED-state data exchange as a state machine without I/O (UG101 §5): frame
//! and ack numbers modulo 8, a sliding transmit window, the adaptive ACK timer, retransmission
//! on NAK and timeout, the Reject Condition, duplicate detection and the nRdy flag.
//!
//! Host and NCP run the same machine; the actors ([`super::host`], [`super::ncp`]) feed it
//! [`Input`]s with the current time and carry out its [`Action`]s. RST, RSTACK and ERROR are
//! role-specific and handled by the actors, never passed here.
//!
//! Numbering: `ack_rx` is the oldest frame not yet acknowledged by the peer, so the frames in
//! flight are `ack_rx, ack_rx+1, ...` (mod 8) and the next new frame is `ack_rx + in_flight`.
//! `frm_rx` is the next frame number this side expects; every ackNum sent carries it.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::codec::{AshFrame, AshFrameError};

/// Identifies one submitted EZSP frame to its sender.
pub type Token = u64;

/// Window and timer parameters of one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArqConfig {
    /// DATA frames sent without acknowledgement (TX_K), 1..=7.
    pub window: u8,
    /// Initial ACK timeout (T_RX_ACK_INIT).
    pub ack_timeout_initial: Duration,
    /// Lower bound of the adaptive ACK timeout (T_RX_ACK_MIN).
    pub ack_timeout_min: Duration,
    /// Upper bound of the adaptive ACK timeout (T_RX_ACK_MAX).
    pub ack_timeout_max: Duration,
    /// Consecutive ACK timeouts tolerated; the next one fails the link (ACK_TIMEOUTS).
    pub max_retries: u32,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An EZSP frame to send.
    Submit {
        /// Completion token.
        token: Token,
        /// The EZSP frame (length checked by the caller).
        payload: Bytes,
    },
    /// A DATA, ACK or NAK frame arrived.
    Frame(AshFrame),
    /// A frame arrived damaged.
    Bad(AshFrameError),
    /// The ACK timer ([`Arq::deadline`]) expired.
    AckTimeout,
    /// This side's receiver became (not) ready; sent as nRdy in ACK/NAK.
    SetNotReady(bool),
}

/// What the actor must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write a frame.
    Send(AshFrame),
    /// Hand an EZSP frame up (in order, exactly once).
    Deliver(Bytes),
    /// The peer acknowledged the frame submitted with this token.
    Acked(Token),
    /// Too many consecutive ACK timeouts: the link has failed.
    Failed(String),
}

/// Link counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArqStats {
    /// DATA frames sent for the first time.
    pub data_sent: u64,
    /// DATA frames retransmitted.
    pub retransmitted: u64,
    /// EZSP frames delivered.
    pub delivered: u64,
    /// Retransmitted duplicates received and discarded.
    pub duplicates: u64,
    /// Out-of-sequence DATA frames discarded.
    pub out_of_sequence: u64,
    /// NAKs sent.
    pub naks_sent: u64,
    /// NAKs received.
    pub naks_received: u64,
    /// ACK timeouts.
    pub ack_timeouts: u64,
    /// Frames with an ackNum outside the window.
    pub bad_ack_numbers: u64,
}

/// One side's DATA exchange state.
#[derive(Debug)]
pub struct Arq {
    config: ArqConfig,
    queue: VecDeque<(Token, Bytes)>,
    in_flight: VecDeque<(Token, Bytes)>,
    ack_rx: u8,
    frm_rx: u8,
    reject: bool,
    not_ready: bool,
    peer_not_ready: bool,
    t_rx_ack: Duration,
    timer_started: Option<Instant>,
    retransmitting: bool,
    timeouts: u32,
    failed: bool,
    stats: ArqStats,
}

fn mod8(n: u8) -> u8 {
    n & 7
}

impl Arq {
    /// A machine fresh from RST/RSTACK: all numbers zero.
    pub fn new(config: ArqConfig) -> Self {
        let window = config.window.clamp(1, 7);
        let min = config.ack_timeout_min;
        let max = config.ack_timeout_max.max(min);
        Arq {
            config: ArqConfig {
                window,
                ack_timeout_max: max,
                ..config
            },
            queue: VecDeque::new(),
            in_flight: VecDeque::new(),
            ack_rx: 0,
            frm_rx: 0,
            reject: false,
            not_ready: false,
            peer_not_ready: false,
            t_rx_ack: config.ack_timeout_initial.clamp(min, max),
            timer_started: None,
            retransmitting: false,
            timeouts: 0,
            failed: false,
            stats: ArqStats::default(),
        }
    }

    /// When the ACK timer fires, if it runs.
    pub fn deadline(&self) -> Option<Instant> {
        self.timer_started.map(|s| s + self.t_rx_ack)
    }

    /// The current adaptive ACK timeout.
    pub fn ack_timeout(&self) -> Duration {
        self.t_rx_ack
    }

    /// Counters.
    pub fn stats(&self) -> ArqStats {
        self.stats
    }

    /// Whether the peer's last ACK/NAK had nRdy set.
    pub fn peer_not_ready(&self) -> bool {
        self.peer_not_ready
    }

    /// Frames waiting for a window slot plus frames in flight.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.in_flight.len()
    }

    fn frm_tx(&self) -> u8 {
        mod8(self.ack_rx.wrapping_add(self.in_flight.len() as u8))
    }

    /// Advances the machine by one input, appending actions to `out`.
    pub fn step(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        if self.failed {
            return;
        }
        match input {
            Input::Submit { token, payload } => {
                self.queue.push_back((token, payload));
                self.pump(now, out);
            }
            Input::Frame(frame) => self.on_frame(now, frame, out),
            Input::Bad(error) => {
                if error.may_be_data() {
                    self.reject_frame(out);
                }
            }
            Input::AckTimeout => self.on_timeout(now, out),
            Input::SetNotReady(nr) => {
                if nr != self.not_ready {
                    self.not_ready = nr;
                    out.push(Action::Send(self.ack()));
                }
            }
        }
    }

    fn ack(&self) -> AshFrame {
        AshFrame::Ack {
            ack_num: self.frm_rx,
            n_rdy: self.not_ready,
        }
    }

    /// Enters the Reject Condition with one NAK; further bad frames stay silent.
    fn reject_frame(&mut self, out: &mut Vec<Action>) {
        if !self.reject {
            self.reject = true;
            self.stats.naks_sent += 1;
            out.push(Action::Send(AshFrame::Nak {
                ack_num: self.frm_rx,
                n_rdy: self.not_ready,
            }));
        }
    }

    fn on_frame(&mut self, now: Instant, frame: AshFrame, out: &mut Vec<Action>) {
        match frame {
            AshFrame::Data {
                frm_num,
                ack_num,
                re_tx,
                payload,
            } => {
                if !self.take_ack(now, ack_num, out) {
                    self.reject_frame(out);
                    return;
                }
                if frm_num == self.frm_rx {
                    self.frm_rx = mod8(self.frm_rx + 1);
                    self.reject = false;
                    self.stats.delivered += 1;
                    out.push(Action::Deliver(payload));
                    out.push(Action::Send(self.ack()));
                } else if re_tx {
                    // A retransmission of a frame already delivered: its ACK was lost.
                    self.stats.duplicates += 1;
                    out.push(Action::Send(self.ack()));
                } else {
                    self.stats.out_of_sequence += 1;
                    self.reject_frame(out);
                }
                self.pump(now, out);
            }
            AshFrame::Ack { ack_num, n_rdy } => {
                self.peer_not_ready = n_rdy;
                if self.take_ack(now, ack_num, out) {
                    self.pump(now, out);
                }
            }
            AshFrame::Nak { ack_num, n_rdy } => {
                self.peer_not_ready = n_rdy;
                self.stats.naks_received += 1;
                if self.take_ack(now, ack_num, out) {
                    self.retransmit(now, out);
                    self.pump(now, out);
                }
            }
            other => {
                tracing::debug!(frame = ?other, "control frame ignored by the DATA machine");
            }
        }
    }

    /// Applies an ackNum; false when it lies outside `ack_rx..=frm_tx`.
    fn take_ack(&mut self, now: Instant, ack_num: u8, out: &mut Vec<Action>) -> bool {
        let acked = usize::from(mod8(ack_num.wrapping_sub(self.ack_rx)));
        if acked > self.in_flight.len() {
            self.stats.bad_ack_numbers += 1;
            tracing::debug!(
                ack_num,
                ack_rx = self.ack_rx,
                frm_tx = self.frm_tx(),
                "ackNum outside the window"
            );
            return false;
        }
        if acked == 0 {
            return true;
        }
        for _ in 0..acked {
            if let Some((token, _)) = self.in_flight.pop_front() {
                out.push(Action::Acked(token));
            }
        }
        self.ack_rx = mod8(ack_num);
        self.timeouts = 0;
        if !self.retransmitting
            && let Some(started) = self.timer_started
        {
            // T = 7/8 T + 1/2 measured (UG101 §5, as EmberZNet hosts do), within the bounds.
            let measured = now.saturating_duration_since(started);
            let t = self.t_rx_ack * 7 / 8 + measured / 2;
            self.t_rx_ack = t.clamp(self.config.ack_timeout_min, self.config.ack_timeout_max);
        }
        self.retransmitting = false;
        self.timer_started = if self.in_flight.is_empty() {
            None
        } else {
            Some(now)
        };
        true
    }

    /// Sends every frame in flight again, with reTx set.
    fn retransmit(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.in_flight.is_empty() {
            return;
        }
        self.retransmitting = true;
        for (i, (_, payload)) in self.in_flight.iter().enumerate() {
            self.stats.retransmitted += 1;
            out.push(Action::Send(AshFrame::Data {
                frm_num: mod8(self.ack_rx.wrapping_add(i as u8)),
                ack_num: self.frm_rx,
                re_tx: true,
                payload: payload.clone(),
            }));
        }
        // A NAK storm must not keep the timer from ever firing: only start it if stopped.
        self.timer_started.get_or_insert(now);
    }

    fn on_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.in_flight.is_empty() {
            self.timer_started = None;
            return;
        }
        self.stats.ack_timeouts += 1;
        self.timeouts += 1;
        self.t_rx_ack = (self.t_rx_ack * 2).min(self.config.ack_timeout_max);
        if self.timeouts > self.config.max_retries {
            self.failed = true;
            self.timer_started = None;
            out.push(Action::Failed(format!(
                "no ACK after {} retransmissions",
                self.config.max_retries
            )));
            return;
        }
        tracing::debug!(
            timeouts = self.timeouts,
            next_timeout = ?self.t_rx_ack,
            "ASH ACK timeout, retransmitting"
        );
        self.timer_started = None;
        self.retransmit(now, out);
    }

    /// Sends queued frames while the window has room.
    fn pump(&mut self, now: Instant, out: &mut Vec<Action>) {
        while self.in_flight.len() < usize::from(self.config.window) {
            let Some((token, payload)) = self.queue.pop_front() else {
                break;
            };
            self.stats.data_sent += 1;
            out.push(Action::Send(AshFrame::Data {
                frm_num: self.frm_tx(),
                ack_num: self.frm_rx,
                re_tx: false,
                payload: payload.clone(),
            }));
            self.in_flight.push_back((token, payload));
            self.timer_started.get_or_insert(now);
        }
    }
}
