//! What the command line reports when a command fails: one message and the
//! application's error code, which [`exit_code`] turns into the exit status.

use std::fmt;
use vetdesk_app::{AppError, ErrorCode};
use vetdesk_core::ValidationError;

/// A failed command: the stable code and a message for a person.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// Something went wrong that is not the user's doing.
    pub fn internal(message: impl fmt::Display) -> Self {
        Failure::new(ErrorCode::Internal, format!("internal error: {message}"))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Failure::from(ValidationError::Other(message.into()))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::new(e.code(), e.to_string())
    }
}

impl From<ValidationError> for Failure {
    fn from(e: ValidationError) -> Self {
        Failure::from(AppError::from(e))
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::internal(e)
    }
}

pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// The one place error codes become exit statuses.
pub fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::Internal => 1,
        ErrorCode::InvalidInput => 2,
        ErrorCode::NotFound => 3,
        ErrorCode::Conflict => 4,
        ErrorCode::StaleVersion => 5,
        ErrorCode::InvalidTransition => 6,
        ErrorCode::Busy | ErrorCode::StoreUnavailable | ErrorCode::SchemaTooNew => 7,
        ErrorCode::Duplicate => 8,
        ErrorCode::Unauthenticated | ErrorCode::Forbidden | ErrorCode::TooManyAttempts => 9,
        ErrorCode::CorruptDatabase => 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_exit_status() {
        let cases = [
            (ErrorCode::Internal, 1),
            (ErrorCode::InvalidInput, 2),
            (ErrorCode::NotFound, 3),
            (ErrorCode::Conflict, 4),
            (ErrorCode::StaleVersion, 5),
            (ErrorCode::InvalidTransition, 6),
            (ErrorCode::Busy, 7),
            (ErrorCode::StoreUnavailable, 7),
            (ErrorCode::SchemaTooNew, 7),
            (ErrorCode::Duplicate, 8),
            (ErrorCode::Unauthenticated, 9),
            (ErrorCode::Forbidden, 9),
            (ErrorCode::TooManyAttempts, 9),
            (ErrorCode::CorruptDatabase, 10),
        ];
        for (code, status) in cases {
            assert_eq!(exit_code(code), status, "{code:?}");
        }
    }

    #[test]
    fn validation_errors_are_invalid_input() {
        let f = Failure::from(ValidationError::Date("2024-13-01".into()));
        assert_eq!(f.code, ErrorCode::InvalidInput);
        assert!(f.message.contains("2024-13-01"), "{}", f.message);
    }
}
