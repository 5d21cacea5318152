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
use std::collections::HashMap;
use vetdesk_app::{App, AppError, LiveSession};
use vetdesk_core::Principal;

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

/// The session an event stream runs on (it ends with it).
#[derive(Debug, Clone)]
pub struct StreamSession(pub LiveSession);

/// A request the client made on its own, with nobody at the screen (a
/// calendar's refetch after someone else's change): it does not count as a
/// use of the session, so an unattended front-desk PC still goes idle.
pub const BACKGROUND: &str = "x-vetdesk-background";

/// The path of the live event stream, the one place a ticket signs in.
const EVENTS: &str = "/api/v1/events";

/// The bearer token of `Authorization: Bearer …`, the only place a token is
/// read from: never a URL, which proxies and browsers' histories keep.
fn token_of(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?;
    let v = v.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// A query parameter of the request, decoded.
fn query_param(req: &Request, name: &str) -> Option<String> {
    let axum::extract::Query(q) =
        axum::extract::Query::<HashMap<String, String>>::try_from_uri(req.uri()).ok()?;
    q.get(name).cloned()
}

fn refused(why: &str) -> Response {
    ApiError::App(AppError::Unauthenticated(why.into())).into_response()
}

/// Middleware: every request but the public ones must carry a live session's
/// token; its user becomes the request's principal. Deny by default: a
/// handler reaches the application only through [`Acting`], which has no
/// other way to be built. The event stream may instead be opened with a
/// single-use ticket (`?ticket=`, from `POST /api/v1/events/ticket`).
pub async fn authenticate(State(app): State<App>, mut req: Request, next: Next) -> Response {
    if is_public(req.uri().path()) {
        return next.run(req).await;
    }
    let on_events = req.uri().path() == EVENTS;
    if on_events && query_param(&req, "access_token").is_some() {
        return refused(
            "a bearer token in the URL is not accepted: POST /api/v1/events/ticket with \
             'Authorization: Bearer <token>' and open /api/v1/events?ticket=<ticket>",
        );
    }
    // Only a GET opens a stream (and so spends a ticket).
    let stream = on_events && req.method() == axum::http::Method::GET;
    let token = token_of(&req);
    let background = req.headers().contains_key(BACKGROUND);
    let ticket = if stream && token.is_none() {
        query_param(&req, "ticket")
    } else {
        None
    };
    // (who, the bearer token, the session a stream ends with)
    let signed_in = match (token, ticket) {
        (_, Some(ticket)) => app
            .redeem_stream_ticket(&ticket)
            .await
            .map(|live| (live.principal.clone(), None, Some(live))),
        (Some(token), None) if stream => app
            .live_session(&token)
            .await
            .map(|live| (live.principal.clone(), Some(token), Some(live))),
        (Some(token), None) => app
            .authenticate_use(&token, !background)
            .await
            .map(|p| (p, Some(token), None)),
        (None, None) => {
            return refused(
                "sign in first: send the token from POST /api/v1/auth/login as 'Authorization: Bearer <token>'",
            )
        }
    };
    match signed_in {
        Ok((principal, token, live)) => {
            req.extensions_mut().insert(principal);
            if let Some(token) = token {
                req.extensions_mut().insert(BearerToken(token));
            }
            if let Some(live) = live {
                req.extensions_mut().insert(StreamSession(live));
            }
            next.run(req).await
        }
        Err(e) => ApiError::App(e).into_response(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for StreamSession {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<StreamSession>()
            .cloned()
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
