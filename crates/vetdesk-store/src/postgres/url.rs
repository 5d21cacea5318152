//! What may be said about a database URL: the server it names, why a
//! connection failed, and never the password; and which TLS it asks for.

use crate::error::TlsProblem;
use crate::StoreError;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// The TLS a connection gets when neither the URL (`sslmode=`) nor the
/// environment (`PGSSLMODE`) says: a server on this machine keeps libpq's
/// default (`prefer`); any other host gets `verify-full` — encrypted, and the
/// certificate must chain to a trusted root (the public ones, or the URL's
/// `sslrootcert=`) and name the host. `None`: keep what the options say.
pub(super) fn default_ssl_mode(
    url: &str,
    opts: &PgConnectOptions,
    env_sslmode: Option<&str>,
) -> Option<PgSslMode> {
    let said = env_sslmode.is_some_and(|m| !m.trim().is_empty())
        || query_keys(url).any(|k| k == "sslmode" || k == "ssl-mode");
    (!said && !is_local(opts)).then_some(PgSslMode::VerifyFull)
}

/// A Unix socket, `localhost`, or a loopback address.
fn is_local(opts: &PgConnectOptions) -> bool {
    if opts.get_socket().is_some() {
        return true;
    }
    let host = opts.get_host();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.starts_with('/')
        || bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

fn query_keys(url: &str) -> impl Iterator<Item = &str> {
    let query = url
        .split_once('?')
        .map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
    query
        .split('&')
        .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k))
}

/// libpq's name for a mode, as a person writes it in the URL.
pub(super) fn ssl_mode_name(mode: PgSslMode) -> &'static str {
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}

/// A failed connection that failed at TLS, as [`StoreError::Tls`].
pub(super) fn tls_failure(e: &sqlx::Error, server: &str, mode: PgSslMode) -> Option<StoreError> {
    let problem = match e {
        // sqlx's words when the server answers the SSLRequest with "N".
        sqlx::Error::Tls(cause) if cause.to_string().contains("does not support TLS") => {
            TlsProblem::NotOffered
        }
        sqlx::Error::Tls(cause) => TlsProblem::Handshake(cause.to_string()),
        // rustls's refusals (an untrusted certificate, a wrong name) reach sqlx
        // through tokio-rustls as invalid data on the socket.
        sqlx::Error::Io(io)
            if io.kind() == std::io::ErrorKind::InvalidData
                && !matches!(mode, PgSslMode::Disable) =>
        {
            TlsProblem::Handshake(io.to_string())
        }
        _ => return None,
    };
    Some(StoreError::Tls {
        server: server.to_string(),
        sslmode: ssl_mode_name(mode),
        problem,
    })
}

/// `user@host:port/database`: enough to tell which server was meant, nothing secret.
pub(super) fn server_name(opts: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        opts.get_username(),
        opts.get_host(),
        opts.get_port(),
        opts.get_database().unwrap_or(opts.get_username())
    )
}

pub(super) fn connect_failure(e: &sqlx::Error, user: &str) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // invalid_authorization_specification, invalid_password
            Some("28000") | Some("28P01") => {
                format!("the server refused role {user:?}: {}", db.message())
            }
            Some("3D000") => format!("no such database: {}", db.message()),
            _ => db.message().to_string(),
        },
        sqlx::Error::Io(io) => format!("cannot connect: {io}"),
        other => other.to_string(),
    }
}

/// A database URL fit to print: any password it carries masked.
pub fn redact_url(url: &str) -> String {
    redact(url.to_string(), &url_secrets(url))
}

/// The passwords a URL carries: `postgres://user:password@host/…`, `?password=…`.
pub(super) fn url_secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some((_, rest)) = url.split_once("://") else {
        return out;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((_, password)) = authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
    {
        out.push(password.to_string());
    }
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or("");
        out.extend(
            query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .filter(|(k, _)| k.eq_ignore_ascii_case("password"))
                .map(|(_, v)| v.to_string()),
        );
    }
    out.retain(|p| !p.is_empty());
    out
}

/// `msg` with every appearance of the secrets (as written, and percent-decoded) masked.
pub(super) fn redact(mut msg: String, secrets: &[String]) -> String {
    for raw in secrets {
        msg = msg.replace(raw.as_str(), "***");
        let decoded = percent_decode(raw);
        if !decoded.is_empty() {
            msg = msg.replace(&decoded, "***");
        }
    }
    msg
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn mode(url: &str, env: Option<&str>) -> &'static str {
        let opts = PgConnectOptions::from_str(url).expect("a URL");
        ssl_mode_name(default_ssl_mode(url, &opts, env).unwrap_or(opts.get_ssl_mode()))
    }

    #[test]
    fn another_host_gets_verify_full_unless_the_url_says_otherwise() {
        // This machine keeps the default: prefer, or what the URL says.
        for local in [
            "postgres://u@localhost/db",
            "postgres://u@127.0.0.1:5432/db",
            "postgres://u@127.0.0.2/db",
            "postgres://u@[::1]:5432/db",
            "postgres:///db?host=/var/run/postgresql",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/db",
        ] {
            assert_eq!(mode(local, None), "prefer", "{local}");
        }
        assert_eq!(
            mode("postgres://u@127.0.0.1/db?sslmode=disable", None),
            "disable"
        );
        // Any other host: verify-full, with the URL's sslrootcert if it has one.
        for remote in [
            "postgres://u:p@db.example:5432/db",
            "postgres://u@192.168.1.20/db",
            "postgres://u@[2001:db8::5]/db",
            "postgresql://u@db.example/db?sslrootcert=/etc/vetdesk/ca.pem",
        ] {
            assert_eq!(mode(remote, None), "verify-full", "{remote}");
        }
        // What the URL or PGSSLMODE says is kept, on any host.
        assert_eq!(
            mode("postgres://u@db.example/db?sslmode=require", None),
            "require"
        );
        assert_eq!(
            mode(
                "postgres://u@db.example/db?application_name=x&sslmode=disable",
                None
            ),
            "disable"
        );
        assert_eq!(
            mode("postgres://u@db.example/db?ssl-mode=verify-ca", None),
            "verify-ca"
        );
        assert!(default_ssl_mode(
            "postgres://u@db.example/db",
            &PgConnectOptions::from_str("postgres://u@db.example/db").expect("URL"),
            Some("require")
        )
        .is_none());
        let opts = PgConnectOptions::from_str("postgres://u@db.example/db?sslrootcert=/ca.pem")
            .expect("sslrootcert is understood");
        assert_eq!(opts.get_host(), "db.example");
    }

    #[test]
    fn urls_print_without_their_passwords() {
        assert_eq!(
            redact_url("postgres://desk:s3cret@db.example:5432/vetdesk"),
            "postgres://desk:***@db.example:5432/vetdesk"
        );
        assert_eq!(
            redact_url("postgres://desk@db.example/vetdesk?password=s3cret&sslmode=require"),
            "postgres://desk@db.example/vetdesk?password=***&sslmode=require"
        );
        assert_eq!(redact_url("/home/desk/vetdesk.db"), "/home/desk/vetdesk.db");
    }

    #[test]
    fn the_password_never_reaches_a_message() {
        let url = "postgres://nobody:s3%21cret@db.example:5432/vetdesk?password=other";
        let secrets = url_secrets(url);
        assert_eq!(secrets, ["s3%21cret", "other"]);
        let msg = redact(format!("could not use {url} with s3!cret"), &secrets);
        assert!(
            !msg.contains("s3%21cret") && !msg.contains("s3!cret") && !msg.contains("other"),
            "{msg}"
        );
        assert!(url_secrets("postgres://nobody@db.example/vetdesk").is_empty());
        assert_eq!(url_secrets("postgres://u:p@w@host/db"), ["p@w"]);
        assert!(url_secrets("not a url").is_empty());
    }
}
