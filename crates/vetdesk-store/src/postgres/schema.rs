//! Which migrations a PostgreSQL database has, and bringing it up to date.
//!
//! The migrations run only when some are missing: sqlx's migrator begins with
//! `CREATE TABLE IF NOT EXISTS _sqlx_migrations`, which PostgreSQL refuses to
//! a role without `CREATE` on the schema even when the table exists, so a
//! runtime role could not open a current database through it.

use crate::sql::migration_failed;
use crate::{Result, Schema, StoreError};
use sqlx::migrate::Migrator;
use sqlx::PgConnection;

/// The versions of the migrations the database has applied, oldest first.
pub(super) async fn applied(conn: &mut PgConnection) -> Result<Vec<i64>> {
    Ok(applied_with_checksums(conn)
        .await?
        .into_iter()
        .map(|(version, _)| version)
        .collect())
}

/// [`applied`], with the checksum each migration had when it was applied.
async fn applied_with_checksums(conn: &mut PgConnection) -> Result<Vec<(i64, Vec<u8>)>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(Vec::new());
    }
    sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| {
            let denied = e.as_database_error().and_then(|d| d.code()).as_deref() == Some("42501");
            if denied {
                StoreError::Role(format!(
                    "the database role may not read the schema's version ({e}); run \
                     `vetdesk migrate --runtime-role ROLE` as the role that owns the database"
                ))
            } else {
                StoreError::from(e)
            }
        })
}

/// Apply the missing migrations ([`Schema::Migrate`]), or refuse a database
/// that lacks some ([`Schema::Expect`]). A database with a migration this
/// build does not know is [`StoreError::SchemaTooNew`] either way.
pub(super) async fn bring_up_to_date(
    conn: &mut PgConnection,
    migrator: &Migrator,
    schema: Schema,
) -> Result<()> {
    let known: Vec<i64> = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect();
    let newest_known = known.iter().copied().max().unwrap_or(0);
    let applied = applied_with_checksums(conn).await?;
    let have: Vec<i64> = applied.iter().map(|(v, _)| *v).collect();
    let found = have.last().copied().unwrap_or(0);
    if have.iter().any(|v| !known.contains(v)) {
        return Err(StoreError::SchemaTooNew {
            found,
            known: newest_known,
        });
    }
    // What sqlx's migrator checks too: a migration is never edited once applied.
    for (version, checksum) in &applied {
        let edited = migrator.iter().any(|m| {
            m.version == *version && m.migration_type.is_up_migration() && *m.checksum != **checksum
        });
        if edited {
            return Err(StoreError::Unavailable(format!(
                "migration {version} was changed after this database applied it; \
                 this build of vetdesk does not match the database"
            )));
        }
    }
    let missing = known.iter().any(|v| !have.contains(v));
    match (missing, schema) {
        (false, _) => Ok(()),
        (true, Schema::Expect) => Err(StoreError::SchemaTooOld {
            found,
            needed: newest_known,
        }),
        (true, Schema::Migrate) => {
            migrator
                .run(&mut *conn)
                .await
                .map_err(|e| match migration_failed(migrator, e) {
                    StoreError::Unavailable(m) if m.contains("permission denied") => {
                        StoreError::Role(format!(
                            "{m}; this role may not change the schema: run `vetdesk migrate` \
                             as the role that owns the database"
                        ))
                    }
                    other => other,
                })?;
            tracing::info!(from = found, to = newest_known, "applied migrations");
            Ok(())
        }
    }
}
