//! Conflict detection and "why is this not free?" (ARCHITECTURE.md "Scheduling
//! rules"): every reason is reported, intervals are half-open, buffers count.
//!
//! The clinic is in Europe/London in January (GMT, so local = UTC and the
//! literal instants read like the wall clock) unless a case says otherwise.
//! The vet works Mon-Fri 09:00-12:00 and 13:00-17:00.
//! - Mon 11 Jan: A 10:00-10:30; B 14:00-14:30 (+15 min after, blocks to 14:45);
//!   C 15:00-15:30 (10 min before, blocks from 14:50).
//! - Tue 12 Jan: time off 09:00-13:00 ("dentist").
//! - Wed 13 Jan: E 08:30-09:00 (booked before the hours changed); F 10:00-10:30;
//!   time off 09:30-09:45 ("vaccine delivery").

use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use uuid::Uuid;
use vetdesk_core::{
    check, explain, Absence, AppointmentId, Booking, ClinicId, Conflict, DayOverride, Interval,
    Proposal, TimeOffId, VetId, VetSchedule, WeeklyRule,
};

const LONDON: Tz = chrono_tz::Europe::London;
const NEW_YORK: Tz = chrono_tz::America::New_York;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("bad instant {s}: {e}"))
}

fn iv(start: &str, end: &str) -> Interval {
    Interval::new(utc(start), utc(end)).unwrap()
}

fn appt(n: u128) -> AppointmentId {
    AppointmentId(Uuid::from_u128(n))
}

const A: u128 = 0xA;
const B: u128 = 0xB;
const C: u128 = 0xC;
const E: u128 = 0xE;
const F: u128 = 0xF;
const DENTIST: u128 = 0xD1;
const DELIVERY: u128 = 0xD2;

fn booking(id: u128, start: &str, end: &str, before_min: i64, after_min: i64) -> Booking {
    let slot = iv(start, end);
    Booking {
        id: appt(id),
        slot,
        blocked: slot.widen(Duration::minutes(before_min), Duration::minutes(after_min)),
    }
}

fn absence(id: u128, start: &str, end: &str, reason: &str) -> Absence {
    Absence {
        id: TimeOffId(Uuid::from_u128(id)),
        period: iv(start, end),
        reason: Some(reason.to_string()),
    }
}

fn weekdays(spans: &[&str]) -> Vec<WeeklyRule> {
    let mut rules = Vec::new();
    for weekday in [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ] {
        for span in spans {
            rules.push(WeeklyRule {
                weekday,
                span: span.parse().unwrap(),
                valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                valid_to: None,
            });
        }
    }
    rules
}

fn clinic_schedule() -> VetSchedule {
    let mut s = VetSchedule::new(VetId(Uuid::from_u128(1)), ClinicId(Uuid::from_u128(2)));
    s.rules = weekdays(&["09:00-12:00", "13:00-17:00"]);
    s.bookings = vec![
        booking(A, "2027-01-11T10:00:00Z", "2027-01-11T10:30:00Z", 0, 0),
        booking(B, "2027-01-11T14:00:00Z", "2027-01-11T14:30:00Z", 0, 15),
        booking(C, "2027-01-11T15:00:00Z", "2027-01-11T15:30:00Z", 10, 0),
        booking(E, "2027-01-13T08:30:00Z", "2027-01-13T09:00:00Z", 0, 0),
        booking(F, "2027-01-13T10:00:00Z", "2027-01-13T10:30:00Z", 0, 0),
    ];
    s.absences = vec![
        absence(
            DENTIST,
            "2027-01-12T09:00:00Z",
            "2027-01-12T13:00:00Z",
            "dentist",
        ),
        absence(
            DELIVERY,
            "2027-01-13T09:30:00Z",
            "2027-01-13T09:45:00Z",
            "vaccine delivery",
        ),
    ];
    s.normalise();
    s
}

/// A week before everything above.
const EARLY: &str = "2027-01-04T08:00:00Z";

struct Case {
    name: &'static str,
    slot: (&'static str, &'static str),
    buffers: (u32, u32),
    ignoring: Option<u128>,
    now: &'static str,
    notice_min: i64,
    want: Vec<Conflict>,
}

fn case(name: &'static str, slot: (&'static str, &'static str), want: Vec<Conflict>) -> Case {
    Case {
        name,
        slot,
        buffers: (0, 0),
        ignoring: None,
        now: EARLY,
        notice_min: 0,
        want,
    }
}

fn overlap(id: u128, start: &str, end: &str) -> Conflict {
    Conflict::Overlap {
        appointment_id: appt(id),
        start: utc(start),
        end: utc(end),
        buffer_only: false,
    }
}

fn buffer_overlap(id: u128, start: &str, end: &str) -> Conflict {
    Conflict::Overlap {
        appointment_id: appt(id),
        start: utc(start),
        end: utc(end),
        buffer_only: true,
    }
}

fn overlap_a() -> Conflict {
    overlap(A, "2027-01-11T10:00:00Z", "2027-01-11T10:30:00Z")
}

fn dentist() -> Conflict {
    Conflict::TimeOff {
        time_off_id: TimeOffId(Uuid::from_u128(DENTIST)),
        start: utc("2027-01-12T09:00:00Z"),
        end: utc("2027-01-12T13:00:00Z"),
        reason: Some("dentist".into()),
    }
}

fn run(schedule: &VetSchedule, tz: Tz, c: &Case) {
    let proposal = Proposal {
        slot: iv(c.slot.0, c.slot.1),
        buffer_before_min: c.buffers.0,
        buffer_after_min: c.buffers.1,
        ignoring: c.ignoring.map(appt),
    };
    let got = check(
        schedule,
        tz,
        &proposal,
        utc(c.now),
        Duration::minutes(c.notice_min),
    );
    assert_eq!(got, c.want, "case {:?}", c.name);
}

#[test]
fn check_table() {
    let cases = vec![
        // Half-open intervals: touching is not overlapping.
        case(
            "right after A",
            ("2027-01-11T10:30:00Z", "2027-01-11T11:00:00Z"),
            vec![],
        ),
        case(
            "right before A",
            ("2027-01-11T09:30:00Z", "2027-01-11T10:00:00Z"),
            vec![],
        ),
        case(
            "first thing",
            ("2027-01-11T09:00:00Z", "2027-01-11T09:30:00Z"),
            vec![],
        ),
        case(
            "last thing",
            ("2027-01-11T16:30:00Z", "2027-01-11T17:00:00Z"),
            vec![],
        ),
        case(
            "whole morning of an empty day",
            ("2027-01-14T09:00:00Z", "2027-01-14T12:00:00Z"),
            vec![],
        ),
        case(
            "between B's buffer and C's buffer",
            ("2027-01-11T14:45:00Z", "2027-01-11T14:50:00Z"),
            vec![],
        ),
        // Overlaps.
        case(
            "overlaps A's end",
            ("2027-01-11T10:15:00Z", "2027-01-11T10:45:00Z"),
            vec![overlap_a()],
        ),
        case(
            "inside A",
            ("2027-01-11T10:05:00Z", "2027-01-11T10:10:00Z"),
            vec![overlap_a()],
        ),
        case(
            "covers A",
            ("2027-01-11T09:30:00Z", "2027-01-11T11:00:00Z"),
            vec![overlap_a()],
        ),
        case(
            "same as A",
            ("2027-01-11T10:00:00Z", "2027-01-11T10:30:00Z"),
            vec![overlap_a()],
        ),
        // Buffers.
        case(
            "in B's after-buffer",
            ("2027-01-11T14:30:00Z", "2027-01-11T14:45:00Z"),
            vec![buffer_overlap(
                B,
                "2027-01-11T14:00:00Z",
                "2027-01-11T14:30:00Z",
            )],
        ),
        case(
            "in C's before-buffer",
            ("2027-01-11T14:50:00Z", "2027-01-11T15:00:00Z"),
            vec![buffer_overlap(
                C,
                "2027-01-11T15:00:00Z",
                "2027-01-11T15:30:00Z",
            )],
        ),
        case(
            "between B and C, touching both buffers",
            ("2027-01-11T14:30:00Z", "2027-01-11T15:00:00Z"),
            vec![
                buffer_overlap(B, "2027-01-11T14:00:00Z", "2027-01-11T14:30:00Z"),
                buffer_overlap(C, "2027-01-11T15:00:00Z", "2027-01-11T15:30:00Z"),
            ],
        ),
        Case {
            buffers: (15, 0),
            ..case(
                "own before-buffer reaches A",
                ("2027-01-11T10:40:00Z", "2027-01-11T11:00:00Z"),
                vec![buffer_overlap(
                    A,
                    "2027-01-11T10:00:00Z",
                    "2027-01-11T10:30:00Z",
                )],
            )
        },
        Case {
            buffers: (10, 0),
            ..case(
                "own before-buffer just touches A",
                ("2027-01-11T10:40:00Z", "2027-01-11T11:00:00Z"),
                vec![],
            )
        },
        Case {
            buffers: (0, 5),
            ..case(
                "own after-buffer reaches A",
                ("2027-01-11T09:30:00Z", "2027-01-11T09:56:00Z"),
                vec![buffer_overlap(
                    A,
                    "2027-01-11T10:00:00Z",
                    "2027-01-11T10:30:00Z",
                )],
            )
        },
        Case {
            buffers: (0, 5),
            ..case(
                "own after-buffer meets B's after-buffer",
                ("2027-01-11T14:35:00Z", "2027-01-11T14:40:00Z"),
                vec![buffer_overlap(
                    B,
                    "2027-01-11T14:00:00Z",
                    "2027-01-11T14:30:00Z",
                )],
            )
        },
        // Working hours.
        case(
            "after hours",
            ("2027-01-11T17:00:00Z", "2027-01-11T17:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "before hours",
            ("2027-01-11T08:00:00Z", "2027-01-11T08:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "starts before opening",
            ("2027-01-11T08:45:00Z", "2027-01-11T09:15:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "runs past closing",
            ("2027-01-11T16:45:00Z", "2027-01-11T17:15:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "saturday",
            ("2027-01-16T10:00:00Z", "2027-01-16T10:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "runs from the morning into the break",
            ("2027-01-11T11:30:00Z", "2027-01-11T12:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "spans the whole break",
            ("2027-01-11T11:30:00Z", "2027-01-11T13:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        // Breaks.
        case(
            "on the break",
            ("2027-01-11T12:00:00Z", "2027-01-11T12:30:00Z"),
            vec![Conflict::OnBreak {
                resumes_at: utc("2027-01-11T13:00:00Z"),
            }],
        ),
        case(
            "starts in the break, ends in the afternoon",
            ("2027-01-11T12:30:00Z", "2027-01-11T13:30:00Z"),
            vec![Conflict::OnBreak {
                resumes_at: utc("2027-01-11T13:00:00Z"),
            }],
        ),
        // Time off.
        case(
            "time off",
            ("2027-01-12T10:00:00Z", "2027-01-12T10:30:00Z"),
            vec![dentist()],
        ),
        case(
            "last minute of the time off",
            ("2027-01-12T11:59:00Z", "2027-01-12T12:00:00Z"),
            vec![dentist()],
        ),
        case(
            "right after the time off",
            ("2027-01-12T13:00:00Z", "2027-01-12T13:30:00Z"),
            vec![],
        ),
        case(
            "time off and the break",
            ("2027-01-12T12:30:00Z", "2027-01-12T12:45:00Z"),
            vec![
                Conflict::OnBreak {
                    resumes_at: utc("2027-01-12T13:00:00Z"),
                },
                dentist(),
            ],
        ),
        // The past and the notice.
        Case {
            now: "2027-01-11T12:00:00Z",
            ..case(
                "in the past",
                ("2027-01-11T10:30:00Z", "2027-01-11T11:00:00Z"),
                vec![Conflict::InPast {
                    now: utc("2027-01-11T12:00:00Z"),
                }],
            )
        },
        Case {
            now: "2027-01-11T10:30:00Z",
            ..case(
                "starting right now is not the past",
                ("2027-01-11T10:30:00Z", "2027-01-11T11:00:00Z"),
                vec![],
            )
        },
        Case {
            now: "2027-01-11T10:30:01Z",
            ..case(
                "a second late is the past",
                ("2027-01-11T10:30:00Z", "2027-01-11T11:00:00Z"),
                vec![Conflict::InPast {
                    now: utc("2027-01-11T10:30:01Z"),
                }],
            )
        },
        Case {
            now: "2027-01-11T09:00:00Z",
            notice_min: 120,
            ..case(
                "inside the minimum notice",
                ("2027-01-11T10:30:00Z", "2027-01-11T11:00:00Z"),
                vec![Conflict::MinimumNotice {
                    earliest: utc("2027-01-11T11:00:00Z"),
                }],
            )
        },
        Case {
            now: "2027-01-11T09:00:00Z",
            notice_min: 120,
            ..case(
                "exactly at the minimum notice",
                ("2027-01-11T11:00:00Z", "2027-01-11T11:30:00Z"),
                vec![],
            )
        },
        Case {
            now: "2027-01-11T12:00:00Z",
            notice_min: 120,
            ..case(
                "in the past is not also inside the notice",
                ("2027-01-11T10:30:00Z", "2027-01-11T11:00:00Z"),
                vec![Conflict::InPast {
                    now: utc("2027-01-11T12:00:00Z"),
                }],
            )
        },
        // Several reasons at once, all reported, in a stable order.
        Case {
            now: "2027-01-13T12:00:00Z",
            ..case(
                "past, outside hours, time off, two overlaps",
                ("2027-01-13T08:45:00Z", "2027-01-13T10:15:00Z"),
                vec![
                    Conflict::InPast {
                        now: utc("2027-01-13T12:00:00Z"),
                    },
                    Conflict::OutsideWorkingHours,
                    Conflict::TimeOff {
                        time_off_id: TimeOffId(Uuid::from_u128(DELIVERY)),
                        start: utc("2027-01-13T09:30:00Z"),
                        end: utc("2027-01-13T09:45:00Z"),
                        reason: Some("vaccine delivery".into()),
                    },
                    overlap(E, "2027-01-13T08:30:00Z", "2027-01-13T09:00:00Z"),
                    overlap(F, "2027-01-13T10:00:00Z", "2027-01-13T10:30:00Z"),
                ],
            )
        },
        Case {
            now: "2027-01-13T12:00:00Z",
            ..case(
                "past, outside hours, two overlaps",
                ("2027-01-13T08:40:00Z", "2027-01-13T09:00:00Z"),
                vec![
                    Conflict::InPast {
                        now: utc("2027-01-13T12:00:00Z"),
                    },
                    Conflict::OutsideWorkingHours,
                    overlap(E, "2027-01-13T08:30:00Z", "2027-01-13T09:00:00Z"),
                ],
            )
        },
        Case {
            now: "2027-01-11T12:00:00Z",
            notice_min: 60,
            buffers: (0, 30),
            ..case(
                "notice, break, overlap and buffer overlap",
                ("2027-01-11T12:30:00Z", "2027-01-11T14:40:00Z"),
                vec![
                    Conflict::MinimumNotice {
                        earliest: utc("2027-01-11T13:00:00Z"),
                    },
                    Conflict::OnBreak {
                        resumes_at: utc("2027-01-11T13:00:00Z"),
                    },
                    overlap(B, "2027-01-11T14:00:00Z", "2027-01-11T14:30:00Z"),
                    buffer_overlap(C, "2027-01-11T15:00:00Z", "2027-01-11T15:30:00Z"),
                ],
            )
        },
        // Moving an appointment: its own time does not count against it.
        Case {
            ignoring: Some(A),
            ..case(
                "moving A by 15 minutes",
                ("2027-01-11T10:15:00Z", "2027-01-11T10:45:00Z"),
                vec![],
            )
        },
        Case {
            ignoring: Some(B),
            ..case(
                "moving B later still meets C's buffer",
                ("2027-01-11T14:15:00Z", "2027-01-11T14:55:00Z"),
                vec![buffer_overlap(
                    C,
                    "2027-01-11T15:00:00Z",
                    "2027-01-11T15:30:00Z",
                )],
            )
        },
        Case {
            ignoring: Some(C),
            ..case(
                "ignoring another appointment does not hide A",
                ("2027-01-11T10:15:00Z", "2027-01-11T10:45:00Z"),
                vec![overlap_a()],
            )
        },
    ];
    let schedule = clinic_schedule();
    for c in &cases {
        run(&schedule, LONDON, c);
    }
}

#[test]
fn local_rules_apply_in_the_clinics_zone() {
    // New York in July (EDT, UTC-4): 09:00-12:00 and 13:00-17:00 local are
    // 13:00Z-16:00Z and 17:00Z-21:00Z. Monday 12 July 2027.
    let mut s = VetSchedule::new(VetId(Uuid::from_u128(1)), ClinicId(Uuid::from_u128(2)));
    s.rules = weekdays(&["09:00-12:00", "13:00-17:00"]);
    let cases = vec![
        case(
            "09:00 local",
            ("2027-07-12T13:00:00Z", "2027-07-12T13:30:00Z"),
            vec![],
        ),
        case(
            "09:00 UTC is 05:00 local",
            ("2027-07-12T09:00:00Z", "2027-07-12T09:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "12:15 local",
            ("2027-07-12T16:15:00Z", "2027-07-12T16:45:00Z"),
            vec![Conflict::OnBreak {
                resumes_at: utc("2027-07-12T17:00:00Z"),
            }],
        ),
        case(
            "16:30 local",
            ("2027-07-12T20:30:00Z", "2027-07-12T21:00:00Z"),
            vec![],
        ),
        case(
            "17:00 local",
            ("2027-07-12T21:00:00Z", "2027-07-12T21:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        // Monday 23:30 local is Tuesday 03:30Z: the local weekday decides.
        case(
            "late monday evening",
            ("2027-07-13T03:30:00Z", "2027-07-13T04:00:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
    ];
    for c in &cases {
        run(&s, NEW_YORK, c);
    }
}

#[test]
fn date_overrides_replace_the_weekly_hours() {
    let mut s = clinic_schedule();
    s.overrides = vec![
        // Thursday: a short day.
        DayOverride {
            date: NaiveDate::from_ymd_opt(2027, 1, 14).unwrap(),
            spans: vec!["10:00-11:00".parse().unwrap()],
        },
        // Friday: a day off.
        DayOverride {
            date: NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
            spans: vec![],
        },
        // Saturday: an extra shift.
        DayOverride {
            date: NaiveDate::from_ymd_opt(2027, 1, 16).unwrap(),
            spans: vec!["08:00-10:00".parse().unwrap()],
        },
    ];
    let cases = vec![
        case(
            "short day, inside",
            ("2027-01-14T10:00:00Z", "2027-01-14T11:00:00Z"),
            vec![],
        ),
        case(
            "short day, usual hours",
            ("2027-01-14T09:00:00Z", "2027-01-14T09:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "short day, afternoon",
            ("2027-01-14T14:00:00Z", "2027-01-14T14:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "day off",
            ("2027-01-15T10:00:00Z", "2027-01-15T10:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "extra saturday shift",
            ("2027-01-16T08:00:00Z", "2027-01-16T10:00:00Z"),
            vec![],
        ),
    ];
    for c in &cases {
        run(&s, LONDON, c);
    }
}

#[test]
fn conflict_codes_are_stable() {
    let cases = [
        (overlap_a(), "overlap"),
        (
            buffer_overlap(A, "2027-01-11T10:00:00Z", "2027-01-11T10:30:00Z"),
            "buffer_overlap",
        ),
        (Conflict::OutsideWorkingHours, "outside_working_hours"),
        (
            Conflict::OnBreak {
                resumes_at: utc("2027-01-11T13:00:00Z"),
            },
            "on_break",
        ),
        (dentist(), "time_off"),
        (Conflict::InPast { now: utc(EARLY) }, "in_past"),
        (
            Conflict::MinimumNotice {
                earliest: utc(EARLY),
            },
            "minimum_notice",
        ),
        (
            Conflict::UnknownVet {
                vet_id: VetId(Uuid::nil()),
            },
            "unknown_vet",
        ),
        (
            Conflict::UnknownClinic {
                clinic_id: ClinicId(Uuid::nil()),
            },
            "unknown_clinic",
        ),
        (
            Conflict::VetNotAtClinic {
                vet_id: VetId(Uuid::nil()),
                clinic_id: ClinicId(Uuid::nil()),
            },
            "vet_not_at_clinic",
        ),
    ];
    for (c, code) in cases {
        assert_eq!(c.code(), code, "{c:?}");
    }
}

#[test]
fn conflict_messages_name_what_is_in_the_way() {
    let a = appt(A).to_string();
    assert_eq!(
        overlap_a().to_string(),
        format!(
            "overlaps appointment {a} (2027-01-11T10:00:00+00:00 to 2027-01-11T10:30:00+00:00)"
        )
    );
    assert_eq!(
        buffer_overlap(A, "2027-01-11T10:00:00Z", "2027-01-11T10:30:00Z").to_string(),
        format!("overlaps the buffer time of appointment {a} (2027-01-11T10:00:00+00:00 to 2027-01-11T10:30:00+00:00)")
    );
    assert_eq!(
        dentist().to_string(),
        "during the vet's time off (2027-01-12T09:00:00+00:00 to 2027-01-12T13:00:00+00:00: dentist)"
    );
}

/// One explain() question and its answer; `free` is expected exactly when `reasons` is empty.
struct ExplainCase {
    name: &'static str,
    at: &'static str,
    duration_min: u32,
    buffers: (u32, u32),
    now: &'static str,
    notice_min: i64,
    free_until: Option<&'static str>,
    reasons: Vec<Conflict>,
}

fn explain_case(
    name: &'static str,
    at: &'static str,
    duration_min: u32,
    free_until: Option<&'static str>,
    reasons: Vec<Conflict>,
) -> ExplainCase {
    ExplainCase {
        name,
        at,
        duration_min,
        buffers: (0, 0),
        now: EARLY,
        notice_min: 0,
        free_until,
        reasons,
    }
}

#[test]
fn explain_table() {
    let cases = vec![
        explain_case(
            "free until lunch",
            "2027-01-11T11:00:00Z",
            30,
            Some("2027-01-11T12:00:00Z"),
            vec![],
        ),
        explain_case(
            "free until A",
            "2027-01-11T09:00:00Z",
            15,
            Some("2027-01-11T10:00:00Z"),
            vec![],
        ),
        explain_case(
            "free until B",
            "2027-01-11T13:00:00Z",
            60,
            Some("2027-01-11T14:00:00Z"),
            vec![],
        ),
        explain_case(
            "between the buffers",
            "2027-01-11T14:45:00Z",
            5,
            Some("2027-01-11T14:50:00Z"),
            vec![],
        ),
        explain_case(
            "free until closing",
            "2027-01-11T15:30:00Z",
            30,
            Some("2027-01-11T17:00:00Z"),
            vec![],
        ),
        explain_case(
            "after the time off",
            "2027-01-12T13:00:00Z",
            30,
            Some("2027-01-12T17:00:00Z"),
            vec![],
        ),
        explain_case("busy", "2027-01-11T10:15:00Z", 30, None, vec![overlap_a()]),
        explain_case(
            "on time off",
            "2027-01-12T09:00:00Z",
            30,
            None,
            vec![dentist()],
        ),
        explain_case(
            "after hours",
            "2027-01-11T17:00:00Z",
            30,
            None,
            vec![Conflict::OutsideWorkingHours],
        ),
        ExplainCase {
            buffers: (0, 10),
            ..explain_case(
                "own buffer reaches B",
                "2027-01-11T13:30:00Z",
                30,
                None,
                vec![buffer_overlap(
                    B,
                    "2027-01-11T14:00:00Z",
                    "2027-01-11T14:30:00Z",
                )],
            )
        },
        ExplainCase {
            now: "2027-01-11T10:30:00Z",
            notice_min: 60,
            ..explain_case(
                "inside the notice",
                "2027-01-11T11:00:00Z",
                30,
                None,
                vec![Conflict::MinimumNotice {
                    earliest: utc("2027-01-11T11:30:00Z"),
                }],
            )
        },
        ExplainCase {
            now: "2027-01-11T16:00:00Z",
            ..explain_case(
                "several reasons",
                "2027-01-11T09:45:00Z",
                30,
                None,
                vec![
                    Conflict::InPast {
                        now: utc("2027-01-11T16:00:00Z"),
                    },
                    overlap_a(),
                ],
            )
        },
    ];
    let schedule = clinic_schedule();
    for c in &cases {
        let got = explain(
            &schedule,
            LONDON,
            utc(c.at),
            c.duration_min,
            c.buffers,
            utc(c.now),
            Duration::minutes(c.notice_min),
        );
        let name = c.name;
        assert_eq!(got.at, utc(c.at), "{name}");
        assert_eq!(got.duration_min, c.duration_min, "{name}");
        assert_eq!(got.free, c.reasons.is_empty(), "{name}: free");
        assert_eq!(got.reasons, c.reasons, "{name}: reasons");
        assert_eq!(got.free_until, c.free_until.map(utc), "{name}: free_until");
    }
}

#[test]
fn explain_in_another_zone() {
    // New York, Monday 12 July 2027 (EDT): 09:00-17:00 local = 13:00Z-21:00Z, one booking 15:00Z-16:00Z.
    let mut s = VetSchedule::new(VetId(Uuid::from_u128(1)), ClinicId(Uuid::from_u128(2)));
    s.rules = weekdays(&["09:00-17:00"]);
    s.bookings = vec![booking(
        A,
        "2027-07-12T15:00:00Z",
        "2027-07-12T16:00:00Z",
        0,
        0,
    )];
    let got = explain(
        &s,
        NEW_YORK,
        utc("2027-07-12T13:00:00Z"),
        30,
        (0, 0),
        utc(EARLY),
        Duration::zero(),
    );
    assert!(got.free, "{got:?}");
    assert_eq!(got.free_until, Some(utc("2027-07-12T15:00:00Z")));
    let got = explain(
        &s,
        NEW_YORK,
        utc("2027-07-12T16:00:00Z"),
        30,
        (0, 0),
        utc(EARLY),
        Duration::zero(),
    );
    assert!(got.free, "{got:?}");
    assert_eq!(got.free_until, Some(utc("2027-07-12T21:00:00Z")));
}

#[test]
fn an_overnight_shift_is_one_stretch_of_work() {
    // Every day 20:00-24:00 and 00:00-04:00 (London, January: local = UTC). A span
    // cannot cross midnight, so this is how an overnight shift is written; an
    // appointment from 23:30 to 00:30 is inside working hours.
    let mut s = VetSchedule::new(VetId(Uuid::from_u128(1)), ClinicId(Uuid::from_u128(2)));
    for weekday in [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ] {
        for span in ["20:00-24:00", "00:00-04:00"] {
            s.rules.push(WeeklyRule {
                weekday,
                span: span.parse().unwrap(),
                valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                valid_to: None,
            });
        }
    }
    s.bookings = vec![booking(
        A,
        "2027-01-12T02:00:00Z",
        "2027-01-12T02:30:00Z",
        0,
        0,
    )];
    let cases = vec![
        case(
            "across midnight",
            ("2027-01-11T23:30:00Z", "2027-01-12T00:30:00Z"),
            vec![],
        ),
        case(
            "the whole night",
            ("2027-01-11T20:00:00Z", "2027-01-12T02:00:00Z"),
            vec![],
        ),
        case(
            "through the night into A",
            ("2027-01-11T20:00:00Z", "2027-01-12T02:15:00Z"),
            vec![overlap_a_night()],
        ),
        case(
            "past the morning end",
            ("2027-01-12T03:30:00Z", "2027-01-12T04:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "between the morning and the evening is a break",
            ("2027-01-11T19:30:00Z", "2027-01-11T20:30:00Z"),
            vec![Conflict::OnBreak {
                resumes_at: utc("2027-01-11T20:00:00Z"),
            }],
        ),
    ];
    for c in &cases {
        run(&s, LONDON, c);
    }

    // Availability offers the slots across midnight too.
    let tz = LONDON;
    let range = vetdesk_core::DateRange::new(
        NaiveDate::from_ymd_opt(2027, 1, 11).unwrap(),
        NaiveDate::from_ymd_opt(2027, 1, 12).unwrap(),
        2,
    )
    .unwrap();
    let days = vetdesk_core::LocalDays::new(tz, range);
    let window = range.to_interval(tz).unwrap();
    let q = vetdesk_core::SlotQuery {
        duration_min: 60,
        buffer_before_min: 0,
        buffer_after_min: 0,
        grid_min: 30,
        not_before: utc(EARLY),
        ignoring: None,
    };
    let schedules = [s.clone()];
    let got = vetdesk_core::availability(&schedules, &days, window, &q);
    assert_eq!(
        got,
        vetdesk_core::reference::availability(&schedules, tz, range, window, &q)
    );
    let starts: Vec<DateTime<Utc>> = got[0].slots.iter().map(|x| x.start()).collect();
    // The night of the 11th: 20:00 to 23:30 (into the 12th), then up to A at
    // 02:00 and after it.
    let night: Vec<DateTime<Utc>> = starts
        .into_iter()
        .filter(|t| *t >= utc("2027-01-11T20:00:00Z") && *t < utc("2027-01-12T04:00:00Z"))
        .collect();
    let want: Vec<DateTime<Utc>> = [
        "2027-01-11T20:00:00Z",
        "2027-01-11T20:30:00Z",
        "2027-01-11T21:00:00Z",
        "2027-01-11T21:30:00Z",
        "2027-01-11T22:00:00Z",
        "2027-01-11T22:30:00Z",
        "2027-01-11T23:00:00Z",
        "2027-01-11T23:30:00Z",
        "2027-01-12T00:00:00Z",
        "2027-01-12T00:30:00Z",
        "2027-01-12T01:00:00Z",
        "2027-01-12T02:30:00Z",
        "2027-01-12T03:00:00Z",
    ]
    .into_iter()
    .map(utc)
    .collect();
    assert_eq!(night, want);

    // And explain sees the night as one free stretch, up to A.
    let e = explain(
        &s,
        LONDON,
        utc("2027-01-11T23:00:00Z"),
        30,
        (0, 0),
        utc(EARLY),
        Duration::zero(),
    );
    assert!(e.free, "{e:?}");
    assert_eq!(e.free_until, Some(utc("2027-01-12T02:00:00Z")));
}

fn overlap_a_night() -> Conflict {
    overlap(A, "2027-01-12T02:00:00Z", "2027-01-12T02:30:00Z")
}

#[test]
fn weekly_rules_apply_only_within_their_dates() {
    // 09:00-17:00 from Tuesday 12 Jan to Thursday 14 Jan 2027 (both inclusive);
    // from Friday 15 Jan a new rule, 13:00-17:00, open-ended.
    let mut s = VetSchedule::new(VetId(Uuid::from_u128(1)), ClinicId(Uuid::from_u128(2)));
    for weekday in [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ] {
        s.rules.push(WeeklyRule {
            weekday,
            span: "09:00-17:00".parse().unwrap(),
            valid_from: NaiveDate::from_ymd_opt(2027, 1, 12).unwrap(),
            valid_to: Some(NaiveDate::from_ymd_opt(2027, 1, 14).unwrap()),
        });
        s.rules.push(WeeklyRule {
            weekday,
            span: "13:00-17:00".parse().unwrap(),
            valid_from: NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
            valid_to: None,
        });
    }
    let cases = vec![
        case(
            "the day before",
            ("2027-01-11T10:00:00Z", "2027-01-11T10:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "the first day",
            ("2027-01-12T10:00:00Z", "2027-01-12T10:30:00Z"),
            vec![],
        ),
        case(
            "the last day",
            ("2027-01-14T10:00:00Z", "2027-01-14T10:30:00Z"),
            vec![],
        ),
        case(
            "the morning after",
            ("2027-01-15T10:00:00Z", "2027-01-15T10:30:00Z"),
            vec![Conflict::OutsideWorkingHours],
        ),
        case(
            "the new rule's first day",
            ("2027-01-15T13:00:00Z", "2027-01-15T13:30:00Z"),
            vec![],
        ),
        case(
            "the new rule, months later",
            ("2027-06-15T12:00:00Z", "2027-06-15T12:30:00Z"),
            vec![],
        ),
    ];
    for c in &cases {
        run(&s, LONDON, c);
    }
}
