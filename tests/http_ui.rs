//! The calendar UI as `vetdesk serve --ui` serves it: files and client routes
//! with a strict Content-Security-Policy, the API beside it unchanged, and
//! nothing outside the UI's folder reachable. (The UI itself is tested in
//! Chromium by `ui/tests/`.)

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use tempfile::TempDir;

const INDEX: &str = "<!doctype html><title>vetdesk</title><script type=\"module\" src=\"/assets/app-1a2b.js\"></script>";
const SCRIPT: &str = "console.log('calendar')";

/// A built UI in a temporary folder, with a file beside it that must never be served.
fn built_ui() -> (TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::write(root.path().join("secret.txt"), "not for browsers").expect("write");
    let dist = root.path().join("dist");
    std::fs::create_dir_all(dist.join("assets")).expect("mkdir");
    std::fs::write(dist.join("index.html"), INDEX).expect("write");
    std::fs::write(dist.join("assets/app-1a2b.js"), SCRIPT).expect("write");
    (root, dist)
}

struct Served {
    base: String,
    http: reqwest::Client,
    _t: TestApp,
    _ui: TempDir,
    _task: tokio::task::JoinHandle<()>,
}

async fn serve_with_ui() -> Served {
    let t = spawn_app_on(Backend::Sqlite).await.expect("a SQLite store");
    let (root, dist) = built_ui();
    let ui = vetdesk_http::ui::UiDir::new(&dist).expect("a built UI");
    let router = vetdesk_http::ui::with_ui(vetdesk_http::router(t.app.clone()), ui);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let addr = "127.0.0.1:0".parse().expect("addr");
        vetdesk_http::serve_router(
            router,
            addr,
            vetdesk_http::Limits::default(),
            None,
            |addr| {
                let _ = tx.send(addr);
            },
        )
        .await
        .expect("serve");
    });
    let addr = rx.await.expect("listening");
    Served {
        base: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        _t: t,
        _ui: root,
        _task: task,
    }
}

struct Answer {
    status: StatusCode,
    header: reqwest::header::HeaderMap,
    text: String,
}

impl Served {
    async fn request(&self, method: reqwest::Method, path: &str) -> Answer {
        let res = self
            .http
            .request(method, format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        Answer {
            status: res.status(),
            header: res.headers().clone(),
            text: res.text().await.expect("body"),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.request(reqwest::Method::GET, path).await
    }
}

impl Answer {
    fn h(&self, name: &str) -> &str {
        self.header
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn problem_code(&self) -> String {
        assert!(
            self.h("content-type")
                .starts_with("application/problem+json"),
            "expected a problem document, got {:?}: {}",
            self.h("content-type"),
            self.text
        );
        let body: Value = serde_json::from_str(&self.text).expect("JSON");
        body["code"].as_str().unwrap_or_default().to_string()
    }
}

fn assert_strict_csp(a: &Answer) {
    let csp = a.h("content-security-policy");
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part:?} missing from {csp:?}");
    }
    for loose in ["unsafe-eval", "unsafe-inline", "http:", "https:", "*"] {
        assert!(!csp.contains(loose), "{loose:?} in {csp:?}");
    }
    assert_eq!(a.h("x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn the_ui_is_served_at_the_root_with_a_strict_csp() {
    let s = serve_with_ui().await;
    let page = s.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.h("content-type").starts_with("text/html"));
    assert_eq!(page.text, INDEX);
    assert_strict_csp(&page);
    assert_eq!(page.h("cache-control"), "no-cache");

    let script = s.get("/assets/app-1a2b.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(script.text, SCRIPT);
    assert!(script.h("content-type").contains("javascript"));
    assert!(script.h("cache-control").contains("immutable"));
    assert_strict_csp(&script);
}

#[tokio::test]
async fn client_routes_fall_back_to_the_page_but_missing_files_do_not() {
    let s = serve_with_ui().await;
    for route in [
        "/calendar",
        "/calendar?view=week&date=2026-11-25",
        "/my-day",
        "/manage/types",
    ] {
        let a = s.get(route).await;
        assert_eq!(a.status, StatusCode::OK, "{route}");
        assert_eq!(a.text, INDEX, "{route}");
        assert_strict_csp(&a);
    }
    let missing = s.get("/assets/gone-9z9z.js").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_ne!(missing.text, INDEX);
}

#[tokio::test]
async fn the_api_beside_the_ui_is_unchanged_and_its_404s_stay_problems() {
    let s = serve_with_ui().await;
    // The page loads without a session (it has the sign-in screen); the API does not.
    assert_eq!(s.get("/").await.status, StatusCode::OK);
    let refused = s.get("/api/v1/clinics").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.problem_code(), "unauthenticated");

    s._t.app
        .create_user(vetdesk_app::UserInput {
            username: "desk".into(),
            display_name: "Front desk".into(),
            role: "front_desk".into(),
            vet_id: None,
            password: "desk-password-1".into(),
            clinics: Vec::new(),
            home_clinic_id: None,
        })
        .await
        .expect("a user");
    let login = s
        .http
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&serde_json::json!({ "username": "desk", "password": "desk-password-1" }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let session: Value = login.json().await.expect("JSON");
    let token = session["token"].as_str().expect("token").to_string();
    let clinics = s
        .http
        .get(format!("{}/api/v1/clinics", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    let clinics = Answer {
        status: clinics.status(),
        header: clinics.headers().clone(),
        text: clinics.text().await.expect("body"),
    };
    assert_eq!(clinics.status, StatusCode::OK);
    assert!(clinics.h("content-type").starts_with("application/json"));
    let body: Value = serde_json::from_str(&clinics.text).expect("JSON");
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    assert_eq!(s.get("/health").await.status, StatusCode::OK);

    for path in [
        "/api/v1/no-such-thing",
        "/api/v2/appointments",
        "/api",
        "/api/",
    ] {
        let a = s.get(path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.problem_code(), "not_found", "{path}");
    }
    // A wrong method on the UI is refused as a problem too.
    let a = s.request(reqwest::Method::POST, "/calendar").await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.problem_code(), "invalid_input");
}

#[tokio::test]
async fn nothing_outside_the_ui_folder_is_served() {
    let s = serve_with_ui().await;
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/..%2fsecret.txt",
    ] {
        let a = s.get(path).await;
        assert!(
            !a.text.contains("not for browsers"),
            "{path} leaked the file beside the UI"
        );
    }
}

#[test]
fn a_folder_without_index_html_is_not_a_ui() {
    let empty = tempfile::tempdir().expect("temp dir");
    let e = vetdesk_http::ui::UiDir::new(empty.path()).expect_err("no index.html");
    assert!(e.to_string().contains("npm run build"), "{e}");
}
