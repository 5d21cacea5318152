//! DST pinned by hand (ARCHITECTURE.md "Time"): both change days in Europe/London and
//! America/New_York (and one in Australia/Lord_Howe, whose clocks move by 30
//! minutes). Every expected instant below was worked out by hand from the
//! zone's rules and is written literally, so the tests do not trust chrono-tz
//! through the code under test.
//!
//! 2027 changes: London BST starts Sun 28 Mar at 01:00Z (01:00 GMT -> 02:00 BST)
//! and ends Sun 31 Oct at 01:00Z (02:00 BST -> 01:00 GMT); New York EDT starts
//! Sun 14 Mar at 07:00Z (02:00 EST -> 03:00 EDT) and ends Sun 7 Nov at 06:00Z
//! (02:00 EDT -> 01:00 EST); Lord Howe's +11 starts Sun 3 Oct at 15:30Z
//! (02:00 +10:30 -> 02:30 +11).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc, Weekday};
use chrono_tz::Tz;
use uuid::Uuid;
use vetdesk_core::schedule::shifts;
use vetdesk_core::{
    availability, reference, resolve_local, ClinicId, DateRange, Interval, LocalDays, LocalSpan,
    SlotQuery, VetId, VetSchedule, WeeklyRule,
};

const LONDON: Tz = chrono_tz::Europe::London;
const NEW_YORK: Tz = chrono_tz::America::New_York;
const LORD_HOWE: Tz = chrono_tz::Australia::Lord_Howe;

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("bad instant {s}: {e}"))
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap_or_else(|e| panic!("bad date {s}: {e}"))
}

fn local(s: &str) -> NaiveDateTime {
    s.parse()
        .unwrap_or_else(|e| panic!("bad local time {s}: {e}"))
}

fn iv(start: &str, end: &str) -> Interval {
    Interval::new(utc(start), utc(end)).unwrap()
}

/// One vet working `span` (`HH:MM-HH:MM`) every day since 2000.
fn every_day(span: &str) -> VetSchedule {
    let mut s = VetSchedule::new(VetId(Uuid::from_u128(1)), ClinicId(Uuid::from_u128(2)));
    for weekday in WEEK {
        s.rules.push(WeeklyRule {
            weekday,
            span: span.parse().unwrap(),
            valid_from: date("2000-01-01"),
            valid_to: None,
        });
    }
    s
}

fn one_day(d: &str) -> DateRange {
    DateRange::new(date(d), date(d), 1).unwrap()
}

fn query(duration_min: u32, grid_min: u32) -> SlotQuery {
    SlotQuery {
        duration_min,
        buffer_before_min: 0,
        buffer_after_min: 0,
        grid_min,
        not_before: utc("2000-01-01T00:00:00Z"),
        ignoring: None,
    }
}

/// Slots for one vet working `span` every day, on the single local date `day`,
/// checked against the reference implementation.
fn slots(tz: Tz, day: &str, span: &str, q: &SlotQuery) -> Vec<Interval> {
    let schedules = [every_day(span)];
    let range = one_day(day);
    let days = LocalDays::new(tz, range);
    let window = range.to_interval(tz).unwrap();
    let fast = availability(&schedules, &days, window, q);
    let naive = reference::availability(&schedules, tz, range, window, q);
    assert_eq!(
        fast, naive,
        "{tz} {day} {span}: availability differs from the reference"
    );
    fast.into_iter().next().unwrap().slots
}

fn starts(slots: &[Interval]) -> Vec<DateTime<Utc>> {
    slots.iter().map(Interval::start).collect()
}

fn utcs(list: &[&str]) -> Vec<DateTime<Utc>> {
    list.iter().map(|s| utc(s)).collect()
}

#[test]
fn change_days_are_not_fixed_offset_days_and_ordinary_days_are() {
    // (zone, date, fixed offset in seconds or None)
    let cases: [(Tz, &str, Option<i32>); 10] = [
        (LONDON, "2027-03-27", Some(0)),
        (LONDON, "2027-03-28", None),
        (LONDON, "2027-03-29", Some(3600)),
        (LONDON, "2027-10-31", None),
        (LONDON, "2027-11-01", Some(0)),
        (NEW_YORK, "2027-03-14", None),
        (NEW_YORK, "2027-03-15", Some(-4 * 3600)),
        (NEW_YORK, "2027-11-07", None),
        (NEW_YORK, "2027-11-06", Some(-4 * 3600)),
        (LORD_HOWE, "2027-10-03", None),
    ];
    for (tz, d, want) in cases {
        let days = LocalDays::new(tz, one_day(d));
        assert_eq!(days.days.len(), 1);
        assert_eq!(days.days[0].fixed_offset, want, "{tz} {d}");
    }
}

#[test]
fn local_days_are_as_long_as_the_clocks_say() {
    // (zone, date, first instant, first instant of the next day)
    let cases = [
        (
            LONDON,
            "2027-03-28",
            "2027-03-28T00:00:00Z",
            "2027-03-28T23:00:00Z",
        ),
        (
            LONDON,
            "2027-10-31",
            "2027-10-30T23:00:00Z",
            "2027-11-01T00:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-03-14",
            "2027-03-14T05:00:00Z",
            "2027-03-15T04:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-11-07",
            "2027-11-07T04:00:00Z",
            "2027-11-08T05:00:00Z",
        ),
        (
            LORD_HOWE,
            "2027-10-03",
            "2027-10-02T13:30:00Z",
            "2027-10-03T13:00:00Z",
        ),
    ];
    for (tz, d, start, end) in cases {
        assert_eq!(
            one_day(d).to_interval(tz).unwrap(),
            iv(start, end),
            "{tz} {d}"
        );
    }
}

#[test]
fn a_nine_to_five_shift_stays_nine_to_five_local_on_change_days() {
    // (zone, date, expected UTC shift)
    let cases = [
        (
            LONDON,
            "2027-03-27",
            "2027-03-27T09:00:00Z",
            "2027-03-27T17:00:00Z",
        ),
        (
            LONDON,
            "2027-03-28",
            "2027-03-28T08:00:00Z",
            "2027-03-28T16:00:00Z",
        ),
        (
            LONDON,
            "2027-10-30",
            "2027-10-30T08:00:00Z",
            "2027-10-30T16:00:00Z",
        ),
        (
            LONDON,
            "2027-10-31",
            "2027-10-31T09:00:00Z",
            "2027-10-31T17:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-03-13",
            "2027-03-13T14:00:00Z",
            "2027-03-13T22:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-03-14",
            "2027-03-14T13:00:00Z",
            "2027-03-14T21:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-11-06",
            "2027-11-06T13:00:00Z",
            "2027-11-06T21:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-11-07",
            "2027-11-07T14:00:00Z",
            "2027-11-07T22:00:00Z",
        ),
    ];
    for (tz, d, start, end) in cases {
        check_shifts(tz, d, "09:00-17:00", &[(start, end)]);
    }
}

#[test]
fn an_afternoon_shift_on_change_days() {
    let cases = [
        (
            LONDON,
            "2027-03-28",
            "2027-03-28T12:00:00Z",
            "2027-03-28T17:00:00Z",
        ),
        (
            LONDON,
            "2027-10-31",
            "2027-10-31T13:00:00Z",
            "2027-10-31T18:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-03-14",
            "2027-03-14T17:00:00Z",
            "2027-03-14T22:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-11-07",
            "2027-11-07T18:00:00Z",
            "2027-11-07T23:00:00Z",
        ),
    ];
    for (tz, d, start, end) in cases {
        check_shifts(tz, d, "13:00-18:00", &[(start, end)]);
    }
}

#[test]
fn shifts_spanning_the_change() {
    let cases: [(Tz, &str, &str, &str, &str); 6] = [
        // 00:00 GMT .. 06:00 BST: five real hours.
        (
            LONDON,
            "2027-03-28",
            "00:00-06:00",
            "2027-03-28T00:00:00Z",
            "2027-03-28T05:00:00Z",
        ),
        // 00:00 BST .. 06:00 GMT: seven real hours.
        (
            LONDON,
            "2027-10-31",
            "00:00-06:00",
            "2027-10-30T23:00:00Z",
            "2027-10-31T06:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-03-14",
            "00:00-06:00",
            "2027-03-14T05:00:00Z",
            "2027-03-14T10:00:00Z",
        ),
        (
            NEW_YORK,
            "2027-11-07",
            "00:00-06:00",
            "2027-11-07T04:00:00Z",
            "2027-11-07T11:00:00Z",
        ),
        // A start inside the gap moves forward to the change.
        (
            LONDON,
            "2027-03-28",
            "01:30-03:00",
            "2027-03-28T01:00:00Z",
            "2027-03-28T02:00:00Z",
        ),
        // An ambiguous end takes the earlier instant (01:30 BST).
        (
            LONDON,
            "2027-10-31",
            "00:00-01:30",
            "2027-10-30T23:00:00Z",
            "2027-10-31T00:30:00Z",
        ),
    ];
    for (tz, d, span, start, end) in cases {
        check_shifts(tz, d, span, &[(start, end)]);
    }
}

#[test]
fn a_shift_wholly_inside_the_spring_forward_gap_is_empty() {
    check_shifts(LONDON, "2027-03-28", "01:05-01:55", &[]);
    check_shifts(NEW_YORK, "2027-03-14", "02:00-02:45", &[]);
    assert!(slots(LONDON, "2027-03-28", "01:05-01:55", &query(5, 5)).is_empty());
}

fn check_shifts(tz: Tz, d: &str, span: &str, want: &[(&str, &str)]) {
    let s = every_day(span);
    let days = LocalDays::new(tz, one_day(d));
    let got: Vec<Interval> = shifts(&s, &days).iter().map(|sh| sh.interval).collect();
    let want: Vec<Interval> = want.iter().map(|(a, b)| iv(a, b)).collect();
    assert_eq!(got, want, "{tz} {d} {span}: shifts");
    // The slow path agrees: LocalSpan::on resolves each end directly.
    let on: Vec<Interval> = span
        .parse::<LocalSpan>()
        .unwrap()
        .on(tz, date(d))
        .into_iter()
        .collect();
    assert_eq!(on, want, "{tz} {d} {span}: LocalSpan::on");
}

#[test]
fn hourly_slots_in_the_afternoon_of_change_days() {
    let cases: [(Tz, &str, [&str; 5]); 4] = [
        (
            LONDON,
            "2027-03-28",
            [
                "2027-03-28T12:00:00Z",
                "2027-03-28T13:00:00Z",
                "2027-03-28T14:00:00Z",
                "2027-03-28T15:00:00Z",
                "2027-03-28T16:00:00Z",
            ],
        ),
        (
            LONDON,
            "2027-10-31",
            [
                "2027-10-31T13:00:00Z",
                "2027-10-31T14:00:00Z",
                "2027-10-31T15:00:00Z",
                "2027-10-31T16:00:00Z",
                "2027-10-31T17:00:00Z",
            ],
        ),
        (
            NEW_YORK,
            "2027-03-14",
            [
                "2027-03-14T17:00:00Z",
                "2027-03-14T18:00:00Z",
                "2027-03-14T19:00:00Z",
                "2027-03-14T20:00:00Z",
                "2027-03-14T21:00:00Z",
            ],
        ),
        (
            NEW_YORK,
            "2027-11-07",
            [
                "2027-11-07T18:00:00Z",
                "2027-11-07T19:00:00Z",
                "2027-11-07T20:00:00Z",
                "2027-11-07T21:00:00Z",
                "2027-11-07T22:00:00Z",
            ],
        ),
    ];
    for (tz, d, want) in cases {
        let got = slots(tz, d, "13:00-18:00", &query(60, 60));
        assert_eq!(starts(&got), utcs(&want), "{tz} {d}");
        for s in &got {
            assert_eq!(s.duration(), chrono::Duration::minutes(60), "{tz} {d}: {s}");
        }
    }
}

#[test]
fn nine_to_five_in_two_hour_slots_on_change_days() {
    // 120-minute slots on a 120-minute grid: 09, 11, 13, 15 local.
    let cases: [(Tz, &str, [&str; 4]); 4] = [
        (
            LONDON,
            "2027-03-28",
            [
                "2027-03-28T08:00:00Z",
                "2027-03-28T10:00:00Z",
                "2027-03-28T12:00:00Z",
                "2027-03-28T14:00:00Z",
            ],
        ),
        (
            LONDON,
            "2027-10-31",
            [
                "2027-10-31T09:00:00Z",
                "2027-10-31T11:00:00Z",
                "2027-10-31T13:00:00Z",
                "2027-10-31T15:00:00Z",
            ],
        ),
        (
            NEW_YORK,
            "2027-03-14",
            [
                "2027-03-14T13:00:00Z",
                "2027-03-14T15:00:00Z",
                "2027-03-14T17:00:00Z",
                "2027-03-14T19:00:00Z",
            ],
        ),
        (
            NEW_YORK,
            "2027-11-07",
            [
                "2027-11-07T14:00:00Z",
                "2027-11-07T16:00:00Z",
                "2027-11-07T18:00:00Z",
                "2027-11-07T20:00:00Z",
            ],
        ),
    ];
    for (tz, d, want) in cases {
        let got = slots(tz, d, "09:00-17:00", &query(120, 60));
        // On a 60-minute grid there are seven starts (09..15 local); take every other.
        assert_eq!(got.len(), 7, "{tz} {d}: {got:?}");
        let even: Vec<_> = got.iter().step_by(2).map(Interval::start).collect();
        assert_eq!(even, utcs(&want), "{tz} {d}");
        let got = slots(tz, d, "09:00-17:00", &query(120, 120));
        // 09:00 is not on a 120-minute grid (09:00 = 540 min, 540 % 120 = 60): 10, 12, 14 local.
        assert_eq!(got.len(), 3, "{tz} {d}: {got:?}");
        let shifted: Vec<_> = want
            .iter()
            .take(3)
            .map(|s| utc(s) + chrono::Duration::hours(1))
            .collect();
        assert_eq!(starts(&got), shifted, "{tz} {d}");
    }
}

#[test]
fn slots_in_a_shift_that_spans_the_change_sit_on_the_local_grid() {
    // (zone, date, duration, grid, expected starts); the shift is 00:00-06:00 local.
    let cases: Vec<(Tz, &str, u32, u32, Vec<&str>)> = vec![
        // Spring forward, London: local 00, 02, 03, 04, 05 (01:xx does not exist).
        (
            LONDON,
            "2027-03-28",
            60,
            60,
            vec![
                "2027-03-28T00:00:00Z",
                "2027-03-28T01:00:00Z",
                "2027-03-28T02:00:00Z",
                "2027-03-28T03:00:00Z",
                "2027-03-28T04:00:00Z",
            ],
        ),
        // A 2-hour grid: local 00:00 GMT, 02:00 BST, 04:00 BST. A UTC grid would give 00, 02, 04Z.
        (
            LONDON,
            "2027-03-28",
            60,
            120,
            vec![
                "2027-03-28T00:00:00Z",
                "2027-03-28T01:00:00Z",
                "2027-03-28T03:00:00Z",
            ],
        ),
        // Fall back, London: 00:00 BST, 01:00 BST, 01:00 GMT, 02..05 GMT.
        (
            LONDON,
            "2027-10-31",
            60,
            60,
            vec![
                "2027-10-30T23:00:00Z",
                "2027-10-31T00:00:00Z",
                "2027-10-31T01:00:00Z",
                "2027-10-31T02:00:00Z",
                "2027-10-31T03:00:00Z",
                "2027-10-31T04:00:00Z",
                "2027-10-31T05:00:00Z",
            ],
        ),
        // 2-hour grid: 00:00 BST, 02:00 GMT, 04:00 GMT.
        (
            LONDON,
            "2027-10-31",
            60,
            120,
            vec![
                "2027-10-30T23:00:00Z",
                "2027-10-31T02:00:00Z",
                "2027-10-31T04:00:00Z",
            ],
        ),
        // 3-hour slots on a 90-minute grid: 00:00 BST, 01:30 BST, 01:30 GMT (both 01:30s are
        // on the grid), 03:00 GMT; a 3 h slot must end by 06:00Z.
        (
            LONDON,
            "2027-10-31",
            180,
            90,
            vec![
                "2027-10-30T23:00:00Z",
                "2027-10-31T00:30:00Z",
                "2027-10-31T01:30:00Z",
                "2027-10-31T03:00:00Z",
            ],
        ),
        // Spring forward, New York: 00:00 EST, 04:00 EDT on a 2-hour grid.
        (
            NEW_YORK,
            "2027-03-14",
            60,
            120,
            vec!["2027-03-14T05:00:00Z", "2027-03-14T08:00:00Z"],
        ),
        // Fall back, New York: 00:00 EDT, 02:00 EST, 04:00 EST.
        (
            NEW_YORK,
            "2027-11-07",
            60,
            120,
            vec![
                "2027-11-07T04:00:00Z",
                "2027-11-07T07:00:00Z",
                "2027-11-07T09:00:00Z",
            ],
        ),
        // New York fall back, 30-minute slots on a 30-minute grid around the repeated hour.
        (
            NEW_YORK,
            "2027-11-07",
            30,
            30,
            vec![
                "2027-11-07T04:00:00Z",
                "2027-11-07T04:30:00Z",
                "2027-11-07T05:00:00Z",
                "2027-11-07T05:30:00Z",
                "2027-11-07T06:00:00Z",
                "2027-11-07T06:30:00Z",
                "2027-11-07T07:00:00Z",
                "2027-11-07T07:30:00Z",
                "2027-11-07T08:00:00Z",
                "2027-11-07T08:30:00Z",
                "2027-11-07T09:00:00Z",
                "2027-11-07T09:30:00Z",
                "2027-11-07T10:00:00Z",
                "2027-11-07T10:30:00Z",
            ],
        ),
        // Lord Howe springs forward 30 minutes at 02:00 local (+10:30 -> +11):
        // local 00:00 (13:30Z), 01:00 (14:30Z), then 03:00 +11 (16:00Z), 04:00, 05:00.
        (
            LORD_HOWE,
            "2027-10-03",
            60,
            60,
            vec![
                "2027-10-02T13:30:00Z",
                "2027-10-02T14:30:00Z",
                "2027-10-02T16:00:00Z",
                "2027-10-02T17:00:00Z",
                "2027-10-02T18:00:00Z",
            ],
        ),
    ];
    for (tz, d, duration, grid, want) in cases {
        let got = slots(tz, d, "00:00-06:00", &query(duration, grid));
        assert_eq!(
            starts(&got),
            utcs(&want),
            "{tz} {d} {duration} min on a {grid} min grid"
        );
        for s in &got {
            assert_eq!(
                s.duration(),
                chrono::Duration::minutes(i64::from(duration)),
                "{tz} {d}: {s}"
            );
        }
    }
}

#[test]
fn slots_respect_bookings_across_the_change() {
    // London fall back, 00:00-06:00 local, a booking 01:00 GMT - 02:00 GMT (01:00Z-02:00Z).
    let tz = LONDON;
    let range = one_day("2027-10-31");
    let mut s = every_day("00:00-06:00");
    s.bookings.push(vetdesk_core::Booking {
        id: vetdesk_core::AppointmentId(Uuid::from_u128(77)),
        slot: iv("2027-10-31T01:00:00Z", "2027-10-31T02:00:00Z"),
        blocked: iv("2027-10-31T01:00:00Z", "2027-10-31T02:00:00Z"),
    });
    let schedules = [s];
    let days = LocalDays::new(tz, range);
    let window = range.to_interval(tz).unwrap();
    let q = query(60, 60);
    let got = availability(&schedules, &days, window, &q);
    assert_eq!(
        got,
        reference::availability(&schedules, tz, range, window, &q)
    );
    assert_eq!(
        starts(&got[0].slots),
        utcs(&[
            "2027-10-30T23:00:00Z",
            "2027-10-31T00:00:00Z",
            "2027-10-31T02:00:00Z",
            "2027-10-31T03:00:00Z",
            "2027-10-31T04:00:00Z",
            "2027-10-31T05:00:00Z",
        ])
    );
}

#[test]
fn a_whole_week_around_each_change_matches_the_reference() {
    for (tz, first) in [
        (LONDON, "2027-03-25"),
        (LONDON, "2027-10-28"),
        (NEW_YORK, "2027-03-11"),
        (NEW_YORK, "2027-11-04"),
        (LORD_HOWE, "2027-04-01"),
        (LORD_HOWE, "2027-09-30"),
    ] {
        let first = date(first);
        let range = DateRange::new(first, first + chrono::Duration::days(6), 7).unwrap();
        let days = LocalDays::new(tz, range);
        let window = range.to_interval(tz).unwrap();
        let schedules = [every_day("00:00-03:30"), every_day("08:15-17:45")];
        for (duration, grid) in [(15, 15), (45, 15), (60, 30), (25, 5), (90, 90)] {
            let q = query(duration, grid);
            let fast = availability(&schedules, &days, window, &q);
            let naive = reference::availability(&schedules, tz, range, window, &q);
            assert_eq!(
                fast, naive,
                "{tz} week of {first}, {duration} min on {grid}"
            );
        }
    }
}

#[test]
fn nonexistent_local_times_move_forward_to_the_change() {
    let cases = [
        (LONDON, "2027-03-28T01:30:00", "2027-03-28T01:00:00Z"),
        (LONDON, "2027-03-28T01:00:00", "2027-03-28T01:00:00Z"),
        (LONDON, "2027-03-28T01:59:00", "2027-03-28T01:00:00Z"),
        (LONDON, "2027-03-28T01:30:45", "2027-03-28T01:00:00Z"),
        (NEW_YORK, "2027-03-14T02:30:00", "2027-03-14T07:00:00Z"),
        (NEW_YORK, "2027-03-14T02:00:00", "2027-03-14T07:00:00Z"),
        (LORD_HOWE, "2027-10-03T02:15:00", "2027-10-02T15:30:00Z"),
    ];
    for (tz, l, want) in cases {
        assert_eq!(resolve_local(tz, local(l)), utc(want), "{tz} {l}");
    }
}

#[test]
fn ambiguous_local_times_take_the_earlier_instant() {
    let cases = [
        (LONDON, "2027-10-31T01:30:00", "2027-10-31T00:30:00Z"),
        (LONDON, "2027-10-31T01:00:00", "2027-10-31T00:00:00Z"),
        (LONDON, "2027-10-31T01:59:00", "2027-10-31T00:59:00Z"),
        (NEW_YORK, "2027-11-07T01:30:00", "2027-11-07T05:30:00Z"),
        (NEW_YORK, "2027-11-07T01:00:00", "2027-11-07T05:00:00Z"),
        // Lord Howe falls back from 02:00 +11 to 01:30 +10:30 on 4 April.
        (LORD_HOWE, "2027-04-04T01:45:00", "2027-04-03T14:45:00Z"),
    ];
    for (tz, l, want) in cases {
        assert_eq!(resolve_local(tz, local(l)), utc(want), "{tz} {l}");
    }
}

#[test]
fn ordinary_local_times_around_the_changes() {
    let cases = [
        (LONDON, "2027-03-28T00:59:00", "2027-03-28T00:59:00Z"),
        (LONDON, "2027-03-28T02:00:00", "2027-03-28T01:00:00Z"),
        (LONDON, "2027-10-31T00:59:00", "2027-10-30T23:59:00Z"),
        (LONDON, "2027-10-31T02:00:00", "2027-10-31T02:00:00Z"),
        (NEW_YORK, "2027-03-14T01:59:00", "2027-03-14T06:59:00Z"),
        (NEW_YORK, "2027-03-14T03:00:00", "2027-03-14T07:00:00Z"),
        (NEW_YORK, "2027-11-07T00:59:00", "2027-11-07T04:59:00Z"),
        (NEW_YORK, "2027-11-07T02:00:00", "2027-11-07T07:00:00Z"),
    ];
    for (tz, l, want) in cases {
        assert_eq!(resolve_local(tz, local(l)), utc(want), "{tz} {l}");
    }
}

#[test]
fn a_break_swallowed_by_the_spring_forward_gap_is_no_break() {
    // London, 28 March: 00:00-01:15 and 01:45-03:00 local. 01:15 and 01:45 do not
    // exist and both resolve to 01:00Z, so the vet works 00:00Z-02:00Z without a break.
    let tz = LONDON;
    let mut s = every_day("00:00-01:15");
    s.rules.extend(every_day("01:45-03:00").rules);
    let range = one_day("2027-03-28");
    let days = LocalDays::new(tz, range);
    let window = range.to_interval(tz).unwrap();
    let q = query(60, 15);
    let schedules = [s];
    let got = availability(&schedules, &days, window, &q);
    assert_eq!(
        got,
        reference::availability(&schedules, tz, range, window, &q)
    );
    assert_eq!(
        starts(&got[0].slots),
        utcs(&[
            "2027-03-28T00:00:00Z",
            "2027-03-28T00:15:00Z",
            "2027-03-28T00:30:00Z",
            "2027-03-28T00:45:00Z",
            "2027-03-28T01:00:00Z",
        ])
    );
    let slot = iv("2027-03-28T00:30:00Z", "2027-03-28T01:30:00Z");
    let p = vetdesk_core::Proposal {
        slot,
        buffer_before_min: 0,
        buffer_after_min: 0,
        ignoring: None,
    };
    let now = utc("2027-03-01T00:00:00Z");
    assert_eq!(
        vetdesk_core::check(&schedules[0], tz, &p, now, chrono::Duration::zero()),
        vec![]
    );
    let e = vetdesk_core::explain(
        &schedules[0],
        tz,
        utc("2027-03-28T00:00:00Z"),
        30,
        (0, 0),
        now,
        chrono::Duration::zero(),
    );
    assert!(e.free, "{e:?}");
    assert_eq!(e.free_until, Some(utc("2027-03-28T02:00:00Z")));
}
