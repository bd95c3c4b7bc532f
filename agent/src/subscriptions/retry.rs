//! NotifRetry as a state machine without I/O (TR-369 section "Notification Retry";
//! TR-181 `Device.LocalAgent.Subscription.{i}.NotifRetry` / `NotifExpiration` and the
//! Controller's `USPNotifRetryMinimumWaitInterval` / `USPNotifRetryIntervalMultiplier`).
//!
//! A Notify sent with `send_resp=true` is retransmitted until the Controller's
//! NotifyResp arrives or `NotifExpiration` seconds have passed since the first send.
//! The n-th retransmission waits a random time in `m·k^(n-1) .. m·k^n` seconds after
//! the previous one, with `m` the minimum wait interval and `k` the multiplier / 1000;
//! from the 10th retransmission on the window stays at `m·k^9 .. m·k^10`:
//!
//! ```text
//! n (retry)   1      2       3       ...  10 and later     (m = 5, k = 2)
//! wait (s)    5-10   10-20   20-40   ...  2560-5120
//! ```
//!
//! Time is a `Duration` since any fixed origin the driver picks; timeouts and the random
//! draw are inputs, so the machine is tested with a fake clock.

use std::time::Duration;

/// The exponent stops growing after this many retransmissions (TR-369's table).
const MAX_EXPONENT: u32 = 10;

/// No single wait is longer than this, whatever the Controller configured.
const MAX_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The Controller's retry parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// `USPNotifRetryMinimumWaitInterval`, seconds (`m`).
    pub min_wait_secs: u32,
    /// `USPNotifRetryIntervalMultiplier`, thousandths (`k` × 1000).
    pub multiplier_permille: u32,
}

impl Default for Backoff {
    /// TR-181 defaults: 5 s and 2000.
    fn default() -> Self {
        Backoff {
            min_wait_secs: 5,
            multiplier_permille: 2000,
        }
    }
}

impl Backoff {
    /// The bounds of the wait before retransmission `n` (1-based).
    pub fn window(&self, n: u32) -> (Duration, Duration) {
        let m = f64::from(self.min_wait_secs.max(1));
        // TR-181 bounds the multiplier to 1000..65535; a smaller one would shrink waits.
        let k = f64::from(self.multiplier_permille.max(1000)) / 1000.0;
        let n = n.clamp(1, MAX_EXPONENT) as i32;
        let lo = m * k.powi(n - 1);
        let hi = m * k.powi(n);
        (secs(lo), secs(hi))
    }

    /// The wait before retransmission `n`, `r` in `[0, 1)` picking a point in the window.
    pub fn wait(&self, n: u32, r: f64) -> Duration {
        let (lo, hi) = self.window(n);
        let r = if r.is_finite() {
            r.clamp(0.0, 1.0)
        } else {
            0.0
        };
        lo + (hi - lo).mul_f64(r)
    }
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).map_or(MAX_WAIT, |d| d.min(MAX_WAIT))
}

/// Where a retried notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for the NotifyResp; retransmit at `resend_at`.
    AwaitingResp {
        /// When the next retransmission is due.
        resend_at: Duration,
    },
    /// The Controller answered.
    Acknowledged,
    /// NotifExpiration passed without an answer.
    Expired,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input {
    /// The timer set for [`Retry::deadline`] fired (or any later wake-up); `r` is a
    /// uniform random draw in `[0, 1)` for the next wait.
    Timeout {
        /// The current time.
        now: Duration,
        /// Random draw.
        r: f64,
    },
    /// The matching NotifyResp arrived.
    Response,
}

/// What the driver must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send the Notify again, then wait until [`Retry::deadline`].
    Resend,
    /// Nothing to do yet (a wake-up before the deadline).
    Wait,
    /// Forget this notification: it was acknowledged or it expired (see [`Retry::state`]).
    Finished,
}

/// One notification awaiting its NotifyResp.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    backoff: Backoff,
    expires_at: Option<Duration>,
    retransmissions: u32,
    state: State,
}

impl Retry {
    /// A notification first sent at `now`; `expiration_secs` 0 means it never expires.
    pub fn new(backoff: Backoff, expiration_secs: u32, now: Duration, r: f64) -> Retry {
        let expires_at =
            (expiration_secs > 0).then(|| now + Duration::from_secs(u64::from(expiration_secs)));
        Retry {
            backoff,
            expires_at,
            retransmissions: 0,
            state: State::AwaitingResp {
                resend_at: now + backoff.wait(1, r),
            },
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Retransmissions made so far.
    pub fn retransmissions(&self) -> u32 {
        self.retransmissions
    }

    /// When the driver must next deliver [`Input::Timeout`]: the next retransmission or
    /// the expiry, whichever comes first; `None` once finished.
    pub fn deadline(&self) -> Option<Duration> {
        match self.state {
            State::AwaitingResp { resend_at } => {
                Some(self.expires_at.map_or(resend_at, |e| e.min(resend_at)))
            }
            State::Acknowledged | State::Expired => None,
        }
    }

    /// Advances the machine.
    pub fn step(&mut self, input: Input) -> Action {
        let State::AwaitingResp { resend_at } = self.state else {
            return Action::Finished;
        };
        match input {
            Input::Response => {
                self.state = State::Acknowledged;
                Action::Finished
            }
            Input::Timeout { now, r } => {
                if self.expires_at.is_some_and(|e| now >= e) {
                    self.state = State::Expired;
                    return Action::Finished;
                }
                if now < resend_at {
                    return Action::Wait;
                }
                self.retransmissions = self.retransmissions.saturating_add(1);
                let next = self.backoff.wait(self.retransmissions.saturating_add(1), r);
                self.state = State::AwaitingResp {
                    resend_at: now + next,
                };
                Action::Resend
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn default_windows_follow_the_tr369_table() {
        let b = Backoff::default();
        assert_eq!(b.window(1), (s(5), s(10)));
        assert_eq!(b.window(2), (s(10), s(20)));
        assert_eq!(b.window(3), (s(20), s(40)));
        assert_eq!(b.window(10), (s(2560), s(5120)));
        assert_eq!(b.window(11), (s(2560), s(5120)));
    }

    #[test]
    fn random_draw_picks_a_point_inside_the_window() {
        let b = Backoff::default();
        assert_eq!(b.wait(1, 0.0), s(5));
        assert_eq!(b.wait(1, 0.5), Duration::from_millis(7500));
        assert_eq!(b.wait(2, 0.999_999), s(20) - Duration::from_micros(10));
        assert_eq!(b.wait(1, f64::NAN), s(5));
    }

    #[test]
    fn fractional_multiplier_and_huge_settings_stay_bounded() {
        let b = Backoff {
            min_wait_secs: 10,
            multiplier_permille: 1500,
        };
        assert_eq!(b.window(2), (s(15), Duration::from_millis(22_500)));
        let huge = Backoff {
            min_wait_secs: 65535,
            multiplier_permille: 65535,
        };
        assert_eq!(huge.window(10).1, MAX_WAIT);
    }

    #[test]
    fn retransmits_after_five_to_ten_then_ten_to_twenty_seconds() {
        // TP-469 1.54 with the default Controller parameters.
        let mut r = Retry::new(Backoff::default(), 0, s(100), 0.0);
        assert_eq!(r.deadline(), Some(s(105)));
        assert_eq!(
            r.step(Input::Timeout {
                now: s(104),
                r: 0.0
            }),
            Action::Wait
        );
        assert_eq!(
            r.step(Input::Timeout {
                now: s(105),
                r: 1.0
            }),
            Action::Resend
        );
        assert_eq!(r.deadline(), Some(s(125)));
        assert_eq!(
            r.step(Input::Timeout {
                now: s(125),
                r: 0.0
            }),
            Action::Resend
        );
        assert_eq!(r.deadline(), Some(s(145)));
        assert_eq!(r.retransmissions(), 2);
    }

    #[test]
    fn response_stops_the_retries() {
        let mut r = Retry::new(Backoff::default(), 0, s(0), 0.3);
        assert_eq!(r.step(Input::Response), Action::Finished);
        assert_eq!(r.state(), State::Acknowledged);
        assert_eq!(r.deadline(), None);
        assert_eq!(
            r.step(Input::Timeout {
                now: s(1000),
                r: 0.0
            }),
            Action::Finished
        );
    }

    #[test]
    fn expiration_ends_retries_without_another_send() {
        let mut r = Retry::new(Backoff::default(), 12, s(0), 0.0);
        assert_eq!(r.step(Input::Timeout { now: s(5), r: 0.0 }), Action::Resend);
        // Next resend would be at 15 s; expiry at 12 s comes first.
        assert_eq!(r.deadline(), Some(s(12)));
        assert_eq!(
            r.step(Input::Timeout { now: s(12), r: 0.0 }),
            Action::Finished
        );
        assert_eq!(r.state(), State::Expired);
        assert_eq!(r.retransmissions(), 1);
    }

    #[test]
    fn zero_expiration_never_expires() {
        let mut r = Retry::new(Backoff::default(), 0, s(0), 0.0);
        let mut now = s(0);
        for _ in 0..40 {
            now = r.deadline().unwrap_or(now);
            assert_eq!(r.step(Input::Timeout { now, r: 0.0 }), Action::Resend);
        }
        assert_eq!(r.retransmissions(), 40);
        // Capped window: 2560 s at r = 0.
        assert_eq!(r.deadline(), Some(now + s(2560)));
    }
}
