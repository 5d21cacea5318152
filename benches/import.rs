//! `vetdesk import` into an empty SQLite file, against baselines measured in
//! the same run on the same kind of file (WAL, `synchronous=FULL`):
//!
//! - **import**: the release `vetdesk import FILE` process, N JSON lines naming
//!   the clinic, vet, type and pet by name (start-up and name lookups included);
//! - **book_batch**: the same N bookings through `App::book_batch` in
//!   process, ids already resolved, [`IMPORT_BATCH`] to a transaction;
//! - **book per line**: `App::book`, one transaction per booking: the path every
//!   import line took before batching (without its per-line name lookups, so
//!   the old import was slower still);
//! - **raw insert**: N single-row `INSERT`s into a four-column table, in
//!   transactions of [`IMPORT_BATCH`]: what SQLite and sqlx do with no rule at all.
//!
//! `cargo bench --bench import` measures 10,000 bookings (1,000 per line);
//! without `--bench` (as `cargo test --all-targets` runs it) a quick pass of
//! 200 checks that everything books.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_store::SqliteStore;

/// Lines to a transaction, as `vetdesk import` batches them.
const IMPORT_BATCH: usize = 500;
const VETS: usize = 20;
const PETS: usize = 50;
/// 15-minute appointments from 08:00 to 20:00, Monday to Saturday.
const PER_DAY: usize = 48;

struct Practice {
    app: App,
    store: Arc<SqliteStore>,
    db: PathBuf,
    clinic: ClinicId,
    vets: Vec<VetId>,
    pets: Vec<PetId>,
    kind: AppointmentTypeId,
}

/// The first Monday of March 2099: far enough ahead that nothing is in the past.
fn first_day() -> NaiveDate {
    let mut d = NaiveDate::from_ymd_opt(2099, 3, 1).unwrap_or_default();
    while d.weekday() != Weekday::Mon {
        d += Duration::days(1);
    }
    d
}

/// The n-th booking: vet by vet through a working day, then the next day.
fn nth(n: usize) -> (usize, usize, NaiveDateTime) {
    let (slot, rest) = (n % PER_DAY, n / PER_DAY);
    let (vet, mut workday) = (rest % VETS, rest / VETS);
    let mut day = first_day();
    loop {
        if day.weekday() != Weekday::Sun {
            if workday == 0 {
                break;
            }
            workday -= 1;
        }
        day += Duration::days(1);
    }
    let start = day.and_hms_opt(8, 0, 0).unwrap_or_default() + Duration::minutes(15 * slot as i64);
    (vet, n % PETS, start)
}

/// An empty practice in a new SQLite file: one clinic, 20 vets, 50 owners with a pet each.
async fn practice(dir: &Path, name: &str) -> Practice {
    let db = dir.join(name);
    let store = Arc::new(
        SqliteStore::open(&format!("sqlite://{}", db.display()))
            .await
            .expect("open"),
    );
    let now = Utc
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .expect("instant");
    let app = App::new(
        store.clone(),
        Arc::new(ManualClock::new(now)),
        Settings::default(),
    );
    let clinic = app
        .create_clinic(ClinicInput {
            name: "Bench".into(),
            time_zone: "Europe/London".into(),
        })
        .await
        .expect("clinic");
    let kind = app
        .create_appointment_type(AppointmentTypeInput {
            name: "Consultation".into(),
            duration_min: 15,
            colour: "#336699".into(),
            buffer_before_min: 0,
            buffer_after_min: 0,
        })
        .await
        .expect("type");
    let mut vets = Vec::new();
    for i in 0..VETS {
        let vet = app
            .create_vet(VetInput {
                name: format!("Vet {i:02}"),
                email: None,
                clinics: vec![clinic.id],
            })
            .await
            .expect("vet");
        // Monday to Saturday.
        for day in 0..6 {
            app.add_working_hours(WorkingHoursInput {
                vet_id: vet.id,
                clinic_id: clinic.id,
                weekday: (first_day() + Duration::days(day)).weekday(),
                span: "08:00-20:00".into(),
                valid_from: first_day(),
                valid_to: None,
            })
            .await
            .expect("hours");
        }
        vets.push(vet.id);
    }
    let mut pets = Vec::new();
    for i in 0..PETS {
        let owner = app
            .create_client(ClientInput {
                name: format!("Owner {i:02}"),
                email: Some(format!("owner{i:02}@example.com")),
                ..ClientInput::default()
            })
            .await
            .expect("client");
        let pet = app
            .create_pet(PetInput {
                owner: Some(owner.id),
                name: format!("Pet {i:02}"),
                species: "dog".into(),
                ..PetInput::default()
            })
            .await
            .expect("pet");
        pets.push(pet.id);
    }
    Practice {
        app,
        store,
        db,
        clinic: clinic.id,
        vets,
        pets,
        kind: kind.id,
    }
}

fn request(p: &Practice, n: usize) -> BookRequest {
    let (vet, pet, start) = nth(n);
    BookRequest {
        clinic_id: p.clinic,
        vet_id: p.vets[vet],
        pet_id: p.pets[pet],
        client_id: None,
        type_id: p.kind,
        start: TimeInput::Local(start),
        duration_min: None,
        reason: None,
        notes: None,
    }
}

async fn appointments(p: &Practice) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM appointments")
        .fetch_one(p.store.pool())
        .await
        .expect("count")
}

/// Bookings a second.
fn rate(count: usize, secs: f64) -> f64 {
    count as f64 / secs
}

fn main() {
    let measured = std::env::args().any(|a| a == "--bench");
    let (n, per_line) = if measured { (10_000, 1_000) } else { (200, 50) };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");

    // `vetdesk import`, the real binary, on a file of named bookings.
    let p = rt.block_on(practice(dir.path(), "import.db"));
    let file = dir.path().join("bookings.jsonl");
    let mut lines = String::new();
    for i in 0..n {
        let (vet, pet, start) = nth(i);
        let line = serde_json::json!({
            "clinic": "Bench",
            "vet": format!("Vet {vet:02}"),
            "pet": format!("Pet {pet:02}"),
            "type": "Consultation",
            "start": start.format("%Y-%m-%dT%H:%M").to_string(),
        });
        lines.push_str(&format!("{line}\n"));
    }
    std::fs::write(&file, lines).expect("write the file");
    let t = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vetdesk"))
        .arg("--db")
        .arg(&p.db)
        .arg("import")
        .arg(&file)
        .env_remove("VETDESK_DATABASE_URL")
        .env("VETDESK_LOG", "warn")
        .output()
        .expect("run vetdesk import");
    let import_secs = t.elapsed().as_secs_f64();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains(&format!("{n} booked, 0 refused")),
        "{report}"
    );
    assert_eq!(rt.block_on(appointments(&p)), n as i64);

    // The same bookings through App::book_batch, ids resolved.
    let p = rt.block_on(practice(dir.path(), "batch.db"));
    let reqs: Vec<BookRequest> = (0..n).map(|i| request(&p, i)).collect();
    let t = Instant::now();
    for chunk in reqs.chunks(IMPORT_BATCH) {
        let results = rt.block_on(p.app.book_batch(chunk)).expect("a batch");
        assert!(results.iter().all(Result::is_ok), "every slot is free");
    }
    let batch_secs = t.elapsed().as_secs_f64();
    assert_eq!(rt.block_on(appointments(&p)), n as i64);

    // One transaction per booking, as import did before.
    let p = rt.block_on(practice(dir.path(), "per-line.db"));
    let t = Instant::now();
    for i in 0..per_line {
        rt.block_on(p.app.book(request(&p, i)))
            .expect("a free slot");
    }
    let line_secs = t.elapsed().as_secs_f64();

    // Raw inserts, no rule, batched the same way, into a file with the same pragmas.
    let raw_secs = rt.block_on(async {
        sqlx::query("CREATE TABLE raw_insert (id INTEGER PRIMARY KEY, vet_id BLOB NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL, note TEXT)")
            .execute(p.store.pool())
            .await
            .expect("raw table");
        let t = Instant::now();
        for chunk in (0..n as i64).collect::<Vec<_>>().chunks(IMPORT_BATCH) {
            let mut tx = p
                .store
                .pool()
                .begin_with("BEGIN IMMEDIATE")
                .await
                .expect("begin");
            for i in chunk {
                sqlx::query(
                    "INSERT INTO raw_insert (vet_id, start_at, end_at, note) VALUES (?, ?, ?, ?)",
                )
                .bind(p.vets[0].0)
                .bind(i * 900_000)
                .bind(i * 900_000 + 900_000)
                .bind("raw")
                .execute(&mut *tx)
                .await
                .expect("insert");
            }
            tx.commit().await.expect("commit");
        }
        t.elapsed().as_secs_f64()
    });

    let import = rate(n, import_secs);
    let batch = rate(n, batch_secs);
    let line = rate(per_line, line_secs);
    let raw = rate(n, raw_secs);
    println!("| what | bookings | time | bookings/s | vs per line | vs raw insert |");
    println!("|---|---|---|---|---|---|");
    for (what, count, secs, r) in [
        ("`vetdesk import` (process, names)", n, import_secs, import),
        ("`App::book_batch`, 500 a transaction", n, batch_secs, batch),
        (
            "`App::book`, one transaction each",
            per_line,
            line_secs,
            line,
        ),
        (
            "raw single-row inserts, 500 a transaction",
            n,
            raw_secs,
            raw,
        ),
    ] {
        println!(
            "| {what} | {count} | {secs:.2} s | {r:.0} | {:.1}× | {:.2}× |",
            r / line,
            r / raw
        );
    }
}
