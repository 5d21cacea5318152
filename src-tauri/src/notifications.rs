//! The notification worker, as a background task of the desktop app (as
//! `vetdesk serve` runs it): owners' email and SMS when those channels are
//! configured through the same `VETDESK_…` variables as the CLI, and desktop
//! notifications for the vet signed in at this workstation (a patient checked
//! in; the next appointment starts in 5 minutes). Desktop notifications are
//! best-effort: without a notification service they are logged and recorded
//! as skipped, never a crash.

use vetdesk_app::App;
use vetdesk_core::{Principal, Role};
use vetdesk_notify::{
    ChannelConfig, ChannelSettings, DesktopChoice, StopHandle, Worker, WorkerConfig,
};
use vetdesk_store::DesktopScope;

/// Whose desktop notifications this workstation shows: `VETDESK_DESKTOP=all`
/// or `off` decides for the whole workstation; otherwise (unset, or naming a
/// vet, which only the CLI's worker looks up) a signed-in vet's own.
pub fn desktop_scope(setting: &DesktopChoice, signed_in: Option<&Principal>) -> DesktopScope {
    match setting {
        DesktopChoice::All => DesktopScope::All,
        DesktopChoice::Off => DesktopScope::None,
        DesktopChoice::Unset | DesktopChoice::Vet(_) => match signed_in {
            Some(p) if p.role == Role::Vet => {
                p.vet_id.map_or(DesktopScope::None, DesktopScope::Vet)
            }
            _ => DesktopScope::None,
        },
    }
}

/// The channels the `VETDESK_…` variables describe (read as `vetdesk serve`
/// reads them, by the same function), and this workstation's desktop scope.
async fn channels(signed_in: Option<Principal>) -> Result<ChannelConfig, String> {
    let timeout = WorkerConfig::default().send_timeout;
    let plan = vetdesk_notify::resolve(ChannelSettings::from_env(), timeout)
        .await
        .map_err(|e| e.to_string())?;
    if let DesktopChoice::Vet(vet) = &plan.desktop {
        tracing::warn!(
            vet,
            "VETDESK_DESKTOP names a vet: the desktop app shows the signed-in vet's notifications"
        );
    }
    let desktop = desktop_scope(&plan.desktop, signed_in.as_ref());
    Ok(plan.with_desktop(Some(desktop)))
}

/// Stops the worker it belongs to when dropped.
pub struct Running(#[allow(dead_code)] tokio::sync::oneshot::Sender<()>);

/// Build the worker's channels and start it in the background, until the
/// returned [`Running`] is dropped. (The channels are built inside the task:
/// looking up secrets waits on the keyring.)
pub fn start(app: App, signed_in: Option<&Principal>) -> Running {
    let signed_in = signed_in.cloned();
    let (running, stopped) = tokio::sync::oneshot::channel::<()>();
    tauri::async_runtime::spawn(async move {
        // A configuration that cannot be used leaves the worker off (the UI
        // shows "Notifications off"), with the variable at fault in the log.
        let built = channels(signed_in)
            .await
            .and_then(|c| vetdesk_notify::build_channels(c).map_err(|e| e.to_string()));
        let channels = match built {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "notification worker: off");
                app.set_sending(&Default::default());
                return;
            }
        };
        // Read and checked with the channels above (`plan` refuses a bad value).
        let keep_recipients = ChannelSettings::from_env()
            .keep_recipients()
            .unwrap_or(Some(vetdesk_notify::DEFAULT_KEEP_RECIPIENTS));
        let config = WorkerConfig {
            keep_recipients,
            ..WorkerConfig::default()
        };
        let worker = match Worker::new(app.clone(), channels, config) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "notification worker: off");
                app.set_sending(&Default::default());
                return;
            }
        };
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
            clinics: vetdesk_core::ClinicScope::All,
        }
    }

    #[test]
    fn a_signed_in_vet_gets_their_own_notifications_and_the_desk_none() {
        let id = VetId(uuid::Uuid::nil());
        let unset = DesktopChoice::Unset;
        assert_eq!(desktop_scope(&unset, Some(&vet(id))), DesktopScope::Vet(id));
        assert_eq!(desktop_scope(&unset, None), DesktopScope::None);
        let desk = Principal {
            role: Role::FrontDesk,
            vet_id: None,
            ..vet(id)
        };
        assert_eq!(desktop_scope(&unset, Some(&desk)), DesktopScope::None);
        assert_eq!(
            desktop_scope(&DesktopChoice::All, Some(&desk)),
            DesktopScope::All
        );
        assert_eq!(
            desktop_scope(&DesktopChoice::Off, Some(&vet(id))),
            DesktopScope::None
        );
    }
}
