//! `vetdesk migrate`: the schema brought up to date by the role that owns the
//! database, and the runtime roles granted what `vetdesk serve` needs (the
//! rule is the store's, `vetdesk_store::PgStore::grant_runtime`).

use super::Reply;
use crate::error::{Failure, Result};
use serde::Serialize;
use vetdesk_app::AppError;
use vetdesk_store::{PgStore, Schema, Store};

/// What `vetdesk migrate` did.
#[derive(Serialize)]
struct Migrated {
    /// `postgres` or `sqlite`.
    engine: &'static str,
    /// The newest migration the database now has.
    schema_version: i64,
    /// The runtime roles granted now (PostgreSQL).
    runtime_roles: Vec<String>,
}

fn store_failure(e: vetdesk_store::StoreError) -> Failure {
    Failure::from(AppError::from(e))
}

/// Apply the migrations and grant the runtime roles (given, or granted before).
pub async fn migrate(database: &str, json: bool, roles: &[String]) -> Result<Reply> {
    let migrated = if vetdesk_store::is_postgres(database) {
        let store = PgStore::connect_with(database, Schema::Migrate)
            .await
            .map_err(store_failure)?;
        let done = async {
            let runtime_roles = store.grant_runtime(roles).await?;
            let schema_version = store.schema_version().await?;
            Ok::<_, vetdesk_store::StoreError>(Migrated {
                engine: "postgres",
                schema_version,
                runtime_roles,
            })
        }
        .await;
        store.close().await;
        done.map_err(store_failure)?
    } else {
        if roles.iter().any(|r| !r.trim().is_empty()) {
            return Err(Failure::invalid(
                "--runtime-role is for PostgreSQL: a SQLite file has no database roles",
            ));
        }
        let store = vetdesk_store::SqliteStore::open(database)
            .await
            .map_err(store_failure)?;
        store.close().await;
        Migrated {
            engine: "sqlite",
            schema_version: vetdesk_store::known_schema_version(),
            runtime_roles: Vec::new(),
        }
    };
    let text = if json {
        let mut s = serde_json::to_string_pretty(&migrated)?;
        s.push('\n');
        s
    } else {
        human(&migrated)
    };
    Ok(Reply { text, code: None })
}

fn human(m: &Migrated) -> String {
    let mut out = format!("schema at migration {}\n", m.schema_version);
    match (m.engine, m.runtime_roles.as_slice()) {
        ("postgres", []) => out.push_str(
            "no runtime role granted: name one with --runtime-role ROLE, or vetdesk serve \
             will refuse to run as the owner (see README, Running a clinic server)\n",
        ),
        ("postgres", roles) => {
            out.push_str(&format!(
                "runtime role{} granted: {} (read, add and update records, add to the logs; \
                 no DELETE, TRUNCATE, ALTER or DROP)\n",
                if roles.len() == 1 { "" } else { "s" },
                roles.join(", ")
            ));
        }
        _ => {}
    }
    out
}
