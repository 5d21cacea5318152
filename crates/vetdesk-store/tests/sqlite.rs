//! The SQLite engine's own promises: pragmas, indexed range queries,
//! migrating a database an older vetdesk wrote, and refusing a database
//! written by a newer vetdesk.

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use vetdesk_store::{queries, SqliteStore, Store, StoreError};

async fn fresh() -> (tempfile::TempDir, String, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = SqliteStore::open(&url).await.expect("open");
    (dir, url, store)
}

async fn plan(pool: &SqlitePool, sql: &str, binds: usize) -> String {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut q = sqlx::query(&explain);
    for _ in 0..binds {
        q = q.bind(0_i64);
    }
    q.fetch_all(pool)
        .await
        .expect("explain")
        .iter()
        .map(|r| r.get::<String, _>("detail"))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The plans of the hot range reads: the covering index, no table lookup
/// per appointment, no sort.
async fn assert_range_reads_are_covered(pool: &SqlitePool) {
    const COVERED: &str = "USING COVERING INDEX appointments_vet_blocked (vet_id=? AND blocked_start>? AND blocked_start<?)";
    let p = plan(pool, queries::BOOKINGS_OF_VET, 4).await;
    assert!(p.contains(COVERED), "{p}");
    assert!(!p.contains("SCAN appointments"), "{p}");
    assert!(!p.contains("TEMP B-TREE"), "no sorting pass: {p}");
    let p = plan(pool, queries::BUSY_OF_VET, 5).await;
    assert!(p.contains(COVERED), "{p}");
    let p = plan(pool, queries::TIME_OFF, 3).await;
    assert!(
        p.contains("time_off_vet_start") || p.contains("SCAN time_off"),
        "{p}"
    );
}

#[tokio::test]
async fn range_queries_by_vet_and_time_use_indexes() {
    let (_d, _url, store) = fresh().await;
    assert_range_reads_are_covered(store.pool()).await;
}

#[tokio::test]
async fn the_file_runs_in_wal_with_foreign_keys_and_a_busy_timeout() {
    let (_d, _url, store) = fresh().await;
    let mut conn = store.pool().acquire().await.expect("conn");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .expect("pragma");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .expect("pragma");
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .expect("pragma");
    assert_eq!((mode.as_str(), fk), ("wal", 1));
    assert!(busy >= 5_000, "busy timeout {busy} ms");
    // Every write is flushed to disk before it commits (2 = FULL), except the
    // relaxed ones (1 = NORMAL), which still survive the process being killed.
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .expect("pragma");
    assert_eq!(sync, 2);
    let mut relaxed = store.relaxed_pool().acquire().await.expect("conn");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *relaxed)
        .await
        .expect("pragma");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *relaxed)
        .await
        .expect("pragma");
    assert_eq!((sync, mode.as_str()), (1, "wal"));
    // Space freed inside a page is zeroed (2 = FAST), on both pools, so an
    // erased owner's old values do not linger in the file.
    for c in [&mut *conn, &mut *relaxed] {
        let secure: i64 = sqlx::query_scalar("PRAGMA secure_delete")
            .fetch_one(c)
            .await
            .expect("pragma");
        assert_eq!(secure, 2);
    }
    // Foreign keys are enforced: a pet whose owner does not exist is refused.
    let err = sqlx::query("INSERT INTO pets (id, owner_id, name, search_name, species, version, created_at, updated_at) VALUES (x'01', x'02', 'a', 'a', 'dog', 1, 0, 0)")
        .execute(&mut *conn)
        .await
        .expect_err("foreign key");
    assert!(matches!(
        StoreError::from(err),
        StoreError::MissingReference(_)
    ));
}

#[tokio::test]
async fn a_database_from_a_newer_vetdesk_is_refused_clearly() {
    let (_d, url, store) = fresh().await;
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'from the future', 1, x'00', 0)")
        .execute(store.pool())
        .await
        .expect("fake a newer migration");
    store.close().await;
    let err = SqliteStore::open(&url).await.err().expect("must refuse");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 9999, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer vetdesk"), "{err}");
}

#[tokio::test]
async fn reopening_is_idempotent_and_a_bad_path_is_a_clear_error() {
    let (_d, url, store) = fresh().await;
    store.close().await;
    let again = SqliteStore::open(&url).await.expect("reopen");
    assert_eq!(again.backend(), "sqlite");
    let err = SqliteStore::open("/proc/definitely/not/here.db")
        .await
        .err()
        .expect("must fail");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = vetdesk_store::open("postgres://127.0.0.1:1/x")
        .await
        .err()
        .expect("nothing listens on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

/// A database as a vetdesk that knew migrations up to `last` left it: those
/// files, applied by sqlx from a copy (so their checksums are the ones a later
/// vetdesk finds), with foreign keys on as the store runs them.
async fn database_at_migration(dir: &Path, last: i64) -> (String, SqlitePool) {
    let all = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
    let older = dir.join("migrations");
    std::fs::create_dir(&older).expect("migrations dir");
    for entry in std::fs::read_dir(&all).expect("read migrations") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let number: i64 = name
            .split('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(i64::MAX);
        if number <= last {
            std::fs::copy(&path, older.join(name)).expect("copy migration");
        }
    }
    let url = format!("sqlite://{}", dir.join("old.db").display());
    let opts = url
        .parse::<SqliteConnectOptions>()
        .expect("url")
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .expect("open");
    let migrator = sqlx::migrate::Migrator::new(older.as_path())
        .await
        .expect("older migrations");
    assert_eq!(migrator.iter().map(|m| m.version).max(), Some(last));
    migrator
        .run(&pool)
        .await
        .expect("migrate to the older schema");
    (url, pool)
}

/// Every column of every appointment but `holds_time`, quoted, one line per row.
async fn appointment_rows(pool: &SqlitePool) -> Vec<String> {
    let expr: String = sqlx::query_scalar(
        "SELECT group_concat('quote(' || name || ')', ' || '','' || ') \
         FROM pragma_table_info('appointments') WHERE name <> 'holds_time'",
    )
    .fetch_one(pool)
    .await
    .expect("columns");
    sqlx::query_scalar(&format!("SELECT {expr} FROM appointments ORDER BY id"))
        .fetch_all(pool)
        .await
        .expect("rows")
}

/// What migration 5 left: one appointment in each status (one of them
/// deleted), each with a history line and an outbox row pointing at it.
const OLD_DATA: &str = "
    INSERT INTO clinics VALUES (x'c1', 'Riverside', 'Europe/London', 1, 10, 10, NULL);
    INSERT INTO vets VALUES (x'd1', 'Morgan', NULL, 1, 10, 10, NULL);
    INSERT INTO clients (id, name, search_name, version, created_at, updated_at)
        VALUES (x'e1', 'Sam', 'sam', 1, 10, 10);
    INSERT INTO pets (id, owner_id, name, search_name, species, version, created_at, updated_at)
        VALUES (x'f1', x'e1', 'Rex', 'rex', 'dog', 1, 10, 10);
    INSERT INTO appointment_types VALUES (x'a1', 'Check-up', 30, '#2a9d8f', 5, 10, 1, 10, 10, NULL);
    WITH s(n, status) AS (VALUES (1, 'scheduled'), (2, 'confirmed'), (3, 'checked_in'),
        (4, 'in_progress'), (5, 'completed'), (6, 'cancelled'), (7, 'no_show'), (8, 'scheduled'))
    INSERT INTO appointments
    SELECT zeroblob(15) || char(n), x'c1', x'd1', x'f1', x'e1', x'a1',
        n * 3600000, n * 3600000 + 1800000, 5, 10, n * 3600000 - 300000, n * 3600000 + 2400000,
        status, status NOT IN ('cancelled', 'no_show'), 'vaccination ' || n,
        CASE WHEN n % 2 = 0 THEN 'notes' END,
        CASE WHEN status = 'cancelled' THEN 'owner called' END,
        'front desk', 'morgan', n, 20, 30 + n, CASE WHEN n = 8 THEN 40 END
    FROM s;
    INSERT INTO appointment_history (appointment_id, version, action, to_status, start_at, end_at, actor, at)
        SELECT id, version, 'book', status, start_at, end_at, 'front desk', 20 FROM appointments;
    INSERT INTO outbox (id, idempotency_key, appointment_id, appointment_version, clinic_id, vet_id,
        kind, channel, appointment_start, due_at, expires_at, status, next_attempt_at, created_at, updated_at)
        SELECT id, hex(id) || '.confirmation.email.v1', id, 1, clinic_id, vet_id,
            'confirmation', 'email', start_at, 20, start_at, 'pending', 20, 20, 20 FROM appointments;
";

#[tokio::test]
async fn an_older_database_keeps_its_appointments_and_derives_holds_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, old) = database_at_migration(dir.path(), 5).await;
    sqlx::raw_sql(OLD_DATA)
        .execute(&old)
        .await
        .expect("old data");
    // A flag the application got wrong once: the migration derives it afresh.
    sqlx::query("UPDATE appointments SET holds_time = 1 WHERE status = 'no_show'")
        .execute(&old)
        .await
        .expect("a wrong flag");
    let before = appointment_rows(&old).await;
    old.close().await;

    let store = SqliteStore::open(&url).await.expect("migrate");
    let pool = store.pool();
    assert_eq!(appointment_rows(pool).await, before, "every value kept");
    let holds: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, holds_time FROM appointments ORDER BY id")
            .fetch_all(pool)
            .await
            .expect("holds_time");
    let expected = [
        ("scheduled", 1),
        ("confirmed", 1),
        ("checked_in", 1),
        ("in_progress", 1),
        ("completed", 1),
        ("cancelled", 0),
        ("no_show", 0),
        ("scheduled", 1),
    ];
    let holds: Vec<(&str, i64)> = holds.iter().map(|(s, h)| (s.as_str(), *h)).collect();
    assert_eq!(holds, expected);

    // Derived by the database: a stored generated column nobody can write.
    let hidden: i64 = sqlx::query_scalar(
        "SELECT hidden FROM pragma_table_xinfo('appointments') WHERE name = 'holds_time'",
    )
    .fetch_one(pool)
    .await
    .expect("xinfo");
    assert_eq!(hidden, 3, "3 = a STORED generated column");
    let err = sqlx::query("UPDATE appointments SET holds_time = 1")
        .execute(pool)
        .await
        .expect_err("a generated column cannot be written");
    assert!(err.to_string().contains("generated column"), "{err}");

    // History and outbox still point at the (new) appointments table: their
    // rows all have their appointment, and a row for a missing one is refused.
    let orphans: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(pool)
        .await
        .expect("foreign key check");
    assert!(orphans.is_empty(), "{orphans:?}");
    for table in ["appointment_history", "outbox"] {
        let target: String = sqlx::query_scalar(&format!(
            "SELECT \"table\" FROM pragma_foreign_key_list('{table}') WHERE \"from\" = 'appointment_id'"
        ))
        .fetch_one(pool)
        .await
        .expect("foreign key list");
        assert_eq!(target, "appointments", "{table}");
    }
    let err = sqlx::query("INSERT INTO appointment_history (appointment_id, version, action, to_status, start_at, end_at, actor, at) VALUES (x'99', 1, 'book', 'scheduled', 0, 1, 'x', 0)")
        .execute(pool)
        .await
        .expect_err("no such appointment");
    assert!(matches!(
        StoreError::from(err),
        StoreError::MissingReference(_)
    ));

    // The rebuilt table has every index back, and the range reads are covered.
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'appointments' \
         AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("indexes");
    assert_eq!(
        indexes,
        [
            "appointments_client",
            "appointments_clinic_start",
            "appointments_pet",
            "appointments_vet_blocked",
            "appointments_vet_start"
        ]
    );
    assert_range_reads_are_covered(pool).await;
    store.close().await;
}
