//! Notification planning: which messages an appointment change causes, to whom,
//! by which channel, when they fall due and until when they are still worth
//! sending. Pure: the caller passes `now`, the clinic's zone and settings, and
//! the messages still pending for the appointment; the plan says which of those
//! to void and which new ones to write (in the same transaction as the change).
//!
//! The rules (ARCHITECTURE.md "Invariants": never twice, never after a cancel, never
//! at 3 a.m.):
//!
//! - booking plans a confirmation, a reminder at each of the clinic's offsets
//!   (24 h and 2 h before by default) and a "starting soon" desktop heads-up
//!   for the vet; a reminder whose moment has already passed is recorded as
//!   skipped, saying so (the owner hears from the booking notice instead);
//! - a reschedule voids everything still pending and plans one reschedule
//!   notice and the reminders for the new time;
//! - a cancel or no-show voids everything still pending (a cancel adds one
//!   cancellation notice when the appointment is still ahead);
//! - check-in voids the reminders and tells the vet's desktop; start and
//!   complete void what is left of the heads-ups;
//! - SMS falling inside the clinic's quiet hours is deferred to their end; a
//!   reminder that would then arrive after the appointment started is skipped;
//! - every message has an idempotency key (appointment, kind, channel,
//!   appointment version): writing the same plan twice adds nothing.

use crate::ids::{AppointmentId, OutboxId};
use crate::lifecycle::{Action, Status};
use crate::model::{Appointment, Channel, Client};
use crate::time::{resolve_local, to_local, Interval};
use crate::validate::ValidationError;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// To the owner, on booking.
    Confirmation,
    /// To the owner, at each of the clinic's reminder offsets before the start.
    Reminder,
    /// To the owner, when the appointment moved.
    Reschedule,
    /// To the owner, when the appointment was cancelled.
    Cancellation,
    /// To the vet's desktop: the patient has arrived.
    CheckedIn,
    /// To the vet's desktop: the appointment starts in a few minutes.
    StartingSoon,
}

impl MessageKind {
    pub const ALL: [MessageKind; 6] = [
        MessageKind::Confirmation,
        MessageKind::Reminder,
        MessageKind::Reschedule,
        MessageKind::Cancellation,
        MessageKind::CheckedIn,
        MessageKind::StartingSoon,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            MessageKind::Confirmation => "confirmation",
            MessageKind::Reminder => "reminder",
            MessageKind::Reschedule => "reschedule",
            MessageKind::Cancellation => "cancellation",
            MessageKind::CheckedIn => "checked_in",
            MessageKind::StartingSoon => "starting_soon",
        }
    }

    /// Whether the message goes to the pet's owner (else to staff, on the desktop).
    pub fn to_owner(&self) -> bool {
        !matches!(self, MessageKind::CheckedIn | MessageKind::StartingSoon)
    }

    /// The channels a message of this kind may travel by.
    pub fn channels(&self) -> &'static [MessageChannel] {
        if self.to_owner() {
            &[MessageChannel::Email, MessageChannel::Sms]
        } else {
            &[MessageChannel::Desktop]
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MessageKind {
    type Err = ValidationError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let norm = raw.trim().to_ascii_lowercase().replace('-', "_");
        MessageKind::ALL
            .into_iter()
            .find(|k| k.as_str() == norm)
            .ok_or_else(|| ValidationError::Choice {
                field: "message kind",
                value: raw.to_string(),
                expected:
                    "confirmation, reminder, reschedule, cancellation, checked_in, starting_soon",
            })
    }
}

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    Email,
    Sms,
    Desktop,
}

impl MessageChannel {
    pub const ALL: [MessageChannel; 3] = [
        MessageChannel::Email,
        MessageChannel::Sms,
        MessageChannel::Desktop,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            MessageChannel::Email => "email",
            MessageChannel::Sms => "sms",
            MessageChannel::Desktop => "desktop",
        }
    }
}

impl From<Channel> for MessageChannel {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Email => MessageChannel::Email,
            Channel::Sms => MessageChannel::Sms,
        }
    }
}

impl fmt::Display for MessageChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MessageChannel {
    type Err = ValidationError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "email" => Ok(MessageChannel::Email),
            "sms" => Ok(MessageChannel::Sms),
            "desktop" => Ok(MessageChannel::Desktop),
            _ => Err(ValidationError::Choice {
                field: "channel",
                value: raw.to_string(),
                expected: "email, sms, desktop",
            }),
        }
    }
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Waiting for its moment, or for another attempt.
    Pending,
    Sent,
    /// Gave up after the last attempt; the last error says why. Can be retried by hand.
    Failed,
    /// Not sent, on purpose: opted out, no contact detail, or its moment passed.
    Skipped,
    /// Made pointless by a later change (a cancel, a reschedule).
    Voided,
}

impl MessageStatus {
    pub const ALL: [MessageStatus; 5] = [
        MessageStatus::Pending,
        MessageStatus::Sent,
        MessageStatus::Failed,
        MessageStatus::Skipped,
        MessageStatus::Voided,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
            MessageStatus::Skipped => "skipped",
            MessageStatus::Voided => "voided",
        }
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MessageStatus {
    type Err = ValidationError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let norm = raw.trim().to_ascii_lowercase();
        MessageStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == norm)
            .ok_or_else(|| ValidationError::Choice {
                field: "message status",
                value: raw.to_string(),
                expected: "pending, sent, failed, skipped, voided",
            })
    }
}

/// A stretch of the clinic's local day when no SMS goes out, e.g. `20:00-08:00`
/// (it may run over midnight). Start and end are minutes since local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuietHours {
    start_min: u16,
    end_min: u16,
}

impl QuietHours {
    pub fn new(start_min: u16, end_min: u16) -> Result<Self, ValidationError> {
        if start_min >= 24 * 60 || end_min >= 24 * 60 || start_min == end_min {
            return Err(ValidationError::Other(
                "quiet hours need a start and an end that differ, each within 00:00-23:59".into(),
            ));
        }
        Ok(QuietHours { start_min, end_min })
    }
    pub fn start_min(&self) -> u16 {
        self.start_min
    }
    pub fn end_min(&self) -> u16 {
        self.end_min
    }

    fn contains_minute(&self, m: u16) -> bool {
        if self.start_min < self.end_min {
            (self.start_min..self.end_min).contains(&m)
        } else {
            m >= self.start_min || m < self.end_min
        }
    }

    /// Whether `t` falls inside the quiet hours on the clinic's wall clock.
    pub fn contains(&self, tz: Tz, t: DateTime<Utc>) -> bool {
        use chrono::Timelike;
        let local = to_local(tz, t);
        let m = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(0);
        self.contains_minute(m)
    }

    /// `t`, or the end of the quiet hours it falls in (resolved like any local
    /// time, so a DST change day still ends them at the wall-clock time).
    pub fn defer(&self, tz: Tz, t: DateTime<Utc>) -> DateTime<Utc> {
        if !self.contains(tz, t) {
            return t;
        }
        let local = to_local(tz, t);
        let end = NaiveTime::from_num_seconds_from_midnight_opt(u32::from(self.end_min) * 60, 0)
            .unwrap_or(NaiveTime::MIN);
        let mut date = local.date();
        if local.time() >= end {
            date = date.succ_opt().unwrap_or(date);
        }
        resolve_local(tz, date.and_time(end)).max(t)
    }
}

impl FromStr for QuietHours {
    type Err = ValidationError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ValidationError::Other(format!(
                "'{raw}' is not quiet hours (expected HH:MM-HH:MM, e.g. 20:00-08:00)"
            ))
        };
        let (a, b) = raw.trim().split_once('-').ok_or_else(bad)?;
        let minute = |s: &str| -> Result<u16, ValidationError> {
            let t = NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad())?;
            use chrono::Timelike;
            u16::try_from(t.hour() * 60 + t.minute()).map_err(|_| bad())
        };
        QuietHours::new(minute(a)?, minute(b)?)
    }
}

impl TryFrom<String> for QuietHours {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<QuietHours> for String {
    fn from(q: QuietHours) -> String {
        q.to_string()
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }
}

/// A clinic's notification settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    /// Minutes before the start at which owners are reminded, largest first.
    pub reminder_offsets_min: Vec<u32>,
    /// When no SMS goes out (clinic-local); `None` for none.
    pub quiet_hours: Option<QuietHours>,
    /// Minutes before the start at which the vet's desktop says "starting soon"; `None` for never.
    pub staff_heads_up_min: Option<u32>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            reminder_offsets_min: vec![24 * 60, 2 * 60],
            quiet_hours: Some(QuietHours {
                start_min: 20 * 60,
                end_min: 8 * 60,
            }),
            staff_heads_up_min: Some(5),
        }
    }
}

/// The most reminders an appointment may have, and the furthest ahead (30 days).
pub const MAX_REMINDERS: usize = 4;
pub const MAX_REMINDER_OFFSET_MIN: u32 = 30 * 24 * 60;

impl NotificationSettings {
    /// Checked settings: offsets between 1 minute and 30 days, at most four,
    /// no two alike (stored largest first); a heads-up of 1 to 120 minutes.
    pub fn new(
        mut reminder_offsets_min: Vec<u32>,
        quiet_hours: Option<QuietHours>,
        staff_heads_up_min: Option<u32>,
    ) -> Result<Self, ValidationError> {
        if reminder_offsets_min.len() > MAX_REMINDERS {
            return Err(ValidationError::Other(format!(
                "at most {MAX_REMINDERS} reminders per appointment, got {}",
                reminder_offsets_min.len()
            )));
        }
        for &m in &reminder_offsets_min {
            if m == 0 || m > MAX_REMINDER_OFFSET_MIN {
                return Err(ValidationError::Minutes {
                    field: "reminder offset",
                    min: 1,
                    max: i64::from(MAX_REMINDER_OFFSET_MIN),
                    got: i64::from(m),
                });
            }
        }
        reminder_offsets_min.sort_unstable_by(|a, b| b.cmp(a));
        if reminder_offsets_min.windows(2).any(|w| w[0] == w[1]) {
            return Err(ValidationError::Other(
                "two reminders at the same offset".into(),
            ));
        }
        if let Some(h) = staff_heads_up_min {
            if !(1..=120).contains(&h) {
                return Err(ValidationError::Minutes {
                    field: "staff heads-up",
                    min: 1,
                    max: 120,
                    got: i64::from(h),
                });
            }
        }
        Ok(NotificationSettings {
            reminder_offsets_min,
            quiet_hours,
            staff_heads_up_min,
        })
    }

    /// Offsets as typed: minutes, or with an `h` / `d` suffix (`24h,2h`, `1d`).
    pub fn parse_offsets(raw: &str) -> Result<Vec<u32>, ValidationError> {
        if raw.trim().is_empty() || raw.trim().eq_ignore_ascii_case("none") {
            return Ok(Vec::new());
        }
        raw.split(',')
            .map(|part| {
                let p = part.trim().to_ascii_lowercase();
                let bad = || {
                    ValidationError::Other(format!(
                        "'{}' is not a reminder offset (minutes, or a number with h or d, e.g. 24h)",
                        part.trim()
                    ))
                };
                let (num, mult) = if let Some(n) = p.strip_suffix('d') {
                    (n, 24 * 60)
                } else if let Some(n) = p.strip_suffix('h') {
                    (n, 60)
                } else {
                    (p.strip_suffix('m').unwrap_or(&p), 1)
                };
                num.trim()
                    .parse::<u32>()
                    .ok()
                    .and_then(|n| n.checked_mul(mult))
                    .ok_or_else(bad)
            })
            .collect()
    }
}

/// An offset written for people: `24h`, `2h`, `90m`, `2d`.
pub fn offset_label(min: u32) -> String {
    if min % (24 * 60) == 0 {
        format!("{}d", min / (24 * 60))
    } else if min % 60 == 0 {
        format!("{}h", min / 60)
    } else {
        format!("{min}m")
    }
}

/// What happened to an appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Booked,
    /// A lifecycle step that does not move the appointment.
    Stepped(Action),
    /// Moved; `previous` is where it was.
    Rescheduled {
        previous: Interval,
    },
}

/// A message still pending for the appointment (what a plan may void).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingMessage {
    pub id: OutboxId,
    pub kind: MessageKind,
}

/// A message a plan adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedMessage {
    pub key: String,
    pub kind: MessageKind,
    pub channel: MessageChannel,
    /// Reminders: how long before the start.
    pub offset_min: Option<u32>,
    /// The start the message speaks of; at send time a different start means it is stale.
    pub appointment_start: DateTime<Utc>,
    /// Reschedule notices: where the appointment was.
    pub previous_start: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    /// After this, the message is skipped rather than sent late.
    pub expires_at: DateTime<Utc>,
    /// Set when the message is recorded as skipped at once, with why.
    pub skipped: Option<String>,
}

/// What a change causes: messages to void and messages to add.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub void: Vec<OutboxId>,
    pub add: Vec<PlannedMessage>,
}

/// Everything [`plan`] looks at.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub event: Event,
    /// The appointment as the change left it (its version names the new messages).
    pub appointment: &'a Appointment,
    pub client: &'a Client,
    pub tz: Tz,
    pub settings: &'a NotificationSettings,
    pub pending: &'a [PendingMessage],
    pub now: DateTime<Utc>,
}

/// How long a check-in notice is worth showing, and how long after the start a
/// "starting soon" one still is.
pub const CHECKED_IN_VALID: Duration = Duration::minutes(30);
pub const STARTING_SOON_GRACE: Duration = Duration::minutes(10);

/// The idempotency key: appointment, kind (with the reminder offset), channel,
/// appointment version. Also the local part of an email's `Message-ID`, so it
/// uses only characters a dot-atom allows.
pub fn idempotency_key(
    appointment: AppointmentId,
    kind: MessageKind,
    offset_min: Option<u32>,
    channel: MessageChannel,
    version: i64,
) -> String {
    let kind = match offset_min {
        Some(m) => format!("{}-{}", kind.as_str().replace('_', "-"), offset_label(m)),
        None => kind.as_str().replace('_', "-"),
    };
    format!("{}.{kind}.{}.v{version}", appointment.0.simple(), channel)
}

/// The channel an owner's message takes: the preferred one (email when none
/// is set), else the other, skipping a channel the owner opted out of or has
/// no address for. `Err` says why no channel works.
pub fn owner_channel(client: &Client) -> Result<MessageChannel, String> {
    let first = client.preferences.preferred.unwrap_or(Channel::Email);
    let second = match first {
        Channel::Email => Channel::Sms,
        Channel::Sms => Channel::Email,
    };
    let mut why = Vec::new();
    for c in [first, second] {
        match c {
            Channel::Email if client.preferences.email_opt_out => why.push("opted out of email"),
            Channel::Email if client.email.is_none() => why.push("no email address"),
            Channel::Sms if client.preferences.sms_opt_out => why.push("opted out of SMS"),
            Channel::Sms if client.phone.is_none() => why.push("no phone number"),
            _ => return Ok(c.into()),
        }
    }
    Err(format!("no way to reach the owner: {}", why.join(", ")))
}

/// The kinds a change makes pointless.
fn voids(event: Event) -> &'static [MessageKind] {
    use MessageKind::*;
    match event {
        Event::Booked => &[],
        Event::Rescheduled { .. } => &[Confirmation, Reminder, Reschedule, StartingSoon],
        Event::Stepped(a) => match a {
            Action::Confirm => &[],
            Action::CheckIn => &[Reminder],
            Action::Start | Action::Complete => &[Reminder, StartingSoon, CheckedIn],
            Action::Cancel | Action::NoShow => {
                &[Confirmation, Reminder, Reschedule, StartingSoon, CheckedIn]
            }
            Action::Reschedule => &[Confirmation, Reminder, Reschedule, StartingSoon],
        },
    }
}

/// One owner message to add: [`plan`]'s `owner` takes these.
struct OwnerMessage {
    kind: MessageKind,
    offset_min: Option<u32>,
    /// When it falls due (quiet hours not yet applied).
    due: DateTime<Utc>,
    /// How long after it falls due it may still go; never after `until`.
    grace: Option<Duration>,
    until: DateTime<Utc>,
    previous_start: Option<DateTime<Utc>>,
    /// Recorded as skipped at once, with this reason (unless the owner
    /// cannot be reached at all, which is said first).
    skip: Option<String>,
}

/// The messages a change causes.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let voided = voids(input.event);
    let void = input
        .pending
        .iter()
        .filter(|p| voided.contains(&p.kind))
        .map(|p| p.id)
        .collect();
    let a = input.appointment;
    let start = a.slot.start();
    let mut add = Vec::new();
    let route = owner_channel(input.client);
    let mut owner = |m: OwnerMessage| {
        let passed = m.skip.is_some();
        let (channel, mut skipped) = match &route {
            Ok(c) => (*c, m.skip),
            Err(why) => (
                input
                    .client
                    .preferences
                    .preferred
                    .map_or(MessageChannel::Email, MessageChannel::from),
                Some(why.clone()),
            ),
        };
        let due_at = match (channel, input.settings.quiet_hours) {
            (MessageChannel::Sms, Some(q)) if !passed => q.defer(input.tz, m.due),
            _ => m.due,
        };
        let expires_at = m.grace.map_or(m.until, |g| (due_at + g).min(m.until));
        if skipped.is_none() && due_at >= expires_at {
            skipped = Some(format!(
                "quiet hours ({}) last until after the appointment's start",
                input
                    .settings
                    .quiet_hours
                    .map(|q| q.to_string())
                    .unwrap_or_default()
            ));
        }
        add.push(PlannedMessage {
            key: idempotency_key(a.id, m.kind, m.offset_min, channel, a.meta.version),
            kind: m.kind,
            channel,
            offset_min: m.offset_min,
            appointment_start: start,
            previous_start: m.previous_start,
            due_at,
            expires_at,
            skipped,
        });
    };
    let notice = |kind: MessageKind, previous_start: Option<DateTime<Utc>>| OwnerMessage {
        kind,
        offset_min: None,
        due: input.now,
        grace: None,
        until: start,
        previous_start,
        skip: None,
    };
    let made = match input.event {
        Event::Rescheduled { .. } => "moved",
        _ => "booked",
    };
    let plan_reminders = |owner: &mut dyn FnMut(OwnerMessage)| {
        for &m in &input.settings.reminder_offsets_min {
            let offset = Duration::minutes(i64::from(m));
            let due = start - offset;
            // A reminder whose moment has passed is recorded as skipped, with
            // why: the booking or reschedule notice going out now already
            // tells the owner, and the outbox shows the front desk it was not
            // forgotten.
            let skip = (due <= input.now).then(|| {
                format!(
                    "its moment ({}) had passed when the appointment was {made} ({})",
                    due.format("%Y-%m-%d %H:%M UTC"),
                    input.now.format("%Y-%m-%d %H:%M UTC"),
                )
            });
            // Sent late only while it is less than half its lead time late.
            owner(OwnerMessage {
                kind: MessageKind::Reminder,
                offset_min: Some(m),
                due,
                grace: Some(offset / 2),
                until: start,
                previous_start: None,
                skip,
            });
        }
    };
    match input.event {
        Event::Booked if start > input.now => {
            owner(notice(MessageKind::Confirmation, None));
            plan_reminders(&mut owner);
        }
        Event::Rescheduled { previous } if start > input.now => {
            owner(notice(MessageKind::Reschedule, Some(previous.start())));
            plan_reminders(&mut owner);
        }
        Event::Stepped(Action::Cancel) if start > input.now => {
            owner(notice(MessageKind::Cancellation, None));
        }
        _ => {}
    }
    let staff =
        |kind: MessageKind, due_at: DateTime<Utc>, expires_at: DateTime<Utc>| PlannedMessage {
            key: idempotency_key(a.id, kind, None, MessageChannel::Desktop, a.meta.version),
            kind,
            channel: MessageChannel::Desktop,
            offset_min: None,
            appointment_start: start,
            previous_start: None,
            due_at,
            expires_at,
            skipped: None,
        };
    match input.event {
        Event::Booked | Event::Rescheduled { .. } => {
            if let Some(h) = input.settings.staff_heads_up_min {
                let due = start - Duration::minutes(i64::from(h));
                if due > input.now {
                    add.push(staff(
                        MessageKind::StartingSoon,
                        due,
                        start + STARTING_SOON_GRACE,
                    ));
                }
            }
        }
        Event::Stepped(Action::CheckIn) => {
            add.push(staff(
                MessageKind::CheckedIn,
                input.now,
                input.now + CHECKED_IN_VALID,
            ));
        }
        _ => {}
    }
    Plan { void, add }
}

/// What the worker does with a claimed message, decided just before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Send,
    /// Not now: inside quiet hours; try again at this instant.
    Defer(DateTime<Utc>),
    /// Not at all, and why (recorded).
    Skip(String),
}

/// Facts about a message the send-time check needs.
#[derive(Debug, Clone, Copy)]
pub struct SendCheck {
    pub kind: MessageKind,
    pub channel: MessageChannel,
    pub planned_start: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Whether a message may go out now: its moment has not passed long ago, the
/// appointment is still in a state (and at the time) the message speaks of, and
/// an SMS is not inside quiet hours.
pub fn readiness(
    m: &SendCheck,
    appointment: &Appointment,
    tz: Tz,
    quiet_hours: Option<QuietHours>,
    now: DateTime<Utc>,
) -> Readiness {
    use MessageKind::*;
    let status = appointment.status;
    let live = matches!(status, Status::Scheduled | Status::Confirmed);
    let fits = match m.kind {
        Confirmation | Reminder | Reschedule => live,
        StartingSoon => live || status == Status::CheckedIn,
        CheckedIn => status == Status::CheckedIn,
        Cancellation => status == Status::Cancelled,
    };
    if !fits {
        return Readiness::Skip(format!("the appointment is now {status}"));
    }
    if appointment.slot.start() != m.planned_start {
        return Readiness::Skip("the appointment has moved".into());
    }
    if now > m.expires_at {
        return Readiness::Skip(format!(
            "too late: its moment passed (it was worth sending until {})",
            m.expires_at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if m.channel == MessageChannel::Sms {
        if let Some(q) = quiet_hours {
            let until = q.defer(tz, now);
            if until > now {
                if until >= m.expires_at {
                    return Readiness::Skip(format!(
                        "quiet hours ({q}) last until after the message's moment"
                    ));
                }
                return Readiness::Defer(until);
            }
        }
    }
    Readiness::Send
}

/// The pause before attempt `attempts + 1` after a failure: `base` doubling
/// per attempt, capped at `cap`, plus up to a quarter more of jitter (`jitter`
/// in `[0, 1)`, supplied by the caller so this stays pure).
pub fn backoff(base: Duration, cap: Duration, attempts: u32, jitter: f64) -> Duration {
    let factor = 1i32 << attempts.saturating_sub(1).min(20);
    let pause = base.checked_mul(factor).unwrap_or(cap).min(cap);
    let extra_ms = (pause.num_milliseconds() as f64 * 0.25 * jitter.clamp(0.0, 1.0)) as i64;
    pause + Duration::milliseconds(extra_ms)
}
