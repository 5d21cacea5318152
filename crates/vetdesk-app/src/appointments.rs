//! Booking and the appointment lifecycle. Every change runs in one write
//! transaction: read, ask the core, write the appointment, its history line and
//! the notifications it causes (`notifications.rs`), commit. Booking and rescheduling repeat the conflict check inside that
//! transaction, so two workstations can never both win a slot.

use crate::access::snap;
use crate::paging::{page_limit, window};
use crate::reads::Reads;
use crate::records::{check_version, require_clinic, require_vet_at};
use crate::scheduling::length;
use crate::views::{AppointmentDetails, LocalSlot};
use crate::{App, AppError, Result};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use vetdesk_core::notification::Event;
use vetdesk_core::*;
use vetdesk_store::{AppointmentFilter, AppointmentView, Entity, Page, StoreError, Tx, Write};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookRequest {
    pub clinic_id: ClinicId,
    pub vet_id: VetId,
    pub pet_id: PetId,
    /// The owner; taken from the pet when absent, and checked against it when present.
    pub client_id: Option<ClientId>,
    pub type_id: AppointmentTypeId,
    pub start: TimeInput,
    /// Defaults to the type's duration.
    pub duration_min: Option<i64>,
    pub reason: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RescheduleRequest {
    pub start: TimeInput,
    /// Defaults to the current length.
    pub duration_min: Option<i64>,
    /// Move to another vet of the same clinic.
    pub vet_id: Option<VetId>,
    pub note: Option<String>,
}

/// Maximum page size for appointment lists.
pub const MAX_PAGE: u32 = 500;

fn whole_minute(field: &'static str, t: chrono::DateTime<chrono::Utc>) -> Result<()> {
    if !vetdesk_core::time::is_whole_minute(t) {
        return Err(ValidationError::NotWholeMinute { field }.into());
    }
    Ok(())
}

/// The most bookings [`App::book_batch`] takes at once: one write transaction
/// each, so a batch holds SQLite's write lock for a few tens of milliseconds.
pub const MAX_BOOK_BATCH: usize = 1000;

impl App {
    /// Book an appointment: checked for every conflict inside the write transaction.
    #[tracing::instrument(skip_all, fields(clinic = %req.clinic_id, vet = %req.vet_id, actor = %self.principal.username))]
    pub async fn book(&self, req: BookRequest) -> Result<AppointmentDetails> {
        self.require(Permission::Book)?;
        let actor = self.actor();
        retrying(|| self.book_once(&req, &actor)).await
    }

    async fn book_once(&self, req: &BookRequest, actor: &Actor) -> Result<AppointmentDetails> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        let booked = self
            .book_in(tx.as_mut(), &mut Reads::default(), req, actor, now)
            .await?;
        tx.commit().await?;
        tracing::info!(appointment = %booked.view.appointment.id, "booked");
        Ok(booked)
    }

    /// Book many appointments in one write transaction, each exactly as
    /// [`App::book`] books one: checked against the store and against the
    /// bookings before it in `reqs`, with its history line, change-log lines,
    /// outbox rows and audit line. Each is written under a savepoint, so a
    /// refused one leaves nothing behind and never takes its neighbours down;
    /// the answer has one result per request, in order. The records the
    /// bookings name are read once per batch ([`Reads`]).
    ///
    /// The outer error means the batch as a whole failed and nothing of it
    /// was kept (the store stayed busy through the retries, or the commit
    /// failed). At most [`MAX_BOOK_BATCH`] requests.
    #[tracing::instrument(skip_all, fields(count = reqs.len(), actor = %self.principal.username))]
    pub async fn book_batch(
        &self,
        reqs: &[BookRequest],
    ) -> Result<Vec<Result<AppointmentDetails>>> {
        self.require(Permission::Book)?;
        if reqs.len() > MAX_BOOK_BATCH {
            return Err(ValidationError::Other(format!(
                "at most {MAX_BOOK_BATCH} bookings at once, not {}",
                reqs.len()
            ))
            .into());
        }
        let actor = self.actor();
        retrying(|| self.book_batch_once(reqs, &actor)).await
    }

    async fn book_batch_once(
        &self,
        reqs: &[BookRequest],
        actor: &Actor,
    ) -> Result<Vec<Result<AppointmentDetails>>> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        let mut reads = Reads::default();
        let mut out = Vec::with_capacity(reqs.len());
        for req in reqs {
            tx.savepoint().await?;
            let booked = self.book_in(tx.as_mut(), &mut reads, req, actor, now).await;
            match &booked {
                Ok(_) => tx.release_savepoint().await?,
                // A transient failure: the whole batch runs again.
                Err(AppError::Busy) => return Err(AppError::Busy),
                Err(_) => tx.rollback_to_savepoint().await?,
            }
            out.push(booked);
        }
        tx.commit().await?;
        let booked = out.iter().filter(|r| r.is_ok()).count();
        tracing::info!(booked, refused = out.len() - booked, "batch booked");
        Ok(out)
    }

    /// The booking rule, once for [`App::book`] and [`App::book_batch`]: the
    /// checks, the conflict check, and every write a booking makes, inside a
    /// write transaction the caller opened and commits. Records come through
    /// `reads`; appointments are always read afresh.
    async fn book_in(
        &self,
        tx: &mut dyn Tx,
        reads: &mut Reads,
        req: &BookRequest,
        actor: &Actor,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<AppointmentDetails> {
        let reason = optional_text("reason", req.reason.as_deref())?;
        let notes = optional_text("notes", req.notes.as_deref())?;
        self.require_clinic_access(req.clinic_id)?;
        let (vet, clinic) = reads.vet_at(tx, req.vet_id, req.clinic_id).await?;
        let pet = reads.pet(tx, req.pet_id).await?;
        // An owner this user does not see cannot be booked (and so seen) here.
        if !self.sees_client(tx, pet.owner).await? {
            return Err(AppError::not_found(Entity::Pet, pet.id));
        }
        let client_id = req.client_id.unwrap_or(pet.owner);
        let client = reads.client(tx, client_id).await?;
        if pet.owner != client_id {
            return Err(AppError::PetOwnerMismatch {
                pet: pet.id.to_string(),
                client: client_id.to_string(),
            });
        }
        let kind = reads.appointment_type(tx, req.type_id).await?;
        let (duration, before, after) = length(req.duration_min, Some(&kind))?;
        let start = req.start.resolve(clinic.time_zone);
        whole_minute("start", start)?;
        let slot = Interval::new(start, start + Duration::minutes(i64::from(duration)))?;
        let proposal = Proposal {
            slot,
            buffer_before_min: before,
            buffer_after_min: after,
            ignoring: None,
        };
        let conflicts = self
            .conflicts_in(tx, reads, &clinic, req.vet_id, &proposal, now)
            .await?;
        if !conflicts.is_empty() {
            return Err(AppError::Conflict {
                conflicts,
                time_zone: clinic.time_zone,
            });
        }
        let actor = actor.clone();
        let appt = Appointment {
            id: AppointmentId(uuid::Uuid::now_v7()),
            clinic_id: clinic.id,
            vet_id: req.vet_id,
            pet_id: pet.id,
            client_id,
            type_id: req.type_id,
            slot,
            buffer_before_min: before,
            buffer_after_min: after,
            status: Status::Scheduled,
            reason,
            notes,
            cancel_reason: None,
            created_by: actor.clone(),
            updated_by: actor.clone(),
            meta: Meta::new(now),
        };
        tx.save_appointment(&appt, Write::Insert)
            .await
            .map_err(|e| slot_taken(e, &proposal, clinic.time_zone))?;
        let history = HistoryEntry {
            appointment_id: appt.id,
            version: 1,
            action: "book".into(),
            from_status: None,
            to_status: Status::Scheduled,
            slot,
            note: None,
            actor,
            at: now,
        };
        tx.add_history(&history).await?;
        self.queue_notifications(tx, reads, Event::Booked, &appt, &clinic, now)
            .await?;
        self.audit(
            tx,
            "appointment.book",
            "appointment",
            Some(appt.id.0),
            None,
            snap(&appt),
        )
        .await?;
        // Everything the result holds was read or written above: no need to read it back.
        Ok(AppointmentDetails {
            local: LocalSlot::new(clinic.time_zone, slot),
            time_zone: clinic.time_zone.name().to_string(),
            view: AppointmentView {
                appointment: appt,
                pet_name: pet.name.to_string(),
                client_name: client.name.to_string(),
                vet_name: vet.name.to_string(),
                type_name: kind.name.to_string(),
                colour: kind.colour.to_string(),
            },
            history: vec![history],
        })
    }

    /// Apply a lifecycle action that does not move the appointment.
    async fn act(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
        action: Action,
        note: Option<String>,
    ) -> Result<AppointmentDetails> {
        let actor = self.actor();
        retrying(|| self.act_once(id, expected_version, action, note.clone(), &actor)).await
    }

    async fn act_once(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
        action: Action,
        note: Option<String>,
        actor: &Actor,
    ) -> Result<AppointmentDetails> {
        let note = optional_text("note", note.as_deref())?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let old = tx
            .appointment(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::Appointment, id))?;
        self.hidden_unless_at(old.clinic_id, Entity::Appointment, id)?;
        self.require_for(permission_for(action), old.vet_id)?;
        let v = check_version(Entity::Appointment, id, expected_version, &old)?;
        let to = transition(old.status, action, now, old.slot.start())?;
        let mut appt = old.clone();
        appt.status = to;
        if action == Action::Cancel {
            appt.cancel_reason = note.clone();
        }
        appt.updated_by = actor.clone();
        appt.meta = old.meta.bumped(now);
        tx.save_appointment(
            &appt,
            Write::Update {
                expected_version: v,
            },
        )
        .await?;
        tx.add_history(&HistoryEntry {
            appointment_id: id,
            version: appt.meta.version,
            action: action.as_str().into(),
            from_status: Some(old.status),
            to_status: to,
            slot: appt.slot,
            note,
            actor: actor.clone(),
            at: now,
        })
        .await?;
        let clinic = require_clinic(tx.as_mut(), appt.clinic_id).await?;
        self.queue_notifications(
            tx.as_mut(),
            &mut Reads::default(),
            Event::Stepped(action),
            &appt,
            &clinic,
            now,
        )
        .await?;
        self.audit(
            tx.as_mut(),
            &format!("appointment.{}", action.as_str()),
            "appointment",
            Some(id.0),
            snap(&old),
            snap(&appt),
        )
        .await?;
        let details = details(tx.as_mut(), id, clinic.time_zone).await?;
        tx.commit().await?;
        tracing::info!(appointment = %id, action = action.as_str(), to = to.as_str(), "appointment changed");
        Ok(details)
    }

    #[tracing::instrument(skip_all, fields(appointment = %id))]
    pub async fn confirm(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
    ) -> Result<AppointmentDetails> {
        self.act(id, expected_version, Action::Confirm, None).await
    }

    #[tracing::instrument(skip_all, fields(appointment = %id))]
    pub async fn check_in(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
    ) -> Result<AppointmentDetails> {
        self.act(id, expected_version, Action::CheckIn, None).await
    }

    #[tracing::instrument(skip_all, fields(appointment = %id))]
    pub async fn start(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
    ) -> Result<AppointmentDetails> {
        self.act(id, expected_version, Action::Start, None).await
    }

    #[tracing::instrument(skip_all, fields(appointment = %id))]
    pub async fn complete(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
        note: Option<String>,
    ) -> Result<AppointmentDetails> {
        self.act(id, expected_version, Action::Complete, note).await
    }

    #[tracing::instrument(skip_all, fields(appointment = %id))]
    pub async fn cancel(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
        reason: Option<String>,
    ) -> Result<AppointmentDetails> {
        self.act(id, expected_version, Action::Cancel, reason).await
    }

    #[tracing::instrument(skip_all, fields(appointment = %id))]
    pub async fn no_show(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
    ) -> Result<AppointmentDetails> {
        self.act(id, expected_version, Action::NoShow, None).await
    }

    /// Move an appointment (conflict-checked); it returns to `scheduled`.
    #[tracing::instrument(skip_all, fields(appointment = %id))]
    pub async fn reschedule(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
        req: RescheduleRequest,
    ) -> Result<AppointmentDetails> {
        self.require(Permission::Reschedule)?;
        let actor = self.actor();
        retrying(|| self.reschedule_once(id, expected_version, req.clone(), &actor)).await
    }

    async fn reschedule_once(
        &self,
        id: AppointmentId,
        expected_version: Option<i64>,
        req: RescheduleRequest,
        actor: &Actor,
    ) -> Result<AppointmentDetails> {
        let note = optional_text("note", req.note.as_deref())?;
        let new_duration = req.duration_min.map(appointment_minutes).transpose()?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let old = tx
            .appointment(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::Appointment, id))?;
        self.hidden_unless_at(old.clinic_id, Entity::Appointment, id)?;
        let v = check_version(Entity::Appointment, id, expected_version, &old)?;
        let to = transition(old.status, Action::Reschedule, now, old.slot.start())?;
        let vet_id = req.vet_id.unwrap_or(old.vet_id);
        let (_, clinic) = require_vet_at(tx.as_mut(), vet_id, old.clinic_id).await?;
        let duration = match new_duration {
            Some(d) => d,
            None => u32::try_from(old.slot.duration().num_minutes())
                .map_err(|e| AppError::Internal(e.to_string()))?,
        };
        let start = req.start.resolve(clinic.time_zone);
        whole_minute("start", start)?;
        let slot = Interval::new(start, start + Duration::minutes(i64::from(duration)))?;
        let proposal = Proposal {
            slot,
            buffer_before_min: old.buffer_before_min,
            buffer_after_min: old.buffer_after_min,
            ignoring: Some(id),
        };
        let conflicts = self
            .conflicts_in(
                tx.as_mut(),
                &mut Reads::default(),
                &clinic,
                vet_id,
                &proposal,
                now,
            )
            .await?;
        if !conflicts.is_empty() {
            return Err(AppError::Conflict {
                conflicts,
                time_zone: clinic.time_zone,
            });
        }
        let mut appt = old.clone();
        appt.vet_id = vet_id;
        appt.slot = slot;
        appt.status = to;
        appt.updated_by = actor.clone();
        appt.meta = old.meta.bumped(now);
        tx.save_appointment(
            &appt,
            Write::Update {
                expected_version: v,
            },
        )
        .await
        .map_err(|e| slot_taken(e, &proposal, clinic.time_zone))?;
        tx.add_history(&HistoryEntry {
            appointment_id: id,
            version: appt.meta.version,
            action: Action::Reschedule.as_str().into(),
            from_status: Some(old.status),
            to_status: to,
            slot,
            note,
            actor: actor.clone(),
            at: now,
        })
        .await?;
        let moved = Event::Rescheduled { previous: old.slot };
        self.queue_notifications(
            tx.as_mut(),
            &mut Reads::default(),
            moved,
            &appt,
            &clinic,
            now,
        )
        .await?;
        self.audit(
            tx.as_mut(),
            "appointment.reschedule",
            "appointment",
            Some(id.0),
            snap(&old),
            snap(&appt),
        )
        .await?;
        let details = details(tx.as_mut(), id, clinic.time_zone).await?;
        tx.commit().await?;
        tracing::info!(appointment = %id, "rescheduled");
        Ok(details)
    }

    /// One appointment with its history.
    #[tracing::instrument(skip_all, fields(appointment = %id))]
    pub async fn appointment(&self, id: AppointmentId) -> Result<AppointmentDetails> {
        self.require(Permission::ReadSchedule)?;
        let mut tx = self.store.read().await?;
        let a = tx
            .appointment(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::Appointment, id))?;
        self.hidden_unless_at(a.clinic_id, Entity::Appointment, id)?;
        let tz = require_clinic(tx.as_mut(), a.clinic_id).await?.time_zone;
        details(tx.as_mut(), id, tz).await
    }

    /// Search and list appointments, a page at a time.
    #[tracing::instrument(skip_all)]
    pub async fn appointments(
        &self,
        mut filter: AppointmentFilter,
    ) -> Result<Page<AppointmentView>> {
        self.require(Permission::ReadSchedule)?;
        if let Some(c) = filter.clinic {
            self.require_clinic_access(c)?;
        }
        filter.clinics = self.clinic_scope();
        filter.limit = page_limit(filter.limit, MAX_PAGE, "appointments")?;
        window(filter.from, filter.to)?;
        if let Some(text) = &filter.text {
            if text.chars().count() > 200 {
                return Err(ValidationError::TooLong {
                    field: "search text",
                    len: text.chars().count(),
                    max: 200,
                }
                .into());
            }
        }
        Ok(self.store.read().await?.appointments(&filter).await?)
    }
}

/// How many times a write use case is run again after a transient store
/// failure (busy, serialization failure, deadlock) before giving up.
const WRITE_RETRIES: u32 = 4;

/// Run a write use case, again after a short, jittered pause when the store
/// reports a transient failure. Each run is a whole new transaction.
async fn retrying<T, Fut>(mut run: impl FnMut() -> Fut) -> Result<T>
where
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        match run().await {
            Err(AppError::Busy) if attempt < WRITE_RETRIES => {
                attempt += 1;
                let base = 5u64 << attempt;
                let jitter = {
                    use std::hash::{BuildHasher, Hasher};
                    std::collections::hash_map::RandomState::new()
                        .build_hasher()
                        .finish()
                        % base
                };
                tracing::debug!(attempt, "store busy; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
            }
            other => return other,
        }
    }
}

/// The database refused the slot (PostgreSQL's exclusion constraint: another
/// workstation won the race after our own check passed): the same conflict
/// the check reports, naming the winner.
fn slot_taken(e: StoreError, p: &Proposal, tz: chrono_tz::Tz) -> AppError {
    match e {
        StoreError::Overlap { taken_by } => AppError::Conflict {
            conflicts: taken_by
                .iter()
                .map(|b| Conflict::Overlap {
                    appointment_id: b.id,
                    start: b.slot.start(),
                    end: b.slot.end(),
                    buffer_only: !b.slot.overlaps(&p.slot),
                })
                .collect(),
            time_zone: tz,
        },
        other => other.into(),
    }
}

async fn details(
    tx: &mut dyn Tx,
    id: AppointmentId,
    tz: chrono_tz::Tz,
) -> Result<AppointmentDetails> {
    let view = tx
        .appointment_view(id)
        .await?
        .ok_or_else(|| AppError::not_found(Entity::Appointment, id))?;
    let history = tx.history(id).await?;
    Ok(AppointmentDetails {
        local: LocalSlot::new(tz, view.appointment.slot),
        time_zone: tz.name().to_string(),
        view,
        history,
    })
}

/// The permission a lifecycle action needs.
fn permission_for(action: Action) -> Permission {
    match action {
        Action::Confirm => Permission::Confirm,
        Action::CheckIn => Permission::CheckIn,
        Action::Start => Permission::Start,
        Action::Complete => Permission::Complete,
        Action::Cancel => Permission::Cancel,
        Action::NoShow => Permission::NoShow,
        Action::Reschedule => Permission::Reschedule,
    }
}
