//! Creating and editing the records scheduling runs on. Inputs arrive as the
//! raw values a person typed; parsing them into domain types happens here,
//! once, for every adapter.

use crate::access::snap;
use crate::{App, AppError, Result};
use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vetdesk_core::*;
use vetdesk_store::{Entity, Tx, Write};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClinicInput {
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VetInput {
    pub name: String,
    pub email: Option<String>,
    pub clinics: Vec<ClinicId>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClientInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `email` or `sms`; defaults to email when an address is given, else SMS.
    pub preferred_channel: Option<String>,
    #[serde(default)]
    pub email_opt_out: bool,
    #[serde(default)]
    pub sms_opt_out: bool,
    /// The clinic the owner is registered with. Left out: kept on an edit;
    /// on a new owner, a limited user's home clinic (none for the others).
    #[serde(default)]
    pub home_clinic_id: Option<ClinicId>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PetInput {
    pub owner: Option<ClientId>,
    pub name: String,
    pub species: String,
    pub breed: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AppointmentTypeInput {
    pub name: String,
    pub duration_min: i64,
    pub colour: String,
    pub buffer_before_min: i64,
    pub buffer_after_min: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkingHoursInput {
    pub vet_id: VetId,
    pub clinic_id: ClinicId,
    pub weekday: Weekday,
    /// `HH:MM-HH:MM`, local to the clinic.
    pub span: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DateOverrideInput {
    pub vet_id: VetId,
    pub clinic_id: ClinicId,
    pub date: NaiveDate,
    /// `HH:MM-HH:MM,...`; empty means the vet does not work that day.
    pub spans: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimeOffInput {
    pub vet_id: VetId,
    /// Local wall times are read in this clinic's zone (default: the vet's first clinic).
    pub clinic_id: Option<ClinicId>,
    pub start: TimeInput,
    pub end: TimeInput,
    pub reason: Option<String>,
}

/// Records that carry a version.
pub(crate) trait Versioned {
    fn version(&self) -> i64;
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn version(&self) -> i64 {
                self.meta.version
            }
        }
    )*};
}
versioned!(
    Clinic,
    Vet,
    Client,
    Pet,
    AppointmentType,
    WorkingHours,
    TimeOff,
    DateOverride,
    Appointment
);

/// Check a version the caller read against the stored one; a stale one is
/// refused with the record as it is now, so the person can see what changed.
pub(crate) fn check_version<R: Versioned + Serialize>(
    entity: Entity,
    id: impl ToString,
    expected: Option<i64>,
    current: &R,
) -> Result<i64> {
    let actual = current.version();
    match expected {
        Some(v) if v != actual => Err(AppError::StaleVersion {
            entity,
            id: id.to_string(),
            expected: v,
            actual,
            current: serde_json::to_value(current).ok().map(Box::new),
        }),
        _ => Ok(actual),
    }
}

fn opt_email(raw: Option<&str>) -> Result<Option<Email>> {
    Ok(raw
        .filter(|s| !s.trim().is_empty())
        .map(Email::parse)
        .transpose()?)
}

fn parse_client(
    input: &ClientInput,
) -> Result<(Name, Option<Email>, Option<Phone>, ContactPreferences)> {
    let name = Name::parse("client name", &input.name)?;
    let email = opt_email(input.email.as_deref())?;
    let phone = input
        .phone
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(Phone::parse)
        .transpose()?;
    let preferred = match input
        .preferred_channel
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(c) => Some(Channel::parse(c)?),
        None if email.is_some() => Some(Channel::Email),
        None if phone.is_some() => Some(Channel::Sms),
        None => None,
    };
    let prefs = ContactPreferences {
        preferred,
        email_opt_out: input.email_opt_out,
        sms_opt_out: input.sms_opt_out,
    };
    Ok((name, email, phone, prefs))
}

fn parse_type(input: &AppointmentTypeInput) -> Result<(Name, u32, Colour, u32, u32)> {
    Ok((
        Name::parse("appointment type name", &input.name)?,
        appointment_minutes(input.duration_min)?,
        Colour::parse(&input.colour)?,
        buffer_minutes("buffer before", input.buffer_before_min)?,
        buffer_minutes("buffer after", input.buffer_after_min)?,
    ))
}

pub(crate) async fn require_clinic(tx: &mut dyn Tx, id: ClinicId) -> Result<Clinic> {
    tx.clinic(id)
        .await?
        .ok_or_else(|| AppError::not_found(Entity::Clinic, id))
}

pub(crate) async fn require_vet(tx: &mut dyn Tx, id: VetId) -> Result<Vet> {
    tx.vet(id)
        .await?
        .ok_or_else(|| AppError::not_found(Entity::Vet, id))
}

pub(crate) async fn require_vet_at(
    tx: &mut dyn Tx,
    vet: VetId,
    clinic: ClinicId,
) -> Result<(Vet, Clinic)> {
    let c = require_clinic(tx, clinic).await?;
    let v = require_vet(tx, vet).await?;
    if !v.clinics.contains(&clinic) {
        return Err(AppError::VetNotAtClinic {
            vet: vet.to_string(),
            clinic: clinic.to_string(),
        });
    }
    Ok((v, c))
}

fn valid_dates(from: NaiveDate, to: Option<NaiveDate>) -> Result<()> {
    match to {
        Some(t) if t < from => Err(ValidationError::DateRange { from, to: t }.into()),
        _ => Ok(()),
    }
}

impl App {
    fn mint(&self) -> Uuid {
        Uuid::now_v7()
    }

    // ---------- clinics ----------

    #[tracing::instrument(skip_all, fields(name = %input.name))]
    pub async fn create_clinic(&self, input: ClinicInput) -> Result<Clinic> {
        self.require(Permission::ManagePractice)?;
        let clinic = Clinic {
            id: ClinicId(self.mint()),
            name: Name::parse("clinic name", &input.name)?,
            time_zone: parse_time_zone(&input.time_zone)?,
            meta: Meta::new(self.now()),
        };
        let mut tx = self.store.write().await?;
        tx.save_clinic(&clinic, Write::Insert).await?;
        self.audit(
            tx.as_mut(),
            "clinic.create",
            "clinic",
            Some(clinic.id.0),
            None,
            snap(&clinic),
        )
        .await?;
        tx.commit().await?;
        Ok(clinic)
    }

    #[tracing::instrument(skip_all, fields(clinic = %id))]
    pub async fn update_clinic(
        &self,
        id: ClinicId,
        expected_version: Option<i64>,
        input: ClinicInput,
    ) -> Result<Clinic> {
        self.require(Permission::ManagePractice)?;
        let name = Name::parse("clinic name", &input.name)?;
        let time_zone = parse_time_zone(&input.time_zone)?;
        let mut tx = self.store.write().await?;
        let old = require_clinic(tx.as_mut(), id).await?;
        let v = check_version(Entity::Clinic, id, expected_version, &old)?;
        let clinic = Clinic {
            name,
            time_zone,
            meta: old.meta.bumped(self.now()),
            ..old
        };
        tx.save_clinic(
            &clinic,
            Write::Update {
                expected_version: v,
            },
        )
        .await?;
        self.audit(
            tx.as_mut(),
            "clinic.update",
            "clinic",
            Some(id.0),
            snap(&old),
            snap(&clinic),
        )
        .await?;
        tx.commit().await?;
        Ok(clinic)
    }

    #[tracing::instrument(skip_all)]
    pub async fn clinic(&self, id: ClinicId) -> Result<Clinic> {
        self.require(Permission::ReadRecords)?;
        self.require_clinic_access(id)?;
        let mut tx = self.store.read().await?;
        require_clinic(tx.as_mut(), id).await
    }

    /// The clinics the acting user works at (every clinic for an admin).
    #[tracing::instrument(skip_all)]
    pub async fn clinics(&self) -> Result<Vec<Clinic>> {
        self.require(Permission::ReadRecords)?;
        let all = self.store.read().await?.clinics().await?;
        Ok(self.clinics_seen(all, |c| c.id))
    }

    // ---------- vets ----------

    async fn checked_vet_fields(
        &self,
        tx: &mut dyn Tx,
        input: &VetInput,
    ) -> Result<(Name, Option<Email>, Vec<ClinicId>)> {
        let name = Name::parse("vet name", &input.name)?;
        let email = opt_email(input.email.as_deref())?;
        let mut clinics = input.clinics.clone();
        clinics.sort();
        clinics.dedup();
        for c in &clinics {
            require_clinic(tx, *c).await?;
        }
        Ok((name, email, clinics))
    }

    #[tracing::instrument(skip_all, fields(name = %input.name))]
    pub async fn create_vet(&self, input: VetInput) -> Result<Vet> {
        self.require(Permission::ManagePractice)?;
        let mut tx = self.store.write().await?;
        let (name, email, clinics) = self.checked_vet_fields(tx.as_mut(), &input).await?;
        let vet = Vet {
            id: VetId(self.mint()),
            name,
            email,
            clinics,
            meta: Meta::new(self.now()),
        };
        tx.save_vet(&vet, Write::Insert).await?;
        self.audit(
            tx.as_mut(),
            "vet.create",
            "vet",
            Some(vet.id.0),
            None,
            snap(&vet),
        )
        .await?;
        tx.commit().await?;
        Ok(vet)
    }

    #[tracing::instrument(skip_all, fields(vet = %id))]
    pub async fn update_vet(
        &self,
        id: VetId,
        expected_version: Option<i64>,
        input: VetInput,
    ) -> Result<Vet> {
        self.require(Permission::ManagePractice)?;
        let mut tx = self.store.write().await?;
        let (name, email, clinics) = self.checked_vet_fields(tx.as_mut(), &input).await?;
        let old = require_vet(tx.as_mut(), id).await?;
        let v = check_version(Entity::Vet, id, expected_version, &old)?;
        let vet = Vet {
            id,
            name,
            email,
            clinics,
            meta: old.meta.bumped(self.now()),
        };
        tx.save_vet(
            &vet,
            Write::Update {
                expected_version: v,
            },
        )
        .await?;
        self.audit(
            tx.as_mut(),
            "vet.update",
            "vet",
            Some(id.0),
            snap(&old),
            snap(&vet),
        )
        .await?;
        tx.commit().await?;
        Ok(vet)
    }

    #[tracing::instrument(skip_all)]
    pub async fn vet(&self, id: VetId) -> Result<Vet> {
        self.require(Permission::ReadRecords)?;
        let mut tx = self.store.read().await?;
        require_vet(tx.as_mut(), id).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn vets(&self, clinic: Option<ClinicId>) -> Result<Vec<Vet>> {
        self.require(Permission::ReadRecords)?;
        let mut tx = self.store.read().await?;
        if let Some(c) = clinic {
            self.require_clinic_access(c)?;
            require_clinic(tx.as_mut(), c).await?;
        }
        Ok(tx.vets(clinic).await?)
    }

    // ---------- clients ----------

    #[tracing::instrument(skip_all)]
    pub async fn create_client(&self, input: ClientInput) -> Result<Client> {
        self.require(Permission::ManageClients)?;
        let (name, email, phone, preferences) = parse_client(&input)?;
        let home_clinic_id = self.home_clinic_for_client(input.home_clinic_id)?;
        let client = Client {
            id: ClientId(self.mint()),
            name,
            email,
            phone,
            preferences,
            home_clinic_id,
            meta: Meta::new(self.now()),
        };
        let mut tx = self.store.write().await?;
        if let Some(c) = home_clinic_id {
            require_clinic(tx.as_mut(), c).await?;
        }
        tx.save_client(&client, Write::Insert).await?;
        self.audit(
            tx.as_mut(),
            "client.create",
            "client",
            Some(client.id.0),
            None,
            snap(&client),
        )
        .await?;
        tx.commit().await?;
        Ok(client)
    }

    #[tracing::instrument(skip_all, fields(client = %id))]
    pub async fn update_client(
        &self,
        id: ClientId,
        expected_version: Option<i64>,
        input: ClientInput,
    ) -> Result<Client> {
        self.require(Permission::ManageClients)?;
        let (name, email, phone, preferences) = parse_client(&input)?;
        let mut tx = self.store.write().await?;
        let old = self.seen_client(tx.as_mut(), id).await?;
        let v = check_version(Entity::Client, id, expected_version, &old)?;
        let home_clinic_id = match input.home_clinic_id {
            Some(c) => {
                self.require_clinic_access(c)?;
                Some(require_clinic(tx.as_mut(), c).await?.id)
            }
            None => old.home_clinic_id,
        };
        let client = Client {
            id,
            name,
            email,
            phone,
            preferences,
            home_clinic_id,
            meta: old.meta.bumped(self.now()),
        };
        tx.save_client(
            &client,
            Write::Update {
                expected_version: v,
            },
        )
        .await?;
        self.audit(
            tx.as_mut(),
            "client.update",
            "client",
            Some(id.0),
            snap(&old),
            snap(&client),
        )
        .await?;
        tx.commit().await?;
        Ok(client)
    }

    #[tracing::instrument(skip_all)]
    pub async fn client(&self, id: ClientId) -> Result<Client> {
        self.require(Permission::ReadRecords)?;
        let mut tx = self.store.read().await?;
        self.seen_client(tx.as_mut(), id).await
    }

    /// Owners whose name, email or phone contains `text`, for search-as-you-type.
    #[tracing::instrument(skip_all)]
    pub async fn search_clients(&self, text: Option<&str>, limit: u32) -> Result<Vec<Client>> {
        self.require(Permission::ReadRecords)?;
        Ok(self
            .store
            .read()
            .await?
            .clients(text, limit.clamp(1, 500), self.clinic_scope().as_deref())
            .await?)
    }

    // ---------- pets ----------

    #[tracing::instrument(skip_all)]
    pub async fn create_pet(&self, input: PetInput) -> Result<Pet> {
        self.require(Permission::ManageClients)?;
        let owner = input
            .owner
            .ok_or(ValidationError::Empty { field: "owner" })?;
        let pet = Pet {
            id: PetId(self.mint()),
            owner,
            name: Name::parse("pet name", &input.name)?,
            species: Name::parse("species", &input.species)?,
            breed: optional_text("breed", input.breed.as_deref())?,
            date_of_birth: input.date_of_birth,
            meta: Meta::new(self.now()),
        };
        self.check_birth_date(pet.date_of_birth)?;
        let mut tx = self.store.write().await?;
        self.seen_client(tx.as_mut(), owner).await?;
        tx.save_pet(&pet, Write::Insert).await?;
        self.audit(
            tx.as_mut(),
            "pet.create",
            "pet",
            Some(pet.id.0),
            None,
            snap(&pet),
        )
        .await?;
        tx.commit().await?;
        Ok(pet)
    }

    fn check_birth_date(&self, born: Option<NaiveDate>) -> Result<()> {
        if born.is_some_and(|d| d > self.now().date_naive()) {
            return Err(
                ValidationError::Other("a date of birth cannot be in the future".into()).into(),
            );
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(pet = %id))]
    pub async fn update_pet(
        &self,
        id: PetId,
        expected_version: Option<i64>,
        input: PetInput,
    ) -> Result<Pet> {
        self.require(Permission::ManageClients)?;
        self.check_birth_date(input.date_of_birth)?;
        let mut tx = self.store.write().await?;
        let old = self.seen_pet(tx.as_mut(), id).await?;
        let v = check_version(Entity::Pet, id, expected_version, &old)?;
        let owner = input.owner.unwrap_or(old.owner);
        self.seen_client(tx.as_mut(), owner).await?;
        let pet = Pet {
            id,
            owner,
            name: Name::parse("pet name", &input.name)?,
            species: Name::parse("species", &input.species)?,
            breed: optional_text("breed", input.breed.as_deref())?,
            date_of_birth: input.date_of_birth,
            meta: old.meta.bumped(self.now()),
        };
        tx.save_pet(
            &pet,
            Write::Update {
                expected_version: v,
            },
        )
        .await?;
        self.audit(
            tx.as_mut(),
            "pet.update",
            "pet",
            Some(id.0),
            snap(&old),
            snap(&pet),
        )
        .await?;
        tx.commit().await?;
        Ok(pet)
    }

    #[tracing::instrument(skip_all)]
    pub async fn pet(&self, id: PetId) -> Result<Pet> {
        self.require(Permission::ReadRecords)?;
        let mut tx = self.store.read().await?;
        self.seen_pet(tx.as_mut(), id).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn pets(
        &self,
        owner: Option<ClientId>,
        text: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Pet>> {
        self.require(Permission::ReadRecords)?;
        Ok(self
            .store
            .read()
            .await?
            .pets(
                owner,
                text,
                limit.clamp(1, 500),
                self.clinic_scope().as_deref(),
            )
            .await?)
    }

    // ---------- appointment types ----------

    #[tracing::instrument(skip_all, fields(name = %input.name))]
    pub async fn create_appointment_type(
        &self,
        input: AppointmentTypeInput,
    ) -> Result<AppointmentType> {
        self.require(Permission::ManagePractice)?;
        let (name, duration_min, colour, buffer_before_min, buffer_after_min) = parse_type(&input)?;
        let t = AppointmentType {
            id: AppointmentTypeId(self.mint()),
            name,
            duration_min,
            colour,
            buffer_before_min,
            buffer_after_min,
            meta: Meta::new(self.now()),
        };
        let mut tx = self.store.write().await?;
        tx.save_appointment_type(&t, Write::Insert).await?;
        self.audit(
            tx.as_mut(),
            "appointment_type.create",
            "appointment_type",
            Some(t.id.0),
            None,
            snap(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    #[tracing::instrument(skip_all, fields(appointment_type = %id))]
    pub async fn update_appointment_type(
        &self,
        id: AppointmentTypeId,
        expected_version: Option<i64>,
        input: AppointmentTypeInput,
    ) -> Result<AppointmentType> {
        self.require(Permission::ManagePractice)?;
        let (name, duration_min, colour, buffer_before_min, buffer_after_min) = parse_type(&input)?;
        let mut tx = self.store.write().await?;
        let old = tx
            .appointment_type(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::AppointmentType, id))?;
        let v = check_version(Entity::AppointmentType, id, expected_version, &old)?;
        let t = AppointmentType {
            id,
            name,
            duration_min,
            colour,
            buffer_before_min,
            buffer_after_min,
            meta: old.meta.bumped(self.now()),
        };
        tx.save_appointment_type(
            &t,
            Write::Update {
                expected_version: v,
            },
        )
        .await?;
        self.audit(
            tx.as_mut(),
            "appointment_type.update",
            "appointment_type",
            Some(id.0),
            snap(&old),
            snap(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    #[tracing::instrument(skip_all)]
    pub async fn appointment_types(&self) -> Result<Vec<AppointmentType>> {
        self.require(Permission::ReadRecords)?;
        Ok(self.store.read().await?.appointment_types().await?)
    }

    #[tracing::instrument(skip_all, fields(appointment_type = %id))]
    pub async fn appointment_type(&self, id: AppointmentTypeId) -> Result<AppointmentType> {
        self.require(Permission::ReadRecords)?;
        self.store
            .read()
            .await?
            .appointment_type(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::AppointmentType, id))
    }

    // ---------- working hours, overrides, time off ----------

    #[tracing::instrument(skip_all, fields(vet = %input.vet_id, clinic = %input.clinic_id))]
    pub async fn add_working_hours(&self, input: WorkingHoursInput) -> Result<WorkingHours> {
        self.save_working_hours(None, None, input).await
    }

    #[tracing::instrument(skip_all, fields(working_hours = %id))]
    pub async fn update_working_hours(
        &self,
        id: WorkingHoursId,
        expected_version: Option<i64>,
        input: WorkingHoursInput,
    ) -> Result<WorkingHours> {
        self.save_working_hours(Some(id), expected_version, input)
            .await
    }

    async fn save_working_hours(
        &self,
        id: Option<WorkingHoursId>,
        expected_version: Option<i64>,
        input: WorkingHoursInput,
    ) -> Result<WorkingHours> {
        self.require(Permission::ManageSchedule)?;
        let span: LocalSpan = input.span.parse()?;
        valid_dates(input.valid_from, input.valid_to)?;
        let mut tx = self.store.write().await?;
        require_vet_at(tx.as_mut(), input.vet_id, input.clinic_id).await?;
        let mut before = None;
        let (id, meta, how) = match id {
            None => (
                WorkingHoursId(self.mint()),
                Meta::new(self.now()),
                Write::Insert,
            ),
            Some(id) => {
                let old = tx
                    .working_hours(None, None)
                    .await?
                    .into_iter()
                    .find(|w| w.id == id)
                    .ok_or_else(|| AppError::not_found(Entity::WorkingHours, id))?;
                let v = check_version(Entity::WorkingHours, id, expected_version, &old)?;
                before = snap(&old);
                (
                    id,
                    old.meta.bumped(self.now()),
                    Write::Update {
                        expected_version: v,
                    },
                )
            }
        };
        let w = WorkingHours {
            id,
            vet_id: input.vet_id,
            clinic_id: input.clinic_id,
            weekday: input.weekday,
            span,
            valid_from: input.valid_from,
            valid_to: input.valid_to,
            meta,
        };
        tx.save_working_hours(&w, how).await?;
        self.audit(
            tx.as_mut(),
            if before.is_some() {
                "working_hours.update"
            } else {
                "working_hours.create"
            },
            "working_hours",
            Some(w.id.0),
            before,
            snap(&w),
        )
        .await?;
        tx.commit().await?;
        Ok(w)
    }

    #[tracing::instrument(skip_all)]
    pub async fn working_hours(
        &self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
    ) -> Result<Vec<WorkingHours>> {
        self.require(Permission::ReadRecords)?;
        if let Some(c) = clinic {
            self.require_clinic_access(c)?;
        }
        Ok(self.store.read().await?.working_hours(vet, clinic).await?)
    }

    /// Set (or replace) the override for a vet, clinic and date.
    #[tracing::instrument(skip_all, fields(vet = %input.vet_id, date = %input.date))]
    pub async fn set_date_override(&self, input: DateOverrideInput) -> Result<DateOverride> {
        self.require(Permission::ManageSchedule)?;
        let spans = LocalSpan::parse_list(&input.spans)?;
        let note = optional_text("note", input.note.as_deref())?;
        let mut tx = self.store.write().await?;
        require_vet_at(tx.as_mut(), input.vet_id, input.clinic_id).await?;
        let existing = tx
            .date_overrides(
                Some(input.vet_id),
                Some(input.clinic_id),
                input.date,
                input.date,
            )
            .await?
            .into_iter()
            .next();
        let before = existing.as_ref().and_then(snap);
        let now = self.now();
        let (id, meta, how) = match existing {
            Some(old) => (
                old.id,
                old.meta.bumped(now),
                Write::Update {
                    expected_version: old.meta.version,
                },
            ),
            None => (DateOverrideId(self.mint()), Meta::new(now), Write::Insert),
        };
        let o = DateOverride {
            id,
            vet_id: input.vet_id,
            clinic_id: input.clinic_id,
            date: input.date,
            spans,
            note,
            meta,
        };
        tx.save_date_override(&o, how).await?;
        self.audit(
            tx.as_mut(),
            if before.is_some() {
                "date_override.update"
            } else {
                "date_override.create"
            },
            "date_override",
            Some(o.id.0),
            before,
            snap(&o),
        )
        .await?;
        tx.commit().await?;
        Ok(o)
    }

    #[tracing::instrument(skip_all)]
    pub async fn date_overrides(
        &self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<DateOverride>> {
        self.require(Permission::ReadRecords)?;
        if let Some(c) = clinic {
            self.require_clinic_access(c)?;
        }
        DateRange::new(first, last, 366 * 2)?;
        Ok(self
            .store
            .read()
            .await?
            .date_overrides(vet, clinic, first, last)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(vet = %input.vet_id))]
    pub async fn add_time_off(&self, input: TimeOffInput) -> Result<TimeOff> {
        self.require(Permission::ManageSchedule)?;
        let reason = optional_text("reason", input.reason.as_deref())?;
        let mut tx = self.store.write().await?;
        let period = time_off_period(tx.as_mut(), &input).await?;
        let t = TimeOff {
            id: TimeOffId(self.mint()),
            vet_id: input.vet_id,
            period,
            reason,
            meta: Meta::new(self.now()),
        };
        tx.save_time_off(&t, Write::Insert).await?;
        self.audit(
            tx.as_mut(),
            "time_off.create",
            "time_off",
            Some(t.id.0),
            None,
            snap(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Change a vet's time off (its period or reason).
    #[tracing::instrument(skip_all, fields(time_off = %id))]
    pub async fn update_time_off(
        &self,
        id: TimeOffId,
        expected_version: Option<i64>,
        input: TimeOffInput,
    ) -> Result<TimeOff> {
        self.require(Permission::ManageSchedule)?;
        let reason = optional_text("reason", input.reason.as_deref())?;
        let mut tx = self.store.write().await?;
        let old = find_time_off(tx.as_mut(), id).await?;
        let v = check_version(Entity::TimeOff, id, expected_version, &old)?;
        if input.vet_id != old.vet_id {
            return Err(ValidationError::Other(
                "time off stays with its vet; delete it and add it for the other vet".into(),
            )
            .into());
        }
        let period = time_off_period(tx.as_mut(), &input).await?;
        let t = TimeOff {
            period,
            reason,
            meta: old.meta.bumped(self.now()),
            ..old.clone()
        };
        tx.save_time_off(
            &t,
            Write::Update {
                expected_version: v,
            },
        )
        .await?;
        self.audit(
            tx.as_mut(),
            "time_off.update",
            "time_off",
            Some(id.0),
            snap(&old),
            snap(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    #[tracing::instrument(skip_all, fields(time_off = %id))]
    pub async fn time_off_record(&self, id: TimeOffId) -> Result<TimeOff> {
        self.require(Permission::ReadRecords)?;
        find_time_off(self.store.read().await?.as_mut(), id).await
    }

    #[tracing::instrument(skip_all, fields(working_hours = %id))]
    pub async fn working_hours_rule(&self, id: WorkingHoursId) -> Result<WorkingHours> {
        self.require(Permission::ReadRecords)?;
        self.store
            .read()
            .await?
            .working_hours(None, None)
            .await?
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| AppError::not_found(Entity::WorkingHours, id))
    }

    #[tracing::instrument(skip_all)]
    pub async fn time_off(&self, vet: Option<VetId>) -> Result<Vec<TimeOff>> {
        self.require(Permission::ReadRecords)?;
        Ok(self.store.read().await?.time_off(vet, None).await?)
    }

    /// Delete a working-hours rule, override or time-off record (kept as a tombstone).
    #[tracing::instrument(skip_all, fields(entity = %entity, id = %id))]
    pub async fn delete_record(
        &self,
        entity: Entity,
        id: Uuid,
        expected_version: i64,
    ) -> Result<i64> {
        if !matches!(
            entity,
            Entity::WorkingHours
                | Entity::DateOverride
                | Entity::TimeOff
                | Entity::Client
                | Entity::Pet
        ) {
            return Err(ValidationError::Other(format!(
                "{entity} records cannot be deleted; edit them instead"
            ))
            .into());
        }
        self.require(match entity {
            Entity::Client | Entity::Pet => Permission::ManageClients,
            _ => Permission::ManageSchedule,
        })?;
        let mut tx = self.store.write().await?;
        match entity {
            Entity::Client => {
                self.seen_client(tx.as_mut(), ClientId(id)).await?;
            }
            Entity::Pet => {
                self.seen_pet(tx.as_mut(), PetId(id)).await?;
            }
            _ => {}
        }
        let before = snapshot(tx.as_mut(), entity, id).await?;
        let v = tx.delete(entity, id, expected_version, self.now()).await?;
        self.audit(
            tx.as_mut(),
            &format!("{entity}.delete"),
            entity.as_str(),
            Some(id),
            before,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(v)
    }
}

/// A deletable record as it is now, for the audit log (`None` when it is not there:
/// the delete itself then says so).
async fn snapshot(tx: &mut dyn Tx, entity: Entity, id: Uuid) -> Result<Option<serde_json::Value>> {
    Ok(match entity {
        Entity::Client => tx.client(ClientId(id)).await?.as_ref().and_then(snap),
        Entity::Pet => tx.pet(PetId(id)).await?.as_ref().and_then(snap),
        Entity::WorkingHours => tx
            .working_hours(None, None)
            .await?
            .iter()
            .find(|w| w.id.0 == id)
            .and_then(snap),
        Entity::TimeOff => tx
            .time_off(None, None)
            .await?
            .iter()
            .find(|t| t.id.0 == id)
            .and_then(snap),
        Entity::DateOverride => {
            // Every date either engine keeps as text or `date` alike.
            let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default();
            let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default();
            tx.date_overrides(None, None, first, last)
                .await?
                .iter()
                .find(|o| o.id.0 == id)
                .and_then(snap)
        }
        _ => None,
    })
}

/// The period time off covers, its local times read in the clinic's zone
/// (the one named, else the vet's first clinic's).
async fn time_off_period(tx: &mut dyn Tx, input: &TimeOffInput) -> Result<Interval> {
    let vet = require_vet(tx, input.vet_id).await?;
    let tz = match input.clinic_id.or_else(|| vet.clinics.first().copied()) {
        Some(c) => require_clinic(tx, c).await?.time_zone,
        None => chrono_tz::UTC,
    };
    Ok(Interval::new(
        input.start.resolve(tz),
        input.end.resolve(tz),
    )?)
}

async fn find_time_off(tx: &mut dyn Tx, id: TimeOffId) -> Result<TimeOff> {
    tx.time_off(None, None)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| AppError::not_found(Entity::TimeOff, id))
}
