//! [`OutboxTx`] on PostgreSQL. A claim is one statement: the due rows are
//! picked with `FOR UPDATE SKIP LOCKED`, so workers on several workstations
//! each take different rows without waiting on one another.

use super::{corrupt, expected, meta, PgTx};
use crate::sqlite::outbox::{offsets_text, settings_refused, settings_row, template_refused};
use crate::{
    ClaimScope, Finish, OutboxFilter, OutboxRecord, OutboxTx, Page, Result, StoredSettings,
    StoredTemplate, Write,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use std::str::FromStr;
use uuid::Uuid;
use vetdesk_core::*;

fn outbox_row(r: &PgRow) -> Result<OutboxRecord> {
    let offset: Option<i32> = r.try_get("offset_min")?;
    Ok(OutboxRecord {
        id: OutboxId(r.try_get("id")?),
        key: r.try_get("idempotency_key")?,
        appointment_id: AppointmentId(r.try_get("appointment_id")?),
        appointment_version: r.try_get("appointment_version")?,
        clinic_id: ClinicId(r.try_get("clinic_id")?),
        vet_id: VetId(r.try_get("vet_id")?),
        kind: MessageKind::from_str(r.try_get("kind")?).map_err(corrupt)?,
        channel: MessageChannel::from_str(r.try_get("channel")?).map_err(corrupt)?,
        offset_min: offset.map(u32::try_from).transpose().map_err(corrupt)?,
        appointment_start: r.try_get("appointment_start")?,
        previous_start: r.try_get("previous_start")?,
        due_at: r.try_get("due_at")?,
        expires_at: r.try_get("expires_at")?,
        status: MessageStatus::from_str(r.try_get("status")?).map_err(corrupt)?,
        attempts: u32::try_from(r.try_get::<i32, _>("attempts")?).map_err(corrupt)?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        claimed_by: r.try_get("claimed_by")?,
        lease_until: r.try_get("lease_until")?,
        last_error: r.try_get("last_error")?,
        sent_to: r.try_get("sent_to")?,
        provider_id: r.try_get("provider_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

fn template_row(r: &PgRow) -> Result<StoredTemplate> {
    Ok(StoredTemplate {
        template: Template {
            kind: MessageKind::from_str(r.try_get("kind")?).map_err(corrupt)?,
            channel: MessageChannel::from_str(r.try_get("channel")?).map_err(corrupt)?,
            subject: r.try_get("subject")?,
            body: r.try_get("body")?,
        },
        updated_by: r.try_get("updated_by")?,
        meta: meta(r)?,
    })
}

/// `AND (channel IN (…) OR desktop for the scope)`.
fn push_scope(qb: &mut QueryBuilder<'_, Postgres>, scope: &ClaimScope) {
    qb.push(" AND (1 = 0");
    let channels = scope.channels();
    if !channels.is_empty() {
        qb.push(" OR channel IN (");
        let mut sep = qb.separated(", ");
        for c in channels {
            sep.push_bind(c);
        }
        qb.push(")");
    }
    match scope.desktop_vet() {
        (false, _) => {}
        (true, None) => {
            qb.push(" OR channel = 'desktop'");
        }
        (true, Some(v)) => {
            qb.push(" OR (channel = 'desktop' AND vet_id = ")
                .push_bind(v)
                .push(")");
        }
    }
    qb.push(")");
}

fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, f: &OutboxFilter) {
    qb.push(" WHERE 1 = 1");
    if !f.statuses.is_empty() {
        qb.push(" AND status IN (");
        let mut sep = qb.separated(", ");
        for s in &f.statuses {
            sep.push_bind(s.as_str());
        }
        qb.push(")");
    }
    if let Some(a) = f.appointment {
        qb.push(" AND appointment_id = ").push_bind(a.0);
    }
    if let Some(c) = f.channel {
        qb.push(" AND channel = ").push_bind(c.as_str());
    }
}

#[async_trait]
impl OutboxTx for PgTx {
    #[tracing::instrument(skip_all, fields(n = messages.len()))]
    async fn add_outbox(&mut self, messages: &[OutboxRecord]) -> Result<u64> {
        let mut added = 0;
        for m in messages {
            let res = sqlx::query(
                "INSERT INTO outbox (id, idempotency_key, appointment_id, appointment_version, clinic_id, vet_id, \
                 kind, channel, offset_min, appointment_start, previous_start, due_at, expires_at, status, attempts, \
                 next_attempt_at, last_error, created_at, updated_at, finished_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
                 ON CONFLICT (idempotency_key) DO NOTHING",
            )
            .bind(m.id.0)
            .bind(&m.key)
            .bind(m.appointment_id.0)
            .bind(m.appointment_version)
            .bind(m.clinic_id.0)
            .bind(m.vet_id.0)
            .bind(m.kind.as_str())
            .bind(m.channel.as_str())
            .bind(m.offset_min.map(|v| i32::try_from(v).unwrap_or(i32::MAX)))
            .bind(m.appointment_start)
            .bind(m.previous_start)
            .bind(m.due_at)
            .bind(m.expires_at)
            .bind(m.status.as_str())
            .bind(i32::try_from(m.attempts).unwrap_or(i32::MAX))
            .bind(m.next_attempt_at)
            .bind(&m.last_error)
            .bind(m.created_at)
            .bind(m.updated_at)
            .bind(m.finished_at)
            .execute(&mut *self.tx)
            .await?;
            added += res.rows_affected();
        }
        Ok(added)
    }

    async fn pending_outbox(&mut self, appointment: AppointmentId) -> Result<Vec<OutboxRecord>> {
        sqlx::query(
            "SELECT * FROM outbox WHERE appointment_id = $1 AND status = 'pending' ORDER BY due_at, id",
        )
        .bind(appointment.0)
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(outbox_row)
        .collect()
    }

    async fn void_outbox(
        &mut self,
        ids: &[OutboxId],
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut qb =
            QueryBuilder::<Postgres>::new("UPDATE outbox SET status = 'voided', last_error = ");
        qb.push_bind(reason.to_string())
            .push(", finished_at = ")
            .push_bind(at)
            .push(", updated_at = ")
            .push_bind(at)
            .push(" WHERE status = 'pending' AND id IN (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.0);
        }
        qb.push(")");
        Ok(qb.build().execute(&mut *self.tx).await?.rows_affected())
    }

    #[tracing::instrument(skip_all, fields(worker = worker, limit = limit))]
    async fn claim_outbox(
        &mut self,
        scope: &ClaimScope,
        worker: &str,
        token: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxRecord>> {
        if scope.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Postgres>::new("UPDATE outbox SET claimed_by = ");
        qb.push_bind(worker.to_string())
            .push(", claim_token = ")
            .push_bind(token)
            .push(", lease_until = ")
            .push_bind(lease_until)
            .push(", attempts = attempts + 1, updated_at = ")
            .push_bind(now)
            .push(" WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ")
            .push_bind(now)
            .push(" AND (lease_until IS NULL OR lease_until <= ")
            .push_bind(now)
            .push(")");
        push_scope(&mut qb, scope);
        // Rows another worker is claiming right now are passed over, not waited for.
        qb.push(" ORDER BY next_attempt_at, id LIMIT ")
            .push_bind(i64::from(limit))
            .push(" FOR UPDATE SKIP LOCKED) RETURNING *");
        let mut rows = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(outbox_row)
            .collect::<Result<Vec<_>>>()?;
        rows.sort_by_key(|r| (r.next_attempt_at, r.id));
        Ok(rows)
    }

    async fn finish_outbox(
        &mut self,
        id: OutboxId,
        token: Uuid,
        finish: &Finish,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let q = match finish {
            // Sent is the truth even if a cancel voided the row while it was in flight.
            Finish::Sent { to, provider_id } => sqlx::query(
                "UPDATE outbox SET status = 'sent', sent_to = $1, provider_id = $2, last_error = NULL, \
                 finished_at = $3, updated_at = $4, claimed_by = NULL, claim_token = NULL, lease_until = NULL WHERE id = $5 AND claim_token = $6"
            )
            .bind(to)
            .bind(provider_id)
            .bind(at)
            .bind(at),
            Finish::Retry { at: next, error } => sqlx::query(
                "UPDATE outbox SET next_attempt_at = $1, last_error = $2, updated_at = $3, claimed_by = NULL, claim_token = NULL, lease_until = NULL \
                 WHERE id = $4 AND claim_token = $5 AND status = 'pending'"
            )
            .bind(next)
            .bind(error)
            .bind(at),
            Finish::Failed { error } => sqlx::query(
                "UPDATE outbox SET status = 'failed', last_error = $1, finished_at = $2, updated_at = $3, claimed_by = NULL, claim_token = NULL, lease_until = NULL \
                 WHERE id = $4 AND claim_token = $5 AND status = 'pending'"
            )
            .bind(error)
            .bind(at)
            .bind(at),
            Finish::Skipped { reason } => sqlx::query(
                "UPDATE outbox SET status = 'skipped', last_error = $1, finished_at = $2, updated_at = $3, claimed_by = NULL, claim_token = NULL, lease_until = NULL \
                 WHERE id = $4 AND claim_token = $5 AND status = 'pending'"
            )
            .bind(reason)
            .bind(at)
            .bind(at),
            Finish::Release { at: next, note } => sqlx::query(
                "UPDATE outbox SET next_attempt_at = $1, attempts = greatest(attempts - 1, 0), \
                 last_error = coalesce($2, last_error), updated_at = $3, claimed_by = NULL, claim_token = NULL, lease_until = NULL \
                 WHERE id = $4 AND claim_token = $5 AND status = 'pending'"
            )
            .bind(next)
            .bind(note)
            .bind(at),
        };
        let res = q.bind(id.0).bind(token).execute(&mut *self.tx).await?;
        Ok(res.rows_affected() == 1)
    }

    async fn requeue_outbox(&mut self, id: OutboxId, at: DateTime<Utc>) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, finished_at = NULL, \
             claimed_by = NULL, claim_token = NULL, lease_until = NULL, updated_at = $2 \
             WHERE id = $3 AND status IN ('failed', 'skipped')",
        )
        .bind(at)
        .bind(at)
        .bind(id.0)
        .execute(&mut *self.tx)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    async fn next_outbox_due(&mut self, scope: &ClaimScope) -> Result<Option<DateTime<Utc>>> {
        if scope.is_empty() {
            return Ok(None);
        }
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT min(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at \
             THEN lease_until ELSE next_attempt_at END) FROM outbox WHERE status = 'pending'",
        );
        push_scope(&mut qb, scope);
        let at: Option<DateTime<Utc>> = qb.build_query_scalar().fetch_one(&mut *self.tx).await?;
        Ok(at)
    }

    async fn outbox_message(&mut self, id: OutboxId) -> Result<Option<OutboxRecord>> {
        sqlx::query("SELECT * FROM outbox WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(outbox_row)
            .transpose()
    }

    async fn outbox(&mut self, f: &OutboxFilter) -> Result<Page<OutboxRecord>> {
        let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM outbox");
        push_filter(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *self.tx).await?;
        let mut qb = QueryBuilder::<Postgres>::new("SELECT * FROM outbox");
        push_filter(&mut qb, f);
        qb.push(" ORDER BY due_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(f.limit))
            .push(" OFFSET ")
            .push_bind(i64::from(f.offset));
        let items = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(outbox_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
            limit: f.limit,
            offset: f.offset,
        })
    }

    async fn outbox_counts(&mut self) -> Result<Vec<(MessageStatus, u64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status")
                .fetch_all(&mut *self.tx)
                .await?;
        rows.into_iter()
            .map(|(s, n)| {
                Ok((
                    MessageStatus::from_str(&s).map_err(corrupt)?,
                    u64::try_from(n).unwrap_or(0),
                ))
            })
            .collect()
    }

    async fn templates(&mut self) -> Result<Vec<StoredTemplate>> {
        sqlx::query("SELECT * FROM message_templates ORDER BY kind, channel")
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(template_row)
            .collect()
    }

    async fn save_template(&mut self, t: &StoredTemplate, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO message_templates (kind, channel, subject, body, version, created_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT(kind, channel) DO UPDATE SET subject = excluded.subject, body = excluded.body, \
             version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by \
             WHERE message_templates.version = $9",
        )
        .bind(t.template.kind.as_str())
        .bind(t.template.channel.as_str())
        .bind(&t.template.subject)
        .bind(&t.template.body)
        .bind(t.meta.version)
        .bind(t.meta.created_at)
        .bind(t.meta.updated_at)
        .bind(&t.updated_by)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        if res.rows_affected() == 1 {
            return Ok(());
        }
        let actual: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM message_templates WHERE kind = $1 AND channel = $2",
        )
        .bind(t.template.kind.as_str())
        .bind(t.template.channel.as_str())
        .fetch_optional(&mut *self.tx)
        .await?;
        Err(template_refused(t, how, actual))
    }

    async fn delete_template(
        &mut self,
        kind: MessageKind,
        channel: MessageChannel,
    ) -> Result<bool> {
        let res = sqlx::query("DELETE FROM message_templates WHERE kind = $1 AND channel = $2")
            .bind(kind.as_str())
            .bind(channel.as_str())
            .execute(&mut *self.tx)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    async fn notification_settings(&mut self, clinic: ClinicId) -> Result<Option<StoredSettings>> {
        let Some(r) = sqlx::query("SELECT * FROM notification_settings WHERE clinic_id = $1")
            .bind(clinic.0)
            .fetch_optional(&mut *self.tx)
            .await?
        else {
            return Ok(None);
        };
        settings_row(
            clinic,
            r.try_get("reminder_offsets")?,
            r.try_get::<Option<i32>, _>("quiet_start_min")?
                .map(i64::from),
            r.try_get::<Option<i32>, _>("quiet_end_min")?.map(i64::from),
            r.try_get::<Option<i32>, _>("staff_heads_up_min")?
                .map(i64::from),
            meta(&r)?,
        )
        .map(Some)
    }

    async fn save_notification_settings(&mut self, s: &StoredSettings, how: Write) -> Result<()> {
        let q = s.settings.quiet_hours;
        let res = sqlx::query(
            "INSERT INTO notification_settings (clinic_id, reminder_offsets, quiet_start_min, quiet_end_min, \
             staff_heads_up_min, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT(clinic_id) DO UPDATE SET reminder_offsets = excluded.reminder_offsets, \
             quiet_start_min = excluded.quiet_start_min, quiet_end_min = excluded.quiet_end_min, \
             staff_heads_up_min = excluded.staff_heads_up_min, version = excluded.version, \
             updated_at = excluded.updated_at WHERE notification_settings.version = $9",
        )
        .bind(s.clinic_id.0)
        .bind(offsets_text(&s.settings))
        .bind(q.map(|q| i32::from(q.start_min())))
        .bind(q.map(|q| i32::from(q.end_min())))
        .bind(s.settings.staff_heads_up_min.map(|m| i32::try_from(m).unwrap_or(i32::MAX)))
        .bind(s.meta.version)
        .bind(s.meta.created_at)
        .bind(s.meta.updated_at)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        if res.rows_affected() == 1 {
            return Ok(());
        }
        let actual: Option<i64> =
            sqlx::query_scalar("SELECT version FROM notification_settings WHERE clinic_id = $1")
                .bind(s.clinic_id.0)
                .fetch_optional(&mut *self.tx)
                .await?;
        Err(settings_refused(s, how, actual))
    }
}
