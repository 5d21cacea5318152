//! The secrets' read path against a real OS keyring: a private D-Bus session
//! bus and gnome-keyring-daemon (the Secret Service a Linux desktop runs),
//! unlocked with a password on stdin, in a temporary home. Before the Secret
//! Service is up, the same calls show the fallback: a typed "no keyring"
//! error, and the environment alone counts.
//!
//! This file holds one test on purpose: it points this process's
//! `DBUS_SESSION_BUS_ADDRESS` at its own bus, which no other test may see.
//! Without `dbus-daemon` or `gnome-keyring-daemon` (`apt-get install dbus
//! gnome-keyring`; `scripts/test` installs them) the Secret Service half says
//! it was skipped, unless `VETDESK_REQUIRE_KEYRING=1`, which makes it fail.

use secrecy::ExposeSecret;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vetdesk_app::{Outgoing, Recipient};
use vetdesk_core::{MessageChannel, MessageKind, OutboxId, Rendered};
use vetdesk_notify::secrets::{self, SecretError, Source};
use vetdesk_notify::{Channel, EmailChannel, Security, SmtpConfig};
use vetdesk_test_peers::SmtpSink;

/// Processes this test started, stopped when it ends however it ends.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A session bus of our own (no service activation, so nothing starts behind
/// the test's back); returns its address.
fn start_bus(dir: &Path, children: &mut Children) -> String {
    let config = dir.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            dir.join("bus").display()
        ),
    )
    .expect("write the bus configuration");
    let mut bus = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start dbus-daemon");
    let mut address = String::new();
    let stdout = bus.stdout.take().expect("its stdout");
    children.0.push(bus);
    BufReader::new(stdout)
        .read_line(&mut address)
        .expect("dbus-daemon prints its address");
    address.trim().to_string()
}

/// gnome-keyring-daemon's Secret Service on `bus`, with its login keyring in
/// `home`, created and unlocked with a password given on stdin.
fn start_secret_service(home: &Path, bus: &str, children: &mut Children) {
    let runtime = home.join("run");
    std::fs::create_dir_all(&runtime).expect("runtime dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700));
    }
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gnome-keyring-daemon");
    let mut stdin = daemon.stdin.take().expect("its stdin");
    stdin
        .write_all(b"vetdesk-test-login")
        .expect("give the login password");
    drop(stdin);
    children.0.push(daemon);
}

fn outgoing() -> Outgoing {
    Outgoing {
        id: OutboxId(uuid::Uuid::from_u128(9)),
        key: "0190cccc.confirmation.email.v1".into(),
        kind: MessageKind::Confirmation,
        channel: MessageChannel::Email,
        to: Recipient {
            address: "olivia@example.com".into(),
            name: "Olivia Smith".into(),
        },
        clinic: "Riverside".into(),
        rendered: Rendered {
            subject: Some("Booked".into()),
            text: "Booked.".into(),
            html: None,
        },
        ics: None,
    }
}

const VAR: &str = "VETDESK_TEST_KEYRING_SMTP_PASSWORD";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_come_from_a_real_secret_service_and_the_environment_wins() {
    // No bus at all: a typed error, and the environment alone counts.
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/vetdesk-no-bus",
    );
    std::env::remove_var(VAR);
    match secrets::from_keyring("smtp-password").await {
        Err(SecretError::NoKeyring(_)) => {}
        other => panic!("expected NoKeyring without a bus, got {other:?}"),
    }
    match secrets::store("smtp-password", "x".to_string().into()).await {
        Err(e @ SecretError::NoKeyring(_)) => {
            assert!(e.to_string().contains("environment"), "{e}")
        }
        other => panic!("expected NoKeyring without a bus, got {other:?}"),
    }
    assert!(secrets::lookup("smtp-password", VAR).await.is_none());
    std::env::set_var(VAR, "from-the-environment");
    let (s, source) = secrets::lookup("smtp-password", VAR)
        .await
        .expect("the environment");
    assert_eq!(
        (s.expose_secret(), source),
        ("from-the-environment", Source::Environment)
    );
    std::env::remove_var(VAR);

    let missing: Vec<&str> = ["dbus-daemon", "gnome-keyring-daemon"]
        .into_iter()
        .filter(|p| !installed(p))
        .collect();
    if !missing.is_empty() {
        let say = format!(
            "the Secret Service half of this test needs {} (apt-get install dbus gnome-keyring)",
            missing.join(" and ")
        );
        assert!(
            std::env::var("VETDESK_REQUIRE_KEYRING").as_deref() != Ok("1"),
            "{say}"
        );
        eprintln!("SKIPPED: {say}");
        return;
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let mut children = Children(Vec::new());
    let bus = start_bus(dir.path(), &mut children);
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus);

    // A bus with no Secret Service on it: still the typed error.
    match secrets::from_keyring("smtp-password").await {
        Err(SecretError::NoKeyring(_)) => {}
        other => panic!("expected NoKeyring on a bus without a Secret Service, got {other:?}"),
    }

    start_secret_service(dir.path(), &bus, &mut children);
    // Store through the keyring once the daemon has claimed its name.
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        match secrets::store("smtp-password", "s3cret-from-keyring".to_string().into()).await {
            Ok(()) => break,
            Err(e) if Instant::now() < until => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("gnome-keyring-daemon did not take the secret: {e}"),
        }
    }
    // What the daemon keeps on disk is its encrypted keyring, not the secret.
    let keyrings = dir.path().join("data").join("keyrings");
    let files: Vec<_> = std::fs::read_dir(&keyrings)
        .expect("gnome-keyring wrote its keyrings")
        .filter_map(Result::ok)
        .collect();
    assert!(!files.is_empty());
    for f in &files {
        let bytes = std::fs::read(f.path()).unwrap_or_default();
        assert!(
            !bytes
                .windows(b"s3cret-from-keyring".len())
                .any(|w| w == b"s3cret-from-keyring"),
            "{} holds the secret in clear",
            f.path().display()
        );
    }

    // Read back: from the keyring, and the environment still wins.
    let got = secrets::from_keyring("smtp-password")
        .await
        .expect("the keyring answers")
        .expect("the entry is there");
    assert_eq!(got.expose_secret(), "s3cret-from-keyring");
    assert!(secrets::from_keyring("sms-token")
        .await
        .expect("the keyring answers")
        .is_none());
    let (s, source) = secrets::lookup("smtp-password", VAR)
        .await
        .expect("the keyring");
    assert_eq!(
        (s.expose_secret(), source),
        ("s3cret-from-keyring", Source::Keyring)
    );
    std::env::set_var(VAR, "from-the-environment");
    let (s, source) = secrets::lookup("smtp-password", VAR)
        .await
        .expect("the environment");
    assert_eq!(
        (s.expose_secret(), source),
        ("from-the-environment", Source::Environment)
    );
    std::env::remove_var(VAR);

    // The password read from the keyring signs in to an SMTP server that checks it.
    let sink = SmtpSink::start(Some(("desk", "s3cret-from-keyring"))).await;
    let (password, _) = secrets::lookup("smtp-password", VAR)
        .await
        .expect("the keyring");
    let email = EmailChannel::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port(),
        security: Security::Plain,
        username: Some("desk".into()),
        password: Some(password),
        from: "desk@riverside.test".into(),
        timeout: Duration::from_secs(5),
        reuse_connection: true,
        ca_file: None,
    })
    .expect("channel");
    email.send(&outgoing()).await.expect("signed in and sent");
    assert_eq!(sink.received()[0].authenticated_as.as_deref(), Some("desk"));
}
