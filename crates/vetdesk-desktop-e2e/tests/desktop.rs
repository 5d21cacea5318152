//! Real windows under Xvfb, driven through tauri-driver and WebKitWebDriver.
//!
//! Without Xvfb, tauri-driver or WebKitWebDriver these tests say SKIPPED and
//! pass, except in CI (`CI=true`) or with `VETDESK_REQUIRE_E2E=1`, where they
//! fail. `bash scripts/e2e-setup` installs all three.

use vetdesk_desktop_e2e::*;

const BARE: &str = env!("CARGO_BIN_EXE_vetdesk-bare-window");

/// The harness itself, against the bare window: a session opens, the page's
/// ready mark is read, and the app's process tree (with WebKit's processes) is
/// found and measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bare_window_opens_under_webdriver() -> anyhow::Result<()> {
    let Some(tools) = require_tools("the bare-window WebDriver test") else {
        return Ok(());
    };
    let x = Xvfb::start(&tools)?;
    let driver = Driver::start(&tools, x.display(), &[]).await?;
    let session = driver.launch(std::path::Path::new(BARE)).await?;
    let ready = session.run_async(BARE_READY_JS, vec![]).await?;
    let origin = ready["origin"].as_f64().unwrap_or(f64::NAN);
    let at = ready["ready"].as_f64().unwrap_or(f64::NAN);
    let requested = epoch_ms(session.requested);
    assert!(
        origin >= requested - 5.0 && at >= origin && at <= epoch_ms(std::time::SystemTime::now()),
        "the page's instants follow the launch: requested {requested}, {ready}"
    );
    let title = session
        .client
        .find(fantoccini::Locator::Css("h1"))
        .await?
        .text()
        .await?;
    assert_eq!(title, "A bare Tauri window");

    let procs = memory::tree_memory(session.app_pid);
    let names: Vec<&str> = procs.iter().map(|p| p.name.as_str()).collect();
    assert!(
        names.iter().any(|n| n.starts_with("WebKitWebProces")),
        "the page runs in a WebKit process under the app: {names:?}"
    );
    assert!(procs.iter().all(|p| p.pss_kib > 0), "{procs:?}");
    session.close().await?;
    Ok(())
}

/// The real app, as the front desk uses it: first start on a fresh data folder
/// with the demo practice, sign in, go to tomorrow, click a free slot, find the
/// pet, book; the appointment is drawn in the day, and still there in the week
/// (a fresh read from the store). Screenshot in `target/tmp/desktop-e2e/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_from_a_free_slot_in_the_desktop_app() -> anyhow::Result<()> {
    let Some(tools) = require_tools("the desktop end-to-end test") else {
        return Ok(());
    };
    let app = binary_beside(BARE, "vetdesk-desktop", "VETDESK_DESKTOP_BIN")?;
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("desktop-e2e");
    std::fs::create_dir_all(&shots)?;
    let x = Xvfb::start(&tools)?;
    let driver = Driver::start(&tools, x.display(), &[("VETDESK_DEMO", "1")]).await?;
    let session = driver.launch(&app).await?;
    let result = book_one(&session, &shots).await;
    if result.is_err() {
        // What the window showed when it went wrong.
        if let Ok(png) = session.client.screenshot().await {
            let path = shots.join("failed.png");
            if std::fs::write(&path, png).is_ok() {
                eprintln!("screenshot of the failure: {}", path.display());
            }
        }
    }
    session.close().await?;
    let db = driver.home().join(".local/share/vetdesk/vetdesk.db");
    assert!(
        db.is_file(),
        "the app kept its database in the fresh data folder: {}",
        db.display()
    );
    result
}

async fn book_one(session: &Session, shots: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use fantoccini::actions::{InputSource as _, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
    use fantoccini::key::Key;
    use fantoccini::Locator::Css;
    use std::time::Duration;
    let c = &session.client;
    let wait = || c.wait().at_most(Duration::from_secs(20));

    // Sign in as the front desk.
    let (user, pass) = DESK_USER;
    wait()
        .for_element(Css("#username"))
        .await
        .context("the sign-in form")?
        .send_keys(user)
        .await?;
    c.find(Css("#password")).await?.send_keys(pass).await?;
    c.find(Css("form button[type=\"submit\"]"))
        .await?
        .click()
        .await?;
    wait()
        .for_element(Css("#new-booking"))
        .await
        .context("the calendar after signing in as desk")?;

    // Tomorrow's day view, drawn.
    let loaded = |c: &fantoccini::Client| {
        let c = c.clone();
        async move {
            c.execute(
                "const s = document.querySelector('section.calendar');
                 return s && s.getAttribute('aria-busy') !== 'true' ? s.dataset.loadedDate || null : null;",
                vec![],
            )
            .await
        }
    };
    let mut today = serde_json::Value::Null;
    for _ in 0..200 {
        today = loaded(c).await?;
        if today.is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let today = today
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the calendar never finished loading"))?;
    c.find(Css("button[aria-label=\"Next\"]"))
        .await?
        .click()
        .await?;
    let mut date = String::new();
    for _ in 0..200 {
        if let Some(d) = loaded(c).await?.as_str() {
            if d != today {
                date = d.to_owned();
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::ensure!(
        !date.is_empty(),
        "the calendar did not move on from {today}"
    );
    let before = drawn_appointments(c).await?;

    // A free block of at least 45 minutes (room for a consultation), in view.
    let free = c
        .execute(
            "const blocks = [...document.querySelectorAll('.ec-bg-event.free')]
               .filter((b) => b.getBoundingClientRect().height >= 66);
             if (!blocks.length) return null;
             blocks[0].scrollIntoView({ block: 'center' });
             const r = blocks[0].getBoundingClientRect();
             return { x: r.left, y: r.top, start: blocks[0].dataset.freeStart, vet: blocks[0].dataset.vet };",
            vec![],
        )
        .await?;
    let (Some(x), Some(y), Some(start)) = (
        free["x"].as_f64(),
        free["y"].as_f64(),
        free["start"].as_str(),
    ) else {
        anyhow::bail!("no free block of 45 minutes on {date}: {free}");
    };
    // Background events let clicks through to the grid: click where a person would.
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo {
            duration: None,
            x: x + 30.0,
            y: y + 4.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(mouse).await?;

    // The booking dialog: the slot clicked, the time free, the search focused.
    wait()
        .for_element(Css("#patient-search"))
        .await
        .context("the booking dialog after clicking the free block")?;
    let chosen = c
        .find(Css("#book-start"))
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(
        chosen == start,
        "the dialog offers {chosen}, the free block starts {start}"
    );
    let mut status = String::new();
    for _ in 0..100 {
        status = c.find(Css("#conflict-status")).await?.text().await?;
        if status.contains("is free") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::ensure!(status.contains("is free"), "conflict check: {status}");
    c.active_element().await?.send_keys("Biscuit").await?;
    wait()
        .for_element(Css("#patient-results [role=\"option\"]"))
        .await
        .context("a pet named Biscuit in the search results")?;
    c.active_element()
        .await?
        .send_keys(&char::from(Key::Enter).to_string())
        .await?;
    let chosen_pet = wait()
        .for_element(Css(".chosen"))
        .await
        .context("the pet chosen with Enter")?
        .text()
        .await?;
    anyhow::ensure!(chosen_pet.contains("Biscuit"), "chosen: {chosen_pet}");
    let mut enabled = false;
    for _ in 0..100 {
        enabled = c.find(Css("#book-submit")).await?.is_enabled().await?;
        if enabled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::ensure!(enabled, "the Book button stayed disabled");
    c.find(Css("#book-submit")).await?.click().await?;

    // Exactly one appointment more in the day: Biscuit's, at the time clicked.
    let mut new_ones = Vec::new();
    for _ in 0..100 {
        new_ones = drawn_appointments(c)
            .await?
            .into_iter()
            .filter(|(id, _)| !before.iter().any(|(b, _)| b == id))
            .collect();
        if !new_ones.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let [(id, text)] = new_ones.as_slice() else {
        anyhow::bail!("expected one new appointment on {date}, found {new_ones:?}");
    };
    let hhmm = start.get(11..16).unwrap_or(start);
    anyhow::ensure!(
        text.contains("Biscuit") && text.contains(hhmm),
        "the new appointment reads {text:?}, not Biscuit at {hhmm}"
    );
    let id = id.clone();
    // The dialog gone, the confirmation shown and the next frame painted.
    let settled = session
        .run_async(
            "const done = arguments[arguments.length - 1];
             (function look(n) {
               const toast = [...document.querySelectorAll('[role=\"status\"]')]
                 .some((t) => t.textContent.includes('Booked'));
               if (!document.querySelector('dialog[open]') && toast)
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));
               else if (n > 400) done(false);
               else setTimeout(() => look(n + 1), 25);
             })(0);",
            vec![],
        )
        .await?;
    anyhow::ensure!(
        settled == true,
        "the dialog stayed open or no \"Booked\" confirmation appeared"
    );
    let png = c.screenshot().await?;
    let path = shots.join("booked.png");
    std::fs::write(&path, &png)?;
    println!(
        "screenshot of the booked appointment ({date} {start}): {}",
        path.display()
    );

    // The week, read afresh from the store, holds it too.
    c.find(Css("[data-view=\"week\"]")).await?.click().await?;
    wait()
        .for_element(Css(&format!(
            "section.calendar[data-loaded-view=\"week\"] [data-appt-id=\"{id}\"]"
        )))
        .await
        .context("the new appointment in the week view")?;
    Ok(())
}

/// The appointments drawn in the calendar: id and text.
async fn drawn_appointments(c: &fantoccini::Client) -> anyhow::Result<Vec<(String, String)>> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('.ec-event [data-appt-id]')]
               .map((e) => [e.dataset.apptId, e.closest('.ec-event').textContent]);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Overwrite 16 KiB in the middle of `file` with garbage, as a failing disk
/// would (the same damage as the repository's other corruption tests).
fn damage(file: &std::path::Path) -> anyhow::Result<()> {
    let mut bytes = std::fs::read(file)?;
    let mid = bytes.len() / 2;
    let mut x: u32 = 0x9e37_79b9;
    for b in bytes.iter_mut().skip(mid).take(16 * 1024) {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *b = (x >> 24) as u8;
    }
    std::fs::write(file, bytes)?;
    Ok(())
}

/// The process running `exe` in the process group `group`, other than `not`.
fn running_in_group(group: u32, exe: &std::path::Path, not: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After "(comm)": state, ppid, pgrp.
        let pgrp: u32 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(2)?
            .parse()
            .ok()?;
        let runs = std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe);
        (pid != not && pgrp == group && runs).then_some(pid)
    })
}

/// A damaged database in the real app: the window opens on the recovery page
/// (not an exit), which lists the backup beside it as good; "Restore this
/// backup" puts it in place, keeps the damaged file and restarts the app,
/// which then stays up on a database the command line opens again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_opens_the_recovery_page_and_a_backup_restores_it() -> anyhow::Result<()>
{
    use anyhow::Context as _;
    use fantoccini::Locator::Css;
    use std::time::Duration;
    let Some(tools) = require_tools("the desktop recovery test") else {
        return Ok(());
    };
    let app = binary_beside(BARE, "vetdesk-desktop", "VETDESK_DESKTOP_BIN")?;
    let cli = binary_beside(BARE, "vetdesk", "VETDESK_BIN")?;
    let x = Xvfb::start(&tools)?;
    let driver = Driver::start(&tools, x.display(), &[]).await?;
    let data = driver.home().join(".local/share/vetdesk");
    std::fs::create_dir_all(&data)?;
    let db = data.join("vetdesk.db");
    let vetdesk = |args: &[&str]| {
        std::process::Command::new(&cli)
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("VETDESK_LOG", "off")
            .env_remove("VETDESK_DATABASE_URL")
            .output()
    };
    for step in [&["init", "--demo"][..], &["backup"][..]] {
        let out = vetdesk(step)?;
        anyhow::ensure!(
            out.status.success(),
            "vetdesk {step:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    damage(&db)?;

    let session = driver.launch(&app).await?;
    // Bounded: a WebDriver command that never answers must fail the test, not hang it.
    // (No screenshot here: WebKitWebDriver's did not answer for this window.)
    let page = async {
        let c = &session.client;
        let wait = || c.wait().at_most(Duration::from_secs(20));
        let title = wait()
            .for_element(Css("#recovery-title"))
            .await
            .context("the recovery page")?
            .text()
            .await?;
        anyhow::ensure!(title == "The database file is damaged", "title: {title}");
        let location = c.find(Css("#database-location")).await?.text().await?;
        anyhow::ensure!(
            location.contains(&db.display().to_string()),
            "location: {location}"
        );
        let listed = c.find(Css("#backups")).await?.text().await?;
        anyhow::ensure!(
            listed.contains("Passes the integrity check"),
            "the backup is listed as good: {listed}"
        );
        c.find(Css("button[data-path]")).await?.click().await?;
        let done = wait()
            .for_element(Css("#recovery-done"))
            .await
            .context("what the restore did")?
            .text()
            .await?;
        anyhow::ensure!(
            done.contains("is in place") && done.contains("restarting"),
            "after the click: {done}"
        );
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(90), page)
        .await
        .context("the recovery page did not answer within 90 s")??;

    // The app restarts: a new process of the same binary, in the driver's group.
    let mut restarted = None;
    for _ in 0..200 {
        restarted = running_in_group(driver.pid(), &app.canonicalize()?, session.app_pid);
        if restarted.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::ensure!(restarted.is_some(), "the app did not restart");
    tokio::time::sleep(Duration::from_secs(3)).await;
    anyhow::ensure!(
        running_in_group(driver.pid(), &app.canonicalize()?, session.app_pid) == restarted,
        "the restarted app did not stay up"
    );
    let kept = std::fs::read_dir(data.join("backups"))?
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains("-replaced-"));
    assert!(kept, "the damaged database is kept in the backups folder");
    let out = vetdesk(&["clinics"])?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("Riverside"),
        "the restored database opens: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The first session's app is gone; ending it may fail, the driver's drop cleans up.
    let _ = tokio::time::timeout(Duration::from_secs(10), session.close()).await;
    Ok(())
}
