//! Signing in and out, users (admin only), and the audit log (admin only).
//! The role checks themselves live in the application layer.

use crate::client::ClientAddr;
use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{Acting, BearerToken, IfMatch, Json, Path, Query};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use uuid::Uuid;
use vetdesk_app::{App, SessionGrant};
use vetdesk_core::{User, UserId};
use vetdesk_store::{AuditRecord, Page};

type Result<T> = std::result::Result<T, ApiError>;

/// Sign in with a username and password: a bearer token for the other endpoints.
/// Attempts are limited per client address, and failed ones per username and
/// per address (429 with `Retry-After`).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginBody,
    security(()),
    responses((status = 200, description = "Signed in", body = SessionView),
        (status = 401, description = "Wrong username or password, or a disabled account", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-in attempts; wait `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn login(
    State(app): State<App>,
    ClientAddr(addr): ClientAddr,
    Json(body): Json<LoginBody>,
) -> Result<Json<SessionGrant>> {
    let source = addr.map(|a| a.to_string());
    Ok(Json(
        app.login(&body.username, &body.password, source.as_deref())
            .await?,
    ))
}

/// Sign out: the token stops working at once.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out")))]
pub async fn logout(Acting(app): Acting, BearerToken(token): BearerToken) -> Result<StatusCode> {
    app.logout(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, description = "The signed-in user", body = UserView)))]
pub async fn me(Acting(app): Acting) -> Result<Json<User>> {
    Ok(Json(app.me().await?))
}

/// Every user (admin).
#[utoipa::path(get, path = "/users", tag = "users",
    responses((status = 200, description = "Every user", body = [UserView])))]
pub async fn list_users(Acting(app): Acting) -> Result<Json<Vec<User>>> {
    Ok(Json(app.users().await?))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/users", tag = "users", request_body = UserBody,
    responses((status = 201, description = "Created", body = UserView,
        headers(("Location" = String, description = "The new user")))))]
pub async fn create_user(
    Acting(app): Acting,
    Json(body): Json<UserBody>,
) -> Result<impl IntoResponse> {
    let u = app.create_user(body.into()).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/users/{}", u.id))],
        Json(u),
    ))
}

/// One user (admin, or the user themself).
#[utoipa::path(get, path = "/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user", body = UserView)))]
pub async fn get_user(Acting(app): Acting, Path(id): Path<Uuid>) -> Result<Json<User>> {
    Ok(Json(app.user(UserId(id)).await?))
}

/// Change a user's name, role, vet, password or disabled flag (admin).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = UserPatchBody,
    params(("id" = Uuid, Path, description = "User id"),
           ("If-Match" = Option<String>, Header, description = "The version the change is made against")),
    responses((status = 200, description = "Updated", body = UserView)))]
pub async fn update_user(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Json(body): Json<UserPatchBody>,
) -> Result<Json<User>> {
    let v = if_match.or(body.version);
    Ok(Json(app.update_user(UserId(id), v, body.into()).await?))
}

/// Remove a user (kept as a tombstone); their sessions end (admin).
#[utoipa::path(delete, path = "/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "User id"), VersionQuery,
           ("If-Match" = Option<String>, Header, description = "The version being deleted")),
    responses((status = 200, description = "Deleted", body = Deleted)))]
pub async fn delete_user(
    Acting(app): Acting,
    if_match: IfMatch,
    Path(id): Path<Uuid>,
    Query(q): Query<VersionQuery>,
) -> Result<Json<Deleted>> {
    let version = if_match.or(q.version).ok_or_else(|| ApiError::Request {
        status: StatusCode::PRECONDITION_REQUIRED,
        detail: "name the version you are deleting: ?version=N or an If-Match header".into(),
    })?;
    let version = app.delete_user(UserId(id), version).await?;
    Ok(Json(Deleted { id, version }))
}

/// The audit log, newest first (admin): who did what, when, before and after.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of audit lines", body = AuditPageView)))]
pub async fn audit(
    Acting(app): Acting,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Page<AuditRecord>>> {
    Ok(Json(app.audit_log(q.into()).await?))
}
