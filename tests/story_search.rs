//! Listing and searching appointments.

#[macro_use]
mod common;

use common::*;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_store::AppointmentFilter;

story!(async fn filters_text_search_and_pages(t) {
    let mut ids = Vec::new();
    for (i, h) in ["09:00", "09:30", "10:00", "10:30", "11:00"]
        .iter()
        .enumerate()
    {
        let vet = if i % 2 == 0 { &t.alice_vet } else { &t.ben_vet };
        ids.push(
            t.book(vet, &format!("2027-03-02T{h}"), &t.consult)
                .await
                .unwrap()
                .view
                .appointment
                .id,
        );
    }
    let whisk = t
        .app
        .book(
            BookRequest {
                pet_id: t.other_pet.id,
                ..t.book_request(&t.ben_vet, &t.london, "2027-03-03T09:00", &t.consult)
            },
        )
        .await
        .unwrap()
        .view
        .appointment
        .id;
    let ny = t
        .app
        .book(
            BookRequest {
                pet_id: t.other_pet.id,
                ..t.book_request(&t.cara_vet, &t.new_york, "2027-03-03T09:00", &t.consult)
            },
        )
        .await
        .unwrap()
        .view
        .appointment
        .id;
    t.app.confirm(ids[1], None).await.unwrap();
    t.app.cancel(ids[2], None, None).await.unwrap();

    let list = |f: AppointmentFilter| t.app.appointments(f);
    let all = list(AppointmentFilter::default()).await.unwrap();
    assert_eq!(all.total, 7);
    let starts: Vec<_> = all
        .items
        .iter()
        .map(|v| v.appointment.slot.start())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "ordered by start");

    let by = |f: AppointmentFilter| async {
        list(f)
            .await
            .unwrap()
            .items
            .iter()
            .map(|v| v.appointment.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by(AppointmentFilter {
            statuses: vec![Status::Confirmed],
            ..Default::default()
        })
        .await,
        vec![ids[1]]
    );
    assert_eq!(
        by(AppointmentFilter {
            statuses: vec![Status::Confirmed, Status::Cancelled],
            ..Default::default()
        })
        .await,
        vec![ids[1], ids[2]]
    );
    assert_eq!(
        by(AppointmentFilter {
            vet: Some(t.alice_vet.id),
            ..Default::default()
        })
        .await,
        vec![ids[0], ids[2], ids[4]]
    );
    assert_eq!(
        by(AppointmentFilter {
            clinic: Some(t.new_york.id),
            ..Default::default()
        })
        .await,
        vec![ny]
    );
    assert_eq!(
        by(AppointmentFilter {
            client: Some(t.other_owner.id),
            ..Default::default()
        })
        .await,
        vec![whisk, ny]
    );
    assert_eq!(
        by(AppointmentFilter {
            pet: Some(t.other_pet.id),
            ..Default::default()
        })
        .await,
        vec![whisk, ny]
    );
    assert_eq!(
        by(AppointmentFilter {
            from: Some(utc("2027-03-02T10:00:00Z")),
            to: Some(utc("2027-03-03T00:00:00Z")),
            ..Default::default()
        })
        .await,
        vec![ids[2], ids[3], ids[4]]
    );
    // Free text: owner or pet name, any case; wildcards are literal.
    assert_eq!(
        by(AppointmentFilter {
            text: Some("WHISK".into()),
            ..Default::default()
        })
        .await,
        vec![whisk, ny]
    );
    assert_eq!(
        by(AppointmentFilter {
            text: Some("noah".into()),
            ..Default::default()
        })
        .await,
        vec![whisk, ny]
    );
    assert_eq!(
        by(AppointmentFilter {
            text: Some("smith".into()),
            ..Default::default()
        })
        .await
        .len(),
        5
    );
    assert!(by(AppointmentFilter {
        text: Some("%".into()),
        ..Default::default()
    })
    .await
    .is_empty());
    assert!(by(AppointmentFilter {
        text: Some("_iscuit".into()),
        ..Default::default()
    })
    .await
    .is_empty());

    // Pages.
    let p1 = list(AppointmentFilter {
        limit: 3,
        ..Default::default()
    })
    .await
    .unwrap();
    let p3 = list(AppointmentFilter {
        limit: 3,
        offset: 6,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!((p1.total, p1.items.len(), p3.items.len()), (7, 3, 1));
    assert_eq!(p3.items[0].appointment.id, all.items[6].appointment.id);

    // Names come along for display.
    let v = &all.items[0];
    assert_eq!(
        (
            v.pet_name.as_str(),
            v.client_name.as_str(),
            v.vet_name.as_str(),
            v.type_name.as_str()
        ),
        ("Biscuit", "Olivia Smith", "Dr Alice", "Consultation")
    );
});

story!(async fn clients_and_pets_search_as_you_type(t) {
    let c = t.app.search_clients(Some("oliv"), 10).await.unwrap();
    assert_eq!(c.iter().map(|c| c.id).collect::<Vec<_>>(), vec![t.owner.id]);
    let c = t.app.search_clients(Some("555"), 10).await.unwrap();
    assert_eq!(
        c.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![t.other_owner.id],
        "by phone"
    );
    let p = t.app.pets(None, Some("bis"), 10).await.unwrap();
    assert_eq!(p.iter().map(|p| p.id).collect::<Vec<_>>(), vec![t.pet.id]);
    let p = t.app.pets(Some(t.other_owner.id), None, 10).await.unwrap();
    assert_eq!(
        p.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![t.other_pet.id]
    );
});

story!(async fn search_folds_case_beyond_ascii(t) {
    let c = t
        .app
        .create_client(ClientInput {
            name: "Élodie Dupré".into(),
            email: Some("elodie@example.fr".into()),
            ..ClientInput::default()
        })
        .await
        .unwrap();
    let p = t
        .app
        .create_pet(PetInput {
            owner: Some(c.id),
            name: "Zoë".into(),
            species: "cat".into(),
            ..PetInput::default()
        })
        .await
        .unwrap();
    for q in ["élodie", "ÉLODIE", "dupré"] {
        let found = t.app.search_clients(Some(q), 10).await.unwrap();
        assert_eq!(
            found.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![c.id],
            "{q}"
        );
    }
    assert_eq!(t.app.pets(None, Some("ZOË"), 10).await.unwrap()[0].id, p.id);
    t.app
        .book(
            BookRequest {
                pet_id: p.id,
                ..t.book_request(&t.alice_vet, &t.london, "2027-03-02T10:00", &t.consult)
            },
        )
        .await
        .unwrap();
    let page = t
        .app
        .appointments(AppointmentFilter {
            text: Some("ÉLOD".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 1);
});
