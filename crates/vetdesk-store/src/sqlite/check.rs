//! Is a SQLite file sound, and is it a vetdesk database this build can open?

use super::backup::BackupFolder;
use super::MIGRATOR;
use crate::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Executor, SqlitePool};
use std::path::Path;

/// How thoroughly to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// `PRAGMA quick_check`: every page readable and well formed, O(N).
    Quick,
    /// `PRAGMA integrity_check`: also every index against its table.
    Full,
}

impl Depth {
    fn pragma(self) -> &'static str {
        match self {
            Depth::Quick => "PRAGMA quick_check",
            Depth::Full => "PRAGMA integrity_check",
        }
    }
}

/// What [`inspect`] found in a sound vetdesk file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// The newest migration applied to it.
    pub schema_version: i64,
}

/// The newest migration this build knows.
pub fn known_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Run the check on a connection or pool: `Ok` when SQLite answers `ok`.
async fn run_check<'e, E: Executor<'e, Database = sqlx::Sqlite>>(
    conn: E,
    depth: Depth,
) -> Result<(), String> {
    match sqlx::query_scalar::<_, String>(depth.pragma())
        .fetch_all(conn)
        .await
    {
        Ok(lines) if lines.len() == 1 && lines[0] == "ok" => Ok(()),
        // The first few findings say enough; a badly damaged file has thousands.
        Ok(lines) => Err(lines
            .iter()
            .flat_map(|l| l.lines())
            .filter(|l| !l.starts_with("***"))
            .take(3)
            .collect::<Vec<_>>()
            .join("; ")),
        Err(e) => Err(e.to_string()),
    }
}

/// `PRAGMA quick_check` on an open database: a damaged file becomes
/// [`StoreError::CorruptDatabase`] naming the newest good backup beside it.
pub(crate) async fn quick_check(pool: &SqlitePool, file: &Path) -> Result<()> {
    match run_check(pool, Depth::Quick).await {
        Ok(()) => Ok(()),
        Err(detail) => Err(corrupt(file, detail).await),
    }
}

/// The typed error for a damaged `file`, with its newest good backup.
pub(crate) async fn corrupt(file: &Path, detail: String) -> StoreError {
    let newest_backup = BackupFolder::beside(file).newest_good().await;
    tracing::error!(file = %file.display(), %detail, "the database file is damaged");
    StoreError::CorruptDatabase {
        file: Some(file.to_path_buf()),
        detail,
        newest_backup,
    }
}

/// Whether an error from opening a file means it is not a sound database.
pub(crate) fn is_corrupt(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| crate::error::means_corrupt(&c)))
}

/// Check a file that nothing else need have open (a backup, a file to
/// restore), read-only: its pages (`depth`), and that it is a vetdesk
/// database no newer than this build ([`StoreError::SchemaTooNew`]).
#[tracing::instrument(skip_all, fields(file = %file.display()))]
pub async fn inspect(file: &Path, depth: Depth) -> Result<FileCheck> {
    if !file.is_file() {
        return Err(StoreError::Unavailable(format!(
            "{} is not a file",
            file.display()
        )));
    }
    let opts = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        // Nothing writes a backup once it is in place; nor may a check.
        .immutable(true)
        .create_if_missing(false);
    let damaged = |detail: String| StoreError::CorruptDatabase {
        file: Some(file.to_path_buf()),
        detail,
        newest_backup: None,
    };
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| damaged(e.to_string()))?;
    let checked = run_check(&mut conn, depth).await;
    let version = match checked {
        Err(detail) => Err(damaged(detail)),
        Ok(()) => sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&mut conn)
        .await
        .map_err(|_| {
            StoreError::Unsupported(format!(
                "{} is not a vetdesk database (it has no migrations table)",
                file.display()
            ))
        }),
    };
    let _ = conn.close().await;
    let found = version?.unwrap_or(0);
    let known = known_schema_version();
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    Ok(FileCheck {
        schema_version: found,
    })
}
