//! Wire types: what `/api/v1` and the desktop app's commands accept, with
//! their OpenAPI schemas, their conversion into the application layer's
//! requests, and the error shapes both adapters answer with ([`problem`]).
//! Conversions only parse (ids, times, weekdays); every rule is the
//! application layer's. This crate links no HTTP server: the desktop app
//! depends on it, not on `vetdesk-http`.

mod access;
pub use access::*;
mod notifications;
pub use notifications::*;
mod privacy;
pub use privacy::*;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use vetdesk_app as app;
use vetdesk_core::*;

mod views;
pub use views::*;
pub mod problem;
pub mod rules;
pub use problem::{ErrorBody, Problem};

fn time(raw: &str) -> Result<TimeInput, app::AppError> {
    Ok(TimeInput::parse(raw)?)
}

// ---------- queries ----------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    pub clinic_id: Uuid,
    /// One vet, or every vet of the clinic.
    pub vet_id: Option<Uuid>,
    /// First local date (`YYYY-MM-DD`).
    pub start_date: NaiveDate,
    /// Last local date, inclusive.
    pub end_date: NaiveDate,
    /// Slot length; or give `type_id`.
    #[param(value_type = Option<rules::AppointmentMinutes>)]
    pub duration_minutes: Option<i64>,
    pub type_id: Option<Uuid>,
    /// Slot grid in minutes (default 15).
    #[param(value_type = Option<rules::GridMinutes>)]
    pub grid: Option<i64>,
    /// Minutes from now before which nothing is offered.
    #[param(value_type = Option<rules::NoticeMinutes>)]
    pub min_notice: Option<i64>,
    /// Treat this appointment's time as free (finding where to move it).
    pub ignoring: Option<Uuid>,
}

impl From<AvailabilityQuery> for app::AvailabilityRequest {
    fn from(q: AvailabilityQuery) -> Self {
        app::AvailabilityRequest {
            clinic_id: ClinicId(q.clinic_id),
            vet_id: q.vet_id.map(VetId),
            first: q.start_date,
            last: q.end_date,
            duration_min: q.duration_minutes,
            type_id: q.type_id.map(AppointmentTypeId),
            grid_min: q.grid,
            min_notice_min: q.min_notice,
            ignoring: q.ignoring.map(AppointmentId),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// `day`, `week` or `month`.
    #[param(value_type = CalendarKindView)]
    pub view: String,
    /// A local date inside the view.
    pub date: NaiveDate,
    pub clinic_id: Uuid,
    pub vet_id: Option<Uuid>,
    #[serde(default)]
    pub include_cancelled: bool,
}

impl TryFrom<CalendarQuery> for app::CalendarRequest {
    type Error = app::AppError;
    fn try_from(q: CalendarQuery) -> Result<Self, Self::Error> {
        Ok(app::CalendarRequest {
            view: q.view.parse()?,
            date: q.date,
            clinic_id: ClinicId(q.clinic_id),
            vet_id: q.vet_id.map(VetId),
            include_cancelled: q.include_cancelled,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    pub vet_id: Uuid,
    pub clinic_id: Uuid,
    /// Clinic-local `YYYY-MM-DDTHH:MM` or RFC 3339.
    #[param(value_type = rules::LocalOrInstant)]
    pub at: String,
    #[param(value_type = Option<rules::AppointmentMinutes>)]
    pub duration_minutes: Option<i64>,
    pub type_id: Option<Uuid>,
}

impl TryFrom<ExplainQuery> for app::ExplainRequest {
    type Error = app::AppError;
    fn try_from(q: ExplainQuery) -> Result<Self, Self::Error> {
        Ok(app::ExplainRequest {
            vet_id: VetId(q.vet_id),
            clinic_id: ClinicId(q.clinic_id),
            at: time(&q.at)?,
            duration_min: q.duration_minutes,
            type_id: q.type_id.map(AppointmentTypeId),
        })
    }
}

/// Filters of the appointment list. `status` may repeat or be a comma list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppointmentListQuery {
    /// Only these statuses (repeat the parameter, or separate them by commas).
    #[param(value_type = Option<Vec<StatusView>>, explode = true)]
    #[serde(default)]
    pub status: Vec<String>,
    pub vet_id: Option<Uuid>,
    pub clinic_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub pet_id: Option<Uuid>,
    /// Appointments starting at or after this instant (RFC 3339).
    #[param(value_type = Option<rules::Instant>)]
    pub from: Option<String>,
    /// Appointments starting before this instant (RFC 3339).
    #[param(value_type = Option<rules::Instant>)]
    pub to: Option<String>,
    /// Part of the owner's or pet's name.
    pub q: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<rules::AppointmentPageSize>)]
    pub limit: Option<u32>,
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub offset: Option<u32>,
}

fn instant(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, app::AppError> {
    match raw.map(time).transpose()? {
        None => Ok(None),
        Some(TimeInput::Instant(t)) => Ok(Some(t)),
        Some(TimeInput::Local(_)) => Err(ValidationError::Other(format!(
            "{field} must be an instant with an offset (RFC 3339), e.g. 2027-03-01T09:00:00Z"
        ))
        .into()),
    }
}

impl AppointmentListQuery {
    /// From the raw query pairs, so `status` can repeat.
    /// A pair that cannot be read is refused with a sentence naming it.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, String> {
        let mut q = AppointmentListQuery::default();
        let uuid = |k: &str, v: &str| {
            Uuid::parse_str(v.trim()).map_err(|_| format!("{k}: {v:?} is not a UUID"))
        };
        let number = |k: &str, v: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("{k}: {v:?} is not a non-negative number"))
        };
        for (k, v) in pairs {
            match k.as_str() {
                "status" => q.status.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                ),
                "vet_id" => q.vet_id = Some(uuid(&k, &v)?),
                "clinic_id" => q.clinic_id = Some(uuid(&k, &v)?),
                "client_id" => q.client_id = Some(uuid(&k, &v)?),
                "pet_id" => q.pet_id = Some(uuid(&k, &v)?),
                "from" => q.from = Some(v),
                "to" => q.to = Some(v),
                "q" => q.q = Some(v).filter(|s| !s.trim().is_empty()),
                "limit" => q.limit = Some(number(&k, &v)?),
                "offset" => q.offset = Some(number(&k, &v)?),
                _ => {}
            }
        }
        Ok(q)
    }

    pub fn into_filter(self) -> Result<vetdesk_store::AppointmentFilter, app::AppError> {
        Ok(vetdesk_store::AppointmentFilter {
            statuses: self
                .status
                .iter()
                .map(|s| s.parse::<Status>())
                .collect::<Result<_, _>>()?,
            clinic: self.clinic_id.map(ClinicId),
            // The application keeps a limited user to their clinics.
            clinics: None,
            vet: self.vet_id.map(VetId),
            client: self.client_id.map(ClientId),
            pet: self.pet_id.map(PetId),
            from: instant("from", self.from.as_deref())?,
            to: instant("to", self.to.as_deref())?,
            text: self.q,
            limit: self.limit.unwrap_or(0),
            offset: self.offset.unwrap_or(0),
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of a name, email or phone.
    pub q: Option<String>,
    pub owner_id: Option<Uuid>,
    /// At most this many (default 50; more than 500 gives 500).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeQuery {
    pub vet_id: Option<Uuid>,
    pub clinic_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverrideQuery {
    pub vet_id: Option<Uuid>,
    pub clinic_id: Option<Uuid>,
    /// First date, inclusive.
    pub from: NaiveDate,
    /// Last date, inclusive.
    pub to: NaiveDate,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The version the change is made against (or send `If-Match`).
    pub version: Option<i64>,
}

// ---------- appointment bodies ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookBody {
    pub clinic_id: Uuid,
    pub vet_id: Uuid,
    pub pet_id: Uuid,
    /// The owner; taken from the pet when absent.
    pub client_id: Option<Uuid>,
    pub type_id: Uuid,
    /// Clinic-local `YYYY-MM-DDTHH:MM` or RFC 3339.
    #[schema(value_type = rules::LocalOrInstant)]
    pub start: String,
    /// Defaults to the type's duration.
    #[schema(value_type = Option<rules::AppointmentMinutes>)]
    pub duration_minutes: Option<i64>,
    #[schema(value_type = Option<rules::Text>)]
    pub reason: Option<String>,
    #[schema(value_type = Option<rules::Text>)]
    pub notes: Option<String>,
}

impl TryFrom<BookBody> for app::BookRequest {
    type Error = app::AppError;
    fn try_from(b: BookBody) -> Result<Self, Self::Error> {
        Ok(app::BookRequest {
            clinic_id: ClinicId(b.clinic_id),
            vet_id: VetId(b.vet_id),
            pet_id: PetId(b.pet_id),
            client_id: b.client_id.map(ClientId),
            type_id: AppointmentTypeId(b.type_id),
            start: time(&b.start)?,
            duration_min: b.duration_minutes,
            reason: b.reason,
            notes: b.notes,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckConflictsBody {
    pub vet_id: Uuid,
    pub clinic_id: Uuid,
    #[schema(value_type = rules::LocalOrInstant)]
    pub start: String,
    #[schema(value_type = rules::LocalOrInstant)]
    pub end: String,
    /// Buffers come from this type when given.
    pub type_id: Option<Uuid>,
    /// The appointment being moved, if any.
    pub appointment_id: Option<Uuid>,
}

impl TryFrom<CheckConflictsBody> for app::ConflictRequest {
    type Error = app::AppError;
    fn try_from(b: CheckConflictsBody) -> Result<Self, Self::Error> {
        Ok(app::ConflictRequest {
            vet_id: VetId(b.vet_id),
            clinic_id: ClinicId(b.clinic_id),
            start: time(&b.start)?,
            end: time(&b.end)?,
            type_id: b.type_id.map(AppointmentTypeId),
            ignoring: b.appointment_id.map(AppointmentId),
        })
    }
}

/// A lifecycle step; `version` (or `If-Match`) guards against someone else's change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActBody {
    pub version: Option<i64>,
    /// A note for the history (complete only).
    #[schema(value_type = Option<rules::Text>)]
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub version: Option<i64>,
    #[schema(value_type = Option<rules::Text>)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    pub version: Option<i64>,
    #[schema(value_type = rules::LocalOrInstant)]
    pub start: String,
    #[schema(value_type = Option<rules::AppointmentMinutes>)]
    pub duration_minutes: Option<i64>,
    /// Move to another vet of the same clinic.
    pub vet_id: Option<Uuid>,
    #[schema(value_type = Option<rules::Text>)]
    pub note: Option<String>,
}

impl RescheduleBody {
    pub fn into_request(self) -> Result<(Option<i64>, app::RescheduleRequest), app::AppError> {
        Ok((
            self.version,
            app::RescheduleRequest {
                start: time(&self.start)?,
                duration_min: self.duration_minutes,
                vet_id: self.vet_id.map(VetId),
                note: self.note,
            },
        ))
    }
}

// ---------- record bodies ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicBody {
    pub version: Option<i64>,
    #[schema(value_type = rules::Name)]
    pub name: String,
    /// IANA zone, e.g. `Europe/London`.
    #[schema(value_type = rules::TimeZone)]
    pub time_zone: String,
}

impl From<ClinicBody> for app::ClinicInput {
    fn from(b: ClinicBody) -> Self {
        app::ClinicInput {
            name: b.name,
            time_zone: b.time_zone,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VetBody {
    pub version: Option<i64>,
    #[schema(value_type = rules::Name)]
    pub name: String,
    #[schema(value_type = Option<rules::EmailAddress>)]
    pub email: Option<String>,
    #[serde(default)]
    pub clinics: Vec<Uuid>,
}

impl From<VetBody> for app::VetInput {
    fn from(b: VetBody) -> Self {
        app::VetInput {
            name: b.name,
            email: b.email,
            clinics: b.clinics.into_iter().map(ClinicId).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    pub version: Option<i64>,
    #[schema(value_type = rules::Name)]
    pub name: String,
    #[schema(value_type = Option<rules::EmailAddress>)]
    pub email: Option<String>,
    #[schema(value_type = Option<rules::PhoneNumber>)]
    pub phone: Option<String>,
    /// `email` or `sms`.
    #[schema(value_type = Option<rules::ContactChannel>)]
    pub preferred_channel: Option<String>,
    #[serde(default)]
    pub email_opt_out: bool,
    #[serde(default)]
    pub sms_opt_out: bool,
    /// The clinic the owner is registered with (its limited users see them).
    /// Left out: kept on an edit; on a new owner, a limited user's home clinic.
    pub home_clinic_id: Option<Uuid>,
}

impl From<ClientBody> for app::ClientInput {
    fn from(b: ClientBody) -> Self {
        app::ClientInput {
            name: b.name,
            email: b.email,
            phone: b.phone,
            preferred_channel: b.preferred_channel,
            email_opt_out: b.email_opt_out,
            sms_opt_out: b.sms_opt_out,
            home_clinic_id: b.home_clinic_id.map(ClinicId),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PetBody {
    pub version: Option<i64>,
    pub owner_id: Option<Uuid>,
    #[schema(value_type = rules::Name)]
    pub name: String,
    #[schema(value_type = rules::Name)]
    pub species: String,
    #[schema(value_type = Option<rules::Text>)]
    pub breed: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
}

impl From<PetBody> for app::PetInput {
    fn from(b: PetBody) -> Self {
        app::PetInput {
            owner: b.owner_id.map(ClientId),
            name: b.name,
            species: b.species,
            breed: b.breed,
            date_of_birth: b.date_of_birth,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentTypeBody {
    pub version: Option<i64>,
    #[schema(value_type = rules::Name)]
    pub name: String,
    #[schema(value_type = rules::AppointmentMinutes)]
    pub duration_minutes: i64,
    /// `#rrggbb`.
    #[schema(value_type = rules::Colour)]
    pub colour: String,
    #[serde(default)]
    #[schema(value_type = rules::BufferMinutes)]
    pub buffer_before_minutes: i64,
    #[serde(default)]
    #[schema(value_type = rules::BufferMinutes)]
    pub buffer_after_minutes: i64,
}

impl From<AppointmentTypeBody> for app::AppointmentTypeInput {
    fn from(b: AppointmentTypeBody) -> Self {
        app::AppointmentTypeInput {
            name: b.name,
            duration_min: b.duration_minutes,
            colour: b.colour,
            buffer_before_min: b.buffer_before_minutes,
            buffer_after_min: b.buffer_after_minutes,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkingHoursBody {
    pub version: Option<i64>,
    pub vet_id: Uuid,
    pub clinic_id: Uuid,
    /// `mon` … `sun` (or the full name).
    #[schema(value_type = rules::Weekday)]
    pub weekday: String,
    /// `HH:MM-HH:MM`, clinic-local.
    #[schema(value_type = rules::LocalSpan)]
    pub span: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl TryFrom<WorkingHoursBody> for app::WorkingHoursInput {
    type Error = app::AppError;
    fn try_from(b: WorkingHoursBody) -> Result<Self, Self::Error> {
        Ok(app::WorkingHoursInput {
            vet_id: VetId(b.vet_id),
            clinic_id: ClinicId(b.clinic_id),
            weekday: parse_weekday(&b.weekday)?,
            span: b.span,
            valid_from: b.valid_from,
            valid_to: b.valid_to,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateOverrideBody {
    pub vet_id: Uuid,
    pub clinic_id: Uuid,
    pub date: NaiveDate,
    /// `HH:MM-HH:MM,...`; empty means a day off.
    #[serde(default)]
    #[schema(value_type = rules::LocalSpanList)]
    pub spans: String,
    #[schema(value_type = Option<rules::Text>)]
    pub note: Option<String>,
}

impl From<DateOverrideBody> for app::DateOverrideInput {
    fn from(b: DateOverrideBody) -> Self {
        app::DateOverrideInput {
            vet_id: VetId(b.vet_id),
            clinic_id: ClinicId(b.clinic_id),
            date: b.date,
            spans: b.spans,
            note: b.note,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeOffBody {
    /// The version the change is made against, when changing (or send `If-Match`).
    pub version: Option<i64>,
    pub vet_id: Uuid,
    /// Local times are read in this clinic's zone (default: the vet's first clinic).
    pub clinic_id: Option<Uuid>,
    #[schema(value_type = rules::LocalOrInstant)]
    pub start: String,
    #[schema(value_type = rules::LocalOrInstant)]
    pub end: String,
    #[schema(value_type = Option<rules::Text>)]
    pub reason: Option<String>,
}

impl TryFrom<TimeOffBody> for app::TimeOffInput {
    type Error = app::AppError;
    fn try_from(b: TimeOffBody) -> Result<Self, Self::Error> {
        Ok(app::TimeOffInput {
            vet_id: VetId(b.vet_id),
            clinic_id: b.clinic_id.map(ClinicId),
            start: time(&b.start)?,
            end: time(&b.end)?,
            reason: b.reason,
        })
    }
}

// ---------- responses ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    /// The channels this server's notification worker sends through (`email`,
    /// `sms`, `desktop`). Empty when it sends nothing: messages then wait in the
    /// outbox (unless another worker on the same database sends them).
    #[schema(example = json!(["email", "sms"]))]
    pub notification_channels: Vec<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub id: Uuid,
    /// The tombstone's version.
    pub version: i64,
}
