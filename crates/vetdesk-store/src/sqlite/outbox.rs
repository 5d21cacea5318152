//! [`OutboxTx`] on SQLite. Claims run inside the write transaction, which
//! began with `BEGIN IMMEDIATE`: SQLite's single write lock makes "find the
//! due rows, mark them mine" one step across connections and processes.

use super::{corrupt, from_ms, meta, ms, SqliteTx};
use crate::{
    ClaimScope, Entity, Finish, OutboxFilter, OutboxRecord, OutboxTx, Page, Result, StoreError,
    StoredSettings, StoredTemplate, Write,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::str::FromStr;
use uuid::Uuid;
use vetdesk_core::*;

fn opt_ms(r: &SqliteRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    r.try_get::<Option<i64>, _>(col)?.map(from_ms).transpose()
}

fn outbox_row(r: &SqliteRow) -> Result<OutboxRecord> {
    let offset: Option<i64> = r.try_get("offset_min")?;
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
        appointment_start: from_ms(r.try_get("appointment_start")?)?,
        previous_start: opt_ms(r, "previous_start")?,
        due_at: from_ms(r.try_get("due_at")?)?,
        expires_at: from_ms(r.try_get("expires_at")?)?,
        status: MessageStatus::from_str(r.try_get("status")?).map_err(corrupt)?,
        attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).map_err(corrupt)?,
        next_attempt_at: from_ms(r.try_get("next_attempt_at")?)?,
        claimed_by: r.try_get("claimed_by")?,
        lease_until: opt_ms(r, "lease_until")?,
        last_error: r.try_get("last_error")?,
        sent_to: r.try_get("sent_to")?,
        provider_id: r.try_get("provider_id")?,
        created_at: from_ms(r.try_get("created_at")?)?,
        updated_at: from_ms(r.try_get("updated_at")?)?,
        finished_at: opt_ms(r, "finished_at")?,
    })
}

fn template_row(r: &SqliteRow) -> Result<StoredTemplate> {
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

pub(crate) fn parse_offsets(raw: &str) -> Result<Vec<u32>> {
    raw.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().map_err(corrupt))
        .collect()
}

pub(crate) fn offsets_text(s: &NotificationSettings) -> String {
    s.reminder_offsets_min
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `AND (channel IN (…) OR desktop for the scope)`.
fn push_scope(qb: &mut QueryBuilder<'_, Sqlite>, scope: &ClaimScope) {
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

fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, f: &OutboxFilter) {
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
impl OutboxTx for SqliteTx {
    #[tracing::instrument(skip_all, fields(n = messages.len()))]
    async fn add_outbox(&mut self, messages: &[OutboxRecord]) -> Result<u64> {
        let mut added = 0;
        for m in messages {
            let res = sqlx::query(
                "INSERT INTO outbox (id, idempotency_key, appointment_id, appointment_version, clinic_id, vet_id, \
                 kind, channel, offset_min, appointment_start, previous_start, due_at, expires_at, status, attempts, \
                 next_attempt_at, last_error, created_at, updated_at, finished_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT(idempotency_key) DO NOTHING",
            )
            .bind(m.id.0)
            .bind(&m.key)
            .bind(m.appointment_id.0)
            .bind(m.appointment_version)
            .bind(m.clinic_id.0)
            .bind(m.vet_id.0)
            .bind(m.kind.as_str())
            .bind(m.channel.as_str())
            .bind(m.offset_min.map(i64::from))
            .bind(ms(m.appointment_start))
            .bind(m.previous_start.map(ms))
            .bind(ms(m.due_at))
            .bind(ms(m.expires_at))
            .bind(m.status.as_str())
            .bind(i64::from(m.attempts))
            .bind(ms(m.next_attempt_at))
            .bind(&m.last_error)
            .bind(ms(m.created_at))
            .bind(ms(m.updated_at))
            .bind(m.finished_at.map(ms))
            .execute(&mut *self.tx)
            .await?;
            added += res.rows_affected();
        }
        Ok(added)
    }

    async fn pending_outbox(&mut self, appointment: AppointmentId) -> Result<Vec<OutboxRecord>> {
        sqlx::query(
            "SELECT * FROM outbox WHERE appointment_id = ? AND status = 'pending' ORDER BY due_at, id",
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
            QueryBuilder::<Sqlite>::new("UPDATE outbox SET status = 'voided', last_error = ");
        qb.push_bind(reason.to_string())
            .push(", finished_at = ")
            .push_bind(ms(at))
            .push(", updated_at = ")
            .push_bind(ms(at))
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
        let mut qb = QueryBuilder::<Sqlite>::new("UPDATE outbox SET claimed_by = ");
        qb.push_bind(worker.to_string())
            .push(", claim_token = ")
            .push_bind(token)
            .push(", lease_until = ")
            .push_bind(ms(lease_until))
            .push(", attempts = attempts + 1, updated_at = ")
            .push_bind(ms(now))
            .push(" WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ")
            .push_bind(ms(now))
            .push(" AND (lease_until IS NULL OR lease_until <= ")
            .push_bind(ms(now))
            .push(")");
        push_scope(&mut qb, scope);
        qb.push(" ORDER BY next_attempt_at, id LIMIT ")
            .push_bind(i64::from(limit))
            .push(") RETURNING *");
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
                "UPDATE outbox SET status = 'sent', sent_to = ?, provider_id = ?, last_error = NULL, \
                 finished_at = ?, updated_at = ?, claimed_by = NULL, claim_token = NULL, lease_until = NULL WHERE id = ? AND claim_token = ?"
            )
            .bind(to)
            .bind(provider_id)
            .bind(ms(at))
            .bind(ms(at)),
            Finish::Retry { at: next, error } => sqlx::query(
                "UPDATE outbox SET next_attempt_at = ?, last_error = ?, updated_at = ?, claimed_by = NULL, claim_token = NULL, lease_until = NULL \
                 WHERE id = ? AND claim_token = ? AND status = 'pending'"
            )
            .bind(ms(*next))
            .bind(error)
            .bind(ms(at)),
            Finish::Failed { error } => sqlx::query(
                "UPDATE outbox SET status = 'failed', last_error = ?, finished_at = ?, updated_at = ?, claimed_by = NULL, claim_token = NULL, lease_until = NULL \
                 WHERE id = ? AND claim_token = ? AND status = 'pending'"
            )
            .bind(error)
            .bind(ms(at))
            .bind(ms(at)),
            Finish::Skipped { reason } => sqlx::query(
                "UPDATE outbox SET status = 'skipped', last_error = ?, finished_at = ?, updated_at = ?, claimed_by = NULL, claim_token = NULL, lease_until = NULL \
                 WHERE id = ? AND claim_token = ? AND status = 'pending'"
            )
            .bind(reason)
            .bind(ms(at))
            .bind(ms(at)),
            Finish::Release { at: next, note } => sqlx::query(
                "UPDATE outbox SET next_attempt_at = ?, attempts = max(attempts - 1, 0), \
                 last_error = coalesce(?, last_error), updated_at = ?, claimed_by = NULL, claim_token = NULL, lease_until = NULL \
                 WHERE id = ? AND claim_token = ? AND status = 'pending'"
            )
            .bind(ms(*next))
            .bind(note)
            .bind(ms(at)),
        };
        let res = q.bind(id.0).bind(token).execute(&mut *self.tx).await?;
        Ok(res.rows_affected() == 1)
    }

    async fn requeue_outbox(&mut self, id: OutboxId, at: DateTime<Utc>) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL, \
             claimed_by = NULL, claim_token = NULL, lease_until = NULL, updated_at = ? \
             WHERE id = ? AND status IN ('failed', 'skipped')",
        )
        .bind(ms(at))
        .bind(ms(at))
        .bind(id.0)
        .execute(&mut *self.tx)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    async fn next_outbox_due(&mut self, scope: &ClaimScope) -> Result<Option<DateTime<Utc>>> {
        if scope.is_empty() {
            return Ok(None);
        }
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT min(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at \
             THEN lease_until ELSE next_attempt_at END) FROM outbox WHERE status = 'pending'",
        );
        push_scope(&mut qb, scope);
        let at: Option<i64> = qb.build_query_scalar().fetch_one(&mut *self.tx).await?;
        at.map(from_ms).transpose()
    }

    async fn outbox_message(&mut self, id: OutboxId) -> Result<Option<OutboxRecord>> {
        sqlx::query("SELECT * FROM outbox WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(outbox_row)
            .transpose()
    }

    async fn outbox(&mut self, f: &OutboxFilter) -> Result<Page<OutboxRecord>> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM outbox");
        push_filter(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *self.tx).await?;
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT * FROM outbox");
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(kind, channel) DO UPDATE SET subject = excluded.subject, body = excluded.body, \
             version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by \
             WHERE message_templates.version = ?",
        )
        .bind(t.template.kind.as_str())
        .bind(t.template.channel.as_str())
        .bind(&t.template.subject)
        .bind(&t.template.body)
        .bind(t.meta.version)
        .bind(ms(t.meta.created_at))
        .bind(ms(t.meta.updated_at))
        .bind(&t.updated_by)
        .bind(super::expected(how))
        .execute(&mut *self.tx)
        .await?;
        if res.rows_affected() == 1 {
            return Ok(());
        }
        let actual: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM message_templates WHERE kind = ? AND channel = ?",
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
        let res = sqlx::query("DELETE FROM message_templates WHERE kind = ? AND channel = ?")
            .bind(kind.as_str())
            .bind(channel.as_str())
            .execute(&mut *self.tx)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    async fn notification_settings(&mut self, clinic: ClinicId) -> Result<Option<StoredSettings>> {
        let Some(r) = sqlx::query("SELECT * FROM notification_settings WHERE clinic_id = ?")
            .bind(clinic.0)
            .fetch_optional(&mut *self.tx)
            .await?
        else {
            return Ok(None);
        };
        settings_row(
            clinic,
            r.try_get("reminder_offsets")?,
            r.try_get("quiet_start_min")?,
            r.try_get("quiet_end_min")?,
            r.try_get("staff_heads_up_min")?,
            meta(&r)?,
        )
        .map(Some)
    }

    async fn save_notification_settings(&mut self, s: &StoredSettings, how: Write) -> Result<()> {
        let q = s.settings.quiet_hours;
        let res = sqlx::query(
            "INSERT INTO notification_settings (clinic_id, reminder_offsets, quiet_start_min, quiet_end_min, \
             staff_heads_up_min, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(clinic_id) DO UPDATE SET reminder_offsets = excluded.reminder_offsets, \
             quiet_start_min = excluded.quiet_start_min, quiet_end_min = excluded.quiet_end_min, \
             staff_heads_up_min = excluded.staff_heads_up_min, version = excluded.version, \
             updated_at = excluded.updated_at WHERE notification_settings.version = ?",
        )
        .bind(s.clinic_id.0)
        .bind(offsets_text(&s.settings))
        .bind(q.map(|q| i64::from(q.start_min())))
        .bind(q.map(|q| i64::from(q.end_min())))
        .bind(s.settings.staff_heads_up_min.map(i64::from))
        .bind(s.meta.version)
        .bind(ms(s.meta.created_at))
        .bind(ms(s.meta.updated_at))
        .bind(super::expected(how))
        .execute(&mut *self.tx)
        .await?;
        if res.rows_affected() == 1 {
            return Ok(());
        }
        let actual: Option<i64> =
            sqlx::query_scalar("SELECT version FROM notification_settings WHERE clinic_id = ?")
                .bind(s.clinic_id.0)
                .fetch_optional(&mut *self.tx)
                .await?;
        Err(settings_refused(s, how, actual))
    }
}

pub(crate) fn settings_row(
    clinic: ClinicId,
    offsets: String,
    quiet_start: Option<i64>,
    quiet_end: Option<i64>,
    heads_up: Option<i64>,
    meta: Meta,
) -> Result<StoredSettings> {
    let minute = |v: i64| u16::try_from(v).map_err(corrupt);
    let quiet = match (quiet_start, quiet_end) {
        (Some(a), Some(b)) => Some(QuietHours::new(minute(a)?, minute(b)?).map_err(corrupt)?),
        _ => None,
    };
    let heads_up = heads_up.map(u32::try_from).transpose().map_err(corrupt)?;
    Ok(StoredSettings {
        clinic_id: clinic,
        settings: NotificationSettings::new(parse_offsets(&offsets)?, quiet, heads_up)
            .map_err(corrupt)?,
        meta,
    })
}

pub(crate) fn template_refused(t: &StoredTemplate, how: Write, actual: Option<i64>) -> StoreError {
    let id = format!("{}/{}", t.template.kind, t.template.channel);
    stale_or_missing(Entity::MessageTemplate, id, how, actual)
}

pub(crate) fn settings_refused(s: &StoredSettings, how: Write, actual: Option<i64>) -> StoreError {
    stale_or_missing(
        Entity::NotificationSettings,
        s.clinic_id.to_string(),
        how,
        actual,
    )
}

fn stale_or_missing(entity: Entity, id: String, how: Write, actual: Option<i64>) -> StoreError {
    match (how, actual) {
        (Write::Insert, Some(_)) => StoreError::Duplicate(format!("{entity} {id} already exists")),
        (Write::Update { expected_version }, Some(actual)) => StoreError::StaleVersion {
            entity,
            id,
            expected: expected_version,
            actual,
        },
        (_, None) => StoreError::NotFound { entity, id },
    }
}
