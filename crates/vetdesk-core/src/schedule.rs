//! One vet's schedule at one clinic, as plain values, and the working shifts it
//! yields over a range of local dates.

use crate::ids::{AppointmentId, ClinicId, TimeOffId, VetId};
use crate::model::{Appointment, DateOverride, TimeOff, WorkingHours};
use crate::time::{resolve_local, DateRange, Interval, LocalSpan};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A weekly working-hours rule reduced to what scheduling needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyRule {
    pub weekday: Weekday,
    pub span: LocalSpan,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl WeeklyRule {
    pub fn applies_on(&self, date: NaiveDate) -> bool {
        date.weekday() == self.weekday
            && self.valid_from <= date
            && self.valid_to.is_none_or(|to| date <= to)
    }
}

impl From<&WorkingHours> for WeeklyRule {
    fn from(w: &WorkingHours) -> Self {
        WeeklyRule {
            weekday: w.weekday,
            span: w.span,
            valid_from: w.valid_from,
            valid_to: w.valid_to,
        }
    }
}

/// The spans a vet works on one date, replacing the weekly rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOverride {
    pub date: NaiveDate,
    pub spans: Vec<LocalSpan>,
}

impl From<&DateOverride> for DayOverride {
    fn from(o: &DateOverride) -> Self {
        DayOverride {
            date: o.date,
            spans: o.spans.clone(),
        }
    }
}

/// Time off as scheduling sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    pub id: TimeOffId,
    pub period: Interval,
    pub reason: Option<String>,
}

impl From<&TimeOff> for Absence {
    fn from(t: &TimeOff) -> Self {
        Absence {
            id: t.id,
            period: t.period,
            reason: t.reason.clone(),
        }
    }
}

/// An active appointment as scheduling sees it: when it runs and what it blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: AppointmentId,
    pub slot: Interval,
    pub blocked: Interval,
}

impl From<&Appointment> for Booking {
    fn from(a: &Appointment) -> Self {
        Booking {
            id: a.id,
            slot: a.slot,
            blocked: a.blocked(),
        }
    }
}

/// Everything that decides when one vet is free at one clinic.
///
/// `bookings` are the vet's time-holding appointments at *every* clinic (a vet
/// cannot be in two places), sorted by `blocked.start`; `absences` likewise sorted.
/// `busy` is more blocked time whose appointments need not be named: stores
/// read it in bulk for availability and free time. Conflict checks and
/// explanations name what is in the way, so they look at `bookings` only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VetSchedule {
    pub vet_id: VetId,
    pub clinic_id: ClinicId,
    pub rules: Vec<WeeklyRule>,
    pub overrides: Vec<DayOverride>,
    pub absences: Vec<Absence>,
    pub bookings: Vec<Booking>,
    #[serde(default)]
    pub busy: Vec<Interval>,
}

impl VetSchedule {
    pub fn new(vet_id: VetId, clinic_id: ClinicId) -> Self {
        VetSchedule {
            vet_id,
            clinic_id,
            rules: Vec::new(),
            overrides: Vec::new(),
            absences: Vec::new(),
            bookings: Vec::new(),
            busy: Vec::new(),
        }
    }

    /// Put absences and bookings in the order the algorithms rely on.
    pub fn normalise(&mut self) {
        self.absences.sort_by_key(|a| a.period.start());
        self.bookings.sort_by_key(|b| b.blocked.start());
        self.busy.sort_by_key(|b| b.start());
    }

    /// All blocked time, named or not, except the `ignoring` appointment's,
    /// as half-open second ranges sorted by start, appended to `out`.
    pub(crate) fn blocked_ranges(
        &self,
        ignoring: Option<AppointmentId>,
        out: &mut Vec<(i64, i64)>,
    ) {
        let first = out.len();
        out.extend(
            self.bookings
                .iter()
                .filter(|b| Some(b.id) != ignoring)
                .map(|b| (secs(b.blocked.start()), secs(b.blocked.end()))),
        );
        let named = out.len();
        out.extend(self.busy.iter().map(|b| (secs(b.start()), secs(b.end()))));
        if named > first && out.len() > named {
            out[first..].sort_unstable_by_key(|r| r.0);
        }
    }

    /// The merged, sorted local spans worked on one date.
    pub fn spans_on(&self, date: NaiveDate) -> Vec<LocalSpan> {
        let mut spans: Vec<LocalSpan> = match self.overrides.iter().find(|o| o.date == date) {
            Some(o) => o.spans.clone(),
            None => self
                .rules
                .iter()
                .filter(|r| r.applies_on(date))
                .map(|r| r.span)
                .collect(),
        };
        merge_spans(&mut spans);
        spans
    }
}

/// Sort spans and join those that overlap or touch.
pub fn merge_spans(spans: &mut Vec<LocalSpan>) {
    if spans.len() < 2 {
        return;
    }
    spans.sort();
    let mut out: Vec<LocalSpan> = Vec::with_capacity(spans.len());
    for s in spans.drain(..) {
        match out.last_mut() {
            Some(last) if s.start_min() <= last.end_min() => {
                if s.end_min() > last.end_min() {
                    // Both come from valid spans, so start < end holds.
                    if let Ok(joined) = LocalSpan::new(last.start_min(), s.end_min()) {
                        *last = joined;
                    }
                }
            }
            _ => out.push(s),
        }
    }
    *spans = out;
}

/// One local date of a clinic, with what is needed to place wall times on it quickly.
#[derive(Debug, Clone, Copy)]
pub struct LocalDay {
    pub date: NaiveDate,
    /// The offset from UTC in seconds when it is the same all day (no DST change).
    pub fixed_offset: Option<i32>,
}

/// The local dates of a range in a clinic's zone, computed once and shared by
/// every vet of that clinic.
#[derive(Debug, Clone)]
pub struct LocalDays {
    pub tz: Tz,
    pub days: Vec<LocalDay>,
}

impl LocalDays {
    pub fn new(tz: Tz, range: DateRange) -> Self {
        let days = range
            .days()
            .map(|date| {
                let start = crate::time::start_of_local_day(tz, date);
                let next = date
                    .succ_opt()
                    .map(|d| crate::time::start_of_local_day(tz, d));
                let off_start = crate::time::offset_seconds(tz, start);
                let fixed_offset = next.and_then(|n| {
                    let off_next = crate::time::offset_seconds(tz, n);
                    // Same offset at both midnights and a 24 h day: no change in between.
                    (off_next == off_start && (n - start) == Duration::days(1)).then_some(off_start)
                });
                LocalDay { date, fixed_offset }
            })
            .collect();
        LocalDays { tz, days }
    }

    /// The UTC instant of a local minute-of-day (0..=1440) on `day`.
    pub fn at(&self, day: &LocalDay, minute: u16) -> DateTime<Utc> {
        let local = day.date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minute));
        match day.fixed_offset {
            Some(off) => {
                DateTime::from_naive_utc_and_offset(local - Duration::seconds(i64::from(off)), Utc)
            }
            None => resolve_local(self.tz, local),
        }
    }
}

/// A stretch of working time on one local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub date: NaiveDate,
    pub interval: Interval,
    /// Offset from UTC throughout the shift, when it is constant.
    pub fixed_offset: Option<i32>,
}

/// The working shifts of one vet over the given days, sorted.
pub fn shifts(schedule: &VetSchedule, days: &LocalDays) -> Vec<Shift> {
    let mut out = Vec::with_capacity(days.days.len() * 2);
    for day in &days.days {
        for span in schedule.spans_on(day.date) {
            let start = days.at(day, span.start_min());
            let end = days.at(day, span.end_min());
            if let Some(interval) = Interval::try_new(start, end) {
                out.push(Shift {
                    date: day.date,
                    interval,
                    fixed_offset: day.fixed_offset,
                });
            }
        }
    }
    out
}

/// Shifts joined where they touch, so working time is judged as one continuous
/// stretch: an overnight shift (a span to 24:00 followed by one from 00:00 the
/// next day) or a break that a spring-forward gap swallows is no break at all.
/// A joined stretch keeps a fixed offset only when all its parts share it.
pub fn join_touching(shifts: &[Shift]) -> Vec<Shift> {
    let mut out: Vec<Shift> = Vec::with_capacity(shifts.len());
    for s in shifts {
        match out.last_mut() {
            Some(last) if last.interval.end() >= s.interval.start() => {
                if let Some(joined) = Interval::try_new(
                    last.interval.start(),
                    last.interval.end().max(s.interval.end()),
                ) {
                    last.interval = joined;
                }
                if last.fixed_offset != s.fixed_offset {
                    last.fixed_offset = None;
                }
            }
            _ => out.push(*s),
        }
    }
    out
}

/// Half-open ranges of seconds since the epoch: the algorithms' working unit.
pub(crate) type Range = (i64, i64);

pub(crate) fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(crate) fn from_secs(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `base` minus `cuts`. `base` is sorted and non-overlapping; `cuts` is sorted
/// by start and may overlap. Appends the pieces to `out`, sorted.
pub(crate) fn subtract_into(base: &[Range], cuts: &[Range], out: &mut Vec<Range>) {
    let mut cursor = 0;
    subtract_from(base, cuts, out, &mut cursor);
}

/// [`subtract_into`] starting at `cuts[*cursor..]`, leaving the cursor past every
/// cut that ends before the last base range. Successive calls with sorted,
/// non-overlapping bases sweep `cuts` once in all.
pub(crate) fn subtract_from(
    base: &[Range],
    cuts: &[Range],
    out: &mut Vec<Range>,
    cursor: &mut usize,
) {
    let mut j = *cursor;
    for &(b0, b1) in base {
        while j < cuts.len() && cuts[j].1 <= b0 {
            j += 1;
        }
        let mut cur = b0;
        let mut k = j;
        while k < cuts.len() && cuts[k].0 < b1 {
            let (c0, c1) = cuts[k];
            if c1 > cur {
                if c0 > cur {
                    out.push((cur, c0));
                }
                cur = c1;
                if cur >= b1 {
                    break;
                }
            }
            k += 1;
        }
        if cur < b1 {
            out.push((cur, b1));
        }
    }
    *cursor = j;
}
