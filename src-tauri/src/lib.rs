//! vetdesk's desktop app: the calendar UI (`ui/dist`, embedded at build time)
//! in a Tauri 2 window, talking to the application layer through the commands
//! in [`commands`] instead of HTTP. The same users, roles and use cases as
//! `vetdesk serve`; the database is the embedded SQLite file in the OS data
//! folder unless the settings point at a shared PostgreSQL ([`config`]).
//!
//! Committed changes become Tauri events ([`live`]); the notification worker
//! runs in the background ([`notifications`]). A damaged database file opens
//! the recovery screen instead ([`recovery`]). Only the commands listed in
//! `build.rs` may be called, by the app's own windows (`capabilities/`).

pub mod commands;
pub mod config;
mod desktop;
pub mod error;
pub mod live;
pub mod notifications;
pub mod recovery;
pub mod setup;

pub use desktop::Desktop;

use std::process::ExitCode;
use std::sync::Arc;
use tauri::{Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use tracing_subscriber::EnvFilter;
use vetdesk_app::App;

/// The pages the app's windows show (files of `ui/dist`).
pub const CALENDAR_PAGE: &str = "index.html";
pub const SETUP_PAGE: &str = "desktop.html";

/// The app's context (`tauri.conf.json`, the embedded `ui/dist`, the ACL),
/// made in one place so the assets are embedded once.
fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
}

/// `base` (`tauri::Builder::default()`, or the mock runtime's builder in
/// tests) with the app's state and commands.
pub fn builder<R: Runtime>(base: tauri::Builder<R>, desktop: Arc<Desktop>) -> tauri::Builder<R> {
    base.manage(desktop)
        .invoke_handler(tauri::generate_handler![
            commands::login,
            commands::logout,
            commands::me,
            commands::health,
            commands::calendar,
            commands::availability,
            commands::availability_runs,
            commands::check_conflicts,
            commands::book,
            commands::get,
            commands::confirm,
            commands::check_in,
            commands::start,
            commands::complete,
            commands::no_show,
            commands::cancel,
            commands::reschedule,
            commands::list_clinics,
            commands::list_vets,
            commands::list_clients,
            commands::get_client,
            commands::create_client,
            commands::update_client,
            commands::list_pets,
            commands::create_pet,
            commands::update_pet,
            commands::list_types,
            commands::create_type,
            commands::update_type,
            commands::list_hours,
            commands::create_hours,
            commands::delete_hours,
            commands::list_time_off,
            commands::create_time_off,
            commands::delete_time_off,
            commands::list_outbox,
            commands::preview_outbox_message,
            commands::retry_outbox_message,
            commands::list_templates,
            commands::update_template,
            commands::reset_template,
            commands::preview_template,
            commands::list_users,
            commands::create_user,
            commands::update_user,
            commands::desktop_status,
            commands::seed_demo,
            commands::save_database,
        ])
}

const WEBKIT_DMABUF: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";

/// What to set in the environment for WebKitGTK's renderer, unless the person
/// running the app chose already (`WEBKIT_DISABLE_DMABUF_RENDERER=0` keeps
/// WebKit's default). Its DMA-BUF renderer made the first calendar frame take
/// 2.5 s instead of 0.15 s and the web process 130 MiB larger on a machine
/// without a GPU (BENCHMARKS.md, "Desktop start-up"); a calendar gains nothing
/// from it.
pub fn webkit_renderer(current: Option<&std::ffi::OsStr>) -> Option<(&'static str, &'static str)> {
    if cfg!(target_os = "linux") && current.is_none() {
        Some((WEBKIT_DMABUF, "1"))
    } else {
        None
    }
}

/// Whether a webview may go to `url`: only the app's own pages, never a remote site.
pub fn is_own_page(url: &tauri::Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    }
}

/// A window of the app showing `page`.
pub fn open_window<R: Runtime, M: Manager<R>>(
    manager: &M,
    label: &str,
    page: &str,
    title: &str,
) -> tauri::Result<tauri::WebviewWindow<R>> {
    WebviewWindowBuilder::new(manager, label, WebviewUrl::App(page.into()))
        .title(title)
        .inner_size(1280.0, 800.0)
        .min_inner_size(720.0, 480.0)
        .on_navigation(|url| {
            let own = is_own_page(url);
            if !own {
                tracing::warn!(%url, "refused to leave the app for another page");
            }
            own
        })
        .build()
}

const DATABASE_MENU: &str = "database";
const QUIT_MENU: &str = "quit";

/// The window's menu: the database page (first start shows it by itself) and quit.
fn menu<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<tauri::menu::Menu<R>> {
    use tauri::menu::{MenuBuilder, MenuItemBuilder, SubmenuBuilder};
    let database = MenuItemBuilder::with_id(DATABASE_MENU, "Database…").build(app)?;
    // Not the predefined quit item: GTK does not implement it.
    let quit = MenuItemBuilder::with_id(QUIT_MENU, "Quit").build(app)?;
    let submenu = SubmenuBuilder::new(app, "vetdesk")
        .item(&database)
        .separator()
        .item(&quit)
        .build()?;
    MenuBuilder::new(app).item(&submenu).build()
}

/// Show one of the app's pages in the main window (its session stays: same
/// window, same origin, same session storage).
fn show_page<R: Runtime>(app: &tauri::AppHandle<R>, page: &str) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    match window
        .url()
        .and_then(|u| u.join(page).map_err(|e| tauri::Error::Anyhow(e.into())))
    {
        Ok(url) => {
            if let Err(e) = window.navigate(url) {
                tracing::warn!(error = %e, page, "could not show the page");
            }
        }
        Err(e) => tracing::warn!(error = %e, page, "could not show the page"),
    }
}

/// Logs go to stderr; `VETDESK_LOG` takes tracing filter directives (default `warn`).
fn init_logging() {
    let filter = EnvFilter::try_from_env("VETDESK_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// How the app was started.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `--demo` (or `VETDESK_DEMO=1`): an empty database gets the demo practice at once.
    pub demo: bool,
}

impl Options {
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        demo_env: Option<&str>,
    ) -> Result<Options, String> {
        let mut o = Options {
            demo: matches!(
                demo_env.map(str::trim),
                Some("1") | Some("true") | Some("yes")
            ),
        };
        for a in args {
            match a.as_str() {
                "--demo" => o.demo = true,
                "-h" | "--help" => return Err(HELP.into()),
                other => return Err(format!("unknown argument {other:?}\n\n{HELP}")),
            }
        }
        Ok(o)
    }
}

const HELP: &str = "vetdesk-desktop [--demo]\n\n\
  --demo   fill an empty database with the demo practice (also VETDESK_DEMO=1)\n\n\
The database is the embedded one in the OS data folder unless the settings (or\n\
VETDESK_DATABASE_URL) name a PostgreSQL server. VETDESK_LOG=info shows what it does.";

/// What start-up opened.
enum Start {
    /// The app, where its database is, and why it is not the one the
    /// settings name (when it is not).
    Ready(App, String, Option<String>),
    /// The database file is damaged: the recovery screen.
    Damaged(recovery::Recovery),
}

/// Open the database the settings name. When a shared server cannot be
/// reached, the embedded database opens instead and the setup page says why.
async fn open_database(paths: &config::Paths) -> Result<Start, String> {
    let settings = match config::DesktopSettings::load(&paths.settings_file) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "settings unreadable; using the embedded database");
            config::DesktopSettings::default()
        }
    };
    let url = config::database_url(paths, &settings)
        .await
        .map_err(|e| e.to_string())?;
    match recovery::open(&url).await {
        Ok(recovery::Opened::App(app)) => {
            Ok(Start::Ready(app, vetdesk_store::redact_url(&url), None))
        }
        Ok(recovery::Opened::Damaged(r)) => Ok(Start::Damaged(r)),
        Err(e) if settings.database != config::Database::Embedded => {
            let problem = format!("The shared database could not be opened ({e}). vetdesk is using this computer's own database until it can.");
            tracing::error!("{problem}");
            let fallback = config::database_url(paths, &config::DesktopSettings::default())
                .await
                .map_err(|e| e.to_string())?;
            match recovery::open(&fallback).await.map_err(|e| e.to_string())? {
                recovery::Opened::App(app) => Ok(Start::Ready(
                    app,
                    vetdesk_store::redact_url(&fallback),
                    Some(problem),
                )),
                recovery::Opened::Damaged(r) => Ok(Start::Damaged(r)),
            }
        }
        Err(e) => Err(format!(
            "cannot open the database {}: {e}",
            vetdesk_store::redact_url(&url)
        )),
    }
}

/// What the window opens on: the app (on its setup page when `true`), or the
/// recovery screen.
enum Begin {
    Desktop(Arc<Desktop>, bool),
    Recovery(recovery::Recovery),
}

/// The `vetdesk-desktop` binary.
pub fn main() -> ExitCode {
    // Before any thread starts: the environment is read by WebKit's processes.
    if let Some((name, value)) = webkit_renderer(std::env::var_os(WEBKIT_DMABUF).as_deref()) {
        std::env::set_var(name, value);
    }
    init_logging();
    let options = match Options::parse(
        std::env::args().skip(1),
        std::env::var("VETDESK_DEMO").ok().as_deref(),
    ) {
        Ok(o) => o,
        Err(text) => {
            eprintln!("{text}");
            return ExitCode::from(2);
        }
    };
    let paths = match config::Paths::from_os() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let opened = tauri::async_runtime::block_on(async {
        let (app, location, problem) = match open_database(&paths).await? {
            Start::Ready(app, location, problem) => (app, location, problem),
            Start::Damaged(r) => return Ok(Begin::Recovery(r)),
        };
        let failed = problem.is_some();
        let desktop = Desktop::new(app, location, paths).with_problem(problem);
        if options.demo
            && setup::status(&desktop)
                .await
                .map(|s| s.empty)
                .unwrap_or(false)
        {
            setup::seed_demo(&desktop).await.map_err(|e| e.message)?;
        }
        let first_start = setup::status(&desktop)
            .await
            .map(|s| !s.has_users)
            .unwrap_or(true);
        Ok::<_, String>(Begin::Desktop(Arc::new(desktop), first_start || failed))
    });
    let (desktop, show_setup) = match opened {
        Ok(Begin::Desktop(desktop, show_setup)) => (desktop, show_setup),
        Ok(Begin::Recovery(damaged)) => return recovery::run(damaged),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let state = desktop.clone();
    let result = builder(tauri::Builder::default(), desktop)
        .setup(move |app| {
            let handle = app.handle().clone();
            state.start(Arc::new(move |event, payload| {
                if let Err(e) = handle.emit(event, payload) {
                    tracing::warn!(error = %e, event, "could not send an event to the window");
                }
            }));
            let page = if show_setup {
                SETUP_PAGE
            } else {
                CALENDAR_PAGE
            };
            open_window(app, "main", page, "vetdesk")?;
            app.set_menu(menu(app.handle())?)?;
            app.on_menu_event(|app, event| {
                if event.id() == DATABASE_MENU {
                    show_page(app, SETUP_PAGE);
                } else if event.id() == QUIT_MENU {
                    app.exit(0);
                }
            });
            Ok(())
        })
        .build(context());
    match result {
        Ok(app) => {
            app.run(|handle, event| {
                if let tauri::RunEvent::Exit = event {
                    handle.state::<Arc<Desktop>>().shutdown();
                }
            });
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the window could not be opened: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn webkit_s_dmabuf_renderer_is_off_unless_chosen() {
        let expected = cfg!(target_os = "linux").then_some(("WEBKIT_DISABLE_DMABUF_RENDERER", "1"));
        assert_eq!(webkit_renderer(None), expected);
        assert_eq!(webkit_renderer(Some(std::ffi::OsStr::new("0"))), None);
        assert_eq!(webkit_renderer(Some(std::ffi::OsStr::new("1"))), None);
    }

    use super::*;

    fn url(s: &str) -> tauri::Url {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_window_stays_on_the_app_s_own_pages() {
        assert!(is_own_page(&url("tauri://localhost/desktop.html")));
        assert!(is_own_page(&url("http://tauri.localhost/index.html")));
        for away in [
            "https://example.com/",
            "http://localhost:8080/",
            "tauri://evil.example/",
            "file:///etc/passwd",
            "https://tauri.localhost.evil.example/",
        ] {
            assert!(!is_own_page(&url(away)), "{away} was allowed");
        }
    }

    #[test]
    fn options_read_the_demo_switch_and_refuse_the_rest() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Options::parse(args(&[]), None), Ok(Options { demo: false }));
        assert_eq!(
            Options::parse(args(&["--demo"]), None),
            Ok(Options { demo: true })
        );
        assert_eq!(
            Options::parse(args(&[]), Some("1")),
            Ok(Options { demo: true })
        );
        assert_eq!(
            Options::parse(args(&[]), Some("0")),
            Ok(Options { demo: false })
        );
        assert!(
            Options::parse(args(&["--demo", "--wipe"]), None).is_err_and(|e| e.contains("--wipe"))
        );
    }
}
