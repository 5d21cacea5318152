//! The records scheduling runs on: clinics, vets, owners, pets, appointment
//! types, working hours, date overrides and time off.

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::Acting;
use crate::extract::{IfMatch, Json, Path, Query};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use uuid::Uuid;
use vetdesk_app::App;
use vetdesk_core::*;
use vetdesk_store::Entity;

type Result<T> = std::result::Result<T, ApiError>;

fn created<T: serde::Serialize>(path: String, value: T) -> impl IntoResponse {
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1{path}"))],
        Json(value),
    )
}

// ---------- clinics ----------

#[utoipa::path(get, path = "/clinics", tag = "records",
    responses((status = 200, description = "Every clinic", body = [ClinicView])))]
pub async fn list_clinics(Acting(app): Acting) -> Result<Json<Vec<Clinic>>> {
    Ok(Json(app.clinics().await?))
}

#[utoipa::path(post, path = "/clinics", tag = "records", request_body = ClinicBody,
    responses((status = 201, description = "Created", body = ClinicView)))]
pub async fn create_clinic(
    Acting(app): Acting,
    Json(body): Json<ClinicBody>,
) -> Result<impl IntoResponse> {
    let c = app.create_clinic(body.into()).await?;
    Ok(created(format!("/clinics/{}", c.id), c))
}

#[utoipa::path(get, path = "/clinics/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "Clinic id")),
    responses((status = 200, description = "The clinic", body = ClinicView)))]
pub async fn get_clinic(Acting(app): Acting, Path(id): Path<Uuid>) -> Result<Json<Clinic>> {
    Ok(Json(app.clinic(ClinicId(id)).await?))
}

#[utoipa::path(put, path = "/clinics/{id}", tag = "records", request_body = ClinicBody,
    params(("id" = Uuid, Path, description = "Clinic id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Updated", body = ClinicView)))]
pub async fn update_clinic(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<ClinicBody>,
) -> Result<Json<Clinic>> {
    let v = if_match.or(body.version);
    Ok(Json(app.update_clinic(ClinicId(id), v, body.into()).await?))
}

// ---------- vets ----------

#[utoipa::path(get, path = "/vets", tag = "records", params(ScopeQuery),
    responses((status = 200, description = "Vets, of one clinic or all", body = [VetView])))]
pub async fn list_vets(Acting(app): Acting, Query(q): Query<ScopeQuery>) -> Result<Json<Vec<Vet>>> {
    Ok(Json(app.vets(q.clinic_id.map(ClinicId)).await?))
}

#[utoipa::path(post, path = "/vets", tag = "records", request_body = VetBody,
    responses((status = 201, description = "Created", body = VetView)))]
pub async fn create_vet(
    Acting(app): Acting,
    Json(body): Json<VetBody>,
) -> Result<impl IntoResponse> {
    let v = app.create_vet(body.into()).await?;
    Ok(created(format!("/vets/{}", v.id), v))
}

#[utoipa::path(get, path = "/vets/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "Vet id")),
    responses((status = 200, description = "The vet", body = VetView)))]
pub async fn get_vet(Acting(app): Acting, Path(id): Path<Uuid>) -> Result<Json<Vet>> {
    Ok(Json(app.vet(VetId(id)).await?))
}

#[utoipa::path(put, path = "/vets/{id}", tag = "records", request_body = VetBody,
    params(("id" = Uuid, Path, description = "Vet id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Updated", body = VetView)))]
pub async fn update_vet(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<VetBody>,
) -> Result<Json<Vet>> {
    let v = if_match.or(body.version);
    Ok(Json(app.update_vet(VetId(id), v, body.into()).await?))
}

// ---------- clients ----------

#[utoipa::path(get, path = "/clients", tag = "records", params(SearchQuery),
    responses((status = 200, description = "Owners matching `q`", body = [ClientView])))]
pub async fn list_clients(
    Acting(app): Acting,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<Client>>> {
    Ok(Json(
        app.search_clients(q.q.as_deref(), q.limit.unwrap_or(vetdesk_app::DEFAULT_PAGE))
            .await?,
    ))
}

#[utoipa::path(post, path = "/clients", tag = "records", request_body = ClientBody,
    responses((status = 201, description = "Created", body = ClientView)))]
pub async fn create_client(
    Acting(app): Acting,
    Json(body): Json<ClientBody>,
) -> Result<impl IntoResponse> {
    let c = app.create_client(body.into()).await?;
    Ok(created(format!("/clients/{}", c.id), c))
}

#[utoipa::path(get, path = "/clients/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, description = "The owner", body = ClientView)))]
pub async fn get_client(Acting(app): Acting, Path(id): Path<Uuid>) -> Result<Json<Client>> {
    Ok(Json(app.client(ClientId(id)).await?))
}

#[utoipa::path(put, path = "/clients/{id}", tag = "records", request_body = ClientBody,
    params(("id" = Uuid, Path, description = "Client id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Updated", body = ClientView)))]
pub async fn update_client(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<ClientBody>,
) -> Result<Json<Client>> {
    let v = if_match.or(body.version);
    Ok(Json(app.update_client(ClientId(id), v, body.into()).await?))
}

// ---------- pets ----------

#[utoipa::path(get, path = "/pets", tag = "records", params(SearchQuery),
    responses((status = 200, description = "Pets, of one owner or matching `q`", body = [PetView])))]
pub async fn list_pets(
    Acting(app): Acting,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<Pet>>> {
    Ok(Json(
        app.pets(
            q.owner_id.map(ClientId),
            q.q.as_deref(),
            q.limit.unwrap_or(vetdesk_app::DEFAULT_PAGE),
        )
        .await?,
    ))
}

#[utoipa::path(post, path = "/pets", tag = "records", request_body = PetBody,
    responses((status = 201, description = "Created", body = PetView)))]
pub async fn create_pet(
    Acting(app): Acting,
    Json(body): Json<PetBody>,
) -> Result<impl IntoResponse> {
    let p = app.create_pet(body.into()).await?;
    Ok(created(format!("/pets/{}", p.id), p))
}

#[utoipa::path(get, path = "/pets/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "Pet id")),
    responses((status = 200, description = "The pet", body = PetView)))]
pub async fn get_pet(Acting(app): Acting, Path(id): Path<Uuid>) -> Result<Json<Pet>> {
    Ok(Json(app.pet(PetId(id)).await?))
}

#[utoipa::path(put, path = "/pets/{id}", tag = "records", request_body = PetBody,
    params(("id" = Uuid, Path, description = "Pet id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Updated", body = PetView)))]
pub async fn update_pet(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<PetBody>,
) -> Result<Json<Pet>> {
    let v = if_match.or(body.version);
    Ok(Json(app.update_pet(PetId(id), v, body.into()).await?))
}

// ---------- appointment types ----------

#[utoipa::path(get, path = "/appointment-types", tag = "records",
    responses((status = 200, description = "Every appointment type", body = [AppointmentTypeView])))]
pub async fn list_types(Acting(app): Acting) -> Result<Json<Vec<AppointmentType>>> {
    Ok(Json(app.appointment_types().await?))
}

#[utoipa::path(post, path = "/appointment-types", tag = "records", request_body = AppointmentTypeBody,
    responses((status = 201, description = "Created", body = AppointmentTypeView)))]
pub async fn create_type(
    Acting(app): Acting,
    Json(body): Json<AppointmentTypeBody>,
) -> Result<impl IntoResponse> {
    let t = app.create_appointment_type(body.into()).await?;
    Ok(created(format!("/appointment-types/{}", t.id), t))
}

#[utoipa::path(put, path = "/appointment-types/{id}", tag = "records", request_body = AppointmentTypeBody,
    params(("id" = Uuid, Path, description = "Appointment type id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Updated", body = AppointmentTypeView)))]
pub async fn update_type(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<AppointmentTypeBody>,
) -> Result<Json<AppointmentType>> {
    let v = if_match.or(body.version);
    Ok(Json(
        app.update_appointment_type(AppointmentTypeId(id), v, body.into())
            .await?,
    ))
}

#[utoipa::path(get, path = "/appointment-types/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "Appointment type id")),
    responses((status = 200, description = "The appointment type", body = AppointmentTypeView)))]
pub async fn get_type(Acting(app): Acting, Path(id): Path<Uuid>) -> Result<Json<AppointmentType>> {
    Ok(Json(app.appointment_type(AppointmentTypeId(id)).await?))
}

// ---------- working hours ----------

#[utoipa::path(get, path = "/working-hours/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "Working-hours rule id")),
    responses((status = 200, description = "The rule", body = WorkingHoursView)))]
pub async fn get_hours(Acting(app): Acting, Path(id): Path<Uuid>) -> Result<Json<WorkingHours>> {
    Ok(Json(app.working_hours_rule(WorkingHoursId(id)).await?))
}

#[utoipa::path(get, path = "/working-hours", tag = "records", params(ScopeQuery),
    responses((status = 200, description = "Weekly rules", body = [WorkingHoursView])))]
pub async fn list_hours(
    Acting(app): Acting,
    Query(q): Query<ScopeQuery>,
) -> Result<Json<Vec<WorkingHours>>> {
    Ok(Json(
        app.working_hours(q.vet_id.map(VetId), q.clinic_id.map(ClinicId))
            .await?,
    ))
}

#[utoipa::path(post, path = "/working-hours", tag = "records", request_body = WorkingHoursBody,
    responses((status = 201, description = "Created", body = WorkingHoursView)))]
pub async fn create_hours(
    Acting(app): Acting,
    Json(body): Json<WorkingHoursBody>,
) -> Result<impl IntoResponse> {
    let w = app.add_working_hours(body.try_into()?).await?;
    Ok(created(format!("/working-hours/{}", w.id), w))
}

#[utoipa::path(put, path = "/working-hours/{id}", tag = "records", request_body = WorkingHoursBody,
    params(("id" = Uuid, Path, description = "Working-hours rule id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Updated", body = WorkingHoursView)))]
pub async fn update_hours(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<WorkingHoursBody>,
) -> Result<Json<WorkingHours>> {
    let v = if_match.or(body.version);
    Ok(Json(
        app.update_working_hours(WorkingHoursId(id), v, body.try_into()?)
            .await?,
    ))
}

// ---------- date overrides ----------

#[utoipa::path(get, path = "/date-overrides", tag = "records", params(OverrideQuery),
    responses((status = 200, description = "Overrides in the date range", body = [DateOverrideView])))]
pub async fn list_overrides(
    Acting(app): Acting,
    Query(q): Query<OverrideQuery>,
) -> Result<Json<Vec<DateOverride>>> {
    Ok(Json(
        app.date_overrides(q.vet_id.map(VetId), q.clinic_id.map(ClinicId), q.from, q.to)
            .await?,
    ))
}

/// Set (or replace) the override for a vet, clinic and date.
#[utoipa::path(put, path = "/date-overrides", tag = "records", request_body = DateOverrideBody,
    responses((status = 200, description = "The override as set", body = DateOverrideView)))]
pub async fn set_override(
    Acting(app): Acting,
    Json(body): Json<DateOverrideBody>,
) -> Result<Json<DateOverride>> {
    Ok(Json(app.set_date_override(body.into()).await?))
}

// ---------- time off ----------

#[utoipa::path(get, path = "/time-off", tag = "records", params(ScopeQuery),
    responses((status = 200, description = "Time off", body = [TimeOffView])))]
pub async fn list_time_off(
    Acting(app): Acting,
    Query(q): Query<ScopeQuery>,
) -> Result<Json<Vec<TimeOff>>> {
    Ok(Json(app.time_off(q.vet_id.map(VetId)).await?))
}

#[utoipa::path(post, path = "/time-off", tag = "records", request_body = TimeOffBody,
    responses((status = 201, description = "Created", body = TimeOffView)))]
pub async fn create_time_off(
    Acting(app): Acting,
    Json(body): Json<TimeOffBody>,
) -> Result<impl IntoResponse> {
    let t = app.add_time_off(body.try_into()?).await?;
    Ok(created(format!("/time-off/{}", t.id), t))
}

#[utoipa::path(get, path = "/time-off/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "Time-off id")),
    responses((status = 200, description = "The time off", body = TimeOffView)))]
pub async fn get_time_off(Acting(app): Acting, Path(id): Path<Uuid>) -> Result<Json<TimeOff>> {
    Ok(Json(app.time_off_record(TimeOffId(id)).await?))
}

#[utoipa::path(put, path = "/time-off/{id}", tag = "records", request_body = TimeOffBody,
    params(("id" = Uuid, Path, description = "Time-off id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Updated", body = TimeOffView)))]
pub async fn update_time_off(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<TimeOffBody>,
) -> Result<Json<TimeOff>> {
    let v = if_match.or(body.version);
    Ok(Json(
        app.update_time_off(TimeOffId(id), v, body.try_into()?)
            .await?,
    ))
}

// ---------- deletion ----------

async fn delete(
    app: &App,
    entity: Entity,
    id: Uuid,
    version: Option<i64>,
) -> Result<Json<Deleted>> {
    let version = version.ok_or_else(|| ApiError::Request {
        status: StatusCode::PRECONDITION_REQUIRED,
        detail: "name the version you are deleting: ?version=N or an If-Match header".into(),
    })?;
    let version = app.delete_record(entity, id, version).await?;
    Ok(Json(Deleted { id, version }))
}

macro_rules! deletion {
    ($name:ident, $path:literal, $entity:expr, $what:literal) => {
        #[doc = concat!("Delete ", $what, " (kept as a tombstone).")]
        #[utoipa::path(delete, path = $path, tag = "records",
            params(("id" = Uuid, Path, description = "Record id"), VersionQuery,
                   ("If-Match" = Option<String>, Header, description = "The version being deleted")),
            responses((status = 200, description = "Deleted", body = Deleted)))]
        pub async fn $name(
            Acting(app): Acting,
            if_match: IfMatch,
            Path(id): Path<Uuid>,
            Query(q): Query<VersionQuery>,
        ) -> Result<Json<Deleted>> {
            delete(&app, $entity, id, if_match.or(q.version)).await
        }
    };
}

deletion!(delete_client, "/clients/{id}", Entity::Client, "an owner");
deletion!(delete_pet, "/pets/{id}", Entity::Pet, "a pet");
deletion!(
    delete_hours,
    "/working-hours/{id}",
    Entity::WorkingHours,
    "a working-hours rule"
);
deletion!(
    delete_override,
    "/date-overrides/{id}",
    Entity::DateOverride,
    "a date override"
);
deletion!(
    delete_time_off,
    "/time-off/{id}",
    Entity::TimeOff,
    "time off"
);
