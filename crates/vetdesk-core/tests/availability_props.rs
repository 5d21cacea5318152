//! Property tests for availability (ARCHITECTURE.md "Scheduling rules"): random
//! schedules in DST-observing zones, checked against the naive reference
//! implementation and against the rules themselves; and "booking" a returned
//! slot must pass `check()`, then take exactly the colliding slots away, and
//! cancelling it must give them back.

use chrono::{Duration, NaiveDate, Timelike, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::FileFailurePersistence;
use uuid::Uuid;
use vetdesk_core::schedule::{shifts, Shift};
use vetdesk_core::{
    availability, availability_runs, check, expand_runs, reference, Absence, AppointmentId,
    Booking, ClinicId, Conflict, DateRange, DayOverride, Interval, LocalDays, LocalSpan, Proposal,
    SlotQuery, TimeOffId, VetId, VetSchedule, VetSlots, WeeklyRule,
};

const ZONES: [Tz; 5] = [
    chrono_tz::UTC,
    chrono_tz::Europe::London,
    chrono_tz::America::New_York,
    // +05:30 all year.
    chrono_tz::Asia::Kolkata,
    // +10:30 / +11: clocks move by 30 minutes.
    chrono_tz::Australia::Lord_Howe,
];

/// 2027's DST change days of each zone above (none for UTC and Kolkata).
fn change_days(tz: Tz) -> &'static [(u32, u32)] {
    match tz {
        chrono_tz::Europe::London => &[(3, 28), (10, 31)],
        chrono_tz::America::New_York => &[(3, 14), (11, 7)],
        chrono_tz::Australia::Lord_Howe => &[(4, 4), (10, 3)],
        _ => &[],
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Local minutes where interesting things happen: midnight, the DST gaps and
/// repeats of the zones above (01:00-02:00 London, 01:00-03:00 New York,
/// 01:30-02:30 Lord Howe), and the end of the day.
const EDGE_MINUTES: [u16; 12] = [0, 60, 75, 90, 105, 120, 135, 150, 165, 180, 1380, 1440];

/// A local minute of the day on the 5-minute granularity, often on an edge.
fn minute() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => (0u16..=288).prop_map(|u| u * 5),
        1 => select(&EDGE_MINUTES[..]),
    ]
}

/// A span between two minutes; `None` when they coincide.
fn span() -> impl Strategy<Value = Option<LocalSpan>> {
    (minute(), minute()).prop_map(|(a, b)| LocalSpan::new(a.min(b), a.max(b)).ok())
}

#[derive(Debug, Clone)]
struct RawVet {
    /// Per weekday, 1-3 spans (possibly overlapping or touching).
    week: Vec<Vec<Option<LocalSpan>>>,
    /// Per weekday: `None` for always valid, else (valid_from, valid_to) as days into 2027.
    validity: Vec<Option<(u16, Option<u16>)>>,
    /// (day offset into the range, spans); no spans is a day off.
    overrides: Vec<(u8, Vec<Option<LocalSpan>>)>,
    /// (start, length) in minutes, the start counted from an hour before the window.
    absences: Vec<(u32, u32)>,
    /// (start in 5-minute steps from two hours before the window, length in 5-minute steps,
    /// buffer before, buffer after).
    bookings: Vec<(u32, u32, u32, u32)>,
}

fn raw_vet() -> impl Strategy<Value = RawVet> {
    let validity = prop_oneof![
        6 => Just(None),
        1 => (0u16..365, prop::option::of(0u16..365)).prop_map(Some),
    ];
    (
        prop::collection::vec(prop::collection::vec(span(), 1..=3), 7),
        prop::collection::vec(validity, 7),
        prop::collection::vec((0u8..7, prop::collection::vec(span(), 0..=2)), 0..=2),
        prop::collection::vec((any::<u32>(), 1u32..=1440), 0..=3),
        prop::collection::vec((any::<u32>(), 1u32..=24, 0u32..=30, 0u32..=30), 0..=15),
    )
        .prop_map(|(week, validity, overrides, absences, bookings)| RawVet {
            week,
            validity,
            overrides,
            absences,
            bookings,
        })
}

#[derive(Debug, Clone)]
struct RawQuery {
    duration_steps: u32,
    before: u32,
    after: u32,
    grid: u32,
    /// Seconds into the window (modulo its length); `None` for "long ago".
    not_before: Option<u32>,
    /// 0: ignore nothing; 1: ignore an unknown id; 2: ignore one of the bookings.
    ignoring: (u8, Index),
}

fn raw_query() -> impl Strategy<Value = RawQuery> {
    (
        1u32..=24,
        0u32..=30,
        0u32..=30,
        select(&[5u32, 10, 15, 30, 60][..]),
        prop_oneof![1 => Just(None), 3 => any::<u32>().prop_map(Some)],
        (
            prop_oneof![3 => Just(0u8), 1 => Just(1u8), 2 => Just(2u8)],
            any::<Index>(),
        ),
    )
        .prop_map(
            |(duration_steps, before, after, grid, not_before, ignoring)| RawQuery {
                duration_steps,
                before,
                after,
                grid,
                not_before,
                ignoring,
            },
        )
}

fn first_day(tz: Tz) -> BoxedStrategy<NaiveDate> {
    let day_of_year = (0u32..365)
        .prop_map(|d| NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + Duration::days(i64::from(d)));
    let changes = change_days(tz);
    if changes.is_empty() {
        return day_of_year.boxed();
    }
    // Start up to three days before a change day, so the range usually holds it.
    let near_change = (select(changes), 0i64..=3).prop_map(|((m, d), back)| {
        NaiveDate::from_ymd_opt(2027, m, d).unwrap() - Duration::days(back)
    });
    prop_oneof![1 => day_of_year, 2 => near_change].boxed()
}

#[derive(Debug, Clone)]
struct Scenario {
    tz: Tz,
    range: DateRange,
    window: Interval,
    schedules: Vec<VetSchedule>,
    query: SlotQuery,
    /// Which returned slots to book, for each vet.
    picks: Vec<Index>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let place = select(&ZONES[..]).prop_flat_map(|tz| (Just(tz), first_day(tz)));
    (
        place,
        1i64..=7,
        prop::collection::vec(raw_vet(), 1..=3),
        raw_query(),
        prop::collection::vec(any::<Index>(), 1..=2),
    )
        .prop_map(|((tz, first), len, vets, q, picks)| build(tz, first, len, &vets, &q, picks))
}

fn mins(m: u32) -> Duration {
    Duration::minutes(i64::from(m))
}

fn build(
    tz: Tz,
    first: NaiveDate,
    len: i64,
    vets: &[RawVet],
    q: &RawQuery,
    picks: Vec<Index>,
) -> Scenario {
    let range = DateRange::new(first, first + Duration::days(len - 1), 7).unwrap();
    let window = range.to_interval(tz).unwrap();
    let window_min = u32::try_from(window.duration().num_minutes()).unwrap();
    let jan1 = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    let mut schedules = Vec::new();
    for (v, raw) in vets.iter().enumerate() {
        let v = v as u128 + 1;
        let mut s = VetSchedule::new(VetId(Uuid::from_u128(v)), ClinicId(Uuid::from_u128(99)));
        for (day, spans) in raw.week.iter().enumerate() {
            let (valid_from, valid_to) = match raw.validity[day] {
                None => (NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(), None),
                Some((from, to)) => (
                    jan1 + Duration::days(i64::from(from)),
                    to.map(|t| jan1 + Duration::days(i64::from(t))),
                ),
            };
            for span in spans.iter().flatten() {
                s.rules.push(WeeklyRule {
                    weekday: WEEK[day],
                    span: *span,
                    valid_from,
                    valid_to,
                });
            }
        }
        for (offset, spans) in &raw.overrides {
            s.overrides.push(DayOverride {
                date: first + Duration::days(i64::from(*offset)),
                spans: spans.iter().flatten().copied().collect(),
            });
        }
        for (i, (start, length)) in raw.absences.iter().enumerate() {
            let start = window.start() - Duration::hours(1) + mins(start % (window_min + 120));
            s.absences.push(Absence {
                id: TimeOffId(Uuid::from_u128(v << 64 | i as u128)),
                period: Interval::new(start, start + mins(*length)).unwrap(),
                reason: None,
            });
        }
        for (i, (start, steps, before, after)) in raw.bookings.iter().enumerate() {
            let start =
                window.start() - Duration::hours(2) + mins(5 * (start % (window_min / 5 + 48)));
            let slot = Interval::new(start, start + mins(5 * steps)).unwrap();
            s.bookings.push(Booking {
                id: AppointmentId(Uuid::from_u128(v << 64 | i as u128)),
                slot,
                blocked: slot.widen(mins(*before), mins(*after)),
            });
        }
        s.normalise();
        schedules.push(s);
    }
    let not_before = match q.not_before {
        None => window.start() - Duration::days(30),
        Some(secs) => window.start() + Duration::seconds(i64::from(secs % (window_min * 60))),
    };
    let all_bookings: Vec<AppointmentId> = schedules
        .iter()
        .flat_map(|s| s.bookings.iter().map(|b| b.id))
        .collect();
    let ignoring = match q.ignoring.0 {
        1 => Some(AppointmentId(Uuid::from_u128(0xdead))),
        2 if !all_bookings.is_empty() => Some(*q.ignoring.1.get(&all_bookings)),
        _ => None,
    };
    let query = SlotQuery {
        duration_min: 5 * q.duration_steps,
        buffer_before_min: q.before,
        buffer_after_min: q.after,
        grid_min: q.grid,
        not_before,
        ignoring,
    };
    Scenario {
        tz,
        range,
        window,
        schedules,
        query,
        picks,
    }
}

fn slots_of(sc: &Scenario, schedules: &[VetSchedule]) -> Vec<VetSlots> {
    let days = LocalDays::new(sc.tz, sc.range);
    availability(schedules, &days, sc.window, &sc.query)
}

/// The slot widened by the query's own buffers: the time booking it would block.
fn blocked_by(q: &SlotQuery, slot: Interval) -> Interval {
    slot.widen(mins(q.buffer_before_min), mins(q.buffer_after_min))
}

fn proposal(q: &SlotQuery, slot: Interval) -> Proposal {
    Proposal {
        slot,
        buffer_before_min: q.buffer_before_min,
        buffer_after_min: q.buffer_after_min,
        ignoring: q.ignoring,
    }
}

/// Whether working shifts cover every instant of `slot` (shifts that touch,
/// such as 20:00-24:00 and 00:00-02:00 the next day, are one stretch of work).
fn covered(shifts: &[Shift], slot: Interval) -> bool {
    let mut cur = slot.start();
    while cur < slot.end() {
        match shifts.iter().find(|s| s.interval.contains_instant(cur)) {
            Some(s) => cur = s.interval.end(),
            None => return false,
        }
    }
    true
}

/// A short account of how two answers differ, or `None` when they are equal.
fn differences(got: &[VetSlots], want: &[VetSlots]) -> Option<String> {
    if got == want {
        return None;
    }
    if got.len() != want.len() {
        return Some(format!("{} vets instead of {}", got.len(), want.len()));
    }
    let mut out = String::new();
    for (g, w) in got.iter().zip(want) {
        out += &format!(
            "vet {}: {}. ",
            g.vet_id,
            slot_differences(&g.slots, &w.slots)
        );
    }
    Some(out)
}

fn slot_differences(got: &[Interval], want: &[Interval]) -> String {
    let extra: Vec<String> = got
        .iter()
        .filter(|s| !want.contains(s))
        .take(4)
        .map(ToString::to_string)
        .collect();
    let missing: Vec<String> = want
        .iter()
        .filter(|s| !got.contains(s))
        .take(4)
        .map(ToString::to_string)
        .collect();
    format!(
        "{} slots instead of {}; unexpected {extra:?}; missing {missing:?}",
        got.len(),
        want.len()
    )
}

/// (b)-(e), and slots come sorted, of the asked length, on the local grid.
fn check_invariants(sc: &Scenario, got: &[VetSlots]) -> Result<(), TestCaseError> {
    let q = &sc.query;
    let days = LocalDays::new(sc.tz, sc.range);
    prop_assert_eq!(got.len(), sc.schedules.len());
    for (s, vs) in sc.schedules.iter().zip(got) {
        prop_assert_eq!(vs.vet_id, s.vet_id);
        let vet_shifts = shifts(s, &days);
        for w in vs.slots.windows(2) {
            prop_assert!(
                w[0].start() < w[1].start(),
                "slots out of order: {} then {}",
                w[0],
                w[1]
            );
        }
        for slot in &vs.slots {
            prop_assert_eq!(
                slot.duration(),
                mins(q.duration_min),
                "slot {} has the wrong length",
                slot
            );
            // (b) clear of every booking's blocked time, both sides' buffers included.
            let wide = blocked_by(q, *slot);
            for b in s.bookings.iter().filter(|b| Some(b.id) != q.ignoring) {
                prop_assert!(
                    !b.blocked.overlaps(&wide),
                    "slot {} (blocking {}) overlaps booking {} blocking {}",
                    slot,
                    wide,
                    b.id,
                    b.blocked
                );
            }
            // (c) clear of time off.
            for a in &s.absences {
                prop_assert!(
                    !a.period.overlaps(slot),
                    "slot {} overlaps time off {}",
                    slot,
                    a.period
                );
            }
            // (d) inside working time.
            prop_assert!(
                covered(&vet_shifts, *slot),
                "slot {} is not inside working time: {:?}",
                slot,
                vet_shifts
            );
            // (e) not before not_before, starting inside the window, on the local grid.
            prop_assert!(
                slot.start() >= q.not_before,
                "slot {} starts before {}",
                slot,
                q.not_before
            );
            prop_assert!(
                sc.window.contains_instant(slot.start()),
                "slot {} starts outside {}",
                slot,
                sc.window
            );
            let local = slot.start().with_timezone(&sc.tz);
            prop_assert!(
                local.second() == 0 && (local.hour() * 60 + local.minute()) % q.grid_min == 0,
                "slot {} starts at {} local, off the {} min grid",
                slot,
                local,
                q.grid_min
            );
        }
    }
    Ok(())
}

/// (f) and (g): book a returned slot, then cancel it again.
fn book_and_cancel(
    sc: &Scenario,
    vet: usize,
    slot: Interval,
    before: &[Interval],
) -> Result<(), TestCaseError> {
    let q = &sc.query;
    let now = q.not_before;
    let mut s = sc.schedules[vet].clone();

    // Before booking, the offered slot passes every check (no overlap, nor anything else).
    let reasons = check(&s, sc.tz, &proposal(q, slot), now, Duration::zero());
    prop_assert!(
        reasons.is_empty(),
        "offered slot {} is refused: {:?}",
        slot,
        reasons
    );

    let new_id = AppointmentId(Uuid::from_u128(u128::MAX));
    let booked = Booking {
        id: new_id,
        slot,
        blocked: blocked_by(q, slot),
    };
    s.bookings.push(booked);
    s.normalise();
    let after = slots_of(sc, std::slice::from_ref(&s)).remove(0).slots;
    prop_assert!(
        !after.contains(&slot),
        "slot {} is still offered after booking it",
        slot
    );
    // Exactly the slots that would now collide with the new booking are gone.
    let expected: Vec<Interval> = before
        .iter()
        .copied()
        .filter(|x| !blocked_by(q, *x).overlaps(&booked.blocked))
        .collect();
    prop_assert!(
        after == expected,
        "booking {} took the wrong slots away: {}",
        slot,
        slot_differences(&after, &expected)
    );
    let reasons = check(&s, sc.tz, &proposal(q, slot), now, Duration::zero());
    prop_assert_eq!(
        reasons,
        vec![Conflict::Overlap {
            appointment_id: new_id,
            start: slot.start(),
            end: slot.end(),
            buffer_only: false,
        }],
        "booking the same slot twice must name the first booking"
    );

    // Cancelling gives the time back exactly.
    s.bookings.retain(|b| b.id != new_id);
    let restored = slots_of(sc, std::slice::from_ref(&s)).remove(0).slots;
    prop_assert!(
        restored == before,
        "cancelling {} did not restore the slots: {}",
        slot,
        slot_differences(&restored, before)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/availability_props.txt"
        )))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn availability_is_correct(sc in scenario()) {
        let got = slots_of(&sc, &sc.schedules);
        // (a) the same answer as the naive implementation.
        let naive = reference::availability(&sc.schedules, sc.tz, sc.range, sc.window, &sc.query);
        if let Some(diff) = differences(&got, &naive) {
            return Err(TestCaseError::fail(format!("availability differs from the reference: {diff}")));
        }
        // (b)-(e)
        check_invariants(&sc, &got)?;
        // (f), (g)
        for (vet, vs) in got.iter().enumerate() {
            if vs.slots.is_empty() {
                continue;
            }
            for pick in &sc.picks {
                book_and_cancel(&sc, vet, *pick.get(&vs.slots), &vs.slots)?;
            }
        }
    }
}

/// The generator itself: it must produce slots, change days, bookings and
/// "ignoring" often enough for the properties above to bite.
#[test]
fn the_generator_produces_interesting_scenarios() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut with_slots, mut with_change, mut with_bookings, mut with_ignoring) = (0, 0, 0, 0);
    for _ in 0..64 {
        let sc = scenario().new_tree(&mut runner).unwrap().current();
        let days = LocalDays::new(sc.tz, sc.range);
        with_change += usize::from(days.days.iter().any(|d| d.fixed_offset.is_none()));
        with_bookings += usize::from(sc.schedules.iter().any(|s| !s.bookings.is_empty()));
        with_ignoring += usize::from(sc.query.ignoring.is_some());
        with_slots += usize::from(
            slots_of(&sc, &sc.schedules)
                .iter()
                .any(|v| !v.slots.is_empty()),
        );
    }
    assert!(
        with_slots >= 32,
        "only {with_slots}/64 scenarios have slots"
    );
    assert!(
        with_change >= 16,
        "only {with_change}/64 scenarios hold a DST change"
    );
    assert!(
        with_bookings >= 48,
        "only {with_bookings}/64 scenarios have bookings"
    );
    assert!(
        with_ignoring >= 8,
        "only {with_ignoring}/64 scenarios ignore a booking"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/availability_props.txt"
        )))),
        ..ProptestConfig::default()
    })]

    /// The compact form expands, by `SlotRun::slots`, to exactly the slot list, for
    /// grids the local day divides but a DST change can misalign (45, 90, 240 min,
    /// Lord Howe's 30-minute change); its runs are sorted, each as long as it can be.
    #[test]
    fn runs_expand_to_exactly_the_slots(
        sc in scenario(),
        grid in select(&[5u32, 10, 15, 20, 30, 45, 60, 90, 120, 240][..])
    ) {
        let mut sc = sc;
        sc.query.grid_min = grid;
        let days = LocalDays::new(sc.tz, sc.range);
        let slots = availability(&sc.schedules, &days, sc.window, &sc.query);
        let runs = availability_runs(&sc.schedules, &days, sc.window, &sc.query);
        prop_assert_eq!(runs.len(), slots.len());
        let (g, d) = (sc.query.grid_min, sc.query.duration_min);
        for (r, s) in runs.iter().zip(&slots) {
            prop_assert_eq!(r.vet_id, s.vet_id);
            let expanded = expand_runs(&r.runs, g, d);
            prop_assert!(
                expanded == s.slots,
                "vet {}: {}",
                r.vet_id,
                slot_differences(&expanded, &s.slots)
            );
            for w in r.runs.windows(2) {
                prop_assert!(w[0].start < w[1].start, "runs out of order: {:?}", w);
                // Maximal: the next run does not start one step after the last slot of this one.
                let last = w[0].end - mins(d);
                prop_assert!(w[1].start != last + mins(g), "runs {:?} should be one", w);
            }
            for run in &r.runs {
                prop_assert!(run.start < run.end, "empty run {:?}", run);
            }
        }
    }
}
