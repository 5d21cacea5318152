//! The channels against real peers on loopback: SMTP sign-in, refusals,
//! stalls and unreachable servers; the SMS gateway's answers; the desktop
//! channel without a notification service.

use std::time::{Duration, Instant};
use vetdesk_app::{Outgoing, Recipient};
use vetdesk_core::{MessageChannel, MessageKind, OutboxId, Rendered};
use vetdesk_notify::*;
use vetdesk_test_peers::{Behaviour, SmsGateway, SmtpSink};

fn message(channel: MessageChannel, to: &str) -> Outgoing {
    Outgoing {
        id: OutboxId(uuid::Uuid::from_u128(42)),
        key: "0190aaaa.reminder-1d.email.v3".into(),
        kind: MessageKind::Reminder,
        channel,
        to: Recipient {
            address: to.into(),
            name: "Olivia Smith".into(),
        },
        clinic: "Riverside".into(),
        rendered: Rendered {
            subject: Some("Reminder: Biscuit tomorrow at 10:00".into()),
            text: "Dear Olivia Smith,\n\nsee you tomorrow.\n.\nA line that is only a dot, above."
                .into(),
            html: Some("<p>Dear Olivia Smith,</p>".into()),
        },
        ics: None,
    }
}

fn smtp(port: u16, user: Option<(&str, &str)>, timeout_ms: u64) -> EmailChannel {
    EmailChannel::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: Security::Plain,
        username: user.map(|u| u.0.to_string()),
        password: user.map(|u| u.1.to_string().into()),
        from: "Riverside Vets <desk@riverside.test>".into(),
        timeout: Duration::from_millis(timeout_ms),
        reuse_connection: true,
        ca_file: None,
    })
    .expect("channel")
}

#[tokio::test]
async fn smtp_with_sign_in_delivers_and_a_wrong_password_is_refused_for_good() {
    let sink = SmtpSink::start(Some(("desk", "s3cret"))).await;
    let ok = smtp(sink.port(), Some(("desk", "s3cret")), 2000);
    let m = message(MessageChannel::Email, "olivia@example.com");
    ok.send(&m).await.expect("delivered");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].authenticated_as.as_deref(), Some("desk"));
    assert_eq!(
        got[0].message_id().as_deref(),
        Some("<0190aaaa.reminder-1d.email.v3@riverside.test>")
    );
    // Dot-stuffing survives the trip: the body's lone dot line is still there.
    assert!(
        got[0]
            .data
            .contains("\r\n.\r\nA line that is only a dot, above."),
        "{}",
        got[0].data
    );

    let wrong = smtp(sink.port(), Some(("desk", "guess")), 2000);
    match wrong.send(&m).await {
        Err(SendError::Permanent(e)) => assert!(e.contains("535"), "{e}"),
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
    let anonymous = smtp(sink.port(), None, 2000);
    match anonymous.send(&m).await {
        Err(SendError::Permanent(e)) => assert!(e.contains("530"), "{e}"),
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
    assert_eq!(sink.count(), 1);
    // A username without a password is a configuration error, said up front.
    let e = EmailChannel::new(SmtpConfig {
        password: None,
        ..SmtpConfig {
            host: "127.0.0.1".into(),
            port: 1,
            security: Security::Plain,
            username: Some("desk".into()),
            password: None,
            from: "desk@riverside.test".into(),
            timeout: Duration::from_secs(1),
            reuse_connection: true,
            ca_file: None,
        }
    });
    assert!(e.is_err());
}

#[tokio::test]
async fn smtp_refusals_stalls_and_absence_are_told_apart() {
    let sink = SmtpSink::start(None).await;
    let ch = smtp(sink.port(), None, 400);
    let m = message(MessageChannel::Email, "olivia@example.com");
    sink.set_behaviour(Behaviour::RefuseTemporarily);
    assert!(matches!(ch.send(&m).await, Err(SendError::Transient(e)) if e.contains("451")));
    sink.set_behaviour(Behaviour::RefusePermanently);
    assert!(matches!(ch.send(&m).await, Err(SendError::Permanent(e)) if e.contains("550")));
    sink.set_behaviour(Behaviour::Stall);
    let started = Instant::now();
    match ch.send(&m).await {
        Err(SendError::Transient(e)) => assert!(e.contains("did not finish"), "{e}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    // After all that, the channel recovers on a fresh connection.
    sink.set_behaviour(Behaviour::Accept);
    ch.send(&m).await.expect("delivered");
    assert_eq!(sink.count(), 1);
    // Nobody listening.
    let port = sink.port();
    drop(sink);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let gone = smtp(port, None, 400);
    assert!(matches!(gone.send(&m).await, Err(SendError::Transient(_))));
    // A malformed address is refused for good before anything is sent.
    let bad = message(MessageChannel::Email, "not an address");
    assert!(matches!(
        gone.send(&bad).await,
        Err(SendError::Permanent(_))
    ));
}

#[tokio::test]
async fn the_sms_gateway_gets_the_form_the_auth_and_the_idempotency_key() {
    let gw = SmsGateway::start("AC77", "tok").await;
    let ch = SmsChannel::new(SmsConfig {
        base_url: format!("{}/", gw.base_url()),
        account: "AC77".into(),
        token: "tok".to_string().into(),
        from: "+15550001111".into(),
        timeout: Duration::from_millis(400),
    })
    .expect("channel");
    let m = message(MessageChannel::Sms, "+447700900123");
    let d = ch.send(&m).await.expect("sent");
    assert_eq!(
        d.provider_id.as_deref(),
        Some("SM00000000000000000000000000000001")
    );
    let r = &gw.requests()[0];
    assert_eq!(r.form.len(), 3);
    assert_eq!(r.form["To"], "+447700900123");
    assert_eq!(r.form["Body"], m.rendered.text);
    assert_eq!(r.idempotency_key.as_deref(), Some(m.key.as_str()));
    gw.set_behaviour(Behaviour::RefuseTemporarily);
    assert!(matches!(ch.send(&m).await, Err(SendError::Transient(e)) if e.contains("500")));
    gw.set_behaviour(Behaviour::RefusePermanently);
    assert!(
        matches!(ch.send(&m).await, Err(SendError::Permanent(e)) if e.contains("not a valid phone number"))
    );
    gw.set_behaviour(Behaviour::Stall);
    assert!(
        matches!(ch.send(&m).await, Err(SendError::Transient(e)) if e.contains("did not answer"))
    );
    // A wrong token is refused for good.
    gw.set_behaviour(Behaviour::Accept);
    let wrong = SmsChannel::new(SmsConfig {
        base_url: gw.base_url(),
        account: "AC77".into(),
        token: "nope".to_string().into(),
        from: "+15550001111".into(),
        timeout: Duration::from_millis(400),
    })
    .expect("channel");
    assert!(matches!(wrong.send(&m).await, Err(SendError::Permanent(e)) if e.contains("401")));
    // The token and owners' numbers never cross a network in clear: https,
    // or http only to this machine.
    let config = |url: &str| SmsConfig {
        base_url: url.into(),
        account: "AC77".into(),
        token: "tok".to_string().into(),
        from: "+1".into(),
        timeout: Duration::from_secs(1),
    };
    for url in [
        "http://gateway.example",
        "http://192.168.1.20:8080/",
        "http://[2001:db8::1]/",
        "ftp://gateway",
        "http://127.0.0.1.example/",
    ] {
        assert!(
            matches!(
                SmsChannel::new(config(url)),
                Err(SmsSetupError::NotHttps { .. })
            ),
            "{url} should be refused"
        );
    }
    assert!(matches!(
        SmsChannel::new(config("gateway.example")),
        Err(SmsSetupError::NotAUrl { .. })
    ));
    for url in [
        "https://api.twilio.com",
        "http://127.0.0.1:9000/",
        "http://localhost:9000",
        "http://[::1]:9000",
    ] {
        assert!(
            SmsChannel::new(config(url)).is_ok(),
            "{url} should be accepted"
        );
    }
}

#[tokio::test]
async fn without_a_notification_service_the_desktop_channel_declines_without_crashing() {
    // A session bus address where nothing listens: as on a server or over SSH.
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/vetdesk-test-bus",
    );
    let ch = DesktopChannel::new(std::time::Duration::from_secs(5));
    let mut m = message(MessageChannel::Desktop, "vet");
    m.kind = MessageKind::CheckedIn;
    match ch.send(&m).await {
        Err(SendError::Unavailable(e)) => {
            assert!(e.contains("no desktop notification service"), "{e}")
        }
        other => panic!("expected the channel to decline, got {other:?}"),
    }
}

#[test]
fn secrets_come_from_the_environment_first() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    std::env::set_var("VETDESK_TEST_SECRET_X", "from-env");
    let (s, source) = rt
        .block_on(secrets::lookup(
            "vetdesk-test-secret-x",
            "VETDESK_TEST_SECRET_X",
        ))
        .expect("found");
    assert_eq!(source, secrets::Source::Environment);
    assert_eq!(secrecy::ExposeSecret::expose_secret(&s), "from-env");
    // Not in the environment and (here) no keyring entry: nothing, and no panic.
    assert!(rt
        .block_on(secrets::lookup(
            "vetdesk-test-secret-missing",
            "VETDESK_TEST_SECRET_MISSING"
        ))
        .is_none());
}
