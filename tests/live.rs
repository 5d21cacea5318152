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

    t.app.confirm(id, Some(1)).await.unwrap();
    let c = next_appointment_change(&mut rx).await;
    assert_eq!((c.id, c.version, c.op), (id.0, 2, ChangeOp::Update));

    // A refused booking announces nothing.
    let err = t.book(&t.alice_vet, "2027-03-02T10:00", &t.consult).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    t.app.cancel(id, Some(2), None).await.unwrap();
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

/// `url` with its user replaced by `user` (and no password).
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}@{host}")
}

/// A workstation whose connection to the server is cut, and cannot come back
/// for a while, still hears of the changes committed meanwhile once it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_committed_while_the_listener_was_cut_off_arrive_after_it_reconnects() {
    let Some(t) = spawn_app_on(Backend::Postgres).await else {
        eprintln!("skipped: {POSTGRES_ENV} is not set (this story is about PostgreSQL's listener)");
        return;
    };
    let Db::Postgres(admin) = &t.db else {
        unreachable!("a PostgreSQL test app")
    };
    let role = format!("vetdesk_watcher_{}", uuid::Uuid::now_v7().simple());
    let sql = |s: String| async move {
        sqlx::query(&s)
            .execute(admin)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    };
    sql(format!("CREATE ROLE \"{role}\" LOGIN SUPERUSER")).await;

    let watcher = App::new(
        vetdesk_store::open(&as_user(&t.url, &role)).await.unwrap(),
        t.clock.clone(),
        Settings::default(),
    );
    let mut rx = watcher.subscribe();

    // Cut every connection of the watcher's, and keep it from logging in again.
    sql(format!("ALTER ROLE \"{role}\" NOLOGIN")).await;
    sql(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Two changes while it is away, then it may come back.
    let first = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap();
    let second = t
        .book(&t.ben_vet, "2027-03-02T11:00", &t.consult)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    sql(format!("ALTER ROLE \"{role}\" LOGIN")).await;

    let mut seen = Vec::new();
    let heard = tokio::time::timeout(Duration::from_secs(10), async {
        while seen.len() < 2 {
            match rx.recv().await {
                Ok(c) if c.entity == Entity::Appointment => seen.push((c.id, c.op)),
                Ok(_) => continue,
                Err(e) => panic!("change stream failed: {e}"),
            }
        }
    })
    .await;
    assert!(
        heard.is_ok(),
        "both changes arrive after the reconnect; heard {seen:?}"
    );
    assert_eq!(
        seen,
        vec![
            (first.view.appointment.id.0, ChangeOp::Insert),
            (second.view.appointment.id.0, ChangeOp::Insert)
        ],
        "in commit order, once each"
    );

    // Live again: the next change is announced as usual, and not twice.
    t.app
        .confirm(first.view.appointment.id, Some(1))
        .await
        .unwrap();
    let c = next_appointment_change(&mut rx).await;
    assert_eq!((c.id, c.version), (first.view.appointment.id.0, 2));

    drop(watcher);
    sql(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
    ))
    .await;
    sql(format!("DROP ROLE \"{role}\"")).await;
}
