//! How PostgreSQL binds and reads vetdesk's values: its native `uuid`,
//! `timestamptz`, `date` and `jsonb`; small counts are `integer` columns.

use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Column, Postgres, Row, TypeInfo};

crate::sql::dialect!(
    Postgres, PgConnection, PgRow, sqlx::postgres::PgArguments,
    instant: |t: DateTime<Utc>| t,
    date: |d: NaiveDate| d,
    {
        const CLAIM_LOCK: &'static str = " FOR UPDATE SKIP LOCKED";
        const LEASE_CLOCK: Option<&'static str> = Some("date_trunc('milliseconds', now())");

        fn plus_millis(instant: &str, ms: &str) -> String {
            format!("({instant} + {ms}::float8 * interval '1 millisecond')")
        }
        const ORDERED_CHANGES: bool = false;

        fn opt_int(r: &PgRow, col: &str) -> Result<Option<i64>> {
            // Counts of minutes and attempts are `integer`; versions and positions `bigint`.
            match r.try_column(col)?.type_info().name() {
                "INT4" => Ok(r.try_get::<Option<i32>, _>(col)?.map(i64::from)),
                "INT2" => Ok(r.try_get::<Option<i16>, _>(col)?.map(i64::from)),
                _ => Ok(r.try_get(col)?),
            }
        }
        fn opt_instant(r: &PgRow, col: &str) -> Result<Option<DateTime<Utc>>> {
            Ok(r.try_get(col)?)
        }
        fn opt_date(r: &PgRow, col: &str) -> Result<Option<NaiveDate>> {
            Ok(r.try_get(col)?)
        }
    }
);
