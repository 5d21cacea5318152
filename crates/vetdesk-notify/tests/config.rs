//! The channel configuration's one policy (`ChannelSettings`): what the
//! `VETDESK_…` variables and the CLI's flags turn on, and the typed error,
//! naming the variable or flag at fault, for everything that cannot be used.

use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::time::Duration;
use vetdesk_notify::{
    ChannelPlan, ChannelSettings, ConfigError, DesktopChoice, Given, Origin, Secret, Security,
    Setting, Wanted,
};

/// Variables set, and what the error should be about.
type Case<T> = (Vec<(&'static str, &'static str)>, Setting, T);

const TIMEOUT: Duration = Duration::from_secs(30);
const SECRET: &str = "s3cret-never-shown";

fn settings(vars: &[(&str, &str)]) -> ChannelSettings {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ChannelSettings::from_lookup(|name| vars.get(name).cloned())
}

fn plan(vars: &[(&str, &str)]) -> Result<ChannelPlan, ConfigError> {
    settings(vars).plan(TIMEOUT)
}

fn env(setting: Setting) -> Given {
    Given {
        setting,
        origin: Origin::Environment,
    }
}

fn only_variable(setting: Setting) -> Wanted {
    Wanted {
        setting,
        flag_too: false,
    }
}

const EMAIL: &[(&str, &str)] = &[
    ("VETDESK_SMTP_HOST", "smtp.example.com"),
    (
        "VETDESK_SMTP_FROM",
        "Riverside Vets <reminders@riverside.example>",
    ),
];

const SMS: &[(&str, &str)] = &[
    ("VETDESK_SMS_ACCOUNT", "AC123"),
    ("VETDESK_SMS_FROM", "+441234567890"),
    ("VETDESK_SMS_TOKEN", SECRET),
];

fn with(
    base: &[(&'static str, &'static str)],
    more: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    base.iter().chain(more).copied().collect()
}

#[test]
fn nothing_set_is_every_channel_off() {
    let p = plan(&[("VETDESK_SMTP_HOST", "  "), ("VETDESK_DESKTOP", "")]).expect("plan");
    assert!(p.smtp.is_none() && p.sms.is_none());
    assert_eq!(p.desktop, DesktopChoice::Unset);
}

#[test]
fn email_takes_its_defaults_from_the_security_mode() {
    let p = plan(EMAIL).expect("plan");
    let smtp = p.smtp.expect("email on");
    assert_eq!((smtp.security, smtp.port), (Security::StartTls, 587));
    assert_eq!(smtp.host, "smtp.example.com");
    assert!(smtp.username.is_none() && smtp.password.is_none());
    assert_eq!(smtp.timeout, TIMEOUT);
    for (mode, security, port) in [
        ("plain", Security::Plain, 25),
        ("TLS", Security::Tls, 465),
        ("starttls", Security::StartTls, 587),
    ] {
        let p = plan(&with(EMAIL, &[("VETDESK_SMTP_SECURITY", mode)])).expect(mode);
        let smtp = p.smtp.expect("email on");
        assert_eq!((smtp.security, smtp.port), (security, port), "{mode}");
    }
    let p = plan(&with(EMAIL, &[("VETDESK_SMTP_PORT", "2525")])).expect("port");
    assert_eq!(p.smtp.expect("email on").port, 2525);
}

#[test]
fn sms_takes_the_default_gateway_and_the_token_from_the_environment() {
    let p = plan(SMS).expect("plan");
    let sms = p.sms.expect("sms on");
    assert_eq!(sms.base_url, "https://api.twilio.com");
    assert_eq!(
        (sms.account.as_str(), sms.from.as_str()),
        ("AC123", "+441234567890")
    );
    assert_eq!(sms.token.expose_secret(), SECRET);
    let p = plan(&with(SMS, &[("VETDESK_SMS_URL", "http://127.0.0.1:9000/")])).expect("local");
    assert_eq!(p.sms.expect("sms on").base_url, "http://127.0.0.1:9000/");
}

#[test]
fn a_value_that_cannot_be_used_names_its_variable() {
    use Setting::*;
    let cases: Vec<Case<&str>> = vec![
        (vec![("VETDESK_SMTP_PORT", "587x")], SmtpPort, "587x"),
        (vec![("VETDESK_SMTP_PORT", "0")], SmtpPort, "0"),
        (vec![("VETDESK_SMTP_PORT", "70000")], SmtpPort, "70000"),
        (
            vec![("VETDESK_SMTP_SECURITY", "ssl3")],
            SmtpSecurity,
            "ssl3",
        ),
        (
            vec![("VETDESK_SMTP_FROM", "not an address")],
            SmtpFrom,
            "not an address",
        ),
        (
            vec![("VETDESK_SMTP_CA_FILE", "/nonexistent/ca.pem")],
            SmtpCaFile,
            "/nonexistent/ca.pem",
        ),
        (
            vec![
                ("VETDESK_SMTP_SECURITY", "plain"),
                ("VETDESK_SMTP_CA_FILE", "/etc/ca.pem"),
            ],
            SmtpCaFile,
            "/etc/ca.pem",
        ),
    ];
    for (vars, setting, value) in &cases {
        let mut all = vec![
            ("VETDESK_SMTP_HOST", "smtp.example.com"),
            ("VETDESK_SMTP_FROM", "reminders@riverside.example"),
        ];
        all.extend_from_slice(vars);
        let err = plan(&all).expect_err(value);
        match &err {
            ConfigError::Invalid {
                given, value: v, ..
            } => {
                assert_eq!((*given, v.as_str()), (env(*setting), *value), "{err}")
            }
            other => panic!("{value}: {other:?}"),
        }
        assert!(err.to_string().starts_with(setting.variable()), "{err}");
    }
    let err = plan(&with(SMS, &[("VETDESK_SMS_URL", "http://gateway.example")])).expect_err("http");
    assert!(
        matches!(&err, ConfigError::Invalid { given, .. } if *given == env(Setting::SmsUrl)),
        "{err:?}"
    );
    assert!(err.to_string().contains("https://"), "{err}");
}

#[test]
fn a_partial_configuration_names_what_is_missing() {
    use Setting::*;
    let cases: Vec<Case<Setting>> = vec![
        // A setting of a channel that is off.
        (
            vec![("VETDESK_SMTP_FROM", "a@b.example")],
            SmtpFrom,
            SmtpHost,
        ),
        (vec![("VETDESK_SMTP_PORT", "25")], SmtpPort, SmtpHost),
        (vec![("VETDESK_SMS_FROM", "+4412")], SmsFrom, SmsAccount),
        (
            vec![("VETDESK_SMS_URL", "https://gw.example")],
            SmsUrl,
            SmsAccount,
        ),
        // A channel without what it needs.
        (
            vec![("VETDESK_SMTP_HOST", "smtp.example.com")],
            SmtpHost,
            SmtpFrom,
        ),
        (
            vec![("VETDESK_SMS_ACCOUNT", "AC1"), ("VETDESK_SMS_TOKEN", "t")],
            SmsAccount,
            SmsFrom,
        ),
    ];
    for (vars, given, missing) in &cases {
        let err = plan(vars).expect_err(given.variable());
        assert_eq!(
            err,
            ConfigError::Incomplete {
                given: env(*given),
                missing: only_variable(*missing),
            }
        );
        let text = err.to_string();
        assert!(
            text.contains(given.variable()) && text.contains(missing.variable()),
            "{text}"
        );
        assert!(!text.contains("--"), "the desktop app has no flags: {text}");
    }
}

#[test]
fn a_missing_or_unused_secret_is_an_error_and_never_shown() {
    let err = plan(&with(EMAIL, &[("VETDESK_SMTP_USERNAME", "reminders")])).expect_err("password");
    assert_eq!(
        err,
        ConfigError::MissingSecret {
            needed_by: env(Setting::SmtpUsername),
            secret: Secret::SmtpPassword,
        }
    );
    assert!(err.to_string().contains("VETDESK_SMTP_PASSWORD"), "{err}");
    assert!(
        err.to_string().contains("vetdesk secret set smtp-password"),
        "{err}"
    );
    let err = plan(&SMS[..2]).expect_err("token");
    assert_eq!(
        err,
        ConfigError::MissingSecret {
            needed_by: env(Setting::SmsAccount),
            secret: Secret::SmsToken,
        }
    );
    // A secret nothing will use is configuration gone wrong, too.
    for (vars, missing) in [
        (vec![("VETDESK_SMS_TOKEN", SECRET)], Setting::SmsAccount),
        (vec![("VETDESK_SMTP_PASSWORD", SECRET)], Setting::SmtpHost),
        (
            with(EMAIL, &[("VETDESK_SMTP_PASSWORD", SECRET)]),
            Setting::SmtpUsername,
        ),
    ] {
        let err = plan(&vars).expect_err("unused secret");
        assert!(
            matches!(err, ConfigError::UnusedSecret { missing: m, .. } if m == only_variable(missing)),
            "{err:?}"
        );
        assert!(!err.to_string().contains(SECRET), "{err}");
    }
    let full = with(
        EMAIL,
        &[
            ("VETDESK_SMTP_USERNAME", "u"),
            ("VETDESK_SMTP_PASSWORD", SECRET),
        ],
    );
    let full = with(&full, SMS);
    let s = settings(&full);
    assert!(!format!("{s:?}").contains(SECRET));
    let p = s.plan(TIMEOUT).expect("plan");
    assert!(!format!("{p:?}").contains(SECRET));
    let password = p.smtp.and_then(|c| c.password).expect("password");
    assert_eq!(password.expose_secret(), SECRET);
}

#[test]
fn flags_override_their_variables_and_errors_name_the_flag() {
    let s = settings(&with(EMAIL, &[("VETDESK_SMTP_PORT", "25")]));
    let p = s
        .clone()
        .with_flags([
            (Setting::SmtpPort, Some("2525".to_string())),
            (Setting::SmtpHost, None),
        ])
        .plan(TIMEOUT)
        .expect("plan");
    let smtp = p.smtp.expect("email on");
    assert_eq!((smtp.host.as_str(), smtp.port), ("smtp.example.com", 2525));
    let err = s
        .with_flags([(Setting::SmtpPort, Some("none".to_string()))])
        .plan(TIMEOUT)
        .expect_err("bad flag");
    assert!(
        err.to_string().starts_with("--smtp-port = \"none\""),
        "{err}"
    );
    // What is missing can be given either way on the command line.
    let err = settings(&[])
        .with_flags([(Setting::SmtpFrom, Some("a@b.example".to_string()))])
        .plan(TIMEOUT)
        .expect_err("no host");
    assert_eq!(
        err.to_string(),
        "--smtp-from is set, so --smtp-host or VETDESK_SMTP_HOST must be too"
    );
}

#[test]
fn the_desktop_setting_is_off_all_or_a_vet() {
    for (value, choice) in [
        ("all", DesktopChoice::All),
        ("off", DesktopChoice::Off),
        (" none ", DesktopChoice::Off),
        ("Morgan", DesktopChoice::Vet("Morgan".into())),
    ] {
        let p = plan(&[("VETDESK_DESKTOP", value)]).expect(value);
        assert_eq!(p.desktop, choice, "{value}");
    }
}

#[test]
fn every_setting_has_its_own_variable_and_flag() {
    let mut names: Vec<&str> = Setting::ALL
        .iter()
        .flat_map(|s| [s.variable(), s.flag()])
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Setting::ALL.len() * 2);
    assert_eq!(
        Secret::from_keyring_name("sms-token"),
        Some(Secret::SmsToken)
    );
    assert_eq!(Secret::from_keyring_name("database-password"), None);
}

#[test]
fn how_long_recipients_are_kept_is_read_and_checked_in_one_place() {
    use vetdesk_notify::{DEFAULT_KEEP_RECIPIENTS, MAX_KEEP_RECIPIENTS_DAYS};
    let day = Duration::from_secs(86_400);
    assert_eq!(DEFAULT_KEEP_RECIPIENTS, day * 30);
    assert_eq!(
        settings(&[]).keep_recipients(),
        Ok(Some(DEFAULT_KEEP_RECIPIENTS))
    );
    for (value, kept) in [
        ("7", Some(day * 7)),
        (" 1 ", Some(day)),
        ("3650", Some(day * 3650)),
        ("never", None),
    ] {
        let s = settings(&[("VETDESK_KEEP_RECIPIENTS_DAYS", value)]);
        assert_eq!(s.keep_recipients(), Ok(kept), "{value}");
        s.plan(TIMEOUT).expect(value);
    }
    let too_many = (MAX_KEEP_RECIPIENTS_DAYS + 1).to_string();
    for value in ["0", "-3", "1.5", "a week", "Never", too_many.as_str()] {
        let s = settings(&[("VETDESK_KEEP_RECIPIENTS_DAYS", value)]);
        let err = s.keep_recipients().expect_err(value);
        match &err {
            ConfigError::Invalid {
                given, value: v, ..
            } => {
                assert_eq!(
                    (*given, v.as_str()),
                    (env(Setting::KeepRecipientsDays), value),
                    "{err}"
                )
            }
            other => panic!("{value}: {other:?}"),
        }
        assert!(
            err.to_string().starts_with("VETDESK_KEEP_RECIPIENTS_DAYS"),
            "{err}"
        );
        // The whole configuration is refused with it, never half used.
        assert_eq!(s.plan(TIMEOUT).map(|_| ()), Err(err), "{value}");
    }
    // A flag wins over the variable, and is named when wrong.
    let s = settings(&[("VETDESK_KEEP_RECIPIENTS_DAYS", "7")])
        .with_flags([(Setting::KeepRecipientsDays, Some("10".to_string()))]);
    assert_eq!(s.keep_recipients(), Ok(Some(day * 10)));
    let s = settings(&[]).with_flags([(Setting::KeepRecipientsDays, Some("ten".to_string()))]);
    let err = s.keep_recipients().expect_err("ten");
    assert!(
        err.to_string().starts_with("--keep-recipients-days"),
        "{err}"
    );
}
