//! The compact form of availability over HTTP
//! (`GET /api/v1/appointments/availability/runs`), on both stores: expanded by
//! the documented rule (`vetdesk_core::SlotRun::slots`), it answers exactly the
//! slots of `GET /appointments/availability` for the same query, in fewer bytes;
//! it refuses what the slot list refuses, and the document states the rule.

#[macro_use]
mod common;

use common::server::*;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use vetdesk_core::{Interval, SlotRun};

/// Each vet's slots as `(vet id, [start, end) …)`, from the slot list.
fn listed(body: &Value) -> Vec<(String, Vec<Interval>)> {
    vets(body)
        .iter()
        .map(|v| {
            let slots = v["slots"]
                .as_array()
                .expect("slots")
                .iter()
                .map(|s| interval(&s["start"], &s["end"]))
                .collect();
            (vet_id(v), slots)
        })
        .collect()
}

/// Each vet's slots as `(vet id, [start, end) …)`, from the runs, by `SlotRun::slots`.
fn expanded(body: &Value) -> Vec<(String, Vec<Interval>)> {
    let grid = u32::try_from(body["grid_min"].as_u64().expect("grid")).expect("grid");
    let duration = u32::try_from(body["duration_min"].as_u64().expect("duration")).expect("dur");
    vets(body)
        .iter()
        .map(|v| {
            let runs: Vec<SlotRun> = serde_json::from_value(v["runs"].clone()).expect("runs");
            let slots = runs
                .into_iter()
                .flat_map(|r| r.slots(grid, duration))
                .collect();
            (vet_id(v), slots)
        })
        .collect()
}

fn vets(body: &Value) -> &Vec<Value> {
    body["vets"].as_array().expect("vets")
}

fn vet_id(v: &Value) -> String {
    v["vet"]["id"].as_str().expect("vet id").to_string()
}

fn interval(start: &Value, end: &Value) -> Interval {
    let at = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("instant"))
            .expect("RFC 3339")
            .with_timezone(&chrono::Utc)
    };
    Interval::new(at(start), at(end)).expect("an interval")
}

fn run_count(body: &Value) -> usize {
    vets(body)
        .iter()
        .map(|v| v["runs"].as_array().map_or(0, Vec::len))
        .sum()
}

story!(
    async fn the_runs_expand_to_exactly_the_listed_slots(t) {
        let s = spawn_server(t).await;
        let (london, new_york) = (s.t.london.id, s.t.new_york.id);
        // Some bookings to cut the runs: back to back, one with a 15-minute gap, a surgery with buffers.
        for (vet, start, ty) in [
            (&s.t.ben_vet, "2027-03-02T10:00", s.t.consult.id),
            (&s.t.ben_vet, "2027-03-02T10:30", s.t.consult.id),
            (&s.t.ben_vet, "2027-03-02T11:15", s.t.consult.id),
            (&s.t.alice_vet, "2027-03-03T14:00", s.t.surgery.id),
        ] {
            let r = s
                .post(
                    "/appointments",
                    json!({ "clinic_id": london, "vet_id": vet.id, "pet_id": s.t.pet.id,
                            "type_id": ty, "start": start }),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        }
        let (alice, ben) = (s.t.alice_vet.id, s.t.ben_vet.id);
        let (consult, surgery) = (s.t.consult.id, s.t.surgery.id);
        let week = "start_date=2027-03-01&end_date=2027-03-07";
        for q in [
            format!("clinic_id={london}&{week}&duration_minutes=30"),
            format!("clinic_id={london}&{week}&type_id={consult}"),
            format!("clinic_id={london}&{week}&type_id={surgery}"),
            format!("clinic_id={london}&vet_id={ben}&{week}&duration_minutes=45&grid=30"),
            format!("clinic_id={london}&vet_id={alice}&{week}&duration_minutes=20&grid=60"),
            format!("clinic_id={london}&{week}&duration_minutes=30&min_notice=1500"),
            format!("clinic_id={new_york}&{week}&duration_minutes=30&grid=10"),
            // Across London's spring change (28 March 2027).
            format!("clinic_id={london}&start_date=2027-03-26&end_date=2027-03-30&duration_minutes=60&grid=45"),
        ] {
            let list = s.get(&format!("/appointments/availability?{q}")).await;
            let runs = s.get(&format!("/appointments/availability/runs?{q}")).await;
            assert_eq!(list.status, StatusCode::OK, "{q}: {list:?}");
            assert_eq!(runs.status, StatusCode::OK, "{q}: {runs:?}");
            for field in ["clinic", "first", "last", "duration_min", "grid_min"] {
                assert_eq!(runs.body[field], list.body[field], "{q}: {field}");
            }
            let want = listed(&list.body);
            assert!(want.iter().any(|(_, slots)| !slots.is_empty()), "{q}: no slots at all");
            assert_eq!(expanded(&runs.body), want, "{q}");
            // Compact: fewer runs than slots wherever slots come on the grid back to back.
            let slots: usize = want.iter().map(|(_, s)| s.len()).sum();
            assert!(run_count(&runs.body) < slots, "{q}: {} runs for {slots} slots", run_count(&runs.body));
        }

        // Ben on 2 March, 30 minutes on the 15-minute grid: the bookings at 10:00-11:00
        // and 11:15-11:45 end the first run and leave no slot between them.
        let day = s
            .get(&format!(
                "/appointments/availability/runs?clinic_id={london}&vet_id={ben}&start_date=2027-03-02&end_date=2027-03-02&type_id={consult}"
            ))
            .await;
        let ben_runs: Vec<(String, String)> = vets(&day.body)[0]["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .map(|r| (r["start"].as_str().unwrap_or("").to_string(), r["end"].as_str().unwrap_or("").to_string()))
            .collect();
        assert_eq!(
            ben_runs,
            [
                ("2027-03-02T09:00:00Z".to_string(), "2027-03-02T10:00:00Z".to_string()),
                ("2027-03-02T11:45:00Z".to_string(), "2027-03-02T17:00:00Z".to_string()),
            ],
            "{day:?}"
        );
    }
);

story!(
    async fn the_runs_refuse_what_the_slot_list_refuses_and_change_nothing(t) {
        let s = spawn_server(t).await;
        let before = s.t.footprint().await;
        let london = s.t.london.id;
        for q in [
            format!("clinic_id={london}&start_date=soon&end_date=2027-03-02&duration_minutes=30"),
            format!("clinic_id={london}&start_date=2027-03-02"),
            format!("clinic_id={london}&start_date=2027-03-05&end_date=2027-03-02&duration_minutes=30"),
            format!("clinic_id={london}&start_date=2027-03-02&end_date=2029-03-02&duration_minutes=30"),
            format!("clinic_id={london}&start_date=2027-03-02&end_date=2027-03-02&duration_minutes=30&grid=7"),
            format!("clinic_id={london}&start_date=2027-03-02&end_date=2027-03-02"),
            format!("clinic_id={}&start_date=2027-03-02&end_date=2027-03-02&duration_minutes=30", uuid::Uuid::now_v7()),
        ] {
            let list = s.get(&format!("/appointments/availability?{q}")).await;
            let runs = s.get(&format!("/appointments/availability/runs?{q}")).await;
            assert!(list.status.is_client_error(), "{q}: {list:?}");
            assert_eq!(runs.status, list.status, "{q}: {runs:?}");
            assert_eq!(runs.content_type, "application/problem+json", "{q}");
            assert_eq!(runs.body["code"], list.body["code"], "{q}: {runs:?}");
        }
        // Unauthenticated: a problem, not slots.
        let r = s
            .send_as(
                None,
                s.http.get(s.url(&format!(
                    "/appointments/availability/runs?clinic_id={london}&start_date=2027-03-02&end_date=2027-03-02&duration_minutes=30"
                ))),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
        assert_eq!(r.body["code"], "unauthenticated", "{r:?}");
        assert_eq!(s.t.footprint().await, before, "bad input changed nothing");
    }
);

story!(
    async fn the_document_states_the_expansion_rule(t) {
        let s = spawn_server(t).await;
        let doc = s.get("/api/v1/openapi.json").await.body;
        let op = &doc["paths"]["/api/v1/appointments/availability/runs"]["get"];
        assert_eq!(op["operationId"], "availability_runs");
        let text = format!("{} {}", op["summary"], op["description"]);
        assert!(
            text.contains("t = start, start + grid_min")
                && text.contains("while `t + duration_min <= end`"),
            "{text}"
        );
        assert!(doc["components"]["schemas"]["AvailabilityRunsView"].is_object());
        assert!(doc["components"]["schemas"]["SlotRunView"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("t + duration_min <= end")));
    }
);
