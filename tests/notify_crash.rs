//! The worker under SIGKILL: `vetdesk worker` processes dispatching a burst of
//! due messages (1,000 reminders and 500 confirmations) to a real SMTP server
//! on loopback, killed at random moments again and again. Nothing may be lost,
//! and each kill may cause at most one duplicate (the message in flight),
//! recognisable by its Message-ID. Two worker processes on one store send
//! nothing twice. Both stores.
//!
//! The worker processes read the wall clock, so the practice is booked on a
//! test clock set half a day back: every message is due when they start.

mod common;

use chrono::{DateTime, Duration, DurationRound, Utc, Weekday};
use common::*;
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_test_peers::SmtpSink;

const FROM: &str = "Riverside Vets <desk@vetdesk.test>";

/// Book `n` 10-minute appointments starting 12.5 to 22.5 hours from now
/// (on vets who work around the clock), with reminders 24 h and 23 h before.
/// Returns how many messages are due.
async fn due_burst(t: &TestApp, n: usize) -> usize {
    let now: DateTime<Utc> = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .expect("truncate");
    t.clock.set(now - Duration::hours(12));
    t.app
        .set_notification_settings(
            t.london.id,
            SettingsPatch {
                reminder_offsets: Some("24h,23h".into()),
                quiet_hours: Some("none".into()),
                staff_heads_up: Some("none".into()),
            },
            None,
        )
        .await
        .expect("settings");
    let short = t
        .app
        .create_appointment_type(AppointmentTypeInput {
            name: "Quick check".into(),
            duration_min: 10,
            colour: "#00aa00".into(),
            buffer_before_min: 0,
            buffer_after_min: 0,
        })
        .await
        .expect("type");
    let per_vet = 60;
    let mut booked = 0;
    let mut v = 0;
    while booked < n {
        let vet = t
            .app
            .create_vet(VetInput {
                name: format!("Dr Night {v}"),
                email: None,
                clinics: vec![t.london.id],
            })
            .await
            .expect("vet");
        v += 1;
        for wd in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ] {
            t.app
                .add_working_hours(WorkingHoursInput {
                    vet_id: vet.id,
                    clinic_id: t.london.id,
                    weekday: wd,
                    span: "00:00-24:00".into(),
                    valid_from: date("2020-01-01"),
                    valid_to: None,
                })
                .await
                .expect("hours");
        }
        for k in 0..per_vet {
            if booked == n {
                break;
            }
            let start = now + Duration::minutes(12 * 60 + 30 + 10 * k);
            let mut req = t.book_request(&vet, &t.london, "2027-01-01T00:00", &short);
            req.start = TimeInput::parse(&start.to_rfc3339()).expect("instant");
            t.app.book(req).await.expect("booked");
            booked += 1;
        }
    }
    let due =
        t.db.int("SELECT count(*) FROM outbox WHERE status = 'pending' AND channel = 'email'")
            .await;
    assert_eq!(due, (n * 3) as i64);
    n * 3
}

fn spawn_worker(t: &TestApp, sink: &SmtpSink, batch: u32) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vetdesk"))
        .args(["--db", &t.url, "worker"])
        .env("VETDESK_SMTP_HOST", "127.0.0.1")
        .env("VETDESK_SMTP_PORT", sink.port().to_string())
        .env("VETDESK_SMTP_SECURITY", "plain")
        .env("VETDESK_SMTP_FROM", FROM)
        .env("VETDESK_WORKER_BATCH", batch.to_string())
        .env("VETDESK_WORKER_LEASE_SECS", "3")
        .env("VETDESK_SEND_TIMEOUT_SECS", "1")
        .env("VETDESK_EMAIL_RATE", "1000000")
        .env("VETDESK_LOG", "warn")
        .env_remove("VETDESK_SMS_ACCOUNT")
        .env_remove("VETDESK_DESKTOP")
        .env_remove("VETDESK_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vetdesk worker")
}

/// Wait until a worker says it is running (its signal handlers are in place).
fn wait_ready(child: &mut Child) {
    use std::io::BufRead;
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("is sending notifications") {
                let _ = tx.send(());
            }
            eprintln!("worker: {line}");
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(30))
        .expect("the worker started");
}

/// Ask a worker to stop (SIGTERM) and check it stops cleanly.
fn terminate(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let code = child.wait().expect("worker exit");
    assert!(
        code.success(),
        "the worker did not stop cleanly on SIGTERM: {code}"
    );
}

async fn pending(t: &TestApp) -> i64 {
    t.db.int("SELECT count(*) FROM outbox WHERE status = 'pending' AND channel = 'email'")
        .await
}

async fn wait_until_done(t: &TestApp, within: std::time::Duration) {
    let until = Instant::now() + within;
    while pending(t).await > 0 {
        assert!(
            Instant::now() < until,
            "{} messages still pending",
            pending(t).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Every message in the outbox was sent and reached the server; returns how
/// many copies arrived beyond one per message.
async fn check_delivered(t: &TestApp, sink: &SmtpSink, expected: usize) -> usize {
    let not_sent =
        t.db.int("SELECT count(*) FROM outbox WHERE channel = 'email' AND status <> 'sent'")
            .await;
    assert_eq!(not_sent, 0, "every message is recorded as sent");
    let keys = match &t.db {
        Db::Sqlite(p) => sqlx::query_scalar::<_, String>(
            "SELECT idempotency_key FROM outbox WHERE channel = 'email'",
        )
        .fetch_all(p)
        .await
        .expect("keys"),
        Db::Postgres(p) => sqlx::query_scalar::<_, String>(
            "SELECT idempotency_key FROM outbox WHERE channel = 'email'",
        )
        .fetch_all(p)
        .await
        .expect("keys"),
    };
    assert_eq!(keys.len(), expected);
    let mut copies: HashMap<String, usize> = HashMap::new();
    for r in sink.received() {
        *copies
            .entry(r.message_id().expect("every message has a Message-ID"))
            .or_default() += 1;
    }
    let wanted: HashSet<String> = keys.iter().map(|k| format!("<{k}@vetdesk.test>")).collect();
    let arrived: HashSet<String> = copies.keys().cloned().collect();
    assert_eq!(
        arrived, wanted,
        "0 lost, and nothing arrived that was not planned"
    );
    copies.values().map(|c| c - 1).sum()
}

story!(
    multi_thread async fn killing_the_worker_again_and_again_loses_nothing(t) {
        let sink = SmtpSink::start(None).await;
        let expected = due_burst(&t, 500).await;
        let started = Instant::now();
        let mut rng = Rng(0x5EED ^ expected as u64);
        let mut kills = 0;
        while kills < 24 {
            let mut child = spawn_worker(&t, &sink, 10);
            let before = sink.count();
            // Once this worker is sending, a random moment within the next 80 ms.
            let deadline = Instant::now() + std::time::Duration::from_secs(10);
            while sink.count() == before && Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            let pause = 1 + rng.below(80) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
            kills += 1;
            if pending(&t).await == 0 {
                break;
            }
        }
        assert!(kills >= 20, "only {kills} kills before everything was sent; make the burst bigger");
        let mut last = spawn_worker(&t, &sink, 10);
        wait_ready(&mut last);
        wait_until_done(&t, std::time::Duration::from_secs(120)).await;
        terminate(last);
        let duplicates = check_delivered(&t, &sink, expected).await;
        eprintln!(
            "crash test ({:?}): {expected} messages, {kills} SIGKILLs, {duplicates} duplicates, {} SMTP deliveries, {:.1} s",
            t.backend,
            sink.count(),
            started.elapsed().as_secs_f64()
        );
        assert!(
            duplicates <= kills,
            "{duplicates} duplicates after {kills} kills: more than one per kill"
        );
    }
);

story!(
    multi_thread async fn two_worker_processes_never_send_the_same_message(t) {
        let sink = SmtpSink::start(None).await;
        let expected = due_burst(&t, 200).await;
        let mut a = spawn_worker(&t, &sink, 5);
        let mut b = spawn_worker(&t, &sink, 5);
        wait_ready(&mut a);
        wait_ready(&mut b);
        wait_until_done(&t, std::time::Duration::from_secs(120)).await;
        terminate(a);
        terminate(b);
        let duplicates = check_delivered(&t, &sink, expected).await;
        assert_eq!(duplicates, 0);
        // Every claim was released when its outcome was recorded.
        let held = t
            .db
            .int("SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL OR lease_until IS NOT NULL")
            .await;
        assert_eq!(held, 0);
        assert_eq!(sink.count(), expected);
    }
);
