//! The error shapes both adapters give, from one mapping of [`AppError`]:
//! the HTTP API's RFC 9457 [`Problem`] and the desktop commands'
//! `{ code, message, details }` ([`ErrorBody`]). The status of each code, its
//! title and which details it carries are decided here and nowhere else.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use vetdesk_app::{AppError, ErrorCode};

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
    #[schema(value_type = Option<Vec<crate::ConflictView>>)]
    pub conflicts: Option<Value>,
    /// Each conflict in words, in the clinic's time (conflicts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<String>>,
    /// The record as it is now (stale versions, when known).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<Value>,
    /// Seconds to wait before trying again (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The newest good backup of a damaged database (`corrupt_database`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_backup: Option<String>,
}

/// The HTTP status for an application error code.
pub fn status_of(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::InvalidInput | ErrorCode::InvalidTransition => 422,
        ErrorCode::NotFound => 404,
        ErrorCode::Conflict | ErrorCode::StaleVersion | ErrorCode::Duplicate => 409,
        ErrorCode::Busy
        | ErrorCode::StoreUnavailable
        | ErrorCode::SchemaTooNew
        | ErrorCode::CorruptDatabase => 503,
        ErrorCode::Internal => 500,
        ErrorCode::Unauthenticated => 401,
        ErrorCode::Forbidden => 403,
        ErrorCode::TooManyAttempts => 429,
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
        ErrorCode::CorruptDatabase => "The database file is damaged",
    }
}

impl Problem {
    pub fn new(status: u16, code: &str, title: &str, detail: String) -> Self {
        Problem {
            kind: format!("urn:vetdesk:problem:{code}"),
            title: title.to_string(),
            status,
            detail,
            code: code.to_string(),
            conflicts: None,
            messages: None,
            current: None,
            retry_after: None,
            newest_backup: None,
        }
    }

    /// The problem document for an application error.
    pub fn from_app(e: AppError) -> Self {
        let code = e.code();
        let detail = if code == ErrorCode::Internal {
            tracing::error!(error = %e, "internal error");
            "something went wrong on the server; the cause has been logged".to_string()
        } else {
            e.to_string()
        };
        let mut p = Problem::new(status_of(code), code.as_str(), title_of(code), detail);
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
            AppError::CorruptDatabase { newest_backup, .. } => p.newest_backup = newest_backup,
            _ => {}
        }
        p
    }
}

/// A failed desktop command, as the webview receives it: the same code and
/// details as the HTTP problem document, without HTTP's members.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ErrorBody {
    /// The stable code (`invalid_input`, `forbidden`, `conflict`, …).
    pub code: String,
    /// A sentence about this case; never an internal cause.
    pub message: String,
    /// `conflicts` and `messages`, `current`, `retry_after`, `newest_backup`, as
    /// the problem document has them.
    pub details: Map<String, Value>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            code: code.as_str().to_string(),
            message: message.into(),
            details: Map::new(),
        }
    }

    /// The arguments could not be read (wrong shape or type): nothing ran.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }
}

impl From<AppError> for ErrorBody {
    fn from(e: AppError) -> Self {
        // `from_app` logs an internal error's cause and keeps it out of `detail`.
        let p = Problem::from_app(e);
        let mut details = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                details.insert(key.to_string(), v);
            }
        };
        put("conflicts", p.conflicts);
        put("messages", p.messages.map(Value::from));
        put("current", p.current);
        put("retry_after", p.retry_after.map(Value::from));
        put("newest_backup", p.newest_backup.map(Value::from));
        ErrorBody {
            code: p.code,
            message: p.detail,
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (CorruptDatabase, 503),
        ] {
            assert_eq!(status_of(code), status, "{code:?}");
        }
    }

    #[test]
    fn internal_errors_keep_their_cause_out() {
        let e = ErrorBody::from(AppError::Internal("disk on fire at /var/db".into()));
        assert_eq!(e.code, "internal");
        assert!(!e.message.contains("disk"), "{}", e.message);
        assert!(e.details.is_empty());
    }

    #[test]
    fn stale_versions_carry_the_current_record_in_both_shapes() {
        let stale = || AppError::StaleVersion {
            entity: vetdesk_store::Entity::Clinic,
            id: "c1".into(),
            expected: 1,
            actual: 2,
            current: Some(Box::new(serde_json::json!({ "name": "now" }))),
        };
        let e = ErrorBody::from(stale());
        assert_eq!(e.code, "stale_version");
        assert_eq!(e.details["current"]["name"], "now");
        assert!(!e.details.contains_key("status"));
        let wire = serde_json::to_value(&e).unwrap_or_default();
        assert!(wire["message"]
            .as_str()
            .is_some_and(|m| m.contains("changed by someone else")));
        let p = serde_json::to_value(Problem::from_app(stale())).unwrap_or_default();
        assert_eq!(p["current"]["name"], "now");
        assert_eq!(p["status"], 409);
        assert_eq!(p["type"], "urn:vetdesk:problem:stale_version");
    }

    #[test]
    fn a_damaged_database_is_no_500_and_names_its_newest_backup_in_both_shapes() {
        let damaged = || AppError::CorruptDatabase {
            message: "the database /d/vetdesk.db is damaged (…)".into(),
            newest_backup: Some("/d/backups/vetdesk-20261201T030000Z.db".into()),
        };
        let p = serde_json::to_value(Problem::from_app(damaged())).unwrap_or_default();
        assert_eq!(p["status"], 503);
        assert_eq!(p["code"], "corrupt_database");
        assert_eq!(p["newest_backup"], "/d/backups/vetdesk-20261201T030000Z.db");
        let e = ErrorBody::from(damaged());
        assert_eq!(e.code, "corrupt_database");
        assert_eq!(
            e.details["newest_backup"],
            "/d/backups/vetdesk-20261201T030000Z.db"
        );
        assert!(e.message.contains("damaged"), "{}", e.message);
    }

    #[test]
    fn throttled_sign_ins_say_how_long_to_wait() {
        let e = ErrorBody::from(AppError::TooManyAttempts {
            retry_after_secs: 42,
        });
        assert_eq!(e.code, "too_many_attempts");
        assert_eq!(e.details["retry_after"], 42);
    }
}
