//! The story-test harness: a real SQLite file in a temporary folder, the
//! application on a manual clock, and a small practice to work with.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc, Weekday};
use sqlx::SqlitePool;
use std::sync::Arc;
use tempfile::TempDir;
use vetdesk_app::*;
use vetdesk_core::*;

pub struct TestApp {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub db: SqlitePool,
    pub url: String,
    pub london: Clinic,
    pub new_york: Clinic,
    /// London, Mon–Fri 09:00–12:00 and 13:00–17:00.
    pub alice_vet: Vet,
    /// London, Mon–Fri 09:00–17:00.
    pub ben_vet: Vet,
    /// New York, Mon–Fri 08:00–16:00.
    pub cara_vet: Vet,
    /// 30 minutes, no buffers.
    pub consult: AppointmentType,
    /// 60 minutes, 15 minutes before and after.
    pub surgery: AppointmentType,
    pub owner: Client,
    pub pet: Pet,
    pub other_owner: Client,
    pub other_pet: Pet,
    pub actor: Actor,
    _dir: TempDir,
}

/// Monday 1 March 2027, 08:00 UTC (08:00 in London, 03:00 in New York).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 8, 0, 0)
        .single()
        .expect("valid instant")
}

pub fn date(s: &str) -> NaiveDate {
    parse_date(s).expect("valid date")
}

pub fn local(s: &str) -> TimeInput {
    TimeInput::parse(s).expect("valid time")
}

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid RFC 3339")
        .with_timezone(&Utc)
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vetdesk.db");
    let url = format!("sqlite://{}", path.display());
    let store = vetdesk_store::open(&url).await.expect("open store");
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::new(store, clock.clone(), Settings::default());
    let db = SqlitePool::connect(&url).await.expect("inspection pool");

    let london = app
        .create_clinic(ClinicInput {
            name: "Riverside London".into(),
            time_zone: "Europe/London".into(),
        })
        .await
        .expect("clinic");
    let new_york = app
        .create_clinic(ClinicInput {
            name: "Hudson New York".into(),
            time_zone: "America/New_York".into(),
        })
        .await
        .expect("clinic");
    let vet = |name: &str, clinic: &Clinic| VetInput {
        name: name.into(),
        email: None,
        clinics: vec![clinic.id],
    };
    let alice_vet = app.create_vet(vet("Dr Alice", &london)).await.expect("vet");
    let ben_vet = app.create_vet(vet("Dr Ben", &london)).await.expect("vet");
    let cara_vet = app
        .create_vet(vet("Dr Cara", &new_york))
        .await
        .expect("vet");
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let hours: [(&Vet, &Clinic, &[&str]); 3] = [
        (&alice_vet, &london, &["09:00-12:00", "13:00-17:00"]),
        (&ben_vet, &london, &["09:00-17:00"]),
        (&cara_vet, &new_york, &["08:00-16:00"]),
    ];
    for (v, c, spans) in hours {
        for wd in weekdays {
            for span in spans {
                app.add_working_hours(WorkingHoursInput {
                    vet_id: v.id,
                    clinic_id: c.id,
                    weekday: wd,
                    span: (*span).into(),
                    valid_from: date("2027-01-01"),
                    valid_to: None,
                })
                .await
                .expect("hours");
            }
        }
    }
    let consult = app
        .create_appointment_type(AppointmentTypeInput {
            name: "Consultation".into(),
            duration_min: 30,
            colour: "#4f86f7".into(),
            buffer_before_min: 0,
            buffer_after_min: 0,
        })
        .await
        .expect("type");
    let surgery = app
        .create_appointment_type(AppointmentTypeInput {
            name: "Surgery".into(),
            duration_min: 60,
            colour: "#ea4335".into(),
            buffer_before_min: 15,
            buffer_after_min: 15,
        })
        .await
        .expect("type");
    let owner = app
        .create_client(ClientInput {
            name: "Olivia Smith".into(),
            email: Some("olivia@example.com".into()),
            phone: Some("+44 7700 900123".into()),
            ..ClientInput::default()
        })
        .await
        .expect("client");
    let pet = app
        .create_pet(PetInput {
            owner: Some(owner.id),
            name: "Biscuit".into(),
            species: "dog".into(),
            breed: Some("Labrador".into()),
            date_of_birth: Some(date("2020-05-01")),
        })
        .await
        .expect("pet");
    let other_owner = app
        .create_client(ClientInput {
            name: "Noah Jones".into(),
            phone: Some("+1 212 555 0100".into()),
            ..ClientInput::default()
        })
        .await
        .expect("client");
    let other_pet = app
        .create_pet(PetInput {
            owner: Some(other_owner.id),
            name: "Whiskers".into(),
            species: "cat".into(),
            breed: None,
            date_of_birth: None,
        })
        .await
        .expect("pet");
    TestApp {
        app,
        clock,
        db,
        url,
        london,
        new_york,
        alice_vet,
        ben_vet,
        cara_vet,
        consult,
        surgery,
        owner,
        pet,
        other_owner,
        other_pet,
        actor: Actor::new("front-desk"),
        _dir: dir,
    }
}

impl TestApp {
    pub fn book_request(
        &self,
        vet: &Vet,
        clinic: &Clinic,
        start: &str,
        t: &AppointmentType,
    ) -> BookRequest {
        BookRequest {
            clinic_id: clinic.id,
            vet_id: vet.id,
            pet_id: self.pet.id,
            client_id: None,
            type_id: t.id,
            start: local(start),
            duration_min: None,
            reason: Some("Check-up".into()),
            notes: None,
        }
    }

    /// Book Biscuit with a London vet at a local time.
    pub async fn book(
        &self,
        vet: &Vet,
        start: &str,
        t: &AppointmentType,
    ) -> Result<views::AppointmentDetails> {
        self.app
            .book(self.book_request(vet, &self.london, start, t), &self.actor)
            .await
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.db)
            .await
            .expect("count")
    }

    /// Rows in every table that a write touches: equal before and after means nothing was written.
    pub async fn footprint(&self) -> Vec<i64> {
        let mut out = Vec::new();
        for t in [
            "clinics",
            "vets",
            "vet_clinics",
            "clients",
            "pets",
            "appointment_types",
            "working_hours",
            "date_overrides",
            "time_off",
            "appointments",
            "appointment_history",
            "change_log",
        ] {
            out.push(self.count(t).await);
        }
        let versions: i64 =
            sqlx::query_scalar("SELECT coalesce(sum(version), 0) FROM appointments")
                .fetch_one(&self.db)
                .await
                .expect("versions");
        out.push(versions);
        out
    }

    /// Pairs of time-holding appointments of one vet whose blocked time overlaps.
    pub async fn overlapping_pairs(&self) -> i64 {
        overlapping_pairs(&self.db).await
    }
}

pub async fn overlapping_pairs(db: &SqlitePool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM appointments a JOIN appointments b \
         ON a.vet_id = b.vet_id AND a.id < b.id \
         WHERE a.holds_time = 1 AND b.holds_time = 1 AND a.deleted_at IS NULL AND b.deleted_at IS NULL \
         AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end",
    )
    .fetch_one(db)
    .await
    .expect("self-join")
}
