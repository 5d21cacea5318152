//! Extractors whose rejections are problem documents, never axum's plain text,
//! and the per-request values handlers receive (the acting person, `If-Match`).

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vetdesk_core::Actor;

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

/// Who is acting, as appointment history records it. Today the
/// `X-Vetdesk-Actor` header names them (default `api`); an authentication
/// layer will put the token's user here instead, and handlers stay as they are.
#[derive(Debug, Clone)]
pub struct CurrentActor(pub Actor);

pub const ACTOR_HEADER: &str = "x-vetdesk-actor";

/// Middleware: put the acting person into the request's extensions.
pub async fn identify(mut req: Request, next: Next) -> Response {
    let name = req
        .headers()
        .get(ACTOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.len() <= 100)
        .unwrap_or("api")
        .to_string();
    req.extensions_mut().insert(CurrentActor(Actor::new(name)));
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentActor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(parts
            .extensions
            .get::<CurrentActor>()
            .cloned()
            .unwrap_or_else(|| CurrentActor(Actor::new("api"))))
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
