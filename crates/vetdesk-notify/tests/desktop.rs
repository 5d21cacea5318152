//! The desktop channel against a session bus that never answers: a real
//! Unix socket that takes the connection and says nothing, so notify-rust's
//! D-Bus handshake blocks for good. The channel gives up after its timeout
//! (a transient failure, retried later), and while that blocked call has not
//! returned, the next notification fails at once instead of blocking another
//! thread.
//!
//! This file holds one test on purpose: it points this process's
//! `DBUS_SESSION_BUS_ADDRESS` at its own socket, which no other test may see.

use std::time::{Duration, Instant};
use tokio::net::UnixListener;
use vetdesk_app::{Outgoing, Recipient};
use vetdesk_core::{MessageChannel, MessageKind, OutboxId, Rendered};
use vetdesk_notify::{Channel, DesktopChannel, SendError};

fn checked_in() -> Outgoing {
    Outgoing {
        id: OutboxId(uuid::Uuid::from_u128(7)),
        key: "0190bbbb.checked-in.desktop.v2".into(),
        kind: MessageKind::CheckedIn,
        channel: MessageChannel::Desktop,
        to: Recipient {
            address: "vet".into(),
            name: "Dr Alice".into(),
        },
        clinic: "Riverside".into(),
        rendered: Rendered {
            subject: Some("Biscuit has arrived".into()),
            text: "Biscuit (Olivia Smith) is checked in.".into(),
            html: None,
        },
        ics: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_service_that_never_answers_times_out_and_blocks_nothing_else() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bus");
    let listener = UnixListener::bind(&path).expect("bind the bus socket");
    // Take every connection and keep it, silent.
    let accepted = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", path.display()),
    );
    let channel = DesktopChannel::new(Duration::from_millis(500));

    let started = Instant::now();
    let first = channel.send(&checked_in()).await;
    let took = started.elapsed();
    match first {
        Err(SendError::Transient(e)) => assert!(e.contains("did not answer within 0.5 s"), "{e}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "gave up after {took:?}"
    );

    // The first call's thread is still stuck in the handshake: the next one
    // fails at once rather than leave a second thread stuck beside it.
    let started = Instant::now();
    match channel.send(&checked_in()).await {
        Err(SendError::Transient(e)) => {
            assert!(
                e.contains("has not yet answered an earlier notification"),
                "{e}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(100));

    // Without the timeout this is what the worker would wait on: the call
    // still has not returned after several times the channel's timeout.
    tokio::time::sleep(Duration::from_secs(1)).await;
    match channel.send(&checked_in()).await {
        Err(SendError::Transient(e)) => {
            assert!(
                e.contains("has not yet answered an earlier notification"),
                "{e}"
            )
        }
        other => panic!("the bus never answered, yet: {other:?}"),
    }
    accepted.abort();
}
