//! Signing in: the password check behind the sign-in throttles
//! ([`crate::throttle`]), and the session it opens.
//!
//! Every attempt is reserved as a failure (per username and per source)
//! before its password is checked, and given back only if it signs in;
//! at most `Settings::max_concurrent_verifications` checks run at once.
//! An unknown username is checked against a decoy hash, so it takes as long
//! to refuse as a wrong password. Failures are audited.

use crate::access::{new_secret, token_hash};
use crate::throttle::Refused;
use crate::{App, AppError, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use vetdesk_core::*;
use vetdesk_store::SessionRecord;

/// What a successful sign-in gives: the bearer token (shown once, never stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionGrant {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// A hash of no one's password, checked when the username is unknown so that
/// a wrong username takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"vetdesk decoy password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Check a password against a stored hash (blocking: run it off the async threads).
fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// The error for an attempt that may not go ahead, with how long to wait.
fn refused(r: Refused) -> AppError {
    let secs = |ms: i64| (ms.max(0) as u64).div_ceil(1000).max(1);
    match r {
        Refused::Throttled(wait) => AppError::TooManyAttempts {
            retry_after_secs: secs(wait.num_milliseconds()),
        },
        Refused::Busy(waited) => AppError::SignInBusy {
            retry_after_secs: secs(waited.as_millis().min(i64::MAX as u128) as i64),
        },
    }
}

const WRONG_CREDENTIALS: &str = "the username or password is wrong";

impl App {
    /// Sign in: check the password and open a session. Every attempt is
    /// counted as a failure per username and per `source` (the client's
    /// address, or a label such as `desktop`) before its password is checked,
    /// and given back only if it signs in; failures are audited. At most
    /// `max_concurrent_verifications` passwords are checked at once.
    #[tracing::instrument(skip_all, fields(username = %username.trim()))]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        source: Option<&str>,
    ) -> Result<SessionGrant> {
        let now = self.now();
        let attempt = self
            .throttle
            .reserve(username, source, now)
            .map_err(refused)?;
        let checked = self.check_password(username, password).await;
        let (found, password_ok) = match checked {
            Ok(c) => c,
            Err(e) => {
                // Not a wrong guess: the store failed or no slot came free.
                self.throttle.release(&attempt);
                return Err(e);
            }
        };
        let refusal = match &found {
            None => Some(WRONG_CREDENTIALS),
            Some(_) if !password_ok => Some(WRONG_CREDENTIALS),
            Some((u, _)) if u.disabled => Some("this account is disabled; ask the clinic's admin"),
            Some(_) => None,
        };
        if let Some(reason) = refusal {
            let who = found.map(|(u, _)| u);
            self.audit_failed_login(username, who, reason, source)
                .await?;
            tracing::info!(reason, "sign-in refused");
            return Err(AppError::Unauthenticated(reason.to_string()));
        }
        let Some((user, _)) = found else {
            return Err(AppError::Unauthenticated(WRONG_CREDENTIALS.into()));
        };
        self.throttle.succeed(&attempt);
        let token = new_secret("vd_");
        let session = SessionRecord {
            token_hash: token_hash(&token),
            user_id: user.id,
            created_at: now,
            expires_at: now + self.settings.session_ttl,
            revoked_at: None,
            last_seen_at: now,
        };
        let mut tx = self.store.write().await?;
        tx.add_session(&session).await?;
        self.acting_as(Principal::of(&user))
            .audit(
                tx.as_mut(),
                "auth.login",
                "session",
                Some(user.id.0),
                None,
                Some(serde_json::json!({ "expires_at": session.expires_at, "source": source })),
            )
            .await?;
        tx.commit().await?;
        tracing::info!(user = %user.username, "signed in");
        Ok(SessionGrant {
            token,
            expires_at: session.expires_at,
            user,
        })
    }

    /// The user a username names (if any) and whether the password is theirs.
    /// An unknown username is checked against a decoy hash, so it takes as long.
    async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(Option<(User, String)>, bool)> {
        let found = match Username::parse(username) {
            Ok(name) => self.store.read().await?.user_by_name(name.as_str()).await?,
            Err(_) => None,
        };
        let hash = found
            .as_ref()
            .map_or_else(|| decoy_hash().to_string(), |(_, h)| h.clone());
        let password = password.to_string();
        let ok = self
            .throttle
            .verify(move || verify_password(&password, &hash))
            .await
            .map_err(refused)?
            .map_err(AppError::Internal)?;
        Ok((found, ok))
    }

    /// One audit line for a refused sign-in, naming the user when there is one.
    async fn audit_failed_login(
        &self,
        username: &str,
        who: Option<User>,
        reason: &str,
        source: Option<&str>,
    ) -> Result<()> {
        let failed = self.acting_as(match &who {
            Some(u) => Principal::of(u),
            None => Principal {
                user_id: None,
                username: username.trim().chars().take(64).collect(),
                role: Role::Vet,
                vet_id: None,
                clinics: vetdesk_core::ClinicScope::All,
            },
        });
        let mut tx = self.store.write().await?;
        failed
            .audit(
                tx.as_mut(),
                "auth.login_failed",
                "session",
                who.as_ref().map(|u| u.id.0),
                None,
                Some(serde_json::json!({ "reason": reason, "source": source })),
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
