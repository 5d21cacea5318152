//! A large, deterministic practice for benchmarks: 50 vets working
//! Monday–Saturday 08:00–12:00 and 13:00–19:00, 30,000 non-overlapping
//! 20-minute bookings spread over 30 days from a Monday. Benchmarks of the core
//! and of the stores build the same data from here, so their figures compare.

use crate::ids::{AppointmentId, ClinicId, VetId};
use crate::schedule::{Booking, VetSchedule, WeeklyRule};
use crate::time::{resolve_local, DateRange, Interval, LocalSpan};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use chrono_tz::Tz;
use uuid::Uuid;

pub const SPANS: [(u16, u16); 2] = [(8 * 60, 12 * 60), (13 * 60, 19 * 60)];
pub const WORKDAYS: [Weekday; 6] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
];
pub const BOOKING_MIN: i64 = 20;

pub struct Fixture {
    pub tz: Tz,
    pub range: DateRange,
    pub clinic: ClinicId,
    pub schedules: Vec<VetSchedule>,
}

impl Fixture {
    pub fn bookings(&self) -> usize {
        self.schedules.iter().map(|s| s.bookings.len()).sum()
    }
}

/// Deterministic ids and gaps from a counter (no RNG dependency in the core).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn build(tz: Tz, first: NaiveDate, days: i64, vets: usize, total_bookings: usize) -> Fixture {
    let range = DateRange {
        first,
        last: first + Duration::days(days - 1),
    };
    let clinic = ClinicId(Uuid::from_u64_pair(1, 0));
    let workdays: Vec<NaiveDate> = range
        .days()
        .filter(|d| WORKDAYS.contains(&d.weekday()))
        .collect();
    let vet_days = workdays.len() * vets;
    let base = total_bookings / vet_days.max(1);
    let extra = total_bookings % vet_days.max(1);
    let mut counter = 0u64;
    let mut schedules = Vec::with_capacity(vets);
    for v in 0..vets {
        let vet_id = VetId(Uuid::from_u64_pair(2, v as u64));
        let mut s = VetSchedule::new(vet_id, clinic);
        for wd in WORKDAYS {
            for (a, b) in SPANS {
                if let Ok(span) = LocalSpan::new(a, b) {
                    s.rules.push(WeeklyRule {
                        weekday: wd,
                        span,
                        valid_from: first - Duration::days(365),
                        valid_to: None,
                    });
                }
            }
        }
        for (di, day) in workdays.iter().enumerate() {
            let k = base + usize::from(v * workdays.len() + di < extra);
            // Morning takes 4/10 of the day's bookings, afternoon the rest.
            let morning = k * 4 / 10;
            for (span_idx, count) in [(0usize, morning), (1, k - morning)] {
                let (a, b) = SPANS[span_idx];
                let slack = i64::from(b - a) - count as i64 * BOOKING_MIN;
                let mut minute = i64::from(a);
                let mut slack_left = slack.max(0);
                for _ in 0..count {
                    counter += 1;
                    // Spend some of the slack before each booking, in 5-minute steps.
                    let gap = (mix(counter) % (slack_left as u64 / 5 / 2 + 1)) as i64 * 5;
                    slack_left -= gap;
                    minute += gap;
                    let start_local =
                        day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(minute);
                    let start = resolve_local(tz, start_local);
                    if let Some(slot) =
                        Interval::try_new(start, start + Duration::minutes(BOOKING_MIN))
                    {
                        s.bookings.push(Booking {
                            id: AppointmentId(Uuid::from_u64_pair(3, counter)),
                            slot,
                            blocked: slot,
                        });
                    }
                    minute += BOOKING_MIN;
                }
            }
        }
        s.normalise();
        schedules.push(s);
    }
    Fixture {
        tz,
        range,
        clinic,
        schedules,
    }
}
