//! What a message says: templates per kind and channel with `{placeholder}`s,
//! rendered in the clinic's time zone, and the `.ics` calendar attachment
//! (RFC 5545, with a `VTIMEZONE` for the clinic's zone) that confirmations,
//! reschedules and cancellations carry. Pure, like the rest of the core.

use crate::notification::{MessageChannel, MessageKind};
use crate::time::to_local;
use crate::validate::ValidationError;
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Placeholders every template may use.
pub const PLACEHOLDERS: [&str; 9] = [
    "pet", "owner", "vet", "clinic", "type", "date", "time", "when", "zone",
];
/// Placeholders only a reschedule notice may use.
pub const RESCHEDULE_PLACEHOLDERS: [&str; 2] = ["previous_date", "previous_time"];

pub const MAX_SUBJECT: usize = 200;
pub const MAX_BODY: usize = 4000;
pub const MAX_SMS_BODY: usize = 480;

/// One template: what a message of `kind` by `channel` says. Email and desktop
/// messages have a subject (the desktop's title); SMS has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub kind: MessageKind,
    pub channel: MessageChannel,
    pub subject: Option<String>,
    pub body: String,
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Brace(char),
    Field(&'a str),
}

fn pieces<'a>(field: &'static str, raw: &'a str) -> Result<Vec<Piece<'a>>, ValidationError> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(i) = rest.find(['{', '}']) {
        if i > 0 {
            out.push(Piece::Text(&rest[..i]));
        }
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push(Piece::Brace('{'));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push(Piece::Brace('}'));
            rest = after;
        } else if tail.starts_with('}') {
            return Err(ValidationError::Other(format!(
                "the {field} has a '}}' without its '{{' (write '}}}}' for a brace)"
            )));
        } else {
            let end = tail.find('}').ok_or_else(|| {
                ValidationError::Other(format!(
                    "the {field} has a '{{' that is never closed (write '{{{{' for a brace)"
                ))
            })?;
            out.push(Piece::Field(tail[1..end].trim()));
            rest = &tail[end + 1..];
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

fn allowed(kind: MessageKind, name: &str) -> bool {
    PLACEHOLDERS.contains(&name)
        || (kind == MessageKind::Reschedule && RESCHEDULE_PLACEHOLDERS.contains(&name))
}

impl Template {
    /// A checked template: known placeholders only (`previous_date` and
    /// `previous_time` in reschedule notices), balanced braces, a one-line
    /// subject for email and desktop and none for SMS, and lengths within bounds.
    pub fn new(
        kind: MessageKind,
        channel: MessageChannel,
        subject: Option<&str>,
        body: &str,
    ) -> Result<Template, ValidationError> {
        if !kind.channels().contains(&channel) {
            return Err(ValidationError::Other(format!(
                "a {kind} message never goes by {channel}"
            )));
        }
        let subject = subject.map(str::trim).filter(|s| !s.is_empty());
        let subject = match (channel, subject) {
            (MessageChannel::Sms, Some(_)) => {
                return Err(ValidationError::Other("an SMS has no subject".into()))
            }
            (MessageChannel::Sms, None) => None,
            (_, None) => return Err(ValidationError::Empty { field: "subject" }),
            (_, Some(s)) => {
                if s.contains(['\n', '\r']) {
                    return Err(ValidationError::Other(
                        "the subject must be one line".into(),
                    ));
                }
                let len = s.chars().count();
                if len > MAX_SUBJECT {
                    return Err(ValidationError::TooLong {
                        field: "subject",
                        len,
                        max: MAX_SUBJECT,
                    });
                }
                Some(s.to_string())
            }
        };
        let body = body.trim_end();
        if body.trim().is_empty() {
            return Err(ValidationError::Empty { field: "body" });
        }
        let max = if channel == MessageChannel::Sms {
            MAX_SMS_BODY
        } else {
            MAX_BODY
        };
        let len = body.chars().count();
        if len > max {
            return Err(ValidationError::TooLong {
                field: "body",
                len,
                max,
            });
        }
        for (field, text) in [
            ("subject", subject.as_deref().unwrap_or("")),
            ("body", body),
        ] {
            for p in pieces(field, text)? {
                if let Piece::Field(name) = p {
                    if !allowed(kind, name) {
                        let mut known = PLACEHOLDERS.join("}, {");
                        if kind == MessageKind::Reschedule {
                            known =
                                format!("{known}}}, {{{}", RESCHEDULE_PLACEHOLDERS.join("}, {"));
                        }
                        return Err(ValidationError::Other(format!(
                            "the {field} uses {{{name}}}, which a {kind} message does not know; use {{{known}}}"
                        )));
                    }
                }
            }
        }
        Ok(Template {
            kind,
            channel,
            subject,
            body: body.to_string(),
        })
    }

    /// The template vetdesk ships for a kind and channel.
    pub fn default_for(kind: MessageKind, channel: MessageChannel) -> Template {
        use MessageChannel::*;
        use MessageKind::*;
        let (subject, body): (Option<&str>, &str) = match (kind, channel) {
            (Confirmation, Email) => (
                Some("{pet}'s appointment at {clinic}: {date} at {time}"),
                "Dear {owner},\n\n\
                 {pet}'s {type} with {vet} at {clinic} is booked for {date} at {time}.\n\n\
                 The attached calendar entry adds it to your calendar. If you cannot come, \
                 please let us know as early as you can so another patient can have the time.\n\n\
                 {clinic}",
            ),
            (Confirmation, _) => (
                None,
                "{clinic}: {pet}'s {type} with {vet} is booked for {date} at {time}. \
                 Please tell us if you cannot come.",
            ),
            (Reminder, Email) => (
                Some("Reminder: {pet}'s appointment {when}"),
                "Dear {owner},\n\n\
                 A reminder that {pet}'s {type} with {vet} at {clinic} is {when} ({date}).\n\n\
                 If you cannot come, please let us know.\n\n\
                 {clinic}",
            ),
            (Reminder, _) => (
                None,
                "{clinic}: reminder, {pet}'s {type} with {vet} is {when}. Please tell us if you cannot come.",
            ),
            (Reschedule, Email) => (
                Some("{pet}'s appointment has moved to {date} at {time}"),
                "Dear {owner},\n\n\
                 {pet}'s {type} at {clinic} has moved from {previous_date} at {previous_time} \
                 to {date} at {time}, with {vet}.\n\n\
                 The attached calendar entry updates your calendar.\n\n\
                 {clinic}",
            ),
            (Reschedule, _) => (
                None,
                "{clinic}: {pet}'s {type} has moved from {previous_date} {previous_time} to {date} at {time}, with {vet}.",
            ),
            (Cancellation, Email) => (
                Some("{pet}'s appointment on {date} is cancelled"),
                "Dear {owner},\n\n\
                 {pet}'s {type} with {vet} at {clinic} on {date} at {time} has been cancelled.\n\n\
                 To book another time, reply to this message or call us.\n\n\
                 {clinic}",
            ),
            (Cancellation, _) => (
                None,
                "{clinic}: {pet}'s {type} on {date} at {time} is cancelled. Call us to book another time.",
            ),
            (CheckedIn, _) => (
                Some("{pet} has arrived"),
                "{pet} ({owner}) is checked in for the {time} {type}.",
            ),
            (StartingSoon, _) => (
                Some("{pet} at {time}"),
                "{type} with {pet} ({owner}) starts at {time}.",
            ),
        };
        Template {
            kind,
            channel,
            subject: subject.map(str::to_string),
            body: body.to_string(),
        }
    }
}

/// What a template is filled with.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub pet: &'a str,
    pub owner: &'a str,
    pub vet: &'a str,
    pub clinic: &'a str,
    pub type_name: &'a str,
    pub start: DateTime<Utc>,
    pub previous_start: Option<DateTime<Utc>>,
    pub tz: Tz,
    /// When the message is rendered (for `{when}`: "today", "tomorrow").
    pub now: DateTime<Utc>,
}

/// A message ready to send: a subject (email, desktop), the plain text, and
/// for email an HTML version of the same text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
}

/// `Tuesday 2 March 2027`.
pub fn local_date(tz: Tz, t: DateTime<Utc>) -> String {
    to_local(tz, t).format("%A %-d %B %Y").to_string()
}

/// `10:30`.
pub fn local_time(tz: Tz, t: DateTime<Utc>) -> String {
    to_local(tz, t).format("%H:%M").to_string()
}

/// The zone's abbreviation at an instant (`GMT`, `BST`, `EST`), else its name.
pub fn zone_abbreviation(tz: Tz, t: DateTime<Utc>) -> String {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .abbreviation()
        .map(str::to_string)
        .unwrap_or_else(|| tz.name().to_string())
}

fn when(f: &Facts<'_>) -> String {
    let day = to_local(f.tz, f.start).date();
    let today = to_local(f.tz, f.now).date();
    let time = local_time(f.tz, f.start);
    if day == today {
        format!("today at {time}")
    } else if today.succ_opt() == Some(day) {
        format!("tomorrow at {time}")
    } else {
        format!(
            "on {} at {time}",
            to_local(f.tz, f.start).format("%A %-d %B")
        )
    }
}

fn value(f: &Facts<'_>, name: &str) -> String {
    match name {
        "pet" => f.pet.to_string(),
        "owner" => f.owner.to_string(),
        "vet" => f.vet.to_string(),
        "clinic" => f.clinic.to_string(),
        "type" => f.type_name.to_lowercase(),
        "date" => local_date(f.tz, f.start),
        "time" => local_time(f.tz, f.start),
        "when" => when(f),
        "zone" => zone_abbreviation(f.tz, f.start),
        "previous_date" => f
            .previous_start
            .map(|p| local_date(f.tz, p))
            .unwrap_or_default(),
        "previous_time" => f
            .previous_start
            .map(|p| local_time(f.tz, p))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn fill(raw: &str, f: &Facts<'_>) -> String {
    // A stored template was checked when saved; one that no longer parses
    // renders as written rather than not at all.
    let Ok(parts) = pieces("template", raw) else {
        return raw.to_string();
    };
    let mut out = String::with_capacity(raw.len() + 64);
    for p in parts {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Brace(c) => out.push(c),
            Piece::Field(name) => out.push_str(&value(f, name)),
        }
    }
    out
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML version of a plain-text message: escaped, one paragraph per blank-line-separated block.
pub fn html_of(subject: &str, text: &str) -> String {
    let mut body = String::new();
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let lines: Vec<String> = para.lines().map(escape_html).collect();
        let _ = writeln!(body, "<p>{}</p>", lines.join("<br>\n"));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.4\">\n{body}</body></html>\n",
        escape_html(subject)
    )
}

/// Fill a template with the facts of one appointment.
pub fn render(t: &Template, f: &Facts<'_>) -> Rendered {
    let subject = t.subject.as_deref().map(|s| fill(s, f));
    let text = fill(&t.body, f);
    let html = (t.channel == MessageChannel::Email)
        .then(|| html_of(subject.as_deref().unwrap_or(""), &text));
    Rendered {
        subject,
        text,
        html,
    }
}

// ---------- iCalendar ----------

/// What an `.ics` attachment says.
#[derive(Debug, Clone, Copy)]
pub struct CalendarEvent<'a> {
    /// Stable across versions, so a calendar updates the entry instead of adding one.
    pub uid: &'a str,
    /// The appointment's version: later versions replace earlier ones.
    pub sequence: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub tz: Tz,
    pub summary: &'a str,
    pub location: &'a str,
    pub description: &'a str,
    pub cancelled: bool,
    pub stamp: DateTime<Utc>,
}

fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Fold a content line at 75 octets (RFC 5545 §3.1), never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn offset_str(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    format!("{sign}{:02}{:02}", a / 3600, (a % 3600) / 60)
}

/// The zone's observances over the calendar year `year` (and the one it starts
/// in), as `VTIMEZONE` lines: every offset change found in that year, each at
/// the local wall time it happened.
fn vtimezone(tz: Tz, year: i32, lines: &mut Vec<String>) {
    let offset_at = |t: DateTime<Utc>| {
        let o = tz.offset_from_utc_datetime(&t.naive_utc());
        (
            o.fix().local_minus_utc(),
            o.dst_offset() != Duration::zero(),
            o.abbreviation().map(str::to_string),
        )
    };
    let Some(from) = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single() else {
        return;
    };
    let Some(to) = Utc.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0).single() else {
        return;
    };
    lines.push(format!("TZID:{}", tz.name()));
    let observance = |lines: &mut Vec<String>,
                      at_local: NaiveDateTime,
                      before: i32,
                      after: (i32, bool, Option<String>)| {
        let part = if after.1 { "DAYLIGHT" } else { "STANDARD" };
        lines.push(format!("BEGIN:{part}"));
        lines.push(format!("DTSTART:{}", stamp(at_local)));
        lines.push(format!("TZOFFSETFROM:{}", offset_str(before)));
        lines.push(format!("TZOFFSETTO:{}", offset_str(after.0)));
        if let Some(name) = after.2 {
            lines.push(format!("TZNAME:{name}"));
        }
        lines.push(format!("END:{part}"));
    };
    // The rules in force when the year begins.
    let first = offset_at(from);
    observance(
        lines,
        from.naive_utc() + Duration::seconds(i64::from(first.0)),
        first.0,
        first.clone(),
    );
    // Walk the year a day at a time; narrow each change down to the second.
    let mut t = from;
    let mut cur = first;
    while t < to {
        let next = t + Duration::days(1);
        let probe = offset_at(next);
        if probe.0 != cur.0 || probe.1 != cur.1 {
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + Duration::seconds((hi - lo).num_seconds() / 2);
                if offset_at(mid).0 == cur.0 && offset_at(mid).1 == cur.1 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let after = offset_at(hi);
            observance(
                lines,
                hi.naive_utc() + Duration::seconds(i64::from(cur.0)),
                cur.0,
                after.clone(),
            );
            cur = after;
        }
        t = next;
    }
}

/// An RFC 5545 calendar with one event at the clinic's local time (`TZID`),
/// `METHOD:REQUEST` for a booking or a move, `METHOD:CANCEL` for a cancellation.
pub fn ics(e: &CalendarEvent<'_>) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//vetdesk//vetdesk//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        format!("METHOD:{}", if e.cancelled { "CANCEL" } else { "REQUEST" }),
        "BEGIN:VTIMEZONE".into(),
    ];
    vtimezone(e.tz, to_local(e.tz, e.start).year(), &mut lines);
    lines.push("END:VTIMEZONE".into());
    lines.extend([
        "BEGIN:VEVENT".into(),
        format!("UID:{}", e.uid),
        format!("SEQUENCE:{}", e.sequence),
        format!("DTSTAMP:{}Z", stamp(e.stamp.naive_utc())),
        format!(
            "DTSTART;TZID={}:{}",
            e.tz.name(),
            stamp(to_local(e.tz, e.start))
        ),
        format!(
            "DTEND;TZID={}:{}",
            e.tz.name(),
            stamp(to_local(e.tz, e.end))
        ),
        format!("SUMMARY:{}", ics_text(e.summary)),
        format!("LOCATION:{}", ics_text(e.location)),
        format!("DESCRIPTION:{}", ics_text(e.description)),
        format!(
            "STATUS:{}",
            if e.cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            }
        ),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ]);
    let mut out = String::new();
    for l in lines {
        fold(&l, &mut out);
    }
    out
}
