//! How SQLite binds and reads vetdesk's values: instants as milliseconds
//! since the epoch, dates as `YYYY-MM-DD` text, UUIDs as 16-byte blobs,
//! JSON as text.

use crate::{Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Row, Sqlite};
use vetdesk_core::parse_date;

pub(super) fn from_ms(v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v)
        .ok_or_else(|| StoreError::Corrupt(format!("instant {v} out of range")))
}

crate::sql::dialect!(
    Sqlite, SqliteConnection, SqliteRow, sqlx::sqlite::SqliteArguments<'q>,
    instant: |t: DateTime<Utc>| t.timestamp_millis(),
    date: |d: NaiveDate| d.format("%Y-%m-%d").to_string(),
    {
        const CLAIM_LOCK: &'static str = "";
        const LEASE_CLOCK: Option<&'static str> = None;

        fn plus_millis(instant: &str, ms: &str) -> String {
            // Instants are milliseconds since the epoch.
            format!("({instant} + {ms})")
        }
        const ORDERED_CHANGES: bool = true;

        fn opt_int(r: &SqliteRow, col: &str) -> Result<Option<i64>> {
            Ok(r.try_get(col)?)
        }
        fn opt_instant(r: &SqliteRow, col: &str) -> Result<Option<DateTime<Utc>>> {
            r.try_get::<Option<i64>, _>(col)?.map(from_ms).transpose()
        }
        fn opt_date(r: &SqliteRow, col: &str) -> Result<Option<NaiveDate>> {
            r.try_get::<Option<&str>, _>(col)?
                .map(|s| parse_date(s).map_err(crate::sql::rows::corrupt))
                .transpose()
        }
    }
);
