//! [`AccessTx`] on SQLite: users, sessions and the audit log.

use super::{corrupt, expected, from_ms, meta, ms, name, SqliteTx};
use crate::{
    AccessTx, AuditFilter, AuditRecord, Entity, Page, Result, Revoke, SessionRecord, Write,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;
use vetdesk_core::{Role, User, UserId, Username, VetId};

fn user_row(r: &SqliteRow) -> Result<User> {
    let vet: Option<Uuid> = r.try_get("vet_id")?;
    Ok(User {
        id: UserId(r.try_get("id")?),
        username: Username::parse(r.try_get::<&str, _>("username")?).map_err(corrupt)?,
        display_name: name(r, "display_name")?,
        role: Role::parse(r.try_get::<&str, _>("role")?).map_err(corrupt)?,
        vet_id: vet.map(VetId),
        disabled: r.try_get("disabled")?,
        meta: meta(r)?,
    })
}

fn json(v: Option<&serde_json::Value>) -> Option<String> {
    v.map(serde_json::Value::to_string)
}

fn parse_json(raw: Option<String>) -> Result<Option<serde_json::Value>> {
    raw.map(|s| serde_json::from_str(&s).map_err(corrupt))
        .transpose()
}

fn audit_row(r: &SqliteRow) -> Result<AuditRecord> {
    let actor_id: Option<Uuid> = r.try_get("actor_id")?;
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        at: from_ms(r.try_get("at")?)?,
        actor_id: actor_id.map(UserId),
        actor: r.try_get("actor")?,
        role: Role::parse(r.try_get::<&str, _>("role")?).map_err(corrupt)?,
        action: r.try_get("action")?,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        before: parse_json(r.try_get("before")?)?,
        after: parse_json(r.try_get("after")?)?,
    })
}

fn audit_where(qb: &mut QueryBuilder<'_, Sqlite>, f: &AuditFilter) {
    qb.push(" WHERE 1 = 1");
    if let Some(e) = &f.entity {
        qb.push(" AND entity = ").push_bind(e.clone());
    }
    if let Some(id) = f.entity_id {
        qb.push(" AND entity_id = ").push_bind(id);
    }
    if let Some(a) = &f.actor {
        qb.push(" AND actor = ").push_bind(a.clone());
    }
    if let Some(t) = f.from {
        qb.push(" AND at >= ").push_bind(ms(t));
    }
    if let Some(t) = f.to {
        qb.push(" AND at < ").push_bind(ms(t));
    }
}

#[async_trait]
impl AccessTx for SqliteTx {
    async fn user(&mut self, id: UserId) -> Result<Option<User>> {
        sqlx::query("SELECT * FROM users WHERE id = ? AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(user_row)
            .transpose()
    }

    async fn user_by_name(&mut self, username: &str) -> Result<Option<(User, String)>> {
        let Some(row) =
            sqlx::query("SELECT * FROM users WHERE username = ? AND deleted_at IS NULL")
                .bind(username)
                .fetch_optional(&mut *self.tx)
                .await?
        else {
            return Ok(None);
        };
        Ok(Some((user_row(&row)?, row.try_get("password_hash")?)))
    }

    async fn users(&mut self) -> Result<Vec<User>> {
        sqlx::query("SELECT * FROM users WHERE deleted_at IS NULL ORDER BY username")
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(user_row)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(user = %u.id))]
    async fn save_user(&mut self, u: &User, password_hash: Option<&str>, how: Write) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO users (id, username, display_name, role, vet_id, password_hash, disabled, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET username = excluded.username, display_name = excluded.display_name, \
             role = excluded.role, vet_id = excluded.vet_id, \
             password_hash = CASE WHEN ? THEN excluded.password_hash ELSE users.password_hash END, \
             disabled = excluded.disabled, version = excluded.version, updated_at = excluded.updated_at \
             WHERE users.version = ? AND users.deleted_at IS NULL",
        )
        .bind(u.id.0)
        .bind(u.username.as_str())
        .bind(u.display_name.as_str())
        .bind(u.role.as_str())
        .bind(u.vet_id.map(|v| v.0))
        .bind(password_hash.unwrap_or(""))
        .bind(u.disabled)
        .bind(u.meta.version)
        .bind(ms(u.meta.created_at))
        .bind(ms(u.meta.updated_at))
        .bind(password_hash.is_some())
        .bind(expected(how))
        .execute(&mut *self.tx)
        .await?;
        self.saved(
            res.rows_affected(),
            Entity::User,
            u.id.0,
            None,
            &u.meta,
            how,
        )
        .await
    }

    async fn add_session(&mut self, s: &SessionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, revoked_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&s.token_hash)
        .bind(s.user_id.0)
        .bind(ms(s.created_at))
        .bind(ms(s.expires_at))
        .bind(s.revoked_at.map(ms))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn session(&mut self, token_hash: &str) -> Result<Option<(SessionRecord, User)>> {
        let Some(row) = sqlx::query(
            "SELECT s.token_hash, s.created_at AS s_created, s.expires_at, s.revoked_at, u.* \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND u.deleted_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.tx)
        .await?
        else {
            return Ok(None);
        };
        let user = user_row(&row)?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        let session = SessionRecord {
            token_hash: row.try_get("token_hash")?,
            user_id: user.id,
            created_at: from_ms(row.try_get("s_created")?)?,
            expires_at: from_ms(row.try_get("expires_at")?)?,
            revoked_at: revoked.map(from_ms).transpose()?,
        };
        Ok(Some((session, user)))
    }

    async fn revoke_sessions(&mut self, which: Revoke<'_>, at: DateTime<Utc>) -> Result<u64> {
        let res = match which {
            Revoke::Token(hash) => sqlx::query(
                "UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
            )
            .bind(ms(at))
            .bind(hash)
            .execute(&mut *self.tx)
            .await?,
            Revoke::User(id) => {
                sqlx::query(
                    "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                )
                .bind(ms(at))
                .bind(id.0)
                .execute(&mut *self.tx)
                .await?
            }
        };
        Ok(res.rows_affected())
    }

    async fn append_audit(&mut self, e: &AuditRecord) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO audit_log (at, actor_id, actor, role, action, entity, entity_id, before, after) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(ms(e.at))
        .bind(e.actor_id.map(|u| u.0))
        .bind(&e.actor)
        .bind(e.role.as_str())
        .bind(&e.action)
        .bind(&e.entity)
        .bind(e.entity_id)
        .bind(json(e.before.as_ref()))
        .bind(json(e.after.as_ref()))
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn audit_log(&mut self, f: &AuditFilter) -> Result<Page<AuditRecord>> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM audit_log");
        audit_where(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *self.tx).await?;
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT * FROM audit_log");
        audit_where(&mut qb, f);
        qb.push(" ORDER BY seq DESC LIMIT ")
            .push_bind(i64::from(f.limit))
            .push(" OFFSET ")
            .push_bind(i64::from(f.offset));
        let items = qb
            .build()
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(audit_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
            limit: f.limit,
            offset: f.offset,
        })
    }
}
