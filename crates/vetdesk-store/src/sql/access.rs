//! [`AccessTx`] for both engines: users, sessions and the audit log.

use super::page::Where;
use super::records::{upsert_sql, with_meta};
use super::rows::corrupt;
use super::{args, Cols, Dialect, SqlTx, Value};
use crate::{
    AccessTx, AuditFilter, AuditRecord, Entity, Page, Result, Revoke, SessionRecord,
    StreamTicketRecord, Write,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use vetdesk_core::{ClinicId, Role, User, UserId, Username, VetId};

fn user<D: Dialect>(r: &Cols<'_, D>) -> Result<User> {
    Ok(User {
        id: UserId(r.uuid("id")?),
        username: Username::parse(r.text("username")?).map_err(corrupt)?,
        display_name: r.name("display_name")?,
        role: Role::parse(r.text("role")?).map_err(corrupt)?,
        vet_id: r.opt_uuid("vet_id")?.map(VetId),
        // Filled in from `user_clinics` by `with_clinics`.
        clinics: Vec::new(),
        home_clinic_id: r.opt_uuid("home_clinic_id")?.map(ClinicId),
        disabled: r.flag("disabled")?,
        meta: r.meta()?,
    })
}

fn audit<D: Dialect>(r: Cols<'_, D>) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.int("seq")?,
        at: r.instant("at")?,
        actor_id: r.opt_uuid("actor_id")?.map(UserId),
        actor: r.string("actor")?,
        role: Role::parse(r.text("role")?).map_err(corrupt)?,
        action: r.string("action")?,
        entity: r.string("entity")?,
        entity_id: r.opt_uuid("entity_id")?,
        before: r.opt_json("before")?,
        after: r.opt_json("after")?,
    })
}

fn audit_where(f: &AuditFilter) -> Where {
    let mut w = Where::new("1 = 1");
    if let Some(e) = &f.entity {
        w.and("entity = {}", e.as_str());
    }
    if let Some(id) = f.entity_id {
        w.and("entity_id = {}", id);
    }
    if let Some(a) = &f.actor {
        w.and("actor = {}", a.as_str());
    }
    if let Some(t) = f.from {
        w.and("at >= {}", t);
    }
    if let Some(t) = f.to {
        w.and("at < {}", t);
    }
    w
}

impl<D: Dialect> SqlTx<D> {
    /// A user's clinics, which are part of the user record (`user_clinics`).
    async fn with_clinics(&mut self, mut u: User) -> Result<User> {
        u.clinics = self
            .clinic_links("user_clinics", "user_id", Some(u.id.0))
            .await?
            .remove(&u.id.0)
            .unwrap_or_default();
        Ok(u)
    }
}

#[async_trait]
impl<D: Dialect> AccessTx for SqlTx<D> {
    async fn user(&mut self, id: UserId) -> Result<Option<User>> {
        let sql = "SELECT * FROM users WHERE id = $1 AND deleted_at IS NULL";
        match self.one(sql, args![id.0], |r| user(&r)).await? {
            Some(u) => Ok(Some(self.with_clinics(u).await?)),
            None => Ok(None),
        }
    }

    async fn user_by_name(&mut self, username: &str) -> Result<Option<(User, String)>> {
        let sql = "SELECT * FROM users WHERE username = $1 AND deleted_at IS NULL";
        let found = self
            .one(sql, args![username], |r| {
                Ok((user(&r)?, r.string("password_hash")?))
            })
            .await?;
        match found {
            Some((u, hash)) => Ok(Some((self.with_clinics(u).await?, hash))),
            None => Ok(None),
        }
    }

    async fn users(&mut self) -> Result<Vec<User>> {
        let sql = "SELECT * FROM users WHERE deleted_at IS NULL ORDER BY username";
        let mut users = self.all(sql, args![], |r| user(&r)).await?;
        let mut links = self.clinic_links("user_clinics", "user_id", None).await?;
        for u in &mut users {
            u.clinics = links.remove(&u.id.0).unwrap_or_default();
        }
        Ok(users)
    }

    #[tracing::instrument(skip_all, fields(user = %u.id))]
    async fn save_user(&mut self, u: &User, password_hash: Option<&str>, how: Write) -> Result<()> {
        let cols = [
            "id",
            "username",
            "display_name",
            "role",
            "vet_id",
            "password_hash",
            "disabled",
            "home_clinic_id",
        ];
        // On update, no new hash keeps the stored one.
        let sql = upsert_sql("users", &cols).replace(
            "password_hash = excluded.password_hash",
            "password_hash = coalesce(nullif(excluded.password_hash, ''), users.password_hash)",
        );
        let values = args![
            u.id.0,
            u.username.as_str(),
            u.display_name.as_str(),
            u.role.as_str(),
            u.vet_id.map(|v| v.0),
            password_hash.unwrap_or(""),
            u.disabled,
            u.home_clinic_id.map(|c| c.0)
        ];
        let rows = self
            .exec(&sql, with_meta(values, &u.meta, Some(how)))
            .await?;
        self.saved(rows, Entity::User, u.id.0, None, &u.meta, how)
            .await?;
        let listed: Vec<_> = u.clinics.iter().map(|c| c.0).collect();
        self.save_clinic_links(
            "user_clinics",
            "user_id",
            u.id.0,
            &listed,
            u.meta.updated_at,
        )
        .await
    }

    async fn add_session(&mut self, s: &SessionRecord) -> Result<()> {
        self.exec(
            "INSERT INTO sessions \
             (token_hash, user_id, created_at, expires_at, revoked_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            args![
                s.token_hash.as_str(),
                s.user_id.0,
                s.created_at,
                s.expires_at,
                s.revoked_at,
                s.last_seen_at
            ],
        )
        .await?;
        Ok(())
    }

    async fn session(&mut self, token_hash: &str) -> Result<Option<(SessionRecord, User)>> {
        let sql = "SELECT s.token_hash, s.created_at AS s_created, s.expires_at, s.revoked_at, \
             s.last_seen_at, u.* \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND u.deleted_at IS NULL";
        let found = self
            .one(sql, args![token_hash], |r| {
                let user = user(&r)?;
                let created_at = r.instant("s_created")?;
                let session = SessionRecord {
                    token_hash: r.string("token_hash")?,
                    user_id: user.id,
                    created_at,
                    expires_at: r.instant("expires_at")?,
                    revoked_at: r.opt_instant("revoked_at")?,
                    last_seen_at: r.opt_instant("last_seen_at")?.unwrap_or(created_at),
                };
                Ok((session, user))
            })
            .await?;
        match found {
            Some((session, u)) => Ok(Some((session, self.with_clinics(u).await?))),
            None => Ok(None),
        }
    }

    async fn revoke_sessions(&mut self, which: Revoke<'_>, at: DateTime<Utc>) -> Result<u64> {
        let (column, key): (&str, Value) = match which {
            Revoke::Token(hash) => ("token_hash", hash.into()),
            Revoke::User(id) => ("user_id", id.0.into()),
        };
        let sql = format!(
            "UPDATE sessions SET revoked_at = $1 WHERE {column} = $2 AND revoked_at IS NULL"
        );
        self.exec(&sql, vec![at.into(), key]).await
    }

    async fn touch_session(
        &mut self,
        token_hash: &str,
        at: DateTime<Utc>,
        if_before: DateTime<Utc>,
    ) -> Result<u64> {
        self.exec(
            "UPDATE sessions SET last_seen_at = $1 \
             WHERE token_hash = $2 AND (last_seen_at IS NULL OR last_seen_at < $3)",
            args![at, token_hash, if_before],
        )
        .await
    }

    async fn add_stream_ticket(
        &mut self,
        t: &StreamTicketRecord,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.exec(
            "DELETE FROM stream_tickets WHERE expires_at <= $1",
            args![now],
        )
        .await?;
        self.exec(
            "INSERT INTO stream_tickets (ticket_hash, session_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
            args![
                t.ticket_hash.as_str(),
                t.session_hash.as_str(),
                t.created_at,
                t.expires_at
            ],
        )
        .await?;
        Ok(())
    }

    async fn take_stream_ticket(
        &mut self,
        ticket_hash: &str,
    ) -> Result<Option<StreamTicketRecord>> {
        self.one(
            "DELETE FROM stream_tickets WHERE ticket_hash = $1 \
             RETURNING ticket_hash, session_hash, created_at, expires_at",
            args![ticket_hash],
            |r| {
                Ok(StreamTicketRecord {
                    ticket_hash: r.string("ticket_hash")?,
                    session_hash: r.string("session_hash")?,
                    created_at: r.instant("created_at")?,
                    expires_at: r.instant("expires_at")?,
                })
            },
        )
        .await
    }

    async fn append_audit(&mut self, e: &AuditRecord) -> Result<i64> {
        self.one(
            "INSERT INTO audit_log (at, actor_id, actor, role, action, entity, entity_id, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
            args![
                e.at,
                e.actor_id.map(|u| u.0),
                e.actor.as_str(),
                e.role.as_str(),
                e.action.as_str(),
                e.entity.as_str(),
                e.entity_id,
                super::Json(e.before.clone()),
                super::Json(e.after.clone())
            ],
            |r| r.int("seq"),
        )
        .await?
        .ok_or_else(|| crate::StoreError::Corrupt("the audit log returned no position".into()))
    }

    async fn audit_log(&mut self, f: &AuditFilter) -> Result<Page<AuditRecord>> {
        let (limit, offset) = (f.limit, f.offset);
        self.page(
            "*",
            "audit_log",
            audit_where(f),
            "seq DESC",
            limit,
            offset,
            audit,
        )
        .await
    }
}
