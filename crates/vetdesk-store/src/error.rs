use crate::Entity;
use std::path::PathBuf;
use vetdesk_core::Booking;

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
    /// The database itself refused an appointment whose blocked time overlaps
    /// these (PostgreSQL's exclusion constraint): another workstation won the slot.
    #[error("the time is already taken by {} appointment(s)", .taken_by.len())]
    Overlap { taken_by: Vec<Booking> },
    /// A uniqueness rule held by the database refused the write.
    #[error("{0}")]
    Duplicate(String),
    /// A referenced record does not exist.
    #[error("a referenced record does not exist: {0}")]
    MissingReference(String),
    #[error("the database was written by a newer vetdesk (it has migration {found}, this build knows up to {known}); upgrade vetdesk to open it")]
    SchemaTooNew { found: i64, known: i64 },
    /// The database lacks migrations this build needs, and the store was
    /// opened to apply none ([`crate::Schema::Expect`]: `vetdesk serve`).
    #[error("the database is at migration {found} and this vetdesk needs migration {needed}; run `vetdesk migrate` as the role that owns the database (vetdesk serve never changes the schema)")]
    SchemaTooOld { found: i64, needed: i64 },
    /// A PostgreSQL role cannot be used as asked (granting a runtime role, or reading the schema).
    #[error("{0}")]
    Role(String),
    #[error("cannot open the database: {0}")]
    Unavailable(String),
    /// The connection asked for TLS (its `sslmode`) and could not have it.
    #[error("PostgreSQL at {server}: {problem} (sslmode={sslmode})")]
    Tls {
        server: String,
        sslmode: &'static str,
        problem: TlsProblem,
    },
    /// Busy, locked, a serialization failure or a deadlock: the same work may succeed if retried.
    #[error("the database is busy; try again")]
    Busy,
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The database file itself is damaged (`PRAGMA quick_check` failed, or
    /// SQLite says it is not a database): nothing in it can be trusted.
    #[error("{}", corrupt_database(.file.as_deref(), .detail, .newest_backup.as_deref()))]
    CorruptDatabase {
        /// The damaged file, when known (at open).
        file: Option<PathBuf>,
        detail: String,
        /// The newest backup beside it that passes its own check, if any.
        newest_backup: Option<PathBuf>,
    },
    /// Another process has the database open (restore refuses to replace it).
    #[error("{0}")]
    InUse(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

/// Why TLS to the database failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsProblem {
    /// The server answered that it does not speak TLS.
    #[error(
        "the server does not offer TLS, and the connection requires it; turn on ssl in the \
         server's postgresql.conf, or set sslmode=prefer or sslmode=disable in the database URL \
         only on a network you trust"
    )]
    NotOffered,
    /// The handshake failed, or the server's certificate was not trusted for its name.
    #[error(
        "TLS failed: {0}; if a private CA signed the server's certificate, name it with \
         sslrootcert=/path/to/ca.pem in the database URL"
    )]
    Handshake(String),
}

fn corrupt_database(
    file: Option<&std::path::Path>,
    detail: &str,
    backup: Option<&std::path::Path>,
) -> String {
    let what = file.map_or("the database".to_string(), |f| {
        format!("the database {}", f.display())
    });
    let remedy = match backup {
        Some(b) => format!(
            "the newest good backup is {b}; stop vetdesk and run `vetdesk restore {b}`",
            b = b.display()
        ),
        None => "no good backup was found beside it".to_string(),
    };
    format!("{what} is damaged ({detail}); {remedy}")
}

/// SQLite's "corrupt" (and its extended codes) and "not a database";
/// PostgreSQL's "data corrupted" and "index corrupted".
pub(crate) fn means_corrupt(code: &str) -> bool {
    matches!(
        code,
        "11" | "267" | "523" | "779" | "26" | "XX001" | "XX002"
    )
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // SQLite extended result codes, then PostgreSQL SQLSTATEs.
            match db.code().as_deref() {
                Some("2067") | Some("1555") | Some("23505") => {
                    return StoreError::Duplicate(db.message().to_string())
                }
                Some("787") | Some("23503") => {
                    return StoreError::MissingReference(db.message().to_string())
                }
                // Busy / locked; serialization failure, deadlock, lock or statement timeout.
                Some("5") | Some("517") | Some("6") | Some("262") | Some("40001")
                | Some("40P01") | Some("55P03") | Some("57014") => return StoreError::Busy,
                Some(code) if means_corrupt(code) => {
                    return StoreError::CorruptDatabase {
                        file: None,
                        detail: db.message().to_string(),
                        newest_backup: None,
                    }
                }
                // An exclusion violation outside save_appointment (which names the winners itself).
                Some("23P01") => {
                    return StoreError::Overlap {
                        taken_by: Vec::new(),
                    }
                }
                _ => {}
            }
        }
        match e {
            sqlx::Error::PoolTimedOut => StoreError::Busy,
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(e.to_string()),
            other => StoreError::Database(other),
        }
    }
}
