//! What a failed command gives the UI: `{ code, message, details }`, with the
//! same codes and the same details as the HTTP API's problem documents (the
//! mapping is the HTTP crate's [`Problem::from_app`], so the two cannot drift).

use serde::Serialize;
use serde_json::{Map, Value};
use vetdesk_app::{AppError, ErrorCode};
use vetdesk_http::error::Problem;

/// A command's error, serialised for the webview.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    /// The stable code (`invalid_input`, `forbidden`, `conflict`, …).
    pub code: String,
    /// A sentence about this case; never an internal cause.
    pub message: String,
    /// What the HTTP problem document carries besides its standard members:
    /// `conflicts` and `messages`, `current`, `retry_after`.
    pub details: Map<String, Value>,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CommandError {
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

impl From<AppError> for CommandError {
    fn from(e: AppError) -> Self {
        // `from_app` logs an internal error's cause and keeps it out of `detail`.
        let problem = Problem::from_app(e);
        let message = problem.detail.clone();
        let code = problem.code.clone();
        let details = match serde_json::to_value(problem) {
            Ok(Value::Object(mut members)) => {
                for standard in ["type", "title", "status", "detail", "code"] {
                    members.remove(standard);
                }
                members
            }
            _ => Map::new(),
        };
        CommandError {
            code,
            message,
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_cause_out() {
        let e = CommandError::from(AppError::Internal("disk on fire at /var/db".into()));
        assert_eq!(e.code, "internal");
        assert!(!e.message.contains("disk"), "{}", e.message);
        assert!(e.details.is_empty());
    }

    #[test]
    fn stale_versions_carry_the_current_record_as_http_does() {
        let e = CommandError::from(AppError::StaleVersion {
            entity: vetdesk_store::Entity::Clinic,
            id: "c1".into(),
            expected: 1,
            actual: 2,
            current: Some(Box::new(serde_json::json!({ "name": "now" }))),
        });
        assert_eq!(e.code, "stale_version");
        assert_eq!(e.details["current"]["name"], "now");
        assert!(!e.details.contains_key("status"));
        let wire = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(wire["code"], "stale_version");
        assert!(wire["message"]
            .as_str()
            .is_some_and(|m| m.contains("changed by someone else")));
    }

    #[test]
    fn throttled_sign_ins_say_how_long_to_wait() {
        let e = CommandError::from(AppError::TooManyAttempts {
            retry_after_secs: 42,
        });
        assert_eq!(e.code, "too_many_attempts");
        assert_eq!(e.details["retry_after"], 42);
    }
}
