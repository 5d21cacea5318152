//! Through SQLite: availability for 50 vets × 30 days with 30,000 booked
//! appointments (the same practice as the core benchmark), and a booking
//! commit against a raw single-row insert transaction on the same file and pragmas.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_store::{SqliteStore, Store, Write};

struct Practice {
    app: App,
    now: chrono::DateTime<Utc>,
    store: Arc<SqliteStore>,
    clinic: ClinicId,
    vets: Vec<VetId>,
    pet: PetId,
    kind: AppointmentTypeId,
    _dir: tempfile::TempDir,
}

async fn practice() -> Practice {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.expect("open"));
    let now = Utc
        .with_ymd_and_hms(2027, 2, 1, 0, 0, 0)
        .single()
        .expect("instant");
    let app = App::new(
        store.clone(),
        Arc::new(ManualClock::new(now)),
        Settings::default(),
    );
    let first = NaiveDate::from_ymd_opt(2027, 3, 1).expect("date");
    let fx = fixture::build(chrono_tz::Europe::London, first, 30, 50, 30_000);

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
            duration_min: 30,
            colour: "#336699".into(),
            buffer_before_min: 0,
            buffer_after_min: 0,
        })
        .await
        .expect("type");
    let owner = app
        .create_client(ClientInput {
            name: "Owner".into(),
            email: Some("owner@example.com".into()),
            ..ClientInput::default()
        })
        .await
        .expect("client");
    let pet = app
        .create_pet(PetInput {
            owner: Some(owner.id),
            name: "Rex".into(),
            species: "dog".into(),
            ..PetInput::default()
        })
        .await
        .expect("pet");
    let mut vets = Vec::new();
    for (i, s) in fx.schedules.iter().enumerate() {
        let vet = app
            .create_vet(VetInput {
                name: format!("Vet {i:02}"),
                email: None,
                clinics: vec![clinic.id],
            })
            .await
            .expect("vet");
        for r in &s.rules {
            app.add_working_hours(WorkingHoursInput {
                vet_id: vet.id,
                clinic_id: clinic.id,
                weekday: r.weekday,
                span: r.span.to_string(),
                valid_from: r.valid_from,
                valid_to: None,
            })
            .await
            .expect("hours");
        }
        vets.push((vet.id, s));
    }
    // The 30,000 appointments go in directly, in one transaction (the fixture guarantees no overlaps).
    let mut tx = store.write().await.expect("tx");
    for (vet, s) in &vets {
        for b in &s.bookings {
            let a = Appointment {
                id: b.id,
                clinic_id: clinic.id,
                vet_id: *vet,
                pet_id: pet.id,
                client_id: owner.id,
                type_id: kind.id,
                slot: b.slot,
                buffer_before_min: 0,
                buffer_after_min: 0,
                status: Status::Confirmed,
                reason: None,
                notes: None,
                cancel_reason: None,
                created_by: Actor::new("bench"),
                updated_by: Actor::new("bench"),
                meta: Meta::new(now),
            };
            tx.save_appointment(&a, Write::Insert)
                .await
                .expect("appointment");
        }
    }
    tx.commit().await.expect("commit");
    sqlx::query("CREATE TABLE raw_insert (id INTEGER PRIMARY KEY, vet_id BLOB NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL, note TEXT)")
        .execute(store.pool())
        .await
        .expect("raw table");
    Practice {
        app,
        now,
        store,
        clinic: clinic.id,
        vets: vets.iter().map(|(v, _)| *v).collect(),
        pet: pet.id,
        kind: kind.id,
        _dir: dir,
    }
}

/// The n-th free 30-minute slot from June 2027 on: vet by vet, Monday to Saturday.
fn nth_slot(p: &Practice, n: u64) -> (VetId, chrono::NaiveDateTime) {
    let per_day = 20; // 8 in the morning, 12 in the afternoon
    let idx = n % per_day;
    let vet = p.vets[((n / per_day) % p.vets.len() as u64) as usize];
    let mut workday = n / (per_day * p.vets.len() as u64);
    let mut day = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap_or_default();
    loop {
        if day.weekday() != chrono::Weekday::Sun {
            if workday == 0 {
                break;
            }
            workday -= 1;
        }
        day += Duration::days(1);
    }
    let minute = if idx < 8 {
        8 * 60 + idx * 30
    } else {
        13 * 60 + (idx - 8) * 30
    };
    (
        vet,
        day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(minute as i64),
    )
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let p = rt.block_on(practice());
    let req = AvailabilityRequest {
        clinic_id: p.clinic,
        vet_id: None,
        first: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap_or_default(),
        last: NaiveDate::from_ymd_opt(2027, 3, 30).unwrap_or_default(),
        duration_min: Some(30),
        type_id: None,
        grid_min: Some(15),
        min_notice_min: None,
        ignoring: None,
    };
    let found = rt
        .block_on(p.app.availability(req.clone()))
        .expect("availability");
    eprintln!(
        "through SQLite: {} free slots for {} vets",
        found.slot_count(),
        found.vets.len()
    );

    let mut g = c.benchmark_group("availability_50x30");
    // Warm: the same App asks again with nothing written in between, so the
    // schedules come from its cache after one read of the change-log position.
    g.bench_function("sqlite_app", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(p.app.availability(req.clone()).await.expect("availability"))
        })
    });
    // Cold: a new App each time (an empty cache), so everything is read.
    g.bench_function("sqlite_app_uncached", |b| {
        b.to_async(&rt).iter(|| async {
            let fresh = App::new(
                p.store.clone(),
                Arc::new(ManualClock::new(p.now)),
                Settings::default(),
            );
            black_box(fresh.availability(req.clone()).await.expect("availability"))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("booking");
    let counter = AtomicU64::new(0);
    g.bench_function("book_app", |b| {
        b.to_async(&rt).iter(|| async {
            let (vet, start) = nth_slot(&p, counter.fetch_add(1, Ordering::Relaxed));
            let r = BookRequest {
                clinic_id: p.clinic,
                vet_id: vet,
                pet_id: p.pet,
                client_id: None,
                type_id: p.kind,
                start: TimeInput::Local(start),
                duration_min: None,
                reason: None,
                notes: None,
            };
            black_box(p.app.book(r).await.expect("a free slot books"))
        })
    });
    let raw = AtomicU64::new(0);
    g.bench_function("raw_insert_tx", |b| {
        b.to_async(&rt).iter(|| async {
            let n = raw.fetch_add(1, Ordering::Relaxed) as i64;
            let mut tx = p
                .store
                .pool()
                .begin_with("BEGIN IMMEDIATE")
                .await
                .expect("begin");
            sqlx::query(
                "INSERT INTO raw_insert (vet_id, start_at, end_at, note) VALUES (?, ?, ?, ?)",
            )
            .bind(p.vets[0].0)
            .bind(n * 1_800_000)
            .bind(n * 1_800_000 + 1_800_000)
            .bind("raw")
            .execute(&mut *tx)
            .await
            .expect("insert");
            tx.commit().await.expect("commit");
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
