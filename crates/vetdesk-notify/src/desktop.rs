//! Desktop notifications for staff (a patient checked in, the next appointment
//! is starting) with notify-rust over D-Bus. Where there is no session bus or
//! notification daemon (a server, a container, SSH) the message is recorded as
//! skipped with a logged warning: never a crash.

use crate::channel::{Channel, Delivery, SendError};
use async_trait::async_trait;
use vetdesk_app::Outgoing;

pub struct DesktopChannel {
    app_name: String,
}

impl DesktopChannel {
    pub fn new() -> Self {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            tracing::warn!(
                "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset): desktop notifications will be recorded as skipped"
            );
        }
        DesktopChannel {
            app_name: "vetdesk".into(),
        }
    }
}

impl Default for DesktopChannel {
    fn default() -> Self {
        DesktopChannel::new()
    }
}

#[async_trait]
impl Channel for DesktopChannel {
    async fn send(&self, m: &Outgoing) -> Result<Delivery, SendError> {
        let summary = m
            .rendered
            .subject
            .clone()
            .unwrap_or_else(|| m.clinic.clone());
        let body = m.rendered.text.clone();
        let app = self.app_name.clone();
        let shown = tokio::task::spawn_blocking(move || {
            notify_rust::Notification::new()
                .appname(&app)
                .summary(&summary)
                .body(&body)
                .show()
                .map(|h| h.id())
        })
        .await;
        match shown {
            Ok(Ok(id)) => Ok(Delivery {
                provider_id: Some(id.to_string()),
            }),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "desktop notification not shown");
                Err(SendError::Unavailable(format!(
                    "no desktop notification service: {e}"
                )))
            }
            Err(e) => Err(SendError::Unavailable(format!(
                "the desktop notification task failed: {e}"
            ))),
        }
    }
}
