//! An owner's data rights on both stores: export, erase (nothing of the
//! person left in any text column of any table), audit lines that name
//! personal fields by reference, the role matrix and bad input.

mod common;

use common::*;
use std::sync::Arc;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_notify::*;
type DynChannel = dyn vetdesk_notify::Channel;
use vetdesk_store::{AuditFilter, OutboxRecord, ERASED_CLIENT_NAME, ERASED_REASON};
use vetdesk_test_peers::SmtpSink;

/// What must vanish with Olivia Smith (the practice's owner), her dog
/// Biscuit and her numbers, as stored and as typed into free text.
const OLIVIA: &[&str] = &[
    "Olivia",
    "Smith",
    "olivia@example.com",
    "7700900123",
    "7700 900123",
    "7700900456",
    "Biscuit",
    "Labrador",
];

/// Every (table, column) whose text holds `needle`, case-insensitively:
/// every column of every table, each read as text.
async fn where_found(t: &TestApp, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    match &t.db {
        Db::Sqlite(p) => {
            let cols: Vec<(String, String)> = sqlx::query_as(
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table' ORDER BY 1, 2",
            )
            .fetch_all(p)
            .await
            .expect("columns");
            assert!(cols.len() > 100, "only {} columns", cols.len());
            for (table, col) in cols {
                let sql = format!(
                    "SELECT count(*) FROM \"{table}\" WHERE instr(lower(CAST(\"{col}\" AS TEXT)), lower($1)) > 0"
                );
                let n: i64 = sqlx::query_scalar(&sql)
                    .bind(needle)
                    .fetch_one(p)
                    .await
                    .expect("scan");
                if n > 0 {
                    found.push(format!("{table}.{col}"));
                }
            }
        }
        Db::Postgres(p) => {
            let cols: Vec<(String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() ORDER BY 1, 2",
            )
            .fetch_all(p)
            .await
            .expect("columns");
            assert!(cols.len() > 100, "only {} columns", cols.len());
            for (table, col) in cols {
                let sql = format!(
                    "SELECT count(*) FROM \"{table}\" WHERE strpos(lower(\"{col}\"::text), lower($1)) > 0"
                );
                let n: i64 = sqlx::query_scalar(&sql)
                    .bind(needle)
                    .fetch_one(p)
                    .await
                    .expect("scan");
                if n > 0 {
                    found.push(format!("{table}.{col}"));
                }
            }
        }
    }
    found
}

fn email_worker(
    t: &TestApp,
    channel: Arc<DynChannel>,
    keep: Option<std::time::Duration>,
) -> Worker {
    let config = WorkerConfig {
        name: "rights".into(),
        email_rate: Rate::UNLIMITED,
        sms_rate: Rate::UNLIMITED,
        keep_recipients: keep,
        ..WorkerConfig::default()
    };
    let channels = Channels {
        email: Some(channel),
        sms: None,
        desktop: None,
    };
    Worker::new(t.app.clone(), channels, config).expect("a worker")
}

fn smtp_channel(smtp: &SmtpSink) -> Arc<DynChannel> {
    Arc::new(
        EmailChannel::new(SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp.port(),
            security: Security::Plain,
            username: None,
            password: None,
            from: "Riverside Vets <desk@vetdesk.test>".into(),
            timeout: std::time::Duration::from_secs(2),
            reuse_connection: true,
            ca_file: None,
        })
        .expect("email channel"),
    )
}

/// A mail server that refuses every message quoting its recipient.
struct QuotingRefusal;

#[async_trait::async_trait]
impl vetdesk_notify::Channel for QuotingRefusal {
    async fn send(&self, m: &Outgoing) -> Result<Delivery, SendError> {
        Err(SendError::Permanent(format!(
            "550 5.1.1 <{}>: mailbox unavailable",
            m.to.address
        )))
    }
}

fn acting(t: &TestApp, role: Role) -> App {
    t.app.acting_as(Principal {
        user_id: None,
        username: format!("someone-{role}"),
        role,
        vet_id: (role == Role::Vet).then_some(t.alice_vet.id),
        clinics: ClinicScope::All,
    })
}

async fn messages_of(t: &TestApp, a: AppointmentId) -> Vec<OutboxRecord> {
    let q = OutboxQuery {
        appointment: Some(a),
        limit: 500,
        ..OutboxQuery::default()
    };
    t.app.outbox(q).await.expect("outbox").items
}

/// Olivia's history: a booking whose confirmation was refused quoting her
/// address, one cancelled (its messages sent), notes naming her, a new number.
/// Returns the two appointments.
async fn olivias_history(t: &TestApp, smtp: &SmtpSink) -> (AppointmentId, AppointmentId) {
    let mut req = t.book_request(&t.alice_vet, &t.london, "2027-03-05T10:00", &t.consult);
    req.notes = Some("Olivia Smith says Biscuit limps; call 7700 900123".into());
    let a = t.app.book(req).await.expect("booked").view.appointment.id;
    email_worker(t, Arc::new(QuotingRefusal), None)
        .drain()
        .await
        .expect("refused");
    let b = t
        .book(&t.ben_vet, "2027-03-08T11:00", &t.consult)
        .await
        .expect("booked");
    let b = b.view.appointment.id;
    email_worker(t, smtp_channel(smtp), None)
        .drain()
        .await
        .expect("sent");
    t.app
        .cancel(b, None, Some("Olivia Smith moved away".into()))
        .await
        .expect("cancelled");
    email_worker(t, smtp_channel(smtp), None)
        .drain()
        .await
        .expect("sent");
    let o = &t.owner;
    let input = ClientInput {
        name: o.name.to_string(),
        email: o.email.as_ref().map(ToString::to_string),
        phone: Some("+44 7700 900456".into()),
        ..ClientInput::default()
    };
    t.app
        .update_client(o.id, None, input)
        .await
        .expect("new number");
    (a, b)
}

story!(
    async fn an_export_holds_the_owner_their_pets_appointments_and_messages(t) {
        let smtp = SmtpSink::start(None).await;
        let (a, b) = olivias_history(&t, &smtp).await;
        let audit_before = t.count("audit_log").await;
        let x = t.app.export_client(t.owner.id).await.expect("export");
        assert_eq!(x.record.client.name.as_str(), "Olivia Smith");
        assert_eq!(x.record.client.email.as_ref().map(Email::as_str), Some("olivia@example.com"));
        assert_eq!(x.record.erased_at, None);
        assert_eq!(x.pets.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Biscuit"]);
        let ids: Vec<_> = x.appointments.iter().map(|e| e.appointment.appointment.id).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&a) && ids.contains(&b), "{ids:?}");
        assert!(x.appointments.iter().all(|e| !e.history.is_empty()));
        // The messages about her: the refusal quoting her, what was sent to her.
        assert!(x.messages.iter().all(|m| m.channel != MessageChannel::Desktop));
        assert!(x.messages.iter().any(|m| m.status == MessageStatus::Failed
            && m.last_error.as_deref().unwrap_or_default().contains("olivia@example.com")));
        assert!(x.messages.iter().any(|m| m.status == MessageStatus::Sent
            && m.sent_to.as_deref() == Some("olivia@example.com")));
        // As JSON, in one document.
        let json = serde_json::to_value(&x).expect("json");
        assert_eq!(json["client"]["phone"], "+447700900456");
        assert!(json["exported_at"].is_string() && json["erased_at"].is_null());
        // Audited, by counts only.
        assert_eq!(t.count("audit_log").await, audit_before + 1);
        let line = t.app.audit_log(AuditFilter { limit: 1, ..AuditFilter::default() }).await.expect("audit");
        let line = &line.items[0];
        assert_eq!((line.action.as_str(), line.entity_id), ("client.export", Some(t.owner.id.0)));
        assert_eq!(line.after, Some(serde_json::json!({ "pets": 1, "appointments": 2, "messages": x.messages.len() })));
    }
);

story!(
    async fn erasing_an_owner_leaves_their_name_email_and_phone_nowhere(t) {
        let smtp = SmtpSink::start(None).await;
        let (a, b) = olivias_history(&t, &smtp).await;
        // The scan finds what is there: Olivia, and Noah who stays.
        for needle in ["Olivia", "olivia@example.com", "7700900456", "7700 900123", "Biscuit", "Labrador"] {
            assert!(!where_found(&t, needle).await.is_empty(), "{needle} not found before erasing");
        }
        // Audit lines never held her details, even before.
        for needle in OLIVIA {
            let found = where_found(&t, needle).await;
            assert!(!found.iter().any(|c| c.starts_with("audit_log.")), "{needle}: {found:?}");
        }
        let before_a = t.app.appointment(a).await.expect("a");
        let before_b = t.app.appointment(b).await.expect("b");
        assert!(messages_of(&t, a).await.iter().any(|m| m.status == MessageStatus::Pending));
        let appointments = t.count("appointments").await;

        t.clock.advance(chrono::Duration::minutes(1));
        let r = t.app.erase_client(t.owner.id).await.expect("erased");
        assert!(!r.erased.already);
        assert_eq!((r.erased.pets, r.erased.appointments), (1, 2));
        assert!(r.erased.messages_voided >= 1, "{r:?}");
        assert!(r.erased.messages_forgotten >= 2, "{r:?}");
        assert_eq!(r.erased_at, t.clock_now());

        for needle in OLIVIA {
            let found = where_found(&t, needle).await;
            assert!(found.is_empty(), "{needle} is still in {found:?}");
        }
        assert!(!where_found(&t, "Noah Jones").await.is_empty(), "the other owner went too");
        assert!(!where_found(&t, "Whiskers").await.is_empty());

        // The appointments keep their times, status, vet and type: figures stay true.
        assert_eq!(t.count("appointments").await, appointments);
        for (id, was) in [(a, before_a), (b, before_b)] {
            let now = t.app.appointment(id).await.expect("kept").view;
            let was = was.view;
            assert_eq!(now.appointment.slot, was.appointment.slot);
            assert_eq!(now.appointment.status, was.appointment.status);
            assert_eq!(now.appointment.vet_id, was.appointment.vet_id);
            assert_eq!(now.appointment.type_id, was.appointment.type_id);
            assert_eq!((now.appointment.notes, now.appointment.reason, now.appointment.cancel_reason), (None, None, None));
            assert_eq!(now.client_name, ERASED_CLIENT_NAME);
            assert_eq!(now.appointment.meta.version, was.appointment.meta.version + 1);
        }
        // Nothing more goes to her; where messages went is forgotten.
        for m in messages_of(&t, a).await.into_iter().chain(messages_of(&t, b).await) {
            assert_ne!(m.status, MessageStatus::Pending, "{m:?}");
            assert_eq!(m.sent_to, None);
            if m.status == MessageStatus::Voided && m.finished_at == Some(t.clock_now()) {
                assert_eq!(m.last_error.as_deref(), Some(ERASED_REASON));
            }
        }
        // She and Biscuit are gone from the records; the pet can no longer be booked.
        assert_eq!(t.app.client(t.owner.id).await.expect_err("gone").code(), ErrorCode::NotFound);
        assert_eq!(t.app.pet(t.pet.id).await.expect_err("gone").code(), ErrorCode::NotFound);
        let refused = t.book(&t.ben_vet, "2027-03-09T10:00", &t.consult).await.expect_err("no pet");
        assert_eq!(refused.code(), ErrorCode::NotFound);
        // An export now says what is left: an anonymous, erased record.
        let x = t.app.export_client(t.owner.id).await.expect("export");
        assert_eq!(x.record.erased_at, Some(r.erased_at));
        assert_eq!((x.record.client.email.clone(), x.record.client.phone.clone()), (None, None));
        assert_eq!(x.appointments.len(), 2);

        // Erasing again changes nothing, and says so.
        let footprint = t.footprint().await;
        t.clock.advance(chrono::Duration::minutes(5));
        let again = t.app.erase_client(t.owner.id).await.expect("again");
        assert!(again.erased.already);
        assert_eq!(again.erased_at, r.erased_at);
        assert_eq!(t.footprint().await, footprint);
        // The erasure is in the audit log, by counts.
        let lines = t.app.audit_log(AuditFilter {
            entity_id: Some(t.owner.id.0), limit: 50, ..AuditFilter::default()
        }).await.expect("audit");
        assert_eq!(lines.items.iter().filter(|l| l.action == "client.erase").count(), 1);
    }
);

story!(
    async fn audit_lines_name_personal_fields_by_reference(t) {
        let c = t.app.create_client(ClientInput {
            name: "Priya Patel".into(),
            email: Some("priya@example.net".into()),
            phone: Some("+44 20 7946 0958".into()),
            ..ClientInput::default()
        }).await.expect("client");
        let c2 = t.app.update_client(c.id, None, ClientInput {
            name: "Priya Patel-Shah".into(),
            email: None,
            phone: Some("+44 20 7946 0999".into()),
            ..ClientInput::default()
        }).await.expect("edited");
        let p = t.app.create_pet(PetInput {
            owner: Some(c.id),
            name: "Mango".into(),
            species: "parrot".into(),
            breed: Some("Amazon".into()),
            date_of_birth: None,
        }).await.expect("pet");
        t.app.delete_record(vetdesk_store::Entity::Client, c.id.0, c2.meta.version).await.expect("deleted");
        let reference = format!("client:{}", c.id);
        let lines = t.app.audit_log(AuditFilter { entity_id: Some(c.id.0), limit: 50, ..AuditFilter::default() })
            .await.expect("audit").items;
        let actions: Vec<_> = lines.iter().map(|l| l.action.as_str()).collect();
        assert_eq!(actions, ["client.delete", "client.update", "client.create"]);
        let (delete, update, create) = (&lines[0], &lines[1], &lines[2]);
        let by_ref = serde_json::Value::from(reference.clone());
        let after = create.after.as_ref().expect("after");
        assert_eq!((&after["name"], &after["email"], &after["phone"]), (&by_ref, &by_ref, &by_ref));
        // What is not personal stays readable; an empty field stays empty.
        assert_eq!(after["id"], c.id.to_string());
        let after = update.after.as_ref().expect("after");
        assert_eq!((&after["email"], &after["phone"]), (&serde_json::Value::Null, &by_ref));
        assert_eq!(update.before.as_ref().expect("before")["email"], reference.as_str());
        assert_eq!(delete.before.as_ref().expect("before")["name"], reference.as_str());
        let pet_line = &t.app.audit_log(AuditFilter { entity_id: Some(p.id.0), limit: 5, ..AuditFilter::default() })
            .await.expect("audit").items[0];
        let after = pet_line.after.as_ref().expect("after");
        let pet_ref = format!("pet:{}", p.id);
        assert_eq!((after["name"].as_str(), after["breed"].as_str()), (Some(pet_ref.as_str()), Some(pet_ref.as_str())));
        assert_eq!((after["species"].as_str(), after["date_of_birth"].is_null()), (Some("parrot"), true));
        // Nowhere in the stored log, in any form; the records themselves hold the current values.
        for needle in ["Priya", "Patel", "priya@example.net", "2079460958", "2079460999", "Mango", "Amazon"] {
            let found = where_found(&t, needle).await;
            assert!(!found.iter().any(|c| c.starts_with("audit_log.")), "{needle}: {found:?}");
        }
        for (needle, column) in [("Patel-Shah", "clients.name"), ("2079460999", "clients.phone"), ("Amazon", "pets.breed")] {
            assert!(where_found(&t, needle).await.contains(&column.to_string()), "{needle}");
        }
    }
);

story!(
    async fn only_an_admin_exports_or_erases_and_bad_ids_change_nothing(t) {
        let footprint = t.footprint().await;
        for role in [Role::FrontDesk, Role::Vet] {
            let app = acting(&t, role);
            let e = app.export_client(t.owner.id).await.expect_err("export refused");
            assert_eq!(e.code(), ErrorCode::Forbidden, "{role}: {e}");
            assert!(e.to_string().contains("export or erase an owner's data"), "{e}");
            let e = app.erase_client(t.owner.id).await.expect_err("erase refused");
            assert_eq!(e.code(), ErrorCode::Forbidden, "{role}: {e}");
        }
        let unknown = ClientId(uuid::Uuid::now_v7());
        let e = t.app.export_client(unknown).await.expect_err("unknown");
        assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
        let e = t.app.erase_client(unknown).await.expect_err("unknown");
        assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
        assert!(e.to_string().contains(&unknown.to_string()), "{e}");
        // A pet's id is not an owner's.
        let e = t.app.erase_client(ClientId(t.pet.id.0)).await.expect_err("a pet");
        assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
        assert_eq!(t.footprint().await, footprint);
        assert_eq!(t.app.client(t.owner.id).await.expect("untouched"), t.owner);
    }
);

/// Audit lines as a vetdesk before migration 0009 wrote them: personal values in full.
const OLD_LINES: &[(&str, &str)] = &[
    (
        "client",
        r#"{"id":"X","name":"Hana Ito","email":"hana@example.org","phone":null}"#,
    ),
    (
        "pet",
        r#"{"id":"X","name":"Pickle","species":"cat","breed":"Maine Coon","date_of_birth":"2021-02-03"}"#,
    ),
    (
        "appointment",
        r#"{"id":"X","notes":"Hana Ito pays cash","reason":null,"status":"scheduled"}"#,
    ),
    (
        "outbox_message",
        r#"{"id":"X","sent_to":"hana@example.org","last_error":null,"attempts":1}"#,
    ),
    ("clinic", r#"{"id":"X","name":"Riverside London"}"#),
];

/// Apply the migrations before 0009, write `OLD_LINES`, open the store (which
/// applies the rest) and read the lines back as (entity, after).
async fn upgraded_lines(url: &str, dir: &str) -> Vec<(String, serde_json::Value)> {
    let mut m = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
        .await
        .expect("migrations");
    m.migrations = m
        .migrations
        .iter()
        .filter(|m| m.version < 9)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let id = uuid::Uuid::now_v7();
    let pg = url.starts_with("postgres");
    if pg {
        let pool = sqlx::PgPool::connect(url).await.expect("pool");
        m.run(&pool).await.expect("old schema");
        for (entity, after) in OLD_LINES {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, role, action, entity, entity_id, after) \
                         VALUES (now(), 'old', 'admin', 'x.create', $1, $2, $3::jsonb)",
            )
            .bind(entity)
            .bind(id)
            .bind(after)
            .execute(&pool)
            .await
            .expect("old line");
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc"))
            .await
            .expect("pool");
        m.run(&pool).await.expect("old schema");
        for (entity, after) in OLD_LINES {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, role, action, entity, entity_id, after) \
                         VALUES (0, 'old', 'admin', 'x.create', $1, $2, $3)",
            )
            .bind(entity)
            .bind(id)
            .bind(after)
            .execute(&pool)
            .await
            .expect("old line");
        }
        pool.close().await;
    }
    let store = vetdesk_store::open(url).await.expect("upgraded");
    let app = App::new(store, Arc::new(ManualClock::new(t0())), Settings::default());
    let lines = app
        .audit_log(AuditFilter {
            limit: 50,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let reference = |entity: &str| serde_json::Value::from(format!("{entity}:{id}"));
    let mut out = Vec::new();
    for l in lines.items {
        assert_eq!(l.entity_id, Some(id));
        let after = l.after.expect("after");
        match l.entity.as_str() {
            "client" => {
                assert_eq!(
                    (&after["name"], &after["email"]),
                    (&reference("client"), &reference("client"))
                );
                assert!(after["phone"].is_null());
            }
            "pet" => {
                for f in ["name", "breed", "date_of_birth"] {
                    assert_eq!(after[f], reference("pet"), "{f}");
                }
                assert_eq!(after["species"], "cat");
            }
            "appointment" => {
                assert_eq!(after["notes"], reference("appointment"));
                assert_eq!(
                    (after["reason"].is_null(), after["status"].as_str()),
                    (true, Some("scheduled"))
                );
            }
            "outbox_message" => {
                assert_eq!(after["sent_to"], reference("outbox_message"));
                assert_eq!(after["attempts"], 1);
            }
            "clinic" => assert_eq!(after["name"], "Riverside London"),
            other => panic!("{other}"),
        }
        out.push((l.entity, after));
    }
    assert_eq!(out.len(), OLD_LINES.len());
    let text = serde_json::to_string(&out).expect("json");
    for needle in [
        "Hana",
        "hana@example.org",
        "Pickle",
        "Maine Coon",
        "2021-02-03",
        "pays cash",
    ] {
        assert!(!text.contains(needle), "{needle}: {text}");
    }
    out
}

#[tokio::test]
async fn lines_written_before_0009_are_brought_to_references_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    upgraded_lines(&url, "migrations/sqlite").await;
    // The log is still append-only afterwards.
    let pool = sqlx::SqlitePool::connect(&url).await.expect("pool");
    let e = sqlx::query("UPDATE audit_log SET actor = 'x'")
        .execute(&pool)
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("append-only"), "{e}");
}

#[tokio::test]
async fn lines_written_before_0009_are_brought_to_references_on_postgres() {
    let Some(admin) = std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("skipped: {POSTGRES_ENV} is not set");
        return;
    };
    let name = format!("vetdesk_upgrade_{}", uuid::Uuid::now_v7().simple());
    let exec = |sql: String| {
        let admin = admin.clone();
        async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&admin).await.expect("admin");
            sqlx::query(&sql)
                .execute(&mut c)
                .await
                .expect("admin statement");
        }
    };
    exec(format!("CREATE DATABASE \"{name}\"")).await;
    let (base, query) = admin
        .split_once('?')
        .map_or((admin.as_str(), None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    let url = match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    };
    // Not `tokio::spawn`: sqlx's migration future is not `Send` for every
    // lifetime (rust-lang/rust#102211); a panic is caught here instead.
    let outcome = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe({
        let url = url.clone();
        async move {
            upgraded_lines(&url, "migrations/postgres").await;
            let pool = sqlx::PgPool::connect(&url).await.expect("pool");
            let e = sqlx::query("UPDATE audit_log SET actor = 'x'")
                .execute(&pool)
                .await
                .expect_err("refused");
            assert!(e.to_string().contains("append-only"), "{e}");
            pool.close().await;
        }
    }))
    .await;
    exec(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
}
