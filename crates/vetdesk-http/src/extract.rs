//! Extractors whose rejections are problem documents, never axum's plain text,
//! the authentication middleware, and the per-request values handlers receive
//! (the application acting as the signed-in user, `If-Match`).

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vetdesk_app::{App, AppError};
use vetdesk_core::{Actor, Principal};

/// A JSON body; a malformed one is a 400 problem, one of the wrong shape a 422.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError::Request {
            status: r.status(),
            detail: r.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

/// Who is acting, as appointment history records it: the signed-in user's name.
#[derive(Debug, Clone)]
pub struct CurrentActor(pub Actor);

/// The bearer token of the request (what `/auth/logout` ends).
#[derive(Debug, Clone)]
pub struct BearerToken(pub String);

/// Requests that need no token: signing in, liveness, and the API document.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/health" | "/api/v1/health" | "/api/v1/openapi.json" | "/api/v1/auth/login"
    )
}

/// The token a request carries: `Authorization: Bearer …`, or for the event
/// stream (browsers' `EventSource` cannot send headers) an `access_token` query parameter.
fn token_of(req: &Request) -> Option<String> {
    if let Some(v) = req.headers().get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?.trim();
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    if req.uri().path() == "/api/v1/events" {
        return req.uri().query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "access_token")
                .map(|(_, v)| v.to_string())
        });
    }
    None
}

/// Middleware: every request but the public ones must carry a live session's
/// token; its user becomes the request's principal. Deny by default: a
/// handler reaches the application only through [`Acting`], which has no
/// other way to be built.
pub async fn authenticate(State(app): State<App>, mut req: Request, next: Next) -> Response {
    if is_public(req.uri().path()) {
        return next.run(req).await;
    }
    let Some(token) = token_of(&req) else {
        return ApiError::App(AppError::Unauthenticated(
            "sign in first: send the token from POST /api/v1/auth/login as 'Authorization: Bearer <token>'"
                .into(),
        ))
        .into_response();
    };
    match app.authenticate(&token).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            req.extensions_mut().insert(BearerToken(token));
            next.run(req).await
        }
        Err(e) => ApiError::App(e).into_response(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentActor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .map(|p| CurrentActor(Actor::new(p.username.clone())))
            .ok_or_else(unauthenticated)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<BearerToken>()
            .cloned()
            .ok_or_else(unauthenticated)
    }
}

fn unauthenticated() -> ApiError {
    ApiError::App(AppError::Unauthenticated("sign in first".into()))
}

/// The application, acting as the request's signed-in user: what every
/// protected handler takes instead of the server's own `App`.
pub struct Acting(pub App);

impl FromRequestParts<App> for Acting {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(unauthenticated)?;
        Ok(Acting(app.acting_as(principal)))
    }
}

/// The version named by an `If-Match` header (`"3"`, `W/"3"` or `3`), if any.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl IfMatch {
    /// The body's version wins over the header's.
    pub fn or(self, body: Option<i64>) -> Option<i64> {
        body.or(self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(raw) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = raw.to_str().unwrap_or_default().trim();
        let bare = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        bare.parse::<i64>()
            .map(|v| IfMatch(Some(v)))
            .map_err(|_| ApiError::Request {
                status: StatusCode::BAD_REQUEST,
                detail: format!("If-Match must name a version number, not {text:?}"),
            })
    }
}

/// A JSON body that may be left out altogether, or be `null` (lifecycle steps
/// need none; the document declares these bodies optional and nullable).
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned + Default,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| ApiError::Request {
                status: r.status(),
                detail: r.body_text(),
            })?;
        let text = bytes.trim_ascii();
        if text.is_empty() || text == b"null" {
            return Ok(OptionalJson(T::default()));
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(v)| OptionalJson(v))
            .map_err(ApiError::from)
    }
}
