//! `vetdesk serve` and `vetdesk server-info`: the HTTP API and the built UI
//! over the application, HTTPS unless on loopback (see [`Transport::choose`]),
//! and the certificate's fingerprint for pairing.

use super::{notify, Ctx, Reply};
use crate::cli::{NotifyArgs, ServerArgs, TlsArgs, TlsMode};
use crate::error::{Failure, Result};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use vetdesk_app::ErrorCode;
use vetdesk_http::tls::{Fingerprint, Identity, Origin};

/// What `vetdesk serve` was asked, besides the worker's options.
pub struct Options {
    pub bind: String,
    pub ui: Option<PathBuf>,
    pub no_ui: bool,
    /// `--allow-owner-role`: serve even as a PostgreSQL role that could rewrite the audit log.
    pub allow_owner_role: bool,
    pub server: ServerArgs,
    pub tls: TlsArgs,
}

/// How the server speaks to its clients.
#[derive(Debug, PartialEq, Eq)]
enum Transport {
    Plain,
    /// HTTPS with `--tls-cert` / `--tls-key`.
    Given {
        cert: PathBuf,
        key: PathBuf,
    },
    /// HTTPS with the certificate vetdesk makes once and keeps.
    Made,
}

impl Transport {
    /// Plain HTTP only on loopback or when asked for by name; HTTPS otherwise.
    fn choose(addr: SocketAddr, tls: &TlsArgs) -> Result<Transport> {
        let loopback = addr.ip().to_canonical().is_loopback();
        let given = match (&tls.tls_cert, &tls.tls_key) {
            (Some(cert), Some(key)) => Some(Transport::Given {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        };
        if tls.insecure_http {
            // clap already refuses it beside --tls-cert / --tls-key.
            return match tls.tls {
                TlsMode::On => Err(Failure::invalid(
                    "--insecure-http asks for plain HTTP and --tls on for HTTPS; give one of them",
                )),
                TlsMode::Auto | TlsMode::Off => Ok(Transport::Plain),
            };
        }
        match (tls.tls, given) {
            (TlsMode::Off, Some(_)) => Err(Failure::invalid(
                "--tls off with --tls-cert: leave out --tls off to serve HTTPS with that certificate",
            )),
            (_, Some(given)) => Ok(given),
            (TlsMode::On, None) => Ok(Transport::Made),
            (TlsMode::Auto, None) if !loopback => Ok(Transport::Made),
            (TlsMode::Auto | TlsMode::Off, None) if loopback => Ok(Transport::Plain),
            (_, None) => Err(Failure::invalid(format!(
                "refusing plain HTTP on {addr}, which is not a loopback address: passwords and \
                 client records would cross the network readable by anyone on it. Leave out \
                 --tls off (vetdesk then makes a self-signed certificate), give --tls-cert and \
                 --tls-key, or say --insecure-http (behind a TLS proxy)"
            ))),
        }
    }
}

/// The folder vetdesk keeps its own certificate in: `--tls-dir`; else beside a
/// SQLite file (`vetdesk.db` → `vetdesk.db.tls/`); else `tls/` in the OS data
/// folder (PostgreSQL, or a database in memory).
fn tls_dir(ctx: &Ctx, given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = given {
        return Ok(dir);
    }
    if let Some(file) = vetdesk_store::database_file(&ctx.database) {
        let mut name = file.file_name().unwrap_or_default().to_os_string();
        name.push(".tls");
        return Ok(file.with_file_name(name));
    }
    let dirs = directories::ProjectDirs::from("org", "vetdesk", "vetdesk").ok_or_else(|| {
        Failure::invalid("cannot find a data folder for the certificate; pass --tls-dir")
    })?;
    Ok(dirs.data_dir().join("tls"))
}

/// The names a made certificate is for: this machine's, loopback, and the
/// bound address when it is a particular one. Workstations pin the
/// fingerprint, so a name missing here (a later --bind) does not break them.
fn certificate_names(addr: SocketAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    if let Some(host) = hostname::get().ok().and_then(|h| h.into_string().ok()) {
        let host = host.trim().to_ascii_lowercase();
        if !host.is_empty() && host != "localhost" {
            names.push(host);
        }
    }
    names.extend(["127.0.0.1".to_string(), "::1".to_string()]);
    let ip = addr.ip().to_canonical();
    if !ip.is_unspecified() && !ip.is_loopback() {
        names.push(ip.to_string());
    }
    names
}

fn tls_failure(e: vetdesk_http::TlsError) -> Failure {
    Failure::invalid(format!("HTTPS: {e}"))
}

/// A built UI where one is usually found: `ui/` beside the binary (an
/// installed copy), or `ui/dist` of the source tree it was built from.
fn built_ui() -> Option<vetdesk_http::ui::UiDir> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("ui")));
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/dist");
    beside
        .into_iter()
        .chain([source])
        .find_map(|dir| vetdesk_http::ui::UiDir::new(dir).ok())
}

/// The HTTP server's configuration from `vetdesk serve`'s options.
fn server_config(args: ServerArgs) -> Result<vetdesk_http::ServerConfig> {
    use std::time::Duration;
    let trusted_proxies =
        vetdesk_http::TrustedProxies::parse(args.trusted_proxies.iter().map(String::as_str))
            .map_err(|e| Failure::invalid(format!("--trusted-proxy: {e}")))?;
    if args.header_timeout_secs == 0 || args.request_timeout_secs == 0 || args.max_connections == 0
    {
        return Err(Failure::invalid(
            "--header-timeout-secs, --request-timeout-secs and --max-connections must be above 0",
        ));
    }
    Ok(vetdesk_http::ServerConfig {
        trusted_proxies,
        limits: vetdesk_http::Limits {
            header_timeout: Duration::from_secs(args.header_timeout_secs),
            request_timeout: Duration::from_secs(args.request_timeout_secs),
            max_connections: args.max_connections,
            ..Default::default()
        },
        ..Default::default()
    })
}

/// What is said about the certificate when the server starts.
fn certificate_line(identity: &Identity) -> String {
    let whence = match identity.origin() {
        Origin::Given { cert } => format!("from {}", cert.display()),
        Origin::Made {
            cert,
            created: true,
        } => format!("self-signed, made now: {}", cert.display()),
        Origin::Made {
            cert,
            created: false,
        } => format!("self-signed, kept in {}", cert.display()),
    };
    format!(
        "TLS certificate SHA-256 fingerprint: {} ({whence})",
        identity.fingerprint()
    )
}

/// `vetdesk serve`: the HTTP API over the same application, and the built
/// calendar UI when there is one, until Ctrl-C; with the notification worker
/// and the daily backup as background tasks.
pub async fn serve(ctx: &Ctx, options: Options, notify: Option<NotifyArgs>) -> Result<Reply> {
    let Options {
        bind,
        ui,
        no_ui,
        allow_owner_role,
        server,
        tls,
    } = options;
    check_role(ctx, allow_owner_role).await?;
    let idle = (server.session_idle_mins > 0)
        .then(|| chrono::Duration::minutes(i64::from(server.session_idle_mins)));
    let app = ctx
        .app
        .with_session_policy(idle, ctx.app.settings().stream_recheck);
    let mut config = server_config(server)?;
    let addr: SocketAddr = bind.trim().parse().map_err(|_| {
        Failure::invalid(format!(
            "--bind {bind:?} is not an address and port such as 127.0.0.1:8080"
        ))
    })?;
    let identity = match Transport::choose(addr, &tls)? {
        Transport::Plain => None,
        Transport::Given { cert, key } => {
            Some(Identity::from_pem_files(&cert, &key).map_err(tls_failure)?)
        }
        Transport::Made => {
            let dir = tls_dir(ctx, tls.tls_dir)?;
            Some(Identity::made_in(&dir, &certificate_names(addr)).map_err(tls_failure)?)
        }
    };
    config.tls = identity
        .as_ref()
        .map(Identity::server_tls)
        .transpose()
        .map_err(tls_failure)?;
    let ui = match ui {
        Some(dir) => {
            Some(vetdesk_http::ui::UiDir::new(dir).map_err(|e| Failure::invalid(e.to_string()))?)
        }
        None if no_ui => None,
        None => built_ui(),
    };
    let worker = match notify {
        Some(args) => notify::background_worker(ctx, args).await?,
        None => {
            tracing::info!("notification worker: off (--no-worker)");
            None
        }
    };
    // The embedded database's daily copy (a no-op on PostgreSQL).
    let backups = tokio::spawn(vetdesk_app::backups::back_up_daily(ctx.app.clone()));
    let ui_path = ui.as_ref().map(|u| u.path().display().to_string());
    let mut router = vetdesk_http::router_with(app, &config);
    if let Some(ui) = ui {
        router = vetdesk_http::ui::with_ui(router, ui);
    }
    let scheme = if identity.is_some() { "https" } else { "http" };
    let announce = |local: SocketAddr| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let what = match &ui_path {
            Some(dir) => format!("calendar at {scheme}://{local}/ (from {dir}), API at /api/v1"),
            None => "API at /api/v1; no built UI, see --ui".to_string(),
        };
        let certificate = identity
            .as_ref()
            .map(|id| format!("{}\n", certificate_line(id)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{certificate}vetdesk is listening on {scheme}://{local} ({what})"
        )
        .and_then(|()| out.flush());
    };
    let served =
        vetdesk_http::serve_router(router, addr, config.limits, config.tls.clone(), announce).await;
    backups.abort();
    if let Some((stop, task)) = worker {
        stop.stop();
        let _ = task.await;
    }
    served
        .map_err(|e| Failure::new(ErrorCode::Internal, format!("cannot serve on {addr}: {e}")))?;
    Ok(Reply {
        text: String::new(),
        code: None,
    })
}

/// Refuse to serve as a PostgreSQL role that could rewrite the audit log or
/// drop its guards (a superuser, the tables' owner, a role granted more than
/// a server needs), unless `--allow-owner-role` says so; then warn at every
/// start. A log line alone would leave the audit log's promise to whoever
/// reads logs; a refusal that names the fix keeps it by default.
async fn check_role(ctx: &Ctx, allow_owner_role: bool) -> Result<()> {
    let Some(report) = ctx
        .app
        .store()
        .role()
        .await
        .map_err(|e| Failure::from(vetdesk_app::AppError::from(e)))?
    else {
        return Ok(());
    };
    let excess = report.excess();
    if excess.is_empty() && report.may_create_in_schema {
        tracing::warn!(
            role = %report.role,
            "the PostgreSQL role may create tables in vetdesk's schema; revoke CREATE on the schema \
             from it and from PUBLIC (README, Running a clinic server)"
        );
    }
    if excess.is_empty() {
        tracing::info!(role = %report.role, "PostgreSQL runtime role: no owner rights, the audit log is append-only to it");
        return Ok(());
    }
    let why = excess.join("; ");
    if allow_owner_role {
        tracing::warn!(
            role = %report.role,
            "serving as PostgreSQL role {} although {why}: it could rewrite or delete the audit \
             log (--allow-owner-role). Serve as a runtime role: `vetdesk migrate --runtime-role ROLE`",
            report.role
        );
        return Ok(());
    }
    Err(Failure::new(
        ErrorCode::Forbidden,
        format!(
            "refusing to serve as PostgreSQL role {}: {why}, so it could rewrite or delete the \
             audit log. Serve as a runtime role instead: create one, grant it with `vetdesk migrate \
             --runtime-role ROLE` run as the owner, and put it in the database URL (README, Running \
             a clinic server); or pass --allow-owner-role for a trial",
            report.role
        ),
    ))
}

/// What `vetdesk server-info` shows.
#[derive(Serialize)]
struct ServerInfo {
    /// The certificate file.
    certificate: PathBuf,
    /// `given` (--tls-cert) or `made` (by `vetdesk serve`).
    origin: &'static str,
    /// SHA-256 of the certificate's DER encoding, as colon-separated hex.
    fingerprint_sha256: String,
}

/// `vetdesk server-info`: the certificate `vetdesk serve` uses and its
/// fingerprint. It never makes one: that is the server's first start.
pub fn server_info(ctx: &Ctx, cert: Option<PathBuf>, dir: Option<PathBuf>) -> Result<Reply> {
    let (certificate, origin) = match cert {
        Some(cert) => (cert, "given"),
        None => {
            let dir = tls_dir(ctx, dir)?;
            let cert = dir.join(vetdesk_http::tls::CERT_FILE);
            if !cert.is_file() {
                return Err(Failure::new(
                    ErrorCode::NotFound,
                    format!(
                        "no certificate in {} yet: `vetdesk serve` makes one on its first start \
                         with HTTPS (on an address other than loopback, or with --tls on)",
                        dir.display()
                    ),
                ));
            }
            (cert, "made")
        }
    };
    let fingerprint = fingerprint_of(&certificate)?;
    let info = ServerInfo {
        certificate,
        origin,
        fingerprint_sha256: fingerprint.to_string(),
    };
    ctx.reply(&info, |i| {
        format!(
            "certificate:  {} ({})\nfingerprint:  SHA-256 {}\n",
            i.certificate.display(),
            if i.origin == "made" {
                "self-signed, made by vetdesk serve"
            } else {
                "given with --tls-cert"
            },
            i.fingerprint_sha256
        )
    })
}

fn fingerprint_of(cert: &Path) -> Result<Fingerprint> {
    vetdesk_http::tls::certificate_fingerprint(cert).map_err(tls_failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(tls: TlsMode, cert: bool, insecure: bool) -> TlsArgs {
        TlsArgs {
            tls,
            tls_cert: cert.then(|| PathBuf::from("c.pem")),
            tls_key: cert.then(|| PathBuf::from("k.pem")),
            tls_dir: None,
            insecure_http: insecure,
        }
    }

    #[test]
    fn plain_http_only_on_loopback_or_when_asked_for() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        let loopback6: SocketAddr = "[::1]:8080".parse().expect("addr");
        let lan: SocketAddr = "0.0.0.0:8443".parse().expect("addr");
        let given = Transport::Given {
            cert: "c.pem".into(),
            key: "k.pem".into(),
        };
        let choose = |addr, mode, cert, insecure| {
            Transport::choose(addr, &args(mode, cert, insecure)).map_err(|f| f.message)
        };
        use TlsMode::*;
        assert_eq!(choose(loopback, Auto, false, false), Ok(Transport::Plain));
        assert_eq!(choose(loopback6, Auto, false, false), Ok(Transport::Plain));
        assert_eq!(choose(loopback, On, false, false), Ok(Transport::Made));
        assert_eq!(choose(loopback, Auto, true, false), Ok(given));
        assert_eq!(choose(lan, Auto, false, false), Ok(Transport::Made));
        assert_eq!(choose(lan, Auto, false, true), Ok(Transport::Plain));
        assert_eq!(choose(lan, Off, false, true), Ok(Transport::Plain));
        let refused = choose(lan, Off, false, false).expect_err("plain HTTP on the network");
        assert!(refused.contains("--insecure-http"), "{refused}");
        assert!(refused.contains("0.0.0.0:8443"), "{refused}");
        assert!(choose(lan, On, false, true).is_err());
        assert!(choose(lan, Off, true, false).is_err());
    }

    #[test]
    fn a_made_certificate_names_this_machine_and_a_particular_address() {
        let names = certificate_names("192.0.2.7:8443".parse().expect("addr"));
        assert!(names.iter().any(|n| n == "localhost"));
        assert!(names.iter().any(|n| n == "192.0.2.7"));
        let names = certificate_names("0.0.0.0:8443".parse().expect("addr"));
        assert!(!names.iter().any(|n| n == "0.0.0.0"));
    }
}
