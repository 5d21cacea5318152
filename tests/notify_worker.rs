//! The worker's promises when things go wrong, on both stores, against a real
//! SMTP server on loopback: the database failing between a send and its
//! record (a real lock held by another connection, longer than the store
//! waits) does not send the message again; a message whose worker never
//! records an outcome is failed after `max_attempts` claims; leases follow the
//! database's clock on PostgreSQL and the application's on SQLite; a lease
//! too short for the send timeout is refused.

mod common;

use chrono::Duration;
use common::*;
use sqlx::Connection;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_notify::*;
use vetdesk_store::{ClaimScope, SqliteOptions, SqliteStore, Store};
use vetdesk_test_peers::SmtpSink;

const FROM: &str = "Riverside Vets <desk@vetdesk.test>";
/// How long the test stores wait for a lock before reporting the store busy.
const LOCK_WAIT_MS: u64 = 200;

fn email(sink: &SmtpSink) -> Channels {
    let email = EmailChannel::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port(),
        security: Security::Plain,
        username: None,
        password: None,
        from: FROM.into(),
        timeout: StdDuration::from_secs(1),
        reuse_connection: true,
        ca_file: None,
    })
    .expect("email channel");
    Channels {
        email: Some(Arc::new(email)),
        ..Channels::default()
    }
}

/// A short lease (the least a one-second send timeout allows), so a test
/// can wait it out on the database's clock too.
fn config() -> WorkerConfig {
    WorkerConfig {
        name: "w".into(),
        batch: 10,
        lease: StdDuration::from_secs(3),
        max_attempts: 3,
        retry_base: StdDuration::from_secs(60),
        retry_cap: StdDuration::from_secs(3600),
        idle_poll: StdDuration::from_secs(1),
        send_timeout: StdDuration::from_secs(1),
        email_rate: Rate::UNLIMITED,
        sms_rate: Rate::UNLIMITED,
        keep_recipients: None,
    }
}

fn email_scope() -> ClaimScope {
    ClaimScope {
        email: true,
        ..ClaimScope::default()
    }
}

/// The same database, opened again by a store that waits at most
/// `LOCK_WAIT_MS` for another connection's lock (SQLite's busy timeout,
/// PostgreSQL's `lock_timeout`), on the test's clock.
async fn impatient_app(t: &TestApp) -> App {
    let store: Arc<dyn Store> = match t.backend {
        Backend::Sqlite => Arc::new(
            SqliteStore::open_with(
                &t.url,
                SqliteOptions {
                    busy_timeout: StdDuration::from_millis(LOCK_WAIT_MS),
                },
            )
            .await
            .expect("store"),
        ),
        Backend::Postgres => {
            let sep = if t.url.contains('?') { '&' } else { '?' };
            let url = format!("{}{sep}options%5Block_timeout%5D={LOCK_WAIT_MS}ms", t.url);
            vetdesk_store::open(&url).await.expect("store")
        }
    };
    App::new(store, t.clock.clone(), Settings::default())
}

/// Another connection that holds the outbox's write lock until dropped
/// into [`Lock::release`]: SQLite's `BEGIN EXCLUSIVE` (the database's one
/// write lock), PostgreSQL's `LOCK TABLE outbox IN EXCLUSIVE MODE` (reads
/// go on, writes wait).
enum Lock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Lock {
    async fn take(backend: Backend, url: &str) -> Lock {
        match backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
                sqlx::query("BEGIN EXCLUSIVE")
                    .execute(&mut c)
                    .await
                    .expect("lock");
                Lock::Sqlite(c)
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query("BEGIN").execute(&mut c).await.expect("begin");
                sqlx::query("LOCK TABLE outbox IN EXCLUSIVE MODE")
                    .execute(&mut c)
                    .await
                    .expect("lock");
                Lock::Postgres(c)
            }
        }
    }

    async fn release(self) {
        match self {
            Lock::Sqlite(mut c) => sqlx::query("ROLLBACK").execute(&mut c).await.map(drop),
            Lock::Postgres(mut c) => sqlx::query("ROLLBACK").execute(&mut c).await.map(drop),
        }
        .expect("unlock");
    }
}

/// When the SMTP server has the first message and before it says so, lock
/// the outbox from another connection for `hold`: the worker's record of
/// that send then meets the lock.
fn lock_after_first_send(t: &TestApp, sink: &SmtpSink, hold: StdDuration) {
    let (backend, url) = (t.backend, t.url.clone());
    sink.before_accepting(Arc::new(move |n| {
        let url = url.clone();
        Box::pin(async move {
            if n != 1 {
                return;
            }
            let lock = Lock::take(backend, &url).await;
            tokio::spawn(async move {
                tokio::time::sleep(hold).await;
                lock.release().await;
            });
        })
    }));
}

/// Wait out a lease on both clocks: the database's (real time) and the
/// application's (the test clock).
async fn after_the_lease(t: &TestApp) {
    tokio::time::sleep(config().lease + StdDuration::from_millis(300)).await;
    t.clock.advance(Duration::minutes(5));
}

story!(
    multi_thread async fn a_record_the_store_refuses_for_a_moment_is_retried_and_the_message_goes_once(t) {
        let sink = SmtpSink::start(None).await;
        let a = t.book(&t.alice_vet, "2027-03-05T10:00", &t.consult).await.expect("booked");
        let id = a.view.appointment.id;
        // Locked for 700 ms: the first tries at recording wait out the
        // store's 200 ms and fail (busy); a later one gets through.
        lock_after_first_send(&t, &sink, StdDuration::from_millis(700));
        let mut w = Worker::new(impatient_app(&t).await, email(&sink), config()).expect("worker");
        let started = std::time::Instant::now();
        let r = w.step().await.expect("the step records the send in the end");
        assert_eq!((r.claimed, r.sent), (1, 1));
        // The store waits 200 ms at a time: getting past a 700 ms lock took
        // failed tries and retries, not one long wait.
        assert!(started.elapsed() >= StdDuration::from_millis(650), "{:?}", started.elapsed());
        assert_eq!(w.unrecorded(), 0);
        let m = t.app.outbox(OutboxQuery { appointment: Some(id), statuses: vec![MessageStatus::Sent], limit: 10, ..OutboxQuery::default() })
            .await.expect("outbox").items;
        assert_eq!(m.len(), 1, "the confirmation is recorded as sent");
        assert_eq!((m[0].attempts, m[0].lease_until), (1, None));
        // After its lease, nothing is sent again.
        after_the_lease(&t).await;
        w.drain().await.expect("drain");
        assert_eq!(sink.count(), 1);
    }
);

story!(
    multi_thread async fn a_record_the_store_refuses_for_longer_is_kept_and_recorded_before_the_next_claim(t) {
        let sink = SmtpSink::start(None).await;
        let a = t.book(&t.alice_vet, "2027-03-05T10:00", &t.consult).await.expect("booked");
        let id = a.view.appointment.id;
        // Locked for longer than every retry (four tries, 1.05 s of pauses).
        lock_after_first_send(&t, &sink, StdDuration::from_millis(3_500));
        let mut w = Worker::new(impatient_app(&t).await, email(&sink), config()).expect("worker");
        let e = w.step().await.expect_err("the store refused every try");
        assert!(matches!(e, WorkerError::App(AppError::Busy)), "{e:?}");
        assert_eq!(w.unrecorded(), 1, "the outcome is kept");
        assert_eq!(sink.count(), 1);
        // In the store it is still claimed, not sent.
        let row = t.app.outbox(OutboxQuery { appointment: Some(id), limit: 10, ..OutboxQuery::default() })
            .await.expect("outbox").items.into_iter().find(|m| m.kind == MessageKind::Confirmation).expect("confirmation");
        assert_eq!(row.status, MessageStatus::Pending);
        assert!(row.lease_until.is_some());
        // The lock goes and the lease runs out: the next step records the
        // kept outcome before it claims anything, so nothing goes twice.
        after_the_lease(&t).await;
        let r = w.drain().await.expect("drain");
        assert_eq!((r.claimed, r.sent), (0, 0), "{r:?}");
        assert_eq!(w.unrecorded(), 0);
        let row = t.app.outbox_message(row.id).await.expect("message");
        assert_eq!((row.status, row.attempts, row.sent_to.as_deref()), (MessageStatus::Sent, 1, Some("olivia@example.com")));
        after_the_lease(&t).await;
        w.drain().await.expect("drain");
        assert_eq!(sink.count(), 1, "sent exactly once");
    }
);

story!(
    async fn a_message_claimed_max_attempts_times_without_an_outcome_is_failed(t) {
        let sink = SmtpSink::start(None).await;
        let a = t.book(&t.alice_vet, "2027-03-05T10:00", &t.consult).await.expect("booked");
        let id = a.view.appointment.id;
        let scope = email_scope();
        let lease = Duration::milliseconds(300);
        // A worker that dies mid-send, three times: each claim counts an
        // attempt and records nothing.
        for attempt in 1..=3u32 {
            let b = t.app.claim_messages(&scope, "doomed", lease, 10, 3).await.expect("claim");
            assert_eq!((b.messages.len(), b.gave_up.len()), (1, 0), "claim {attempt}");
            assert_eq!(b.messages[0].message.attempts, attempt);
            tokio::time::sleep(StdDuration::from_millis(400)).await;
            t.clock.advance(Duration::seconds(1));
        }
        // The fourth claim gives up on it instead.
        let before = t.count("outbox").await;
        let b = t.app.claim_messages(&scope, "doomed", lease, 10, 3).await.expect("claim");
        assert!(b.messages.is_empty());
        assert_eq!(b.gave_up.len(), 1);
        let m = t.app.outbox_message(b.gave_up[0]).await.expect("message");
        assert_eq!((m.appointment_id, m.kind, m.status, m.attempts), (id, MessageKind::Confirmation, MessageStatus::Failed, 3));
        assert_eq!((m.claimed_by.as_deref(), m.lease_until), (None, None));
        assert!(
            m.last_error.as_deref().is_some_and(|e| e.starts_with("gave up: claimed 3 times without an outcome being recorded")),
            "{m:?}"
        );
        assert_eq!(t.count("outbox").await, before);
        // No worker sends it again.
        let mut w = Worker::new(t.app.clone(), email(&sink), config()).expect("worker");
        assert_eq!(w.drain().await.expect("drain").claimed, 0);
        assert_eq!(sink.count(), 0);
        // A person can still send it, once.
        t.app.retry_message(m.id).await.expect("queued again");
        assert_eq!(w.drain().await.expect("drain").sent, 1);
        assert_eq!(sink.count(), 1);
        // Bad limits are refused and change nothing.
        let before = t.footprint().await;
        for (limit, max) in [(0, 3), (10, 0), (10, MAX_ATTEMPTS + 1)] {
            let e = t.app.claim_messages(&scope, "w", lease, limit, max).await.expect_err("refused");
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{limit}/{max}");
        }
        assert_eq!(t.footprint().await, before);
    }
);

story!(
    async fn leases_are_kept_by_the_databases_clock_on_postgres_and_the_apps_on_sqlite(t) {
        t.book(&t.alice_vet, "2027-03-05T10:00", &t.consult).await.expect("booked");
        let scope = email_scope();
        let lease = Duration::seconds(60);
        let b = t.app.claim_messages(&scope, "here", lease, 10, 5).await.expect("claim");
        assert_eq!(b.messages.len(), 1);
        let until = b.messages[0].message.lease_until.expect("a lease");
        // A second worker whose clock runs an hour ahead.
        let ahead = Arc::new(ManualClock::new(t.clock_now() + Duration::hours(1)));
        let other = App::new(vetdesk_store::open(&t.url).await.expect("store"), ahead, Settings::default());
        let theirs = other.claim_messages(&scope, "ahead", lease, 10, 5).await.expect("claim");
        match t.backend {
            Backend::Postgres => {
                // The database's clock (the test clock is in 2027; the server's is not).
                let ms = t.db.int("SELECT (extract(epoch FROM now()) * 1000)::bigint").await;
                let db_now = chrono::DateTime::from_timestamp_millis(ms).expect("now");
                let off = until - (db_now + lease);
                assert!(off.num_seconds().abs() <= 5, "lease until {until}, database now {db_now}");
                assert!(until < t.clock_now(), "not by the application's clock");
                assert!(theirs.messages.is_empty(), "the lease holds whatever the other machine's clock says");
                // Whose lease is whose is by the database: the next due time is
                // the lease's end moved onto the application's clock.
                let due = t.app.next_message_due(&scope).await.expect("due").expect("some");
                let left = due - t.clock_now();
                assert!(left > Duration::seconds(50) && left <= Duration::seconds(60), "{left}");
            }
            Backend::Sqlite => {
                assert_eq!(until, t.clock_now() + lease);
                assert_eq!(theirs.messages.len(), 1, "one machine, one clock: an hour ahead, the lease has run out");
                assert_eq!(theirs.messages[0].message.attempts, 2);
            }
        }
    }
);

story!(
    async fn a_lease_too_short_for_the_send_timeout_is_refused_naming_both_settings(t) {
        let sink = SmtpSink::start(None).await;
        let short = WorkerConfig { lease: StdDuration::from_millis(2_999), ..config() };
        let e = Worker::new(t.app.clone(), email(&sink), short).err().expect("refused");
        assert_eq!(
            e,
            WorkerConfigError::LeaseTooShort {
                lease: StdDuration::from_millis(2_999),
                send_timeout: StdDuration::from_secs(1),
                margin: LEASE_MARGIN,
            }
        );
        let text = e.to_string();
        for setting in ["--lease-secs", "VETDESK_WORKER_LEASE_SECS", "--send-timeout-secs", "VETDESK_SEND_TIMEOUT_SECS"] {
            assert!(text.contains(setting), "{text}");
        }
        let none = WorkerConfig { send_timeout: StdDuration::ZERO, ..config() };
        assert_eq!(none.check(), Err(WorkerConfigError::NoSendTimeout));
        assert_eq!(WorkerConfig { max_attempts: 0, ..config() }.check(), Err(WorkerConfigError::MaxAttempts(0)));
        assert_eq!(WorkerConfig { batch: MAX_CLAIM + 1, ..config() }.check(), Err(WorkerConfigError::Batch(MAX_CLAIM + 1)));
        // Exactly the margin is enough, and the default is far from the edge.
        assert_eq!(config().check(), Ok(()));
        assert_eq!(WorkerConfig::default().check(), Ok(()));
    }
);
