//! The outbox (list, one message, preview, retry by hand), message templates
//! (list, read, change, reset, preview) and clinics' notification settings.
//! Who may do what is the application layer's role matrix: everyone signed in
//! reads; the front desk and admins retry failed messages; only an admin
//! changes templates and settings.

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{Acting, IfMatch, Json, Path, Query};
use uuid::Uuid;
use vetdesk_app::{AppError, MessagePreview, OutboxQuery, SettingsView, TemplateView};
use vetdesk_core::{AppointmentId, ClinicId, OutboxId, Rendered};
use vetdesk_store::{OutboxRecord, Page};

type Result<T> = std::result::Result<T, ApiError>;

/// The outbox, newest due first, a page at a time: filter by status
/// (`?status=failed` for what gave up), channel or appointment.
#[utoipa::path(get, path = "/outbox", tag = "notifications", params(OutboxListQuery),
    responses((status = 200, description = "A page of messages", body = OutboxPageView)))]
pub async fn list_outbox(
    Acting(app): Acting,
    Query(q): Query<OutboxListQuery>,
) -> Result<Json<Page<OutboxRecord>>> {
    let q = OutboxQuery::try_from(q).map_err(AppError::from)?;
    Ok(Json(app.outbox(q).await?))
}

/// One message: its status, attempts and last error.
#[utoipa::path(get, path = "/outbox/{id}", tag = "notifications",
    params(("id" = Uuid, Path, description = "Message id")),
    responses((status = 200, description = "The message", body = OutboxMessageView)))]
pub async fn get_outbox_message(
    Acting(app): Acting,
    Path(id): Path<Uuid>,
) -> Result<Json<OutboxRecord>> {
    Ok(Json(app.outbox_message(OutboxId(id)).await?))
}

/// What a message says, rendered with the current template and contact
/// details, and whether it would go now.
#[utoipa::path(get, path = "/outbox/{id}/preview", tag = "notifications",
    params(("id" = Uuid, Path, description = "Message id")),
    responses((status = 200, description = "The message and what it would say", body = MessagePreviewView)))]
pub async fn preview_outbox_message(
    Acting(app): Acting,
    Path(id): Path<Uuid>,
) -> Result<Json<MessagePreview>> {
    Ok(Json(app.preview_message(OutboxId(id)).await?))
}

/// Queue a failed or skipped message again, due now (admin, front desk).
/// The worker checks once more that it is still worth sending.
#[utoipa::path(post, path = "/outbox/{id}/retry", tag = "notifications",
    params(("id" = Uuid, Path, description = "Message id")),
    responses((status = 200, description = "Queued again", body = OutboxMessageView)))]
pub async fn retry_outbox_message(
    Acting(app): Acting,
    Path(id): Path<Uuid>,
) -> Result<Json<OutboxRecord>> {
    Ok(Json(app.retry_message(OutboxId(id)).await?))
}

/// Every kind × channel template as it applies.
#[utoipa::path(get, path = "/templates", tag = "notifications",
    responses((status = 200, description = "Every template", body = [MessageTemplateView])))]
pub async fn list_templates(Acting(app): Acting) -> Result<Json<Vec<TemplateView>>> {
    Ok(Json(app.templates().await?))
}

/// One template as it applies.
#[utoipa::path(get, path = "/templates/{kind}/{channel}", tag = "notifications",
    params(("kind" = MessageKindView, Path, description = "confirmation, reminder, reschedule, cancellation, checked_in or starting_soon"),
           ("channel" = MessageChannelView, Path, description = "email, sms or desktop")),
    responses((status = 200, description = "The template", body = MessageTemplateView)))]
pub async fn get_template(
    Acting(app): Acting,
    Path((kind, channel)): Path<(String, String)>,
) -> Result<Json<TemplateView>> {
    Ok(Json(app.template(&kind, &channel).await?))
}

/// Change the wording of one kind and channel (admin). Placeholders are
/// checked; with a version (`version` or `If-Match`), refused if someone else
/// saved it since.
#[utoipa::path(put, path = "/templates/{kind}/{channel}", tag = "notifications",
    request_body = TemplateBody,
    params(("kind" = MessageKindView, Path, description = "Message kind"),
           ("channel" = MessageChannelView, Path, description = "email, sms or desktop"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Saved", body = MessageTemplateView)))]
pub async fn update_template(
    Acting(app): Acting,
    if_match: IfMatch,
    Path((kind, channel)): Path<(String, String)>,
    Json(body): Json<TemplateBody>,
) -> Result<Json<TemplateView>> {
    let version = if_match.or(body.version);
    Ok(Json(
        app.set_template(body.into_input(kind, channel), version)
            .await?,
    ))
}

/// Go back to the built-in wording (admin).
#[utoipa::path(post, path = "/templates/{kind}/{channel}/reset", tag = "notifications",
    params(("kind" = MessageKindView, Path, description = "Message kind"),
           ("channel" = MessageChannelView, Path, description = "email, sms or desktop")),
    responses((status = 200, description = "The built-in template, now in use", body = MessageTemplateView)))]
pub async fn reset_template(
    Acting(app): Acting,
    Path((kind, channel)): Path<(String, String)>,
) -> Result<Json<TemplateView>> {
    Ok(Json(app.reset_template(&kind, &channel).await?))
}

/// A template rendered as the owner would read it: for an appointment, or a sample one.
#[utoipa::path(get, path = "/templates/{kind}/{channel}/preview", tag = "notifications",
    params(("kind" = MessageKindView, Path, description = "Message kind"),
           ("channel" = MessageChannelView, Path, description = "email, sms or desktop"),
           TemplatePreviewQuery),
    responses((status = 200, description = "The rendered message", body = RenderedView)))]
pub async fn preview_template(
    Acting(app): Acting,
    Path((kind, channel)): Path<(String, String)>,
    Query(q): Query<TemplatePreviewQuery>,
) -> Result<Json<Rendered>> {
    Ok(Json(
        app.preview_template(&kind, &channel, q.appointment_id.map(AppointmentId))
            .await?,
    ))
}

/// A clinic's reminder offsets, SMS quiet hours and the vets' heads-up.
#[utoipa::path(get, path = "/clinics/{id}/notification-settings", tag = "notifications",
    params(("id" = Uuid, Path, description = "Clinic id")),
    responses((status = 200, description = "The settings as they apply", body = NotificationSettingsView)))]
pub async fn get_notification_settings(
    Acting(app): Acting,
    Path(id): Path<Uuid>,
) -> Result<Json<SettingsView>> {
    Ok(Json(app.notification_settings(ClinicId(id)).await?))
}

/// Change a clinic's notification settings (admin); absent fields stay.
/// Messages already planned keep their times.
#[utoipa::path(patch, path = "/clinics/{id}/notification-settings", tag = "notifications",
    request_body = NotificationSettingsBody,
    params(("id" = Uuid, Path, description = "Clinic id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Saved", body = NotificationSettingsView)))]
pub async fn update_notification_settings(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<NotificationSettingsBody>,
) -> Result<Json<SettingsView>> {
    let version = if_match.or(body.version);
    Ok(Json(
        app.set_notification_settings(ClinicId(id), body.into(), version)
            .await?,
    ))
}
