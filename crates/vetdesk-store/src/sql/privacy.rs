//! [`PrivacyTx`] for both engines: an owner's rows for an export, erasing
//! them, and forgetting the recipients of old messages.

use super::outbox::message;
use super::{args, rows, Dialect, SqlTx};
use crate::privacy::{ClientRecord, Erased, ERASED_CLIENT_NAME, ERASED_PET_NAME, ERASED_REASON};
use crate::{ChangeOp, Entity, OutboxRecord, PrivacyTx, Result, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use vetdesk_core::{search_key, ClientId, ClinicId, Pet};

/// The owner's appointments, as a sub-select on `$1` (the owner's id).
const THEIR_APPOINTMENTS: &str = "SELECT id FROM appointments WHERE client_id = $1";

#[async_trait]
impl<D: Dialect> PrivacyTx for SqlTx<D> {
    async fn client_record(&mut self, id: ClientId) -> Result<Option<ClientRecord>> {
        self.one("SELECT * FROM clients WHERE id = $1", args![id.0], |r| {
            Ok(ClientRecord {
                deleted_at: r.opt_instant("deleted_at")?,
                erased_at: r.opt_instant("erased_at")?,
                client: rows::client(r)?,
            })
        })
        .await
    }

    async fn client_pets(&mut self, id: ClientId) -> Result<Vec<Pet>> {
        let sql = "SELECT * FROM pets WHERE owner_id = $1 ORDER BY created_at, id";
        self.all(sql, args![id.0], rows::pet).await
    }

    async fn client_messages(&mut self, id: ClientId) -> Result<Vec<OutboxRecord>> {
        let sql =
            format!("SELECT * FROM outbox WHERE appointment_id IN ({THEIR_APPOINTMENTS}) ORDER BY due_at, id");
        self.all(&sql, args![id.0], message).await
    }

    #[tracing::instrument(skip_all, fields(client = %id))]
    async fn erase_client(&mut self, id: ClientId, at: DateTime<Utc>) -> Result<Erased> {
        let Some(record) = self.client_record(id).await? else {
            return Err(StoreError::NotFound {
                entity: Entity::Client,
                id: id.to_string(),
            });
        };
        if record.erased_at.is_some() {
            return Ok(Erased {
                already: true,
                ..Erased::default()
            });
        }
        let mut out = Erased::default();

        // The owner: a name that is nobody's, no way to reach them, tombstoned.
        let version = self
            .one(
                "UPDATE clients SET name = $2, search_name = $3, email = NULL, phone = NULL, \
                 preferred_channel = NULL, email_opt_out = $4, sms_opt_out = $4, \
                 erased_at = $5, deleted_at = coalesce(deleted_at, $5), updated_at = $5, \
                 version = version + 1 WHERE id = $1 RETURNING version",
                args![
                    id.0,
                    ERASED_CLIENT_NAME,
                    search_key(ERASED_CLIENT_NAME),
                    true,
                    at
                ],
                |r| r.int("version"),
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("the erased owner's row vanished".into()))?;
        // Already deleted: the change log has had its delete.
        let op = match record.deleted_at {
            Some(_) => ChangeOp::Update,
            None => ChangeOp::Delete,
        };
        self.log_change(Entity::Client, id.0, None, version, op, at)
            .await?;

        // Their pets: the species stays (statistics), what names the animal goes.
        let pets = self
            .all(
                "UPDATE pets SET name = $2, search_name = $3, breed = NULL, date_of_birth = NULL, \
                 deleted_at = coalesce(deleted_at, $4), updated_at = $4, version = version + 1 \
                 WHERE owner_id = $1 RETURNING id, version",
                args![id.0, ERASED_PET_NAME, search_key(ERASED_PET_NAME), at],
                |r| Ok((r.uuid("id")?, r.int("version")?)),
            )
            .await?;
        out.pets = pets.len() as u64;
        for (pet, version) in pets {
            self.log_change(Entity::Pet, pet, None, version, ChangeOp::Delete, at)
                .await?;
        }

        // Their appointments keep their times, statuses, vets and types; free
        // text, which may name or describe the owner, goes.
        let appointments = self
            .all(
                "UPDATE appointments SET reason = NULL, notes = NULL, cancel_reason = NULL, \
                 updated_at = $2, version = version + 1 WHERE client_id = $1 \
                 RETURNING id, clinic_id, version",
                args![id.0, at],
                |r| {
                    Ok((
                        r.uuid("id")?,
                        ClinicId(r.uuid("clinic_id")?),
                        r.int("version")?,
                    ))
                },
            )
            .await?;
        out.appointments = appointments.len() as u64;
        for (appointment, clinic, version) in appointments {
            self.log_change(
                Entity::Appointment,
                appointment,
                Some(clinic),
                version,
                ChangeOp::Update,
                at,
            )
            .await?;
        }
        out.history_notes = self
            .exec(
                &format!(
                    "UPDATE appointment_history SET note = NULL \
                     WHERE note IS NOT NULL AND appointment_id IN ({THEIR_APPOINTMENTS})"
                ),
                args![id.0],
            )
            .await?;

        // Their messages: where each went, error text that may quote it, and
        // the far end's id for it (which leads to the provider's record of the
        // number) are forgotten; what is still to be sent never will be.
        out.messages_forgotten = self
            .exec(
                &format!(
                    "UPDATE outbox SET sent_to = NULL, last_error = NULL, provider_id = NULL, \
                     updated_at = $2 WHERE (sent_to IS NOT NULL OR last_error IS NOT NULL \
                     OR provider_id IS NOT NULL) \
                     AND appointment_id IN ({THEIR_APPOINTMENTS})"
                ),
                args![id.0, at],
            )
            .await?;
        out.messages_voided = self
            .exec(
                &format!(
                    "UPDATE outbox SET status = 'voided', last_error = $2, finished_at = $3, \
                     updated_at = $3, claimed_by = NULL, claim_token = NULL, lease_until = NULL \
                     WHERE status = 'pending' AND appointment_id IN ({THEIR_APPOINTMENTS})"
                ),
                args![id.0, ERASED_REASON, at],
            )
            .await?;
        Ok(out)
    }

    #[tracing::instrument(skip_all)]
    async fn forget_recipients(&mut self, before: DateTime<Utc>) -> Result<u64> {
        self.exec(
            "UPDATE outbox SET sent_to = NULL, last_error = NULL \
             WHERE status <> 'pending' AND finished_at < $1 \
             AND (sent_to IS NOT NULL OR last_error IS NOT NULL)",
            args![before],
        )
        .await
    }
}
