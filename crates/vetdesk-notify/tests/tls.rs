//! Email over TLS against the loopback SMTP server speaking TLS for real: a
//! certificate authority made for each test signs the server's certificate,
//! and the channel trusts it only through `ca_file`.

use std::path::PathBuf;
use std::time::Duration;
use vetdesk_app::{Outgoing, Recipient};
use vetdesk_core::{MessageChannel, MessageKind, OutboxId, Rendered};
use vetdesk_notify::*;
use vetdesk_test_peers::{Received, SinkOptions, SinkTls, SmtpSink, TestPki};

fn message() -> Outgoing {
    Outgoing {
        id: OutboxId(uuid::Uuid::from_u128(7)),
        key: "0190bbbb.reminder-2h.email.v1".into(),
        kind: MessageKind::Reminder,
        channel: MessageChannel::Email,
        to: Recipient {
            address: "olivia@example.com".into(),
            name: "Olivia Smith".into(),
        },
        clinic: "Riverside".into(),
        rendered: Rendered {
            subject: Some("Reminder: Biscuit today at 10:00".into()),
            text: "Dear Olivia Smith,\n\nsee you at 10:00.\n".into(),
            html: Some("<p>Dear Olivia Smith,</p><p>see you at 10:00.</p>".into()),
        },
        ics: None,
    }
}

fn channel(
    port: u16,
    security: Security,
    ca_file: Option<PathBuf>,
    user: Option<(&str, &str)>,
) -> EmailChannel {
    EmailChannel::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security,
        username: user.map(|u| u.0.to_string()),
        password: user.map(|u| u.1.to_string().into()),
        from: "Riverside Vets <desk@riverside.test>".into(),
        timeout: Duration::from_secs(5),
        reuse_connection: true,
        ca_file,
    })
    .expect("channel")
}

async fn sink(tls: SinkTls, auth: Option<(&str, &str)>) -> SmtpSink {
    SmtpSink::start_with(SinkOptions {
        auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
        tls,
    })
    .await
}

/// The message the server kept is the one the channel was given.
fn assert_is_the_message(r: &Received, m: &Outgoing) {
    let parsed = mail_parser::MessageParser::default()
        .parse(r.data.as_bytes())
        .expect("a parsable message");
    assert_eq!(parsed.subject(), m.rendered.subject.as_deref());
    assert_eq!(
        parsed.message_id(),
        Some("0190bbbb.reminder-2h.email.v1@riverside.test")
    );
    assert_eq!(
        parsed
            .body_text(0)
            .map(|t| t.replace("\r\n", "\n").trim_end().to_string()),
        Some(m.rendered.text.trim_end().to_string())
    );
    assert_eq!(parsed.body_html(0).as_deref(), m.rendered.html.as_deref());
    let to = parsed
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address());
    assert_eq!(to, Some("olivia@example.com"));
    assert_eq!(r.rcpt_to, vec!["olivia@example.com".to_string()]);
    assert_eq!(r.mail_from, "desk@riverside.test");
}

/// No command that carries the envelope, the message or a password went in clear.
fn assert_nothing_sensitive_in_clear(sink: &SmtpSink) {
    for c in sink.commands() {
        if matches!(c.verb.as_str(), "AUTH" | "MAIL" | "RCPT" | "DATA") {
            assert!(c.tls, "{} was sent in clear", c.verb);
        }
    }
}

#[tokio::test]
async fn starttls_delivers_the_message_inside_tls_with_sign_in() {
    let pki = TestPki::new("Riverside test CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = sink(SinkTls::starttls(&pki), Some(("desk", "s3cret"))).await;
    let ch = channel(
        sink.port(),
        Security::StartTls,
        Some(pki.write_ca(dir.path())),
        Some(("desk", "s3cret")),
    );
    let m = message();
    ch.send(&m).await.expect("delivered over STARTTLS");
    ch.send(&m)
        .await
        .expect("delivered again on the same connection");
    let got = sink.received();
    assert_eq!(got.len(), 2);
    assert_eq!(sink.connections(), 1, "the TLS connection is reused");
    for r in &got {
        assert!(
            r.tls.as_deref().is_some_and(|v| v.starts_with("TLSv1_")),
            "{:?}",
            r.tls
        );
        assert_eq!(r.authenticated_as.as_deref(), Some("desk"));
        assert_is_the_message(r, &m);
    }
    let verbs: Vec<(String, bool)> = sink
        .commands()
        .into_iter()
        .map(|c| (c.verb, c.tls))
        .take(4)
        .collect();
    assert_eq!(
        verbs,
        [
            ("EHLO".to_string(), false),
            ("STARTTLS".to_string(), false),
            ("EHLO".to_string(), true),
            ("AUTH".to_string(), true),
        ]
    );
    assert_nothing_sensitive_in_clear(&sink);
}

#[tokio::test]
async fn implicit_tls_delivers_the_message() {
    let pki = TestPki::new("Riverside test CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = sink(SinkTls::implicit(&pki), None).await;
    let ch = channel(
        sink.port(),
        Security::Tls,
        Some(pki.write_ca(dir.path())),
        None,
    );
    let m = message();
    ch.send(&m).await.expect("delivered over implicit TLS");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls.is_some());
    assert_eq!(got[0].authenticated_as, None);
    assert_is_the_message(&got[0], &m);
    assert!(sink.commands().iter().all(|c| c.tls));
}

#[tokio::test]
async fn sign_in_over_tls_checks_the_credentials() {
    let pki = TestPki::new("Riverside test CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = pki.write_ca(dir.path());
    let sink = sink(SinkTls::implicit(&pki), Some(("desk", "s3cret"))).await;
    let m = message();
    let wrong = channel(
        sink.port(),
        Security::Tls,
        Some(ca.clone()),
        Some(("desk", "guess")),
    );
    match wrong.send(&m).await {
        Err(SendError::Permanent(e)) => assert!(e.contains("535"), "{e}"),
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
    let anonymous = channel(sink.port(), Security::Tls, Some(ca.clone()), None);
    match anonymous.send(&m).await {
        Err(SendError::Permanent(e)) => assert!(e.contains("530"), "{e}"),
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
    assert_eq!(sink.count(), 0);
    let right = channel(
        sink.port(),
        Security::Tls,
        Some(ca),
        Some(("desk", "s3cret")),
    );
    right.send(&m).await.expect("delivered");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].authenticated_as.as_deref(), Some("desk"));
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_authority_is_refused_and_nothing_is_sent() {
    let pki = TestPki::new("Riverside test CA");
    let stranger = TestPki::new("Someone else's CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let m = message();
    for (tls, security) in [
        (SinkTls::starttls(&pki), Security::StartTls),
        (SinkTls::implicit(&pki), Security::Tls),
    ] {
        let sink = sink(tls, Some(("desk", "s3cret"))).await;
        // Trusting only the public authorities, or another private one.
        for ca in [None, Some(stranger.write_ca(dir.path()))] {
            let ch = channel(sink.port(), security, ca, Some(("desk", "s3cret")));
            match ch.send(&m).await {
                // Transient: the worker retries it, then marks it failed.
                Err(SendError::Transient(e)) => {
                    assert!(e.to_lowercase().contains("certificate"), "{e}")
                }
                other => panic!("expected a refused certificate, got {other:?}"),
            }
        }
        assert_eq!(sink.count(), 0);
        // The server learns of the refusal from the client's alert, a moment later.
        let until = std::time::Instant::now() + Duration::from_secs(3);
        while sink.tls_failures() < 2 && std::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(sink.tls_failures(), 2, "both handshakes were refused");
        assert_nothing_sensitive_in_clear(&sink);
        assert!(!sink.commands().iter().any(|c| c.verb == "MAIL"));
    }
}

#[tokio::test]
async fn starttls_mode_never_falls_back_to_clear_text() {
    let pki = TestPki::new("Riverside test CA");
    let dir = tempfile::tempdir().expect("tempdir");
    // A server that does not offer STARTTLS (or a meddler that removed it).
    let sink = sink(SinkTls::Off, Some(("desk", "s3cret"))).await;
    let ch = channel(
        sink.port(),
        Security::StartTls,
        Some(pki.write_ca(dir.path())),
        Some(("desk", "s3cret")),
    );
    match ch.send(&message()).await {
        Err(SendError::Transient(e)) => assert!(e.contains("does not offer STARTTLS"), "{e}"),
        other => panic!("expected a refusal to send in clear, got {other:?}"),
    }
    assert_eq!(sink.count(), 0);
    let verbs: Vec<String> = sink.commands().into_iter().map(|c| c.verb).collect();
    assert_eq!(
        verbs,
        ["EHLO", "QUIT"],
        "nothing but the greeting and the goodbye went in clear"
    );
}

#[tokio::test]
async fn a_bad_certificate_authority_file_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = |security, ca_file| SmtpConfig {
        host: "127.0.0.1".into(),
        port: 1,
        security,
        username: None,
        password: None,
        from: "desk@riverside.test".into(),
        timeout: Duration::from_secs(1),
        reuse_connection: true,
        ca_file: Some(ca_file),
    };
    let missing = dir.path().join("missing.pem");
    let e = EmailChannel::new(config(Security::StartTls, missing))
        .err()
        .expect("refused");
    assert!(e.contains("cannot read"), "{e}");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    let e = EmailChannel::new(config(Security::Tls, empty))
        .err()
        .expect("refused");
    assert!(e.contains("holds no PEM certificate"), "{e}");
    let pki = TestPki::new("Riverside test CA");
    let e = EmailChannel::new(config(Security::Plain, pki.write_ca(dir.path())))
        .err()
        .expect("refused");
    assert!(e.contains("needs TLS"), "{e}");
}
