//! Parse, don't validate: each constructor is the only way into its value and
//! says exactly what was wrong.

use chrono::{DateTime, NaiveDate, Utc};
use vetdesk_core::{
    appointment_minutes, buffer_minutes, parse_date, parse_naive_datetime, parse_time,
    parse_time_zone, validate_grid, view_range, Colour, DateRange, Email, Interval, LocalSpan,
    Name, Phone, TimeInput, ValidationError, VetId, View,
};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("bad instant {s}: {e}"))
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap_or_else(|e| panic!("bad date {s}: {e}"))
}

/// Run `parse` on each input and compare with the expected result, naming the input on failure.
fn check<T: std::fmt::Debug + PartialEq>(
    what: &str,
    parse: impl Fn(&str) -> Result<T, ValidationError>,
    cases: &[(&str, Result<T, ValidationError>)],
) {
    for (raw, want) in cases {
        assert_eq!(&parse(raw), want, "{what} {raw:?}");
    }
}

#[test]
fn names() {
    let long: String = "é".repeat(200);
    let too_long: String = "x".repeat(201);
    let parse = |raw: &str| Name::parse("pet name", raw).map(|n| n.as_str().to_string());
    check(
        "name",
        parse,
        &[
            ("Biscuit", Ok("Biscuit".into())),
            ("  Mr. Whiskers \t", Ok("Mr. Whiskers".into())),
            (&long, Ok(long.clone())),
            ("", Err(ValidationError::Empty { field: "pet name" })),
            ("   \n ", Err(ValidationError::Empty { field: "pet name" })),
            (
                &too_long,
                Err(ValidationError::TooLong {
                    field: "pet name",
                    len: 201,
                    max: 200,
                }),
            ),
        ],
    );
    assert_eq!(
        Name::parse("pet name", "").unwrap_err().to_string(),
        "pet name must not be empty"
    );
}

#[test]
fn emails() {
    let bad = |s: &str| Err(ValidationError::Email(s.to_string()));
    let parse = |raw: &str| Email::parse(raw).map(|e| e.as_str().to_string());
    check(
        "email",
        parse,
        &[
            ("owner@example.com", Ok("owner@example.com".into())),
            (
                " Owner.Name+tag@Example.CO.UK ",
                Ok("owner.name+tag@example.co.uk".into()),
            ),
            ("", bad("")),
            ("no-at-sign.com", bad("no-at-sign.com")),
            ("@example.com", bad("@example.com")),
            ("owner@", bad("owner@")),
            ("owner@localhost", bad("owner@localhost")),
            ("owner@example..com", bad("owner@example..com")),
            ("owner@.com", bad("owner@.com")),
            ("owner@example.com.", bad("owner@example.com.")),
            ("own er@example.com", bad("own er@example.com")),
            ("a@b@example.com", bad("a@b@example.com")),
        ],
    );
}

#[test]
fn phones() {
    let bad = |s: &str| Err(ValidationError::Phone(s.to_string()));
    let parse = |raw: &str| Phone::parse(raw).map(|p| p.as_str().to_string());
    check(
        "phone",
        parse,
        &[
            ("+44 20 7946 0958", Ok("+442079460958".into())),
            ("(555) 123-4567", Ok("5551234567".into())),
            ("020.7946.0958", Ok("02079460958".into())),
            ("1234567", Ok("1234567".into())),
            ("+123456789012345", Ok("+123456789012345".into())),
            ("123456", bad("123456")),
            ("+1234567890123456", bad("+1234567890123456")),
            ("555-CALL-NOW", bad("555-CALL-NOW")),
            ("44+2079460958", bad("44+2079460958")),
            ("++442079460958", bad("++442079460958")),
            ("", bad("")),
        ],
    );
}

#[test]
fn colours() {
    let bad = |s: &str| Err(ValidationError::Colour(s.to_string()));
    let parse = |raw: &str| Colour::parse(raw).map(|c| c.as_str().to_string());
    check(
        "colour",
        parse,
        &[
            ("#A1B2C3", Ok("#a1b2c3".into())),
            (" #00ff7f ", Ok("#00ff7f".into())),
            ("A1B2C3", bad("A1B2C3")),
            ("#A1B2C", bad("#A1B2C")),
            ("#A1B2C3D", bad("#A1B2C3D")),
            ("#GGGGGG", bad("#GGGGGG")),
            ("red", bad("red")),
            ("", bad("")),
        ],
    );
}

#[test]
fn time_zones() {
    check(
        "zone",
        parse_time_zone,
        &[
            ("Europe/London", Ok(chrono_tz::Europe::London)),
            (" America/New_York ", Ok(chrono_tz::America::New_York)),
            ("Asia/Kolkata", Ok(chrono_tz::Asia::Kolkata)),
            ("UTC", Ok(chrono_tz::UTC)),
            (
                "Mars/Olympus_Mons",
                Err(ValidationError::TimeZone("Mars/Olympus_Mons".into())),
            ),
            ("GMT+25", Err(ValidationError::TimeZone("GMT+25".into()))),
            ("", Err(ValidationError::TimeZone(String::new()))),
        ],
    );
}

#[test]
fn local_spans() {
    let bad = |s: &str| Err(ValidationError::LocalSpan(s.to_string()));
    let parse = |raw: &str| {
        raw.parse::<LocalSpan>()
            .map(|s| (s.start_min(), s.end_min()))
    };
    check(
        "span",
        parse,
        &[
            ("09:00-17:00", Ok((540, 1020))),
            ("00:00-24:00", Ok((0, 1440))),
            ("22:30-24:00", Ok((1350, 1440))),
            (" 09:00 - 12:30 ", Ok((540, 750))),
            ("9:00-17:00", Ok((540, 1020))),
            ("23:55-24:00", Ok((1435, 1440))),
            ("17:00-09:00", bad("17:00-09:00")),
            ("09:00-09:00", bad("09:00-09:00")),
            ("25:00-26:00", bad("25:00-26:00")),
            ("09:00-25:00", bad("09:00-25:00")),
            ("9:60-10:00", bad("9:60-10:00")),
            ("09:00-24:01", bad("09:00-24:01")),
            ("24:00-24:00", bad("24:00-24:00")),
            ("09:00", bad("09:00")),
            ("0900-1700", bad("0900-1700")),
            ("-", bad("-")),
            ("", bad("")),
        ],
    );
    assert_eq!(
        "9:00-17:00".parse::<LocalSpan>().unwrap().to_string(),
        "09:00-17:00"
    );
    assert_eq!(
        "00:00-24:00".parse::<LocalSpan>().unwrap().to_string(),
        "00:00-24:00"
    );
    assert!(LocalSpan::new(600, 600).is_err());
    assert!(LocalSpan::new(600, 599).is_err());
    assert!(LocalSpan::new(0, 1441).is_err());
    assert_eq!(
        LocalSpan::new(0, 1440).map(|s| s.to_string()),
        Ok("00:00-24:00".to_string())
    );
}

#[test]
fn local_span_lists() {
    let list = LocalSpan::parse_list("09:00-12:00, 13:00-17:00").unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(LocalSpan::format_list(&list), "09:00-12:00,13:00-17:00");
    assert_eq!(LocalSpan::parse_list(""), Ok(vec![]));
    assert_eq!(LocalSpan::parse_list(" , "), Ok(vec![]));
    assert_eq!(
        LocalSpan::parse_list("09:00-12:00,12:00-11:00"),
        Err(ValidationError::LocalSpan("12:00-11:00".into()))
    );
}

#[test]
fn intervals_refuse_an_end_at_or_before_the_start() {
    let t = utc("2027-01-11T10:00:00Z");
    let later = utc("2027-01-11T10:30:00Z");
    assert!(Interval::new(t, later).is_ok());
    assert_eq!(
        Interval::new(t, t),
        Err(ValidationError::EndNotAfterStart {
            start: "2027-01-11T10:00:00+00:00".into(),
            end: "2027-01-11T10:00:00+00:00".into(),
        })
    );
    assert_eq!(
        Interval::new(later, t),
        Err(ValidationError::EndNotAfterStart {
            start: "2027-01-11T10:30:00+00:00".into(),
            end: "2027-01-11T10:00:00+00:00".into(),
        })
    );
    assert_eq!(Interval::try_new(t, t), None);
    assert_eq!(Interval::try_new(later, t), None);
}

#[test]
fn intervals_are_half_open() {
    let iv = |a: &str, b: &str| Interval::new(utc(a), utc(b)).unwrap();
    let x = iv("2027-01-11T10:00:00Z", "2027-01-11T11:00:00Z");
    // (other, overlaps, x contains other)
    let cases = [
        (
            iv("2027-01-11T11:00:00Z", "2027-01-11T12:00:00Z"),
            false,
            false,
        ),
        (
            iv("2027-01-11T09:00:00Z", "2027-01-11T10:00:00Z"),
            false,
            false,
        ),
        (
            iv("2027-01-11T10:59:00Z", "2027-01-11T12:00:00Z"),
            true,
            false,
        ),
        (
            iv("2027-01-11T09:00:00Z", "2027-01-11T10:01:00Z"),
            true,
            false,
        ),
        (
            iv("2027-01-11T10:00:00Z", "2027-01-11T11:00:00Z"),
            true,
            true,
        ),
        (
            iv("2027-01-11T10:15:00Z", "2027-01-11T10:45:00Z"),
            true,
            true,
        ),
        (
            iv("2027-01-11T09:00:00Z", "2027-01-11T12:00:00Z"),
            true,
            false,
        ),
    ];
    for (other, overlaps, contains) in cases {
        assert_eq!(x.overlaps(&other), overlaps, "{x} overlaps {other}");
        assert_eq!(other.overlaps(&x), overlaps, "{other} overlaps {x}");
        assert_eq!(x.contains(&other), contains, "{x} contains {other}");
        assert_eq!(x.intersection(&other).is_some(), overlaps, "{x} ∩ {other}");
    }
    assert!(x.contains_instant(utc("2027-01-11T10:00:00Z")));
    assert!(!x.contains_instant(utc("2027-01-11T11:00:00Z")));
    assert_eq!(x.duration(), chrono::Duration::hours(1));
    assert_eq!(
        x.widen(chrono::Duration::minutes(10), chrono::Duration::minutes(5)),
        iv("2027-01-11T09:50:00Z", "2027-01-11T11:05:00Z")
    );
    assert_eq!(
        x.intersection(&iv("2027-01-11T10:30:00Z", "2027-01-11T12:00:00Z")),
        Some(iv("2027-01-11T10:30:00Z", "2027-01-11T11:00:00Z"))
    );
}

#[test]
fn date_ranges() {
    assert_eq!(
        DateRange::new(date("2027-06-10"), date("2027-06-09"), 31),
        Err(ValidationError::DateRange {
            from: date("2027-06-10"),
            to: date("2027-06-09"),
        })
    );
    let one = DateRange::new(date("2027-06-10"), date("2027-06-10"), 1).unwrap();
    assert_eq!(one.len_days(), 1);
    assert_eq!(one.days().collect::<Vec<_>>(), vec![date("2027-06-10")]);
    let month = DateRange::new(date("2027-01-01"), date("2027-01-31"), 31).unwrap();
    assert_eq!(month.len_days(), 31);
    assert_eq!(month.days().count(), 31);
    assert_eq!(month.days().last(), Some(date("2027-01-31")));
    assert_eq!(
        DateRange::new(date("2027-01-01"), date("2027-02-01"), 31),
        Err(ValidationError::RangeTooLarge { days: 32, max: 31 })
    );
    assert_eq!(
        DateRange::new(date("2027-01-01"), date("2027-01-02"), 1),
        Err(ValidationError::RangeTooLarge { days: 2, max: 1 })
    );
    assert_eq!(
        DateRange::new(date("2027-01-01"), date("2027-12-31"), 365).map(|r| r.len_days()),
        Ok(365)
    );
    assert_eq!(
        DateRange::new(date("2027-01-01"), date("2027-12-31"), 100)
            .unwrap_err()
            .to_string(),
        "the date range spans 365 days; at most 100 are allowed"
    );
}

#[test]
fn grids() {
    let other = |g: i64| {
        Err(ValidationError::Other(format!(
            "a grid of {g} minutes does not divide the day evenly (use 5, 10, 15, 20, 30, 60 ...)"
        )))
    };
    let minutes = |g: i64| {
        Err(ValidationError::Minutes {
            field: "grid",
            min: 5,
            max: 240,
            got: g,
        })
    };
    let cases: [(i64, Result<u32, ValidationError>); 12] = [
        (5, Ok(5)),
        (10, Ok(10)),
        (15, Ok(15)),
        (30, Ok(30)),
        (60, Ok(60)),
        (90, Ok(90)),
        (240, Ok(240)),
        (7, other(7)),
        (25, other(25)),
        (4, minutes(4)),
        (0, minutes(0)),
        (241, minutes(241)),
    ];
    for (g, want) in cases {
        assert_eq!(validate_grid(g), want, "grid {g}");
    }
}

#[test]
fn appointment_and_buffer_minutes() {
    let duration = |got: i64| {
        Err(ValidationError::Minutes {
            field: "duration",
            min: 5,
            max: 720,
            got,
        })
    };
    let cases: [(i64, Result<u32, ValidationError>); 7] = [
        (0, duration(0)),
        (-5, duration(-5)),
        (4, duration(4)),
        (721, duration(721)),
        (5, Ok(5)),
        (30, Ok(30)),
        (720, Ok(720)),
    ];
    for (m, want) in cases {
        assert_eq!(appointment_minutes(m), want, "duration {m}");
    }
    assert_eq!(
        appointment_minutes(721).unwrap_err().to_string(),
        "duration must be between 5 and 720 minutes, got 721"
    );
    let buffer = |got: i64| {
        Err(ValidationError::Minutes {
            field: "buffer_after",
            min: 0,
            max: 120,
            got,
        })
    };
    let cases: [(i64, Result<u32, ValidationError>); 4] = [
        (-1, buffer(-1)),
        (0, Ok(0)),
        (120, Ok(120)),
        (121, buffer(121)),
    ];
    for (m, want) in cases {
        assert_eq!(buffer_minutes("buffer_after", m), want, "buffer {m}");
    }
}

#[test]
fn view_ranges() {
    // (view, date, first, last)
    let cases = [
        (View::Day, "2027-06-09", "2027-06-09", "2027-06-09"),
        (View::Day, "2028-02-29", "2028-02-29", "2028-02-29"),
        // Wednesday -> Monday..Sunday.
        (View::Week, "2027-06-09", "2027-06-07", "2027-06-13"),
        (View::Week, "2027-06-07", "2027-06-07", "2027-06-13"),
        (View::Week, "2027-06-13", "2027-06-07", "2027-06-13"),
        // Across the new year (Friday 31 Dec 2027).
        (View::Week, "2027-12-31", "2027-12-27", "2028-01-02"),
        // Across a leap day.
        (View::Week, "2028-02-29", "2028-02-28", "2028-03-05"),
        (View::Month, "2027-06-09", "2027-06-01", "2027-06-30"),
        (View::Month, "2027-12-15", "2027-12-01", "2027-12-31"),
        (View::Month, "2027-12-31", "2027-12-01", "2027-12-31"),
        (View::Month, "2028-01-01", "2028-01-01", "2028-01-31"),
        (View::Month, "2027-02-14", "2027-02-01", "2027-02-28"),
        (View::Month, "2028-02-10", "2028-02-01", "2028-02-29"),
        (View::Month, "2028-02-29", "2028-02-01", "2028-02-29"),
    ];
    for (view, d, first, last) in cases {
        let r = view_range(view, date(d));
        assert_eq!(
            (r.first, r.last),
            (date(first), date(last)),
            "{view:?} of {d}"
        );
    }
    assert_eq!(view_range(View::Month, date("2028-02-10")).len_days(), 29);
    assert_eq!(view_range(View::Week, date("2027-12-31")).len_days(), 7);
}

#[test]
fn view_names() {
    assert_eq!("day".parse::<View>(), Ok(View::Day));
    assert_eq!(" Week ".parse::<View>(), Ok(View::Week));
    assert_eq!("MONTH".parse::<View>(), Ok(View::Month));
    assert_eq!(
        "year".parse::<View>(),
        Err(ValidationError::Choice {
            field: "view",
            value: "year".into(),
            expected: "day, week, month",
        })
    );
}

#[test]
fn dates_times_and_ids() {
    assert_eq!(parse_date(" 2028-02-29 "), Ok(date("2028-02-29")));
    assert_eq!(
        parse_date("2027-02-29"),
        Err(ValidationError::Date("2027-02-29".into()))
    );
    assert_eq!(
        parse_time("09:30").map(|t| t.to_string()),
        Ok("09:30:00".to_string())
    );
    assert_eq!(
        parse_time("24:00"),
        Err(ValidationError::Time("24:00".into()))
    );
    assert!(parse_naive_datetime("2027-03-28T01:30").is_ok());
    assert!(parse_naive_datetime("2027-03-28 01:30:15").is_ok());
    assert_eq!(
        parse_naive_datetime("28/03/2027 01:30"),
        Err(ValidationError::DateTime("28/03/2027 01:30".into()))
    );
    // A local wall time resolves in the clinic's zone, by the DST rules.
    let london = chrono_tz::Europe::London;
    assert_eq!(
        TimeInput::parse("2027-03-28T01:30")
            .unwrap()
            .resolve(london),
        utc("2027-03-28T01:00:00Z")
    );
    assert_eq!(
        TimeInput::parse("2027-07-01T09:00:00+02:00")
            .unwrap()
            .resolve(london),
        utc("2027-07-01T07:00:00Z")
    );
    assert!(matches!(
        "not-a-uuid".parse::<VetId>(),
        Err(ValidationError::MalformedId { kind: "VetId", .. })
    ));
    let id = "0190a5c4-8f3e-7c2a-9b1d-2e4f6a8c0b1d";
    assert_eq!(
        id.parse::<VetId>().map(|v| v.to_string()),
        Ok(id.to_string())
    );
}
