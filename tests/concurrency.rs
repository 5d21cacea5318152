//! Racing bookings: many tasks and several connection pools (workstations) on
//! one SQLite file. Exactly one booking wins each slot; every loser gets a
//! typed conflict; nothing else goes wrong.

#[macro_use]
mod common;

use common::*;
use std::collections::HashMap;
use std::sync::Arc;
use vetdesk_app::*;

story!(multi_thread async fn sixteen_tasks_race_for_the_same_slots(t) {
    // Four "workstations", each its own pool on the same file, four tasks each.
    let mut apps = Vec::new();
    for _ in 0..4 {
        let store = vetdesk_store::open(&t.url).await.unwrap();
        apps.push(App::new(store, t.clock.clone(), Settings::default()));
    }
    let slots: Vec<String> = (0..12)
        .map(|i| format!("2027-03-02T{:02}:{:02}", 9 + i / 2, (i % 2) * 30))
        .collect();
    let base = Arc::new(t.book_request(&t.ben_vet, &t.london, "2027-03-02T09:00", &t.consult));
    let mut handles = Vec::new();
    for task in 0..16usize {
        let app = apps[task % 4].clone();
        let slots = slots.clone();
        let base = base.clone();
        handles.push(tokio::spawn(async move {
            let mut results = Vec::new();
            // Each task walks the slots from a different place.
            for k in 0..slots.len() {
                let s = &slots[(k + task) % slots.len()];
                let r = app
                    .book(
                        BookRequest {
                            start: local(s),
                            ..(*base).clone()
                        },
                    )
                    .await;
                results.push((s.clone(), r.map(|d| d.view.appointment.id)));
            }
            results
        }));
    }
    let mut wins: HashMap<String, usize> = HashMap::new();
    let mut losses = 0;
    for h in handles {
        for (slot, r) in h.await.unwrap() {
            match r {
                Ok(_) => *wins.entry(slot).or_default() += 1,
                Err(AppError::Conflict { conflicts: c, .. }) => {
                    assert!(c.iter().all(|c| c.code() == "overlap"), "{c:?}");
                    losses += 1;
                }
                Err(e) => {
                    panic!("a racing booking failed with something other than a conflict: {e}")
                }
            }
        }
    }
    assert_eq!(wins.len(), slots.len(), "every slot was won");
    assert!(
        wins.values().all(|n| *n == 1),
        "each slot exactly once: {wins:?}"
    );
    assert_eq!(losses, 16 * slots.len() - slots.len());
    assert_eq!(t.overlapping_pairs().await, 0);
    assert_eq!(t.count("appointments").await, slots.len() as i64);
});

story!(multi_thread async fn overlapping_attempts_never_double_book(t) {
    // Surgeries (90 minutes of blocked time) on a 15-minute grid: most attempts overlap several others.
    let starts: Vec<String> = (0..28)
        .map(|i| format!("2027-03-03T{:02}:{:02}", 9 + i / 4, (i % 4) * 15))
        .collect();
    let base = Arc::new(t.book_request(&t.ben_vet, &t.london, "2027-03-03T09:00", &t.surgery));
    let mut handles = Vec::new();
    for task in 0..16usize {
        let app = t.app.clone();
        let starts = starts.clone();
        let base = base.clone();
        handles.push(tokio::spawn(async move {
            let mut ok = 0;
            for k in 0..starts.len() {
                let s = &starts[(k * 7 + task) % starts.len()];
                match app
                    .book(
                        BookRequest {
                            start: local(s),
                            ..(*base).clone()
                        },
                    )
                    .await
                {
                    Ok(_) => ok += 1,
                    Err(AppError::Conflict { .. }) => {}
                    Err(e) => panic!("unexpected error: {e}"),
                }
            }
            ok
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    assert!(total >= 4, "some bookings must win (got {total})");
    assert_eq!(t.overlapping_pairs().await, 0);
    assert_eq!(t.count("appointments").await, total as i64);
});
