//! Free slots: working shifts − time off − (active appointments widened by
//! their buffers and by the new appointment's own buffers) − the past and the
//! minimum notice, cut into slots of the requested duration on a local grid.
//!
//! The algorithm works in whole seconds on sorted half-open ranges: for each
//! shift piece `[f0, f1)` left after time off, the allowed *starts* are
//! `[f0, f1 - d]`; each booking `[b0, b1)` forbids the starts in
//! `(b0 - d - after, b1 + before)`. One sweep subtracts the forbidden starts,
//! and the grid points that remain are the slots.
//!
//! The same sweep gives the answer in two forms: every slot ([`availability`]),
//! or runs of slots ([`availability_runs`], the compact form: a few runs a day
//! instead of dozens of slots), from which [`SlotRun::slots`] gives the slots
//! back by the one expansion rule written there.

use crate::ids::{AppointmentId, VetId};
use crate::schedule::{
    from_secs, join_touching, secs, shifts, subtract_from, subtract_into, LocalDays, Range,
    VetSchedule,
};
use crate::time::{offset_seconds, Interval};
use crate::ValidationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotQuery {
    pub duration_min: u32,
    pub buffer_before_min: u32,
    pub buffer_after_min: u32,
    /// Slots start on local times whose minute-of-day is a multiple of this.
    pub grid_min: u32,
    /// No slot starts before this instant (now plus the minimum notice).
    pub not_before: DateTime<Utc>,
    /// Ignore this appointment's own time (when looking for where to move it).
    pub ignoring: Option<AppointmentId>,
}

/// The finest slot grid, in minutes.
pub const GRID_MIN_MINUTES: i64 = 5;
/// The coarsest slot grid, in minutes (4 hours).
pub const GRID_MAX_MINUTES: i64 = 240;

/// Grid steps that divide a day evenly, from [`GRID_MIN_MINUTES`] to [`GRID_MAX_MINUTES`].
pub fn validate_grid(grid_min: i64) -> Result<u32, ValidationError> {
    let g = crate::validate::minutes_in("grid", grid_min, GRID_MIN_MINUTES, GRID_MAX_MINUTES)?;
    if 1440 % g != 0 {
        return Err(ValidationError::Other(format!(
            "a grid of {g} minutes does not divide the day evenly (use 5, 10, 15, 20, 30, 60 ...)"
        )));
    }
    Ok(g)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VetSlots {
    pub vet_id: VetId,
    pub slots: Vec<Interval>,
}

/// Free slots for each schedule (all at the clinic whose days are `days`), with
/// slot starts inside `window`.
pub fn availability(
    schedules: &[VetSchedule],
    days: &LocalDays,
    window: Interval,
    q: &SlotQuery,
) -> Vec<VetSlots> {
    let mut scratch = Scratch::default();
    let d = i64::from(q.duration_min) * 60;
    schedules
        .iter()
        .map(|s| {
            let mut slots = Vec::new();
            vet_starts(s, days, window, q, &mut scratch, &mut |t| {
                if let Some(iv) = Interval::try_new(from_secs(t), from_secs(t + d)) {
                    slots.push(iv);
                }
            });
            VetSlots {
                vet_id: s.vet_id,
                slots,
            }
        })
        .collect()
}

/// A run of free slots, the unit of the compact form of availability.
///
/// **The expansion rule** (the one place it is written; the HTTP API's document
/// repeats it): a run `[start, end)` answered with grid `g` and duration `d`
/// minutes holds the slots `[t, t + d)` for `t = start, start + g, start + 2g, …`
/// while `t + d <= end`. Steps are exact minutes of UTC time. `start` is always
/// a slot's start and `end` the end of the run's last slot, so `[start, end)` is
/// the time the run's slots cover. A vet's runs are sorted by start, and a run
/// is as long as it can be: where the next slot does not start exactly one
/// step on (a booking, a break, or a DST change that moves the local grid),
/// a new run begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRun {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl SlotRun {
    /// The run's slots, by the expansion rule above.
    pub fn slots(self, grid_min: u32, duration_min: u32) -> impl Iterator<Item = Interval> {
        let step = chrono::Duration::minutes(i64::from(grid_min.max(1)));
        let d = chrono::Duration::minutes(i64::from(duration_min));
        let end = self.end;
        std::iter::successors(Some(self.start), move |t| t.checked_add_signed(step))
            .take_while(move |t| t.checked_add_signed(d).is_some_and(|e| e <= end))
            .filter_map(move |t| Interval::try_new(t, t + d))
    }
}

/// Every slot of a vet's runs, in order: the compact form expanded.
pub fn expand_runs(runs: &[SlotRun], grid_min: u32, duration_min: u32) -> Vec<Interval> {
    runs.iter()
        .flat_map(|r| r.slots(grid_min, duration_min))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VetRuns {
    pub vet_id: VetId,
    pub runs: Vec<SlotRun>,
}

/// [`availability`]'s answer in compact form: the same slots, as runs
/// ([`SlotRun`] states how they expand).
pub fn availability_runs(
    schedules: &[VetSchedule],
    days: &LocalDays,
    window: Interval,
    q: &SlotQuery,
) -> Vec<VetRuns> {
    let mut scratch = Scratch::default();
    let d = i64::from(q.duration_min) * 60;
    let grid = i64::from(q.grid_min.max(1)) * 60;
    schedules
        .iter()
        .map(|s| {
            // (first start, last start) of each run, in seconds.
            let mut runs: Vec<Range> = Vec::new();
            vet_starts(
                s,
                days,
                window,
                q,
                &mut scratch,
                &mut |t| match runs.last_mut() {
                    Some(last) if last.1 + grid == t => last.1 = t,
                    _ => runs.push((t, t)),
                },
            );
            VetRuns {
                vet_id: s.vet_id,
                runs: runs
                    .into_iter()
                    .map(|(first, last)| SlotRun {
                        start: from_secs(first),
                        end: from_secs(last + d),
                    })
                    .collect(),
            }
        })
        .collect()
}

#[derive(Default)]
struct Scratch {
    absences: Vec<Range>,
    forbidden: Vec<Range>,
    pieces: Vec<Range>,
    starts: Vec<Range>,
}

/// Calls `emit` with each slot's start (seconds), in increasing order.
fn vet_starts(
    s: &VetSchedule,
    days: &LocalDays,
    window: Interval,
    q: &SlotQuery,
    sc: &mut Scratch,
    emit: &mut impl FnMut(i64),
) {
    let d = i64::from(q.duration_min) * 60;
    let before = i64::from(q.buffer_before_min) * 60;
    let after = i64::from(q.buffer_after_min) * 60;
    let grid = i64::from(q.grid_min.max(1)) * 60;
    let lo = secs(window.start()).max(secs(q.not_before));
    let hi = secs(window.end());

    sc.absences.clear();
    sc.absences.extend(
        s.absences
            .iter()
            .map(|a| (secs(a.period.start()), secs(a.period.end()))),
    );
    sc.forbidden.clear();
    s.blocked_ranges(q.ignoring, &mut sc.forbidden);
    for r in sc.forbidden.iter_mut() {
        *r = (r.0 - d - after + 1, r.1 + before);
    }

    let (mut absence_cursor, mut booking_cursor) = (0, 0);
    for shift in join_touching(&shifts(s, days)) {
        let base = [(secs(shift.interval.start()), secs(shift.interval.end()))];
        sc.pieces.clear();
        subtract_from(&base, &sc.absences, &mut sc.pieces, &mut absence_cursor);
        // Allowed starts per piece: [f0, f1 - d], written half-open, clipped to the window.
        for p in sc.pieces.iter_mut() {
            *p = (p.0.max(lo), (p.1 - d + 1).min(hi));
        }
        sc.pieces.retain(|p| p.0 < p.1);
        sc.starts.clear();
        subtract_from(
            &sc.pieces,
            &sc.forbidden,
            &mut sc.starts,
            &mut booking_cursor,
        );
        for &(a, b) in &sc.starts {
            grid_points(a, b, shift.fixed_offset, days.tz, grid, emit);
        }
    }
}

/// Calls `push` with every `t` in `[a, b)` that sits on the local grid, in order.
fn grid_points(
    a: i64,
    b: i64,
    fixed_offset: Option<i32>,
    tz: chrono_tz::Tz,
    grid: i64,
    push: &mut impl FnMut(i64),
) {
    match fixed_offset {
        Some(off) => {
            let off = i64::from(off);
            let mut t = (a + off).div_euclid(grid) * grid - off;
            if t < a {
                t += grid;
            }
            while t < b {
                push(t);
                t += grid;
            }
        }
        None => {
            // A DST change inside the shift: check each whole minute's local alignment.
            let mut t = a.div_euclid(60) * 60;
            if t < a {
                t += 60;
            }
            while t < b {
                let local = t + i64::from(offset_seconds(tz, from_secs(t)));
                if local.rem_euclid(grid) == 0 {
                    push(t);
                }
                t += 60;
            }
        }
    }
}

/// The free stretches of a vet's working time (after time off, bookings with
/// their buffers and `not_before`), at least `min_len_min` long, within `window`.
pub fn free_blocks(
    s: &VetSchedule,
    days: &LocalDays,
    window: Interval,
    not_before: DateTime<Utc>,
    min_len_min: u32,
) -> Vec<Interval> {
    let lo = secs(window.start()).max(secs(not_before));
    let hi = secs(window.end());
    let absences: Vec<Range> = s
        .absences
        .iter()
        .map(|a| (secs(a.period.start()), secs(a.period.end())))
        .collect();
    let mut blocked: Vec<Range> = Vec::new();
    s.blocked_ranges(None, &mut blocked);
    let base: Vec<Range> = shifts(s, days)
        .iter()
        .map(|sh| {
            (
                secs(sh.interval.start()).max(lo),
                secs(sh.interval.end()).min(hi),
            )
        })
        .filter(|r| r.0 < r.1)
        .collect();
    let mut after_absence = Vec::new();
    subtract_into(&base, &absences, &mut after_absence);
    let mut free = Vec::new();
    subtract_into(&after_absence, &blocked, &mut free);
    let min_len = i64::from(min_len_min) * 60;
    free.into_iter()
        .filter(|r| r.1 - r.0 >= min_len.max(1))
        .filter_map(|(a, b)| Interval::try_new(from_secs(a), from_secs(b)))
        .collect()
}
