//! Put a backup in place of the embedded database.
//!
//! The file is checked first (`PRAGMA integrity_check`, a vetdesk schema no
//! newer than this build): a refusal changes nothing. Then the database is
//! locked exclusively, which fails while any other process has it open (an
//! idle connection holds a shared lock in WAL mode); its write-ahead log is
//! folded in and the database kept in the backups folder; the backup is copied
//! to a temporary file beside the database and renamed over it, so a crash
//! leaves the old database or the new one, never a mixture.
//!
//! [`set_aside`] is the other way out of a damaged database when no backup
//! is good: the file (with its log) is moved into the backups folder, under
//! the same exclusive lock, so the next open starts an empty one.

use super::backup::{io, sync_dir, BackupFolder};
use super::check::{self, is_corrupt, Depth, FileCheck};
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub database: PathBuf,
    /// The schema version of the restored file.
    pub schema_version: i64,
    /// Where the database it replaced was kept (`None` when there was none).
    pub replaced_kept_at: Option<PathBuf>,
}

fn sidecar(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Replace `database` with the backup `from` (see the module). `now` names
/// the kept copy of the replaced database.
#[tracing::instrument(skip_all, fields(from = %from.display(), database = %database.display()))]
pub async fn restore(from: &Path, database: &Path, now: DateTime<Utc>) -> Result<Restored> {
    let FileCheck { schema_version } = check::inspect(from, Depth::Full).await?;
    let lock = if database.exists() {
        lock_exclusively(database).await?
    } else {
        None
    };
    let kept = if database.exists() {
        Some(keep_replaced(database, now)?)
    } else {
        None
    };
    let dir = match database.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (from, target) = (from.to_path_buf(), database.to_path_buf());
    tokio::task::spawn_blocking(move || -> Result<()> {
        let tmp = tempfile::Builder::new()
            .prefix(".restore.")
            .suffix(".partial")
            .tempfile_in(&dir)
            .map_err(io("cannot write in", &dir))?;
        let mut source = std::fs::File::open(&from).map_err(io("cannot read", &from))?;
        std::io::copy(&mut source, &mut tmp.as_file()).map_err(io("cannot copy", &from))?;
        if let Ok(old) = std::fs::metadata(&target) {
            // The restored file is as private as the one it replaces.
            std::fs::set_permissions(tmp.path(), old.permissions())
                .map_err(io("cannot write", tmp.path()))?;
        }
        tmp.as_file()
            .sync_all()
            .map_err(io("cannot flush", &target))?;
        // Left over, the old log would be replayed into the new file.
        for suffix in ["-wal", "-shm"] {
            let side = sidecar(&target, suffix);
            if side.exists() {
                std::fs::remove_file(&side).map_err(io("cannot delete", &side))?;
            }
        }
        tmp.persist(&target).map_err(|e| {
            StoreError::Unavailable(format!("cannot write {}: {e}", target.display()))
        })?;
        sync_dir(&dir)
    })
    .await
    .map_err(|e| StoreError::Unavailable(format!("the restore stopped: {e}")))??;
    if let Some(conn) = lock {
        let _ = conn.close().await;
    }
    tracing::info!(kept = ?kept, "database restored");
    Ok(Restored {
        database: database.to_path_buf(),
        schema_version,
        replaced_kept_at: kept,
    })
}

/// Move `database`, with its `-wal` and `-shm` if present, into the backups
/// folder as `<db>-damaged-<now>.db` (and that name's `-wal`, `-shm`), so that
/// the next open creates an empty database. Nothing is deleted or copied over:
/// the files are renamed, and a rename that fails puts back those already
/// moved. Refused (`InUse`) while another process has the database open.
#[tracing::instrument(skip_all, fields(database = %database.display()))]
pub async fn set_aside(database: &Path, now: DateTime<Utc>) -> Result<PathBuf> {
    if !database.is_file() {
        return Err(StoreError::Unavailable(format!(
            "{} is not a file",
            database.display()
        )));
    }
    let lock = lock_exclusively(database).await?;
    let moved = move_aside(database, now);
    if let Some(conn) = lock {
        let _ = conn.close().await;
    }
    let kept = moved?;
    tracing::warn!(kept = %kept.display(), "the database was set aside");
    Ok(kept)
}

fn move_aside(database: &Path, now: DateTime<Utc>) -> Result<PathBuf> {
    let folder = BackupFolder::beside(database);
    std::fs::create_dir_all(folder.dir()).map_err(io("cannot create", folder.dir()))?;
    let kept = folder.damaged_path(now);
    if kept.exists() {
        return Err(StoreError::Unavailable(format!(
            "{} exists already; try again in a second",
            kept.display()
        )));
    }
    // The log first: a log left without its database could be replayed into
    // the new, empty one.
    let moves = [
        (sidecar(database, "-wal"), sidecar(&kept, "-wal")),
        (sidecar(database, "-shm"), sidecar(&kept, "-shm")),
        (database.to_path_buf(), kept.clone()),
    ];
    let mut done: Vec<&(PathBuf, PathBuf)> = Vec::new();
    for m in &moves {
        let (from, to) = m;
        if !from.exists() {
            continue;
        }
        if let Err(e) = std::fs::rename(from, to) {
            for (back, here) in done.into_iter().rev() {
                if let Err(undo) = std::fs::rename(here, back) {
                    tracing::error!(error = %undo, file = %here.display(), "could not move a file back");
                }
            }
            return Err(io("cannot move", from)(e));
        }
        done.push(m);
    }
    sync_dir(folder.dir())?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        sync_dir(dir)?;
    }
    Ok(kept)
}

/// An exclusive lock on `database`, held until the new file is in place, with
/// its write-ahead log folded in and switched off. Refused while another
/// process has it open. `None` when the file is too damaged for SQLite to
/// lock (it is kept and replaced all the same).
async fn lock_exclusively(database: &Path) -> Result<Option<SqliteConnection>> {
    let opts = SqliteConnectOptions::new()
        .filename(database)
        .create_if_missing(false)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(Duration::ZERO);
    let in_use = || {
        StoreError::InUse(format!(
            "{} is open in another program (vetdesk serve, the desktop app or a worker); stop it and restore again",
            database.display()
        ))
    };
    let mut conn = match SqliteConnection::connect_with(&opts).await {
        Ok(c) => c,
        Err(e) if is_corrupt(&e) => {
            tracing::warn!(error = %e, "the database is too damaged to lock; replacing it anyway");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    for step in [
        "BEGIN EXCLUSIVE",
        "COMMIT",
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "PRAGMA journal_mode=DELETE",
    ] {
        match sqlx::raw_sql(step).execute(&mut conn).await {
            Ok(_) => {}
            Err(e) if is_corrupt(&e) => {
                tracing::warn!(error = %e, step, "the damaged database could not be tidied first");
                break;
            }
            Err(e) => {
                let _ = conn.close().await;
                return Err(match StoreError::from(e) {
                    StoreError::Busy => in_use(),
                    other => other,
                });
            }
        }
    }
    Ok(Some(conn))
}

/// Copy the database about to be replaced (and its log, if one is left) into
/// the backups folder, under a name pruning never touches.
fn keep_replaced(database: &Path, now: DateTime<Utc>) -> Result<PathBuf> {
    let folder = BackupFolder::beside(database);
    std::fs::create_dir_all(folder.dir()).map_err(io("cannot create", folder.dir()))?;
    let kept = folder.replaced_path(now);
    std::fs::copy(database, &kept).map_err(io("cannot keep", database))?;
    let wal = sidecar(database, "-wal");
    if wal.metadata().is_ok_and(|m| m.len() > 0) {
        let kept_wal = sidecar(&kept, "-wal");
        std::fs::copy(&wal, &kept_wal).map_err(io("cannot keep", &wal))?;
    }
    std::fs::File::open(&kept)
        .and_then(|f| f.sync_all())
        .map_err(io("cannot flush", &kept))?;
    Ok(kept)
}
