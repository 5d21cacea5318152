//! `ui/openapi.json` is the API's OpenAPI document as this code serves it; the
//! UI's wire types (`ui/src/transport/api.ts`) are generated from that file by
//! openapi-typescript (`scripts/gen-types`). This test fails when the file is
//! stale, so a change to a wire type cannot reach the UI unseen;
//! `scripts/ui-test` checks the second step the same way.
//!
//! `VETDESK_WRITE_OPENAPI=1` writes the file instead (what `scripts/gen-types` does).

use std::path::PathBuf;

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/openapi.json")
}

#[test]
fn the_ui_s_copy_of_the_openapi_document_is_current() {
    let mut now = serde_json::to_string_pretty(&vetdesk_http::openapi())
        .expect("the OpenAPI document serialises");
    now.push('\n');
    let path = committed();
    if std::env::var_os("VETDESK_WRITE_OPENAPI").is_some() {
        std::fs::write(&path, &now).expect("ui/openapi.json is writable");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == now,
        "ui/openapi.json is stale: run `bash scripts/gen-types` and commit the result"
    );
}

#[test]
fn the_appointment_list_documents_its_status_filter() {
    let doc = serde_json::to_value(vetdesk_http::openapi()).expect("serialises");
    let params = doc["paths"]["/api/v1/appointments"]["get"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let status = params
        .iter()
        .find(|p| p["name"] == "status")
        .expect("GET /appointments lists its status filter");
    assert_eq!(status["in"], "query");
    assert_eq!(status["explode"], true);
    let text = status.to_string();
    assert!(text.contains("StatusView"), "{text}");
}

#[test]
fn hyper_s_own_refusals_are_listed_on_every_operation() {
    let doc = serde_json::to_value(vetdesk_http::openapi()).expect("serialises");
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    assert!(!paths.is_empty());
    for (path, item) in paths {
        for (method, op) in item.as_object().cloned().unwrap_or_default() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            for status in ["400", "414", "431"] {
                let r = &op["responses"][status];
                assert!(
                    r["content"]["application/problem+json"].is_object(),
                    "{method} {path} does not list {status}"
                );
            }
        }
    }
}
