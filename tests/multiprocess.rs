//! Four separate processes (the real `vetdesk` binary, as four workstations
//! would run it) race to book the same slots on one SQLite file: exactly one
//! wins each slot, every other attempt exits with the conflict code, and no
//! two time-holding appointments of a vet overlap.

#[macro_use]
mod common;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use common::*;
use std::process::{Command, Stdio};

/// A Monday far enough ahead that the wall clock never makes it "the past".
fn future_monday() -> NaiveDate {
    let mut d = date("2099-06-01");
    while d.weekday() != Weekday::Mon {
        d += Duration::days(1);
    }
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_race_for_the_same_slots() {
    let t = spawn_app().await;
    let day = future_monday();
    let path = t.url.trim_start_matches("sqlite://").to_string();
    let slots: Vec<String> = (0..8)
        .map(|i| format!("{day}T{:02}:{:02}", 9 + i / 2, (i % 2) * 30))
        .collect();
    for slot in &slots {
        let children: Vec<_> = (0..4)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_vetdesk"))
                    .args(["--db", &path, "--as", "racer", "book"])
                    .args([
                        "--clinic",
                        &t.london.id.to_string(),
                        "--vet",
                        &t.ben_vet.id.to_string(),
                    ])
                    .args([
                        "--pet",
                        &t.pet.id.to_string(),
                        "--type",
                        &t.consult.id.to_string(),
                        "--start",
                        slot,
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn vetdesk")
            })
            .collect();
        let mut codes = Vec::new();
        for c in children {
            let out = c.wait_with_output().expect("wait");
            let code = out.status.code().unwrap_or(-1);
            if code != 0 {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    err.contains("overlaps appointment"),
                    "slot {slot}: exit {code}: {err}"
                );
            }
            codes.push(code);
        }
        codes.sort();
        assert_eq!(
            codes,
            vec![0, 4, 4, 4],
            "slot {slot}: one winner, three conflicts"
        );
    }
    assert_eq!(t.count("appointments").await, slots.len() as i64);
    assert_eq!(t.overlapping_pairs().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_import_ten_thousand_attempts_without_double_booking() {
    let t = spawn_app().await;
    let vets = t.race_vets().await;
    let n = attempts_wanted();
    let list = attempts(&vets, n);
    let path = t.url.trim_start_matches("sqlite://").to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut children = Vec::new();
    for p in 0..4usize {
        let file = dir.path().join(format!("desk-{p}.jsonl"));
        let lines: Vec<String> = list
            .iter()
            .skip(p)
            .step_by(4)
            .map(|(vet, day, minute)| {
                serde_json::json!({
                    "clinic": t.london.id.to_string(),
                    "vet": vet.to_string(),
                    "pet": t.pet.id.to_string(),
                    "type": t.consult.id.to_string(),
                    "start": format!("{day}T{:02}:{:02}", minute / 60, minute % 60),
                })
                .to_string()
            })
            .collect();
        std::fs::write(&file, lines.join("\n")).unwrap();
        children.push(
            Command::new(env!("CARGO_BIN_EXE_vetdesk"))
                .args([
                    "--db",
                    &path,
                    "--json",
                    "--as",
                    &format!("desk-{p}"),
                    "import",
                ])
                .arg(&file)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn vetdesk"),
        );
    }
    let (mut booked, mut conflicts) = (0, 0);
    for c in children {
        let out = c.wait_with_output().expect("wait");
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 4,
            "exit {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        assert_eq!(report["failed"], 0, "{report}");
        booked += report["booked"].as_array().map_or(0, Vec::len);
        conflicts += report["conflicts"].as_u64().unwrap_or(0) as usize;
    }
    assert_eq!(booked + conflicts, n);
    assert_eq!(t.count("appointments").await, booked as i64);
    assert_eq!(t.overlapping_pairs().await, 0);
    eprintln!("4 processes: {booked} booked, {conflicts} refused as conflicts");
}
