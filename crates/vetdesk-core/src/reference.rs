//! A deliberately naive availability implementation: every grid minute is
//! checked against every rule directly. It shares no algorithm with
//! [`crate::availability`] and exists to check it (property tests) and to give
//! the benchmarks a baseline.

use crate::availability::{SlotQuery, VetSlots};
use crate::schedule::VetSchedule;
use crate::time::{DateRange, Interval};
use chrono::{Duration, Timelike};
use chrono_tz::Tz;

pub fn availability(
    schedules: &[VetSchedule],
    tz: Tz,
    range: DateRange,
    window: Interval,
    q: &SlotQuery,
) -> Vec<VetSlots> {
    schedules
        .iter()
        .map(|s| VetSlots {
            vet_id: s.vet_id,
            slots: vet_slots(s, tz, range, window, q),
        })
        .collect()
}

fn vet_slots(
    s: &VetSchedule,
    tz: Tz,
    range: DateRange,
    window: Interval,
    q: &SlotQuery,
) -> Vec<Interval> {
    // Working intervals straight from the rules, one resolve per span end.
    let mut working = Vec::new();
    for date in range.days() {
        for span in s.spans_on(date) {
            if let Some(iv) = span.on(tz, date) {
                working.push(iv);
            }
        }
    }
    let d = Duration::minutes(i64::from(q.duration_min));
    let before = Duration::minutes(i64::from(q.buffer_before_min));
    let after = Duration::minutes(i64::from(q.buffer_after_min));
    let mut out = Vec::new();
    let mut t = window.start();
    while t < window.end() {
        let local = crate::time::to_local(tz, t);
        let aligned = local.second() == 0 && (local.hour() * 60 + local.minute()) % q.grid_min == 0;
        if aligned && t >= q.not_before {
            if let Some(slot) = Interval::try_new(t, t + d) {
                let covered = covered_by(&working, slot);
                let off = s.absences.iter().any(|a| a.period.overlaps(&slot));
                let wide = slot.widen(before, after);
                let booked = s
                    .bookings
                    .iter()
                    .any(|b| Some(b.id) != q.ignoring && b.blocked.overlaps(&wide))
                    || s.busy.iter().any(|b| b.overlaps(&wide));
                if covered && !off && !booked {
                    out.push(slot);
                }
            }
        }
        t += Duration::minutes(1);
    }
    out
}

/// Every instant of `slot` lies in some working interval, and they join up
/// without a gap (touching intervals count as one).
fn covered_by(working: &[Interval], slot: Interval) -> bool {
    let mut cur = slot.start();
    while cur < slot.end() {
        match working
            .iter()
            .filter(|w| w.contains_instant(cur))
            .map(|w| w.end())
            .max()
        {
            Some(end) => cur = end,
            None => return false,
        }
    }
    true
}
