//! A clinic server on PostgreSQL as README sets it up: the owning role
//! migrates and grants, a runtime role serves. What the runtime role may not
//! do (rewrite the audit log, alter tables, drop triggers), that it may do a
//! day's work, that `vetdesk serve` refuses the owner, and two real
//! `vetdesk serve` processes on one database with no sticky sessions.
//!
//! PostgreSQL only: without `VETDESK_TEST_POSTGRES_URL` these say so and
//! pass, unless `VETDESK_REQUIRE_POSTGRES=1`.

#[macro_use]
mod common;

use common::*;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vetdesk_app::{RescheduleRequest, UserInput};
use vetdesk_store::ClaimScope;

/// The practice on PostgreSQL, or `None` (said plainly) without a server.
async fn on_postgres(what: &str) -> Option<TestApp> {
    let t = spawn_app_on(Backend::Postgres).await;
    if t.is_none() {
        assert!(
            std::env::var("VETDESK_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "VETDESK_REQUIRE_POSTGRES=1 but {POSTGRES_ENV} is unset"
        );
        eprintln!("skipped: {POSTGRES_ENV} is not set ({what} is about PostgreSQL)");
    }
    t
}

/// The runtime role's own connection, for statements the application never sends.
async fn runtime_connection(t: &TestApp) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(&t.url)
        .await
        .expect("connect as the runtime role")
}

/// The database's refusal of `sql`, run as the runtime role.
async fn refused(conn: &mut sqlx::PgConnection, sql: &str) -> String {
    match sqlx::query(sql).execute(&mut *conn).await {
        Ok(done) => panic!("{sql} was allowed ({} rows)", done.rows_affected()),
        Err(e) => {
            let db = e.as_database_error().expect("a database error");
            assert_eq!(db.code().as_deref(), Some("42501"), "{sql}: {e}");
            db.message().to_string()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_runtime_role_may_do_a_days_work_and_nothing_more() {
    let Some(t) = on_postgres("the runtime role").await else {
        return;
    };
    // The application runs as the runtime role (tests/common): a day's work.
    let booked = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .expect("book");
    let moved = t
        .app
        .reschedule(
            booked.view.appointment.id,
            Some(booked.view.appointment.meta.version),
            RescheduleRequest {
                start: local("2027-03-02T11:00"),
                vet_id: None,
                duration_min: None,
                note: None,
            },
        )
        .await
        .expect("reschedule");
    t.app
        .cancel(
            moved.view.appointment.id,
            Some(moved.view.appointment.meta.version),
            Some("Owner called".into()),
        )
        .await
        .expect("cancel");
    t.app
        .create_user(UserInput {
            username: "desk".into(),
            display_name: "Front desk".into(),
            role: "front_desk".into(),
            vet_id: None,
            password: "desk-password-1".into(),
            clinics: Vec::new(),
            home_clinic_id: None,
        })
        .await
        .expect("add a user");
    let session = t
        .app
        .login("desk", "desk-password-1", Some("192.0.2.1"))
        .await
        .expect("sign in");
    let principal = t
        .app
        .authenticate(&session.token)
        .await
        .expect("the token signs in");
    assert_eq!(principal.username, "desk");
    t.app.logout(&session.token).await.expect("sign out");
    let claimed = t
        .app
        .claim_messages(
            &ClaimScope {
                email: true,
                sms: true,
                ..ClaimScope::default()
            },
            "worker-1",
            chrono::Duration::minutes(2),
            10,
            5,
        )
        .await
        .expect("the worker claims");
    assert!(
        !claimed.messages.is_empty(),
        "the booking's confirmation and the cancel notice are due"
    );
    assert!(t.count("audit_log").await >= 5, "every write was audited");

    // What the runtime role may not do, refused by privilege (not by the
    // audit log's trigger, which says "append-only", nor by a missing row).
    let mut rt = runtime_connection(&t).await;
    for sql in [
        "DELETE FROM audit_log",
        "UPDATE audit_log SET actor = 'nobody'",
        "TRUNCATE audit_log",
    ] {
        let why = refused(&mut rt, sql).await;
        assert_eq!(why, "permission denied for table audit_log", "{sql}");
    }
    for (sql, table) in [
        ("DELETE FROM appointment_history", "appointment_history"),
        ("UPDATE change_log SET version = 0", "change_log"),
        ("DELETE FROM appointments", "appointments"),
        ("TRUNCATE outbox", "outbox"),
        ("DELETE FROM _sqlx_migrations", "_sqlx_migrations"),
    ] {
        let why = refused(&mut rt, sql).await;
        assert_eq!(why, format!("permission denied for table {table}"), "{sql}");
    }
    for sql in [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "DROP TRIGGER audit_log_no_truncate ON audit_log",
        "ALTER TABLE appointments DROP CONSTRAINT appointments_no_overlap",
        "ALTER TABLE users ADD COLUMN sneaky text",
        "DROP TABLE sessions",
    ] {
        let why = refused(&mut rt, sql).await;
        assert!(why.starts_with("must be owner of"), "{sql}: {why}");
    }
    let why = refused(&mut rt, "CREATE TABLE sneaky (id int)").await;
    assert!(why.contains("permission denied for schema"), "{why}");

    // Exactly the grants a server needs, table by table: none wider.
    let privileges = [
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "TRUNCATE",
        "REFERENCES",
        "TRIGGER",
    ];
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
         AND relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(&mut rt)
    .await
    .expect("tables");
    assert!(tables.len() >= 17, "{tables:?}");
    for table in &tables {
        let held: Vec<String> = sqlx::query_scalar(
            "SELECT p FROM unnest($1::text[]) p WHERE has_table_privilege(current_user, $2::regclass, p)",
        )
        .bind(&privileges[..])
        .bind(table)
        .fetch_all(&mut rt)
        .await
        .expect("privileges");
        let expected: &[&str] = match table.as_str() {
            "_sqlx_migrations" => &["SELECT"],
            "audit_log" | "appointment_history" | "change_log" => &["SELECT", "INSERT"],
            // Single-use tickets are spent by deleting them.
            "stream_tickets" => &["SELECT", "INSERT", "DELETE"],
            _ => &["SELECT", "INSERT", "UPDATE"],
        };
        assert_eq!(held, expected, "the runtime role's privileges on {table}");
    }

    // The store's own view of the role, which `vetdesk serve` acts on.
    let report = t.app.store().role().await.expect("role").expect("a report");
    assert_eq!(report.role, RUNTIME_ROLE);
    assert!(report.excess().is_empty(), "{report:?}");
    assert!(!report.may_create_in_schema, "{report:?}");
    let owner = vetdesk_store::open(&t.owner_url)
        .await
        .expect("as the owner");
    let report = owner.role().await.expect("role").expect("a report");
    assert_eq!(
        report.excess(),
        ["it is a superuser", "it owns vetdesk's tables"],
        "{report:?}"
    );
    assert_eq!(
        report.audit_log_extra,
        ["UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]
    );
    owner.close().await;
}

/// `vetdesk` with a clean environment.
fn vetdesk(db: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vetdesk"));
    cmd.arg("--db").arg(db).args(args);
    for (var, _) in std::env::vars() {
        if var.starts_with("VETDESK_") {
            cmd.env_remove(var);
        }
    }
    cmd.env("VETDESK_LOG", "warn").env("USER", "tester");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_grants_and_serve_refuses_the_owner() {
    let Some(t) = on_postgres("migrate and serve's roles").await else {
        return;
    };
    let run = |db: &str, args: &[&str]| vetdesk(db, args).output().expect("run vetdesk");
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();

    // Without --runtime-role, migrate grants again the role granted before.
    let out = run(&t.owner_url, &["--json", "migrate"]);
    assert!(out.status.success(), "{out:?}");
    let said: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(said["runtime_roles"], json!([RUNTIME_ROLE]), "{said}");
    assert!(said["schema_version"].as_i64() >= Some(6), "{said}");

    // A role that does not exist, or that no grant could limit, is refused.
    let out = run(
        &t.owner_url,
        &["migrate", "--runtime-role", "no_such_role_x"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("there is no PostgreSQL role \"no_such_role_x\""));
    let out = run(&t.owner_url, &["migrate", "--runtime-role", "postgres"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("is a superuser"), "{out:?}");

    // serve refuses the owner (here a superuser) and names the fix.
    let out = run(
        &t.owner_url,
        &["serve", "--bind", "127.0.0.1:0", "--no-ui", "--no-worker"],
    );
    assert_eq!(out.status.code(), Some(9), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.contains("refusing to serve as PostgreSQL role postgres: it is a superuser"),
        "{err}"
    );
    assert!(err.contains("vetdesk migrate --runtime-role ROLE"), "{err}");

    // With --allow-owner-role it serves, and says so in the log.
    let owner = Served::start(&t.owner_url, &["--allow-owner-role"]);
    assert!(
        owner
            .log()
            .contains("serving as PostgreSQL role postgres although it is a superuser"),
        "{}",
        owner.log()
    );
    drop(owner);

    // The runtime role serves, and the log says what it is.
    let runtime = Served::start(&t.url, &[]);
    let log = runtime.log();
    assert!(
        log.contains("PostgreSQL runtime role: no owner rights"),
        "{log}"
    );
    assert!(!log.contains("serving as PostgreSQL role"), "{log}");
    assert!(!log.contains("may create tables"), "{log}");
    drop(runtime);

    // A server never migrates: a database behind this build is refused, with the fix.
    t.db.execute(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .await
    .expect("forget the newest migration");
    let out = run(&t.url, &["serve", "--bind", "127.0.0.1:0", "--no-ui"]);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    assert!(
        text(&out.stderr).contains("run `vetdesk migrate` as the role that owns the database"),
        "{out:?}"
    );
}

/// A `vetdesk serve` process, killed when dropped.
struct Served {
    child: Child,
    base: String,
    log: tempfile::NamedTempFile,
}

impl Served {
    fn start(db: &str, extra: &[&str]) -> Served {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let mut args = vec!["serve", "--bind", "127.0.0.1:0", "--no-ui"];
        args.extend_from_slice(extra);
        let mut child = vetdesk(db, &args)
            .env("VETDESK_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log"))
            .spawn()
            .expect("start vetdesk serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some((_, rest)) = line.split_once("listening on ") {
                        break rest
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_string();
                    }
                }
                _ => {
                    let _ = child.wait();
                    let said = std::fs::read_to_string(log.path()).unwrap_or_default();
                    panic!("vetdesk serve stopped before listening: {said}");
                }
            }
        };
        Served { child, base, log }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// When each appointment's change was heard on a stream.
type Heard = Arc<Mutex<HashMap<String, Instant>>>;

/// Read `server`'s live stream as the holder of `token`, noting each appointment change.
async fn listen(http: &reqwest::Client, server: &Served, token: &str) -> Heard {
    let res = http
        .get(server.url("/events"))
        .bearer_auth(token)
        .send()
        .await
        .expect("events");
    assert_eq!(res.status(), StatusCode::OK);
    let heard: Heard = Arc::default();
    let notes = heard.clone();
    tokio::spawn(async move {
        let mut stream = res.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                let data = event.lines().find_map(|l| l.strip_prefix("data: "));
                let change: Option<Value> = data.and_then(|d| serde_json::from_str(d).ok());
                if let Some(id) = change.as_ref().and_then(|c| c["id"].as_str()) {
                    let mut heard = notes.lock().unwrap_or_else(|p| p.into_inner());
                    heard.entry(id.to_string()).or_insert_with(Instant::now);
                }
            }
        }
    });
    heard
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() - 1) * p / 100]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgresql_share_sessions_live_changes_and_the_slots() {
    let Some(t) = on_postgres("two servers on one database").await else {
        return;
    };
    t.app
        .create_user(UserInput {
            username: "desk".into(),
            display_name: "Front desk".into(),
            role: "front_desk".into(),
            vet_id: None,
            password: "desk-password-1".into(),
            clinics: Vec::new(),
            home_clinic_id: None,
        })
        .await
        .expect("add a user");
    let servers = [Served::start(&t.url, &[]), Served::start(&t.url, &[])];
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");

    // Sessions: a token one server issued is accepted by the other; signing
    // out on the other ends it on both.
    let login = http
        .post(servers[0].url("/auth/login"))
        .json(&json!({"username": "desk", "password": "desk-password-1"}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(login.status(), StatusCode::OK);
    let token = login.json::<Value>().await.expect("JSON")["token"]
        .as_str()
        .expect("token")
        .to_string();
    let me = |s: &Served| http.get(s.url("/auth/me")).bearer_auth(&token).send();
    assert_eq!(me(&servers[1]).await.expect("me").status(), StatusCode::OK);
    let spare = http
        .post(servers[1].url("/auth/login"))
        .json(&json!({"username": "desk", "password": "desk-password-1"}))
        .send()
        .await
        .expect("sign in")
        .json::<Value>()
        .await
        .expect("JSON")["token"]
        .as_str()
        .expect("token")
        .to_string();
    let out = http
        .post(servers[1].url("/auth/logout"))
        .bearer_auth(&spare)
        .send()
        .await
        .expect("sign out");
    assert!(out.status().is_success(), "{out:?}");
    let after = http
        .get(servers[0].url("/auth/me"))
        .bearer_auth(&spare)
        .send()
        .await
        .expect("me");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);

    // Live: a booking made through one server reaches the other's stream.
    let heard = [
        listen(&http, &servers[0], &token).await,
        listen(&http, &servers[1], &token).await,
    ];
    let book = |server: &Served, vet: &vetdesk_core::Vet, start: String| {
        http.post(server.url("/appointments"))
            .bearer_auth(&token)
            .json(&json!({
                "clinic_id": t.london.id,
                "vet_id": vet.id,
                "pet_id": t.pet.id,
                "type_id": t.consult.id,
                "start": start,
            }))
            .send()
    };
    let mut latencies = Vec::new();
    for i in 0..16u32 {
        let (from, to) = ((i % 2) as usize, ((i + 1) % 2) as usize);
        let start = format!("2027-03-03T{:02}:{:02}", 9 + i / 2, (i % 2) * 30);
        let sent = Instant::now();
        let res = book(&servers[from], &t.ben_vet, start).await.expect("book");
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.expect("JSON")["id"]
            .as_str()
            .expect("id")
            .to_string();
        let seen = tokio::time::timeout(Duration::from_secs(1), async {
            loop {
                let at = heard[to]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&id)
                    .copied();
                if let Some(at) = at {
                    return at;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("server {to} did not hear of {id} within a second"));
        latencies.push(seen.saturating_duration_since(sent));
    }
    latencies.sort();
    eprintln!(
        "live across servers: {} bookings, from the request on one server to the event on the other: \
         p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        latencies.len(),
        percentile(&latencies, 50).as_secs_f64() * 1e3,
        percentile(&latencies, 90).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3
    );

    // The storm: 240 bookings at once, alternately through each server, for
    // 12 overlapping 30-minute starts (every 15 minutes) of two vets.
    let vets = [&t.alice_vet, &t.ben_vet];
    let started = Instant::now();
    let attempts = (0..240u32).map(|i| {
        let slot = (i / 2) % 12;
        let start = format!("2027-03-02T{:02}:{:02}", 9 + slot / 4, (slot % 4) * 15);
        let vet = vets[((i / 24) % 2) as usize];
        let res = book(&servers[(i % 2) as usize], vet, start);
        async move { res.await.expect("a reply").status() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let took = started.elapsed();
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        won + refused,
        statuses.len(),
        "only 201 and 409: {statuses:?}"
    );
    let overlapping = t
        .db
        .int(
            "SELECT count(*) FROM appointments a JOIN appointments b \
               ON a.vet_id = b.vet_id AND a.id < b.id \
              AND tstzrange(a.blocked_start, a.blocked_end) && tstzrange(b.blocked_start, b.blocked_end) \
            WHERE a.holds_time AND b.holds_time AND a.deleted_at IS NULL AND b.deleted_at IS NULL",
        )
        .await;
    assert_eq!(overlapping, 0, "no two appointments of a vet overlap");
    let stored =
        t.db.int(
            "SELECT count(*) FROM appointments WHERE holds_time \
             AND start_at >= '2027-03-02T09:00:00Z' AND start_at < '2027-03-02T13:00:00Z'",
        )
        .await;
    assert_eq!(stored, won as i64, "every 201 is stored, nothing else");
    // Starts 15 minutes apart, 30-minute visits: each start overlaps only its
    // neighbours, so a vet gets at most six of the morning and at least four
    // (Alice's 11:45 runs into her lunch break).
    assert!((8..=12).contains(&won), "{won} won");
    eprintln!(
        "booking storm over two servers: {} attempted, {won} won, {refused} refused (409), \
         0 overlapping, in {:.0} ms",
        statuses.len(),
        took.as_secs_f64() * 1e3
    );
}
