//! Records read inside one write transaction, kept for the rest of it.
//!
//! A single booking starts with an empty [`Reads`] and reads each record once,
//! as it always did. A batch of bookings (`App::book_batch`, what `vetdesk
//! import` runs) keeps one across the lines of its transaction: the lines name
//! the same few clinics, vets, types and pets again and again, and their
//! working hours, time off and notification settings do not change while the
//! transaction runs (SQLite holds the only write lock; on PostgreSQL a change
//! committed meanwhile by someone else is seen by the next batch, as it would
//! be by a booking made a moment later). Appointments are never kept: every
//! line's conflict check reads them afresh, so it sees the lines booked before
//! it in the same transaction.

use crate::records::require_vet_at;
use crate::scheduling::load_type;
use crate::{AppError, Result};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::hash::Hash;
use vetdesk_core::*;
use vetdesk_store::{Entity, Tx};

/// What a transaction has read so far (see the module's documentation).
#[derive(Default)]
pub(crate) struct Reads {
    vets_at: HashMap<(VetId, ClinicId), (Vet, Clinic)>,
    pets: HashMap<PetId, Pet>,
    clients: HashMap<ClientId, Client>,
    types: HashMap<AppointmentTypeId, AppointmentType>,
    hours: HashMap<(Option<VetId>, ClinicId), Vec<WorkingHours>>,
    overrides: HashMap<(Option<VetId>, ClinicId, NaiveDate, NaiveDate), Vec<DateOverride>>,
    time_off: HashMap<(Option<VetId>, Interval), Vec<TimeOff>>,
    settings: HashMap<ClinicId, NotificationSettings>,
}

/// The value kept under `key`, or what `read` finds (kept only when found).
async fn kept<K: Eq + Hash, T: Clone>(
    map: &mut HashMap<K, T>,
    key: K,
    read: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    if let Some(v) = map.get(&key) {
        return Ok(v.clone());
    }
    let v = read.await?;
    map.insert(key, v.clone());
    Ok(v)
}

impl Reads {
    /// A vet and the clinic they must work at (see `records::require_vet_at`).
    pub(crate) async fn vet_at(
        &mut self,
        tx: &mut dyn Tx,
        vet: VetId,
        clinic: ClinicId,
    ) -> Result<(Vet, Clinic)> {
        kept(
            &mut self.vets_at,
            (vet, clinic),
            require_vet_at(tx, vet, clinic),
        )
        .await
    }

    pub(crate) async fn pet(&mut self, tx: &mut dyn Tx, id: PetId) -> Result<Pet> {
        kept(&mut self.pets, id, async {
            tx.pet(id)
                .await?
                .ok_or_else(|| AppError::not_found(Entity::Pet, id))
        })
        .await
    }

    pub(crate) async fn client(&mut self, tx: &mut dyn Tx, id: ClientId) -> Result<Client> {
        kept(&mut self.clients, id, async {
            tx.client(id)
                .await?
                .ok_or_else(|| AppError::not_found(Entity::Client, id))
        })
        .await
    }

    pub(crate) async fn appointment_type(
        &mut self,
        tx: &mut dyn Tx,
        id: AppointmentTypeId,
    ) -> Result<AppointmentType> {
        kept(&mut self.types, id, load_type(tx, id)).await
    }

    pub(crate) async fn working_hours(
        &mut self,
        tx: &mut dyn Tx,
        vet: Option<VetId>,
        clinic: ClinicId,
    ) -> Result<Vec<WorkingHours>> {
        kept(&mut self.hours, (vet, clinic), async {
            Ok::<_, AppError>(tx.working_hours(vet, Some(clinic)).await?)
        })
        .await
    }

    pub(crate) async fn date_overrides(
        &mut self,
        tx: &mut dyn Tx,
        vet: Option<VetId>,
        clinic: ClinicId,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<DateOverride>> {
        kept(&mut self.overrides, (vet, clinic, first, last), async {
            Ok::<_, AppError>(tx.date_overrides(vet, Some(clinic), first, last).await?)
        })
        .await
    }

    pub(crate) async fn time_off(
        &mut self,
        tx: &mut dyn Tx,
        vet: Option<VetId>,
        window: Interval,
    ) -> Result<Vec<TimeOff>> {
        kept(&mut self.time_off, (vet, window), async {
            Ok::<_, AppError>(tx.time_off(vet, Some(window)).await?)
        })
        .await
    }

    /// A clinic's notification settings (the defaults when it has none).
    pub(crate) async fn settings(
        &mut self,
        tx: &mut dyn Tx,
        clinic: ClinicId,
    ) -> Result<NotificationSettings> {
        kept(
            &mut self.settings,
            clinic,
            crate::notifications::settings_of(tx, clinic),
        )
        .await
    }
}
