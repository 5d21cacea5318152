//! Secrets (the SMTP password, the SMS token) come from the environment or the
//! OS keyring (service `vetdesk`), never from the database or a config file.
//! The environment wins, so a service manager can inject them; where there is
//! no keyring (a server without a desktop session, no Secret Service on the
//! D-Bus session bus) the keyring read says so with [`SecretError::NoKeyring`],
//! [`lookup`] logs it once as a warning, and only the environment counts.

use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicBool, Ordering};

/// The keyring service every vetdesk secret is stored under.
pub const KEYRING_SERVICE: &str = "vetdesk";

/// Where a secret was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Environment,
    Keyring,
}

/// Why the OS keyring could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// There is no keyring to talk to here (on Linux: no D-Bus session bus, or
    /// no Secret Service such as gnome-keyring on it).
    #[error("no OS keyring is available here ({0}); give the secret in the environment instead")]
    NoKeyring(String),
    /// The keyring is there but locked, or refused to answer.
    #[error("the OS keyring refused: {0}")]
    Refused(String),
}

impl From<keyring::Error> for SecretError {
    fn from(e: keyring::Error) -> Self {
        match e {
            keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
                SecretError::NoKeyring(e.to_string())
            }
            other => SecretError::Refused(other.to_string()),
        }
    }
}

/// The secret `name` (e.g. `smtp-password`) from the OS keyring alone:
/// `Ok(None)` when the keyring holds no such entry.
pub async fn from_keyring(name: &str) -> Result<Option<SecretString>, SecretError> {
    let name = name.to_string();
    let found = tokio::task::spawn_blocking(move || {
        let entry = keyring::Entry::new(KEYRING_SERVICE, &name)?;
        entry.get_password()
    })
    .await
    .map_err(|e| SecretError::Refused(format!("the keyring lookup stopped: {e}")))?;
    match found {
        Ok(secret) => Ok(Some(SecretString::from(secret))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

static SAID_NO_KEYRING: AtomicBool = AtomicBool::new(false);

/// The secret `name` (e.g. `smtp-password`): the environment variable `env`
/// if set and not empty, else the keyring entry, else `None`. A missing or
/// refusing keyring is logged (a warning, once per process), never fatal.
pub async fn lookup(name: &str, env: &str) -> Option<(SecretString, Source)> {
    if let Some(v) = std::env::var(env).ok().filter(|v| !v.is_empty()) {
        return Some((SecretString::from(v), Source::Environment));
    }
    from_keyring_or_warn(name, env)
        .await
        .map(|s| (s, Source::Keyring))
}

/// The keyring entry `name`, or `None`: a missing or refusing keyring is
/// logged (a warning naming the variable `env` to use instead, once per
/// process), never fatal.
pub async fn from_keyring_or_warn(name: &str, env: &str) -> Option<SecretString> {
    match from_keyring(name).await {
        Ok(found) => found,
        Err(e) => {
            if !SAID_NO_KEYRING.swap(true, Ordering::Relaxed) {
                tracing::warn!(error = %e, secret = name, variable = env, "cannot read the OS keyring; only the environment counts");
            }
            None
        }
    }
}

/// Store a secret in the OS keyring.
pub async fn store(name: &str, secret: SecretString) -> Result<(), SecretError> {
    let name = name.to_string();
    tokio::task::spawn_blocking(move || {
        keyring::Entry::new(KEYRING_SERVICE, &name)
            .and_then(|e| e.set_password(secret.expose_secret()))
            .map_err(SecretError::from)
    })
    .await
    .map_err(|e| SecretError::Refused(format!("the keyring write stopped: {e}")))?
}
