//! What a real window needs on this machine, and what happens without it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The programs the desktop route runs.
#[derive(Debug, Clone)]
pub struct Tools {
    pub xvfb: PathBuf,
    pub tauri_driver: PathBuf,
    pub webkit_driver: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn cargo_bin(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    Some(home.join("bin").join(name)).filter(|p| p.is_file())
}

/// Finds Xvfb, tauri-driver (on PATH or in cargo's bin folder) and WebKitWebDriver,
/// or says which are missing and how to get them.
pub fn find_tools() -> Result<Tools, String> {
    let xvfb = on_path("Xvfb");
    let tauri_driver = on_path("tauri-driver").or_else(|| cargo_bin("tauri-driver"));
    let webkit_driver = on_path("WebKitWebDriver");
    match (xvfb, tauri_driver, webkit_driver) {
        (Some(xvfb), Some(tauri_driver), Some(webkit_driver)) => Ok(Tools {
            xvfb,
            tauri_driver,
            webkit_driver,
        }),
        (x, t, w) => {
            let mut missing = Vec::new();
            if x.is_none() {
                missing.push("Xvfb (Debian package xvfb)");
            }
            if t.is_none() {
                missing.push("tauri-driver (cargo install tauri-driver --locked --version '^2')");
            }
            if w.is_none() {
                missing.push("WebKitWebDriver (Debian package webkit2gtk-driver)");
            }
            Err(format!(
                "missing: {}; `bash scripts/e2e-setup` installs them",
                missing.join(", ")
            ))
        }
    }
}

/// The tools, or `None` after saying loudly that `what` is skipped. In CI
/// (`CI=true`) or with `VETDESK_REQUIRE_E2E=1`, a missing tool is a failure
/// instead: there the desktop route must run.
pub fn require_tools(what: &str) -> Option<Tools> {
    match find_tools() {
        Ok(tools) => Some(tools),
        Err(why) => {
            let required = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
                || std::env::var("VETDESK_REQUIRE_E2E").is_ok_and(|v| v == "1");
            if required {
                panic!(
                    "{what} cannot run: {why} (required because CI=true or VETDESK_REQUIRE_E2E=1)"
                );
            }
            // Straight to stderr, past the test harness's capture: a skip is seen.
            let _ = writeln!(std::io::stderr(), "SKIPPED: {what}: {why}");
            None
        }
    }
}
