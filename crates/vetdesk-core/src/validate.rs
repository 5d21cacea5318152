//! Parse, don't validate: constructors that are the only way into a value that
//! obeys its rules, and the one error type that says what was wrong.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Every way an input can be malformed. Each variant names the field or value,
/// so a person reading the message knows what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is too long ({len} characters, at most {max})")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("'{0}' is not a valid email address")]
    Email(String),
    #[error(
        "'{0}' is not a valid phone number (digits, optionally starting with +, 7 to 15 digits)"
    )]
    Phone(String),
    #[error("'{0}' is not a colour (expected #RRGGBB)")]
    Colour(String),
    #[error("'{0}' is not a known IANA time zone (e.g. Europe/London)")]
    TimeZone(String),
    #[error("{field} must be between {min} and {max} minutes, got {got}")]
    Minutes {
        field: &'static str,
        min: i64,
        max: i64,
        got: i64,
    },
    #[error("the end ({end}) must be after the start ({start})")]
    EndNotAfterStart { start: String, end: String },
    #[error("{field} must fall on a whole minute")]
    NotWholeMinute { field: &'static str },
    #[error("'{0}' is not a valid date (expected YYYY-MM-DD)")]
    Date(String),
    #[error("'{0}' is not a valid time of day (expected HH:MM)")]
    Time(String),
    #[error("'{0}' is not a valid date and time (expected YYYY-MM-DDTHH:MM, local to the clinic, or RFC 3339)")]
    DateTime(String),
    #[error("'{0}' is not a valid span of local time (expected HH:MM-HH:MM with the end after the start)")]
    LocalSpan(String),
    #[error("the date range {from} to {to} is empty or reversed")]
    DateRange { from: NaiveDate, to: NaiveDate },
    #[error("the date range spans {days} days; at most {max} are allowed")]
    RangeTooLarge { days: i64, max: i64 },
    #[error("'{value}' is not a valid {} id (expected a UUID)", id_noun(.kind))]
    MalformedId { kind: &'static str, value: String },
    #[error("'{value}' is not a valid {field}; expected one of: {expected}")]
    Choice {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{0}")]
    Other(String),
}

/// `AppointmentTypeId` → `appointment type`.
fn id_noun(kind: &str) -> String {
    let base = kind.strip_suffix("Id").unwrap_or(kind);
    let mut out = String::new();
    for (i, c) in base.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Lower-case form of a name for case-insensitive search (full Unicode,
/// unlike SQLite's ASCII-only `lower()`).
pub fn search_key(text: &str) -> String {
    text.trim().to_lowercase()
}

fn bounded_text(field: &'static str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(ValidationError::Empty { field });
    }
    let len = t.chars().count();
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    Ok(t.to_string())
}

/// The longest name ([`Name`]), in characters after trimming.
pub const NAME_MAX: usize = 200;
/// The longest free text ([`optional_text`]), in characters after trimming.
pub const TEXT_MAX: usize = 2000;
/// The longest email address ([`Email`]), in bytes after trimming.
pub const EMAIL_MAX: usize = 254;
/// The fewest and most digits in a phone number ([`Phone`]).
pub const PHONE_MIN_DIGITS: usize = 7;
pub const PHONE_MAX_DIGITS: usize = 15;
/// An appointment's length in minutes ([`appointment_minutes`]): 5 minutes to 12 hours.
pub const APPOINTMENT_MIN_MINUTES: i64 = 5;
pub const APPOINTMENT_MAX_MINUTES: i64 = 12 * 60;
/// The longest buffer before or after an appointment ([`buffer_minutes`]), in minutes.
pub const BUFFER_MAX_MINUTES: i64 = 120;

/// A person's, pet's or clinic's name: trimmed, non-empty, at most [`NAME_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        bounded_text(field, raw, NAME_MAX).map(Name)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Name {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Name::parse("name", &s)
    }
}
impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0
    }
}
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text such as notes and reasons: trimmed, at most [`TEXT_MAX`] characters; empty becomes `None`.
pub fn optional_text(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => bounded_text(field, t, TEXT_MAX).map(Some),
    }
}

/// An email address: one `@`, a non-empty local part, a dotted domain, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let t = raw.trim();
        let bad = || ValidationError::Email(raw.to_string());
        if t.len() > EMAIL_MAX || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = t.split_once('@').ok_or_else(bad)?;
        let domain_ok = !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || !domain_ok {
            return Err(bad());
        }
        Ok(Email(t.to_ascii_lowercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Email::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number kept as `+` and digits (spaces, dashes, dots and parentheses are dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let t = raw.trim();
        let mut out = String::with_capacity(t.len());
        for (i, c) in t.chars().enumerate() {
            match c {
                '+' if i == 0 => out.push('+'),
                '0'..='9' => out.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(ValidationError::Phone(raw.to_string())),
            }
        }
        let digits = out.chars().filter(char::is_ascii_digit).count();
        if !(PHONE_MIN_DIGITS..=PHONE_MAX_DIGITS).contains(&digits) {
            return Err(ValidationError::Phone(raw.to_string()));
        }
        Ok(Phone(out))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Phone {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Phone::parse(&s)
    }
}
impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}
impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display colour, `#RRGGBB`, stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Colour(String);

impl Colour {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let t = raw.trim();
        let ok =
            t.len() == 7 && t.starts_with('#') && t[1..].chars().all(|c| c.is_ascii_hexdigit());
        if !ok {
            return Err(ValidationError::Colour(raw.to_string()));
        }
        Ok(Colour(t.to_ascii_lowercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Colour {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Colour::parse(&s)
    }
}
impl From<Colour> for String {
    fn from(c: Colour) -> String {
        c.0
    }
}
impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA time zone name, checked against the tz database.
pub fn parse_time_zone(raw: &str) -> Result<Tz, ValidationError> {
    Tz::from_str(raw.trim()).map_err(|_| ValidationError::TimeZone(raw.to_string()))
}

/// A count of minutes within `[min, max]`.
pub fn minutes_in(
    field: &'static str,
    got: i64,
    min: i64,
    max: i64,
) -> Result<u32, ValidationError> {
    if got < min || got > max {
        return Err(ValidationError::Minutes {
            field,
            min,
            max,
            got,
        });
    }
    u32::try_from(got).map_err(|_| ValidationError::Minutes {
        field,
        min,
        max,
        got,
    })
}

/// Appointment length: [`APPOINTMENT_MIN_MINUTES`] to [`APPOINTMENT_MAX_MINUTES`].
pub fn appointment_minutes(got: i64) -> Result<u32, ValidationError> {
    minutes_in(
        "duration",
        got,
        APPOINTMENT_MIN_MINUTES,
        APPOINTMENT_MAX_MINUTES,
    )
}

/// Buffer before or after an appointment: 0 to [`BUFFER_MAX_MINUTES`].
pub fn buffer_minutes(field: &'static str, got: i64) -> Result<u32, ValidationError> {
    minutes_in(field, got, 0, BUFFER_MAX_MINUTES)
}

/// `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Result<NaiveDate, ValidationError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| ValidationError::Date(raw.to_string()))
}

/// `HH:MM`.
pub fn parse_time(raw: &str) -> Result<NaiveTime, ValidationError> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .map_err(|_| ValidationError::Time(raw.to_string()))
}

/// `YYYY-MM-DDTHH:MM` or `YYYY-MM-DD HH:MM` (seconds optional), without a zone.
pub fn parse_naive_datetime(raw: &str) -> Result<NaiveDateTime, ValidationError> {
    let t = raw.trim();
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .ok_or_else(|| ValidationError::DateTime(raw.to_string()))
}

/// A time as a person or a script gives it: an exact instant (RFC 3339, with a
/// zone or offset) or a wall time local to the clinic, resolved by DST rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeInput {
    Instant(chrono::DateTime<chrono::Utc>),
    Local(NaiveDateTime),
}

impl TimeInput {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let t = raw.trim();
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(t) {
            return Ok(TimeInput::Instant(t.with_timezone(&chrono::Utc)));
        }
        // RFC 3339 without seconds, as people type it: 2027-03-01T10:00Z, 2027-03-01T10:00+01:00.
        let zoned = t
            .strip_suffix('Z')
            .or_else(|| t.strip_suffix('z'))
            .map(|s| format!("{s}+00:00"));
        if let Ok(t) =
            chrono::DateTime::parse_from_str(zoned.as_deref().unwrap_or(t), "%Y-%m-%dT%H:%M%:z")
        {
            return Ok(TimeInput::Instant(t.with_timezone(&chrono::Utc)));
        }
        parse_naive_datetime(raw)
            .map(TimeInput::Local)
            .map_err(|_| ValidationError::DateTime(raw.to_string()))
    }

    pub fn resolve(&self, tz: Tz) -> chrono::DateTime<chrono::Utc> {
        match self {
            TimeInput::Instant(t) => *t,
            TimeInput::Local(l) => crate::time::resolve_local(tz, *l),
        }
    }
}

impl FromStr for TimeInput {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeInput::parse(s)
    }
}

/// A weekday by English name or three-letter abbreviation.
pub fn parse_weekday(raw: &str) -> Result<chrono::Weekday, ValidationError> {
    raw.trim()
        .parse::<chrono::Weekday>()
        .map_err(|_| ValidationError::Choice {
            field: "weekday",
            value: raw.to_string(),
            expected: "mon, tue, wed, thu, fri, sat, sun",
        })
}
