//! One function per subcommand: parse what clap left as text, call one use
//! case of [`App`], and render its result for a person or as JSON.

mod access;
mod appointments;
pub mod backups;
pub mod migrate;
mod notify;
mod privacy;
mod records;
mod schedule;
mod serve;

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
            allow_owner_role,
            server,
            tls,
            notify,
        } => {
            let options = serve::Options {
                bind,
                ui,
                no_ui,
                allow_owner_role,
                server,
                tls,
            };
            serve::serve(ctx, options, (!no_worker).then_some(notify)).await
        }
        C::ServerInfo { tls_cert, tls_dir } => serve::server_info(ctx, tls_cert, tls_dir),
        C::Worker { once, notify } => notify::worker(ctx, notify, once).await,
        C::Outbox { cmd, list } => notify::outbox(ctx, cmd, list).await,
        C::Templates { cmd } => notify::templates(ctx, cmd).await,
        C::Notifications(a) => notify::settings(ctx, a).await,
        C::Secret { cmd } => notify::secret(cmd).await,
        C::Backup { to } => backups::backup(ctx, to.as_deref()).await,
        // Run before the database is opened (see main.rs): an open database cannot be replaced.
        C::Restore { file } => backups::restore(&ctx.database, ctx.json, &ctx.actor, &file).await,
        // Also run before (see main.rs): it opens the database its own way.
        C::Migrate { runtime_roles } => {
            migrate::migrate(&ctx.database, ctx.json, &runtime_roles).await
        }
    }
}
