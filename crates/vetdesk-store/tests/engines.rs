//! Promises both engines keep, checked on each.
//!
//! The rules every table keeps, read from the schemas themselves: a table
//! whose rows can change carries `version`, `created_at`, `updated_at` and a
//! `deleted_at` tombstone (sync sees every change and every deletion), and
//! both engines have the same tables and columns. A new table or column that
//! breaks a rule fails here.

mod support;

use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use vetdesk_core::{Clinic, ClinicId, Meta, Name};
use vetdesk_store::{SqliteStore, Store, Write};

/// Tables whose rows are written once and never changed or deleted.
const APPEND_ONLY: &[(&str, &str)] = &[
    ("change_log", "the change log itself"),
    ("appointment_history", "an appointment's history"),
    ("audit_log", "the audit log (append-only triggers)"),
];

/// Mutable tables that are not (yet) kept by the rule, and why.
const EXEMPT: &[(&str, &str)] = &[
    (
        "sessions",
        "sign-in sessions belong to the server that issued them and are never synced",
    ),
    (
        "outbox",
        "owner-facing messages are the server's alone and are never synced",
    ),
    (
        "message_templates",
        "still hard-deleted on reset: tombstones are open work of issue 11",
    ),
    (
        "notification_settings",
        "never deleted, but has no tombstone column yet: open work of issue 11",
    ),
];

const META: [&str; 4] = ["version", "created_at", "updated_at", "deleted_at"];

type Schema = BTreeMap<String, BTreeSet<String>>;

/// Every rule broken by `schema`, one line each.
fn broken_rules(engine: &str, schema: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for (table, cols) in schema {
        let listed = APPEND_ONLY.iter().chain(EXEMPT).any(|(t, _)| t == table);
        if listed {
            continue;
        }
        for c in META {
            if !cols.contains(c) {
                out.push(format!("{engine}: mutable table {table} has no {c}"));
            }
        }
    }
    for (t, _) in APPEND_ONLY.iter().chain(EXEMPT) {
        if !schema.contains_key(*t) {
            out.push(format!("{engine}: listed table {t} does not exist"));
        }
    }
    out
}

async fn sqlite_schema() -> (tempfile::TempDir, Schema) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("s.db").display().to_string())
        .await
        .expect("open");
    let rows = sqlx::query(
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_xinfo(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
    )
    .fetch_all(store.pool())
    .await
    .expect("schema");
    (dir, collect(rows.iter().map(|r| (r.get("t"), r.get("c")))))
}

fn collect(pairs: impl Iterator<Item = (String, String)>) -> Schema {
    let mut schema = Schema::new();
    for (t, c) in pairs {
        schema.entry(t).or_default().insert(c);
    }
    schema
}

#[tokio::test]
async fn every_mutable_table_is_versioned_and_tombstoned_on_both_engines() {
    let (_dir, sqlite) = sqlite_schema().await;
    let mut broken = broken_rules("sqlite", &sqlite);
    if let Some((_db, store)) = support::fresh().await {
        let rows = sqlx::query(
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
        )
        .fetch_all(store.pool())
        .await
        .expect("schema");
        let pg = collect(rows.iter().map(|r| (r.get("t"), r.get("c"))));
        broken.extend(broken_rules("postgres", &pg));
        for table in sqlite.keys().chain(pg.keys()).collect::<BTreeSet<_>>() {
            let (a, b) = (sqlite.get(table), pg.get(table));
            if a != b {
                broken.push(format!(
                    "table {table} differs: sqlite has {a:?}, postgres has {b:?}"
                ));
            }
        }
        store.close().await;
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_rule_catches_a_table_without_a_tombstone() {
    let mut schema = collect(
        ["id", "version", "created_at", "updated_at"]
            .into_iter()
            .map(|c| ("pets".to_string(), c.to_string())),
    );
    for (t, _) in APPEND_ONLY.iter().chain(EXEMPT) {
        schema.entry(t.to_string()).or_default();
    }
    assert_eq!(
        broken_rules("sqlite", &schema),
        ["sqlite: mutable table pets has no deleted_at"]
    );
}

/// A caller that gives up while a transaction is being opened (a client that
/// disconnects, a timeout) must not leave the pooled connection inside that
/// transaction: the next writer to get it would wait out SQLite's write lock,
/// or find itself in PostgreSQL's read-only snapshot.
async fn abandon_transactions_then_write(store: &dyn Store, rounds: u32) {
    let at = "2030-01-01T08:00:00Z".parse().expect("instant");
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..rounds {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Give up somewhere inside the BEGIN round trip (or just after it).
        let wait = std::time::Duration::from_micros(rng % 400);
        match i % 3 {
            0 => drop(tokio::time::timeout(wait, store.read()).await),
            1 => drop(tokio::time::timeout(wait, store.write()).await),
            // Given up inside a write transaction, after a statement.
            _ => drop(
                tokio::time::timeout(wait, async {
                    if let Ok(mut tx) = store.write().await {
                        let _ = tx.clinics().await;
                        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    }
                })
                .await,
            ),
        }
        let c = Clinic {
            id: ClinicId(uuid::Uuid::now_v7()),
            name: Name::parse("name", &format!("Clinic {i}")).expect("name"),
            time_zone: chrono_tz::Europe::London,
            meta: Meta::new(at),
        };
        let mut tx = store.write().await.expect("a write transaction");
        tx.save_clinic(&c, Write::Insert).await.unwrap_or_else(|e| {
            panic!(
                "{} write {i} after an abandoned transaction: {e}",
                store.backend()
            )
        });
        tx.commit().await.expect("commit");
    }
    let mut tx = store.read().await.expect("read");
    assert_eq!(tx.clinics().await.expect("clinics").len(), rounds as usize);
}

#[tokio::test]
async fn a_transaction_abandoned_while_it_opens_leaves_no_connection_inside_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let sqlite = SqliteStore::open(&url).await.expect("open");
    abandon_transactions_then_write(&sqlite, 200).await;
    if let Some((_db, pg)) = support::fresh().await {
        abandon_transactions_then_write(&pg, 300).await;
    }
}
