//! The appointment lifecycle (ARCHITECTURE.md "Lifecycle"): every (status, action)
//! pair written out, so any change to the state machine shows up here.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;
use std::str::FromStr;
use vetdesk_core::{transition, Action, Status, TransitionError, ValidationError};

/// What one (status, action) pair must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Allowed, leading to this status.
    To(Status),
    /// Refused: the action is not allowed from this status.
    NotAllowed,
    /// Refused: a no-show before the appointment's start.
    TooEarly,
}

use Action as A;
use Outcome::{NotAllowed, To, TooEarly};
use Status as S;

/// (from, action, outcome while `now < start`, outcome once `now >= start`).
const TABLE: [(Status, Action, Outcome, Outcome); 49] = [
    // scheduled
    (S::Scheduled, A::Confirm, To(S::Confirmed), To(S::Confirmed)),
    (S::Scheduled, A::CheckIn, To(S::CheckedIn), To(S::CheckedIn)),
    (S::Scheduled, A::Start, To(S::InProgress), To(S::InProgress)),
    (S::Scheduled, A::Complete, NotAllowed, NotAllowed),
    (S::Scheduled, A::Cancel, To(S::Cancelled), To(S::Cancelled)),
    (S::Scheduled, A::NoShow, TooEarly, To(S::NoShow)),
    (
        S::Scheduled,
        A::Reschedule,
        To(S::Scheduled),
        To(S::Scheduled),
    ),
    // confirmed
    (S::Confirmed, A::Confirm, NotAllowed, NotAllowed),
    (S::Confirmed, A::CheckIn, To(S::CheckedIn), To(S::CheckedIn)),
    (S::Confirmed, A::Start, To(S::InProgress), To(S::InProgress)),
    (S::Confirmed, A::Complete, NotAllowed, NotAllowed),
    (S::Confirmed, A::Cancel, To(S::Cancelled), To(S::Cancelled)),
    (S::Confirmed, A::NoShow, TooEarly, To(S::NoShow)),
    (
        S::Confirmed,
        A::Reschedule,
        To(S::Scheduled),
        To(S::Scheduled),
    ),
    // checked_in
    (S::CheckedIn, A::Confirm, NotAllowed, NotAllowed),
    (S::CheckedIn, A::CheckIn, NotAllowed, NotAllowed),
    (S::CheckedIn, A::Start, To(S::InProgress), To(S::InProgress)),
    (S::CheckedIn, A::Complete, NotAllowed, NotAllowed),
    (S::CheckedIn, A::Cancel, NotAllowed, NotAllowed),
    (S::CheckedIn, A::NoShow, NotAllowed, NotAllowed),
    (S::CheckedIn, A::Reschedule, NotAllowed, NotAllowed),
    // in_progress
    (S::InProgress, A::Confirm, NotAllowed, NotAllowed),
    (S::InProgress, A::CheckIn, NotAllowed, NotAllowed),
    (S::InProgress, A::Start, NotAllowed, NotAllowed),
    (
        S::InProgress,
        A::Complete,
        To(S::Completed),
        To(S::Completed),
    ),
    (S::InProgress, A::Cancel, NotAllowed, NotAllowed),
    (S::InProgress, A::NoShow, NotAllowed, NotAllowed),
    (S::InProgress, A::Reschedule, NotAllowed, NotAllowed),
    // completed (terminal)
    (S::Completed, A::Confirm, NotAllowed, NotAllowed),
    (S::Completed, A::CheckIn, NotAllowed, NotAllowed),
    (S::Completed, A::Start, NotAllowed, NotAllowed),
    (S::Completed, A::Complete, NotAllowed, NotAllowed),
    (S::Completed, A::Cancel, NotAllowed, NotAllowed),
    (S::Completed, A::NoShow, NotAllowed, NotAllowed),
    (S::Completed, A::Reschedule, NotAllowed, NotAllowed),
    // cancelled (terminal)
    (S::Cancelled, A::Confirm, NotAllowed, NotAllowed),
    (S::Cancelled, A::CheckIn, NotAllowed, NotAllowed),
    (S::Cancelled, A::Start, NotAllowed, NotAllowed),
    (S::Cancelled, A::Complete, NotAllowed, NotAllowed),
    (S::Cancelled, A::Cancel, NotAllowed, NotAllowed),
    (S::Cancelled, A::NoShow, NotAllowed, NotAllowed),
    (S::Cancelled, A::Reschedule, NotAllowed, NotAllowed),
    // no_show (terminal)
    (S::NoShow, A::Confirm, NotAllowed, NotAllowed),
    (S::NoShow, A::CheckIn, NotAllowed, NotAllowed),
    (S::NoShow, A::Start, NotAllowed, NotAllowed),
    (S::NoShow, A::Complete, NotAllowed, NotAllowed),
    (S::NoShow, A::Cancel, NotAllowed, NotAllowed),
    (S::NoShow, A::NoShow, NotAllowed, NotAllowed),
    (S::NoShow, A::Reschedule, NotAllowed, NotAllowed),
];

fn start() -> DateTime<Utc> {
    "2027-06-01T09:00:00Z".parse().unwrap()
}

fn check(from: Status, action: Action, now: DateTime<Utc>, expected: Outcome) {
    let case = format!("{from} --{action}--> at {now} (start {})", start());
    let got = transition(from, action, now, start());
    match (expected, got) {
        (To(want), Ok(to)) => assert_eq!(to, want, "{case}: wrong target status"),
        (NotAllowed, Err(TransitionError::NotAllowed { from: f, action: a })) => {
            assert_eq!((f, a), (from, action), "{case}: error names the wrong pair")
        }
        (TooEarly, Err(TransitionError::NoShowBeforeStart { start: s })) => {
            assert_eq!(s, start(), "{case}: error names the wrong start")
        }
        (want, got) => panic!("{case}: expected {want:?}, got {got:?}"),
    }
}

#[test]
fn table_covers_every_status_action_pair_exactly_once() {
    let pairs: HashSet<(Status, Action)> = TABLE.iter().map(|(s, a, _, _)| (*s, *a)).collect();
    assert_eq!(pairs.len(), 49);
    for s in Status::ALL {
        for a in Action::ALL {
            assert!(pairs.contains(&(s, a)), "missing {s} {a}");
        }
    }
}

#[test]
fn every_transition_before_the_start() {
    for (from, action, before, _) in TABLE {
        check(from, action, start() - Duration::minutes(1), before);
        check(from, action, start() - Duration::days(3), before);
    }
}

#[test]
fn every_transition_once_the_start_has_passed() {
    for (from, action, _, after) in TABLE {
        // Exactly at the start counts as passed.
        check(from, action, start(), after);
        check(from, action, start() + Duration::seconds(1), after);
        check(from, action, start() + Duration::hours(5), after);
    }
}

#[test]
fn no_show_needs_the_start_to_have_passed_to_the_second() {
    let just_before = start() - Duration::seconds(1);
    assert_eq!(
        transition(S::Confirmed, A::NoShow, just_before, start()),
        Err(TransitionError::NoShowBeforeStart { start: start() })
    );
    assert_eq!(
        transition(S::Confirmed, A::NoShow, start(), start()),
        Ok(S::NoShow)
    );
}

#[test]
fn terminal_statuses_allow_nothing() {
    for s in Status::ALL {
        let any_allowed = Action::ALL
            .into_iter()
            .any(|a| transition(s, a, start() + Duration::days(1), start()).is_ok());
        assert_eq!(
            any_allowed,
            !s.is_terminal(),
            "{s}: terminal={} but allowed={any_allowed}",
            s.is_terminal()
        );
    }
}

#[test]
fn holds_time_and_is_terminal() {
    // (status, holds_time, is_terminal)
    let cases = [
        (S::Scheduled, true, false),
        (S::Confirmed, true, false),
        (S::CheckedIn, true, false),
        (S::InProgress, true, false),
        (S::Completed, true, true),
        (S::Cancelled, false, true),
        (S::NoShow, false, true),
    ];
    assert_eq!(cases.len(), Status::ALL.len());
    for (s, holds, terminal) in cases {
        assert_eq!(s.holds_time(), holds, "{s}.holds_time()");
        assert_eq!(s.is_terminal(), terminal, "{s}.is_terminal()");
    }
}

#[test]
fn status_names_round_trip() {
    let names = [
        (S::Scheduled, "scheduled"),
        (S::Confirmed, "confirmed"),
        (S::CheckedIn, "checked_in"),
        (S::InProgress, "in_progress"),
        (S::Completed, "completed"),
        (S::Cancelled, "cancelled"),
        (S::NoShow, "no_show"),
    ];
    for (s, name) in names {
        assert_eq!(s.as_str(), name);
        assert_eq!(s.to_string(), name);
        assert_eq!(Status::from_str(name), Ok(s), "parse {name}");
    }
    for s in Status::ALL {
        assert_eq!(s.as_str().parse::<Status>(), Ok(s));
    }
}

#[test]
fn status_parsing_is_lenient_about_case_dashes_and_spaces() {
    let cases = [
        (" Checked-In ", S::CheckedIn),
        ("NO_SHOW", S::NoShow),
        ("no-show", S::NoShow),
        ("In_Progress", S::InProgress),
    ];
    for (raw, want) in cases {
        assert_eq!(raw.parse::<Status>(), Ok(want), "parse {raw:?}");
    }
}

#[test]
fn bad_status_string_is_a_choice_error() {
    for raw in ["done", "", "checkedin", "cancelled!", "no show"] {
        match raw.parse::<Status>() {
            Err(ValidationError::Choice {
                field,
                value,
                expected,
            }) => {
                assert_eq!(field, "status", "{raw:?}");
                assert_eq!(value, raw, "{raw:?}");
                assert!(
                    expected.contains("checked_in") && expected.contains("no_show"),
                    "{raw:?}: {expected}"
                );
            }
            other => panic!("{raw:?}: expected a Choice error, got {other:?}"),
        }
    }
}

#[test]
fn action_names() {
    let names = [
        (A::Confirm, "confirm"),
        (A::CheckIn, "check_in"),
        (A::Start, "start"),
        (A::Complete, "complete"),
        (A::Cancel, "cancel"),
        (A::NoShow, "no_show"),
        (A::Reschedule, "reschedule"),
    ];
    assert_eq!(names.len(), Action::ALL.len());
    for (a, name) in names {
        assert_eq!(a.as_str(), name);
        assert_eq!(a.to_string(), name);
    }
}

#[test]
fn transition_error_messages_name_the_action_and_status() {
    let e = transition(S::Completed, A::Cancel, start(), start()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot cancel an appointment that is completed"
    );
    let e = transition(
        S::Scheduled,
        A::NoShow,
        start() - Duration::hours(1),
        start(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("2027-06-01 09:00:00 UTC"), "{e}");
}
