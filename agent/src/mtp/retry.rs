//! The session retry interval of TR-369 "WebSocket Session Retry" (R-WS.19), also used for
//! MQTT reconnection (`Device.MQTT.Client.{i}.ConnectRetryTime` and friends follow the same
//! pattern).
//!
//! Retry n (1-based) waits a random time in `[m·(k/1000)^(n-1), m·(k/1000)^n]`, where m is
//! the minimum wait interval and k the interval multiplier; from the 10th retry on the range
//! stays that of the 10th. An optional maximum caps the result.

use std::time::Duration;

use rand::Rng;

/// The retry parameters of one MTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// m: `SessionRetryMinimumWaitInterval` (default 5 s).
    pub min_wait: Duration,
    /// k: `SessionRetryIntervalMultiplier`, in thousandths (default 2000 = ×2.000).
    pub multiplier_permille: u32,
    /// Upper bound on any wait (MQTT `ConnectRetryMaxInterval`); `None` for none.
    pub max_wait: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            min_wait: Duration::from_secs(5),
            multiplier_permille: 2000,
            max_wait: None,
        }
    }
}

/// The retry count beyond which the range stops growing (TR-369's table ends at "#10 and
/// subsequent").
const LAST_GROWING_RETRY: u32 = 10;

impl RetryPolicy {
    /// The `[low, high]` range of retry `n` (1-based; 0 is treated as 1).
    pub fn range(&self, n: u32) -> (Duration, Duration) {
        let n = n.clamp(1, LAST_GROWING_RETRY);
        // Below 1000 the multiplier would shrink the interval; the data model forbids it.
        let k = f64::from(self.multiplier_permille.max(1000)) / 1000.0;
        let m = self.min_wait.as_secs_f64();
        let low = m * k.powi(n as i32 - 1);
        let high = m * k.powi(n as i32);
        let cap = |s: f64| {
            let d = Duration::from_secs_f64(s);
            match self.max_wait {
                Some(max) => d.min(max),
                None => d,
            }
        };
        (cap(low), cap(high))
    }

    /// A random wait for retry `n` within [`RetryPolicy::range`].
    pub fn wait(&self, n: u32) -> Duration {
        let (low, high) = self.range(n);
        if high <= low {
            return low;
        }
        rand::rng().random_range(low..=high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Duration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn default_ranges_match_the_tr369_table() {
        let p = RetryPolicy::default();
        let expect = [
            (1, 5.0, 10.0),
            (2, 10.0, 20.0),
            (3, 20.0, 40.0),
            (9, 1280.0, 2560.0),
            (10, 2560.0, 5120.0),
            (11, 2560.0, 5120.0),
            (50, 2560.0, 5120.0),
        ];
        for (n, lo, hi) in expect {
            let (l, h) = p.range(n);
            assert!((secs(l) - lo).abs() < 1e-6, "retry {n} low {l:?}");
            assert!((secs(h) - hi).abs() < 1e-6, "retry {n} high {h:?}");
        }
    }

    #[test]
    fn wait_stays_within_range_and_under_the_cap() {
        let p = RetryPolicy {
            min_wait: Duration::from_millis(100),
            multiplier_permille: 1500,
            max_wait: Some(Duration::from_millis(300)),
        };
        for n in 1..20 {
            let (l, h) = p.range(n);
            let w = p.wait(n);
            assert!(w >= l && w <= h, "retry {n}: {w:?} outside {l:?}..{h:?}");
            assert!(w <= Duration::from_millis(300));
        }
    }

    #[test]
    fn multiplier_below_one_is_treated_as_one() {
        let p = RetryPolicy {
            min_wait: Duration::from_secs(2),
            multiplier_permille: 10,
            max_wait: None,
        };
        assert_eq!(p.range(4), (Duration::from_secs(2), Duration::from_secs(2)));
        assert_eq!(p.wait(4), Duration::from_secs(2));
    }
}
