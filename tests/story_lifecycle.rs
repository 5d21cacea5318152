//! The appointment lifecycle through the application layer: every action, its
//! history, its version, and what it frees.

#[macro_use]
mod common;

use chrono::Duration;
use common::*;
use vetdesk_app::*;
use vetdesk_core::*;

story!(async fn create_confirm_check_in_start_complete(t) {
    let d = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap();
    let id = d.view.appointment.id;
    // What booking returns is exactly what is stored.
    assert_eq!(t.app.appointment(id).await.unwrap(), d);
    assert_eq!((d.view.vet_name.as_str(), d.view.type_name.as_str(), d.view.colour.as_str()), ("Dr Alice", "Consultation", "#4f86f7"));
    assert_eq!(d.history.len(), 1);
    assert_eq!(d.view.appointment.status, Status::Scheduled);
    assert_eq!(d.view.appointment.meta.version, 1);
    assert_eq!(d.view.appointment.created_by, t.actor);
    assert_eq!(
        d.view.appointment.client_id, t.owner.id,
        "the owner comes from the pet"
    );
    assert_eq!(
        d.local.local_start.format("%Y-%m-%d %H:%M").to_string(),
        "2027-03-02 10:00"
    );

    let d = t.app.confirm(id, Some(1)).await.unwrap();
    assert_eq!(
        (d.view.appointment.status, d.view.appointment.meta.version),
        (Status::Confirmed, 2)
    );
    t.clock.set(utc("2027-03-02T09:55:00Z"));
    let d = t
        .app
        .acting_as(Principal::local("reception"))
        .check_in(id, Some(2))
        .await
        .unwrap();
    assert_eq!(
        (d.view.appointment.status, d.view.appointment.meta.version),
        (Status::CheckedIn, 3)
    );
    assert_eq!(d.view.appointment.updated_by, Actor::new("reception"));
    t.clock.set(utc("2027-03-02T10:02:00Z"));
    let d = t.app.start(id, Some(3)).await.unwrap();
    assert_eq!(d.view.appointment.status, Status::InProgress);
    t.clock.set(utc("2027-03-02T10:31:00Z"));
    let d = t
        .app
        .complete(id, Some(4), Some("All well".into()))
        .await
        .unwrap();
    assert_eq!(
        (d.view.appointment.status, d.view.appointment.meta.version),
        (Status::Completed, 5)
    );

    let h = t.app.appointment(id).await.unwrap().history;
    let steps: Vec<(&str, Option<Status>, Status, i64)> = h
        .iter()
        .map(|e| (e.action.as_str(), e.from_status, e.to_status, e.version))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("book", None, Status::Scheduled, 1),
            ("confirm", Some(Status::Scheduled), Status::Confirmed, 2),
            ("check_in", Some(Status::Confirmed), Status::CheckedIn, 3),
            ("start", Some(Status::CheckedIn), Status::InProgress, 4),
            ("complete", Some(Status::InProgress), Status::Completed, 5),
        ]
    );
    assert_eq!(h[2].actor, Actor::new("reception"));
    assert_eq!(h[2].at, utc("2027-03-02T09:55:00Z"));
    assert_eq!(h[4].note.as_deref(), Some("All well"));

    // A completed appointment still holds its time, and is final.
    let err = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    let before = t.footprint().await;
    for action in [
        Action::Cancel,
        Action::Confirm,
        Action::Start,
        Action::NoShow,
    ] {
        let err = match action {
            Action::Cancel => t.app.cancel(id, None, None).await,
            Action::Confirm => t.app.confirm(id, None).await,
            Action::Start => t.app.start(id, None).await,
            _ => t.app.no_show(id, None).await,
        }
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidTransition, "{action}: {err}");
    }
    assert_eq!(
        t.footprint().await,
        before,
        "refused transitions write nothing"
    );
});

story!(async fn cancel_records_the_reason_and_frees_the_slot(t) {
    let d = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap();
    let id = d.view.appointment.id;
    let d = t
        .app
        .cancel(id, Some(1), Some("  Owner is away  ".into()))
        .await
        .unwrap();
    assert_eq!(d.view.appointment.status, Status::Cancelled);
    assert_eq!(
        d.view.appointment.cancel_reason.as_deref(),
        Some("Owner is away")
    );
    assert_eq!(
        d.history.last().map(|h| h.note.as_deref()),
        Some(Some("Owner is away"))
    );
    let again = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap();
    assert_ne!(again.view.appointment.id, id);
    assert_eq!(t.overlapping_pairs().await, 0);
});

story!(async fn no_show_only_after_the_start_and_it_frees_the_time(t) {
    let d = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap();
    let id = d.view.appointment.id;
    t.clock.set(utc("2027-03-02T09:59:00Z"));
    let err = t.app.no_show(id, None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidTransition);
    assert!(
        err.to_string().contains("before the appointment's start"),
        "{err}"
    );
    t.clock.set(utc("2027-03-02T10:10:00Z"));
    let d = t.app.no_show(id, None).await.unwrap();
    assert_eq!(d.view.appointment.status, Status::NoShow);
    // The rest of the slot is free for a walk-in.
    t.clock.set(utc("2027-03-02T10:00:00Z"));
    let walk_in = t
        .app
        .book(
            BookRequest {
                duration_min: Some(30),
                ..t.book_request(&t.alice_vet, &t.london, "2027-03-02T10:00", &t.consult)
            },
        )
        .await;
    assert!(walk_in.is_ok(), "{walk_in:?}");
});

story!(async fn reschedule_is_conflict_checked_and_asks_for_confirmation_again(t) {
    let a = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap()
        .view
        .appointment;
    let b = t
        .book(&t.alice_vet, "2027-03-02T11:00", &t.consult)
        .await
        .unwrap()
        .view
        .appointment;
    t.app.confirm(a.id, None).await.unwrap();
    let mv = |start: &str| RescheduleRequest {
        start: local(start),
        duration_min: None,
        vet_id: None,
        note: Some("Owner asked".into()),
    };

    // Into another appointment: refused with the reason, nothing written.
    let before = t.footprint().await;
    let err = t
        .app
        .reschedule(a.id, Some(2), mv("2027-03-02T10:45"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(
        matches!(err.conflicts(), [Conflict::Overlap { appointment_id, .. }] if *appointment_id == b.id)
    );
    assert_eq!(t.footprint().await, before);

    // Into the lunch break: refused.
    let err = t
        .app
        .reschedule(a.id, Some(2), mv("2027-03-02T12:15"))
        .await
        .unwrap_err();
    assert!(
        matches!(err.conflicts(), [Conflict::OnBreak { .. }]),
        "{err}"
    );

    // Fifteen minutes later overlaps only itself: fine, and back to scheduled.
    let d = t
        .app
        .reschedule(a.id, Some(2), mv("2027-03-02T10:15"))
        .await
        .unwrap();
    assert_eq!(d.view.appointment.status, Status::Scheduled);
    assert_eq!(d.view.appointment.slot.start(), utc("2027-03-02T10:15:00Z"));
    assert_eq!(d.view.appointment.slot.duration(), Duration::minutes(30));
    assert_eq!(d.view.appointment.meta.version, 3);
    let last = d.history.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.from_status, last.to_status),
        ("reschedule", Some(Status::Confirmed), Status::Scheduled)
    );
    assert_eq!(last.slot.start(), utc("2027-03-02T10:15:00Z"));

    // To another vet of the clinic, longer.
    let d = t
        .app
        .reschedule(
            a.id,
            Some(3),
            RescheduleRequest {
                duration_min: Some(45),
                vet_id: Some(t.ben_vet.id),
                ..mv("2027-03-03T14:00")
            },
        )
        .await
        .unwrap();
    assert_eq!(d.view.appointment.vet_id, t.ben_vet.id);
    assert_eq!(d.view.vet_name, "Dr Ben");
    assert_eq!(d.view.appointment.slot.duration(), Duration::minutes(45));

    // Not to a vet of another clinic; not with a stale version; not once it has started.
    let err = t
        .app
        .reschedule(
            a.id,
            Some(4),
            RescheduleRequest {
                vet_id: Some(t.cara_vet.id),
                ..mv("2027-03-03T14:00")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let err = t
        .app
        .reschedule(a.id, Some(3), mv("2027-03-03T15:00"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::StaleVersion {
                expected: 3,
                actual: 4,
                ..
            }
        ),
        "{err}"
    );
    t.clock.set(utc("2027-03-03T14:00:00Z"));
    t.app.start(a.id, Some(4)).await.unwrap();
    let err = t
        .app
        .reschedule(a.id, Some(5), mv("2027-03-04T15:00"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidTransition);
});

story!(async fn a_stale_version_is_refused_and_changes_nothing(t) {
    let a = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap()
        .view
        .appointment;
    // Two workstations read version 1; the first confirms.
    t.app.confirm(a.id, Some(1)).await.unwrap();
    let before = t.footprint().await;
    let err = t
        .app
        .cancel(a.id, Some(1), Some("late".into()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::StaleVersion);
    assert!(err.to_string().contains("changed by someone else"), "{err}");
    // The refusal carries the appointment as it is now, so the desk sees what changed.
    let AppError::StaleVersion { current: Some(current), .. } = &err else {
        panic!("no current state in {err:?}");
    };
    assert_eq!(current["status"], "confirmed");
    assert_eq!(current["meta"]["version"], 2);
    assert_eq!(current["id"], a.id.to_string());
    assert_eq!(t.footprint().await, before);
    assert_eq!(
        t.app
            .appointment(a.id)
            .await
            .unwrap()
            .view
            .appointment
            .status,
        Status::Confirmed
    );
});

story!(async fn past_and_outside_hours_bookings_are_refused(t) {
    let before = t.footprint().await;
    let err = t
        .book(&t.alice_vet, "2027-03-01T07:00", &t.consult)
        .await
        .unwrap_err();
    let codes: Vec<&str> = err.conflicts().iter().map(Conflict::code).collect();
    assert_eq!(codes, vec!["in_past", "outside_working_hours"]);
    let err = t
        .book(&t.alice_vet, "2027-03-06T10:00", &t.consult)
        .await
        .unwrap_err();
    assert_eq!(err.conflicts(), &[Conflict::OutsideWorkingHours]);
    let err = t
        .book(&t.alice_vet, "2027-03-02T11:45", &t.consult)
        .await
        .unwrap_err();
    assert_eq!(
        err.conflicts(),
        &[Conflict::OutsideWorkingHours],
        "runs into the break"
    );
    assert_eq!(t.footprint().await, before);
});

story!(async fn a_batch_books_each_request_as_book_would_and_refusals_leave_nothing(t) {
    // One booking made alone: what a booking writes, table by table.
    let before = t.footprint().await;
    let alone = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap();
    let after = t.footprint().await;
    let one: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert!(one[footprint_index("outbox")] > 0, "a booking queues messages: {one:?}");

    let mut unknown_pet = t.book_request(&t.ben_vet, &t.london, "2027-03-02T14:00", &t.consult);
    unknown_pet.pet_id = PetId(uuid::Uuid::now_v7());
    let mut other = t.book_request(&t.ben_vet, &t.london, "2027-03-02T11:15", &t.consult);
    other.pet_id = t.other_pet.id;
    let reqs = [
        t.book_request(&t.alice_vet, &t.london, "2027-03-02T09:00", &t.consult),
        t.book_request(&t.alice_vet, &t.london, "2027-03-02T10:15", &t.consult), // the store's
        t.book_request(&t.ben_vet, &t.london, "2027-03-02T11:00", &t.consult),
        other,       // overlaps the request just before it, in the same batch
        unknown_pet, // invalid
        t.book_request(&t.ben_vet, &t.london, "2027-03-02T15:00", &t.consult),
    ];
    let results = t.app.book_batch(&reqs).await.unwrap();
    let codes: Vec<Option<ErrorCode>> = results
        .iter()
        .map(|r| r.as_ref().err().map(AppError::code))
        .collect();
    assert_eq!(
        codes,
        [None, Some(ErrorCode::Conflict), None, Some(ErrorCode::Conflict), Some(ErrorCode::NotFound), None]
    );
    let booked: Vec<&views::AppointmentDetails> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let named = |r: &Result<views::AppointmentDetails>| match r {
        Err(AppError::Conflict { conflicts, .. }) => conflicts
            .iter()
            .filter_map(|c| match c {
                Conflict::Overlap { appointment_id, .. } => Some(*appointment_id),
                _ => None,
            })
            .collect::<Vec<_>>(),
        other => panic!("not a conflict: {other:?}"),
    };
    assert_eq!(named(&results[1]), [alone.view.appointment.id]);
    assert_eq!(named(&results[3]), [booked[1].view.appointment.id]);

    // Three bookings wrote exactly three times what one booking writes; the three
    // refusals wrote nothing at all.
    let batch: Vec<i64> = t.footprint().await.iter().zip(&after).map(|(a, b)| a - b).collect();
    assert_eq!(batch, one.iter().map(|n| n * 3).collect::<Vec<_>>());
    // ...and every row belongs to one of the three: its messages and its audit line.
    for d in &booked {
        let id = d.view.appointment.id;
        // What the batch answered is what is stored.
        assert_eq!(&&t.app.appointment(id).await.unwrap(), d);
        let messages = t
            .app
            .outbox(OutboxQuery { appointment: Some(id), ..OutboxQuery::default() })
            .await
            .unwrap();
        assert_eq!(messages.total as i64, one[footprint_index("outbox")], "{id}");
        let audit = t
            .app
            .audit_log(vetdesk_store::AuditFilter {
                entity_id: Some(id.0),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        let actions: Vec<&str> = audit.items.iter().map(|l| l.action.as_str()).collect();
        assert_eq!(actions, ["appointment.book"], "{id}");
    }
    assert_eq!(t.overlapping_pairs().await, 0);
});
