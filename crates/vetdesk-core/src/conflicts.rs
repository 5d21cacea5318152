//! Conflict detection and "why is this not free?". Both report every reason,
//! never just the first, so a person sees the whole picture at once.

use crate::ids::{AppointmentId, ClinicId, TimeOffId, VetId};
use crate::model::blocked_interval;
use crate::schedule::{join_touching, shifts, LocalDays, VetSchedule};
use crate::time::{DateRange, Interval};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One reason a proposed time does not work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conflict {
    /// The proposed time (with buffers) overlaps another appointment; when
    /// `buffer_only`, only the buffers touch, not the appointments themselves.
    Overlap {
        appointment_id: AppointmentId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        buffer_only: bool,
    },
    /// Outside the vet's working hours at this clinic.
    OutsideWorkingHours,
    /// Between two working stretches of the same day.
    OnBreak {
        resumes_at: DateTime<Utc>,
    },
    TimeOff {
        time_off_id: TimeOffId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        reason: Option<String>,
    },
    InPast {
        now: DateTime<Utc>,
    },
    MinimumNotice {
        earliest: DateTime<Utc>,
    },
    UnknownVet {
        vet_id: VetId,
    },
    UnknownClinic {
        clinic_id: ClinicId,
    },
    VetNotAtClinic {
        vet_id: VetId,
        clinic_id: ClinicId,
    },
}

impl Conflict {
    /// A stable code for adapters and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Conflict::Overlap {
                buffer_only: false, ..
            } => "overlap",
            Conflict::Overlap {
                buffer_only: true, ..
            } => "buffer_overlap",
            Conflict::OutsideWorkingHours => "outside_working_hours",
            Conflict::OnBreak { .. } => "on_break",
            Conflict::TimeOff { .. } => "time_off",
            Conflict::InPast { .. } => "in_past",
            Conflict::MinimumNotice { .. } => "minimum_notice",
            Conflict::UnknownVet { .. } => "unknown_vet",
            Conflict::UnknownClinic { .. } => "unknown_clinic",
            Conflict::VetNotAtClinic { .. } => "vet_not_at_clinic",
        }
    }
}

impl Conflict {
    /// The reason as a sentence, with times in the clinic's wall time
    /// (`Display` gives UTC instants, for logs).
    pub fn describe(&self, tz: Tz) -> String {
        let at = |t: DateTime<Utc>| {
            crate::time::to_local(tz, t)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        };
        let span = |a: DateTime<Utc>, b: DateTime<Utc>| {
            let (la, lb) = (crate::time::to_local(tz, a), crate::time::to_local(tz, b));
            if la.date() == lb.date() {
                format!("{}–{}", la.format("%Y-%m-%d %H:%M"), lb.format("%H:%M"))
            } else {
                format!(
                    "{} to {}",
                    la.format("%Y-%m-%d %H:%M"),
                    lb.format("%Y-%m-%d %H:%M")
                )
            }
        };
        match self {
            Conflict::Overlap {
                appointment_id,
                start,
                end,
                buffer_only,
            } => {
                let what = if *buffer_only {
                    "the buffer time of appointment"
                } else {
                    "appointment"
                };
                format!("overlaps {what} {appointment_id} ({})", span(*start, *end))
            }
            Conflict::OnBreak { resumes_at } => format!(
                "during the vet's break (work resumes at {})",
                at(*resumes_at)
            ),
            Conflict::TimeOff {
                start, end, reason, ..
            } => match reason {
                Some(r) => format!("during the vet's time off ({}: {r})", span(*start, *end)),
                None => format!("during the vet's time off ({})", span(*start, *end)),
            },
            Conflict::MinimumNotice { earliest } => {
                format!("inside the minimum notice (earliest {})", at(*earliest))
            }
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::Overlap {
                appointment_id,
                start,
                end,
                buffer_only,
            } => {
                let what = if *buffer_only {
                    "the buffer time of"
                } else {
                    ""
                };
                let sep = if *buffer_only { " " } else { "" };
                write!(
                    f,
                    "overlaps {what}{sep}appointment {appointment_id} ({} to {})",
                    start.to_rfc3339(),
                    end.to_rfc3339()
                )
            }
            Conflict::OutsideWorkingHours => f.write_str("outside the vet's working hours"),
            Conflict::OnBreak { resumes_at } => write!(
                f,
                "during the vet's break (work resumes at {})",
                resumes_at.to_rfc3339()
            ),
            Conflict::TimeOff {
                start, end, reason, ..
            } => {
                write!(
                    f,
                    "during the vet's time off ({} to {}",
                    start.to_rfc3339(),
                    end.to_rfc3339()
                )?;
                if let Some(r) = reason {
                    write!(f, ": {r}")?;
                }
                f.write_str(")")
            }
            Conflict::InPast { .. } => f.write_str("in the past"),
            Conflict::MinimumNotice { earliest } => write!(
                f,
                "inside the minimum notice (earliest {})",
                earliest.to_rfc3339()
            ),
            Conflict::UnknownVet { vet_id } => write!(f, "unknown vet {vet_id}"),
            Conflict::UnknownClinic { clinic_id } => write!(f, "unknown clinic {clinic_id}"),
            Conflict::VetNotAtClinic { vet_id, clinic_id } => {
                write!(f, "vet {vet_id} does not work at clinic {clinic_id}")
            }
        }
    }
}

/// A proposed appointment time for one vet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub slot: Interval,
    pub buffer_before_min: u32,
    pub buffer_after_min: u32,
    /// The appointment being moved, whose own time does not count against it.
    pub ignoring: Option<AppointmentId>,
}

/// Every reason the proposal cannot be booked; empty means it can.
pub fn check(
    schedule: &VetSchedule,
    tz: Tz,
    p: &Proposal,
    now: DateTime<Utc>,
    min_notice: Duration,
) -> Vec<Conflict> {
    let mut out = Vec::new();
    let slot = p.slot;

    if slot.start() < now {
        out.push(Conflict::InPast { now });
    } else if slot.start() < now + min_notice {
        out.push(Conflict::MinimumNotice {
            earliest: now + min_notice,
        });
    }

    if let Some(c) = working_hours_conflict(schedule, tz, slot) {
        out.push(c);
    }

    for a in schedule
        .absences
        .iter()
        .filter(|a| a.period.overlaps(&slot))
    {
        out.push(Conflict::TimeOff {
            time_off_id: a.id,
            start: a.period.start(),
            end: a.period.end(),
            reason: a.reason.clone(),
        });
    }

    let blocked = blocked_interval(slot, p.buffer_before_min, p.buffer_after_min);
    for b in schedule
        .bookings
        .iter()
        .filter(|b| Some(b.id) != p.ignoring && b.blocked.overlaps(&blocked))
    {
        out.push(Conflict::Overlap {
            appointment_id: b.id,
            start: b.slot.start(),
            end: b.slot.end(),
            buffer_only: !b.slot.overlaps(&slot),
        });
    }
    out
}

/// Whether `slot` lies inside one working stretch; if not, why not.
fn working_hours_conflict(schedule: &VetSchedule, tz: Tz, slot: Interval) -> Option<Conflict> {
    let local_first = crate::time::to_local(tz, slot.start()).date();
    let local_last = crate::time::to_local(tz, slot.end()).date();
    let range = DateRange {
        first: local_first.pred_opt().unwrap_or(local_first),
        last: local_last.succ_opt().unwrap_or(local_last),
    };
    let days = LocalDays::new(tz, range);
    let all = shifts(schedule, &days);
    if join_touching(&all)
        .iter()
        .any(|s| s.interval.contains(&slot))
    {
        return None;
    }
    // A break: the slot starts on a day with shifts before and after it.
    let same_day: Vec<_> = all.iter().filter(|s| s.date == local_first).collect();
    let started = same_day.iter().any(|s| s.interval.start() <= slot.start());
    let resumes = same_day
        .iter()
        .map(|s| s.interval.start())
        .filter(|t| *t >= slot.start())
        .min();
    let in_shift_now = same_day
        .iter()
        .any(|s| s.interval.contains_instant(slot.start()));
    match resumes {
        Some(resumes_at) if started && !in_shift_now => Some(Conflict::OnBreak { resumes_at }),
        // Starts inside a shift (or before/after the day) but does not fit.
        _ => Some(Conflict::OutsideWorkingHours),
    }
}

/// The answer to "why can't I book this vet at this time?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub at: DateTime<Utc>,
    pub duration_min: u32,
    pub free: bool,
    pub reasons: Vec<Conflict>,
    /// When free, how long the free stretch containing `at` lasts.
    pub free_until: Option<DateTime<Utc>>,
}

/// Explain whether `[at, at + duration)` is free for the vet, and if not, every reason.
pub fn explain(
    schedule: &VetSchedule,
    tz: Tz,
    at: DateTime<Utc>,
    duration_min: u32,
    buffers: (u32, u32),
    now: DateTime<Utc>,
    min_notice: Duration,
) -> Explanation {
    let end = at + Duration::minutes(i64::from(duration_min.max(1)));
    let Some(slot) = Interval::try_new(at, end) else {
        return Explanation {
            at,
            duration_min,
            free: false,
            reasons: vec![Conflict::OutsideWorkingHours],
            free_until: None,
        };
    };
    let proposal = Proposal {
        slot,
        buffer_before_min: buffers.0,
        buffer_after_min: buffers.1,
        ignoring: None,
    };
    let reasons = check(schedule, tz, &proposal, now, min_notice);
    let free_until = if reasons.is_empty() {
        let local = crate::time::to_local(tz, at).date();
        let range = DateRange {
            first: local.pred_opt().unwrap_or(local),
            last: local.succ_opt().unwrap_or(local),
        };
        let days = LocalDays::new(tz, range);
        let window = range.to_interval(tz).unwrap_or(slot);
        // Blocks are cut per shift; those that touch (across midnight) are one stretch.
        let blocks = crate::availability::free_blocks(schedule, &days, window, at, 0);
        blocks.iter().find(|b| b.contains_instant(at)).map(|first| {
            blocks.iter().fold(first.end(), |until, b| {
                if b.start() == until {
                    b.end()
                } else {
                    until
                }
            })
        })
    } else {
        None
    };
    Explanation {
        at,
        duration_min,
        free: reasons.is_empty(),
        reasons,
        free_until,
    }
}
