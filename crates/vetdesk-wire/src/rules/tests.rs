//! The patterns against the parsers they describe: every sample a parser
//! accepts matches its rule's pattern, and every sample the pattern refuses
//! the parser refuses too (so a value outside the document is never taken).

use super::*;
use regex::Regex;

fn pattern_of(schema: RefOr<Schema>) -> Regex {
    let RefOr::T(Schema::Object(o)) = schema else {
        panic!("a rule is an inline object schema")
    };
    let p = o.pattern.expect("the rule has a pattern");
    Regex::new(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Each sample: the parser's verdict must agree with the pattern's
/// wherever the parser accepts or the pattern refuses.
fn agrees<S: PartialSchema>(parse: impl Fn(&str) -> bool, samples: &[&str]) {
    let re = pattern_of(S::schema());
    let mut accepted = 0;
    for s in samples {
        let parsed = parse(s);
        let matched = re.is_match(s);
        assert!(
            !parsed || matched,
            "{s:?} is accepted by the API but refused by the pattern {re}"
        );
        assert!(
            matched || !parsed,
            "{s:?} is refused by the pattern {re} but accepted by the API"
        );
        accepted += usize::from(parsed);
    }
    assert!(
        accepted > 0,
        "no sample is accepted: the samples test nothing"
    );
    assert!(
        accepted < samples.len(),
        "no sample is refused: the samples test nothing"
    );
}

#[test]
fn times_match_what_the_core_reads() {
    let samples = [
        "2027-03-01T09:30",
        "2027-03-01 09:30",
        "2027-03-01T09:30:15",
        " 2027-03-01T09:30 ",
        "2027-03-01T09:30:00Z",
        "2027-03-01T09:30:00.250+01:00",
        "2027-03-01T09:30Z",
        "2027-03-01t09:30-05:00",
        "2027-03-01",
        "09:30",
        "2027-03-01T09",
        "tomorrow",
        "",
    ];
    agrees::<LocalOrInstant>(|s| core::TimeInput::parse(s).is_ok(), &samples);
    let instant = |s: &str| matches!(core::TimeInput::parse(s), Ok(core::TimeInput::Instant(_)));
    agrees::<Instant>(instant, &samples);
}

#[test]
fn spans_and_span_lists_match_what_the_core_reads() {
    let spans = [
        "09:00-12:00",
        " 08:15 - 19:45 ",
        "00:00-24:00",
        "9:00-12:00",
        "09:00",
        "morning",
        "",
        "09:00-12:00,13:00-17:00",
    ];
    agrees::<LocalSpan>(|s| s.parse::<core::LocalSpan>().is_ok(), &spans);
    agrees::<LocalSpanList>(|s| core::LocalSpan::parse_list(s).is_ok(), &spans);
    agrees::<QuietHours>(
        |s| {
            let t = s.trim();
            t.is_empty() || t.eq_ignore_ascii_case("none") || t.parse::<core::QuietHours>().is_ok()
        },
        &[
            "20:00-08:00",
            "NONE",
            "",
            "none",
            "20:00",
            "22:00-07:30 ",
            "late",
        ],
    );
}

#[test]
fn contact_details_match_what_the_core_reads() {
    let emails = [
        "sam@example.com",
        " Sam.Jones+vet@mail.example.org ",
        "",
        "   ",
        "sam",
        "sam@example",
        "sam@@example.com",
        "sam jones@example.com",
        "sam@example..com",
        "@example.com",
    ];
    // Empty is "none": the application drops it before the core sees it.
    let email = |s: &str| s.trim().is_empty() || core::Email::parse(s).is_ok();
    agrees::<EmailAddress>(email, &emails);
    let phones = [
        "+447700900123",
        "+1 (212) 555-0100",
        "0161.496.0000",
        "",
        "123456",
        "1234567890123456",
        "+44 7700 900123 ext 2",
        "44+7700900123",
    ];
    let phone = |s: &str| s.trim().is_empty() || core::Phone::parse(s).is_ok();
    agrees::<PhoneNumber>(phone, &phones);
    agrees::<Colour>(
        |s| core::Colour::parse(s).is_ok(),
        &[
            "#1f77b4",
            "#FFAA00",
            " #abcdef ",
            "1f77b4",
            "#abc",
            "#ggg000",
        ],
    );
    agrees::<Username>(
        |s| core::Username::parse(s).is_ok(),
        &[
            "desk",
            "Vet.One",
            "a_b-c",
            "ab",
            "-desk",
            "sam jones",
            &"a".repeat(33),
            &"a".repeat(32),
        ],
    );
}

#[test]
fn zones_choices_and_lists_match_what_the_core_reads() {
    agrees::<TimeZone>(
        |s| core::parse_time_zone(s).is_ok(),
        &[
            "Europe/London",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
            "EST5EDT",
            "America/Port-au-Prince",
            "Europe London",
            "/London",
            "",
        ],
    );
    agrees::<MessageStatusList>(
        |s| {
            s.split(',')
                .all(|one| one.trim().parse::<core::MessageStatus>().is_ok())
        },
        &[
            "failed",
            "sent,failed",
            "Pending, SKIPPED",
            "voided",
            "",
            "failed,",
            "lost",
        ],
    );
    agrees::<ReminderOffsets>(
        |s| core::NotificationSettings::parse_offsets(s).is_ok(),
        &["24h,2h", "90m", "2d", "none", "", "60", "soon", "24h,,2h"],
    );
    agrees::<HeadsUp>(
        |s| {
            let t = s.trim();
            t.is_empty()
                || t.eq_ignore_ascii_case("none")
                || core::NotificationSettings::parse_offsets(s).is_ok_and(|m| m.len() == 1)
        },
        &["10", "1h", "None", "", "soon", "10,20"],
    );
}

fn enum_of(schema: RefOr<Schema>) -> Vec<String> {
    let RefOr::T(Schema::Object(o)) = schema else {
        panic!("a rule is an inline object schema")
    };
    o.enum_values
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

#[test]
fn every_listed_choice_is_one_the_core_takes() {
    let days = enum_of(Weekday::schema());
    assert_eq!(days.len(), 14);
    for d in &days {
        assert!(core::parse_weekday(d).is_ok(), "{d}");
    }
    let channels = enum_of(ContactChannel::schema());
    for c in &channels {
        assert!(c.is_empty() || core::Channel::parse(c).is_ok(), "{c}");
    }
    assert!(
        channels.contains(&String::new()),
        "empty means no preference"
    );
}

#[test]
fn the_numbers_are_the_core_s_own() {
    let object = |s: RefOr<Schema>| match s {
        RefOr::T(Schema::Object(o)) => o,
        _ => panic!("inline object"),
    };
    let text = |n: utoipa::Number| match n {
        utoipa::Number::Int(i) => i.to_string(),
        utoipa::Number::UInt(u) => u.to_string(),
        utoipa::Number::Float(f) => f.to_string(),
    };
    let range = |s| {
        let o = object(s);
        (o.minimum.map(text), o.maximum.map(text))
    };
    let num = |n: i64| Some(n.to_string());
    assert_eq!(
        range(AppointmentMinutes::schema()),
        (
            num(core::APPOINTMENT_MIN_MINUTES),
            num(core::APPOINTMENT_MAX_MINUTES)
        )
    );
    // The edges are what the core accepts, one past them what it refuses.
    assert!(core::appointment_minutes(core::APPOINTMENT_MAX_MINUTES).is_ok());
    assert!(core::appointment_minutes(core::APPOINTMENT_MAX_MINUTES + 1).is_err());
    assert!(core::appointment_minutes(core::APPOINTMENT_MIN_MINUTES - 1).is_err());
    assert!(core::buffer_minutes("b", core::BUFFER_MAX_MINUTES + 1).is_err());
    assert!(core::validate_grid(core::GRID_MAX_MINUTES).is_ok());
    assert!(core::validate_grid(core::GRID_MIN_MINUTES - 1).is_err());
    let name = object(Name::schema());
    assert_eq!(name.max_length, Some(core::NAME_MAX));
    assert!(core::Name::parse("n", &"x".repeat(core::NAME_MAX)).is_ok());
    assert!(core::Name::parse("n", &"x".repeat(core::NAME_MAX + 1)).is_err());
    assert!(core::optional_text("t", Some(&"x".repeat(core::TEXT_MAX + 1))).is_err());
    let password = object(Password::schema());
    assert_eq!(password.min_length, Some(core::Password::MIN));
    assert!(core::Password::parse(&"x".repeat(core::Password::MIN - 1)).is_err());
}
