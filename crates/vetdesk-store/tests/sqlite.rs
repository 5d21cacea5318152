//! The SQLite engine's own promises: pragmas, indexed range queries, and
//! refusing a database written by a newer vetdesk.

use sqlx::{Row, SqlitePool};
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

#[tokio::test]
async fn range_queries_by_vet_and_time_use_indexes() {
    let (_d, _url, store) = fresh().await;
    let p = plan(store.pool(), queries::BOOKINGS_OF_VET, 4).await;
    assert!(p.contains("USING COVERING INDEX appointments_vet_blocked (vet_id=? AND blocked_start>? AND blocked_start<?)"), "{p}");
    assert!(!p.contains("SCAN appointments"), "{p}");
    assert!(!p.contains("TEMP B-TREE"), "no sorting pass: {p}");
    let p = plan(store.pool(), queries::BUSY_OF_VET, 5).await;
    assert!(p.contains("USING COVERING INDEX appointments_vet_blocked (vet_id=? AND blocked_start>? AND blocked_start<?)"), "{p}");
    let p = plan(store.pool(), queries::TIME_OFF, 3).await;
    assert!(
        p.contains("time_off_vet_start") || p.contains("SCAN time_off"),
        "{p}"
    );
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
