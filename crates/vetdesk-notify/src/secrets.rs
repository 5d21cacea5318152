//! Secrets (the SMTP password, the SMS token) come from the environment or the
//! OS keyring (service `vetdesk`), never from the database or a config file.
//! The environment wins, so a service manager can inject them; where there is
//! no secret service (a server without a desktop session) the keyring is
//! simply not there, and only the environment counts.

use secrecy::SecretString;

/// The keyring service every vetdesk secret is stored under.
pub const KEYRING_SERVICE: &str = "vetdesk";

/// Where a secret was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Environment,
    Keyring,
}

/// The secret `name` (e.g. `smtp-password`): the environment variable `env`
/// if set and not empty, else the keyring entry, else `None`.
pub async fn lookup(name: &str, env: &str) -> Option<(SecretString, Source)> {
    if let Some(v) = std::env::var(env).ok().filter(|v| !v.is_empty()) {
        return Some((SecretString::from(v), Source::Environment));
    }
    let name = name.to_string();
    let found = tokio::task::spawn_blocking(move || {
        let entry = keyring::Entry::new(KEYRING_SERVICE, &name)?;
        entry.get_password()
    })
    .await;
    match found {
        Ok(Ok(secret)) => Some((SecretString::from(secret), Source::Keyring)),
        Ok(Err(keyring::Error::NoEntry)) => None,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "the OS keyring is not available; using the environment only");
            None
        }
        Err(_) => None,
    }
}

/// Store a secret in the OS keyring.
pub async fn store(name: &str, secret: SecretString) -> Result<(), String> {
    use secrecy::ExposeSecret;
    let name = name.to_string();
    tokio::task::spawn_blocking(move || {
        keyring::Entry::new(KEYRING_SERVICE, &name)
            .and_then(|e| e.set_password(secret.expose_secret()))
            .map_err(|e| format!("the OS keyring refused: {e}"))
    })
    .await
    .map_err(|e| e.to_string())?
}
