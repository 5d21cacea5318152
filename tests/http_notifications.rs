//! The outbox, message templates and notification settings over HTTP, on
//! both stores: what each endpoint returns, and that every bad request gets a
//! typed 4xx and changes nothing (no write, no audit line).

#[macro_use]
mod common;

use common::server::*;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{r:?}");
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "{r:?}"
    );
    assert_eq!(r.body["code"], code, "{r:?}");
}

impl Server {
    async fn ok(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.call(Some(token), method, path, body).await;
        assert!(r.status.is_success(), "{path}: {r:?}");
        r.body
    }

    async fn audit_total(&self) -> u64 {
        self.ok(&self.admin, Method::GET, "/audit?limit=1", None)
            .await["total"]
            .as_u64()
            .expect("total")
    }

    /// Each of these requests is refused with `status` and `code`, and none of
    /// them writes anything.
    async fn all_refused(&self, token: &str, cases: &[(Method, String, Option<Value>, u16, &str)]) {
        let before = self.audit_total().await;
        for (method, path, body, status, code) in cases {
            let r = self
                .call(Some(token), method.clone(), path, body.clone())
                .await;
            assert_eq!(r.status.as_u16(), *status, "{method} {path}: {r:?}");
            assert_eq!(r.body["code"], *code, "{method} {path}: {r:?}");
        }
        assert_eq!(self.audit_total().await, before, "a refused request wrote");
    }
}

story!(
    async fn the_outbox_lists_pages_previews_and_retries(t) {
        let s = spawn_server(t).await;
        let a = s
            .ok(&s.admin, Method::POST, "/appointments", Some(json!({
                "clinic_id": s.t.london.id, "vet_id": s.t.alice_vet.id, "pet_id": s.t.pet.id,
                "type_id": s.t.consult.id, "start": "2027-03-03T10:00" })))
            .await;
        let appointment = a["id"].as_str().expect("id").to_string();
        let page = s
            .ok(&s.desk, Method::GET, &format!("/outbox?appointment_id={appointment}"), None)
            .await;
        // The vet's "starting soon" on their desktop, and for Olivia (by email,
        // her channel) a confirmation and the 24 h and 2 h reminders.
        assert_eq!(page["total"], 4, "{page}");
        let email = s
            .ok(&s.desk, Method::GET, &format!("/outbox?appointment_id={appointment}&channel=email"), None)
            .await;
        let items = email["items"].as_array().expect("items");
        let mut kinds: Vec<&str> = items.iter().map(|m| m["kind"].as_str().unwrap_or("")).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["confirmation", "reminder", "reminder"], "{email}");
        assert!(items.iter().all(|m| m["status"] == "pending" && m["channel"] == "email"));

        // Paging: bounded, and the pages add up.
        let one = s
            .ok(&s.vet, Method::GET, &format!("/outbox?appointment_id={appointment}&channel=email&limit=1&offset=2"), None)
            .await;
        assert_eq!((one["items"].as_array().map(Vec::len), &one["total"]), (Some(1), &json!(3)));
        assert_eq!(one["items"][0], items[2]);

        // Preview: what Olivia would read now.
        let confirmation = items
            .iter()
            .find(|m| m["kind"] == "confirmation")
            .expect("a confirmation");
        let mid = confirmation["id"].as_str().expect("id").to_string();
        let p = s.ok(&s.vet, Method::GET, &format!("/outbox/{mid}/preview"), None).await;
        assert_eq!(p["message"]["id"], mid.as_str());
        assert_eq!(p["prepared"]["action"], "send", "{p}");
        assert_eq!(p["prepared"]["to"]["address"], "olivia@example.com");
        assert!(p["prepared"]["rendered"]["text"].as_str().unwrap_or("").contains("Biscuit"), "{p}");
        assert!(p["prepared"]["ics"].as_str().unwrap_or("").contains("BEGIN:VCALENDAR"), "{p}");

        // Bad requests: typed, and nothing changes.
        let nobody = uuid::Uuid::now_v7();
        s.all_refused(&s.desk, &[
            (Method::GET, "/outbox?limit=501".into(), None, 422, "invalid_input"),
            (Method::GET, "/outbox?limit=-1".into(), None, 400, "invalid_input"),
            (Method::GET, "/outbox?status=lost".into(), None, 422, "invalid_input"),
            (Method::GET, "/outbox?channel=pigeon".into(), None, 422, "invalid_input"),
            (Method::GET, "/outbox?colour=red".into(), None, 400, "invalid_input"),
            (Method::GET, "/outbox/not-a-uuid".into(), None, 400, "invalid_input"),
            (Method::GET, format!("/outbox/{nobody}"), None, 404, "not_found"),
            (Method::POST, format!("/outbox/{nobody}/retry"), None, 404, "not_found"),
            // Only a failed or skipped message can be retried.
            (Method::POST, format!("/outbox/{mid}/retry"), None, 422, "invalid_input"),
        ]).await;
        let still = s.ok(&s.admin, Method::GET, &format!("/outbox/{mid}"), None).await;
        assert_eq!(&still, confirmation);

        // The worker gave up on it; the front desk sends it again.
        s.t.db
            .execute("UPDATE outbox SET status = 'failed', attempts = 5, last_error = 'the SMTP server refused: 550 no such mailbox' WHERE kind = 'confirmation' AND status = 'pending'")
            .await
            .expect("fail it");
        let failed = s.ok(&s.desk, Method::GET, "/outbox?status=failed", None).await;
        assert_eq!(failed["total"], 1, "{failed}");
        assert_eq!(failed["items"][0]["id"], mid.as_str());
        assert!(failed["items"][0]["last_error"].as_str().unwrap_or("").contains("550"));
        let before = s.audit_total().await;
        let retried = s.ok(&s.desk, Method::POST, &format!("/outbox/{mid}/retry"), None).await;
        assert_eq!(retried["status"], "pending");
        assert_eq!(s.audit_total().await, before + 1);
        let line = s.ok(&s.admin, Method::GET, "/audit?limit=1", None).await;
        assert_eq!(line["items"][0]["action"], "outbox.retry");
        assert_eq!(line["items"][0]["actor"], "desk");
        assert_eq!(s.ok(&s.desk, Method::GET, "/outbox?status=failed", None).await["total"], 0);
        // A vet may look, not retry.
        s.t.db
            .execute("UPDATE outbox SET status = 'failed' WHERE kind = 'confirmation'")
            .await
            .expect("fail it again");
        let r = s.call(Some(&s.vet), Method::POST, &format!("/outbox/{mid}/retry"), None).await;
        assert_problem(&r, 403, "forbidden");
    }
);

story!(
    async fn templates_are_read_changed_previewed_and_reset(t) {
        let s = spawn_server(t).await;
        let all = s.ok(&s.desk, Method::GET, "/templates", None).await;
        let all = all.as_array().expect("templates");
        assert!(all.len() >= 10, "every kind × channel: {}", all.len());
        assert!(all.iter().all(|t| t["custom"] == false));
        let default = s.ok(&s.vet, Method::GET, "/templates/reminder/sms", None).await;
        assert_eq!((&default["kind"], &default["channel"], &default["subject"]), (&json!("reminder"), &json!("sms"), &Value::Null));

        s.all_refused(&s.admin, &[
            (Method::GET, "/templates/birthday/sms".into(), None, 422, "invalid_input"),
            (Method::GET, "/templates/checked_in/sms".into(), None, 422, "invalid_input"),
            (Method::PUT, "/templates/reminder/sms".into(), Some(json!({ "body": "{pet} at {nope}" })), 422, "invalid_input"),
            (Method::PUT, "/templates/reminder/sms".into(), Some(json!({ "body": "{pet" })), 422, "invalid_input"),
            (Method::PUT, "/templates/reminder/sms".into(), Some(json!({ "body": "" })), 422, "invalid_input"),
            (Method::PUT, "/templates/reminder/pigeon".into(), Some(json!({ "body": "{pet}" })), 422, "invalid_input"),
            (Method::PUT, "/templates/reminder/sms".into(), Some(json!({ "body": "{pet}", "colour": "red" })), 422, "invalid_input"),
            (Method::PUT, "/templates/reminder/sms".into(), Some(json!({ "text": "{pet}" })), 422, "invalid_input"),
            (Method::POST, "/templates/birthday/email/reset".into(), None, 422, "invalid_input"),
            (Method::GET, "/templates/reminder/sms/preview?appointment_id=nope".into(), None, 400, "invalid_input"),
            (Method::GET, format!("/templates/reminder/sms/preview?appointment_id={}", uuid::Uuid::now_v7()), None, 404, "not_found"),
        ]).await;
        assert_eq!(s.ok(&s.admin, Method::GET, "/templates/reminder/sms", None).await, default);

        let saved = s
            .ok(&s.admin, Method::PUT, "/templates/reminder/sms", Some(json!({ "body": "{clinic}: {pet} is seen {when}." })))
            .await;
        assert_eq!((&saved["custom"], &saved["version"], &saved["updated_by"]), (&json!(true), &json!(1), &json!("admin")));
        // A change against an old version is refused and changes nothing.
        let before = s.audit_total().await;
        let r = s
            .call(Some(&s.admin), Method::PUT, "/templates/reminder/sms", Some(json!({ "body": "{pet}!", "version": 7 })))
            .await;
        assert_problem(&r, 409, "stale_version");
        assert_eq!(s.audit_total().await, before);
        let a = s
            .ok(&s.admin, Method::POST, "/appointments", Some(json!({
                "clinic_id": s.t.london.id, "vet_id": s.t.alice_vet.id, "pet_id": s.t.pet.id,
                "type_id": s.t.consult.id, "start": "2027-03-03T10:00" })))
            .await;
        let preview = s
            .ok(&s.desk, Method::GET, &format!("/templates/reminder/sms/preview?appointment_id={}", a["id"].as_str().expect("id")), None)
            .await;
        let text = preview["text"].as_str().expect("text");
        assert!(text.starts_with("Riverside London: Biscuit is seen "), "{text}");
        assert_eq!(preview["subject"], Value::Null);
        let sample = s.ok(&s.desk, Method::GET, "/templates/confirmation/email/preview", None).await;
        assert!(sample["subject"].is_string() && sample["html"].is_string(), "{sample}");

        let reset = s.ok(&s.admin, Method::POST, "/templates/reminder/sms/reset", None).await;
        assert_eq!(reset["custom"], false);
        assert_eq!(s.ok(&s.admin, Method::GET, "/templates/reminder/sms", None).await, default);
        // Front desk and vets read templates but do not change them.
        for token in [&s.desk, &s.vet] {
            let r = s
                .call(Some(token), Method::PUT, "/templates/reminder/sms", Some(json!({ "body": "{pet}" })))
                .await;
            assert_problem(&r, 403, "forbidden");
        }
    }
);

story!(
    async fn a_clinics_notification_settings_are_read_and_changed(t) {
        let s = spawn_server(t).await;
        let path = format!("/clinics/{}/notification-settings", s.t.london.id);
        let defaults = s.ok(&s.desk, Method::GET, &path, None).await;
        assert_eq!(defaults["reminder_offsets_min"], json!([1440, 120]));
        assert_eq!(defaults["quiet_hours"], "20:00-08:00");
        assert_eq!(defaults["version"], Value::Null);

        let nobody = uuid::Uuid::now_v7();
        s.all_refused(&s.admin, &[
            (Method::PATCH, path.clone(), Some(json!({ "quiet_hours": "25:00-08:00" })), 422, "invalid_input"),
            (Method::PATCH, path.clone(), Some(json!({ "reminder_offsets": "soon" })), 422, "invalid_input"),
            (Method::PATCH, path.clone(), Some(json!({ "reminder_offsets": "-5" })), 422, "invalid_input"),
            (Method::PATCH, path.clone(), Some(json!({ "staff_heads_up": "5,10" })), 422, "invalid_input"),
            (Method::PATCH, path.clone(), Some(json!({ "channels": "email" })), 422, "invalid_input"),
            (Method::PATCH, path.clone(), Some(json!({ "quiet_hours": 5 })), 422, "invalid_input"),
            (Method::PATCH, path.clone(), Some(json!({ "quiet_hours": "none", "version": 3 })), 409, "stale_version"),
            (Method::PATCH, format!("/clinics/{nobody}/notification-settings"), Some(json!({ "quiet_hours": "none" })), 404, "not_found"),
            (Method::GET, format!("/clinics/{nobody}/notification-settings"), None, 404, "not_found"),
        ]).await;
        assert_eq!(s.ok(&s.admin, Method::GET, &path, None).await, defaults);

        let changed = s
            .ok(&s.admin, Method::PATCH, &path, Some(json!({ "reminder_offsets": "48h,2h", "quiet_hours": "21:00-07:30", "version": 0 })))
            .await;
        assert_eq!(changed["reminder_offsets_min"], json!([2880, 120]));
        assert_eq!(changed["quiet_hours"], "21:00-07:30");
        assert_eq!(changed["version"], 1);
        assert_eq!(changed["staff_heads_up_min"], defaults["staff_heads_up_min"]);
        assert_eq!(s.ok(&s.vet, Method::GET, &path, None).await, changed);
        let r = s.call(Some(&s.desk), Method::PATCH, &path, Some(json!({ "quiet_hours": "none" }))).await;
        assert_problem(&r, 403, "forbidden");
    }
);
