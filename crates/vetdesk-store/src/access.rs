//! Access records: users, their sign-in sessions, and the append-only audit log.
//!
//! A part of the [`Tx`](crate::Tx) contract of its own ([`AccessTx`] is a
//! supertrait of `Tx`), so each engine keeps these statements in a module
//! beside its scheduling ones.

use crate::{Page, Result, Write};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vetdesk_core::{Role, User, UserId};

/// A bearer token's record. The token itself is never stored: only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Lower-case hex SHA-256 of the token.
    pub token_hash: String,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Which sessions to end.
#[derive(Debug, Clone, Copy)]
pub enum Revoke<'a> {
    /// The one a token (by its hash) opened.
    Token(&'a str),
    /// Every live session of a user.
    User(UserId),
}

/// One line of the audit log: who did what, when, to which record, and the
/// record before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the log (0 for a record not yet appended).
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The signed-in user; `None` for the local operator (CLI, demo seeder).
    pub actor_id: Option<UserId>,
    pub actor: String,
    pub role: Role,
    /// What was done, e.g. `appointment.book`, `clinic.update`, `auth.login`.
    pub action: String,
    /// The kind of record, e.g. `appointment` (`session` for sign-ins).
    pub entity: String,
    pub entity_id: Option<Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Which audit lines to list, newest first. Every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<Uuid>,
    /// The acting username.
    pub actor: Option<String>,
    /// Lines at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Lines before this instant.
    pub to: Option<DateTime<Utc>>,
    pub limit: u32,
    pub offset: u32,
}

#[async_trait]
pub trait AccessTx: Send {
    async fn user(&mut self, id: UserId) -> Result<Option<User>>;
    /// A live user by (lower-case) username, with their password hash.
    async fn user_by_name(&mut self, username: &str) -> Result<Option<(User, String)>>;
    /// Every live user, by username.
    async fn users(&mut self) -> Result<Vec<User>>;
    /// Save a user. `password_hash` is required to insert; on update `None`
    /// keeps the stored one.
    async fn save_user(&mut self, u: &User, password_hash: Option<&str>, how: Write) -> Result<()>;

    async fn add_session(&mut self, s: &SessionRecord) -> Result<()>;
    /// A session by token hash, with its user (even when expired or revoked:
    /// the caller decides, and says why).
    async fn session(&mut self, token_hash: &str) -> Result<Option<(SessionRecord, User)>>;
    /// End sessions; returns how many were still live.
    async fn revoke_sessions(&mut self, which: Revoke<'_>, at: DateTime<Utc>) -> Result<u64>;

    /// Append to the audit log; returns the line's position.
    async fn append_audit(&mut self, e: &AuditRecord) -> Result<i64>;
    async fn audit_log(&mut self, f: &AuditFilter) -> Result<Page<AuditRecord>>;
}
