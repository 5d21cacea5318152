//! Desktop notifications for staff (a patient checked in, the next appointment
//! is starting) with notify-rust over D-Bus. Where there is no session bus or
//! notification daemon (a server, a container, SSH) the message is recorded as
//! skipped with a logged warning: never a crash.
//!
//! notify-rust blocks, so each notification is shown on a blocking thread,
//! and the worker waits for it at most the send timeout: a bus or daemon
//! that never answers makes the attempt fail (to be retried), not the worker
//! hang. That thread cannot be cancelled; while it is still stuck, further
//! notifications fail at once rather than pile up more stuck threads.

use crate::channel::{Channel, Delivery, SendError};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vetdesk_app::Outgoing;

pub struct DesktopChannel {
    app_name: String,
    timeout: Duration,
    /// Set while a notification's thread has not returned.
    in_flight: Arc<AtomicBool>,
}

impl DesktopChannel {
    /// Waiting at most `timeout` for each notification to be shown.
    pub fn new(timeout: Duration) -> Self {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            tracing::warn!(
                "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset): desktop notifications will be recorded as skipped"
            );
        }
        DesktopChannel {
            app_name: "vetdesk".into(),
            timeout,
            in_flight: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Clears the in-flight flag when the blocking call returns, however it returns.
struct Returned(Arc<AtomicBool>);

impl Drop for Returned {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

#[async_trait]
impl Channel for DesktopChannel {
    async fn send(&self, m: &Outgoing) -> Result<Delivery, SendError> {
        if self.in_flight.swap(true, Ordering::SeqCst) {
            return Err(SendError::Transient(
                "the desktop notification service has not yet answered an earlier notification"
                    .into(),
            ));
        }
        let returned = Returned(self.in_flight.clone());
        let summary = m
            .rendered
            .subject
            .clone()
            .unwrap_or_else(|| m.clinic.clone());
        let body = m.rendered.text.clone();
        let app = self.app_name.clone();
        let shown = tokio::task::spawn_blocking(move || {
            let _returned = returned;
            notify_rust::Notification::new()
                .appname(&app)
                .summary(&summary)
                .body(&body)
                .show()
                .map(|h| h.id())
        });
        match tokio::time::timeout(self.timeout, shown).await {
            Err(_) => {
                tracing::warn!(
                    timeout_ms = self.timeout.as_millis() as u64,
                    "desktop notification: no answer"
                );
                Err(SendError::Transient(format!(
                    "the desktop notification service did not answer within {:.1} s",
                    self.timeout.as_secs_f32()
                )))
            }
            Ok(Ok(Ok(id))) => Ok(Delivery {
                provider_id: Some(id.to_string()),
            }),
            Ok(Ok(Err(e))) => {
                tracing::warn!(error = %e, "desktop notification not shown");
                Err(SendError::Unavailable(format!(
                    "no desktop notification service: {e}"
                )))
            }
            Ok(Err(e)) => Err(SendError::Unavailable(format!(
                "the desktop notification task failed: {e}"
            ))),
        }
    }
}
