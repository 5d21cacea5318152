//! The server on a real network: sign-in floods, forwarded addresses, slow
//! clients, connection limits and the headers every API answer carries.
//! A real server on loopback, on both stores.

#[macro_use]
mod common;

use common::server::*;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vetdesk_app::{App, AppError, ErrorCode, Settings, ThrottleRule};
use vetdesk_http::{Limits, ServerConfig, SignInRate, TrustedProxies};

fn is_problem(r: &Reply, status: u16, code: &str) -> bool {
    r.status.as_u16() == status
        && r.content_type.starts_with("application/problem+json")
        && r.body["code"] == code
}

async fn wrong_login(s: &Server, username: &str, forwarded_for: Option<&str>) -> Reply {
    let mut req = s
        .http
        .post(s.url("/auth/login"))
        .json(&json!({ "username": username, "password": "a-wrong-password" }));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    s.send_as(None, req).await
}

// ---------- sign-in floods ----------

story!(
    multi_thread async fn a_flood_of_parallel_wrong_passwords_checks_only_the_allowance(t) {
        let s = spawn_server(t).await;
        let before = s.t.app.sign_in_stats();
        let started = Instant::now();
        let replies = futures_util::future::join_all(
            (0..200).map(|_| wrong_login(&s, "desk", None)),
        )
        .await;
        let took = started.elapsed();
        let after = s.t.app.sign_in_stats();
        let refused = replies.iter().filter(|r| is_problem(r, 401, "unauthenticated")).count();
        let throttled: Vec<&Reply> = replies
            .iter()
            .filter(|r| is_problem(r, 429, "too_many_attempts"))
            .collect();
        // The per-username allowance is 5: exactly that many passwords were checked,
        // although 200 arrived together; everything else was told to wait.
        assert_eq!(refused, 5, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
        assert_eq!(throttled.len(), 195);
        assert_eq!(after.verified - before.verified, 5);
        let cap = s.t.app.settings().max_concurrent_verifications;
        assert!(after.peak_concurrent <= cap, "{after:?} with a cap of {cap}");
        for r in &throttled {
            let wait: u64 = r.headers["retry-after"]
                .to_str()
                .ok()
                .and_then(|v| v.parse().ok())
                .expect("Retry-After in seconds");
            assert!(wait >= 1 && r.body["retry_after"] == wait, "{r:?}");
            assert_eq!(r.headers["cache-control"], "no-store");
        }
        // Both limits spoke: the address's request rate and the username's failures.
        let by_address = throttled
            .iter()
            .filter(|r| r.body["detail"].as_str().is_some_and(|d| d.contains("from this address")))
            .count();
        assert!(by_address > 0 && by_address < 195, "{by_address} refused by the address limit");
        eprintln!(
            "flood: 200 parallel wrong passwords in {took:?}: {refused} checked (401), {} refused (429; {by_address} by the address rate), verifications {} (peak {} at once, cap {cap})",
            throttled.len(),
            after.verified - before.verified,
            after.peak_concurrent,
        );
        // The right password waits too, until the window has passed.
        let r = s
            .call(None, Method::POST, "/auth/login", Some(json!({ "username": DESK.0, "password": DESK.1 })))
            .await;
        assert!(is_problem(&r, 429, "too_many_attempts"), "{r:?}");
    }
);

/// The test app with one password check at a time, a 1 ms wait for it, and
/// the failure limits out of the way.
fn one_verification_at_a_time(t: &TestApp) -> App {
    let generous = ThrottleRule {
        max_failures: 1000,
        window: chrono::Duration::minutes(15),
    };
    let settings = Settings {
        max_concurrent_verifications: 1,
        verification_wait: Duration::from_millis(1),
        login_per_user: generous,
        login_per_source: generous,
        ..Settings::default()
    };
    App::new(t.app.store().clone(), t.clock.clone(), settings)
}

story!(
    multi_thread async fn sign_ins_past_the_verification_cap_wait_then_are_told_to_retry(t) {
        let app = one_verification_at_a_time(&t);
        let attempts = futures_util::future::join_all(
            (0..8).map(|_| app.login("nobody", "a-wrong-password", Some("203.0.113.9"))),
        )
        .await;
        let busy: Vec<_> = attempts
            .iter()
            .filter_map(|r| r.as_ref().err())
            .filter(|e| matches!(e, AppError::SignInBusy { retry_after_secs } if *retry_after_secs >= 1))
            .collect();
        let checked = attempts
            .iter()
            .filter(|r| r.as_ref().is_err_and(|e| e.code() == ErrorCode::Unauthenticated))
            .count();
        assert!(!busy.is_empty() && checked >= 1 && busy.len() + checked == 8, "{attempts:?}");
        // Busy is answered as 429 too_many_attempts, like the throttles.
        assert!(busy.iter().all(|e| e.code() == ErrorCode::TooManyAttempts));
        let stats = app.sign_in_stats();
        assert_eq!((stats.verified, stats.peak_concurrent), (checked as u64, 1));
    }
);

story!(
    multi_thread async fn a_sign_in_abandoned_mid_check_keeps_its_slot_until_the_check_ends(t) {
        let app = one_verification_at_a_time(&t);
        let first = tokio::spawn({
            let app = app.clone();
            async move { app.login("nobody", "a-wrong-password", None).await }
        });
        while app.sign_in_stats().verified == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The client hangs up while its password is being checked...
        first.abort();
        // ...and the check it started still occupies the only slot.
        let next = app.login("nobody", "a-wrong-password", None).await;
        assert!(matches!(next, Err(AppError::SignInBusy { .. })), "{next:?}");
        assert_eq!(app.sign_in_stats().peak_concurrent, 1);
    }
);

// ---------- forwarded addresses ----------

fn config(rate: u32, proxies: &[&str]) -> ServerConfig {
    ServerConfig {
        trusted_proxies: TrustedProxies::parse(proxies.iter().copied()).expect("proxies"),
        sign_in_rate: SignInRate {
            burst: NonZeroU32::new(rate).expect("a burst"),
            every: Duration::from_secs(3600),
        },
        ..ServerConfig::default()
    }
}

story!(
    async fn forwarded_addresses_count_only_through_a_trusted_proxy_and_ipv6_by_64(t) {
        // The four users of the harness sign in first, from 127.0.0.1 itself.
        let s = spawn_server_with(t, config(6, &["127.0.0.1"])).await;
        for i in 0..6 {
            let r = wrong_login(&s, &format!("guess{i}"), Some("203.0.113.1, 2001:db8:1:2::1")).await;
            assert!(is_problem(&r, 401, "unauthenticated"), "{r:?}");
        }
        // Same /64, another address: the same client as far as the limit goes.
        let r = wrong_login(&s, "guess", Some("2001:db8:1:2:ffff::9")).await;
        assert!(is_problem(&r, 429, "too_many_attempts"), "{r:?}");
        // The next /64 and an IPv4 address are others.
        let r = wrong_login(&s, "guess", Some("2001:db8:1:3::1")).await;
        assert!(is_problem(&r, 401, "unauthenticated"), "{r:?}");
        let r = wrong_login(&s, "guess", Some("198.51.100.7")).await;
        assert!(is_problem(&r, 401, "unauthenticated"), "{r:?}");
        // The audit log names the forwarded client.
        let audit = s.get("/audit?entity=session&limit=1").await;
        assert!(audit.body.to_string().contains("198.51.100.7"), "{audit:?}");
    }
);

story!(
    async fn forwarded_for_from_an_untrusted_peer_is_ignored(t) {
        let s = spawn_server_with(t, config(6, &[])).await;
        // 4 sign-ins of the harness + 2: whatever address each claims, it is 127.0.0.1.
        for xff in ["203.0.113.1", "203.0.113.2"] {
            let r = wrong_login(&s, "guess", Some(xff)).await;
            assert!(is_problem(&r, 401, "unauthenticated"), "{r:?}");
        }
        let r = wrong_login(&s, "guess", Some("203.0.113.3")).await;
        assert!(is_problem(&r, 429, "too_many_attempts"), "{r:?}");
    }
);

// ---------- slow clients and connection limits ----------

fn limits(f: impl FnOnce(&mut Limits)) -> ServerConfig {
    let mut config = ServerConfig::default();
    f(&mut config.limits);
    config
}

/// Dribble `bytes` one at a time, `pause` apart, until the server closes the
/// connection (`Some(how long it took)`) or everything was sent (`None`).
async fn dribble(addr: std::net::SocketAddr, bytes: &[u8], pause: Duration) -> Option<Duration> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut read, mut write) = stream.into_split();
    let started = Instant::now();
    let mut closed = Box::pin(async move {
        let mut buf = [0u8; 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    for b in bytes {
        tokio::select! {
            () = &mut closed => return Some(started.elapsed()),
            () = tokio::time::sleep(pause) => {}
        }
        if write.write_all(&[*b]).await.is_err() {
            return Some(started.elapsed());
        }
    }
    tokio::time::timeout(pause, closed)
        .await
        .ok()
        .map(|()| started.elapsed())
}

story!(
    async fn a_slow_loris_is_cut_off_while_sending_its_headers(t) {
        let s = spawn_server_with(t, limits(|l| l.header_timeout = Duration::from_secs(1))).await;
        // 100 header bytes at 10 a second would take 10 s.
        let headers = format!("GET /api/v1/health HTTP/1.1\r\nHost: vetdesk\r\nX-Pad: {}\r\n", "a".repeat(60));
        let cut = dribble(s.addr, &headers.as_bytes()[..100], Duration::from_millis(100)).await;
        let cut = cut.expect("the server should have closed the connection");
        assert!(cut < Duration::from_secs(5), "cut off after {cut:?}");
        // Everyone else is still served.
        assert_eq!(s.get("/health").await.status, StatusCode::OK);
    }
);

story!(
    async fn a_body_that_stalls_is_cut_off(t) {
        let s = spawn_server_with(t, limits(|l| l.body_timeout = Duration::from_secs(1))).await;
        let mut stream = TcpStream::connect(s.addr).await.expect("connect");
        let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: vetdesk\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\"";
        stream.write_all(head.as_bytes()).await.expect("write");
        let started = Instant::now();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "the server kept waiting for the body");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
);

story!(
    async fn connections_past_the_limit_wait_for_a_free_one(t) {
        let mut s = spawn_server_with(t, limits(|l| l.max_connections = 1)).await;
        // The harness's client keeps its connection alive: close it, and keep none from now on.
        s.http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
        let idle = TcpStream::connect(s.addr).await.expect("connect");
        let waiting = tokio::time::timeout(Duration::from_millis(700), s.get("/health")).await;
        assert!(waiting.is_err(), "a second connection was served beside an open one");
        drop(idle);
        let r = tokio::time::timeout(Duration::from_secs(10), s.get("/health")).await;
        assert_eq!(r.expect("served once a connection closed").status, StatusCode::OK);
    }
);

// ---------- headers ----------

story!(
    async fn every_api_answer_says_no_store_and_nosniff(t) {
        let s = spawn_server(t).await;
        let no_token = s.call(None, Method::GET, "/auth/me", None).await;
        let no_route = s.get("/api/v1/no-such-thing").await;
        let bad_json = s.send(s.http.post(s.url("/clinics")).header("content-type", "application/json").body("{")).await;
        let ok = s.get("/clinics").await;
        let document = s.get("/api/v1/openapi.json").await;
        let ticket = s.send(s.http.post(s.url("/events/ticket"))).await;
        let used = s.send_as(None, s.http.get(format!("{}?ticket=vdt_unknown", s.url("/events")))).await;
        for (what, r) in [("401", &no_token), ("404", &no_route), ("400", &bad_json), ("200", &ok), ("document", &document), ("ticket", &ticket), ("stream refused", &used)] {
            assert_eq!(r.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"), "{what}: {r:?}");
            assert_eq!(r.headers.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"), "{what}: {r:?}");
        }
        assert_eq!(ok.status, StatusCode::OK);
    }
);

// ---------- what hyper refuses before vetdesk sees it ----------

/// Send `request` raw and read the whole answer: its status line, headers and body.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (String, String, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.lines().next().unwrap_or_default().to_string();
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap_or_default(),
    )
}

story!(
    async fn requests_hyper_cannot_read_are_refused_with_problem_documents(t) {
        let s = spawn_server(t).await;
        let long_uri = format!("GET /api/v1/clinics?q={} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(70 * 1024));
        let huge_headers = format!("GET /health HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n", "b".repeat(600 * 1024));
        let garbage = "NOT HTTP AT ALL\r\n\r\n".to_string();
        for (request, status) in [(long_uri, 414), (huge_headers, 431), (garbage, 400)] {
            let (line, head, body) = raw(s.addr, request.as_bytes()).await;
            assert!(line.starts_with(&format!("HTTP/1.1 {status} ")), "{status}: {line}");
            assert!(head.contains("content-type: application/problem+json"), "{status}: {head}");
            assert_eq!(body["status"], status, "{body}");
            assert_eq!(body["code"], "invalid_input", "{body}");
            assert_eq!(body["type"], "urn:vetdesk:problem:invalid_input", "{body}");
        }
        // The server still answers normally afterwards.
        assert_eq!(s.get("/clinics").await.status, StatusCode::OK);
    }
);
