//! The desktop app's shared state (`app.manage(Desktop)`): the application it
//! runs over (swapped when the database setting changes), the task that turns
//! committed changes into Tauri events, the notification worker, and the
//! embedded database's daily backup.

use crate::live::{self, Emit};
use crate::notifications;
use std::sync::{Mutex, OnceLock, RwLock};
use vetdesk_app::{App, AppError};
use vetdesk_core::Principal;

/// What the app runs over now.
#[derive(Clone)]
struct Current {
    app: App,
    /// Where the database is, any password masked.
    location: String,
    /// Why this is not the database the settings name (it could not be opened).
    problem: Option<String>,
}

pub struct Desktop {
    current: RwLock<Current>,
    paths: crate::config::Paths,
    emit: OnceLock<Emit>,
    forwarder: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    worker: Mutex<Option<notifications::Running>>,
    /// The daily backup of the embedded database (`vetdesk_app::backups`).
    backups: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    /// Whether the background worker and the daily backup run (off in command tests).
    run_worker: bool,
    /// Who is signed in at this workstation, for the worker's desktop scope.
    signed_in: Mutex<Option<Principal>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Desktop {
    pub fn new(app: App, location: String, paths: crate::config::Paths) -> Desktop {
        Desktop {
            current: RwLock::new(Current {
                app,
                location,
                problem: None,
            }),
            paths,
            emit: OnceLock::new(),
            forwarder: Mutex::new(None),
            worker: Mutex::new(None),
            backups: Mutex::new(None),
            run_worker: true,
            signed_in: Mutex::new(None),
        }
    }

    /// Without the notification worker (tests drive the outbox themselves).
    pub fn without_worker(mut self) -> Desktop {
        self.run_worker = false;
        self
    }

    /// The application, acting as the local operator: only for what needs no
    /// user (signing in, the first-start offer). Everything else goes through
    /// [`Desktop::acting`].
    pub fn app(&self) -> App {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .app
            .clone()
    }

    pub fn location(&self) -> String {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .location
            .clone()
    }

    /// Opened on this computer's database because the configured one failed.
    pub fn with_problem(self, problem: Option<String>) -> Desktop {
        self.current
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .problem = problem;
        self
    }

    pub fn problem(&self) -> Option<String> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .problem
            .clone()
    }

    pub fn paths(&self) -> &crate::config::Paths {
        &self.paths
    }

    /// The application acting as the user whose session `token` is: no token,
    /// an unknown or expired one, and a disabled user are all `unauthenticated`.
    pub async fn acting(&self, token: Option<&str>) -> Result<App, AppError> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
        let app = self.app();
        let principal = app.authenticate(token).await?;
        Ok(app.acting_as(principal))
    }

    /// Start forwarding committed changes as Tauri events, and the worker.
    pub fn start(&self, emit: Emit) {
        let _ = self.emit.set(emit);
        self.restart_background();
    }

    /// Someone signed in (`Some`) or out (`None`) at this workstation: a vet's
    /// own desktop notifications follow them.
    pub fn set_signed_in(&self, who: Option<Principal>) {
        let changed = {
            let mut current = lock(&self.signed_in);
            let changed = current.as_ref().map(|p| (&p.username, p.vet_id))
                != who.as_ref().map(|p| (&p.username, p.vet_id));
            *current = who;
            changed
        };
        if changed {
            self.restart_worker();
        }
    }

    /// Run over another database from now on (the settings changed).
    pub fn switch_to(&self, app: App, location: String) {
        let old = {
            let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(
                &mut *current,
                Current {
                    app,
                    location,
                    problem: None,
                },
            )
        };
        *lock(&self.signed_in) = None;
        self.restart_background();
        tauri::async_runtime::spawn(async move { old.app.store().close().await });
    }

    fn restart_background(&self) {
        if let Some(emit) = self.emit.get() {
            let task = live::forward(&self.app(), emit.clone());
            if let Some(old) = lock(&self.forwarder).replace(task) {
                old.abort();
            }
            // The calendars now show another database: everything is new.
            emit(
                live::RELOAD_EVENT,
                serde_json::json!({ "reason": "database" }),
            );
        }
        self.restart_worker();
        if self.run_worker {
            // Once a day into `backups/` beside the file; returns at once on PostgreSQL.
            let task = tauri::async_runtime::spawn(vetdesk_app::backups::back_up_daily(self.app()));
            if let Some(old) = lock(&self.backups).replace(task) {
                old.abort();
            }
        }
    }

    fn restart_worker(&self) {
        if !self.run_worker {
            return;
        }
        let who = lock(&self.signed_in).clone();
        // The old worker stops when its handle is dropped here.
        let next = notifications::start(self.app(), who.as_ref());
        *lock(&self.worker) = Some(next);
    }

    /// Stop the background work (the app is closing).
    pub fn shutdown(&self) {
        lock(&self.worker).take();
        if let Some(b) = lock(&self.backups).take() {
            b.abort();
        }
        if let Some(f) = lock(&self.forwarder).take() {
            f.abort();
        }
    }
}
