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

/// Every `$ref` in the document names a component it has.
#[test]
fn every_reference_resolves() {
    let doc = serde_json::to_value(vetdesk_http::openapi()).expect("serialises");
    let schemas = doc["components"]["schemas"].clone();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r} is not a schema reference"));
        assert!(schemas[name].is_object(), "{r} names no component");
    }
}

fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The schema a property or parameter ends at: itself, the non-null branch of
/// an optional one, or the component it names.
fn resolve<'a>(doc: &'a serde_json::Value, s: &'a serde_json::Value) -> &'a serde_json::Value {
    if let Some(r) = s["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = s[key].as_array() {
            if let Some(b) = branches.iter().find(|b| b["type"] != "null") {
                return resolve(doc, b);
            }
        }
    }
    s
}

fn says_what_it_takes(s: &serde_json::Value) -> bool {
    let has = |k: &str| !s[k].is_null();
    let ty =
        |t: &str| s["type"] == t || s["type"].as_array().is_some_and(|a| a.contains(&t.into()));
    if ty("string") {
        has("format") || has("enum") || has("pattern") || has("maxLength")
    } else if ty("integer") || ty("number") {
        has("minimum") && has("maximum")
    } else if ty("array") {
        true
    } else {
        has("enum") || ty("boolean") || ty("object")
    }
}

/// Inputs the API takes as they come: free search text, the sign-in pair
/// (checked against the store, never parsed), the audit log's free filters
/// and versions (compared with the record's, any number).
const FREE: [&str; 7] = [
    "LoginBody.username",
    "LoginBody.password",
    "query q",
    "query entity",
    "query actor",
    "version",
    "query version",
];

/// A constraint cannot go missing unseen: every property of every request
/// body and every query parameter says its format, its choices, its pattern,
/// its length or its range, unless it is one of the few free inputs above.
/// And the names of things carry the core's own limit.
#[test]
fn every_input_says_what_the_api_checks() {
    let doc = serde_json::to_value(vetdesk_http::openapi()).expect("serialises");
    let mut unsaid = Vec::new();
    let mut bodies = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
        for (method, op) in item.as_object().cloned().unwrap_or_default() {
            if let Some(r) =
                op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            {
                bodies.insert(r.trim_start_matches("#/components/schemas/").to_string());
            }
            for p in op["parameters"].as_array().cloned().unwrap_or_default() {
                if p["in"] != "query" && p["in"] != "path" {
                    continue;
                }
                let name = p["name"].as_str().unwrap_or_default();
                let key = format!("query {name}");
                if !FREE.contains(&key.as_str()) && !says_what_it_takes(resolve(&doc, &p["schema"]))
                {
                    unsaid.push(format!("{method} {path} ?{name}"));
                }
            }
        }
    }
    assert!(bodies.len() > 15, "{bodies:?}");
    for body in &bodies {
        let schema = &doc["components"]["schemas"][body];
        for (prop, s) in schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default()
        {
            let key = format!("{body}.{prop}");
            if FREE.contains(&key.as_str()) || FREE.contains(&prop.as_str()) {
                continue;
            }
            if !says_what_it_takes(resolve(&doc, &s)) {
                unsaid.push(key);
            }
        }
    }
    assert!(
        unsaid.is_empty(),
        "these inputs do not say what the API checks: {unsaid:#?}"
    );

    let names = [
        ("ClinicBody", "name"),
        ("VetBody", "name"),
        ("ClientBody", "name"),
        ("PetBody", "name"),
        ("PetBody", "species"),
        ("AppointmentTypeBody", "name"),
        ("UserBody", "display_name"),
    ];
    for (body, prop) in names {
        let s = resolve(
            &doc,
            &doc["components"]["schemas"][body]["properties"][prop],
        );
        assert_eq!(s["maxLength"], vetdesk_core::NAME_MAX, "{body}.{prop}");
        assert_eq!(s["minLength"], 1, "{body}.{prop}");
    }
    let notes = [
        ("BookBody", "notes"),
        ("TimeOffBody", "reason"),
        ("CancelBody", "reason"),
    ];
    for (body, prop) in notes {
        let s = resolve(
            &doc,
            &doc["components"]["schemas"][body]["properties"][prop],
        );
        assert_eq!(s["maxLength"], vetdesk_core::TEXT_MAX, "{body}.{prop}");
    }
    let duration = resolve(
        &doc,
        &doc["components"]["schemas"]["BookBody"]["properties"]["duration_minutes"],
    );
    assert_eq!(duration["minimum"], vetdesk_core::APPOINTMENT_MIN_MINUTES);
    assert_eq!(duration["maximum"], vetdesk_core::APPOINTMENT_MAX_MINUTES);
}
