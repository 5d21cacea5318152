//! The SQLite engine: a file in WAL mode with foreign keys on and a busy
//! timeout; write transactions start with `BEGIN IMMEDIATE`, taking SQLite's
//! single write lock up front so that a conflict check made inside one still
//! holds at commit, across connections and processes.

mod backup;
mod bookings;
mod check;
mod dialect;
mod restore;

pub use backup::{BackupFile, BackupFolder, KEEP_BACKUPS, PAUSE_ENV as BACKUP_PAUSE_ENV};
pub use bookings::queries;
pub use check::{inspect, known_schema_version, Depth, FileCheck};
pub use restore::{restore, set_aside, Restored};

use crate::sql::{migration_failed, SqlTx};
use crate::{Change, Result, Store, StoreError, Tx, CHANGE_BUFFER};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::broadcast;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    /// Connections with `synchronous=NORMAL`, for [`Store::write_relaxed`].
    relaxed: SqlitePool,
    changes: broadcast::Sender<Change>,
    /// The database file (`None` in memory).
    file: Option<PathBuf>,
}

/// The file `url` (as [`SqliteStore::open`] reads it) names; `None` in memory.
pub(crate) fn database_file(url: &str) -> Option<std::path::PathBuf> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    if url.starts_with("sqlite:") {
        let opts = SqliteConnectOptions::from_str(url).ok()?;
        return Some(opts.get_filename().to_path_buf());
    }
    Some(std::path::PathBuf::from(url))
}

/// How an embedded store waits for others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How long a statement waits for another connection's (or process's)
    /// lock before giving up with [`StoreError::Busy`].
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(30),
        }
    }
}

impl SqliteStore {
    /// Open (creating if needed), check (`PRAGMA quick_check`: a damaged file
    /// is [`StoreError::CorruptDatabase`], naming the newest good backup) and
    /// migrate. Accepts `sqlite://path`, `sqlite:path`, `sqlite::memory:` or a
    /// plain path.
    pub async fn open(url: &str) -> Result<Self> {
        SqliteStore::open_with(url, SqliteOptions::default()).await
    }

    /// [`SqliteStore::open`] with other options.
    #[tracing::instrument(skip_all, fields(url = %url))]
    pub async fn open_with(url: &str, options: SqliteOptions) -> Result<Self> {
        let opts = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let memory = url.contains(":memory:");
        let file = (!memory).then(|| opts.get_filename().to_path_buf());
        let opts = opts
            .create_if_missing(true)
            .journal_mode(if memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Space a change frees inside a page is zeroed (no extra I/O), so
            // an erased owner's old values do not linger in the file.
            .pragma("secure_delete", "FAST")
            .busy_timeout(options.busy_timeout);
        let pool = SqlitePoolOptions::new()
            // An in-memory database lives in one connection.
            .max_connections(if memory { 1 } else { 8 })
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone())
            .await;
        let pool = match (pool, &file) {
            (Ok(pool), _) => pool,
            (Err(e), Some(file)) if check::is_corrupt(&e) => {
                return Err(check::corrupt(file, e.to_string()).await)
            }
            (Err(e), _) => return Err(StoreError::Unavailable(format!("{url}: {e}"))),
        };
        if let Some(file) = &file {
            if let Err(e) = check::quick_check(&pool, file).await {
                // Let go of the damaged file at once: a restore needs it to itself.
                pool.close().await;
                return Err(e);
            }
        }
        (MIGRATOR.run(&pool).await).map_err(|e| migration_failed(&MIGRATOR, e))?;
        // `write_relaxed`'s connections: in WAL mode `synchronous=NORMAL`
        // commits without an fsync (the WAL is synced at checkpoints and by
        // the next FULL commit), so a commit survives the process being killed
        // but not a power cut. Lazily opened: most processes never use it.
        let relaxed = if memory {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(2)
                .min_connections(0)
                .acquire_timeout(Duration::from_secs(60))
                .connect_lazy_with(opts.synchronous(SqliteSynchronous::Normal))
        };
        Ok(SqliteStore {
            pool,
            relaxed,
            changes: broadcast::channel(CHANGE_BUFFER).0,
            file,
        })
    }

    /// The pool, for tests and benchmarks that inspect the file directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The pool behind [`Store::write_relaxed`], for the same tests.
    pub fn relaxed_pool(&self) -> &SqlitePool {
        &self.relaxed
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
    async fn read(&self) -> Result<Box<dyn Tx>> {
        let changes = Some(self.changes.clone());
        Ok(Box::new(SqlTx::begin(&self.pool, "BEGIN", changes).await?))
    }
    async fn write(&self) -> Result<Box<dyn Tx>> {
        let changes = Some(self.changes.clone());
        Ok(Box::new(
            SqlTx::begin(&self.pool, "BEGIN IMMEDIATE", changes).await?,
        ))
    }
    async fn write_relaxed(&self) -> Result<Box<dyn Tx>> {
        let changes = Some(self.changes.clone());
        Ok(Box::new(
            SqlTx::begin(&self.relaxed, "BEGIN IMMEDIATE", changes).await?,
        ))
    }
    fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
    async fn backup_to(&self, dest: &Path) -> Result<()> {
        backup::vacuum_into(&self.pool, dest).await
    }
    async fn purge_overwritten(&self) -> Result<()> {
        // Old page images (an erased owner's values among them) live in the
        // WAL until it is checkpointed and restarted.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
    async fn close(&self) {
        self.relaxed.close().await;
        self.pool.close().await;
    }
    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}
