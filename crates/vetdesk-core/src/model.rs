//! The records vetdesk keeps. Every record that can change carries a `version`
//! (optimistic concurrency) and `updated_at`; the store keeps deletions as tombstones.

use crate::ids::*;
use crate::lifecycle::Status;
use crate::time::{Interval, LocalSpan};
use crate::validate::{Colour, Email, Name, Phone};
use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Who made a change: a user name, or the tool that acted (`cli`, `demo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actor(pub String);

impl Actor {
    pub fn new(s: impl Into<String>) -> Self {
        Actor(s.into())
    }
}

/// Row bookkeeping shared by every mutable record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Meta {
    pub fn new(now: DateTime<Utc>) -> Self {
        Meta {
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
    /// The bookkeeping after one more change.
    pub fn bumped(&self, now: DateTime<Utc>) -> Self {
        Meta {
            version: self.version + 1,
            created_at: self.created_at,
            updated_at: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clinic {
    pub id: ClinicId,
    pub name: Name,
    pub time_zone: Tz,
    pub meta: Meta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vet {
    pub id: VetId,
    pub name: Name,
    pub email: Option<Email>,
    /// The clinics this vet works at.
    pub clinics: Vec<ClinicId>,
    pub meta: Meta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
    pub fn parse(raw: &str) -> Result<Self, crate::ValidationError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "email" => Ok(Channel::Email),
            "sms" => Ok(Channel::Sms),
            _ => Err(crate::ValidationError::Choice {
                field: "channel",
                value: raw.to_string(),
                expected: "email, sms",
            }),
        }
    }
}

/// How a pet owner wants to hear from the clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPreferences {
    pub preferred: Option<Channel>,
    pub email_opt_out: bool,
    pub sms_opt_out: bool,
}

impl Default for ContactPreferences {
    fn default() -> Self {
        ContactPreferences {
            preferred: Some(Channel::Email),
            email_opt_out: false,
            sms_opt_out: false,
        }
    }
}

/// A pet owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub id: ClientId,
    pub name: Name,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub preferences: ContactPreferences,
    /// The clinic the owner is registered with: its limited users see them
    /// (as do those of a clinic where they have an appointment).
    #[serde(default)]
    pub home_clinic_id: Option<ClinicId>,
    pub meta: Meta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pet {
    pub id: PetId,
    pub owner: ClientId,
    pub name: Name,
    pub species: Name,
    pub breed: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub meta: Meta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppointmentType {
    pub id: AppointmentTypeId,
    pub name: Name,
    pub duration_min: u32,
    pub colour: Colour,
    pub buffer_before_min: u32,
    pub buffer_after_min: u32,
    pub meta: Meta,
}

/// One weekly rule: a vet works at a clinic on a weekday during a local span,
/// from `valid_from` until `valid_to` (inclusive; open-ended when `None`).
/// Several rules on one weekday give a day with breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkingHours {
    pub id: WorkingHoursId,
    pub vet_id: VetId,
    pub clinic_id: ClinicId,
    pub weekday: Weekday,
    pub span: LocalSpan,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub meta: Meta,
}

impl WorkingHours {
    pub fn applies_on(&self, date: NaiveDate) -> bool {
        use chrono::Datelike;
        date.weekday() == self.weekday
            && self.valid_from <= date
            && self.valid_to.is_none_or(|to| date <= to)
    }
}

/// Replaces a vet's weekly hours at a clinic on one date: an extra shift, a
/// shorter day, or (with no spans) a day off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateOverride {
    pub id: DateOverrideId,
    pub vet_id: VetId,
    pub clinic_id: ClinicId,
    pub date: NaiveDate,
    pub spans: Vec<LocalSpan>,
    pub note: Option<String>,
    pub meta: Meta,
}

/// A period a vet is away, at every clinic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeOff {
    pub id: TimeOffId,
    pub vet_id: VetId,
    pub period: Interval,
    pub reason: Option<String>,
    pub meta: Meta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub clinic_id: ClinicId,
    pub vet_id: VetId,
    pub pet_id: PetId,
    pub client_id: ClientId,
    pub type_id: AppointmentTypeId,
    /// When the appointment itself runs.
    pub slot: Interval,
    /// Copied from the type at booking, so editing a type never moves history.
    pub buffer_before_min: u32,
    pub buffer_after_min: u32,
    pub status: Status,
    pub reason: Option<String>,
    pub notes: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_by: Actor,
    pub updated_by: Actor,
    pub meta: Meta,
}

impl Appointment {
    /// The time this appointment keeps the vet busy: the slot widened by its buffers.
    pub fn blocked(&self) -> Interval {
        blocked_interval(self.slot, self.buffer_before_min, self.buffer_after_min)
    }
}

pub fn blocked_interval(slot: Interval, before_min: u32, after_min: u32) -> Interval {
    slot.widen(
        Duration::minutes(i64::from(before_min)),
        Duration::minutes(i64::from(after_min)),
    )
}

/// One line of an appointment's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub appointment_id: AppointmentId,
    pub version: i64,
    pub action: String,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub slot: Interval,
    pub note: Option<String>,
    pub actor: Actor,
    pub at: DateTime<Utc>,
}
