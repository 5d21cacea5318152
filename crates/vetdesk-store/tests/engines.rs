//! Promises both engines keep, checked on each.
//!
//! The rules every table keeps, read from the schemas themselves: a table
//! whose rows can change carries `version`, `created_at`, `updated_at` and a
//! `deleted_at` tombstone (sync sees every change and every deletion), and
//! both engines have the same tables and columns, and the columns the
//! database derives are derived by both. A new table or column that breaks a
//! rule fails here.

mod support;

use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;
use vetdesk_core::{
    Clinic, ClinicId, MessageChannel, MessageKind, Meta, Name, NotificationSettings, Template,
};
use vetdesk_store::{
    template_id, Change, ChangeOp, Entity, SqliteStore, Store, StoreError, StoredSettings,
    StoredTemplate, Write,
};

/// `template_id(Reminder, Sms)`, as first written.
const A_TEMPLATE_ID: &str = "d0dd8d1c-35e9-869c-a4d6-7577f0bc8bd3";

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
        "stream_tickets",
        "single-use event-stream tickets live 30 seconds, belong to the servers and are never synced",
    ),
];

/// Columns the database computes from others on both engines (stored
/// generated columns), so that no writer can get them wrong; and no others.
const GENERATED: &[(&str, &str)] = &[("appointments", "holds_time")];

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

/// The generated columns of `engine` that [`GENERATED`] does not list, and
/// those it lists that `engine` does not generate.
fn generated_rules(engine: &str, found: &BTreeSet<(String, String)>) -> Vec<String> {
    let listed: BTreeSet<(String, String)> = GENERATED
        .iter()
        .map(|(t, c)| (t.to_string(), c.to_string()))
        .collect();
    let mut out = Vec::new();
    for (t, c) in listed.difference(found) {
        out.push(format!(
            "{engine}: {t}.{c} is not a stored generated column"
        ));
    }
    for (t, c) in found.difference(&listed) {
        out.push(format!(
            "{engine}: {t}.{c} is generated but not listed in GENERATED"
        ));
    }
    out
}

async fn sqlite_schema() -> (tempfile::TempDir, Schema, BTreeSet<(String, String)>) {
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
    // hidden: 2 for a VIRTUAL generated column, 3 for a STORED one (only
    // STORED ones count: they are what PostgreSQL has).
    let generated = sqlx::query(
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_xinfo(m.name) p \
         WHERE m.type = 'table' AND p.hidden = 3",
    )
    .fetch_all(store.pool())
    .await
    .expect("generated columns");
    let generated = generated.iter().map(|r| (r.get("t"), r.get("c"))).collect();
    (
        dir,
        collect(rows.iter().map(|r| (r.get("t"), r.get("c")))),
        generated,
    )
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
    let (_dir, sqlite, sqlite_generated) = sqlite_schema().await;
    let mut broken = broken_rules("sqlite", &sqlite);
    broken.extend(generated_rules("sqlite", &sqlite_generated));
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
        let generated = sqlx::query(
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = 'public' AND is_generated = 'ALWAYS'",
        )
        .fetch_all(store.pool())
        .await
        .expect("generated columns");
        let generated = generated.iter().map(|r| (r.get("t"), r.get("c"))).collect();
        broken.extend(generated_rules("postgres", &generated));
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

#[test]
fn the_rule_catches_a_column_the_application_writes() {
    let none = BTreeSet::new();
    assert_eq!(
        generated_rules("sqlite", &none),
        ["sqlite: appointments.holds_time is not a stored generated column"]
    );
    let extra = BTreeSet::from([
        ("appointments".to_string(), "holds_time".to_string()),
        ("pets".to_string(), "search_name".to_string()),
    ]);
    assert_eq!(
        generated_rules("postgres", &extra),
        ["postgres: pets.search_name is generated but not listed in GENERATED"]
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
            id: ClinicId(Uuid::now_v7()),
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

/// The next change announced to `rx`, within a few seconds.
async fn next_change(
    rx: &mut tokio::sync::broadcast::Receiver<Change>,
) -> (Entity, Uuid, i64, ChangeOp, Option<ClinicId>) {
    let c = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("a change within 5 s")
        .expect("a change");
    (c.entity, c.id, c.version, c.op, c.clinic_id)
}

/// Templates and notification settings keep the rule of every record: a
/// reset tombstones, every change is logged, and versions never go back (an
/// edit made before a reset stays refused after the template is saved again).
async fn templates_and_settings_are_logged_and_tombstoned(store: &dyn Store) {
    let at: DateTime<Utc> = "2030-01-01T08:00:00Z".parse().expect("instant");
    let (kind, channel) = (MessageKind::Reminder, MessageChannel::Sms);
    let id = template_id(kind, channel);
    let template = |meta: Meta, body: &str| StoredTemplate {
        template: Template {
            kind,
            channel,
            subject: None,
            body: body.to_string(),
        },
        updated_by: "admin".to_string(),
        meta,
    };
    let clinic = Clinic {
        id: ClinicId(Uuid::now_v7()),
        name: Name::parse("name", "Riverside").expect("name"),
        time_zone: chrono_tz::Europe::London,
        meta: Meta::new(at),
    };
    let mut rx = store.subscribe();
    let mut tx = store.write().await.expect("write");
    tx.save_clinic(&clinic, Write::Insert)
        .await
        .expect("clinic");
    let first = template(Meta::new(at), "{pet} tomorrow");
    assert_eq!(
        tx.save_template(&first, Write::Insert)
            .await
            .expect("saved"),
        1
    );
    let settings = StoredSettings {
        clinic_id: clinic.id,
        settings: NotificationSettings::default(),
        meta: Meta::new(at),
    };
    tx.save_notification_settings(&settings, Write::Insert)
        .await
        .expect("settings");
    tx.commit().await.expect("commit");
    next_change(&mut rx).await;
    assert_eq!(
        next_change(&mut rx).await,
        (Entity::MessageTemplate, id, 1, ChangeOp::Insert, None)
    );
    assert_eq!(
        next_change(&mut rx).await,
        (
            Entity::NotificationSettings,
            clinic.id.0,
            1,
            ChangeOp::Insert,
            Some(clinic.id)
        )
    );

    let later = at + chrono::Duration::hours(1);
    let mut tx = store.write().await.expect("write");
    assert!(tx
        .delete_template(kind, channel, later)
        .await
        .expect("reset"));
    assert!(
        !tx.delete_template(kind, channel, later)
            .await
            .expect("reset again"),
        "already reset"
    );
    assert!(
        tx.templates().await.expect("templates").is_empty(),
        "a reset template is not listed"
    );
    // An edit made against the version read before the reset finds nothing to edit.
    let stale = template(first.meta.bumped(later), "{pet} is due");
    let err = tx
        .save_template(
            &stale,
            Write::Update {
                expected_version: 1,
            },
        )
        .await
        .err();
    assert!(matches!(err, Some(StoreError::NotFound { .. })), "{err:?}");
    // Saved again: one version past the tombstone, never back to 1.
    let again = template(Meta::new(later), "{pet} is due");
    assert_eq!(
        tx.save_template(&again, Write::Insert)
            .await
            .expect("saved again"),
        3
    );
    let dup = tx.save_template(&again, Write::Insert).await.err();
    assert!(matches!(dup, Some(StoreError::Duplicate(_))), "{dup:?}");
    tx.commit().await.expect("commit");
    assert_eq!(
        next_change(&mut rx).await,
        (Entity::MessageTemplate, id, 2, ChangeOp::Delete, None)
    );
    assert_eq!(
        next_change(&mut rx).await,
        (Entity::MessageTemplate, id, 3, ChangeOp::Insert, None)
    );

    let mut tx = store.read().await.expect("read");
    let listed = tx.templates().await.expect("templates");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].meta.version, listed[0].template.body.as_str()),
        (3, "{pet} is due")
    );
}

#[tokio::test]
async fn templates_and_settings_keep_the_rule_of_every_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteStore::open(&dir.path().join("t.db").display().to_string())
        .await
        .expect("open");
    templates_and_settings_are_logged_and_tombstoned(&sqlite).await;
    if let Some((_db, pg)) = support::fresh().await {
        templates_and_settings_are_logged_and_tombstoned(&pg).await;
    }
}

#[test]
fn a_templates_id_is_stable_and_its_own() {
    let a = template_id(MessageKind::Reminder, MessageChannel::Sms);
    assert_eq!(a, template_id(MessageKind::Reminder, MessageChannel::Sms));
    assert_ne!(a, template_id(MessageKind::Reminder, MessageChannel::Email));
    assert_ne!(
        a,
        template_id(MessageKind::Confirmation, MessageChannel::Sms)
    );
    // Written into change logs and replicas: it must never change.
    assert_eq!(a.to_string(), A_TEMPLATE_ID);
}
