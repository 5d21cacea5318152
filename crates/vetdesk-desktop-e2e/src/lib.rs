//! The desktop app in a real window, for the end-to-end test (`tests/desktop.rs`)
//! and the start-up benchmark (`benches/startup.rs`): a private X server (Xvfb),
//! `tauri-driver` in front of WebKitGTK's `WebKitWebDriver`, a fresh home (so a
//! fresh data folder) per launch, and the memory of a whole process tree (the app
//! and the WebKit processes it starts).
//!
//! This crate also builds `vetdesk-bare-window`, a Tauri window with one static
//! page: the benchmark's baseline.

pub mod memory;
mod tools;

pub use tools::{find_tools, require_tools, Tools};

use anyhow::{anyhow, bail, Context as _, Result};
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The demo users the desktop app creates on first start.
pub const DESK_USER: (&str, &str) = ("desk", "vetdesk-desk");

/// Milliseconds since the Unix epoch: the clock the page's `performance.timeOrigin`
/// is on, so instants measured here and in the page can be compared.
pub fn epoch_ms(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// The binary `cargo` built next to `sibling` (a `CARGO_BIN_EXE_…` path), or the
/// path in `env_var` when set. The desktop app is another package of the
/// workspace: `cargo test --workspace --all-targets` builds it in the same run.
pub fn binary_beside(sibling: &str, name: &str, env_var: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("{env_var}={} is not a file", p.display());
        }
        return Ok(p);
    }
    let p = Path::new(sibling).with_file_name(name);
    if !p.is_file() {
        bail!(
            "{} is not built: run `cargo build -p {name}` with the same profile (or the \
             whole workspace: `cargo test --workspace --all-targets` builds it), or set {env_var}",
            p.display()
        );
    }
    Ok(p)
}

/// Copies the folder `from` into `to` (created), files and subfolders.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// A private X server, stopped on drop.
pub struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    /// Starts `Xvfb` with a 1280×800×24 screen on a display number it picks
    /// itself (`-displayfd`), so concurrent tests never race for one.
    pub fn start(tools: &Tools) -> Result<Self> {
        use std::io::BufRead as _;
        use std::os::fd::{FromRawFd as _, OwnedFd};
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe(2) fills the two descriptors; each is owned just below.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            bail!("pipe: {}", std::io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (read_end, write_end) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: fcntl(2) on a descriptor we own: the read end stays out of children.
        unsafe { libc::fcntl(fds[0], libc::F_SETFD, libc::FD_CLOEXEC) };
        let mut child = Command::new(&tools.xvfb)
            .args(["-displayfd", &fds[1].to_string()])
            .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", tools.xvfb.display()))?;
        drop(write_end);
        // Xvfb writes the display number and a newline once it accepts clients.
        let mut text = String::new();
        let read = std::io::BufReader::new(std::fs::File::from(read_end)).read_line(&mut text);
        match (read, text.trim().parse::<u32>()) {
            (Ok(_), Ok(n)) => Ok(Self {
                child,
                display: format!(":{n}"),
            }),
            (r, _) => {
                let _ = child.kill();
                let status = child.wait();
                bail!("Xvfb did not start ({status:?}, read {r:?}: {text:?})")
            }
        }
    }

    /// The `DISPLAY` value, such as `:90`.
    pub fn display(&self) -> &str {
        &self.display
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM lets the server remove its socket and lock file.
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `tauri-driver` (and the `WebKitWebDriver` it starts) on a display, with a home
/// of its own: the app it launches gets fresh data, config and cache folders.
/// The driver runs in its own process group, which is ended on drop.
pub struct Driver {
    child: Child,
    port: u16,
    home: tempfile::TempDir,
}

impl Driver {
    /// Starts the driver with `env` added to what the apps it launches see. The
    /// home is empty; fill it (see [`copy_tree`]) before [`Driver::launch`].
    pub async fn start(tools: &Tools, display: &str, env: &[(&str, &str)]) -> Result<Self> {
        let home = tempfile::Builder::new()
            .prefix("vetdesk-e2e-home-")
            .tempdir()?;
        let port = free_port()?;
        let native_port = free_port()?;
        let mut cmd = Command::new(&tools.tauri_driver);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .arg("--native-driver")
        .arg(&tools.webkit_driver)
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_CACHE_HOME", home.path().join(".cache"))
        .env("XDG_STATE_HOME", home.path().join(".local/state"))
        // No desktop session bus: notifications and the keyring say so and go on.
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .envs(env.iter().copied())
        .process_group(0);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", tools.tauri_driver.display()))?;
        let mut driver = Self { child, port, home };
        let deadline = Instant::now() + Duration::from_secs(15);
        // tauri-driver listens at once and starts WebKitWebDriver beside it; a
        // session asked for before the latter listens is dropped. Wait for both.
        let up = |p: u16| async move {
            tokio::net::TcpStream::connect(("127.0.0.1", p))
                .await
                .is_ok()
        };
        while !(up(port).await && up(native_port).await) {
            if let Some(status) = driver.child.try_wait()? {
                bail!("tauri-driver exited before listening ({status})");
            }
            if Instant::now() > deadline {
                bail!(
                    "tauri-driver and WebKitWebDriver did not listen on ports {port} and \
                     {native_port} within 15 s"
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(driver)
    }

    /// The process id of `tauri-driver`; the app is among its descendants.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The home folder the app sees (its data folder is under `.local/share`).
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Opens a WebDriver session, which launches `app` in a window.
    pub async fn launch(&self, app: &Path) -> Result<Session> {
        let app = app
            .canonicalize()
            .with_context(|| format!("{} does not exist", app.display()))?;
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app.to_string_lossy() }),
        );
        let requested = SystemTime::now();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = fantoccini::ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .with_context(|| format!("opening a WebDriver session for {}", app.display()))?;
        let opened = SystemTime::now();
        let app_pid = memory::descendant_running(self.pid(), &app)
            .ok_or_else(|| anyhow!("{} is not running under tauri-driver", app.display()))?;
        Ok(Session {
            client,
            app_pid,
            requested,
            opened,
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The driver's whole group: tauri-driver, WebKitWebDriver and any app left.
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals the process group we created.
        unsafe {
            libc::kill(-group, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: as above; whatever is left of the group is ended.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// One launched app, driven through WebDriver.
pub struct Session {
    pub client: fantoccini::Client,
    /// The app's own process (WebKit's processes are its children).
    pub app_pid: u32,
    /// When the session (so the app's launch) was asked for.
    pub requested: SystemTime,
    /// When the session was open (the window exists and its page is loading).
    pub opened: SystemTime,
}

impl Session {
    /// Runs an asynchronous script (`arguments[arguments.length - 1]` is its
    /// callback) and returns what it passed to the callback.
    pub async fn run_async(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value> {
        self.client
            .execute_async(script, args)
            .await
            .map_err(|e| anyhow!("script in the window failed: {e}"))
    }

    /// Ends the session, which closes the app.
    pub async fn close(self) -> Result<()> {
        self.client
            .close()
            .await
            .map_err(|e| anyhow!("closing the WebDriver session: {e}"))
    }
}

/// The bare window's readiness: its page marks `vetdesk:ready` after its first
/// painted frame. Resolves with the epoch instants of the page's navigation start
/// and of that mark.
pub const BARE_READY_JS: &str = r#"
const done = arguments[arguments.length - 1];
const t0 = performance.timeOrigin;
(function look() {
  const m = performance.getEntriesByName('vetdesk:ready')[0];
  if (m) done({ origin: t0, ready: t0 + m.startTime });
  else setTimeout(look, 2);
})();
"#;

/// The real app's readiness, as a person at the front desk gets there: as soon as
/// the sign-in form is on screen it signs in (the arguments: user name and
/// password, filled in and the form's button pressed), then waits for the
/// calendar's own `vetdesk:calendar` measure, which ends at the first frame
/// painted after the first view's events are in place. Resolves with the epoch
/// instants of navigation start, the form seen, the form submitted, the calendar
/// view asking for its data and drawn, the measure's own split (`fetch`: the
/// `calendar` command; `render`: the library drawing it), and how many
/// appointments (`.ec-event`) are on screen.
pub const APP_READY_JS: &str = r#"
const done = arguments[arguments.length - 1];
const [user, pass] = arguments;
const t0 = performance.timeOrigin;
const out = { origin: t0 };
const now = () => t0 + performance.now();
(function signIn() {
  const u = document.getElementById('username');
  const p = document.getElementById('password');
  const form = u && u.closest('form');
  if (!u || !p || !form) return void setTimeout(signIn, 2);
  out.form = now();
  u.value = user;
  u.dispatchEvent(new Event('input', { bubbles: true }));
  p.value = pass;
  p.dispatchEvent(new Event('input', { bubbles: true }));
  form.querySelector('button[type="submit"]').click();
  out.submitted = now();
  (function drawn() {
    const m = performance.getEntriesByName('vetdesk:calendar')[0];
    if (m) {
      out.ready = t0 + m.startTime + m.duration;
      out.calendar_start = t0 + m.startTime;
      out.fetch = m.detail && m.detail.fetch;
      out.render = m.detail && m.detail.render;
      out.events = document.querySelectorAll('.ec-event').length;
      done(out);
    } else {
      const err = document.querySelector('.form-error');
      if (err && err.textContent) return void done({ error: err.textContent });
      setTimeout(drawn, 2);
    }
  })();
})();
"#;
