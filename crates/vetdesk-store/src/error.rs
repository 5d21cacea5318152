use crate::Entity;

/// What can go wrong in the store, in terms the application layer can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} not found")]
    NotFound { entity: Entity, id: String },
    #[error("{entity} {id} was changed by someone else (you had version {expected}, it is now {actual})")]
    StaleVersion {
        entity: Entity,
        id: String,
        expected: i64,
        actual: i64,
    },
    /// A uniqueness rule held by the database refused the write.
    #[error("{0}")]
    Duplicate(String),
    /// A referenced record does not exist.
    #[error("a referenced record does not exist: {0}")]
    MissingReference(String),
    #[error("the database was written by a newer vetdesk (it has migration {found}, this build knows up to {known}); upgrade vetdesk to open it")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("cannot open the database: {0}")]
    Unavailable(String),
    #[error("the database is busy; try again")]
    Busy,
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // SQLite extended result codes.
            match db.code().as_deref() {
                Some("2067") | Some("1555") => {
                    return StoreError::Duplicate(db.message().to_string())
                }
                Some("787") => return StoreError::MissingReference(db.message().to_string()),
                Some("5") | Some("517") | Some("6") | Some("262") => return StoreError::Busy,
                _ => {}
            }
        }
        match e {
            sqlx::Error::PoolTimedOut => StoreError::Busy,
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(e.to_string()),
            other => StoreError::Database(other),
        }
    }
}
