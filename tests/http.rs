//! The HTTP API (`/api/v1`) over a real server on port 0, on both stores:
//! the seed's workflows end to end, errors as problem documents (never a 500
//! for what a client sends), records, the OpenAPI document and live events.

#[macro_use]
mod common;

use common::server::*;
use common::*;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

impl Server {
    /// Book Biscuit with a London vet at a local time.
    async fn book(&self, vet: &vetdesk_core::Vet, start: &str) -> Reply {
        self.post(
            "/appointments",
            json!({
                "clinic_id": self.t.london.id,
                "vet_id": vet.id,
                "pet_id": self.t.pet.id,
                "type_id": self.t.consult.id,
                "start": start,
                "reason": "Check-up",
            }),
        )
        .await
    }

    async fn booked(&self, vet: &vetdesk_core::Vet, start: &str) -> Value {
        let r = self.book(vet, start).await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        r.body
    }

    /// The local starts of a vet's free slots on a date.
    async fn free_starts(&self, vet: &vetdesk_core::Vet, day: &str) -> Vec<String> {
        let r = self
            .get(&format!(
                "/appointments/availability?clinic_id={}&vet_id={}&start_date={day}&end_date={day}&type_id={}",
                self.t.london.id, vet.id, self.t.consult.id
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body["vets"][0]["slots"]
            .as_array()
            .expect("slots")
            .iter()
            .map(|s| s["local_start"].as_str().expect("local start").to_string())
            .collect()
    }
}

/// A problem document with this status and code.
#[track_caller]
fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{r:?}");
    assert_eq!(r.content_type, "application/problem+json", "{r:?}");
    assert_eq!(r.body["code"], code, "{r:?}");
    assert_eq!(r.body["status"], status, "{r:?}");
    assert!(
        r.body["type"].is_string() && r.body["title"].is_string(),
        "{r:?}"
    );
    assert!(r.body["detail"].is_string(), "{r:?}");
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn version(v: &Value) -> i64 {
    v["meta"]["version"].as_i64().expect("version")
}

story!(
    async fn health_answers_at_both_paths(t) {
        let s = spawn_server(t).await;
        for path in ["/health", "/api/v1/health"] {
            let r = s.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            assert_eq!(r.body["status"], "ok");
            // No worker runs beside this server: nothing is being sent.
            assert_eq!(r.body["notification_channels"], json!([]));
        }
        s.t.app.set_sending(&vetdesk_store::ClaimScope {
            email: true,
            sms: false,
            desktop: vetdesk_store::DesktopScope::All,
        });
        let r = s.get("/health").await;
        assert_eq!(r.body["notification_channels"], json!(["email", "desktop"]));
    }
);

story!(
    async fn the_seed_workflow_end_to_end(t) {
        let s = spawn_server(t).await;
        let alice = s.t.alice_vet.clone();
        let before = s.free_starts(&alice, "2027-03-02").await;
        assert!(before.contains(&"2027-03-02T10:00:00".to_string()), "{before:?}");

        let r = s.book(&alice, "2027-03-02T10:00").await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let appt = id(&r.body);
        // The seed's spelling, with a trailing slash, books too.
        let r2 = s
            .send(s.http.post(s.url("/appointments/")).json(&json!({
                "clinic_id": s.t.london.id, "vet_id": s.t.ben_vet.id, "pet_id": s.t.other_pet.id,
                "type_id": s.t.consult.id, "start": "2027-03-02T10:00",
            })))
            .await;
        assert_eq!(r2.status, StatusCode::CREATED, "{r2:?}");
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/api/v1/appointments/{appt}").as_str())
        );
        assert_eq!(r.body["status"], "scheduled");
        assert_eq!(r.body["created_by"], "admin");

        let after = s.free_starts(&alice, "2027-03-02").await;
        assert!(!after.contains(&"2027-03-02T10:00:00".to_string()));
        assert!(!after.contains(&"2027-03-02T09:45:00".to_string()));
        assert!(after.contains(&"2027-03-02T10:30:00".to_string()));

        for (step, status) in [
            ("confirm", "confirmed"),
            ("check-in", "checked_in"),
            ("start", "in_progress"),
        ] {
            let r = s
                .post(&format!("/appointments/{appt}/{step}"), json!({}))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{step}: {r:?}");
            assert_eq!(r.body["status"], status);
        }
        // No body at all is fine for a lifecycle step.
        let r = s
            .send(s.http.post(s.url(&format!("/appointments/{appt}/complete"))))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "completed");

        let r = s.get(&format!("/appointments/{appt}")).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "completed");
        assert_eq!(r.body["time_zone"], "Europe/London");
        let history: Vec<&str> = r.body["history"]
            .as_array()
            .expect("history")
            .iter()
            .map(|h| h["to_status"].as_str().expect("status"))
            .collect();
        assert_eq!(
            history,
            ["scheduled", "confirmed", "checked_in", "in_progress", "completed"]
        );
    }
);

story!(
    async fn check_conflicts_names_every_reason(t) {
        let s = spawn_server(t).await;
        s.booked(&s.t.alice_vet, "2027-03-02T11:30").await;
        let r = s
            .post(
                "/appointments/check-conflicts",
                json!({
                    "vet_id": s.t.alice_vet.id,
                    "clinic_id": s.t.london.id,
                    "start": "2027-03-02T11:45",
                    "end": "2027-03-02T12:30",
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["ok"], false);
        let kinds: Vec<&str> = r.body["conflicts"]
            .as_array()
            .expect("conflicts")
            .iter()
            .map(|c| c["kind"].as_str().expect("kind"))
            .collect();
        assert!(kinds.contains(&"overlap"), "{kinds:?}");
        assert!(kinds.len() >= 2, "{kinds:?}");
        assert_eq!(
            r.body["messages"].as_array().map(Vec::len),
            Some(kinds.len())
        );

        // In the past, and an unknown vet: still a 200 report, not an error.
        let r = s
            .post(
                "/appointments/check-conflicts",
                json!({
                    "vet_id": uuid::Uuid::now_v7(),
                    "clinic_id": s.t.london.id,
                    "start": "2027-02-26T10:00",
                    "end": "2027-02-26T10:30",
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["ok"], false);

        let r = s
            .post(
                "/appointments/check-conflicts",
                json!({
                    "vet_id": s.t.ben_vet.id,
                    "clinic_id": s.t.london.id,
                    "start": "2027-03-02T10:00",
                    "end": "2027-03-02T10:30",
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["ok"], true, "{r:?}");
    }
);

story!(
    async fn calendar_day_and_week_and_explain(t) {
        let s = spawn_server(t).await;
        let appt = id(&s.booked(&s.t.ben_vet, "2027-03-03T14:00").await);
        let london = s.t.london.id;
        let r = s
            .get(&format!(
                "/appointments/calendar?view=day&date=2027-03-03&clinic_id={london}"
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let days = r.body["days"].as_array().expect("days");
        assert_eq!(days.len(), 1);
        assert_eq!(days[0]["appointments"][0]["id"], appt.as_str());
        assert!(!days[0]["free"].as_array().expect("free").is_empty());

        let r = s
            .get(&format!(
                "/appointments/calendar?view=week&date=2027-03-03&clinic_id={london}&vet_id={}",
                s.t.ben_vet.id
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["days"].as_array().map(Vec::len), Some(7));

        let r = s
            .get(&format!(
                "/appointments/calendar?view=fortnight&date=2027-03-03&clinic_id={london}"
            ))
            .await;
        assert_problem(&r, 422, "invalid_input");

        let r = s
            .get(&format!(
                "/appointments/explain?vet_id={}&clinic_id={london}&at=2027-03-03T14:15&duration_minutes=30",
                s.t.ben_vet.id
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert!(!r.body["messages"].as_array().expect("messages").is_empty());
    }
);

story!(
    async fn cancel_and_reschedule(t) {
        let s = spawn_server(t).await;
        let alice = s.t.alice_vet.clone();
        let first = id(&s.booked(&alice, "2027-03-02T10:00").await);
        let second = s.booked(&alice, "2027-03-02T11:00").await;
        let second_id = id(&second);

        // Onto the first: a conflict naming it.
        let r = s
            .post(
                &format!("/appointments/{second_id}/reschedule"),
                json!({ "start": "2027-03-02T10:00" }),
            )
            .await;
        assert_problem(&r, 409, "conflict");
        let conflicts = r.body["conflicts"].as_array().expect("conflicts");
        assert!(conflicts
            .iter()
            .any(|c| c["appointment_id"] == first.as_str()));
        assert!(!r.body["messages"].as_array().expect("messages").is_empty());

        // A stale version: changed by someone else, with the record as it is now.
        let r = s
            .post(
                &format!("/appointments/{second_id}/reschedule"),
                json!({ "start": "2027-03-02T14:00", "version": version(&second) + 5 }),
            )
            .await;
        assert_problem(&r, 409, "stale_version");
        assert_eq!(r.body["current"]["id"], second_id.as_str());

        // The same through If-Match.
        let r = s
            .send(
                s.http
                    .post(s.url(&format!("/appointments/{second_id}/confirm")))
                    .header("if-match", "\"99\""),
            )
            .await;
        assert_problem(&r, 409, "stale_version");

        let r = s
            .post(
                &format!("/appointments/{first}/cancel"),
                json!({ "reason": "owner called" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "cancelled");
        assert_eq!(r.body["cancel_reason"], "owner called");

        let r = s
            .post(&format!("/appointments/{first}/cancel"), json!({}))
            .await;
        assert_problem(&r, 422, "invalid_transition");
        let r = s
            .post(&format!("/appointments/{first}/no-show"), json!({}))
            .await;
        assert_problem(&r, 422, "invalid_transition");

        // The cancelled time is free again.
        let r = s
            .send(
                s.http
                    .post(s.url(&format!("/appointments/{second_id}/reschedule")))
                    .header("if-match", version(&second).to_string())
                    .json(&json!({ "start": "2027-03-02T10:00", "note": "moved" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "scheduled");
        assert_eq!(r.body["local"]["local_start"], "2027-03-02T10:00:00");
        assert_eq!(version(&r.body), version(&second) + 1);
    }
);

story!(
    async fn list_filters_and_paging(t) {
        let s = spawn_server(t).await;
        let alice = s.t.alice_vet.clone();
        let a = id(&s.booked(&alice, "2027-03-02T09:00").await);
        s.booked(&alice, "2027-03-02T09:30").await;
        s.booked(&alice, "2027-03-02T10:00").await;
        s.booked(&s.t.ben_vet, "2027-03-02T10:00").await;
        let r = s
            .post(&format!("/appointments/{a}/cancel"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK);

        let list = |q: String| {
            let s = &s;
            async move {
                let r = s.get(&format!("/appointments?{q}")).await;
                assert_eq!(r.status, StatusCode::OK, "{q}: {r:?}");
                r.body
            }
        };
        let all = list(format!("vet_id={}", alice.id)).await;
        assert_eq!(all["total"], 3);
        let page = list(format!("vet_id={}&limit=2", alice.id)).await;
        assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(page["total"], 3);
        let rest = list(format!("vet_id={}&limit=2&offset=2", alice.id)).await;
        assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));

        assert_eq!(list("status=cancelled".into()).await["total"], 1);
        assert_eq!(list("status=scheduled".into()).await["total"], 3);
        assert_eq!(list("status=scheduled,cancelled".into()).await["total"], 4);
        assert_eq!(
            list("status=scheduled&status=cancelled".into()).await["total"],
            4
        );
        assert_eq!(
            list(format!("clinic_id={}&q=biscuit", s.t.london.id)).await["total"],
            4
        );
        assert_eq!(list("q=whiskers".into()).await["total"], 0);
        assert_eq!(
            list(format!("pet_id={}", s.t.other_pet.id)).await["total"],
            0
        );
        assert_eq!(
            list(format!("client_id={}", s.t.owner.id)).await["total"],
            4
        );
        assert_eq!(
            list("from=2027-03-02T09:15:00Z&to=2027-03-02T10:00:00Z".into()).await["total"],
            1
        );

        assert_problem(&s.get("/appointments?status=lost").await, 422, "invalid_input");
        assert_problem(&s.get("/appointments?limit=many").await, 400, "invalid_input");
        assert_problem(&s.get("/appointments?limit=100000").await, 422, "invalid_input");
        assert_problem(&s.get("/appointments?vet_id=nobody").await, 400, "invalid_input");
        assert_problem(
            &s.get("/appointments?from=2027-03-02T09:00").await,
            422,
            "invalid_input",
        );
    }
);

story!(
    async fn unknown_things_are_404_and_wrong_methods_405(t) {
        let s = spawn_server(t).await;
        let nobody = uuid::Uuid::now_v7();
        assert_problem(&s.get(&format!("/appointments/{nobody}")).await, 404, "not_found");
        assert_problem(
            &s.post(&format!("/appointments/{nobody}/confirm"), json!({})).await,
            404,
            "not_found",
        );
        assert_problem(&s.get(&format!("/clinics/{nobody}")).await, 404, "not_found");
        assert_problem(&s.get(&format!("/pets/{nobody}")).await, 404, "not_found");
        assert_problem(&s.get("/no/such/thing").await, 404, "not_found");
        assert_problem(&s.get("/api/v2/appointments").await, 404, "not_found");
        assert_problem(&s.get("/appointments/not-a-uuid").await, 400, "invalid_input");
        let r = s.delete("/appointments").await;
        assert_problem(&r, 405, "invalid_input");
        let r = s
            .send(s.http.request(Method::PATCH, s.url("/clinics")))
            .await;
        assert_problem(&r, 405, "invalid_input");
    }
);

story!(
    async fn bad_input_is_a_problem_never_a_500(t) {
        let s = spawn_server(t).await;
        let ok = json!({
            "clinic_id": s.t.london.id,
            "vet_id": s.t.alice_vet.id,
            "pet_id": s.t.pet.id,
            "type_id": s.t.consult.id,
            "start": "2027-03-02T10:00",
        });
        let with = |k: &str, v: Value| {
            let mut b = ok.clone();
            b[k] = v;
            b
        };
        let raw = |body: &'static str| {
            s.http
                .post(s.url("/appointments"))
                .header("content-type", "application/json")
                .body(body)
        };
        let before = s.t.footprint().await;

        assert_problem(&s.send(raw("{not json")).await, 400, "invalid_input");
        assert_problem(&s.send(raw("")).await, 400, "invalid_input");
        assert_problem(&s.send(raw("[1,2,3]")).await, 422, "invalid_input");
        assert_problem(&s.post("/appointments", with("vet_id", json!(5))).await, 422, "invalid_input");
        assert_problem(&s.post("/appointments", with("vet_id", json!("bob"))).await, 422, "invalid_input");
        assert_problem(&s.post("/appointments", with("duration_minutes", json!("long"))).await, 422, "invalid_input");
        assert_problem(&s.post("/appointments", with("surprise", json!(true))).await, 422, "invalid_input");
        assert_problem(&s.post("/appointments", with("start", json!("tomorrow"))).await, 422, "invalid_input");

        assert_problem(&s.post("/appointments", with("duration_minutes", json!(-30))).await, 422, "invalid_input");
        assert_problem(&s.post("/appointments", with("duration_minutes", json!(1e300))).await, 422, "invalid_input");
        assert_problem(&s.post("/appointments", {
                let mut b = with("pet_id", json!(s.t.other_pet.id));
                b["client_id"] = json!(s.t.owner.id);
                b
            }).await, 422, "invalid_input");
        assert_problem(&s.post("/appointments", with("vet_id", json!(s.t.cara_vet.id))).await, 422, "invalid_input");
        assert_problem(&s.post("/appointments", with("type_id", json!(uuid::Uuid::now_v7()))).await, 404, "not_found");
        let mut missing = ok.clone();
        missing.as_object_mut().expect("object").remove("start");
        assert_problem(&s.post("/appointments", missing).await, 422, "invalid_input");
        let r = s
            .send(s.http.post(s.url("/appointments")).body(ok.to_string()))
            .await;
        assert_problem(&r, 415, "invalid_input");
        let huge = format!("{{\"reason\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
        let r = s
            .send(
                s.http
                    .post(s.url("/appointments"))
                    .header("content-type", "application/json")
                    .body(huge),
            )
            .await;
        assert_problem(&r, 413, "invalid_input");
        assert_eq!(s.t.footprint().await, before, "bad input changed nothing");

        let london = s.t.london.id;
        for q in [
            format!("clinic_id={london}&start_date=soon&end_date=2027-03-02&duration_minutes=30"),
            format!("clinic_id={london}&start_date=2027-03-02"),
            "clinic_id=x&start_date=2027-03-02&end_date=2027-03-02".to_string(),
            format!("clinic_id={london}&start_date=2027-03-02&end_date=2027-03-02&grid=%FF"),
        ] {
            let r = s.get(&format!("/appointments/availability?{q}")).await;
            assert_problem(&r, 400, "invalid_input");
        }
        for q in [
            format!("clinic_id={london}&start_date=2027-03-05&end_date=2027-03-02&duration_minutes=30"),
            format!("clinic_id={london}&start_date=2027-03-02&end_date=2029-03-02&duration_minutes=30"),
            format!("clinic_id={london}&start_date=2027-03-02&end_date=2027-03-02&duration_minutes=0"),
            format!("clinic_id={london}&start_date=2027-03-02&end_date=2027-03-02&duration_minutes=30&grid=-5"),
            format!("clinic_id={london}&start_date=2027-03-02&end_date=2027-03-02"),
        ] {
            let r = s.get(&format!("/appointments/availability?{q}")).await;
            assert!(
                r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST,
                "{q}: {r:?}"
            );
            assert_eq!(r.content_type, "application/problem+json");
            assert_eq!(r.body["code"], "invalid_input", "{q}: {r:?}");
        }
        let r = s
            .get(&format!(
                "/appointments/availability?clinic_id={}&start_date=2027-03-02&end_date=2027-03-02&duration_minutes=30",
                uuid::Uuid::now_v7()
            ))
            .await;
        assert_problem(&r, 404, "not_found");
        assert_problem(
            &s.send(
                s.http
                    .post(s.url(&format!("/appointments/{}/confirm", uuid::Uuid::now_v7())))
                    .header("if-match", "yesterday"),
            )
            .await,
            400,
            "invalid_input",
        );
    }
);

// ---------- found by scripts/schemathesis ----------

story!(
    async fn a_step_body_may_be_null_as_the_document_allows(t) {
        let s = spawn_server(t).await;
        let appt = id(&s.booked(&s.t.alice_vet, "2027-03-02T10:00").await);
        let step = |name: &str| {
            s.http
                .post(s.url(&format!("/appointments/{appt}/{name}")))
                .header("content-type", "application/json")
                .body("null")
        };
        let r = s.send(step("confirm")).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "confirmed");
        let r = s.send(step("cancel")).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["status"], "cancelled");
    }
);

story!(
    async fn a_calendar_at_the_edge_of_time_is_invalid_input_not_a_500(t) {
        let s = spawn_server(t).await;
        let london = s.t.london.id;
        for date in ["-262143-01-01", "+262143-12-31", "0000-06-15"] {
            for view in ["day", "week", "month"] {
                let r = s
                    .get(&format!("/appointments/calendar?clinic_id={london}&view={view}&date={date}"))
                    .await;
                assert!(
                    r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST,
                    "{view} {date}: {r:?}"
                );
                assert_eq!(r.content_type, "application/problem+json", "{view} {date}");
                assert_eq!(r.body["code"], "invalid_input", "{view} {date}: {r:?}");
            }
        }
        for view in ["day", "week", "month"] {
            let r = s
                .get(&format!("/appointments/calendar?clinic_id={london}&view={view}&date=9999-12-31"))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{view}: {r:?}");
            let r = s
                .get(&format!("/appointments/calendar?clinic_id={london}&view={view}&date=0001-01-01"))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{view}: {r:?}");
        }
    }
);

story!(
    async fn text_with_a_nul_is_refused_on_every_store(t) {
        let s = spawn_server(t).await;
        let before = s.t.footprint().await;
        let r = s
            .post("/clinics", json!({ "name": "Harbour\u{0}Leeds", "time_zone": "Europe/London" }))
            .await;
        assert_problem(&r, 422, "invalid_input");
        let mut booking = json!({
            "clinic_id": s.t.london.id, "vet_id": s.t.alice_vet.id, "pet_id": s.t.pet.id,
            "type_id": s.t.consult.id, "start": "2027-03-02T10:00",
        });
        booking["reason"] = json!("limping\u{0}");
        assert_problem(&s.post("/appointments", booking).await, 422, "invalid_input");
        assert_problem(&s.get("/clients?q=a%00b").await, 422, "invalid_input");
        assert_problem(&s.get("/appointments?q=%00").await, 422, "invalid_input");
        assert_eq!(s.t.footprint().await, before, "refused text changed nothing");
        // A backslash followed by `u0000` is text like any other.
        let r = s
            .post("/clinics", json!({ "name": "Harbour \\u0000 Leeds", "time_zone": "Europe/London" }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(r.body["name"], "Harbour \\u0000 Leeds");
    }
);

story!(
    async fn the_document_declares_every_answer_an_operation_can_give(t) {
        let s = spawn_server(t).await;
        let doc = s.get("/api/v1/openapi.json").await.body;
        let is_problem = |responses: &Value, status: &str| {
            responses[status]["content"]["application/problem+json"]["schema"]["$ref"]
                == "#/components/schemas/Problem"
        };
        let mut if_matches = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let responses = &op["responses"];
                let mut expected = vec!["400", "404", "409", "422", "500", "503"];
                if op["requestBody"].is_object() {
                    expected.extend(["413", "415"]);
                }
                if method == "delete" {
                    expected.push("428");
                }
                for status in expected {
                    assert!(is_problem(responses, status), "{method} {path} does not declare {status}");
                }
                for param in op["parameters"].as_array().into_iter().flatten() {
                    if param["name"] == "If-Match" {
                        if_matches += 1;
                        assert!(param["schema"]["pattern"].is_string(), "{method} {path}: {param}");
                    }
                    // A schema may be a component of its own (the input rules).
                    let schema = match param["schema"]["$ref"].as_str() {
                        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
                        None => &param["schema"],
                    };
                    // Offsets are read as u32: the document must not say int32.
                    if param["name"] == "offset" {
                        let max = schema["maximum"].as_u64();
                        assert_eq!(max, Some(u64::from(u32::MAX)), "{method} {path}: {param}");
                    }
                    if param["name"] == "limit" {
                        assert!(schema["maximum"].is_u64(), "{method} {path}: {param}");
                    }
                }
            }
        }
        assert!(if_matches >= 15, "{if_matches} If-Match parameters");

        // Responses are described field by field, not as bare objects.
        let schemas = &doc["components"]["schemas"];
        for name in [
            "ClinicView", "VetView", "ClientView", "PetView", "AppointmentTypeView",
            "WorkingHoursView", "DateOverrideView", "TimeOffView", "AppointmentPageView",
            "AvailabilityView", "CalendarView", "ConflictReportView", "ExplainView",
        ] {
            let props = schemas[name]["properties"].as_object();
            assert!(props.is_some_and(|p| p.len() >= 2), "{name}: {}", schemas[name]);
        }
        assert!(schemas["AppointmentDetailsView"]["allOf"].is_array(), "{}", schemas["AppointmentDetailsView"]);
        assert!(schemas["ConflictView"]["oneOf"].is_array(), "{}", schemas["ConflictView"]);
        let conflicts = schemas["Problem"]["properties"]["conflicts"].to_string();
        assert!(conflicts.contains("ConflictView"), "{conflicts}");
    }
);

story!(
    async fn records_round_trip(t) {
        let s = spawn_server(t).await;
        let r = s
            .post("/clinics", json!({ "name": "Harbour Leeds", "time_zone": "Europe/London" }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let clinic = id(&r.body);
        assert_eq!(r.location.as_deref(), Some(format!("/api/v1/clinics/{clinic}").as_str()));
        assert_problem(
            &s.post("/clinics", json!({ "name": "Nowhere", "time_zone": "Mars/Olympus" })).await,
            422,
            "invalid_input",
        );
        let r = s
            .put(
                &format!("/clinics/{clinic}"),
                json!({ "name": "Harbour Leeds North", "time_zone": "Europe/London", "version": 1 }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(version(&r.body), 2);
        let r = s
            .put(
                &format!("/clinics/{clinic}"),
                json!({ "name": "Stale", "time_zone": "Europe/London", "version": 1 }),
            )
            .await;
        assert_problem(&r, 409, "stale_version");
        assert_eq!(r.body["current"]["name"], "Harbour Leeds North");
        let r = s.get("/clinics").await;
        assert_eq!(r.body.as_array().map(Vec::len), Some(3));

        let r = s
            .post("/vets", json!({ "name": "Dr Dee", "clinics": [clinic] }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let vet = id(&r.body);
        assert_eq!(s.get(&format!("/vets?clinic_id={clinic}")).await.body.as_array().map(Vec::len), Some(1));
        assert_eq!(s.get(&format!("/vets/{vet}")).await.body["name"], "Dr Dee");

        let r = s
            .post(
                "/working-hours",
                json!({ "vet_id": vet, "clinic_id": clinic, "weekday": "tue",
                        "span": "09:00-13:00", "valid_from": "2027-01-01" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let hours = id(&r.body);
        let r = s
            .put(
                &format!("/working-hours/{hours}"),
                json!({ "vet_id": vet, "clinic_id": clinic, "weekday": "Tuesday",
                        "span": "10:00-13:00", "valid_from": "2027-01-01", "version": 1 }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let slots = s
            .get(&format!(
                "/appointments/availability?clinic_id={clinic}&vet_id={vet}&start_date=2027-03-02&end_date=2027-03-02&duration_minutes=60&grid=60"
            ))
            .await;
        assert_eq!(slots.body["vets"][0]["slots"].as_array().map(Vec::len), Some(3), "{slots:?}");
        assert_problem(
            &s.post(
                "/working-hours",
                json!({ "vet_id": vet, "clinic_id": clinic, "weekday": "someday",
                        "span": "09:00-13:00", "valid_from": "2027-01-01" }),
            )
            .await,
            422,
            "invalid_input",
        );

        let r = s
            .put(
                "/date-overrides",
                json!({ "vet_id": vet, "clinic_id": clinic, "date": "2027-03-09", "spans": "" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let over = id(&r.body);
        let r = s
            .get(&format!("/date-overrides?vet_id={vet}&from=2027-03-01&to=2027-03-31"))
            .await;
        assert_eq!(r.body.as_array().map(Vec::len), Some(1), "{r:?}");
        assert_eq!(
            s.delete(&format!("/date-overrides/{over}?version=1")).await.status,
            StatusCode::OK
        );

        let r = s
            .post(
                "/time-off",
                json!({ "vet_id": vet, "start": "2027-03-16T00:00", "end": "2027-03-17T00:00", "reason": "course" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let off = id(&r.body);
        assert_eq!(s.get(&format!("/time-off?vet_id={vet}")).await.body.as_array().map(Vec::len), Some(1));
        assert_eq!(s.delete(&format!("/time-off/{off}?version=1")).await.status, StatusCode::OK);
        assert_eq!(s.get(&format!("/time-off?vet_id={vet}")).await.body.as_array().map(Vec::len), Some(0));

        let r = s
            .post("/appointment-types", json!({ "name": "Dental", "duration_minutes": 45, "colour": "#00aa00" }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let dental = id(&r.body);
        let r = s
            .put(
                &format!("/appointment-types/{dental}"),
                json!({ "name": "Dental", "duration_minutes": 60, "colour": "#00aa00", "buffer_after_minutes": 10 }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["duration_min"], 60);
        assert_eq!(s.get("/appointment-types").await.body.as_array().map(Vec::len), Some(3));

        let r = s
            .post("/clients", json!({ "name": "Priya Patel", "email": "priya@example.com" }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let client = id(&r.body);
        assert_problem(
            &s.post("/clients", json!({ "name": "Bad Mail", "email": "not-an-address" })).await,
            422,
            "invalid_input",
        );
        let r = s.get("/clients?q=priya").await;
        assert_eq!(r.body.as_array().map(Vec::len), Some(1), "{r:?}");
        let r = s
            .put(
                &format!("/clients/{client}"),
                json!({ "name": "Priya Patel", "phone": "+44 7700 900999", "version": 1 }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");

        let r = s
            .post("/pets", json!({ "owner_id": client, "name": "Mango", "species": "parrot" }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let pet = id(&r.body);
        assert_eq!(s.get(&format!("/pets?owner_id={client}")).await.body.as_array().map(Vec::len), Some(1));
        let r = s
            .put(&format!("/pets/{pet}"), json!({ "name": "Mango", "species": "parrot", "breed": "African grey" }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(version(&r.body), 2);

        assert_problem(&s.delete(&format!("/pets/{pet}")).await, 428, "invalid_input");
        assert_problem(&s.delete(&format!("/pets/{pet}?version=1")).await, 409, "stale_version");
        let r = s
            .send(s.http.delete(s.url(&format!("/pets/{pet}"))).header("if-match", "2"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body["id"], pet.as_str());
        assert_problem(&s.get(&format!("/pets/{pet}")).await, 404, "not_found");
        assert_problem(&s.delete(&format!("/clinics/{clinic}")).await, 405, "invalid_input");
    }
);

story!(
    async fn the_openapi_document_lists_every_route(t) {
        let s = spawn_server(t).await;
        let r = s.get("/api/v1/openapi.json").await;
        assert_eq!(r.status, StatusCode::OK);
        let doc = &r.body;
        assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
        let expected: &[(&str, &[&str])] = &[
            ("/api/v1/health", &["get"]),
            ("/api/v1/appointments", &["get", "post"]),
            ("/api/v1/appointments/availability", &["get"]),
            ("/api/v1/appointments/availability/runs", &["get"]),
            ("/api/v1/appointments/calendar", &["get"]),
            ("/api/v1/appointments/check-conflicts", &["post"]),
            ("/api/v1/appointments/explain", &["get"]),
            ("/api/v1/appointments/{id}", &["get"]),
            ("/api/v1/appointments/{id}/confirm", &["post"]),
            ("/api/v1/appointments/{id}/check-in", &["post"]),
            ("/api/v1/appointments/{id}/start", &["post"]),
            ("/api/v1/appointments/{id}/complete", &["post"]),
            ("/api/v1/appointments/{id}/no-show", &["post"]),
            ("/api/v1/appointments/{id}/cancel", &["post"]),
            ("/api/v1/appointments/{id}/reschedule", &["post"]),
            ("/api/v1/clinics", &["get", "post"]),
            ("/api/v1/clinics/{id}", &["get", "put"]),
            ("/api/v1/vets", &["get", "post"]),
            ("/api/v1/vets/{id}", &["get", "put"]),
            ("/api/v1/clients", &["get", "post"]),
            ("/api/v1/clients/{id}", &["get", "put", "delete"]),
            ("/api/v1/clients/{id}/export", &["get"]),
            ("/api/v1/clients/{id}/erase", &["post"]),
            ("/api/v1/pets", &["get", "post"]),
            ("/api/v1/pets/{id}", &["get", "put", "delete"]),
            ("/api/v1/appointment-types", &["get", "post"]),
            ("/api/v1/appointment-types/{id}", &["get", "put"]),
            ("/api/v1/working-hours", &["get", "post"]),
            ("/api/v1/working-hours/{id}", &["get", "put", "delete"]),
            ("/api/v1/date-overrides", &["get", "put"]),
            ("/api/v1/date-overrides/{id}", &["delete"]),
            ("/api/v1/time-off", &["get", "post"]),
            ("/api/v1/time-off/{id}", &["get", "put", "delete"]),
            ("/api/v1/events", &["get"]),
            ("/api/v1/events/ticket", &["post"]),
            ("/api/v1/auth/login", &["post"]),
            ("/api/v1/auth/logout", &["post"]),
            ("/api/v1/auth/me", &["get"]),
            ("/api/v1/users", &["get", "post"]),
            ("/api/v1/users/{id}", &["get", "patch", "delete"]),
            ("/api/v1/audit", &["get"]),
            ("/api/v1/outbox", &["get"]),
            ("/api/v1/outbox/{id}", &["get"]),
            ("/api/v1/outbox/{id}/preview", &["get"]),
            ("/api/v1/outbox/{id}/retry", &["post"]),
            ("/api/v1/templates", &["get"]),
            ("/api/v1/templates/{kind}/{channel}", &["get", "put"]),
            ("/api/v1/templates/{kind}/{channel}/reset", &["post"]),
            ("/api/v1/templates/{kind}/{channel}/preview", &["get"]),
            ("/api/v1/clinics/{id}/notification-settings", &["get", "patch"]),
        ];
        let paths = doc["paths"].as_object().expect("paths");
        for (path, methods) in expected {
            for m in *methods {
                let op = &paths
                    .get(*path)
                    .unwrap_or_else(|| panic!("{path} is missing"))[*m];
                assert!(op.is_object(), "{m} {path} is missing");
                assert!(
                    op["responses"]["422"]["content"]["application/problem+json"].is_object(),
                    "{m} {path} documents no problem response"
                );
            }
            // And the route really answers (not 404 / 405); the event stream never
            // ends, and signing out would end the session the loop runs in.
            if *path == "/api/v1/events" || *path == "/api/v1/auth/logout" {
                continue;
            }
            let r = s
                .send(
                    s.http
                        .request(
                            Method::from_bytes(methods[0].to_uppercase().as_bytes()).expect("method"),
                            format!("{}{}", s.base, path.replace("{id}", &uuid::Uuid::now_v7().to_string()).replace("{kind}", "reminder").replace("{channel}", "sms")),
                        )
                        .timeout(Duration::from_secs(2)),
                )
                .await;
            assert!(
                r.status != StatusCode::METHOD_NOT_ALLOWED
                    && !(r.status == StatusCode::NOT_FOUND && r.body["detail"] == "there is no such resource"),
                "{path}: {r:?}"
            );
        }
        assert_eq!(paths.len(), expected.len(), "{:?}", paths.keys().collect::<Vec<_>>());
        assert!(doc["components"]["schemas"]["Problem"].is_object());
        assert!(doc["components"]["schemas"]["BookBody"].is_object());
    }
);

story!(
    async fn events_deliver_a_change_after_a_booking(t) {
        let s = spawn_server(t).await;
        let res = s
            .http
            .get(s.url("/events"))
            .bearer_auth(&s.admin)
            .send()
            .await
            .expect("events");
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream")));
        let mut stream = res.bytes_stream();
        let appt = id(&s.booked(&s.t.alice_vet, "2027-03-02T10:00").await);

        let mut seen = String::new();
        let found = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(chunk) = stream.next().await {
                seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
                if seen.contains(&appt) {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(found, Ok(true), "no change for {appt} in 2 s: {seen}");
        let event = seen
            .split("\n\n")
            .find(|e| e.contains(&appt))
            .expect("the event");
        assert!(event.contains("event: change"), "{event}");
        let data = event
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .expect("data line");
        let change: Value = serde_json::from_str(data).expect("JSON data");
        assert_eq!(change["entity"], "appointment");
        assert_eq!(change["clinic_id"], s.t.london.id.to_string().as_str());
    }
);

/// `vetdesk serve` prints where it listens and answers there.
#[tokio::test]
async fn the_serve_command_listens_where_it_says() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("serve.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vetdesk"))
        .args([
            "--db",
            db.to_str().expect("utf-8 path"),
            "serve",
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
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
    let health = reqwest::get(format!("{base}/api/v1/health")).await;
    let _ = child.kill();
    let _ = child.wait();
    let health: Value = health.expect("health").json().await.expect("JSON");
    assert_eq!(health["status"], "ok");
    // No VETDESK_SMTP_… or VETDESK_SMS_… here: the worker sends nothing, and says so.
    assert_eq!(health["notification_channels"], serde_json::json!([]));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vetdesk"))
        .args([
            "--db",
            db.to_str().expect("utf-8 path"),
            "serve",
            "--bind",
            "nowhere",
        ])
        .output()
        .expect("vetdesk serve");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bind \"nowhere\""));
}

story!(
    async fn single_records_read_back_and_time_off_moves(t) {
        let s = spawn_server(t).await;
        let ty = s.get(&format!("/appointment-types/{}", s.t.consult.id)).await;
        assert_eq!(ty.status, StatusCode::OK, "{ty:?}");
        assert_eq!(ty.body["name"], s.t.consult.name.as_str());
        let hours = s
            .get(&format!("/working-hours?vet_id={}", s.t.alice_vet.id))
            .await;
        let rule = &hours.body[0];
        let r = s.get(&format!("/working-hours/{}", id(rule))).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.body, *rule);
        for missing in ["/appointment-types", "/working-hours", "/time-off"] {
            let r = s
                .get(&format!("{missing}/{}", uuid::Uuid::now_v7()))
                .await;
            assert_problem(&r, 404, "not_found");
        }

        let off = s
            .post(
                "/time-off",
                json!({ "vet_id": s.t.alice_vet.id, "start": "2027-03-03T09:00", "end": "2027-03-03T12:00", "reason": "course" }),
            )
            .await;
        assert_eq!(off.status, StatusCode::CREATED, "{off:?}");
        let off_id = id(&off.body);
        // The morning is blocked; move the time off to the afternoon.
        let free = s.free_starts(&s.t.alice_vet, "2027-03-03").await;
        assert!(!free.contains(&"2027-03-03T09:00:00".to_string()), "{free:?}");
        assert!(free.contains(&"2027-03-03T13:00:00".to_string()), "{free:?}");
        let moved = s
            .put(
                &format!("/time-off/{off_id}"),
                json!({ "vet_id": s.t.alice_vet.id, "start": "2027-03-03T13:00", "end": "2027-03-03T17:00", "reason": "course (moved)", "version": 1 }),
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
        assert_eq!(moved.body["meta"]["version"], 2);
        let free = s.free_starts(&s.t.alice_vet, "2027-03-03").await;
        assert!(free.contains(&"2027-03-03T09:00:00".to_string()), "{free:?}");
        assert!(!free.contains(&"2027-03-03T13:00:00".to_string()), "{free:?}");
        let r = s.get(&format!("/time-off/{off_id}")).await;
        assert_eq!(r.body["reason"], "course (moved)");

        // A stale version, or another vet, changes nothing.
        let footprint = s.t.footprint().await;
        let stale = s
            .put(
                &format!("/time-off/{off_id}"),
                json!({ "vet_id": s.t.alice_vet.id, "start": "2027-03-04T13:00", "end": "2027-03-04T17:00", "version": 1 }),
            )
            .await;
        assert_problem(&stale, 409, "stale_version");
        let other = s
            .put(
                &format!("/time-off/{off_id}"),
                json!({ "vet_id": s.t.ben_vet.id, "start": "2027-03-04T13:00", "end": "2027-03-04T17:00", "version": 2 }),
            )
            .await;
        assert_problem(&other, 422, "invalid_input");
        assert_eq!(s.t.footprint().await, footprint);
    }
);
