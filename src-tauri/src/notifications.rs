//! The notification worker, as a background task of the desktop app (as
//! `vetdesk serve` runs it): owners' email and SMS when those channels are
//! configured through the same `VETDESK_…` variables as the CLI, and desktop
//! notifications for the vet signed in at this workstation (a patient checked
//! in; the next appointment starts in 5 minutes). Desktop notifications are
//! best-effort: without a notification service they are logged and recorded
//! as skipped, never a crash.

use std::time::Duration;
use vetdesk_app::App;
use vetdesk_core::{Principal, Role};
use vetdesk_notify::{
    secrets, ChannelConfig, Security, SmsConfig, SmtpConfig, StopHandle, Worker, WorkerConfig,
};
use vetdesk_store::DesktopScope;

/// Whose desktop notifications this workstation shows: `VETDESK_DESKTOP=all`
/// or `off` decides for the whole workstation; otherwise a signed-in vet's own.
pub fn desktop_scope(setting: Option<&str>, signed_in: Option<&Principal>) -> DesktopScope {
    match setting.map(str::trim) {
        Some("all") => DesktopScope::All,
        Some("off") | Some("none") => DesktopScope::None,
        _ => match signed_in {
            Some(p) if p.role == Role::Vet => {
                p.vet_id.map_or(DesktopScope::None, DesktopScope::Vet)
            }
            _ => DesktopScope::None,
        },
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Email from `VETDESK_SMTP_HOST` and friends (as `vetdesk serve` reads them).
fn smtp() -> Option<SmtpConfig> {
    let host = env("VETDESK_SMTP_HOST")?;
    let security: Security = env("VETDESK_SMTP_SECURITY")
        .unwrap_or_else(|| "starttls".into())
        .parse()
        .map_err(|e| tracing::warn!(error = %e, "email: off (VETDESK_SMTP_SECURITY)"))
        .ok()?;
    let port = env("VETDESK_SMTP_PORT")
        .and_then(|p| p.parse().ok())
        .unwrap_or(match security {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::Tls => 465,
        });
    let Some(from) = env("VETDESK_SMTP_FROM") else {
        tracing::warn!("email: off (set VETDESK_SMTP_FROM, the sender)");
        return None;
    };
    Some(SmtpConfig {
        host,
        port,
        security,
        username: env("VETDESK_SMTP_USERNAME"),
        password: None,
        from,
        timeout: Duration::from_secs(30),
        reuse_connection: true,
        ca_file: env("VETDESK_SMTP_CA_FILE").map(std::path::PathBuf::from),
    })
}

/// Stops the worker it belongs to when dropped.
pub struct Running(#[allow(dead_code)] tokio::sync::oneshot::Sender<()>);

/// Build the worker's channels and start it in the background, until the
/// returned [`Running`] is dropped. (The channels are built inside the task:
/// looking up secrets waits on the keyring.)
pub fn start(app: App, signed_in: Option<&Principal>) -> Running {
    let desktop = desktop_scope(env("VETDESK_DESKTOP").as_deref(), signed_in);
    let (running, stopped) = tokio::sync::oneshot::channel::<()>();
    tauri::async_runtime::spawn(async move {
        let mut smtp = smtp();
        if let Some(c) = smtp.as_mut() {
            c.password = secrets::lookup("smtp-password", "VETDESK_SMTP_PASSWORD")
                .await
                .map(|(s, _)| s);
        }
        let sms = match (env("VETDESK_SMS_ACCOUNT"), env("VETDESK_SMS_FROM")) {
            (Some(account), Some(from)) => secrets::lookup("sms-token", "VETDESK_SMS_TOKEN")
                .await
                .map(|(token, _)| SmsConfig {
                    base_url: env("VETDESK_SMS_URL")
                        .unwrap_or_else(|| "https://api.twilio.com".into()),
                    account,
                    token,
                    from,
                    timeout: Duration::from_secs(30),
                }),
            _ => None,
        };
        let channels = match vetdesk_notify::build_channels(ChannelConfig {
            smtp,
            sms,
            desktop: Some(desktop),
        }) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "notification worker: off");
                app.set_sending(&Default::default());
                return;
            }
        };
        let worker = Worker::new(app.clone(), channels, WorkerConfig::default());
        // What the health command reports (and the UI warns about when empty).
        app.set_sending(&worker.scope());
        if worker.scope().is_empty() {
            tracing::info!("notification worker: off (no channel on); messages stay queued");
            return;
        }
        let stop: StopHandle = worker.stop_handle();
        let run = tauri::async_runtime::spawn(async move {
            if let Err(e) = worker.run().await {
                tracing::error!(error = %e, "the notification worker stopped");
            }
        });
        // Dropped or sent: either way, stop after the message in hand.
        let _ = stopped.await;
        stop.stop();
        let _ = run.await;
    });
    Running(running)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vetdesk_core::VetId;

    fn vet(id: VetId) -> Principal {
        Principal {
            user_id: None,
            username: "morgan".into(),
            role: Role::Vet,
            vet_id: Some(id),
        }
    }

    #[test]
    fn a_signed_in_vet_gets_their_own_notifications_and_the_desk_none() {
        let id = VetId(uuid::Uuid::nil());
        assert_eq!(desktop_scope(None, Some(&vet(id))), DesktopScope::Vet(id));
        assert_eq!(desktop_scope(None, None), DesktopScope::None);
        let desk = Principal {
            role: Role::FrontDesk,
            vet_id: None,
            ..vet(id)
        };
        assert_eq!(desktop_scope(None, Some(&desk)), DesktopScope::None);
        assert_eq!(desktop_scope(Some("all"), Some(&desk)), DesktopScope::All);
        assert_eq!(
            desktop_scope(Some("off"), Some(&vet(id))),
            DesktopScope::None
        );
    }
}
