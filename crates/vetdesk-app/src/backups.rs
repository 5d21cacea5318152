//! Backups of the embedded database: on demand (`vetdesk backup`), once a day
//! in the background of `vetdesk serve` and the desktop app (keeping
//! [`KEEP_BACKUPS`] copies in the `backups` folder beside the database), and
//! restore (`vetdesk restore`), or setting a damaged database aside (the
//! desktop app's recovery screen). Only an administrator (the local operator is
//! one) may do any of these. A PostgreSQL database is backed up with `pg_dump`;
//! these use cases say how instead.

use crate::{App, AppError, Clock, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vetdesk_core::{Permission, Principal};
use vetdesk_store::{BackupFolder, StoreError};

pub use vetdesk_store::{Restored, KEEP_BACKUPS};

/// How often the background task looks whether today's backup is due.
pub const BACKUP_CHECK_EVERY: Duration = Duration::from_secs(60 * 60);

/// A copy written.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BackupMade {
    pub path: PathBuf,
    pub bytes: u64,
    /// Older copies deleted to keep [`KEEP_BACKUPS`].
    pub pruned: Vec<PathBuf>,
}

/// What [`App::run_due_backup`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueBackup {
    Made(BackupMade),
    /// Today's copy exists already.
    NotDue,
    /// A database server: it is backed up with its own tools.
    NotEmbedded,
}

impl App {
    /// Copy the database while it stays in use: to `to`, or else into the
    /// backups folder beside it (which then keeps the newest [`KEEP_BACKUPS`]).
    #[tracing::instrument(skip_all, fields(to = ?to))]
    pub async fn backup(&self, to: Option<&Path>) -> Result<BackupMade> {
        self.require(Permission::ManageBackups)?;
        let folder = match (to, self.store.file()) {
            (Some(path), _) => {
                self.store.backup_to(path).await?;
                return Ok(made(path, Vec::new()));
            }
            (None, Some(file)) => BackupFolder::beside(file),
            // A database server refuses whatever the destination, saying how
            // it is backed up (pg_dump).
            (None, None) if self.store.backend() != "sqlite" => {
                let refusal = self.store.backup_to(Path::new(".")).await.err();
                return Err(refusal.map_or_else(
                    || AppError::Internal("the database server took a copy unasked".into()),
                    AppError::from,
                ));
            }
            (None, None) => {
                return Err(AppError::StoreUnavailable(
                    "a database in memory has no backups folder; name a file to copy it to".into(),
                ))
            }
        };
        let path = folder.path_for(self.now());
        self.store.backup_to(&path).await?;
        let pruned = folder.prune(KEEP_BACKUPS)?;
        Ok(made(&path, pruned))
    }

    /// Take today's backup (UTC day, on this application's clock) into the
    /// backups folder unless one was taken already, and prune the oldest
    /// beyond [`KEEP_BACKUPS`]. What the background task runs every
    /// [`BACKUP_CHECK_EVERY`]; tests call it directly with a manual clock.
    #[tracing::instrument(skip_all)]
    pub async fn run_due_backup(&self) -> Result<DueBackup> {
        self.require(Permission::ManageBackups)?;
        let Some(file) = self.store.file() else {
            return Ok(DueBackup::NotEmbedded);
        };
        let folder = BackupFolder::beside(file);
        let now = self.now();
        if !folder.due(now)? {
            return Ok(DueBackup::NotDue);
        }
        let path = folder.path_for(now);
        self.store.backup_to(&path).await?;
        let pruned = folder.prune(KEEP_BACKUPS)?;
        tracing::info!(path = %path.display(), pruned = pruned.len(), "daily backup taken");
        Ok(DueBackup::Made(made(&path, pruned)))
    }
}

fn made(path: &Path, pruned: Vec<PathBuf>) -> BackupMade {
    BackupMade {
        path: path.to_path_buf(),
        bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        pruned,
    }
}

/// The daily backup, forever: look now and then every [`BACKUP_CHECK_EVERY`]
/// (a failure is logged and tried again at the next look). Runs as a
/// background task of `vetdesk serve` and the desktop app, which abort it.
pub async fn back_up_daily(app: App) {
    loop {
        match app.run_due_backup().await {
            Ok(DueBackup::Made(_) | DueBackup::NotDue) => {}
            Ok(DueBackup::NotEmbedded) => return,
            Err(e) => tracing::error!(error = %e, "the daily backup failed"),
        }
        tokio::time::sleep(BACKUP_CHECK_EVERY).await;
    }
}

/// Put the backup `from` in place of the embedded database at `database`
/// (see [`vetdesk_store::restore`]): refused, changing nothing, for a damaged
/// file, one from a newer vetdesk, or while another program has the database
/// open. Not a method of [`App`]: an open application holds the database.
#[tracing::instrument(skip_all, fields(from = %from.display(), database))]
pub async fn restore(
    principal: &Principal,
    database: &str,
    from: &Path,
    clock: &dyn Clock,
) -> Result<Restored> {
    principal.authorize(Permission::ManageBackups)?;
    let file = embedded_file(database, "restore")?;
    Ok(vetdesk_store::restore(from, file, clock.now()).await?)
}

/// Move the damaged embedded database at `database` into the backups folder
/// beside it (see [`vetdesk_store::set_aside`]), so that the next start opens
/// an empty one; returns where it is kept. Nothing is deleted. Refused while
/// another program has the database open. Not a method of [`App`], like
/// [`restore`].
#[tracing::instrument(skip_all, fields(database))]
pub async fn set_aside(
    principal: &Principal,
    database: &str,
    clock: &dyn Clock,
) -> Result<PathBuf> {
    principal.authorize(Permission::ManageBackups)?;
    let file = embedded_file(database, "setting a database aside")?;
    Ok(vetdesk_store::set_aside(file, clock.now()).await?)
}

/// The file of an embedded database URL or path; a database server or one in
/// memory is refused, saying what `what` needs.
fn embedded_file<'a>(database: &'a str, what: &str) -> Result<&'a Path> {
    let lower = database.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return Err(StoreError::Unsupported(vetdesk_store::pg_dump_advice(
            &vetdesk_store::redact_url(database),
        ))
        .into());
    }
    let file = database
        .strip_prefix("sqlite://")
        .or_else(|| database.strip_prefix("sqlite:"))
        .unwrap_or(database);
    let file = file.split('?').next().unwrap_or(file);
    if file.is_empty() || file.contains(":memory:") {
        return Err(AppError::StoreUnavailable(format!(
            "{what} needs a database file, not one in memory"
        )));
    }
    Ok(Path::new(file))
}
