//! Rows into records, the same on both engines.

use super::Dialect;
use crate::{AppointmentView, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc, Weekday};
use std::marker::PhantomData;
use std::str::FromStr;
use uuid::Uuid;
use vetdesk_core::*;

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn null(col: &str) -> StoreError {
    StoreError::Corrupt(format!("column {col} is null"))
}

/// One row's columns, read by name in the engine's own way.
pub(crate) struct Cols<'r, D: Dialect> {
    row: &'r D::Row,
    _engine: PhantomData<D>,
}

impl<'r, D: Dialect> Cols<'r, D> {
    pub(crate) fn new(row: &'r D::Row) -> Self {
        Cols {
            row,
            _engine: PhantomData,
        }
    }
    pub(crate) fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>> {
        D::opt_uuid(self.row, col)
    }
    pub(crate) fn uuid(&self, col: &str) -> Result<Uuid> {
        self.opt_uuid(col)?.ok_or_else(|| null(col))
    }
    pub(crate) fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        D::opt_int(self.row, col)
    }
    pub(crate) fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?.ok_or_else(|| null(col))
    }
    /// A non-negative count of minutes, attempts and the like.
    pub(crate) fn u32(&self, col: &str) -> Result<u32> {
        u32::try_from(self.int(col)?).map_err(corrupt)
    }
    pub(crate) fn opt_text(&self, col: &str) -> Result<Option<&'r str>> {
        D::opt_text(self.row, col)
    }
    pub(crate) fn text(&self, col: &str) -> Result<&'r str> {
        self.opt_text(col)?.ok_or_else(|| null(col))
    }
    pub(crate) fn opt_string(&self, col: &str) -> Result<Option<String>> {
        Ok(self.opt_text(col)?.map(str::to_string))
    }
    pub(crate) fn string(&self, col: &str) -> Result<String> {
        Ok(self.text(col)?.to_string())
    }
    pub(crate) fn flag(&self, col: &str) -> Result<bool> {
        D::opt_flag(self.row, col)?.ok_or_else(|| null(col))
    }
    pub(crate) fn opt_instant(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        D::opt_instant(self.row, col)
    }
    pub(crate) fn instant(&self, col: &str) -> Result<DateTime<Utc>> {
        self.opt_instant(col)?.ok_or_else(|| null(col))
    }
    pub(crate) fn opt_date(&self, col: &str) -> Result<Option<NaiveDate>> {
        D::opt_date(self.row, col)
    }
    pub(crate) fn date(&self, col: &str) -> Result<NaiveDate> {
        self.opt_date(col)?.ok_or_else(|| null(col))
    }
    pub(crate) fn opt_json(&self, col: &str) -> Result<Option<serde_json::Value>> {
        D::opt_json(self.row, col)
    }
    pub(crate) fn opt_email(&self, col: &str) -> Result<Option<Email>> {
        self.opt_text(col)?
            .map(Email::parse)
            .transpose()
            .map_err(corrupt)
    }
    pub(crate) fn name(&self, col: &'static str) -> Result<Name> {
        Name::parse(col, self.text(col)?).map_err(corrupt)
    }
    pub(crate) fn interval(&self, start: &str, end: &str) -> Result<Interval> {
        Interval::new(self.instant(start)?, self.instant(end)?).map_err(corrupt)
    }
    pub(crate) fn status(&self, col: &str) -> Result<Status> {
        Status::from_str(self.text(col)?).map_err(corrupt)
    }
    pub(crate) fn meta(&self) -> Result<Meta> {
        Ok(Meta {
            version: self.int("version")?,
            created_at: self.instant("created_at")?,
            updated_at: self.instant("updated_at")?,
        })
    }
}

pub(crate) fn weekday_num(w: Weekday) -> i64 {
    i64::from(w.num_days_from_monday())
}

fn weekday(n: i64) -> Result<Weekday> {
    u8::try_from(n)
        .ok()
        .and_then(|n| Weekday::try_from(n).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("weekday {n}")))
}

pub(crate) fn clinic<D: Dialect>(r: Cols<'_, D>) -> Result<Clinic> {
    Ok(Clinic {
        id: ClinicId(r.uuid("id")?),
        name: r.name("name")?,
        time_zone: parse_time_zone(r.text("time_zone")?).map_err(corrupt)?,
        meta: r.meta()?,
    })
}

/// A vet without their clinics, which come from `vet_clinics`.
pub(crate) fn vet<D: Dialect>(r: Cols<'_, D>) -> Result<Vet> {
    Ok(Vet {
        id: VetId(r.uuid("id")?),
        name: r.name("name")?,
        email: r.opt_email("email")?,
        clinics: Vec::new(),
        meta: r.meta()?,
    })
}

pub(crate) fn client<D: Dialect>(r: Cols<'_, D>) -> Result<Client> {
    Ok(Client {
        id: ClientId(r.uuid("id")?),
        name: r.name("name")?,
        email: r.opt_email("email")?,
        phone: r
            .opt_text("phone")?
            .map(Phone::parse)
            .transpose()
            .map_err(corrupt)?,
        preferences: ContactPreferences {
            preferred: r
                .opt_text("preferred_channel")?
                .map(Channel::parse)
                .transpose()
                .map_err(corrupt)?,
            email_opt_out: r.flag("email_opt_out")?,
            sms_opt_out: r.flag("sms_opt_out")?,
        },
        home_clinic_id: r.opt_uuid("home_clinic_id")?.map(ClinicId),
        meta: r.meta()?,
    })
}

pub(crate) fn pet<D: Dialect>(r: Cols<'_, D>) -> Result<Pet> {
    Ok(Pet {
        id: PetId(r.uuid("id")?),
        owner: ClientId(r.uuid("owner_id")?),
        name: r.name("name")?,
        species: r.name("species")?,
        breed: r.opt_string("breed")?,
        date_of_birth: r.opt_date("date_of_birth")?,
        meta: r.meta()?,
    })
}

pub(crate) fn appointment_type<D: Dialect>(r: Cols<'_, D>) -> Result<AppointmentType> {
    Ok(AppointmentType {
        id: AppointmentTypeId(r.uuid("id")?),
        name: r.name("name")?,
        duration_min: r.u32("duration_min")?,
        colour: Colour::parse(r.text("colour")?).map_err(corrupt)?,
        buffer_before_min: r.u32("buffer_before_min")?,
        buffer_after_min: r.u32("buffer_after_min")?,
        meta: r.meta()?,
    })
}

pub(crate) fn working_hours<D: Dialect>(r: Cols<'_, D>) -> Result<WorkingHours> {
    let minute = |col| u16::try_from(r.int(col)?).map_err(corrupt);
    Ok(WorkingHours {
        id: WorkingHoursId(r.uuid("id")?),
        vet_id: VetId(r.uuid("vet_id")?),
        clinic_id: ClinicId(r.uuid("clinic_id")?),
        weekday: weekday(r.int("weekday")?)?,
        span: LocalSpan::new(minute("start_min")?, minute("end_min")?).map_err(corrupt)?,
        valid_from: r.date("valid_from")?,
        valid_to: r.opt_date("valid_to")?,
        meta: r.meta()?,
    })
}

pub(crate) fn date_override<D: Dialect>(r: Cols<'_, D>) -> Result<DateOverride> {
    Ok(DateOverride {
        id: DateOverrideId(r.uuid("id")?),
        vet_id: VetId(r.uuid("vet_id")?),
        clinic_id: ClinicId(r.uuid("clinic_id")?),
        date: r.date("date")?,
        spans: LocalSpan::parse_list(r.text("spans")?).map_err(corrupt)?,
        note: r.opt_string("note")?,
        meta: r.meta()?,
    })
}

pub(crate) fn time_off<D: Dialect>(r: Cols<'_, D>) -> Result<TimeOff> {
    Ok(TimeOff {
        id: TimeOffId(r.uuid("id")?),
        vet_id: VetId(r.uuid("vet_id")?),
        period: r.interval("start_at", "end_at")?,
        reason: r.opt_string("reason")?,
        meta: r.meta()?,
    })
}

pub(crate) fn appointment<D: Dialect>(r: &Cols<'_, D>) -> Result<Appointment> {
    Ok(Appointment {
        id: AppointmentId(r.uuid("id")?),
        clinic_id: ClinicId(r.uuid("clinic_id")?),
        vet_id: VetId(r.uuid("vet_id")?),
        pet_id: PetId(r.uuid("pet_id")?),
        client_id: ClientId(r.uuid("client_id")?),
        type_id: AppointmentTypeId(r.uuid("type_id")?),
        slot: r.interval("start_at", "end_at")?,
        buffer_before_min: r.u32("buffer_before_min")?,
        buffer_after_min: r.u32("buffer_after_min")?,
        status: r.status("status")?,
        reason: r.opt_string("reason")?,
        notes: r.opt_string("notes")?,
        cancel_reason: r.opt_string("cancel_reason")?,
        created_by: Actor(r.string("created_by")?),
        updated_by: Actor(r.string("updated_by")?),
        meta: r.meta()?,
    })
}

pub(crate) fn appointment_view<D: Dialect>(r: Cols<'_, D>) -> Result<AppointmentView> {
    Ok(AppointmentView {
        appointment: appointment(&r)?,
        pet_name: r.string("pet_name")?,
        client_name: r.string("client_name")?,
        vet_name: r.string("vet_name")?,
        type_name: r.string("type_name")?,
        colour: r.string("colour")?,
    })
}

pub(crate) fn booking<D: Dialect>(r: &Cols<'_, D>) -> Result<Booking> {
    Ok(Booking {
        id: AppointmentId(r.uuid("id")?),
        slot: r.interval("start_at", "end_at")?,
        blocked: r.interval("blocked_start", "blocked_end")?,
    })
}

pub(crate) fn history<D: Dialect>(r: Cols<'_, D>) -> Result<HistoryEntry> {
    Ok(HistoryEntry {
        appointment_id: AppointmentId(r.uuid("appointment_id")?),
        version: r.int("version")?,
        action: r.string("action")?,
        from_status: r
            .opt_text("from_status")?
            .map(Status::from_str)
            .transpose()
            .map_err(corrupt)?,
        to_status: r.status("to_status")?,
        slot: r.interval("start_at", "end_at")?,
        note: r.opt_string("note")?,
        actor: Actor(r.string("actor")?),
        at: r.instant("at")?,
    })
}
