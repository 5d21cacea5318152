//! Who may do what: users, their roles, the role matrix, and the sign-in throttle's rule.
//!
//! The matrix is a single `match` that says yes only to what it lists: a
//! permission nobody wrote down is denied (deny by default). README.md carries
//! the same table, and the HTTP tests check it cell by cell.

use crate::{ClinicId, Meta, Name, UserId, ValidationError, VetId};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a signed-in person is at the clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The clinic manager: everything, including users, hours and settings.
    Admin,
    /// Reception: books, moves, cancels and checks in; keeps owners and pets.
    FrontDesk,
    /// A veterinarian: reads the calendars; starts and completes their own appointments.
    Vet,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::FrontDesk, Role::Vet];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::FrontDesk => "front_desk",
            Role::Vet => "vet",
        }
    }

    pub fn parse(raw: &str) -> Result<Role, ValidationError> {
        match raw.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "admin" => Ok(Role::Admin),
            "front_desk" | "frontdesk" | "desk" => Ok(Role::FrontDesk),
            "vet" => Ok(Role::Vet),
            _ => Err(ValidationError::Choice {
                field: "role",
                value: raw.to_string(),
                expected: "admin, front_desk, vet",
            }),
        }
    }

    /// The role as a sentence's subject: "the front desk may not …".
    pub fn who(&self) -> &'static str {
        match self {
            Role::Admin => "an admin",
            Role::FrontDesk => "the front desk",
            Role::Vet => "a vet",
        }
    }

    /// The role matrix. `true` only for what is listed; everything else is denied.
    pub fn may(&self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::FrontDesk => matches!(
                p,
                ReadSchedule
                    | ReadRecords
                    | Book
                    | Confirm
                    | Reschedule
                    | Cancel
                    | CheckIn
                    | NoShow
                    | ManageClients
                    // The front desk phones the owner whose reminder failed,
                    // fixes the address and sends it again.
                    | RetryMessages
            ),
            // Start and Complete are further limited to the vet's own appointments.
            Role::Vet => matches!(p, ReadSchedule | ReadRecords | Start | Complete),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the application layer asks permission for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Availability, calendars, conflict checks, appointments and their history.
    ReadSchedule,
    /// Clinics, vets, types, hours, time off, owners and pets.
    ReadRecords,
    Book,
    Confirm,
    Reschedule,
    Cancel,
    CheckIn,
    NoShow,
    Start,
    Complete,
    /// Create and edit owners and pets.
    ManageClients,
    /// Working hours, date overrides and time off.
    ManageSchedule,
    /// Clinics, vets and appointment types.
    ManagePractice,
    ManageUsers,
    ReadAudit,
    /// Message templates, notification settings and running the
    /// notification worker.
    ManageNotifications,
    /// Queue a failed or skipped message again.
    RetryMessages,
    /// Copy the whole database (backups) and put a copy back (restore).
    ManageBackups,
    /// Export an owner's data, or erase it (anonymise the owner and their pets).
    ManageClientData,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::ReadSchedule,
        Permission::ReadRecords,
        Permission::Book,
        Permission::Confirm,
        Permission::Reschedule,
        Permission::Cancel,
        Permission::CheckIn,
        Permission::NoShow,
        Permission::Start,
        Permission::Complete,
        Permission::ManageClients,
        Permission::ManageSchedule,
        Permission::ManagePractice,
        Permission::ManageUsers,
        Permission::ReadAudit,
        Permission::ManageNotifications,
        Permission::RetryMessages,
        Permission::ManageBackups,
        Permission::ManageClientData,
    ];

    /// What the permission lets a person do, as a refusal would say it.
    pub fn describe(&self) -> &'static str {
        match self {
            Permission::ReadSchedule => "read the schedule",
            Permission::ReadRecords => "read the clinic's records",
            Permission::Book => "book appointments",
            Permission::Confirm => "confirm appointments",
            Permission::Reschedule => "reschedule appointments",
            Permission::Cancel => "cancel appointments",
            Permission::CheckIn => "check patients in",
            Permission::NoShow => "mark no-shows",
            Permission::Start => "start appointments",
            Permission::Complete => "complete appointments",
            Permission::ManageClients => "manage owners and pets",
            Permission::ManageSchedule => "manage working hours and time off",
            Permission::ManagePractice => "manage clinics, vets and appointment types",
            Permission::ManageUsers => "manage users",
            Permission::ReadAudit => "read the audit log",
            Permission::ManageNotifications => "manage notifications",
            Permission::RetryMessages => "retry failed messages",
            Permission::ManageBackups => "back up or restore the database",
            Permission::ManageClientData => "export or erase an owner's data",
        }
    }
}

/// Why a principal may not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("{} may not {}", .role.who(), .permission.describe())]
    Role { role: Role, permission: Permission },
    #[error("a vet may {} only for their own appointments", .permission.describe())]
    NotOwn { permission: Permission },
    /// The clinic is not one the principal works at. Clinics are not secret,
    /// so naming one is refused; a record kept there is hidden instead (not found).
    #[error("you work at other clinics than this one; ask the clinic's admin for access")]
    Clinic { clinic: ClinicId },
}

/// Which clinics a principal sees and changes: their appointments, owners,
/// pets and messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClinicScope {
    /// Every clinic: admins, the local operator, and users not limited to any.
    #[default]
    All,
    /// Only these (never empty), the user's home clinic first.
    Only(Vec<ClinicId>),
}

impl ClinicScope {
    /// The scope a user's role and listed clinics give: an admin, or a user
    /// with no clinic listed, has every clinic. Their home clinic, when it is
    /// one of them, comes first.
    pub fn of(role: Role, clinics: &[ClinicId], home: Option<ClinicId>) -> ClinicScope {
        if role == Role::Admin || clinics.is_empty() {
            return ClinicScope::All;
        }
        let mut cs = clinics.to_vec();
        if let Some(i) = home.and_then(|h| cs.iter().position(|c| *c == h)) {
            let h = cs.remove(i);
            cs.insert(0, h);
        }
        ClinicScope::Only(cs)
    }

    pub fn allows(&self, clinic: ClinicId) -> bool {
        match self {
            ClinicScope::All => true,
            ClinicScope::Only(cs) => cs.contains(&clinic),
        }
    }

    /// The clinics a query must keep to, or `None` for every clinic.
    pub fn limited(&self) -> Option<&[ClinicId]> {
        match self {
            ClinicScope::All => None,
            ClinicScope::Only(cs) => Some(cs),
        }
    }
}

/// Who is acting: a signed-in user, or the local operator (CLI, demo seeder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// `None` for the local operator, who is not a stored user.
    pub user_id: Option<UserId>,
    pub username: String,
    pub role: Role,
    /// The vet a `vet` user is.
    pub vet_id: Option<VetId>,
    /// The clinics they see and change.
    #[serde(default)]
    pub clinics: ClinicScope,
}

impl Principal {
    /// Whoever runs vetdesk on the machine itself (the CLI, the demo seeder):
    /// the database file is theirs, so they act as admin. `name` is what the
    /// audit log records.
    pub fn local(name: impl Into<String>) -> Principal {
        Principal {
            user_id: None,
            username: name.into(),
            role: Role::Admin,
            vet_id: None,
            clinics: ClinicScope::All,
        }
    }

    pub fn of(user: &User) -> Principal {
        Principal {
            user_id: Some(user.id),
            username: user.username.as_str().to_string(),
            role: user.role,
            vet_id: user.vet_id,
            clinics: ClinicScope::of(user.role, &user.clinics, user.home_clinic_id),
        }
    }

    /// Refuse a clinic the principal does not work at.
    pub fn authorize_clinic(&self, clinic: ClinicId) -> Result<(), Denied> {
        if self.clinics.allows(clinic) {
            Ok(())
        } else {
            Err(Denied::Clinic { clinic })
        }
    }

    pub fn authorize(&self, p: Permission) -> Result<(), Denied> {
        if self.role.may(p) {
            Ok(())
        } else {
            Err(Denied::Role {
                role: self.role,
                permission: p,
            })
        }
    }

    /// As [`authorize`](Self::authorize), for an appointment of `vet`: a vet
    /// may start and complete only their own.
    pub fn authorize_for(&self, p: Permission, vet: VetId) -> Result<(), Denied> {
        self.authorize(p)?;
        if self.role == Role::Vet && self.vet_id != Some(vet) {
            return Err(Denied::NotOwn { permission: p });
        }
        Ok(())
    }
}

/// A sign-in name: 3 to 32 characters of `a-z 0-9 . _ -`, starting with a
/// letter or digit, kept lower-case (so `Desk` and `desk` are one user).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// The fewest characters in a username.
    pub const MIN: usize = 3;
    /// The most characters in a username.
    pub const MAX: usize = 32;

    pub fn parse(raw: &str) -> Result<Username, ValidationError> {
        let t = raw.trim().to_lowercase();
        let ok_len = (Self::MIN..=Self::MAX).contains(&t.chars().count());
        let ok_chars = t
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        let ok_first = t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if ok_len && ok_chars && ok_first {
            Ok(Username(t))
        } else {
            Err(ValidationError::Other(format!(
                "'{raw}' is not a valid username (3 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit)"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Username::parse(&s)
    }
}
impl From<Username> for String {
    fn from(u: Username) -> String {
        u.0
    }
}
impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: 10 to 200 characters, not only spaces. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 10;
    pub const MAX: usize = 200;

    pub fn parse(raw: &str) -> Result<Password, ValidationError> {
        let len = raw.chars().count();
        if raw.trim().is_empty() {
            return Err(ValidationError::Empty { field: "password" });
        }
        if len < Self::MIN {
            return Err(ValidationError::Other(format!(
                "the password is too short ({len} characters, at least {})",
                Self::MIN
            )));
        }
        if len > Self::MAX {
            return Err(ValidationError::TooLong {
                field: "password",
                len,
                max: Self::MAX,
            });
        }
        Ok(Password(raw.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A person who signs in. The password hash is not part of it: it stays in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub display_name: Name,
    pub role: Role,
    /// Which vet a `vet` user is (required for that role, absent for the others).
    pub vet_id: Option<VetId>,
    /// The clinics a vet or front-desk user is limited to; empty: every
    /// clinic. An admin has none (they see everything).
    #[serde(default)]
    pub clinics: Vec<ClinicId>,
    /// Where their calendar opens (one of `clinics` when those are listed).
    #[serde(default)]
    pub home_clinic_id: Option<ClinicId>,
    /// A disabled user cannot sign in, and their sessions end.
    pub disabled: bool,
    pub meta: Meta,
}

/// How many failed sign-ins a key may have within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    pub max_failures: usize,
    pub window: Duration,
}
