//! The `Device.Periodic!` schedule of one Controller (TR-181
//! `Device.LocalAgent.Controller.{i}.PeriodicNotifInterval` and `PeriodicNotifTime`):
//! notifications fall on `PeriodicNotifTime ± n × PeriodicNotifInterval`; with the
//! unknown time (or no such parameter) the agent picks the phase: the first one an
//! interval after the schedule is set up.

use std::time::Duration;

use tokio::time::Instant;
use usp_datamodel::DateTime;

/// One Controller's Periodic! timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// `PeriodicNotifInterval`, seconds (> 0).
    pub interval: u32,
    /// `PeriodicNotifTime`; `None` for the unknown time.
    pub reference: Option<DateTime>,
    /// When the next Periodic! is due.
    pub next: Instant,
}

impl Schedule {
    /// A schedule set up at `now` (monotonic) / `wall_now` (UTC).
    pub fn new(
        interval: u32,
        reference: Option<DateTime>,
        now: Instant,
        wall_now: DateTime,
    ) -> Schedule {
        Schedule {
            interval,
            reference,
            next: now + Duration::from_secs(first_wait(interval, reference, wall_now)),
        }
    }

    /// Whether the Controller's settings are still those of this schedule.
    pub fn same_settings(&self, interval: u32, reference: Option<DateTime>) -> bool {
        self.interval == interval && self.reference == reference
    }

    /// Moves to the next slot after a notification due at `self.next` was sent at `now`;
    /// slots missed while the agent was busy are skipped, not sent in a burst.
    pub fn advance(&mut self, now: Instant) {
        let step = Duration::from_secs(u64::from(self.interval.max(1)));
        self.next += step;
        if self.next <= now {
            let behind = now.duration_since(self.next).as_secs() / step.as_secs();
            self.next += step * u32::try_from(behind + 1).unwrap_or(u32::MAX);
        }
    }
}

/// Seconds from `wall_now` to the first notification time.
pub fn first_wait(interval: u32, reference: Option<DateTime>, wall_now: DateTime) -> u64 {
    let interval = i64::from(interval.max(1));
    let wait = match reference {
        Some(r) => (r.unix_secs() - wall_now.unix_secs()).rem_euclid(interval),
        None => interval,
    };
    // A slot falling exactly now is taken as the next one, not sent at set-up.
    u64::try_from(if wait == 0 { interval } else { wait }).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime {
        DateTime::from_unix(secs, 0)
    }

    #[test]
    fn unknown_reference_waits_one_interval() {
        assert_eq!(first_wait(60, None, at(1_000_003)), 60);
    }

    #[test]
    fn reference_in_the_past_sets_the_phase() {
        // Midnight reference, daily: the next midnight.
        let midnight = at(86_400 * 20_000);
        assert_eq!(
            first_wait(86_400, Some(midnight), at(86_400 * 20_010 + 3_600)),
            86_400 - 3_600
        );
    }

    #[test]
    fn reference_in_the_future_still_starts_at_the_next_slot() {
        assert_eq!(first_wait(100, Some(at(10_050)), at(1_000)), 50);
        assert_eq!(first_wait(100, Some(at(1_000)), at(1_000)), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn advance_skips_missed_slots() {
        let t0 = Instant::now();
        let mut s = Schedule::new(10, None, t0, at(0));
        assert_eq!(s.next, t0 + Duration::from_secs(10));
        s.advance(t0 + Duration::from_secs(10));
        assert_eq!(s.next, t0 + Duration::from_secs(20));
        s.advance(t0 + Duration::from_secs(55));
        assert_eq!(s.next, t0 + Duration::from_secs(60));
    }
}
