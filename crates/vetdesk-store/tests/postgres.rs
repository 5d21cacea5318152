//! The PostgreSQL engine's own promises: the database itself refuses double
//! booking, stale and duplicate writes are typed errors, changes committed on
//! one workstation reach every other, a bad server or login is a clear error,
//! and the range queries use their index.
//!
//! Each test creates its own database on the server named by
//! `VETDESK_TEST_POSTGRES_URL` and drops it afterwards, also when it fails.
//! Without the variable the tests say so on stderr and pass.

use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use sqlx::postgres::PgConnectOptions;
use sqlx::Row;
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::broadcast;
use uuid::Uuid;
use vetdesk_core::*;
use vetdesk_store::{
    AppointmentFilter, Change, ChangeOp, Entity, PgStore, Store, StoreError, Write,
};

mod support;
use support::{fresh, server_url};

// ---------- records ----------

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().expect("an RFC 3339 instant")
}

fn t0() -> DateTime<Utc> {
    at("2030-03-04T09:00:00Z")
}

fn meta() -> Meta {
    Meta::new(at("2030-01-01T08:00:00Z"))
}

fn name(s: &str) -> Name {
    Name::parse("name", s).expect("a name")
}

struct Practice {
    clinic: Clinic,
    vets: Vec<Vet>,
    client: Client,
    pet: Pet,
    kind: AppointmentType,
}

impl Practice {
    fn vet(&self) -> VetId {
        self.vets[0].id
    }

    /// An appointment of the first vet, `minutes` long from `start`, with buffers.
    fn appointment(&self, start: DateTime<Utc>, minutes: i64, status: Status) -> Appointment {
        self.appointment_of(self.vet(), start, minutes, status)
    }

    fn appointment_of(
        &self,
        vet: VetId,
        start: DateTime<Utc>,
        minutes: i64,
        status: Status,
    ) -> Appointment {
        Appointment {
            id: AppointmentId(Uuid::now_v7()),
            clinic_id: self.clinic.id,
            vet_id: vet,
            pet_id: self.pet.id,
            client_id: self.client.id,
            type_id: self.kind.id,
            slot: Interval::new(start, start + Duration::minutes(minutes)).expect("a slot"),
            buffer_before_min: self.kind.buffer_before_min,
            buffer_after_min: self.kind.buffer_after_min,
            status,
            reason: Some("check-up".into()),
            notes: None,
            cancel_reason: None,
            created_by: Actor::new("test"),
            updated_by: Actor::new("test"),
            meta: meta(),
        }
    }
}

/// A clinic, two vets, an owner with a pet and an appointment type (5 min buffer after).
async fn practice(store: &PgStore) -> Practice {
    let clinic = Clinic {
        id: ClinicId(Uuid::now_v7()),
        name: name("Riverside"),
        time_zone: parse_time_zone("Europe/London").expect("tz"),
        meta: meta(),
    };
    let vets = ["Dr Adams", "Dr Brown"]
        .iter()
        .map(|n| Vet {
            id: VetId(Uuid::now_v7()),
            name: name(n),
            email: None,
            clinics: vec![clinic.id],
            meta: meta(),
        })
        .collect::<Vec<_>>();
    let client = Client {
        id: ClientId(Uuid::now_v7()),
        name: name("Åsa Lind"),
        email: Some(Email::parse("asa@example.com").expect("email")),
        phone: Some(Phone::parse("+44 20 7946 0000").expect("phone")),
        preferences: ContactPreferences::default(),
        home_clinic_id: Some(clinic.id),
        meta: meta(),
    };
    let pet = Pet {
        id: PetId(Uuid::now_v7()),
        owner: client.id,
        name: name("Rex_100%"),
        species: name("dog"),
        breed: Some("collie".into()),
        date_of_birth: NaiveDate::from_ymd_opt(2020, 2, 29),
        meta: meta(),
    };
    let kind = AppointmentType {
        id: AppointmentTypeId(Uuid::now_v7()),
        name: name("Consultation"),
        duration_min: 30,
        colour: Colour::parse("#3366ff").expect("colour"),
        buffer_before_min: 0,
        buffer_after_min: 5,
        meta: meta(),
    };
    let mut tx = store.write().await.expect("write");
    tx.save_clinic(&clinic, Write::Insert)
        .await
        .expect("clinic");
    for v in &vets {
        tx.save_vet(v, Write::Insert).await.expect("vet");
    }
    tx.save_client(&client, Write::Insert)
        .await
        .expect("client");
    tx.save_pet(&pet, Write::Insert).await.expect("pet");
    tx.save_appointment_type(&kind, Write::Insert)
        .await
        .expect("type");
    tx.commit().await.expect("commit");
    Practice {
        clinic,
        vets,
        client,
        pet,
        kind,
    }
}

async fn book(store: &PgStore, a: &Appointment) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    tx.save_appointment(a, Write::Insert).await?;
    tx.commit().await
}

/// Pairs of live, time-holding appointments of one vet whose blocked time overlaps.
async fn overlapping_pairs(store: &PgStore) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM appointments a JOIN appointments b \
         ON a.vet_id = b.vet_id AND a.id < b.id \
         AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end \
         WHERE a.holds_time AND b.holds_time AND a.deleted_at IS NULL AND b.deleted_at IS NULL",
    )
    .fetch_one(store.pool())
    .await
    .expect("self-join")
}

fn taken_by(err: StoreError) -> Vec<AppointmentId> {
    match err {
        StoreError::Overlap { taken_by } => taken_by.iter().map(|b| b.id).collect(),
        other => panic!("expected an overlap, got {other:?}"),
    }
}

/// The next change announced, which must come within a second.
async fn next_change(changes: &mut broadcast::Receiver<Change>) -> Change {
    tokio::time::timeout(std::time::Duration::from_secs(1), changes.recv())
        .await
        .expect("a change within a second")
        .expect("a change")
}

// ---------- the tests ----------

#[tokio::test]
async fn migrations_apply_with_the_constraint_and_reopening_is_idempotent() {
    let Some((db, store)) = fresh().await else {
        return;
    };
    assert_eq!(store.backend(), "postgres");
    let gist: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist')",
    )
    .fetch_one(store.pool())
    .await
    .expect("extensions");
    assert!(gist, "btree_gist is installed");
    let kind: String = sqlx::query_scalar(
        "SELECT contype::text FROM pg_constraint WHERE conname = 'appointments_no_overlap'",
    )
    .fetch_one(store.pool())
    .await
    .expect("the exclusion constraint exists");
    assert_eq!(kind, "x");
    let settings: (String, String) = sqlx::query_as(
        "SELECT current_setting('application_name'), current_setting('statement_timeout')",
    )
    .fetch_one(store.pool())
    .await
    .expect("settings");
    assert_eq!(settings, ("vetdesk".to_string(), "15s".to_string()));
    store.close().await;

    let again = PgStore::connect(&db.url).await.expect("reopen");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(again.pool())
        .await
        .expect("migrations");
    assert_eq!(applied, 9, "0001 to 0009");
    let via_open = vetdesk_store::open(&db.url).await.expect("open by URL");
    assert_eq!(via_open.backend(), "postgres");
    via_open.close().await;
    again.close().await;
}

#[tokio::test]
async fn the_database_refuses_an_overlapping_booking_and_names_the_one_in_the_way() {
    let Some((_db, store)) = fresh().await else {
        return;
    };
    let p = practice(&store).await;
    // 09:00–09:30, blocking until 09:35 with its buffer.
    let first = p.appointment(t0(), 30, Status::Scheduled);
    book(&store, &first).await.expect("first booking");

    let mut tx = store.write().await.expect("write");
    // Straight through the store: no application check, only the constraint.
    // 09:10–09:30, blocking until 09:35.
    let clash = p.appointment(t0() + Duration::minutes(10), 20, Status::Confirmed);
    let err = tx
        .save_appointment(&clash, Write::Insert)
        .await
        .expect_err("overlaps the first");
    match &err {
        StoreError::Overlap { taken_by } => {
            assert_eq!(taken_by.len(), 1, "{taken_by:?}");
            assert_eq!(taken_by[0], Booking::from(&first));
        }
        other => panic!("expected an overlap, got {other:?}"),
    }
    // The transaction is still usable: back to back with the first's blocked
    // end (half-open), and an overlapping cancelled one, are both fine.
    let touching = p.appointment(t0() + Duration::minutes(35), 30, Status::Scheduled);
    tx.save_appointment(&touching, Write::Insert)
        .await
        .expect("touching is not overlapping");
    let cancelled = p.appointment(t0() + Duration::minutes(10), 30, Status::Cancelled);
    tx.save_appointment(&cancelled, Write::Insert)
        .await
        .expect("a cancelled appointment holds no time");
    // Another vet may have the first one's time.
    let other_vet = p.appointment_of(p.vets[1].id, t0(), 30, Status::Scheduled);
    tx.save_appointment(&other_vet, Write::Insert)
        .await
        .expect("another vet");
    // Moving an appointment onto another names the other, never itself.
    let mut moved = touching.clone();
    moved.slot =
        Interval::new(t0() + Duration::minutes(30), t0() + Duration::minutes(60)).expect("slot");
    moved.meta = touching.meta.bumped(t0());
    let err = tx
        .save_appointment(
            &moved,
            Write::Update {
                expected_version: 1,
            },
        )
        .await
        .expect_err("moved onto the first's buffer");
    assert_eq!(taken_by(err), vec![first.id]);
    tx.commit().await.expect("commit");

    // A refused write left nothing behind.
    let mut tx = store.read().await.expect("read");
    assert_eq!(tx.appointment(clash.id).await.expect("read"), None);
    assert_eq!(
        tx.appointment(touching.id).await.expect("read"),
        Some(touching.clone())
    );
    drop(tx);
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM change_log WHERE entity_id = $1")
        .bind(clash.id.0)
        .fetch_one(store.pool())
        .await
        .expect("change log");
    assert_eq!(logged, 0);

    // Cancelling the first frees its time.
    let mut cancel = first.clone();
    cancel.status = Status::Cancelled;
    cancel.meta = first.meta.bumped(t0());
    let mut tx = store.write().await.expect("write");
    tx.save_appointment(
        &cancel,
        Write::Update {
            expected_version: 1,
        },
    )
    .await
    .expect("cancel");
    tx.save_appointment(&clash, Write::Insert)
        .await
        .expect("the freed time can be booked");
    tx.commit().await.expect("commit");
    assert_eq!(overlapping_pairs(&store).await, 0);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_writes_to_one_slot_exactly_one_commits() {
    let Some((_db, store)) = fresh().await else {
        return;
    };
    let store = Arc::new(store);
    let p = practice(&store).await;

    // Step by step: the second waits for the first, then sees it and is refused.
    let first = p.appointment(t0(), 30, Status::Scheduled);
    let second = p.appointment(t0() + Duration::minutes(15), 30, Status::Scheduled);
    let mut tx1 = store.write().await.expect("write 1");
    let tx2 = store.write().await.expect("write 2");
    tx1.save_appointment(&first, Write::Insert)
        .await
        .expect("first");
    let waiting = tokio::spawn({
        let second = second.clone();
        async move {
            let mut tx2 = tx2;
            tx2.save_appointment(&second, Write::Insert).await?;
            tx2.commit().await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the second booking waits for the first transaction"
    );
    tx1.commit().await.expect("the first commits");
    let err = waiting
        .await
        .expect("task")
        .expect_err("the second is refused");
    assert_eq!(taken_by(err), vec![first.id]);

    // Free-for-alls: eight writers, one slot, round after round; half of them
    // book, half move an appointment they hold elsewhere onto it. Every loser
    // is told who won; none deadlocks into a "busy".
    for round in 0..20 {
        let slot = t0() + Duration::days(1 + round);
        let mut held = Vec::new();
        for i in 0..4 {
            let a = p.appointment(slot + Duration::hours(2 + i), 30, Status::Scheduled);
            book(&store, &a).await.expect("book");
            held.push(a);
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let mut attempts = Vec::new();
        for (i, a) in (0..).zip(held) {
            let start = slot + Duration::minutes(2 * i);
            let mut moved = a.clone();
            moved.slot = Interval::new(start, start + Duration::minutes(30)).expect("slot");
            moved.meta = a.meta.bumped(t0());
            let (store, barrier) = (store.clone(), barrier.clone());
            attempts.push(tokio::spawn(async move {
                let mut tx = store.write().await?;
                barrier.wait().await;
                tx.save_appointment(
                    &moved,
                    Write::Update {
                        expected_version: 1,
                    },
                )
                .await?;
                tx.commit().await.map(|()| moved.id)
            }));
        }
        for i in 0..4 {
            let a = p.appointment(slot + Duration::minutes(2 * i + 1), 30, Status::Scheduled);
            let (store, barrier) = (store.clone(), barrier.clone());
            attempts.push(tokio::spawn(async move {
                let mut tx = store.write().await?;
                barrier.wait().await;
                tx.save_appointment(&a, Write::Insert).await?;
                tx.commit().await.map(|()| a.id)
            }));
        }
        let mut won = Vec::new();
        let mut lost = 0;
        for attempt in attempts {
            match attempt.await.expect("task") {
                Ok(id) => won.push(id),
                Err(StoreError::Overlap { taken_by }) => {
                    assert_eq!(taken_by.len(), 1, "a loser is told who won");
                    lost += 1;
                }
                Err(other) => panic!("every loser gets the typed overlap, not {other:?}"),
            }
        }
        assert_eq!((won.len(), lost), (1, 7), "round {round}: {won:?}");
    }
    assert_eq!(overlapping_pairs(&store).await, 0);
    store.close().await;
}

#[tokio::test]
async fn stale_duplicate_and_dangling_writes_are_refused_with_their_reason() {
    let Some((_db, store)) = fresh().await else {
        return;
    };
    let p = practice(&store).await;

    let mut renamed = p.clinic.clone();
    renamed.name = name("Riverside North");
    renamed.meta = p.clinic.meta.bumped(t0());
    let mut tx = store.write().await.expect("write");
    tx.save_clinic(
        &renamed,
        Write::Update {
            expected_version: 1,
        },
    )
    .await
    .expect("update at the version read");
    tx.commit().await.expect("commit");

    // Someone else's copy, read at version 1.
    let mut tx = store.write().await.expect("write");
    let err = tx
        .save_clinic(
            &renamed,
            Write::Update {
                expected_version: 1,
            },
        )
        .await
        .expect_err("stale");
    assert!(
        matches!(
            err,
            StoreError::StaleVersion {
                entity: Entity::Clinic,
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let err = tx
        .save_clinic(&p.clinic, Write::Insert)
        .await
        .expect_err("exists already");
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    let err = tx
        .delete(Entity::Clinic, p.clinic.id.0, 1, t0())
        .await
        .expect_err("stale delete");
    assert!(
        matches!(err, StoreError::StaleVersion { actual: 2, .. }),
        "{err:?}"
    );
    let gone = tx
        .delete(Entity::Pet, p.pet.id.0, 1, t0())
        .await
        .expect("delete the pet");
    assert_eq!(gone, 2);
    assert_eq!(tx.pet(p.pet.id).await.expect("read"), None, "tombstoned");
    let err = tx
        .save_pet(
            &p.pet,
            Write::Update {
                expected_version: 2,
            },
        )
        .await
        .expect_err("tombstoned");
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                entity: Entity::Pet,
                ..
            }
        ),
        "{err:?}"
    );
    tx.commit().await.expect("commit");

    // Two workstations reschedule the same appointment from version 1: the
    // second waits for the first, then finds the version moved on.
    let a = p.appointment(t0(), 30, Status::Scheduled);
    book(&store, &a).await.expect("book");
    let reschedule = |minutes: i64| {
        let mut moved = a.clone();
        let start = t0() + Duration::minutes(minutes);
        moved.slot = Interval::new(start, start + Duration::minutes(30)).expect("slot");
        moved.meta = a.meta.bumped(t0());
        moved
    };
    let (first, second) = (reschedule(60), reschedule(120));
    let mut tx1 = store.write().await.expect("write 1");
    let mut tx2 = store.write().await.expect("write 2");
    tx1.save_appointment(
        &first,
        Write::Update {
            expected_version: 1,
        },
    )
    .await
    .expect("the first wins");
    let (committed, refused) = tokio::join!(
        async {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            tx1.commit().await
        },
        tx2.save_appointment(
            &second,
            Write::Update {
                expected_version: 1
            }
        )
    );
    committed.expect("commit");
    let err = refused.expect_err("the second is stale");
    assert!(
        matches!(
            err,
            StoreError::StaleVersion {
                entity: Entity::Appointment,
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    drop(tx2);

    // A pet whose owner does not exist.
    let stray = Pet {
        id: PetId(Uuid::now_v7()),
        owner: ClientId(Uuid::now_v7()),
        ..p.pet.clone()
    };
    let mut tx = store.write().await.expect("write");
    let err = tx
        .save_pet(&stray, Write::Insert)
        .await
        .expect_err("missing owner");
    assert!(matches!(err, StoreError::MissingReference(_)), "{err:?}");
    drop(tx);
    store.close().await;
}

#[tokio::test]
async fn a_database_from_a_newer_vetdesk_is_refused_clearly() {
    let Some((db, store)) = fresh().await else {
        return;
    };
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', true, '\\x00'::bytea, 0)",
    )
    .execute(store.pool())
    .await
    .expect("fake a newer migration");
    store.close().await;
    let err = PgStore::connect(&db.url).await.err().expect("must refuse");
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 9999,
                known: 9
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer vetdesk"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_without_the_password() {
    // Needs no server: nothing listens on port 1.
    let started = std::time::Instant::now();
    let err = PgStore::connect("postgres://postgres:s3cret@127.0.0.1:1/postgres")
        .await
        .err()
        .expect("nothing listens on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let msg = err.to_string();
    assert!(!msg.contains("s3cret"), "{msg}");
    assert!(msg.contains("127.0.0.1:1"), "names the server: {msg}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "refused at once, not after the pool's timeout"
    );
    let err = vetdesk_store::open("postgresql://postgres:s3cret@127.0.0.1:1/postgres")
        .await
        .err()
        .expect("by URL too");
    assert!(
        matches!(&err, StoreError::Unavailable(m) if !m.contains("s3cret")),
        "{err:?}"
    );
    let err = PgStore::connect("postgres://postgres:s3cret@127.0.0.1:notaport/postgres")
        .await
        .err()
        .expect("a malformed URL");
    assert!(
        matches!(&err, StoreError::Unavailable(m) if !m.contains("s3cret")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unknown_role_is_a_clear_error_without_the_password() {
    let Some(server) = server_url() else {
        return;
    };
    let opts = PgConnectOptions::from_str(&server).expect("the server URL");
    let url = format!(
        "postgres://nobody_{}:s3cret@{}:{}/postgres",
        Uuid::now_v7().simple(),
        opts.get_host(),
        opts.get_port()
    );
    let err = PgStore::connect(&url).await.err().expect("no such role");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let msg = err.to_string();
    assert!(!msg.contains("s3cret"), "{msg}");
    assert!(msg.contains("nobody_"), "names the role: {msg}");
}

#[tokio::test]
async fn a_change_committed_on_one_store_reaches_a_subscriber_of_another() {
    let Some((db, writer)) = fresh().await else {
        return;
    };
    let reader = PgStore::connect(&db.url)
        .await
        .expect("a second workstation");
    let mut changes = reader.subscribe();
    let p = practice(&writer).await;
    // The practice: clinic, two vets, client, pet, type.
    let mut seen = Vec::new();
    for _ in 0..6 {
        let c = next_change(&mut changes).await;
        seen.push((c.entity, c.id));
    }
    assert_eq!(seen[0], (Entity::Clinic, p.clinic.id.0));
    assert_eq!(seen[5], (Entity::AppointmentType, p.kind.id.0));

    // Rolled back: never announced.
    let ghost = p.appointment(t0(), 30, Status::Scheduled);
    let mut tx = writer.write().await.expect("write");
    tx.save_appointment(&ghost, Write::Insert)
        .await
        .expect("save");
    drop(tx);

    let booked = p.appointment(t0() + Duration::hours(1), 30, Status::Scheduled);
    let sent = std::time::Instant::now();
    book(&writer, &booked).await.expect("book");
    let c = next_change(&mut changes).await;
    eprintln!("change arrived after {:?}", sent.elapsed());
    assert_eq!(c.entity, Entity::Appointment);
    assert_eq!(c.id, booked.id.0);
    assert_eq!(c.clinic_id, Some(p.clinic.id));
    assert_eq!(c.version, 1);
    assert_eq!(c.op, ChangeOp::Insert);
    assert_eq!(c.at, booked.meta.updated_at);
    let seq: i64 = sqlx::query_scalar("SELECT seq FROM change_log WHERE entity_id = $1")
        .bind(booked.id.0)
        .fetch_one(reader.pool())
        .await
        .expect("logged");
    assert_eq!(c.seq, seq);

    // An update and a deletion are announced as such.
    let mut confirmed = booked.clone();
    confirmed.status = Status::Confirmed;
    confirmed.meta = booked.meta.bumped(t0());
    let mut tx = writer.write().await.expect("write");
    tx.save_appointment(
        &confirmed,
        Write::Update {
            expected_version: 1,
        },
    )
    .await
    .expect("confirm");
    tx.delete(Entity::Appointment, booked.id.0, 2, t0())
        .await
        .expect("delete");
    tx.commit().await.expect("commit");
    let (update, delete) = (
        next_change(&mut changes).await,
        next_change(&mut changes).await,
    );
    assert_eq!((update.op, update.version), (ChangeOp::Update, 2));
    assert_eq!((delete.op, delete.version), (ChangeOp::Delete, 3));
    assert!(
        changes.try_recv().is_err(),
        "nothing else: {:?}",
        changes.try_recv()
    );

    // Closing ends the listener; the other store is unaffected.
    reader.close().await;
    writer.close().await;
}

#[tokio::test]
async fn the_range_queries_use_the_vet_blocked_index() {
    let Some((_db, store)) = fresh().await else {
        return;
    };
    let p = practice(&store).await;
    for day in 0..5 {
        for slot in 0..8 {
            let start = t0() + Duration::days(day) + Duration::minutes(slot * 45);
            for vet in &p.vets {
                book(
                    &store,
                    &p.appointment_of(vet.id, start, 30, Status::Scheduled),
                )
                .await
                .expect("book");
            }
        }
    }
    // And a year of history before them, so the planner faces a real table.
    let vets: Vec<Uuid> = p.vets.iter().map(|v| v.id.0).collect();
    let history = sqlx::query(
        "INSERT INTO appointments (id, clinic_id, vet_id, pet_id, client_id, type_id, start_at, end_at, \
         buffer_before_min, buffer_after_min, blocked_start, blocked_end, status, created_by, updated_by, \
         version, created_at, updated_at) \
         SELECT gen_random_uuid(), $1, v, $2, $3, $4, s, s + interval '30 minutes', 0, 5, \
         s, s + interval '35 minutes', 'completed', 'bulk', 'bulk', 1, s, s \
         FROM unnest($5::uuid[]) AS v, \
         generate_series($6::timestamptz, $7::timestamptz, interval '45 minutes') AS s",
    )
    .bind(p.clinic.id.0)
    .bind(p.pet.id.0)
    .bind(p.client.id.0)
    .bind(p.kind.id.0)
    .bind(vets.clone())
    .bind(t0() - Duration::days(365))
    .bind(t0() - Duration::days(1))
    .execute(store.pool())
    .await
    .expect("a year of history");
    assert!(history.rows_affected() > 20_000);
    let mut conn = store.pool().acquire().await.expect("connection");
    sqlx::query("ANALYZE appointments")
        .execute(&mut *conn)
        .await
        .expect("analyze");
    let (lo, hi) = (t0() + Duration::days(1), t0() + Duration::days(2));
    for (sql, ignoring) in [
        (PgStore::BOOKINGS_QUERY, false),
        (PgStore::BUSY_QUERY, true),
    ] {
        let explain = format!("EXPLAIN {sql}");
        let mut q = sqlx::query(&explain)
            .bind(vets.clone())
            .bind(lo - vetdesk_store::MAX_BLOCK)
            .bind(hi)
            .bind(lo);
        if ignoring {
            q = q.bind(None::<Uuid>);
        }
        let plan = q
            .fetch_all(&mut *conn)
            .await
            .expect("explain")
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(plan.contains("appointments_vet_blocked"), "{plan}");
        // Bounded by time inside the index, not filtered row by row.
        assert!(
            plan.lines()
                .any(|l| l.contains("Index Cond") && l.contains("blocked_start <")),
            "{plan}"
        );
        assert!(
            plan.contains("Index Only Scan")
                || plan.contains("Index Scan")
                || plan.contains("Bitmap Index Scan"),
            "{plan}"
        );
        assert!(!plan.contains("Seq Scan"), "{plan}");
    }
    drop(conn);

    // And the answers: by vet in the order asked, then by start.
    let window = Interval::new(lo, lo + Duration::hours(2)).expect("window");
    let order = [p.vets[1].id, p.vets[0].id];
    let mut tx = store.read().await.expect("read");
    let bookings = tx.bookings(&order, window).await.expect("bookings");
    assert_eq!(bookings.len(), 6, "{bookings:?}");
    assert!(bookings[..3].iter().all(|(v, _)| *v == order[0]));
    assert!(bookings[3..].iter().all(|(v, _)| *v == order[1]));
    assert!(bookings[..3]
        .windows(2)
        .all(|w| w[0].1.blocked.start() < w[1].1.blocked.start()));
    let busy = tx
        .busy(&order, window, Some(bookings[0].1.id))
        .await
        .expect("busy");
    assert_eq!(busy.len(), 5, "leaves out the one ignored: {busy:?}");
    assert_eq!(busy[0], (order[0], bookings[1].1.blocked));
    assert!(tx.bookings(&[], window).await.expect("none").is_empty());
    drop(tx);
    store.close().await;
}

#[tokio::test]
async fn every_record_reads_back_as_written_and_tombstones_stay_hidden() {
    let Some((_db, store)) = fresh().await else {
        return;
    };
    let p = practice(&store).await;
    let vet = p.vet();
    let hours = WorkingHours {
        id: WorkingHoursId(Uuid::now_v7()),
        vet_id: vet,
        clinic_id: p.clinic.id,
        weekday: Weekday::Mon,
        span: LocalSpan::new(9 * 60, 17 * 60).expect("span"),
        valid_from: NaiveDate::from_ymd_opt(2030, 1, 1).expect("date"),
        valid_to: None,
        meta: meta(),
    };
    let day_off = DateOverride {
        id: DateOverrideId(Uuid::now_v7()),
        vet_id: vet,
        clinic_id: p.clinic.id,
        date: NaiveDate::from_ymd_opt(2030, 3, 5).expect("date"),
        spans: LocalSpan::parse_list("10:00-12:00,13:00-15:30").expect("spans"),
        note: Some("short day".into()),
        meta: meta(),
    };
    let away = TimeOff {
        id: TimeOffId(Uuid::now_v7()),
        vet_id: vet,
        period: Interval::new(at("2030-03-06T00:00:00Z"), at("2030-03-07T00:00:00Z"))
            .expect("period"),
        reason: Some("course".into()),
        meta: meta(),
    };
    let a = p.appointment(t0(), 30, Status::Scheduled);
    let b = p.appointment(t0() + Duration::hours(1), 30, Status::Completed);
    let line = HistoryEntry {
        appointment_id: a.id,
        version: 1,
        action: "book".into(),
        from_status: None,
        to_status: Status::Scheduled,
        slot: a.slot,
        note: None,
        actor: Actor::new("test"),
        at: at("2030-01-01T08:00:00.123Z"),
    };
    let mut tx = store.write().await.expect("write");
    tx.save_working_hours(&hours, Write::Insert)
        .await
        .expect("hours");
    tx.save_date_override(&day_off, Write::Insert)
        .await
        .expect("override");
    let mut twice = day_off.clone();
    twice.id = DateOverrideId(Uuid::now_v7());
    let err = tx
        .save_date_override(&twice, Write::Insert)
        .await
        .expect_err("one override per vet, clinic and date");
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    drop(tx);

    let mut tx = store.write().await.expect("write");
    tx.save_working_hours(&hours, Write::Insert)
        .await
        .expect("hours");
    tx.save_date_override(&day_off, Write::Insert)
        .await
        .expect("override");
    tx.save_time_off(&away, Write::Insert).await.expect("away");
    tx.save_appointment(&a, Write::Insert).await.expect("a");
    tx.save_appointment(&b, Write::Insert).await.expect("b");
    tx.add_history(&line).await.expect("history");
    tx.commit().await.expect("commit");

    let mut tx = store.read().await.expect("read");
    assert_eq!(
        tx.clinic(p.clinic.id).await.expect("clinic"),
        Some(p.clinic.clone())
    );
    assert_eq!(tx.clinics().await.expect("clinics"), vec![p.clinic.clone()]);
    assert_eq!(tx.vet(vet).await.expect("vet"), Some(p.vets[0].clone()));
    assert_eq!(tx.vets(Some(p.clinic.id)).await.expect("vets"), p.vets);
    assert!(tx
        .vets(Some(ClinicId(Uuid::now_v7())))
        .await
        .expect("vets")
        .is_empty());
    assert_eq!(
        tx.client(p.client.id).await.expect("client"),
        Some(p.client.clone())
    );
    for text in ["åsa", "ÅSA", "example.com", "7946", "lind"] {
        assert_eq!(
            tx.clients(Some(text), 10, None).await.expect("search"),
            vec![p.client.clone()],
            "{text}"
        );
    }
    assert!(tx
        .clients(Some("%"), 10, None)
        .await
        .expect("search")
        .is_empty());
    assert_eq!(tx.pet(p.pet.id).await.expect("pet"), Some(p.pet.clone()));
    assert_eq!(
        tx.pets(Some(p.client.id), Some("x_100%"), 10, None)
            .await
            .expect("pets"),
        vec![p.pet.clone()]
    );
    assert!(tx
        .pets(None, Some("x_1000"), 10, None)
        .await
        .expect("pets")
        .is_empty());
    assert_eq!(
        tx.appointment_type(p.kind.id).await.expect("type"),
        Some(p.kind.clone())
    );
    assert_eq!(
        tx.appointment_types().await.expect("types"),
        vec![p.kind.clone()]
    );
    assert_eq!(
        tx.working_hours(Some(vet), Some(p.clinic.id))
            .await
            .expect("hours"),
        vec![hours.clone()]
    );
    assert_eq!(
        tx.date_overrides(None, None, day_off.date, day_off.date)
            .await
            .expect("overrides"),
        vec![day_off.clone()]
    );
    assert_eq!(
        tx.time_off(Some(vet), None).await.expect("away"),
        vec![away.clone()]
    );
    let before = Interval::new(t0(), away.period.start()).expect("window");
    assert!(tx
        .time_off(None, Some(before))
        .await
        .expect("away")
        .is_empty());
    assert_eq!(tx.appointment(a.id).await.expect("a"), Some(a.clone()));
    let view = tx
        .appointment_view(b.id)
        .await
        .expect("view")
        .expect("exists");
    assert_eq!(
        (
            view.appointment,
            view.pet_name.as_str(),
            view.vet_name.as_str()
        ),
        (b.clone(), "Rex_100%", "Dr Adams")
    );
    assert_eq!(tx.history(a.id).await.expect("history"), vec![line]);

    let page = tx
        .appointments(&AppointmentFilter {
            statuses: vec![Status::Scheduled, Status::Completed],
            clinic: Some(p.clinic.id),
            text: Some("ÅSA".into()),
            limit: 1,
            offset: 1,
            ..AppointmentFilter::default()
        })
        .await
        .expect("page");
    assert_eq!(page.total, 2);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].appointment.id, b.id);
    let page = tx
        .appointments(&AppointmentFilter {
            statuses: vec![Status::Completed],
            vet: Some(vet),
            from: Some(t0()),
            to: Some(t0() + Duration::days(1)),
            limit: 10,
            ..AppointmentFilter::default()
        })
        .await
        .expect("page");
    assert_eq!(
        page.items
            .iter()
            .map(|v| v.appointment.id)
            .collect::<Vec<_>>(),
        vec![b.id]
    );
    // A completed appointment still holds its time; both are booked.
    let window = Interval::new(t0(), t0() + Duration::hours(3)).expect("window");
    assert_eq!(
        tx.bookings(&[vet], window).await.expect("bookings").len(),
        2
    );
    drop(tx);

    let mut tx = store.write().await.expect("write");
    tx.delete(Entity::Appointment, a.id.0, 1, t0())
        .await
        .expect("delete");
    tx.delete(Entity::TimeOff, away.id.0, 1, t0())
        .await
        .expect("delete");
    tx.delete(Entity::Vet, p.vets[1].id.0, 1, t0())
        .await
        .expect("delete");
    tx.commit().await.expect("commit");
    let mut tx = store.read().await.expect("read");
    assert_eq!(tx.appointment(a.id).await.expect("a"), None);
    assert_eq!(tx.appointment_view(a.id).await.expect("a"), None);
    assert!(tx.time_off(Some(vet), None).await.expect("away").is_empty());
    assert_eq!(tx.vets(None).await.expect("vets"), vec![p.vets[0].clone()]);
    let bookings = tx.bookings(&[vet], window).await.expect("bookings");
    assert_eq!(
        bookings.iter().map(|(_, b)| b.id).collect::<Vec<_>>(),
        vec![b.id]
    );
    let page = tx
        .appointments(&AppointmentFilter {
            limit: 10,
            ..AppointmentFilter::default()
        })
        .await
        .expect("page");
    assert_eq!(page.total, 1);
    drop(tx);
    store.close().await;
}
