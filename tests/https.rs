//! `vetdesk serve` over HTTPS, as a clinic starts it: the real binary on
//! loopback, real TLS, and a client that trusts only the certificate the
//! server made (what a paired workstation does with the fingerprint).

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A database in a folder of its own.
struct Clinic {
    dir: TempDir,
    db: PathBuf,
}

impl Clinic {
    fn new() -> Clinic {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("clinic.db");
        let c = Clinic { dir, db };
        let out = c.command(&["init"]).output().expect("vetdesk init");
        assert!(out.status.success(), "{out:?}");
        c
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vetdesk"));
        cmd.arg("--db").arg(&self.db).args(args);
        for var in [
            "VETDESK_DATABASE_URL",
            "VETDESK_TLS",
            "VETDESK_TLS_CERT",
            "VETDESK_TLS_KEY",
            "VETDESK_TLS_DIR",
            "VETDESK_INSECURE_HTTP",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("VETDESK_LOG", "warn").env("USER", "tester");
        cmd
    }

    /// Where `vetdesk serve` keeps the certificate it makes: beside the database.
    fn tls_dir(&self) -> PathBuf {
        self.dir.path().join("clinic.db.tls")
    }

    /// `vetdesk serve` with `args`, once it says where it listens.
    fn serve(&self, args: &[&str]) -> Served {
        let mut all = vec!["serve", "--no-ui", "--no-worker"];
        all.extend_from_slice(args);
        let mut child = self
            .command(&all)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start vetdesk serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut said = Vec::new();
        let listening = loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => panic!("vetdesk serve stopped before listening: {said:?}"),
            };
            said.push(line.clone());
            if let Some((_, rest)) = line.split_once("listening on ") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
        };
        let fingerprint = said.iter().find_map(|l| {
            l.strip_prefix("TLS certificate SHA-256 fingerprint: ")
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string)
        });
        Served {
            child,
            base: listening,
            said,
            fingerprint,
        }
    }

    /// `vetdesk server-info --json`.
    fn server_info(&self) -> Value {
        let out = self
            .command(&["--json", "server-info"])
            .output()
            .expect("server-info");
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).expect("JSON")
    }
}

struct Served {
    child: Child,
    /// `https://127.0.0.1:PORT` (or http://…).
    base: String,
    /// Everything it printed up to listening.
    said: Vec<String>,
    fingerprint: Option<String>,
}

impl Served {
    fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port")
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that trusts this certificate and nothing else.
fn trusting(cert: &Path) -> reqwest::Client {
    let pem = std::fs::read(cert).expect("the certificate");
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// `GET https://HOST:PORT/api/v1/health` trusting only `cert`: the status, or why not.
async fn health(cert: &Path, host: &str, port: u16) -> Result<u16, String> {
    trusting(cert)
        .get(format!("https://{host}:{port}/api/v1/health"))
        .send()
        .await
        .map(|res| res.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

/// SHA-256 of the certificate's DER, computed here, as colon-separated hex.
fn der_sha256(cert: &Path) -> String {
    let der = CertificateDer::from_pem_file(cert).expect("a PEM certificate");
    Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[tokio::test]
async fn a_made_certificate_serves_https_is_pinned_by_its_fingerprint_and_is_kept() {
    let clinic = Clinic::new();
    let served = clinic.serve(&["--bind", "127.0.0.1:0", "--tls", "on"]);
    assert!(served.base.starts_with("https://"), "{:?}", served.said);
    let cert = clinic.tls_dir().join("cert.pem");

    // The fingerprint printed is the certificate's, and server-info shows the same.
    let printed = served.fingerprint.clone().expect("a fingerprint line");
    assert_eq!(printed, der_sha256(&cert));
    let info = clinic.server_info();
    assert_eq!(info["fingerprint_sha256"], printed.as_str());
    assert_eq!(info["origin"], "made");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = std::fs::metadata(clinic.tls_dir().join("key.pem")).expect("the key");
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }

    // A client that trusts only this certificate gets its answer over HTTPS.
    let port = served.port();
    for host in ["localhost", "127.0.0.1"] {
        assert_eq!(health(&cert, host, port).await, Ok(200), "{host}");
    }
    // Plain HTTP to the same port gets nothing.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let err = plain
        .get(format!("http://127.0.0.1:{port}/api/v1/health"))
        .send()
        .await;
    assert!(err.is_err(), "plain HTTP to the TLS port: {err:?}");
    // A client that trusts the usual public roots refuses the self-signed certificate.
    let public = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    assert!(public
        .get(format!("https://localhost:{port}/api/v1/health"))
        .send()
        .await
        .is_err());
    served.stop();

    // The next start keeps the same certificate: what was pinned still holds.
    let before = std::fs::read(&cert).expect("cert");
    let again = clinic.serve(&["--bind", "127.0.0.1:0", "--tls", "on"]);
    assert_eq!(again.fingerprint.as_deref(), Some(printed.as_str()));
    assert!(
        again.said.iter().any(|l| l.contains("kept in")),
        "{:?}",
        again.said
    );
    assert_eq!(std::fs::read(&cert).expect("cert"), before);
    assert_eq!(health(&cert, "localhost", again.port()).await, Ok(200));
    again.stop();

    // The same files given as --tls-cert / --tls-key to another clinic's server.
    let other = Clinic::new();
    let key = clinic.tls_dir().join("key.pem");
    let given = other.serve(&[
        "--bind",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().expect("UTF-8"),
        "--tls-key",
        key.to_str().expect("UTF-8"),
    ]);
    assert!(given.base.starts_with("https://"), "{:?}", given.said);
    assert_eq!(given.fingerprint.as_deref(), Some(printed.as_str()));
    assert!(!other.tls_dir().exists(), "nothing made when one is given");
    assert_eq!(health(&cert, "localhost", given.port()).await, Ok(200));
}

#[test]
fn plain_http_on_a_network_address_is_refused_unless_asked_for_by_name() {
    let clinic = Clinic::new();
    let out = clinic
        .command(&[
            "serve",
            "--no-ui",
            "--no-worker",
            "--bind",
            "0.0.0.0:0",
            "--tls",
            "off",
        ])
        .output()
        .expect("serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing plain HTTP on 0.0.0.0:0"),
        "{stderr}"
    );
    assert!(stderr.contains("--insecure-http"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));

    // Loopback stays plain HTTP by default, as the scripts and UI tests expect.
    let local = clinic.serve(&["--bind", "127.0.0.1:0"]);
    assert!(local.base.starts_with("http://"), "{:?}", local.said);
    assert!(local.fingerprint.is_none());
    assert!(!clinic.tls_dir().exists());
    local.stop();
    // Asked for by name, plain HTTP on any address.
    let insecure = clinic.serve(&["--bind", "0.0.0.0:0", "--insecure-http"]);
    assert!(insecure.base.starts_with("http://"), "{:?}", insecure.said);
}

#[test]
fn server_info_says_when_no_certificate_was_made_yet() {
    let clinic = Clinic::new();
    let out = clinic
        .command(&["server-info"])
        .output()
        .expect("server-info");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no certificate"), "{stderr}");
    assert!(!clinic.tls_dir().exists(), "server-info never makes one");
}

#[tokio::test]
async fn a_stalled_tls_handshake_gives_its_connection_slot_back() {
    use tokio::io::AsyncReadExt;
    let clinic = Clinic::new();
    let served = clinic.serve(&[
        "--bind",
        "127.0.0.1:0",
        "--tls",
        "on",
        "--max-connections",
        "1",
        "--header-timeout-secs",
        "1",
    ]);
    let port = served.port();
    // Connects, and never says hello: it holds the only slot until the deadline.
    let mut stalled = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let started = Instant::now();
    let served_after = health(&clinic.tls_dir().join("cert.pem"), "localhost", port).await;
    assert_eq!(
        served_after,
        Ok(200),
        "once the stalled handshake timed out"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // The stalled client was cut off.
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), stalled.read(&mut buf))
        .await
        .expect("closed, not left hanging");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}
