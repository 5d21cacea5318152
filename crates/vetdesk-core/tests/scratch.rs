use chrono::{NaiveDate, Weekday, DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;
use vetdesk_core::*;

fn sched(spans: &[(u16,u16)]) -> VetSchedule {
    let mut s = VetSchedule::new(VetId(Uuid::from_u128(1)), ClinicId(Uuid::from_u128(2)));
    for wd in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun] {
        for &(a,b) in spans {
            s.rules.push(WeeklyRule { weekday: wd, span: LocalSpan::new(a,b).unwrap(), valid_from: NaiveDate::from_ymd_opt(2000,1,1).unwrap(), valid_to: None });
        }
    }
    s
}

fn run(tz: Tz, d: NaiveDate, spans: &[(u16,u16)], dur: u32) {
    let s = sched(spans);
    let range = DateRange::new(d, d.succ_opt().unwrap(), 31).unwrap();
    let days = LocalDays::new(tz, range);
    let w = range.to_interval(tz).unwrap();
    let q = SlotQuery { duration_min: dur, buffer_before_min: 0, buffer_after_min: 0, grid_min: 15, not_before: DateTime::<Utc>::MIN_UTC, ignoring: None };
    let a = availability(&[s.clone()], &days, w, &q);
    let r = reference::availability(&[s.clone()], tz, range, w, &q);
    let sa: Vec<String> = a[0].slots.iter().map(|i| i.to_string()).collect();
    let sr: Vec<String> = r[0].slots.iter().map(|i| i.to_string()).collect();
    let diff_r: Vec<_> = sr.iter().filter(|x| !sa.contains(x)).collect();
    let diff_a: Vec<_> = sa.iter().filter(|x| !sr.contains(x)).collect();
    println!("{tz} {d} {spans:?}: only ref {diff_r:?} only fast {diff_a:?}");
}

#[test]
fn scratch() {
    run(Tz::UTC, NaiveDate::from_ymd_opt(2027,5,3).unwrap(), &[(1200,1440),(0,120)], 60);
    run(chrono_tz::Europe::London, NaiveDate::from_ymd_opt(2027,3,28).unwrap(), &[(0,75),(105,180)], 60);
}
