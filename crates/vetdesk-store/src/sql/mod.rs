//! The SQL both engines share, written once.
//!
//! Every rule of the store contract that does not depend on the engine lives
//! here: the upsert-at-a-version rule and why a write was refused, tombstones,
//! the change log, the search filters and paging, and the mapping between
//! rows and records. It is generic over a [`Dialect`]: the few things that
//! really differ between SQLite and PostgreSQL (how a value is bound and read
//! back, how an appointment is written under the no-double-booking rule, the
//! packed range reads, claiming outbox messages).
//!
//! Statements use `$N` placeholders, which sqlx binds by number on both
//! engines, and plain SQL that both understand (`ON CONFLICT … DO UPDATE …
//! WHERE`, `RETURNING`, `LIKE … ESCAPE`).

mod access;
pub(crate) mod appointments;
mod outbox;
mod page;
mod privacy;
pub(crate) mod records;
pub(crate) mod rows;
mod settings;
mod tx;
mod write;

pub(crate) use rows::Cols;
pub use settings::template_id;
pub(crate) use write::{expected, like_pattern};

use crate::{Change, Result, StoreError, Write};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Transaction;
use tokio::sync::broadcast;
use uuid::Uuid;
use vetdesk_core::{Appointment, AppointmentId, Booking, Interval, VetId};

/// One bound value. A null keeps its type: PostgreSQL plans `$1 IS NULL` by it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Uuid(Option<Uuid>),
    Int(Option<i64>),
    Text(Option<String>),
    Flag(Option<bool>),
    /// Always whole milliseconds: see [`instant`].
    Instant(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    /// JSON: `jsonb` on PostgreSQL, text on SQLite.
    Json(Option<serde_json::Value>),
}

/// A JSON document to bind (see [`Value::Json`]).
pub(crate) struct Json(pub Option<serde_json::Value>);

impl From<Json> for Value {
    fn from(v: Json) -> Value {
        Value::Json(v.0)
    }
}

/// The one precision both engines keep instants at: whole milliseconds
/// (SQLite stores milliseconds since the epoch; PostgreSQL's `timestamptz`
/// could keep microseconds, but then a record would read back differently
/// on the two engines). Every instant is rounded here, on its way in.
pub(crate) fn instant(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

macro_rules! value_from {
    ($variant:ident: $($t:ty => $f:expr),+ $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                #[allow(clippy::redundant_closure_call)]
                Value::$variant(($f)(v))
            }
        }
    )+};
}
value_from!(Uuid: Uuid => Some, Option<Uuid> => |v| v);
value_from!(Int: i64 => Some, Option<i64> => |v| v, u32 => |v| Some(i64::from(v)));
value_from!(Text: &str => |v: &str| Some(v.to_string()), Option<&str> => |v: Option<&str>| v.map(str::to_string), String => Some, Option<String> => |v| v);
value_from!(Flag: bool => Some);
value_from!(Instant: DateTime<Utc> => |t| Some(instant(t)), Option<DateTime<Utc>> => |t: Option<DateTime<Utc>>| t.map(instant));
value_from!(Date: NaiveDate => Some, Option<NaiveDate> => |v| v);

/// The arguments of a statement, in `$1, $2, …` order.
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::sql::Value::from($v)),*] };
}
pub(crate) use args;

/// What differs between the engines. Implemented for [`sqlx::Sqlite`] and
/// [`sqlx::Postgres`].
#[async_trait]
pub(crate) trait Dialect: sqlx::Database {
    async fn execute(c: &mut Self::Connection, sql: &str, args: Vec<Value>) -> Result<u64>;
    async fn fetch_all(
        c: &mut Self::Connection,
        sql: &str,
        args: Vec<Value>,
    ) -> Result<Vec<Self::Row>>;
    async fn fetch_optional(
        c: &mut Self::Connection,
        sql: &str,
        args: Vec<Value>,
    ) -> Result<Option<Self::Row>>;

    // Reading a column back, null or not; [`Cols`] wraps these.
    fn opt_uuid(r: &Self::Row, col: &str) -> Result<Option<Uuid>>;
    fn opt_int(r: &Self::Row, col: &str) -> Result<Option<i64>>;
    fn opt_text<'r>(r: &'r Self::Row, col: &str) -> Result<Option<&'r str>>;
    fn opt_flag(r: &Self::Row, col: &str) -> Result<Option<bool>>;
    fn opt_instant(r: &Self::Row, col: &str) -> Result<Option<DateTime<Utc>>>;
    fn opt_date(r: &Self::Row, col: &str) -> Result<Option<NaiveDate>>;
    fn opt_json(r: &Self::Row, col: &str) -> Result<Option<serde_json::Value>>;

    /// What ends the `SELECT` that picks outbox messages to claim: PostgreSQL
    /// passes over rows another worker is claiming right now (`FOR UPDATE
    /// SKIP LOCKED`); SQLite's write transaction already holds the only lock.
    const CLAIM_LOCK: &'static str;

    /// The clock outbox leases are read and written by, as SQL: `None` for
    /// the application's `now`, bound like any instant (SQLite: one machine,
    /// one clock), or the database's own (PostgreSQL's transaction time, to
    /// whole milliseconds like every stored instant), so workers on machines
    /// whose clocks disagree still agree on who holds a message.
    const LEASE_CLOCK: Option<&'static str>;

    /// `instant` plus `ms` milliseconds (an integer), in this engine's SQL.
    fn plus_millis(instant: &str, ms: &str) -> String;

    /// Whether writes commit in the order of their change-log positions, so an
    /// unchanged last position means unchanged data. SQLite: one writer at a
    /// time. Not PostgreSQL, whose positions come from a sequence before the
    /// commit, so a later position can commit first.
    const ORDERED_CHANGES: bool;
}

/// What the engines do their own way with appointments: the write that
/// keeps a vet's time from being booked twice, and the hot range reads.
#[async_trait]
pub(crate) trait Engine: Dialect {
    /// Write an appointment so that no two time-holding appointments of one
    /// vet overlap, however many writers run at once
    /// ([`crate::StoreError::Overlap`] names those in the way).
    async fn save_appointment(tx: &mut SqlTx<Self>, a: &Appointment, how: Write) -> Result<()>;
    /// See [`crate::Tx::bookings`] (`r.ignoring` is not used).
    async fn bookings(tx: &mut SqlTx<Self>, r: &Range<'_>) -> Result<Vec<(VetId, Booking)>>;
    /// See [`crate::Tx::busy`].
    async fn busy(tx: &mut SqlTx<Self>, r: &Range<'_>) -> Result<Vec<(VetId, Interval)>>;
}

/// What the range reads are asked for: some vets' time-holding appointments
/// whose blocked time overlaps a window, perhaps leaving one out.
pub(crate) struct Range<'a> {
    pub(crate) vets: &'a [VetId],
    pub(crate) window: Interval,
    pub(crate) ignoring: Option<AppointmentId>,
}

/// `impl Dialect for $db`, and its `bind`: what every dialect does alike
/// (binding [`Value`]s, with instants and dates encoded by `$instant` and
/// `$date`; the statement runners; the columns sqlx reads the same on both),
/// then the dialect's own `$items`.
macro_rules! dialect {
    (
        $db:ty, $conn:ty, $row:ty, $args:ty,
        instant: $instant:expr, date: $date:expr,
        { $($items:tt)* }
    ) => {
        /// Bind `args` in order; instants and dates in this dialect's encoding.
        pub(crate) fn bind<'q>(
            mut q: sqlx::query::Query<'q, $db, $args>,
            args: Vec<$crate::sql::Value>,
        ) -> sqlx::query::Query<'q, $db, $args> {
            use $crate::sql::Value;
            for a in args {
                q = match a {
                    Value::Uuid(v) => q.bind(v),
                    Value::Int(v) => q.bind(v),
                    Value::Text(v) => q.bind(v),
                    Value::Flag(v) => q.bind(v),
                    Value::Instant(v) => q.bind(v.map($instant)),
                    Value::Date(v) => q.bind(v.map($date)),
                    Value::Json(v) => q.bind(v.map(sqlx::types::Json)),
                };
            }
            q
        }

        #[async_trait::async_trait]
        impl $crate::sql::Dialect for $db {
            async fn execute(
                c: &mut $conn,
                sql: &str,
                args: Vec<$crate::sql::Value>,
            ) -> $crate::Result<u64> {
                Ok(bind(sqlx::query(sql), args).execute(c).await?.rows_affected())
            }
            async fn fetch_all(
                c: &mut $conn,
                sql: &str,
                args: Vec<$crate::sql::Value>,
            ) -> $crate::Result<Vec<$row>> {
                Ok(bind(sqlx::query(sql), args).fetch_all(c).await?)
            }
            async fn fetch_optional(
                c: &mut $conn,
                sql: &str,
                args: Vec<$crate::sql::Value>,
            ) -> $crate::Result<Option<$row>> {
                Ok(bind(sqlx::query(sql), args).fetch_optional(c).await?)
            }
            fn opt_uuid(r: &$row, col: &str) -> $crate::Result<Option<uuid::Uuid>> {
                Ok(sqlx::Row::try_get(r, col)?)
            }
            fn opt_text<'r>(r: &'r $row, col: &str) -> $crate::Result<Option<&'r str>> {
                Ok(sqlx::Row::try_get(r, col)?)
            }
            fn opt_flag(r: &$row, col: &str) -> $crate::Result<Option<bool>> {
                Ok(sqlx::Row::try_get(r, col)?)
            }
            fn opt_json(r: &$row, col: &str) -> $crate::Result<Option<serde_json::Value>> {
                let json: Option<sqlx::types::Json<serde_json::Value>> = sqlx::Row::try_get(r, col)?;
                Ok(json.map(|j| j.0))
            }
            $($items)*
        }
    };
}
pub(crate) use dialect;

/// What a failed migration means: a database from a newer vetdesk (typed,
/// so a person is told to upgrade), or one that cannot be opened.
pub(crate) fn migration_failed(
    migrator: &sqlx::migrate::Migrator,
    e: sqlx::migrate::MigrateError,
) -> StoreError {
    let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    match e {
        sqlx::migrate::MigrateError::VersionMissing(found) => {
            StoreError::SchemaTooNew { found, known }
        }
        other => StoreError::Unavailable(format!("applying migrations: {other}")),
    }
}

/// A transaction on either engine: the one implementation of [`crate::Tx`].
pub(crate) struct SqlTx<D: Dialect> {
    pub(crate) tx: Transaction<'static, D>,
    /// Changes written in this transaction, announced once it commits.
    pending: Vec<Change>,
    /// Where to announce them: SQLite's own process. `None` on PostgreSQL,
    /// whose `change_log` trigger announces them to every listener.
    changes: Option<broadcast::Sender<Change>>,
    /// How many of `pending` were written before the open savepoint, if one is open.
    savepoint: Option<usize>,
}

impl<D: Dialect> SqlTx<D> {
    pub(crate) fn new(
        tx: Transaction<'static, D>,
        changes: Option<broadcast::Sender<Change>>,
    ) -> Self {
        SqlTx {
            tx,
            pending: Vec::new(),
            changes,
            savepoint: None,
        }
    }

    /// Open a transaction with `statement` so that a caller who gives up
    /// half-way (a client that disconnects, a timeout) cannot leave it open
    /// on a pooled connection.
    ///
    /// sqlx 0.8's `begin_with` is not cancel-safe: dropped between sending
    /// `BEGIN` and reading its answer, it returns the connection to the pool
    /// still inside the transaction. The next borrower's statements then run
    /// in it (on PostgreSQL a writer fails with "read-only transaction"; sqlx
    /// issue #4393), and after SQLite's `BEGIN IMMEDIATE` that connection
    /// holds the database's write lock, so every later writer waits out its
    /// busy timeout. Here the `BEGIN` runs in a task of its own, which always
    /// finishes: if nobody is waiting any more, the finished transaction is
    /// dropped, which rolls it back before the connection's next use.
    pub(crate) async fn begin(
        pool: &sqlx::Pool<D>,
        statement: &'static str,
        changes: Option<broadcast::Sender<Change>>,
    ) -> Result<Self> {
        let pool = pool.clone();
        let tx = tokio::spawn(async move { pool.begin_with(statement).await })
            .await
            .map_err(|e| StoreError::Unavailable(format!("opening a transaction: {e}")))??;
        Ok(SqlTx::new(tx, changes))
    }

    pub(crate) async fn commit_and_announce(self) -> Result<()> {
        let SqlTx {
            tx,
            pending,
            changes,
            ..
        } = self;
        tx.commit().await?;
        if let Some(changes) = changes {
            for c in pending {
                // Nobody listening is fine.
                let _ = changes.send(c);
            }
        }
        Ok(())
    }

    pub(crate) async fn exec(&mut self, sql: &str, args: Vec<Value>) -> Result<u64> {
        D::execute(&mut self.tx, sql, args).await
    }

    /// Every row the statement returns, read with `read`.
    pub(crate) async fn all<T>(
        &mut self,
        sql: &str,
        args: Vec<Value>,
        read: impl Fn(Cols<'_, D>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        D::fetch_all(&mut self.tx, sql, args)
            .await?
            .iter()
            .map(|r| read(Cols::new(r)))
            .collect()
    }

    /// The first row the statement returns, if any, read with `read`.
    pub(crate) async fn one<T>(
        &mut self,
        sql: &str,
        args: Vec<Value>,
        read: impl Fn(Cols<'_, D>) -> Result<T> + Send,
    ) -> Result<Option<T>> {
        D::fetch_optional(&mut self.tx, sql, args)
            .await?
            .as_ref()
            .map(|r| read(Cols::new(r)))
            .transpose()
    }
}
