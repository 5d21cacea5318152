//! Sessions over a real server on both stores: the live stream's single-use
//! tickets (also across two servers on one database), streams that end with
//! their session (sign-out, a disabled user, a changed role, idleness), and
//! the idle time itself, moved on the application's clock.

#[macro_use]
mod common;

use chrono::Duration as Minutes;
use common::server::*;
use common::*;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use vetdesk_app::{App, Settings};

fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{r:?}");
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "{r:?}"
    );
    assert_eq!(r.body["code"], code, "{r:?}");
}

fn detail(r: &Reply) -> String {
    r.body["detail"].as_str().unwrap_or_default().to_string()
}

/// A ticket for `token`'s session.
async fn ticket(s: &Server, token: &str) -> String {
    let r = s
        .call(Some(token), Method::POST, "/events/ticket", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["ticket"].as_str().expect("a ticket").to_string()
}

/// `GET /events?ticket=…`, answered (headers read; the body streams on).
async fn open_stream(s: &Server, ticket: &str) -> reqwest::Response {
    let res = s
        .http
        .get(format!("{}?ticket={ticket}", s.url("/events")))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("events");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream")));
    for (name, value) in [
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(
            res.headers().get(name).and_then(|v| v.to_str().ok()),
            Some(value)
        );
    }
    res
}

/// The same URL again, as a plain reply (a refused stream is a problem document).
async fn stream_reply(s: &Server, query: &str) -> Reply {
    s.send_as(None, s.http.get(format!("{}?{query}", s.url("/events"))))
        .await
}

/// Read `res` until the server closes it, which must be within `bound` of
/// `since`; what it sent.
async fn closes_within(res: reqwest::Response, since: Instant, bound: Duration) -> String {
    let mut body = res.bytes_stream();
    let mut text = String::new();
    let read = tokio::time::timeout(bound + Duration::from_secs(5), async {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(b) => text.push_str(&String::from_utf8_lossy(&b)),
                Err(_) => break,
            }
        }
    })
    .await;
    let took = since.elapsed();
    assert!(
        read.is_ok(),
        "the stream was still open after {took:?}: {text}"
    );
    assert!(
        took <= bound,
        "the stream closed after {took:?}, more than {bound:?}"
    );
    text
}

fn user_named<'a>(users: &'a Value, name: &str) -> &'a Value {
    users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == name)
        .expect("the user")
}

/// What a changed user looks like to the admin (`PATCH /users/{id}`).
async fn patch_user(s: &Server, name: &str, patch: Value) {
    let users = s.call(Some(&s.admin), Method::GET, "/users", None).await;
    let u = user_named(&users.body, name);
    let mut patch = patch;
    patch["version"] = u["version"].clone();
    let path = format!("/users/{}", u["id"].as_str().expect("id"));
    let r = s
        .call(Some(&s.admin), Method::PATCH, &path, Some(patch))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

story!(
    async fn a_ticket_opens_one_stream_once(t) {
        let s = spawn_server(t).await;
        let r = s.call(Some(&s.vet), Method::POST, "/events/ticket", None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.headers["cache-control"], "no-store");
        let ticket = r.body["ticket"].as_str().expect("a ticket").to_string();
        let expires: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(r.body["expires_at"].clone()).expect("expires_at");
        assert_eq!(expires - s.t.clock_now(), Minutes::seconds(30));
        // Only its hash is kept.
        assert_eq!(s.t.count("stream_tickets").await, 1);
        let stored = s.t.db.text("SELECT ticket_hash FROM stream_tickets").await;
        assert_ne!(stored, ticket);
        assert_eq!(stored.len(), 64);

        let stream = open_stream(&s, &ticket).await;
        assert_eq!(s.t.count("stream_tickets").await, 0, "redeeming deletes it");
        // The stream carries changes: a booking made now reaches it.
        let booked = s.t.book(&s.t.alice_vet, "2027-03-02T10:00", &s.t.consult).await;
        assert!(booked.is_ok(), "{booked:?}");
        let mut body = stream.bytes_stream();
        let first = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("an event within 5 s")
            .expect("a chunk")
            .expect("bytes");
        assert!(String::from_utf8_lossy(&first).contains("event: change"), "{first:?}");

        let again = stream_reply(&s, &format!("ticket={ticket}")).await;
        assert_problem(&again, 401, "unauthenticated");
        assert!(detail(&again).contains("already used"), "{again:?}");
        assert!(again.headers["www-authenticate"].to_str().unwrap_or_default().starts_with("Bearer"));

        for bad in ["ticket=", "ticket=vdt_nonsense", "ticket=%00%01"] {
            let r = stream_reply(&s, bad).await;
            assert_problem(&r, 401, "unauthenticated");
        }
        // A ticket signs in nowhere else.
        let other = ticket_for_vet(&s).await;
        let r = s
            .send_as(None, s.http.get(format!("{}?ticket={other}", s.url("/clinics"))))
            .await;
        assert_problem(&r, 401, "unauthenticated");
        // And without a sign-in there is no ticket.
        let r = s.call(None, Method::POST, "/events/ticket", None).await;
        assert_problem(&r, 401, "unauthenticated");
    }
);

async fn ticket_for_vet(s: &Server) -> String {
    ticket(s, &s.vet).await
}

story!(
    async fn an_expired_ticket_is_refused_and_forgotten(t) {
        let s = spawn_server(t).await;
        let late = ticket(&s, &s.desk).await;
        s.t.clock.advance(Minutes::seconds(30));
        let r = stream_reply(&s, &format!("ticket={late}")).await;
        assert_problem(&r, 401, "unauthenticated");
        assert!(detail(&r).contains("expired"), "{r:?}");
        // Just in time still works.
        let ok = ticket(&s, &s.desk).await;
        s.t.clock.advance(Minutes::seconds(29));
        drop(open_stream(&s, &ok).await);
        // Expired tickets are deleted when the next is issued.
        let _pending = ticket(&s, &s.desk).await;
        s.t.clock.advance(Minutes::seconds(31));
        let _fresh = ticket(&s, &s.desk).await;
        assert_eq!(s.t.count("stream_tickets").await, 1);
    }
);

story!(
    async fn a_ticket_of_a_session_that_ended_opens_nothing(t) {
        let s = spawn_server(t).await;
        let desk = s.login(DESK).await;
        let ticket = ticket(&s, &desk).await;
        let r = s.call(Some(&desk), Method::POST, "/auth/logout", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = stream_reply(&s, &format!("ticket={ticket}")).await;
        assert_problem(&r, 401, "unauthenticated");
        assert!(detail(&r).contains("ended"), "{r:?}");
    }
);

story!(
    async fn a_bearer_token_in_the_url_is_refused(t) {
        let s = spawn_server(t).await;
        let r = stream_reply(&s, &format!("access_token={}", s.vet)).await;
        assert_problem(&r, 401, "unauthenticated");
        assert!(detail(&r).contains("/events/ticket"), "{r:?}");
        // Even beside a good ticket.
        let good = ticket(&s, &s.vet).await;
        let r = stream_reply(&s, &format!("ticket={good}&access_token={}", s.vet)).await;
        assert_problem(&r, 401, "unauthenticated");
        let r = s
            .call(None, Method::GET, &format!("/clinics?access_token={}", s.vet), None)
            .await;
        assert_problem(&r, 401, "unauthenticated");
        // The header works, for clients that can send one.
        let res = s
            .http
            .get(s.url("/events"))
            .bearer_auth(&s.vet)
            .send()
            .await
            .expect("events");
        assert_eq!(res.status(), StatusCode::OK);
    }
);

/// A second server on the same database, with its own store and `settings`.
async fn second_server(s: &Server, settings: Settings) -> (String, tokio::task::JoinHandle<()>) {
    let store = vetdesk_store::open(&s.t.url)
        .await
        .expect("open the same database");
    let app = App::new(store, s.t.clock.clone(), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let task = tokio::spawn(async move {
        vetdesk_http::serve_on(listener, app).await.expect("serve");
    });
    (base, task)
}

story!(
    multi_thread async fn a_ticket_from_one_server_opens_a_stream_on_the_other_once(t) {
        let s = spawn_server(t).await;
        let settings = Settings {
            stream_recheck: Duration::from_millis(300),
            ..Settings::default()
        };
        let (other, _task) = second_server(&s, settings).await;
        let ticket = ticket(&s, &s.desk).await;
        let url = format!("{other}/api/v1/events?ticket={ticket}");
        let res = s.http.get(&url).send().await.expect("events on the other server");
        assert_eq!(res.status(), StatusCode::OK);
        let again = stream_reply(&s, &format!("ticket={ticket}")).await;
        assert_problem(&again, 401, "unauthenticated");

        // The same ticket sent to both servers at once opens one stream.
        for _ in 0..5 {
            let raced = ticket_for_vet(&s).await;
            let here = s.http.get(format!("{}?ticket={raced}", s.url("/events"))).send();
            let there = s.http.get(format!("{other}/api/v1/events?ticket={raced}")).send();
            let (here, there) = tokio::join!(here, there);
            let statuses = [here.expect("here").status(), there.expect("there").status()];
            assert_eq!(
                statuses.iter().filter(|s| **s == StatusCode::OK).count(),
                1,
                "{statuses:?}"
            );
            assert!(statuses.contains(&StatusCode::UNAUTHORIZED), "{statuses:?}");
        }

        // Signing out on the first server ends the stream on the second
        // within its recheck (300 ms) and a margin.
        let since = Instant::now();
        let r = s.call(Some(&s.desk), Method::POST, "/auth/logout", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let text = closes_within(res, since, Duration::from_millis(1500)).await;
        assert!(text.contains("event: ended"), "{text}");
    }
);

story!(
    multi_thread async fn a_stream_ends_at_once_when_its_session_signs_out(t) {
        let s = spawn_server(t).await;
        let desk = s.login(DESK).await;
        let res = open_stream(&s, &ticket(&s, &desk).await).await;
        // Another session of the same user keeps its stream.
        let kept = open_stream(&s, &ticket(&s, &s.desk).await).await;
        let since = Instant::now();
        let r = s.call(Some(&desk), Method::POST, "/auth/logout", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let text = closes_within(res, since, Duration::from_secs(1)).await;
        assert!(text.contains("event: ended"), "{text}");
        assert!(text.contains("the session has ended"), "{text}");
        let mut kept = kept.bytes_stream();
        let still = tokio::time::timeout(Duration::from_millis(700), kept.next()).await;
        assert!(still.is_err(), "the other session's stream went on: {still:?}");
    }
);

story!(
    multi_thread async fn a_stream_ends_at_once_when_its_user_is_disabled(t) {
        let s = spawn_server(t).await;
        let res = open_stream(&s, &ticket(&s, &s.desk).await).await;
        let since = Instant::now();
        patch_user(&s, "desk", json!({ "disabled": true })).await;
        let text = closes_within(res, since, Duration::from_secs(1)).await;
        assert!(text.contains("event: ended"), "{text}");
    }
);

story!(
    multi_thread async fn a_stream_ends_at_once_when_its_user_changes_role(t) {
        let s = spawn_server(t).await;
        let res = open_stream(&s, &ticket(&s, &s.desk).await).await;
        let since = Instant::now();
        patch_user(&s, "desk", json!({ "role": "admin" })).await;
        let text = closes_within(res, since, Duration::from_secs(1)).await;
        assert!(text.contains("event: ended"), "{text}");
        // A new sign-in carries the new role.
        let token = s.login(DESK).await;
        let me = s.call(Some(&token), Method::GET, "/auth/me", None).await;
        assert_eq!(me.body["role"], "admin");
    }
);

story!(
    multi_thread async fn a_stream_ends_when_its_users_clinics_change_but_not_their_home(t) {
        let s = spawn_server(t).await;
        let (london, new_york) = (s.t.london.id.to_string(), s.t.new_york.id.to_string());
        patch_user(&s, "desk", json!({ "clinics": [london, new_york] })).await;
        let desk = s.login(DESK).await;
        let res = open_stream(&s, &ticket(&s, &desk).await).await;
        // A new home clinic only reorders the list: the stream goes on.
        patch_user(&s, "desk", json!({ "home_clinic_id": new_york })).await;
        let mut body = res.bytes_stream();
        let quiet = tokio::time::timeout(Duration::from_millis(700), async {
            let mut seen = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains("event: ended") {
                    return seen;
                }
            }
            seen
        })
        .await;
        assert!(quiet.is_err(), "a new home clinic ended the stream: {quiet:?}");
        // Fewer clinics: it ends at once, and says why.
        let res = open_stream(&s, &ticket(&s, &desk).await).await;
        let since = Instant::now();
        patch_user(&s, "desk", json!({ "clinics": [london] })).await;
        let text = closes_within(res, since, Duration::from_secs(1)).await;
        assert!(text.contains("event: ended"), "{text}");
        assert!(text.contains("clinics you may see have changed"), "{text}");
    }
);

/// `t` with a 30-minute idle time and streams that look every 200 ms.
fn idle_30(mut t: TestApp) -> TestApp {
    t.app = t
        .app
        .with_session_policy(Some(Minutes::minutes(30)), Duration::from_millis(200));
    t
}

async fn last_seen(s: &Server) -> String {
    let sql = match s.t.backend {
        Backend::Sqlite => "SELECT CAST(max(last_seen_at) AS TEXT) FROM sessions",
        Backend::Postgres => "SELECT max(last_seen_at)::text FROM sessions",
    };
    s.t.db.text(sql).await
}

story!(
    async fn an_idle_session_ends_and_use_keeps_one_alive(t) {
        let s = spawn_server(idle_30(t)).await;
        // Only the desk's session is used from now on, so the latest
        // last_seen_at is its own.
        let desk = s.login(DESK).await;
        let seen = last_seen(&s).await;
        // Used within the minute: nothing is written.
        s.t.clock.advance(Minutes::seconds(59));
        let r = s.call(Some(&desk), Method::GET, "/clinics", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(last_seen(&s).await, seen, "a request within the minute writes nothing");
        // 29 minutes on (29:59 unused at most): still live, and the use is recorded.
        s.t.clock.advance(Minutes::minutes(29));
        let r = s.call(Some(&desk), Method::GET, "/clinics", None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_ne!(last_seen(&s).await, seen, "a use a minute later is recorded");
        s.t.clock.advance(Minutes::minutes(29));
        let r = s.call(Some(&desk), Method::GET, "/clinics", None).await;
        assert_eq!(r.status, StatusCode::OK, "used 29 minutes ago: {r:?}");
        // 30 minutes unused: ended, with a problem document that says so.
        s.t.clock.advance(Minutes::minutes(30));
        let r = s.call(Some(&desk), Method::GET, "/clinics", None).await;
        assert_problem(&r, 401, "unauthenticated");
        assert!(detail(&r).contains("not used for 30 minutes"), "{r:?}");
        // And it stays ended; signing in again works.
        let r = s.call(Some(&desk), Method::POST, "/events/ticket", None).await;
        assert_problem(&r, 401, "unauthenticated");
        let again = s.login(DESK).await;
        let r = s.call(Some(&again), Method::GET, "/clinics", None).await;
        assert_eq!(r.status, StatusCode::OK);
    }
);

story!(
    multi_thread async fn an_idle_session_ends_its_stream(t) {
        let s = spawn_server(idle_30(t)).await;
        let desk = s.login(DESK).await;
        let res = open_stream(&s, &ticket(&s, &desk).await).await;
        // A stream is not a use: an open calendar on an unattended PC signs out.
        s.t.clock.advance(Minutes::minutes(30));
        let since = Instant::now();
        let text = closes_within(res, since, Duration::from_secs(1)).await;
        assert!(text.contains("not used for 30 minutes"), "{text}");
    }
);

story!(
    async fn a_background_request_does_not_keep_a_session_alive(t) {
        let s = spawn_server(idle_30(t)).await;
        let desk = s.login(DESK).await;
        let seen = last_seen(&s).await;
        let background = |path: &str| {
            s.http
                .get(s.url(path))
                .header("x-vetdesk-background", "1")
        };
        // A refetch nobody at the screen asked for: answered, not recorded.
        s.t.clock.advance(Minutes::minutes(20));
        let r = s.send_as(Some(&desk), background("/clinics")).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let r = s.send_as(Some(&desk), s.http.post(s.url("/events/ticket")).header("x-vetdesk-background", "1")).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(last_seen(&s).await, seen, "a background request is not a use");
        // So the session ends 30 minutes after its last real use.
        s.t.clock.advance(Minutes::minutes(10));
        let r = s.send_as(Some(&desk), background("/clinics")).await;
        assert_problem(&r, 401, "unauthenticated");
        // The header is no way in: without a session it is refused as ever.
        let r = s.send_as(None, background("/clinics")).await;
        assert_problem(&r, 401, "unauthenticated");
    }
);
