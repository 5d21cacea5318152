//! The PostgreSQL engine: the shared store for several workstations.
//!
//! Write transactions are plain `READ COMMITTED`: the guarantee against double
//! booking is the exclusion constraint `appointments_no_overlap`, which holds
//! however many sessions write at once (the application's own conflict check
//! still runs first, inside the transaction, so a person sees every reason).
//! Reads are `REPEATABLE READ READ ONLY`, one consistent snapshot.
//!
//! Committed changes reach every store on the database (see [`listen`]).

mod bookings;
mod dialect;
mod listen;
mod roles;
mod schema;
mod url;

pub use roles::{RoleReport, APPEND_ONLY_TABLES};
pub use url::redact_url;

use crate::sql::SqlTx;
use crate::{Change, Result, Schema, Store, StoreError, Tx, CHANGE_BUFFER};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use url::{connect_failure, default_ssl_mode, redact, server_name, tls_failure, url_secrets};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The channel the `change_log` trigger announces on (see the migration).
const CHANGES_CHANNEL: &str = "vetdesk_changes";
/// How long the first connection may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// No statement runs longer; a stuck one becomes [`StoreError::Busy`] rather than a hang.
const STATEMENT_TIMEOUT: &str = "15s";

pub struct PgStore {
    pool: PgPool,
    changes: broadcast::Sender<Change>,
    /// Forwards the server's change announcements to `changes`; aborted on close and drop.
    listener: JoinHandle<()>,
    /// `user@host:port/db`, for messages.
    server: String,
}

impl PgStore {
    /// See [`bookings::BOOKINGS_QUERY`]; public so tests can check its plan.
    pub const BOOKINGS_QUERY: &'static str = bookings::BOOKINGS_QUERY;
    /// See [`bookings::BUSY_QUERY`].
    pub const BUSY_QUERY: &'static str = bookings::BUSY_QUERY;

    /// Connect, apply the migrations, and start listening for changes:
    /// [`PgStore::connect_with`] with [`Schema::Migrate`].
    pub async fn connect(url: &str) -> Result<PgStore> {
        PgStore::connect_with(url, Schema::Migrate).await
    }

    /// Connect, bring the schema up to date or check that it is (`schema`),
    /// and start listening for changes. Without migrations to apply, nothing
    /// is done to the schema, so a runtime role (see [`RoleReport`]) can open it.
    ///
    /// An unreachable server, refused credentials or a missing database are
    /// [`StoreError::Unavailable`], with a message that names the server but
    /// never the password. TLS: unless the URL (or `PGSSLMODE`) says
    /// `sslmode`, a server on another host must offer TLS with a certificate
    /// trusted for its name (`verify-full`; `sslrootcert=` names a private
    /// CA); one that cannot is [`StoreError::Tls`].
    #[tracing::instrument(skip_all, fields(schema = ?schema))]
    pub async fn connect_with(url: &str, schema: Schema) -> Result<PgStore> {
        let secrets = url_secrets(url);
        let redact = |msg: String| redact(msg, &secrets);
        let mut opts = PgConnectOptions::from_str(url)
            .map_err(|e| {
                StoreError::Unavailable(redact(format!("not a usable PostgreSQL URL: {e}")))
            })?
            .application_name("vetdesk")
            .options([("statement_timeout", STATEMENT_TIMEOUT)]);
        let env_sslmode = std::env::var("PGSSLMODE").ok();
        if let Some(mode) = default_ssl_mode(url, &opts, env_sslmode.as_deref()) {
            opts = opts.ssl_mode(mode);
        }
        let server = server_name(&opts);

        // One connection first, outside the pool: the pool retries a refused
        // connection until its acquire timeout and then reports only that it
        // timed out, where a person needs to hear why.
        let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, opts.connect()).await {
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "PostgreSQL at {server} did not answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )))
            }
            Ok(Err(e)) => {
                if let Some(tls) = tls_failure(&e, &server, opts.get_ssl_mode()) {
                    return Err(tls);
                }
                return Err(StoreError::Unavailable(redact(format!(
                    "PostgreSQL at {server}: {}",
                    connect_failure(&e, opts.get_username())
                ))));
            }
            Ok(Ok(conn)) => conn,
        };
        // A later migration (an index on a big table) may rightly take longer than a statement.
        sqlx::query("SET statement_timeout = 0")
            .execute(&mut conn)
            .await?;
        schema::bring_up_to_date(&mut conn, &MIGRATOR, schema).await?;
        // Nothing is lost if this goodbye fails: the server drops the session anyway.
        let _ = conn.close().await;

        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Unavailable(redact(format!("PostgreSQL at {server}: {e}"))))?;
        let changes = broadcast::channel(CHANGE_BUFFER).0;
        // LISTEN before returning, so a subscriber hears every change committed after connect.
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        let listener = tokio::spawn(listen::forward_changes(listener, changes.clone()));
        tracing::info!(server = %server, "connected to PostgreSQL");
        Ok(PgStore {
            pool,
            changes,
            listener,
            server,
        })
    }

    /// Grant each of `roles` exactly what `vetdesk serve` needs on the schema,
    /// or, with none given, the roles an earlier run granted (see the `roles`
    /// module). Run as the owning role. Returns the roles granted.
    #[tracing::instrument(skip_all)]
    pub async fn grant_runtime(&self, roles: &[String]) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        roles::grant_runtime(&mut conn, roles).await
    }

    /// The newest migration the database has.
    pub async fn schema_version(&self) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        Ok(schema::applied(&mut conn)
            .await?
            .last()
            .copied()
            .unwrap_or(0))
    }

    /// The pool, for tests and benchmarks that inspect the database directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// How a PostgreSQL database is backed up and restored: with PostgreSQL's own
/// tools, which copy a live database consistently and know its roles and
/// constraints (vetdesk does not run them: their version must match the server's).
pub fn pg_dump_advice(server: &str) -> String {
    format!(
        "vetdesk backup copies the embedded SQLite database; the PostgreSQL database {server} is backed up with PostgreSQL's pg_dump, \
         which copies it while it is in use: pg_dump --format=custom --file=vetdesk-$(date +%F).dump \"$VETDESK_DATABASE_URL\" \
         (run it daily, e.g. from cron, and keep the files off the server). \
         To restore, stop every vetdesk serve first, then: pg_restore --clean --if-exists --no-owner --dbname=\"$VETDESK_DATABASE_URL\" FILE"
    )
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
    async fn backup_to(&self, _dest: &std::path::Path) -> Result<()> {
        Err(StoreError::Unsupported(pg_dump_advice(&self.server)))
    }
    async fn read(&self) -> Result<Box<dyn Tx>> {
        let read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
        Ok(Box::new(SqlTx::begin(&self.pool, read, None).await?))
    }
    async fn write(&self) -> Result<Box<dyn Tx>> {
        // READ COMMITTED on purpose: a booking that waited on a competing one
        // then sees it (and the exclusion constraint refuses the overlap)
        // instead of failing with a serialization error.
        let write = "BEGIN ISOLATION LEVEL READ COMMITTED";
        Ok(Box::new(SqlTx::begin(&self.pool, write, None).await?))
    }
    async fn write_relaxed(&self) -> Result<Box<dyn Tx>> {
        let write = "BEGIN ISOLATION LEVEL READ COMMITTED";
        let mut tx = SqlTx::begin(&self.pool, write, None).await?;
        // The commit returns once the WAL record is written to the server's
        // memory, not flushed: a crash of the server (not of this process)
        // may lose it; the database stays consistent either way.
        tx.exec("SET LOCAL synchronous_commit = off", Vec::new())
            .await?;
        Ok(Box::new(tx))
    }
    async fn role(&self) -> Result<Option<RoleReport>> {
        let mut conn = self.pool.acquire().await?;
        Ok(Some(roles::report(&mut conn).await?))
    }
    async fn close(&self) {
        self.listener.abort();
        self.pool.close().await;
    }
    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}
