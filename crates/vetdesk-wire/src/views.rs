//! The OpenAPI schemas of response documents. Handlers return the application
//! layer's own values (serialised as they are); these types mirror their wire
//! shape field by field, for the document only, so that `vetdesk-core` and
//! `vetdesk-app` stay free of OpenAPI. `scripts/schemathesis` checks every
//! response against them, so a drift between a mirror and the real value fails
//! the test command.

use crate::MetaView;
use chrono::{DateTime, NaiveDate, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

/// A clinic-local wall time, `YYYY-MM-DDTHH:MM:SS` (no offset; the clinic's zone applies).
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")]
pub struct LocalDateTime(pub String);

/// A half-open span `[start, end)` of instants.
#[derive(ToSchema)]
pub struct IntervalView {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A span in UTC and in the clinic's wall time.
#[derive(ToSchema)]
pub struct LocalSlotView {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub local_start: LocalDateTime,
    pub local_end: LocalDateTime,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum StatusView {
    Scheduled,
    Confirmed,
    CheckedIn,
    InProgress,
    Completed,
    Cancelled,
    NoShow,
}

#[derive(ToSchema)]
pub enum WeekdayView {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ChannelView {
    Email,
    Sms,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CalendarKindView {
    Day,
    Week,
    Month,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum EntityView {
    Clinic,
    Vet,
    Client,
    Pet,
    AppointmentType,
    WorkingHours,
    DateOverride,
    TimeOff,
    Appointment,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ChangeOpView {
    Insert,
    Update,
    Delete,
}

// ---------- records ----------

/// A clinic.
#[derive(ToSchema)]
pub struct ClinicView {
    pub id: Uuid,
    pub name: String,
    /// IANA zone, e.g. `Europe/London`.
    pub time_zone: String,
    pub meta: MetaView,
}

/// A vet and the clinics they work at.
#[derive(ToSchema)]
pub struct VetView {
    pub id: Uuid,
    pub name: String,
    #[schema(required)]
    pub email: Option<String>,
    pub clinics: Vec<Uuid>,
    pub meta: MetaView,
}

/// How an owner wants to hear from the clinic.
#[derive(ToSchema)]
pub struct ContactPreferencesView {
    #[schema(required)]
    pub preferred: Option<ChannelView>,
    pub email_opt_out: bool,
    pub sms_opt_out: bool,
}

/// A pet owner.
#[derive(ToSchema)]
pub struct ClientView {
    pub id: Uuid,
    pub name: String,
    #[schema(required)]
    pub email: Option<String>,
    #[schema(required)]
    pub phone: Option<String>,
    pub preferences: ContactPreferencesView,
    /// The clinic the owner is registered with (absent: none; only unlimited users see them
    /// until they have an appointment).
    #[schema(required)]
    pub home_clinic_id: Option<Uuid>,
    pub meta: MetaView,
}

/// A pet.
#[derive(ToSchema)]
pub struct PetView {
    pub id: Uuid,
    /// The owner's id.
    pub owner: Uuid,
    pub name: String,
    pub species: String,
    #[schema(required)]
    pub breed: Option<String>,
    #[schema(required)]
    pub date_of_birth: Option<NaiveDate>,
    pub meta: MetaView,
}

/// An appointment type.
#[derive(ToSchema)]
pub struct AppointmentTypeView {
    pub id: Uuid,
    pub name: String,
    pub duration_min: u32,
    #[schema(pattern = r"^#[0-9a-fA-F]{6}$")]
    pub colour: String,
    pub buffer_before_min: u32,
    pub buffer_after_min: u32,
    pub meta: MetaView,
}

/// A weekly working-hours rule.
#[derive(ToSchema)]
pub struct WorkingHoursView {
    pub id: Uuid,
    pub vet_id: Uuid,
    pub clinic_id: Uuid,
    pub weekday: WeekdayView,
    /// `HH:MM-HH:MM`, clinic-local.
    #[schema(pattern = r"^\d{2}:\d{2}-\d{2}:\d{2}$")]
    pub span: String,
    pub valid_from: NaiveDate,
    #[schema(required)]
    pub valid_to: Option<NaiveDate>,
    pub meta: MetaView,
}

/// Working hours for a single date (no spans: a day off).
#[derive(ToSchema)]
pub struct DateOverrideView {
    pub id: Uuid,
    pub vet_id: Uuid,
    pub clinic_id: Uuid,
    pub date: NaiveDate,
    #[schema(inline)]
    pub spans: Vec<SpanText>,
    #[schema(required)]
    pub note: Option<String>,
    pub meta: MetaView,
}

/// `HH:MM-HH:MM`, clinic-local.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^\d{2}:\d{2}-\d{2}:\d{2}$")]
pub struct SpanText(pub String);

/// A vet's time off.
#[derive(ToSchema)]
pub struct TimeOffView {
    pub id: Uuid,
    pub vet_id: Uuid,
    pub period: IntervalView,
    #[schema(required)]
    pub reason: Option<String>,
    pub meta: MetaView,
}

// ---------- appointments ----------

/// An appointment as the list shows it: the record and the names it refers to.
#[derive(ToSchema)]
pub struct AppointmentListItemView {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub vet_id: Uuid,
    pub pet_id: Uuid,
    pub client_id: Uuid,
    pub type_id: Uuid,
    /// When the appointment itself runs.
    pub slot: IntervalView,
    pub buffer_before_min: u32,
    pub buffer_after_min: u32,
    pub status: StatusView,
    #[schema(required)]
    pub reason: Option<String>,
    #[schema(required)]
    pub notes: Option<String>,
    #[schema(required)]
    pub cancel_reason: Option<String>,
    pub created_by: String,
    pub updated_by: String,
    pub meta: MetaView,
    pub pet_name: String,
    pub client_name: String,
    pub vet_name: String,
    pub type_name: String,
    pub colour: String,
}

/// A page of appointments.
#[derive(ToSchema)]
pub struct AppointmentPageView {
    pub items: Vec<AppointmentListItemView>,
    /// How many match, over every page.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// One line of an appointment's history.
#[derive(ToSchema)]
pub struct HistoryEntryView {
    pub appointment_id: Uuid,
    pub version: i64,
    pub action: String,
    #[schema(required)]
    pub from_status: Option<StatusView>,
    pub to_status: StatusView,
    pub slot: IntervalView,
    #[schema(required)]
    pub note: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// An appointment with names, local times and its history.
#[derive(ToSchema)]
pub struct AppointmentDetailsView {
    #[serde(flatten)]
    pub appointment: AppointmentListItemView,
    /// The clinic's IANA zone.
    pub time_zone: String,
    pub local: LocalSlotView,
    pub history: Vec<HistoryEntryView>,
}

// ---------- scheduling ----------

#[derive(ToSchema)]
pub struct ClinicRefView {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
}

#[derive(ToSchema)]
pub struct VetRefView {
    pub id: Uuid,
    pub name: String,
}

#[derive(ToSchema)]
pub struct VetAvailabilityView {
    pub vet: VetRefView,
    pub slots: Vec<LocalSlotView>,
}

/// Free slots per vet over a date range, with local times.
#[derive(ToSchema)]
pub struct AvailabilityView {
    pub clinic: ClinicRefView,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub duration_min: u32,
    pub grid_min: u32,
    pub vets: Vec<VetAvailabilityView>,
}

/// A run of free slots `[start, end)`: the slots `[t, t + duration_min)` for
/// `t = start, start + grid_min, …` while `t + duration_min <= end`.
#[derive(ToSchema)]
pub struct SlotRunView {
    /// The first slot's start.
    pub start: DateTime<Utc>,
    /// The last slot's end.
    pub end: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct VetAvailabilityRunsView {
    pub vet: VetRefView,
    pub runs: Vec<SlotRunView>,
}

/// Free slots per vet over a date range, as runs (the compact form).
#[derive(ToSchema)]
pub struct AvailabilityRunsView {
    pub clinic: ClinicRefView,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub duration_min: u32,
    pub grid_min: u32,
    pub vets: Vec<VetAvailabilityRunsView>,
}

/// One reason a time is not free, named by `kind`.
#[derive(ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConflictView {
    /// Overlaps another appointment (or, with `buffer_only`, only its buffers).
    Overlap {
        appointment_id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        buffer_only: bool,
    },
    OutsideWorkingHours,
    OnBreak {
        resumes_at: DateTime<Utc>,
    },
    TimeOff {
        time_off_id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        #[schema(required)]
        reason: Option<String>,
    },
    InPast {
        now: DateTime<Utc>,
    },
    MinimumNotice {
        earliest: DateTime<Utc>,
    },
    UnknownVet {
        vet_id: Uuid,
    },
    UnknownClinic {
        clinic_id: Uuid,
    },
    VetNotAtClinic {
        vet_id: Uuid,
        clinic_id: Uuid,
    },
}

/// `ok`, every conflict with its reason, and each in words.
#[derive(ToSchema)]
pub struct ConflictReportView {
    /// True when the proposal can be booked.
    pub ok: bool,
    pub conflicts: Vec<ConflictView>,
    /// Each conflict as a sentence in the clinic's local time, in the same order.
    pub messages: Vec<String>,
}

/// Whether the vet is free at that time, and if not every reason why.
#[derive(ToSchema)]
pub struct ExplainView {
    pub vet: VetRefView,
    pub clinic: ClinicRefView,
    pub local_at: LocalDateTime,
    pub at: DateTime<Utc>,
    pub duration_min: u32,
    pub free: bool,
    pub reasons: Vec<ConflictView>,
    /// When free, until when.
    #[schema(required)]
    pub free_until: Option<DateTime<Utc>>,
    pub messages: Vec<String>,
}

/// An appointment as a calendar shows it.
#[derive(ToSchema)]
pub struct CalendarAppointmentView {
    pub id: Uuid,
    pub vet_id: Uuid,
    pub status: StatusView,
    pub version: i64,
    #[serde(flatten)]
    pub time: LocalSlotView,
    pub pet_name: String,
    pub client_name: String,
    pub type_name: String,
    pub colour: String,
    #[schema(required)]
    pub reason: Option<String>,
}

/// Free time of one vet.
#[derive(ToSchema)]
pub struct FreeBlockView {
    pub vet_id: Uuid,
    #[serde(flatten)]
    pub time: LocalSlotView,
}

#[derive(ToSchema)]
pub struct CalendarDayView {
    pub date: NaiveDate,
    pub appointments: Vec<CalendarAppointmentView>,
    pub free: Vec<FreeBlockView>,
}

/// A day, week or month: appointments and free time per vet and day.
#[derive(ToSchema)]
pub struct CalendarView {
    pub view: CalendarKindView,
    pub clinic: ClinicRefView,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub vets: Vec<VetRefView>,
    pub days: Vec<CalendarDayView>,
}

/// A committed change (the `data` of a `change` event).
#[derive(ToSchema)]
pub struct ChangeView {
    /// Position in the change log.
    pub seq: i64,
    pub entity: EntityView,
    pub id: Uuid,
    #[schema(required)]
    pub clinic_id: Option<Uuid>,
    pub version: i64,
    pub op: ChangeOpView,
    pub at: DateTime<Utc>,
}
