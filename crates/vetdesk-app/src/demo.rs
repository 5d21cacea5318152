//! A demo practice for trials: two clinics in different time zones, six vets
//! with breaks, a weekday off, a holiday and a short day, five appointment
//! types, 200 owners and their pets, and three weeks of appointments (last
//! week's played out to completed / no-show / cancelled, this and next week's booked). Everything goes through the ordinary use cases, on a manual
//! clock, so the demo data obeys every rule real data does.

use crate::{
    App, AppError, AppointmentTypeInput, BookRequest, ClientInput, ClinicInput, DateOverrideInput,
    ManualClock, PetInput, Result, TimeOffInput, UserInput, VetInput, WorkingHoursInput,
};
use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use serde::Serialize;
use std::sync::Arc;
use vetdesk_core::*;

#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub clinics: usize,
    pub vets: usize,
    pub appointment_types: usize,
    pub clients: usize,
    pub pets: usize,
    pub appointments: usize,
    pub users: usize,
}

/// The demo's users, one per role, for local trials only: `(username,
/// password, role)`. The vet user is Dr Alice Morgan. README.md lists them.
pub const DEMO_USERS: [(&str, &str, &str); 3] = [
    ("admin", "vetdesk-admin", "admin"),
    ("desk", "vetdesk-desk", "front_desk"),
    ("morgan", "vetdesk-vet", "vet"),
];

/// SplitMix64: small, deterministic, good enough for demo data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const FIRST: [&str; 20] = [
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "James",
    "Isla", "George", "Mia", "Arthur", "Grace", "Leo", "Freya", "Harry", "Chloe", "Oscar",
];
const LAST: [&str; 20] = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Wood", "Clarke",
];
const PETS: [(&str, &str, &str); 12] = [
    ("Biscuit", "dog", "Labrador"),
    ("Luna", "cat", "British Shorthair"),
    ("Max", "dog", "Border Collie"),
    ("Milo", "cat", "Maine Coon"),
    ("Bella", "dog", "Cocker Spaniel"),
    ("Pepper", "rabbit", "Netherland Dwarf"),
    ("Charlie", "dog", "Beagle"),
    ("Willow", "cat", "Ragdoll"),
    ("Nibbles", "guinea pig", "Abyssinian"),
    ("Rocky", "dog", "Boxer"),
    ("Kiwi", "bird", "Budgerigar"),
    ("Shadow", "cat", "Siamese"),
];

/// Fill an empty store with the demo practice around `today` (a local date).
#[tracing::instrument(skip_all, fields(today = %today))]
pub async fn seed(app: &App, today: NaiveDate) -> Result<DemoSummary> {
    app.require(Permission::ManagePractice)?;
    app.require(Permission::ManageUsers)?;
    if !app.clinics().await?.is_empty() {
        return Err(AppError::Duplicate(
            "the database already holds a practice; demo data goes only into an empty one".into(),
        ));
    }
    let mut rng = Rng(0x5EED_CAFE);
    let this_monday = vetdesk_core::time::week_start(today);
    let first_day = this_monday - Duration::days(7);
    // Book everything "from" a moment before the first day, then move the clock forward.
    let clock = Arc::new(ManualClock::new(
        first_day
            .and_hms_opt(0, 0, 0)
            .map_or(DateTime::<Utc>::MIN_UTC, |d| d.and_utc())
            - Duration::days(1),
    ));
    let seeder = app
        .with_clock(clock.clone())
        .acting_as(Principal::local("demo"));

    let london = seeder
        .create_clinic(ClinicInput {
            name: "Riverside Veterinary Clinic".into(),
            time_zone: "Europe/London".into(),
        })
        .await?;
    let new_york = seeder
        .create_clinic(ClinicInput {
            name: "Hudson Animal Hospital".into(),
            time_zone: "America/New_York".into(),
        })
        .await?;

    let type_specs = [
        ("Consultation", 20, "#4f86f7", 0, 5),
        ("Vaccination", 15, "#34a853", 0, 0),
        ("Dental cleaning", 60, "#fbbc05", 10, 10),
        ("Surgery", 90, "#ea4335", 15, 30),
        ("Follow-up", 15, "#9c27b0", 0, 0),
    ];
    let mut types = Vec::new();
    for (name, duration_min, colour, before, after) in type_specs {
        types.push(
            seeder
                .create_appointment_type(AppointmentTypeInput {
                    name: name.into(),
                    duration_min,
                    colour: colour.into(),
                    buffer_before_min: before,
                    buffer_after_min: after,
                })
                .await?,
        );
    }

    let vet_specs = [
        ("Dr Alice Morgan", &london, Weekday::Wed),
        ("Dr Ben Okafor", &london, Weekday::Thu),
        ("Dr Chloe Hughes", &london, Weekday::Mon),
        ("Dr Daniel Reyes", &new_york, Weekday::Fri),
        ("Dr Emily Chen", &new_york, Weekday::Tue),
        ("Dr Frank Russo", &new_york, Weekday::Wed),
    ];
    let valid_from = first_day - Duration::days(365);
    let mut vets = Vec::new();
    for (i, (name, clinic, day_off)) in vet_specs.iter().enumerate() {
        let email = format!(
            "{}@example.org",
            name.trim_start_matches("Dr ")
                .to_lowercase()
                .replace(' ', ".")
        );
        let vet = seeder
            .create_vet(VetInput {
                name: (*name).into(),
                email: Some(email),
                clinics: vec![clinic.id],
            })
            .await?;
        let weekdays = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
        ];
        for wd in weekdays.into_iter().filter(|w| w != day_off) {
            // Saturdays are a short morning; other days have a lunch break.
            let spans: &[&str] = if wd == Weekday::Sat {
                &["09:00-13:00"]
            } else if i % 2 == 0 {
                &["08:30-12:30", "13:30-17:00"]
            } else {
                &["09:00-13:00", "14:00-18:00"]
            };
            for span in spans {
                seeder
                    .add_working_hours(WorkingHoursInput {
                        vet_id: vet.id,
                        clinic_id: clinic.id,
                        weekday: wd,
                        span: (*span).into(),
                        valid_from,
                        valid_to: None,
                    })
                    .await?;
            }
        }
        vets.push((vet, (*clinic).clone()));
    }
    // A holiday next week for the first vet, and a shorter day for the fourth.
    seeder
        .add_time_off(TimeOffInput {
            vet_id: vets[0].0.id,
            clinic_id: Some(london.id),
            start: TimeInput::Local(
                (this_monday + Duration::days(8))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
            ),
            end: TimeInput::Local(
                (this_monday + Duration::days(9))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
            ),
            reason: Some("Annual leave".into()),
        })
        .await?;
    seeder
        .set_date_override(DateOverrideInput {
            vet_id: vets[3].0.id,
            clinic_id: new_york.id,
            date: this_monday + Duration::days(3),
            spans: "09:00-12:00".into(),
            note: Some("Training in the afternoon".into()),
        })
        .await?;

    let mut owners = Vec::new();
    let mut pets = Vec::new();
    for i in 0..200 {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len() + i * 7) % LAST.len()];
        let by_sms = rng.chance(30);
        let client = seeder
            .create_client(ClientInput {
                name: format!("{first} {last}"),
                email: Some(format!(
                    "{}.{}{}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    i
                )),
                phone: Some(format!("+4477009{i:05}")),
                preferred_channel: Some(if by_sms { "sms" } else { "email" }.into()),
                email_opt_out: false,
                sms_opt_out: false,
                // Registered with one clinic or the other.
                home_clinic_id: Some(if i % 3 == 2 { new_york.id } else { london.id }),
            })
            .await?;
        let n_pets = 1 + usize::from(rng.chance(35));
        for _ in 0..n_pets {
            let (pet_name, species, breed) = *rng.pick(&PETS);
            let born = today - Duration::days(200 + i64::try_from(rng.below(4000)).unwrap_or(0));
            let pet = seeder
                .create_pet(PetInput {
                    owner: Some(client.id),
                    name: pet_name.into(),
                    species: species.into(),
                    breed: Some(breed.into()),
                    date_of_birth: Some(born),
                })
                .await?;
            pets.push(pet);
        }
        owners.push(client);
    }

    // Appointments: walk each vet's working day, booking about two thirds of it.
    let mut booked = Vec::new();
    let weights = [40usize, 25, 10, 5, 20]; // consultation, vaccination, dental, surgery, follow-up
    for day in (0..21).map(|d| first_day + Duration::days(d)) {
        for (vet, clinic) in &vets {
            let spans = seeder.working_hours(Some(vet.id), Some(clinic.id)).await?;
            let day_spans: Vec<LocalSpan> = spans
                .iter()
                .filter(|w| w.applies_on(day))
                .map(|w| w.span)
                .collect();
            for span in day_spans {
                let mut minute = i64::from(span.start_min());
                while minute + 15 <= i64::from(span.end_min()) {
                    if !rng.chance(65) {
                        minute += 15;
                        continue;
                    }
                    let mut roll = rng.below(100);
                    let ti = weights
                        .iter()
                        .position(|w| {
                            if roll < *w {
                                true
                            } else {
                                roll -= w;
                                false
                            }
                        })
                        .unwrap_or(0);
                    let t = &types[ti];
                    let pet = rng.pick(&pets);
                    let start =
                        day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(minute);
                    let res = seeder
                        .book(BookRequest {
                            clinic_id: clinic.id,
                            vet_id: vet.id,
                            pet_id: pet.id,
                            client_id: None,
                            type_id: t.id,
                            start: TimeInput::Local(start),
                            duration_min: None,
                            reason: Some(t.name.to_string()),
                            notes: None,
                        })
                        .await;
                    match res {
                        Ok(d) => {
                            booked.push(d);
                            let step = i64::from(t.duration_min + t.buffer_after_min);
                            minute += (step + 14) / 15 * 15;
                        }
                        Err(AppError::Conflict { .. }) => minute += 15,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }

    // Play the appointments forward to the real now.
    let now = app.now();
    for d in &booked {
        let a = &d.view.appointment;
        let start = a.slot.start();
        let roll = rng.below(100);
        let at = |m: i64| start + Duration::minutes(m);
        if a.slot.end() <= now {
            clock.set(at(-60));
            if roll < 10 {
                seeder
                    .cancel(a.id, None, Some("Owner called to cancel".into()))
                    .await?;
                continue;
            }
            seeder.confirm(a.id, None).await?;
            if roll < 17 {
                clock.set(at(15));
                seeder.no_show(a.id, None).await?;
                continue;
            }
            clock.set(at(-5));
            seeder.check_in(a.id, None).await?;
            clock.set(at(0));
            seeder.start(a.id, None).await?;
            clock.set(a.slot.end());
            seeder.complete(a.id, None, None).await?;
        } else if start <= now {
            clock.set(at(-5));
            seeder.check_in(a.id, None).await?;
            clock.set(at(0));
            seeder.start(a.id, None).await?;
        } else {
            clock.set(now);
            if roll < 8 {
                seeder
                    .cancel(a.id, None, Some("Pet is feeling better".into()))
                    .await?;
            } else if roll < 60 {
                seeder.confirm(a.id, None).await?;
            }
        }
    }

    for (username, password, role) in DEMO_USERS {
        let vet_id = (role == "vet").then(|| vets[0].0.id);
        let display_name = match vet_id {
            Some(_) => vets[0].0.name.to_string(),
            None => format!("Demo {}", role.replace('_', " ")),
        };
        seeder
            .create_user(UserInput {
                username: username.into(),
                display_name,
                role: role.into(),
                vet_id,
                password: password.into(),
                // Every clinic, and no home clinic: the UI starts where the
                // workstation is (see ui/src/ui/app.ts, `preferredClinic`).
                clinics: Vec::new(),
                home_clinic_id: None,
            })
            .await?;
    }

    Ok(DemoSummary {
        users: DEMO_USERS.len(),
        clinics: 2,
        vets: vets.len(),
        appointment_types: types.len(),
        clients: owners.len(),
        pets: pets.len(),
        appointments: booked.len(),
    })
}
