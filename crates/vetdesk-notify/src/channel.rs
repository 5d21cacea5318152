//! The outbound channels behind one small trait, so the worker treats email,
//! SMS and the desktop alike and a test can stand a recorder in for one.

use async_trait::async_trait;
use vetdesk_app::Outgoing;

/// What the far end said when it took a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id for the message, when it gives one (an SMS gateway's sid, an SMTP queue reply).
    pub provider_id: Option<String>,
}

/// Why a message did not go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: a 4xx SMTP reply, an HTTP 5xx or 429, a
    /// timeout, a refused or broken connection.
    #[error("{0}")]
    Transient(String),
    /// Trying again will not help: a 5xx SMTP reply, an HTTP 4xx, a bad address.
    #[error("{0}")]
    Permanent(String),
    /// The channel cannot deliver at all here (no desktop notification service):
    /// recorded as skipped, with this reason.
    #[error("{0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Channel: Send + Sync {
    /// Deliver one message. Called with one message at a time, so at most one
    /// is in flight when the process dies.
    async fn send(&self, message: &Outgoing) -> Result<Delivery, SendError>;
}
