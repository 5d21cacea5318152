//! The recovery screen's commands through Tauri's IPC on its mock runtime,
//! with the app's real ACL: a real vetdesk database (the demo practice) with
//! a backup beside it and an older backup that is damaged too, then the
//! database file itself damaged in the middle, as a failing disk would.

use chrono::Duration;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};
use vetdesk_app::App;
use vetdesk_desktop::recovery::{self, Opened, Recovery};
use vetdesk_store::{AppointmentFilter, BackupFolder, Depth};

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Overwrite 16 KiB in the middle of `file` with garbage (as `tests/backup.rs` does).
fn damage(file: &Path) -> Result<(), String> {
    let mut bytes = std::fs::read(file).map_err(fail("read"))?;
    let mid = bytes.len() / 2;
    let mut x: u32 = 0x9e37_79b9;
    for b in bytes.iter_mut().skip(mid).take(16 * 1024) {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *b = (x >> 24) as u8;
    }
    std::fs::write(file, bytes).map_err(fail("write"))
}

/// What a person would compare: clinics, vets, users and how many appointments.
async fn contents(app: &App) -> Result<Value, String> {
    let clinics = app.clinics().await.map_err(fail("clinics"))?;
    let vets = app.vets(None).await.map_err(fail("vets"))?;
    let users = app.users().await.map_err(fail("users"))?;
    let appointments = app
        .appointments(AppointmentFilter::default())
        .await
        .map_err(fail("appointments"))?;
    Ok(json!({
        "clinics": clinics, "vets": vets, "users": users.len(),
        "appointments": appointments.total,
    }))
}

struct Damaged {
    dir: tempfile::TempDir,
    db: PathBuf,
    url: String,
    /// The backup taken with the demo practice in it.
    good: PathBuf,
    /// An older backup, damaged too.
    bad: PathBuf,
    /// What the database held when `good` was taken.
    before: Value,
}

fn damaged_database() -> Result<Damaged, String> {
    let dir = tempfile::tempdir().map_err(fail("tempdir"))?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).map_err(fail("data folder"))?;
    let db = data.join("vetdesk.db");
    let url = db.to_str().ok_or("temp path is not UTF-8")?.to_string();
    let (good, before) = tauri::async_runtime::block_on(async {
        let app = App::open(&url).await.map_err(fail("open"))?;
        let today = chrono::Utc::now().date_naive();
        vetdesk_app::demo::seed(&app, today)
            .await
            .map_err(fail("demo"))?;
        let made = app.backup(None).await.map_err(fail("backup"))?;
        let before = contents(&app).await?;
        // Closed, so the file holds everything (no write-ahead log left).
        app.store().close().await;
        Ok::<_, String>((made.path, before))
    })?;
    let folder = BackupFolder::beside(&db);
    let taken = folder
        .list()
        .map_err(fail("list"))?
        .first()
        .map(|f| f.taken_at)
        .ok_or("no backup listed")?;
    let bad = folder.path_for(taken - Duration::days(1));
    std::fs::copy(&good, &bad).map_err(fail("copy"))?;
    damage(&bad)?;
    damage(&db)?;
    Ok(Damaged {
        dir,
        db,
        url,
        good,
        bad,
        before,
    })
}

fn open(url: &str) -> Result<Opened, String> {
    tauri::async_runtime::block_on(recovery::open(url)).map_err(fail("open"))
}

/// The recovery state start-up chooses for `url`, or why it chose none.
fn recovery_for(url: &str) -> Result<Recovery, String> {
    match open(url)? {
        Opened::Damaged(r) => Ok(r),
        Opened::App(_) => Err(format!("{url} opened; it should be damaged")),
    }
}

/// The database opened normally, or why not.
fn app_for(url: &str) -> Result<App, String> {
    match open(url)? {
        Opened::App(app) => Ok(app),
        Opened::Damaged(r) => Err(format!("{url} is still damaged: {}", r.problem())),
    }
}

struct Screen {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    restarts: Arc<AtomicUsize>,
}

/// The app in its recovery state, built with the real context (so the real
/// ACL), counting restarts instead of restarting.
fn screen(recovery: Recovery) -> Result<Screen, String> {
    let restarts = Arc::new(AtomicUsize::new(0));
    let counter = restarts.clone();
    recovery.on_restart(Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    let app = recovery::builder(mock_builder(), Arc::new(recovery))
        .build(tauri::generate_context!())
        .map_err(fail("build"))?;
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .map_err(fail("window"))?;
    Ok(Screen {
        _app: app,
        window,
        restarts,
    })
}

fn request(cmd: &str, body: Value) -> Result<InvokeRequest, String> {
    Ok(InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().map_err(fail("url"))?,
        body: InvokeBody::Json(body),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    })
}

impl Screen {
    fn call(&self, cmd: &str, body: Value) -> Result<Result<Value, Value>, String> {
        let response = get_ipc_response(&self.window, request(cmd, body)?);
        Ok(match response {
            Ok(body) => Ok(body.deserialize::<Value>().map_err(fail("response"))?),
            Err(e) => Err(e),
        })
    }

    fn ok(&self, cmd: &str, body: Value) -> Result<Value, String> {
        self.call(cmd, body)?
            .map_err(|e| format!("{cmd} failed: {e}"))
    }

    fn err(&self, cmd: &str, body: Value) -> Result<Value, String> {
        match self.call(cmd, body)? {
            Ok(v) => Err(format!("{cmd} succeeded but should not have: {v}")),
            Err(e) => Ok(e),
        }
    }

    fn restarts(&self) -> usize {
        self.restarts.load(Ordering::SeqCst)
    }
}

fn text(p: &Path) -> String {
    p.display().to_string()
}

/// Every file in `dir` and its subfolders, with its bytes: to show nothing changed.
fn snapshot(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).map_err(fail("read_dir"))? {
            let path = e.map_err(fail("entry"))?.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).map_err(fail("read"))?;
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn is_damaged(file: &Path) -> bool {
    tauri::async_runtime::block_on(vetdesk_store::inspect(file, Depth::Quick)).is_err()
}

#[test]
fn a_damaged_database_opens_the_recovery_screen_with_its_backups_checked() -> Result<(), String> {
    let d = damaged_database()?;
    let recovery = recovery_for(&d.url)?;
    assert_eq!(recovery.database(), d.db.as_path());
    assert!(
        recovery.problem().contains("damaged"),
        "{}",
        recovery.problem()
    );
    let s = screen(recovery)?;

    let status = s.ok("recovery_status", json!({}))?;
    assert_eq!(status["database"], text(&d.db), "{status}");
    assert_eq!(
        status["backups_folder"],
        text(BackupFolder::beside(&d.db).dir())
    );
    assert_eq!(status["done"], Value::Null);
    let backups = status["backups"].as_array().ok_or("no backups list")?;
    assert_eq!(backups.len(), 2, "{status}");
    // Newest first: the good one, then the older damaged one.
    assert_eq!(backups[0]["path"], text(&d.good));
    assert_eq!(backups[0]["good"], true, "{status}");
    assert_eq!(backups[0]["problem"], Value::Null);
    assert!(backups[0]["taken_at"].is_string());
    assert!(backups[0]["bytes"].as_u64().is_some_and(|b| b > 0));
    assert_eq!(backups[1]["path"], text(&d.bad));
    assert_eq!(backups[1]["good"], false, "{status}");
    assert!(backups[1]["problem"].is_string(), "{status}");

    // No database is open: the app's own commands are not there to call.
    let e = s.err("list_clinics", json!({ "token": "x" }))?;
    assert!(!e.is_null());
    assert_eq!(s.restarts(), 0);
    Ok(())
}

#[test]
fn restore_takes_only_a_listed_backup_then_the_database_opens_with_its_data() -> Result<(), String>
{
    let d = damaged_database()?;
    let s = screen(recovery_for(&d.url)?)?;
    let data = d.db.parent().ok_or("no data folder")?.to_path_buf();
    let folder = BackupFolder::beside(&d.db);
    // A sound vetdesk database, but not one of the listed backups.
    let elsewhere = data.join("elsewhere.db");
    std::fs::copy(&d.good, &elsewhere).map_err(fail("copy"))?;
    let untouched = snapshot(d.dir.path())?;

    let mut refused = Vec::new();
    for path in [
        text(&elsewhere),
        text(&folder.dir().join("..").join("elsewhere.db")),
        // Named like a backup, in the folder, but there is no such file.
        text(&folder.path_for(chrono::Utc::now() + Duration::days(1))),
        String::new(),
    ] {
        let e = s.err("restore_backup", json!({ "args": { "path": path } }))?;
        assert_eq!(e["code"], "invalid_input", "{path}: {e}");
        refused.push(e);
    }
    assert!(
        refused[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not one of the backups")),
        "{}",
        refused[0]
    );
    // A listed backup that is damaged too: refused by the restore's own check.
    let e = s.err(
        "restore_backup",
        json!({ "args": { "path": text(&d.bad) } }),
    )?;
    assert_eq!(e["code"], "corrupt_database", "{e}");
    // Malformed arguments.
    let e = s.err(
        "restore_backup",
        json!({ "args": { "file": text(&d.good) } }),
    )?;
    assert_eq!(e["code"], "invalid_input", "{e}");
    assert!(
        snapshot(d.dir.path())? == untouched,
        "a refused restore changed files"
    );
    assert_eq!(s.restarts(), 0, "a refused restore restarted the app");

    let done = s.ok(
        "restore_backup",
        json!({ "args": { "path": text(&d.good) } }),
    )?;
    assert_eq!(done["kind"], "restored", "{done}");
    assert_eq!(done["backup"], text(&d.good));
    assert_eq!(s.restarts(), 1);
    let kept = PathBuf::from(done["damaged_kept_at"].as_str().ok_or("not kept")?);
    assert_eq!(kept.parent(), Some(folder.dir()), "{done}");
    assert!(is_damaged(&kept), "the kept file is the damaged database");
    assert!(d.good.exists(), "the backup itself stays");

    // Done once: another click is refused and does not restart again.
    let e = s.err(
        "restore_backup",
        json!({ "args": { "path": text(&d.good) } }),
    )?;
    assert_eq!(e["code"], "invalid_input", "{e}");
    assert!(s.err("start_empty", json!({}))?["code"] == "invalid_input");
    assert_eq!(s.restarts(), 1);
    let status = s.ok("recovery_status", json!({}))?;
    assert_eq!(status["done"], done);

    // What the restarted app does: the database opens, with the backup's data.
    let app = app_for(&d.url)?;
    let after = tauri::async_runtime::block_on(contents(&app))?;
    assert_eq!(after, d.before);
    assert!(
        after["appointments"].as_u64().is_some_and(|n| n > 0),
        "{after}"
    );
    Ok(())
}

#[test]
fn with_no_good_backup_start_empty_keeps_the_damaged_file_aside() -> Result<(), String> {
    let d = damaged_database()?;
    std::fs::remove_file(&d.good).map_err(fail("remove the good backup"))?;
    let s = screen(recovery_for(&d.url)?)?;
    let status = s.ok("recovery_status", json!({}))?;
    let backups = status["backups"].as_array().ok_or("no backups list")?;
    assert!(
        backups.len() == 1 && backups[0]["good"] == false,
        "{status}"
    );
    let damaged = std::fs::read(&d.db).map_err(fail("read"))?;

    let done = s.ok("start_empty", json!({}))?;
    assert_eq!(done["kind"], "started_empty", "{done}");
    assert_eq!(s.restarts(), 1);
    let kept = PathBuf::from(done["damaged_kept_at"].as_str().ok_or("not kept")?);
    let folder = BackupFolder::beside(&d.db);
    assert_eq!(kept.parent(), Some(folder.dir()), "{done}");
    assert!(
        !d.db.exists(),
        "the damaged file was moved, not left in place"
    );
    // The same file: its pages as they were (setting it aside may rewrite
    // SQLite's 100-byte header, switching its journal mode).
    let moved = std::fs::read(&kept).map_err(fail("read the kept file"))?;
    assert_eq!(moved.len(), damaged.len());
    assert!(moved[100..] == damaged[100..], "the kept file differs");
    assert!(is_damaged(&kept));
    // Never offered as a backup to restore.
    let listed: Vec<PathBuf> = folder
        .list()
        .map_err(fail("list"))?
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(listed, vec![d.bad.clone()]);
    assert_eq!(s.err("start_empty", json!({}))?["code"], "invalid_input");
    assert_eq!(s.restarts(), 1);

    // The restarted app starts on an empty database.
    let app = app_for(&d.url)?;
    let now = tauri::async_runtime::block_on(contents(&app))?;
    assert_eq!(now["clinics"], json!([]));
    assert_eq!(now["users"], 0);
    Ok(())
}

#[test]
fn start_empty_refuses_a_database_restored_meanwhile() -> Result<(), String> {
    let d = damaged_database()?;
    let s = screen(recovery_for(&d.url)?)?;
    // Someone ran `vetdesk restore` while the screen was up.
    tauri::async_runtime::block_on(vetdesk_app::backups::restore(
        &vetdesk_core::Principal::local("test"),
        &d.url,
        &d.good,
        &vetdesk_app::SystemClock,
    ))
    .map_err(fail("restore"))?;
    let e = s.err("start_empty", json!({}))?;
    assert_eq!(e["code"], "invalid_input", "{e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("no longer damaged")),
        "{e}"
    );
    assert_eq!(s.restarts(), 0);
    let app = app_for(&d.url)?;
    assert_eq!(tauri::async_runtime::block_on(contents(&app))?, d.before);
    Ok(())
}
