//! The rules every write follows: save at the version read or be refused
//! with the reason, tombstone instead of delete, and log every change.

use super::{args, Dialect, SqlTx};
use crate::{Change, ChangeOp, Entity, Result, StoreError, Write};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use vetdesk_core::{search_key, ClinicId, Meta};

/// The `WHERE` of every upsert: an insert must not find the row; an update
/// must find it live at the expected version.
pub(crate) fn expected(how: Write) -> i64 {
    match how {
        Write::Insert => -1,
        Write::Update { expected_version } => expected_version,
    }
}

/// `%text%` for LIKE, with the wildcards in `text` escaped (`ESCAPE '\'`).
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = search_key(text)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Why a write keyed by `id` found no row to write: the row exists already
/// (for an insert), is gone or tombstoned, or is at another version.
pub(crate) fn refusal(
    entity: Entity,
    id: String,
    how: Write,
    current: Option<(i64, bool)>,
) -> StoreError {
    match (current, how) {
        (Some(_), Write::Insert) => StoreError::Duplicate(format!("{entity} {id} already exists")),
        (None, _) | (Some((_, true)), _) => StoreError::NotFound { entity, id },
        (Some((actual, false)), Write::Update { expected_version }) => StoreError::StaleVersion {
            entity,
            id,
            expected: expected_version,
            actual,
        },
    }
}

impl<D: Dialect> SqlTx<D> {
    /// After an upsert that touched no row, find out why.
    pub(crate) async fn refused(&mut self, entity: Entity, id: Uuid, how: Write) -> StoreError {
        let sql = format!(
            "SELECT version, deleted_at FROM {} WHERE id = $1",
            entity.table()
        );
        let current = self
            .one(&sql, args![id], |r| {
                Ok((r.int("version")?, r.opt_instant("deleted_at")?.is_some()))
            })
            .await;
        match current {
            Err(e) => e,
            Ok(current) => refusal(entity, id.to_string(), how, current),
        }
    }

    /// Append to the change log, and keep the change to announce at commit
    /// where this store announces its own (SQLite).
    pub(crate) async fn log_change(
        &mut self,
        entity: Entity,
        id: Uuid,
        clinic_id: Option<ClinicId>,
        version: i64,
        op: ChangeOp,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let values = args![
            entity.as_str(),
            id,
            clinic_id.map(|c| c.0),
            version,
            op.as_str(),
            at
        ];
        let insert = "INSERT INTO change_log (entity, entity_id, clinic_id, version, op, at) \
                      VALUES ($1, $2, $3, $4, $5, $6)";
        if self.changes.is_none() {
            // PostgreSQL: the change_log trigger announces it; nothing to keep.
            self.exec(insert, values).await?;
            return Ok(());
        }
        let seq = self
            .one(&format!("{insert} RETURNING seq"), values, |r| r.int("seq"))
            .await?
            .ok_or_else(|| StoreError::Corrupt("the change log returned no position".into()))?;
        self.pending.push(Change {
            seq,
            entity,
            id,
            clinic_id,
            version,
            op,
            at: super::instant(at),
        });
        Ok(())
    }

    /// Check an upsert's outcome and record it in the change log.
    pub(crate) async fn saved(
        &mut self,
        rows: u64,
        entity: Entity,
        id: Uuid,
        clinic_id: Option<ClinicId>,
        m: &Meta,
        how: Write,
    ) -> Result<()> {
        if rows != 1 {
            return Err(self.refused(entity, id, how).await);
        }
        let op = match how {
            Write::Insert => ChangeOp::Insert,
            Write::Update { .. } => ChangeOp::Update,
        };
        self.log_change(entity, id, clinic_id, m.version, op, m.updated_at)
            .await
    }

    /// Tombstone a record at the version read; returns the new version.
    #[tracing::instrument(skip_all, fields(entity = %entity, id = %id))]
    pub(crate) async fn tombstone(
        &mut self,
        entity: Entity,
        id: Uuid,
        expected_version: i64,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        // RETURNING the clinic (when the kind has one), so live calendars hear of the deletion.
        let clinic_column = entity.clinic_column();
        let sql = format!(
            "UPDATE {} SET deleted_at = $1, updated_at = $1, version = version + 1 \
             WHERE id = $2 AND version = $3 AND deleted_at IS NULL RETURNING {} AS clinic",
            entity.table(),
            clinic_column.unwrap_or("id")
        );
        let deleted = self
            .one(&sql, args![at, id, expected_version], |r| r.uuid("clinic"))
            .await?;
        let Some(clinic) = deleted else {
            return Err(self
                .refused(entity, id, Write::Update { expected_version })
                .await);
        };
        let clinic = clinic_column.map(|_| ClinicId(clinic));
        let version = expected_version + 1;
        self.log_change(entity, id, clinic, version, ChangeOp::Delete, at)
            .await?;
        Ok(version)
    }
}

/// The savepoint a batch of use cases opens around each one (see [`crate::Tx::savepoint`]).
const SAVEPOINT: &str = "SAVEPOINT vetdesk_batch_item";
const RELEASE: &str = "RELEASE SAVEPOINT vetdesk_batch_item";
const ROLLBACK_TO: &str = "ROLLBACK TO SAVEPOINT vetdesk_batch_item";

impl<D: Dialect> SqlTx<D> {
    /// Open the savepoint: what is written from here on can be undone alone.
    pub(crate) async fn savepoint(&mut self) -> Result<()> {
        if self.savepoint.is_some() {
            return Err(StoreError::Unsupported(
                "savepoints do not nest: one is open already".into(),
            ));
        }
        self.exec(SAVEPOINT, args![]).await?;
        self.savepoint = Some(self.pending.len());
        Ok(())
    }

    /// Keep what was written since the savepoint, and close it.
    pub(crate) async fn release_savepoint(&mut self) -> Result<()> {
        self.savepoint
            .take()
            .ok_or_else(|| StoreError::Unsupported("no savepoint is open".into()))?;
        self.exec(RELEASE, args![]).await.map(drop)
    }

    /// Undo what was written since the savepoint (rows, change-log lines and
    /// the changes to announce at commit), and close it.
    pub(crate) async fn rollback_to_savepoint(&mut self) -> Result<()> {
        let kept = self
            .savepoint
            .take()
            .ok_or_else(|| StoreError::Unsupported("no savepoint is open".into()))?;
        self.exec(ROLLBACK_TO, args![]).await?;
        self.exec(RELEASE, args![]).await?;
        self.pending.truncate(kept);
        Ok(())
    }
}
