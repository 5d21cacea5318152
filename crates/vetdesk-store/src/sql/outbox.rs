//! [`OutboxTx`] for both engines: the messages waiting to go out, claimed
//! with a lease, and their outcomes. Claims run inside a write transaction;
//! how they keep two workers off one message is the dialect's
//! ([`Dialect::CLAIM_LOCK`]), and so is the clock leases are kept by
//! ([`Dialect::LEASE_CLOCK`]): the statements are the same on both.

use super::page::Where;
use super::rows::corrupt;
use super::{args, Cols, Dialect, SqlTx, Value};
use crate::{
    ClaimRequest, ClaimResult, ClaimScope, Finish, OutboxFilter, OutboxRecord, OutboxTx, Page,
    Result, StoredSettings, StoredTemplate, Write,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::str::FromStr;
use uuid::Uuid;
use vetdesk_core::*;

pub(crate) fn message<D: Dialect>(r: Cols<'_, D>) -> Result<OutboxRecord> {
    Ok(OutboxRecord {
        id: OutboxId(r.uuid("id")?),
        key: r.string("idempotency_key")?,
        appointment_id: AppointmentId(r.uuid("appointment_id")?),
        appointment_version: r.int("appointment_version")?,
        clinic_id: ClinicId(r.uuid("clinic_id")?),
        vet_id: VetId(r.uuid("vet_id")?),
        kind: MessageKind::from_str(r.text("kind")?).map_err(corrupt)?,
        channel: MessageChannel::from_str(r.text("channel")?).map_err(corrupt)?,
        offset_min: r
            .opt_int("offset_min")?
            .map(u32::try_from)
            .transpose()
            .map_err(corrupt)?,
        appointment_start: r.instant("appointment_start")?,
        previous_start: r.opt_instant("previous_start")?,
        due_at: r.instant("due_at")?,
        expires_at: r.instant("expires_at")?,
        status: MessageStatus::from_str(r.text("status")?).map_err(corrupt)?,
        attempts: r.u32("attempts")?,
        next_attempt_at: r.instant("next_attempt_at")?,
        claimed_by: r.opt_string("claimed_by")?,
        lease_until: r.opt_instant("lease_until")?,
        last_error: r.opt_string("last_error")?,
        sent_to: r.opt_string("sent_to")?,
        provider_id: r.opt_string("provider_id")?,
        created_at: r.instant("created_at")?,
        updated_at: r.instant("updated_at")?,
        finished_at: r.opt_instant("finished_at")?,
    })
}

/// `AND (channel IN (…) OR desktop for the scope)`.
fn scope_where(w: &mut Where, scope: &ClaimScope) {
    let mut any = vec!["1 = 0".to_string()];
    let channels: Vec<String> = scope.channels().into_iter().map(|c| w.bind(c)).collect();
    if !channels.is_empty() {
        any.push(format!("channel IN ({})", channels.join(", ")));
    }
    match scope.desktop_vet() {
        (false, _) => {}
        (true, None) => any.push("channel = 'desktop'".into()),
        (true, Some(v)) => any.push(format!("(channel = 'desktop' AND vet_id = {})", w.bind(v))),
    }
    w.sql.push_str(&format!(" AND ({})", any.join(" OR ")));
}

fn filter_where(f: &OutboxFilter) -> Where {
    let mut w = Where::new("1 = 1");
    w.and_in("status", f.statuses.iter().map(|s| s.as_str()));
    if let Some(a) = f.appointment {
        w.and("appointment_id = {}", a.0);
    }
    if let Some(c) = f.channel {
        w.and("channel = {}", c.as_str());
    }
    if let Some(clinics) = &f.clinics {
        w.and_among("clinic_id", clinics);
    }
    w
}

/// What a claim is let go with: the lease ends, whoever held it.
const UNCLAIM: &str = "claimed_by = NULL, claim_token = NULL, lease_until = NULL";

/// The lease clock's present, as SQL: the database's own, or the bound
/// `now` placeholder (see [`Dialect::LEASE_CLOCK`]).
fn lease_now<D: Dialect>(now: &str) -> String {
    D::LEASE_CLOCK.map_or_else(|| now.to_string(), str::to_string)
}

/// `AND` the rows a claim may take: pending (the `Where`'s start), in
/// `scope`, due by the application's `now` (the placeholder it is bound
/// to), no lease or one run out by the lease clock.
fn claimable<D: Dialect>(w: &mut Where, now: &str, scope: &ClaimScope) {
    let lease_now = lease_now::<D>(now);
    w.sql.push_str(&format!(
        " AND next_attempt_at <= {now} AND (lease_until IS NULL OR lease_until <= {lease_now})"
    ));
    scope_where(w, scope);
}

#[async_trait]
impl<D: Dialect> OutboxTx for SqlTx<D> {
    #[tracing::instrument(skip_all, fields(n = messages.len()))]
    async fn add_outbox(&mut self, messages: &[OutboxRecord]) -> Result<u64> {
        let mut added = 0;
        for m in messages {
            added += self
                .exec(
                    "INSERT INTO outbox (id, idempotency_key, appointment_id, appointment_version, \
                     clinic_id, vet_id, kind, channel, offset_min, appointment_start, previous_start, \
                     due_at, expires_at, status, attempts, next_attempt_at, last_error, created_at, \
                     updated_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                     $12, $13, $14, $15, $16, $17, $18, $19, $20) \
                     ON CONFLICT (idempotency_key) DO NOTHING",
                    args![
                        m.id.0,
                        m.key.as_str(),
                        m.appointment_id.0,
                        m.appointment_version,
                        m.clinic_id.0,
                        m.vet_id.0,
                        m.kind.as_str(),
                        m.channel.as_str(),
                        m.offset_min.map(i64::from),
                        m.appointment_start,
                        m.previous_start,
                        m.due_at,
                        m.expires_at,
                        m.status.as_str(),
                        m.attempts,
                        m.next_attempt_at,
                        m.last_error.as_deref(),
                        m.created_at,
                        m.updated_at,
                        m.finished_at
                    ],
                )
                .await?;
        }
        Ok(added)
    }

    async fn pending_outbox(&mut self, appointment: AppointmentId) -> Result<Vec<OutboxRecord>> {
        let sql = "SELECT * FROM outbox WHERE appointment_id = $1 AND status = 'pending' \
                   ORDER BY due_at, id";
        self.all(sql, args![appointment.0], message).await
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
        let mut w = Where::new("status = 'pending'");
        let (reason, at) = (w.bind(reason), w.bind(at));
        w.and_in("id", ids.iter().map(|id| id.0));
        let sql = format!(
            "UPDATE outbox SET status = 'voided', last_error = {reason}, finished_at = {at}, \
             updated_at = {at}{}",
            w.sql
        );
        self.exec(&sql, w.args).await
    }

    #[tracing::instrument(skip_all, fields(worker = c.worker, limit = c.limit))]
    async fn claim_outbox(&mut self, c: &ClaimRequest<'_>) -> Result<ClaimResult> {
        if c.scope.is_empty() || c.limit == 0 {
            return Ok(ClaimResult::default());
        }
        // Poison first: a message claimed `max_attempts` times with no
        // outcome recorded since (its worker died or lost the database while
        // sending, each time) is failed here, never claimed again.
        let mut w = Where::new("status = 'pending'");
        let (now, max) = (w.bind(c.now), w.bind(c.max_attempts));
        let reason = w.bind(format!(
            "gave up: claimed {} times without an outcome being recorded (the worker \
             stopped or lost the database while sending, each time)",
            c.max_attempts
        ));
        claimable::<D>(&mut w, &now, c.scope);
        w.sql.push_str(&format!(" AND attempts >= {max}"));
        let sql = format!(
            "UPDATE outbox SET status = 'failed', last_error = {reason}, finished_at = {now}, \
             updated_at = {now}, {UNCLAIM} WHERE id IN (SELECT id FROM outbox{}{}) RETURNING id",
            w.sql,
            D::CLAIM_LOCK
        );
        let gave_up = self
            .all(&sql, w.args, |r| Ok(OutboxId(r.uuid("id")?)))
            .await?;

        let mut w = Where::new("status = 'pending'");
        let (worker, token) = (w.bind(c.worker), w.bind(c.token));
        let (now, max) = (w.bind(c.now), w.bind(c.max_attempts));
        let lease = w.bind(c.lease.num_milliseconds());
        let lease_until = D::plus_millis(&lease_now::<D>(&now), &lease);
        claimable::<D>(&mut w, &now, c.scope);
        w.sql.push_str(&format!(" AND attempts < {max}"));
        let limit = w.bind(c.limit);
        let sql = format!(
            "UPDATE outbox SET claimed_by = {worker}, claim_token = {token}, \
             lease_until = {lease_until}, attempts = attempts + 1, updated_at = {now} \
             WHERE id IN (SELECT id FROM outbox{} ORDER BY next_attempt_at, id LIMIT {limit}{}) \
             RETURNING *",
            w.sql,
            D::CLAIM_LOCK
        );
        let mut claimed = self.all(&sql, w.args, message).await?;
        claimed.sort_by_key(|r| (r.next_attempt_at, r.id));
        Ok(ClaimResult { claimed, gave_up })
    }

    async fn finish_outbox(
        &mut self,
        id: OutboxId,
        token: Uuid,
        finish: &Finish,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        // `$1` the message, `$2` the claim, `$3` now, then the outcome's own values.
        let (set, values): (&str, Vec<Value>) = match finish {
            // Sent is the truth even if a cancel voided the row while it was in flight.
            Finish::Sent { to, provider_id } => (
                "status = 'sent', sent_to = $4, provider_id = $5, last_error = NULL, finished_at = $3",
                args![to.as_str(), provider_id.as_deref()],
            ),
            Finish::Retry { at: next, error } => (
                "next_attempt_at = $4, last_error = $5",
                args![*next, error.as_str()],
            ),
            Finish::Failed { error } => (
                "status = 'failed', last_error = $4, finished_at = $3",
                args![error.as_str()],
            ),
            Finish::Skipped { reason } => (
                "status = 'skipped', last_error = $4, finished_at = $3",
                args![reason.as_str()],
            ),
            Finish::Release { at: next, note } => (
                "next_attempt_at = $4, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                 last_error = coalesce($5, last_error)",
                args![*next, note.as_deref()],
            ),
        };
        let only_pending = match finish {
            Finish::Sent { .. } => "",
            _ => " AND status = 'pending'",
        };
        let sql = format!(
            "UPDATE outbox SET {set}, updated_at = $3, {UNCLAIM} \
             WHERE id = $1 AND claim_token = $2{only_pending}"
        );
        let mut all = args![id.0, token, at];
        all.extend(values);
        Ok(self.exec(&sql, all).await? == 1)
    }

    async fn requeue_outbox(&mut self, id: OutboxId, at: DateTime<Utc>) -> Result<bool> {
        let sql = format!(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, \
             finished_at = NULL, {UNCLAIM}, updated_at = $1 \
             WHERE id = $2 AND status IN ('failed', 'skipped')"
        );
        Ok(self.exec(&sql, args![at, id.0]).await? == 1)
    }

    async fn next_outbox_due(
        &mut self,
        scope: &ClaimScope,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        if scope.is_empty() {
            return Ok(None);
        }
        let mut w = Where::new("status = 'pending'");
        // A lease's end on the application's clock: `now` plus what is left
        // of it by the lease clock (the same instant on SQLite).
        let now = w.bind(now);
        let lease_end = format!("({now} + (lease_until - {}))", lease_now::<D>(&now));
        scope_where(&mut w, scope);
        let sql = format!(
            "SELECT min(CASE WHEN lease_until IS NOT NULL AND {lease_end} > next_attempt_at \
             THEN {lease_end} ELSE next_attempt_at END) AS due FROM outbox{}",
            w.sql
        );
        Ok(self
            .one(&sql, w.args, |r| r.opt_instant("due"))
            .await?
            .flatten())
    }

    async fn outbox_message(&mut self, id: OutboxId) -> Result<Option<OutboxRecord>> {
        self.one("SELECT * FROM outbox WHERE id = $1", args![id.0], message)
            .await
    }

    async fn outbox(&mut self, f: &OutboxFilter) -> Result<Page<OutboxRecord>> {
        let (w, order) = (filter_where(f), "due_at DESC, id DESC");
        self.page("*", "outbox", w, order, f.limit, f.offset, message)
            .await
    }

    async fn outbox_counts(
        &mut self,
        within: Option<&[ClinicId]>,
    ) -> Result<Vec<(MessageStatus, u64)>> {
        let mut w = Where::new("1 = 1");
        if let Some(clinics) = within {
            w.and_among("clinic_id", clinics);
        }
        let sql = format!(
            "SELECT status, count(*) AS n FROM outbox{} GROUP BY status ORDER BY status",
            w.sql
        );
        self.all(&sql, w.args, |r| {
            Ok((
                MessageStatus::from_str(r.text("status")?).map_err(corrupt)?,
                u64::try_from(r.int("n")?).unwrap_or(0),
            ))
        })
        .await
    }

    async fn templates(&mut self) -> Result<Vec<StoredTemplate>> {
        SqlTx::templates(self).await
    }
    async fn save_template(&mut self, t: &StoredTemplate, how: Write) -> Result<i64> {
        SqlTx::save_template(self, t, how).await
    }
    async fn delete_template(
        &mut self,
        kind: MessageKind,
        channel: MessageChannel,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        SqlTx::delete_template(self, kind, channel, at).await
    }
    async fn notification_settings(&mut self, clinic: ClinicId) -> Result<Option<StoredSettings>> {
        SqlTx::notification_settings(self, clinic).await
    }
    async fn save_notification_settings(&mut self, s: &StoredSettings, how: Write) -> Result<()> {
        SqlTx::save_notification_settings(self, s, how).await
    }
}
