//! Notifications, end to end on both stores: what each appointment change
//! writes to the outbox, and what the worker then sends to a real SMTP server
//! and a real SMS gateway on loopback (vetdesk-test-peers), on the test clock.

mod common;

use chrono::Duration;
use common::*;
use mail_parser::MimeHeaders;
use std::collections::HashSet;
use std::sync::Arc;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_notify::*;
use vetdesk_store::OutboxRecord;
use vetdesk_test_peers::{Behaviour, Received, SmsGateway, SmtpSink};

const FROM: &str = "Riverside Vets <desk@vetdesk.test>";

struct Peers {
    smtp: SmtpSink,
    sms: SmsGateway,
}

async fn peers() -> Peers {
    Peers {
        smtp: SmtpSink::start(None).await,
        sms: SmsGateway::start("AC0123", "gateway-token").await,
    }
}

fn channels(p: &Peers, timeout_ms: u64) -> Channels {
    let timeout = std::time::Duration::from_millis(timeout_ms);
    let email = EmailChannel::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: p.smtp.port(),
        security: Security::Plain,
        username: None,
        password: None,
        from: FROM.into(),
        timeout,
        reuse_connection: true,
        ca_file: None,
    })
    .expect("email channel");
    let sms = SmsChannel::new(SmsConfig {
        base_url: p.sms.base_url(),
        account: "AC0123".into(),
        token: "gateway-token".to_string().into(),
        from: "+15550001111".into(),
        timeout,
    })
    .expect("sms channel");
    Channels {
        email: Some(Arc::new(email)),
        sms: Some(Arc::new(sms)),
        desktop: None,
    }
}

fn config() -> WorkerConfig {
    WorkerConfig {
        name: "story".into(),
        batch: 50,
        lease: std::time::Duration::from_secs(60),
        max_attempts: 3,
        retry_base: std::time::Duration::from_secs(60),
        retry_cap: std::time::Duration::from_secs(3600),
        idle_poll: std::time::Duration::from_secs(1),
        send_timeout: std::time::Duration::from_secs(2),
        email_rate: Rate::UNLIMITED,
        sms_rate: Rate::UNLIMITED,
        keep_recipients: None,
    }
}

fn worker(t: &TestApp, p: &Peers) -> Worker {
    Worker::new(t.app.clone(), channels(p, 2000), config()).expect("worker")
}

async fn messages(t: &TestApp, appointment: AppointmentId) -> Vec<OutboxRecord> {
    let mut items = t
        .app
        .outbox(OutboxQuery {
            appointment: Some(appointment),
            limit: 500,
            ..OutboxQuery::default()
        })
        .await
        .expect("outbox")
        .items;
    items.sort_by_key(|m| (m.due_at, m.key.clone()));
    items
}

fn brief(ms: &[OutboxRecord]) -> Vec<(String, String, MessageStatus, String)> {
    ms.iter()
        .map(|m| {
            let kind = match m.offset_min {
                Some(o) => format!("{}-{o}", m.kind),
                None => m.kind.to_string(),
            };
            (kind, m.channel.to_string(), m.status, m.due_at.to_rfc3339())
        })
        .collect()
}

fn row(
    kind: &str,
    channel: &str,
    status: MessageStatus,
    due: &str,
) -> (String, String, MessageStatus, String) {
    (kind.into(), channel.into(), status, utc(due).to_rfc3339())
}

fn parsed(r: &Received) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(r.data.as_bytes())
        .expect("a parseable message")
}

/// The `.ics` attachment's lines, unfolded, as `(name;params, value)`.
fn calendar(r: &Received) -> Vec<(String, String)> {
    let m = parsed(r);
    let part = m
        .attachments()
        .find(|a| a.attachment_name() == Some("appointment.ics"))
        .expect("an appointment.ics attachment");
    let ct = part.content_type().expect("content type");
    assert_eq!(ct.ctype(), "text");
    assert_eq!(ct.subtype(), Some("calendar"));
    let text = String::from_utf8(part.contents().to_vec()).expect("utf-8");
    text.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(':').expect("name:value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn ics_value(lines: &[(String, String)], name: &str) -> String {
    lines
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{name} missing: {lines:?}"))
}

story!(
    async fn booking_plans_messages_and_the_worker_sends_the_confirmation_and_reminders(t) {
        let p = peers().await;
        let a = t.book(&t.alice_vet, "2027-03-03T10:00", &t.consult).await.expect("booked");
        let id = a.view.appointment.id;
        use MessageStatus::Pending;
        assert_eq!(
            brief(&messages(&t, id).await),
            vec![
                row("confirmation", "email", Pending, "2027-03-01T08:00:00Z"),
                row("reminder-1440", "email", Pending, "2027-03-02T10:00:00Z"),
                row("reminder-120", "email", Pending, "2027-03-03T08:00:00Z"),
                row("starting_soon", "desktop", Pending, "2027-03-03T09:55:00Z"),
            ]
        );
        let mut w = worker(&t, &p);
        let r = w.drain().await.expect("step");
        assert_eq!((r.claimed, r.sent), (1, 1), "only the confirmation is due");
        let got = p.smtp.received();
        assert_eq!(got.len(), 1);
        let mail = &got[0];
        let key = format!("{}.confirmation.email.v1", id.0.simple());
        assert_eq!(mail.mail_from, "desk@vetdesk.test");
        assert_eq!(mail.rcpt_to, vec!["olivia@example.com".to_string()]);
        assert_eq!(mail.message_id(), Some(format!("<{key}@vetdesk.test>")));
        assert_eq!(
            mail.header("Subject").as_deref(),
            Some("Biscuit's appointment at Riverside London: Wednesday 3 March 2027 at 10:00")
        );
        assert_eq!(mail.header("From").as_deref(), Some("\"Riverside Vets\" <desk@vetdesk.test>"));
        assert_eq!(mail.header("To").as_deref(), Some("\"Olivia Smith\" <olivia@example.com>"));
        assert!(mail.header("Date").is_some());
        let m = parsed(mail);
        let text = m.body_text(0).expect("a text body").into_owned();
        assert!(
            text.starts_with("Dear Olivia Smith,\r\n\r\nBiscuit's consultation with Dr Alice at Riverside London is booked for Wednesday 3 March 2027 at 10:00."),
            "{text}"
        );
        let html = m.body_html(0).expect("an HTML body").into_owned();
        assert!(html.contains("<p>Biscuit&#39;s consultation with Dr Alice"), "{html}");
        let ics = calendar(mail);
        assert_eq!(ics_value(&ics, "METHOD"), "REQUEST");
        assert_eq!(ics_value(&ics, "TZID"), "Europe/London");
        assert_eq!(ics_value(&ics, "DTSTART;TZID=Europe/London"), "20270303T100000");
        assert_eq!(ics_value(&ics, "DTEND;TZID=Europe/London"), "20270303T103000");
        assert_eq!(ics_value(&ics, "UID"), format!("{}@vetdesk", id.0));
        assert_eq!(ics_value(&ics, "SEQUENCE"), "1");
        let sent = &messages(&t, id).await[0];
        assert_eq!(sent.status, MessageStatus::Sent);
        assert_eq!(sent.sent_to.as_deref(), Some("olivia@example.com"));
        assert_eq!(sent.attempts, 1);

        // A day before: the 24 h reminder, and nothing else; running again sends nothing more.
        t.clock.set(utc("2027-03-02T10:00:30Z"));
        assert_eq!(w.drain().await.expect("step").sent, 1);
        assert_eq!(w.drain().await.expect("step").claimed, 0);
        let got = p.smtp.received();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1].header("Subject").as_deref(),
            Some("Reminder: Biscuit's appointment tomorrow at 10:00")
        );
        assert!(calendar_free(&got[1]), "reminders carry no calendar entry");
        // Two hours before.
        t.clock.set(utc("2027-03-03T08:01:00Z"));
        assert_eq!(w.drain().await.expect("step").sent, 1);
        assert_eq!(
            p.smtp.received()[2].header("Subject").as_deref(),
            Some("Reminder: Biscuit's appointment today at 10:00")
        );
        // One connection carried all three.
        assert_eq!(p.smtp.connections(), 1);
    }
);

fn calendar_free(r: &Received) -> bool {
    parsed(r).attachments().next().is_none()
}

story!(
    async fn a_cancel_after_reminders_were_planned_sends_nothing_but_the_notice(t) {
        let p = peers().await;
        let a = t.book(&t.alice_vet, "2027-03-03T10:00", &t.consult).await.expect("booked");
        let id = a.view.appointment.id;
        let mut w = worker(&t, &p);
        w.drain().await.expect("step");
        t.clock.set(utc("2027-03-01T12:00:00Z"));
        t.app.cancel(id, None, Some("Owner called".into())).await.expect("cancelled");
        let ms = messages(&t, id).await;
        use MessageStatus::*;
        assert_eq!(
            brief(&ms),
            vec![
                row("confirmation", "email", Sent, "2027-03-01T08:00:00Z"),
                row("cancellation", "email", Pending, "2027-03-01T12:00:00Z"),
                row("reminder-1440", "email", Voided, "2027-03-02T10:00:00Z"),
                row("reminder-120", "email", Voided, "2027-03-03T08:00:00Z"),
                row("starting_soon", "desktop", Voided, "2027-03-03T09:55:00Z"),
            ]
        );
        assert_eq!(ms[2].last_error.as_deref(), Some("the appointment was cancelled"));
        // Through every moment a reminder would have gone.
        for at in ["2027-03-01T12:00:00Z", "2027-03-02T10:00:00Z", "2027-03-03T08:00:00Z", "2027-03-03T10:00:00Z"] {
            t.clock.set(utc(at));
            w.drain().await.expect("step");
        }
        let got = p.smtp.received();
        assert_eq!(got.len(), 2, "the confirmation and the cancellation, nothing else");
        assert_eq!(
            got[1].header("Subject").as_deref(),
            Some("Biscuit's appointment on Wednesday 3 March 2027 is cancelled")
        );
        let ics = calendar(&got[1]);
        assert_eq!(ics_value(&ics, "METHOD"), "CANCEL");
        assert_eq!(ics_value(&ics, "STATUS"), "CANCELLED");
        assert_eq!(ics_value(&ics, "SEQUENCE"), "2");
    }
);

story!(
    async fn a_reschedule_sends_one_notice_and_moves_the_reminders(t) {
        let p = peers().await;
        let a = t.book(&t.alice_vet, "2027-03-03T10:00", &t.consult).await.expect("booked");
        let id = a.view.appointment.id;
        let mut w = worker(&t, &p);
        w.drain().await.expect("step");
        let move_to = |start: &str| RescheduleRequest {
            start: local(start),
            duration_min: None,
            vet_id: None,
            note: None,
        };
        // Moved twice before the worker looks again: only the last move is announced.
        t.app.reschedule(id, None, move_to("2027-03-04T11:00")).await.expect("moved");
        t.app.reschedule(id, None, move_to("2027-03-04T14:00")).await.expect("moved");
        let ms = messages(&t, id).await;
        let pending: Vec<_> = ms.iter().filter(|m| m.status == MessageStatus::Pending).collect();
        assert_eq!(
            brief(&pending.into_iter().cloned().collect::<Vec<_>>()),
            vec![
                row("reschedule", "email", MessageStatus::Pending, "2027-03-01T08:00:00Z"),
                row("reminder-1440", "email", MessageStatus::Pending, "2027-03-03T14:00:00Z"),
                row("reminder-120", "email", MessageStatus::Pending, "2027-03-04T12:00:00Z"),
                row("starting_soon", "desktop", MessageStatus::Pending, "2027-03-04T13:55:00Z"),
            ]
        );
        let voided = ms.iter().filter(|m| m.status == MessageStatus::Voided).count();
        assert_eq!(voided, 3 + 4, "the first plan's reminders and heads-up, then the whole second plan");
        assert_eq!(w.drain().await.expect("step").sent, 1);
        let got = p.smtp.received();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1].header("Subject").as_deref(),
            Some("Biscuit's appointment has moved to Thursday 4 March 2027 at 14:00")
        );
        let text = parsed(&got[1]).body_text(0).expect("text").into_owned();
        assert!(text.contains("has moved from Thursday 4 March 2027 at 11:00 to Thursday 4 March 2027 at 14:00"), "{text}");
        let ics = calendar(&got[1]);
        assert_eq!(ics_value(&ics, "DTSTART;TZID=Europe/London"), "20270304T140000");
        assert_eq!(ics_value(&ics, "SEQUENCE"), "3");
        // The old reminder times pass quietly; the new ones go.
        t.clock.set(utc("2027-03-02T10:00:00Z"));
        assert_eq!(w.drain().await.expect("step").claimed, 0);
        t.clock.set(utc("2027-03-03T14:00:00Z"));
        assert_eq!(w.drain().await.expect("step").sent, 1);
        assert_eq!(p.smtp.count(), 3);
    }
);

story!(
    async fn check_in_and_no_show_void_what_is_left(t) {
        let a = t.book(&t.alice_vet, "2027-03-01T13:00", &t.consult).await.expect("booked");
        let b = t.book(&t.ben_vet, "2027-03-01T14:00", &t.consult).await.expect("booked");
        t.clock.set(utc("2027-03-01T11:30:00Z"));
        t.app.check_in(a.view.appointment.id, None).await.expect("checked in");
        let ms = messages(&t, a.view.appointment.id).await;
        use MessageStatus::*;
        assert_eq!(
            brief(&ms),
            vec![
                // Booked five hours ahead: the 24 h reminder's moment had passed.
                row("reminder-1440", "email", Skipped, "2027-02-28T13:00:00Z"),
                row("confirmation", "email", Pending, "2027-03-01T08:00:00Z"),
                row("reminder-120", "email", Voided, "2027-03-01T11:00:00Z"),
                row("checked_in", "desktop", Pending, "2027-03-01T11:30:00Z"),
                row("starting_soon", "desktop", Pending, "2027-03-01T12:55:00Z"),
            ]
        );
        t.clock.set(utc("2027-03-01T14:20:00Z"));
        t.app.no_show(b.view.appointment.id, None).await.expect("no-show");
        let ms = messages(&t, b.view.appointment.id).await;
        assert_eq!(ms[0].status, Skipped, "its 24 h reminder: {:?}", brief(&ms));
        assert!(ms.iter().skip(2).all(|m| m.status == Voided), "{:?}", brief(&ms));
        assert_eq!(ms[2].last_error.as_deref(), Some("the appointment was marked a no-show"));
        // Confirming changes no plan.
        let c = t.book(&t.ben_vet, "2027-03-05T10:00", &t.consult).await.expect("booked");
        let before = brief(&messages(&t, c.view.appointment.id).await);
        t.app.confirm(c.view.appointment.id, None).await.expect("confirmed");
        assert_eq!(brief(&messages(&t, c.view.appointment.id).await), before);
    }
);

story!(
    async fn quiet_hours_defer_sms_to_the_morning(t) {
        let p = peers().await;
        // Noah has only a phone: his messages go by SMS.
        t.clock.set(utc("2027-03-01T21:00:00Z"));
        let mut req = t.book_request(&t.ben_vet, &t.london, "2027-03-03T09:00", &t.consult);
        req.pet_id = t.other_pet.id;
        let a = t.app.book(req).await.expect("booked");
        let id = a.view.appointment.id;
        use MessageStatus::Pending;
        assert_eq!(
            brief(&messages(&t, id).await)[..3],
            [
                row("confirmation", "sms", Pending, "2027-03-02T08:00:00Z"),
                row("reminder-1440", "sms", Pending, "2027-03-02T09:00:00Z"),
                row("reminder-120", "sms", Pending, "2027-03-03T08:00:00Z"),
            ]
        );
        let mut w = worker(&t, &p);
        assert_eq!(w.drain().await.expect("step").claimed, 0, "nothing at 21:00");
        t.clock.set(utc("2027-03-02T08:00:00Z"));
        assert_eq!(w.drain().await.expect("step").sent, 1);
        let reqs = p.sms.accepted();
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(r.account, "AC0123");
        assert_eq!(r.form.get("To").map(String::as_str), Some("+12125550100"));
        assert_eq!(r.form.get("From").map(String::as_str), Some("+15550001111"));
        assert_eq!(
            r.form.get("Body").map(String::as_str),
            Some("Riverside London: Whiskers's consultation with Dr Ben is booked for Wednesday 3 March 2027 at 09:00. Please tell us if you cannot come.")
        );
        assert_eq!(r.authorization.as_deref(), Some("Basic QUMwMTIzOmdhdGV3YXktdG9rZW4="));
        assert_eq!(r.idempotency_key, Some(format!("{}.confirmation.sms.v1", id.0.simple())));
        let sent = &messages(&t, id).await[0];
        assert_eq!(sent.provider_id.as_deref(), Some("SM00000000000000000000000000000001"));
        assert_eq!(p.smtp.count(), 0);
    }
);

story!(
    async fn owners_who_cannot_be_reached_are_skipped_with_the_reason(t) {
        let p = peers().await;
        let owner = t
            .app
            .create_client(ClientInput {
                name: "Quiet Person".into(),
                email: Some("quiet@example.com".into()),
                email_opt_out: true,
                sms_opt_out: true,
                ..ClientInput::default()
            })
            .await
            .expect("client");
        let pet = t
            .app
            .create_pet(PetInput {
                owner: Some(owner.id),
                name: "Mouse".into(),
                species: "cat".into(),
                breed: None,
                date_of_birth: None,
            })
            .await
            .expect("pet");
        let mut req = t.book_request(&t.ben_vet, &t.london, "2027-03-03T11:00", &t.consult);
        req.pet_id = pet.id;
        let a = t.app.book(req).await.expect("booked");
        let ms = messages(&t, a.view.appointment.id).await;
        let owner_msgs: Vec<_> = ms.iter().filter(|m| m.kind.to_owner()).collect();
        assert_eq!(owner_msgs.len(), 3);
        for m in owner_msgs {
            assert_eq!(m.status, MessageStatus::Skipped);
            assert_eq!(
                m.last_error.as_deref(),
                Some("no way to reach the owner: opted out of email, opted out of SMS")
            );
        }
        // Olivia opts out of email after her booking was planned: checked again when sending.
        let b = t.book(&t.alice_vet, "2027-03-03T10:00", &t.consult).await.expect("booked");
        t.app
            .update_client(
                t.owner.id,
                None,
                ClientInput {
                    name: "Olivia Smith".into(),
                    email: Some("olivia@example.com".into()),
                    phone: Some("+44 7700 900123".into()),
                    email_opt_out: true,
                    ..ClientInput::default()
                },
            )
            .await
            .expect("updated");
        let r = worker(&t, &p).drain().await.expect("step");
        assert_eq!((r.sent, r.skipped), (0, 1));
        let first = &messages(&t, b.view.appointment.id).await[0];
        assert_eq!(first.status, MessageStatus::Skipped);
        assert_eq!(first.last_error.as_deref(), Some("the owner opted out of email"));
        assert_eq!(p.smtp.count(), 0);
    }
);

story!(
    async fn templates_render_in_the_clinics_zone_and_only_an_admin_edits_them(t) {
        let p = peers().await;
        let a = t
            .app
            .book(t.book_request(&t.cara_vet, &t.new_york, "2027-03-03T09:00", &t.consult))
            .await
            .expect("booked");
        let id = a.view.appointment.id;
        let input = TemplateInput {
            kind: "reminder".into(),
            channel: "email".into(),
            subject: Some("{pet} sees {vet} at {time} {zone}".into()),
            body: "Hello {owner}: {pet}, {when}, {clinic}.".into(),
        };
        // A vet and the front desk may not; a bad placeholder is refused; nothing changes.
        let before = t.footprint().await;
        let vet = t.app.acting_as(Principal {
            user_id: None,
            username: "alice".into(),
            role: Role::Vet,
            vet_id: Some(t.alice_vet.id),
            clinics: vetdesk_core::ClinicScope::All,
        });
        let desk = t.app.acting_as(Principal {
            user_id: None,
            username: "desk".into(),
            role: Role::FrontDesk,
            vet_id: None,
            clinics: vetdesk_core::ClinicScope::All,
        });
        for who in [&vet, &desk] {
            let e = who.set_template(input.clone(), None).await.expect_err("refused");
            assert_eq!(e.code(), ErrorCode::Forbidden);
        }
        // Retrying a failed message is the front desk's too (they phone the
        // owner); a vet's is refused before the message is even looked up.
        let e = vet.retry_message(OutboxId(uuid::Uuid::nil())).await.expect_err("refused");
        assert_eq!(e.code(), ErrorCode::Forbidden);
        let e = desk.retry_message(OutboxId(uuid::Uuid::nil())).await.expect_err("no such message");
        assert_eq!(e.code(), ErrorCode::NotFound);
        let bad = TemplateInput {
            body: "Hello {owner_name}".into(),
            ..input.clone()
        };
        let e = t.app.set_template(bad, None).await.expect_err("refused");
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert!(e.to_string().contains("{owner_name}"), "{e}");
        assert_eq!(t.footprint().await, before);

        let saved = t.app.set_template(input.clone(), None).await.expect("saved");
        assert_eq!(saved.version, Some(1));
        let stale = t.app.set_template(input.clone(), Some(7)).await.expect_err("stale");
        assert_eq!(stale.code(), ErrorCode::StaleVersion);
        t.clock.set(utc("2027-03-02T14:00:00Z"));
        let mut w = worker(&t, &p);
        w.drain().await.expect("step");
        let got = p.smtp.received();
        let reminder = got.last().expect("the reminder");
        assert_eq!(
            reminder.header("Subject").as_deref(),
            Some("Biscuit sees Dr Cara at 09:00 EST")
        );
        let text = parsed(reminder).body_text(0).expect("text").into_owned();
        assert_eq!(text.trim_end(), "Hello Olivia Smith: Biscuit, tomorrow at 09:00, Hudson New York.");
        // Preview shows the same, and back to the built-in wording.
        let preview = t.app.preview_template("reminder", "email", Some(id)).await.expect("preview");
        assert_eq!(preview.subject.as_deref(), Some("Biscuit sees Dr Cara at 09:00 EST"));
        let reset = t.app.reset_template("reminder", "email").await.expect("reset");
        assert!(!reset.custom);
        let preview = t.app.preview_template("reminder", "email", Some(id)).await.expect("preview");
        assert_eq!(preview.subject.as_deref(), Some("Reminder: Biscuit's appointment tomorrow at 09:00"));
        assert_eq!(t.app.templates().await.expect("list").len(), 10);
    }
);

story!(
    async fn a_clinics_settings_decide_the_reminders(t) {
        let before = t.footprint().await;
        for (field, value) in [("reminders", "0"), ("reminders", "soon"), ("quiet", "25:00-08:00"), ("heads_up", "500")] {
            let mut patch = SettingsPatch::default();
            match field {
                "reminders" => patch.reminder_offsets = Some(value.into()),
                "quiet" => patch.quiet_hours = Some(value.into()),
                _ => patch.staff_heads_up = Some(value.into()),
            }
            let e = t.app.set_notification_settings(t.london.id, patch, None).await.expect_err("refused");
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{field}={value}");
        }
        assert_eq!(t.footprint().await, before);
        let v = t
            .app
            .set_notification_settings(
                t.london.id,
                SettingsPatch {
                    reminder_offsets: Some("48h".into()),
                    quiet_hours: Some("none".into()),
                    staff_heads_up: Some("none".into()),
                },
                Some(0),
            )
            .await
            .expect("saved");
        assert_eq!(v.version, Some(1));
        let a = t.book(&t.alice_vet, "2027-03-04T10:00", &t.consult).await.expect("booked");
        use MessageStatus::Pending;
        assert_eq!(
            brief(&messages(&t, a.view.appointment.id).await),
            vec![
                row("confirmation", "email", Pending, "2027-03-01T08:00:00Z"),
                row("reminder-2880", "email", Pending, "2027-03-02T10:00:00Z"),
            ]
        );
        // New York keeps the defaults.
        assert_eq!(
            t.app.notification_settings(t.new_york.id).await.expect("settings").settings,
            NotificationSettings::default()
        );
    }
);

story!(
    async fn failures_are_retried_then_marked_failed_and_retried_by_hand(t) {
        let p = peers().await;
        let a = t.book(&t.alice_vet, "2027-03-05T10:00", &t.consult).await.expect("booked");
        let id = a.view.appointment.id;
        let mut w = worker(&t, &p);
        p.smtp.set_behaviour(Behaviour::RefuseTemporarily);
        let r = w.drain().await.expect("step");
        assert_eq!((r.sent, r.retried), (0, 1));
        let m = messages(&t, id).await.remove(0);
        assert_eq!((m.status, m.attempts), (MessageStatus::Pending, 1));
        assert!(m.last_error.as_deref().is_some_and(|e| e.contains("451")), "{m:?}");
        let first_retry = m.next_attempt_at - t.clock_now();
        assert!(first_retry >= Duration::seconds(60) && first_retry <= Duration::seconds(75), "{first_retry}");
        // Not before its time; then the second attempt, then the last.
        assert_eq!(w.drain().await.expect("step").claimed, 0);
        t.clock.advance(Duration::seconds(76));
        assert_eq!(w.drain().await.expect("step").retried, 1);
        t.clock.advance(Duration::minutes(3));
        assert_eq!(w.drain().await.expect("step").failed, 1);
        let failed = t
            .app
            .outbox(OutboxQuery {
                statuses: vec![MessageStatus::Failed],
                ..OutboxQuery::default()
            })
            .await
            .expect("outbox");
        assert_eq!(failed.total, 1);
        let f = &failed.items[0];
        assert_eq!(f.attempts, 3);
        assert!(f.last_error.as_deref().is_some_and(|e| e.contains("451") && e.ends_with("(gave up after 3 attempts)")), "{f:?}");
        assert_eq!(p.smtp.count(), 0);
        // Only a failed or skipped message can be retried; bad ids change nothing.
        let before = t.footprint().await;
        let pending = messages(&t, id).await.into_iter().find(|m| m.status == MessageStatus::Pending).expect("a reminder");
        assert_eq!(t.app.retry_message(pending.id).await.expect_err("refused").code(), ErrorCode::InvalidInput);
        assert_eq!(t.app.retry_message(OutboxId(uuid::Uuid::nil())).await.expect_err("missing").code(), ErrorCode::NotFound);
        assert_eq!(t.footprint().await, before);
        // Fixed: retried by hand, sent once.
        p.smtp.set_behaviour(Behaviour::Accept);
        let again = t.app.retry_message(f.id).await.expect("queued");
        assert_eq!((again.status, again.attempts), (MessageStatus::Pending, 0));
        assert_eq!(w.drain().await.expect("step").sent, 1);
        assert_eq!(p.smtp.count(), 1);
        assert_eq!(t.app.outbox_message(f.id).await.expect("message").status, MessageStatus::Sent);
        let audit = t.count("audit_log").await;
        assert!(audit > 0);

        // A permanent refusal fails at once.
        p.smtp.set_behaviour(Behaviour::RefusePermanently);
        let b = t.book(&t.ben_vet, "2027-03-05T10:00", &t.consult).await.expect("booked");
        assert_eq!(w.drain().await.expect("step").failed, 1);
        let m = messages(&t, b.view.appointment.id).await.remove(0);
        assert_eq!((m.status, m.attempts), (MessageStatus::Failed, 1));
        assert!(m.last_error.as_deref().is_some_and(|e| e.contains("550")), "{m:?}");
    }
);

story!(
    async fn a_failing_or_stalled_sms_gateway_is_retried_and_nothing_is_lost(t) {
        let p = peers().await;
        let mut req = t.book_request(&t.ben_vet, &t.london, "2027-03-05T10:00", &t.consult);
        req.pet_id = t.other_pet.id;
        let a = t.app.book(req).await.expect("booked");
        let id = a.view.appointment.id;
        let mut w = Worker::new(t.app.clone(), channels(&p, 300), config()).expect("worker");
        p.sms.set_behaviour(Behaviour::RefuseTemporarily);
        assert_eq!(w.drain().await.expect("step").retried, 1);
        let m = messages(&t, id).await.remove(0);
        assert!(m.last_error.as_deref().is_some_and(|e| e.contains("500")), "{m:?}");
        p.sms.set_behaviour(Behaviour::Stall);
        t.clock.advance(Duration::minutes(2));
        assert_eq!(w.drain().await.expect("step").retried, 1);
        let m = messages(&t, id).await.remove(0);
        assert!(m.last_error.as_deref().is_some_and(|e| e.contains("did not answer")), "{m:?}");
        p.sms.set_behaviour(Behaviour::Accept);
        t.clock.advance(Duration::minutes(5));
        assert_eq!(w.drain().await.expect("step").sent, 1);
        let accepted = p.sms.accepted();
        assert_eq!(accepted.len(), 1);
        // Every attempt carried the same idempotency key.
        let keys: HashSet<_> = p.sms.requests().into_iter().map(|r| r.idempotency_key).collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(messages(&t, id).await[0].status, MessageStatus::Sent);
        // A refused number fails at once.
        p.sms.set_behaviour(Behaviour::RefusePermanently);
        let mut req = t.book_request(&t.alice_vet, &t.london, "2027-03-05T10:00", &t.consult);
        req.pet_id = t.other_pet.id;
        t.app.book(req).await.expect("booked");
        assert_eq!(w.drain().await.expect("step").failed, 1);
    }
);

story!(
    multi_thread async fn two_workers_on_one_store_send_each_message_once(t) {
        let p = peers().await;
        let mut booked = 0;
        for vet in [&t.alice_vet, &t.ben_vet] {
            for day in ["2027-03-03", "2027-03-04"] {
                for hour in [9, 10, 11, 14, 15, 16] {
                    t.book(vet, &format!("{day}T{hour:02}:00"), &t.consult).await.expect("booked");
                    booked += 1;
                }
            }
        }
        // A second application on its own connections to the same database.
        let store = vetdesk_store::open(&t.url).await.expect("second store");
        let other = App::new(store, t.clock.clone(), Settings::default());
        let mut a = Worker::new(t.app.clone(), channels(&p, 2000), WorkerConfig { batch: 3, name: "a".into(), ..config() }).expect("worker");
        let mut b = Worker::new(other, channels(&p, 2000), WorkerConfig { batch: 3, name: "b".into(), ..config() }).expect("worker");
        let (ra, rb) = tokio::join!(a.drain(), b.drain());
        let (ra, rb) = (ra.expect("a"), rb.expect("b"));
        assert_eq!(ra.sent + rb.sent, booked);
        let got = p.smtp.received();
        let ids: HashSet<_> = got.iter().filter_map(Received::message_id).collect();
        assert_eq!((got.len(), ids.len()), (booked, booked));
    }
);

/// A stand-in for the desktop (there is no notification daemon in a test):
/// records what it was asked to show.
#[derive(Default)]
struct Screen(std::sync::Mutex<Vec<Outgoing>>);

#[async_trait::async_trait]
impl vetdesk_notify::Channel for Screen {
    async fn send(&self, m: &Outgoing) -> Result<Delivery, SendError> {
        self.0.lock().expect("screen").push(m.clone());
        Ok(Delivery { provider_id: None })
    }
}

story!(
    async fn a_vets_desktop_shows_their_own_patients_arriving(t) {
        let a = t.book(&t.alice_vet, "2027-03-01T13:00", &t.consult).await.expect("booked");
        let b = t.book(&t.ben_vet, "2027-03-01T13:00", &t.consult).await.expect("booked");
        t.clock.set(utc("2027-03-01T12:40:00Z"));
        t.app.check_in(a.view.appointment.id, None).await.expect("checked in");
        t.app.check_in(b.view.appointment.id, None).await.expect("checked in");
        let screen = Arc::new(Screen::default());
        let channels = Channels {
            desktop: Some((screen.clone(), vetdesk_store::DesktopScope::Vet(t.alice_vet.id))),
            ..Channels::default()
        };
        let r = Worker::new(t.app.clone(), channels, config()).expect("worker").drain().await.expect("step");
        assert_eq!(r.sent, 1);
        let shown = screen.0.lock().expect("screen").clone();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].to.name, "Dr Alice");
        assert_eq!(shown[0].rendered.subject.as_deref(), Some("Biscuit has arrived"));
        assert_eq!(shown[0].rendered.text, "Biscuit (Olivia Smith) is checked in for the 13:00 consultation.");
        // Ben's arrival waits for Ben's desktop.
        let bens = messages(&t, b.view.appointment.id).await;
        assert!(bens.iter().any(|m| m.kind == MessageKind::CheckedIn && m.status == MessageStatus::Pending));
    }
);

story!(
    async fn a_burst_after_an_outage_is_rate_limited(t) {
        let p = peers().await;
        for hour in [9, 10, 11, 14, 15, 16] {
            t.book(&t.alice_vet, &format!("2027-03-03T{hour:02}:00"), &t.consult).await.expect("booked");
            t.book(&t.ben_vet, &format!("2027-03-03T{hour:02}:00"), &t.consult).await.expect("booked");
        }
        let limited = WorkerConfig {
            email_rate: Rate { per_second: 20.0, burst: 2 },
            ..config()
        };
        let mut w = Worker::new(t.app.clone(), channels(&p, 2000), limited).expect("worker");
        let started = std::time::Instant::now();
        assert_eq!(w.drain().await.expect("step").sent, 12);
        // Two at once, then one every 50 ms: at least 0.5 s for the other ten.
        let took = started.elapsed();
        assert!(took >= std::time::Duration::from_millis(480), "{took:?}");
        // What a token bucket promises: after the burst of two, the k-th next
        // message is not sent (so cannot arrive) before k intervals from the
        // start. Measured from the start, not from an earlier arrival: a slow
        // send (a loaded machine) delays that arrival, and the next message may
        // then rightly follow it at once.
        let got = p.smtp.received();
        let since_start: Vec<_> = got.iter().map(|r| r.at - started).collect();
        for (i, since) in since_start.iter().enumerate().skip(2) {
            let floor = std::time::Duration::from_millis(50 * (i as u64 - 1))
                .saturating_sub(std::time::Duration::from_millis(15));
            assert!(*since >= floor, "message {} came {since:?} after the start: {since_start:?}", i + 1);
        }
    }
);

/// A channel that refuses every message quoting its recipient, as mail
/// servers and SMS gateways do.
struct QuotingRefusal;

#[async_trait::async_trait]
impl vetdesk_notify::Channel for QuotingRefusal {
    async fn send(&self, m: &Outgoing) -> Result<Delivery, SendError> {
        Err(SendError::Permanent(format!(
            "550 5.1.1 <{}>: mailbox unavailable",
            m.to.address
        )))
    }
}

/// What the log says, kept in memory.
#[derive(Clone, Default)]
struct Log(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

story!(
    async fn an_owners_address_in_an_error_stays_in_the_outbox_not_the_log(t) {
        let log = Log::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let a = t.book(&t.alice_vet, "2027-03-05T10:00", &t.consult).await.expect("booked");
        let channels = Channels { email: Some(Arc::new(QuotingRefusal)), sms: None, desktop: None };
        let mut w = Worker::new(t.app.clone(), channels, config()).expect("worker");
        assert_eq!(w.drain().await.expect("step").failed, 1);
        // The front desk sees the whole reason, address included, to fix it.
        let m = messages(&t, a.view.appointment.id).await.remove(0);
        let error = m.last_error.unwrap_or_default();
        let address = error
            .split_once('<')
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(address, _)| address.to_string())
            .expect("the refusal quotes the address");
        assert!(address.contains('@'), "{error}");
        // The log says what went wrong, without whom it was for.
        let logged = String::from_utf8_lossy(&log.0.lock().unwrap_or_else(|p| p.into_inner())).to_string();
        assert!(logged.contains("message refused for good"), "{logged}");
        assert!(logged.contains("550 5.1.1 <[redacted]>: mailbox unavailable"), "{logged}");
        assert!(!logged.contains(&address), "{logged}");
    }
);

/// An appointment's reminders as `(offset, status, why)`.
async fn reminders(
    t: &TestApp,
    id: AppointmentId,
) -> Vec<(Option<u32>, MessageStatus, Option<String>)> {
    messages(t, id)
        .await
        .into_iter()
        .filter(|m| m.kind == MessageKind::Reminder)
        .map(|m| (m.offset_min, m.status, m.last_error))
        .collect()
}

story!(
    async fn reminders_whose_moment_passed_before_the_booking_are_recorded_as_skipped(t) {
        // Booked 31 minutes ahead: neither reminder can go, and both say why.
        t.clock.set(utc("2027-03-01T08:29:00Z"));
        let soon = t.book(&t.alice_vet, "2027-03-01T09:00", &t.consult).await.expect("booked");
        assert_eq!(
            reminders(&t, soon.view.appointment.id).await,
            vec![
                (Some(1440), MessageStatus::Skipped, Some("its moment (2027-02-28 09:00 UTC) had passed when the appointment was booked (2027-03-01 08:29 UTC)".into())),
                (Some(120), MessageStatus::Skipped, Some("its moment (2027-03-01 07:00 UTC) had passed when the appointment was booked (2027-03-01 08:29 UTC)".into())),
            ]
        );
        let skipped = messages(&t, soon.view.appointment.id).await.into_iter().filter(|m| m.status == MessageStatus::Skipped).collect::<Vec<_>>();
        assert!(skipped.iter().all(|m| m.finished_at == Some(t.clock_now()) && m.attempts == 0), "{skipped:?}");
        // The worker sends the confirmation, and neither skipped reminder.
        let p = peers().await;
        let mut w = worker(&t, &p);
        assert_eq!(w.drain().await.expect("drain").sent, 1, "the confirmation");
        // Booked 3 hours ahead: the 24 h reminder is skipped, the 2 h one planned.
        t.clock.set(utc("2027-03-01T10:00:00Z"));
        let later = t.book(&t.ben_vet, "2027-03-01T13:00", &t.consult).await.expect("booked");
        assert_eq!(
            reminders(&t, later.view.appointment.id).await,
            vec![
                (Some(1440), MessageStatus::Skipped, Some("its moment (2027-02-28 13:00 UTC) had passed when the appointment was booked (2027-03-01 10:00 UTC)".into())),
                (Some(120), MessageStatus::Pending, None),
            ]
        );
        // Its confirmation now, its 2 h reminder at 11:00; never a skipped one.
        assert_eq!(w.drain().await.expect("drain").sent, 1, "the confirmation");
        t.clock.set(utc("2027-03-01T11:00:00Z"));
        assert_eq!(w.drain().await.expect("drain").sent, 1, "the 2 h reminder");
        let subjects: Vec<_> = p.smtp.received().iter().filter_map(|r| r.header("Subject")).collect();
        assert_eq!(subjects.len(), 3, "{subjects:?}");
        assert!(reminders(&t, soon.view.appointment.id).await.iter().all(|r| r.1 == MessageStatus::Skipped));
    }
);
