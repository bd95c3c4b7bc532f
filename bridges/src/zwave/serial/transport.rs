//! The Serial API host transaction as a state machine without I/O.
//!
//! Implements the host side of the Z-Wave Host API Specification's "Data frame
//! handshake" and "Error handling / retransmission": the host sends a request, waits for
//! the stick's ACK (1600 ms), then for the response frame, then for the callback that
//! carries the callback id it chose. NAK, CAN and a missing ACK or response lead to a
//! retransmission after `100 ms + n × 1000 ms` (n = attempts so far), at most 3 attempts
//! (the timing zwave-js uses, see FACTS.md). After the stick accepted a request a missing
//! callback is not retransmitted: the stick is already doing the work.
//!
//! ```text
//!   Start ──send──▶ WaitAck ──ACK──▶ WaitResponse ──ok──▶ WaitCallback ──cb──▶ Done
//!                    │  ▲              │                        │
//!        NAK/CAN/timeout  └─send── Backoff ◀─timeout─┘              timeout ──▶ Failed
//! ```
//!
//! The caller feeds [`Input`]s (bytes decoded by the codec, and timer expiries) into
//! [`Transaction::step`] and performs the returned [`Action`]s; one timer per transaction.

use std::time::Duration;

use bytes::Bytes;

use super::functions::{FunctionId, FunctionSpec, HostRequest, spec_of};

/// Attempts (first transmission included) before a request fails.
pub const MAX_ATTEMPTS: u8 = 3;

/// Timeouts of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Wait for ACK after sending a frame.
    pub ack: Duration,
    /// Wait for the response frame after the ACK.
    pub response: Duration,
    /// Wait for the callback after the response (SendData waits for the node's ACK).
    pub callback: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            ack: Duration::from_millis(1600),
            response: Duration::from_secs(10),
            callback: Duration::from_secs(65),
        }
    }
}

/// Back-off before retransmission number `attempt + 1` (after `attempt` failed attempts).
pub fn retransmit_delay(attempt: u8) -> Duration {
    Duration::from_millis(100 + 1000 * u64::from(attempt))
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not started.
    Start,
    /// Frame sent, waiting for ACK.
    WaitAck,
    /// ACKed, waiting for the response frame.
    WaitResponse,
    /// Response accepted, waiting for the callback.
    WaitCallback,
    /// Waiting to retransmit.
    Backoff,
    /// Finished (successfully or not).
    Done,
}

/// What happened, as far as this transaction is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Begin: send the first attempt.
    Start,
    /// ACK received.
    Ack,
    /// NAK received.
    Nak,
    /// CAN received.
    Can,
    /// The response frame for this function (payload).
    Response(Bytes),
    /// The callback frame with this callback id (payload).
    Callback(Bytes),
    /// The timer set by the last [`Action::SetTimer`] expired.
    Timeout,
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write the request frame (again).
    Send,
    /// (Re)arm the transaction's timer; replaces any previous one.
    SetTimer(Duration),
    /// The transaction ended; disarm the timer and report this.
    Finish(Result<Outcome, TransactionError>),
}

/// What a successful transaction returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Response payload, if the function has a response.
    pub response: Option<Bytes>,
    /// Callback payload, if a callback was requested.
    pub callback: Option<Bytes>,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// No ACK after every attempt (NAK, CAN or silence).
    #[error("no ACK from the stick after {attempts} attempts (last: {last})")]
    NoAck {
        /// Attempts made.
        attempts: u8,
        /// What ended the last attempt: "NAK", "CAN" or "timeout".
        last: &'static str,
    },
    /// No response frame after every attempt.
    #[error("no response from the stick")]
    NoResponse,
    /// The response said the stick refused the request.
    #[error("stick refused the request (response {0:02x?})")]
    Refused(Bytes),
    /// The stick accepted the request but never sent the callback.
    #[error("no callback from the stick")]
    NoCallback,
    /// The port closed while the request was in flight or queued.
    #[error("serial port lost")]
    PortLost,
    /// The port is down; the request was not sent.
    #[error("serial port offline")]
    Offline,
}

/// One host request in flight.
#[derive(Debug, Clone)]
pub struct Transaction {
    spec: FunctionSpec,
    callback_id: u8,
    timeouts: Timeouts,
    state: State,
    attempts: u8,
    response: Option<Bytes>,
}

impl Transaction {
    /// A transaction for `request` (its function's [`FunctionSpec`] decides the steps).
    pub fn new(request: &HostRequest, timeouts: Timeouts) -> Self {
        Self {
            spec: spec_of(request.function),
            callback_id: request.callback_id,
            timeouts,
            state: State::Start,
            attempts: 0,
            response: None,
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u8 {
        self.attempts
    }

    fn wants_callback(&self) -> bool {
        self.spec.callback && self.callback_id != 0
    }

    /// Whether a response frame for `function` belongs to this transaction now.
    pub fn matches_response(&self, function: FunctionId) -> bool {
        self.state == State::WaitResponse && function == self.spec.id
    }

    /// Whether a request frame from the stick is this transaction's callback.
    pub fn matches_callback(&self, function: FunctionId, payload: &[u8]) -> bool {
        // A fast stick may send the callback before the host has seen the response.
        matches!(self.state, State::WaitCallback | State::WaitResponse)
            && self.wants_callback()
            && function == self.spec.id
            && payload.first() == Some(&self.callback_id)
    }

    /// Advances the machine by one input.
    pub fn step(&mut self, input: Input) -> Vec<Action> {
        match (self.state, input) {
            (State::Start, Input::Start) | (State::Backoff, Input::Timeout) => self.send(),
            (State::WaitAck, Input::Ack) => self.after_ack(),
            (State::WaitAck, Input::Nak) => self.retry("NAK"),
            (State::WaitAck, Input::Can) => self.retry("CAN"),
            (State::WaitAck, Input::Timeout) => self.retry("timeout"),
            (State::WaitResponse, Input::Response(p)) => self.after_response(p),
            (State::WaitResponse, Input::Timeout) => self.retry("no response"),
            (State::WaitResponse | State::WaitCallback, Input::Callback(p)) => {
                let response = self.response.take();
                self.finish(Ok(Outcome {
                    response,
                    callback: Some(p),
                }))
            }
            (State::WaitCallback, Input::Timeout) => self.finish(Err(TransactionError::NoCallback)),
            (state, input) => {
                tracing::trace!(?state, ?input, "zwave transaction: input ignored");
                Vec::new()
            }
        }
    }

    fn send(&mut self) -> Vec<Action> {
        self.attempts += 1;
        self.state = State::WaitAck;
        vec![Action::Send, Action::SetTimer(self.timeouts.ack)]
    }

    fn after_ack(&mut self) -> Vec<Action> {
        if self.spec.response {
            self.state = State::WaitResponse;
            vec![Action::SetTimer(self.timeouts.response)]
        } else if self.wants_callback() {
            self.state = State::WaitCallback;
            vec![Action::SetTimer(self.timeouts.callback)]
        } else {
            self.finish(Ok(Outcome::default()))
        }
    }

    fn after_response(&mut self, payload: Bytes) -> Vec<Action> {
        if !(self.spec.response_ok)(&payload) {
            return self.finish(Err(TransactionError::Refused(payload)));
        }
        if self.wants_callback() {
            self.response = Some(payload);
            self.state = State::WaitCallback;
            vec![Action::SetTimer(self.timeouts.callback)]
        } else {
            self.finish(Ok(Outcome {
                response: Some(payload),
                callback: None,
            }))
        }
    }

    fn retry(&mut self, why: &'static str) -> Vec<Action> {
        if self.attempts >= MAX_ATTEMPTS {
            let err = if self.state == State::WaitResponse {
                TransactionError::NoResponse
            } else {
                TransactionError::NoAck {
                    attempts: self.attempts,
                    last: why,
                }
            };
            return self.finish(Err(err));
        }
        tracing::debug!(function = ?self.spec.id, attempt = self.attempts, why, "zwave: retransmitting");
        self.state = State::Backoff;
        vec![Action::SetTimer(retransmit_delay(self.attempts))]
    }

    fn finish(&mut self, result: Result<Outcome, TransactionError>) -> Vec<Action> {
        self.state = State::Done;
        vec![Action::Finish(result)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zwave::serial::functions::TX_OPTIONS_DEFAULT;

    fn send_data() -> Transaction {
        let req = HostRequest::send_data(2, &[0x25, 0x02], TX_OPTIONS_DEFAULT, 7);
        Transaction::new(&req, Timeouts::default())
    }

    fn finished(actions: &[Action]) -> Option<&Result<Outcome, TransactionError>> {
        actions.iter().find_map(|a| match a {
            Action::Finish(r) => Some(r),
            _ => None,
        })
    }

    #[test]
    fn send_data_completes_after_ack_response_and_matching_callback() {
        let mut t = send_data();
        assert_eq!(
            t.step(Input::Start),
            vec![Action::Send, Action::SetTimer(Duration::from_millis(1600))]
        );
        assert_eq!(
            t.step(Input::Ack),
            vec![Action::SetTimer(Duration::from_secs(10))]
        );
        assert!(t.matches_response(FunctionId::SendData));
        assert_eq!(
            t.step(Input::Response(Bytes::from_static(&[1]))),
            vec![Action::SetTimer(Duration::from_secs(65))]
        );
        assert!(!t.matches_callback(FunctionId::SendData, &[8, 0]));
        assert!(t.matches_callback(FunctionId::SendData, &[7, 0]));
        let a = t.step(Input::Callback(Bytes::from_static(&[7, 0])));
        let out = finished(&a).unwrap().as_ref().unwrap();
        assert_eq!(out.response.as_deref(), Some(&[1u8][..]));
        assert_eq!(out.callback.as_deref(), Some(&[7u8, 0][..]));
        assert_eq!(t.state(), State::Done);
    }

    #[test]
    fn nak_can_and_timeout_back_off_100ms_plus_n_seconds_then_fail_after_three() {
        let mut t = send_data();
        t.step(Input::Start);
        assert_eq!(
            t.step(Input::Nak),
            vec![Action::SetTimer(Duration::from_millis(1100))]
        );
        assert_eq!(t.state(), State::Backoff);
        assert_eq!(t.step(Input::Timeout)[0], Action::Send);
        assert_eq!(
            t.step(Input::Can),
            vec![Action::SetTimer(Duration::from_millis(2100))]
        );
        t.step(Input::Timeout);
        assert_eq!(t.attempts(), 3);
        let a = t.step(Input::Timeout);
        assert_eq!(
            finished(&a),
            Some(&Err(TransactionError::NoAck {
                attempts: 3,
                last: "timeout"
            }))
        );
    }

    #[test]
    fn refused_send_data_does_not_wait_for_callback() {
        let mut t = send_data();
        t.step(Input::Start);
        t.step(Input::Ack);
        let a = t.step(Input::Response(Bytes::from_static(&[0])));
        assert!(matches!(
            finished(&a),
            Some(Err(TransactionError::Refused(_)))
        ));
    }

    #[test]
    fn missing_callback_fails_without_retransmission() {
        let mut t = send_data();
        t.step(Input::Start);
        t.step(Input::Ack);
        t.step(Input::Response(Bytes::from_static(&[1])));
        let a = t.step(Input::Timeout);
        assert_eq!(finished(&a), Some(&Err(TransactionError::NoCallback)));
        assert_eq!(t.attempts(), 1);
    }

    #[test]
    fn missing_response_is_retransmitted_then_fails() {
        let mut t = Transaction::new(
            &HostRequest::simple(FunctionId::GetVersion),
            Timeouts::default(),
        );
        for _ in 0..MAX_ATTEMPTS - 1 {
            t.step(Input::Start);
            t.step(Input::Ack);
            t.step(Input::Timeout);
            assert_eq!(t.state(), State::Backoff);
            t.step(Input::Timeout);
            assert_eq!(t.state(), State::WaitAck);
        }
        t.step(Input::Ack);
        let a = t.step(Input::Timeout);
        assert_eq!(finished(&a), Some(&Err(TransactionError::NoResponse)));
    }

    #[test]
    fn soft_reset_finishes_on_ack_alone() {
        let mut t = Transaction::new(
            &HostRequest::simple(FunctionId::SoftReset),
            Timeouts::default(),
        );
        t.step(Input::Start);
        let a = t.step(Input::Ack);
        assert_eq!(finished(&a), Some(&Ok(Outcome::default())));
    }

    #[test]
    fn add_node_waits_for_callback_right_after_ack() {
        let req = HostRequest::node_mode(FunctionId::AddNodeToNetwork, 0x81, 3);
        let mut t = Transaction::new(&req, Timeouts::default());
        t.step(Input::Start);
        assert_eq!(
            t.step(Input::Ack),
            vec![Action::SetTimer(Duration::from_secs(65))]
        );
        assert!(t.matches_callback(FunctionId::AddNodeToNetwork, &[3, 1, 0, 0]));
    }

    #[test]
    fn unexpected_inputs_are_ignored() {
        let mut t = send_data();
        assert!(t.step(Input::Ack).is_empty());
        t.step(Input::Start);
        assert!(t.step(Input::Response(Bytes::new())).is_empty());
        assert_eq!(t.state(), State::WaitAck);
    }
}
