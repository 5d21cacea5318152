//! What may be said about a database URL: the server it names, why a
//! connection failed, and never the password.

use sqlx::postgres::PgConnectOptions;

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
