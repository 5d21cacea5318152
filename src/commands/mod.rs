//! One function per subcommand: parse what clap left as text, call one use
//! case of [`App`], and render its result for a person or as JSON.

mod access;
mod appointments;
pub mod backups;
mod notify;
mod records;
mod schedule;

use crate::cli::Command;
use crate::error::{Failure, Result};
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Serialize;
use vetdesk_app::{App, ErrorCode};
use vetdesk_core::{Actor, ClinicId, TimeInput};

/// What every command gets.
pub struct Ctx {
    pub app: App,
    /// Where the database is, as given or chosen.
    pub database: String,
    pub json: bool,
    pub actor: Actor,
}

/// What a command prints, and the code to exit with when it did its job but
/// the answer is "no" (a conflict check that found conflicts).
pub struct Reply {
    pub text: String,
    pub code: Option<ErrorCode>,
}

impl Ctx {
    /// The value as pretty JSON with `--json`, else what `human` makes of it.
    pub(crate) fn reply<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&T) -> String,
    ) -> Result<Reply> {
        let text = if self.json {
            let mut s = serde_json::to_string_pretty(value)?;
            s.push('\n');
            s
        } else {
            human(value)
        };
        Ok(Reply { text, code: None })
    }

    /// A clinic's time zone.
    async fn zone(&self, clinic: ClinicId) -> Result<Tz> {
        Ok(self.app.clinic(clinic).await?.time_zone)
    }

    /// Today's date on a clinic's wall clock.
    fn today_in(&self, tz: Tz) -> NaiveDate {
        vetdesk_core::time::to_local(tz, self.app.now()).date()
    }
}

fn date(raw: &str) -> Result<NaiveDate> {
    Ok(vetdesk_core::parse_date(raw)?)
}

fn opt_date(raw: Option<&str>) -> Result<Option<NaiveDate>> {
    raw.map(date).transpose()
}

fn time(raw: &str) -> Result<TimeInput> {
    Ok(TimeInput::parse(raw)?)
}

/// The day after `d`, for turning inclusive date ranges into half-open ones.
fn next_day(d: NaiveDate) -> Result<NaiveDate> {
    d.succ_opt()
        .ok_or_else(|| Failure::invalid(format!("{d} is beyond the last date vetdesk can handle")))
}

pub async fn run(ctx: &Ctx, command: Command) -> Result<Reply> {
    use Command as C;
    match command {
        C::Init { demo } => records::init(ctx, demo).await,
        C::Clinics { cmd } => records::clinics(ctx, cmd).await,
        C::Vets { cmd, list } => records::vets(ctx, cmd, list).await,
        C::Clients { cmd, list } => records::clients(ctx, cmd, list).await,
        C::Pets { cmd, list } => records::pets(ctx, cmd, list).await,
        C::Types { cmd } => records::types(ctx, cmd).await,
        C::Hours { cmd, list } => records::hours(ctx, cmd, list).await,
        C::Override { cmd } => records::overrides(ctx, cmd).await,
        C::TimeOff { cmd } => records::time_off(ctx, cmd).await,
        C::User { cmd } => access::user(ctx, cmd).await,
        C::Audit(a) => access::audit(ctx, a).await,
        C::Availability(a) => schedule::availability(ctx, a).await,
        C::Calendar(a) => schedule::calendar(ctx, a).await,
        C::MyDay { vet, date } => schedule::my_day(ctx, &vet, date.as_deref()).await,
        C::CheckConflicts(a) => schedule::check_conflicts(ctx, a).await,
        C::Why(a) => schedule::why(ctx, a).await,
        C::Book(a) => appointments::book(ctx, a).await,
        C::Import { file } => appointments::import(ctx, &file).await,
        C::Confirm(a) => appointments::act(ctx, appointments::Act::Confirm, a).await,
        C::CheckIn(a) => appointments::act(ctx, appointments::Act::CheckIn, a).await,
        C::Start(a) => appointments::act(ctx, appointments::Act::Start, a).await,
        C::Complete { act, note } => {
            appointments::act(ctx, appointments::Act::Complete(note), act).await
        }
        C::Cancel { act, reason } => {
            appointments::act(ctx, appointments::Act::Cancel(reason), act).await
        }
        C::NoShow(a) => appointments::act(ctx, appointments::Act::NoShow, a).await,
        C::Reschedule(a) => appointments::reschedule(ctx, a).await,
        C::Show { id } => appointments::show(ctx, &id).await,
        C::Appointments(a) => appointments::list(ctx, a).await,
        C::Serve {
            bind,
            ui,
            no_ui,
            no_worker,
            server,
            notify,
        } => {
            let config = server_config(server)?;
            serve(
                ctx,
                &bind,
                &config,
                ui,
                no_ui,
                (!no_worker).then_some(notify),
            )
            .await
        }
        C::Worker { once, notify } => notify::worker(ctx, notify, once).await,
        C::Outbox { cmd, list } => notify::outbox(ctx, cmd, list).await,
        C::Templates { cmd } => notify::templates(ctx, cmd).await,
        C::Notifications(a) => notify::settings(ctx, a).await,
        C::Secret { cmd } => notify::secret(cmd).await,
        C::Backup { to } => backups::backup(ctx, to.as_deref()).await,
        // Run before the database is opened (see main.rs): an open database cannot be replaced.
        C::Restore { file } => backups::restore(&ctx.database, ctx.json, &ctx.actor, &file).await,
    }
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
fn server_config(args: crate::cli::ServerArgs) -> Result<vetdesk_http::ServerConfig> {
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

/// `vetdesk serve`: the HTTP API over the same application, and the built
/// calendar UI when there is one, until Ctrl-C; with the notification worker
/// and the daily backup as background tasks.
async fn serve(
    ctx: &Ctx,
    bind: &str,
    config: &vetdesk_http::ServerConfig,
    ui: Option<std::path::PathBuf>,
    no_ui: bool,
    notify: Option<crate::cli::NotifyArgs>,
) -> Result<Reply> {
    let addr: std::net::SocketAddr = bind.trim().parse().map_err(|_| {
        Failure::invalid(format!(
            "--bind {bind:?} is not an address and port such as 127.0.0.1:8080"
        ))
    })?;
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
    let mut router = vetdesk_http::router_with(ctx.app.clone(), config);
    if let Some(ui) = ui {
        router = vetdesk_http::ui::with_ui(router, ui);
    }
    let served = vetdesk_http::serve_router(router, addr, config.limits, |local| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let what = match &ui_path {
            Some(dir) => format!("calendar at http://{local}/ (from {dir}), API at /api/v1"),
            None => "API at /api/v1; no built UI, see --ui".to_string(),
        };
        let _ = writeln!(out, "vetdesk is listening on http://{local} ({what})")
            .and_then(|()| out.flush());
    })
    .await;
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
