//! Appointments on SQLite: the packed range reads of the scheduling hot path,
//! and the write, whose conflict check holds because the write transaction
//! began with `BEGIN IMMEDIATE` (one writer at a time, across processes).

use super::dialect::from_ms;
use crate::sql::appointments::appointment_columns;
use crate::sql::{Engine, Range, SqlTx};
use crate::{Entity, Result, StoreError, Write, MAX_BLOCK};
use async_trait::async_trait;
use sqlx::Sqlite;
use uuid::Uuid;
use vetdesk_core::{Appointment, AppointmentId, Booking, Interval, VetId};

/// The range queries on the scheduling hot path, public so tests can check
/// their query plans use the indexes.
///
/// They say `status NOT IN ('cancelled', 'no_show')`, the expression the
/// generated column `holds_time` is made of, rather than its name: SQLite
/// counts a reference to a generated column as reading every column, which
/// would keep `appointments_vet_blocked` from covering them (migration 0006).
pub mod queries {
    pub use crate::sql::records::TIME_OFF;

    /// A vet's (`?1`) time-holding appointments whose blocked time overlaps
    /// `[?4, ?3)`; `?2` is `?4 - MAX_BLOCK`, bounding the index range scan from below.
    ///
    /// The rows come back packed into one text value, `id start end blocked_start
    /// blocked_end` per booking, comma-separated: sqlx costs a few microseconds
    /// per row, and a busy month holds tens of thousands (BENCHMARKS.md).
    pub const BOOKINGS_OF_VET: &str =
        "SELECT group_concat(hex(id) || ' ' || start_at || ' ' || end_at || ' ' \
         || blocked_start || ' ' || blocked_end, ',') FROM appointments \
         WHERE vet_id = ?1 AND status NOT IN ('cancelled', 'no_show') AND deleted_at IS NULL \
         AND blocked_start >= ?2 AND blocked_start < ?3 AND blocked_end > ?4";

    /// The blocked time of a vet's (`?1`) time-holding appointments overlapping
    /// `[?4, ?3)`, except appointment `?5`, packed as `start end` pairs:
    /// without the ids, SQLite builds the text in about a third of the time.
    pub const BUSY_OF_VET: &str = "SELECT group_concat(blocked_start || ' ' || blocked_end, ',') FROM appointments \
         WHERE vet_id = ?1 AND status NOT IN ('cancelled', 'no_show') AND deleted_at IS NULL \
         AND blocked_start >= ?2 AND blocked_start < ?3 AND blocked_end > ?4 AND (?5 IS NULL OR id <> ?5)";
}

fn interval(start: i64, end: i64) -> Result<Interval> {
    Interval::new(from_ms(start)?, from_ms(end)?).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// One booking as packed by [`queries::BOOKINGS_OF_VET`].
fn unpack_booking(item: &str) -> Result<Booking> {
    let bad = || StoreError::Corrupt(format!("packed booking '{item}'"));
    let mut parts = item.split(' ');
    let mut next = || parts.next().ok_or_else(bad);
    let id = Uuid::try_parse(next()?).map_err(|_| bad())?;
    let mut num = || -> Result<i64> { next()?.parse::<i64>().map_err(|_| bad()) };
    let (start, end, blocked_start, blocked_end) = (num()?, num()?, num()?, num()?);
    Ok(Booking {
        id: AppointmentId(id),
        slot: interval(start, end)?,
        blocked: interval(blocked_start, blocked_end)?,
    })
}

/// One busy interval as packed by [`queries::BUSY_OF_VET`].
fn unpack_busy(item: &str) -> Result<Interval> {
    let bad = || StoreError::Corrupt(format!("packed busy time '{item}'"));
    let (a, b) = item.split_once(' ').ok_or_else(bad)?;
    interval(
        a.parse::<i64>().map_err(|_| bad())?,
        b.parse::<i64>().map_err(|_| bad())?,
    )
}

/// Each vet's packed answer to `sql`, unpacked and sorted by start.
async fn per_vet<T>(
    tx: &mut SqlTx<Sqlite>,
    sql: &str,
    r: &Range<'_>,
    with_ignoring: bool,
    unpack: fn(&str) -> Result<T>,
    start: fn(&T) -> chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(VetId, T)>> {
    let lo = r.window.start().timestamp_millis();
    let hi = r.window.end().timestamp_millis();
    let mut out = Vec::new();
    for vet in r.vets {
        // Bounded from both sides on (vet_id, blocked_start): nothing blocks longer than MAX_BLOCK.
        let mut q = sqlx::query_scalar(sql)
            .bind(vet.0)
            .bind(lo - MAX_BLOCK.num_milliseconds())
            .bind(hi)
            .bind(lo);
        if with_ignoring {
            q = q.bind(r.ignoring.map(|a| a.0));
        }
        let packed: Option<String> = q.fetch_one(&mut *tx.tx).await?;
        let first = out.len();
        for item in packed.as_deref().unwrap_or("").split(',') {
            if !item.is_empty() {
                out.push((*vet, unpack(item)?));
            }
        }
        // Index order in practice, but group_concat promises none.
        out[first..].sort_by_key(|(_, t)| start(t));
    }
    Ok(out)
}

#[async_trait]
impl Engine for Sqlite {
    /// The upsert every record is saved with: `BEGIN IMMEDIATE` made the
    /// application's conflict check, run earlier in this transaction, final.
    /// `holds_time` is the database's to derive (a generated column).
    async fn save_appointment(tx: &mut SqlTx<Self>, a: &Appointment, how: Write) -> Result<()> {
        let (cols, values) = appointment_columns(a);
        let (id, clinic) = (a.id.0, Some(a.clinic_id));
        tx.upsert(Entity::Appointment, id, clinic, &cols, values, &a.meta, how)
            .await
    }

    async fn bookings(tx: &mut SqlTx<Self>, r: &Range<'_>) -> Result<Vec<(VetId, Booking)>> {
        let sql = queries::BOOKINGS_OF_VET;
        per_vet(tx, sql, r, false, unpack_booking, |b| b.blocked.start()).await
    }

    async fn busy(tx: &mut SqlTx<Self>, r: &Range<'_>) -> Result<Vec<(VetId, Interval)>> {
        per_vet(tx, queries::BUSY_OF_VET, r, true, unpack_busy, |iv| {
            iv.start()
        })
        .await
    }
}
