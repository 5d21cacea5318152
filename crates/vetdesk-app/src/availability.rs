//! Availability, in its two forms: every free slot (`App::availability`, the
//! seed's answer) or runs of slots (`App::availability_runs`, the compact form:
//! `vetdesk_core::SlotRun` states how a run expands into its slots). Both read
//! the same inputs in one read transaction and ask the core's one sweep.

use crate::records::require_clinic;
use crate::scheduling::{clinic_ref, resolve_length, vet_ref};
use crate::views::*;
use crate::{App, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use vetdesk_core::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AvailabilityRequest {
    pub clinic_id: ClinicId,
    /// One vet, or every vet of the clinic.
    pub vet_id: Option<VetId>,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// Minutes; or taken from `type_id`.
    pub duration_min: Option<i64>,
    pub type_id: Option<AppointmentTypeId>,
    pub grid_min: Option<i64>,
    /// Minutes ahead of now before which nothing is offered (default: the clinic setting).
    pub min_notice_min: Option<i64>,
    /// Treat this appointment's time as free (finding where to move it).
    #[serde(default)]
    pub ignoring: Option<AppointmentId>,
}

/// What both forms are computed from.
struct Inputs {
    clinic: Clinic,
    range: DateRange,
    vets: Vec<Vet>,
    schedules: std::sync::Arc<Vec<VetSchedule>>,
    query: SlotQuery,
}

impl Inputs {
    fn days_and_window(&self) -> Result<(LocalDays, Interval)> {
        let tz = self.clinic.time_zone;
        Ok((LocalDays::new(tz, self.range), self.range.to_interval(tz)?))
    }
}

impl App {
    /// Free slots per vet over a range of local dates.
    #[tracing::instrument(skip_all, fields(clinic = %req.clinic_id, first = %req.first, last = %req.last))]
    pub async fn availability(&self, req: AvailabilityRequest) -> Result<Availability> {
        let inputs = self.availability_inputs(req).await?;
        let (days, window) = inputs.days_and_window()?;
        let found = availability(&inputs.schedules, &days, window, &inputs.query);
        let tz = inputs.clinic.time_zone;
        Ok(Availability {
            clinic: clinic_ref(&inputs.clinic),
            first: inputs.range.first,
            last: inputs.range.last,
            duration_min: inputs.query.duration_min,
            grid_min: inputs.query.grid_min,
            vets: inputs
                .vets
                .iter()
                .zip(found)
                .map(|(v, s)| VetAvailability {
                    vet: vet_ref(v),
                    slots: s
                        .slots
                        .into_iter()
                        .map(|iv| LocalSlot::new(tz, iv))
                        .collect(),
                })
                .collect(),
        })
    }

    /// The same free slots as [`App::availability`], as runs per vet.
    #[tracing::instrument(skip_all, fields(clinic = %req.clinic_id, first = %req.first, last = %req.last))]
    pub async fn availability_runs(&self, req: AvailabilityRequest) -> Result<AvailabilityRuns> {
        let inputs = self.availability_inputs(req).await?;
        let (days, window) = inputs.days_and_window()?;
        let found = availability_runs(&inputs.schedules, &days, window, &inputs.query);
        Ok(AvailabilityRuns {
            clinic: clinic_ref(&inputs.clinic),
            first: inputs.range.first,
            last: inputs.range.last,
            duration_min: inputs.query.duration_min,
            grid_min: inputs.query.grid_min,
            vets: inputs
                .vets
                .iter()
                .zip(found)
                .map(|(v, r)| VetAvailabilityRuns {
                    vet: vet_ref(v),
                    runs: r.runs,
                })
                .collect(),
        })
    }

    async fn availability_inputs(&self, req: AvailabilityRequest) -> Result<Inputs> {
        self.require(Permission::ReadSchedule)?;
        self.require_clinic_access(req.clinic_id)?;
        let range = DateRange::new(req.first, req.last, self.settings.max_range_days)?;
        let grid = validate_grid(
            req.grid_min
                .unwrap_or(i64::from(self.settings.default_grid_min)),
        )?;
        let notice = self.notice(req.min_notice_min)?;
        let now = self.now();
        let mut tx = self.store.read().await?;
        let clinic = require_clinic(tx.as_mut(), req.clinic_id).await?;
        let (duration_min, before, after) =
            resolve_length(tx.as_mut(), req.duration_min, req.type_id).await?;
        let vets = self.vets_for(tx.as_mut(), &clinic, req.vet_id).await?;
        let ids: Vec<VetId> = vets.iter().map(|v| v.id).collect();
        let schedules = self
            .schedules
            .availability_schedules(
                tx.as_mut(),
                &clinic,
                &ids,
                range.first,
                range.last,
                req.ignoring,
            )
            .await?;
        drop(tx);
        Ok(Inputs {
            clinic,
            range,
            vets,
            schedules,
            query: SlotQuery {
                duration_min,
                buffer_before_min: before,
                buffer_after_min: after,
                grid_min: grid,
                not_before: now + notice,
                ignoring: None,
            },
        })
    }
}
