//! A real `vetdesk serve` on port 0 over a test practice, with a signed-in
//! user of each role, and a client that sends their bearer tokens.

use super::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use vetdesk_app::UserInput;

/// Passwords of the users every test server has.
pub const ADMIN: (&str, &str) = ("admin", "admin-password-1");
pub const DESK: (&str, &str) = ("desk", "desk-password-1");
/// Alice, the London vet.
pub const VET: (&str, &str) = ("alice", "alice-password-1");
/// Ben, the other London vet.
pub const OTHER_VET: (&str, &str) = ("ben", "ben-password-1");

/// A running server over the test practice, and a client for it.
pub struct Server {
    pub t: TestApp,
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub http: reqwest::Client,
    /// Sent by `get`/`post`/`put`/`patch`/`delete`: the admin's, unless changed.
    pub token: Option<String>,
    pub admin: String,
    pub desk: String,
    pub vet: String,
    pub other_vet: String,
    _task: tokio::task::JoinHandle<()>,
}

/// What came back: status, content type, Location and the JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// Start a server over `t`'s application, add one user per role, and sign each in.
pub async fn spawn_server(t: TestApp) -> Server {
    spawn_server_with(t, vetdesk_http::ServerConfig::default()).await
}

/// As [`spawn_server`], with the server configured.
pub async fn spawn_server_with(t: TestApp, config: vetdesk_http::ServerConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let addr = listener.local_addr().expect("local address");
    let app = t.app.clone();
    let task = tokio::spawn(async move {
        vetdesk_http::serve_app_on(listener, app, &config)
            .await
            .expect("serve");
    });
    let users = [
        (ADMIN, "admin", None),
        (DESK, "front_desk", None),
        (VET, "vet", Some(t.alice_vet.id)),
        (OTHER_VET, "vet", Some(t.ben_vet.id)),
    ];
    for ((username, password), role, vet_id) in users {
        t.app
            .create_user(UserInput {
                username: username.into(),
                display_name: username.into(),
                role: role.into(),
                vet_id,
                password: password.into(),
                clinics: Vec::new(),
                home_clinic_id: None,
            })
            .await
            .expect("create a test user");
    }
    let mut s = Server {
        t,
        base: format!("http://{addr}"),
        addr,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        token: None,
        admin: String::new(),
        desk: String::new(),
        vet: String::new(),
        other_vet: String::new(),
        _task: task,
    };
    s.admin = s.login(ADMIN).await;
    s.desk = s.login(DESK).await;
    s.vet = s.login(VET).await;
    s.other_vet = s.login(OTHER_VET).await;
    s.token = Some(s.admin.clone());
    s
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/health") || path.starts_with("/api/") {
            format!("{}{path}", self.base)
        } else {
            format!("{}/api/v1{path}", self.base)
        }
    }

    /// Sign in; the token.
    pub async fn login(&self, (username, password): (&str, &str)) -> String {
        let r = self
            .send_as(
                None,
                self.http
                    .post(self.url("/auth/login"))
                    .json(&json!({ "username": username, "password": password })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "signing in as {username}: {r:?}");
        r.body["token"].as_str().expect("a token").to_string()
    }

    pub async fn send_as(&self, token: Option<&str>, req: reqwest::RequestBuilder) -> Reply {
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type").unwrap_or_default();
        let location = header("location");
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            content_type,
            location,
            headers,
            body,
        }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        self.send_as(self.token.as_deref(), req).await
    }

    /// Any method, as the holder of `token` (`None`: no token at all).
    pub async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let req = self.http.request(method, self.url(path));
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        self.send_as(token, req).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(self.http.patch(self.url(path)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.http.delete(self.url(path))).await
    }
}
