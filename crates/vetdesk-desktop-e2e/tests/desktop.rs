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
