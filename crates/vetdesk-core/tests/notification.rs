//! Notification planning, the send-time check, templates and the `.ics`, as
//! pure functions: no store, no clock, no network.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use uuid::Uuid;
use vetdesk_core::message::{ics, render};
use vetdesk_core::notification::{
    backoff, idempotency_key, owner_channel, plan, readiness, Event, PlanInput, SendCheck,
};
use vetdesk_core::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

const LONDON: Tz = chrono_tz::Europe::London;
const NEW_YORK: Tz = chrono_tz::America::New_York;

fn client(email: bool, phone: bool, preferred: Option<Channel>) -> Client {
    Client {
        id: ClientId(Uuid::from_u128(7)),
        name: Name::parse("name", "Olivia Smith").expect("name"),
        email: email.then(|| Email::parse("olivia@example.com").expect("email")),
        phone: phone.then(|| Phone::parse("+447700900123").expect("phone")),
        preferences: ContactPreferences {
            preferred,
            email_opt_out: false,
            sms_opt_out: false,
        },
        home_clinic_id: None,
        meta: Meta::new(utc("2027-01-01T00:00:00Z")),
    }
}

fn appointment(start: &str, version: i64, status: Status) -> Appointment {
    let start = utc(start);
    let now = utc("2027-01-01T00:00:00Z");
    Appointment {
        id: AppointmentId(Uuid::from_u128(0xA11CE)),
        clinic_id: ClinicId(Uuid::from_u128(1)),
        vet_id: VetId(Uuid::from_u128(2)),
        pet_id: PetId(Uuid::from_u128(3)),
        client_id: ClientId(Uuid::from_u128(7)),
        type_id: AppointmentTypeId(Uuid::from_u128(4)),
        slot: Interval::new(start, start + Duration::minutes(30)).expect("slot"),
        buffer_before_min: 0,
        buffer_after_min: 0,
        status,
        reason: None,
        notes: None,
        cancel_reason: None,
        created_by: Actor::new("t"),
        updated_by: Actor::new("t"),
        meta: Meta {
            version,
            created_at: now,
            updated_at: now,
        },
    }
}

fn plan_for(
    event: Event,
    a: &Appointment,
    c: &Client,
    settings: &NotificationSettings,
    pending: &[PendingMessage],
    now: &str,
) -> Plan {
    plan(&PlanInput {
        event,
        appointment: a,
        client: c,
        tz: LONDON,
        settings,
        pending,
        now: utc(now),
    })
}

fn summary(p: &Plan) -> Vec<(MessageKind, MessageChannel, Option<u32>, String, bool)> {
    p.add
        .iter()
        .map(|m| {
            (
                m.kind,
                m.channel,
                m.offset_min,
                m.due_at.to_rfc3339(),
                m.skipped.is_some(),
            )
        })
        .collect()
}

#[test]
fn booking_plans_a_confirmation_two_reminders_and_a_heads_up() {
    let a = appointment("2027-03-10T10:00:00Z", 1, Status::Scheduled);
    let p = plan_for(
        Event::Booked,
        &a,
        &client(true, true, None),
        &NotificationSettings::default(),
        &[],
        "2027-03-01T09:00:00Z",
    );
    assert!(p.void.is_empty());
    assert_eq!(
        summary(&p),
        vec![
            (
                MessageKind::Confirmation,
                MessageChannel::Email,
                None,
                "2027-03-01T09:00:00+00:00".into(),
                false
            ),
            (
                MessageKind::Reminder,
                MessageChannel::Email,
                Some(1440),
                "2027-03-09T10:00:00+00:00".into(),
                false
            ),
            (
                MessageKind::Reminder,
                MessageChannel::Email,
                Some(120),
                "2027-03-10T08:00:00+00:00".into(),
                false
            ),
            (
                MessageKind::StartingSoon,
                MessageChannel::Desktop,
                None,
                "2027-03-10T09:55:00+00:00".into(),
                false
            ),
        ]
    );
    let keys: Vec<&str> = p.add.iter().map(|m| m.key.as_str()).collect();
    let id = a.id.0.simple().to_string();
    assert_eq!(
        keys,
        vec![
            format!("{id}.confirmation.email.v1"),
            format!("{id}.reminder-1d.email.v1"),
            format!("{id}.reminder-2h.email.v1"),
            format!("{id}.starting-soon.desktop.v1"),
        ]
    );
    // The 24 h reminder may go late until 12 h before; a notice until the start.
    // A deferred SMS keeps its grace from when it may go: see quiet_hours_defer_sms_but_not_email.
    assert_eq!(p.add[1].expires_at, utc("2027-03-09T22:00:00Z"));
    assert_eq!(p.add[0].expires_at, a.slot.start());
}

#[test]
fn a_reminder_whose_moment_has_passed_is_planned_as_skipped_with_why() {
    let a = appointment("2027-03-01T12:00:00Z", 1, Status::Scheduled);
    let p = plan_for(
        Event::Booked,
        &a,
        &client(true, false, None),
        &NotificationSettings::default(),
        &[],
        "2027-03-01T09:00:00Z",
    );
    let kinds: Vec<_> = p
        .add
        .iter()
        .map(|m| (m.kind, m.offset_min, m.skipped.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (MessageKind::Confirmation, None, None),
            (
                MessageKind::Reminder,
                Some(1440),
                Some("its moment (2027-02-28 12:00 UTC) had passed when the appointment was booked (2027-03-01 09:00 UTC)")
            ),
            (MessageKind::Reminder, Some(120), None),
            (MessageKind::StartingSoon, None, None),
        ]
    );
    // A reschedule to 31 minutes ahead: both reminders skipped, saying it moved.
    let moved = appointment("2027-03-01T09:31:00Z", 2, Status::Scheduled);
    let p = plan_for(
        Event::Rescheduled { previous: a.slot },
        &moved,
        &client(true, true, Some(Channel::Sms)),
        &NotificationSettings::default(),
        &[],
        "2027-03-01T09:00:00Z",
    );
    let reminders: Vec<_> = p
        .add
        .iter()
        .filter(|m| m.kind == MessageKind::Reminder)
        .map(|m| (m.offset_min, m.channel, m.due_at, m.skipped.clone()))
        .collect();
    assert_eq!(
        reminders,
        vec![
            (
                Some(1440),
                MessageChannel::Sms,
                utc("2027-02-28T09:31:00Z"),
                Some("its moment (2027-02-28 09:31 UTC) had passed when the appointment was moved (2027-03-01 09:00 UTC)".into())
            ),
            (
                Some(120),
                MessageChannel::Sms,
                utc("2027-03-01T07:31:00Z"),
                Some("its moment (2027-03-01 07:31 UTC) had passed when the appointment was moved (2027-03-01 09:00 UTC)".into())
            ),
        ]
    );
}

#[test]
fn the_channel_follows_the_owners_preferences() {
    let mut c = client(true, true, Some(Channel::Sms));
    assert_eq!(owner_channel(&c), Ok(MessageChannel::Sms));
    c.preferences.sms_opt_out = true;
    assert_eq!(owner_channel(&c), Ok(MessageChannel::Email));
    c.preferences.email_opt_out = true;
    assert_eq!(
        owner_channel(&c),
        Err("no way to reach the owner: opted out of SMS, opted out of email".into())
    );
    let nothing = client(false, false, None);
    assert_eq!(
        owner_channel(&nothing),
        Err("no way to reach the owner: no email address, no phone number".into())
    );
    // Unreachable owners' messages are planned as skipped, with the reason.
    let a = appointment("2027-03-10T10:00:00Z", 1, Status::Scheduled);
    let p = plan_for(
        Event::Booked,
        &a,
        &nothing,
        &NotificationSettings::default(),
        &[],
        "2027-03-01T09:00:00Z",
    );
    let owner: Vec<_> = p.add.iter().filter(|m| m.kind.to_owner()).collect();
    assert_eq!(owner.len(), 3);
    assert!(owner.iter().all(|m| m.skipped.as_deref()
        == Some("no way to reach the owner: no email address, no phone number")));
}

#[test]
fn quiet_hours_defer_sms_but_not_email() {
    // 09:00 London (GMT in March): the 2 h reminder would be 07:00, inside 20:00-08:00.
    let a = appointment("2027-03-10T09:00:00Z", 1, Status::Scheduled);
    let settings = NotificationSettings::default();
    let sms = plan_for(
        Event::Booked,
        &a,
        &client(true, true, Some(Channel::Sms)),
        &settings,
        &[],
        "2027-03-01T21:30:00Z",
    );
    assert_eq!(
        summary(&sms)[..3],
        [
            (
                MessageKind::Confirmation,
                MessageChannel::Sms,
                None,
                "2027-03-02T08:00:00+00:00".into(),
                false
            ),
            (
                MessageKind::Reminder,
                MessageChannel::Sms,
                Some(1440),
                "2027-03-09T09:00:00+00:00".into(),
                false
            ),
            (
                MessageKind::Reminder,
                MessageChannel::Sms,
                Some(120),
                "2027-03-10T08:00:00+00:00".into(),
                false
            ),
        ]
    );
    assert_eq!(sms.add[2].expires_at, utc("2027-03-10T09:00:00Z"));
    let email = plan_for(
        Event::Booked,
        &a,
        &client(true, true, Some(Channel::Email)),
        &settings,
        &[],
        "2027-03-01T21:30:00Z",
    );
    assert_eq!(email.add[0].due_at, utc("2027-03-01T21:30:00Z"));
    assert_eq!(email.add[2].due_at, utc("2027-03-10T07:00:00Z"));
}

#[test]
fn an_sms_reminder_that_quiet_hours_would_make_too_late_is_skipped() {
    // 07:30: the 2 h reminder (05:30) could only go at 08:00, after the start.
    let a = appointment("2027-03-10T07:30:00Z", 1, Status::Scheduled);
    let p = plan_for(
        Event::Booked,
        &a,
        &client(false, true, Some(Channel::Sms)),
        &NotificationSettings::default(),
        &[],
        "2027-03-01T12:00:00Z",
    );
    let two_h = p
        .add
        .iter()
        .find(|m| m.offset_min == Some(120))
        .expect("planned");
    assert!(two_h
        .skipped
        .as_deref()
        .is_some_and(|s| s.contains("quiet hours")));
}

#[test]
fn quiet_hours_end_at_local_time_across_midnight_and_dst() {
    let q: QuietHours = "20:00-08:00".parse().expect("quiet hours");
    // 23:00 London on Saturday 27 March 2027; the clocks go forward that night.
    let t = utc("2027-03-27T23:00:00Z");
    assert!(q.contains(LONDON, t));
    assert_eq!(q.defer(LONDON, t), utc("2027-03-28T07:00:00Z")); // 08:00 BST
                                                                 // 07:59 New York is quiet; 08:00 is not.
    let ny = NEW_YORK
        .with_ymd_and_hms(2027, 11, 7, 7, 59, 0)
        .single()
        .expect("time")
        .with_timezone(&Utc);
    assert_eq!(q.defer(NEW_YORK, ny), ny + Duration::minutes(1));
    assert_eq!(
        q.defer(NEW_YORK, ny + Duration::minutes(1)),
        ny + Duration::minutes(1)
    );
    // A daytime window works too.
    let lunch: QuietHours = "12:00-13:00".parse().expect("span");
    assert!(!lunch.contains(LONDON, utc("2027-01-05T11:59:00Z")));
    assert_eq!(
        lunch.defer(LONDON, utc("2027-01-05T12:10:00Z")),
        utc("2027-01-05T13:00:00Z")
    );
    for bad in ["20:00", "25:00-08:00", "08:00-08:00", "x-y"] {
        assert!(bad.parse::<QuietHours>().is_err(), "{bad}");
    }
}

fn pending(kinds: &[MessageKind]) -> Vec<PendingMessage> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, k)| PendingMessage {
            id: OutboxId(Uuid::from_u128(100 + i as u128)),
            kind: *k,
        })
        .collect()
}

#[test]
fn a_reschedule_voids_what_is_pending_and_plans_one_notice_and_new_reminders() {
    let before = pending(&[
        MessageKind::Confirmation,
        MessageKind::Reminder,
        MessageKind::Reminder,
        MessageKind::StartingSoon,
    ]);
    let moved = appointment("2027-03-12T15:00:00Z", 2, Status::Scheduled);
    let previous =
        Interval::new(utc("2027-03-10T10:00:00Z"), utc("2027-03-10T10:30:00Z")).expect("slot");
    let p = plan_for(
        Event::Rescheduled { previous },
        &moved,
        &client(true, false, None),
        &NotificationSettings::default(),
        &before,
        "2027-03-02T09:00:00Z",
    );
    assert_eq!(p.void, before.iter().map(|m| m.id).collect::<Vec<_>>());
    let notices: Vec<_> = p
        .add
        .iter()
        .filter(|m| m.kind == MessageKind::Reschedule)
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].previous_start, Some(previous.start()));
    assert!(notices[0].key.ends_with(".reschedule.email.v2"));
    let reminders: Vec<_> = p
        .add
        .iter()
        .filter(|m| m.kind == MessageKind::Reminder)
        .map(|m| m.due_at)
        .collect();
    assert_eq!(
        reminders,
        vec![utc("2027-03-11T15:00:00Z"), utc("2027-03-12T13:00:00Z")]
    );
}

#[test]
fn a_cancel_voids_everything_pending_and_a_no_show_adds_nothing() {
    let before = pending(&[
        MessageKind::Confirmation,
        MessageKind::Reminder,
        MessageKind::StartingSoon,
        MessageKind::Cancellation,
    ]);
    let a = appointment("2027-03-10T10:00:00Z", 3, Status::Cancelled);
    let c = client(true, false, None);
    let s = NotificationSettings::default();
    let cancel = plan_for(
        Event::Stepped(Action::Cancel),
        &a,
        &c,
        &s,
        &before,
        "2027-03-02T09:00:00Z",
    );
    assert_eq!(
        cancel.void,
        before[..3].iter().map(|m| m.id).collect::<Vec<_>>()
    );
    assert_eq!(
        summary(&cancel),
        vec![(
            MessageKind::Cancellation,
            MessageChannel::Email,
            None,
            "2027-03-02T09:00:00+00:00".into(),
            false
        )]
    );
    let no_show = plan_for(
        Event::Stepped(Action::NoShow),
        &appointment("2027-03-10T10:00:00Z", 3, Status::NoShow),
        &c,
        &s,
        &before,
        "2027-03-10T10:20:00Z",
    );
    assert_eq!(no_show.void.len(), 3);
    assert!(no_show.add.is_empty());
    // Cancelling an appointment whose time has passed tells nobody.
    let late = plan_for(
        Event::Stepped(Action::Cancel),
        &a,
        &c,
        &s,
        &[],
        "2027-03-10T11:00:00Z",
    );
    assert!(late.add.is_empty());
}

#[test]
fn confirm_changes_nothing_and_check_in_tells_the_vet() {
    let before = pending(&[MessageKind::Reminder, MessageKind::StartingSoon]);
    let s = NotificationSettings::default();
    let c = client(true, false, None);
    let confirm = plan_for(
        Event::Stepped(Action::Confirm),
        &appointment("2027-03-10T10:00:00Z", 2, Status::Confirmed),
        &c,
        &s,
        &before,
        "2027-03-02T09:00:00Z",
    );
    assert_eq!(confirm, Plan::default());
    let check_in = plan_for(
        Event::Stepped(Action::CheckIn),
        &appointment("2027-03-10T10:00:00Z", 3, Status::CheckedIn),
        &c,
        &s,
        &before,
        "2027-03-10T09:50:00Z",
    );
    assert_eq!(check_in.void, vec![before[0].id]);
    assert_eq!(
        summary(&check_in),
        vec![(
            MessageKind::CheckedIn,
            MessageChannel::Desktop,
            None,
            "2027-03-10T09:50:00+00:00".into(),
            false
        )]
    );
}

fn check(kind: MessageKind, channel: MessageChannel, start: &str, expires: &str) -> SendCheck {
    SendCheck {
        kind,
        channel,
        planned_start: utc(start),
        expires_at: utc(expires),
    }
}

#[test]
fn at_send_time_late_moved_cancelled_and_quiet_messages_do_not_go() {
    let a = appointment("2027-03-10T10:00:00Z", 1, Status::Scheduled);
    let q = NotificationSettings::default().quiet_hours;
    let day_before = check(
        MessageKind::Reminder,
        MessageChannel::Email,
        "2027-03-10T10:00:00Z",
        "2027-03-09T22:00:00Z",
    );
    assert_eq!(
        readiness(&day_before, &a, LONDON, q, utc("2027-03-09T10:00:05Z")),
        Readiness::Send
    );
    // After downtime: the 24 h reminder when the appointment is an hour away.
    assert!(matches!(
        readiness(&day_before, &a, LONDON, q, utc("2027-03-10T09:00:00Z")),
        Readiness::Skip(r) if r.starts_with("too late")
    ));
    let moved = check(
        MessageKind::Reminder,
        MessageChannel::Email,
        "2027-03-11T10:00:00Z",
        "2027-03-10T22:00:00Z",
    );
    assert_eq!(
        readiness(&moved, &a, LONDON, q, utc("2027-03-09T10:00:00Z")),
        Readiness::Skip("the appointment has moved".into())
    );
    let cancelled = appointment("2027-03-10T10:00:00Z", 2, Status::Cancelled);
    assert_eq!(
        readiness(
            &day_before,
            &cancelled,
            LONDON,
            q,
            utc("2027-03-09T10:00:00Z")
        ),
        Readiness::Skip("the appointment is now cancelled".into())
    );
    let notice = check(
        MessageKind::Cancellation,
        MessageChannel::Email,
        "2027-03-10T10:00:00Z",
        "2027-03-10T10:00:00Z",
    );
    assert_eq!(
        readiness(&notice, &cancelled, LONDON, q, utc("2027-03-09T10:00:00Z")),
        Readiness::Send
    );
    let sms = check(
        MessageKind::Confirmation,
        MessageChannel::Sms,
        "2027-03-10T10:00:00Z",
        "2027-03-10T10:00:00Z",
    );
    assert_eq!(
        readiness(&sms, &a, LONDON, q, utc("2027-03-09T22:00:00Z")),
        Readiness::Defer(utc("2027-03-10T08:00:00Z"))
    );
}

#[test]
fn retries_back_off_exponentially_with_jitter_and_a_cap() {
    let base = Duration::seconds(30);
    let cap = Duration::hours(1);
    assert_eq!(backoff(base, cap, 1, 0.0), Duration::seconds(30));
    assert_eq!(backoff(base, cap, 2, 0.0), Duration::seconds(60));
    assert_eq!(backoff(base, cap, 4, 0.0), Duration::seconds(240));
    assert_eq!(backoff(base, cap, 30, 0.0), cap);
    assert_eq!(
        backoff(base, cap, 1, 0.9999),
        Duration::milliseconds(37_499)
    );
}

#[test]
fn settings_are_checked() {
    assert_eq!(
        NotificationSettings::parse_offsets("24h, 2h,90m,1d").expect("offsets"),
        vec![1440, 120, 90, 1440]
    );
    assert!(NotificationSettings::new(vec![1440, 1440], None, None).is_err());
    assert!(NotificationSettings::new(vec![0], None, None).is_err());
    assert!(NotificationSettings::new(vec![1, 2, 3, 4, 5], None, None).is_err());
    assert!(NotificationSettings::new(vec![], None, Some(0)).is_err());
    assert!(NotificationSettings::parse_offsets("soon").is_err());
    let s = NotificationSettings::new(vec![120, 2880], None, Some(10)).expect("valid");
    assert_eq!(s.reminder_offsets_min, vec![2880, 120]);
    assert_eq!(
        idempotency_key(
            AppointmentId(Uuid::nil()),
            MessageKind::Reminder,
            Some(2880),
            MessageChannel::Sms,
            4
        ),
        "00000000000000000000000000000000.reminder-2d.sms.v4"
    );
}

#[test]
fn templates_refuse_unknown_placeholders_and_bad_shapes() {
    use MessageChannel::*;
    use MessageKind::*;
    let err = |k, c, s: Option<&str>, b: &str| {
        Template::new(k, c, s, b).expect_err("refused").to_string()
    };
    assert!(err(Reminder, Email, Some("Hi"), "See you {tomorow}").contains("{tomorow}"));
    assert!(err(Reminder, Email, Some("Hi"), "{previous_date}").contains("{previous_date}"));
    assert!(Template::new(Reschedule, Email, Some("Moved"), "from {previous_date}").is_ok());
    assert!(err(Reminder, Sms, Some("Hi"), "body").contains("no subject"));
    assert!(err(Reminder, Email, None, "body").contains("subject"));
    assert!(err(Reminder, Email, Some("Hi"), "{pet").contains("never closed"));
    assert!(err(Reminder, Email, Some("Hi"), "pet}").contains("without"));
    assert!(err(CheckedIn, Email, Some("Hi"), "body").contains("never goes by email"));
    assert!(err(Reminder, Sms, None, &"x".repeat(481)).contains("too long"));
    assert!(err(Reminder, Email, Some("a\nb"), "body").contains("one line"));
    // Every built-in template passes its own checks.
    for kind in MessageKind::ALL {
        for &channel in kind.channels() {
            let t = Template::default_for(kind, channel);
            Template::new(kind, channel, t.subject.as_deref(), &t.body)
                .unwrap_or_else(|e| panic!("{kind}/{channel}: {e}"));
        }
    }
}

fn facts(tz: Tz, start: DateTime<Utc>, now: DateTime<Utc>) -> Facts<'static> {
    Facts {
        pet: "Biscuit <3",
        owner: "Olivia Smith",
        vet: "Dr Cara",
        clinic: "Hudson New York",
        type_name: "Consultation",
        start,
        previous_start: Some(start - Duration::days(1)),
        tz,
        now,
    }
}

#[test]
fn templates_render_in_the_clinics_zone() {
    let start = utc("2027-03-10T15:00:00Z"); // 10:00 in New York (EST)
    let t = Template::new(
        MessageKind::Reminder,
        MessageChannel::Email,
        Some("{pet} {when}"),
        "Dear {owner},\n\n{pet}'s {type} with {vet} is {when} ({date}, {time} {zone}).\n\n{{braces}}",
    )
    .expect("valid");
    let r = render(&t, &facts(NEW_YORK, start, utc("2027-03-09T15:00:00Z")));
    assert_eq!(r.subject.as_deref(), Some("Biscuit <3 tomorrow at 10:00"));
    assert_eq!(
        r.text,
        "Dear Olivia Smith,\n\nBiscuit <3's consultation with Dr Cara is tomorrow at 10:00 (Wednesday 10 March 2027, 10:00 EST).\n\n{braces}"
    );
    let html = r.html.expect("email has HTML");
    assert!(html.contains("<p>Biscuit &lt;3&#39;s consultation"));
    assert!(html.contains("<title>Biscuit &lt;3 tomorrow at 10:00</title>"));
    let same_day = render(&t, &facts(NEW_YORK, start, utc("2027-03-10T12:00:00Z")));
    assert_eq!(
        same_day.subject.as_deref(),
        Some("Biscuit <3 today at 10:00")
    );
    let sms = render(
        &Template::default_for(MessageKind::Reschedule, MessageChannel::Sms),
        &facts(LONDON, start, start),
    );
    assert_eq!(sms.html, None);
    assert_eq!(
        sms.text,
        "Hudson New York: Biscuit <3's consultation has moved from Tuesday 9 March 2027 15:00 to Wednesday 10 March 2027 at 15:00, with Dr Cara."
    );
}

/// Unfold an iCalendar text into `(name;params, value)` lines.
fn ics_lines(text: &str) -> Vec<(String, String)> {
    assert!(text.ends_with("\r\n"));
    let unfolded = text.replace("\r\n ", "");
    unfolded
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(':').expect("name:value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn the_calendar_entry_is_rfc_5545_with_the_clinics_zone() {
    let start = utc("2027-07-01T13:30:00Z"); // 14:30 BST
    let summary = "Consultation for Biscuit, with Dr Alice; a long summary that has to be folded over more than one line";
    let text = ics(&CalendarEvent {
        uid: "abc@vetdesk",
        sequence: 3,
        start,
        end: start + Duration::minutes(30),
        tz: LONDON,
        summary,
        location: "Riverside London",
        description: "line one\nline two",
        cancelled: false,
        stamp: utc("2027-06-01T09:00:00Z"),
    });
    assert!(text.split("\r\n").all(|l| l.len() <= 75), "{text}");
    let lines = ics_lines(&text);
    let get = |k: &str| {
        lines
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} missing in {text}"))
    };
    assert_eq!(get("METHOD"), "REQUEST");
    assert_eq!(get("TZID"), "Europe/London");
    assert_eq!(get("DTSTART;TZID=Europe/London"), "20270701T143000");
    assert_eq!(get("DTEND;TZID=Europe/London"), "20270701T150000");
    assert_eq!(get("UID"), "abc@vetdesk");
    assert_eq!(get("SEQUENCE"), "3");
    assert_eq!(get("DTSTAMP"), "20270601T090000Z");
    assert_eq!(
        get("SUMMARY"),
        summary.replace(',', "\\,").replace(';', "\\;")
    );
    assert_eq!(get("DESCRIPTION"), "line one\\nline two");
    // The zone's 2027 rules: GMT from the new year, BST from 28 March 01:00 GMT, GMT from 31 October.
    let observances: Vec<_> = lines
        .iter()
        .filter(|(n, _)| n == "DTSTART" || n == "TZOFFSETTO" || n == "TZNAME")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        observances,
        vec![
            "20270101T000000",
            "+0000",
            "GMT",
            "20270328T010000",
            "+0100",
            "BST",
            "20271031T020000",
            "+0000",
            "GMT",
        ]
    );
    let cancel = ics(&CalendarEvent {
        cancelled: true,
        tz: chrono_tz::Asia::Tokyo,
        ..CalendarEvent {
            uid: "x",
            sequence: 4,
            start,
            end: start + Duration::minutes(30),
            tz: LONDON,
            summary: "s",
            location: "l",
            description: "d",
            cancelled: false,
            stamp: start,
        }
    });
    let lines = ics_lines(&cancel);
    assert!(lines.contains(&("METHOD".into(), "CANCEL".into())));
    assert!(lines.contains(&("STATUS".into(), "CANCELLED".into())));
    assert!(lines.contains(&("DTSTART;TZID=Asia/Tokyo".into(), "20270701T223000".into())));
}

proptest! {
    /// Whatever the times, a planned message is due before it expires, no
    /// reminder is due after the start, and an SMS is never due in quiet hours.
    #[test]
    fn planned_messages_are_due_in_time_and_never_in_quiet_hours(
        start_min in 0i64..(60 * 24 * 20),
        now_min in 0i64..(60 * 24 * 20),
        sms in any::<bool>(),
        offsets in prop::collection::btree_set(1u32..(60 * 48), 0..4),
    ) {
        let base = utc("2027-03-20T00:00:00Z");
        let start = base + Duration::minutes(start_min);
        let a = Appointment {
            slot: Interval::new(start, start + Duration::minutes(30)).expect("slot"),
            ..appointment("2027-03-20T00:00:00Z", 1, Status::Scheduled)
        };
        let settings = NotificationSettings::new(
            offsets.into_iter().collect(),
            Some("20:00-08:00".parse().expect("quiet")),
            Some(5),
        ).expect("settings");
        let c = client(true, true, Some(if sms { Channel::Sms } else { Channel::Email }));
        let now = base + Duration::minutes(now_min);
        let p = plan(&PlanInput {
            event: Event::Booked,
            appointment: &a,
            client: &c,
            tz: LONDON,
            settings: &settings,
            pending: &[],
            now,
        });
        for m in p.add.iter().filter(|m| m.skipped.is_none()) {
            prop_assert!(m.due_at >= now, "{m:?}");
            prop_assert!(m.due_at < m.expires_at, "{m:?}");
            if m.kind == MessageKind::Reminder {
                prop_assert!(m.due_at < start, "{m:?}");
            }
            if m.channel == MessageChannel::Sms {
                prop_assert!(!settings.quiet_hours.expect("set").contains(LONDON, m.due_at), "{m:?}");
            }
        }
        let mut keys: Vec<_> = p.add.iter().map(|m| &m.key).collect();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), p.add.len());
    }
}
