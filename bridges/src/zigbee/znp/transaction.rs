//! SREQ/SRSP matching as a state machine without I/O (MT API §2.1: a host must wait for the
//! SRSP of one SREQ before sending the next; AREQs flow both ways at any time).
//!
//! The link actor feeds [`Input`]s (a request submitted, a frame received, a timer fired) to
//! [`Transactions::step`] and carries out the [`Action`]s; timers are inputs, so every path is
//! testable without ports or clocks.

use std::collections::VecDeque;

use super::commands::{MtMessage, RpcError, describe};
use super::frame::{FrameType, Header, MtFrame};

/// Identifies one submitted request.
pub type Token = u64;

/// Why a request did not get its SRSP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// No SRSP before the deadline.
    #[error("no SRSP for {0} in time")]
    Timeout(String),
    /// Z-Stack answered with an RPC error (unknown command, bad parameter, bad length).
    #[error("Z-Stack rejected {request}: RPC error {code}")]
    Rpc {
        /// The request's name.
        request: String,
        /// MT_RPC error code.
        code: u8,
    },
    /// The port went away with the request pending.
    #[error("port lost")]
    PortLost,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A request to send; SREQs wait their turn, AREQs go at once.
    Submit {
        /// Caller's token for the completion.
        token: Token,
        /// The frame.
        frame: MtFrame,
    },
    /// A frame arrived from the port.
    Received(MtFrame),
    /// The timer armed for `token` fired.
    TimedOut(Token),
    /// The port closed or failed.
    PortLost,
}

/// What the actor must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write the frame; if `deadline_for` is set, arm a timer that feeds `TimedOut(token)`.
    Send {
        /// The frame.
        frame: MtFrame,
        /// SREQ token awaiting its SRSP.
        deadline_for: Option<Token>,
    },
    /// Finish a request: the SRSP frame (or, for an AREQ, nothing to wait for).
    Complete {
        /// The request.
        token: Token,
        /// Its outcome.
        result: Result<Option<MtFrame>, TransactionError>,
    },
    /// An AREQ from Z-Stack: hand it to the subscribers.
    Callback(MtFrame),
    /// A frame nobody waits for (late SRSP after a timeout, stray SREQ): log and drop.
    Unexpected(MtFrame),
}

#[derive(Debug)]
struct InFlight {
    token: Token,
    request: Header,
}

/// The SREQ queue and the one request in flight.
#[derive(Debug, Default)]
pub struct Transactions {
    queue: VecDeque<(Token, MtFrame)>,
    in_flight: Option<InFlight>,
}

impl Transactions {
    /// An idle machine.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of SREQs waiting behind the one in flight.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether an SREQ awaits its SRSP.
    pub fn busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Advances the machine by one input.
    pub fn step(&mut self, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::Submit { token, frame } => match frame.header.frame_type {
                FrameType::Sreq => {
                    self.queue.push_back((token, frame));
                    self.pump(&mut out);
                }
                _ => {
                    out.push(Action::Send {
                        frame,
                        deadline_for: None,
                    });
                    out.push(Action::Complete {
                        token,
                        result: Ok(None),
                    });
                }
            },
            Input::Received(frame) => self.received(frame, &mut out),
            Input::TimedOut(token) => {
                if let Some(f) = self.in_flight.take_if(|f| f.token == token) {
                    let result = Err(TransactionError::Timeout(describe(f.request)));
                    out.push(Action::Complete { token, result });
                    self.pump(&mut out);
                }
            }
            Input::PortLost => {
                let pending = self.in_flight.take().map(|f| f.token);
                let queued = self.queue.drain(..).map(|(t, _)| t);
                for token in pending.into_iter().chain(queued) {
                    out.push(Action::Complete {
                        token,
                        result: Err(TransactionError::PortLost),
                    });
                }
            }
        }
        out
    }

    fn received(&mut self, frame: MtFrame, out: &mut Vec<Action>) {
        match frame.header.frame_type {
            FrameType::Areq => out.push(Action::Callback(frame)),
            FrameType::Srsp => {
                let Some(f) = &self.in_flight else {
                    out.push(Action::Unexpected(frame));
                    return;
                };
                let expected = Header {
                    frame_type: FrameType::Srsp,
                    ..f.request
                };
                let result = if frame.header == expected {
                    Ok(Some(frame))
                } else if frame.header == RpcError::HEADER {
                    match RpcError::from_frame(&frame) {
                        Ok(e) if e.cmd0 == f.request.cmd0() && e.cmd1 == f.request.id => {
                            Err(TransactionError::Rpc {
                                request: describe(f.request),
                                code: e.error_code,
                            })
                        }
                        _ => {
                            out.push(Action::Unexpected(frame));
                            return;
                        }
                    }
                } else {
                    out.push(Action::Unexpected(frame));
                    return;
                };
                let token = f.token;
                self.in_flight = None;
                out.push(Action::Complete { token, result });
                self.pump(out);
            }
            _ => out.push(Action::Unexpected(frame)),
        }
    }

    fn pump(&mut self, out: &mut Vec<Action>) {
        if self.in_flight.is_some() {
            return;
        }
        if let Some((token, frame)) = self.queue.pop_front() {
            self.in_flight = Some(InFlight {
                token,
                request: frame.header,
            });
            out.push(Action::Send {
                frame,
                deadline_for: Some(token),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zigbee::znp::commands::sys::{Ping, PingRsp, ResetReq, Version};
    use crate::zigbee::znp::commands::zdo::StateChangeInd;

    fn sent(actions: &[Action]) -> Vec<Header> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send { frame, .. } => Some(frame.header),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn second_sreq_waits_for_first_srsp() {
        let mut m = Transactions::new();
        let a = m.step(Input::Submit {
            token: 1,
            frame: Ping {}.to_frame(),
        });
        assert_eq!(sent(&a), [Ping::HEADER]);
        let b = m.step(Input::Submit {
            token: 2,
            frame: Version {}.to_frame(),
        });
        assert!(sent(&b).is_empty());
        assert_eq!(m.queued(), 1);
        let c = m.step(Input::Received(
            PingRsp {
                capabilities: 0x0659,
            }
            .to_frame(),
        ));
        assert!(matches!(
            &c[0],
            Action::Complete {
                token: 1,
                result: Ok(Some(_))
            }
        ));
        assert_eq!(sent(&c), [Version::HEADER]);
    }

    #[test]
    fn timeout_fails_request_and_sends_next() {
        let mut m = Transactions::new();
        m.step(Input::Submit {
            token: 1,
            frame: Ping {}.to_frame(),
        });
        m.step(Input::Submit {
            token: 2,
            frame: Version {}.to_frame(),
        });
        let a = m.step(Input::TimedOut(1));
        assert!(
            matches!(&a[0], Action::Complete { token: 1, result: Err(TransactionError::Timeout(n)) } if n == "SREQ SYS_PING")
        );
        assert_eq!(sent(&a), [Version::HEADER]);
        // A stale timer for a finished request changes nothing.
        assert!(m.step(Input::TimedOut(1)).is_empty());
    }

    #[test]
    fn late_srsp_after_timeout_is_unexpected_not_matched_to_next() {
        let mut m = Transactions::new();
        m.step(Input::Submit {
            token: 1,
            frame: Ping {}.to_frame(),
        });
        m.step(Input::Submit {
            token: 2,
            frame: Version {}.to_frame(),
        });
        m.step(Input::TimedOut(1));
        let a = m.step(Input::Received(PingRsp { capabilities: 1 }.to_frame()));
        assert!(matches!(&a[..], [Action::Unexpected(_)]));
        assert!(m.busy());
    }

    #[test]
    fn rpc_error_for_in_flight_request_completes_it_with_error() {
        let mut m = Transactions::new();
        m.step(Input::Submit {
            token: 7,
            frame: Ping {}.to_frame(),
        });
        let err = RpcError {
            error_code: 2,
            cmd0: Ping::HEADER.cmd0(),
            cmd1: 0x01,
        };
        let a = m.step(Input::Received(err.to_frame()));
        assert!(matches!(
            &a[0],
            Action::Complete {
                token: 7,
                result: Err(TransactionError::Rpc { code: 2, .. })
            }
        ));
        assert!(!m.busy());
    }

    #[test]
    fn areq_from_zstack_is_a_callback_even_while_waiting() {
        let mut m = Transactions::new();
        m.step(Input::Submit {
            token: 1,
            frame: Ping {}.to_frame(),
        });
        let a = m.step(Input::Received(StateChangeInd { state: 9 }.to_frame()));
        assert!(matches!(&a[..], [Action::Callback(f)] if f.header == StateChangeInd::HEADER));
        assert!(m.busy());
    }

    #[test]
    fn areq_request_is_sent_and_completed_at_once() {
        let mut m = Transactions::new();
        m.step(Input::Submit {
            token: 1,
            frame: Ping {}.to_frame(),
        });
        let a = m.step(Input::Submit {
            token: 2,
            frame: ResetReq { kind: 1 }.to_frame(),
        });
        assert_eq!(sent(&a), [ResetReq::HEADER]);
        assert!(matches!(
            &a[1],
            Action::Complete {
                token: 2,
                result: Ok(None)
            }
        ));
    }

    #[test]
    fn port_loss_fails_in_flight_and_queued_requests() {
        let mut m = Transactions::new();
        m.step(Input::Submit {
            token: 1,
            frame: Ping {}.to_frame(),
        });
        m.step(Input::Submit {
            token: 2,
            frame: Version {}.to_frame(),
        });
        let a = m.step(Input::PortLost);
        let tokens: Vec<_> = a
            .iter()
            .filter_map(|x| match x {
                Action::Complete {
                    token,
                    result: Err(TransactionError::PortLost),
                } => Some(*token),
                _ => None,
            })
            .collect();
        assert_eq!(tokens, [1, 2]);
        assert!(!m.busy());
        assert_eq!(m.queued(), 0);
    }
}
