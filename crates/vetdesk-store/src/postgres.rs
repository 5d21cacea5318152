//! The PostgreSQL engine (being written).

use crate::{Result, StoreError};

pub struct PgStore;

impl PgStore {
    pub async fn connect(_url: &str) -> Result<Self> {
        Err(StoreError::Unsupported(
            "PostgreSQL stores are not available in this build yet; use a SQLite file".into(),
        ))
    }
}
