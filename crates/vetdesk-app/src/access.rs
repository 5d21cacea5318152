//! Sessions (who a token is, signing out), users, permissions, and the audit log
//! (signing in is `signin.rs`).
//!
//! Every use case asks [`App::require`] first: the principal the `App` acts as
//! (see [`App::acting_as`]) must hold the permission, by the role matrix in
//! `vetdesk_core::auth`. Every write appends one audit line in that same
//! transaction ([`App::audit`]), so the log holds exactly what was committed.
//!
//! Passwords are hashed with argon2id. A bearer token is 32 random bytes; the
//! store keeps only its SHA-256, so a copy of the database opens no session.

use crate::paging::page_limit;
use crate::records::{check_version, Versioned};
use crate::{App, AppError, Result};
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use vetdesk_core::*;
use vetdesk_store::{AuditFilter, AuditRecord, Entity, Page, Revoke, Tx, Write};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    /// `admin`, `front_desk` or `vet`.
    pub role: String,
    /// The vet a `vet` user is (required for that role only).
    pub vet_id: Option<VetId>,
    pub password: String,
    /// The clinics a vet or front-desk user is limited to (none: every clinic).
    #[serde(default)]
    pub clinics: Vec<ClinicId>,
    /// Where their calendar opens (one of `clinics` when those are listed).
    #[serde(default)]
    pub home_clinic_id: Option<ClinicId>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub role: Option<String>,
    /// `Some(None)` clears it (when the role stops being `vet`).
    pub vet_id: Option<Option<VetId>>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
    /// The clinics they are limited to; `Some(vec![])` lifts the limit.
    /// Becoming an admin drops them.
    pub clinics: Option<Vec<ClinicId>>,
    /// `Some(None)` clears it; a home outside new `clinics` is dropped.
    pub home_clinic_id: Option<Option<ClinicId>>,
}

/// Largest audit page.
pub const MAX_AUDIT_PAGE: u32 = 500;

impl Versioned for User {
    fn version(&self) -> i64 {
        self.meta.version
    }
}

/// The JSON form of a record, for the audit log.
pub(crate) fn snap<T: Serialize>(t: &T) -> Option<serde_json::Value> {
    serde_json::to_value(t).ok()
}

/// A new bearer secret: `prefix` and 32 random bytes in URL-safe base64. Only
/// its [`token_hash`] is ever stored.
pub(crate) fn new_secret(prefix: &str) -> String {
    use base64::Engine;
    use rand_core::RngCore;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub(crate) fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

async fn hash_password(p: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(p.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

impl App {
    /// Refuse unless the acting principal's role holds `p`.
    pub fn require(&self, p: Permission) -> Result<()> {
        Ok(self.principal.authorize(p)?)
    }

    /// As [`require`](Self::require), for an appointment of `vet` (a vet only their own).
    pub fn require_for(&self, p: Permission, vet: VetId) -> Result<()> {
        Ok(self.principal.authorize_for(p, vet)?)
    }

    /// Append one audit line for a write made in `tx` (committed with it).
    /// An owner's, a pet's, an appointment's or a message's personal fields
    /// are written as a reference to the record, not their value.
    pub(crate) async fn audit(
        &self,
        tx: &mut dyn Tx,
        action: &str,
        entity: &str,
        id: Option<Uuid>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<()> {
        tx.append_audit(&AuditRecord {
            seq: 0,
            at: self.now(),
            actor_id: self.principal.user_id,
            actor: self.principal.username.clone(),
            role: self.principal.role,
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: id,
            // Personal fields by reference, never by value (see `privacy.rs`).
            before: crate::privacy::by_reference(entity, id, before),
            after: crate::privacy::by_reference(entity, id, after),
        })
        .await?;
        Ok(())
    }

    /// End the session a token opened.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, token: &str) -> Result<()> {
        let principal = self.authenticate(token).await?;
        let mut tx = self.store.write().await?;
        tx.revoke_sessions(Revoke::Token(&token_hash(token.trim())), self.now())
            .await?;
        self.acting_as(principal.clone())
            .audit(
                tx.as_mut(),
                "auth.logout",
                "session",
                principal.user_id.map(|u| u.0),
                None,
                None,
            )
            .await?;
        tx.commit().await?;
        self.wake_streams();
        Ok(())
    }

    /// The signed-in user.
    pub async fn me(&self) -> Result<User> {
        let Some(id) = self.principal.user_id else {
            return Err(AppError::Unauthenticated(
                "the local operator is not a stored user".into(),
            ));
        };
        self.store
            .read()
            .await?
            .user(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::User, id))
    }

    // ---------- users ----------

    /// Check a role and vet pairing: a `vet` user is one existing vet; the others are none.
    async fn checked_vet_link(
        tx: &mut dyn Tx,
        role: Role,
        vet: Option<VetId>,
    ) -> Result<Option<VetId>> {
        match (role, vet) {
            (Role::Vet, Some(v)) => {
                crate::records::require_vet(tx, v).await?;
                Ok(Some(v))
            }
            (Role::Vet, None) => Err(ValidationError::Other(
                "a user with the vet role must name the vet they are (vet_id)".into(),
            )
            .into()),
            (_, Some(_)) => Err(ValidationError::Other(format!(
                "only a vet user is linked to a vet; a {role} user has no vet_id"
            ))
            .into()),
            (_, None) => Ok(None),
        }
    }

    /// Check a user's clinics and home clinic: every one exists; only vet and
    /// front-desk users are limited (an admin sees every clinic); the home
    /// clinic is one of the listed clinics when there are any.
    async fn checked_clinics(
        tx: &mut dyn Tx,
        role: Role,
        clinics: Vec<ClinicId>,
        home: Option<ClinicId>,
    ) -> Result<(Vec<ClinicId>, Option<ClinicId>)> {
        let mut listed: Vec<ClinicId> = Vec::with_capacity(clinics.len());
        for c in clinics {
            if !listed.contains(&c) {
                crate::records::require_clinic(tx, c).await?;
                listed.push(c);
            }
        }
        if role == Role::Admin && !listed.is_empty() {
            return Err(ValidationError::Other(
                "an admin sees every clinic; only vet and front-desk users are limited to some"
                    .into(),
            )
            .into());
        }
        if let Some(h) = home {
            crate::records::require_clinic(tx, h).await?;
            if !listed.is_empty() && !listed.contains(&h) {
                return Err(ValidationError::Other(
                    "the home clinic must be one of the user's clinics".into(),
                )
                .into());
            }
        }
        Ok((listed, home))
    }

    /// Refuse a change that would leave no active admin (nobody could manage users).
    async fn keep_an_admin(tx: &mut dyn Tx, changing: UserId) -> Result<()> {
        let others = tx
            .users()
            .await?
            .into_iter()
            .filter(|u| u.id != changing && u.role == Role::Admin && !u.disabled)
            .count();
        if others == 0 {
            return Err(ValidationError::Other(
                "this is the last active admin; make another user admin first".into(),
            )
            .into());
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(username = %input.username))]
    pub async fn create_user(&self, input: UserInput) -> Result<User> {
        self.require(Permission::ManageUsers)?;
        let username = Username::parse(&input.username)?;
        let display_name = Name::parse("display name", &input.display_name)?;
        let role = Role::parse(&input.role)?;
        let hash = hash_password(Password::parse(&input.password)?).await?;
        let mut tx = self.store.write().await?;
        let vet_id = Self::checked_vet_link(tx.as_mut(), role, input.vet_id).await?;
        let (clinics, home_clinic_id) =
            Self::checked_clinics(tx.as_mut(), role, input.clinics, input.home_clinic_id).await?;
        if tx.user_by_name(username.as_str()).await?.is_some() {
            return Err(AppError::Duplicate(format!(
                "the username '{username}' is taken"
            )));
        }
        let user = User {
            id: UserId(Uuid::now_v7()),
            username,
            display_name,
            role,
            vet_id,
            clinics,
            home_clinic_id,
            disabled: false,
            meta: Meta::new(self.now()),
        };
        tx.save_user(&user, Some(&hash), Write::Insert).await?;
        self.audit(
            tx.as_mut(),
            "user.create",
            "user",
            Some(user.id.0),
            None,
            snap(&user),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Edit a user. Disabling one, or changing their password, ends their sessions.
    #[tracing::instrument(skip_all, fields(user = %id))]
    pub async fn update_user(
        &self,
        id: UserId,
        expected_version: Option<i64>,
        patch: UserPatch,
    ) -> Result<User> {
        self.require(Permission::ManageUsers)?;
        let display_name = patch
            .display_name
            .as_deref()
            .map(|n| Name::parse("display name", n))
            .transpose()?;
        let role = patch.role.as_deref().map(Role::parse).transpose()?;
        let hash = match patch.password.as_deref() {
            Some(p) => Some(hash_password(Password::parse(p)?).await?),
            None => None,
        };
        let mut tx = self.store.write().await?;
        let old = tx
            .user(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::User, id))?;
        let v = check_version(Entity::User, id, expected_version, &old)?;
        let role = role.unwrap_or(old.role);
        let vet = match patch.vet_id {
            Some(v) => v,
            // Leaving the vet role drops the link; keeping it keeps it.
            None if role == Role::Vet => old.vet_id,
            None => None,
        };
        let vet_id = Self::checked_vet_link(tx.as_mut(), role, vet).await?;
        let clinics = match patch.clinics {
            Some(cs) => cs,
            // Becoming an admin lifts the limit; otherwise it stays.
            None if role == Role::Admin => Vec::new(),
            None => old.clinics.clone(),
        };
        let home = match patch.home_clinic_id {
            Some(h) => h,
            // A home outside the clinics now listed is dropped.
            None => old
                .home_clinic_id
                .filter(|h| clinics.is_empty() || clinics.contains(h)),
        };
        let (clinics, home_clinic_id) =
            Self::checked_clinics(tx.as_mut(), role, clinics, home).await?;
        let disabled = patch.disabled.unwrap_or(old.disabled);
        let was_active_admin = old.role == Role::Admin && !old.disabled;
        if was_active_admin && (role != Role::Admin || disabled) {
            Self::keep_an_admin(tx.as_mut(), id).await?;
        }
        let user = User {
            display_name: display_name.unwrap_or_else(|| old.display_name.clone()),
            role,
            vet_id,
            clinics,
            home_clinic_id,
            disabled,
            meta: old.meta.bumped(self.now()),
            ..old.clone()
        };
        tx.save_user(
            &user,
            hash.as_deref(),
            Write::Update {
                expected_version: v,
            },
        )
        .await?;
        if disabled || hash.is_some() || role != old.role {
            tx.revoke_sessions(Revoke::User(id), self.now()).await?;
        }
        let mut after = snap(&user);
        if let (Some(serde_json::Value::Object(m)), true) = (after.as_mut(), hash.is_some()) {
            m.insert("password_changed".into(), serde_json::Value::Bool(true));
        }
        self.audit(
            tx.as_mut(),
            "user.update",
            "user",
            Some(id.0),
            snap(&old),
            after,
        )
        .await?;
        tx.commit().await?;
        self.wake_streams();
        Ok(user)
    }

    /// Remove a user (kept as a tombstone); their sessions end.
    #[tracing::instrument(skip_all, fields(user = %id))]
    pub async fn delete_user(&self, id: UserId, expected_version: i64) -> Result<i64> {
        self.require(Permission::ManageUsers)?;
        let mut tx = self.store.write().await?;
        let old = tx
            .user(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::User, id))?;
        if old.role == Role::Admin && !old.disabled {
            Self::keep_an_admin(tx.as_mut(), id).await?;
        }
        let now = self.now();
        let v = tx.delete(Entity::User, id.0, expected_version, now).await?;
        tx.revoke_sessions(Revoke::User(id), now).await?;
        self.audit(
            tx.as_mut(),
            "user.delete",
            "user",
            Some(id.0),
            snap(&old),
            None,
        )
        .await?;
        tx.commit().await?;
        self.wake_streams();
        Ok(v)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        self.require(Permission::ManageUsers)?;
        Ok(self.store.read().await?.users().await?)
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        if self.principal.user_id != Some(id) {
            self.require(Permission::ManageUsers)?;
        }
        self.store
            .read()
            .await?
            .user(id)
            .await?
            .ok_or_else(|| AppError::not_found(Entity::User, id))
    }

    // ---------- the audit log ----------

    /// Audit lines, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn audit_log(&self, mut filter: AuditFilter) -> Result<Page<AuditRecord>> {
        self.require(Permission::ReadAudit)?;
        filter.limit = page_limit(filter.limit, MAX_AUDIT_PAGE, "audit lines")?;
        crate::paging::window(filter.from, filter.to)?;
        Ok(self.store.read().await?.audit_log(&filter).await?)
    }
}
