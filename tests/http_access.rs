//! Authentication, the role matrix, sign-in throttling and the audit log, over
//! a real server on both stores.

#[macro_use]
mod common;

use chrono::Duration;
use common::server::*;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{r:?}");
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "{r:?}"
    );
    assert_eq!(r.body["code"], code, "{r:?}");
}

/// A record's version (records keep it in `meta`; appointments at the top).
fn ver(v: &Value) -> Value {
    match &v["meta"]["version"] {
        Value::Null => v["version"].clone(),
        n => n.clone(),
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

async fn audit_total(s: &Server) -> u64 {
    let r = s
        .call(Some(&s.admin), Method::GET, "/audit?limit=1", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["total"].as_u64().expect("total")
}

// ---------- tokens ----------

story!(
    async fn every_endpoint_but_login_health_and_the_document_needs_a_token(t) {
        let s = spawn_server(t).await;
        let doc = s.get("/api/v1/openapi.json").await.body;
        let public = ["/api/v1/health", "/api/v1/auth/login"];
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in ["get", "post", "put", "patch", "delete"] {
                if item[method].is_null() {
                    continue;
                }
                let url = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                if public.contains(&path.as_str()) {
                    assert!(
                        item[method]["security"].is_array(),
                        "{method} {path} should be documented as needing no token"
                    );
                    continue;
                }
                for token in [None, Some("vd_not-a-real-token")] {
                    let r = s.call(token, m.clone(), &url, Some(json!({}))).await;
                    assert_problem(&r, 401, "unauthenticated");
                    assert_eq!(
                        r.headers.get("www-authenticate").and_then(|v| v.to_str().ok()),
                        Some("Bearer realm=\"vetdesk\""),
                        "{method} {path}"
                    );
                }
                checked += 1;
            }
        }
        assert!(checked >= 40, "only {checked} protected operations found");
        // The public ones answer without a token.
        let r = s.call(None, Method::GET, "/health", None).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = s.call(None, Method::GET, "/api/v1/openapi.json", None).await;
        assert_eq!(r.status, StatusCode::OK);
        // A malformed Authorization header is a 401, not a 400 or a 500.
        for header in ["Basic YWRtaW46eA==", "Bearer", "Bearer ", "bearer  x y"] {
            let r = s
                .send_as(
                    None,
                    s.http.get(s.url("/clinics")).header("authorization", header),
                )
                .await;
            assert_problem(&r, 401, "unauthenticated");
        }
    }
);

story!(
    async fn sign_in_me_and_sign_out(t) {
        let s = spawn_server(t).await;
        let r = s
            .call(
                None,
                Method::POST,
                "/auth/login",
                Some(json!({ "username": " Desk ", "password": DESK.1 })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let token = r.body["token"].as_str().expect("token").to_string();
        assert!(token.starts_with("vd_") && token.len() > 40, "{token}");
        assert_eq!(r.body["user"]["username"], "desk");
        assert_eq!(r.body["user"]["role"], "front_desk");
        assert!(r.body["user"].get("password_hash").is_none(), "{r:?}");
        let expires = utc(r.body["expires_at"].as_str().expect("expiry"));
        assert_eq!(expires, s.t.clock_now() + Duration::hours(12));

        // The store keeps the token's hash, never the token.
        let stored = s
            .t
            .db
            .int(&format!(
                "SELECT count(*) FROM sessions WHERE token_hash = '{token}'"
            ))
            .await;
        assert_eq!(stored, 0);
        assert_eq!(s.t.count("sessions").await, 5);

        let me = s.call(Some(&token), Method::GET, "/auth/me", None).await;
        assert_eq!(me.status, StatusCode::OK, "{me:?}");
        assert_eq!(me.body["username"], "desk");

        let out = s.call(Some(&token), Method::POST, "/auth/logout", None).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{out:?}");
        let again = s.call(Some(&token), Method::GET, "/auth/me", None).await;
        assert_problem(&again, 401, "unauthenticated");
        assert!(again.body["detail"].as_str().unwrap_or_default().contains("ended"));
        // Other sessions of other users are untouched.
        let r = s.call(Some(&s.vet), Method::GET, "/auth/me", None).await;
        assert_eq!(r.status, StatusCode::OK);
    }
);

story!(
    async fn wrong_credentials_are_refused_alike_and_change_nothing_but_the_audit(t) {
        let s = spawn_server(t).await;
        let sessions = s.t.count("sessions").await;
        let audit = audit_total(&s).await;
        let wrong_password = s
            .call(
                None,
                Method::POST,
                "/auth/login",
                Some(json!({ "username": "desk", "password": "not-the-password" })),
            )
            .await;
        assert_problem(&wrong_password, 401, "unauthenticated");
        let unknown_user = s
            .call(
                None,
                Method::POST,
                "/auth/login",
                Some(json!({ "username": "nobody", "password": "not-the-password" })),
            )
            .await;
        assert_problem(&unknown_user, 401, "unauthenticated");
        // No hint which of the two was wrong.
        assert_eq!(wrong_password.body["detail"], unknown_user.body["detail"]);
        for body in [
            json!({ "username": "desk" }),
            json!({ "username": 3, "password": "x" }),
            json!({ "username": "desk", "password": "x", "extra": true }),
        ] {
            let r = s.call(None, Method::POST, "/auth/login", Some(body)).await;
            assert_problem(&r, 422, "invalid_input");
        }
        assert_eq!(s.t.count("sessions").await, sessions);
        // Both refusals are audited, and nothing else was written.
        assert_eq!(audit_total(&s).await, audit + 2);
        let r = s
            .call(Some(&s.admin), Method::GET, "/audit?entity=session&limit=2", None)
            .await;
        let actions: Vec<&str> = r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|l| l["action"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(actions, ["auth.login_failed", "auth.login_failed"]);
    }
);

story!(
    async fn sessions_expire_and_disabled_users_are_shut_out(t) {
        let s = spawn_server(t).await;
        s.t.clock.advance(Duration::hours(12));
        let r = s.call(Some(&s.desk), Method::GET, "/clinics", None).await;
        assert_problem(&r, 401, "unauthenticated");
        assert!(r.body["detail"].as_str().unwrap_or_default().contains("expired"));

        let admin = s.login(ADMIN).await;
        let desk = s.login(DESK).await;
        let users = s.call(Some(&admin), Method::GET, "/users", None).await;
        let desk_user = users.body.as_array().expect("users").iter().find(|u| u["username"] == "desk").expect("desk").clone();
        let r = s
            .call(
                Some(&admin),
                Method::PATCH,
                &format!("/users/{}", id(&desk_user)),
                Some(json!({ "disabled": true, "version": ver(&desk_user) })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let r = s.call(Some(&desk), Method::GET, "/clinics", None).await;
        assert_problem(&r, 401, "unauthenticated");
        let r = s
            .call(
                None,
                Method::POST,
                "/auth/login",
                Some(json!({ "username": "desk", "password": DESK.1 })),
            )
            .await;
        assert_problem(&r, 401, "unauthenticated");
        assert!(r.body["detail"].as_str().unwrap_or_default().contains("disabled"));
    }
);

// ---------- throttling ----------

story!(
    async fn failed_sign_ins_are_throttled_per_username(t) {
        let s = spawn_server(t).await;
        let attempt = |password: &'static str| {
            s.call(
                None,
                Method::POST,
                "/auth/login",
                Some(json!({ "username": "desk", "password": password })),
            )
        };
        for _ in 0..5 {
            assert_problem(&attempt("wrong-password").await, 401, "unauthenticated");
        }
        // The sixth, even with the right password, waits.
        let r = attempt(DESK.1).await;
        assert_problem(&r, 429, "too_many_attempts");
        let wait: u64 = r.headers["retry-after"]
            .to_str()
            .expect("header")
            .parse()
            .expect("seconds");
        assert_eq!(wait, 15 * 60);
        assert_eq!(r.body["retry_after"], 15 * 60);
        // Another user is not affected.
        let r = s
            .call(
                None,
                Method::POST,
                "/auth/login",
                Some(json!({ "username": "admin", "password": ADMIN.1 })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        // Once the window has passed, the right password works again.
        s.t.clock.advance(Duration::minutes(15));
        let r = attempt(DESK.1).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
);

story!(
    async fn failed_sign_ins_are_throttled_per_address(t) {
        let s = spawn_server(t).await;
        // Spraying many usernames from one address: 20 failures, then 429.
        for i in 0..20 {
            let r = s
                .call(
                    None,
                    Method::POST,
                    "/auth/login",
                    Some(json!({ "username": format!("guess{i}"), "password": "password-guess" })),
                )
                .await;
            assert_problem(&r, 401, "unauthenticated");
        }
        let r = s
            .call(
                None,
                Method::POST,
                "/auth/login",
                Some(json!({ "username": "admin", "password": ADMIN.1 })),
            )
            .await;
        assert_problem(&r, 429, "too_many_attempts");
    }
);

// ---------- the role matrix ----------

/// Everything the matrix covers: one operation each, run against fresh state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Availability,
    AvailabilityRuns,
    Calendar,
    CheckConflicts,
    Explain,
    ListAppointments,
    GetAppointment,
    ListRecords,
    Book,
    Confirm,
    CheckIn,
    Start,
    Complete,
    Cancel,
    NoShow,
    Reschedule,
    CreateClient,
    UpdateClient,
    DeleteClient,
    ExportClient,
    EraseClient,
    CreatePet,
    UpdatePet,
    CreateClinic,
    UpdateClinic,
    CreateVet,
    UpdateVet,
    CreateType,
    UpdateType,
    CreateHours,
    UpdateHours,
    DeleteHours,
    SetOverride,
    DeleteOverride,
    CreateTimeOff,
    DeleteTimeOff,
    ListUsers,
    CreateUser,
    GetOtherUser,
    UpdateUser,
    DeleteUser,
    ReadAudit,
    ListOutbox,
    PreviewMessage,
    RetryMessage,
    ReadTemplates,
    UpdateTemplate,
    ResetTemplate,
    ReadNotificationSettings,
    UpdateNotificationSettings,
}

/// `(operation, [admin, front desk, vet])`: the README's table, cell by cell.
/// The vet's Start and Complete are on their own appointments.
const MATRIX: &[(Op, [bool; 3])] = &[
    (Op::Availability, [true, true, true]),
    (Op::AvailabilityRuns, [true, true, true]),
    (Op::Calendar, [true, true, true]),
    (Op::CheckConflicts, [true, true, true]),
    (Op::Explain, [true, true, true]),
    (Op::ListAppointments, [true, true, true]),
    (Op::GetAppointment, [true, true, true]),
    (Op::ListRecords, [true, true, true]),
    (Op::Book, [true, true, false]),
    (Op::Confirm, [true, true, false]),
    (Op::CheckIn, [true, true, false]),
    (Op::Start, [true, false, true]),
    (Op::Complete, [true, false, true]),
    (Op::Cancel, [true, true, false]),
    (Op::NoShow, [true, true, false]),
    (Op::Reschedule, [true, true, false]),
    (Op::CreateClient, [true, true, false]),
    (Op::UpdateClient, [true, true, false]),
    (Op::DeleteClient, [true, true, false]),
    // An owner's data leaves, or goes, only by an admin's hand.
    (Op::ExportClient, [true, false, false]),
    (Op::EraseClient, [true, false, false]),
    (Op::CreatePet, [true, true, false]),
    (Op::UpdatePet, [true, true, false]),
    (Op::CreateClinic, [true, false, false]),
    (Op::UpdateClinic, [true, false, false]),
    (Op::CreateVet, [true, false, false]),
    (Op::UpdateVet, [true, false, false]),
    (Op::CreateType, [true, false, false]),
    (Op::UpdateType, [true, false, false]),
    (Op::CreateHours, [true, false, false]),
    (Op::UpdateHours, [true, false, false]),
    (Op::DeleteHours, [true, false, false]),
    (Op::SetOverride, [true, false, false]),
    (Op::DeleteOverride, [true, false, false]),
    (Op::CreateTimeOff, [true, false, false]),
    (Op::DeleteTimeOff, [true, false, false]),
    (Op::ListUsers, [true, false, false]),
    (Op::CreateUser, [true, false, false]),
    (Op::GetOtherUser, [true, false, false]),
    (Op::UpdateUser, [true, false, false]),
    (Op::DeleteUser, [true, false, false]),
    (Op::ReadAudit, [true, false, false]),
    (Op::ListOutbox, [true, true, true]),
    (Op::PreviewMessage, [true, true, true]),
    // The front desk phones the owner whose message failed and sends it again.
    (Op::RetryMessage, [true, true, false]),
    (Op::ReadTemplates, [true, true, true]),
    (Op::UpdateTemplate, [true, false, false]),
    (Op::ResetTemplate, [true, false, false]),
    (Op::ReadNotificationSettings, [true, true, true]),
    (Op::UpdateNotificationSettings, [true, false, false]),
];

/// Hands out distinct free half-hours of Alice's (the vet user's) week.
struct Slots(usize);

impl Slots {
    fn next(&mut self) -> String {
        // Alice works 09:00–12:00 and 13:00–17:00: 14 half-hours a day, Tue–Fri.
        let starts = [
            "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00",
            "14:30", "15:00", "15:30", "16:00", "16:30",
        ];
        let (day, slot) = (2 + self.0 / starts.len(), starts[self.0 % starts.len()]);
        self.0 += 1;
        format!("2027-03-{day:02}T{slot}")
    }
}

impl Server {
    async fn as_admin(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.call(Some(&self.admin), method, path, body).await;
        assert!(r.status.is_success(), "setting up {path}: {r:?}");
        r.body
    }

    async fn book_at(&self, start: &str) -> Value {
        self.as_admin(
            Method::POST,
            "/appointments",
            Some(json!({
                "clinic_id": self.t.london.id,
                "vet_id": self.t.alice_vet.id,
                "pet_id": self.t.pet.id,
                "type_id": self.t.consult.id,
                "start": start,
            })),
        )
        .await
    }

    /// A confirmation that gave up: booked as the admin at `start`, then marked
    /// failed in the database (as the worker would after its last attempt).
    async fn failed_message(&self, start: &str) -> Value {
        let a = self.book_at(start).await;
        self.t
            .db
            .execute("UPDATE outbox SET status = 'failed', last_error = 'the SMTP server refused: 550' WHERE status = 'pending' AND kind = 'confirmation'")
            .await
            .expect("fail the confirmations");
        let page = self
            .as_admin(
                Method::GET,
                &format!("/outbox?status=failed&appointment_id={}", id(&a)),
                None,
            )
            .await;
        page["items"][0].clone()
    }

    /// Prepare what `op` needs as the admin, then run `op` with `token`.
    async fn attempt(&self, op: Op, token: &str, slots: &mut Slots) -> Reply {
        let t = &self.t;
        let run = |method: Method, path: String, body: Option<Value>| async move {
            self.call(Some(token), method, &path, body).await
        };
        let act = |a: &Value, step: &str| {
            (
                format!("/appointments/{}/{step}", id(a)),
                json!({ "version": a["version"] }),
            )
        };
        match op {
            Op::Availability => {
                run(Method::GET, format!("/appointments/availability?clinic_id={}&start_date=2027-03-02&end_date=2027-03-03&duration_minutes=30", t.london.id), None).await
            }
            Op::AvailabilityRuns => {
                run(Method::GET, format!("/appointments/availability/runs?clinic_id={}&start_date=2027-03-02&end_date=2027-03-03&duration_minutes=30", t.london.id), None).await
            }
            Op::Calendar => {
                run(Method::GET, format!("/appointments/calendar?view=week&date=2027-03-02&clinic_id={}", t.london.id), None).await
            }
            Op::CheckConflicts => {
                run(Method::POST, "/appointments/check-conflicts".into(), Some(json!({
                    "vet_id": t.alice_vet.id, "clinic_id": t.london.id,
                    "start": "2027-03-02T09:00", "end": "2027-03-02T09:30" }))).await
            }
            Op::Explain => {
                run(Method::GET, format!("/appointments/explain?vet_id={}&clinic_id={}&at=2027-03-02T12:15", t.alice_vet.id, t.london.id), None).await
            }
            Op::ListAppointments => run(Method::GET, "/appointments?limit=5".into(), None).await,
            Op::GetAppointment => {
                let a = self.book_at(&slots.next()).await;
                run(Method::GET, format!("/appointments/{}", id(&a)), None).await
            }
            Op::ListRecords => {
                for path in ["/clinics", "/vets", "/clients", "/pets", "/appointment-types", "/working-hours", "/time-off", "/date-overrides?from=2027-03-01&to=2027-03-31"] {
                    let r = run(Method::GET, path.into(), None).await;
                    if !r.status.is_success() {
                        return r;
                    }
                }
                run(Method::GET, "/clinics".into(), None).await
            }
            Op::Book => {
                run(Method::POST, "/appointments".into(), Some(json!({
                    "clinic_id": t.london.id, "vet_id": t.alice_vet.id, "pet_id": t.pet.id,
                    "type_id": t.consult.id, "start": slots.next() }))).await
            }
            Op::Confirm | Op::CheckIn | Op::Start | Op::Cancel | Op::NoShow => {
                let start = if op == Op::NoShow {
                    // Today (Monday 1 March), already begun: the clock reads 08:00, so
                    // book before, then mark after the start.
                    let k = slots.0;
                    slots.0 += 1;
                    format!("2027-03-01T{:02}:{:02}", 9 + (k % 3), 0)
                } else {
                    slots.next()
                };
                let a = self.book_at(&start).await;
                let step = match op {
                    Op::Confirm => "confirm",
                    Op::CheckIn => "check-in",
                    Op::Start => "start",
                    Op::Cancel => "cancel",
                    _ => "no-show",
                };
                let (path, body) = act(&a, step);
                if op == Op::NoShow {
                    t.clock.set(utc("2027-03-01T11:59:00Z"));
                }
                let r = run(Method::POST, path, Some(body)).await;
                if op == Op::NoShow {
                    t.clock.set(t0());
                }
                r
            }
            Op::Complete => {
                let a = self.book_at(&slots.next()).await;
                let (path, body) = act(&a, "start");
                let a = self.as_admin(Method::POST, &path, Some(body)).await;
                let (path, body) = act(&a, "complete");
                run(Method::POST, path, Some(body)).await
            }
            Op::Reschedule => {
                let a = self.book_at(&slots.next()).await;
                run(Method::POST, format!("/appointments/{}/reschedule", id(&a)), Some(json!({
                    "version": a["version"], "start": slots.next() }))).await
            }
            Op::CreateClient => {
                run(Method::POST, "/clients".into(), Some(json!({ "name": "Nina Novak", "email": "nina@example.org" }))).await
            }
            Op::UpdateClient | Op::DeleteClient => {
                let c = self.as_admin(Method::POST, "/clients", Some(json!({ "name": "Omar Okoro", "home_clinic_id": t.london.id }))).await;
                if op == Op::UpdateClient {
                    run(Method::PUT, format!("/clients/{}", id(&c)), Some(json!({ "name": "Omar O. Okoro", "version": ver(&c) }))).await
                } else {
                    run(Method::DELETE, format!("/clients/{}?version={}", id(&c), ver(&c)), None).await
                }
            }
            Op::ExportClient => run(Method::GET, format!("/clients/{}/export", t.owner.id), None).await,
            Op::EraseClient => {
                let c = self.as_admin(Method::POST, "/clients", Some(json!({ "name": "Ezra Ellis", "phone": "+44 7700 900777" }))).await;
                run(Method::POST, format!("/clients/{}/erase", id(&c)), None).await
            }
            Op::CreatePet => {
                run(Method::POST, "/pets".into(), Some(json!({ "owner_id": t.owner.id, "name": "Pip", "species": "cat" }))).await
            }
            Op::UpdatePet => {
                let p = self.as_admin(Method::POST, "/pets", Some(json!({ "owner_id": t.owner.id, "name": "Rex", "species": "dog" }))).await;
                run(Method::PUT, format!("/pets/{}", id(&p)), Some(json!({ "name": "Rex II", "species": "dog", "version": ver(&p) }))).await
            }
            Op::CreateClinic => {
                run(Method::POST, "/clinics".into(), Some(json!({ "name": "Harbour Vets", "time_zone": "Europe/Dublin" }))).await
            }
            Op::UpdateClinic => {
                let c = self.as_admin(Method::GET, &format!("/clinics/{}", t.london.id), None).await;
                run(Method::PUT, format!("/clinics/{}", t.london.id), Some(json!({ "name": "London Central", "time_zone": "Europe/London", "version": ver(&c) }))).await
            }
            Op::CreateVet => {
                run(Method::POST, "/vets".into(), Some(json!({ "name": "Dr Dee", "clinics": [t.london.id] }))).await
            }
            Op::UpdateVet => {
                let v = self.as_admin(Method::GET, &format!("/vets/{}", t.cara_vet.id), None).await;
                run(Method::PUT, format!("/vets/{}", t.cara_vet.id), Some(json!({ "name": "Dr Cara B", "clinics": [t.new_york.id], "version": ver(&v) }))).await
            }
            Op::CreateType => {
                run(Method::POST, "/appointment-types".into(), Some(json!({ "name": "Dental", "duration_minutes": 45, "colour": "#123456" }))).await
            }
            Op::UpdateType => {
                let ty = self.as_admin(Method::POST, "/appointment-types", Some(json!({ "name": "Grooming", "duration_minutes": 30, "colour": "#654321" }))).await;
                run(Method::PUT, format!("/appointment-types/{}", id(&ty)), Some(json!({ "name": "Grooming+", "duration_minutes": 30, "colour": "#654321", "version": ver(&ty) }))).await
            }
            Op::CreateHours | Op::UpdateHours | Op::DeleteHours => {
                let body = json!({ "vet_id": t.cara_vet.id, "clinic_id": t.new_york.id, "weekday": "sat", "span": "09:00-12:00", "valid_from": "2027-01-01" });
                if op == Op::CreateHours {
                    return run(Method::POST, "/working-hours".into(), Some(body)).await;
                }
                let w = self.as_admin(Method::POST, "/working-hours", Some(body)).await;
                if op == Op::UpdateHours {
                    run(Method::PUT, format!("/working-hours/{}", id(&w)), Some(json!({ "vet_id": t.cara_vet.id, "clinic_id": t.new_york.id, "weekday": "sat", "span": "09:00-13:00", "valid_from": "2027-01-01", "version": ver(&w) }))).await
                } else {
                    run(Method::DELETE, format!("/working-hours/{}?version={}", id(&w), ver(&w)), None).await
                }
            }
            Op::SetOverride | Op::DeleteOverride => {
                let body = json!({ "vet_id": t.cara_vet.id, "clinic_id": t.new_york.id, "date": "2027-04-01", "spans": "10:00-12:00" });
                if op == Op::SetOverride {
                    return run(Method::PUT, "/date-overrides".into(), Some(body)).await;
                }
                let o = self.as_admin(Method::PUT, "/date-overrides", Some(body)).await;
                run(Method::DELETE, format!("/date-overrides/{}?version={}", id(&o), ver(&o)), None).await
            }
            Op::CreateTimeOff | Op::DeleteTimeOff => {
                let body = json!({ "vet_id": t.cara_vet.id, "start": "2027-05-03T00:00", "end": "2027-05-04T00:00", "reason": "course" });
                if op == Op::CreateTimeOff {
                    return run(Method::POST, "/time-off".into(), Some(body)).await;
                }
                let o = self.as_admin(Method::POST, "/time-off", Some(body)).await;
                run(Method::DELETE, format!("/time-off/{}?version={}", id(&o), ver(&o)), None).await
            }
            Op::ListUsers => run(Method::GET, "/users".into(), None).await,
            Op::CreateUser | Op::GetOtherUser | Op::UpdateUser | Op::DeleteUser => {
                let n = slots.0;
                slots.0 += 1;
                let body = json!({ "username": format!("temp{n}"), "display_name": "Temp", "role": "front_desk", "password": "temporary-password" });
                if op == Op::CreateUser {
                    return run(Method::POST, "/users".into(), Some(body)).await;
                }
                let u = self.as_admin(Method::POST, "/users", Some(body)).await;
                match op {
                    Op::GetOtherUser => run(Method::GET, format!("/users/{}", id(&u)), None).await,
                    Op::UpdateUser => run(Method::PATCH, format!("/users/{}", id(&u)), Some(json!({ "role": "admin", "version": ver(&u) }))).await,
                    _ => run(Method::DELETE, format!("/users/{}?version={}", id(&u), ver(&u)), None).await,
                }
            }
            Op::ReadAudit => run(Method::GET, "/audit".into(), None).await,
            Op::ListOutbox => {
                let r = run(Method::GET, "/outbox?status=failed,pending&channel=email&limit=5".into(), None).await;
                if !r.status.is_success() {
                    return r;
                }
                run(Method::GET, "/outbox?limit=5&offset=1".into(), None).await
            }
            Op::PreviewMessage | Op::RetryMessage => {
                let m = self.failed_message(&slots.next()).await;
                if op == Op::PreviewMessage {
                    let r = run(Method::GET, format!("/outbox/{}", id(&m)), None).await;
                    if !r.status.is_success() {
                        return r;
                    }
                    run(Method::GET, format!("/outbox/{}/preview", id(&m)), None).await
                } else {
                    run(Method::POST, format!("/outbox/{}/retry", id(&m)), None).await
                }
            }
            Op::ReadTemplates => {
                for path in ["/templates", "/templates/reminder/sms", "/templates/confirmation/email/preview"] {
                    let r = run(Method::GET, path.into(), None).await;
                    if !r.status.is_success() {
                        return r;
                    }
                }
                run(Method::GET, "/templates".into(), None).await
            }
            Op::UpdateTemplate => {
                run(Method::PUT, "/templates/reminder/sms".into(), Some(json!({ "body": "{clinic}: {pet} is seen {when}." }))).await
            }
            Op::ResetTemplate => {
                self.as_admin(Method::PUT, "/templates/reminder/email", Some(json!({ "subject": "Soon: {pet}", "body": "See you {when}." }))).await;
                run(Method::POST, "/templates/reminder/email/reset".into(), None).await
            }
            Op::ReadNotificationSettings => {
                run(Method::GET, format!("/clinics/{}/notification-settings", t.london.id), None).await
            }
            Op::UpdateNotificationSettings => {
                run(Method::PATCH, format!("/clinics/{}/notification-settings", t.new_york.id), Some(json!({ "quiet_hours": "21:00-07:30" }))).await
            }
        }
    }
}

story!(
    async fn the_role_matrix_cell_by_cell(t) {
        let s = spawn_server(t).await;
        play_the_matrix(&s).await;
    }
);

story!(
    async fn the_role_matrix_holds_for_users_limited_to_the_clinic_it_is_played_at(t) {
        let s = spawn_server(t).await;
        // The desk and the vet (Alice, London) work at London only; every cell
        // of the matrix is played there, so each answers as before.
        let london = s.t.london.id.to_string();
        for who in ["desk", "alice"] {
            let u = s.limit(who, &[&london]).await;
            assert_eq!(u["clinics"], json!([london]), "{u:?}");
        }
        // Olivia, whom the cells book and give pets to, is registered in London.
        s.register(&s.t.owner.id.to_string(), &london).await;
        play_the_matrix(&s).await;
    }
);

impl Server {
    /// A user by username, as the admin lists them.
    async fn user_named(&self, username: &str) -> Value {
        let users = self.as_admin(Method::GET, "/users", None).await;
        users
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["username"] == username)
            .cloned()
            .expect("the user")
    }

    /// Limit a user to some clinics through the admin's user update endpoint.
    async fn limit(&self, username: &str, clinics: &[&str]) -> Value {
        let u = self.user_named(username).await;
        self.as_admin(
            Method::PATCH,
            &format!("/users/{}", id(&u)),
            Some(json!({ "clinics": clinics, "version": ver(&u) })),
        )
        .await
    }

    /// Register an owner with a clinic.
    async fn register(&self, client: &str, clinic: &str) -> Value {
        let c = self
            .as_admin(Method::GET, &format!("/clients/{client}"), None)
            .await;
        self.as_admin(
            Method::PUT,
            &format!("/clients/{client}"),
            Some(
                json!({ "name": c["name"], "email": c["email"], "phone": c["phone"],
                "home_clinic_id": clinic, "version": ver(&c) }),
            ),
        )
        .await
    }
}

async fn play_the_matrix(s: &Server) {
    {
        let mut slots = Slots(0);
        let tokens = [s.admin.clone(), s.desk.clone(), s.vet.clone()];
        let roles = ["admin", "front_desk", "vet"];
        for (op, allowed) in MATRIX {
            for (i, token) in tokens.iter().enumerate() {
                let audit_before = audit_total(s).await;
                // Setting up writes as admin; measure the cell's own effect only.
                let r = s.attempt(*op, token, &mut slots).await;
                if allowed[i] {
                    assert!(
                        r.status.is_success(),
                        "{op:?} as {}: expected success, got {r:?}",
                        roles[i]
                    );
                } else {
                    assert_problem(&r, 403, "forbidden");
                    assert!(
                        r.body["detail"]
                            .as_str()
                            .unwrap_or_default()
                            .contains(roles[i].replace('_', " ").as_str())
                            || r.body["detail"]
                                .as_str()
                                .unwrap_or_default()
                                .contains(roles[i]),
                        "{op:?}: {r:?}"
                    );
                    // A refusal writes nothing: everything that changed was the admin's set-up.
                    let setup_writes = audit_total(s).await - audit_before;
                    let r2 = s
                        .call(
                            Some(&s.admin),
                            Method::GET,
                            &format!("/audit?limit={}", setup_writes.max(1)),
                            None,
                        )
                        .await;
                    assert!(
                        r2.body["items"]
                            .as_array()
                            .expect("items")
                            .iter()
                            .take(setup_writes as usize)
                            .all(|l| l["actor"] == "admin"),
                        "{op:?} as {} left an audit line of its own: {r2:?}",
                        roles[i]
                    );
                }
            }
        }
    }
}

story!(
    async fn a_vet_starts_and_completes_only_their_own_appointments(t) {
        let s = spawn_server(t).await;
        let ben = s
            .as_admin(
                Method::POST,
                "/appointments",
                Some(json!({
                    "clinic_id": s.t.london.id, "vet_id": s.t.ben_vet.id, "pet_id": s.t.pet.id,
                    "type_id": s.t.consult.id, "start": "2027-03-02T10:00" })),
            )
            .await;
        let footprint = s.t.footprint().await;
        let path = format!("/appointments/{}/start", id(&ben));
        let r = s
            .call(Some(&s.vet), Method::POST, &path, Some(json!({ "version": ben["version"] })))
            .await;
        assert_problem(&r, 403, "forbidden");
        assert!(r.body["detail"].as_str().unwrap_or_default().contains("their own"), "{r:?}");
        assert_eq!(s.t.footprint().await, footprint);
        // Ben himself may.
        let r = s
            .call(Some(&s.other_vet), Method::POST, &path, Some(json!({ "version": ben["version"] })))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "in_progress");
        let r = s
            .call(Some(&s.vet), Method::POST, &format!("/appointments/{}/complete", id(&ben)), Some(json!({})))
            .await;
        assert_problem(&r, 403, "forbidden");
    }
);

story!(
    async fn the_last_admin_cannot_be_removed(t) {
        let s = spawn_server(t).await;
        let users = s.as_admin(Method::GET, "/users", None).await;
        let admin = users.as_array().expect("users").iter().find(|u| u["username"] == "admin").expect("admin").clone();
        let footprint = s.t.footprint().await;
        for (method, body) in [
            (Method::PATCH, Some(json!({ "role": "front_desk", "version": ver(&admin) }))),
            (Method::PATCH, Some(json!({ "disabled": true, "version": ver(&admin) }))),
            (Method::DELETE, None),
        ] {
            let path = match method {
                Method::DELETE => format!("/users/{}?version={}", id(&admin), ver(&admin)),
                _ => format!("/users/{}", id(&admin)),
            };
            let r = s.call(Some(&s.admin), method, &path, body).await;
            assert_problem(&r, 422, "invalid_input");
            assert!(r.body["detail"].as_str().unwrap_or_default().contains("last active admin"));
        }
        assert_eq!(s.t.footprint().await, footprint);
    }
);

story!(
    async fn users_are_validated_and_passwords_never_leave(t) {
        let s = spawn_server(t).await;
        let footprint = s.t.footprint().await;
        for (body, needle) in [
            (json!({ "username": "x", "display_name": "X", "role": "admin", "password": "long-enough-pw" }), "username"),
            (json!({ "username": "newbie", "display_name": "N", "role": "boss", "password": "long-enough-pw" }), "role"),
            (json!({ "username": "newbie", "display_name": "N", "role": "admin", "password": "short" }), "too short"),
            (json!({ "username": "newbie", "display_name": "N", "role": "vet", "password": "long-enough-pw" }), "vet_id"),
            (json!({ "username": "newbie", "display_name": "N", "role": "admin", "vet_id": s.t.alice_vet.id, "password": "long-enough-pw" }), "vet_id"),
            (json!({ "username": "newbie", "display_name": "N", "role": "vet", "vet_id": uuid::Uuid::now_v7(), "password": "long-enough-pw" }), "not found"),
        ] {
            let r = s.call(Some(&s.admin), Method::POST, "/users", Some(body)).await;
            assert!(r.status == 422 || r.status == 404, "{r:?}");
            assert!(r.body["detail"].as_str().unwrap_or_default().contains(needle), "{needle}: {r:?}");
        }
        let r = s
            .call(Some(&s.admin), Method::POST, "/users", Some(json!({ "username": "DESK", "display_name": "Dup", "role": "admin", "password": "long-enough-pw" })))
            .await;
        assert_problem(&r, 409, "duplicate");
        assert_eq!(s.t.footprint().await, footprint);

        let r = s
            .call(Some(&s.admin), Method::POST, "/users", Some(json!({ "username": "Nurse.Jo", "display_name": "Jo", "role": "front_desk", "password": "long-enough-pw" })))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(r.body["username"], "nurse.jo");
        let text = serde_json::to_string(&r.body).unwrap_or_default();
        assert!(!text.contains("password") && !text.contains("argon2"), "{text}");
        let hash = s
            .t
            .db
            .text("SELECT password_hash FROM users WHERE username = 'nurse.jo'")
            .await;
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        // Changing the password ends the user's sessions; the new one signs in.
        let jo = s.login(("nurse.jo", "long-enough-pw")).await;
        let r = s
            .call(Some(&s.admin), Method::PATCH, &format!("/users/{}", id(&r.body)), Some(json!({ "password": "a-new-long-password", "version": ver(&r.body) })))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let r = s.call(Some(&jo), Method::GET, "/auth/me", None).await;
        assert_problem(&r, 401, "unauthenticated");
        s.login(("nurse.jo", "a-new-long-password")).await;
    }
);

// ---------- the audit log ----------

story!(
    async fn every_write_is_audited_with_who_before_and_after(t) {
        let s = spawn_server(t).await;
        let booked = s
            .call(
                Some(&s.desk),
                Method::POST,
                "/appointments",
                Some(json!({
                    "clinic_id": s.t.london.id, "vet_id": s.t.alice_vet.id, "pet_id": s.t.pet.id,
                    "type_id": s.t.consult.id, "start": "2027-03-02T09:00" })),
            )
            .await;
        assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
        let appt = id(&booked.body);
        let r = s
            .call(
                Some(&s.desk),
                Method::POST,
                &format!("/appointments/{appt}/cancel"),
                Some(json!({ "reason": "owner called", "version": booked.body["version"] })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");

        let r = s.as_admin(Method::GET, &format!("/audit?entity_id={appt}"), None).await;
        let items = r["items"].as_array().expect("items");
        assert_eq!(r["total"], 2);
        let (cancel, book) = (&items[0], &items[1]);
        assert_eq!(book["action"], "appointment.book");
        assert_eq!(book["actor"], "desk");
        assert_eq!(book["role"], "front_desk");
        assert!(book["before"].is_null());
        assert_eq!(book["after"]["status"], "scheduled");
        assert_eq!(cancel["action"], "appointment.cancel");
        assert_eq!(cancel["before"]["status"], "scheduled");
        assert_eq!(cancel["after"]["status"], "cancelled");
        // Free text that may quote an owner is written by reference (data rights).
        assert_eq!(cancel["after"]["cancel_reason"], format!("appointment:{appt}"));
        assert!(cancel["seq"].as_i64() > book["seq"].as_i64());
        assert_eq!(utc(cancel["at"].as_str().expect("at")), s.t.clock_now());

        // Filters: by actor, by entity, paging.
        let r = s.as_admin(Method::GET, "/audit?actor=desk&entity=appointment", None).await;
        assert_eq!(r["total"], 2);
        let r = s.as_admin(Method::GET, "/audit?limit=1&offset=1&entity=appointment", None).await;
        assert_eq!(r["items"].as_array().expect("items").len(), 1);
        assert_eq!(r["items"][0]["action"], "appointment.book");
        for bad in ["/audit?limit=501", "/audit?limit=-1", "/audit?entity_id=nope", "/audit?from=2027-03-02T00:00:00Z&to=2027-03-01T00:00:00Z"] {
            let r = s.call(Some(&s.admin), Method::GET, bad, None).await;
            assert!(r.status == 400 || r.status == 422, "{bad}: {r:?}");
        }
    }
);

story!(
    async fn the_audit_log_is_append_only_in_the_store(t) {
        let s = spawn_server(t).await;
        assert!(s.t.count("audit_log").await > 0);
        for sql in ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"] {
            let refused = s.t.db.execute(sql).await;
            let e = refused.expect_err("the store must refuse");
            assert!(e.contains("append-only"), "{sql}: {e}");
        }
    }
);

/// `vetdesk serve` with debug logging: requests are logged, tokens never are.
#[tokio::test]
async fn tokens_never_reach_the_log() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("serve.db");
    let log = dir.path().join("serve.log");
    let vetdesk = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_vetdesk"));
        c.arg("--db").arg(&db).args(args);
        c
    };
    let added = vetdesk(&["user", "add", "--username", "boss", "--role", "admin"])
        .env("VETDESK_NEW_PASSWORD", "boss-password-1")
        .output()
        .expect("user add");
    assert!(added.status.success(), "{added:?}");
    let mut child = vetdesk(&["serve", "--bind", "127.0.0.1:0"])
        .env("VETDESK_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("vetdesk serve");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("reader")
    .expect("a line");
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": "boss", "password": "boss-password-1" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("JSON");
    let token = login["token"].as_str().expect("token").to_string();
    let clinics = http
        .get(format!("{base}/api/v1/clinics"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("clinics");
    assert_eq!(clinics.status(), StatusCode::OK);
    let ticket: Value = http
        .post(format!("{base}/api/v1/events/ticket"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("ticket")
        .json()
        .await
        .expect("JSON");
    let ticket = ticket["ticket"].as_str().expect("a ticket").to_string();
    let events = http
        .get(format!("{base}/api/v1/events?ticket={ticket}"))
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), StatusCode::OK);
    drop(events);
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.contains("/api/v1/events"),
        "requests are logged: {text}"
    );
    assert!(!text.contains(&token), "a token reached the log: {text}");
    assert!(
        !text.contains(&ticket),
        "a stream ticket reached the log: {text}"
    );
    assert!(
        !text.contains("boss-password-1"),
        "a password reached the log"
    );
}

// ---------- per-clinic access ----------

/// The ids of a list answer (`items` of a page, or the array itself).
fn ids(v: &Value) -> Vec<String> {
    let items = v.get("items").unwrap_or(v);
    items.as_array().expect("a list").iter().map(id).collect()
}

story!(
    async fn a_user_limited_to_london_sees_and_changes_only_londons_records(t) {
        let s = spawn_server(t).await;
        let (london, new_york) = (s.t.london.id.to_string(), s.t.new_york.id.to_string());
        let (olivia, noah) = (s.t.owner.id.to_string(), s.t.other_owner.id.to_string());
        // Olivia's Biscuit is seen in London, Noah's Whiskers in New York.
        let a = s.book_at("2027-03-02T09:00").await;
        let b = s
            .as_admin(
                Method::POST,
                "/appointments",
                Some(json!({
                    "clinic_id": new_york, "vet_id": s.t.cara_vet.id, "pet_id": s.t.other_pet.id,
                    "type_id": s.t.consult.id, "start": "2027-03-02T10:00" })),
            )
            .await;
        let ny_message = s
            .as_admin(Method::GET, &format!("/outbox?appointment_id={}", id(&b)), None)
            .await["items"][0]
            .clone();
        assert!(ny_message["id"].is_string(), "{ny_message:?}");
        s.limit("desk", &[&london]).await;
        let desk = Some(s.desk.as_str());
        let footprint = s.t.footprint().await;

        // Lists keep to London.
        let r = s.call(desk, Method::GET, "/appointments", None).await;
        assert_eq!(ids(&r.body), vec![id(&a)], "{r:?}");
        assert_eq!(r.body["total"], 1);
        let r = s.call(desk, Method::GET, "/clinics", None).await;
        assert_eq!(ids(&r.body), vec![london.clone()], "{r:?}");
        let r = s.call(desk, Method::GET, "/clients?limit=50", None).await;
        assert_eq!(ids(&r.body), vec![olivia.clone()], "{r:?}");
        let r = s.call(desk, Method::GET, "/clients?q=noah", None).await;
        assert_eq!(ids(&r.body), Vec::<String>::new(), "search excludes other clinics' owners: {r:?}");
        let r = s.call(desk, Method::GET, "/clients?q=212", None).await;
        assert_eq!(ids(&r.body), Vec::<String>::new(), "nor finds them by phone: {r:?}");
        let r = s.call(desk, Method::GET, "/pets?limit=50", None).await;
        assert_eq!(ids(&r.body), vec![s.t.pet.id.to_string()], "{r:?}");
        let r = s.call(desk, Method::GET, "/outbox?limit=100", None).await;
        assert!(r.status.is_success(), "{r:?}");
        let theirs = r.body["items"].as_array().expect("items");
        assert!(!theirs.is_empty() && theirs.iter().all(|m| m["clinic_id"] == london.as_str()), "{r:?}");
        let all = s.as_admin(Method::GET, "/outbox?limit=100", None).await;
        assert!(all["total"].as_u64() > r.body["total"].as_u64(), "{all:?}");

        // Another clinic's records are not found, for reads and writes alike.
        let hidden: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/appointments/{}", id(&b)), None),
            (Method::POST, format!("/appointments/{}/cancel", id(&b)), Some(json!({ "version": b["version"], "reason": "moved away" }))),
            (Method::POST, format!("/appointments/{}/confirm", id(&b)), Some(json!({ "version": b["version"] }))),
            (Method::POST, format!("/appointments/{}/reschedule", id(&b)), Some(json!({ "version": b["version"], "start": "2027-03-03T10:00" }))),
            (Method::GET, format!("/clients/{noah}"), None),
            (Method::PUT, format!("/clients/{noah}"), Some(json!({ "name": "Noah J", "version": 1 }))),
            (Method::DELETE, format!("/clients/{noah}?version=1"), None),
            (Method::GET, format!("/pets/{}", s.t.other_pet.id), None),
            (Method::PUT, format!("/pets/{}", s.t.other_pet.id), Some(json!({ "name": "Whisky", "species": "cat", "version": 1 }))),
            (Method::POST, "/pets".into(), Some(json!({ "owner_id": noah, "name": "Kit", "species": "cat" }))),
            // Booking Noah's pet in London would make him seen there: refused as not found.
            (Method::POST, "/appointments".into(), Some(json!({
                "clinic_id": london, "vet_id": s.t.alice_vet.id, "pet_id": s.t.other_pet.id,
                "type_id": s.t.consult.id, "start": "2027-03-02T11:00" }))),
            (Method::GET, format!("/outbox/{}", id(&ny_message)), None),
            (Method::GET, format!("/outbox/{}/preview", id(&ny_message)), None),
            (Method::POST, format!("/outbox/{}/retry", id(&ny_message)), None),
            (Method::GET, format!("/templates/confirmation/email/preview?appointment_id={}", id(&b)), None),
        ];
        for (method, path, body) in hidden {
            let r = s.call(desk, method.clone(), &path, body).await;
            assert_problem(&r, 404, "not_found");
            assert!(!r.body["detail"].as_str().unwrap_or_default().contains("clinic"), "{method} {path}: {r:?}");
        }
        // Naming another clinic is refused, and says why.
        let refused: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/appointments?clinic_id={new_york}"), None),
            (Method::GET, format!("/appointments/calendar?view=day&date=2027-03-02&clinic_id={new_york}"), None),
            (Method::GET, format!("/appointments/availability?clinic_id={new_york}&start_date=2027-03-02&end_date=2027-03-02&duration_minutes=30"), None),
            (Method::GET, format!("/appointments/explain?vet_id={}&clinic_id={new_york}&at=2027-03-02T12:15", s.t.cara_vet.id), None),
            (Method::POST, "/appointments/check-conflicts".into(), Some(json!({
                "vet_id": s.t.cara_vet.id, "clinic_id": new_york, "start": "2027-03-02T09:00", "end": "2027-03-02T09:30" }))),
            (Method::POST, "/appointments".into(), Some(json!({
                "clinic_id": new_york, "vet_id": s.t.cara_vet.id, "pet_id": s.t.pet.id,
                "type_id": s.t.consult.id, "start": "2027-03-02T11:00" }))),
            (Method::GET, format!("/clinics/{new_york}"), None),
            (Method::GET, format!("/vets?clinic_id={new_york}"), None),
            (Method::GET, format!("/clinics/{new_york}/notification-settings"), None),
            (Method::POST, "/clients".into(), Some(json!({ "name": "Ravi Rao", "home_clinic_id": new_york }))),
        ];
        for (method, path, body) in refused {
            let r = s.call(desk, method.clone(), &path, body).await;
            assert_problem(&r, 403, "forbidden");
            assert!(r.body["detail"].as_str().unwrap_or_default().contains("other clinics"), "{method} {path}: {r:?}");
        }
        // None of that changed anything.
        assert_eq!(s.t.footprint().await, footprint);
        let b_now = s.as_admin(Method::GET, &format!("/appointments/{}", id(&b)), None).await;
        assert_eq!((b_now["status"].clone(), b_now["version"].clone()), (json!("scheduled"), b["version"].clone()));

        // London's own work goes on: a new owner is registered in London.
        let r = s.call(desk, Method::POST, "/clients", Some(json!({ "name": "Priya Patel" }))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(r.body["home_clinic_id"], london.as_str());
        let priya = id(&r.body);
        let r = s.call(desk, Method::GET, "/clients?q=priya", None).await;
        assert_eq!(ids(&r.body), vec![priya.clone()]);
        let r = s.call(desk, Method::POST, &format!("/appointments/{}/confirm", id(&a)), Some(json!({ "version": a["version"] }))).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");

        // A New York desk sees the other half, and not Priya.
        s.as_admin(Method::POST, "/users", Some(json!({
            "username": "nydesk", "display_name": "NY desk", "role": "front_desk",
            "password": "ny-desk-password", "clinics": [new_york], "home_clinic_id": new_york }))).await;
        let ny = s.login(("nydesk", "ny-desk-password")).await;
        let r = s.call(Some(&ny), Method::GET, "/appointments", None).await;
        assert_eq!(ids(&r.body), vec![id(&b)], "{r:?}");
        let r = s.call(Some(&ny), Method::GET, "/clients?limit=50", None).await;
        assert_eq!(ids(&r.body), vec![noah.clone()], "{r:?}");
        let r = s.call(Some(&ny), Method::GET, "/auth/me", None).await;
        assert_eq!((r.body["clinics"].clone(), r.body["home_clinic_id"].clone()), (json!([new_york]), json!(new_york)));
        // The admin sees everything.
        let r = s.as_admin(Method::GET, "/appointments", None).await;
        assert_eq!(r["total"], 2);
        let r = s.as_admin(Method::GET, "/clients?limit=50", None).await;
        assert_eq!(ids(&r).len(), 3);

        // Lifting the limit gives the desk every clinic again, at once.
        s.limit("desk", &[]).await;
        let r = s.call(desk, Method::GET, &format!("/appointments/{}", id(&b)), None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let r = s.call(desk, Method::GET, "/clinics", None).await;
        assert_eq!(ids(&r.body).len(), 2);
    }
);

story!(
    async fn clinics_and_home_clinics_are_checked_and_bad_ones_change_nothing(t) {
        let s = spawn_server(t).await;
        let (london, new_york) = (s.t.london.id.to_string(), s.t.new_york.id.to_string());
        let desk = s.user_named("desk").await;
        let admin = s.user_named("admin").await;
        let footprint = s.t.footprint().await;
        let path = |u: &Value| format!("/users/{}", id(u));
        let cases = [
            // An admin sees every clinic; limiting one is refused.
            (&admin, json!({ "clinics": [london] }), 422, "invalid_input"),
            (&desk, json!({ "clinics": [london], "home_clinic_id": new_york }), 422, "invalid_input"),
            (&desk, json!({ "clinics": [uuid::Uuid::now_v7()] }), 404, "not_found"),
            (&desk, json!({ "home_clinic_id": uuid::Uuid::now_v7() }), 404, "not_found"),
            (&desk, json!({ "clinics": ["London"] }), 422, "invalid_input"),
        ];
        for (u, mut body, status, code) in cases {
            body["version"] = ver(u);
            let r = s.call(Some(&s.admin), Method::PATCH, &path(u), Some(body.clone())).await;
            assert_problem(&r, status, code);
            assert_eq!(s.t.footprint().await, footprint, "{body}");
        }
        // Only an admin changes a user's clinics.
        let r = s
            .call(Some(&s.desk), Method::PATCH, &path(&desk), Some(json!({ "clinics": [], "version": ver(&desk) })))
            .await;
        assert_problem(&r, 403, "forbidden");
        assert_eq!(s.t.footprint().await, footprint);

        // A good change: limited to both, home New York; the links keep the
        // schema's rules (a clinic taken off is tombstoned, not removed).
        let u = s
            .as_admin(Method::PATCH, &path(&desk), Some(json!({ "clinics": [london, new_york], "home_clinic_id": new_york, "version": ver(&desk) })))
            .await;
        assert_eq!(u["home_clinic_id"], new_york.as_str());
        let u = s
            .as_admin(Method::PATCH, &path(&desk), Some(json!({ "clinics": [london], "version": ver(&u) })))
            .await;
        assert_eq!(u["clinics"], json!([london]));
        assert_eq!(u["home_clinic_id"], Value::Null, "a home outside the clinics is dropped");
        let rows = s.t.db.int("SELECT count(*) FROM user_clinics").await;
        let live = s.t.db.int("SELECT count(*) FROM user_clinics WHERE deleted_at IS NULL").await;
        assert_eq!((rows, live), (2, 1));
        // Becoming an admin lifts the limit.
        let u = s
            .as_admin(Method::PATCH, &path(&desk), Some(json!({ "role": "admin", "version": ver(&u) })))
            .await;
        assert_eq!(u["clinics"], json!([]));
    }
);

story!(
    async fn a_limited_users_live_stream_carries_only_their_clinics_changes(t) {
        use futures_util::StreamExt;
        let s = spawn_server(t).await;
        s.limit("desk", &[&s.t.london.id.to_string()]).await;
        let res = s
            .http
            .get(s.url("/events"))
            .bearer_auth(&s.desk)
            .send()
            .await
            .expect("events");
        assert_eq!(res.status(), StatusCode::OK);
        let mut stream = res.bytes_stream();
        // New York's change first, then London's: the desk hears only London's.
        let ny = s
            .as_admin(
                Method::POST,
                "/appointments",
                Some(json!({
                    "clinic_id": s.t.new_york.id, "vet_id": s.t.cara_vet.id, "pet_id": s.t.other_pet.id,
                    "type_id": s.t.consult.id, "start": "2027-03-02T10:00" })),
            )
            .await;
        let london = s.book_at("2027-03-02T09:00").await;
        let mut seen = String::new();
        let found = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while let Some(chunk) = stream.next().await {
                seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
                if seen.contains(&id(&london)) {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(found, Ok(true), "no change for London's appointment in 2 s: {seen}");
        assert!(!seen.contains(&id(&ny)), "{seen}");
        assert!(!seen.contains(&s.t.new_york.id.to_string()), "{seen}");
    }
);

story!(
    async fn an_admin_exports_and_erases_an_owner_over_http(t) {
        let s = spawn_server(t).await;
        let a = s.book_at("2027-03-03T10:00").await;
        let owner = s.t.owner.id;
        let r = s.call(Some(&s.admin), Method::GET, &format!("/clients/{owner}/export"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["client"]["email"], "olivia@example.com");
        assert_eq!(r.body["pets"][0]["name"], "Biscuit");
        assert_eq!(r.body["appointments"][0]["id"], a["id"]);
        assert!(r.body["appointments"][0]["history"].as_array().is_some_and(|h| !h.is_empty()), "{r:?}");
        assert!(r.body["messages"].as_array().is_some_and(|m| !m.is_empty()), "{r:?}");
        // Bad ids: a typed refusal, and nothing written.
        let footprint = s.t.footprint().await;
        for (method, path, status, code) in [
            (Method::GET, "/clients/not-a-uuid/export".to_string(), 400, "invalid_input"),
            (Method::POST, "/clients/not-a-uuid/erase".to_string(), 400, "invalid_input"),
            (Method::GET, format!("/clients/{}/export", uuid::Uuid::now_v7()), 404, "not_found"),
            (Method::POST, format!("/clients/{}/erase", uuid::Uuid::now_v7()), 404, "not_found"),
        ] {
            let r = s.call(Some(&s.admin), method, &path, None).await;
            assert_problem(&r, status, code);
        }
        assert_eq!(s.t.footprint().await, footprint);
        // Erase, then erase again.
        let r = s.call(Some(&s.admin), Method::POST, &format!("/clients/{owner}/erase"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!((r.body["already"].clone(), r.body["pets"].clone(), r.body["appointments"].clone()), (json!(false), json!(1), json!(1)));
        let footprint = s.t.footprint().await;
        let r = s.call(Some(&s.admin), Method::POST, &format!("/clients/{owner}/erase"), None).await;
        assert_eq!((r.status, r.body["already"].clone()), (StatusCode::OK, json!(true)), "{r:?}");
        assert_eq!(s.t.footprint().await, footprint);
        let r = s.call(Some(&s.admin), Method::GET, &format!("/clients/{owner}/export"), None).await;
        assert_eq!((r.body["client"]["name"].clone(), r.body["client"]["email"].clone()), (json!("Erased owner"), Value::Null));
        assert!(r.body["erased_at"].is_string(), "{r:?}");
        let r = s.call(Some(&s.admin), Method::GET, &format!("/appointments/{}", id(&a)), None).await;
        assert_eq!((r.body["slot"].clone(), r.body["status"].clone()), (a["slot"].clone(), a["status"].clone()), "{r:?}");
    }
);
