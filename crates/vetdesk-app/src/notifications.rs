//! Notifications: the outbox rows an appointment change writes (in the change's
//! own transaction), and the use cases a person runs: list the outbox, retry a
//! failed message, preview a message, edit templates and a clinic's
//! notification settings. What the worker asks of the application (claim,
//! prepare, record) is `sending.rs`.
//!
//! What a change causes is decided by the pure core
//! (`vetdesk_core::notification::plan`); this module loads what the plan needs
//! and writes what it says. Messages are rendered when they are sent, so an
//! owner's new email address or an admin's new wording applies to messages
//! already planned.

use crate::access::snap;
use crate::paging::page_limit;
use crate::reads::Reads;
use crate::records::require_clinic;
use crate::sending::{facts, Prepared};
use crate::{App, AppError, Result};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vetdesk_core::message::render;
use vetdesk_core::notification::{plan, Event, PlanInput};
use vetdesk_core::*;
use vetdesk_store::{
    Entity, OutboxFilter, OutboxRecord, Page, StoredSettings, StoredTemplate, Tx, Write,
};

/// Largest outbox page.
pub const MAX_OUTBOX_PAGE: u32 = 500;

/// A message with what it would say if it were sent now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessagePreview {
    pub message: OutboxRecord,
    pub prepared: Prepared,
}

/// A template as it applies: an admin's, or the built-in one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateView {
    #[serde(flatten)]
    pub template: Template,
    /// `false` when this is the built-in wording.
    pub custom: bool,
    /// Present for an admin's template: its version (for `--expect-version`), who and when.
    pub version: Option<i64>,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TemplateInput {
    pub kind: String,
    pub channel: String,
    pub subject: Option<String>,
    pub body: String,
}

/// A clinic's notification settings as they apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsView {
    pub clinic_id: ClinicId,
    #[serde(flatten)]
    pub settings: NotificationSettings,
    /// `None` while the defaults apply.
    pub version: Option<i64>,
}

/// Changes to a clinic's notification settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SettingsPatch {
    /// Minutes, or with `h`/`d` (`24h,2h`); empty or `none` for no reminders.
    pub reminder_offsets: Option<String>,
    /// `HH:MM-HH:MM`, or `none`.
    pub quiet_hours: Option<String>,
    /// Minutes, or `none`.
    pub staff_heads_up: Option<String>,
}

/// What to list from the outbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutboxQuery {
    pub statuses: Vec<MessageStatus>,
    pub appointment: Option<AppointmentId>,
    pub channel: Option<MessageChannel>,
    pub limit: u32,
    pub offset: u32,
}

fn void_reason(event: Event) -> String {
    match event {
        Event::Booked => "superseded".into(),
        Event::Rescheduled { .. } => "the appointment was rescheduled".into(),
        Event::Stepped(a) => match a {
            Action::Cancel => "the appointment was cancelled".into(),
            Action::NoShow => "the appointment was marked a no-show".into(),
            Action::CheckIn => "the patient checked in".into(),
            Action::Start => "the appointment started".into(),
            Action::Complete => "the appointment was completed".into(),
            other => format!("the appointment was {}", other.as_str()),
        },
    }
}

/// The settings that apply to a clinic.
pub(crate) async fn settings_of(tx: &mut dyn Tx, clinic: ClinicId) -> Result<NotificationSettings> {
    Ok(tx
        .notification_settings(clinic)
        .await?
        .map(|s| s.settings)
        .unwrap_or_default())
}

pub(crate) async fn template_of(
    tx: &mut dyn Tx,
    kind: MessageKind,
    channel: MessageChannel,
) -> Result<Template> {
    Ok(tx
        .templates()
        .await?
        .into_iter()
        .find(|t| t.template.kind == kind && t.template.channel == channel)
        .map(|t| t.template)
        .unwrap_or_else(|| Template::default_for(kind, channel)))
}

impl App {
    /// Write the messages an appointment change causes, in the change's own
    /// transaction: void what it made pointless, add what it calls for. The
    /// appointment's client and the clinic's settings come through `reads`
    /// (read here unless the transaction has read them already).
    pub(crate) async fn queue_notifications(
        &self,
        tx: &mut dyn Tx,
        reads: &mut Reads,
        event: Event,
        appointment: &Appointment,
        clinic: &Clinic,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let client = reads.client(tx, appointment.client_id).await?;
        let settings = reads.settings(tx, clinic.id).await?;
        let pending: Vec<PendingMessage> = match event {
            Event::Booked => Vec::new(),
            _ => tx
                .pending_outbox(appointment.id)
                .await?
                .into_iter()
                .map(|m| PendingMessage {
                    id: m.id,
                    kind: m.kind,
                })
                .collect(),
        };
        let p = plan(&PlanInput {
            event,
            appointment,
            client: &client,
            tz: clinic.time_zone,
            settings: &settings,
            pending: &pending,
            now,
        });
        tx.void_outbox(&p.void, &void_reason(event), now).await?;
        let rows: Vec<OutboxRecord> = p
            .add
            .into_iter()
            .map(|m| OutboxRecord {
                id: OutboxId(Uuid::now_v7()),
                key: m.key,
                appointment_id: appointment.id,
                appointment_version: appointment.meta.version,
                clinic_id: clinic.id,
                vet_id: appointment.vet_id,
                kind: m.kind,
                channel: m.channel,
                offset_min: m.offset_min,
                appointment_start: m.appointment_start,
                previous_start: m.previous_start,
                due_at: m.due_at,
                expires_at: m.expires_at,
                status: if m.skipped.is_some() {
                    MessageStatus::Skipped
                } else {
                    MessageStatus::Pending
                },
                attempts: 0,
                next_attempt_at: m.due_at,
                claimed_by: None,
                lease_until: None,
                finished_at: m.skipped.as_ref().map(|_| now),
                last_error: m.skipped,
                sent_to: None,
                provider_id: None,
                created_at: now,
                updated_at: now,
            })
            .collect();
        tx.add_outbox(&rows).await?;
        tracing::debug!(appointment = %appointment.id, voided = p.void.len(), added = rows.len(), "notifications planned");
        Ok(())
    }

    // ---------- what a person sees and does ----------

    /// The outbox, newest due first.
    #[tracing::instrument(skip_all)]
    pub async fn outbox(&self, q: OutboxQuery) -> Result<Page<OutboxRecord>> {
        self.require(Permission::ReadSchedule)?;
        let limit = page_limit(q.limit, MAX_OUTBOX_PAGE, "messages")?;
        let filter = OutboxFilter {
            statuses: q.statuses,
            appointment: q.appointment,
            channel: q.channel,
            clinics: self.clinic_scope(),
            limit,
            offset: q.offset,
        };
        Ok(self.store.read().await?.outbox(&filter).await?)
    }

    /// How many messages are in each status.
    #[tracing::instrument(skip_all)]
    pub async fn outbox_counts(&self) -> Result<Vec<(MessageStatus, u64)>> {
        self.require(Permission::ReadSchedule)?;
        let scope = self.clinic_scope();
        Ok(self
            .store
            .read()
            .await?
            .outbox_counts(scope.as_deref())
            .await?)
    }

    #[tracing::instrument(skip_all, fields(message = %id))]
    pub async fn outbox_message(&self, id: OutboxId) -> Result<OutboxRecord> {
        self.require(Permission::ReadSchedule)?;
        let mut tx = self.store.read().await?;
        self.seen_message(tx.as_mut(), id).await
    }

    /// A message about an appointment at one of the principal's clinics, or `not_found`.
    async fn seen_message(&self, tx: &mut dyn Tx, id: OutboxId) -> Result<OutboxRecord> {
        let m = tx
            .outbox_message(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::OutboxMessage, id))?;
        self.hidden_unless_at(m.clinic_id, Entity::OutboxMessage, id)?;
        Ok(m)
    }

    /// What a message would say, and whether it would go, if it were sent now.
    #[tracing::instrument(skip_all, fields(message = %id))]
    pub async fn preview_message(&self, id: OutboxId) -> Result<MessagePreview> {
        self.require(Permission::ReadSchedule)?;
        let mut tx = self.store.read().await?;
        let message = self.seen_message(tx.as_mut(), id).await?;
        let prepared = crate::sending::prepare(tx.as_mut(), &message, self.now()).await?;
        Ok(MessagePreview { message, prepared })
    }

    /// Put a failed (or skipped) message back in the queue, due now. It is
    /// sent if it is still worth sending; the worker checks again.
    #[tracing::instrument(skip_all, fields(message = %id))]
    pub async fn retry_message(&self, id: OutboxId) -> Result<OutboxRecord> {
        self.require(Permission::RetryMessages)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let before = self.seen_message(tx.as_mut(), id).await?;
        if !tx.requeue_outbox(id, now).await? {
            return Err(AppError::Invalid(ValidationError::Other(format!(
                "message {id} is {}; only a failed or skipped message can be retried",
                before.status
            ))));
        }
        let after = tx
            .outbox_message(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::OutboxMessage, id))?;
        self.audit(
            tx.as_mut(),
            "outbox.retry",
            "outbox_message",
            Some(id.0),
            snap(&before),
            snap(&after),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(message = %id, "message queued again");
        Ok(after)
    }

    /// Every kind × channel template as it applies.
    #[tracing::instrument(skip_all)]
    pub async fn templates(&self) -> Result<Vec<TemplateView>> {
        self.require(Permission::ReadSchedule)?;
        let stored = self.store.read().await?.templates().await?;
        let mut out = Vec::new();
        for kind in MessageKind::ALL {
            for &channel in kind.channels() {
                out.push(
                    match stored
                        .iter()
                        .find(|t| t.template.kind == kind && t.template.channel == channel)
                    {
                        Some(t) => TemplateView {
                            template: t.template.clone(),
                            custom: true,
                            version: Some(t.meta.version),
                            updated_by: Some(t.updated_by.clone()),
                            updated_at: Some(t.meta.updated_at),
                        },
                        None => TemplateView {
                            template: Template::default_for(kind, channel),
                            custom: false,
                            version: None,
                            updated_by: None,
                            updated_at: None,
                        },
                    },
                );
            }
        }
        Ok(out)
    }

    /// One kind × channel template as it applies.
    #[tracing::instrument(skip_all, fields(kind = kind, channel = channel))]
    pub async fn template(&self, kind: &str, channel: &str) -> Result<TemplateView> {
        self.require(Permission::ReadSchedule)?;
        let kind: MessageKind = kind.parse()?;
        let channel: MessageChannel = channel.parse()?;
        self.templates()
            .await?
            .into_iter()
            .find(|t| t.template.kind == kind && t.template.channel == channel)
            .ok_or_else(|| {
                ValidationError::Other(format!("a {kind} message never goes by {channel}")).into()
            })
    }

    /// Save an admin's wording for one kind and channel (checked: known
    /// placeholders, balanced braces, lengths). With `expected_version`, refused
    /// if someone else saved it since.
    #[tracing::instrument(skip_all, fields(kind = %input.kind, channel = %input.channel))]
    pub async fn set_template(
        &self,
        input: TemplateInput,
        expected_version: Option<i64>,
    ) -> Result<TemplateView> {
        self.require(Permission::ManageNotifications)?;
        let kind: MessageKind = input.kind.parse()?;
        let channel: MessageChannel = input.channel.parse()?;
        let template = Template::new(kind, channel, input.subject.as_deref(), &input.body)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let old = tx
            .templates()
            .await?
            .into_iter()
            .find(|t| t.template.kind == kind && t.template.channel == channel);
        if let (Some(expected), Some(o)) = (expected_version, &old) {
            if expected != o.meta.version {
                return Err(AppError::StaleVersion {
                    entity: Entity::MessageTemplate,
                    id: format!("{kind}/{channel}"),
                    expected,
                    actual: o.meta.version,
                    current: snap(o).map(Box::new),
                });
            }
        }
        let (meta, how) = match &old {
            Some(o) => (
                o.meta.bumped(now),
                Write::Update {
                    expected_version: o.meta.version,
                },
            ),
            None => (Meta::new(now), Write::Insert),
        };
        let mut saved = StoredTemplate {
            template,
            updated_by: self.principal.username.clone(),
            meta,
        };
        saved.meta.version = tx.save_template(&saved, how).await?;
        self.audit(
            tx.as_mut(),
            "template.update",
            "message_template",
            None,
            old.as_ref().and_then(snap),
            snap(&saved),
        )
        .await?;
        tx.commit().await?;
        Ok(TemplateView {
            template: saved.template,
            custom: true,
            version: Some(saved.meta.version),
            updated_by: Some(saved.updated_by),
            updated_at: Some(saved.meta.updated_at),
        })
    }

    /// Go back to the built-in wording for one kind and channel.
    #[tracing::instrument(skip_all)]
    pub async fn reset_template(&self, kind: &str, channel: &str) -> Result<TemplateView> {
        self.require(Permission::ManageNotifications)?;
        let kind: MessageKind = kind.parse()?;
        let channel: MessageChannel = channel.parse()?;
        if !kind.channels().contains(&channel) {
            return Err(ValidationError::Other(format!(
                "a {kind} message never goes by {channel}"
            ))
            .into());
        }
        let mut tx = self.store.write().await?;
        let old = tx
            .templates()
            .await?
            .into_iter()
            .find(|t| t.template.kind == kind && t.template.channel == channel);
        if tx.delete_template(kind, channel, self.now()).await? {
            self.audit(
                tx.as_mut(),
                "template.reset",
                "message_template",
                None,
                old.as_ref().and_then(snap),
                None,
            )
            .await?;
            tx.commit().await?;
        }
        Ok(TemplateView {
            template: Template::default_for(kind, channel),
            custom: false,
            version: None,
            updated_by: None,
            updated_at: None,
        })
    }

    /// Render a template for an appointment (or for a sample one), as the owner would read it.
    #[tracing::instrument(skip_all)]
    pub async fn preview_template(
        &self,
        kind: &str,
        channel: &str,
        appointment: Option<AppointmentId>,
    ) -> Result<Rendered> {
        self.require(Permission::ReadSchedule)?;
        let kind: MessageKind = kind.parse()?;
        let channel: MessageChannel = channel.parse()?;
        if !kind.channels().contains(&channel) {
            return Err(ValidationError::Other(format!(
                "a {kind} message never goes by {channel}"
            ))
            .into());
        }
        let now = self.now();
        let mut tx = self.store.read().await?;
        let template = template_of(tx.as_mut(), kind, channel).await?;
        let Some(id) = appointment else {
            let start = now + Duration::days(1);
            return Ok(render(
                &template,
                &Facts {
                    pet: "Biscuit",
                    owner: "Olivia Smith",
                    vet: "Dr Alice Morgan",
                    clinic: "Riverside Veterinary Clinic",
                    type_name: "Vaccination",
                    start,
                    previous_start: Some(start - Duration::hours(3)),
                    tz: chrono_tz::Europe::London,
                    now,
                },
            ));
        };
        let view = tx
            .appointment_view(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::Appointment, id))?;
        self.hidden_unless_at(view.appointment.clinic_id, Entity::Appointment, id)?;
        let clinic = require_clinic(tx.as_mut(), view.appointment.clinic_id).await?;
        Ok(render(&template, &facts(&view, &clinic, None, now)))
    }

    #[tracing::instrument(skip_all, fields(clinic = %clinic))]
    pub async fn notification_settings(&self, clinic: ClinicId) -> Result<SettingsView> {
        self.require(Permission::ReadRecords)?;
        self.require_clinic_access(clinic)?;
        let mut tx = self.store.read().await?;
        require_clinic(tx.as_mut(), clinic).await?;
        let stored = tx.notification_settings(clinic).await?;
        Ok(SettingsView {
            clinic_id: clinic,
            version: stored.as_ref().map(|s| s.meta.version),
            settings: stored.map(|s| s.settings).unwrap_or_default(),
        })
    }

    /// Change a clinic's reminder offsets, SMS quiet hours or staff heads-up.
    /// Applies to changes made from now on; messages already planned keep their times.
    #[tracing::instrument(skip_all, fields(clinic = %clinic))]
    pub async fn set_notification_settings(
        &self,
        clinic: ClinicId,
        patch: SettingsPatch,
        expected_version: Option<i64>,
    ) -> Result<SettingsView> {
        self.require(Permission::ManageNotifications)?;
        let none = |s: &str| s.trim().is_empty() || s.trim().eq_ignore_ascii_case("none");
        let offsets = patch
            .reminder_offsets
            .as_deref()
            .map(NotificationSettings::parse_offsets)
            .transpose()?;
        let quiet = patch
            .quiet_hours
            .as_deref()
            .map(|q| -> Result<Option<QuietHours>> {
                if none(q) {
                    Ok(None)
                } else {
                    Ok(Some(q.parse()?))
                }
            })
            .transpose()?;
        let heads_up = patch
            .staff_heads_up
            .as_deref()
            .map(|h| -> Result<Option<u32>> {
                if none(h) {
                    return Ok(None);
                }
                let m = NotificationSettings::parse_offsets(h)?;
                match m.as_slice() {
                    [one] => Ok(Some(*one)),
                    _ => Err(
                        ValidationError::Other(format!("'{h}' is not one number of minutes"))
                            .into(),
                    ),
                }
            })
            .transpose()?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        require_clinic(tx.as_mut(), clinic).await?;
        let old = tx.notification_settings(clinic).await?;
        let current = old.as_ref().map(|s| s.settings.clone()).unwrap_or_default();
        if let Some(expected) = expected_version {
            let actual = old.as_ref().map_or(0, |s| s.meta.version);
            if expected != actual {
                return Err(AppError::StaleVersion {
                    entity: Entity::NotificationSettings,
                    id: clinic.to_string(),
                    expected,
                    actual,
                    current: old.as_ref().and_then(snap).map(Box::new),
                });
            }
        }
        let settings = NotificationSettings::new(
            offsets.unwrap_or(current.reminder_offsets_min),
            quiet.unwrap_or(current.quiet_hours),
            heads_up.unwrap_or(current.staff_heads_up_min),
        )?;
        let (meta, how) = match &old {
            Some(o) => (
                o.meta.bumped(now),
                Write::Update {
                    expected_version: o.meta.version,
                },
            ),
            None => (Meta::new(now), Write::Insert),
        };
        let saved = StoredSettings {
            clinic_id: clinic,
            settings,
            meta,
        };
        tx.save_notification_settings(&saved, how).await?;
        self.audit(
            tx.as_mut(),
            "notification_settings.update",
            "clinic",
            Some(clinic.0),
            old.as_ref().and_then(snap),
            snap(&saved),
        )
        .await?;
        tx.commit().await?;
        Ok(SettingsView {
            clinic_id: clinic,
            version: Some(saved.meta.version),
            settings: saved.settings,
        })
    }
}
