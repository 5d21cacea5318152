//! The recovery screen: the embedded database file is damaged at start.
//!
//! Instead of exiting, the app opens `recovery.html` in its window over this
//! small state and its three commands, with no database open: what is damaged
//! and where, the backups beside it (newest first, each checked), **restore**
//! one of them, or, when none is good, **set the damaged file aside** and
//! start with an empty database. Nothing is deleted either way (the damaged
//! file is kept in the backups folder) and the app then restarts, opening the
//! database as usual.
//!
//! Only a backup from the listed folder is ever restored: the webview names
//! one by its path, which must be one the folder holds at that moment. The
//! person at this computer acts as its local operator here, as with
//! `vetdesk restore`: nobody can sign in to a damaged database.

use crate::commands::Input;
use crate::error::CommandError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tauri::{Runtime, State};
use vetdesk_app::{App, AppError, Clock, ErrorCode, SystemClock};
use vetdesk_core::Principal;
use vetdesk_store::{BackupFolder, Depth, StoreError};

/// The page the window shows (a file of `ui/dist`).
pub const RECOVERY_PAGE: &str = "recovery.html";

/// Who restores or sets aside, in the log: whoever sits at this computer.
const OPERATOR: &str = "desktop";

/// How long the page shows what was done before the app restarts.
const RESTART_AFTER: Duration = Duration::from_millis(1500);

/// What to do once the database was restored or set aside: restart the app
/// (the tests count the calls instead).
pub type Restart = Arc<dyn Fn() + Send + Sync>;

/// What opening the database at start gave.
pub enum Opened {
    App(App),
    /// The file is damaged: the recovery screen, over this state.
    Damaged(Recovery),
}

/// `App::open(url)`; when the database file it names is damaged, the
/// recovery state instead of an error. A damaged server database (not a
/// file) stays an error.
pub async fn open(url: &str) -> Result<Opened, AppError> {
    match App::open(url).await {
        Ok(app) => Ok(Opened::App(app)),
        Err(e @ AppError::CorruptDatabase { .. }) => match vetdesk_store::database_file(url) {
            Some(file) => Ok(Opened::Damaged(Recovery::new(file, e.to_string()))),
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// The recovery state (`app.manage(Arc<Recovery>)`).
pub struct Recovery {
    database: PathBuf,
    problem: String,
    clock: Arc<dyn Clock>,
    restart: OnceLock<Restart>,
    /// What was done; once set, the page only waits for the restart. Held
    /// while a restore or a set-aside runs, so two clicks cannot both act.
    done: tokio::sync::Mutex<Option<Done>>,
}

/// What the recovery page shows.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryStatus {
    /// The damaged file.
    pub database: String,
    /// What opening it found.
    pub problem: String,
    /// Where its backups are looked for.
    pub backups_folder: String,
    /// The backups found there, newest first, each checked.
    pub backups: Vec<BackupEntry>,
    /// What was done already (the app is restarting), if anything.
    pub done: Option<Done>,
}

/// One backup in the folder.
#[derive(Debug, Clone, Serialize)]
pub struct BackupEntry {
    /// The file, as `restore_backup` takes it.
    pub path: String,
    pub taken_at: DateTime<Utc>,
    pub bytes: u64,
    /// It passes `PRAGMA quick_check` and this build can open it.
    pub good: bool,
    /// Why it is not good.
    pub problem: Option<String>,
}

/// What the page did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Done {
    Restored {
        backup: String,
        /// Where the damaged database is kept.
        damaged_kept_at: Option<String>,
    },
    StartedEmpty {
        damaged_kept_at: String,
    },
}

/// `restore_backup`'s argument: one of the listed backups.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreBody {
    pub path: String,
}

/// The store's file checks hold a SQLite connection across awaits, and the
/// compiler cannot prove such a future `Send` (rust-lang/rust#102211), which
/// a command's must be; so `work` runs to completion on a blocking thread of
/// the same runtime instead (as `setup`'s `open_app` does).
async fn off_thread<T, F, Fut>(work: F) -> Result<T, CommandError>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, CommandError>>,
{
    tauri::async_runtime::spawn_blocking(move || tauri::async_runtime::block_on(work()))
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, format!("the step stopped: {e}")))?
}

fn already(done: &Done) -> CommandError {
    let what = match done {
        Done::Restored { backup, .. } => format!("the database was restored from {backup}"),
        Done::StartedEmpty { damaged_kept_at } => {
            format!("the damaged database was set aside as {damaged_kept_at}")
        }
    };
    CommandError::invalid(format!("{what} already; vetdesk is restarting"))
}

impl Recovery {
    pub fn new(database: PathBuf, problem: String) -> Recovery {
        Recovery {
            database,
            problem,
            clock: Arc::new(SystemClock),
            restart: OnceLock::new(),
            done: tokio::sync::Mutex::new(None),
        }
    }

    /// Call `restart` once the database is restored or set aside.
    pub fn on_restart(&self, restart: Restart) {
        let _ = self.restart.set(restart);
    }

    pub fn database(&self) -> &Path {
        &self.database
    }

    pub fn problem(&self) -> &str {
        &self.problem
    }

    fn folder(&self) -> BackupFolder {
        BackupFolder::beside(&self.database)
    }

    /// The database as the application layer names it.
    fn database_name(&self) -> Result<String, CommandError> {
        self.database.to_str().map(str::to_string).ok_or_else(|| {
            CommandError::new(
                ErrorCode::StoreUnavailable,
                format!("{} is not a UTF-8 path", self.database.display()),
            )
        })
    }

    fn finish(&self, done: Done) -> Done {
        tracing::warn!(?done, "recovered; restarting");
        if let Some(restart) = self.restart.get() {
            restart();
        }
        done
    }

    pub async fn status(&self) -> Result<RecoveryStatus, CommandError> {
        let done = self.done.lock().await.clone();
        let folder = self.folder();
        let files = folder.list().map_err(AppError::from)?;
        let backups = off_thread(move || async move {
            let mut checked = Vec::with_capacity(files.len());
            for f in files.into_iter().rev() {
                let verdict = vetdesk_store::inspect(&f.path, Depth::Quick).await;
                checked.push(BackupEntry {
                    path: f.path.display().to_string(),
                    taken_at: f.taken_at,
                    bytes: std::fs::metadata(&f.path).map_or(0, |m| m.len()),
                    good: verdict.is_ok(),
                    problem: verdict.err().map(|e| match e {
                        // SQLite's findings; the rest of the message is about backups of it.
                        StoreError::CorruptDatabase { detail, .. } => detail,
                        other => other.to_string(),
                    }),
                });
            }
            Ok::<_, CommandError>(checked)
        })
        .await?;
        Ok(RecoveryStatus {
            database: self.database.display().to_string(),
            problem: self.problem.clone(),
            backups_folder: folder.dir().display().to_string(),
            backups,
            done,
        })
    }

    /// Put the listed backup `path` in place of the damaged database
    /// (`vetdesk_app::backups::restore`: checked in full first, the damaged
    /// file kept in the backups folder), then restart. Any other path, even
    /// a sound database elsewhere, is refused and changes nothing.
    pub async fn restore(&self, path: &str) -> Result<Done, CommandError> {
        let mut done = self.done.lock().await;
        if let Some(d) = done.as_ref() {
            return Err(already(d));
        }
        let folder = self.folder();
        let from = folder
            .list()
            .map_err(AppError::from)?
            .into_iter()
            .map(|f| f.path)
            .find(|listed| listed.as_path() == Path::new(path))
            .ok_or_else(|| {
                CommandError::invalid(format!(
                    "{path} is not one of the backups in {}; choose one from the list",
                    folder.dir().display()
                ))
            })?;
        let (database, clock) = (self.database_name()?, self.clock.clone());
        let restored = off_thread(move || async move {
            let local = Principal::local(OPERATOR);
            vetdesk_app::backups::restore(&local, &database, &from, clock.as_ref())
                .await
                .map_err(CommandError::from)
        })
        .await?;
        let d = Done::Restored {
            backup: path.to_string(),
            damaged_kept_at: restored.replaced_kept_at.map(|p| p.display().to_string()),
        };
        *done = Some(d.clone());
        Ok(self.finish(d))
    }

    /// Move the damaged database into the backups folder (never deleted),
    /// then restart: the app starts with an empty database. Refused when the
    /// file is no longer damaged (restored meanwhile from the command line).
    pub async fn start_empty(&self) -> Result<Done, CommandError> {
        let mut done = self.done.lock().await;
        if let Some(d) = done.as_ref() {
            return Err(already(d));
        }
        let (file, database, clock) = (
            self.database.clone(),
            self.database_name()?,
            self.clock.clone(),
        );
        let kept = off_thread(move || async move {
            if vetdesk_store::inspect(&file, Depth::Quick).await.is_ok() {
                return Err(CommandError::invalid(format!(
                    "{} is no longer damaged (was it restored meanwhile?); close vetdesk and start it again",
                    file.display()
                )));
            }
            let local = Principal::local(OPERATOR);
            vetdesk_app::backups::set_aside(&local, &database, clock.as_ref())
                .await
                .map_err(CommandError::from)
        })
        .await?;
        let d = Done::StartedEmpty {
            damaged_kept_at: kept.display().to_string(),
        };
        *done = Some(d.clone());
        Ok(self.finish(d))
    }
}

type Shared<'a> = State<'a, Arc<Recovery>>;

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.recovery_status")]
pub async fn recovery_status(recovery: Shared<'_>) -> Result<RecoveryStatus, CommandError> {
    let recovery: Arc<Recovery> = Arc::clone(&recovery);
    recovery.status().await
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.restore_backup")]
pub async fn restore_backup(
    recovery: Shared<'_>,
    args: Input<RestoreBody>,
) -> Result<Done, CommandError> {
    let body = args.read()?;
    let recovery: Arc<Recovery> = Arc::clone(&recovery);
    recovery.restore(&body.path).await
}

#[tauri::command]
#[tracing::instrument(skip_all, name = "command.start_empty")]
pub async fn start_empty(recovery: Shared<'_>) -> Result<Done, CommandError> {
    let recovery: Arc<Recovery> = Arc::clone(&recovery);
    recovery.start_empty().await
}

/// `base` with the recovery state and only the recovery commands: no
/// database is open, so none of the app's other commands are registered.
pub fn builder<R: Runtime>(base: tauri::Builder<R>, recovery: Arc<Recovery>) -> tauri::Builder<R> {
    base.manage(recovery)
        .invoke_handler(tauri::generate_handler![
            recovery_status,
            restore_backup,
            start_empty,
        ])
}

/// The app in its recovery state: one window on the recovery page; a restore
/// or a set-aside restarts the process, which then opens the database.
pub fn run(recovery: Recovery) -> ExitCode {
    tracing::error!(database = %recovery.database.display(), problem = %recovery.problem, "the database is damaged; showing the recovery screen");
    let recovery = Arc::new(recovery);
    let state = recovery.clone();
    let result = builder(tauri::Builder::default(), recovery)
        .setup(move |app| {
            let handle = app.handle().clone();
            state.on_restart(Arc::new(move || {
                let handle = handle.clone();
                tauri::async_runtime::spawn(async move {
                    tokio::time::sleep(RESTART_AFTER).await;
                    handle.request_restart();
                });
            }));
            crate::open_window(app, "main", RECOVERY_PAGE, "vetdesk")?;
            Ok(())
        })
        .build(crate::context());
    match result {
        Ok(app) => {
            app.run(|_, _| {});
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the window could not be opened: {e}");
            ExitCode::from(1)
        }
    }
}
