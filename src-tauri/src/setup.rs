//! First start and the database setting: what the setup page
//! (`ui/desktop.html`) shows and does. Plain async functions over [`Desktop`],
//! so they are tested without a window.

use crate::config::{self, Database, DesktopSettings, PASSWORD_ENV, PASSWORD_SECRET};
use crate::error::CommandError;
use crate::Desktop;
use serde::{Deserialize, Serialize};
use vetdesk_app::{App, AppError, ErrorCode};
use vetdesk_core::Role;
use vetdesk_store::redact_url;

/// What the setup page shows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DesktopStatus {
    /// `embedded` or `postgres`.
    pub database: &'static str,
    /// Where it is, any password masked.
    pub location: String,
    /// No clinic and no user yet: the demo practice may be added.
    pub empty: bool,
    /// Someone can sign in.
    pub has_users: bool,
    /// The settings file.
    pub settings_file: String,
    /// Why the configured database is not the one in use, if it is not.
    pub problem: Option<String>,
}

/// `{ kind: "embedded" }` or `{ kind: "postgres", url, password? }`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DatabaseBody {
    Embedded,
    Postgres {
        url: String,
        password: Option<String>,
    },
}

/// What saving did.
#[derive(Debug, Serialize)]
pub struct Saved {
    pub status: DesktopStatus,
    /// Something the person should know (the password could not be kept).
    pub note: Option<String>,
}

fn kind(location: &str) -> &'static str {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        "postgres"
    } else {
        "embedded"
    }
}

pub async fn status(desktop: &Desktop) -> Result<DesktopStatus, CommandError> {
    // Owned values only across the awaits (see `save_database`).
    let (app, location, problem) = (desktop.app(), desktop.location(), desktop.problem());
    let settings_file = desktop.paths().settings_file.display().to_string();
    status_of(app, location, settings_file, problem).await
}

async fn status_of(
    app: App,
    location: String,
    settings_file: String,
    problem: Option<String>,
) -> Result<DesktopStatus, CommandError> {
    // The local operator's view: counting needs no signed-in user.
    let has_users = !app.users().await?.is_empty();
    let empty = !has_users && app.clinics().await?.is_empty();
    Ok(DesktopStatus {
        database: kind(&location),
        location,
        empty,
        has_users,
        settings_file,
        problem,
    })
}

/// Fill an empty database with the demo practice (README.md lists its users).
/// Refused once the database holds anything: it never mixes with real data.
pub async fn seed_demo(desktop: &Desktop) -> Result<DesktopStatus, CommandError> {
    if !status(desktop).await?.empty {
        return Err(AppError::Duplicate(
            "the database already holds a practice; the demo goes only into an empty one".into(),
        )
        .into());
    }
    let app = desktop.app();
    let today = vetdesk_core::time::to_local(chrono_tz::Europe::London, app.now()).date();
    let summary = vetdesk_app::demo::seed(&app, today).await?;
    tracing::info!(appointments = summary.appointments, "demo practice added");
    status(desktop).await
}

/// Who may change the database: anyone while it has no users (first start),
/// else only a signed-in admin.
async fn may_change(app: App, token: Option<String>) -> Result<(), CommandError> {
    if app.users().await?.is_empty() {
        return Ok(());
    }
    let token = token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
    if app.authenticate(token.trim()).await?.role != Role::Admin {
        return Err(CommandError::new(
            ErrorCode::Forbidden,
            "only an administrator changes which database vetdesk uses",
        ));
    }
    Ok(())
}

/// Point the app at the embedded database or a PostgreSQL server. The server
/// is tried first (nothing changes when it cannot be reached); its password
/// goes to the OS keyring, never to the settings file.
pub async fn save_database(
    desktop: std::sync::Arc<Desktop>,
    token: Option<String>,
    body: DatabaseBody,
) -> Result<Saved, CommandError> {
    // Only owned values cross the awaits below: the compiler cannot prove a
    // future holding `&Desktop` is `Send` for every lifetime (rust-lang/rust#102211).
    may_change(desktop.app(), token).await?;
    let paths = desktop.paths().clone();
    let mut note = None;
    let (settings, url) = match body {
        DatabaseBody::Embedded => {
            let settings = DesktopSettings {
                database: Database::Embedded,
            };
            let url = config::embedded_url(&paths)
                .map_err(|e| CommandError::new(ErrorCode::StoreUnavailable, e.to_string()))?;
            (settings, url)
        }
        DatabaseBody::Postgres { url, password } => {
            let (bare, in_url) =
                config::split_password(&url).map_err(|e| CommandError::invalid(e.to_string()))?;
            let password = password
                .filter(|p| !p.is_empty())
                .map(secrecy::SecretString::from)
                .or(in_url);
            let full = match &password {
                Some(p) => config::with_password(&bare, p),
                None => bare.clone(),
            };
            if let Some(p) = password {
                if let Err(e) = vetdesk_notify::secrets::store(PASSWORD_SECRET, p).await {
                    tracing::warn!(error = %e, "the database password could not be kept");
                    note = Some(format!(
                        "This computer has no keyring to keep the password in ({e}). vetdesk uses the shared database now; before it next starts, set {PASSWORD_ENV} in its environment."
                    ));
                }
            }
            (
                DesktopSettings {
                    database: Database::Postgres { url: bare },
                },
                full,
            )
        }
    };
    // Tested before anything is saved: a URL that does not open changes nothing.
    let app = open_app(url.clone()).await?;
    settings
        .save(&paths.settings_file)
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?;
    desktop.switch_to(app, redact_url(&url));
    tracing::info!(database = %redact_url(&url), "database changed");
    let settings_file = paths.settings_file.display().to_string();
    let status = status_of(desktop.app(), desktop.location(), settings_file, None).await?;
    Ok(Saved { status, note })
}

/// `App::open`, from a command. Opening runs sqlx's migrations, whose future
/// the compiler cannot prove `Send` for every lifetime (rust-lang/rust#102211),
/// which a command's future must be; so it runs to completion on a blocking
/// thread of the same runtime instead.
async fn open_app(url: String) -> Result<App, CommandError> {
    tauri::async_runtime::spawn_blocking(move || tauri::async_runtime::block_on(App::open(&url)))
        .await
        .map_err(|e| {
            CommandError::new(
                ErrorCode::Internal,
                format!("opening the database stopped: {e}"),
            )
        })?
        .map_err(CommandError::from)
}
