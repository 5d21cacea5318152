//! The story-test harness: a fresh database (a SQLite file in a temporary
//! folder, or a PostgreSQL database of its own), the application on a manual
//! clock, and a small practice to work with. `story!` runs one story against
//! both stores.
#![allow(dead_code)]

pub mod server;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use sqlx::{Connection, PgPool, SqlitePool};
use std::sync::Arc;
use tempfile::TempDir;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_store::Store as _;

/// Where the PostgreSQL half of the suite finds its server (a database it may
/// create databases in, e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
pub const POSTGRES_ENV: &str = "VETDESK_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One story, run once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! story {
    (async fn $name:ident($t:ident) $body:block) => {
        $crate::story!(@ [tokio::test] $name $t $body);
    };
    (multi_thread async fn $name:ident($t:ident) $body:block) => {
        $crate::story!(@ [tokio::test(flavor = "multi_thread", worker_threads = 4)] $name $t $body);
    };
    (@ [$($test:tt)*] $name:ident $t:ident $body:block) => {
        mod $name {
            use super::*;

            async fn run($t: TestApp) $body

            #[$($test)*]
            async fn sqlite() {
                run(spawn_app_on(Backend::Sqlite).await.expect("a SQLite store")).await
            }

            #[$($test)*]
            async fn postgres() {
                match spawn_app_on(Backend::Postgres).await {
                    Some(t) => run(t).await,
                    None => eprintln!("skipped: {} is not set, so this story ran on SQLite only", POSTGRES_ENV),
                }
            }
        }
    };
}

/// A read-only look at the test database, whichever engine it is.
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    pub async fn int(&self, sql: &str) -> i64 {
        match self {
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn text(&self, sql: &str) -> String {
        match self {
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Run a statement straight against the store (to show what it refuses).
    pub async fn execute(&self, sql: &str) -> Result<u64, String> {
        match self {
            Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
            Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        }
        .map_err(|e| e.to_string())
    }
}

/// A PostgreSQL database made for one test, dropped when the test ends (pass or fail).
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut c)
                            .await;
                }
            });
        })
        .join();
    }
}

/// The role the PostgreSQL half of the suite runs the application as: made
/// once on the server (roles are the server's, not a database's), granted on
/// each test database by `vetdesk migrate`'s own grant step.
pub const RUNTIME_ROLE: &str = "vetdesk_test_runtime";
const RUNTIME_PASSWORD: &str = "vetdesk-test-runtime";

/// Make [`RUNTIME_ROLE`] if the server lacks it (tests race to make it).
pub async fn runtime_role(admin: &mut sqlx::PgConnection) -> String {
    sqlx::query(&format!(
        "DO $$ BEGIN CREATE ROLE {RUNTIME_ROLE} LOGIN PASSWORD '{RUNTIME_PASSWORD}'; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    ))
    .execute(admin)
    .await
    .expect("create the runtime role");
    RUNTIME_ROLE.to_string()
}

/// `url` signing in as `user` instead (with the password of [`RUNTIME_ROLE`]).
pub fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}:{RUNTIME_PASSWORD}@{host}")
}

/// The URL of another database on the same server.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// The tables [`TestApp::footprint`] counts, in its order.
pub const FOOTPRINT_TABLES: [&str; 19] = [
    "clinics",
    "vets",
    "vet_clinics",
    "clients",
    "pets",
    "appointment_types",
    "working_hours",
    "date_overrides",
    "time_off",
    "appointments",
    "appointment_history",
    "change_log",
    "users",
    "user_clinics",
    "sessions",
    "audit_log",
    "outbox",
    "message_templates",
    "notification_settings",
];

/// Where `table` is in a footprint.
pub fn footprint_index(table: &str) -> usize {
    FOOTPRINT_TABLES
        .iter()
        .position(|t| *t == table)
        .unwrap_or_else(|| panic!("{table} is not in the footprint"))
}

pub struct TestApp {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub db: Db,
    /// Where the application's store is: on PostgreSQL as the runtime role.
    pub url: String,
    /// The same database as the role that owns it (on SQLite, `url`).
    pub owner_url: String,
    pub backend: Backend,
    pub london: Clinic,
    pub new_york: Clinic,
    /// London, Mon–Fri 09:00–12:00 and 13:00–17:00.
    pub alice_vet: Vet,
    /// London, Mon–Fri 09:00–17:00.
    pub ben_vet: Vet,
    /// New York, Mon–Fri 08:00–16:00.
    pub cara_vet: Vet,
    /// 30 minutes, no buffers.
    pub consult: AppointmentType,
    /// 60 minutes, 15 minutes before and after.
    pub surgery: AppointmentType,
    pub owner: Client,
    pub pet: Pet,
    pub other_owner: Client,
    pub other_pet: Pet,
    pub actor: Actor,
    _dir: Option<TempDir>,
    _pg: Option<PgDatabase>,
}

/// Monday 1 March 2027, 08:00 UTC (08:00 in London, 03:00 in New York).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 8, 0, 0)
        .single()
        .expect("valid instant")
}

pub fn date(s: &str) -> NaiveDate {
    parse_date(s).expect("valid date")
}

pub fn local(s: &str) -> TimeInput {
    TimeInput::parse(s).expect("valid time")
}

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid RFC 3339")
        .with_timezone(&Utc)
}

/// The practice on a SQLite file.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(Backend::Sqlite).await.expect("a SQLite store")
}

/// The practice on the given engine; `None` when PostgreSQL is asked for and
/// [`POSTGRES_ENV`] is not set.
pub async fn spawn_app_on(backend: Backend) -> Option<TestApp> {
    let (url, owner_url, db, dir, pg) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("vetdesk.db").display());
            let store = vetdesk_store::open(&url).await.expect("open store");
            store.close().await;
            let db = Db::Sqlite(SqlitePool::connect(&url).await.expect("inspection pool"));
            (url.clone(), url, db, Some(dir), None)
        }
        Backend::Postgres => {
            let admin_url = std::env::var(POSTGRES_ENV)
                .ok()
                .filter(|u| !u.trim().is_empty())?;
            let name = format!("vetdesk_story_{}", uuid::Uuid::now_v7().simple());
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| {
                    panic!("{POSTGRES_ENV}={admin_url} is set but unreachable: {e}")
                });
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .await
                .expect("create test database");
            let guard = PgDatabase {
                admin_url: admin_url.clone(),
                name: name.clone(),
            };
            // The owner (here the superuser) migrates and grants; the application
            // runs as the runtime role, as `vetdesk serve` does, so every story
            // on PostgreSQL shows the runtime role's grants are enough.
            let owner_url = with_database(&admin_url, &name);
            let store = vetdesk_store::PgStore::connect(&owner_url)
                .await
                .expect("open store");
            let role = runtime_role(&mut admin).await;
            store
                .grant_runtime(std::slice::from_ref(&role))
                .await
                .expect("grant the runtime role");
            store.close().await;
            let db = Db::Postgres(PgPool::connect(&owner_url).await.expect("inspection pool"));
            let url = with_user(&owner_url, &role);
            (url, owner_url, db, None, Some(guard))
        }
    };
    let store = vetdesk_store::open(&url).await.expect("open store");
    let clock = Arc::new(ManualClock::new(t0()));
    // The practice's work is done as the front desk: its name is what
    // appointments' history records (`TestApp::actor`).
    let app = App::new(store, clock.clone(), Settings::default())
        .acting_as(Principal::local("front-desk"));

    let london = app
        .create_clinic(ClinicInput {
            name: "Riverside London".into(),
            time_zone: "Europe/London".into(),
        })
        .await
        .expect("clinic");
    let new_york = app
        .create_clinic(ClinicInput {
            name: "Hudson New York".into(),
            time_zone: "America/New_York".into(),
        })
        .await
        .expect("clinic");
    let vet = |name: &str, clinic: &Clinic| VetInput {
        name: name.into(),
        email: None,
        clinics: vec![clinic.id],
    };
    let alice_vet = app.create_vet(vet("Dr Alice", &london)).await.expect("vet");
    let ben_vet = app.create_vet(vet("Dr Ben", &london)).await.expect("vet");
    let cara_vet = app
        .create_vet(vet("Dr Cara", &new_york))
        .await
        .expect("vet");
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let hours: [(&Vet, &Clinic, &[&str]); 3] = [
        (&alice_vet, &london, &["09:00-12:00", "13:00-17:00"]),
        (&ben_vet, &london, &["09:00-17:00"]),
        (&cara_vet, &new_york, &["08:00-16:00"]),
    ];
    for (v, c, spans) in hours {
        for wd in weekdays {
            for span in spans {
                app.add_working_hours(WorkingHoursInput {
                    vet_id: v.id,
                    clinic_id: c.id,
                    weekday: wd,
                    span: (*span).into(),
                    valid_from: date("2027-01-01"),
                    valid_to: None,
                })
                .await
                .expect("hours");
            }
        }
    }
    let consult = app
        .create_appointment_type(AppointmentTypeInput {
            name: "Consultation".into(),
            duration_min: 30,
            colour: "#4f86f7".into(),
            buffer_before_min: 0,
            buffer_after_min: 0,
        })
        .await
        .expect("type");
    let surgery = app
        .create_appointment_type(AppointmentTypeInput {
            name: "Surgery".into(),
            duration_min: 60,
            colour: "#ea4335".into(),
            buffer_before_min: 15,
            buffer_after_min: 15,
        })
        .await
        .expect("type");
    let owner = app
        .create_client(ClientInput {
            name: "Olivia Smith".into(),
            email: Some("olivia@example.com".into()),
            phone: Some("+44 7700 900123".into()),
            ..ClientInput::default()
        })
        .await
        .expect("client");
    let pet = app
        .create_pet(PetInput {
            owner: Some(owner.id),
            name: "Biscuit".into(),
            species: "dog".into(),
            breed: Some("Labrador".into()),
            date_of_birth: Some(date("2020-05-01")),
        })
        .await
        .expect("pet");
    let other_owner = app
        .create_client(ClientInput {
            name: "Noah Jones".into(),
            phone: Some("+1 212 555 0100".into()),
            ..ClientInput::default()
        })
        .await
        .expect("client");
    let other_pet = app
        .create_pet(PetInput {
            owner: Some(other_owner.id),
            name: "Whiskers".into(),
            species: "cat".into(),
            breed: None,
            date_of_birth: None,
        })
        .await
        .expect("pet");
    Some(TestApp {
        app,
        clock,
        db,
        url,
        owner_url,
        backend,
        london,
        new_york,
        alice_vet,
        ben_vet,
        cara_vet,
        consult,
        surgery,
        owner,
        pet,
        other_owner,
        other_pet,
        actor: Actor::new("front-desk"),
        _dir: dir,
        _pg: pg,
    })
}

impl TestApp {
    pub fn book_request(
        &self,
        vet: &Vet,
        clinic: &Clinic,
        start: &str,
        t: &AppointmentType,
    ) -> BookRequest {
        BookRequest {
            clinic_id: clinic.id,
            vet_id: vet.id,
            pet_id: self.pet.id,
            client_id: None,
            type_id: t.id,
            start: local(start),
            duration_min: None,
            reason: Some("Check-up".into()),
            notes: None,
        }
    }

    /// Book Biscuit with a London vet at a local time.
    pub async fn book(
        &self,
        vet: &Vet,
        start: &str,
        t: &AppointmentType,
    ) -> Result<views::AppointmentDetails> {
        self.app
            .book(self.book_request(vet, &self.london, start, t))
            .await
    }

    /// What the application's clock reads.
    pub fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.db.int(&format!("SELECT count(*) FROM {table}")).await
    }

    /// Rows in every table that a write touches: equal before and after means nothing was written.
    pub async fn footprint(&self) -> Vec<i64> {
        let mut out = Vec::new();
        for t in FOOTPRINT_TABLES {
            out.push(self.count(t).await);
        }
        out.push(
            self.db
                .int("SELECT CAST(coalesce(sum(version), 0) AS BIGINT) FROM appointments")
                .await,
        );
        out
    }

    /// Pairs of time-holding appointments of one vet whose blocked time overlaps.
    pub async fn overlapping_pairs(&self) -> i64 {
        self.db.int(OVERLAPPING_PAIRS).await
    }
}

/// The self-join that finds double bookings, in SQL both engines accept.
pub const OVERLAPPING_PAIRS: &str = "SELECT count(*) FROM appointments a JOIN appointments b \
     ON a.vet_id = b.vet_id AND a.id < b.id \
     WHERE a.holds_time AND b.holds_time AND a.deleted_at IS NULL AND b.deleted_at IS NULL \
     AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end";

// ---------- racing ----------

/// SplitMix64, for a deterministic shuffle.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn attempts_wanted() -> usize {
    std::env::var("VETDESK_RACE_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// `n` attempts: 70% distinct 30-minute slots, 30% copies of or 15-minute shifts of those.
pub fn attempts(vets: &[VetId], n: usize) -> Vec<(VetId, NaiveDate, u32)> {
    let distinct = n * 7 / 10;
    let mut base = Vec::with_capacity(distinct);
    let mut day = date("2027-03-02");
    'fill: loop {
        if day.weekday() != Weekday::Sat && day.weekday() != Weekday::Sun {
            for vet in vets {
                for k in 0..16 {
                    base.push((*vet, day, 9 * 60 + k * 30));
                    if base.len() == distinct {
                        break 'fill;
                    }
                }
            }
        }
        day += Duration::days(1);
    }
    let mut rng = Rng(42);
    let mut all = base.clone();
    while all.len() < n {
        let (vet, d, m) = base[rng.below(base.len())];
        // Same slot, or 15 minutes later (still inside the 09:00–17:00 day).
        let shift = if rng.next() % 2 == 0 || m >= 16 * 60 + 30 {
            0
        } else {
            15
        };
        all.push((vet, d, m + shift));
    }
    for i in (1..all.len()).rev() {
        all.swap(i, rng.below(i + 1));
    }
    all
}

impl TestApp {
    /// Dr Ben and nine more London vets working Monday–Friday 09:00–17:00.
    pub async fn race_vets(&self) -> Vec<VetId> {
        let mut vets = vec![self.ben_vet.id];
        for i in 0..9 {
            let v = self
                .app
                .create_vet(VetInput {
                    name: format!("Dr Race {i}"),
                    email: None,
                    clinics: vec![self.london.id],
                })
                .await
                .expect("vet");
            for wd in [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ] {
                self.app
                    .add_working_hours(WorkingHoursInput {
                        vet_id: v.id,
                        clinic_id: self.london.id,
                        weekday: wd,
                        span: "09:00-17:00".into(),
                        valid_from: date("2027-01-01"),
                        valid_to: None,
                    })
                    .await
                    .expect("hours");
            }
            vets.push(v.id);
        }
        vets
    }
}
