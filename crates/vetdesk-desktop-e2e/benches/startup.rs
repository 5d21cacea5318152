//! Desktop start-up: time from launch to an interactive calendar, and idle
//! memory, for the real app (`vetdesk-desktop`) and, in the same run, a bare
//! Tauri window (`vetdesk-bare-window`: one static page) as the baseline.
//!
//! Each launch gets a fresh home and is driven through tauri-driver and
//! WebKitWebDriver under a private Xvfb; the two apps alternate, launch after
//! launch. The app first starts once on an empty data folder and creates the demo
//! practice (reported on its own); each measured launch then starts from a copy
//! of that data folder: an existing database, WebKit's caches empty. The page
//! cache of the operating system is warm (the files were read before).
//!
//! - **Interactive**, bare window: its page's `vetdesk:ready` mark, set in the
//!   frame after its first painted one. Real app: the sign-in form is filled and
//!   submitted the moment it appears (as `desk`), and the calendar's own
//!   `vetdesk:calendar` measure ends at the first frame painted after the first
//!   view's events are in place. Times are from the WebDriver session request
//!   (which makes WebKitWebDriver launch the app) to those instants, read from the
//!   page's clock (`performance.timeOrigin`, the system clock): no polling delay.
//! - **Idle memory**: after a settle period, the sum of PSS (and of RSS) over the
//!   app's process and every descendant (WebKitWebProcess, WebKitNetworkProcess).
//!
//! `cargo bench -p vetdesk-desktop-e2e --bench startup` runs 9 launches of each
//! (`VETDESK_BENCH_RUNS` to change) with 5 s to settle; under `cargo test` (no
//! `--bench` argument) one launch of each with 1 s, as a check that it still works.

use anyhow::{bail, Context as _, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use vetdesk_desktop_e2e::*;

const BARE: &str = env!("CARGO_BIN_EXE_vetdesk-bare-window");

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bare,
    App,
}

#[derive(Debug, Default, Clone)]
struct Launch {
    /// Session request to the session open (the window exists).
    session_ms: f64,
    /// Session request to the page's navigation start.
    origin_ms: f64,
    /// Session request to the sign-in form on screen (real app).
    form_ms: Option<f64>,
    /// Sign-in submitted to the calendar drawn (real app).
    signin_to_calendar_ms: Option<f64>,
    /// Sign-in submitted to the calendar view asking for its data (real app).
    signin_to_view_ms: Option<f64>,
    /// The calendar's own split of its load: the `calendar` command, then drawing.
    fetch_ms: Option<f64>,
    render_ms: Option<f64>,
    /// Session request to interactive.
    ready_ms: f64,
    events: Option<u64>,
    pss_mib: f64,
    rss_mib: f64,
    /// PSS by process name, MiB.
    by_process: Vec<(String, f64)>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn range(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

fn num(v: &serde_json::Value, key: &str) -> Result<f64> {
    v[key]
        .as_f64()
        .with_context(|| format!("the page's answer has no `{key}`: {v}"))
}

/// The app's folders (`directories`' data and config folders for org/vetdesk/vetdesk)
/// under a home.
const APP_FOLDERS: [&str; 2] = [".local/share/vetdesk", ".config/vetdesk"];

async fn launch_once(
    tools: &Tools,
    display: &str,
    kind: Kind,
    bin: &Path,
    settle: Duration,
    from: Option<&Path>,
    env: &[(&str, &str)],
) -> Result<(Launch, Driver)> {
    let driver = Driver::start(tools, display, env).await?;
    if let Some(prepared) = from {
        for f in APP_FOLDERS {
            if prepared.join(f).is_dir() {
                copy_tree(&prepared.join(f), &driver.home().join(f))?;
            }
        }
    }
    let session = driver.launch(bin).await?;
    let requested = epoch_ms(session.requested);
    let mut l = Launch {
        session_ms: epoch_ms(session.opened) - requested,
        ..Launch::default()
    };
    let answer = match kind {
        Kind::Bare => session.run_async(BARE_READY_JS, vec![]).await?,
        Kind::App => {
            let (user, pass) = DESK_USER;
            session
                .run_async(APP_READY_JS, vec![user.into(), pass.into()])
                .await?
        }
    };
    if let Some(err) = answer.get("error") {
        bail!("{}: sign-in refused: {err}", bin.display());
    }
    l.origin_ms = num(&answer, "origin")? - requested;
    l.ready_ms = num(&answer, "ready")? - requested;
    if kind == Kind::App {
        l.form_ms = Some(num(&answer, "form")? - requested);
        l.signin_to_calendar_ms = Some(num(&answer, "ready")? - num(&answer, "submitted")?);
        l.events = answer["events"].as_u64();
        l.signin_to_view_ms = Some(num(&answer, "calendar_start")? - num(&answer, "submitted")?);
        l.fetch_ms = answer["fetch"].as_f64();
        l.render_ms = answer["render"].as_f64();
    }
    let now = epoch_ms(SystemTime::now());
    if !(l.origin_ms > -5.0 && l.ready_ms >= l.origin_ms && requested + l.ready_ms <= now) {
        bail!(
            "instants out of order for {}: {answer} (requested at {requested})",
            bin.display()
        );
    }

    tokio::time::sleep(settle).await;
    let procs = memory::tree_memory(session.app_pid);
    if !procs.iter().any(|p| p.name.starts_with("WebKitWebProces")) {
        bail!("no WebKitWebProcess under {}: {procs:?}", bin.display());
    }
    l.pss_mib = procs.iter().map(|p| p.pss_kib).sum::<u64>() as f64 / 1024.0;
    l.rss_mib = procs.iter().map(|p| p.rss_kib).sum::<u64>() as f64 / 1024.0;
    let mut by: Vec<(String, f64)> = Vec::new();
    for p in &procs {
        let name = if p.pid == session.app_pid {
            "app".to_owned()
        } else {
            p.name.clone()
        };
        match by.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v += p.pss_kib as f64 / 1024.0,
            None => by.push((name, p.pss_kib as f64 / 1024.0)),
        }
    }
    l.by_process = by;
    session.close().await?;
    Ok((l, driver))
}

fn summary(name: &str, ls: &[Launch], base: Option<&[Launch]>) {
    let col = |f: &dyn Fn(&Launch) -> f64| -> Vec<f64> { ls.iter().map(f).collect() };
    let ready = col(&|l| l.ready_ms);
    let pss = col(&|l| l.pss_mib);
    let rss = col(&|l| l.rss_mib);
    let (rlo, rhi) = range(&ready);
    let (plo, phi) = range(&pss);
    let ratio = |mine: f64, f: &dyn Fn(&Launch) -> f64| match base {
        Some(b) => format!("{:.2}×", mine / median(b.iter().map(f).collect())),
        None => "1".to_owned(),
    };
    let r = median(ready.clone());
    let p = median(pss.clone());
    println!(
        "| {name} | {} | {:.0} ms [{rlo:.0}–{rhi:.0}] | {} | {:.0} MiB [{plo:.0}–{phi:.0}] | {} | {:.0} MiB |",
        ls.len(),
        r,
        ratio(r, &|l| l.ready_ms),
        p,
        ratio(p, &|l| l.pss_mib),
        median(rss),
    );
}

fn details(name: &str, ls: &[Launch]) {
    let m = |f: &dyn Fn(&Launch) -> f64| median(ls.iter().map(f).collect());
    print!(
        "{name}: session open {:.0} ms, navigation start {:.0} ms",
        m(&|l| l.session_ms),
        m(&|l| l.origin_ms)
    );
    if ls.iter().all(|l| l.form_ms.is_some()) {
        print!(
            ", sign-in form {:.0} ms, sign-in to calendar drawn {:.0} ms (to the view asking \
             for its data {:.0} ms, calendar command {:.0} ms, drawing {:.0} ms), appointments \
             on screen {:?}",
            m(&|l| l.form_ms.unwrap_or(f64::NAN)),
            m(&|l| l.signin_to_calendar_ms.unwrap_or(f64::NAN)),
            m(&|l| l.signin_to_view_ms.unwrap_or(f64::NAN)),
            m(&|l| l.fetch_ms.unwrap_or(f64::NAN)),
            m(&|l| l.render_ms.unwrap_or(f64::NAN)),
            ls.iter().filter_map(|l| l.events).collect::<Vec<_>>()
        );
    }
    println!();
    let mut names: Vec<String> = Vec::new();
    for l in ls {
        for (n, _) in &l.by_process {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    let parts: Vec<String> = names
        .iter()
        .map(|n| {
            let v = m(&|l| {
                l.by_process
                    .iter()
                    .filter(|(k, _)| k == n)
                    .map(|(_, v)| v)
                    .sum()
            });
            format!("{n} {v:.0}")
        })
        .collect();
    println!("{name}: PSS by process (median MiB): {}", parts.join(", "));
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let full = std::env::args().any(|a| a == "--bench");
    let Some(tools) = require_tools("the desktop start-up benchmark") else {
        return Ok(());
    };
    let runs: usize = if full {
        std::env::var("VETDESK_BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(9)
    } else {
        1
    };
    let settle = Duration::from_secs(if full { 5 } else { 1 });
    let bare = PathBuf::from(BARE);
    let app = binary_beside(BARE, "vetdesk-desktop", "VETDESK_DESKTOP_BIN")?;
    let x = Xvfb::start(&tools)?;
    println!(
        "desktop start-up: {runs} launch(es) each, alternating, {} s to settle, display {}",
        settle.as_secs(),
        x.display()
    );
    println!(
        "  bare window: {}\n  app:         {}",
        bare.display(),
        app.display()
    );

    // First start: a fresh data folder, the demo practice created (VETDESK_DEMO=1).
    // Its folders are then copied into each measured launch's fresh home, so every
    // measured start is an ordinary one: an existing database, nothing running,
    // WebKit's own caches empty.
    let (first, prepared) = launch_once(
        &tools,
        x.display(),
        Kind::App,
        &app,
        settle,
        None,
        &[("VETDESK_DEMO", "1")],
    )
    .await
    .context("the first start, creating the demo practice")?;
    if !prepared.home().join(APP_FOLDERS[0]).is_dir() {
        bail!(
            "the app kept no data in {}",
            prepared.home().join(APP_FOLDERS[0]).display()
        );
    }
    eprintln!(
        "  first start (demo practice created): interactive {:.0} ms, PSS {:.0} MiB",
        first.ready_ms, first.pss_mib
    );

    let (mut b, mut a) = (Vec::new(), Vec::new());
    for i in 0..runs {
        // Alternate which goes first, so neither always follows the other.
        let order = if i % 2 == 0 {
            [Kind::Bare, Kind::App]
        } else {
            [Kind::App, Kind::Bare]
        };
        for kind in order {
            let bin = if kind == Kind::Bare { &bare } else { &app };
            let from = (kind == Kind::App).then(|| prepared.home());
            let (l, _) = launch_once(&tools, x.display(), kind, bin, settle, from, &[])
                .await
                .with_context(|| format!("launch {} of {}", i + 1, bin.display()))?;
            eprintln!(
                "  {:?} #{}: interactive {:.0} ms, PSS {:.0} MiB, RSS {:.0} MiB",
                kind,
                i + 1,
                l.ready_ms,
                l.pss_mib,
                l.rss_mib
            );
            if kind == Kind::Bare {
                b.push(l)
            } else {
                a.push(l)
            }
        }
    }

    println!();
    println!("| what | launches | launch to interactive (median [min–max]) | vs bare | idle PSS, whole tree | vs bare | idle RSS, whole tree |");
    println!("|---|---|---|---|---|---|---|");
    summary("bare Tauri window (baseline)", &b, None);
    summary("vetdesk-desktop, to the calendar drawn", &a, Some(&b));
    println!();
    details("bare", &b);
    details("app", &a);
    println!(
        "first start of the app (fresh data folder, demo practice created): interactive {:.0} ms, idle PSS {:.0} MiB",
        first.ready_ms, first.pss_mib
    );
    let r = median(a.iter().map(|l| l.ready_ms).collect());
    let p = median(a.iter().map(|l| l.pss_mib).collect());
    println!(
        "targets: interactive calendar < 1000 ms: {} ({r:.0} ms); idle memory < 200 MB: {} ({:.0} MB PSS)",
        if r < 1000.0 { "met" } else { "NOT met" },
        if p * 1.048_576 < 200.0 { "met" } else { "NOT met" },
        p * 1.048_576
    );
    Ok(())
}
