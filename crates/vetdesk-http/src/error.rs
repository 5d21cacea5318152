//! Every failure leaves as `application/problem+json` (RFC 9457) carrying the
//! stable `code` the other adapters use. The document and the mapping from
//! [`AppError`] to a status are the wire crate's ([`problem`]); this module
//! makes them responses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use vetdesk_app::{AppError, ErrorCode};
pub use vetdesk_wire::problem::{self, Problem};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// What a handler can fail with.
#[derive(Debug)]
pub enum ApiError {
    App(AppError),
    /// The request itself could not be read (bad JSON, bad query, wrong content type, too large).
    Request {
        status: StatusCode,
        detail: String,
    },
    /// No such route.
    NoRoute,
    /// The route exists, the method does not.
    MethodNotAllowed,
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::Request {
            status: StatusCode::BAD_REQUEST,
            detail: detail.into(),
        }
    }
}

/// The HTTP status for an application error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(problem::status_of(code)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A problem document as a response, with `Retry-After` and `WWW-Authenticate`
/// where its status calls for them.
pub fn respond(p: Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&p).unwrap_or_default();
    let mut res = (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
        body,
    )
        .into_response();
    if let Some(secs) = p.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"vetdesk\""),
        );
    }
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let invalid = ErrorCode::InvalidInput.as_str();
        respond(match self {
            ApiError::App(e) => Problem::from_app(e),
            ApiError::Request { status, detail } => {
                let title = status.canonical_reason().unwrap_or("Bad request");
                Problem::new(status.as_u16(), invalid, title, detail)
            }
            ApiError::NoRoute => Problem::new(
                StatusCode::NOT_FOUND.as_u16(),
                ErrorCode::NotFound.as_str(),
                "Not found",
                "there is no such resource".into(),
            ),
            ApiError::MethodNotAllowed => Problem::new(
                StatusCode::METHOD_NOT_ALLOWED.as_u16(),
                invalid,
                "Method not allowed",
                "this resource does not accept that method".into(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn problem(e: AppError) -> (StatusCode, String, serde_json::Value) {
        let res = ApiError::App(e).into_response();
        let status = res.status();
        let ct = res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or_default()
            .to_string();
        let body = to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (
            status,
            ct,
            serde_json::from_slice(&body).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn internal_errors_keep_their_cause_out_of_the_response() {
        let (status, ct, body) =
            problem(AppError::Internal("disk on fire at /var/db".into())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(ct, PROBLEM_JSON);
        assert_eq!(body["code"], "internal");
        assert!(!body["detail"].as_str().unwrap_or_default().contains("disk"));
    }

    #[tokio::test]
    async fn stale_versions_carry_the_current_record() {
        let (status, _, body) = problem(AppError::StaleVersion {
            entity: vetdesk_store::Entity::Clinic,
            id: "c1".into(),
            expected: 1,
            actual: 2,
            current: Some(Box::new(serde_json::json!({ "name": "now" }))),
        })
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["code"], "stale_version");
        assert_eq!(body["current"]["name"], "now");
        assert_eq!(body["type"], "urn:vetdesk:problem:stale_version");
    }
}
