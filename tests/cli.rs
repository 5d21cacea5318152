//! The `vetdesk` binary as a person or a script uses it: real processes, a
//! fresh SQLite file per test, assertions on stdout, stderr and exit codes.
//!
//! Commands are written as they would be typed (`'...'` quotes an argument
//! with spaces, `''` is an empty one). Most tests build a tiny practice through
//! the CLI itself, on dates far in the future so "now" never gets in the way;
//! two seed the demo practice.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use tempfile::TempDir;

/// A Monday and the Tuesday after it, in British Summer Time.
const MON: &str = "2099-06-01";
const TUE: &str = "2099-06-02";

/// Split a command line on spaces, keeping `'quoted words'` together.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            ' ' if !quoted => out.extend(word.take()),
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    out
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    /// Assert a failure with `code`, reported as exactly one `error:` line mentioning `needle`.
    #[track_caller]
    fn fails(&self, code: i32, needle: &str) {
        let (out, err) = (&self.stdout, &self.stderr);
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {out}\nstderr: {err}"
        );
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "expected one line on stderr, got: {err}");
        assert!(lines[0].starts_with("error: "), "{err}");
        let found = lines[0].to_lowercase().contains(&needle.to_lowercase());
        assert!(found, "expected '{needle}' in: {err}");
    }
}

struct Vetdesk {
    _dir: TempDir,
    db: PathBuf,
}

impl Vetdesk {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("t.db");
        Vetdesk { _dir: dir, db }
    }

    fn run(&self, line: &str) -> Out {
        let out = Command::new(env!("CARGO_BIN_EXE_vetdesk"))
            .arg("--db")
            .arg(&self.db)
            .args(words(line))
            .env_remove("VETDESK_DATABASE_URL")
            .env("VETDESK_LOG", "warn")
            .env("USER", "tester")
            .output()
            .expect("run vetdesk");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Run with `input` on standard input.
    fn run_with_input(&self, line: &str, input: &str) -> Out {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_vetdesk"))
            .arg("--db")
            .arg(&self.db)
            .args(words(line))
            .env_remove("VETDESK_DATABASE_URL")
            .env_remove("VETDESK_NEW_PASSWORD")
            .env("VETDESK_LOG", "warn")
            .env("USER", "tester")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run vetdesk");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait for vetdesk");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Run, expecting success; the stdout.
    #[track_caller]
    fn ok(&self, line: &str) -> String {
        let out = self.run(line);
        let (o, e) = (&out.stdout, &out.stderr);
        assert_eq!(
            out.code, 0,
            "vetdesk {line} failed\nstdout: {o}\nstderr: {e}"
        );
        out.stdout
    }

    /// Run with `--json`, expecting success; the parsed output.
    #[track_caller]
    fn json(&self, line: &str) -> Value {
        let text = self.ok(&format!("--json {line}"));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("vetdesk {line} printed bad JSON ({e}): {text}"))
    }

    fn count(&self, line: &str) -> usize {
        self.json(line).as_array().map_or(0, Vec::len)
    }

    fn appointment_total(&self) -> u64 {
        self.json("appointments")["total"].as_u64().unwrap_or(0)
    }
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// Two vets with a lunch break every Monday and Tuesday, two types, two owners, three pets.
struct Practice {
    vd: Vetdesk,
    rex: String,
    whiskers: String,
}

impl Practice {
    fn new() -> Self {
        let vd = Vetdesk::new();
        vd.ok("clinics add --name 'Testville Surgery' --tz Europe/London");
        vd.ok("vets add --name 'Dr Ann Able' --clinic testville");
        vd.ok("vets add --name 'Dr Bob Baker' --clinic testville");
        for vet in ["ann", "bob"] {
            for day in ["mon", "tue"] {
                for span in ["09:00-12:00", "13:00-17:00"] {
                    vd.ok(&format!(
                        "hours add --vet {vet} --clinic testville --day {day} --span {span}"
                    ));
                }
            }
        }
        vd.ok("types add --name Checkup --duration 30 --colour #112233");
        vd.ok("types add --name 'Quick look' --duration 10 --colour #445566 --buffer-after 5");
        vd.ok("clients add --name 'Carol Client' --email carol@example.com");
        vd.ok("clients add --name 'Dave Dogowner' --phone '+44 7700 900001' --prefer sms");
        let rex = id_of(&vd.json("pets add --owner carol --name Rex --species dog"));
        vd.ok("pets add --owner carol --name Rexina --species dog --born 2020-02-29");
        let whiskers = id_of(&vd.json("pets add --owner dave --name Whiskers --species cat"));
        Practice { vd, rex, whiskers }
    }

    /// Book a checkup with Dr Ann Able; the appointment's JSON.
    #[track_caller]
    fn book(&self, pet: &str, start: &str) -> Value {
        self.vd.json(&format!(
            "book --clinic testville --vet ann --pet {pet} --type checkup --start {start}"
        ))
    }
}

fn today_plus(days: i64) -> String {
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    (now.date_naive() + chrono::Duration::days(days)).to_string()
}

#[test]
fn command_lines_split_like_a_shell() {
    assert_eq!(
        words("a --name 'Dr Zed' --spans '' b"),
        ["a", "--name", "Dr Zed", "--spans", "", "b"]
    );
}

// ---------- the demo practice ----------

#[test]
fn init_demo_seeds_once_and_lists_show_the_practice() {
    let vd = Vetdesk::new();
    let out = vd.ok("init --demo");
    assert!(out.contains(&vd.db.display().to_string()), "{out}");
    for count in ["2 clinics", "6 vets", "5 appointment types", "200 clients"] {
        assert!(out.contains(count), "missing '{count}' in: {out}");
    }

    vd.run("init --demo").fails(8, "already holds a practice");
    assert_eq!(vd.count("clinics"), 2, "a refused seed adds nothing");

    let clinics = vd.ok("clinics");
    for name in [
        "Riverside Veterinary Clinic",
        "Hudson Animal Hospital",
        "America/New_York",
    ] {
        assert!(clinics.contains(name), "missing {name} in: {clinics}");
    }
    let vets = vd.ok("vets list --clinic riverside");
    assert!(
        vets.contains("Dr Alice Morgan") && vets.contains("Dr Ben Okafor"),
        "{vets}"
    );
    assert!(
        !vets.contains("Dr Emily Chen"),
        "only Riverside's vets: {vets}"
    );
    let types = vd.ok("types");
    for t in [
        "Consultation",
        "Vaccination",
        "Dental cleaning",
        "Surgery",
        "Follow-up",
    ] {
        assert!(types.contains(t), "missing {t} in: {types}");
    }
    assert!(vd.appointment_total() > 100);
}

#[test]
fn a_slot_from_availability_books_once_and_only_once() {
    let vd = Vetdesk::new();
    vd.ok("init --demo");
    // Beyond the demo's three weeks of bookings, Dr Okafor has a free week.
    let query = format!(
        "availability --clinic riverside --vet okafor --type consultation --from {} --to {}",
        today_plus(21),
        today_plus(27)
    );
    let avail = vd.json(&query);
    assert_eq!(avail["duration_min"], 20);
    let slots = avail["vets"][0]["slots"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!slots.is_empty(), "no slots in {avail}");
    let start = slots[0]["start"].as_str().expect("slot start").to_string();

    let pets = vd.json("pets --limit 2");
    let book = |pet: &Value| {
        vd.run(&format!(
            "--json book --clinic riverside --vet okafor --pet {} --type consultation --start {start}",
            id_of(pet)
        ))
    };
    let first = book(&pets[0]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let booked: Value = serde_json::from_str(&first.stdout).expect("booking JSON");
    assert_eq!(booked["status"], "scheduled");
    assert_eq!(booked["created_by"], "tester");
    let id = id_of(&booked);

    let total = vd.appointment_total();
    book(&pets[1]).fails(4, &id);
    assert_eq!(
        vd.appointment_total(),
        total,
        "a refused booking adds nothing"
    );

    let after = vd.json(&query);
    let offered = after["vets"][0]["slots"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s["start"] == start.as_str()));
    assert!(!offered, "{start} is still offered");
}

// ---------- scheduling questions ----------

#[test]
fn check_conflicts_says_free_or_names_every_reason() {
    let p = Practice::new();
    let id = id_of(&p.book(&p.rex, &format!("{MON}T10:00")));
    let check = |start: &str, end: &str| {
        p.vd.run(&format!(
            "check-conflicts --clinic testville --vet ann --start {MON}T{start} --end {MON}T{end}"
        ))
    };

    let busy = check("10:15", "10:45");
    assert_eq!(busy.code, 4, "{}", busy.stderr);
    assert!(busy.stdout.contains(&id), "{}", busy.stdout);
    assert!(
        busy.stdout.contains("10:00–10:30"),
        "local times: {}",
        busy.stdout
    );

    // Half-open intervals: back to back is fine.
    let free = check("10:30", "11:00");
    assert_eq!(free.code, 0, "{}", free.stdout);
    assert_eq!(free.stdout.trim(), "free");

    let lunch = check("12:30", "13:00");
    assert_eq!(lunch.code, 4);
    assert!(lunch.stdout.contains("break"), "{}", lunch.stdout);

    let json = p.vd.run(&format!(
        "--json check-conflicts --clinic testville --vet ann --start {MON}T11:45 --end {MON}T12:15"
    ));
    assert_eq!(json.code, 4);
    let report: Value = serde_json::from_str(&json.stdout).expect("report JSON");
    assert_eq!(report["ok"], false);
    assert_eq!(report["conflicts"][0]["kind"], "outside_working_hours");
}

#[test]
fn why_explains_breaks_and_closed_hours() {
    let p = Practice::new();
    let why = |at: &str| {
        p.vd.ok(&format!("why --vet ann --clinic testville --at {at}"))
    };
    let free = why(&format!("{MON}T10:00"));
    assert!(free.contains(": free"), "{free}");
    let lunch = why(&format!("{MON}T12:15"));
    assert!(
        lunch.contains("not free") && lunch.contains("break"),
        "{lunch}"
    );
    assert!(
        lunch.contains("resumes at 2099-06-01 13:00"),
        "local time: {lunch}"
    );
    let evening = why(&format!("{MON}T20:00"));
    assert!(
        evening.contains("outside the vet's working hours"),
        "{evening}"
    );

    // A day off by override, and a day of time off.
    p.vd.ok(&format!(
        "override set --vet ann --clinic testville --date {MON} --spans ''"
    ));
    let off = why(&format!("{MON}T10:00"));
    assert!(off.contains("outside the vet's working hours"), "{off}");
    p.vd.ok(&format!(
        "time-off add --vet ann --date {TUE} --reason Conference"
    ));
    let away = why(&format!("{TUE}T10:00"));
    assert!(
        away.contains("time off") && away.contains("Conference"),
        "{away}"
    );

    let slots = p.vd.json(&format!(
        "availability --clinic testville --vet ann --from {MON} --to {TUE} --duration 30"
    ));
    let count = slots["vets"][0]["slots"].as_array().map(Vec::len);
    assert_eq!(count, Some(0), "{slots}");
}

// ---------- the lifecycle ----------

#[test]
fn an_appointment_goes_from_booked_to_completed() {
    let p = Practice::new();
    let id = id_of(&p.book(&p.rex, &format!("{MON}T09:00")));
    for (cmd, status) in [
        ("confirm", "confirmed"),
        ("check-in", "checked_in"),
        ("start", "in_progress"),
    ] {
        let out = p.vd.ok(&format!("{cmd} {id}"));
        assert!(out.contains(status), "{cmd}: {out}");
    }
    let done =
        p.vd.json(&format!("complete {id} --note 'All well' --as dr-ann"));
    assert_eq!(done["status"], "completed");
    assert_eq!(done["meta"]["version"], 5);

    let shown = p.vd.ok(&format!("show {id}"));
    for line in [
        "confirm",
        "check_in",
        "in_progress",
        "All well",
        "dr-ann",
        "2099-06-01 09:00–09:30",
    ] {
        assert!(shown.contains(line), "missing '{line}' in: {shown}");
    }
    p.vd.run(&format!("cancel {id}"))
        .fails(6, "cannot cancel an appointment that is completed");
}

#[test]
fn a_cancelled_appointment_cannot_be_completed_and_frees_its_time() {
    let p = Practice::new();
    let start = format!("{MON}T14:00");
    let id = id_of(&p.book(&p.rex, &start));
    let cancelled = p.vd.json(&format!("cancel {id} --reason 'Owner is away'"));
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "Owner is away");
    p.vd.run(&format!("complete {id}"))
        .fails(6, "cannot complete an appointment that is cancelled");
    p.book(&p.whiskers, &start);
}

#[test]
fn a_stale_version_is_refused() {
    let p = Practice::new();
    let id = id_of(&p.book(&p.rex, &format!("{MON}T09:30")));
    p.vd.ok(&format!("confirm {id} --expect-version 1"));
    p.vd.run(&format!("check-in {id} --expect-version 1"))
        .fails(5, "changed by someone else");
    p.vd.ok(&format!("check-in {id} --expect-version 2"));

    p.vd.run("clinics edit testville --name Renamed --expect-version 7")
        .fails(5, "changed by someone else");
    assert_eq!(p.vd.json("clinics")[0]["name"], "Testville Surgery");
}

#[test]
fn rescheduling_moves_checks_and_reports_conflicts() {
    let p = Practice::new();
    let first = id_of(&p.book(&p.rex, &format!("{MON}T09:00")));
    let second = id_of(&p.book(&p.whiskers, &format!("{MON}T10:00")));
    p.vd.ok(&format!("confirm {first}"));
    let moved = p.vd.json(&format!(
        "reschedule {first} --start {MON}T11:00 --note 'Owner asked'"
    ));
    assert_eq!(
        moved["status"], "scheduled",
        "a moved appointment is confirmed again"
    );
    assert_eq!(moved["local"]["local_start"], format!("{MON}T11:00:00"));
    p.vd.run(&format!("reschedule {first} --start {MON}T10:15"))
        .fails(4, &second);
    let to_bob =
        p.vd.json(&format!("reschedule {first} --start {MON}T15:00 --vet bob"));
    assert_eq!(to_bob["vet_name"], "Dr Bob Baker");
}

// ---------- finding things ----------

#[test]
fn names_must_match_exactly_one_record() {
    let p = Practice::new();
    let book = |vet: &str, pet: &str| {
        p.vd.run(&format!(
            "book --clinic testville --vet '{vet}' --pet {pet} --type checkup --start {MON}T09:00"
        ))
    };
    book("Dr Zed", "rex").fails(3, "no vet matches 'Dr Zed'");
    let ambiguous = book("dr", "rex");
    ambiguous.fails(2, "matches 2 vets");
    assert!(ambiguous.stderr.contains("Dr Ann Able") && ambiguous.stderr.contains("Dr Bob Baker"));
    book("ann", "nobody").fails(3, "no pet matches 'nobody'");
    p.vd.run("vets --clinic Atlantis")
        .fails(3, "no clinic matches 'Atlantis'");
    p.vd.run("pets --owner zoe")
        .fails(3, "no owner matches 'zoe'");

    // "rex" is Rex exactly, not Rexina; "rexi" is only Rexina.
    let booked = book("ANN", "rex");
    assert_eq!(booked.code, 0, "{}", booked.stderr);
    let shown = p.vd.json("appointments --pet rex");
    assert_eq!(shown["items"][0]["pet_name"], "Rex");
    assert_eq!(shown["items"][0]["client_name"], "Carol Client");
    assert_eq!(p.vd.count("pets --owner carol --search rexi"), 1);
    // A pet of another owner is refused.
    p.vd.run(&format!(
        "book --clinic testville --vet ann --pet {} --client carol --type checkup --start {MON}T10:00",
        p.whiskers
    ))
    .fails(2, "belongs to another owner");
}

#[test]
fn bad_input_is_refused_clearly_and_changes_nothing() {
    let p = Practice::new();
    p.book(&p.rex, &format!("{MON}T09:00"));
    let appointments = p.vd.appointment_total();
    let clinics = p.vd.count("clinics");
    let time_off = p.vd.count("time-off list");

    let book = |rest: &str| {
        p.vd.run(&format!(
            "book --clinic testville --vet bob --pet whiskers --type checkup {rest}"
        ))
    };
    book("--start 2099-13-01T10:00").fails(2, "'2099-13-01T10:00' is not a valid date and time");
    book("--start 'next tuesday'").fails(2, "is not a valid date and time");
    book(&format!("--start {MON}T10:00 --duration 0"))
        .fails(2, "duration must be between 5 and 720 minutes, got 0");
    book(&format!("--start {MON}T10:00 --duration -15")).fails(2, "got -15");
    book(&format!("--start {MON}T10:00:30")).fails(2, "whole minute");

    p.vd.run(&format!(
        "check-conflicts --clinic testville --vet bob --start {MON}T11:00 --end {MON}T10:00"
    ))
    .fails(2, "must be after the start");
    p.vd.run(&format!(
        "time-off add --vet bob --start {TUE}T12:00 --end {TUE}T09:00"
    ))
    .fails(2, "must be after the start");
    p.vd.run("time-off add --vet bob --date 2099-02-30")
        .fails(2, "'2099-02-30' is not a valid date");
    p.vd.run("clinics add --name 'Moon Base' --tz Mars/Olympus_Mons")
        .fails(2, "'Mars/Olympus_Mons' is not a known IANA time zone");
    p.vd.run("availability --clinic testville --from 01/06/2099 --duration 30")
        .fails(2, "expected YYYY-MM-DD");
    p.vd.run("appointments --status done")
        .fails(2, "'done' is not a valid status");
    p.vd.run("show not-an-id")
        .fails(2, "'not-an-id' is not a valid appointment id");
    p.vd.run("calendar --clinic testville --view fortnight")
        .fails(2, "not a valid view");

    // clap's own usage errors exit 2 as well.
    assert_eq!(p.vd.run("book --clinic testville").code, 2);
    assert_eq!(p.vd.run("frobnicate").code, 2);

    assert_eq!(p.vd.appointment_total(), appointments);
    assert_eq!(p.vd.count("clinics"), clinics);
    assert_eq!(p.vd.count("time-off list"), time_off);
}

#[test]
fn appointments_search_filter_and_page() {
    let p = Practice::new();
    let a = id_of(&p.book(&p.rex, &format!("{MON}T09:00")));
    p.book(&p.rex, &format!("{MON}T10:00"));
    p.book(&p.whiskers, &format!("{TUE}T09:00"));
    p.vd.ok(&format!("confirm {a}"));

    let total = |args: &str| {
        p.vd.json(&format!("appointments {args}"))["total"]
            .as_u64()
            .unwrap_or(u64::MAX)
    };
    assert_eq!(total(""), 3);
    assert_eq!(total("--search REX"), 2, "by pet name");
    assert_eq!(total("--search dogowner"), 1, "by owner name");
    assert_eq!(total("--search carol"), 2);
    assert_eq!(total("--status confirmed"), 1);
    assert_eq!(total("--status scheduled,confirmed"), 3);
    assert_eq!(total("--status scheduled --status cancelled"), 2);
    let local_day = format!("--clinic testville --from {TUE} --to {TUE}");
    assert_eq!(total(&local_day), 1, "local dates, inclusive");
    assert_eq!(total("--vet ann --client carol"), 2);

    let page = p.vd.json("appointments --limit 2");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["total"], 3);
    let rest = p.vd.json("appointments --limit 2 --offset 2");
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["offset"], 2);

    let human = p.vd.ok("appointments --search rex");
    assert!(human.contains("Carol Client"), "{human}");
    assert!(human.contains("2099-06-01 10:00–10:30"), "{human}");
    assert!(human.contains("1–2 of 2"), "{human}");
}

#[test]
fn calendar_shows_appointments_and_free_time_per_vet() {
    let p = Practice::new();
    p.book(&p.rex, &format!("{MON}T09:00"));
    let day =
        p.vd.ok(&format!("calendar --clinic testville --date {MON}"));
    assert!(day.contains("Mon 2099-06-01"), "{day}");
    for text in [
        "09:00–09:30",
        "Dr Ann Able",
        "Rex",
        "Carol Client",
        "Checkup",
    ] {
        assert!(day.contains(text), "missing {text} in: {day}");
    }
    assert!(
        day.contains("09:30–12:00, 13:00–17:00"),
        "Ann's free time: {day}"
    );
    assert!(
        day.contains("09:00–12:00, 13:00–17:00"),
        "Bob's free time: {day}"
    );

    let week = p.vd.json(&format!(
        "calendar --clinic testville --view week --date {TUE}"
    ));
    assert_eq!(week["days"].as_array().map(Vec::len), Some(7));
    let mine = p.vd.ok(&format!("my-day --vet ann --date {MON}"));
    assert!(
        mine.contains("Rex") && !mine.contains("Dr Bob Baker"),
        "{mine}"
    );
}

#[test]
fn records_can_be_edited_and_deleted_with_versions() {
    let p = Practice::new();
    let clinic = p.vd.json("clinics edit testville --tz Europe/Dublin");
    assert_eq!(clinic["time_zone"], "Europe/Dublin");
    assert_eq!(
        clinic["name"], "Testville Surgery",
        "fields not given are kept"
    );
    assert_eq!(clinic["meta"]["version"], 2);

    let client = p.vd.json("clients edit carol --phone '01234 567890'");
    assert_eq!(client["email"], "carol@example.com");
    assert_eq!(client["phone"], "01234567890");

    let hours = p.vd.json("hours --vet bob");
    assert_eq!(hours.as_array().map(Vec::len), Some(4));
    let rule = id_of(&hours[0]);
    p.vd.run(&format!("hours delete {rule} --expect-version 9"))
        .fails(5, "changed by someone else");
    p.vd.ok(&format!("hours delete {rule} --expect-version 1"));
    assert_eq!(p.vd.count("hours --vet bob"), 3);

    let off = p.vd.json(&format!(
        "time-off add --vet bob --from-date {MON} --to-date {TUE}"
    ));
    assert_eq!(
        off["period"]["start"], "2099-05-31T23:00:00Z",
        "local midnight in summer time"
    );
    assert_eq!(
        off["period"]["end"], "2099-06-02T23:00:00Z",
        "through the end of the last day"
    );
    p.vd.ok(&format!(
        "time-off delete {} --expect-version 1",
        id_of(&off)
    ));
    assert_eq!(p.vd.count("time-off list"), 0);
}

// ---------- import ----------

#[test]
fn import_books_each_line_and_reports_every_refusal() {
    let p = Practice::new();
    let file = p.vd.db.with_file_name("bookings.jsonl");
    let line = |vet: &str, pet: &str, start: &str| {
        serde_json::json!({"clinic": "testville", "vet": vet, "pet": pet, "type": "checkup", "start": start})
            .to_string()
    };
    let lines = [
        line("ann", &p.rex, &format!("{MON}T09:00")),
        "# a comment, then a blank line".to_string(),
        String::new(),
        line("ann", &p.whiskers, &format!("{MON}T09:15")), // overlaps the first
        line("bob", &p.whiskers, &format!("{MON}T09:15")),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let before = p.vd.appointment_total();
    let out = p.vd.run(&format!("import {}", file.display()));
    assert_eq!(out.code, 4, "conflicts only: {}", out.stdout);
    assert!(
        out.stdout
            .contains("line 4: the time is not available: overlaps appointment"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("2 booked, 1 refused as conflicts, 0 failed"),
        "{}",
        out.stdout
    );
    assert_eq!(p.vd.appointment_total(), before + 2);

    // A malformed line and an unknown vet are failures, reported by line; the good line still books.
    let lines = [
        "{\"clinic\": \"testville\"".to_string(),
        line("zed", &p.rex, &format!("{TUE}T09:00")),
        line("bob", &p.rex, &format!("{TUE}T10:00")),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let report = p.vd.run(&format!("--json import {}", file.display()));
    assert_eq!(report.code, 2, "the first failure decides: invalid input");
    let v: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    assert_eq!(v["booked"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (v["failed"].as_u64(), v["conflicts"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(v["problems"][0]["line"], 1);
    assert_eq!(v["problems"][0]["code"], "invalid_input");
    assert_eq!(v["problems"][1]["code"], "not_found");
    assert_eq!(p.vd.appointment_total(), before + 3);
}

/// The n-th free checkup slot of the practice, from 2099-06-01: Mondays and
/// Tuesdays, Dr Ann then Dr Bob, 14 half-hours a day each.
fn nth_checkup(n: usize) -> (&'static str, String) {
    let (slot, rest) = (n % 14, n / 14);
    let (vet, rest) = (["ann", "bob"][rest % 2], rest / 2);
    let (day, week) = (rest % 2, rest / 2);
    let date = chrono::NaiveDate::from_ymd_opt(2099, 6, 1).expect("a date")
        + chrono::Duration::days((week * 7 + day) as i64);
    let minute = if slot < 6 {
        9 * 60 + slot * 30
    } else {
        13 * 60 + (slot - 6) * 30
    };
    (vet, format!("{date}T{:02}:{:02}", minute / 60, minute % 60))
}

#[test]
fn import_books_in_batches_and_a_refused_line_never_takes_its_neighbours_down() {
    let p = Practice::new();
    let file = p.vd.db.with_file_name("many.jsonl");
    let booking = |n: usize, pet: &str| {
        let (vet, start) = nth_checkup(n);
        serde_json::json!({"clinic": "testville", "vet": vet, "pet": pet, "type": "checkup", "start": start})
            .to_string()
    };
    // 520 good lines, more than one transaction's worth, with refusals among them:
    // line 3 takes the slot line 2 took a moment before in the same batch, line 4 is
    // invalid once inside the batch (a 2-minute duration), line 505 is not JSON, and
    // line 510 takes line 1's slot, committed by the batch before.
    let mut lines: Vec<String> = (0..520).map(|n| booking(n, &p.rex)).collect();
    lines.insert(2, booking(1, &p.whiskers));
    let mut short: serde_json::Value = serde_json::from_str(&booking(600, &p.rex)).unwrap();
    short["duration"] = 2.into();
    lines.insert(3, short.to_string());
    lines.insert(504, "{\"clinic\": ".to_string());
    lines.insert(509, booking(0, &p.whiskers));
    std::fs::write(&file, lines.join("\n")).unwrap();

    let before = p.vd.appointment_total();
    let out = p.vd.run(&format!("--json import {}", file.display()));
    assert_eq!(
        out.code, 2,
        "the first failure decides: invalid input; {}",
        out.stderr
    );
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let problems: Vec<(u64, &str)> = v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap_or(0),
                p["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (3, "conflict"),
            (4, "invalid_input"),
            (505, "invalid_input"),
            (510, "conflict")
        ]
    );
    assert_eq!(v["booked"].as_array().map(Vec::len), Some(520));
    assert_eq!(
        (v["conflicts"].as_u64(), v["failed"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(p.vd.appointment_total(), before + 520);
    // Lines 2 and 5, either side of the two refused in the first batch, are booked: Dr Ann's
    // first day is full. The invalid line's slot stays free.
    let booked_on = |n: usize| {
        let (vet, start) = nth_checkup(n);
        let day = &start[..10];
        p.vd.json(&format!("appointments --vet {vet} --from {day} --to {day}"))["total"].as_u64()
    };
    assert_eq!(booked_on(0), Some(14));
    assert_eq!(booked_on(600), Some(0));

    // The human report says the same, line by line.
    let again = p.vd.run(&format!("import {}", file.display()));
    assert_eq!(again.code, 2);
    assert!(
        again
            .stdout
            .starts_with("line 1: the time is not available"),
        "{}",
        again.stdout
    );
    assert!(
        again
            .stdout
            .contains("0 booked, 522 refused as conflicts, 2 failed"),
        "{}",
        again.stdout
    );
}

#[test]
fn the_first_admin_is_added_from_the_command_line_and_everything_is_audited() {
    let p = Practice::new();
    let vd = &p.vd;
    // The password never comes from the command line.
    vd.run("user add --username boss --role admin")
        .fails(2, "standard input");
    let out = vd.run_with_input(
        "--json user add --username Boss --name 'Clinic Boss' --role admin --password-stdin",
        "a-long-admin-password\n",
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let boss: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(boss["username"], "boss");
    assert_eq!(boss["role"], "admin");
    assert!(!out.stdout.contains("a-long-admin-password"));

    vd.run_with_input(
        "user add --username ann --role vet --vet ann --password-stdin",
        "ann-password-long\n",
    );
    let short = vd.run_with_input(
        "user add --username shorty --role front_desk --password-stdin",
        "short\n",
    );
    short.fails(2, "too short");
    vd.run_with_input(
        "user add --username boss --role admin --password-stdin",
        "another-long-password\n",
    )
    .fails(8, "taken");
    vd.run_with_input(
        "user add --username nobody --role vet --password-stdin",
        "another-long-password\n",
    )
    .fails(2, "vet_id");
    let users = vd.json("user list");
    let names: Vec<&str> = users
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["ann", "boss"]);

    // Disabling and re-enabling; the last admin stays.
    vd.run("user set boss --disable")
        .fails(2, "last active admin");
    let ann = vd.json("user set ann --disable");
    assert_eq!(ann["disabled"], true);
    let ann = vd.json("user set ann --enable --name 'Dr Ann Able'");
    assert_eq!(ann["disabled"], false);
    assert_eq!(ann["display_name"], "Dr Ann Able");

    // The audit log names the person at the keyboard, newest first.
    let audit = vd.json("audit --entity user");
    let lines = audit["items"].as_array().expect("items");
    let actions: Vec<&str> = lines
        .iter()
        .map(|l| l["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        ["user.update", "user.update", "user.create", "user.create"]
    );
    assert!(lines.iter().all(|l| l["actor"] == "tester"), "{audit}");
    assert_eq!(lines[0]["before"]["disabled"], true);
    assert_eq!(lines[0]["after"]["disabled"], false);
    let text = vd.ok("audit --limit 3");
    assert!(
        text.contains("user.update") && text.contains("tester"),
        "{text}"
    );
    let clinics = vd.json("audit --entity clinic");
    assert_eq!(clinics["items"][0]["action"], "clinic.create");
    vd.run("audit --id not-a-uuid").fails(2, "not a record id");
}

#[test]
fn a_user_is_limited_to_clinics_and_given_a_home_clinic_from_the_command_line() {
    let p = Practice::new();
    let vd = &p.vd;
    vd.ok("clinics add --name 'Harbour Vets' --tz Europe/Dublin");
    let out = vd.run_with_input(
        "--json user add --username harbour.desk --role front_desk --clinic harbour --home-clinic harbour --password-stdin",
        "harbour-desk-password\n",
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let desk: Value = serde_json::from_str(&out.stdout).expect("json");
    let clinics = vd.json("clinics list");
    let id_named = |name: &str| {
        clinics
            .as_array()
            .expect("clinics")
            .iter()
            .find(|c| c["name"] == name)
            .map(id_of)
            .expect("the clinic")
    };
    let (harbour, testville) = (id_named("Harbour Vets"), id_named("Testville Surgery"));
    assert_eq!(desk["clinics"], serde_json::json!([harbour]));
    assert_eq!(desk["home_clinic_id"], harbour.as_str());
    let text = vd.ok("user list");
    assert!(
        text.contains("CLINICS") && text.contains("Harbour Vets (home)"),
        "{text}"
    );
    // A home clinic outside the user's clinics, and a limit on an admin, are refused.
    vd.run("user set harbour.desk --home-clinic testville")
        .fails(2, "home clinic must be one of");
    vd.run_with_input(
        "user add --username boss2 --role admin --clinic testville --password-stdin",
        "boss-password-long\n",
    )
    .fails(2, "admin sees every clinic");
    let both = vd.json("user set harbour.desk --clinic harbour --clinic testville");
    assert_eq!(both["clinics"].as_array().map(Vec::len), Some(2));
    let all = vd.json("user set harbour.desk --all-clinics --no-home-clinic");
    assert_eq!(all["clinics"], serde_json::json!([]));
    assert_eq!(all["home_clinic_id"], serde_json::Value::Null);
    // An owner is registered with a clinic.
    let owner = vd.json("clients add --name 'Erin Harbour' --clinic harbour");
    assert_eq!(owner["home_clinic_id"], harbour.as_str());
    let owner = vd.json("clients edit erin --clinic testville");
    assert_eq!(owner["home_clinic_id"], testville.as_str());
}

#[test]
fn secret_set_without_a_keyring_says_so_and_names_the_variable() {
    use std::io::Write;
    let v = Vetdesk::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vetdesk"))
        .arg("--db")
        .arg(&v.db)
        .args(["secret", "set", "smtp-password"])
        // A session bus that is not there: no Secret Service to store into
        // (and never the keyring of whoever runs the tests).
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/vetdesk-no-bus",
        )
        .env("VETDESK_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vetdesk");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(b"s3cret\n").expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for vetdesk");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("no OS keyring is available"), "{stderr}");
    assert!(stderr.contains("VETDESK_SMTP_PASSWORD"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn a_worker_whose_lease_cannot_cover_its_send_timeout_is_refused_naming_the_flags() {
    let vd = Vetdesk::new();
    let out = vd.run("worker --once --lease-secs 31 --send-timeout-secs 30");
    out.fails(2, "--lease-secs");
    assert!(out.stderr.contains("--send-timeout-secs"), "{}", out.stderr);
    vd.run("worker --once --send-timeout-secs 0")
        .fails(2, "--send-timeout-secs");
    vd.run("worker --once --max-attempts 0")
        .fails(2, "--max-attempts");
    vd.run("worker --once --batch 501").fails(2, "--batch");
    // Two seconds over the send timeout is enough: it gets as far as the channels.
    vd.run("worker --once --lease-secs 32 --send-timeout-secs 30")
        .fails(2, "no channel is configured");
}

// ---------- an owner's data rights ----------

/// Whether any file of the database (the file, its WAL) holds `needle`'s bytes.
fn database_files_hold(vd: &Vetdesk, needle: &str) -> bool {
    let mut hit = false;
    for suffix in ["", "-wal"] {
        let mut path = vd.db.clone().into_os_string();
        path.push(suffix);
        if let Ok(bytes) = std::fs::read(&path) {
            hit |= bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        }
    }
    hit
}

#[test]
fn an_owners_data_is_exported_to_a_new_file_and_erased_only_with_yes() {
    let p = Practice::new();
    p.book(&p.rex, &format!("{MON}T10:00"));
    let carol = id_of(&p.vd.json("clients list --search carol")[0]);
    let file = p.vd._dir.path().join("carol.json");
    let said =
        p.vd.ok(&format!("clients export {carol} --to {}", file.display()));
    assert!(said.contains("(2 pets, 1 appointments, "), "{said}");
    let text = std::fs::read_to_string(&file).expect("the export");
    let x: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(x["client"]["email"], "carol@example.com");
    assert_eq!(x["pets"].as_array().map(Vec::len), Some(2));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // Never over another file; to standard output without --to.
    p.vd.run(&format!("clients export {carol} --to {}", file.display()))
        .fails(2, "exists already");
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), text);
    let x: Value =
        serde_json::from_str(&p.vd.ok(&format!("clients export {carol}"))).expect("JSON");
    assert_eq!(x["client"]["name"], "Carol Client");

    // Bad input: a typed error, and nothing written (the audit log counts every write).
    let lines = || p.vd.json("audit --limit 1")["total"].as_u64().unwrap_or(0);
    let before = lines();
    p.vd.run("clients export not-an-id").fails(2, "not-an-id");
    p.vd.run("clients erase 42 --yes").fails(2, "42");
    let nobody = "0190b8c2-6a4e-7000-8000-000000000000";
    p.vd.run(&format!("clients export {nobody}"))
        .fails(3, nobody);
    p.vd.run(&format!("clients erase {nobody} --yes"))
        .fails(3, nobody);
    p.vd.run(&format!("clients erase {carol}"))
        .fails(2, "--yes");
    let gone = p.vd._dir.path().join("never.json");
    p.vd.run(&format!("clients export {nobody} --to {}", gone.display()))
        .fails(3, nobody);
    assert!(!gone.exists(), "a refused export leaves no file");
    assert_eq!(lines(), before);
    assert_eq!(p.vd.count("clients list --search carol"), 1);

    let said = p.vd.ok(&format!("clients erase {carol} --yes"));
    assert!(
        said.starts_with(&format!(
            "erased owner {carol}: 2 pets anonymised, 1 appointments"
        )),
        "{said}"
    );
    assert_eq!(p.vd.count("clients list --search carol"), 0);
    assert_eq!(p.vd.appointment_total(), 1, "the appointment stays");
    let said = p.vd.ok(&format!("clients erase {carol} --yes"));
    assert!(said.contains("was erased already"), "{said}");
    let x: Value =
        serde_json::from_str(&p.vd.ok(&format!("clients export {carol}"))).expect("JSON");
    assert_eq!(
        (x["client"]["name"].as_str(), x["client"]["email"].is_null()),
        (Some("Erased owner"), true)
    );
    // Not even the database file's free space keeps her.
    for needle in ["carol@example.com", "Carol Client", "Rexina"] {
        assert!(
            !database_files_hold(&p.vd, needle),
            "{needle} is still in the file's bytes"
        );
    }
    assert!(
        database_files_hold(&p.vd, "Dave Dogowner"),
        "the scan reads the file"
    );
}
