//! What the outbox and the log keep of an owner: the worker forgets where
//! messages went after the configured days (on the app's clock), and owners'
//! addresses and numbers never reach the log, whatever a channel says.

mod common;

use chrono::Duration;
use common::*;
use std::sync::Arc;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_notify::*;
type DynChannel = dyn vetdesk_notify::Channel;
use vetdesk_store::OutboxRecord;
use vetdesk_test_peers::{SmsGateway, SmtpSink};

const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);

fn worker(t: &TestApp, channels: Channels, keep: Option<std::time::Duration>) -> Worker {
    let config = WorkerConfig {
        name: "outbox-rights".into(),
        max_attempts: 2,
        retry_base: std::time::Duration::from_secs(60),
        email_rate: Rate::UNLIMITED,
        sms_rate: Rate::UNLIMITED,
        keep_recipients: keep,
        ..WorkerConfig::default()
    };
    Worker::new(t.app.clone(), channels, config).expect("a worker")
}

fn email(channel: Arc<DynChannel>) -> Channels {
    Channels {
        email: Some(channel),
        sms: None,
        desktop: None,
    }
}

fn smtp(sink: &SmtpSink) -> Arc<DynChannel> {
    Arc::new(
        EmailChannel::new(SmtpConfig {
            host: "127.0.0.1".into(),
            port: sink.port(),
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

/// Refuses every message, quoting its recipient as gateways do: for good,
/// or for now (`transient`).
struct Quoting {
    transient: bool,
}

#[async_trait::async_trait]
impl vetdesk_notify::Channel for Quoting {
    async fn send(&self, m: &Outgoing) -> Result<Delivery, SendError> {
        let text = format!(
            "The 'To' number {} is not reachable (<{}>)",
            m.to.address, m.to.address
        );
        Err(if self.transient {
            SendError::Transient(text)
        } else {
            SendError::Permanent(text)
        })
    }
}

async fn confirmation(t: &TestApp, a: AppointmentId) -> OutboxRecord {
    let q = OutboxQuery {
        appointment: Some(a),
        limit: 50,
        ..OutboxQuery::default()
    };
    t.app
        .outbox(q)
        .await
        .expect("outbox")
        .items
        .into_iter()
        .find(|m| m.kind == MessageKind::Confirmation && m.channel == MessageChannel::Email)
        .expect("a confirmation email")
}

story!(
    async fn the_worker_forgets_where_messages_went_after_the_days_configured(t) {
        let sink = SmtpSink::start(None).await;
        // Day 0: one confirmation refused quoting the address, one sent.
        let refused = t.book(&t.alice_vet, "2027-03-05T10:00", &t.consult).await.expect("booked").view.appointment.id;
        worker(&t, email(Arc::new(Quoting { transient: false })), None).drain().await.expect("refused");
        let sent = t.book(&t.ben_vet, "2027-03-05T11:00", &t.consult).await.expect("booked").view.appointment.id;
        let mut keeping = worker(&t, email(smtp(&sink)), Some(DAY * 30));
        keeping.drain().await.expect("sent");
        let m = confirmation(&t, refused).await;
        assert!(m.last_error.as_deref().unwrap_or_default().contains("olivia@example.com"), "{m:?}");
        assert_eq!(confirmation(&t, sent).await.sent_to.as_deref(), Some("olivia@example.com"));

        // Day 29: a new booking's confirmation goes out; the old ones keep theirs.
        t.clock.advance(Duration::days(29));
        let recent = t.book(&t.ben_vet, "2027-04-02T10:00", &t.consult).await.expect("booked").view.appointment.id;
        keeping.drain().await.expect("sent");
        assert_eq!(confirmation(&t, sent).await.sent_to.as_deref(), Some("olivia@example.com"));
        assert!(confirmation(&t, refused).await.last_error.is_some());

        // Day 31: a worker told to keep them forgets nothing.
        t.clock.advance(Duration::days(2));
        worker(&t, email(smtp(&sink)), None).step().await.expect("step");
        assert_eq!(confirmation(&t, sent).await.sent_to.as_deref(), Some("olivia@example.com"));
        // The 30-day worker forgets day 0's recipient and error text, not day 29's.
        keeping.step().await.expect("step");
        let old = confirmation(&t, sent).await;
        assert_eq!((old.sent_to, old.status), (None, MessageStatus::Sent));
        let old = confirmation(&t, refused).await;
        assert_eq!((old.last_error, old.status), (None, MessageStatus::Failed));
        assert_eq!(confirmation(&t, recent).await.sent_to.as_deref(), Some("olivia@example.com"));
        assert_eq!(
            t.db.int("SELECT count(*) FROM outbox WHERE status <> 'pending' AND finished_at IS NULL").await,
            0
        );

        // At most once an hour, by the app's clock: the day-29 message turns
        // 30 days old 10 minutes after a look, and is forgotten at the next
        // look an hour later, not before.
        t.clock.set(t0() + Duration::days(59) - Duration::minutes(10));
        keeping.step().await.expect("step");
        t.clock.advance(Duration::minutes(20));
        keeping.step().await.expect("step");
        assert_eq!(confirmation(&t, recent).await.sent_to.as_deref(), Some("olivia@example.com"));
        t.clock.advance(Duration::hours(1));
        keeping.step().await.expect("step");
        assert_eq!(confirmation(&t, recent).await.sent_to, None);
        assert_eq!(t.db.int("SELECT count(*) FROM outbox WHERE sent_to IS NOT NULL").await, 0);
    }
);

/// What the log says, kept in memory.
#[derive(Clone, Default)]
struct Log(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).to_string()
    }
}

story!(
    async fn owners_numbers_and_addresses_stay_out_of_the_log(t) {
        let log = Log::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        // Noah has a phone only: his messages go by SMS. Transient refusals
        // (retried, logged at INFO) and then the last attempt (WARN).
        // 10:00 in London: outside SMS quiet hours.
        t.clock.advance(Duration::hours(2));
        let mut req = t.book_request(&t.ben_vet, &t.london, "2027-03-03T10:00", &t.consult);
        req.pet_id = t.other_pet.id;
        let a = t.app.book(req).await.expect("booked").view.appointment.id;
        let sms = Channels { email: None, sms: Some(Arc::new(Quoting { transient: true })), desktop: None };
        let mut w = worker(&t, sms, None);
        assert_eq!(w.drain().await.expect("step").retried, 1);
        t.clock.advance(Duration::minutes(5));
        assert_eq!(w.drain().await.expect("step").failed, 1);
        // Olivia's email refused for good (WARN).
        t.book(&t.alice_vet, "2027-03-05T10:00", &t.consult).await.expect("booked");
        worker(&t, email(Arc::new(Quoting { transient: false })), None).drain().await.expect("refused");
        // And the real channels, through real peers on loopback, logging at TRACE too.
        let sink = SmtpSink::start(None).await;
        let gateway = SmsGateway::start("AC0123", "gateway-token").await;
        let real = SmsChannel::new(SmsConfig {
            base_url: gateway.base_url(),
            account: "AC0123".into(),
            token: "gateway-token".to_string().into(),
            from: "+15550001111".into(),
            timeout: std::time::Duration::from_secs(2),
        })
        .expect("sms channel");
        t.book(&t.alice_vet, "2027-03-05T11:00", &t.consult).await.expect("booked");
        let mut req = t.book_request(&t.ben_vet, &t.london, "2027-03-03T11:00", &t.consult);
        req.pet_id = t.other_pet.id;
        t.app.book(req).await.expect("booked");
        let both = Channels { email: Some(smtp(&sink)), sms: Some(Arc::new(real)), desktop: None };
        assert_eq!(worker(&t, both, None).drain().await.expect("sent").sent, 2);
        assert_eq!((sink.count(), gateway.accepted().len()), (1, 1));
        // An admin exports and erases Olivia.
        t.app.export_client(t.owner.id).await.expect("export");
        t.app.erase_client(t.owner.id).await.expect("erase");

        // The outbox kept Noah's number for the front desk...
        let q = OutboxQuery { appointment: Some(a), limit: 50, ..OutboxQuery::default() };
        let failed = t.app.outbox(q).await.expect("outbox").items.into_iter()
            .find(|m| m.status == MessageStatus::Failed).expect("failed");
        assert!(failed.last_error.as_deref().unwrap_or_default().contains("+12125550100"), "{failed:?}");
        // ... and the log says what happened, without whom it was for.
        let logged = log.text();
        assert!(logged.contains("message will be retried"), "{logged}");
        assert!(logged.contains("message failed after its last attempt"), "{logged}");
        assert!(logged.contains("message refused for good"), "{logged}");
        assert!(logged.contains("The 'To' number [redacted] is not reachable (<[redacted]>)"), "{logged}");
        assert!(logged.contains("owner erased"), "{logged}");
        for needle in ["+12125550100", "2125550100", "212 555 0100", "olivia@example.com", "7700900123", "Olivia", "Noah", "Biscuit", "Whiskers"] {
            assert!(!logged.contains(needle), "{needle} in the log:\n{logged}");
        }
    }
);
