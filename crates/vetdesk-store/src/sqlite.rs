//! The SQLite engine: a file in WAL mode with foreign keys on and a busy
//! timeout; write transactions start with `BEGIN IMMEDIATE`, taking SQLite's
//! single write lock up front so that a conflict check made inside one still
//! holds at commit, across connections and processes.

mod access;
pub(crate) mod outbox;

use crate::{
    AppointmentFilter, AppointmentView, Change, ChangeOp, Entity, Page, Result, Store, StoreError,
    Tx, Write, CHANGE_BUFFER, MAX_BLOCK,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc, Weekday};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;
use vetdesk_core::*;

/// The range queries on the scheduling hot path, public so tests can check
/// their query plans use the indexes.
pub mod queries {
    /// A vet's (`?1`) time-holding appointments whose blocked time overlaps
    /// `[?4, ?3)`; `?2` is `?4 - MAX_BLOCK`, bounding the index range scan from below.
    ///
    /// The rows come back packed into one text value, `id start end blocked_start
    /// blocked_end` per booking, comma-separated: sqlx costs a few microseconds
    /// per row, and a busy month holds tens of thousands (BENCHMARKS.md).
    pub const BOOKINGS_OF_VET: &str =
        "SELECT group_concat(hex(id) || ' ' || start_at || ' ' || end_at || ' ' \
         || blocked_start || ' ' || blocked_end, ',') FROM appointments \
         WHERE vet_id = ?1 AND holds_time = 1 AND deleted_at IS NULL \
         AND blocked_start >= ?2 AND blocked_start < ?3 AND blocked_end > ?4";

    /// The blocked time of a vet's (`?1`) time-holding appointments overlapping
    /// `[?4, ?3)`, except appointment `?5`, packed as `start end` pairs:
    /// without the ids, SQLite builds the text in about a third of the time.
    pub const BUSY_OF_VET: &str = "SELECT group_concat(blocked_start || ' ' || blocked_end, ',') FROM appointments \
         WHERE vet_id = ?1 AND holds_time = 1 AND deleted_at IS NULL \
         AND blocked_start >= ?2 AND blocked_start < ?3 AND blocked_end > ?4 AND (?5 IS NULL OR id <> ?5)";

    /// Time off (of one vet, or all) overlapping `[?3, ?2)`.
    pub const TIME_OFF: &str =
        "SELECT * FROM time_off WHERE deleted_at IS NULL AND (?1 IS NULL OR vet_id = ?1) \
         AND start_at < ?2 AND end_at > ?3 ORDER BY start_at";
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    /// Connections with `synchronous=NORMAL`, for [`Store::write_relaxed`].
    relaxed: SqlitePool,
    changes: broadcast::Sender<Change>,
}

impl SqliteStore {
    /// Open (creating if needed) and migrate. Accepts `sqlite://path`,
    /// `sqlite:path`, `sqlite::memory:` or a plain path.
    #[tracing::instrument(skip_all, fields(url = %url))]
    pub async fn open(url: &str) -> Result<Self> {
        let opts = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let memory = url.contains(":memory:");
        let opts = opts
            .create_if_missing(true)
            .journal_mode(if memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            // An in-memory database lives in one connection.
            .max_connections(if memory { 1 } else { 8 })
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?;
        migrate(&pool).await?;
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

async fn migrate(pool: &SqlitePool) -> Result<()> {
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    MIGRATOR.run(pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::VersionMissing(found) => {
            StoreError::SchemaTooNew { found, known }
        }
        other => StoreError::Unavailable(format!("applying migrations: {other}")),
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
    async fn read(&self) -> Result<Box<dyn Tx>> {
        let tx = begin(&self.pool, "BEGIN").await?;
        Ok(Box::new(SqliteTx {
            tx,
            pending: Vec::new(),
            changes: self.changes.clone(),
        }))
    }
    async fn write(&self) -> Result<Box<dyn Tx>> {
        let tx = begin(&self.pool, "BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx {
            tx,
            pending: Vec::new(),
            changes: self.changes.clone(),
        }))
    }
    async fn write_relaxed(&self) -> Result<Box<dyn Tx>> {
        let tx = begin(&self.relaxed, "BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx {
            tx,
            pending: Vec::new(),
            changes: self.changes.clone(),
        }))
    }
    async fn close(&self) {
        self.relaxed.close().await;
        self.pool.close().await;
    }
    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}

/// Open a transaction so that a caller who gives up half-way (a client that
/// disconnects, a timeout) cannot leave it open on a pooled connection: with
/// sqlx 0.8 a `begin_with` dropped at the wrong moment returns the connection
/// inside its transaction, and after `BEGIN IMMEDIATE` that connection holds
/// the database's write lock, so every later writer waits out its busy
/// timeout. The `BEGIN` runs in a task of its own, which always finishes; a
/// transaction nobody waits for any more is dropped, which rolls it back.
async fn begin(pool: &SqlitePool, statement: &'static str) -> Result<Transaction<'static, Sqlite>> {
    let pool = pool.clone();
    tokio::spawn(async move { pool.begin_with(statement).await })
        .await
        .map_err(|e| StoreError::Unavailable(format!("opening a transaction: {e}")))?
        .map_err(StoreError::from)
}

struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    /// Changes written in this transaction, announced once it commits.
    pending: Vec<Change>,
    changes: broadcast::Sender<Change>,
}

// ---------- conversions ----------

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v)
        .ok_or_else(|| StoreError::Corrupt(format!("instant {v} out of range")))
}

fn interval(start: i64, end: i64) -> Result<Interval> {
    Interval::new(from_ms(start)?, from_ms(end)?).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn date(s: &str) -> Result<NaiveDate> {
    parse_date(s).map_err(corrupt)
}

fn date_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn weekday_num(w: Weekday) -> i64 {
    i64::from(w.num_days_from_monday())
}

fn weekday(n: i64) -> Result<Weekday> {
    u8::try_from(n)
        .ok()
        .and_then(|n| Weekday::try_from(n).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("weekday {n}")))
}

fn meta(r: &SqliteRow) -> Result<Meta> {
    Ok(Meta {
        version: r.try_get("version")?,
        created_at: from_ms(r.try_get("created_at")?)?,
        updated_at: from_ms(r.try_get("updated_at")?)?,
    })
}

fn name(r: &SqliteRow, col: &'static str) -> Result<Name> {
    Name::parse(col, r.try_get::<&str, _>(col)?).map_err(corrupt)
}

fn opt_u32(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(corrupt)
}

fn clinic_row(r: &SqliteRow) -> Result<Clinic> {
    Ok(Clinic {
        id: ClinicId(r.try_get("id")?),
        name: name(r, "name")?,
        time_zone: parse_time_zone(r.try_get("time_zone")?).map_err(corrupt)?,
        meta: meta(r)?,
    })
}

fn client_row(r: &SqliteRow) -> Result<Client> {
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

fn pet_row(r: &SqliteRow) -> Result<Pet> {
    let dob: Option<&str> = r.try_get("date_of_birth")?;
    Ok(Pet {
        id: PetId(r.try_get("id")?),
        owner: ClientId(r.try_get("owner_id")?),
        name: name(r, "name")?,
        species: name(r, "species")?,
        breed: r.try_get("breed")?,
        date_of_birth: dob.map(date).transpose()?,
        meta: meta(r)?,
    })
}

fn type_row(r: &SqliteRow) -> Result<AppointmentType> {
    Ok(AppointmentType {
        id: AppointmentTypeId(r.try_get("id")?),
        name: name(r, "name")?,
        duration_min: opt_u32(r.try_get("duration_min")?)?,
        colour: Colour::parse(r.try_get("colour")?).map_err(corrupt)?,
        buffer_before_min: opt_u32(r.try_get("buffer_before_min")?)?,
        buffer_after_min: opt_u32(r.try_get("buffer_after_min")?)?,
        meta: meta(r)?,
    })
}

fn span(start: i64, end: i64) -> Result<LocalSpan> {
    let s = u16::try_from(start).map_err(corrupt)?;
    let e = u16::try_from(end).map_err(corrupt)?;
    LocalSpan::new(s, e).map_err(corrupt)
}

fn working_hours_row(r: &SqliteRow) -> Result<WorkingHours> {
    let valid_to: Option<&str> = r.try_get("valid_to")?;
    Ok(WorkingHours {
        id: WorkingHoursId(r.try_get("id")?),
        vet_id: VetId(r.try_get("vet_id")?),
        clinic_id: ClinicId(r.try_get("clinic_id")?),
        weekday: weekday(r.try_get("weekday")?)?,
        span: span(r.try_get("start_min")?, r.try_get("end_min")?)?,
        valid_from: date(r.try_get("valid_from")?)?,
        valid_to: valid_to.map(date).transpose()?,
        meta: meta(r)?,
    })
}

fn override_row(r: &SqliteRow) -> Result<DateOverride> {
    Ok(DateOverride {
        id: DateOverrideId(r.try_get("id")?),
        vet_id: VetId(r.try_get("vet_id")?),
        clinic_id: ClinicId(r.try_get("clinic_id")?),
        date: date(r.try_get("date")?)?,
        spans: LocalSpan::parse_list(r.try_get("spans")?).map_err(corrupt)?,
        note: r.try_get("note")?,
        meta: meta(r)?,
    })
}

fn time_off_row(r: &SqliteRow) -> Result<TimeOff> {
    Ok(TimeOff {
        id: TimeOffId(r.try_get("id")?),
        vet_id: VetId(r.try_get("vet_id")?),
        period: interval(r.try_get("start_at")?, r.try_get("end_at")?)?,
        reason: r.try_get("reason")?,
        meta: meta(r)?,
    })
}

fn appointment_row(r: &SqliteRow) -> Result<Appointment> {
    Ok(Appointment {
        id: AppointmentId(r.try_get("id")?),
        clinic_id: ClinicId(r.try_get("clinic_id")?),
        vet_id: VetId(r.try_get("vet_id")?),
        pet_id: PetId(r.try_get("pet_id")?),
        client_id: ClientId(r.try_get("client_id")?),
        type_id: AppointmentTypeId(r.try_get("type_id")?),
        slot: interval(r.try_get("start_at")?, r.try_get("end_at")?)?,
        buffer_before_min: opt_u32(r.try_get("buffer_before_min")?)?,
        buffer_after_min: opt_u32(r.try_get("buffer_after_min")?)?,
        status: Status::from_str(r.try_get("status")?).map_err(corrupt)?,
        reason: r.try_get("reason")?,
        notes: r.try_get("notes")?,
        cancel_reason: r.try_get("cancel_reason")?,
        created_by: Actor(r.try_get("created_by")?),
        updated_by: Actor(r.try_get("updated_by")?),
        meta: meta(r)?,
    })
}

fn appointment_view_row(r: &SqliteRow) -> Result<AppointmentView> {
    Ok(AppointmentView {
        appointment: appointment_row(r)?,
        pet_name: r.try_get("pet_name")?,
        client_name: r.try_get("client_name")?,
        vet_name: r.try_get("vet_name")?,
        type_name: r.try_get("type_name")?,
        colour: r.try_get("colour")?,
    })
}

fn history_row(r: &SqliteRow) -> Result<HistoryEntry> {
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
        at: from_ms(r.try_get("at")?)?,
    })
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

fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, f: &AppointmentFilter) {
    qb.push(" WHERE a.deleted_at IS NULL");
    if !f.statuses.is_empty() {
        qb.push(" AND a.status IN (");
        let mut sep = qb.separated(", ");
        for s in &f.statuses {
            sep.push_bind(s.as_str());
        }
        qb.push(")");
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
        qb.push(" AND a.start_at >= ").push_bind(ms(from));
    }
    if let Some(to) = f.to {
        qb.push(" AND a.start_at < ").push_bind(ms(to));
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

impl SqliteTx {
    /// After an upsert that touched no row, find out why.
    async fn refused(&mut self, entity: Entity, id: Uuid, how: Write) -> StoreError {
        let sql = format!(
            "SELECT version, deleted_at FROM {} WHERE id = ?",
            entity.table()
        );
        let current: std::result::Result<Option<(i64, Option<i64>)>, _> = sqlx::query_as(&sql)
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

    /// Append to the change log, and keep the change to announce at commit.
    async fn log_change(
        &mut self,
        entity: Entity,
        id: Uuid,
        clinic_id: Option<ClinicId>,
        version: i64,
        op: ChangeOp,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO change_log (entity, entity_id, clinic_id, version, op, at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(entity.as_str())
        .bind(id)
        .bind(clinic_id.map(|c| c.0))
        .bind(version)
        .bind(op.as_str())
        .bind(ms(at))
        .fetch_one(&mut *self.tx)
        .await?;
        self.pending.push(Change {
            seq,
            entity,
            id,
            clinic_id,
            version,
            op,
            at,
        });
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
}

/// The `WHERE` of every upsert: an insert must not find the row; an update
/// must find it live at the expected version.
fn expected(how: Write) -> i64 {
    match how {
        Write::Insert => -1,
        Write::Update { expected_version } => expected_version,
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> Result<()> {
        let SqliteTx {
            tx,
            pending,
            changes,
        } = *self;
        tx.commit().await?;
        for c in pending {
            // Nobody listening is fine.
            let _ = changes.send(c);
        }
        Ok(())
    }

    async fn clinic(&mut self, id: ClinicId) -> Result<Option<Clinic>> {
        sqlx::query("SELECT * FROM clinics WHERE id = ? AND deleted_at IS NULL")
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
            "INSERT INTO clinics (id, name, time_zone, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, \
             version = excluded.version, updated_at = excluded.updated_at \
             WHERE clinics.version = ? AND clinics.deleted_at IS NULL",
        )
        .bind(c.id.0)
        .bind(c.name.as_str())
        .bind(c.time_zone.name())
        .bind(c.meta.version)
        .bind(ms(c.meta.created_at))
        .bind(ms(c.meta.updated_at))
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
        let Some(row) = sqlx::query("SELECT * FROM vets WHERE id = ? AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
        else {
            return Ok(None);
        };
        let clinics: Vec<Uuid> = sqlx::query_scalar(
            "SELECT clinic_id FROM vet_clinics WHERE vet_id = ? ORDER BY clinic_id",
        )
        .bind(id.0)
        .fetch_all(&mut *self.tx)
        .await?;
        let email: Option<&str> = row.try_get("email")?;
        Ok(Some(Vet {
            id,
            name: name(&row, "name")?,
            email: email.map(Email::parse).transpose().map_err(corrupt)?,
            clinics: clinics.into_iter().map(ClinicId).collect(),
            meta: meta(&row)?,
        }))
    }

    async fn vets(&mut self, clinic: Option<ClinicId>) -> Result<Vec<Vet>> {
        let rows = sqlx::query(
            "SELECT v.*, (SELECT group_concat(hex(clinic_id)) FROM vet_clinics vc WHERE vc.vet_id = v.id) AS clinic_ids \
             FROM vets v WHERE v.deleted_at IS NULL \
             AND (?1 IS NULL OR EXISTS (SELECT 1 FROM vet_clinics vc WHERE vc.vet_id = v.id AND vc.clinic_id = ?1)) \
             ORDER BY v.name, v.id",
        )
        .bind(clinic.map(|c| c.0))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                let ids: Option<&str> = r.try_get("clinic_ids")?;
                let mut clinics = ids
                    .unwrap_or("")
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|h| Uuid::try_parse(h).map(ClinicId).map_err(corrupt))
                    .collect::<Result<Vec<_>>>()?;
                clinics.sort();
                let email: Option<&str> = r.try_get("email")?;
                Ok(Vet {
                    id: VetId(r.try_get("id")?),
                    name: name(r, "name")?,
                    email: email.map(Email::parse).transpose().map_err(corrupt)?,
                    clinics,
                    meta: meta(r)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(vet = %v.id))]
    async fn save_vet(&mut self, v: &Vet, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO vets (id, name, email, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email, \
             version = excluded.version, updated_at = excluded.updated_at \
             WHERE vets.version = ? AND vets.deleted_at IS NULL",
        )
        .bind(v.id.0)
        .bind(v.name.as_str())
        .bind(v.email.as_ref().map(Email::as_str))
        .bind(v.meta.version)
        .bind(ms(v.meta.created_at))
        .bind(ms(v.meta.updated_at))
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(res.rows_affected(), Entity::Vet, v.id.0, None, &v.meta, how)
            .await?;
        sqlx::query("DELETE FROM vet_clinics WHERE vet_id = ?")
            .bind(v.id.0)
            .execute(&mut *self.tx)
            .await?;
        for c in &v.clinics {
            sqlx::query("INSERT INTO vet_clinics (vet_id, clinic_id) VALUES (?, ?)")
                .bind(v.id.0)
                .bind(c.0)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn client(&mut self, id: ClientId) -> Result<Option<Client>> {
        sqlx::query("SELECT * FROM clients WHERE id = ? AND deleted_at IS NULL")
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
            "SELECT * FROM clients WHERE deleted_at IS NULL AND (?1 IS NULL OR search_name LIKE ?1 ESCAPE '\\' \
             OR lower(coalesce(email, '')) LIKE ?1 ESCAPE '\\' OR coalesce(phone, '') LIKE ?1 ESCAPE '\\') \
             ORDER BY search_name, id LIMIT ?2",
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
            "INSERT INTO clients (id, name, search_name, email, phone, preferred_channel, email_opt_out, sms_opt_out, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, search_name = excluded.search_name, email = excluded.email, phone = excluded.phone, \
             preferred_channel = excluded.preferred_channel, email_opt_out = excluded.email_opt_out, \
             sms_opt_out = excluded.sms_opt_out, version = excluded.version, updated_at = excluded.updated_at \
             WHERE clients.version = ? AND clients.deleted_at IS NULL",
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
        .bind(ms(c.meta.created_at))
        .bind(ms(c.meta.updated_at))
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
        sqlx::query("SELECT * FROM pets WHERE id = ? AND deleted_at IS NULL")
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
            "SELECT * FROM pets WHERE deleted_at IS NULL AND (?1 IS NULL OR owner_id = ?1) \
             AND (?2 IS NULL OR search_name LIKE ?2 ESCAPE '\\') ORDER BY search_name, id LIMIT ?3",
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
            "INSERT INTO pets (id, owner_id, name, search_name, species, breed, date_of_birth, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET owner_id = excluded.owner_id, name = excluded.name, \
             search_name = excluded.search_name, species = excluded.species, \
             breed = excluded.breed, date_of_birth = excluded.date_of_birth, version = excluded.version, \
             updated_at = excluded.updated_at WHERE pets.version = ? AND pets.deleted_at IS NULL",
        )
        .bind(p.id.0)
        .bind(p.owner.0)
        .bind(p.name.as_str())
        .bind(search_key(p.name.as_str()))
        .bind(p.species.as_str())
        .bind(p.breed.as_deref())
        .bind(p.date_of_birth.map(date_str))
        .bind(p.meta.version)
        .bind(ms(p.meta.created_at))
        .bind(ms(p.meta.updated_at))
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(res.rows_affected(), Entity::Pet, p.id.0, None, &p.meta, how)
            .await
    }

    async fn appointment_type(&mut self, id: AppointmentTypeId) -> Result<Option<AppointmentType>> {
        sqlx::query("SELECT * FROM appointment_types WHERE id = ? AND deleted_at IS NULL")
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
            "INSERT INTO appointment_types (id, name, duration_min, colour, buffer_before_min, buffer_after_min, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, duration_min = excluded.duration_min, colour = excluded.colour, \
             buffer_before_min = excluded.buffer_before_min, buffer_after_min = excluded.buffer_after_min, \
             version = excluded.version, updated_at = excluded.updated_at \
             WHERE appointment_types.version = ? AND appointment_types.deleted_at IS NULL",
        )
        .bind(t.id.0)
        .bind(t.name.as_str())
        .bind(i64::from(t.duration_min))
        .bind(t.colour.as_str())
        .bind(i64::from(t.buffer_before_min))
        .bind(i64::from(t.buffer_after_min))
        .bind(t.meta.version)
        .bind(ms(t.meta.created_at))
        .bind(ms(t.meta.updated_at))
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
            "SELECT * FROM working_hours WHERE deleted_at IS NULL AND (?1 IS NULL OR vet_id = ?1) \
             AND (?2 IS NULL OR clinic_id = ?2) ORDER BY vet_id, clinic_id, weekday, start_min",
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
            "INSERT INTO working_hours (id, vet_id, clinic_id, weekday, start_min, end_min, valid_from, valid_to, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET vet_id = excluded.vet_id, clinic_id = excluded.clinic_id, weekday = excluded.weekday, \
             start_min = excluded.start_min, end_min = excluded.end_min, valid_from = excluded.valid_from, \
             valid_to = excluded.valid_to, version = excluded.version, updated_at = excluded.updated_at \
             WHERE working_hours.version = ? AND working_hours.deleted_at IS NULL",
        )
        .bind(w.id.0)
        .bind(w.vet_id.0)
        .bind(w.clinic_id.0)
        .bind(weekday_num(w.weekday))
        .bind(i64::from(w.span.start_min()))
        .bind(i64::from(w.span.end_min()))
        .bind(date_str(w.valid_from))
        .bind(w.valid_to.map(date_str))
        .bind(w.meta.version)
        .bind(ms(w.meta.created_at))
        .bind(ms(w.meta.updated_at))
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
            "SELECT * FROM date_overrides WHERE deleted_at IS NULL AND (?1 IS NULL OR vet_id = ?1) \
             AND (?2 IS NULL OR clinic_id = ?2) AND date >= ?3 AND date <= ?4 ORDER BY date",
        )
        .bind(vet.map(|v| v.0))
        .bind(clinic.map(|c| c.0))
        .bind(date_str(first))
        .bind(date_str(last))
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(override_row)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(date_override = %o.id))]
    async fn save_date_override(&mut self, o: &DateOverride, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO date_overrides (id, vet_id, clinic_id, date, spans, note, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET vet_id = excluded.vet_id, clinic_id = excluded.clinic_id, date = excluded.date, \
             spans = excluded.spans, note = excluded.note, version = excluded.version, updated_at = excluded.updated_at \
             WHERE date_overrides.version = ? AND date_overrides.deleted_at IS NULL",
        )
        .bind(o.id.0)
        .bind(o.vet_id.0)
        .bind(o.clinic_id.0)
        .bind(date_str(o.date))
        .bind(LocalSpan::format_list(&o.spans))
        .bind(o.note.as_deref())
        .bind(o.meta.version)
        .bind(ms(o.meta.created_at))
        .bind(ms(o.meta.updated_at))
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
        let (lo, hi) = window.map_or((i64::MIN, i64::MAX), |w| (ms(w.start()), ms(w.end())));
        sqlx::query(queries::TIME_OFF)
            .bind(vet.map(|v| v.0))
            .bind(hi)
            .bind(lo)
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET vet_id = excluded.vet_id, start_at = excluded.start_at, end_at = excluded.end_at, \
             reason = excluded.reason, version = excluded.version, updated_at = excluded.updated_at \
             WHERE time_off.version = ? AND time_off.deleted_at IS NULL",
        )
        .bind(t.id.0)
        .bind(t.vet_id.0)
        .bind(ms(t.period.start()))
        .bind(ms(t.period.end()))
        .bind(t.reason.as_deref())
        .bind(t.meta.version)
        .bind(ms(t.meta.created_at))
        .bind(ms(t.meta.updated_at))
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
            "UPDATE {} SET deleted_at = ?, updated_at = ?, version = version + 1 \
             WHERE id = ? AND version = ? AND deleted_at IS NULL RETURNING {}",
            entity.table(),
            entity.clinic_column().unwrap_or("NULL")
        );
        let deleted: Option<Option<Uuid>> = sqlx::query_scalar(&sql)
            .bind(ms(at))
            .bind(ms(at))
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
        sqlx::query("SELECT * FROM appointments WHERE id = ? AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(appointment_row)
            .transpose()
    }

    async fn appointment_view(&mut self, id: AppointmentId) -> Result<Option<AppointmentView>> {
        let sql = format!("{APPOINTMENT_VIEW_SELECT} WHERE a.id = ? AND a.deleted_at IS NULL");
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
        let mut count = QueryBuilder::<Sqlite>::new(
            "SELECT count(*) FROM appointments a JOIN pets p ON p.id = a.pet_id JOIN clients c ON c.id = a.client_id",
        );
        push_filter(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *self.tx).await?;

        let mut qb = QueryBuilder::<Sqlite>::new(APPOINTMENT_VIEW_SELECT);
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
        let lo = ms(window.start());
        let hi = ms(window.end());
        let mut out = Vec::new();
        for vet in vets {
            // Bounded from both sides on (vet_id, blocked_start): nothing blocks longer than MAX_BLOCK.
            let packed: Option<String> = sqlx::query_scalar(queries::BOOKINGS_OF_VET)
                .bind(vet.0)
                .bind(lo - MAX_BLOCK.num_milliseconds())
                .bind(hi)
                .bind(lo)
                .fetch_one(&mut *self.tx)
                .await?;
            let first = out.len();
            for item in packed
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter(|s| !s.is_empty())
            {
                out.push((*vet, unpack_booking(item)?));
            }
            // Index order in practice, but group_concat promises none.
            out[first..].sort_by_key(|(_, b)| b.blocked.start());
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(vets = vets.len()))]
    async fn busy(
        &mut self,
        vets: &[VetId],
        window: Interval,
        ignoring: Option<AppointmentId>,
    ) -> Result<Vec<(VetId, Interval)>> {
        let lo = ms(window.start());
        let hi = ms(window.end());
        let mut out = Vec::new();
        for vet in vets {
            let packed: Option<String> = sqlx::query_scalar(queries::BUSY_OF_VET)
                .bind(vet.0)
                .bind(lo - MAX_BLOCK.num_milliseconds())
                .bind(hi)
                .bind(lo)
                .bind(ignoring.map(|a| a.0))
                .fetch_one(&mut *self.tx)
                .await?;
            let first = out.len();
            for item in packed
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter(|s| !s.is_empty())
            {
                let bad = || StoreError::Corrupt(format!("packed busy time '{item}'"));
                let (a, b) = item.split_once(' ').ok_or_else(bad)?;
                let (a, b) = (
                    a.parse::<i64>().map_err(|_| bad())?,
                    b.parse::<i64>().map_err(|_| bad())?,
                );
                out.push((*vet, interval(a, b)?));
            }
            out[first..].sort_by_key(|(_, iv)| iv.start());
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(appointment = %a.id))]
    async fn save_appointment(&mut self, a: &Appointment, how: Write) -> Result<()> {
        let blocked = a.blocked();
        let res = sqlx::query(
            "INSERT INTO appointments (id, clinic_id, vet_id, pet_id, client_id, type_id, start_at, end_at, \
             buffer_before_min, buffer_after_min, blocked_start, blocked_end, status, holds_time, reason, notes, \
             cancel_reason, created_by, updated_by, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET clinic_id = excluded.clinic_id, vet_id = excluded.vet_id, \
             pet_id = excluded.pet_id, client_id = excluded.client_id, type_id = excluded.type_id, \
             start_at = excluded.start_at, end_at = excluded.end_at, buffer_before_min = excluded.buffer_before_min, \
             buffer_after_min = excluded.buffer_after_min, blocked_start = excluded.blocked_start, \
             blocked_end = excluded.blocked_end, status = excluded.status, holds_time = excluded.holds_time, \
             reason = excluded.reason, notes = excluded.notes, cancel_reason = excluded.cancel_reason, \
             updated_by = excluded.updated_by, version = excluded.version, updated_at = excluded.updated_at \
             WHERE appointments.version = ? AND appointments.deleted_at IS NULL",
        )
        .bind(a.id.0)
        .bind(a.clinic_id.0)
        .bind(a.vet_id.0)
        .bind(a.pet_id.0)
        .bind(a.client_id.0)
        .bind(a.type_id.0)
        .bind(ms(a.slot.start()))
        .bind(ms(a.slot.end()))
        .bind(i64::from(a.buffer_before_min))
        .bind(i64::from(a.buffer_after_min))
        .bind(ms(blocked.start()))
        .bind(ms(blocked.end()))
        .bind(a.status.as_str())
        .bind(a.status.holds_time())
        .bind(a.reason.as_deref())
        .bind(a.notes.as_deref())
        .bind(a.cancel_reason.as_deref())
        .bind(&a.created_by.0)
        .bind(&a.updated_by.0)
        .bind(a.meta.version)
        .bind(ms(a.meta.created_at))
        .bind(ms(a.meta.updated_at))
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(
            res.rows_affected(),
            Entity::Appointment,
            a.id.0,
            Some(a.clinic_id),
            &a.meta,
            how,
        )
        .await
    }

    async fn history(&mut self, id: AppointmentId) -> Result<Vec<HistoryEntry>> {
        sqlx::query("SELECT * FROM appointment_history WHERE appointment_id = ? ORDER BY seq")
            .bind(id.0)
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(history_row)
            .collect()
    }

    async fn add_history(&mut self, h: &HistoryEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO appointment_history (appointment_id, version, action, from_status, to_status, start_at, end_at, note, actor, at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(h.appointment_id.0)
        .bind(h.version)
        .bind(&h.action)
        .bind(h.from_status.map(|s| s.as_str()))
        .bind(h.to_status.as_str())
        .bind(ms(h.slot.start()))
        .bind(ms(h.slot.end()))
        .bind(h.note.as_deref())
        .bind(&h.actor.0)
        .bind(ms(h.at))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
