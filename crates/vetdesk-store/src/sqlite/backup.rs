//! Copies of the embedded database, and the folder of daily copies beside it.
//!
//! A copy is written with `VACUUM INTO` (a consistent snapshot, taken while
//! others keep reading and writing) to a hidden temporary file in the target
//! folder, flushed to disk, and only then renamed to its final name. A rename
//! within one folder is atomic, so a process killed at any moment leaves
//! either the previous file or the complete new one under that name, never a
//! half-written one (at worst a stray `.….partial` file beside it, which the
//! next scheduled backup clears away).

use super::check::{self, Depth};
use crate::{Result, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::SqlitePool;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How many scheduled copies the backups folder keeps.
pub const KEEP_BACKUPS: usize = 14;

/// **Test only.** Milliseconds to wait with the copy written to its temporary
/// file but not yet renamed into place, so a test can kill the process
/// mid-backup at a known moment (`tests/backup.rs`).
pub const PAUSE_ENV: &str = "VETDESK_TEST_BACKUP_PAUSE_MS";

/// The timestamp in a backup's name: sorting names sorts them by time.
const STAMP: &str = "%Y%m%dT%H%M%SZ";
const PARTIAL: &str = ".partial";
/// A stray temporary file older than this belongs to no running backup.
const STALE_PARTIAL: Duration = Duration::from_secs(60 * 60);

/// A file-system failure on `path`, as the store reports it.
pub(crate) fn io<'p>(
    what: &'static str,
    path: &'p Path,
) -> impl FnOnce(std::io::Error) -> StoreError + 'p {
    move |e| StoreError::Unavailable(format!("{what} {}: {e}", path.display()))
}

/// Copy the database behind `pool` to `dest`, atomically (see the module).
#[tracing::instrument(skip_all, fields(dest = %dest.display()))]
pub(crate) async fn vacuum_into(pool: &SqlitePool, dest: &Path) -> Result<()> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| StoreError::Unsupported(format!("{} names no file", dest.display())))?;
    std::fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(PARTIAL)
        .tempfile_in(&dir)
        .map_err(io("cannot write in", &dir))?;
    let tmp_name = tmp.path().to_str().ok_or_else(|| {
        StoreError::Unsupported(format!("{} is not a UTF-8 path", tmp.path().display()))
    })?;
    sqlx::query("VACUUM INTO $1")
        .bind(tmp_name)
        .execute(pool)
        .await?;
    if let Some(ms) = std::env::var(PAUSE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        tracing::warn!(ms, "{PAUSE_ENV}: pausing before the backup is put in place");
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let dest = dest.to_path_buf();
    tokio::task::spawn_blocking(move || {
        // VACUUM INTO does not flush its output; the rename must not overtake the data.
        tmp.as_file()
            .sync_all()
            .map_err(io("cannot flush", &dest))?;
        tmp.persist(&dest).map_err(|e| {
            StoreError::Unavailable(format!("cannot write {}: {e}", dest.display()))
        })?;
        sync_dir(&dir)
    })
    .await
    .map_err(|e| StoreError::Unavailable(format!("the backup stopped: {e}")))?
}

/// Make a rename in `dir` durable (a no-op where folders cannot be opened).
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("cannot flush", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// One scheduled copy in a [`BackupFolder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    pub taken_at: DateTime<Utc>,
    pub path: PathBuf,
}

/// The `backups` folder beside a database file, holding copies named
/// `<database name>-<UTC time>.db` (`vetdesk-20261201T030000Z.db`).
#[derive(Debug, Clone)]
pub struct BackupFolder {
    dir: PathBuf,
    stem: String,
}

impl BackupFolder {
    /// The folder of `database`'s copies: `backups/` beside it.
    pub fn beside(database: &Path) -> BackupFolder {
        let dir = match database.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.join("backups"),
            _ => PathBuf::from("backups"),
        };
        let stem = database
            .file_stem()
            .map_or("vetdesk".into(), |s| s.to_string_lossy().into_owned());
        BackupFolder { dir, stem }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a copy taken at `at` goes.
    pub fn path_for(&self, at: DateTime<Utc>) -> PathBuf {
        self.dir
            .join(format!("{}-{}.db", self.stem, at.format(STAMP)))
    }

    /// Where the database a restore replaces is kept (never pruned).
    pub fn replaced_path(&self, at: DateTime<Utc>) -> PathBuf {
        self.dir
            .join(format!("{}-replaced-{}.db", self.stem, at.format(STAMP)))
    }

    /// Where a damaged database set aside to start an empty one is kept
    /// (never pruned, never listed as a copy to restore).
    pub fn damaged_path(&self, at: DateTime<Utc>) -> PathBuf {
        self.dir
            .join(format!("{}-damaged-{}.db", self.stem, at.format(STAMP)))
    }

    /// The scheduled copies, oldest first (none when the folder does not exist).
    pub fn list(&self) -> Result<Vec<BackupFile>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("cannot read", &self.dir)(e)),
        };
        let prefix = format!("{}-", self.stem);
        let mut files: Vec<BackupFile> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let stamp = name.strip_prefix(&prefix)?.strip_suffix(".db")?;
                let taken_at = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
                Some(BackupFile {
                    taken_at,
                    path: e.path(),
                })
            })
            .collect();
        files.sort_by_key(|f| f.taken_at);
        Ok(files)
    }

    /// Whether no copy was taken yet on `now`'s day (UTC): one a day.
    pub fn due(&self, now: DateTime<Utc>) -> Result<bool> {
        Ok(self
            .list()?
            .last()
            .is_none_or(|newest| newest.taken_at.date_naive() < now.date_naive()))
    }

    /// Delete the oldest copies beyond `keep`, and temporary files that a
    /// killed backup left (older than an hour, so none still being written).
    /// Returns the copies deleted.
    pub fn prune(&self, keep: usize) -> Result<Vec<PathBuf>> {
        let files = self.list()?;
        let excess = files.len().saturating_sub(keep);
        let mut pruned = Vec::new();
        for f in files.into_iter().take(excess) {
            std::fs::remove_file(&f.path).map_err(io("cannot delete", &f.path))?;
            pruned.push(f.path);
        }
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.filter_map(|e| e.ok()) {
                let stray = e.file_name().to_string_lossy().ends_with(PARTIAL);
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE_PARTIAL);
                if stray && old {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(pruned)
    }

    /// The newest copy that passes `PRAGMA quick_check` and that this build
    /// can open, if any.
    pub async fn newest_good(&self) -> Option<PathBuf> {
        for f in self.list().ok()?.into_iter().rev() {
            match check::inspect(&f.path, Depth::Quick).await {
                Ok(_) => return Some(f.path),
                Err(e) => {
                    tracing::warn!(backup = %f.path.display(), error = %e, "skipping a backup")
                }
            }
        }
        None
    }
}
