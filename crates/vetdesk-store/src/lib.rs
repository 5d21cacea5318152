//! vetdesk's store: one contract ([`Store`] and [`Tx`]) and its engines.
//!
//! SQLite ([`SqliteStore`]) is the embedded default: one file on one machine.
//! PostgreSQL ([`PgStore`]) is the shared store for several workstations, behind
//! the same contract; [`open`] picks the engine from the URL.
//!
//! Every operation runs inside a transaction the caller opens with
//! [`Store::read`] or [`Store::write`]. A check made inside a write transaction
//! still holds at commit: SQLite takes its single write lock up front (`BEGIN
//! IMMEDIATE`); PostgreSQL lets writers run side by side and enforces "no
//! double booking" itself, with an exclusion constraint whose violation
//! becomes [`StoreError::Overlap`] naming the appointments in the way.
//! Dropping a transaction without committing rolls it back.
//!
//! Every committed change is announced to [`Store::subscribe`]rs: by SQLite to
//! its own process, by PostgreSQL (LISTEN/NOTIFY) to every store on the database.

mod access;
mod error;
mod outbox;
mod postgres;
mod privacy;
mod sql;
mod sqlite;

pub use access::{AccessTx, AuditFilter, AuditRecord, Revoke, SessionRecord, StreamTicketRecord};
pub use error::{StoreError, TlsProblem};
pub use outbox::{
    ClaimRequest, ClaimResult, ClaimScope, DesktopScope, Finish, OutboxFilter, OutboxRecord,
    OutboxTx, StoredSettings, StoredTemplate,
};
pub use postgres::{pg_dump_advice, redact_url, PgStore, RoleReport, APPEND_ONLY_TABLES};
pub use privacy::{
    ClientRecord, Erased, PrivacyTx, ERASED_CLIENT_NAME, ERASED_PET_NAME, ERASED_REASON,
};
pub use sql::template_id;
pub use sqlite::{
    inspect, known_schema_version, queries, restore, set_aside, BackupFile, BackupFolder, Depth,
    FileCheck, Restored, SqliteOptions, SqliteStore, BACKUP_PAUSE_ENV, KEEP_BACKUPS,
};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;
use uuid::Uuid;
use vetdesk_core::{
    Appointment, AppointmentId, AppointmentType, AppointmentTypeId, Booking, Client, ClientId,
    Clinic, ClinicId, DateOverride, HistoryEntry, Interval, Pet, PetId, Status, TimeOff, Vet,
    VetId, WorkingHours,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The kinds of record the store keeps; used in errors, deletions and the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Clinic,
    Vet,
    Client,
    Pet,
    AppointmentType,
    WorkingHours,
    DateOverride,
    TimeOff,
    Appointment,
    User,
    MessageTemplate,
    NotificationSettings,
    OutboxMessage,
}

impl Entity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Entity::Clinic => "clinic",
            Entity::Vet => "vet",
            Entity::Client => "client",
            Entity::Pet => "pet",
            Entity::AppointmentType => "appointment_type",
            Entity::WorkingHours => "working_hours",
            Entity::DateOverride => "date_override",
            Entity::TimeOff => "time_off",
            Entity::Appointment => "appointment",
            Entity::User => "user",
            Entity::MessageTemplate => "message_template",
            Entity::NotificationSettings => "notification_settings",
            Entity::OutboxMessage => "outbox_message",
        }
    }
    /// The column naming the clinic whose calendars a record of this kind touches.
    pub(crate) fn clinic_column(&self) -> Option<&'static str> {
        match self {
            Entity::Clinic => Some("id"),
            Entity::WorkingHours | Entity::DateOverride | Entity::Appointment => Some("clinic_id"),
            _ => None,
        }
    }
    pub(crate) fn table(&self) -> &'static str {
        match self {
            Entity::Clinic => "clinics",
            Entity::Vet => "vets",
            Entity::Client => "clients",
            Entity::Pet => "pets",
            Entity::AppointmentType => "appointment_types",
            Entity::WorkingHours => "working_hours",
            Entity::DateOverride => "date_overrides",
            Entity::TimeOff => "time_off",
            Entity::Appointment => "appointments",
            Entity::User => "users",
            Entity::MessageTemplate => "message_templates",
            Entity::NotificationSettings => "notification_settings",
            Entity::OutboxMessage => "outbox",
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to save a record: as a new one, or over the version the caller read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Insert,
    /// Update, refusing with [`StoreError::StaleVersion`] unless the stored version is this one.
    Update {
        expected_version: i64,
    },
}

/// Filters for listing appointments. Every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppointmentFilter {
    /// Empty means every status.
    pub statuses: Vec<Status>,
    pub clinic: Option<ClinicId>,
    /// Only these clinics' (the acting user's), `None`: every clinic's.
    pub clinics: Option<Vec<ClinicId>>,
    pub vet: Option<VetId>,
    pub client: Option<ClientId>,
    pub pet: Option<PetId>,
    /// Appointments starting at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Appointments starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the owner's or the pet's name.
    pub text: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// An appointment with the names a person needs to read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppointmentView {
    #[serde(flatten)]
    pub appointment: Appointment,
    pub pet_name: String,
    pub client_name: String,
    pub vet_name: String,
    pub type_name: String,
    pub colour: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// A store engine.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// A consistent read-only view.
    async fn read(&self) -> Result<Box<dyn Tx>>;
    /// An exclusive write transaction: checks made inside it hold at commit.
    async fn write(&self) -> Result<Box<dyn Tx>>;
    /// A write transaction like [`Store::write`] whose commit survives the
    /// process being killed but may be lost to a power cut or an operating
    /// system crash (SQLite `synchronous=NORMAL` in WAL mode; PostgreSQL
    /// `synchronous_commit = off`). Only for writes whose loss is harmless:
    /// the worker's record that a message was sent (losing it can only cause
    /// the same message, with the same `Message-ID`, to be sent again).
    async fn write_relaxed(&self) -> Result<Box<dyn Tx>> {
        self.write().await
    }
    /// The embedded database's file (its backups go beside it); `None` for a
    /// database server or one in memory.
    fn file(&self) -> Option<&std::path::Path> {
        None
    }
    /// Copy the whole database to `dest` while it stays in use; `dest` holds
    /// either what it held before or the complete copy, whenever the process
    /// stops. Only the embedded database: a server's has its own tools.
    async fn backup_to(&self, _dest: &std::path::Path) -> Result<()> {
        Err(StoreError::Unsupported(format!(
            "the {} store cannot be copied by vetdesk",
            self.backend()
        )))
    }
    /// What the database role this store acts as may do beyond a server's
    /// needs; `None` where there are no roles (SQLite).
    async fn role(&self) -> Result<Option<RoleReport>> {
        Ok(None)
    }
    /// Close connections (pending transactions roll back).
    /// Push values overwritten by committed changes (an erasure) out of the
    /// engine's own files where it can: SQLite checkpoints and truncates its
    /// WAL. PostgreSQL keeps old row versions until (auto)vacuum: nothing here.
    async fn purge_overwritten(&self) -> Result<()> {
        Ok(())
    }
    async fn close(&self);
    /// Every committed change from now on. SQLite announces its own process's
    /// changes; PostgreSQL every workstation's (LISTEN/NOTIFY). A slow reader
    /// that falls more than [`CHANGE_BUFFER`] behind is told it lagged.
    fn subscribe(&self) -> broadcast::Receiver<Change>;
}

/// How many changes a subscriber may fall behind before it lags.
pub const CHANGE_BUFFER: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Insert,
    Update,
    Delete,
}

impl ChangeOp {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeOp::Insert => "insert",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
        }
    }
}

/// One committed change: "appointment X of clinic Y changed, version N".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Position in the store's change log.
    pub seq: i64,
    pub entity: Entity,
    pub id: Uuid,
    /// The clinic whose calendars it touches, when there is one.
    pub clinic_id: Option<ClinicId>,
    pub version: i64,
    pub op: ChangeOp,
    pub at: DateTime<Utc>,
}

/// Everything that can be done inside a transaction. Reads never return tombstoned rows.
/// Users, sessions and the audit log are in [`AccessTx`]; the notification
/// outbox, templates and settings in [`OutboxTx`]; an owner's data rights in
/// [`PrivacyTx`] (whose reads see tombstoned rows too).
#[async_trait]
pub trait Tx: AccessTx + OutboxTx + PrivacyTx + Send {
    async fn commit(self: Box<Self>) -> Result<()>;
    /// Open a savepoint, so that one item of a batch written in this
    /// transaction can be undone without its neighbours. One at a time.
    async fn savepoint(&mut self) -> Result<()>;
    /// Keep what was written since the savepoint, and close it.
    async fn release_savepoint(&mut self) -> Result<()>;
    /// Undo everything written since the savepoint (rows, change-log lines,
    /// changes to announce), and close it; the transaction goes on.
    async fn rollback_to_savepoint(&mut self) -> Result<()>;

    async fn clinic(&mut self, id: ClinicId) -> Result<Option<Clinic>>;
    async fn clinics(&mut self) -> Result<Vec<Clinic>>;
    async fn save_clinic(&mut self, c: &Clinic, how: Write) -> Result<()>;

    async fn vet(&mut self, id: VetId) -> Result<Option<Vet>>;
    /// All vets, or those working at one clinic, by name.
    async fn vets(&mut self, clinic: Option<ClinicId>) -> Result<Vec<Vet>>;
    async fn save_vet(&mut self, v: &Vet, how: Write) -> Result<()>;

    async fn client(&mut self, id: ClientId) -> Result<Option<Client>>;
    /// Clients whose name, email or phone contains `text` (all when `None`),
    /// by name; with `within`, only those seen at one of those clinics
    /// (registered there, or with an appointment there).
    async fn clients(
        &mut self,
        text: Option<&str>,
        limit: u32,
        within: Option<&[ClinicId]>,
    ) -> Result<Vec<Client>>;
    /// Whether a live client is seen at one of `clinics`.
    async fn client_seen_at(&mut self, id: ClientId, clinics: &[ClinicId]) -> Result<bool>;
    async fn save_client(&mut self, c: &Client, how: Write) -> Result<()>;

    async fn pet(&mut self, id: PetId) -> Result<Option<Pet>>;
    /// Pets (of one owner, named like `text`); with `within`, only those
    /// whose owner is seen at one of those clinics.
    async fn pets(
        &mut self,
        owner: Option<ClientId>,
        text: Option<&str>,
        limit: u32,
        within: Option<&[ClinicId]>,
    ) -> Result<Vec<Pet>>;
    async fn save_pet(&mut self, p: &Pet, how: Write) -> Result<()>;

    async fn appointment_type(&mut self, id: AppointmentTypeId) -> Result<Option<AppointmentType>>;
    async fn appointment_types(&mut self) -> Result<Vec<AppointmentType>>;
    async fn save_appointment_type(&mut self, t: &AppointmentType, how: Write) -> Result<()>;

    async fn working_hours(
        &mut self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
    ) -> Result<Vec<WorkingHours>>;
    async fn save_working_hours(&mut self, w: &WorkingHours, how: Write) -> Result<()>;

    /// Overrides (of one vet, or all) at a clinic (or all) between two local dates (inclusive).
    async fn date_overrides(
        &mut self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<DateOverride>>;
    async fn save_date_override(&mut self, o: &DateOverride, how: Write) -> Result<()>;

    /// Time off (of one vet, or all) overlapping `window` (all of it when `None`), by start.
    async fn time_off(
        &mut self,
        vet: Option<VetId>,
        window: Option<Interval>,
    ) -> Result<Vec<TimeOff>>;
    async fn save_time_off(&mut self, t: &TimeOff, how: Write) -> Result<()>;

    /// Tombstone a record, checking its version; returns the new version.
    async fn delete(
        &mut self,
        entity: Entity,
        id: Uuid,
        expected_version: i64,
        at: DateTime<Utc>,
    ) -> Result<i64>;

    async fn appointment(&mut self, id: AppointmentId) -> Result<Option<Appointment>>;
    async fn appointment_view(&mut self, id: AppointmentId) -> Result<Option<AppointmentView>>;
    async fn appointments(&mut self, filter: &AppointmentFilter) -> Result<Page<AppointmentView>>;
    /// Time-holding appointments of the given vets whose blocked time overlaps
    /// `window`, as `(vet, booking)` sorted by vet then blocked start.
    async fn bookings(&mut self, vets: &[VetId], window: Interval)
        -> Result<Vec<(VetId, Booking)>>;
    /// The blocked time of the given vets' time-holding appointments overlapping
    /// `window`, without naming them (except `ignoring`'s, which is left out):
    /// what availability and free time need, read in bulk. Sorted by vet, then start.
    async fn busy(
        &mut self,
        vets: &[VetId],
        window: Interval,
        ignoring: Option<AppointmentId>,
    ) -> Result<Vec<(VetId, Interval)>>;
    async fn save_appointment(&mut self, a: &Appointment, how: Write) -> Result<()>;
    /// The last change-log position this transaction sees, where the engine
    /// promises that an unchanged position means unchanged data (every write
    /// appends to the change log, and writes commit in position order): a
    /// cache read in this snapshot stays valid while the position stands.
    /// `None` where the engine cannot promise it (PostgreSQL).
    async fn change_position(&mut self) -> Result<Option<i64>>;

    async fn history(&mut self, id: AppointmentId) -> Result<Vec<HistoryEntry>>;
    async fn add_history(&mut self, h: &HistoryEntry) -> Result<()>;
}

/// What opening a store does about the migrations a database lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Apply them (`vetdesk migrate`, the other commands, the desktop app).
    /// On PostgreSQL that takes the role that owns the database.
    Migrate,
    /// On PostgreSQL apply none and refuse a database that lacks some
    /// ([`StoreError::SchemaTooOld`]): `vetdesk serve`, whose runtime role may
    /// not change the schema. A SQLite file has no roles and is migrated.
    Expect,
}

/// Open the store a URL names: `postgres://…`, `sqlite://path`, `sqlite::memory:`, or a plain file path.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with(url, Schema::Migrate).await
}

/// [`open`], saying what to do about missing migrations.
pub async fn open_with(url: &str, schema: Schema) -> Result<Arc<dyn Store>> {
    if is_postgres(url) {
        return Ok(Arc::new(PgStore::connect_with(url, schema).await?));
    }
    Ok(Arc::new(SqliteStore::open(url).await?))
}

/// Whether a URL names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The file a SQLite URL or path names, or `None` for PostgreSQL and an
/// in-memory database: where files that belong with the data can be kept.
pub fn database_file(url: &str) -> Option<std::path::PathBuf> {
    if is_postgres(url) {
        return None;
    }
    sqlite::database_file(url)
}

/// The longest an appointment can block a vet (12 h plus two 2 h buffers), with
/// room to spare: lets range queries bound an index scan from both sides.
pub const MAX_BLOCK: chrono::Duration = chrono::Duration::hours(24);
