//! The worker's side of notifications: claim due messages (with a lease, and
//! a cap on how often one message may be claimed), prepare one for sending
//! (re-read and rendered just before it goes), and record how it went. The
//! network is the worker's (`vetdesk-notify`); what may go, to whom and
//! saying what is decided here.

use crate::notifications::{settings_of, template_of};
use crate::records::require_clinic;
use crate::{App, AppError, Result};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vetdesk_core::message::{ics, render};
use vetdesk_core::notification::{readiness, SendCheck};
use vetdesk_core::*;
use vetdesk_store::{AppointmentView, ClaimRequest, ClaimScope, Entity, Finish, OutboxRecord, Tx};

/// Largest batch a worker may claim at once.
pub const MAX_CLAIM: u32 = 500;
/// The most claims a worker may allow one message (`max_attempts`).
pub const MAX_ATTEMPTS: u32 = 100;

/// A message a worker holds: the row as claimed, and the token that proves the claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claimed {
    pub message: OutboxRecord,
    pub token: Uuid,
}

/// Who a message goes to, by its channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// An email address, a phone number, or (desktop) the vet's id.
    pub address: String,
    pub name: String,
}

/// A message ready to go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub id: OutboxId,
    /// The idempotency key: the email `Message-ID`'s local part and the SMS gateway's idempotency header.
    pub key: String,
    pub kind: MessageKind,
    pub channel: MessageChannel,
    pub to: Recipient,
    pub clinic: String,
    pub rendered: Rendered,
    /// The `.ics` calendar entry (email confirmations, reschedules and cancellations).
    pub ics: Option<String>,
}

/// What the worker should do with a claimed message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Prepared {
    Send(Box<Outgoing>),
    /// Not now (quiet hours): back to the queue until `until`.
    Defer {
        until: DateTime<Utc>,
        why: String,
    },
    /// Not at all; recorded as skipped with this reason.
    Skip {
        reason: String,
    },
}

/// What a claim took, and the messages it marked failed instead (claimed
/// `max_attempts` times already, with no outcome recorded).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClaimedBatch {
    pub messages: Vec<Claimed>,
    pub gave_up: Vec<OutboxId>,
}

impl App {
    /// Claim up to `limit` due messages in `scope` for `worker`, leased for
    /// `lease` (by the database's clock on PostgreSQL, the app's on SQLite).
    /// A due message already claimed `max_attempts` times without an outcome
    /// is marked failed instead (in `gave_up`).
    #[tracing::instrument(skip_all, fields(worker = worker, limit = limit))]
    pub async fn claim_messages(
        &self,
        scope: &ClaimScope,
        worker: &str,
        lease: Duration,
        limit: u32,
        max_attempts: u32,
    ) -> Result<ClaimedBatch> {
        self.require(Permission::ManageNotifications)?;
        if limit == 0 || limit > MAX_CLAIM {
            return Err(ValidationError::Other(format!(
                "a worker claims between 1 and {MAX_CLAIM} messages at a time"
            ))
            .into());
        }
        if lease <= Duration::zero() {
            return Err(ValidationError::Other("a claim's lease must be positive".into()).into());
        }
        if max_attempts == 0 || max_attempts > MAX_ATTEMPTS {
            return Err(ValidationError::Other(format!(
                "a message may be attempted between 1 and {MAX_ATTEMPTS} times"
            ))
            .into());
        }
        let token = Uuid::now_v7();
        let mut tx = self.store.write().await?;
        let r = tx
            .claim_outbox(&ClaimRequest {
                scope,
                worker,
                token,
                now: self.now(),
                lease,
                limit,
                max_attempts,
            })
            .await?;
        tx.commit().await?;
        for id in &r.gave_up {
            tracing::warn!(message = %id, max_attempts, "message failed: claimed too often without an outcome");
        }
        Ok(ClaimedBatch {
            messages: r
                .claimed
                .into_iter()
                .map(|message| Claimed { message, token })
                .collect(),
            gave_up: r.gave_up,
        })
    }

    /// Decide what to do with a claimed message now, and render it if it goes.
    #[tracing::instrument(skip_all, fields(message = %claimed.message.id))]
    pub async fn prepare_message(&self, claimed: &Claimed) -> Result<Prepared> {
        self.require(Permission::ManageNotifications)?;
        let mut tx = self.store.read().await?;
        prepare_claimed(tx.as_mut(), claimed, self.now()).await
    }

    /// Record how `done`'s attempt ended and, in the same transaction, prepare
    /// `next` (the worker's next message): one transaction a message instead
    /// of two. When preparing `next` fails, it comes back `None` (prepare it on
    /// its own) and the outcome is still committed on SQLite; on PostgreSQL a
    /// store error aborts the transaction, so the commit fails, as when the
    /// outcome itself cannot be written (the worker then records `done` again
    /// on its own). The first value is `false` when the claim no longer held
    /// `done` (or an earlier try recorded it after all).
    #[tracing::instrument(skip_all, fields(message = %done.message.id))]
    pub async fn finish_and_prepare(
        &self,
        done: &Claimed,
        finish: Finish,
        next: Option<&Claimed>,
    ) -> Result<(bool, Option<Prepared>)> {
        self.require(Permission::ManageNotifications)?;
        let now = self.now();
        let mut tx = self.outcome_tx().await?;
        let held = tx
            .finish_outbox(done.message.id, done.token, &finish, now)
            .await?;
        let prepared = match next {
            Some(c) => match prepare_claimed(tx.as_mut(), c, now).await {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::debug!(error = %e, "preparing the next message failed; it is prepared on its own");
                    None
                }
            },
            None => None,
        };
        tx.commit().await?;
        if !held {
            tracing::warn!(message = %done.message.id, "the claim had lapsed; outcome not recorded");
        }
        Ok((held, prepared))
    }

    /// The transaction an outcome is recorded in: not flushed to disk before
    /// the next send unless `durable_message_records` says so. Losing it to a
    /// power cut can only send the message again (same Message-ID), never lose
    /// one; a killed worker loses nothing (ARCHITECTURE.md, Invariants).
    async fn outcome_tx(&self) -> Result<Box<dyn Tx>> {
        Ok(if self.settings.durable_message_records {
            self.store.write().await?
        } else {
            self.store.write_relaxed().await?
        })
    }

    /// Record how a claimed message's attempt ended. `false` when the claim
    /// no longer held it (its lease ran out and another worker took it).
    #[tracing::instrument(skip_all, fields(message = %claimed.message.id))]
    pub async fn finish_message(&self, claimed: &Claimed, finish: Finish) -> Result<bool> {
        self.require(Permission::ManageNotifications)?;
        let now = self.now();
        let mut tx = self.outcome_tx().await?;
        let held = tx
            .finish_outbox(claimed.message.id, claimed.token, &finish, now)
            .await?;
        tx.commit().await?;
        if !held {
            tracing::warn!(message = %claimed.message.id, "the claim had lapsed; outcome not recorded");
        }
        Ok(held)
    }

    /// When the next message in `scope` may be claimed.
    #[tracing::instrument(skip_all)]
    pub async fn next_message_due(&self, scope: &ClaimScope) -> Result<Option<DateTime<Utc>>> {
        self.require(Permission::ManageNotifications)?;
        Ok(self
            .store
            .read()
            .await?
            .next_outbox_due(scope, self.now())
            .await?)
    }
}

/// A claimed message as it is now: skipped if a cancel voided it or another
/// worker took it since, else decided and rendered.
async fn prepare_claimed(
    tx: &mut dyn Tx,
    claimed: &Claimed,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    // A cancel may have voided it since it was claimed.
    let current = tx
        .outbox_message(claimed.message.id)
        .await?
        .ok_or_else(|| AppError::not_found(Entity::OutboxMessage, claimed.message.id))?;
    if current.status != MessageStatus::Pending {
        return Ok(Prepared::Skip {
            reason: format!("the message is {}", current.status),
        });
    }
    // The lease ran out and another worker took it: not ours to send (and
    // recording anything with our token changes nothing).
    if current.lease_until != claimed.message.lease_until
        || current.claimed_by != claimed.message.claimed_by
    {
        return Ok(Prepared::Skip {
            reason: "the claim lapsed".into(),
        });
    }
    prepare(tx, &current, now).await
}

/// Decide and render: the send-time checks of the core, then the template
/// filled with the appointment as it is now.
/// What a template is filled from, for one appointment at its clinic.
pub(crate) fn facts<'a>(
    view: &'a AppointmentView,
    clinic: &'a Clinic,
    previous_start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Facts<'a> {
    Facts {
        pet: &view.pet_name,
        owner: &view.client_name,
        vet: &view.vet_name,
        clinic: clinic.name.as_str(),
        type_name: &view.type_name,
        start: view.appointment.slot.start(),
        previous_start,
        tz: clinic.time_zone,
        now,
    }
}

pub(crate) async fn prepare(
    tx: &mut dyn Tx,
    m: &OutboxRecord,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    let Some(view) = tx.appointment_view(m.appointment_id).await? else {
        return Ok(Prepared::Skip {
            reason: "the appointment no longer exists".into(),
        });
    };
    let a = &view.appointment;
    let clinic = require_clinic(tx, m.clinic_id).await?;
    let settings = settings_of(tx, clinic.id).await?;
    let check = SendCheck {
        kind: m.kind,
        channel: m.channel,
        planned_start: m.appointment_start,
        expires_at: m.expires_at,
    };
    match readiness(&check, a, clinic.time_zone, settings.quiet_hours, now) {
        Readiness::Send => {}
        Readiness::Defer(until) => {
            return Ok(Prepared::Defer {
                until,
                why: "inside the clinic's quiet hours".into(),
            })
        }
        Readiness::Skip(reason) => return Ok(Prepared::Skip { reason }),
    }
    let to = match m.channel {
        MessageChannel::Desktop => Recipient {
            address: m.vet_id.to_string(),
            name: view.vet_name.clone(),
        },
        channel => {
            let client = tx
                .client(a.client_id)
                .await?
                .ok_or_else(|| AppError::not_found(Entity::Client, a.client_id))?;
            let p = &client.preferences;
            let address = match channel {
                MessageChannel::Email if p.email_opt_out => Err("the owner opted out of email"),
                MessageChannel::Email => client
                    .email
                    .as_ref()
                    .map(|e| e.as_str().to_string())
                    .ok_or("the owner has no email address"),
                _ if p.sms_opt_out => Err("the owner opted out of SMS"),
                _ => client
                    .phone
                    .as_ref()
                    .map(|n| n.as_str().to_string())
                    .ok_or("the owner has no phone number"),
            };
            match address {
                Ok(address) => Recipient {
                    address,
                    name: client.name.to_string(),
                },
                Err(reason) => {
                    return Ok(Prepared::Skip {
                        reason: reason.into(),
                    })
                }
            }
        }
    };
    let template = template_of(tx, m.kind, m.channel).await?;
    let rendered = render(&template, &facts(&view, &clinic, m.previous_start, now));
    let calendar = m.channel == MessageChannel::Email
        && matches!(
            m.kind,
            MessageKind::Confirmation | MessageKind::Reschedule | MessageKind::Cancellation
        );
    let ics = calendar.then(|| {
        let uid = format!("{}@vetdesk", a.id.0);
        let summary = format!(
            "{} for {} with {}",
            view.type_name, view.pet_name, view.vet_name
        );
        let description = format!(
            "{}'s {} with {} at {}.",
            view.pet_name,
            view.type_name.to_lowercase(),
            view.vet_name,
            clinic.name
        );
        ics(&CalendarEvent {
            uid: &uid,
            sequence: m.appointment_version,
            start: a.slot.start(),
            end: a.slot.end(),
            tz: clinic.time_zone,
            summary: &summary,
            location: clinic.name.as_str(),
            description: &description,
            cancelled: m.kind == MessageKind::Cancellation,
            stamp: now,
        })
    });
    Ok(Prepared::Send(Box::new(Outgoing {
        id: m.id,
        key: m.key.clone(),
        kind: m.kind,
        channel: m.channel,
        to,
        clinic: clinic.name.to_string(),
        rendered,
        ics,
    })))
}
