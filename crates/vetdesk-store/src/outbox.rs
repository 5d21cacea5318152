//! The notification outbox, message templates and per-clinic notification
//! settings: a part of the [`Tx`](crate::Tx) contract of its own ([`OutboxTx`]
//! is a supertrait of `Tx`).
//!
//! Claims are leased: a worker takes due rows by writing its claim token and a
//! lease expiry on them (PostgreSQL with `FOR UPDATE SKIP LOCKED`, SQLite inside
//! its `BEGIN IMMEDIATE` write transaction), and records each outcome against
//! that token. A worker that dies leaves its rows to be claimed again once the
//! lease runs out; an outcome recorded with a token that no longer holds the
//! row changes nothing. Leases are read and written by the database's clock on
//! PostgreSQL (`now()`: workers on several machines then agree on them
//! whatever their own clocks say) and by the application's on SQLite (one
//! machine: the file's processes share its clock). A message that would be
//! claimed more than `max_attempts` times is marked failed instead.

use crate::{Page, Result, Write};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vetdesk_core::{
    AppointmentId, ClinicId, MessageChannel, MessageKind, MessageStatus, Meta,
    NotificationSettings, OutboxId, Template, VetId,
};

/// One message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRecord {
    pub id: OutboxId,
    pub key: String,
    pub appointment_id: AppointmentId,
    pub appointment_version: i64,
    pub clinic_id: ClinicId,
    pub vet_id: VetId,
    pub kind: MessageKind,
    pub channel: MessageChannel,
    pub offset_min: Option<u32>,
    pub appointment_start: DateTime<Utc>,
    pub previous_start: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: MessageStatus,
    /// Attempts begun (a claim counts as one).
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    /// The last failure, or why the message was skipped or voided.
    pub last_error: Option<String>,
    /// The address or number it went to.
    pub sent_to: Option<String>,
    /// What the far end called it (an SMS gateway's message id, an SMTP reply).
    pub provider_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Which messages to list, by due time (newest first). Every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutboxFilter {
    /// Empty means every status.
    pub statuses: Vec<MessageStatus>,
    pub appointment: Option<AppointmentId>,
    pub channel: Option<MessageChannel>,
    /// Only messages about these clinics' appointments (`None`: every clinic's).
    pub clinics: Option<Vec<ClinicId>>,
    pub limit: u32,
    pub offset: u32,
}

/// Which messages a worker takes: the channels it can send, and for desktop
/// messages whose (one vet's, or every vet's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimScope {
    pub email: bool,
    pub sms: bool,
    pub desktop: DesktopScope,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DesktopScope {
    #[default]
    None,
    All,
    Vet(VetId),
}

impl ClaimScope {
    pub fn is_empty(&self) -> bool {
        !self.email && !self.sms && self.desktop == DesktopScope::None
    }
    pub(crate) fn channels(&self) -> Vec<&'static str> {
        let mut c = Vec::new();
        if self.email {
            c.push("email");
        }
        if self.sms {
            c.push("sms");
        }
        c
    }
    pub(crate) fn desktop_vet(&self) -> (bool, Option<Uuid>) {
        match self.desktop {
            DesktopScope::None => (false, None),
            DesktopScope::All => (true, None),
            DesktopScope::Vet(v) => (true, Some(v.0)),
        }
    }
}

/// What a worker asks of [`OutboxTx::claim_outbox`].
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub scope: &'a ClaimScope,
    /// The worker's name, kept on the rows it holds.
    pub worker: &'a str,
    /// Proves the claim when its outcomes are recorded.
    pub token: Uuid,
    /// The application's clock: which messages are due.
    pub now: DateTime<Utc>,
    /// How long the claim holds, from the lease clock's now (see the module).
    pub lease: chrono::Duration,
    pub limit: u32,
    /// A due message already claimed this many times (each claim counts an
    /// attempt, and none recorded an outcome since: its worker died or lost
    /// the database mid-send) is marked failed instead of claimed again.
    pub max_attempts: u32,
}

/// What a claim took, and what it gave up on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimResult {
    /// Claimed, earliest due first.
    pub claimed: Vec<OutboxRecord>,
    /// Marked failed: claimed `max_attempts` times without an outcome.
    pub gave_up: Vec<OutboxId>,
}

/// How a claimed message's attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Sent {
        to: String,
        provider_id: Option<String>,
    },
    /// Failed for now: try again at `at`.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Failed for good.
    Failed {
        error: String,
    },
    Skipped {
        reason: String,
    },
    /// Not attempted (quiet hours, or the worker stopping): back in the queue
    /// from `at` without counting an attempt.
    Release {
        at: DateTime<Utc>,
        note: Option<String>,
    },
}

/// A template an admin saved, with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTemplate {
    #[serde(flatten)]
    pub template: Template,
    pub updated_by: String,
    pub meta: Meta,
}

/// A clinic's saved notification settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSettings {
    pub clinic_id: ClinicId,
    #[serde(flatten)]
    pub settings: NotificationSettings,
    pub meta: Meta,
}

#[async_trait]
pub trait OutboxTx: Send {
    /// Add messages; one whose idempotency key is already there is left out.
    /// Returns how many were added.
    async fn add_outbox(&mut self, messages: &[OutboxRecord]) -> Result<u64>;
    /// An appointment's messages that are still pending.
    async fn pending_outbox(&mut self, appointment: AppointmentId) -> Result<Vec<OutboxRecord>>;
    /// Void pending messages (claimed or not), saying why. Returns how many.
    async fn void_outbox(
        &mut self,
        ids: &[OutboxId],
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<u64>;
    /// Take up to `limit` pending messages in `scope` due by `now` whose lease
    /// (if any) has run out, earliest first: each gets `token`, `worker`, a
    /// lease of `lease` and one more attempt. Before that, such messages
    /// already claimed `max_attempts` times are marked failed, saying why.
    async fn claim_outbox(&mut self, claim: &ClaimRequest<'_>) -> Result<ClaimResult>;
    /// Record how an attempt ended, if `token` still holds the message.
    async fn finish_outbox(
        &mut self,
        id: OutboxId,
        token: Uuid,
        finish: &Finish,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Put a failed or skipped message back in the queue, due at `at`, with its
    /// attempts reset. `false` when it is not failed or skipped.
    async fn requeue_outbox(&mut self, id: OutboxId, at: DateTime<Utc>) -> Result<bool>;
    /// When the next message in `scope` can be claimed, on the application's
    /// clock (`now` is its present): the earliest pending attempt time, or a
    /// lease that runs out (read by the lease clock and moved onto `now`'s).
    async fn next_outbox_due(
        &mut self,
        scope: &ClaimScope,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>>;
    async fn outbox_message(&mut self, id: OutboxId) -> Result<Option<OutboxRecord>>;
    async fn outbox(&mut self, filter: &OutboxFilter) -> Result<Page<OutboxRecord>>;
    /// How many messages are in each status (of these clinics' appointments,
    /// or every clinic's).
    async fn outbox_counts(
        &mut self,
        within: Option<&[ClinicId]>,
    ) -> Result<Vec<(MessageStatus, u64)>>;

    /// The saved (not reset) templates.
    async fn templates(&mut self) -> Result<Vec<StoredTemplate>>;
    /// Save a template; returns the version stored. An insert over a
    /// template that was reset continues its versions (one past the
    /// tombstone's), so an edit made before the reset stays stale.
    async fn save_template(&mut self, t: &StoredTemplate, how: Write) -> Result<i64>;
    /// Reset a saved template (the built-in one applies again): its row is
    /// tombstoned at `at`. `false` when there was none.
    async fn delete_template(
        &mut self,
        kind: MessageKind,
        channel: MessageChannel,
        at: DateTime<Utc>,
    ) -> Result<bool>;

    async fn notification_settings(&mut self, clinic: ClinicId) -> Result<Option<StoredSettings>>;
    async fn save_notification_settings(&mut self, s: &StoredSettings, how: Write) -> Result<()>;
}
