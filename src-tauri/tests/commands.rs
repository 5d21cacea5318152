//! Smoke tests of the commands through Tauri's IPC, on its mock runtime (no
//! window, no display): what the webview sends is what these send, and the
//! ACL built from `build.rs`'s app manifest and `capabilities/` is in force.
//! Each test runs on its own demo practice in a temporary SQLite file.

use serde_json::{json, Value};
use std::sync::Arc;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};
use vetdesk_app::App;
use vetdesk_desktop::config::Paths;
use vetdesk_desktop::{builder, Desktop};

struct Harness {
    _dir: tempfile::TempDir,
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    desktop: Arc<Desktop>,
}

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// A desktop app on a fresh demo practice, built with the real context (so
/// the real ACL), with a window labelled `main` as the app opens.
fn harness() -> Result<Harness, String> {
    harness_with(true)
}

fn harness_with(demo: bool) -> Result<Harness, String> {
    harness_full(demo, false)
}

fn harness_full(demo: bool, worker: bool) -> Result<Harness, String> {
    let dir = tempfile::tempdir().map_err(fail("tempdir"))?;
    let paths = Paths::under(&dir.path().join("config"), &dir.path().join("data"));
    let db = dir.path().join("vetdesk.db");
    let db = db.to_str().ok_or("temp path is not UTF-8")?.to_string();
    let desktop = tauri::async_runtime::block_on(async {
        let app = App::open(&db).await.map_err(fail("open"))?;
        let desktop = Desktop::new(app, db.clone(), paths);
        let desktop = if worker {
            desktop
        } else {
            desktop.without_worker()
        };
        if demo {
            vetdesk_desktop::setup::seed_demo(&desktop)
                .await
                .map_err(fail("demo"))?;
        }
        Ok::<_, String>(Arc::new(desktop))
    })?;
    let app = builder(mock_builder(), desktop.clone())
        .build(tauri::generate_context!())
        .map_err(fail("build"))?;
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .map_err(fail("window"))?;
    Ok(Harness {
        _dir: dir,
        _app: app,
        window,
        desktop,
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

impl Harness {
    /// What the webview's `invoke(cmd, body)` resolves to, or what it rejects with.
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

    fn login(&self, username: &str, password: &str) -> Result<String, String> {
        let session = self.ok(
            "login",
            json!({ "args": { "username": username, "password": password } }),
        )?;
        session["token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no token in {session}"))
    }

    /// Riverside, its first vet with a free consultation slot, a pet, the type, the slot.
    fn booking(&self, token: &str) -> Result<Value, String> {
        self.booking_with(token, None)
    }

    /// The same, with `vet` when given.
    fn booking_with(&self, token: &str, vet: Option<&Value>) -> Result<Value, String> {
        let clinics = self.ok("list_clinics", json!({ "token": token }))?;
        let clinic = clinics
            .as_array()
            .and_then(|c| {
                c.iter().find(|c| {
                    c["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("Riverside"))
                })
            })
            .ok_or("no Riverside clinic")?
            .clone();
        let types = self.ok("list_types", json!({ "token": token, "args": {} }))?;
        let consultation = types
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == "Consultation"))
            .ok_or_else(|| format!("no consultation type in {types}"))?
            .clone();
        let pets = self.ok(
            "list_pets",
            json!({ "token": token, "args": { "q": "", "limit": 1 } }),
        )?;
        let pet = pets.get(0).ok_or("no pet")?.clone();
        let today = chrono::Utc::now().date_naive();
        let free = self.ok(
            "availability",
            json!({ "token": token, "args": {
                "clinic_id": clinic["id"], "type_id": consultation["id"], "vet_id": vet,
                "start_date": today.to_string(),
                "end_date": (today + chrono::Duration::days(14)).to_string(),
            }}),
        )?;
        let (vet, slot) = free["vets"]
            .as_array()
            .and_then(|vets| {
                vets.iter().find_map(|v| {
                    v["slots"]
                        .get(0)
                        .map(|s| (v["vet"]["id"].clone(), s.clone()))
                })
            })
            .ok_or_else(|| format!("no free slot in {free}"))?;
        Ok(json!({
            "clinic_id": clinic["id"], "vet_id": vet, "pet_id": pet["id"],
            "type_id": consultation["id"],
            "start": slot["local_start"].as_str().map(|s| s[..16].to_string()),
        }))
    }

    fn appointment_count(&self, token: &str, args: &Value) -> Result<usize, String> {
        let start = args["start"].as_str().ok_or("no start")?;
        let calendar = self.ok(
            "calendar",
            json!({ "token": token, "args": {
                "view": "day", "date": &start[..10], "clinic_id": args["clinic_id"],
            }}),
        )?;
        Ok(calendar.to_string().matches("\"pet_name\"").count())
    }
}

#[test]
fn sign_in_book_and_see_it_then_lock_and_switch_user() -> Result<(), String> {
    let h = harness()?;
    let desk = h.login("desk", "vetdesk-desk")?;
    let me = h.ok("me", json!({ "token": desk }))?;
    assert_eq!(me["username"], "desk");
    assert_eq!(me["role"], "front_desk");

    let args = h.booking(&desk)?;
    let before = h.appointment_count(&desk, &args)?;
    let booked = h.ok("book", json!({ "token": desk, "args": args }))?;
    assert_eq!(booked["status"], "scheduled");
    assert!(booked["meta"]["version"].is_i64(), "{booked}");
    assert_eq!(booked["vet_id"], args["vet_id"]);
    assert_eq!(
        booked["local"]["local_start"].as_str().map(|s| &s[..16]),
        args["start"].as_str()
    );
    let id = booked["id"].clone();
    let again = h.ok("get", json!({ "token": desk, "args": { "id": id } }))?;
    assert_eq!(again["id"], id);
    assert_eq!(h.appointment_count(&desk, &args)?, before + 1);

    // The same slot again: the application layer's conflict, with its reasons.
    let taken = h.err("book", json!({ "token": desk, "args": args }))?;
    assert_eq!(taken["code"], "conflict", "{taken}");
    assert!(
        taken["details"]["messages"]
            .as_array()
            .is_some_and(|m| !m.is_empty()),
        "{taken}"
    );

    // A lifecycle step through its command, against the version.
    let confirmed = h.ok(
        "confirm",
        json!({ "token": desk, "args": { "id": id, "version": booked["meta"]["version"] } }),
    )?;
    assert_eq!(confirmed["status"], "confirmed");
    let stale = h.err(
        "check_in",
        json!({ "token": desk, "args": { "id": id, "version": booked["meta"]["version"] } }),
    )?;
    assert_eq!(stale["code"], "stale_version", "{stale}");

    // Lock: the token stops working at once; the next person signs in without a restart.
    h.ok("logout", json!({ "token": desk }))?;
    let locked = h.err("me", json!({ "token": desk }))?;
    assert_eq!(locked["code"], "unauthenticated");
    let vet = h.login("morgan", "vetdesk-vet")?;
    assert_eq!(h.ok("me", json!({ "token": vet }))?["role"], "vet");
    Ok(())
}

#[test]
fn availability_runs_expand_to_the_slots_of_availability() -> Result<(), String> {
    let h = harness()?;
    let desk = h.login("desk", "vetdesk-desk")?;
    let args = h.booking(&desk)?;
    let today = chrono::Utc::now().date_naive();
    let query = json!({
        "clinic_id": args["clinic_id"], "type_id": args["type_id"],
        "start_date": today.to_string(),
        "end_date": (today + chrono::Duration::days(14)).to_string(),
    });
    let list = h.ok("availability", json!({ "token": desk, "args": query }))?;
    let runs = h.ok("availability_runs", json!({ "token": desk, "args": query }))?;
    let grid = runs["grid_min"]
        .as_u64()
        .and_then(|g| u32::try_from(g).ok())
        .ok_or("grid")?;
    let length = runs["duration_min"]
        .as_u64()
        .and_then(|d| u32::try_from(d).ok())
        .ok_or("duration")?;
    let (listed, compact) = (
        list["vets"].as_array().ok_or("vets")?,
        runs["vets"].as_array().ok_or("vets")?,
    );
    assert_eq!(listed.len(), compact.len());
    let mut slots = 0;
    for (l, c) in listed.iter().zip(compact) {
        assert_eq!(l["vet"], c["vet"]);
        let want: Vec<(String, String)> = l["slots"]
            .as_array()
            .ok_or("slots")?
            .iter()
            .map(|s| (s["start"].to_string(), s["end"].to_string()))
            .collect();
        let runs: Vec<vetdesk_core::SlotRun> =
            serde_json::from_value(c["runs"].clone()).map_err(fail("runs"))?;
        let got: Vec<(String, String)> = runs
            .into_iter()
            .flat_map(|r| r.slots(grid, length))
            .map(|iv| (json!(iv.start()).to_string(), json!(iv.end()).to_string()))
            .collect();
        assert_eq!(got, want, "vet {}", l["vet"]["name"]);
        assert!(c["runs"].as_array().map_or(0, Vec::len) <= want.len());
        slots += want.len();
    }
    assert!(
        slots > 0,
        "the demo practice has free slots in the next two weeks"
    );
    // Bad input is the same typed error as the slot list's.
    let bad = json!({ "token": desk, "args": { "clinic_id": args["clinic_id"],
        "start_date": "2027-03-05", "end_date": "2027-03-01", "duration_minutes": 30 } });
    assert_eq!(h.err("availability_runs", bad)?["code"], "invalid_input");
    Ok(())
}

#[test]
fn a_role_without_the_permission_is_forbidden_and_nothing_changes() -> Result<(), String> {
    let h = harness()?;
    let vet = h.login("morgan", "vetdesk-vet")?;
    let desk = h.login("desk", "vetdesk-desk")?;
    let args = h.booking(&desk)?;
    let before = h.appointment_count(&desk, &args)?;

    let refused = h.err("book", json!({ "token": vet, "args": args }))?;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    assert!(refused["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(h.appointment_count(&desk, &args)?, before);

    let types = h.ok("list_types", json!({ "token": desk }))?;
    let no_type = h.err(
        "create_type",
        json!({ "token": desk, "args": { "name": "Grooming", "duration_minutes": 30, "colour": "#123456" } }),
    )?;
    assert_eq!(no_type["code"], "forbidden", "{no_type}");
    assert_eq!(h.ok("list_types", json!({ "token": desk }))?, types);
    Ok(())
}

#[test]
fn bad_input_is_a_typed_error_and_books_nothing() -> Result<(), String> {
    let h = harness()?;
    let desk = h.login("desk", "vetdesk-desk")?;
    let args = h.booking(&desk)?;
    let before = h.appointment_count(&desk, &args)?;

    let mut bad_time = args.clone();
    bad_time["start"] = json!("next tuesday-ish");
    let e = h.err("book", json!({ "token": desk, "args": bad_time }))?;
    assert_eq!(e["code"], "invalid_input", "{e}");

    // Arguments of the wrong shape are refused by the command, with the same kind of error.
    let mut bad_id = args.clone();
    bad_id["pet_id"] = json!("not-a-uuid");
    let e = h.err("book", json!({ "token": desk, "args": bad_id }))?;
    assert_eq!(e["code"], "invalid_input", "{e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("could not be read")),
        "{e}"
    );

    let mut unknown_pet = args.clone();
    unknown_pet["pet_id"] = json!(uuid::Uuid::nil());
    let e = h.err("book", json!({ "token": desk, "args": unknown_pet }))?;
    assert_eq!(e["code"], "not_found", "{e}");

    assert_eq!(h.appointment_count(&desk, &args)?, before);
    Ok(())
}

#[test]
fn no_session_no_data() -> Result<(), String> {
    let h = harness()?;
    for token in [Value::Null, json!(""), json!("forged-token")] {
        let e = h.err("list_clinics", json!({ "token": token }))?;
        assert_eq!(e["code"], "unauthenticated", "{e}");
    }
    let e = h.err(
        "login",
        json!({ "args": { "username": "desk", "password": "wrong" } }),
    )?;
    assert_eq!(e["code"], "unauthenticated", "{e}");
    // Health needs no session (the UI polls it for the connection indicator).
    let health = h.ok("health", json!({}))?;
    assert_eq!(health["status"], "ok");
    // This harness runs no notification worker: nothing is sent, and health says so.
    assert_eq!(health["notification_channels"], json!([]));
    Ok(())
}

#[test]
fn the_demo_is_offered_only_to_an_empty_database() -> Result<(), String> {
    let h = harness()?;
    let status = h.ok("desktop_status", json!({}))?;
    assert_eq!(status["empty"], false);
    assert_eq!(status["has_users"], true);
    let e = h.err("seed_demo", json!({}))?;
    assert_eq!(e["code"], "duplicate", "{e}");
    // Changing the database is an admin's decision once there are users.
    let desk = h.login("desk", "vetdesk-desk")?;
    let e = h.err(
        "save_database",
        json!({ "token": desk, "args": { "kind": "embedded" } }),
    )?;
    assert_eq!(e["code"], "forbidden", "{e}");
    let e = h.err("save_database", json!({ "args": { "kind": "embedded" } }))?;
    assert_eq!(e["code"], "unauthenticated", "{e}");
    assert!(h.desktop.location().ends_with("vetdesk.db"));
    Ok(())
}

#[tauri::command]
fn not_listed() -> &'static str {
    "ran"
}

fn app_with_an_unlisted_command(
    context: tauri::Context<MockRuntime>,
) -> Result<(tauri::App<MockRuntime>, WebviewWindow<MockRuntime>), String> {
    let app = mock_builder()
        .invoke_handler(tauri::generate_handler![
            vetdesk_desktop::commands::health,
            not_listed
        ])
        .build(context)
        .map_err(fail("build"))?;
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .map_err(fail("window"))?;
    Ok((app, window))
}

#[test]
fn only_the_listed_commands_can_be_called() -> Result<(), String> {
    // With the app's real ACL: a registered command missing from the app
    // manifest is refused, as is an unknown one and Tauri's own ungranted ones.
    let (_app, window) = app_with_an_unlisted_command(tauri::generate_context!())?;
    let call = |cmd: &str| {
        get_ipc_response(&window, request(cmd, json!({}))?)
            .map_err(|e| e.to_string())
            .map(|_| ())
    };
    assert!(call("health").is_ok());
    for refused in [
        "not_listed",
        "drop_database",
        "plugin:app|version",
        "plugin:window|close",
    ] {
        let r = call(refused);
        assert!(r.is_err(), "{refused} was allowed");
    }
    // Without that ACL (a bare mock context) the same command would run: the
    // refusal above is the manifest's doing, not the test's.
    let (_app, open) = app_with_an_unlisted_command(mock_context(noop_assets()))?;
    let ran = get_ipc_response(&open, request("not_listed", json!({}))?)
        .map_err(|e| format!("not_listed refused without the ACL: {e}"))?;
    assert_eq!(ran.deserialize::<String>().map_err(fail("body"))?, "ran");
    Ok(())
}

#[test]
fn the_manifest_the_capability_and_the_commands_agree() -> Result<(), String> {
    let dir = env!("CARGO_MANIFEST_DIR");
    // The manifest's list is the crate's own: build.rs includes the same file.
    let build = std::fs::read_to_string(format!("{dir}/build.rs")).map_err(fail("build.rs"))?;
    assert!(
        build.contains("include!(\"src/command_names.rs\")"),
        "build.rs lists its own commands"
    );
    let listed = vetdesk_desktop::commands::COMMANDS;
    let cap: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/capabilities/main.json"))
            .map_err(fail("capability"))?,
    )
    .map_err(fail("capability json"))?;
    let granted: Vec<String> = cap["permissions"]
        .as_array()
        .ok_or("no permissions")?
        .iter()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect();
    let mut expected: Vec<String> = listed
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    expected.extend([
        "core:event:allow-listen".to_string(),
        "core:event:allow-unlisten".to_string(),
    ]);
    assert_eq!(granted, expected);
    // Every operation the UI names has its command.
    let ops = std::fs::read_to_string(format!("{dir}/../ui/src/transport/operations.ts"))
        .map_err(fail("operations.ts"))?;
    let body = ops
        .split("export interface Operations {")
        .nth(1)
        .ok_or("no Operations")?;
    for line in body.lines() {
        if let Some((name, _)) = line.trim().split_once(": { args") {
            assert!(listed.contains(&name), "operation {name} has no command");
        }
    }
    Ok(())
}

#[test]
fn committed_changes_reach_the_webview_as_events() -> Result<(), String> {
    let h = harness()?;
    let (tx, rx) = std::sync::mpsc::channel::<(String, Value)>();
    let tx = std::sync::Mutex::new(tx);
    h.desktop
        .start(Arc::new(move |event: &str, payload: Value| {
            if let Ok(tx) = tx.lock() {
                let _ = tx.send((event.to_string(), payload));
            }
        }));
    let desk = h.login("desk", "vetdesk-desk")?;
    let booked = h.ok("book", json!({ "token": desk, "args": h.booking(&desk)? }))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let (event, payload) = rx
            .recv_timeout(left)
            .map_err(|_| format!("no change event for {}", booked["id"]))?;
        if event == vetdesk_desktop::live::CHANGE_EVENT
            && payload
                .to_string()
                .contains(booked["id"].as_str().unwrap_or("-"))
        {
            assert_eq!(payload["entity"], "appointment", "{payload}");
            return Ok(());
        }
    }
}

/// A database of its own on the test server, dropped afterwards.
async fn fresh_pg_database(admin_url: &str) -> Result<(String, String), String> {
    use sqlx::Connection;
    let name = format!("vetdesk_desktop_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(fail("postgres"))?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .map_err(fail("create database"))?;
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    Ok((name.clone(), format!("{base}/{name}")))
}

async fn drop_pg_database(admin_url: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
}

#[test]
fn a_shared_postgres_is_tested_on_save_and_its_password_never_written() -> Result<(), String> {
    let Some(admin_url) = std::env::var("VETDESK_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var("VETDESK_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "VETDESK_REQUIRE_POSTGRES=1 but VETDESK_TEST_POSTGRES_URL is unset"
        );
        eprintln!("skipped: VETDESK_TEST_POSTGRES_URL is unset");
        return Ok(());
    };
    // First start: an empty database, so no sign-in is needed to choose one.
    let h = harness_with(false)?;
    assert_eq!(h.ok("desktop_status", json!({}))?["empty"], true);
    let settings_file = h.desktop.paths().settings_file.clone();
    let before = h.desktop.location();

    // A server that does not answer changes nothing.
    let e = h.err(
        "save_database",
        json!({ "args": { "kind": "postgres", "url": "postgres://vetdesk@127.0.0.1:1/none", "password": "pw" } }),
    )?;
    assert_eq!(e["code"], "store_unavailable", "{e}");
    assert!(!settings_file.exists());
    assert_eq!(h.desktop.location(), before);
    // Nor does something that is not a PostgreSQL URL.
    let e = h.err(
        "save_database",
        json!({ "args": { "kind": "postgres", "url": "mysql://x@y/z" } }),
    )?;
    assert_eq!(e["code"], "invalid_input", "{e}");

    let (name, url) = tauri::async_runtime::block_on(fresh_pg_database(&admin_url))?;
    let secret = "only-in-the-keyring-4711";
    let saved = h.call(
        "save_database",
        json!({ "args": { "kind": "postgres", "url": url, "password": secret } }),
    )?;
    let outcome = (|| {
        let saved = saved.map_err(|e| format!("save_database failed: {e}"))?;
        assert_eq!(saved["status"]["database"], "postgres", "{saved}");
        assert!(h.desktop.location().contains(&name));
        let written = std::fs::read_to_string(&settings_file).map_err(fail("settings"))?;
        assert!(written.contains(&name), "{written}");
        assert!(
            !written.contains(secret),
            "the password reached the settings file: {written}"
        );
        // No keyring on a test machine: the app says where the password must go instead.
        if let Some(note) = saved["note"].as_str() {
            assert!(note.contains("VETDESK_DATABASE_PASSWORD"), "{note}");
        }
        // The new database is the one in use: it is empty, and the demo can go into it.
        let status = h.ok("seed_demo", json!({}))?;
        assert_eq!(status["has_users"], true, "{status}");
        assert!(h.login("desk", "vetdesk-desk").is_ok());
        Ok::<_, String>(())
    })();
    // Back to the embedded database (an admin now: the demo made users), then drop the server's.
    let admin = h.login("admin", "vetdesk-admin");
    if let Ok(token) = &admin {
        let _ = h.call(
            "save_database",
            json!({ "token": token, "args": { "kind": "embedded" } }),
        );
    }
    tauri::async_runtime::block_on(drop_pg_database(&admin_url, &name));
    outcome?;
    admin.map(|_| ())
}

#[test]
fn a_signed_in_vet_s_worker_takes_their_check_in_notification() -> Result<(), String> {
    use vetdesk_core::{AppointmentId, MessageChannel, MessageStatus};
    let h = harness_full(true, true)?;
    // The desk (elsewhere) books a patient of Dr Morgan's.
    let desk = h.login("desk", "vetdesk-desk")?;
    let vets = h.ok("list_vets", json!({ "token": desk, "args": {} }))?;
    let vet_id = vets
        .as_array()
        .and_then(|v| {
            v.iter()
                .find(|v| v["name"].as_str().is_some_and(|n| n.contains("Morgan")))
        })
        .map(|v| v["id"].clone())
        .ok_or_else(|| format!("no Dr Morgan in {vets}"))?;
    let booked = h.ok(
        "book",
        json!({ "token": desk, "args": h.booking_with(&desk, Some(&vet_id))? }),
    )?;
    let id = booked["id"]
        .as_str()
        .and_then(|i| uuid::Uuid::parse_str(i).ok())
        .ok_or("no id")?;
    // Dr Morgan signs in at this workstation (the last sign-in here decides whose
    // desktop notifications it shows); then the patient is checked in.
    let vet = h.login("morgan", "vetdesk-vet")?;
    assert_eq!(h.ok("me", json!({ "token": vet }))?["vet_id"], vet_id);
    h.ok(
        "check_in",
        json!({ "token": desk, "args": { "id": id, "version": booked["meta"]["version"] } }),
    )?;

    let app = h.desktop.app();
    let query = || vetdesk_app::OutboxQuery {
        statuses: vec![],
        appointment: Some(AppointmentId(id)),
        channel: Some(MessageChannel::Desktop),
        limit: 10,
        offset: 0,
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let page = tauri::async_runtime::block_on(app.outbox(query())).map_err(fail("outbox"))?;
        let checked_in: Vec<_> = page
            .items
            .iter()
            .filter(|m| m.kind == vetdesk_core::MessageKind::CheckedIn)
            .collect();
        assert!(checked_in.len() <= 1, "{checked_in:?}");
        // Sent where a notification service exists, recorded as skipped where none does:
        // either way this workstation's worker took it, and nothing crashed.
        if let Some(m) = checked_in
            .first()
            .filter(|m| m.status != MessageStatus::Pending || m.attempts > 0)
        {
            assert!(
                matches!(
                    m.status,
                    MessageStatus::Sent | MessageStatus::Skipped | MessageStatus::Pending
                ),
                "{m:?}"
            );
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "the check-in notification was never taken: {:?}",
                page.items
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn templates_and_users_are_managed_by_an_admin_only() -> Result<(), String> {
    let h = harness()?;
    let admin = h.login("admin", "vetdesk-admin")?;
    let desk = h.login("desk", "vetdesk-desk")?;
    let key = json!({ "kind": "reminder", "channel": "sms" });

    // The desk may read the templates but not change them; nothing changes.
    let before = h.ok("list_templates", json!({ "token": desk }))?;
    let change = json!({ "kind": "reminder", "channel": "sms", "body": "See you soon, {pet}!" });
    let refused = h.err("update_template", json!({ "token": desk, "args": change }))?;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    assert_eq!(h.ok("list_templates", json!({ "token": desk }))?, before);

    // The admin changes it, previews it, and puts the built-in one back.
    let saved = h.ok("update_template", json!({ "token": admin, "args": change }))?;
    assert_eq!(saved["body"], "See you soon, {pet}!", "{saved}");
    let preview = h.ok("preview_template", json!({ "token": admin, "args": key }))?;
    let text = preview["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("See you soon, ") && !text.contains("{pet}"),
        "{preview}"
    );
    let reset = h.ok("reset_template", json!({ "token": admin, "args": key }))?;
    assert_ne!(reset["body"], saved["body"], "{reset}");

    // A template that does not exist is a typed error.
    let bad = json!({ "kind": "birthday", "channel": "sms", "body": "Happy birthday" });
    let e = h.err("update_template", json!({ "token": admin, "args": bad }))?;
    assert_eq!(e["code"], "invalid_input", "{e}");

    // Users: the desk may not list them; the admin adds one, who can sign in.
    let e = h.err("list_users", json!({ "token": desk }))?;
    assert_eq!(e["code"], "forbidden", "{e}");
    let user = json!({ "username": "robin", "display_name": "Robin Front", "role": "front_desk", "password": "a long enough password" });
    let created = h.ok("create_user", json!({ "token": admin, "args": user }))?;
    h.login("robin", "a long enough password")?;
    let patch =
        json!({ "id": created["id"], "version": created["meta"]["version"], "disabled": true });
    h.ok("update_user", json!({ "token": admin, "args": patch }))?;
    let e = h.err(
        "login",
        json!({ "args": { "username": "robin", "password": "a long enough password" } }),
    )?;
    assert_eq!(
        e["code"], "unauthenticated",
        "a disabled user cannot sign in: {e}"
    );

    // The outbox: the desk reads it (the demo booked with messages planned).
    let page = h.ok(
        "list_outbox",
        json!({ "token": desk, "args": { "limit": 5 } }),
    )?;
    assert!(
        page["items"].as_array().is_some_and(|i| !i.is_empty()),
        "{page}"
    );
    let e = h.err(
        "list_outbox",
        json!({ "token": desk, "args": { "limit": 501 } }),
    )?;
    assert_eq!(e["code"], "invalid_input", "{e}");
    Ok(())
}
