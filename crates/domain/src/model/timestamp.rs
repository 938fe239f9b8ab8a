//! How a [`Timestamp`] is written wherever a client reads it (JSON bodies, job events, NOTIFY
//! payloads, metadata): `YYYY-MM-DDTHH:MM:SS[.ffffff]`, UTC without zone — the one rule, said
//! once.

use chrono::{Datelike, Timelike};

use super::Timestamp;

/// A timestamp's wire text, formatted without allocating in the common case.
#[derive(Debug, Clone)]
pub struct TimestampText(Repr);

#[derive(Debug, Clone)]
enum Repr {
    Digits([u8; 26], usize),
    Chrono(String),
}

impl TimestampText {
    /// The API's format: `.ffffff` only when the microseconds are not zero.
    pub fn new(t: &Timestamp) -> Self {
        Self::with_fraction(t, t.nanosecond() / 1_000 != 0)
    }

    /// Always six fraction digits (the health check's `timestamp`, feedback times).
    pub fn micros(t: &Timestamp) -> Self {
        Self::with_fraction(t, true)
    }

    fn with_fraction(t: &Timestamp, fraction: bool) -> Self {
        match digits(t, fraction) {
            Some((text, len)) => TimestampText(Repr::Digits(text, len)),
            None => {
                let pattern = if fraction {
                    "%Y-%m-%dT%H:%M:%S%.6f"
                } else {
                    "%Y-%m-%dT%H:%M:%S"
                };
                TimestampText(Repr::Chrono(t.format(pattern).to_string()))
            }
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only ASCII digits and separators are written.
            Repr::Digits(text, len) => std::str::from_utf8(&text[..*len]).unwrap_or_default(),
            Repr::Chrono(text) => text,
        }
    }
}

impl std::fmt::Display for TimestampText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]` written digit by digit (every listing prints two per row;
/// chrono's formatter interprets its pattern each time, ~20 times slower). `None` for years
/// outside 0–9999 and leap seconds, which chrono prints.
fn digits(t: &Timestamp, fraction: bool) -> Option<([u8; 26], usize)> {
    let (Ok(year @ 0..=9999), nanos @ 0..=999_999_999) = (u32::try_from(t.year()), t.nanosecond()) else {
        return None;
    };
    let mut text = [0u8; 26];
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut v = value;
        for i in (at..at + digits).rev() {
            text[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    put(20, nanos / 1_000, 6);
    for (at, sep) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ] {
        text[at] = sep;
    }
    Some((text, if fraction { 26 } else { 19 }))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};

    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> Timestamp {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_time(NaiveTime::from_hms_nano_opt(h, mi, s, nanos).unwrap())
    }

    #[test]
    fn digit_by_digit_prints_what_chrono_prints() {
        for t in [
            at(1, 1, 1, 0, 0, 0, 0),
            at(9999, 12, 31, 23, 59, 59, 999_999_999),
            at(2024, 2, 29, 1, 2, 3, 400),
            at(2024, 2, 29, 1, 2, 3, 7_000),
            at(10000, 1, 1, 0, 0, 0, 7_000),
            at(-44, 3, 15, 12, 0, 0, 0),
            at(2016, 12, 31, 23, 59, 59, 1_500_000_000),
        ] {
            let pattern = if t.nanosecond() / 1_000 == 0 {
                "%Y-%m-%dT%H:%M:%S"
            } else {
                "%Y-%m-%dT%H:%M:%S%.6f"
            };
            assert_eq!(
                TimestampText::new(&t).as_str(),
                t.format(pattern).to_string(),
                "{t:?}"
            );
            assert_eq!(
                TimestampText::micros(&t).to_string(),
                t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
                "{t:?}"
            );
        }
    }
}
