//! What use cases return: values ready for a person or a UI, with every
//! instant also given in the clinic's local time.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use vetdesk_core::{
    AppointmentId, ClinicId, Conflict, Explanation, HistoryEntry, Interval, SlotRun, Status, VetId,
    View,
};
use vetdesk_store::AppointmentView;

/// A span of time in UTC and in the clinic's wall time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub local_start: NaiveDateTime,
    pub local_end: NaiveDateTime,
}

impl LocalSlot {
    pub fn new(tz: Tz, iv: Interval) -> Self {
        LocalSlot {
            start: iv.start(),
            end: iv.end(),
            local_start: vetdesk_core::time::to_local(tz, iv.start()),
            local_end: vetdesk_core::time::to_local(tz, iv.end()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClinicRef {
    pub id: ClinicId,
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VetRef {
    pub id: VetId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VetAvailability {
    pub vet: VetRef,
    pub slots: Vec<LocalSlot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    pub clinic: ClinicRef,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub duration_min: u32,
    pub grid_min: u32,
    pub vets: Vec<VetAvailability>,
}

impl Availability {
    pub fn slot_count(&self) -> usize {
        self.vets.iter().map(|v| v.slots.len()).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VetAvailabilityRuns {
    pub vet: VetRef,
    pub runs: Vec<SlotRun>,
}

/// [`Availability`] in compact form: runs of slots (`SlotRun` says how each
/// expands, given `grid_min` and `duration_min`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityRuns {
    pub clinic: ClinicRef,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub duration_min: u32,
    pub grid_min: u32,
    pub vets: Vec<VetAvailabilityRuns>,
}

impl AvailabilityRuns {
    /// How many slots the runs hold.
    pub fn slot_count(&self) -> usize {
        self.vets
            .iter()
            .flat_map(|v| &v.runs)
            .map(|r| r.slots(self.grid_min, self.duration_min).count())
            .sum()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictReport {
    /// True when the proposal can be booked.
    pub ok: bool,
    pub conflicts: Vec<Conflict>,
    /// Each conflict as a sentence in the clinic's local time, in the same order.
    pub messages: Vec<String>,
}

impl ConflictReport {
    /// `tz` is the clinic's, for the wording of the messages.
    pub fn new(conflicts: Vec<Conflict>, tz: Tz) -> Self {
        ConflictReport {
            ok: conflicts.is_empty(),
            messages: conflicts.iter().map(|c| c.describe(tz)).collect(),
            conflicts,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainReport {
    pub vet: VetRef,
    pub clinic: ClinicRef,
    pub local_at: NaiveDateTime,
    #[serde(flatten)]
    pub explanation: Explanation,
    pub messages: Vec<String>,
}

/// An appointment as a calendar shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarAppointment {
    pub id: AppointmentId,
    pub vet_id: VetId,
    pub status: Status,
    pub version: i64,
    #[serde(flatten)]
    pub time: LocalSlot,
    pub pet_name: String,
    pub client_name: String,
    pub type_name: String,
    pub colour: String,
    pub reason: Option<String>,
}

impl CalendarAppointment {
    pub fn new(tz: Tz, v: &AppointmentView) -> Self {
        CalendarAppointment {
            id: v.appointment.id,
            vet_id: v.appointment.vet_id,
            status: v.appointment.status,
            version: v.appointment.meta.version,
            time: LocalSlot::new(tz, v.appointment.slot),
            pet_name: v.pet_name.clone(),
            client_name: v.client_name.clone(),
            type_name: v.type_name.clone(),
            colour: v.colour.clone(),
            reason: v.appointment.reason.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreeBlock {
    pub vet_id: VetId,
    #[serde(flatten)]
    pub time: LocalSlot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub appointments: Vec<CalendarAppointment>,
    pub free: Vec<FreeBlock>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calendar {
    pub view: View,
    pub clinic: ClinicRef,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub vets: Vec<VetRef>,
    pub days: Vec<CalendarDay>,
}

/// One appointment with its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppointmentDetails {
    #[serde(flatten)]
    pub view: AppointmentView,
    pub time_zone: String,
    pub local: LocalSlot,
    pub history: Vec<HistoryEntry>,
}
