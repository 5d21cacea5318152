//! Read-side scheduling use cases: "why not?", conflict checks and calendars
//! (availability is `availability.rs`). Each loads the schedule inputs in one read transaction and
//! hands them to the pure core.

use crate::reads::Reads;
use crate::records::{require_clinic, require_vet, require_vet_at};
use crate::views::*;
use crate::{App, AppError, Result};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use vetdesk_core::*;
use vetdesk_store::{AppointmentFilter, Entity, Tx};

/// The longest minimum notice a request may ask for (30 days), in minutes.
pub const MAX_NOTICE_MINUTES: i64 = 60 * 24 * 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExplainRequest {
    pub vet_id: VetId,
    pub clinic_id: ClinicId,
    pub at: TimeInput,
    pub duration_min: Option<i64>,
    pub type_id: Option<AppointmentTypeId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConflictRequest {
    pub vet_id: VetId,
    pub clinic_id: ClinicId,
    pub start: TimeInput,
    pub end: TimeInput,
    /// Buffers come from this type when given.
    pub type_id: Option<AppointmentTypeId>,
    /// The appointment being moved, if any.
    pub ignoring: Option<AppointmentId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalendarRequest {
    pub view: View,
    pub date: NaiveDate,
    pub clinic_id: ClinicId,
    pub vet_id: Option<VetId>,
    #[serde(default)]
    pub include_cancelled: bool,
}

/// Duration and buffers from an explicit duration and/or an appointment type.
pub(crate) async fn resolve_length(
    tx: &mut dyn Tx,
    duration_min: Option<i64>,
    type_id: Option<AppointmentTypeId>,
) -> Result<(u32, u32, u32)> {
    let t = match type_id {
        Some(id) => Some(load_type(tx, id).await?),
        None => None,
    };
    length(duration_min, t.as_ref())
}

pub(crate) async fn load_type(tx: &mut dyn Tx, id: AppointmentTypeId) -> Result<AppointmentType> {
    tx.appointment_type(id)
        .await?
        .ok_or_else(|| AppError::not_found(Entity::AppointmentType, id))
}

/// Duration and buffers (before, after): an explicit duration wins over the type's.
pub(crate) fn length(
    duration_min: Option<i64>,
    t: Option<&AppointmentType>,
) -> Result<(u32, u32, u32)> {
    let duration = match (duration_min, t) {
        (Some(d), _) => appointment_minutes(d)?,
        (None, Some(t)) => t.duration_min,
        (None, None) => {
            return Err(ValidationError::Other(
                "give a duration in minutes or an appointment type".into(),
            )
            .into())
        }
    };
    let (before, after) = t.map_or((0, 0), |t| (t.buffer_before_min, t.buffer_after_min));
    Ok((duration, before, after))
}

/// Whether a schedule's appointments must be named (conflict checks and
/// explanations say which appointment is in the way) or only their blocked
/// time is needed (availability, free time), which reads much faster in bulk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blocked {
    Named,
    Anonymous { ignoring: Option<AppointmentId> },
}

/// The schedules of `vets` at `clinic` over the local dates `[first, last]`,
/// with time off and appointments loaded a day beyond each end.
pub(crate) async fn load_schedules(
    tx: &mut dyn Tx,
    reads: &mut Reads,
    clinic: &Clinic,
    vets: &[VetId],
    first: NaiveDate,
    last: NaiveDate,
    blocked: Blocked,
) -> Result<Vec<VetSchedule>> {
    let tz = clinic.time_zone;
    let pad_first = first.pred_opt().unwrap_or(first);
    let pad_last = last.succ_opt().unwrap_or(last);
    let window = DateRange {
        first: pad_first,
        last: pad_last,
    }
    .to_interval(tz)?;
    let mut by_vet: HashMap<VetId, VetSchedule> = vets
        .iter()
        .map(|v| (*v, VetSchedule::new(*v, clinic.id)))
        .collect();
    let single = (vets.len() == 1).then(|| vets[0]);

    for w in reads.working_hours(tx, single, clinic.id).await? {
        if let Some(s) = by_vet.get_mut(&w.vet_id) {
            s.rules.push(WeeklyRule::from(&w));
        }
    }
    for o in reads
        .date_overrides(tx, single, clinic.id, pad_first, pad_last)
        .await?
    {
        if let Some(s) = by_vet.get_mut(&o.vet_id) {
            s.overrides.push(DayOverride::from(&o));
        }
    }
    for t in reads.time_off(tx, single, window).await? {
        if let Some(s) = by_vet.get_mut(&t.vet_id) {
            s.absences.push(Absence::from(&t));
        }
    }
    match blocked {
        Blocked::Named => {
            for (vet, b) in tx.bookings(vets, window).await? {
                if let Some(s) = by_vet.get_mut(&vet) {
                    s.bookings.push(b);
                }
            }
        }
        Blocked::Anonymous { ignoring } => {
            for (vet, iv) in tx.busy(vets, window, ignoring).await? {
                if let Some(s) = by_vet.get_mut(&vet) {
                    s.busy.push(iv);
                }
            }
        }
    }
    Ok(vets
        .iter()
        .filter_map(|v| by_vet.remove(v))
        .map(|mut s| {
            s.normalise();
            s
        })
        .collect())
}

pub(crate) fn clinic_ref(c: &Clinic) -> ClinicRef {
    ClinicRef {
        id: c.id,
        name: c.name.to_string(),
        time_zone: c.time_zone.name().to_string(),
    }
}

pub(crate) fn vet_ref(v: &Vet) -> VetRef {
    VetRef {
        id: v.id,
        name: v.name.to_string(),
    }
}

impl App {
    pub(crate) fn notice(&self, min_notice_min: Option<i64>) -> Result<Duration> {
        match min_notice_min {
            None => Ok(self.settings.min_notice),
            Some(m) => Ok(Duration::minutes(i64::from(minutes_in(
                "minimum notice",
                m,
                0,
                MAX_NOTICE_MINUTES,
            )?))),
        }
    }

    /// Vets to schedule: one (checked to work at the clinic) or all of the clinic's.
    pub(crate) async fn vets_for(
        &self,
        tx: &mut dyn Tx,
        clinic: &Clinic,
        vet: Option<VetId>,
    ) -> Result<Vec<Vet>> {
        match vet {
            Some(v) => Ok(vec![require_vet_at(tx, v, clinic.id).await?.0]),
            None => Ok(tx.vets(Some(clinic.id)).await?),
        }
    }

    /// Why a vet is (not) free at a time: every reason.
    #[tracing::instrument(skip_all, fields(vet = %req.vet_id, clinic = %req.clinic_id))]
    pub async fn explain(&self, req: ExplainRequest) -> Result<ExplainReport> {
        self.require(Permission::ReadSchedule)?;
        self.require_clinic_access(req.clinic_id)?;
        let now = self.now();
        let mut tx = self.store.read().await?;
        let (vet, clinic) = require_vet_at(tx.as_mut(), req.vet_id, req.clinic_id).await?;
        let (duration, before, after) = match (req.duration_min, req.type_id) {
            (None, None) => (self.settings.default_grid_min, 0, 0),
            (d, t) => resolve_length(tx.as_mut(), d, t).await?,
        };
        let tz = clinic.time_zone;
        let at = req.at.resolve(tz);
        let local = vetdesk_core::time::to_local(tz, at).date();
        let schedules = load_schedules(
            tx.as_mut(),
            &mut Reads::default(),
            &clinic,
            &[vet.id],
            local,
            local,
            Blocked::Named,
        )
        .await?;
        let schedule = schedules
            .first()
            .ok_or_else(|| AppError::not_found(Entity::Vet, vet.id))?;
        let explanation = explain(
            schedule,
            tz,
            at,
            duration,
            (before, after),
            now,
            self.settings.min_notice,
        );
        Ok(ExplainReport {
            vet: vet_ref(&vet),
            clinic: clinic_ref(&clinic),
            local_at: vetdesk_core::time::to_local(tz, at),
            messages: explanation
                .reasons
                .iter()
                .map(ToString::to_string)
                .collect(),
            explanation,
        })
    }

    /// Every reason a proposed appointment time would be refused. Unknown
    /// vets and clinics are reported as conflicts, not errors.
    #[tracing::instrument(skip_all, fields(vet = %req.vet_id, clinic = %req.clinic_id))]
    pub async fn check_conflicts(&self, req: ConflictRequest) -> Result<ConflictReport> {
        self.require(Permission::ReadSchedule)?;
        self.require_clinic_access(req.clinic_id)?;
        let now = self.now();
        let mut tx = self.store.read().await?;
        let clinic = tx.clinic(req.clinic_id).await?;
        let vet = tx.vet(req.vet_id).await?;
        let mut conflicts = Vec::new();
        if clinic.is_none() {
            conflicts.push(Conflict::UnknownClinic {
                clinic_id: req.clinic_id,
            });
        }
        if vet.is_none() {
            conflicts.push(Conflict::UnknownVet { vet_id: req.vet_id });
        }
        let (Some(clinic), Some(vet)) = (clinic, vet) else {
            return Ok(ConflictReport::new(conflicts, chrono_tz::UTC));
        };
        if !vet.clinics.contains(&clinic.id) {
            return Ok(ConflictReport::new(
                vec![Conflict::VetNotAtClinic {
                    vet_id: vet.id,
                    clinic_id: clinic.id,
                }],
                clinic.time_zone,
            ));
        }
        let tz = clinic.time_zone;
        let slot = Interval::new(req.start.resolve(tz), req.end.resolve(tz))?;
        appointment_minutes(slot.duration().num_minutes())?;
        let (_, before, after) = match req.type_id {
            Some(t) => resolve_length(tx.as_mut(), None, Some(t)).await?,
            None => (0, 0, 0),
        };
        let proposal = Proposal {
            slot,
            buffer_before_min: before,
            buffer_after_min: after,
            ignoring: req.ignoring,
        };
        Ok(ConflictReport::new(
            self.conflicts_in(
                tx.as_mut(),
                &mut Reads::default(),
                &clinic,
                vet.id,
                &proposal,
                now,
            )
            .await?,
            tz,
        ))
    }

    /// The core's conflict check for a proposal, on data read in `tx`.
    pub(crate) async fn conflicts_in(
        &self,
        tx: &mut dyn Tx,
        reads: &mut Reads,
        clinic: &Clinic,
        vet: VetId,
        p: &Proposal,
        now: DateTime<Utc>,
    ) -> Result<Vec<Conflict>> {
        let tz = clinic.time_zone;
        let first = vetdesk_core::time::to_local(tz, p.slot.start()).date();
        let last = vetdesk_core::time::to_local(tz, p.slot.end()).date();
        let schedules =
            load_schedules(tx, reads, clinic, &[vet], first, last, Blocked::Named).await?;
        let schedule = schedules
            .first()
            .ok_or_else(|| AppError::not_found(Entity::Vet, vet))?;
        Ok(check(schedule, tz, p, now, self.settings.min_notice))
    }

    /// A day, week or month of a clinic: appointments and free time together.
    #[tracing::instrument(skip_all, fields(clinic = %req.clinic_id, view = ?req.view, date = %req.date))]
    pub async fn calendar(&self, req: CalendarRequest) -> Result<Calendar> {
        self.require(Permission::ReadSchedule)?;
        self.require_clinic_access(req.clinic_id)?;
        let now = self.now();
        let range = view_range(req.view, calendar_date(req.date)?);
        let mut tx = self.store.read().await?;
        let clinic = require_clinic(tx.as_mut(), req.clinic_id).await?;
        let tz = clinic.time_zone;
        let vets = self.vets_for(tx.as_mut(), &clinic, req.vet_id).await?;
        let ids: Vec<VetId> = vets.iter().map(|v| v.id).collect();
        let window = range.to_interval(tz)?;
        let statuses = if req.include_cancelled {
            Vec::new()
        } else {
            Status::ALL
                .into_iter()
                .filter(|s| *s != Status::Cancelled)
                .collect()
        };
        let page = tx
            .appointments(&AppointmentFilter {
                statuses,
                clinic: Some(clinic.id),
                vet: req.vet_id,
                from: Some(window.start()),
                to: Some(window.end()),
                limit: 100_000,
                ..AppointmentFilter::default()
            })
            .await?;
        let schedules = load_schedules(
            tx.as_mut(),
            &mut Reads::default(),
            &clinic,
            &ids,
            range.first,
            range.last,
            Blocked::Anonymous { ignoring: None },
        )
        .await?;
        drop(tx);

        let days = LocalDays::new(tz, range);
        let mut free = Vec::new();
        for s in &schedules {
            for b in free_blocks(s, &days, window, now, self.settings.default_grid_min) {
                free.push(FreeBlock {
                    vet_id: s.vet_id,
                    time: LocalSlot::new(tz, b),
                });
            }
        }
        let appts: Vec<CalendarAppointment> = page
            .items
            .iter()
            .map(|v| CalendarAppointment::new(tz, v))
            .collect();
        let appts_by_day = group_by_local_day(tz, range, appts, |a| a.time.start);
        let free_by_day = group_by_local_day(tz, range, free, |f| f.time.start);
        let days = appts_by_day
            .into_iter()
            .zip(free_by_day)
            .map(|((date, appointments), (_, free))| CalendarDay {
                date,
                appointments,
                free,
            })
            .collect();
        Ok(Calendar {
            view: req.view,
            clinic: clinic_ref(&clinic),
            first: range.first,
            last: range.last,
            vets: vets.iter().map(vet_ref).collect(),
            days,
        })
    }

    /// A vet's own day across all their clinics' calendars ("my day").
    #[tracing::instrument(skip_all, fields(vet = %vet_id, date = %date))]
    pub async fn my_day(&self, vet_id: VetId, date: NaiveDate) -> Result<Vec<Calendar>> {
        self.require(Permission::ReadSchedule)?;
        let vet = {
            let mut tx = self.store.read().await?;
            require_vet(tx.as_mut(), vet_id).await?
        };
        let mut out = Vec::new();
        // Only the vet's clinics this user works at.
        for c in self.clinics_seen(vet.clinics.clone(), |c| *c).iter() {
            out.push(
                self.calendar(CalendarRequest {
                    view: View::Day,
                    date,
                    clinic_id: *c,
                    vet_id: Some(vet_id),
                    include_cancelled: false,
                })
                .await?,
            );
        }
        Ok(out)
    }
}

/// A date a calendar can be drawn around: years 1 to 9999, as `YYYY-MM-DD`
/// writes them. A week or month at the edge of chrono's range would step
/// outside it (and panic) while finding its first and last day.
fn calendar_date(date: NaiveDate) -> Result<NaiveDate> {
    use chrono::Datelike;
    if (1..=9999).contains(&date.year()) {
        Ok(date)
    } else {
        Err(ValidationError::Date(date.to_string()).into())
    }
}
