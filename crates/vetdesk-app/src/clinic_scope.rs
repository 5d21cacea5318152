//! Who sees which clinic: **the one place** the application keeps a vet or
//! front-desk user limited to some clinics (ARCHITECTURE.md, "Who sees which
//! clinic"). Every use case that reads or changes an appointment, an owner, a
//! pet or a message goes through these.
//!
//! Two answers, on purpose:
//! - **Naming a clinic** the principal does not work at (a calendar, a
//!   booking, availability, a list filtered by clinic) is refused:
//!   `forbidden` (403). Clinics are not secret; the refusal says what to ask for.
//! - **A record kept at such a clinic** (an appointment, a message, an owner
//!   not seen there, their pets) is hidden: `not_found` (404), exactly as if
//!   it did not exist, for reads and writes alike, so ids cannot be probed.
//!
//! An owner is seen at a clinic when registered with it (`home_clinic_id`) or
//! with an appointment there (any status); the SQL for that is written once,
//! in the store (`Where::and_owner_seen_at`).

use crate::{App, AppError, Change, Result};
use vetdesk_core::{Client, ClientId, ClinicId, Pet, PetId};
use vetdesk_store::{Entity, Tx};

impl App {
    /// The clinics the acting principal is limited to; `None`: every clinic.
    pub(crate) fn clinic_scope(&self) -> Option<Vec<ClinicId>> {
        self.principal.clinics.limited().map(<[ClinicId]>::to_vec)
    }

    /// Refuse a clinic the acting principal does not work at (`forbidden`).
    pub fn require_clinic_access(&self, clinic: ClinicId) -> Result<()> {
        Ok(self.principal.authorize_clinic(clinic)?)
    }

    /// Whether a committed change is one the principal may hear of (live
    /// streams): a change that names no clinic (a client, a pet, a type…)
    /// carries only its id and version; one that names a clinic, only theirs.
    pub fn sees_change(&self, change: &Change) -> bool {
        change
            .clinic_id
            .is_none_or(|c| self.principal.clinics.allows(c))
    }

    /// The clinics of `all` the principal works at (a clinic picker's list).
    pub(crate) fn clinics_seen<T>(&self, all: Vec<T>, clinic: impl Fn(&T) -> ClinicId) -> Vec<T> {
        all.into_iter()
            .filter(|t| self.principal.clinics.allows(clinic(t)))
            .collect()
    }

    /// A record kept at `clinic` is not found unless the principal works there.
    pub(crate) fn hidden_unless_at(
        &self,
        clinic: ClinicId,
        entity: Entity,
        id: impl ToString,
    ) -> Result<()> {
        if self.principal.clinics.allows(clinic) {
            Ok(())
        } else {
            Err(AppError::not_found(entity, id))
        }
    }

    /// Whether the principal sees an owner (every owner when not limited).
    pub(crate) async fn sees_client(&self, tx: &mut dyn Tx, id: ClientId) -> Result<bool> {
        match self.principal.clinics.limited() {
            None => Ok(true),
            Some(clinics) => Ok(tx.client_seen_at(id, clinics).await?),
        }
    }

    /// An owner the principal sees, or `not_found`.
    pub(crate) async fn seen_client(&self, tx: &mut dyn Tx, id: ClientId) -> Result<Client> {
        let client = tx.client(id).await?;
        match client {
            Some(c) if self.sees_client(tx, id).await? => Ok(c),
            _ => Err(AppError::not_found(Entity::Client, id)),
        }
    }

    /// A pet whose owner the principal sees, or `not_found`.
    pub(crate) async fn seen_pet(&self, tx: &mut dyn Tx, id: PetId) -> Result<Pet> {
        let pet = tx.pet(id).await?;
        match pet {
            Some(p) if self.sees_client(tx, p.owner).await? => Ok(p),
            _ => Err(AppError::not_found(Entity::Pet, id)),
        }
    }

    /// The clinic a new owner is registered with: the one asked for (a
    /// limited user only one of theirs), else, for a limited user, their home
    /// clinic (the first of their scope) or their first.
    pub(crate) fn home_clinic_for_client(
        &self,
        asked: Option<ClinicId>,
    ) -> Result<Option<ClinicId>> {
        if let Some(c) = asked {
            self.require_clinic_access(c)?;
            return Ok(Some(c));
        }
        Ok(self
            .principal
            .clinics
            .limited()
            .and_then(|cs| cs.first().copied()))
    }
}
