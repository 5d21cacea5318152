//! Which channels to send through, read once from the `VETDESK_…` variables
//! (and, for the CLI, the flags that override them), under one policy for
//! every program that runs the worker: `vetdesk worker`, `vetdesk serve` and
//! the desktop app.
//!
//! - A channel is on when its key setting is given: `VETDESK_SMTP_HOST` for
//!   email, `VETDESK_SMS_ACCOUNT` for SMS; `VETDESK_DESKTOP` says whose desktop
//!   notifications to show. A blank value counts as not given.
//! - A value that cannot be used, a setting given for a channel that is off,
//!   and a channel that lacks something it needs are each a [`ConfigError`]
//!   naming the variable (or flag) at fault: never ignored, never guessed.
//! - Secrets (the SMTP password, the SMS token) come from the environment or
//!   the OS keyring ([`crate::secrets`]), never from a flag, and appear in no
//!   error and no log line.

use crate::email::{read_ca_file, Security, SmtpConfig};
use crate::secrets;
use crate::sms::{check_gateway, SmsConfig};
use crate::ChannelConfig;
use lettre::message::Mailbox;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use vetdesk_store::DesktopScope;

/// How long a finished message keeps its recipient (and error text) unless
/// `VETDESK_KEEP_RECIPIENTS_DAYS` says otherwise: 30 days.
pub const DEFAULT_KEEP_RECIPIENTS: Duration = Duration::from_secs(30 * 86_400);

/// The most days `VETDESK_KEEP_RECIPIENTS_DAYS` may say (ten years).
pub const MAX_KEEP_RECIPIENTS_DAYS: u64 = 3650;

/// The gateway SMS goes to unless `VETDESK_SMS_URL` names another.
pub const DEFAULT_SMS_URL: &str = "https://api.twilio.com";

/// One channel setting, with its variable and its CLI flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Setting {
    SmtpHost,
    SmtpPort,
    SmtpSecurity,
    SmtpUsername,
    SmtpFrom,
    SmtpCaFile,
    SmsUrl,
    SmsAccount,
    SmsFrom,
    Desktop,
    KeepRecipientsDays,
}

impl Setting {
    pub const ALL: [Setting; 11] = [
        Setting::SmtpHost,
        Setting::SmtpPort,
        Setting::SmtpSecurity,
        Setting::SmtpUsername,
        Setting::SmtpFrom,
        Setting::SmtpCaFile,
        Setting::SmsUrl,
        Setting::SmsAccount,
        Setting::SmsFrom,
        Setting::Desktop,
        Setting::KeepRecipientsDays,
    ];

    pub fn variable(self) -> &'static str {
        match self {
            Setting::SmtpHost => "VETDESK_SMTP_HOST",
            Setting::SmtpPort => "VETDESK_SMTP_PORT",
            Setting::SmtpSecurity => "VETDESK_SMTP_SECURITY",
            Setting::SmtpUsername => "VETDESK_SMTP_USERNAME",
            Setting::SmtpFrom => "VETDESK_SMTP_FROM",
            Setting::SmtpCaFile => "VETDESK_SMTP_CA_FILE",
            Setting::SmsUrl => "VETDESK_SMS_URL",
            Setting::SmsAccount => "VETDESK_SMS_ACCOUNT",
            Setting::SmsFrom => "VETDESK_SMS_FROM",
            Setting::Desktop => "VETDESK_DESKTOP",
            Setting::KeepRecipientsDays => "VETDESK_KEEP_RECIPIENTS_DAYS",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Setting::SmtpHost => "--smtp-host",
            Setting::SmtpPort => "--smtp-port",
            Setting::SmtpSecurity => "--smtp-security",
            Setting::SmtpUsername => "--smtp-username",
            Setting::SmtpFrom => "--smtp-from",
            Setting::SmtpCaFile => "--smtp-ca-file",
            Setting::SmsUrl => "--sms-url",
            Setting::SmsAccount => "--sms-account",
            Setting::SmsFrom => "--sms-from",
            Setting::Desktop => "--desktop",
            Setting::KeepRecipientsDays => "--keep-recipients-days",
        }
    }

    /// The channel's key setting, which turns it on.
    fn key(self) -> Option<Setting> {
        match self {
            Setting::SmtpHost
            | Setting::SmsAccount
            | Setting::Desktop
            | Setting::KeepRecipientsDays => None,
            Setting::SmsUrl | Setting::SmsFrom => Some(Setting::SmsAccount),
            _ => Some(Setting::SmtpHost),
        }
    }
}

/// A secret a channel may need: its variable and its keyring entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    SmtpPassword,
    SmsToken,
}

impl Secret {
    pub fn variable(self) -> &'static str {
        match self {
            Secret::SmtpPassword => "VETDESK_SMTP_PASSWORD",
            Secret::SmsToken => "VETDESK_SMS_TOKEN",
        }
    }

    /// The entry's name in the OS keyring (`vetdesk secret set NAME`).
    pub fn keyring_name(self) -> &'static str {
        match self {
            Secret::SmtpPassword => "smtp-password",
            Secret::SmsToken => "sms-token",
        }
    }

    /// The secret a keyring entry name stands for.
    pub fn from_keyring_name(name: &str) -> Option<Secret> {
        [Secret::SmtpPassword, Secret::SmsToken]
            .into_iter()
            .find(|s| s.keyring_name() == name)
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Environment,
    Flag,
}

/// A setting as it was given: named by the flag or the variable that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Given {
    pub setting: Setting,
    pub origin: Origin,
}

impl fmt::Display for Given {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.origin {
            Origin::Environment => f.write_str(self.setting.variable()),
            Origin::Flag => f.write_str(self.setting.flag()),
        }
    }
}

/// A setting that is missing, named the ways it can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    pub setting: Setting,
    /// Whether a flag could give it (the CLI) or only the variable (the desktop app).
    pub flag_too: bool,
}

impl fmt::Display for Wanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.flag_too {
            write!(f, "{} or {}", self.setting.flag(), self.setting.variable())
        } else {
            f.write_str(self.setting.variable())
        }
    }
}

/// Why the channel configuration cannot be used. Each names the setting at
/// fault; none carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A value that cannot be used.
    #[error("{given} = {value:?}: {reason}")]
    Invalid {
        given: Given,
        value: String,
        reason: String,
    },
    /// A setting given for a channel that is off, or a channel without
    /// something it needs.
    #[error("{given} is set, so {missing} must be too")]
    Incomplete { given: Given, missing: Wanted },
    /// A secret given for a channel that is off (or an SMTP password without
    /// a username to sign in with).
    #[error("{variable} is set, so {missing} must be too")]
    UnusedSecret {
        variable: &'static str,
        missing: Wanted,
    },
    /// A channel needs a secret that neither the environment nor the keyring holds.
    #[error("{needed_by} is set, so the {} must be given: set {} or run `vetdesk secret set {}`", .secret.keyring_name(), .secret.variable(), .secret.keyring_name())]
    MissingSecret { needed_by: Given, secret: Secret },
}

/// Whose desktop notifications to show, as `VETDESK_DESKTOP` / `--desktop`
/// says; each program turns it into a [`DesktopScope`] (the CLI looks the
/// vet up, the desktop app uses whoever is signed in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DesktopChoice {
    /// Not given.
    Unset,
    /// `off` or `none`.
    Off,
    /// `all`.
    All,
    /// Anything else: a vet's id or part of their name.
    Vet(String),
}

/// The channels the settings describe, ready for [`crate::build_channels`]
/// once the desktop choice is a scope.
#[derive(Debug, Clone)]
pub struct ChannelPlan {
    pub smtp: Option<SmtpConfig>,
    pub sms: Option<SmsConfig>,
    pub desktop: DesktopChoice,
    /// How long one message may take, on every channel.
    pub timeout: Duration,
}

impl ChannelPlan {
    pub fn with_desktop(self, desktop: Option<DesktopScope>) -> ChannelConfig {
        ChannelConfig {
            smtp: self.smtp,
            sms: self.sms,
            desktop: desktop.map(|scope| (scope, self.timeout)),
        }
    }
}

/// The channel settings as given: read with [`ChannelSettings::from_env`]
/// (or [`ChannelSettings::from_lookup`] in tests), overridden by flags with
/// [`ChannelSettings::with_flags`], made into channels by [`resolve`].
#[derive(Clone, Default)]
pub struct ChannelSettings {
    given: BTreeMap<Setting, (String, Origin)>,
    smtp_password: Option<SecretString>,
    sms_token: Option<SecretString>,
    /// Whether flags apply (the CLI), for naming what is missing.
    flags: bool,
}

impl fmt::Debug for ChannelSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelSettings")
            .field("given", &self.given)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "[redacted]"),
            )
            .field("sms_token", &self.sms_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// A value, unless blank.
fn present(v: Option<String>) -> Option<String> {
    v.filter(|v| !v.trim().is_empty())
}

impl ChannelSettings {
    /// Every channel variable (secrets included) from this process's environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Every channel variable from `get` (the environment, or a test's map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let given = Setting::ALL
            .into_iter()
            .filter_map(|s| Some((s, (present(get(s.variable()))?, Origin::Environment))))
            .collect();
        let secret = |s: Secret| present(get(s.variable())).map(SecretString::from);
        ChannelSettings {
            given,
            smtp_password: secret(Secret::SmtpPassword),
            sms_token: secret(Secret::SmsToken),
            flags: false,
        }
    }

    /// Flags given on the command line, each overriding its variable; a
    /// flag not given (`None`) leaves the variable's value.
    pub fn with_flags(
        mut self,
        flags: impl IntoIterator<Item = (Setting, Option<String>)>,
    ) -> Self {
        self.flags = true;
        for (setting, value) in flags {
            if let Some(v) = present(value) {
                self.given.insert(setting, (v, Origin::Flag));
            }
        }
        self
    }

    fn get(&self, s: Setting) -> Option<(&str, Given)> {
        self.given.get(&s).map(|(v, origin)| {
            let given = Given {
                setting: s,
                origin: *origin,
            };
            (v.trim(), given)
        })
    }

    fn wanted(&self, setting: Setting) -> Wanted {
        Wanted {
            setting,
            flag_too: self.flags,
        }
    }

    fn require(&self, s: Setting, by: Given) -> Result<(&str, Given), ConfigError> {
        match self.get(s) {
            Some(found) => Ok(found),
            None => Err(ConfigError::Incomplete {
                given: by,
                missing: self.wanted(s),
            }),
        }
    }

    /// How long the worker lets a finished message keep its recipient and
    /// error text: `VETDESK_KEEP_RECIPIENTS_DAYS` (or `--keep-recipients-days`)
    /// days, 1 to [`MAX_KEEP_RECIPIENTS_DAYS`], or `never` to keep them
    /// (`None`); [`DEFAULT_KEEP_RECIPIENTS`] when not given.
    pub fn keep_recipients(&self) -> Result<Option<Duration>, ConfigError> {
        match self.get(Setting::KeepRecipientsDays) {
            None => Ok(Some(DEFAULT_KEEP_RECIPIENTS)),
            Some(("never", _)) => Ok(None),
            Some((v, given)) => match v.parse::<u64>() {
                Ok(days) if (1..=MAX_KEEP_RECIPIENTS_DAYS).contains(&days) => {
                    Ok(Some(Duration::from_secs(days * 86_400)))
                }
                _ => Err(ConfigError::Invalid {
                    given,
                    value: v.to_string(),
                    reason: format!(
                        "not a number of days (1-{MAX_KEEP_RECIPIENTS_DAYS}) or \"never\""
                    ),
                }),
            },
        }
    }

    /// Whether `secret` is needed and missing from the environment, so the
    /// keyring should be asked.
    fn wants_from_keyring(&self, secret: Secret) -> bool {
        match secret {
            Secret::SmtpPassword => {
                self.smtp_password.is_none()
                    && self.given.contains_key(&Setting::SmtpHost)
                    && self.given.contains_key(&Setting::SmtpUsername)
            }
            Secret::SmsToken => {
                self.sms_token.is_none() && self.given.contains_key(&Setting::SmsAccount)
            }
        }
    }

    /// The channels these settings describe, with the secrets they hold (no
    /// keyring lookup: see [`resolve`]). `timeout` bounds one message.
    pub fn plan(&self, timeout: Duration) -> Result<ChannelPlan, ConfigError> {
        for (setting, (_, origin)) in &self.given {
            if let Some(key) = setting.key() {
                if !self.given.contains_key(&key) {
                    let given = Given {
                        setting: *setting,
                        origin: *origin,
                    };
                    return Err(ConfigError::Incomplete {
                        given,
                        missing: self.wanted(key),
                    });
                }
            }
        }
        let unused = |present: bool, secret: Secret, key: Setting| {
            if present && !self.given.contains_key(&key) {
                return Err(ConfigError::UnusedSecret {
                    variable: secret.variable(),
                    missing: self.wanted(key),
                });
            }
            Ok(())
        };
        unused(
            self.sms_token.is_some(),
            Secret::SmsToken,
            Setting::SmsAccount,
        )?;
        unused(
            self.smtp_password.is_some(),
            Secret::SmtpPassword,
            Setting::SmtpHost,
        )?;
        unused(
            self.smtp_password.is_some(),
            Secret::SmtpPassword,
            Setting::SmtpUsername,
        )?;
        self.keep_recipients()?;
        Ok(ChannelPlan {
            smtp: self.smtp(timeout)?,
            sms: self.sms(timeout)?,
            desktop: match self.get(Setting::Desktop).map(|(v, _)| v) {
                None => DesktopChoice::Unset,
                Some("off" | "none") => DesktopChoice::Off,
                Some("all") => DesktopChoice::All,
                Some(vet) => DesktopChoice::Vet(vet.to_string()),
            },
            timeout,
        })
    }

    fn smtp(&self, timeout: Duration) -> Result<Option<SmtpConfig>, ConfigError> {
        let Some((host, by)) = self.get(Setting::SmtpHost) else {
            return Ok(None);
        };
        let invalid = |given: Given, value: &str, reason: String| ConfigError::Invalid {
            given,
            value: value.to_string(),
            reason,
        };
        let security = match self.get(Setting::SmtpSecurity) {
            None => Security::StartTls,
            Some((v, given)) => v.parse::<Security>().map_err(|e| invalid(given, v, e))?,
        };
        let port = match self.get(Setting::SmtpPort) {
            None => security.default_port(),
            Some((v, given)) => match v.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err(invalid(given, v, "not a port (1-65535)".into())),
            },
        };
        let (from, given) = self.require(Setting::SmtpFrom, by)?;
        if let Err(e) = from.parse::<Mailbox>() {
            return Err(invalid(given, from, format!("not a sender address: {e}")));
        }
        let ca_file = match self.get(Setting::SmtpCaFile) {
            None => None,
            Some((v, given)) => {
                if security == Security::Plain {
                    let reason = "a certificate authority file needs TLS (starttls or tls)";
                    return Err(invalid(given, v, reason.into()));
                }
                let path = PathBuf::from(v);
                read_ca_file(&path).map_err(|e| invalid(given, v, e))?;
                Some(path)
            }
        };
        let username = self.get(Setting::SmtpUsername).map(|(v, _)| v.to_string());
        if let (Some(_), None) = (&username, &self.smtp_password) {
            let needed_by = self.get(Setting::SmtpUsername).map_or(by, |(_, g)| g);
            return Err(ConfigError::MissingSecret {
                needed_by,
                secret: Secret::SmtpPassword,
            });
        }
        Ok(Some(SmtpConfig {
            host: host.to_string(),
            port,
            security,
            username,
            password: self.smtp_password.clone(),
            from: from.to_string(),
            timeout,
            reuse_connection: true,
            ca_file,
        }))
    }

    fn sms(&self, timeout: Duration) -> Result<Option<SmsConfig>, ConfigError> {
        let Some((account, by)) = self.get(Setting::SmsAccount) else {
            return Ok(None);
        };
        let (from, _) = self.require(Setting::SmsFrom, by)?;
        let base_url = match self.get(Setting::SmsUrl) {
            None => DEFAULT_SMS_URL.to_string(),
            Some((v, given)) => {
                check_gateway(v.trim_end_matches('/')).map_err(|e| ConfigError::Invalid {
                    given,
                    value: v.to_string(),
                    reason: e.to_string(),
                })?;
                v.to_string()
            }
        };
        let token = self.sms_token.clone().ok_or(ConfigError::MissingSecret {
            needed_by: by,
            secret: Secret::SmsToken,
        })?;
        Ok(Some(SmsConfig {
            base_url,
            account: account.to_string(),
            token,
            from: from.to_string(),
            timeout,
        }))
    }
}

/// The channels `settings` describe: the secrets a configured channel needs
/// and the environment did not give are looked up in the OS keyring first
/// (a missing keyring counts as not holding them). `timeout` bounds one message.
pub async fn resolve(
    mut settings: ChannelSettings,
    timeout: Duration,
) -> Result<ChannelPlan, ConfigError> {
    for secret in [Secret::SmtpPassword, Secret::SmsToken] {
        if settings.wants_from_keyring(secret) {
            let found =
                secrets::from_keyring_or_warn(secret.keyring_name(), secret.variable()).await;
            match secret {
                Secret::SmtpPassword => settings.smtp_password = found,
                Secret::SmsToken => settings.sms_token = found,
            }
        }
    }
    settings.plan(timeout)
}
