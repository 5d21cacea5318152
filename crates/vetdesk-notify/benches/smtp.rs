//! 10,000 due messages through a real SMTP server on loopback, end to end
//! (claim, render, send, record), on a SQLite file and, when
//! `VETDESK_TEST_POSTGRES_URL` names a server, on a PostgreSQL database of its
//! own, with the worker keeping one connection open against the naive way, one
//! connection per message; then the SMTP part alone, the same two ways. All in
//! the same run.
//!
//! `cargo bench -p vetdesk-notify --bench smtp` runs the full size; under
//! `cargo test` (no `--bench` argument) it runs 200 messages as a check.

use chrono::{DateTime, Duration, TimeZone, Utc, Weekday};
use std::sync::Arc;
use std::time::Instant;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_notify::Channel as _;
use vetdesk_notify::*;
use vetdesk_test_peers::SmtpSink;

/// Monday 1 March 2027, 08:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 8, 0, 0)
        .single()
        .expect("valid instant")
}

fn email(sink: &SmtpSink, reuse: bool) -> EmailChannel {
    EmailChannel::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port(),
        security: Security::Plain,
        username: None,
        password: None,
        from: "Riverside Vets <desk@vetdesk.test>".into(),
        timeout: std::time::Duration::from_secs(10),
        reuse_connection: reuse,
        ca_file: None,
    })
    .expect("email channel")
}

/// A practice whose outbox holds `n` due email messages (each appointment: a
/// confirmation and four reminders).
async fn practice(url: &str, n: usize) -> (App, Arc<ManualClock>) {
    let store = vetdesk_store::open(url).await.expect("store");
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::new(store, clock.clone(), Settings::default());
    let clinic = app
        .create_clinic(ClinicInput {
            name: "Riverside".into(),
            time_zone: "Europe/London".into(),
        })
        .await
        .expect("clinic");
    app.set_notification_settings(
        clinic.id,
        SettingsPatch {
            reminder_offsets: Some("24h,23h,22h,21h".into()),
            quiet_hours: Some("none".into()),
            staff_heads_up: Some("none".into()),
        },
        None,
    )
    .await
    .expect("settings");
    let kind = app
        .create_appointment_type(AppointmentTypeInput {
            name: "Check".into(),
            duration_min: 10,
            colour: "#00aa00".into(),
            buffer_before_min: 0,
            buffer_after_min: 0,
        })
        .await
        .expect("type");
    let owner = app
        .create_client(ClientInput {
            name: "Olivia Smith".into(),
            email: Some("olivia@example.com".into()),
            ..ClientInput::default()
        })
        .await
        .expect("client");
    let pet = app
        .create_pet(PetInput {
            owner: Some(owner.id),
            name: "Biscuit".into(),
            species: "dog".into(),
            breed: None,
            date_of_birth: None,
        })
        .await
        .expect("pet");
    let appointments = n.div_ceil(5);
    let per_vet = 50;
    let mut booked = 0;
    let mut v = 0;
    while booked < appointments {
        let vet = app
            .create_vet(VetInput {
                name: format!("Dr {v}"),
                email: None,
                clinics: vec![clinic.id],
            })
            .await
            .expect("vet");
        v += 1;
        app.add_working_hours(WorkingHoursInput {
            vet_id: vet.id,
            clinic_id: clinic.id,
            weekday: Weekday::Tue,
            span: "00:00-24:00".into(),
            valid_from: parse_date("2027-01-01").expect("date"),
            valid_to: None,
        })
        .await
        .expect("hours");
        for k in 0..per_vet {
            if booked == appointments {
                break;
            }
            // Tuesday 2 March from 09:00 (GMT), ten minutes apart.
            let start = t0() + Duration::hours(25) + Duration::minutes(10 * k);
            app.book(BookRequest {
                clinic_id: clinic.id,
                vet_id: vet.id,
                pet_id: pet.id,
                client_id: None,
                type_id: kind.id,
                start: TimeInput::parse(&start.to_rfc3339()).expect("time"),
                duration_min: None,
                reason: None,
                notes: None,
            })
            .await
            .expect("booked");
            booked += 1;
        }
    }
    // Monday 20:30: every reminder is due (the last at 20:10) and none is late
    // yet (the first 24 h one may go until 21:00).
    clock.set(t0() + Duration::minutes(12 * 60 + 30));
    (app, clock)
}

const RESET: &str = "UPDATE outbox SET status = 'pending', attempts = 0, sent_to = NULL, \
     provider_id = NULL, finished_at = NULL WHERE channel = 'email'";

/// Put every message back in the queue, as if never sent (for the second run).
async fn reset_outbox(url: &str) {
    use sqlx::Connection;
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query(RESET).execute(&mut c).await.expect("reset");
        let _ = c.close().await;
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query(RESET).execute(&mut c).await.expect("reset");
        let _ = c.close().await;
    }
}

/// A PostgreSQL database of the bench's own on the server `admin_url` names.
async fn create_pg_database(admin_url: &str) -> (String, String) {
    use sqlx::Connection;
    let name = format!("vetdesk_bench_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("VETDESK_TEST_POSTGRES_URL is set but unreachable");
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("drop an old bench database");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create the bench database");
    (with_database(admin_url, &name), name)
}

/// `admin_url` with its database replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let host_at = base.find("://").map_or(0, |i| i + 3);
    let base = match base[host_at..].find('/') {
        Some(i) => &base[..host_at + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn drop_pg_database(admin_url: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
}

async fn dispatch(app: &App, channel: EmailChannel) -> (usize, f64) {
    let config = WorkerConfig {
        name: "bench".into(),
        batch: 100,
        email_rate: Rate::UNLIMITED,
        ..WorkerConfig::default()
    };
    let channels = Channels {
        email: Some(Arc::new(channel)),
        ..Channels::default()
    };
    let mut worker =
        Worker::new(app.clone(), channels, config).expect("a usable worker configuration");
    let started = Instant::now();
    let r = worker.drain().await.expect("drain");
    (r.sent, started.elapsed().as_secs_f64())
}

fn outgoing(i: usize) -> Outgoing {
    Outgoing {
        id: OutboxId(uuid::Uuid::from_u128(i as u128)),
        key: format!("bench{i}.reminder-1d.email.v1"),
        kind: MessageKind::Reminder,
        channel: MessageChannel::Email,
        to: Recipient {
            address: "olivia@example.com".into(),
            name: "Olivia Smith".into(),
        },
        clinic: "Riverside".into(),
        rendered: Rendered {
            subject: Some("Reminder: Biscuit's appointment tomorrow at 10:00".into()),
            text: "Dear Olivia Smith,\n\nA reminder that Biscuit's check is tomorrow at 10:00."
                .into(),
            html: Some("<p>Dear Olivia Smith,</p><p>A reminder.</p>".into()),
        },
        ics: None,
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: usize = if full { 10_000 } else { 200 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut stores = vec![(
            "SQLite",
            format!("sqlite://{}", dir.path().join("bench.db").display()),
            None,
        )];
        if let Some(admin) = std::env::var("VETDESK_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            let (url, name) = create_pg_database(&admin).await;
            stores.push(("PostgreSQL", url, Some((admin, name))));
        } else {
            println!("notify/smtp: PostgreSQL skipped (VETDESK_TEST_POSTGRES_URL is not set)");
        }
        let due = n.div_ceil(5) * 5;
        for (label, url, pg) in &stores {
            let setup = Instant::now();
            let (app, clock) = practice(url, n).await;
            println!(
                "notify/smtp: {due} due messages ({} reminders, {} confirmations) on {label}, set up in {:.1} s",
                due / 5 * 4,
                due / 5,
                setup.elapsed().as_secs_f64()
            );
            let sink = SmtpSink::start(None).await;
            let (sent, reuse_s) = dispatch(&app, email(&sink, true)).await;
            assert_eq!(sent, due);
            assert_eq!(sink.count(), due);
            let reuse_conns = sink.connections();
            reset_outbox(url).await;
            let naive_sink = SmtpSink::start(None).await;
            let (sent, naive_s) = dispatch(&app, email(&naive_sink, false)).await;
            assert_eq!(sent, due);
            assert_eq!(naive_sink.connections() as usize, due);
            // The same, reusing the connection, with every outcome flushed to
            // disk before the next send (what the worker did before).
            reset_outbox(url).await;
            let durable = App::new(
                vetdesk_store::open(url).await.expect("store"),
                clock.clone(),
                Settings {
                    durable_message_records: true,
                    ..Settings::default()
                },
            );
            let durable_sink = SmtpSink::start(None).await;
            let (sent, durable_s) = dispatch(&durable, email(&durable_sink, true)).await;
            assert_eq!(sent, due);
            assert_eq!(durable_sink.count(), due);
            durable.store().close().await;
            println!(
                "{label}: worker, one connection reused: {due} in {reuse_s:.2} s ({:.0}/s, {reuse_conns} connection(s))",
                due as f64 / reuse_s
            );
            println!(
                "{label}: worker, a connection per message: {due} in {naive_s:.2} s ({:.0}/s)",
                due as f64 / naive_s
            );
            println!(
                "{label}: worker, one connection reused, each outcome flushed to disk: {due} in {durable_s:.2} s ({:.0}/s)",
                due as f64 / durable_s
            );
            println!(
                "{label}:   ratios: naive/reused {:.2}x, flushed/reused {:.2}x",
                naive_s / reuse_s,
                durable_s / reuse_s
            );
            if full {
                println!(
                    "{label}: target (10,000 in under 10 s): {} ({reuse_s:.1} s)",
                    if reuse_s < 10.0 { "met" } else { "NOT met" }
                );
            }
            app.store().close().await;
            if let Some((admin, name)) = pg {
                drop_pg_database(admin, name).await;
            }
        }

        // SMTP alone: the same two ways, no store.
        let sink = SmtpSink::start(None).await;
        let ch = email(&sink, true);
        let started = Instant::now();
        for i in 0..due {
            ch.send(&outgoing(i)).await.expect("sent");
        }
        let smtp_reuse = started.elapsed().as_secs_f64();
        let sink = SmtpSink::start(None).await;
        let ch = email(&sink, false);
        let started = Instant::now();
        for i in 0..due {
            send_on_new_connection(&ch, &outgoing(i)).await.expect("sent");
        }
        let smtp_naive = started.elapsed().as_secs_f64();
        assert_eq!(sink.count(), due);
        println!(
            "SMTP only, reused: {due} in {smtp_reuse:.2} s ({:.0}/s); a connection each: {smtp_naive:.2} s ({:.0}/s); ratio {:.2}x",
            due as f64 / smtp_reuse,
            due as f64 / smtp_naive,
            smtp_naive / smtp_reuse
        );
    });
}
