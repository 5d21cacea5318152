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
