//! Wire types for the outbox, message templates and clinics' notification
//! settings. The `…View` types describe, for the OpenAPI document, what the
//! application layer's own types serialise to.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use vetdesk_app::{OutboxQuery, SettingsPatch, TemplateInput};
use vetdesk_core::{AppointmentId, MessageChannel, MessageStatus, ValidationError};

/// What a message is about.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum MessageKindView {
    Confirmation,
    Reminder,
    Reschedule,
    Cancellation,
    CheckedIn,
    StartingSoon,
}

/// How a message travels.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum MessageChannelView {
    Email,
    Sms,
    Desktop,
}

/// Where a message is in its life.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum MessageStatusView {
    Pending,
    Sent,
    Failed,
    Skipped,
    Voided,
}

/// One message in the outbox.
#[derive(ToSchema)]
pub struct OutboxMessageView {
    pub id: Uuid,
    /// The idempotency key (the email's `Message-ID`, the SMS gateway's idempotency header).
    pub key: String,
    pub appointment_id: Uuid,
    pub appointment_version: i64,
    pub clinic_id: Uuid,
    pub vet_id: Uuid,
    pub kind: MessageKindView,
    pub channel: MessageChannelView,
    /// A reminder's minutes before the start.
    #[schema(required)]
    pub offset_min: Option<u32>,
    pub appointment_start: DateTime<Utc>,
    #[schema(required)]
    pub previous_start: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    /// After this it is skipped rather than sent late.
    pub expires_at: DateTime<Utc>,
    pub status: MessageStatusView,
    /// Attempts begun.
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    #[schema(required)]
    pub claimed_by: Option<String>,
    #[schema(required)]
    pub lease_until: Option<DateTime<Utc>>,
    /// The last failure, or why it was skipped or voided.
    #[schema(required)]
    pub last_error: Option<String>,
    /// The address or number it went to.
    #[schema(required)]
    pub sent_to: Option<String>,
    #[schema(required)]
    pub provider_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(required)]
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(ToSchema)]
pub struct OutboxPageView {
    pub items: Vec<OutboxMessageView>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// Which messages to list (newest due first).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxListQuery {
    /// Statuses, comma-separated (`failed` or `failed,skipped`); all when absent.
    #[param(value_type = Option<crate::rules::MessageStatusList>)]
    pub status: Option<String>,
    /// `email`, `sms` or `desktop`.
    #[param(value_type = Option<MessageChannelView>)]
    pub channel: Option<String>,
    /// One appointment's messages.
    pub appointment_id: Option<Uuid>,
    /// Page size (default 50).
    #[param(value_type = Option<crate::rules::OutboxPageSize>)]
    pub limit: Option<u32>,
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub offset: Option<u32>,
}

impl TryFrom<OutboxListQuery> for OutboxQuery {
    type Error = ValidationError;
    fn try_from(q: OutboxListQuery) -> Result<Self, ValidationError> {
        let statuses = q
            .status
            .as_deref()
            .map(|s| {
                s.split(',')
                    .map(|one| one.trim().parse::<MessageStatus>())
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let channel = q
            .channel
            .as_deref()
            .map(str::parse::<MessageChannel>)
            .transpose()?;
        Ok(OutboxQuery {
            statuses,
            appointment: q.appointment_id.map(AppointmentId),
            channel,
            limit: q.limit.unwrap_or(0),
            offset: q.offset.unwrap_or(0),
        })
    }
}

/// Who a message goes to.
#[derive(ToSchema)]
pub struct RecipientView {
    /// An email address, a phone number, or (desktop) the vet's id.
    pub address: String,
    pub name: String,
}

/// A message as its reader sees it.
#[derive(ToSchema)]
pub struct RenderedView {
    /// Email and desktop messages have one; SMS does not.
    #[schema(required)]
    pub subject: Option<String>,
    pub text: String,
    /// Email only: the same text as HTML.
    #[schema(required)]
    pub html: Option<String>,
}

/// What the worker would do with the message now, named by `action`.
#[derive(ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PreparedView {
    /// It would go out, like this.
    Send {
        id: Uuid,
        key: String,
        kind: MessageKindView,
        channel: MessageChannelView,
        to: RecipientView,
        clinic: String,
        rendered: RenderedView,
        /// The calendar entry attached to an email, when there is one.
        #[schema(required)]
        ics: Option<String>,
    },
    /// Not yet (quiet hours).
    Defer { until: DateTime<Utc>, why: String },
    /// Not at all, for this reason.
    Skip { reason: String },
}

/// A message and what it would say, and whether it would go, if sent now.
#[derive(ToSchema)]
pub struct MessagePreviewView {
    pub message: OutboxMessageView,
    pub prepared: PreparedView,
}

/// A template as it applies: an admin's wording, or the built-in one.
#[derive(ToSchema)]
pub struct MessageTemplateView {
    pub kind: MessageKindView,
    pub channel: MessageChannelView,
    /// Email and desktop templates have one; SMS does not.
    #[schema(required)]
    pub subject: Option<String>,
    /// With placeholders: `{pet} {owner} {vet} {clinic} {type} {date} {time} {when} {zone}`
    /// (and `{previous_date} {previous_time}` in reschedule notices).
    pub body: String,
    /// `false` while the built-in wording applies.
    pub custom: bool,
    /// An admin's template's version (send it back to guard a change).
    #[schema(required)]
    pub version: Option<i64>,
    #[schema(required)]
    pub updated_by: Option<String>,
    #[schema(required)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// New wording for one kind and channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// Required for email and desktop; absent for SMS.
    #[schema(value_type = Option<crate::rules::TemplateSubject>)]
    pub subject: Option<String>,
    #[schema(value_type = crate::rules::TemplateBody)]
    pub body: String,
    /// The version the change is made against (or send `If-Match`).
    pub version: Option<i64>,
}

impl TemplateBody {
    pub fn into_input(self, kind: String, channel: String) -> TemplateInput {
        TemplateInput {
            kind,
            channel,
            subject: self.subject,
            body: self.body,
        }
    }
}

/// Which appointment to render a template for (a sample one when absent).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TemplatePreviewQuery {
    pub appointment_id: Option<Uuid>,
}

/// A clinic's notification settings as they apply.
#[derive(ToSchema)]
pub struct NotificationSettingsView {
    pub clinic_id: Uuid,
    /// Minutes before the start at which owners are reminded, largest first.
    pub reminder_offsets_min: Vec<u32>,
    /// Clinic-local `HH:MM-HH:MM` when no SMS goes out (deferred, not dropped); `null` for none.
    #[schema(required)]
    pub quiet_hours: Option<String>,
    /// Minutes before the start at which the vet's desktop says "starting soon"; `null` for never.
    #[schema(required)]
    pub staff_heads_up_min: Option<u32>,
    /// `null` while the defaults apply.
    #[schema(required)]
    pub version: Option<i64>,
}

/// Changes to a clinic's notification settings; absent fields stay as they are.
/// They apply to appointment changes made from now on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettingsBody {
    /// Minutes, or with `h`/`d`, comma-separated (`24h,2h`); `none` for no reminders.
    #[schema(value_type = Option<crate::rules::ReminderOffsets>)]
    pub reminder_offsets: Option<String>,
    /// `HH:MM-HH:MM` in the clinic's time, or `none`.
    #[schema(value_type = Option<crate::rules::QuietHours>)]
    pub quiet_hours: Option<String>,
    /// Minutes, or `none`.
    #[schema(value_type = Option<crate::rules::HeadsUp>)]
    pub staff_heads_up: Option<String>,
    /// The version the change is made against (0 while the defaults apply; or send `If-Match`).
    pub version: Option<i64>,
}

impl From<NotificationSettingsBody> for SettingsPatch {
    fn from(b: NotificationSettingsBody) -> Self {
        SettingsPatch {
            reminder_offsets: b.reminder_offsets,
            quiet_hours: b.quiet_hours,
            staff_heads_up: b.staff_heads_up,
        }
    }
}
