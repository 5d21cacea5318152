//! Appointments on PostgreSQL: writers run side by side, and the exclusion
//! constraint `appointments_no_overlap` refuses a double booking whatever
//! their number; a refusal names the appointments in the way.

use crate::sql::appointments::appointment_columns;
use crate::sql::records::{insert_sql, upsert_sql, with_meta};
use crate::sql::{args, rows, Cols, Engine, Range, SqlTx};
use crate::{Entity, Result, StoreError, Write, MAX_BLOCK};
use async_trait::async_trait;
use sqlx::Postgres;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;
use vetdesk_core::{Appointment, AppointmentId, Booking, Interval, VetId};

/// How often a save writes before giving up on a deadlock (or on a refusal
/// whose cause vanished before it could be named).
const SAVE_ATTEMPTS: u32 = 3;
/// The advisory-lock space of the per-vet turn updates of appointments take
/// (`pg_advisory_xact_lock(VET_LOCKS, hashtext(vet_id))`); "vetd" in ASCII.
const VET_LOCKS: i64 = 0x7665_7464;

/// The vets' (`$1` lists them) time-holding appointments whose blocked time
/// overlaps `[$4, $3)`; `$2` is `$4 - MAX_BLOCK`, bounding the scan of
/// `appointments_vet_blocked` from below. Public so tests can check its plan.
pub const BOOKINGS_QUERY: &str =
    "SELECT vet_id, id, start_at, end_at, blocked_start, blocked_end FROM appointments \
     WHERE vet_id = ANY($1) AND holds_time AND deleted_at IS NULL \
     AND blocked_start >= $2 AND blocked_start < $3 AND blocked_end > $4 \
     ORDER BY vet_id, blocked_start, blocked_end, start_at, end_at, id";

/// [`BOOKINGS_QUERY`] without the names, leaving out appointment `$5` (when not null).
pub const BUSY_QUERY: &str = "SELECT vet_id, blocked_start, blocked_end FROM appointments \
     WHERE vet_id = ANY($1) AND holds_time AND deleted_at IS NULL \
     AND blocked_start >= $2 AND blocked_start < $3 AND blocked_end > $4 \
     AND ($5::uuid IS NULL OR id <> $5) \
     ORDER BY vet_id, blocked_start, blocked_end";

/// Rows of several vets, regrouped in the order the caller listed the vets
/// (each vet's rows keep the order the query gave them).
fn in_vet_order<T: Clone>(vets: &[VetId], rows: Vec<(VetId, T)>) -> Vec<(VetId, T)> {
    let total = rows.len();
    let mut by_vet: HashMap<VetId, Vec<T>> = HashMap::new();
    for (vet, item) in rows {
        by_vet.entry(vet).or_default().push(item);
    }
    let mut out = Vec::with_capacity(total);
    for vet in vets {
        if let Some(items) = by_vet.get(vet) {
            out.extend(items.iter().cloned().map(|item| (*vet, item)));
        }
    }
    out
}

fn is_exclusion_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01"))
}

fn is_deadlock(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("40P01"))
}

/// 10–49 ms times the attempt and spread by the appointment's id (its
/// random bits), so two sessions that deadlocked do not collide again in step.
fn deadlock_pause(id: AppointmentId, attempt: u32) -> Duration {
    let spread = (id.0.as_u128() % 40) as u64;
    Duration::from_millis((10 + spread) * u64::from(attempt))
}

/// Run one statement with the dialect's binding, keeping sqlx's own error:
/// which SQLSTATE it carries decides what happens next.
async fn attempt(
    tx: &mut SqlTx<Postgres>,
    sql: &str,
    values: Vec<crate::sql::Value>,
) -> std::result::Result<u64, sqlx::Error> {
    Ok(super::dialect::bind(sqlx::query(sql), values)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected())
}

/// A new appointment. `ON CONFLICT DO NOTHING` makes PostgreSQL check the
/// exclusion constraint before it inserts (speculative insertion), so two
/// sessions booking overlapping times cannot deadlock on each other: one
/// row goes in, the other statement inserts nothing. An update is the upsert
/// every record is saved with (the exclusion constraint cannot arbitrate
/// `DO UPDATE`: an overlap is SQLSTATE 23P01). Returns the rows written.
async fn write(
    tx: &mut SqlTx<Postgres>,
    a: &Appointment,
    how: Write,
) -> std::result::Result<u64, sqlx::Error> {
    let (cols, values) = appointment_columns(a);
    match how {
        Write::Insert => {
            let sql = format!(
                "{} ON CONFLICT DO NOTHING",
                insert_sql("appointments", &cols)
            );
            attempt(tx, &sql, with_meta(values, &a.meta, None)).await
        }
        Write::Update { .. } => {
            let sql = upsert_sql("appointments", &cols);
            attempt(tx, &sql, with_meta(values, &a.meta, Some(how))).await
        }
    }
}

/// Whether a row with this id exists, live or tombstoned.
async fn exists(tx: &mut SqlTx<Postgres>, entity: Entity, id: Uuid) -> Result<bool> {
    let sql = format!("SELECT 1 AS one FROM {} WHERE id = $1", entity.table());
    Ok(tx.one(&sql, args![id], |_| Ok(())).await?.is_some())
}

async fn savepoint(tx: &mut SqlTx<Postgres>, statement: &str) -> Result<()> {
    tx.exec(statement, args![]).await.map(drop)
}

async fn undo_save(tx: &mut SqlTx<Postgres>) -> Result<()> {
    savepoint(tx, "ROLLBACK TO SAVEPOINT vetdesk_save_appointment").await?;
    savepoint(tx, "RELEASE SAVEPOINT vetdesk_save_appointment").await
}

/// The live, time-holding appointments of `vet` other than `except` whose
/// blocked time overlaps `blocked`: what the exclusion constraint ran into.
async fn taken_by(
    tx: &mut SqlTx<Postgres>,
    vet: VetId,
    blocked: Interval,
    except: AppointmentId,
) -> Result<Vec<Booking>> {
    // The constraint's own expression and predicate, so its gist index serves the query.
    tx.all(
        "SELECT id, start_at, end_at, blocked_start, blocked_end FROM appointments \
         WHERE vet_id = $1 AND holds_time AND deleted_at IS NULL \
         AND tstzrange(blocked_start, blocked_end, '[)') && tstzrange($2, $3, '[)') \
         AND id <> $4 ORDER BY blocked_start, id",
        args![vet.0, blocked.start(), blocked.end(), except.0],
        |r| rows::booking(&r),
    )
    .await
}

async fn overlap(tx: &mut SqlTx<Postgres>, a: &Appointment) -> Result<StoreError> {
    let taken_by = taken_by(tx, a.vet_id, a.blocked(), a.id).await?;
    tracing::info!(taken_by = taken_by.len(), "the time is already taken");
    Ok(StoreError::Overlap { taken_by })
}

/// Rows of the vets' (in the caller's order) from one of the range queries.
async fn range<T: Clone>(
    tx: &mut SqlTx<Postgres>,
    sql: &str,
    r: &Range<'_>,
    with_ignoring: bool,
    read: fn(&Cols<'_, Postgres>) -> Result<T>,
) -> Result<Vec<(VetId, T)>> {
    if r.vets.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = r.vets.iter().map(|v| v.0).collect();
    let lo = r.window.start() - MAX_BLOCK;
    let mut q = sqlx::query(sql)
        .bind(ids)
        .bind(lo)
        .bind(r.window.end())
        .bind(r.window.start());
    if with_ignoring {
        q = q.bind(r.ignoring.map(|a| a.0));
    }
    let rows = q
        .fetch_all(&mut *tx.tx)
        .await?
        .iter()
        .map(|row| {
            let c = Cols::new(row);
            Ok((VetId(c.uuid("vet_id")?), read(&c)?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(in_vet_order(r.vets, rows))
}

#[async_trait]
impl Engine for Postgres {
    async fn save_appointment(tx: &mut SqlTx<Self>, a: &Appointment, how: Write) -> Result<()> {
        if matches!(how, Write::Update { .. }) && a.status.holds_time() {
            // Updates of one vet's appointments take turns: two updates that
            // move appointments onto each other's time would otherwise each
            // wait for the other's row (a deadlock, costing a second before
            // PostgreSQL breaks it). Inserts need no turn: see `write`.
            tx.exec(
                "SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))",
                args![VET_LOCKS, a.vet_id.0],
            )
            .await?;
        }
        let mut attempt = 1;
        loop {
            // A savepoint, so that a refused row leaves the transaction usable
            // (to find out who holds the time, or to carry on, as on SQLite).
            savepoint(tx, "SAVEPOINT vetdesk_save_appointment").await?;
            let e = match write(tx, a, how).await {
                Ok(rows) => {
                    savepoint(tx, "RELEASE SAVEPOINT vetdesk_save_appointment").await?;
                    let (entity, clinic) = (Entity::Appointment, Some(a.clinic_id));
                    if rows == 1 {
                        return tx.saved(rows, entity, a.id.0, clinic, &a.meta, how).await;
                    }
                    // Only an insert can come back empty-handed without an
                    // error: its id exists already, or its time is taken.
                    if matches!(how, Write::Update { .. }) || exists(tx, entity, a.id.0).await? {
                        return Err(tx.refused(entity, a.id.0, how).await);
                    }
                    match overlap(tx, a).await? {
                        // Nothing in the way: it went away meanwhile; try again.
                        StoreError::Overlap { taken_by }
                            if taken_by.is_empty() && attempt < SAVE_ATTEMPTS =>
                        {
                            attempt += 1;
                            continue;
                        }
                        refused => return Err(refused),
                    }
                }
                Err(e) => e,
            };
            let undone = undo_save(tx).await;
            if is_exclusion_violation(&e) {
                undone?;
                return Err(overlap(tx, a).await?);
            }
            // Two sessions writing overlapping rows at once can each find the
            // other's row in flight and wait for it; PostgreSQL breaks the
            // cycle by failing one statement. Redo just that statement, after
            // a pause long enough for the other to get past its own check.
            if is_deadlock(&e) && undone.is_ok() && attempt < SAVE_ATTEMPTS {
                tracing::debug!(attempt, "deadlocked on the exclusion check; trying again");
                tokio::time::sleep(deadlock_pause(a.id, attempt)).await;
                attempt += 1;
                continue;
            }
            // The statement's own error says more than a failed rollback would.
            return Err(e.into());
        }
    }

    async fn bookings(tx: &mut SqlTx<Self>, r: &Range<'_>) -> Result<Vec<(VetId, Booking)>> {
        range(tx, BOOKINGS_QUERY, r, false, rows::booking).await
    }

    async fn busy(tx: &mut SqlTx<Self>, r: &Range<'_>) -> Result<Vec<(VetId, Interval)>> {
        let read = |c: &Cols<'_, Postgres>| c.interval("blocked_start", "blocked_end");
        range(tx, BUSY_QUERY, r, true, read).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_in_the_order_the_vets_were_asked_for() {
        let (a, b) = (VetId(Uuid::from_u128(2)), VetId(Uuid::from_u128(1)));
        let rows = vec![(b, 1), (b, 2), (a, 3)];
        assert_eq!(
            in_vet_order(&[a, b, a], rows),
            vec![(a, 3), (b, 1), (b, 2), (a, 3)]
        );
    }
}
