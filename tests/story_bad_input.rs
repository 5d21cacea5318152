//! Every bad input gets a clear, typed error and writes nothing.

#[macro_use]
mod common;

use common::*;
use uuid::Uuid;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_store::{AppointmentFilter, Entity};

/// Run one bad request, check its error code and message, and that the database is untouched.
async fn check<T: std::fmt::Debug>(
    t: &TestApp,
    case: &str,
    code: ErrorCode,
    says: &str,
    run: impl std::future::Future<Output = Result<T>>,
) {
    let before = t.footprint().await;
    match run.await {
        Ok(v) => panic!("{case}: expected {code:?}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.code(), code, "{case}: {e}");
            assert!(
                e.to_string().to_lowercase().contains(&says.to_lowercase()),
                "{case}: message {e:?} should mention {says:?}"
            );
        }
    }
    assert_eq!(t.footprint().await, before, "{case}: something was written");
}

story!(async fn bookings_with_bad_input_are_refused(t) {
    let base = || t.book_request(&t.alice_vet, &t.london, "2027-03-02T10:00", &t.consult);
    let book = |r: BookRequest| t.app.book(r);
    let nobody = Uuid::now_v7();

    check(
        &t,
        "zero duration",
        ErrorCode::InvalidInput,
        "duration",
        book(BookRequest {
            duration_min: Some(0),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "negative duration",
        ErrorCode::InvalidInput,
        "duration",
        book(BookRequest {
            duration_min: Some(-30),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "absurd duration",
        ErrorCode::InvalidInput,
        "between 5 and 720",
        book(BookRequest {
            duration_min: Some(100_000),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "unknown vet",
        ErrorCode::NotFound,
        "vet",
        book(BookRequest {
            vet_id: VetId(nobody),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "unknown clinic",
        ErrorCode::NotFound,
        "clinic",
        book(BookRequest {
            clinic_id: ClinicId(nobody),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "unknown pet",
        ErrorCode::NotFound,
        "pet",
        book(BookRequest {
            pet_id: PetId(nobody),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "unknown type",
        ErrorCode::NotFound,
        "appointment_type",
        book(BookRequest {
            type_id: AppointmentTypeId(nobody),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "unknown client",
        ErrorCode::NotFound,
        "client",
        book(BookRequest {
            client_id: Some(ClientId(nobody)),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "another owner's pet",
        ErrorCode::InvalidInput,
        "belongs to another owner",
        book(BookRequest {
            client_id: Some(t.other_owner.id),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "vet of another clinic",
        ErrorCode::InvalidInput,
        "does not work at clinic",
        book(t.book_request(&t.cara_vet, &t.london, "2027-03-02T10:00", &t.consult)),
    )
    .await;
    check(
        &t,
        "start off the minute",
        ErrorCode::InvalidInput,
        "whole minute",
        book(BookRequest {
            start: TimeInput::Instant(utc("2027-03-02T10:00:30Z")),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "reason too long",
        ErrorCode::InvalidInput,
        "too long",
        book(BookRequest {
            reason: Some("x".repeat(3000)),
            ..base()
        }),
    )
    .await;
    check(
        &t,
        "in the past",
        ErrorCode::Conflict,
        "in the past",
        book(t.book_request(&t.alice_vet, &t.london, "2027-02-26T10:00", &t.consult)),
    )
    .await;
});

story!(async fn lifecycle_and_query_misuse_is_refused(t) {
    let a = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap()
        .view
        .appointment;
    t.app.cancel(a.id, None, None).await.unwrap();
    let nobody = AppointmentId(Uuid::now_v7());

    check(
        &t,
        "complete a cancelled appointment",
        ErrorCode::InvalidTransition,
        "cannot complete an appointment that is cancelled",
        t.app.complete(a.id, None, None),
    )
    .await;
    check(
        &t,
        "stale version",
        ErrorCode::StaleVersion,
        "changed by someone else",
        t.app.confirm(a.id, Some(1)),
    )
    .await;
    check(
        &t,
        "unknown appointment",
        ErrorCode::NotFound,
        "appointment",
        t.app.confirm(nobody, None),
    )
    .await;
    check(
        &t,
        "reschedule with end before start",
        ErrorCode::InvalidInput,
        "duration",
        t.app.reschedule(
            a.id,
            None,
            RescheduleRequest {
                start: local("2027-03-02T10:00"),
                duration_min: Some(-15),
                vet_id: None,
                note: None,
            },
        ),
    )
    .await;
    let range = |first: &str, last: &str| AvailabilityRequest {
        clinic_id: t.london.id,
        vet_id: None,
        first: date(first),
        last: date(last),
        duration_min: Some(30),
        type_id: None,
        grid_min: None,
        min_notice_min: None,
        ignoring: None,
    };
    check(
        &t,
        "range too large",
        ErrorCode::InvalidInput,
        "93 days; at most 92",
        t.app.availability(range("2027-03-01", "2027-06-01")),
    )
    .await;
    check(
        &t,
        "reversed range",
        ErrorCode::InvalidInput,
        "empty or reversed",
        t.app.availability(range("2027-03-05", "2027-03-01")),
    )
    .await;
    check(
        &t,
        "odd grid",
        ErrorCode::InvalidInput,
        "grid",
        t.app.availability(AvailabilityRequest {
            grid_min: Some(7),
            ..range("2027-03-01", "2027-03-01")
        }),
    )
    .await;
    check(
        &t,
        "no duration",
        ErrorCode::InvalidInput,
        "duration",
        t.app.availability(AvailabilityRequest {
            duration_min: None,
            ..range("2027-03-01", "2027-03-01")
        }),
    )
    .await;
    check(
        &t,
        "conflict check with end before start",
        ErrorCode::InvalidInput,
        "must be after the start",
        t.app.check_conflicts(ConflictRequest {
            vet_id: t.alice_vet.id,
            clinic_id: t.london.id,
            start: local("2027-03-02T11:00"),
            end: local("2027-03-02T10:00"),
            type_id: None,
            ignoring: None,
        }),
    )
    .await;
    check(
        &t,
        "page too large",
        ErrorCode::InvalidInput,
        "at most 500",
        t.app.appointments(AppointmentFilter {
            limit: 10_000,
            ..Default::default()
        }),
    )
    .await;
    check(
        &t,
        "list range reversed",
        ErrorCode::InvalidInput,
        "must be after the start",
        t.app.appointments(AppointmentFilter {
            from: Some(utc("2027-03-03T00:00:00Z")),
            to: Some(utc("2027-03-02T00:00:00Z")),
            ..Default::default()
        }),
    )
    .await;
});

story!(async fn records_with_bad_input_are_refused(t) {
    check(
        &t,
        "unknown time zone",
        ErrorCode::InvalidInput,
        "Mars/Olympus",
        t.app.create_clinic(ClinicInput {
            name: "Mars".into(),
            time_zone: "Mars/Olympus".into(),
        }),
    )
    .await;
    check(
        &t,
        "empty clinic name",
        ErrorCode::InvalidInput,
        "must not be empty",
        t.app.create_clinic(ClinicInput {
            name: "   ".into(),
            time_zone: "UTC".into(),
        }),
    )
    .await;
    check(
        &t,
        "vet at unknown clinic",
        ErrorCode::NotFound,
        "clinic",
        t.app.create_vet(VetInput {
            name: "Dr X".into(),
            email: None,
            clinics: vec![ClinicId(Uuid::now_v7())],
        }),
    )
    .await;
    check(
        &t,
        "bad email",
        ErrorCode::InvalidInput,
        "email",
        t.app.create_client(ClientInput {
            name: "A".into(),
            email: Some("not-an-email".into()),
            ..Default::default()
        }),
    )
    .await;
    check(
        &t,
        "bad phone",
        ErrorCode::InvalidInput,
        "phone",
        t.app.create_client(ClientInput {
            name: "A".into(),
            phone: Some("call me".into()),
            ..Default::default()
        }),
    )
    .await;
    check(
        &t,
        "bad channel",
        ErrorCode::InvalidInput,
        "channel",
        t.app.create_client(ClientInput {
            name: "A".into(),
            preferred_channel: Some("pigeon".into()),
            ..Default::default()
        }),
    )
    .await;
    check(
        &t,
        "pet without owner",
        ErrorCode::InvalidInput,
        "owner",
        t.app.create_pet(PetInput {
            name: "Rex".into(),
            species: "dog".into(),
            ..Default::default()
        }),
    )
    .await;
    check(
        &t,
        "pet of unknown owner",
        ErrorCode::NotFound,
        "client",
        t.app.create_pet(PetInput {
            owner: Some(ClientId(Uuid::now_v7())),
            name: "Rex".into(),
            species: "dog".into(),
            ..Default::default()
        }),
    )
    .await;
    check(
        &t,
        "pet born tomorrow",
        ErrorCode::InvalidInput,
        "future",
        t.app.create_pet(PetInput {
            owner: Some(t.owner.id),
            name: "Rex".into(),
            species: "dog".into(),
            date_of_birth: Some(date("2027-03-02")),
            ..Default::default()
        }),
    )
    .await;
    check(
        &t,
        "bad colour",
        ErrorCode::InvalidInput,
        "colour",
        t.app.create_appointment_type(AppointmentTypeInput {
            name: "X".into(),
            duration_min: 30,
            colour: "blue".into(),
            ..Default::default()
        }),
    )
    .await;
    check(
        &t,
        "negative buffer",
        ErrorCode::InvalidInput,
        "buffer before",
        t.app.create_appointment_type(AppointmentTypeInput {
            name: "X".into(),
            duration_min: 30,
            colour: "#000000".into(),
            buffer_before_min: -5,
            buffer_after_min: 0,
        }),
    )
    .await;
    let hours = |span: &str| WorkingHoursInput {
        vet_id: t.alice_vet.id,
        clinic_id: t.london.id,
        weekday: chrono::Weekday::Sat,
        span: span.into(),
        valid_from: date("2027-03-01"),
        valid_to: None,
    };
    check(
        &t,
        "reversed span",
        ErrorCode::InvalidInput,
        "17:00-09:00",
        t.app.add_working_hours(hours("17:00-09:00")),
    )
    .await;
    check(
        &t,
        "malformed span",
        ErrorCode::InvalidInput,
        "25:00",
        t.app.add_working_hours(hours("09:00-25:00")),
    )
    .await;
    check(
        &t,
        "validity reversed",
        ErrorCode::InvalidInput,
        "reversed",
        t.app.add_working_hours(WorkingHoursInput {
            valid_to: Some(date("2027-02-01")),
            ..hours("09:00-12:00")
        }),
    )
    .await;
    check(
        &t,
        "hours at a clinic the vet does not work at",
        ErrorCode::InvalidInput,
        "does not work at",
        t.app.add_working_hours(WorkingHoursInput {
            clinic_id: t.new_york.id,
            ..hours("09:00-12:00")
        }),
    )
    .await;
    check(
        &t,
        "time off ending before it starts",
        ErrorCode::InvalidInput,
        "must be after the start",
        t.app.add_time_off(TimeOffInput {
            vet_id: t.alice_vet.id,
            clinic_id: None,
            start: local("2027-03-05T00:00"),
            end: local("2027-03-04T00:00"),
            reason: None,
        }),
    )
    .await;
    check(
        &t,
        "stale clinic edit",
        ErrorCode::StaleVersion,
        "changed by someone else",
        t.app.update_clinic(
            t.london.id,
            Some(7),
            ClinicInput {
                name: "New".into(),
                time_zone: "Europe/London".into(),
            },
        ),
    )
    .await;
    check(
        &t,
        "delete an appointment",
        ErrorCode::InvalidInput,
        "cannot be deleted",
        t.app.delete_record(Entity::Appointment, Uuid::now_v7(), 1),
    )
    .await;
});

#[test]
fn malformed_dates_and_times_are_typed_errors() {
    for bad in [
        "2027-13-01T10:00",
        "2027-02-30T10:00",
        "tomorrow",
        "2027-03-01T25:00",
        "",
    ] {
        let e = TimeInput::parse(bad).unwrap_err();
        assert!(matches!(e, ValidationError::DateTime(_)), "{bad}: {e:?}");
    }
    assert!(
        matches!(parse_date("2027-02-29"), Err(ValidationError::Date(_))),
        "2027 is not a leap year"
    );
    assert_eq!(
        TimeInput::parse("2027-03-01T10:00Z").unwrap(),
        TimeInput::Instant(utc("2027-03-01T10:00:00Z"))
    );
    assert!(matches!(
        TimeInput::parse("2027-03-01T10:00").unwrap(),
        TimeInput::Local(_)
    ));
}

story!(async fn edits_and_tombstones_bump_versions(t) {
    let c = t
        .app
        .update_clinic(
            t.london.id,
            Some(1),
            ClinicInput {
                name: "Riverside".into(),
                time_zone: "Europe/London".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(c.meta.version, 2);
    let hours = t.app.working_hours(Some(t.ben_vet.id), None).await.unwrap();
    let monday = hours
        .iter()
        .find(|h| h.weekday == chrono::Weekday::Mon)
        .unwrap();
    let v = t
        .app
        .delete_record(Entity::WorkingHours, monday.id.0, monday.meta.version)
        .await
        .unwrap();
    assert_eq!(v, monday.meta.version + 1);
    assert_eq!(
        t.app
            .working_hours(Some(t.ben_vet.id), None)
            .await
            .unwrap()
            .len(),
        hours.len() - 1
    );
    // The row stays as a tombstone, and the change log recorded it.
    let tomb = t
        .db
        .int("SELECT count(*) FROM working_hours WHERE deleted_at IS NOT NULL")
        .await;
    assert_eq!(tomb, 1);
    let op = t
        .db
        .text("SELECT op FROM change_log ORDER BY seq DESC LIMIT 1")
        .await;
    assert_eq!(op, "delete");
    // Ben no longer works Mondays.
    let a = t
        .app
        .availability(AvailabilityRequest {
            clinic_id: t.london.id,
            vet_id: Some(t.ben_vet.id),
            first: date("2027-03-08"),
            last: date("2027-03-08"),
            duration_min: Some(30),
            type_id: None,
            grid_min: None,
            min_notice_min: None,
            ignoring: None,
        })
        .await
        .unwrap();
    assert!(a.vets[0].slots.is_empty());
    // A second delete of the same version is stale.
    let err = t
        .app
        .delete_record(Entity::WorkingHours, monday.id.0, monday.meta.version)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
});

story!(async fn edits_obey_the_same_rules_as_creation(t) {
    let before = t.footprint().await;
    let err = t
        .app
        .update_pet(
            t.pet.id,
            None,
            PetInput {
                owner: None,
                name: "Biscuit".into(),
                species: "dog".into(),
                breed: None,
                date_of_birth: Some(date("2999-01-01")),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("future"), "{err}");
    let err = t
        .app
        .date_overrides(None, None, date("2027-03-05"), date("2027-03-01"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(t.footprint().await, before);
    let e = "nonsense".parse::<AppointmentTypeId>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "'nonsense' is not a valid appointment type id (expected a UUID)"
    );
});
