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
    /// When it was last used, to within [`touch_session`](AccessTx::touch_session)'s
    /// granularity (the application's choice).
    pub last_seen_at: DateTime<Utc>,
}

/// A single-use ticket that opens one live event stream for a session. Only
/// the ticket's SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTicketRecord {
    /// Lower-case hex SHA-256 of the ticket.
    pub ticket_hash: String,
    /// The session it was issued to (its token's hash).
    pub session_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
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
    /// Record that a session was used at `at`, only if its `last_seen_at` is
    /// before `if_before` (so most requests write nothing); how many rows changed.
    async fn touch_session(
        &mut self,
        token_hash: &str,
        at: DateTime<Utc>,
        if_before: DateTime<Utc>,
    ) -> Result<u64>;

    /// Keep a stream ticket, after forgetting every ticket expired by `now`.
    async fn add_stream_ticket(&mut self, t: &StreamTicketRecord, now: DateTime<Utc>)
        -> Result<()>;
    /// Take a ticket: delete it and return it, in one statement, so that of
    /// two redemptions (on any servers) at most one gets it. Expired or not:
    /// the caller decides, and says why.
    async fn take_stream_ticket(&mut self, ticket_hash: &str)
        -> Result<Option<StreamTicketRecord>>;

    /// Append to the audit log; returns the line's position.
    async fn append_audit(&mut self, e: &AuditRecord) -> Result<i64>;
    async fn audit_log(&mut self, f: &AuditFilter) -> Result<Page<AuditRecord>>;
}
