//! Identifier newtypes. Every record gets a UUIDv7 where it is created (the
//! application layer mints them; this crate never reads the clock), so ids sort
//! by creation and a workstation can create records offline without collisions.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = crate::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim())
                    .map($name)
                    .map_err(|_| crate::ValidationError::MalformedId {
                        kind: stringify!($name),
                        value: s.to_string(),
                    })
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                $name(u)
            }
        }
    )*};
}

id_type!(
    /// A clinic (one site with its own time zone).
    ClinicId,
    /// A veterinarian.
    VetId,
    /// A pet owner.
    ClientId,
    /// A patient.
    PetId,
    /// A kind of appointment (vaccination, surgery, ...).
    AppointmentTypeId,
    /// An appointment.
    AppointmentId,
    /// One weekly working-hours rule.
    WorkingHoursId,
    /// A single-date override of working hours.
    DateOverrideId,
    /// A period a vet is away.
    TimeOffId,
    /// A person who signs in (front desk, vet or admin).
    UserId,
    /// A message in the outbox.
    OutboxId,
);
