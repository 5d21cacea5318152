//! Live refresh: committed changes reach subscribers. On PostgreSQL a change
//! made through one workstation's connection pool reaches another's
//! (LISTEN/NOTIFY); on SQLite the store announces its own process's changes.

#[macro_use]
mod common;

use common::*;
use std::time::Duration;
use vetdesk_app::*;
use vetdesk_store::Entity;

async fn next_appointment_change(rx: &mut tokio::sync::broadcast::Receiver<Change>) -> Change {
    next_change(rx, Entity::Appointment).await
}

async fn next_change(rx: &mut tokio::sync::broadcast::Receiver<Change>, entity: Entity) -> Change {
    tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            match rx.recv().await {
                Ok(c) if c.entity == entity => return c,
                Ok(_) => continue,
                Err(e) => panic!("change stream failed: {e}"),
            }
        }
    })
    .await
    .expect("the change arrives within 1 s")
}

/// Another workstation's view of the same store (on SQLite, the same process's).
async fn other_workstation(t: &TestApp) -> App {
    match t.backend {
        Backend::Sqlite => t.app.clone(),
        Backend::Postgres => App::new(
            vetdesk_store::open(&t.url).await.unwrap(),
            t.clock.clone(),
            Settings::default(),
        ),
    }
}

story!(multi_thread async fn a_booking_reaches_another_workstation_within_a_second(t) {
    let watcher = other_workstation(&t).await;
    let mut rx = watcher.subscribe();
    let d = t.book(&t.alice_vet, "2027-03-02T10:00", &t.consult).await.unwrap();
    let id = d.view.appointment.id;
    let c = next_appointment_change(&mut rx).await;
    assert_eq!((c.id, c.clinic_id, c.version, c.op), (id.0, Some(t.london.id), 1, ChangeOp::Insert));

    t.app.confirm(id, Some(1), &t.actor).await.unwrap();
    let c = next_appointment_change(&mut rx).await;
    assert_eq!((c.id, c.version, c.op), (id.0, 2, ChangeOp::Update));

    // A refused booking announces nothing.
    let err = t.book(&t.alice_vet, "2027-03-02T10:00", &t.consult).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    t.app.cancel(id, Some(2), None, &t.actor).await.unwrap();
    let c = next_appointment_change(&mut rx).await;
    assert_eq!((c.id, c.version), (id.0, 3), "the next change is the cancel, not the refused booking");
});

story!(multi_thread async fn a_deletion_tells_the_clinics_calendars(t) {
    let watcher = other_workstation(&t).await;
    let mut rx = watcher.subscribe();
    let hours = t.app.working_hours(Some(t.ben_vet.id), None).await.unwrap();
    let h = &hours[0];
    let v = t.app.delete_record(Entity::WorkingHours, h.id.0, h.meta.version).await.unwrap();
    let c = next_change(&mut rx, Entity::WorkingHours).await;
    assert_eq!((c.id, c.clinic_id, c.version, c.op), (h.id.0, Some(t.london.id), v, ChangeOp::Delete));
});
