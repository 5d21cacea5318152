//! Least privilege on PostgreSQL: the owning role migrates, a runtime role serves.
//!
//! `vetdesk migrate` runs as the role that owns the database and, after the
//! migrations, grants each runtime role exactly what `vetdesk serve` uses
//! ([`grant_runtime`]). One rule covers every table of the schema, so a table
//! a later migration adds is granted at the next `vetdesk migrate` with no
//! list to keep up to date:
//!
//! - `_sqlx_migrations`: `SELECT` (a server checks that the schema is current);
//! - the append-only logs ([`APPEND_ONLY_TABLES`]): `SELECT, INSERT`;
//!   The one exception is [`ERASABLE_COLUMNS`]: a free-text column of a log
//!   that may quote an owner, which erasing that owner clears (`UPDATE` on
//!   that column alone);
//! - the short-lived tables ([`EPHEMERAL_TABLES`], single-use stream
//!   tickets): `SELECT, INSERT, DELETE` (a ticket is redeemed by deleting it);
//! - every other table: `SELECT, INSERT, UPDATE`. Records are never deleted
//!   (tombstones), so `DELETE` is granted on nothing else, nor `TRUNCATE`,
//!   `REFERENCES` or `TRIGGER` on anything;
//! - a sequence that is not an identity column's: `USAGE` (an identity column
//!   needs no grant of its own).
//!
//! Whatever the role held on those tables before is revoked first, so the
//! grants are exactly these. Only an owner may alter a table or drop its
//! triggers, and the runtime role is refused unless it is neither the owner,
//! nor a member of the owner's role, nor a superuser.
//!
//! Not `ALTER DEFAULT PRIVILEGES`: a table a migration adds would get whatever
//! the default says, so a new append-only log would start writable until
//! someone remembered to revoke. The database remembers which roles were
//! granted: a role other than the owner that may `INSERT` into `audit_log`.
//! `vetdesk migrate` without `--runtime-role` grants those again.

use crate::{Result, StoreError};
use serde::Serialize;
use sqlx::{PgConnection, Row};

/// The tables whose rows are written once and never changed: a runtime role
/// may add to them and read them, nothing else. (`audit_log` is also guarded
/// by triggers, which hold even against a role granted more.)
pub const APPEND_ONLY_TABLES: &[&str] = &["audit_log", "appointment_history", "change_log"];

/// Columns of append-only tables that erasing an owner clears (free text
/// that may quote them): a runtime role may `UPDATE` these columns alone.
pub const ERASABLE_COLUMNS: &[(&str, &str)] = &[("appointment_history", "note")];

/// Tables of short-lived rows that are deleted once used or expired, never
/// records: a runtime role may delete from these and from nothing else.
pub const EPHEMERAL_TABLES: &[&str] = &["stream_tickets"];

/// sqlx's record of the migrations applied.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// What a role may do to vetdesk's schema beyond what a server needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleReport {
    /// The role the connection acts as (`current_user`).
    pub role: String,
    pub superuser: bool,
    /// The role owning vetdesk's tables, when this role is it or may act as it
    /// (and so alter the tables and drop the audit log's triggers).
    pub acts_as_owner: Option<String>,
    /// Privileges on `audit_log` beyond `SELECT` and `INSERT` (`UPDATE`, `DELETE`, `TRUNCATE`, …).
    pub audit_log_extra: Vec<String>,
    /// Whether it may create objects in the schema (PostgreSQL before 15 lets everyone).
    pub may_create_in_schema: bool,
}

impl RoleReport {
    /// Why this role is too powerful to serve with; empty when it is not.
    pub fn excess(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.superuser {
            out.push("it is a superuser".to_string());
        }
        if let Some(owner) = &self.acts_as_owner {
            if *owner == self.role {
                out.push("it owns vetdesk's tables".to_string());
            } else {
                out.push(format!(
                    "it may act as {owner}, which owns vetdesk's tables"
                ));
            }
        }
        // An owner or a superuser holds every privilege; a role granted too much says which.
        if out.is_empty() && !self.audit_log_extra.is_empty() {
            out.push(format!(
                "it holds {} on audit_log",
                self.audit_log_extra.join(", ")
            ));
        }
        out
    }
}

/// Double-quote an identifier for SQL text (roles and tables are named, not bound).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// What the connection's role may do (see [`RoleReport`]).
pub(super) async fn report(conn: &mut PgConnection) -> Result<RoleReport> {
    let row = sqlx::query(
        "SELECT current_user::text AS role, r.rolsuper AS superuser, \
                (SELECT pg_get_userbyid(c.relowner)::text FROM pg_class c \
                  WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relkind IN ('r', 'p') \
                    AND pg_has_role(current_user, c.relowner, 'MEMBER') \
                  ORDER BY c.relname LIMIT 1) AS acts_as_owner, \
                has_schema_privilege(current_schema(), 'CREATE') AS may_create, \
                ARRAY(SELECT p FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p \
                      WHERE has_table_privilege(to_regclass('audit_log')::oid, p)) AS audit_extra \
           FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(RoleReport {
        role: row.try_get("role")?,
        superuser: row.try_get("superuser")?,
        acts_as_owner: row.try_get("acts_as_owner")?,
        audit_log_extra: row.try_get("audit_extra")?,
        may_create_in_schema: row.try_get("may_create")?,
    })
}

/// The roles granted by an earlier `vetdesk migrate`: those other than the
/// owner that may insert into `audit_log`.
async fn granted_before(conn: &mut PgConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT pg_get_userbyid(a.grantee)::text FROM pg_class c, aclexplode(c.relacl) a \
          WHERE c.oid = to_regclass('audit_log') AND a.privilege_type = 'INSERT' \
            AND a.grantee <> c.relowner AND a.grantee <> 0 ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Refuse a role that does not exist, or that a grant would not limit.
async fn check_grantee(conn: &mut PgConnection, role: &str) -> Result<()> {
    let row = sqlx::query(
        "SELECT r.rolsuper, \
                EXISTS (SELECT 1 FROM pg_class c \
                         WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relkind IN ('r', 'p') \
                           AND pg_has_role(r.oid, c.relowner, 'MEMBER')) AS owner \
           FROM pg_roles r WHERE r.rolname = $1",
    )
    .bind(role)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::Role(format!(
            "there is no PostgreSQL role {role:?}; create it first (CREATE ROLE {} LOGIN PASSWORD '…')",
            ident(role)
        )));
    };
    let (superuser, owner): (bool, bool) = (row.try_get("rolsuper")?, row.try_get("owner")?);
    if superuser || owner {
        return Err(StoreError::Role(format!(
            "{role:?} {} so no grant can limit it; the runtime role must be a separate role \
             that is not a superuser and not a member of the owning role",
            if superuser {
                "is a superuser,"
            } else {
                "owns vetdesk's tables (or may act as their owner),"
            }
        )));
    }
    Ok(())
}

/// Grant each of `roles` (and, when `roles` is empty, each role an earlier
/// run granted) exactly what a server needs, in one transaction. Returns the
/// roles granted. Run as the owner, after the migrations.
pub(super) async fn grant_runtime(
    conn: &mut PgConnection,
    roles: &[String],
) -> Result<Vec<String>> {
    let mut roles: Vec<String> = roles.iter().map(|r| r.trim().to_string()).collect();
    roles.retain(|r| !r.is_empty());
    if roles.is_empty() {
        roles = granted_before(conn).await?;
    }
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Ok(roles);
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c \
          WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relkind IN ('r', 'p') \
          ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let sequences: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c \
          WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relkind = 'S' \
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                             AND d.objid = c.oid AND d.deptype = 'i') \
          ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(&mut *conn)
        .await?;

    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    for role in &roles {
        check_grantee(&mut tx, role).await?;
        let who = ident(role);
        let mut statements = Vec::new();
        // PostgreSQL 15 lets nobody create in `public`; only grant USAGE where it is missing
        // (on older servers `public` belongs to the bootstrap superuser, and PUBLIC has it).
        let has_usage: bool =
            sqlx::query_scalar("SELECT has_schema_privilege($1::name, $2::text, 'USAGE')")
                .bind(role)
                .bind(&schema)
                .fetch_one(&mut *tx)
                .await?;
        if !has_usage {
            statements.push(format!("GRANT USAGE ON SCHEMA {} TO {who}", ident(&schema)));
        }
        for table in &tables {
            let privileges = if table == MIGRATIONS_TABLE {
                "SELECT"
            } else if APPEND_ONLY_TABLES.contains(&table.as_str()) {
                "SELECT, INSERT"
            } else if EPHEMERAL_TABLES.contains(&table.as_str()) {
                "SELECT, INSERT, DELETE"
            } else {
                "SELECT, INSERT, UPDATE"
            };
            let t = ident(table);
            statements.push(format!("REVOKE ALL ON TABLE {t} FROM {who}"));
            statements.push(format!("GRANT {privileges} ON TABLE {t} TO {who}"));
            for (_, column) in ERASABLE_COLUMNS.iter().filter(|(tb, _)| tb == table) {
                statements.push(format!(
                    "GRANT UPDATE ({}) ON TABLE {t} TO {who}",
                    ident(column)
                ));
            }
        }
        for sequence in &sequences {
            let s = ident(sequence);
            statements.push(format!("REVOKE ALL ON SEQUENCE {s} FROM {who}"));
            statements.push(format!("GRANT USAGE ON SEQUENCE {s} TO {who}"));
        }
        for sql in statements {
            sqlx::query(&sql).execute(&mut *tx).await.map_err(|e| {
                StoreError::Role(format!(
                    "granting {role:?} its privileges failed at `{sql}`: {e}; \
                     run vetdesk migrate as the role that owns the database"
                ))
            })?;
        }
        tracing::info!(role = %role, tables = tables.len(), "granted the runtime role");
    }
    tx.commit().await?;
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_whatever_they_hold() {
        assert_eq!(ident("vetdesk_app"), "\"vetdesk_app\"");
        assert_eq!(
            ident("a\"; DROP TABLE x; --"),
            "\"a\"\"; DROP TABLE x; --\""
        );
    }

    #[test]
    fn a_runtime_role_has_no_excess() {
        let mut r = RoleReport {
            role: "vetdesk_app".into(),
            superuser: false,
            acts_as_owner: None,
            audit_log_extra: Vec::new(),
            may_create_in_schema: false,
        };
        assert!(r.excess().is_empty());
        r.audit_log_extra = vec!["DELETE".into()];
        assert_eq!(r.excess(), ["it holds DELETE on audit_log"]);
        r.acts_as_owner = Some("vetdesk_owner".into());
        assert_eq!(
            r.excess(),
            ["it may act as vetdesk_owner, which owns vetdesk's tables"]
        );
        r.superuser = true;
        assert_eq!(r.excess().len(), 2, "{:?}", r.excess());
    }
}
