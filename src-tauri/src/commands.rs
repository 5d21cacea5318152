//! One Tauri command per UI operation (`ui/src/transport/operations.ts`), with
//! the same names and arguments as the HTTP API's operations, and the HTTP
//! crate's wire types, so the JSON the UI sends and gets is the same over
//! both transports. Each command reads its arguments, acts as the user whose
//! session `token` it was given (the application layer decides what that user
//! may do), calls one use case and maps the error.
//!
//! The webview calls `invoke(name, { token, args })`. Arguments are read here,
//! not by Tauri, so a malformed one is an `invalid_input` error like any other.

use crate::error::CommandError;
use crate::Desktop;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::sync::Arc;
use tauri::{Manager, State};
use uuid::Uuid;
use vetdesk_app::views::{
    AppointmentDetails, Availability, AvailabilityRuns, Calendar, ConflictReport,
};
use vetdesk_app::{AppError, MessagePreview, OutboxQuery, SessionGrant, TemplateView};
use vetdesk_core::*;
use vetdesk_store::Entity;
use vetdesk_store::{OutboxRecord, Page};
use vetdesk_wire::*;

type Result<T> = std::result::Result<T, CommandError>;
type Shared<'a> = State<'a, Arc<Desktop>>;

include!("command_names.rs");

/// A command's arguments, read by serde but never refused by Tauri itself:
/// a wrong shape becomes a typed `invalid_input` error in [`Input::read`].
pub struct Input<T>(std::result::Result<T, String>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Input<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(d)?;
        Ok(Input(
            serde_json::from_value(raw).map_err(|e| e.to_string()),
        ))
    }
}

impl<T> Input<T> {
    pub fn read(self) -> Result<T> {
        self.0
            .map_err(|e| CommandError::invalid(format!("the request could not be read: {e}")))
    }
}

/// An HTTP body plus the id the HTTP API takes from the path.
#[derive(Debug, Deserialize)]
pub struct WithId<T> {
    pub id: Uuid,
    #[serde(flatten)]
    pub body: T,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdOnly {
    pub id: Uuid,
}

/// The version a deletion is made against (the HTTP API's `?version=`).
fn version(v: Option<i64>) -> Result<i64> {
    v.ok_or_else(|| CommandError::invalid("name the version you are deleting"))
}

// ---------- signing in and out ----------

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.login")]
pub async fn login(desktop: Shared<'_>, args: Input<LoginBody>) -> Result<SessionGrant> {
    let body = args.read()?;
    let grant = desktop
        .app()
        .login(&body.username, &body.password, Some("desktop"))
        .await?;
    desktop.set_signed_in(
        desktop
            .acting(Some(&grant.token))
            .await
            .ok()
            .map(|a| a.principal().clone()),
    );
    Ok(grant)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.logout")]
pub async fn logout(desktop: Shared<'_>, token: Option<String>) -> Result<()> {
    // Whatever becomes of the session, nobody is signed in here any more.
    desktop.set_signed_in(None);
    let app = desktop.acting(token.as_deref()).await?;
    app.logout(token.as_deref().unwrap_or_default()).await?;
    Ok(())
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.me")]
pub async fn me(desktop: Shared<'_>, token: Option<String>) -> Result<User> {
    let app = desktop.acting(token.as_deref()).await?;
    desktop.set_signed_in(Some(app.principal().clone()));
    Ok(app.me().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.health")]
pub async fn health<R: tauri::Runtime>(handle: tauri::AppHandle<R>) -> Result<Health> {
    // Health answers even where no Desktop is managed (a window with only this command).
    let sending = handle
        .try_state::<Arc<Desktop>>()
        .map(|desktop| desktop.app().sending_channels())
        .unwrap_or_default();
    Ok(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        notification_channels: sending.iter().map(|c| c.as_str()).collect(),
    })
}

// ---------- scheduling ----------

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.calendar")]
pub async fn calendar(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<CalendarQuery>,
) -> Result<Calendar> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.calendar(args.read()?.try_into()?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.availability")]
pub async fn availability(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<AvailabilityQuery>,
) -> Result<Availability> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.availability(args.read()?.into()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.availability_runs")]
pub async fn availability_runs(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<AvailabilityQuery>,
) -> Result<AvailabilityRuns> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.availability_runs(args.read()?.into()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.check_conflicts")]
pub async fn check_conflicts(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<CheckConflictsBody>,
) -> Result<ConflictReport> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.check_conflicts(args.read()?.try_into()?).await?)
}

// ---------- appointments ----------

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.book")]
pub async fn book(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<BookBody>,
) -> Result<AppointmentDetails> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.book(args.read()?.try_into()?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.get")]
pub async fn get(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<IdOnly>,
) -> Result<AppointmentDetails> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.appointment(AppointmentId(args.read()?.id)).await?)
}

/// The lifecycle steps: `{ id, version, note? }`.
macro_rules! step {
    ($name:ident, |$app:ident, $id:ident, $a:ident| $call:expr) => {
        #[tauri::command]
        #[tracing::instrument(skip_all, name = "command.step", fields(step = stringify!($name)))]
        pub async fn $name(
            desktop: Shared<'_>,
            token: Option<String>,
            args: Input<WithId<ActBody>>,
        ) -> Result<AppointmentDetails> {
            let $app = desktop.acting(token.as_deref()).await?;
            let $a = args.read()?;
            let $id = AppointmentId($a.id);
            Ok($call.await?)
        }
    };
}

step!(confirm, |app, id, a| app.confirm(id, a.body.version));
step!(check_in, |app, id, a| app.check_in(id, a.body.version));
step!(start, |app, id, a| app.start(id, a.body.version));
step!(complete, |app, id, a| app.complete(
    id,
    a.body.version,
    a.body.note
));
step!(no_show, |app, id, a| app.no_show(id, a.body.version));

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.cancel")]
pub async fn cancel(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithId<CancelBody>>,
) -> Result<AppointmentDetails> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    let id = AppointmentId(a.id);
    Ok(app.cancel(id, a.body.version, a.body.reason).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.reschedule")]
pub async fn reschedule(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithId<RescheduleBody>>,
) -> Result<AppointmentDetails> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    let (version, request) = a.body.into_request()?;
    Ok(app
        .reschedule(AppointmentId(a.id), version, request)
        .await?)
}

// ---------- records ----------

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_clinics")]
pub async fn list_clinics(desktop: Shared<'_>, token: Option<String>) -> Result<Vec<Clinic>> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.clinics().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_vets")]
pub async fn list_vets(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<ScopeQuery>,
) -> Result<Vec<Vet>> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.vets(args.read()?.clinic_id.map(ClinicId)).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_clients")]
pub async fn list_clients(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<SearchQuery>,
) -> Result<Vec<Client>> {
    let app = desktop.acting(token.as_deref()).await?;
    let q = args.read()?;
    Ok(app
        .search_clients(q.q.as_deref(), q.limit.unwrap_or(vetdesk_app::DEFAULT_PAGE))
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.get_client")]
pub async fn get_client(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<IdOnly>,
) -> Result<Client> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.client(ClientId(args.read()?.id)).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.create_client")]
pub async fn create_client(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<ClientBody>,
) -> Result<Client> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.create_client(args.read()?.into()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.update_client")]
pub async fn update_client(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithId<ClientBody>>,
) -> Result<Client> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    let v = a.body.version;
    Ok(app.update_client(ClientId(a.id), v, a.body.into()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_pets")]
pub async fn list_pets(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<SearchQuery>,
) -> Result<Vec<Pet>> {
    let app = desktop.acting(token.as_deref()).await?;
    let q = args.read()?;
    Ok(app
        .pets(
            q.owner_id.map(ClientId),
            q.q.as_deref(),
            q.limit.unwrap_or(vetdesk_app::DEFAULT_PAGE),
        )
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.create_pet")]
pub async fn create_pet(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<PetBody>,
) -> Result<Pet> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.create_pet(args.read()?.into()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.update_pet")]
pub async fn update_pet(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithId<PetBody>>,
) -> Result<Pet> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    let v = a.body.version;
    Ok(app.update_pet(PetId(a.id), v, a.body.into()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_types")]
pub async fn list_types(
    desktop: Shared<'_>,
    token: Option<String>,
) -> Result<Vec<AppointmentType>> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.appointment_types().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.create_type")]
pub async fn create_type(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<AppointmentTypeBody>,
) -> Result<AppointmentType> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.create_appointment_type(args.read()?.into()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.update_type")]
pub async fn update_type(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithId<AppointmentTypeBody>>,
) -> Result<AppointmentType> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    let v = a.body.version;
    Ok(app
        .update_appointment_type(AppointmentTypeId(a.id), v, a.body.into())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_hours")]
pub async fn list_hours(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<ScopeQuery>,
) -> Result<Vec<WorkingHours>> {
    let app = desktop.acting(token.as_deref()).await?;
    let q = args.read()?;
    Ok(app
        .working_hours(q.vet_id.map(VetId), q.clinic_id.map(ClinicId))
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.create_hours")]
pub async fn create_hours(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WorkingHoursBody>,
) -> Result<WorkingHours> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.add_working_hours(args.read()?.try_into()?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.delete_hours")]
pub async fn delete_hours(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithId<VersionQuery>>,
) -> Result<Deleted> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    let v = app
        .delete_record(Entity::WorkingHours, a.id, version(a.body.version)?)
        .await?;
    Ok(Deleted {
        id: a.id,
        version: v,
    })
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_time_off")]
pub async fn list_time_off(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<ScopeQuery>,
) -> Result<Vec<TimeOff>> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.time_off(args.read()?.vet_id.map(VetId)).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.create_time_off")]
pub async fn create_time_off(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<TimeOffBody>,
) -> Result<TimeOff> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.add_time_off(args.read()?.try_into()?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.delete_time_off")]
pub async fn delete_time_off(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithId<VersionQuery>>,
) -> Result<Deleted> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    let v = app
        .delete_record(Entity::TimeOff, a.id, version(a.body.version)?)
        .await?;
    Ok(Deleted {
        id: a.id,
        version: v,
    })
}

// ---------- notifications: the outbox and the templates ----------

/// A template's key, which the HTTP API takes from the path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateKey {
    pub kind: String,
    pub channel: String,
}

/// A template's key plus a request body.
#[derive(Debug, Deserialize)]
pub struct WithKey<T> {
    pub kind: String,
    pub channel: String,
    #[serde(flatten)]
    pub body: T,
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_outbox")]
pub async fn list_outbox(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<OutboxListQuery>,
) -> Result<Page<OutboxRecord>> {
    let app = desktop.acting(token.as_deref()).await?;
    let query = OutboxQuery::try_from(args.read()?).map_err(AppError::from)?;
    Ok(app.outbox(query).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.preview_outbox_message")]
pub async fn preview_outbox_message(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<IdOnly>,
) -> Result<MessagePreview> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.preview_message(OutboxId(args.read()?.id)).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.retry_outbox_message")]
pub async fn retry_outbox_message(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<IdOnly>,
) -> Result<OutboxRecord> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.retry_message(OutboxId(args.read()?.id)).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_templates")]
pub async fn list_templates(
    desktop: Shared<'_>,
    token: Option<String>,
) -> Result<Vec<TemplateView>> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.templates().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.update_template")]
pub async fn update_template(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithKey<TemplateBody>>,
) -> Result<TemplateView> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    let version = a.body.version;
    Ok(app
        .set_template(a.body.into_input(a.kind, a.channel), version)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.reset_template")]
pub async fn reset_template(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<TemplateKey>,
) -> Result<TemplateView> {
    let app = desktop.acting(token.as_deref()).await?;
    let key = args.read()?;
    Ok(app.reset_template(&key.kind, &key.channel).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.preview_template")]
pub async fn preview_template(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithKey<TemplatePreviewQuery>>,
) -> Result<Rendered> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    Ok(app
        .preview_template(
            &a.kind,
            &a.channel,
            a.body.appointment_id.map(AppointmentId),
        )
        .await?)
}

// ---------- users ----------

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.list_users")]
pub async fn list_users(desktop: Shared<'_>, token: Option<String>) -> Result<Vec<User>> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.users().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.create_user")]
pub async fn create_user(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<UserBody>,
) -> Result<User> {
    let app = desktop.acting(token.as_deref()).await?;
    Ok(app.create_user(args.read()?.into()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.update_user")]
pub async fn update_user(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<WithId<UserPatchBody>>,
) -> Result<User> {
    let app = desktop.acting(token.as_deref()).await?;
    let a = args.read()?;
    let version = a.body.version;
    Ok(app
        .update_user(UserId(a.id), version, a.body.into())
        .await?)
}

// ---------- the desktop's own: first start and the database setting ----------

pub use crate::setup::{DatabaseBody, DesktopStatus, Saved};

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.desktop_status")]
pub async fn desktop_status(desktop: Shared<'_>) -> Result<DesktopStatus> {
    crate::setup::status(&desktop).await
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.seed_demo")]
pub async fn seed_demo(desktop: Shared<'_>) -> Result<DesktopStatus> {
    crate::setup::seed_demo(&desktop).await
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.save_database")]
pub async fn save_database(
    desktop: Shared<'_>,
    token: Option<String>,
    args: Input<DatabaseBody>,
) -> Result<Saved> {
    let desktop: Arc<Desktop> = Arc::clone(&desktop);
    crate::setup::save_database(desktop, token, args.read()?).await
}
