use chrono_tz::Tz;
use serde::Serialize;
use vetdesk_core::{Conflict, Denied, TransitionError, ValidationError};
use vetdesk_store::{Entity, StoreError};

/// The stable codes every adapter maps errors to (HTTP problem `code`, Tauri
/// `{ code }`, CLI exit status). Never renamed once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    NotFound,
    Conflict,
    StaleVersion,
    InvalidTransition,
    Duplicate,
    Busy,
    StoreUnavailable,
    SchemaTooNew,
    Internal,
    /// No valid sign-in: a missing, unknown, expired or revoked token, or wrong credentials.
    Unauthenticated,
    /// Signed in, but the role may not do this.
    Forbidden,
    /// Too many failed sign-ins; wait and try again.
    TooManyAttempts,
    /// The database file is damaged; restore a backup (the error names the newest good one).
    CorruptDatabase,
}

impl ErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::StaleVersion => "stale_version",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::Duplicate => "duplicate",
            ErrorCode::Busy => "busy",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::SchemaTooNew => "schema_too_new",
            ErrorCode::Internal => "internal",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::CorruptDatabase => "corrupt_database",
        }
    }
}

/// The application layer's error: the contract the adapters map.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationError),
    #[error("{entity} {id} not found")]
    NotFound { entity: Entity, id: String },
    /// Every reason the time is not free; `time_zone` is the clinic's, for the wording.
    #[error("the time is not available: {}", list(.conflicts, *.time_zone))]
    Conflict {
        conflicts: Vec<Conflict>,
        time_zone: Tz,
    },
    #[error("{entity} {id} was changed by someone else (you had version {expected}, it is now {actual}); reload and try again")]
    StaleVersion {
        entity: Entity,
        id: String,
        expected: i64,
        actual: i64,
        /// The record as it is now, when the use case had read it.
        current: Option<Box<serde_json::Value>>,
    },
    #[error("{0}")]
    InvalidTransition(#[from] TransitionError),
    #[error("pet {pet} belongs to another owner, not client {client}")]
    PetOwnerMismatch { pet: String, client: String },
    #[error("vet {vet} does not work at clinic {clinic}")]
    VetNotAtClinic { vet: String, clinic: String },
    #[error("{0}")]
    Duplicate(String),
    #[error("the database is busy; try again")]
    Busy,
    #[error("{0}")]
    StoreUnavailable(String),
    #[error("{0}")]
    SchemaTooNew(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("not allowed: {0}")]
    Forbidden(#[from] Denied),
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The database file is damaged; `newest_backup` is the newest good copy, if any.
    #[error("{message}")]
    CorruptDatabase {
        message: String,
        newest_backup: Option<String>,
    },
    /// Every password-verification slot stayed busy while this sign-in waited.
    #[error("too many sign-ins at once; try again in {retry_after_secs} seconds")]
    SignInBusy { retry_after_secs: u64 },
}

fn list(conflicts: &[Conflict], tz: Tz) -> String {
    conflicts
        .iter()
        .map(|c| c.describe(tz))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Invalid(_)
            | AppError::PetOwnerMismatch { .. }
            | AppError::VetNotAtClinic { .. } => ErrorCode::InvalidInput,
            AppError::NotFound { .. } => ErrorCode::NotFound,
            AppError::Conflict { .. } => ErrorCode::Conflict,
            AppError::StaleVersion { .. } => ErrorCode::StaleVersion,
            AppError::InvalidTransition(_) => ErrorCode::InvalidTransition,
            AppError::Duplicate(_) => ErrorCode::Duplicate,
            AppError::Busy => ErrorCode::Busy,
            AppError::StoreUnavailable(_) => ErrorCode::StoreUnavailable,
            AppError::SchemaTooNew(_) => ErrorCode::SchemaTooNew,
            AppError::Internal(_) => ErrorCode::Internal,
            AppError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::TooManyAttempts { .. } | AppError::SignInBusy { .. } => {
                ErrorCode::TooManyAttempts
            }
            AppError::CorruptDatabase { .. } => ErrorCode::CorruptDatabase,
        }
    }

    pub fn not_found(entity: Entity, id: impl ToString) -> Self {
        AppError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// The conflicts, when this is a conflict.
    pub fn conflicts(&self) -> &[Conflict] {
        match self {
            AppError::Conflict { conflicts, .. } => conflicts,
            _ => &[],
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, id } => AppError::NotFound { entity, id },
            StoreError::StaleVersion {
                entity,
                id,
                expected,
                actual,
            } => AppError::StaleVersion {
                entity,
                id,
                expected,
                actual,
                current: None,
            },
            StoreError::Duplicate(m) => AppError::Duplicate(m),
            StoreError::MissingReference(m) => AppError::Invalid(ValidationError::Other(format!(
                "a referenced record does not exist ({m})"
            ))),
            StoreError::Busy => AppError::Busy,
            // Normally turned into a conflict by the use case, which knows the clinic's zone.
            StoreError::Overlap { taken_by } => AppError::Conflict {
                conflicts: taken_by
                    .iter()
                    .map(|b| Conflict::Overlap {
                        appointment_id: b.id,
                        start: b.slot.start(),
                        end: b.slot.end(),
                        buffer_only: false,
                    })
                    .collect(),
                time_zone: chrono_tz::UTC,
            },
            e @ StoreError::SchemaTooNew { .. } => AppError::SchemaTooNew(e.to_string()),
            StoreError::CorruptDatabase {
                file,
                detail,
                newest_backup,
            } => AppError::CorruptDatabase {
                newest_backup: newest_backup.as_ref().map(|b| b.display().to_string()),
                message: StoreError::CorruptDatabase {
                    file,
                    detail,
                    newest_backup,
                }
                .to_string(),
            },
            StoreError::Role(m) => AppError::Invalid(ValidationError::Other(m)),
            e @ (StoreError::Unavailable(_)
            | StoreError::SchemaTooOld { .. }
            | StoreError::Unsupported(_)
            | StoreError::InUse(_)
            | StoreError::Tls { .. }) => AppError::StoreUnavailable(e.to_string()),
            e @ (StoreError::Corrupt(_) | StoreError::Database(_)) => {
                tracing::error!(error = %e, "store failure");
                AppError::Internal(e.to_string())
            }
        }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
