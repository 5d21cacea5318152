//! Every failure leaves as `application/problem+json` (RFC 9457) carrying the
//! stable `code` the other adapters use. The mapping from [`AppError`] to a
//! status lives here and nowhere else.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vetdesk_app::{AppError, ErrorCode};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:vetdesk:problem:<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The stable machine-readable code (`invalid_input`, `not_found`, `conflict`, …).
    pub code: String,
    /// Every reason the time is not free (conflicts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::dto::ConflictView>>)]
    pub conflicts: Option<serde_json::Value>,
    /// Each conflict in words, in the clinic's time (conflicts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<String>>,
    /// The record as it is now (stale versions, when known).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
    /// Seconds to wait before trying again (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

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
    match code {
        ErrorCode::InvalidInput | ErrorCode::InvalidTransition => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict | ErrorCode::StaleVersion | ErrorCode::Duplicate => {
            StatusCode::CONFLICT
        }
        ErrorCode::Busy | ErrorCode::StoreUnavailable | ErrorCode::SchemaTooNew => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
    }
}

fn title_of(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidInput => "Invalid input",
        ErrorCode::NotFound => "Not found",
        ErrorCode::Conflict => "The time is not available",
        ErrorCode::StaleVersion => "Changed by someone else",
        ErrorCode::InvalidTransition => "Invalid status change",
        ErrorCode::Duplicate => "Duplicate",
        ErrorCode::Busy => "The database is busy",
        ErrorCode::StoreUnavailable => "The database is unavailable",
        ErrorCode::SchemaTooNew => "The database is newer than this server",
        ErrorCode::Internal => "Internal error",
        ErrorCode::Unauthenticated => "Sign in first",
        ErrorCode::Forbidden => "Not allowed for your role",
        ErrorCode::TooManyAttempts => "Too many sign-in attempts",
    }
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, title: &str, detail: String) -> Self {
        Problem {
            kind: format!("urn:vetdesk:problem:{code}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            code: code.to_string(),
            conflicts: None,
            messages: None,
            current: None,
            retry_after: None,
        }
    }

    /// The problem document for an application error (the desktop app reuses it for
    /// its `{ code, message, details }`, so both adapters say the same).
    pub fn from_app(e: AppError) -> Self {
        let code = e.code();
        let status = status_of(code);
        let detail = if code == ErrorCode::Internal {
            tracing::error!(error = %e, "internal error");
            "something went wrong on the server; the cause has been logged".to_string()
        } else {
            e.to_string()
        };
        let mut p = Problem::new(status, code.as_str(), title_of(code), detail);
        match e {
            AppError::Conflict {
                conflicts,
                time_zone,
            } => {
                p.messages = Some(conflicts.iter().map(|c| c.describe(time_zone)).collect());
                p.conflicts = serde_json::to_value(&conflicts).ok();
            }
            AppError::StaleVersion { current, .. } => p.current = current.map(|c| *c),
            AppError::TooManyAttempts { retry_after_secs }
            | AppError::SignInBusy { retry_after_secs } => p.retry_after = Some(retry_after_secs),
            _ => {}
        }
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response();
        if let Some(secs) = self.retry_after {
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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let invalid = ErrorCode::InvalidInput.as_str();
        match self {
            ApiError::App(e) => Problem::from_app(e),
            ApiError::Request { status, detail } => {
                let title = status.canonical_reason().unwrap_or("Bad request");
                Problem::new(status, invalid, title, detail)
            }
            ApiError::NoRoute => Problem::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound.as_str(),
                "Not found",
                "there is no such resource".into(),
            ),
            ApiError::MethodNotAllowed => Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                invalid,
                "Method not allowed",
                "this resource does not accept that method".into(),
            ),
        }
        .into_response()
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

    #[test]
    fn every_code_has_a_status_and_only_internal_is_a_500() {
        use ErrorCode::*;
        for (code, status) in [
            (InvalidInput, 422),
            (NotFound, 404),
            (Conflict, 409),
            (StaleVersion, 409),
            (InvalidTransition, 422),
            (Duplicate, 409),
            (Busy, 503),
            (StoreUnavailable, 503),
            (SchemaTooNew, 503),
            (Internal, 500),
            (Unauthenticated, 401),
            (Forbidden, 403),
            (TooManyAttempts, 429),
        ] {
            assert_eq!(status_of(code).as_u16(), status, "{code:?}");
        }
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
