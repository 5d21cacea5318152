//! What the API checks, as OpenAPI schemas: one named schema per rule
//! (a name, free text, an email, a length of time, a clinic-local time, …),
//! which the wire types' fields name with `value_type = …`.
//!
//! Every number here is read from the constant the rule itself uses in
//! `vetdesk-core` or `vetdesk-app`, and every choice from the core's own list of
//! names, so the document cannot drift from the code that checks. The patterns
//! say the syntax the core's parsers accept, with the surrounding spaces they
//! trim and the upper case they fold; a client that writes what a pattern
//! describes is never refused for syntax (`tests` checks the patterns against
//! the parsers themselves). The parsers take a little more than the patterns say
//! (chrono reads a one-digit month), and lengths count before trimming.
//! Meaning beyond syntax (a date that exists, a zone in the tz database, a grid
//! that divides the day) is the API's to refuse with `422`.

use std::borrow::Cow;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};
use vetdesk_app as app;
use vetdesk_core as core;

/// A string schema with a description.
fn text(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// An integer schema within `[min, max]`.
fn integer(description: &str, min: i64, max: i64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(min))
        .maximum(Some(max))
        .description(Some(description))
}

/// `^\s*(?:…)\s*$`: the parsers trim what they are given.
fn trimmed(inner: &str) -> String {
    format!(r"^\s*(?:{inner})\s*$")
}

/// A word in either case, for parsers that lower-case (`none`, `NONE`).
fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
            } else {
                regex_escape(c)
            }
        })
        .collect()
}

fn regex_escape(c: char) -> String {
    if "\\^$.|?*+()[]{}-/".contains(c) {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// Clinic-local `YYYY-MM-DDTHH:MM` (seconds optional) or RFC 3339.
pub const TIME_PATTERN: &str = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?\s*$";
/// An RFC 3339 instant (the offset is required; seconds optional).
pub const INSTANT_PATTERN: &str = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})\s*$";
/// `HH:MM-HH:MM`, clinic-local (`24:00` may end it).
const SPAN: &str = r"\s*[0-9]{1,2}:[0-9]{1,2}\s*-\s*[0-9]{1,2}:[0-9]{1,2}\s*";
/// A reminder offset: minutes, or a number with `m`, `h` or `d`.
const OFFSET: &str = r"\s*\+?[0-9]+\s*[MmHhDd]?\s*";

macro_rules! rules {
    ($($(#[doc = $doc:literal])* $name:ident => $schema:expr;)*) => {
        $(
            $(#[doc = $doc])*
            pub struct $name;
            impl PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    let schema: ObjectBuilder = $schema;
                    schema.into()
                }
            }
            impl ToSchema for $name {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($name))
                }
            }
        )*
        /// Every rule's schema, by name, for the document's components.
        pub fn schemas() -> Vec<(String, RefOr<Schema>)> {
            vec![$((stringify!($name).to_string(), <$name as PartialSchema>::schema()),)*]
        }
    };
}

rules! {
    /// A person's, pet's, clinic's or type's name.
    Name => text("A name: not blank, trimmed, at most this many characters.")
        .min_length(Some(1))
        .max_length(Some(core::NAME_MAX));
    /// Free text (notes, reasons, a breed): empty means none.
    Text => text("Free text, trimmed; empty means none.")
        .max_length(Some(core::TEXT_MAX));
    /// An email address; empty means none.
    EmailAddress => text("An email address (`name@example.org`); empty means none.")
        .max_length(Some(core::EMAIL_MAX))
        .pattern(Some(trimmed(r"(?:[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+)?")));
    /// A phone number; empty means none.
    PhoneNumber => text("A phone number: digits, optionally starting with `+`; spaces, dashes, dots and parentheses are dropped. Empty means none.")
        .pattern(Some(trimmed(&format!(
            r"(?:\+?[ ().-]*(?:[0-9][ ().-]*){{{},{}}})?",
            core::PHONE_MIN_DIGITS,
            core::PHONE_MAX_DIGITS
        ))));
    /// How an owner prefers to hear from the clinic; empty means no preference.
    ContactChannel => text("`email` or `sms`; empty means no preference.")
        .enum_values(Some(
            [core::Channel::Email, core::Channel::Sms]
                .iter()
                .map(|c| c.as_str())
                .chain([""]),
        ));
    /// A display colour.
    Colour => text("A colour, `#RRGGBB`.")
        .pattern(Some(trimmed("#[0-9A-Fa-f]{6}")));
    /// An IANA time zone.
    TimeZone => text("An IANA time zone name, e.g. `Europe/London`.")
        .pattern(Some(trimmed(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*")));
    /// A time as people and scripts give it.
    LocalOrInstant => text("Clinic-local `YYYY-MM-DDTHH:MM` (seconds optional), or RFC 3339 with an offset.")
        .pattern(Some(TIME_PATTERN));
    /// An exact instant.
    Instant => text("An instant, RFC 3339 with an offset, e.g. `2027-03-01T09:00:00Z`.")
        .pattern(Some(INSTANT_PATTERN));
    /// A span of clinic-local time within a day.
    LocalSpan => text("`HH:MM-HH:MM`, clinic-local, the end after the start (`24:00` may end it).")
        .pattern(Some(trimmed(SPAN)));
    /// A day's spans, comma-separated; empty is a day off.
    LocalSpanList => text("`HH:MM-HH:MM` spans, comma-separated; empty means a day off.")
        .pattern(Some(format!(r"^\s*(?:{SPAN})?\s*(?:,\s*(?:{SPAN})?\s*)*$")));
    /// A day of the week.
    Weekday => text("A day of the week, short or long.")
        .enum_values(Some(
            (0..7)
                .filter_map(|d| chrono::Weekday::try_from(d).ok())
                .map(|d| d.to_string().to_lowercase())
                .chain((0..7).filter_map(|d| chrono::Weekday::try_from(d).ok()).map(long_weekday)),
        ));
    /// An appointment's length.
    AppointmentMinutes => integer("An appointment's length in minutes.", core::APPOINTMENT_MIN_MINUTES, core::APPOINTMENT_MAX_MINUTES);
    /// A buffer kept free before or after an appointment.
    BufferMinutes => integer("Minutes kept free before or after an appointment.", 0, core::BUFFER_MAX_MINUTES);
    /// A slot grid.
    GridMinutes => integer("Slot grid in minutes; it must divide the day evenly (5, 10, 15, 20, 30, 60 …).", core::GRID_MIN_MINUTES, core::GRID_MAX_MINUTES);
    /// A minimum notice.
    NoticeMinutes => integer("Minutes from now before which nothing is offered.", 0, app::MAX_NOTICE_MINUTES);
    /// A page of appointments.
    AppointmentPageSize => integer("Page size (0 or absent: the default).", 0, i64::from(app::MAX_PAGE));
    /// A page of the outbox.
    OutboxPageSize => integer("Page size (0 or absent: the default).", 0, i64::from(app::MAX_OUTBOX_PAGE));
    /// A page of the audit log.
    AuditPageSize => integer("Page size (0 or absent: the default).", 0, i64::from(app::MAX_AUDIT_PAGE));
    /// A sign-in name.
    Username => text("Letters, digits, `.`, `_` or `-`, starting with a letter or digit (kept lower-case).")
        .pattern(Some(trimmed(&format!(
            "[A-Za-z0-9][A-Za-z0-9._-]{{{},{}}}",
            core::Username::MIN - 1,
            core::Username::MAX - 1
        ))));
    /// A new password.
    Password => text("A new password; not only spaces.")
        .min_length(Some(core::Password::MIN))
        .max_length(Some(core::Password::MAX));
    /// Message statuses to list.
    MessageStatusList => text("Message statuses, comma-separated (`failed` or `failed,skipped`).")
        .pattern(Some({
            let one = alternatives(core::MessageStatus::ALL.iter().map(|s| s.as_str()));
            trimmed(&format!(r"{one}(?:\s*,\s*{one})*"))
        }));
    /// A message template's subject.
    TemplateSubject => text("One line; required for email and desktop, absent for SMS.")
        .max_length(Some(core::message::MAX_SUBJECT));
    /// A message template's body.
    TemplateBody => text("The wording with placeholders; SMS bodies are shorter (see the description of the operation).")
        .min_length(Some(1))
        .max_length(Some(core::message::MAX_BODY.max(core::message::MAX_SMS_BODY)));
    /// When owners are reminded.
    ReminderOffsets => text("Minutes, or a number with `h` or `d`, comma-separated (`24h,2h`); `none` or empty for no reminders.")
        .pattern(Some(trimmed(&format!("|{}|{OFFSET}(?:,{OFFSET})*", any_case("none")))));
    /// When no SMS goes out.
    QuietHours => text("`HH:MM-HH:MM` in the clinic's time (it may wrap past midnight), or `none`.")
        .pattern(Some(trimmed(&format!("|{}|{SPAN}", any_case("none")))));
    /// When the vet's desktop says "starting soon".
    HeadsUp => text("Minutes, or a number with `h` or `d`; `none` for never.")
        .pattern(Some(trimmed(&format!("|{}|{OFFSET}", any_case("none")))));
}

fn long_weekday(d: chrono::Weekday) -> String {
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ][d.num_days_from_monday() as usize]
        .to_string()
}

/// `(?:a|b|c)`, each word in either case.
fn alternatives<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let words: Vec<String> = words.map(any_case).collect();
    format!("(?:{})", words.join("|"))
}

#[cfg(test)]
mod tests;
