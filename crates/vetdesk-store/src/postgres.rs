//! The PostgreSQL engine: the shared store for several workstations.
//!
//! Write transactions are plain `READ COMMITTED`: the guarantee against double
//! booking is the exclusion constraint `appointments_no_overlap`, which holds
//! however many sessions write at once (the application's own conflict check
//! still runs first, inside the transaction, so a person sees every reason).
//! Reads are `REPEATABLE READ READ ONLY`, one consistent snapshot.
//!
//! Committed changes reach every store on the database: a trigger on
//! `change_log` calls `pg_notify`, and each `PgStore` keeps one connection
//! LISTENing and forwards what it hears to its subscribers. When that
//! connection drops, the changes committed before it is back are read from
//! `change_log` and forwarded too.

mod access;
mod outbox;

use crate::{
    AppointmentFilter, AppointmentView, Change, ChangeOp, Entity, Page, Result, Store, StoreError,
    Tx, Write, CHANGE_BUFFER, MAX_BLOCK,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc, Weekday};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, PgPool, Postgres, QueryBuilder, Row, Transaction};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use uuid::Uuid;
use vetdesk_core::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The channel the `change_log` trigger announces on (see the migration).
const CHANGES_CHANNEL: &str = "vetdesk_changes";
/// How long the first connection may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// No statement runs longer; a stuck one becomes [`StoreError::Busy`] rather than a hang.
const STATEMENT_TIMEOUT: &str = "15s";
/// How often [`Tx::save_appointment`] writes before giving up on a deadlock
/// (or on a refusal whose cause vanished before it could be named).
const SAVE_ATTEMPTS: u32 = 3;
/// The advisory-lock space of the per-vet turn updates of appointments take
/// (`pg_advisory_xact_lock(VET_LOCKS, hashtext(vet_id))`); "vetd" in ASCII.
const VET_LOCKS: i32 = 0x7665_7464;
const LISTEN_RETRY_MIN: Duration = Duration::from_millis(100);
const LISTEN_RETRY_MAX: Duration = Duration::from_secs(30);

pub struct PgStore {
    pool: PgPool,
    changes: broadcast::Sender<Change>,
    /// Forwards the server's change announcements to `changes`; aborted on close and drop.
    listener: JoinHandle<()>,
}

impl PgStore {
    /// A vet's (`$1` lists the vets) time-holding appointments whose blocked time
    /// overlaps `[$4, $3)`; `$2` is `$4 - MAX_BLOCK`, bounding the scan of
    /// `appointments_vet_blocked` from below. Public so tests can check its plan.
    pub const BOOKINGS_QUERY: &'static str =
        "SELECT vet_id, id, start_at, end_at, blocked_start, blocked_end FROM appointments \
         WHERE vet_id = ANY($1) AND holds_time AND deleted_at IS NULL \
         AND blocked_start >= $2 AND blocked_start < $3 AND blocked_end > $4 \
         ORDER BY vet_id, blocked_start, blocked_end, start_at, end_at, id";

    /// [`Self::BOOKINGS_QUERY`] without the names, leaving out appointment `$5` (when not null).
    pub const BUSY_QUERY: &'static str =
        "SELECT vet_id, blocked_start, blocked_end FROM appointments \
         WHERE vet_id = ANY($1) AND holds_time AND deleted_at IS NULL \
         AND blocked_start >= $2 AND blocked_start < $3 AND blocked_end > $4 \
         AND ($5::uuid IS NULL OR id <> $5) \
         ORDER BY vet_id, blocked_start, blocked_end";

    /// Connect, apply the migrations, and start listening for changes.
    ///
    /// An unreachable server, refused credentials or a missing database are
    /// [`StoreError::Unavailable`], with a message that names the server but
    /// never the password.
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str) -> Result<PgStore> {
        let secrets = url_secrets(url);
        let redact = |msg: String| redact(msg, &secrets);
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| {
                StoreError::Unavailable(redact(format!("not a usable PostgreSQL URL: {e}")))
            })?
            .application_name("vetdesk")
            .options([("statement_timeout", STATEMENT_TIMEOUT)]);
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
                return Err(StoreError::Unavailable(redact(format!(
                    "PostgreSQL at {server}: {}",
                    connect_failure(&e, opts.get_username())
                ))))
            }
            Ok(Ok(conn)) => conn,
        };
        // A later migration (an index on a big table) may rightly take longer than a statement.
        sqlx::query("SET statement_timeout = 0")
            .execute(&mut conn)
            .await?;
        migrate(&mut conn).await?;
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
        let listener = tokio::spawn(forward_changes(listener, changes.clone()));
        tracing::info!(server = %server, "connected to PostgreSQL");
        Ok(PgStore {
            pool,
            changes,
            listener,
        })
    }

    /// The pool, for tests and benchmarks that inspect the database directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

async fn migrate(conn: &mut sqlx::PgConnection) -> Result<()> {
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    MIGRATOR.run(conn).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::VersionMissing(found) => {
            StoreError::SchemaTooNew { found, known }
        }
        other => StoreError::Unavailable(format!("applying migrations: {other}")),
    })
}

/// Hand every change the server announces to this store's subscribers, until
/// the pool closes. A lost connection is re-established (LISTENing again), and
/// the changes committed while it was down are then read back from
/// `change_log` and handed on in order, so a subscriber misses nothing.
async fn forward_changes(mut listener: PgListener, changes: broadcast::Sender<Change>) {
    let mut retry = LISTEN_RETRY_MIN;
    // The newest change handed on, and whether a gap after it needs reading back.
    let mut last_seq = match latest_seq(&mut listener).await {
        Ok(seq) => seq,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the change log's position; replaying from its start after a reconnect");
            0
        }
    };
    let mut gap = false;
    // Changes already handed on by a replay, which their own announcement may repeat.
    let mut replayed = std::collections::HashSet::new();
    loop {
        if gap {
            // Through the listener: it reconnects and LISTENs again before this
            // query runs, so every change is either in its answer or announced after.
            match replay_since(&mut listener, last_seq).await {
                Ok(missed) => {
                    gap = false;
                    retry = LISTEN_RETRY_MIN;
                    tracing::info!(
                        missed = missed.len(),
                        after_seq = last_seq,
                        "listening for changes again; handing on those committed meanwhile"
                    );
                    replayed.clear();
                    for change in missed {
                        last_seq = last_seq.max(change.seq);
                        replayed.insert(change.seq);
                        let _ = changes.send(change);
                    }
                }
                Err(sqlx::Error::PoolClosed) => break,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?retry, "reconnecting to listen for changes failed; retrying");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(LISTEN_RETRY_MAX);
                }
            }
            continue;
        }
        match listener.try_recv().await {
            Ok(Some(n)) => {
                retry = LISTEN_RETRY_MIN;
                match serde_json::from_str::<Change>(n.payload()) {
                    Ok(change) if replayed.remove(&change.seq) => {}
                    // Nobody listening is fine.
                    Ok(change) => {
                        last_seq = last_seq.max(change.seq);
                        let _ = changes.send(change);
                    }
                    Err(e) => tracing::warn!(
                        error = %e,
                        payload = n.payload(),
                        "ignoring a change announcement that could not be read"
                    ),
                }
            }
            Ok(None) => {
                tracing::warn!("the connection listening for changes was lost; reconnecting");
                gap = true;
            }
            Err(sqlx::Error::PoolClosed) => break,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?retry, "listening for changes failed; retrying");
                gap = true;
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LISTEN_RETRY_MAX);
            }
        }
    }
}

/// The change log's newest position.
async fn latest_seq(listener: &mut PgListener) -> std::result::Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM change_log")
        .fetch_one(listener)
        .await
}

/// The changes committed after `seq`, oldest first, as their announcements
/// would have carried them. At most one more than a subscriber can hold: a
/// longer gap makes every subscriber lag, which tells it to reload everything.
async fn replay_since(
    listener: &mut PgListener,
    seq: i64,
) -> std::result::Result<Vec<Change>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT json_build_object(\
            'seq', seq, 'entity', entity, 'id', entity_id, 'clinic_id', clinic_id, \
            'version', version, 'op', op, \
            'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))::text \
         FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(seq)
    .bind(CHANGE_BUFFER as i64 + 1)
    .fetch_all(listener)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|row| match serde_json::from_str::<Change>(row) {
            Ok(change) => Some(change),
            Err(e) => {
                tracing::warn!(error = %e, row = %row, "ignoring a change log row that could not be read");
                None
            }
        })
        .collect())
}

/// `user@host:port/database`: enough to tell which server was meant, nothing secret.
fn server_name(opts: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        opts.get_username(),
        opts.get_host(),
        opts.get_port(),
        opts.get_database().unwrap_or(opts.get_username())
    )
}

fn connect_failure(e: &sqlx::Error, user: &str) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // invalid_authorization_specification, invalid_password
            Some("28000") | Some("28P01") => {
                format!("the server refused role {user:?}: {}", db.message())
            }
            Some("3D000") => format!("no such database: {}", db.message()),
            _ => db.message().to_string(),
        },
        sqlx::Error::Io(io) => format!("cannot connect: {io}"),
        other => other.to_string(),
    }
}

/// A database URL fit to print: any password it carries masked.
pub fn redact_url(url: &str) -> String {
    redact(url.to_string(), &url_secrets(url))
}

/// The passwords a URL carries: `postgres://user:password@host/…`, `?password=…`.
fn url_secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some((_, rest)) = url.split_once("://") else {
        return out;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((_, password)) = authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
    {
        out.push(password.to_string());
    }
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or("");
        out.extend(
            query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .filter(|(k, _)| k.eq_ignore_ascii_case("password"))
                .map(|(_, v)| v.to_string()),
        );
    }
    out.retain(|p| !p.is_empty());
    out
}

/// `msg` with every appearance of the secrets (as written, and percent-decoded) masked.
fn redact(mut msg: String, secrets: &[String]) -> String {
    for raw in secrets {
        msg = msg.replace(raw.as_str(), "***");
        let decoded = percent_decode(raw);
        if !decoded.is_empty() {
            msg = msg.replace(&decoded, "***");
        }
    }
    msg
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
    async fn read(&self) -> Result<Box<dyn Tx>> {
        let tx = begin(
            &self.pool,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        )
        .await?;
        Ok(Box::new(PgTx { tx }))
    }
    async fn write(&self) -> Result<Box<dyn Tx>> {
        // READ COMMITTED on purpose: a booking that waited on a competing one
        // then sees it (and the exclusion constraint refuses the overlap)
        // instead of failing with a serialization error.
        let tx = begin(&self.pool, "BEGIN ISOLATION LEVEL READ COMMITTED").await?;
        Ok(Box::new(PgTx { tx }))
    }
    async fn write_relaxed(&self) -> Result<Box<dyn Tx>> {
        let mut tx = begin(&self.pool, "BEGIN ISOLATION LEVEL READ COMMITTED").await?;
        // The commit returns once the WAL record is written to the server's
        // memory, not flushed: a crash of the server (not of this process)
        // may lose it; the database stays consistent either way.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        Ok(Box::new(PgTx { tx }))
    }
    async fn close(&self) {
        self.listener.abort();
        self.pool.close().await;
    }
    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}

/// Open a transaction so that a caller who gives up half-way (a client that
/// disconnects, a timeout) cannot leave it open on a pooled connection.
///
/// sqlx 0.8's `begin_with` is not cancel-safe on PostgreSQL: dropped between
/// sending `BEGIN` and reading its answer, it returns the connection to the
/// pool still inside the transaction, and the next borrower's statements run
/// in it (a writer then fails with "read-only transaction"; sqlx issue #4393).
/// Here the `BEGIN` runs in a task of its own, which always finishes: if
/// nobody is waiting any more, the finished transaction is dropped, which
/// queues a `ROLLBACK` that runs before the connection's next use.
async fn begin(pool: &PgPool, statement: &'static str) -> Result<Transaction<'static, Postgres>> {
    let pool = pool.clone();
    tokio::spawn(async move { pool.begin_with(statement).await })
        .await
        .map_err(|e| StoreError::Unavailable(format!("opening a transaction: {e}")))?
        .map_err(StoreError::from)
}

struct PgTx {
    tx: Transaction<'static, Postgres>,
}

// ---------- conversions ----------

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn interval(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Interval> {
    Interval::new(start, end).map_err(corrupt)
}

fn weekday_num(w: Weekday) -> i64 {
    i64::from(w.num_days_from_monday())
}

fn weekday(n: i32) -> Result<Weekday> {
    u8::try_from(n)
        .ok()
        .and_then(|n| Weekday::try_from(n).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("weekday {n}")))
}

fn minutes(r: &PgRow, col: &'static str) -> Result<u32> {
    u32::try_from(r.try_get::<i32, _>(col)?).map_err(corrupt)
}

fn meta(r: &PgRow) -> Result<Meta> {
    Ok(Meta {
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn name(r: &PgRow, col: &'static str) -> Result<Name> {
    Name::parse(col, r.try_get::<&str, _>(col)?).map_err(corrupt)
}

fn clinic_row(r: &PgRow) -> Result<Clinic> {
    Ok(Clinic {
        id: ClinicId(r.try_get("id")?),
        name: name(r, "name")?,
        time_zone: parse_time_zone(r.try_get("time_zone")?).map_err(corrupt)?,
        meta: meta(r)?,
    })
}

fn vet_row(r: &PgRow, clinics: Vec<Uuid>) -> Result<Vet> {
    let mut clinics: Vec<ClinicId> = clinics.into_iter().map(ClinicId).collect();
    clinics.sort();
    let email: Option<&str> = r.try_get("email")?;
    Ok(Vet {
        id: VetId(r.try_get("id")?),
        name: name(r, "name")?,
        email: email.map(Email::parse).transpose().map_err(corrupt)?,
        clinics,
        meta: meta(r)?,
    })
}

fn client_row(r: &PgRow) -> Result<Client> {
    let email: Option<&str> = r.try_get("email")?;
    let phone: Option<&str> = r.try_get("phone")?;
    let preferred: Option<&str> = r.try_get("preferred_channel")?;
    Ok(Client {
        id: ClientId(r.try_get("id")?),
        name: name(r, "name")?,
        email: email.map(Email::parse).transpose().map_err(corrupt)?,
        phone: phone.map(Phone::parse).transpose().map_err(corrupt)?,
        preferences: ContactPreferences {
            preferred: preferred.map(Channel::parse).transpose().map_err(corrupt)?,
            email_opt_out: r.try_get("email_opt_out")?,
            sms_opt_out: r.try_get("sms_opt_out")?,
        },
        meta: meta(r)?,
    })
}

fn pet_row(r: &PgRow) -> Result<Pet> {
    Ok(Pet {
        id: PetId(r.try_get("id")?),
        owner: ClientId(r.try_get("owner_id")?),
        name: name(r, "name")?,
        species: name(r, "species")?,
        breed: r.try_get("breed")?,
        date_of_birth: r.try_get("date_of_birth")?,
        meta: meta(r)?,
    })
}

fn type_row(r: &PgRow) -> Result<AppointmentType> {
    Ok(AppointmentType {
        id: AppointmentTypeId(r.try_get("id")?),
        name: name(r, "name")?,
        duration_min: minutes(r, "duration_min")?,
        colour: Colour::parse(r.try_get("colour")?).map_err(corrupt)?,
        buffer_before_min: minutes(r, "buffer_before_min")?,
        buffer_after_min: minutes(r, "buffer_after_min")?,
        meta: meta(r)?,
    })
}

fn span(r: &PgRow) -> Result<LocalSpan> {
    let s = u16::try_from(r.try_get::<i32, _>("start_min")?).map_err(corrupt)?;
    let e = u16::try_from(r.try_get::<i32, _>("end_min")?).map_err(corrupt)?;
    LocalSpan::new(s, e).map_err(corrupt)
}

fn working_hours_row(r: &PgRow) -> Result<WorkingHours> {
    Ok(WorkingHours {
        id: WorkingHoursId(r.try_get("id")?),
        vet_id: VetId(r.try_get("vet_id")?),
        clinic_id: ClinicId(r.try_get("clinic_id")?),
        weekday: weekday(r.try_get("weekday")?)?,
        span: span(r)?,
        valid_from: r.try_get("valid_from")?,
        valid_to: r.try_get("valid_to")?,
        meta: meta(r)?,
    })
}

fn override_row(r: &PgRow) -> Result<DateOverride> {
    Ok(DateOverride {
        id: DateOverrideId(r.try_get("id")?),
        vet_id: VetId(r.try_get("vet_id")?),
        clinic_id: ClinicId(r.try_get("clinic_id")?),
        date: r.try_get("date")?,
        spans: LocalSpan::parse_list(r.try_get("spans")?).map_err(corrupt)?,
        note: r.try_get("note")?,
        meta: meta(r)?,
    })
}

fn time_off_row(r: &PgRow) -> Result<TimeOff> {
    Ok(TimeOff {
        id: TimeOffId(r.try_get("id")?),
        vet_id: VetId(r.try_get("vet_id")?),
        period: interval(r.try_get("start_at")?, r.try_get("end_at")?)?,
        reason: r.try_get("reason")?,
        meta: meta(r)?,
    })
}

fn appointment_row(r: &PgRow) -> Result<Appointment> {
    Ok(Appointment {
        id: AppointmentId(r.try_get("id")?),
        clinic_id: ClinicId(r.try_get("clinic_id")?),
        vet_id: VetId(r.try_get("vet_id")?),
        pet_id: PetId(r.try_get("pet_id")?),
        client_id: ClientId(r.try_get("client_id")?),
        type_id: AppointmentTypeId(r.try_get("type_id")?),
        slot: interval(r.try_get("start_at")?, r.try_get("end_at")?)?,
        buffer_before_min: minutes(r, "buffer_before_min")?,
        buffer_after_min: minutes(r, "buffer_after_min")?,
        status: Status::from_str(r.try_get("status")?).map_err(corrupt)?,
        reason: r.try_get("reason")?,
        notes: r.try_get("notes")?,
        cancel_reason: r.try_get("cancel_reason")?,
        created_by: Actor(r.try_get("created_by")?),
        updated_by: Actor(r.try_get("updated_by")?),
        meta: meta(r)?,
    })
}

fn appointment_view_row(r: &PgRow) -> Result<AppointmentView> {
    Ok(AppointmentView {
        appointment: appointment_row(r)?,
        pet_name: r.try_get("pet_name")?,
        client_name: r.try_get("client_name")?,
        vet_name: r.try_get("vet_name")?,
        type_name: r.try_get("type_name")?,
        colour: r.try_get("colour")?,
    })
}

fn booking_row(r: &PgRow) -> Result<Booking> {
    Ok(Booking {
        id: AppointmentId(r.try_get("id")?),
        slot: interval(r.try_get("start_at")?, r.try_get("end_at")?)?,
        blocked: interval(r.try_get("blocked_start")?, r.try_get("blocked_end")?)?,
    })
}

fn history_row(r: &PgRow) -> Result<HistoryEntry> {
    let from: Option<&str> = r.try_get("from_status")?;
    Ok(HistoryEntry {
        appointment_id: AppointmentId(r.try_get("appointment_id")?),
        version: r.try_get("version")?,
        action: r.try_get("action")?,
        from_status: from.map(Status::from_str).transpose().map_err(corrupt)?,
        to_status: Status::from_str(r.try_get("to_status")?).map_err(corrupt)?,
        slot: interval(r.try_get("start_at")?, r.try_get("end_at")?)?,
        note: r.try_get("note")?,
        actor: Actor(r.try_get("actor")?),
        at: r.try_get("at")?,
    })
}

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

/// `%text%` for LIKE, with the wildcards in `text` escaped.
fn like_pattern(text: &str) -> String {
    let escaped = search_key(text)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

const APPOINTMENT_VIEW_SELECT: &str =
    "SELECT a.*, p.name AS pet_name, c.name AS client_name, v.name AS vet_name, \
     t.name AS type_name, t.colour AS colour \
     FROM appointments a \
     JOIN pets p ON p.id = a.pet_id \
     JOIN clients c ON c.id = a.client_id \
     JOIN vets v ON v.id = a.vet_id \
     JOIN appointment_types t ON t.id = a.type_id";

fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, f: &AppointmentFilter) {
    qb.push(" WHERE a.deleted_at IS NULL");
    if !f.statuses.is_empty() {
        let statuses: Vec<&'static str> = f.statuses.iter().map(|s| s.as_str()).collect();
        qb.push(" AND a.status = ANY(")
            .push_bind(statuses)
            .push(")");
    }
    if let Some(c) = f.clinic {
        qb.push(" AND a.clinic_id = ").push_bind(c.0);
    }
    if let Some(v) = f.vet {
        qb.push(" AND a.vet_id = ").push_bind(v.0);
    }
    if let Some(c) = f.client {
        qb.push(" AND a.client_id = ").push_bind(c.0);
    }
    if let Some(p) = f.pet {
        qb.push(" AND a.pet_id = ").push_bind(p.0);
    }
    if let Some(from) = f.from {
        qb.push(" AND a.start_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        qb.push(" AND a.start_at < ").push_bind(to);
    }
    if let Some(text) = f.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let pat = like_pattern(text);
        qb.push(" AND (p.search_name LIKE ")
            .push_bind(pat.clone())
            .push(" ESCAPE '\\' OR c.search_name LIKE ")
            .push_bind(pat)
            .push(" ESCAPE '\\')");
    }
}

/// The `WHERE` of every upsert: an insert must not find the row; an update
/// must find it live at the expected version.
fn expected(how: Write) -> i64 {
    match how {
        Write::Insert => -1,
        Write::Update { expected_version } => expected_version,
    }
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

/// A row's `version` and `deleted_at`.
type VersionAndTombstone = (i64, Option<DateTime<Utc>>);

impl PgTx {
    /// After an upsert that touched no row, find out why.
    async fn refused(&mut self, entity: Entity, id: Uuid, how: Write) -> StoreError {
        let sql = format!(
            "SELECT version, deleted_at FROM {} WHERE id = $1",
            entity.table()
        );
        let current: std::result::Result<Option<VersionAndTombstone>, _> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await;
        match (current, how) {
            (Err(e), _) => e.into(),
            (Ok(Some(_)), Write::Insert) => {
                StoreError::Duplicate(format!("{entity} {id} already exists"))
            }
            (Ok(None), _) | (Ok(Some((_, Some(_)))), _) => StoreError::NotFound {
                entity,
                id: id.to_string(),
            },
            (Ok(Some((actual, None))), Write::Update { expected_version }) => {
                StoreError::StaleVersion {
                    entity,
                    id: id.to_string(),
                    expected: expected_version,
                    actual,
                }
            }
        }
    }

    /// Append to the change log; the trigger announces it when the transaction commits.
    async fn log_change(
        &mut self,
        entity: Entity,
        id: Uuid,
        clinic_id: Option<ClinicId>,
        version: i64,
        op: ChangeOp,
        at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO change_log (entity, entity_id, clinic_id, version, op, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entity.as_str())
        .bind(id)
        .bind(clinic_id.map(|c| c.0))
        .bind(version)
        .bind(op.as_str())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Check an upsert's outcome and record it in the change log.
    async fn saved(
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

    /// A new appointment. `ON CONFLICT DO NOTHING` makes PostgreSQL check the
    /// exclusion constraint before it inserts (speculative insertion), so two
    /// sessions booking overlapping times cannot deadlock on each other: one
    /// row goes in, the other statement inserts nothing. Returns the rows inserted.
    async fn insert_appointment(
        &mut self,
        a: &Appointment,
        blocked: Interval,
    ) -> std::result::Result<u64, sqlx::Error> {
        sqlx::query(
            "INSERT INTO appointments (id, clinic_id, vet_id, pet_id, client_id, type_id, start_at, end_at, \
             buffer_before_min, buffer_after_min, blocked_start, blocked_end, status, reason, notes, \
             cancel_reason, created_by, updated_by, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
             ON CONFLICT DO NOTHING",
        )
        .bind(a.id.0)
        .bind(a.clinic_id.0)
        .bind(a.vet_id.0)
        .bind(a.pet_id.0)
        .bind(a.client_id.0)
        .bind(a.type_id.0)
        .bind(a.slot.start())
        .bind(a.slot.end())
        .bind(i64::from(a.buffer_before_min))
        .bind(i64::from(a.buffer_after_min))
        .bind(blocked.start())
        .bind(blocked.end())
        .bind(a.status.as_str())
        .bind(a.reason.as_deref())
        .bind(a.notes.as_deref())
        .bind(a.cancel_reason.as_deref())
        .bind(&a.created_by.0)
        .bind(&a.updated_by.0)
        .bind(a.meta.version)
        .bind(a.meta.created_at)
        .bind(a.meta.updated_at)
        .execute(&mut *self.tx)
        .await
        .map(|r| r.rows_affected())
    }

    /// An update at the version read, as an upsert like every other record's.
    /// (The exclusion constraint cannot arbitrate `DO UPDATE`: an overlap is
    /// SQLSTATE 23P01.) Returns the rows written.
    async fn update_appointment(
        &mut self,
        a: &Appointment,
        blocked: Interval,
        expected_version: i64,
    ) -> std::result::Result<u64, sqlx::Error> {
        sqlx::query(
            "INSERT INTO appointments (id, clinic_id, vet_id, pet_id, client_id, type_id, start_at, end_at, \
             buffer_before_min, buffer_after_min, blocked_start, blocked_end, status, reason, notes, \
             cancel_reason, created_by, updated_by, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
             ON CONFLICT (id) DO UPDATE SET clinic_id = excluded.clinic_id, vet_id = excluded.vet_id, \
             pet_id = excluded.pet_id, client_id = excluded.client_id, type_id = excluded.type_id, \
             start_at = excluded.start_at, end_at = excluded.end_at, \
             buffer_before_min = excluded.buffer_before_min, buffer_after_min = excluded.buffer_after_min, \
             blocked_start = excluded.blocked_start, blocked_end = excluded.blocked_end, \
             status = excluded.status, reason = excluded.reason, notes = excluded.notes, \
             cancel_reason = excluded.cancel_reason, updated_by = excluded.updated_by, \
             version = excluded.version, updated_at = excluded.updated_at \
             WHERE appointments.version = $22 AND appointments.deleted_at IS NULL",
        )
        .bind(a.id.0)
        .bind(a.clinic_id.0)
        .bind(a.vet_id.0)
        .bind(a.pet_id.0)
        .bind(a.client_id.0)
        .bind(a.type_id.0)
        .bind(a.slot.start())
        .bind(a.slot.end())
        .bind(i64::from(a.buffer_before_min))
        .bind(i64::from(a.buffer_after_min))
        .bind(blocked.start())
        .bind(blocked.end())
        .bind(a.status.as_str())
        .bind(a.reason.as_deref())
        .bind(a.notes.as_deref())
        .bind(a.cancel_reason.as_deref())
        .bind(&a.created_by.0)
        .bind(&a.updated_by.0)
        .bind(a.meta.version)
        .bind(a.meta.created_at)
        .bind(a.meta.updated_at)
        .bind(expected_version)
        .execute(&mut *self.tx)
        .await
        .map(|r| r.rows_affected())
    }

    /// Whether a row with this id exists, live or tombstoned.
    async fn exists(&mut self, entity: Entity, id: Uuid) -> Result<bool> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE id = $1)",
            entity.table()
        );
        Ok(sqlx::query_scalar(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn undo_save_appointment(&mut self) -> Result<()> {
        sqlx::query("ROLLBACK TO SAVEPOINT vetdesk_save_appointment")
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("RELEASE SAVEPOINT vetdesk_save_appointment")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The live, time-holding appointments of `vet` other than `except` whose
    /// blocked time overlaps `blocked`: what the exclusion constraint ran into.
    async fn taken_by(
        &mut self,
        vet: VetId,
        blocked: Interval,
        except: AppointmentId,
    ) -> Result<Vec<Booking>> {
        // The constraint's own expression and predicate, so its gist index serves the query.
        sqlx::query(
            "SELECT id, start_at, end_at, blocked_start, blocked_end FROM appointments \
             WHERE vet_id = $1 AND holds_time AND deleted_at IS NULL \
             AND tstzrange(blocked_start, blocked_end, '[)') && tstzrange($2, $3, '[)') \
             AND id <> $4 ORDER BY blocked_start, id",
        )
        .bind(vet.0)
        .bind(blocked.start())
        .bind(blocked.end())
        .bind(except.0)
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(booking_row)
        .collect()
    }
}

#[async_trait]
impl Tx for PgTx {
    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    async fn clinic(&mut self, id: ClinicId) -> Result<Option<Clinic>> {
        sqlx::query("SELECT * FROM clinics WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(clinic_row)
            .transpose()
    }

    async fn clinics(&mut self) -> Result<Vec<Clinic>> {
        sqlx::query("SELECT * FROM clinics WHERE deleted_at IS NULL ORDER BY name, id")
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(clinic_row)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(clinic = %c.id))]
    async fn save_clinic(&mut self, c: &Clinic, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO clinics (id, name, time_zone, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, \
             version = excluded.version, updated_at = excluded.updated_at \
             WHERE clinics.version = $7 AND clinics.deleted_at IS NULL",
        )
        .bind(c.id.0)
        .bind(c.name.as_str())
        .bind(c.time_zone.name())
        .bind(c.meta.version)
        .bind(c.meta.created_at)
        .bind(c.meta.updated_at)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(
            res.rows_affected(),
            Entity::Clinic,
            c.id.0,
            Some(c.id),
            &c.meta,
            how,
        )
        .await
    }

    async fn vet(&mut self, id: VetId) -> Result<Option<Vet>> {
        let Some(row) = sqlx::query("SELECT * FROM vets WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
        else {
            return Ok(None);
        };
        let clinics: Vec<Uuid> = sqlx::query_scalar(
            "SELECT clinic_id FROM vet_clinics WHERE vet_id = $1 ORDER BY clinic_id",
        )
        .bind(id.0)
        .fetch_all(&mut *self.tx)
        .await?;
        vet_row(&row, clinics).map(Some)
    }

    async fn vets(&mut self, clinic: Option<ClinicId>) -> Result<Vec<Vet>> {
        let rows = sqlx::query(
            "SELECT v.*, (SELECT array_agg(vc.clinic_id ORDER BY vc.clinic_id) FROM vet_clinics vc \
             WHERE vc.vet_id = v.id) AS clinic_ids \
             FROM vets v WHERE v.deleted_at IS NULL \
             AND ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM vet_clinics vc WHERE vc.vet_id = v.id AND vc.clinic_id = $1)) \
             ORDER BY v.name, v.id",
        )
        .bind(clinic.map(|c| c.0))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                let ids: Option<Vec<Uuid>> = r.try_get("clinic_ids")?;
                vet_row(r, ids.unwrap_or_default())
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(vet = %v.id))]
    async fn save_vet(&mut self, v: &Vet, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO vets (id, name, email, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
             version = excluded.version, updated_at = excluded.updated_at \
             WHERE vets.version = $7 AND vets.deleted_at IS NULL",
        )
        .bind(v.id.0)
        .bind(v.name.as_str())
        .bind(v.email.as_ref().map(Email::as_str))
        .bind(v.meta.version)
        .bind(v.meta.created_at)
        .bind(v.meta.updated_at)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(res.rows_affected(), Entity::Vet, v.id.0, None, &v.meta, how)
            .await?;
        sqlx::query("DELETE FROM vet_clinics WHERE vet_id = $1")
            .bind(v.id.0)
            .execute(&mut *self.tx)
            .await?;
        let clinics: Vec<Uuid> = v.clinics.iter().map(|c| c.0).collect();
        sqlx::query("INSERT INTO vet_clinics (vet_id, clinic_id) SELECT $1, unnest($2::uuid[])")
            .bind(v.id.0)
            .bind(clinics)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn client(&mut self, id: ClientId) -> Result<Option<Client>> {
        sqlx::query("SELECT * FROM clients WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(client_row)
            .transpose()
    }

    async fn clients(&mut self, text: Option<&str>, limit: u32) -> Result<Vec<Client>> {
        let pat = text.filter(|t| !t.trim().is_empty()).map(like_pattern);
        sqlx::query(
            "SELECT * FROM clients WHERE deleted_at IS NULL AND ($1::text IS NULL \
             OR search_name LIKE $1 ESCAPE '\\' \
             OR lower(coalesce(email, '')) LIKE $1 ESCAPE '\\' \
             OR coalesce(phone, '') LIKE $1 ESCAPE '\\') \
             ORDER BY search_name, id LIMIT $2",
        )
        .bind(pat)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(client_row)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(client = %c.id))]
    async fn save_client(&mut self, c: &Client, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO clients (id, name, search_name, email, phone, preferred_channel, email_opt_out, \
             sms_opt_out, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, search_name = excluded.search_name, \
             email = excluded.email, phone = excluded.phone, preferred_channel = excluded.preferred_channel, \
             email_opt_out = excluded.email_opt_out, sms_opt_out = excluded.sms_opt_out, \
             version = excluded.version, updated_at = excluded.updated_at \
             WHERE clients.version = $12 AND clients.deleted_at IS NULL",
        )
        .bind(c.id.0)
        .bind(c.name.as_str())
        .bind(search_key(c.name.as_str()))
        .bind(c.email.as_ref().map(Email::as_str))
        .bind(c.phone.as_ref().map(Phone::as_str))
        .bind(c.preferences.preferred.map(|p| p.as_str()))
        .bind(c.preferences.email_opt_out)
        .bind(c.preferences.sms_opt_out)
        .bind(c.meta.version)
        .bind(c.meta.created_at)
        .bind(c.meta.updated_at)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(
            res.rows_affected(),
            Entity::Client,
            c.id.0,
            None,
            &c.meta,
            how,
        )
        .await
    }

    async fn pet(&mut self, id: PetId) -> Result<Option<Pet>> {
        sqlx::query("SELECT * FROM pets WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(pet_row)
            .transpose()
    }

    async fn pets(
        &mut self,
        owner: Option<ClientId>,
        text: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Pet>> {
        let pat = text.filter(|t| !t.trim().is_empty()).map(like_pattern);
        sqlx::query(
            "SELECT * FROM pets WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR owner_id = $1) \
             AND ($2::text IS NULL OR search_name LIKE $2 ESCAPE '\\') \
             ORDER BY search_name, id LIMIT $3",
        )
        .bind(owner.map(|o| o.0))
        .bind(pat)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(pet_row)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(pet = %p.id))]
    async fn save_pet(&mut self, p: &Pet, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO pets (id, owner_id, name, search_name, species, breed, date_of_birth, version, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, name = excluded.name, \
             search_name = excluded.search_name, species = excluded.species, breed = excluded.breed, \
             date_of_birth = excluded.date_of_birth, version = excluded.version, \
             updated_at = excluded.updated_at \
             WHERE pets.version = $11 AND pets.deleted_at IS NULL",
        )
        .bind(p.id.0)
        .bind(p.owner.0)
        .bind(p.name.as_str())
        .bind(search_key(p.name.as_str()))
        .bind(p.species.as_str())
        .bind(p.breed.as_deref())
        .bind(p.date_of_birth)
        .bind(p.meta.version)
        .bind(p.meta.created_at)
        .bind(p.meta.updated_at)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(res.rows_affected(), Entity::Pet, p.id.0, None, &p.meta, how)
            .await
    }

    async fn appointment_type(&mut self, id: AppointmentTypeId) -> Result<Option<AppointmentType>> {
        sqlx::query("SELECT * FROM appointment_types WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(type_row)
            .transpose()
    }

    async fn appointment_types(&mut self) -> Result<Vec<AppointmentType>> {
        sqlx::query("SELECT * FROM appointment_types WHERE deleted_at IS NULL ORDER BY name, id")
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(type_row)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(appointment_type = %t.id))]
    async fn save_appointment_type(&mut self, t: &AppointmentType, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO appointment_types (id, name, duration_min, colour, buffer_before_min, \
             buffer_after_min, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, duration_min = excluded.duration_min, \
             colour = excluded.colour, buffer_before_min = excluded.buffer_before_min, \
             buffer_after_min = excluded.buffer_after_min, version = excluded.version, \
             updated_at = excluded.updated_at \
             WHERE appointment_types.version = $10 AND appointment_types.deleted_at IS NULL",
        )
        .bind(t.id.0)
        .bind(t.name.as_str())
        .bind(i64::from(t.duration_min))
        .bind(t.colour.as_str())
        .bind(i64::from(t.buffer_before_min))
        .bind(i64::from(t.buffer_after_min))
        .bind(t.meta.version)
        .bind(t.meta.created_at)
        .bind(t.meta.updated_at)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(
            res.rows_affected(),
            Entity::AppointmentType,
            t.id.0,
            None,
            &t.meta,
            how,
        )
        .await
    }

    async fn working_hours(
        &mut self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
    ) -> Result<Vec<WorkingHours>> {
        sqlx::query(
            "SELECT * FROM working_hours WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR vet_id = $1) \
             AND ($2::uuid IS NULL OR clinic_id = $2) ORDER BY vet_id, clinic_id, weekday, start_min",
        )
        .bind(vet.map(|v| v.0))
        .bind(clinic.map(|c| c.0))
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(working_hours_row)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(working_hours = %w.id))]
    async fn save_working_hours(&mut self, w: &WorkingHours, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO working_hours (id, vet_id, clinic_id, weekday, start_min, end_min, valid_from, \
             valid_to, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (id) DO UPDATE SET vet_id = excluded.vet_id, clinic_id = excluded.clinic_id, \
             weekday = excluded.weekday, start_min = excluded.start_min, end_min = excluded.end_min, \
             valid_from = excluded.valid_from, valid_to = excluded.valid_to, \
             version = excluded.version, updated_at = excluded.updated_at \
             WHERE working_hours.version = $12 AND working_hours.deleted_at IS NULL",
        )
        .bind(w.id.0)
        .bind(w.vet_id.0)
        .bind(w.clinic_id.0)
        .bind(weekday_num(w.weekday))
        .bind(i64::from(w.span.start_min()))
        .bind(i64::from(w.span.end_min()))
        .bind(w.valid_from)
        .bind(w.valid_to)
        .bind(w.meta.version)
        .bind(w.meta.created_at)
        .bind(w.meta.updated_at)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(
            res.rows_affected(),
            Entity::WorkingHours,
            w.id.0,
            Some(w.clinic_id),
            &w.meta,
            how,
        )
        .await
    }

    async fn date_overrides(
        &mut self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<DateOverride>> {
        sqlx::query(
            "SELECT * FROM date_overrides WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR vet_id = $1) \
             AND ($2::uuid IS NULL OR clinic_id = $2) AND date >= $3 AND date <= $4 ORDER BY date",
        )
        .bind(vet.map(|v| v.0))
        .bind(clinic.map(|c| c.0))
        .bind(first)
        .bind(last)
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(override_row)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(date_override = %o.id))]
    async fn save_date_override(&mut self, o: &DateOverride, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO date_overrides (id, vet_id, clinic_id, date, spans, note, version, created_at, \
             updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET vet_id = excluded.vet_id, clinic_id = excluded.clinic_id, \
             date = excluded.date, spans = excluded.spans, note = excluded.note, \
             version = excluded.version, updated_at = excluded.updated_at \
             WHERE date_overrides.version = $10 AND date_overrides.deleted_at IS NULL",
        )
        .bind(o.id.0)
        .bind(o.vet_id.0)
        .bind(o.clinic_id.0)
        .bind(o.date)
        .bind(LocalSpan::format_list(&o.spans))
        .bind(o.note.as_deref())
        .bind(o.meta.version)
        .bind(o.meta.created_at)
        .bind(o.meta.updated_at)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(
            res.rows_affected(),
            Entity::DateOverride,
            o.id.0,
            Some(o.clinic_id),
            &o.meta,
            how,
        )
        .await
    }

    async fn time_off(
        &mut self,
        vet: Option<VetId>,
        window: Option<Interval>,
    ) -> Result<Vec<TimeOff>> {
        sqlx::query(
            "SELECT * FROM time_off WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR vet_id = $1) \
             AND ($2::timestamptz IS NULL OR start_at < $2) \
             AND ($3::timestamptz IS NULL OR end_at > $3) ORDER BY start_at",
        )
        .bind(vet.map(|v| v.0))
        .bind(window.map(|w| w.end()))
        .bind(window.map(|w| w.start()))
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(time_off_row)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(time_off = %t.id))]
    async fn save_time_off(&mut self, t: &TimeOff, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO time_off (id, vet_id, start_at, end_at, reason, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET vet_id = excluded.vet_id, start_at = excluded.start_at, \
             end_at = excluded.end_at, reason = excluded.reason, version = excluded.version, \
             updated_at = excluded.updated_at \
             WHERE time_off.version = $9 AND time_off.deleted_at IS NULL",
        )
        .bind(t.id.0)
        .bind(t.vet_id.0)
        .bind(t.period.start())
        .bind(t.period.end())
        .bind(t.reason.as_deref())
        .bind(t.meta.version)
        .bind(t.meta.created_at)
        .bind(t.meta.updated_at)
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(
            res.rows_affected(),
            Entity::TimeOff,
            t.id.0,
            None,
            &t.meta,
            how,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(entity = %entity, id = %id))]
    async fn delete(
        &mut self,
        entity: Entity,
        id: Uuid,
        expected_version: i64,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        // RETURNING the clinic (when the kind has one), so live calendars hear of the deletion.
        let sql = format!(
            "UPDATE {} SET deleted_at = $1, updated_at = $1, version = version + 1 \
             WHERE id = $2 AND version = $3 AND deleted_at IS NULL RETURNING {}",
            entity.table(),
            entity.clinic_column().unwrap_or("NULL::uuid")
        );
        let deleted: Option<Option<Uuid>> = sqlx::query_scalar(&sql)
            .bind(at)
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(clinic) = deleted else {
            return Err(self
                .refused(entity, id, Write::Update { expected_version })
                .await);
        };
        let version = expected_version + 1;
        self.log_change(
            entity,
            id,
            clinic.map(ClinicId),
            version,
            ChangeOp::Delete,
            at,
        )
        .await?;
        Ok(version)
    }

    async fn appointment(&mut self, id: AppointmentId) -> Result<Option<Appointment>> {
        sqlx::query("SELECT * FROM appointments WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(appointment_row)
            .transpose()
    }

    async fn appointment_view(&mut self, id: AppointmentId) -> Result<Option<AppointmentView>> {
        let sql = format!("{APPOINTMENT_VIEW_SELECT} WHERE a.id = $1 AND a.deleted_at IS NULL");
        sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(appointment_view_row)
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn appointments(&mut self, f: &AppointmentFilter) -> Result<Page<AppointmentView>> {
        let mut count = QueryBuilder::<Postgres>::new(
            "SELECT count(*) FROM appointments a JOIN pets p ON p.id = a.pet_id \
             JOIN clients c ON c.id = a.client_id",
        );
        push_filter(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *self.tx).await?;

        let mut qb = QueryBuilder::<Postgres>::new(APPOINTMENT_VIEW_SELECT);
        push_filter(&mut qb, f);
        qb.push(" ORDER BY a.start_at, a.id LIMIT ")
            .push_bind(i64::from(f.limit))
            .push(" OFFSET ")
            .push_bind(i64::from(f.offset));
        let items = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(appointment_view_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
            limit: f.limit,
            offset: f.offset,
        })
    }

    #[tracing::instrument(skip_all, fields(vets = vets.len()))]
    async fn bookings(
        &mut self,
        vets: &[VetId],
        window: Interval,
    ) -> Result<Vec<(VetId, Booking)>> {
        if vets.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = vets.iter().map(|v| v.0).collect();
        let rows = sqlx::query(PgStore::BOOKINGS_QUERY)
            .bind(ids)
            .bind(window.start() - MAX_BLOCK)
            .bind(window.end())
            .bind(window.start())
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|r| Ok((VetId(r.try_get("vet_id")?), booking_row(r)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(in_vet_order(vets, rows))
    }

    #[tracing::instrument(skip_all, fields(vets = vets.len()))]
    async fn busy(
        &mut self,
        vets: &[VetId],
        window: Interval,
        ignoring: Option<AppointmentId>,
    ) -> Result<Vec<(VetId, Interval)>> {
        if vets.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = vets.iter().map(|v| v.0).collect();
        let rows = sqlx::query(PgStore::BUSY_QUERY)
            .bind(ids)
            .bind(window.start() - MAX_BLOCK)
            .bind(window.end())
            .bind(window.start())
            .bind(ignoring.map(|a| a.0))
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    VetId(r.try_get("vet_id")?),
                    interval(r.try_get("blocked_start")?, r.try_get("blocked_end")?)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(in_vet_order(vets, rows))
    }

    #[tracing::instrument(skip_all, fields(appointment = %a.id))]
    async fn save_appointment(&mut self, a: &Appointment, how: Write) -> Result<()> {
        let blocked = a.blocked();
        if matches!(how, Write::Update { .. }) && a.status.holds_time() {
            // Updates of one vet's appointments take turns: two updates that
            // move appointments onto each other's time would otherwise each
            // wait for the other's row (a deadlock, costing a second before
            // PostgreSQL breaks it). Inserts need no turn: see insert_appointment.
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2::text))")
                .bind(VET_LOCKS)
                .bind(a.vet_id.0)
                .execute(&mut *self.tx)
                .await?;
        }
        let mut attempt = 1;
        loop {
            // A savepoint, so that a refused row leaves the transaction usable
            // (to find out who holds the time, or to carry on, as on SQLite).
            sqlx::query("SAVEPOINT vetdesk_save_appointment")
                .execute(&mut *self.tx)
                .await?;
            let written = match how {
                Write::Insert => self.insert_appointment(a, blocked).await,
                Write::Update { expected_version } => {
                    self.update_appointment(a, blocked, expected_version).await
                }
            };
            let e = match written {
                Ok(rows) => {
                    sqlx::query("RELEASE SAVEPOINT vetdesk_save_appointment")
                        .execute(&mut *self.tx)
                        .await?;
                    if rows == 1 {
                        return self
                            .saved(
                                rows,
                                Entity::Appointment,
                                a.id.0,
                                Some(a.clinic_id),
                                &a.meta,
                                how,
                            )
                            .await;
                    }
                    // Only an insert can come back empty-handed without an
                    // error: its id exists already, or its time is taken.
                    if let Write::Update { .. } = how {
                        return Err(self.refused(Entity::Appointment, a.id.0, how).await);
                    }
                    if self.exists(Entity::Appointment, a.id.0).await? {
                        return Err(self.refused(Entity::Appointment, a.id.0, how).await);
                    }
                    let taken_by = self.taken_by(a.vet_id, blocked, a.id).await?;
                    // Empty: what was in the way went away meanwhile; try again.
                    if !taken_by.is_empty() || attempt >= SAVE_ATTEMPTS {
                        tracing::info!(taken_by = taken_by.len(), "the time is already taken");
                        return Err(StoreError::Overlap { taken_by });
                    }
                    attempt += 1;
                    continue;
                }
                Err(e) => e,
            };
            let undone = self.undo_save_appointment().await;
            if is_exclusion_violation(&e) {
                undone?;
                let taken_by = self.taken_by(a.vet_id, blocked, a.id).await?;
                tracing::info!(taken_by = taken_by.len(), "the time is already taken");
                return Err(StoreError::Overlap { taken_by });
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

    async fn history(&mut self, id: AppointmentId) -> Result<Vec<HistoryEntry>> {
        sqlx::query("SELECT * FROM appointment_history WHERE appointment_id = $1 ORDER BY seq")
            .bind(id.0)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(history_row)
            .collect()
    }

    async fn add_history(&mut self, h: &HistoryEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO appointment_history (appointment_id, version, action, from_status, to_status, \
             start_at, end_at, note, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(h.appointment_id.0)
        .bind(h.version)
        .bind(&h.action)
        .bind(h.from_status.map(|s| s.as_str()))
        .bind(h.to_status.as_str())
        .bind(h.slot.start())
        .bind(h.slot.end())
        .bind(h.note.as_deref())
        .bind(&h.actor.0)
        .bind(h.at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_print_without_their_passwords() {
        assert_eq!(
            redact_url("postgres://desk:s3cret@db.example:5432/vetdesk"),
            "postgres://desk:***@db.example:5432/vetdesk"
        );
        assert_eq!(
            redact_url("postgres://desk@db.example/vetdesk?password=s3cret&sslmode=require"),
            "postgres://desk@db.example/vetdesk?password=***&sslmode=require"
        );
        assert_eq!(redact_url("/home/desk/vetdesk.db"), "/home/desk/vetdesk.db");
    }

    #[test]
    fn the_password_never_reaches_a_message() {
        let url = "postgres://nobody:s3%21cret@db.example:5432/vetdesk?password=other";
        let secrets = url_secrets(url);
        assert_eq!(secrets, ["s3%21cret", "other"]);
        let msg = redact(format!("could not use {url} with s3!cret"), &secrets);
        assert!(
            !msg.contains("s3%21cret") && !msg.contains("s3!cret") && !msg.contains("other"),
            "{msg}"
        );
        assert!(url_secrets("postgres://nobody@db.example/vetdesk").is_empty());
        assert_eq!(url_secrets("postgres://u:p@w@host/db"), ["p@w"]);
        assert!(url_secrets("not a url").is_empty());
    }

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
