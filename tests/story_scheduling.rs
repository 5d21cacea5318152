//! The seed's scheduling workflows through the application layer on a real
//! SQLite file: availability, "why not?", conflict checks and calendars.

#[macro_use]
mod common;

use common::*;
use vetdesk_app::*;
use vetdesk_core::*;

fn starts(a: &views::Availability, vet: VetId) -> Vec<String> {
    a.vets
        .iter()
        .find(|v| v.vet.id == vet)
        .map(|v| {
            v.slots
                .iter()
                .map(|s| s.local_start.format("%Y-%m-%d %H:%M").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn req(
    t: &TestApp,
    vet: Option<&Vet>,
    first: &str,
    last: &str,
    ty: &AppointmentType,
) -> AvailabilityRequest {
    AvailabilityRequest {
        clinic_id: t.london.id,
        vet_id: vet.map(|v| v.id),
        first: date(first),
        last: date(last),
        duration_min: None,
        type_id: Some(ty.id),
        grid_min: None,
        min_notice_min: None,
        ignoring: None,
    }
}

story!(async fn availability_follows_working_hours_breaks_and_bookings(t) {
    let a = t
        .app
        .availability(req(
            &t,
            Some(&t.alice_vet),
            "2027-03-02",
            "2027-03-02",
            &t.consult,
        ))
        .await
        .unwrap();
    let s = starts(&a, t.alice_vet.id);
    // 09:00–12:00 gives 09:00 … 11:30, 13:00–17:00 gives 13:00 … 16:30, every 15 minutes.
    assert_eq!(s.len(), 11 + 15, "{s:?}");
    assert_eq!(s.first().map(String::as_str), Some("2027-03-02 09:00"));
    assert!(s.contains(&"2027-03-02 11:30".to_string()));
    assert!(
        !s.contains(&"2027-03-02 11:45".to_string()),
        "would run into the break"
    );
    assert!(
        !s.contains(&"2027-03-02 12:30".to_string()),
        "the break is not bookable"
    );
    assert_eq!(s.last().map(String::as_str), Some("2027-03-02 16:30"));

    // Booking 10:00–10:30 removes exactly the starts that would overlap it.
    let booked = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap();
    let s = starts(
        &t.app
            .availability(req(
                &t,
                Some(&t.alice_vet),
                "2027-03-02",
                "2027-03-02",
                &t.consult,
            ))
            .await
            .unwrap(),
        t.alice_vet.id,
    );
    assert_eq!(s.len(), 26 - 3);
    for gone in ["09:45", "10:00", "10:15"] {
        assert!(
            !s.contains(&format!("2027-03-02 {gone}")),
            "{gone} should be taken"
        );
    }
    for kept in ["09:30", "10:30"] {
        assert!(
            s.contains(&format!("2027-03-02 {kept}")),
            "{kept} touches the booking and stays free"
        );
    }

    // Cancelling frees it again.
    t.app
        .cancel(
            booked.view.appointment.id,
            None,
            Some("owner called".into()),
        )
        .await
        .unwrap();
    let s = starts(
        &t.app
            .availability(req(
                &t,
                Some(&t.alice_vet),
                "2027-03-02",
                "2027-03-02",
                &t.consult,
            ))
            .await
            .unwrap(),
        t.alice_vet.id,
    );
    assert_eq!(s.len(), 26);
});

story!(async fn buffers_of_both_appointments_count(t) {
    // Surgery 13:00–14:00 blocks 12:45–14:15.
    t.book(&t.ben_vet, "2027-03-02T13:00", &t.surgery)
        .await
        .unwrap();
    let s = starts(
        &t.app
            .availability(req(
                &t,
                Some(&t.ben_vet),
                "2027-03-02",
                "2027-03-02",
                &t.consult,
            ))
            .await
            .unwrap(),
        t.ben_vet.id,
    );
    assert!(s.contains(&"2027-03-02 12:15".to_string()));
    assert!(
        !s.contains(&"2027-03-02 12:30".to_string()),
        "runs into the surgery's preparation buffer"
    );
    assert!(
        !s.contains(&"2027-03-02 14:00".to_string()),
        "inside the clean-up buffer"
    );
    assert!(s.contains(&"2027-03-02 14:15".to_string()));

    // A second surgery needs its own buffers clear of the first one's.
    let s = starts(
        &t.app
            .availability(req(
                &t,
                Some(&t.ben_vet),
                "2027-03-02",
                "2027-03-02",
                &t.surgery,
            ))
            .await
            .unwrap(),
        t.ben_vet.id,
    );
    assert!(
        s.contains(&"2027-03-02 11:30".to_string()),
        "11:15–12:45 blocked, touching 12:45"
    );
    assert!(!s.contains(&"2027-03-02 11:45".to_string()));
    assert!(s.contains(&"2027-03-02 14:30".to_string()));
    assert!(!s.contains(&"2027-03-02 14:15".to_string()));
});

story!(async fn time_off_overrides_notice_and_the_past(t) {
    t.app
        .add_time_off(TimeOffInput {
            vet_id: t.alice_vet.id,
            clinic_id: None,
            start: local("2027-03-03T00:00"),
            end: local("2027-03-04T00:00"),
            reason: Some("Dentist".into()),
        })
        .await
        .unwrap();
    t.app
        .set_date_override(DateOverrideInput {
            vet_id: t.alice_vet.id,
            clinic_id: t.london.id,
            date: date("2027-03-04"),
            spans: "10:00-11:00".into(),
            note: None,
        })
        .await
        .unwrap();
    let a = t
        .app
        .availability(req(
            &t,
            Some(&t.alice_vet),
            "2027-03-03",
            "2027-03-04",
            &t.consult,
        ))
        .await
        .unwrap();
    assert_eq!(
        starts(&a, t.alice_vet.id),
        vec!["2027-03-04 10:00", "2027-03-04 10:15", "2027-03-04 10:30"]
    );

    // Setting the override again replaces it (one per vet and date): an empty list is a day off.
    t.app
        .set_date_override(DateOverrideInput {
            vet_id: t.alice_vet.id,
            clinic_id: t.london.id,
            date: date("2027-03-04"),
            spans: String::new(),
            note: Some("Course".into()),
        })
        .await
        .unwrap();
    let a = t
        .app
        .availability(req(
            &t,
            Some(&t.alice_vet),
            "2027-03-04",
            "2027-03-04",
            &t.consult,
        ))
        .await
        .unwrap();
    assert!(starts(&a, t.alice_vet.id).is_empty());

    // Today at 08:00 with two hours' notice: nothing before 10:00.
    let mut r = req(
        &t,
        Some(&t.alice_vet),
        "2027-03-01",
        "2027-03-01",
        &t.consult,
    );
    r.min_notice_min = Some(120);
    let s = starts(
        &t.app.availability(r.clone()).await.unwrap(),
        t.alice_vet.id,
    );
    assert_eq!(s.first().map(String::as_str), Some("2027-03-01 10:00"));

    // Later that day, the morning is in the past.
    t.clock.set(utc("2027-03-01T12:10:00Z"));
    r.min_notice_min = None;
    let s = starts(&t.app.availability(r).await.unwrap(), t.alice_vet.id);
    assert_eq!(s.first().map(String::as_str), Some("2027-03-01 13:00"));
});

story!(async fn availability_for_a_whole_clinic_and_with_an_explicit_duration(t) {
    let mut r = req(&t, None, "2027-03-02", "2027-03-02", &t.consult);
    r.type_id = None;
    r.duration_min = Some(60);
    r.grid_min = Some(30);
    let a = t.app.availability(r).await.unwrap();
    let names: Vec<&str> = a.vets.iter().map(|v| v.vet.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["Dr Alice", "Dr Ben"],
        "only the clinic's vets, by name"
    );
    assert_eq!(a.duration_min, 60);
    // Ben 09:00–17:00, one hour on the half hour: 09:00 … 16:00 = 15 slots.
    assert_eq!(starts(&a, t.ben_vet.id).len(), 15);
    // Alice: 09:00 … 11:00 (5) and 13:00 … 16:00 (7).
    assert_eq!(starts(&a, t.alice_vet.id).len(), 12);
});

story!(async fn new_york_hours_hold_across_the_spring_forward(t) {
    let a = t
        .app
        .availability(AvailabilityRequest {
            clinic_id: t.new_york.id,
            vet_id: Some(t.cara_vet.id),
            first: date("2027-03-12"),
            last: date("2027-03-15"),
            duration_min: Some(60),
            type_id: None,
            grid_min: Some(60),
            min_notice_min: None,
            ignoring: None,
        })
        .await
        .unwrap();
    let slots = &a.vets[0].slots;
    let fri: Vec<_> = slots
        .iter()
        .filter(|s| s.local_start.date() == date("2027-03-12"))
        .collect();
    let mon: Vec<_> = slots
        .iter()
        .filter(|s| s.local_start.date() == date("2027-03-15"))
        .collect();
    assert_eq!(fri.len(), 8);
    assert_eq!(mon.len(), 8);
    // 08:00 local is 13:00Z in EST and 12:00Z in EDT.
    assert_eq!(fri[0].start, utc("2027-03-12T13:00:00Z"));
    assert_eq!(mon[0].start, utc("2027-03-15T12:00:00Z"));
    assert_eq!(mon[0].local_start.format("%H:%M").to_string(), "08:00");
    assert!(
        slots
            .iter()
            .all(|s| s.local_start.date() != date("2027-03-13")),
        "no weekend work"
    );
});

story!(async fn explain_names_breaks_hours_bookings_and_buffers(t) {
    let surgery = t
        .book(&t.ben_vet, "2027-03-02T13:00", &t.surgery)
        .await
        .unwrap();
    let why = |vet: &Vet, at: &str, ty: Option<&AppointmentType>| ExplainRequest {
        vet_id: vet.id,
        clinic_id: t.london.id,
        at: local(at),
        duration_min: None,
        type_id: ty.map(|x| x.id),
    };
    let r = t
        .app
        .explain(why(&t.alice_vet, "2027-03-02T12:15", None))
        .await
        .unwrap();
    assert!(!r.explanation.free);
    assert_eq!(
        r.explanation.reasons,
        vec![Conflict::OnBreak {
            resumes_at: utc("2027-03-02T13:00:00Z")
        }]
    );

    let r = t
        .app
        .explain(why(&t.alice_vet, "2027-03-02T18:00", None))
        .await
        .unwrap();
    assert_eq!(r.explanation.reasons, vec![Conflict::OutsideWorkingHours]);

    let r = t
        .app
        .explain(why(&t.ben_vet, "2027-03-02T13:30", Some(&t.consult)))
        .await
        .unwrap();
    assert_eq!(r.explanation.reasons.len(), 1);
    assert_eq!(r.explanation.reasons[0].code(), "overlap");

    let r = t
        .app
        .explain(why(&t.ben_vet, "2027-03-02T12:30", Some(&t.consult)))
        .await
        .unwrap();
    assert_eq!(
        r.explanation.reasons,
        vec![Conflict::Overlap {
            appointment_id: surgery.view.appointment.id,
            start: utc("2027-03-02T13:00:00Z"),
            end: utc("2027-03-02T14:00:00Z"),
            buffer_only: true,
        }]
    );
    assert!(r.messages[0].contains("buffer"), "{:?}", r.messages);

    let r = t
        .app
        .explain(why(&t.ben_vet, "2027-03-02T10:00", Some(&t.consult)))
        .await
        .unwrap();
    assert!(r.explanation.free);
    assert_eq!(
        r.explanation.free_until,
        Some(utc("2027-03-02T12:45:00Z")),
        "free until the surgery's buffer"
    );

    t.clock.set(utc("2027-03-02T11:00:00Z"));
    let r = t
        .app
        .explain(why(&t.ben_vet, "2027-03-02T10:00", Some(&t.consult)))
        .await
        .unwrap();
    assert_eq!(
        r.explanation.reasons,
        vec![Conflict::InPast {
            now: utc("2027-03-02T11:00:00Z")
        }]
    );
});

story!(async fn check_conflicts_reports_every_reason_at_once(t) {
    let first = t
        .book(&t.ben_vet, "2027-03-02T16:00", &t.consult)
        .await
        .unwrap();
    let second = t
        .book(&t.ben_vet, "2027-03-02T16:30", &t.consult)
        .await
        .unwrap();
    t.clock.set(utc("2027-03-03T09:00:00Z"));
    let report = t
        .app
        .check_conflicts(ConflictRequest {
            vet_id: t.ben_vet.id,
            clinic_id: t.london.id,
            start: local("2027-03-02T16:15"),
            end: local("2027-03-02T17:15"),
            type_id: None,
            ignoring: None,
        })
        .await
        .unwrap();
    assert!(!report.ok);
    let codes: Vec<&str> = report.conflicts.iter().map(Conflict::code).collect();
    assert_eq!(
        codes,
        vec!["in_past", "outside_working_hours", "overlap", "overlap"]
    );
    let ids: Vec<AppointmentId> = report
        .conflicts
        .iter()
        .filter_map(|c| match c {
            Conflict::Overlap { appointment_id, .. } => Some(*appointment_id),
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        vec![first.view.appointment.id, second.view.appointment.id]
    );
    assert_eq!(report.messages.len(), 4);

    // Ignoring the appointment being moved.
    t.clock.set(t0());
    let report = t
        .app
        .check_conflicts(ConflictRequest {
            vet_id: t.ben_vet.id,
            clinic_id: t.london.id,
            start: local("2027-03-02T16:10"),
            end: local("2027-03-02T16:30"),
            type_id: None,
            ignoring: Some(first.view.appointment.id),
        })
        .await
        .unwrap();
    assert!(report.ok, "{:?}", report.messages);

    // Back-to-back is fine.
    let report = t
        .app
        .check_conflicts(ConflictRequest {
            vet_id: t.ben_vet.id,
            clinic_id: t.london.id,
            start: local("2027-03-02T15:30"),
            end: local("2027-03-02T16:00"),
            type_id: Some(t.consult.id),
            ignoring: None,
        })
        .await
        .unwrap();
    assert!(report.ok);
});

story!(async fn check_conflicts_reports_unknown_and_misplaced_vets(t) {
    let unknown_vet = VetId(uuid::Uuid::now_v7());
    let unknown_clinic = ClinicId(uuid::Uuid::now_v7());
    let mk = |vet: VetId, clinic: ClinicId| ConflictRequest {
        vet_id: vet,
        clinic_id: clinic,
        start: local("2027-03-02T10:00"),
        end: local("2027-03-02T10:30"),
        type_id: None,
        ignoring: None,
    };
    let r = t
        .app
        .check_conflicts(mk(unknown_vet, unknown_clinic))
        .await
        .unwrap();
    assert_eq!(
        r.conflicts,
        vec![
            Conflict::UnknownClinic {
                clinic_id: unknown_clinic
            },
            Conflict::UnknownVet {
                vet_id: unknown_vet
            }
        ]
    );
    let r = t
        .app
        .check_conflicts(mk(t.cara_vet.id, t.london.id))
        .await
        .unwrap();
    assert_eq!(
        r.conflicts,
        vec![Conflict::VetNotAtClinic {
            vet_id: t.cara_vet.id,
            clinic_id: t.london.id
        }]
    );
});

story!(async fn calendar_views_show_appointments_and_free_time_in_local_terms(t) {
    let a = t
        .book(&t.alice_vet, "2027-03-02T10:00", &t.consult)
        .await
        .unwrap();
    let b = t
        .book(&t.ben_vet, "2027-03-04T15:00", &t.surgery)
        .await
        .unwrap();
    let c = t
        .book(&t.ben_vet, "2027-03-05T09:00", &t.consult)
        .await
        .unwrap();
    t.app
        .cancel(c.view.appointment.id, None, None)
        .await
        .unwrap();
    let ny = t
        .app
        .book(
            BookRequest {
                pet_id: t.other_pet.id,
                ..t.book_request(&t.cara_vet, &t.new_york, "2027-03-02T09:00", &t.consult)
            },
        )
        .await
        .unwrap();

    let cal = |view, d: &str, clinic: &Clinic, vet: Option<&Vet>| CalendarRequest {
        view,
        date: date(d),
        clinic_id: clinic.id,
        vet_id: vet.map(|v| v.id),
        include_cancelled: false,
    };
    let week = t
        .app
        .calendar(cal(View::Week, "2027-03-03", &t.london, None))
        .await
        .unwrap();
    assert_eq!(
        (week.first, week.last),
        (date("2027-03-01"), date("2027-03-07"))
    );
    assert_eq!(week.days.len(), 7);
    assert_eq!(week.vets.len(), 2);
    let by_day: Vec<usize> = week.days.iter().map(|d| d.appointments.len()).collect();
    assert_eq!(
        by_day,
        vec![0, 1, 0, 1, 0, 0, 0],
        "the cancelled one is hidden"
    );
    let tue = &week.days[1];
    assert_eq!(tue.appointments[0].id, a.view.appointment.id);
    assert_eq!(tue.appointments[0].pet_name, "Biscuit");
    assert_eq!(tue.appointments[0].client_name, "Olivia Smith");
    assert_eq!(
        tue.appointments[0]
            .time
            .local_start
            .format("%H:%M")
            .to_string(),
        "10:00"
    );
    // Alice's free time on Tuesday: 09:00–10:00, 10:30–12:00, 13:00–17:00.
    let alice_free: Vec<String> = tue
        .free
        .iter()
        .filter(|f| f.vet_id == t.alice_vet.id)
        .map(|f| {
            format!(
                "{}-{}",
                f.time.local_start.format("%H:%M"),
                f.time.local_end.format("%H:%M")
            )
        })
        .collect();
    assert_eq!(
        alice_free,
        vec!["09:00-10:00", "10:30-12:00", "13:00-17:00"]
    );
    // Ben's Thursday surgery 15:00–16:00 blocks 14:45–16:15.
    let thu_ben: Vec<String> = week.days[3]
        .free
        .iter()
        .filter(|f| f.vet_id == t.ben_vet.id)
        .map(|f| {
            format!(
                "{}-{}",
                f.time.local_start.format("%H:%M"),
                f.time.local_end.format("%H:%M")
            )
        })
        .collect();
    assert_eq!(thu_ben, vec!["09:00-14:45", "16:15-17:00"]);
    assert_eq!(week.days[3].appointments[0].id, b.view.appointment.id);
    assert!(week.days[5].free.is_empty(), "nobody works on Saturday");

    // Cancelled ones on request; the vet filter.
    let mut r = cal(View::Week, "2027-03-03", &t.london, Some(&t.ben_vet));
    r.include_cancelled = true;
    let ben_week = t.app.calendar(r).await.unwrap();
    assert_eq!(ben_week.vets.len(), 1);
    let statuses: Vec<Status> = ben_week
        .days
        .iter()
        .flat_map(|d| d.appointments.iter().map(|a| a.status))
        .collect();
    assert_eq!(statuses, vec![Status::Scheduled, Status::Cancelled]);
    assert!(ben_week
        .days
        .iter()
        .flat_map(|d| &d.free)
        .all(|f| f.vet_id == t.ben_vet.id));

    // Day view; free time starts after "now" on the current day.
    let day = t
        .app
        .calendar(cal(View::Day, "2027-03-01", &t.london, Some(&t.alice_vet)))
        .await
        .unwrap();
    assert_eq!(day.days.len(), 1);
    assert_eq!(day.days[0].free[0].time.start, utc("2027-03-01T09:00:00Z"));
    t.clock.set(utc("2027-03-01T09:40:00Z"));
    let day = t
        .app
        .calendar(cal(View::Day, "2027-03-01", &t.london, Some(&t.alice_vet)))
        .await
        .unwrap();
    assert_eq!(day.days[0].free[0].time.start, utc("2027-03-01T09:40:00Z"));

    // Month view; the New York calendar is in New York time.
    let month = t
        .app
        .calendar(cal(View::Month, "2027-03-20", &t.new_york, None))
        .await
        .unwrap();
    assert_eq!(
        (month.first, month.last, month.days.len()),
        (date("2027-03-01"), date("2027-03-31"), 31)
    );
    let ny_appt = &month.days[1].appointments[0];
    assert_eq!(ny_appt.id, ny.view.appointment.id);
    assert_eq!(ny_appt.time.start, utc("2027-03-02T14:00:00Z"));
    assert_eq!(
        ny_appt.time.local_start.format("%H:%M").to_string(),
        "09:00"
    );
    assert_eq!(
        month
            .days
            .iter()
            .map(|d| d.appointments.len())
            .sum::<usize>(),
        1
    );

    // "My day" for a vet.
    let mine = t
        .app
        .my_day(t.alice_vet.id, date("2027-03-02"))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].days[0].appointments.len(), 1);
});

story!(async fn booking_any_offered_slot_succeeds_and_removes_it(t) {
    let a = t
        .app
        .availability(req(
            &t,
            Some(&t.ben_vet),
            "2027-03-02",
            "2027-03-02",
            &t.surgery,
        ))
        .await
        .unwrap();
    let mut slots = a.vets[0].slots.clone();
    let mut booked = 0;
    // Book greedily from the list, refreshing it after each booking: every offered slot must book.
    while let Some(s) = slots.first().cloned() {
        t.app
            .book(
                BookRequest {
                    start: TimeInput::Instant(s.start),
                    ..t.book_request(&t.ben_vet, &t.london, "2027-03-02T00:00", &t.surgery)
                },
            )
            .await
            .unwrap_or_else(|e| panic!("offered slot {} refused: {e}", s.local_start));
        booked += 1;
        let next = t
            .app
            .availability(req(
                &t,
                Some(&t.ben_vet),
                "2027-03-02",
                "2027-03-02",
                &t.surgery,
            ))
            .await
            .unwrap();
        slots = next.vets[0].slots.clone();
        assert!(
            slots.iter().all(|x| x.start != s.start),
            "a booked slot is still offered"
        );
    }
    // 09:00–17:00 with 90 minutes per surgery (60 + buffers 15/15 shared at neither end).
    assert_eq!(booked, 5);
    assert_eq!(t.overlapping_pairs().await, 0);
});

story!(async fn availability_can_ignore_the_appointment_being_moved(t) {
    let moving = t
        .book(&t.ben_vet, "2027-03-02T10:00", &t.surgery)
        .await
        .unwrap()
        .view
        .appointment;
    let mut r = req(&t, Some(&t.ben_vet), "2027-03-02", "2027-03-02", &t.surgery);
    let s = starts(&t.app.availability(r.clone()).await.unwrap(), t.ben_vet.id);
    assert!(!s.contains(&"2027-03-02 10:15".to_string()));
    r.ignoring = Some(moving.id);
    let s = starts(&t.app.availability(r).await.unwrap(), t.ben_vet.id);
    assert!(
        s.contains(&"2027-03-02 10:15".to_string()),
        "its own time counts as free"
    );
    // And moving it there is accepted.
    let moved = t
        .app
        .reschedule(
            moving.id,
            None,
            RescheduleRequest {
                start: local("2027-03-02T10:15"),
                duration_min: None,
                vet_id: None,
                note: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        moved.view.appointment.slot.start(),
        utc("2027-03-02T10:15:00Z")
    );
});

story!(async fn conflict_messages_speak_the_clinics_local_time(t) {
    let first = t
        .app
        .book(
            t.book_request(&t.cara_vet, &t.new_york, "2027-03-02T09:00", &t.consult),
        )
        .await
        .unwrap();
    let err = t
        .app
        .book(
            t.book_request(&t.cara_vet, &t.new_york, "2027-03-02T09:15", &t.consult),
        )
        .await
        .unwrap_err();
    let id = first.view.appointment.id;
    assert_eq!(
        err.to_string(),
        format!("the time is not available: overlaps appointment {id} (2027-03-02 09:00–09:30)")
    );
    let report = t
        .app
        .check_conflicts(ConflictRequest {
            vet_id: t.cara_vet.id,
            clinic_id: t.new_york.id,
            start: local("2027-03-02T09:15"),
            end: local("2027-03-02T09:45"),
            type_id: None,
            ignoring: None,
        })
        .await
        .unwrap();
    assert_eq!(
        report.messages,
        vec![format!(
            "overlaps appointment {id} (2027-03-02 09:00–09:30)"
        )]
    );
});

story!(async fn availability_sees_what_another_workstation_wrote_at_once(t) {
    // Availability's schedules are cached while the store is unchanged; a write
    // made through another store on the same database must show at once.
    let ask = || {
        t.app.availability(req(
            &t,
            Some(&t.alice_vet),
            "2027-03-02",
            "2027-03-02",
            &t.consult,
        ))
    };
    let before = starts(&ask().await.unwrap(), t.alice_vet.id);
    assert_eq!(before, starts(&ask().await.unwrap(), t.alice_vet.id));
    assert_eq!(before.len(), 26);

    let other = App::new(
        vetdesk_store::open(&t.url).await.unwrap(),
        t.clock.clone(),
        Settings::default(),
    );
    other
        .book(
            t.book_request(&t.alice_vet, &t.london, "2027-03-02T10:00", &t.consult),
        )
        .await
        .unwrap();
    let s = starts(&ask().await.unwrap(), t.alice_vet.id);
    assert_eq!(s.len(), 26 - 3, "the other workstation's booking: {s:?}");

    other
        .add_time_off(TimeOffInput {
            vet_id: t.alice_vet.id,
            clinic_id: Some(t.london.id),
            start: local("2027-03-02T13:00"),
            end: local("2027-03-02T17:00"),
            reason: None,
        })
        .await
        .unwrap();
    let s = starts(&ask().await.unwrap(), t.alice_vet.id);
    assert_eq!(s.len(), 11 - 3, "the other workstation's time off: {s:?}");
});
