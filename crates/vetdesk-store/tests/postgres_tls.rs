//! PostgreSQL over TLS: a server that does not offer it is a typed error that
//! names `sslmode`; `require` and `verify-full` really encrypt; a certificate
//! nobody vouches for is refused with a word about `sslrootcert`.
//!
//! The server that refuses TLS is a stand-in on loopback that answers the
//! SSLRequest with `N`, as PostgreSQL with `ssl = off` does, so the shared
//! server's settings are never touched. The rest use the server named by
//! `VETDESK_TEST_POSTGRES_URL` (Debian's runs with `ssl = on` and its snakeoil
//! certificate for `localhost`) and say so on stderr when it is not set.

use sqlx::Row;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vetdesk_store::{PgStore, StoreError, TlsProblem};

#[allow(dead_code)] // `fresh` is for the other test binaries
mod support;
use support::{server_url, TestDb};

/// Debian's self-signed certificate for `localhost`, which its PostgreSQL serves.
const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

fn with_params(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

/// A "PostgreSQL" on loopback that declines TLS: reads the 8-byte SSLRequest
/// and answers `N`. Its port.
async fn server_without_tls() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut request = [0u8; 8];
            if conn.read_exact(&mut request).await.is_ok() {
                // Length 8, then the SSLRequest code 80877103.
                assert_eq!(request, [0, 0, 0, 8, 4, 210, 22, 47], "an SSLRequest");
                let _ = conn.write_all(b"N").await;
            }
        }
    });
    port
}

#[tokio::test]
async fn a_server_without_tls_is_a_typed_error_that_names_sslmode() {
    let port = server_without_tls().await;
    for mode in ["require", "verify-ca", "verify-full"] {
        let url = format!("postgres://clinic:s3cret@127.0.0.1:{port}/vetdesk?sslmode={mode}");
        let err = PgStore::connect(&url)
            .await
            .err()
            .expect("no TLS to be had");
        let StoreError::Tls {
            ref server,
            sslmode,
            ref problem,
        } = err
        else {
            panic!("{mode}: {err:?}");
        };
        assert_eq!(sslmode, mode);
        assert_eq!(problem, &TlsProblem::NotOffered);
        assert!(server.contains(&format!("127.0.0.1:{port}")), "{server}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("sslmode={mode}")), "{msg}");
        assert!(msg.contains("does not offer TLS"), "{msg}");
        assert!(!msg.contains("s3cret"), "{msg}");
    }
}

#[tokio::test]
async fn require_and_verify_full_encrypt_and_an_unvouched_certificate_is_refused() {
    let Some(server) = server_url() else {
        return;
    };
    let ssl_on = {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&with_params(&server, "sslmode=disable"))
            .await
            .expect("connect");
        let on: String = sqlx::query_scalar("SHOW ssl")
            .fetch_one(&mut admin)
            .await
            .expect("SHOW ssl");
        on == "on"
    };
    let db = TestDb::create(&server).await;
    if !ssl_on {
        // The server itself has no TLS: require is the clear error above.
        let err = PgStore::connect(&with_params(&db.url, "sslmode=require"))
            .await
            .err()
            .expect("no TLS");
        assert!(matches!(err, StoreError::Tls { .. }), "{err:?}");
        return;
    }

    // sslmode=require: encrypted (the server's own view of this session).
    let store = PgStore::connect(&with_params(&db.url, "sslmode=require"))
        .await
        .expect("TLS to the local server");
    let row = sqlx::query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .expect("pg_stat_ssl");
    assert!(row.get::<bool, _>("ssl"), "the session is encrypted");
    drop(store);

    // verify-full with no root that vouches for a self-signed certificate.
    let err = PgStore::connect(&with_params(&db.url, "sslmode=verify-full"))
        .await
        .err()
        .expect("an untrusted certificate");
    assert!(
        matches!(
            &err,
            StoreError::Tls {
                sslmode: "verify-full",
                problem: TlsProblem::Handshake(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("sslrootcert"), "{err}");

    // verify-full trusting the server's certificate, by the name it carries.
    if std::path::Path::new(SNAKEOIL).is_file() && db.url.contains("@127.0.0.1:") {
        let by_name = db.url.replacen("@127.0.0.1:", "@localhost:", 1);
        let url = with_params(
            &by_name,
            &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
        );
        let store = PgStore::connect(&url)
            .await
            .expect("verify-full with the server's certificate as root");
        let ssl: bool =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(store.pool())
                .await
                .expect("pg_stat_ssl");
        assert!(ssl);
    }
}
