//! `/appointments`: scheduling queries, booking and the lifecycle. Each
//! handler parses, calls one `App` method and lets the error map itself.

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::Acting;
use crate::extract::{IfMatch, Json, OptionalJson, Path, Query};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use uuid::Uuid;
use vetdesk_app::views::{
    AppointmentDetails, Availability, AvailabilityRuns, Calendar, ConflictReport, ExplainReport,
};
use vetdesk_core::AppointmentId;
use vetdesk_store::{AppointmentView, Page};

type Result<T> = std::result::Result<T, ApiError>;

/// Free slots per vet.
#[utoipa::path(get, path = "/appointments/availability", tag = "appointments",
    params(AvailabilityQuery),
    responses((status = 200, description = "Free slots", body = AvailabilityView)))]
pub async fn availability(
    Acting(app): Acting,
    Query(q): Query<AvailabilityQuery>,
) -> Result<Json<Availability>> {
    Ok(Json(app.availability(q.into()).await?))
}

/// Free slots per vet, compact: runs of slots instead of every slot.
///
/// Takes the same query as `GET /appointments/availability` and answers the same
/// slots. Each vet's `runs` are sorted; a run `[start, end)` holds the slots
/// `[t, t + duration_min)` for `t = start, start + grid_min, start + 2·grid_min, …`
/// while `t + duration_min <= end` (steps of exact minutes in UTC). `start` is a
/// slot's start, `end` the end of the run's last slot; where the next slot does
/// not start one step on (a booking, a break, a DST change that moves the local
/// grid) a new run begins.
#[utoipa::path(get, path = "/appointments/availability/runs", tag = "appointments",
    params(AvailabilityQuery),
    responses((status = 200, description = "Free slots as runs", body = AvailabilityRunsView)))]
pub async fn availability_runs(
    Acting(app): Acting,
    Query(q): Query<AvailabilityQuery>,
) -> Result<Json<AvailabilityRuns>> {
    Ok(Json(app.availability_runs(q.into()).await?))
}

/// Appointments and free time for a day, week or month.
#[utoipa::path(get, path = "/appointments/calendar", tag = "appointments",
    params(CalendarQuery),
    responses((status = 200, description = "The calendar", body = CalendarView)))]
pub async fn calendar(
    Acting(app): Acting,
    Query(q): Query<CalendarQuery>,
) -> Result<Json<Calendar>> {
    Ok(Json(app.calendar(q.try_into()?).await?))
}

/// Every reason a proposed time is not free. Conflicts are a 200 answer with `ok: false`.
#[utoipa::path(post, path = "/appointments/check-conflicts", tag = "appointments",
    request_body = CheckConflictsBody,
    responses((status = 200, description = "The conflict report", body = ConflictReportView)))]
pub async fn check_conflicts(
    Acting(app): Acting,
    Json(body): Json<CheckConflictsBody>,
) -> Result<Json<ConflictReport>> {
    Ok(Json(app.check_conflicts(body.try_into()?).await?))
}

/// Whether a vet is free at a time, and if not, every reason why.
#[utoipa::path(get, path = "/appointments/explain", tag = "appointments",
    params(ExplainQuery),
    responses((status = 200, description = "The explanation", body = ExplainView)))]
pub async fn explain(
    Acting(app): Acting,
    Query(q): Query<ExplainQuery>,
) -> Result<Json<ExplainReport>> {
    Ok(Json(app.explain(q.try_into()?).await?))
}

/// Book an appointment (conflict-checked).
#[utoipa::path(post, path = "/appointments", tag = "appointments",
    request_body = BookBody,
    responses((status = 201, description = "Booked", body = AppointmentDetailsView,
        headers(("Location" = String, description = "The new appointment")))))]
pub async fn book(Acting(app): Acting, Json(body): Json<BookBody>) -> Result<impl IntoResponse> {
    let details = app.book(body.try_into()?).await?;
    let location = format!("/api/v1/appointments/{}", details.view.appointment.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(details),
    ))
}

/// Search appointments, a page at a time.
#[utoipa::path(get, path = "/appointments", tag = "appointments",
    params(AppointmentListQuery),
    responses((status = 200, description = "A page of appointments", body = AppointmentPageView)))]
pub async fn list(
    Acting(app): Acting,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Page<AppointmentView>>> {
    let filter = AppointmentListQuery::from_pairs(pairs)
        .map_err(ApiError::bad_request)?
        .into_filter()?;
    Ok(Json(app.appointments(filter).await?))
}

/// One appointment with its history.
#[utoipa::path(get, path = "/appointments/{id}", tag = "appointments",
    params(("id" = Uuid, Path, description = "Appointment id")),
    responses((status = 200, description = "The appointment", body = AppointmentDetailsView)))]
pub async fn get(Acting(app): Acting, Path(id): Path<Uuid>) -> Result<Json<AppointmentDetails>> {
    Ok(Json(app.appointment(AppointmentId(id)).await?))
}

macro_rules! step {
    ($name:ident, $path:literal, $doc:literal, |$app:ident, $id:ident, $v:ident, $body:ident| $call:expr) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "appointments",
            params(("id" = Uuid, Path, description = "Appointment id"),
                   ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
            request_body(content = Option<ActBody>),
            responses((status = 200, description = "The appointment after the step", body = AppointmentDetailsView)))]
        pub async fn $name(
            Acting($app): Acting,
            if_match: IfMatch,
            Path(id): Path<Uuid>,
            OptionalJson($body): OptionalJson<ActBody>,
        ) -> Result<Json<AppointmentDetails>> {
            let $id = AppointmentId(id);
            let $v = if_match.or($body.version);
            Ok(Json($call.await?))
        }
    };
}

step!(
    confirm,
    "/appointments/{id}/confirm",
    "The owner confirmed.",
    |app, id, v, _b| app.confirm(id, v)
);
step!(
    check_in,
    "/appointments/{id}/check-in",
    "The patient has arrived.",
    |app, id, v, _b| app.check_in(id, v)
);
step!(
    start,
    "/appointments/{id}/start",
    "The vet starts seeing the patient.",
    |app, id, v, _b| app.start(id, v)
);
step!(
    complete,
    "/appointments/{id}/complete",
    "The appointment is over (`note` is kept in the history).",
    |app, id, v, b| app.complete(id, v, b.note)
);
step!(
    no_show,
    "/appointments/{id}/no-show",
    "The patient did not come (only after the start time).",
    |app, id, v, _b| app.no_show(id, v)
);

/// Cancel, freeing the time.
#[utoipa::path(post, path = "/appointments/{id}/cancel", tag = "appointments",
    params(("id" = Uuid, Path, description = "Appointment id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    request_body(content = Option<CancelBody>),
    responses((status = 200, description = "The cancelled appointment", body = AppointmentDetailsView)))]
pub async fn cancel(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    OptionalJson(body): OptionalJson<CancelBody>,
) -> Result<Json<AppointmentDetails>> {
    let version = if_match.or(body.version);
    Ok(Json(
        app.cancel(AppointmentId(id), version, body.reason).await?,
    ))
}

/// Move an appointment (conflict-checked); it returns to `scheduled`.
#[utoipa::path(post, path = "/appointments/{id}/reschedule", tag = "appointments",
    params(("id" = Uuid, Path, description = "Appointment id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    request_body = RescheduleBody,
    responses((status = 200, description = "The moved appointment", body = AppointmentDetailsView)))]
pub async fn reschedule(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<RescheduleBody>,
) -> Result<Json<AppointmentDetails>> {
    let (version, req) = body.into_request()?;
    Ok(Json(
        app.reschedule(AppointmentId(id), if_match.or(version), req)
            .await?,
    ))
}
