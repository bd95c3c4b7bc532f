//! TR-106 `dateTime` (section 3.2.1): `YYYY-MM-DDThh:mm:ss[.ffffff]Z` in UTC, the
//! unknown time `0001-01-01T00:00:00Z`, and explicit offsets normalised to UTC.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time, UTC, with microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateTime {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    secs: i64,
    micros: u32,
}

const UNKNOWN_SECS: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z

impl DateTime {
    /// `0001-01-01T00:00:00Z`, TR-106's "unknown time".
    pub const UNKNOWN: DateTime = DateTime {
        secs: UNKNOWN_SECS,
        micros: 0,
    };

    /// The time `secs` seconds after the Unix epoch.
    pub fn from_unix(secs: i64, micros: u32) -> DateTime {
        DateTime {
            secs: secs + i64::from(micros / 1_000_000),
            micros: micros % 1_000_000,
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix_secs(self) -> i64 {
        self.secs
    }

    /// The system clock, now (the unknown time if the clock is before 1970).
    pub fn now() -> DateTime {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => DateTime::from_unix(
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
                d.subsec_micros(),
            ),
            Err(_) => DateTime::UNKNOWN,
        }
    }

    /// Whether this is the unknown time.
    pub fn is_unknown(self) -> bool {
        self == DateTime::UNKNOWN
    }

    /// Parses the TR-106 form; a missing zone designator is read as UTC.
    pub fn parse(s: &str) -> Option<DateTime> {
        let b = s.as_bytes();
        if b.len() < 19
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let year = digits(&b[0..4])?;
        let month = digits(&b[5..7])?;
        let day = digits(&b[8..10])?;
        let hour = digits(&b[11..13])?;
        let minute = digits(&b[14..16])?;
        let second = digits(&b[17..19])?;
        if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let mut rest = &b[19..];
        let mut micros = 0u32;
        if let Some(frac) = rest.strip_prefix(b".") {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return None;
            }
            for i in 0..6 {
                micros = micros * 10
                    + frac
                        .get(i)
                        .filter(|_| i < n)
                        .map_or(0, |c| u32::from(c - b'0'));
            }
            rest = &frac[n..];
        }
        let offset = match rest {
            [] | [b'Z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let h = digits(&[*h1, *h2])?;
                let m = digits(&[*m1, *m2])?;
                if h > 23 || m > 59 {
                    return None;
                }
                let off = i64::from(h * 3600 + m * 60);
                if *sign == b'+' { off } else { -off }
            }
            _ => return None,
        };
        let days = days_from_civil(i64::from(year), month, day);
        let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset;
        Some(DateTime { secs, micros })
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let tod = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            write!(
                f,
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
                tod / 3600,
                tod / 60 % 60,
                tod % 60
            )?;
        } else {
            // Hand-formatted: a full Get writes tens of thousands of these.
            let mut b = *b"0000-00-00T00:00:00";
            let put = |b: &mut [u8], at: usize, v: u32, width: usize| {
                let mut v = v;
                for i in (0..width).rev() {
                    b[at + i] = b'0' + (v % 10) as u8;
                    v /= 10;
                }
            };
            put(&mut b, 0, y as u32, 4);
            put(&mut b, 5, m, 2);
            put(&mut b, 8, d, 2);
            put(&mut b, 11, (tod / 3600) as u32, 2);
            put(&mut b, 14, (tod / 60 % 60) as u32, 2);
            put(&mut b, 17, (tod % 60) as u32, 2);
            // Only ASCII digits and separators were written.
            f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?)?;
        }
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        f.write_str("Z")
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_time_round_trips() {
        let t = DateTime::parse("0001-01-01T00:00:00Z").unwrap();
        assert!(t.is_unknown());
        assert_eq!(t.to_string(), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let t = DateTime::parse("2024-02-29T01:30:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2024-02-28T23:30:00Z");
        assert_eq!(
            DateTime::parse("1970-01-01T00:00:00Z").unwrap().unix_secs(),
            0
        );
    }

    #[test]
    fn fractions_keep_microseconds() {
        let t = DateTime::parse("2020-05-06T07:08:09.123Z").unwrap();
        assert_eq!(t.to_string(), "2020-05-06T07:08:09.123000Z");
    }

    #[test]
    fn invalid_dates_are_rejected() {
        for s in [
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-01-01 00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T00:00:00Q",
            "2023-01-01T00:00:00.Z",
            "0000-01-01T00:00:00Z",
            "yesterday",
            "2023-01-01T00:00:00+2:00",
        ] {
            assert!(DateTime::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn display_matches_unix_time() {
        assert_eq!(
            DateTime::from_unix(1_700_000_000, 0).to_string(),
            "2023-11-14T22:13:20Z"
        );
    }
}
