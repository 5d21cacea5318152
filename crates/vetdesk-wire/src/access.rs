//! Wire types for signing in, users and the audit log.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use vetdesk_app::{UserInput, UserPatch};
use vetdesk_core::{ClinicId, VetId};
use vetdesk_store::AuditFilter;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

/// A role: what a user may do (README.md has the matrix).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum RoleView {
    Admin,
    FrontDesk,
    Vet,
}

/// A user (never their password).
#[derive(ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: RoleView,
    /// The vet a `vet` user is.
    pub vet_id: Option<Uuid>,
    /// The clinics a vet or front-desk user is limited to: they see and change
    /// only those clinics' appointments, owners, pets and messages. Empty:
    /// every clinic (always so for an admin).
    pub clinics: Vec<Uuid>,
    /// Where their calendar opens.
    #[schema(required)]
    pub home_clinic_id: Option<Uuid>,
    pub disabled: bool,
    pub meta: MetaView,
}

/// A record's bookkeeping: its version (send it back to change the record) and times.
#[derive(ToSchema)]
pub struct MetaView {
    /// Bumped by every change; send it back (`version` or `If-Match`) to guard a change.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new session: send `token` as `Authorization: Bearer <token>` until `expires_at`.
#[derive(ToSchema)]
pub struct SessionView {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

/// A ticket for the live event stream: open `GET /events?ticket=<ticket>`
/// once, before `expires_at` (about 30 seconds). It opens one stream, for the
/// session that asked; ask for a new one to reconnect.
#[derive(ToSchema)]
pub struct StreamTicketView {
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    /// 3 to 32 characters: letters, digits, `.`, `_` or `-`.
    #[schema(value_type = crate::rules::Username)]
    pub username: String,
    #[schema(value_type = crate::rules::Name)]
    pub display_name: String,
    /// `admin`, `front_desk` or `vet`.
    #[schema(value_type = RoleView)]
    pub role: String,
    /// Required for the `vet` role: which vet the user is.
    pub vet_id: Option<Uuid>,
    /// At least 10 characters.
    #[schema(value_type = crate::rules::Password)]
    pub password: String,
    /// Limit a vet or front-desk user to these clinics (left out or empty: every clinic).
    #[serde(default)]
    pub clinics: Vec<Uuid>,
    /// Where their calendar opens (one of `clinics` when those are given).
    pub home_clinic_id: Option<Uuid>,
}

impl From<UserBody> for UserInput {
    fn from(b: UserBody) -> Self {
        UserInput {
            username: b.username,
            display_name: b.display_name,
            role: b.role,
            vet_id: b.vet_id.map(VetId),
            password: b.password,
            clinics: b.clinics.into_iter().map(ClinicId).collect(),
            home_clinic_id: b.home_clinic_id.map(ClinicId),
        }
    }
}

/// Changes to a user; absent fields stay as they are. Disabling a user or
/// changing their password or role ends their sessions.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchBody {
    #[schema(value_type = Option<crate::rules::Name>)]
    pub display_name: Option<String>,
    #[schema(value_type = Option<RoleView>)]
    pub role: Option<String>,
    /// The vet a `vet` user is (dropped when the role stops being `vet`).
    pub vet_id: Option<Uuid>,
    #[schema(value_type = Option<crate::rules::Password>)]
    pub password: Option<String>,
    pub disabled: Option<bool>,
    /// The clinics the user is limited to; `[]` lifts the limit (every clinic).
    /// Left out: unchanged (an admin has none).
    pub clinics: Option<Vec<Uuid>>,
    /// Where their calendar opens; `null` clears it. A home outside the
    /// user's clinics is dropped when the clinics change.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<Uuid>)]
    pub home_clinic_id: Option<Option<Uuid>>,
    /// The version the change is made against (or send `If-Match`).
    pub version: Option<i64>,
}

/// A field that may be sent as `null` to clear it: absent is `None`,
/// `null` is `Some(None)`.
fn some_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(d).map(Some)
}

impl From<UserPatchBody> for UserPatch {
    fn from(b: UserPatchBody) -> Self {
        UserPatch {
            display_name: b.display_name,
            role: b.role,
            vet_id: b.vet_id.map(|v| Some(VetId(v))),
            password: b.password,
            disabled: b.disabled,
            clinics: b.clinics.map(|cs| cs.into_iter().map(ClinicId).collect()),
            home_clinic_id: b.home_clinic_id.map(|h| h.map(ClinicId)),
        }
    }
}

/// Which audit lines to list (newest first).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// The kind of record: `appointment`, `clinic`, `user`, `session`, …
    pub entity: Option<String>,
    /// One record's id.
    pub entity_id: Option<Uuid>,
    /// The acting username.
    pub actor: Option<String>,
    /// Lines at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Lines before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size (default 50).
    #[param(value_type = Option<crate::rules::AuditPageSize>)]
    pub limit: Option<u32>,
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub offset: Option<u32>,
}

impl From<AuditQuery> for AuditFilter {
    fn from(q: AuditQuery) -> Self {
        AuditFilter {
            entity: q.entity,
            entity_id: q.entity_id,
            actor: q.actor,
            from: q.from,
            to: q.to,
            limit: q.limit.unwrap_or(0),
            offset: q.offset.unwrap_or(0),
        }
    }
}

/// One line of the audit log.
#[derive(ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The signed-in user; absent for the local operator (the command line).
    pub actor_id: Option<Uuid>,
    pub actor: String,
    pub role: RoleView,
    /// What was done: `appointment.book`, `clinic.update`, `auth.login`, …
    pub action: String,
    pub entity: String,
    pub entity_id: Option<Uuid>,
    /// The record before the change (absent for a creation).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The record after the change (absent for a deletion).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

#[derive(ToSchema)]
pub struct AuditPageView {
    pub items: Vec<AuditView>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}
