//! Time rules (ARCHITECTURE.md "Time"): instants are UTC, rules are clinic-local,
//! intervals are half-open `[start, end)`, and local times that a DST change
//! removes or repeats resolve the same way everywhere:
//! - a local time that does not exist (spring forward) moves forward to the
//!   first valid instant, the moment the clocks change;
//! - an ambiguous local time (fall back) takes the earlier instant.

use crate::ValidationError;
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A half-open span of time `[start, end)` with `end > start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Interval {
    /// The only way in: refuses an end at or before the start.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, ValidationError> {
        if end <= start {
            return Err(ValidationError::EndNotAfterStart {
                start: start.to_rfc3339(),
                end: end.to_rfc3339(),
            });
        }
        Ok(Interval { start, end })
    }

    /// For callers that have already established `end > start`; returns `None` otherwise.
    pub fn try_new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (end > start).then_some(Interval { start, end })
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
    /// Half-open overlap: touching intervals do not overlap.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
    pub fn contains_instant(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
    pub fn contains(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }
    /// Widen by a margin on each side (an appointment and its buffers).
    pub fn widen(&self, before: Duration, after: Duration) -> Interval {
        Interval {
            start: self.start - before,
            end: self.end + after,
        }
    }
    pub fn intersection(&self, other: &Interval) -> Option<Interval> {
        Interval::try_new(self.start.max(other.start), self.end.min(other.end))
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{} .. {})",
            self.start.to_rfc3339(),
            self.end.to_rfc3339()
        )
    }
}

/// Resolve a clinic-local wall time to an instant, following the DST rules above.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // Inside a gap: walk forward a minute at a time to the first local
            // time that exists; the gap's end is the instant the clocks change.
            // Gaps are whole minutes and at most a day long.
            let mut probe = local
                .with_second(0)
                .and_then(|p| p.with_nanosecond(0))
                .unwrap_or(local);
            for _ in 0..(26 * 60) {
                probe += Duration::minutes(1);
                match tz.from_local_datetime(&probe) {
                    LocalResult::Single(t) => return t.with_timezone(&Utc),
                    LocalResult::Ambiguous(a, b) => return a.min(b).with_timezone(&Utc),
                    LocalResult::None => {}
                }
            }
            // Unreachable for any real tz database entry; fall back to reading
            // the wall time as UTC shifted by the zone's standard offset.
            let off = tz.offset_from_utc_datetime(&local).fix().local_minus_utc();
            DateTime::from_naive_utc_and_offset(local - Duration::seconds(i64::from(off)), Utc)
        }
    }
}

/// The instant a local date begins (resolved like any local time).
pub fn start_of_local_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    resolve_local(tz, date.and_time(NaiveTime::MIN))
}

/// The UTC span of local dates `[first, last]` (both inclusive).
pub fn local_days_span(
    tz: Tz,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Interval, ValidationError> {
    let next = last.succ_opt().ok_or(ValidationError::DateRange {
        from: first,
        to: last,
    })?;
    Interval::new(start_of_local_day(tz, first), start_of_local_day(tz, next)).map_err(|_| {
        ValidationError::DateRange {
            from: first,
            to: last,
        }
    })
}

/// The clinic-local wall time of an instant.
pub fn to_local(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

/// Offset of local time from UTC at an instant, in seconds.
pub fn offset_seconds(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// An inclusive range of local dates, checked against a maximum length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl DateRange {
    pub fn new(first: NaiveDate, last: NaiveDate, max_days: i64) -> Result<Self, ValidationError> {
        if last < first {
            return Err(ValidationError::DateRange {
                from: first,
                to: last,
            });
        }
        let days = (last - first).num_days() + 1;
        if days > max_days {
            return Err(ValidationError::RangeTooLarge {
                days,
                max: max_days,
            });
        }
        Ok(DateRange { first, last })
    }
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let last = self.last;
        self.first.iter_days().take_while(move |d| *d <= last)
    }
    pub fn len_days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
    pub fn to_interval(&self, tz: Tz) -> Result<Interval, ValidationError> {
        local_days_span(tz, self.first, self.last)
    }
}

/// A span of local wall-clock time within one day, in minutes since local
/// midnight: `start < end <= 1440`. Written `HH:MM-HH:MM` (`24:00` allowed as an end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalSpan {
    start_min: u16,
    end_min: u16,
}

impl LocalSpan {
    pub fn new(start_min: u16, end_min: u16) -> Result<Self, ValidationError> {
        if start_min >= end_min || end_min > 1440 {
            return Err(ValidationError::LocalSpan(format!(
                "{}-{}",
                fmt_minutes(start_min),
                fmt_minutes(end_min)
            )));
        }
        Ok(LocalSpan { start_min, end_min })
    }
    pub fn start_min(&self) -> u16 {
        self.start_min
    }
    pub fn end_min(&self) -> u16 {
        self.end_min
    }
    /// The UTC interval this span covers on a given local date.
    pub fn on(&self, tz: Tz, date: NaiveDate) -> Option<Interval> {
        let day = date.and_time(NaiveTime::MIN);
        let s = resolve_local(tz, day + Duration::minutes(i64::from(self.start_min)));
        let e = resolve_local(tz, day + Duration::minutes(i64::from(self.end_min)));
        // On a spring-forward day a span lying wholly inside the gap is empty.
        Interval::try_new(s, e)
    }
    /// Parse a comma-separated list of spans (`09:00-12:00,13:00-17:00`);
    /// the empty string is the empty list (a closed day).
    pub fn parse_list(raw: &str) -> Result<Vec<LocalSpan>, ValidationError> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(LocalSpan::from_str)
            .collect()
    }
    pub fn format_list(spans: &[LocalSpan]) -> String {
        spans
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn parse_minutes(raw: &str) -> Option<u16> {
    let (h, m) = raw.trim().split_once(':')?;
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) || h.to_string().len() > 2 {
        return None;
    }
    Some(h * 60 + m)
}

pub fn fmt_minutes(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

impl FromStr for LocalSpan {
    type Err = ValidationError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || ValidationError::LocalSpan(raw.to_string());
        let (a, b) = raw.split_once('-').ok_or_else(bad)?;
        let (s, e) = (
            parse_minutes(a).ok_or_else(bad)?,
            parse_minutes(b).ok_or_else(bad)?,
        );
        if s >= 1440 {
            return Err(bad());
        }
        LocalSpan::new(s, e).map_err(|_| bad())
    }
}

impl TryFrom<String> for LocalSpan {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}
impl From<LocalSpan> for String {
    fn from(s: LocalSpan) -> String {
        s.to_string()
    }
}
impl fmt::Display for LocalSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            fmt_minutes(self.start_min),
            fmt_minutes(self.end_min)
        )
    }
}

/// Monday of the ISO week that holds `date`.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// Whether an instant falls on a whole minute.
pub fn is_whole_minute(t: DateTime<Utc>) -> bool {
    t.timestamp() % 60 == 0 && t.timestamp_subsec_nanos() == 0
}
