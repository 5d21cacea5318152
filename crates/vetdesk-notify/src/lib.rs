//! vetdesk's notification worker and its outbound channels.
//!
//! The application layer (`vetdesk-app`) writes messages into the outbox in
//! the same transaction as the appointment change that causes them; this crate
//! sends them: [`Worker`] claims due messages, hands each to its [`Channel`]
//! ([`EmailChannel`] over SMTP, [`SmsChannel`] to a Twilio-compatible gateway,
//! [`DesktopChannel`] for staff), and records the outcome through the
//! application layer. Which channels are on is read once, from the
//! `VETDESK_…` variables and any flags over them, by [`ChannelSettings`] and
//! [`resolve`]; secrets come from the environment or the OS keyring
//! ([`secrets`]).

mod channel;
mod config;
mod desktop;
mod email;
mod redact;
pub mod secrets;
mod sms;
mod worker;
mod worker_config;

pub use channel::{Channel, Delivery, SendError};
pub use config::{
    resolve, ChannelPlan, ChannelSettings, ConfigError, DesktopChoice, Given, Origin, Secret,
    Setting, Wanted, DEFAULT_KEEP_RECIPIENTS, DEFAULT_SMS_URL, MAX_KEEP_RECIPIENTS_DAYS,
};
pub use desktop::DesktopChannel;
pub use email::{send_on_new_connection, EmailChannel, Security, SmtpConfig};
pub use redact::redact;
pub use sms::{SmsChannel, SmsConfig, SmsSetupError, IDEMPOTENCY_HEADER};
pub use worker::{Channels, StepReport, StopHandle, Worker, WorkerError};
pub use worker_config::{
    default_name, Rate, WorkerConfig, WorkerConfigError, LEASE_MARGIN, RECORD_PAUSES, RECORD_ROOM,
};

use std::sync::Arc;
use vetdesk_store::DesktopScope;

/// Which channels to set up; `None` leaves a channel off.
#[derive(Debug, Clone, Default)]
pub struct ChannelConfig {
    pub smtp: Option<SmtpConfig>,
    pub sms: Option<SmsConfig>,
    /// Whose desktop notifications to show here, and how long to wait for
    /// the notification service.
    pub desktop: Option<(DesktopScope, std::time::Duration)>,
}

/// Why the configured channels cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("{0}")]
    Email(String),
    #[error(transparent)]
    Sms(#[from] SmsSetupError),
}

/// Set up the configured channels, saying in the log which are off and why.
pub fn build_channels(config: ChannelConfig) -> Result<Channels, ChannelError> {
    let mut channels = Channels::default();
    match config.smtp {
        Some(c) => {
            tracing::info!(host = %c.host, port = c.port, security = ?c.security, "email: on");
            channels.email = Some(Arc::new(EmailChannel::new(c).map_err(ChannelError::Email)?));
        }
        None => tracing::info!("email: off (no SMTP server configured: set VETDESK_SMTP_HOST)"),
    }
    match config.sms {
        Some(c) => {
            tracing::info!(gateway = %c.base_url, "sms: on");
            channels.sms = Some(Arc::new(SmsChannel::new(c)?));
        }
        None => tracing::info!(
            "sms: off (no gateway configured: set VETDESK_SMS_ACCOUNT, VETDESK_SMS_FROM and the token)"
        ),
    }
    match config.desktop {
        Some((scope, timeout)) if scope != DesktopScope::None => {
            tracing::info!(?scope, "desktop notifications: on");
            channels.desktop = Some((Arc::new(DesktopChannel::new(timeout)), scope));
        }
        _ => tracing::info!("desktop notifications: off"),
    }
    Ok(channels)
}
