//! Where the desktop app keeps its database and its settings.
//!
//! The settings file (`desktop.json` in the OS config folder) says which
//! database to open: the embedded SQLite file in the OS data folder (the same
//! one the `vetdesk` CLI uses by default), or a shared PostgreSQL server. A
//! PostgreSQL URL is stored **without** its password; the password lives in
//! the OS keyring (service `vetdesk`, entry `database-password`) or in
//! `VETDESK_DATABASE_PASSWORD`. `VETDESK_DATABASE_URL` overrides the file.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vetdesk_notify::secrets;

/// The keyring entry holding the PostgreSQL password.
pub const PASSWORD_SECRET: &str = "database-password";
/// The environment variable that may hold it instead.
pub const PASSWORD_ENV: &str = "VETDESK_DATABASE_PASSWORD";

/// The folders the app uses.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `desktop.json`.
    pub settings_file: PathBuf,
    /// The embedded database file.
    pub sqlite_file: PathBuf,
}

impl Paths {
    /// The OS folders (`~/.config/vetdesk`, `~/.local/share/vetdesk` on Linux).
    pub fn from_os() -> Result<Paths, ConfigError> {
        let dirs = directories::ProjectDirs::from("org", "vetdesk", "vetdesk")
            .ok_or(ConfigError::NoHome)?;
        Ok(Paths::under(dirs.config_dir(), dirs.data_dir()))
    }

    pub fn under(config: &Path, data: &Path) -> Paths {
        Paths {
            settings_file: config.join("desktop.json"),
            sqlite_file: data.join("vetdesk.db"),
        }
    }
}

/// Which database the app opens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Database {
    /// The SQLite file in the OS data folder.
    #[default]
    Embedded,
    /// A shared PostgreSQL server; `url` has no password in it.
    Postgres { url: String },
}

/// The settings file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesktopSettings {
    #[serde(default)]
    pub database: Database,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot find a home folder for the settings and the database; set VETDESK_DATABASE_URL"
    )]
    NoHome,
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid settings file ({source}); fix or delete it")]
    Unreadable {
        path: String,
        source: serde_json::Error,
    },
    #[error("{0}")]
    BadUrl(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    move |source| ConfigError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl DesktopSettings {
    /// The saved settings, or the defaults when there is no file yet.
    pub fn load(file: &Path) -> Result<DesktopSettings, ConfigError> {
        match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| ConfigError::Unreadable {
                path: file.display().to_string(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DesktopSettings::default()),
            Err(e) => Err(io(file)(e)),
        }
    }

    /// Write the settings (never a password: [`split_password`] took it out).
    pub fn save(&self, file: &Path) -> Result<(), ConfigError> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let text = serde_json::to_vec_pretty(self).map_err(|source| ConfigError::Unreadable {
            path: file.display().to_string(),
            source,
        })?;
        let tmp = file.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(io(&tmp))?;
        std::fs::rename(&tmp, file).map_err(io(file))
    }
}

/// A PostgreSQL URL split into the URL without its password, and the password.
pub fn split_password(url: &str) -> Result<(String, Option<SecretString>), ConfigError> {
    let url = url.trim();
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| {
            ConfigError::BadUrl(
                "a PostgreSQL URL starts with postgres:// (postgres://user@host:5432/database)"
                    .into(),
            )
        })?;
    let scheme = &url[..url.len() - rest.len()];
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let Some(at) = authority.rfind('@') else {
        return Ok((url.to_string(), None));
    };
    let (userinfo, host) = authority.split_at(at);
    match userinfo.split_once(':') {
        Some((user, password)) if !password.is_empty() => Ok((
            format!("{scheme}{user}{host}{tail}"),
            Some(SecretString::from(password.to_string())),
        )),
        Some((user, _)) => Ok((format!("{scheme}{user}{host}{tail}"), None)),
        None => Ok((url.to_string(), None)),
    }
}

/// `url` with `password` put back in (the user part must be there).
pub fn with_password(url: &str, password: &SecretString) -> String {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return url.to_string();
    };
    let scheme = &url[..url.len() - rest.len()];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!(
            "{scheme}{}:{}{}",
            &rest[..at],
            password.expose_secret(),
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

/// What to open: `VETDESK_DATABASE_URL`, else the settings (a PostgreSQL
/// password from the environment or the keyring), else the embedded file.
pub async fn database_url(
    paths: &Paths,
    settings: &DesktopSettings,
) -> Result<String, ConfigError> {
    if let Some(url) = std::env::var("VETDESK_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        return Ok(url);
    }
    match &settings.database {
        Database::Embedded => embedded_url(paths),
        Database::Postgres { url } => {
            Ok(match secrets::lookup(PASSWORD_SECRET, PASSWORD_ENV).await {
                Some((password, _)) => with_password(url, &password),
                None => url.clone(),
            })
        }
    }
}

/// The embedded database file, its folder created if needed.
pub fn embedded_url(paths: &Paths) -> Result<String, ConfigError> {
    if let Some(dir) = paths.sqlite_file.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    paths
        .sqlite_file
        .to_str()
        .map(str::to_string)
        .ok_or_else(|| {
            ConfigError::BadUrl(format!(
                "{} is not valid UTF-8",
                paths.sqlite_file.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_taken_out_of_the_url_and_put_back() {
        let (url, password) =
            split_password("postgres://clinic:s3cr%40t@db.example:5432/vetdesk?sslmode=require")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url,
            "postgres://clinic@db.example:5432/vetdesk?sslmode=require"
        );
        let password = password.unwrap_or_else(|| panic!("no password found"));
        assert_eq!(password.expose_secret(), "s3cr%40t");
        assert_eq!(
            with_password(&url, &password),
            "postgres://clinic:s3cr%40t@db.example:5432/vetdesk?sslmode=require"
        );
    }

    #[test]
    fn urls_without_a_password_stay_as_they_are_and_others_are_refused() {
        let (url, password) = split_password("postgres://postgres@127.0.0.1/postgres")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url, "postgres://postgres@127.0.0.1/postgres");
        assert!(password.is_none());
        assert!(split_password("mysql://x@y/z").is_err());
        assert!(split_password("/tmp/file.db").is_err());
    }

    #[test]
    fn settings_round_trip_and_never_hold_a_password() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("nested/desktop.json");
        assert_eq!(
            DesktopSettings::load(&file).unwrap_or_else(|e| panic!("{e}")),
            DesktopSettings::default()
        );
        let settings = DesktopSettings {
            database: Database::Postgres {
                url: "postgres://clinic@db.example/vetdesk".into(),
            },
        };
        settings.save(&file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            DesktopSettings::load(&file).unwrap_or_else(|e| panic!("{e}")),
            settings
        );
        std::fs::write(&file, b"{ not json").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            DesktopSettings::load(&file),
            Err(ConfigError::Unreadable { .. })
        ));
    }
}
