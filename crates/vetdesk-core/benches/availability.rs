//! Availability in the core alone: 50 vets × 30 days on a 15-minute grid with
//! 30,000 booked appointments, against the brute-force reference on the same data.

use chrono::{Duration, NaiveDate};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use vetdesk_core::{availability, fixture, reference, LocalDays, SlotQuery};

fn bench(c: &mut Criterion) {
    let first = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap_or_default();
    let fx = fixture::build(chrono_tz::Europe::London, first, 30, 50, 30_000);
    assert_eq!(fx.bookings(), 30_000);
    let window = fx.range.to_interval(fx.tz).expect("window");
    let q = SlotQuery {
        duration_min: 30,
        buffer_before_min: 0,
        buffer_after_min: 0,
        grid_min: 15,
        not_before: window.start() - Duration::days(1),
        ignoring: None,
    };
    let fast = availability(&fx.schedules, &LocalDays::new(fx.tz, fx.range), window, &q);
    let slow = reference::availability(&fx.schedules, fx.tz, fx.range, window, &q);
    assert_eq!(
        fast, slow,
        "the benchmark only means something if both agree"
    );
    let slots: usize = fast.iter().map(|v| v.slots.len()).sum();
    eprintln!("50 vets x 30 days, 30,000 bookings: {slots} free 30-minute slots");

    let mut g = c.benchmark_group("availability_50x30");
    g.bench_function("core", |b| {
        b.iter(|| {
            let days = LocalDays::new(fx.tz, fx.range);
            black_box(availability(black_box(&fx.schedules), &days, window, &q))
        })
    });
    g.sample_size(10);
    g.bench_function("reference", |b| {
        b.iter(|| {
            black_box(reference::availability(
                black_box(&fx.schedules),
                fx.tz,
                fx.range,
                window,
                &q,
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
