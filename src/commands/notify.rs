//! `vetdesk worker`, `vetdesk outbox …`, `vetdesk templates …`,
//! `vetdesk notifications` and `vetdesk secret`: sending notifications and
//! looking after them.

use super::{Ctx, Reply};
use crate::cli::{NotificationArgs, NotifyArgs, OutboxCmd, OutboxList, SecretCmd, TemplatesCmd};
use crate::error::{Failure, Result};
use crate::output::Table;
use crate::resolve;
use secrecy::SecretString;
use std::collections::HashMap;
use std::io::Read;
use std::str::FromStr;
use std::time::Duration;
use vetdesk_app::{ErrorCode, OutboxQuery, Prepared, SettingsPatch, TemplateInput, TemplateView};
use vetdesk_core::{AppointmentId, MessageStatus, OutboxId};
use vetdesk_notify::{
    secrets, ChannelSettings, DesktopChoice, Rate, Secret, Setting, StopHandle, Worker,
    WorkerConfig,
};
use vetdesk_store::{DesktopScope, OutboxRecord};

fn invalid(m: impl Into<String>) -> Failure {
    Failure::invalid(m)
}

/// The channel flags given, each overriding its `VETDESK_…` variable.
fn channel_flags(a: &NotifyArgs) -> [(Setting, Option<String>); 11] {
    [
        (Setting::SmtpHost, a.smtp_host.clone()),
        (Setting::SmtpPort, a.smtp_port.clone()),
        (Setting::SmtpSecurity, a.smtp_security.clone()),
        (Setting::SmtpUsername, a.smtp_username.clone()),
        (Setting::SmtpFrom, a.smtp_from.clone()),
        (Setting::SmtpCaFile, a.smtp_ca_file.clone()),
        (Setting::SmsUrl, a.sms_url.clone()),
        (Setting::SmsAccount, a.sms_account.clone()),
        (Setting::SmsFrom, a.sms_from.clone()),
        (Setting::Desktop, a.desktop.clone()),
        (Setting::KeepRecipientsDays, a.keep_recipients_days.clone()),
    ]
}

/// The worker and its channels, as the flags and the environment describe them.
async fn build_worker(ctx: &Ctx, a: NotifyArgs) -> Result<Worker> {
    let settings = ChannelSettings::from_env().with_flags(channel_flags(&a));
    let keep_recipients = settings
        .keep_recipients()
        .map_err(|e| invalid(e.to_string()))?;
    if !(a.email_rate > 0.0 && a.sms_rate > 0.0) {
        return Err(invalid("--email-rate and --sms-rate must be positive"));
    }
    let timeout = Duration::from_secs(a.send_timeout_secs);
    let config = WorkerConfig {
        batch: a.batch,
        lease: Duration::from_secs(a.lease_secs),
        max_attempts: a.max_attempts,
        retry_base: Duration::from_secs(a.retry_secs.max(1)),
        send_timeout: timeout,
        email_rate: Rate {
            per_second: a.email_rate,
            burst: (a.email_rate * 5.0).ceil().clamp(1.0, 1.0e6) as u32,
        },
        sms_rate: Rate {
            per_second: a.sms_rate,
            burst: 10,
        },
        keep_recipients,
        ..WorkerConfig::default()
    };
    // A lease too short for the send timeout, a batch or attempt count out
    // of range: refused before anything else, naming the flags at fault.
    config.check().map_err(|e| invalid(e.to_string()))?;
    let plan = vetdesk_notify::resolve(settings, timeout)
        .await
        .map_err(|e| invalid(e.to_string()))?;
    let desktop = match &plan.desktop {
        DesktopChoice::Unset | DesktopChoice::Off => None,
        DesktopChoice::All => Some(DesktopScope::All),
        DesktopChoice::Vet(vet) => Some(DesktopScope::Vet(resolve::vet(&ctx.app, vet).await?)),
    };
    let channels = vetdesk_notify::build_channels(plan.with_desktop(desktop))
        .map_err(|e| invalid(e.to_string()))?;
    Worker::new(ctx.app.clone(), channels, config).map_err(|e| invalid(e.to_string()))
}

/// The worker for `vetdesk serve`, running as a background task; `None` when no channel is configured.
pub async fn background_worker(
    ctx: &Ctx,
    a: NotifyArgs,
) -> Result<Option<(StopHandle, tokio::task::JoinHandle<()>)>> {
    let worker = build_worker(ctx, a).await?;
    if worker.scope().is_empty() {
        tracing::warn!(
            "notification worker: off (no channel configured); messages stay queued in the outbox"
        );
        return Ok(None);
    }
    ctx.app.set_sending(&worker.scope());
    let stop = worker.stop_handle();
    let app = ctx.app.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = worker.run().await {
            tracing::error!(error = %e, "the notification worker stopped");
        }
        app.set_sending(&Default::default());
    });
    Ok(Some((stop, task)))
}

/// `vetdesk worker`: run until Ctrl-C or SIGTERM (or, with `--once`, until nothing is due).
pub async fn worker(ctx: &Ctx, a: NotifyArgs, once: bool) -> Result<Reply> {
    let mut worker = build_worker(ctx, a).await?;
    if worker.scope().is_empty() {
        return Err(invalid(
            "no channel is configured: set VETDESK_SMTP_HOST (email), VETDESK_SMS_ACCOUNT (SMS) or VETDESK_DESKTOP",
        ));
    }
    if once {
        let r = worker
            .drain()
            .await
            .map_err(|e| Failure::new(ErrorCode::Internal, e.to_string()))?;
        return ctx.reply(
            &serde_json::json!({
                "claimed": r.claimed, "sent": r.sent, "retried": r.retried, "failed": r.failed,
                "skipped": r.skipped, "deferred": r.deferred,
            }),
            |_| {
                format!(
                    "{} sent, {} to retry, {} failed, {} skipped, {} deferred\n",
                    r.sent, r.retried, r.failed, r.skipped, r.deferred
                )
            },
        );
    }
    let stop = worker.stop_handle();
    tokio::spawn(async move {
        vetdesk_http::server::stop_signal().await;
        stop.stop();
    });
    eprintln!("vetdesk worker is sending notifications (Ctrl-C to stop)");
    worker
        .run()
        .await
        .map_err(|e| Failure::new(ErrorCode::Internal, e.to_string()))?;
    Ok(Reply {
        text: String::new(),
        code: None,
    })
}

fn message_id(raw: &str) -> Result<OutboxId> {
    Ok(OutboxId::from_str(raw)?)
}

/// When, on the clinic's wall clock.
fn local(zones: &HashMap<vetdesk_core::ClinicId, chrono_tz::Tz>, m: &OutboxRecord) -> String {
    let tz = zones.get(&m.clinic_id).copied().unwrap_or(chrono_tz::UTC);
    vetdesk_core::time::to_local(tz, m.due_at)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub async fn outbox(ctx: &Ctx, cmd: Option<OutboxCmd>, list: OutboxList) -> Result<Reply> {
    match cmd {
        Some(OutboxCmd::Retry { id }) => {
            let m = ctx.app.retry_message(message_id(&id)?).await?;
            ctx.reply(&m, |m| {
                format!(
                    "message {} ({} by {}) is queued again\n",
                    m.id, m.kind, m.channel
                )
            })
        }
        Some(OutboxCmd::Preview { id }) => {
            let p = ctx.app.preview_message(message_id(&id)?).await?;
            ctx.reply(&p, |p| {
                let m = &p.message;
                let mut out = format!(
                    "message {} — {} by {}, {} (attempts {})\n",
                    m.id, m.kind, m.channel, m.status, m.attempts
                );
                match &p.prepared {
                    Prepared::Skip { reason } => {
                        out.push_str(&format!("would not be sent: {reason}\n"))
                    }
                    Prepared::Defer { until, why } => out.push_str(&format!(
                        "would wait until {} UTC: {why}\n",
                        until.format("%Y-%m-%d %H:%M")
                    )),
                    Prepared::Send(o) => {
                        out.push_str(&format!("to: {} <{}>\n", o.to.name, o.to.address));
                        if let Some(s) = &o.rendered.subject {
                            out.push_str(&format!("subject: {s}\n"));
                        }
                        out.push('\n');
                        out.push_str(&o.rendered.text);
                        out.push('\n');
                        if o.ics.is_some() {
                            out.push_str("\n(with a calendar entry, appointment.ics)\n");
                        }
                    }
                }
                out
            })
        }
        None => {
            let mut statuses = Vec::new();
            if list.failed {
                statuses.push(MessageStatus::Failed);
            }
            for s in list.status.iter().flat_map(|s| s.split(',')) {
                if !s.trim().is_empty() {
                    statuses.push(MessageStatus::from_str(s)?);
                }
            }
            let appointment = list
                .appointment
                .as_deref()
                .map(AppointmentId::from_str)
                .transpose()?;
            let page = ctx
                .app
                .outbox(OutboxQuery {
                    statuses,
                    appointment,
                    channel: None,
                    limit: list.limit,
                    offset: 0,
                })
                .await?;
            let zones: HashMap<_, _> = ctx
                .app
                .clinics()
                .await?
                .into_iter()
                .map(|c| (c.id, c.time_zone))
                .collect();
            ctx.reply(&page, |page| {
                if page.items.is_empty() {
                    return "no messages\n".into();
                }
                let mut t = Table::new([
                    "ID",
                    "DUE (LOCAL)",
                    "KIND",
                    "CHANNEL",
                    "STATUS",
                    "TRIES",
                    "TO / WHY",
                ]);
                for m in &page.items {
                    let kind = match m.offset_min {
                        Some(o) => {
                            format!("{} {}", m.kind, vetdesk_core::notification::offset_label(o))
                        }
                        None => m.kind.to_string(),
                    };
                    let note = match m.status {
                        MessageStatus::Sent => m.sent_to.clone().unwrap_or_default(),
                        _ => m.last_error.clone().unwrap_or_default(),
                    };
                    t.row([
                        m.id.to_string(),
                        local(&zones, m),
                        kind,
                        m.channel.to_string(),
                        m.status.to_string(),
                        m.attempts.to_string(),
                        note,
                    ]);
                }
                format!(
                    "{}{} of {} message(s)\n",
                    t.render_indented(""),
                    page.items.len(),
                    page.total
                )
            })
        }
    }
}

fn template_text(t: &TemplateView) -> String {
    let mut out = format!(
        "{}/{}{}\n",
        t.template.kind,
        t.template.channel,
        match (t.custom, t.version) {
            (true, Some(v)) => format!(" (custom, version {v})"),
            _ => " (built-in)".into(),
        }
    );
    if let Some(s) = &t.template.subject {
        out.push_str(&format!("subject: {s}\n"));
    }
    out.push_str(&t.template.body);
    out.push('\n');
    out
}

pub async fn templates(ctx: &Ctx, cmd: Option<TemplatesCmd>) -> Result<Reply> {
    match cmd.unwrap_or(TemplatesCmd::List) {
        TemplatesCmd::List => {
            let all = ctx.app.templates().await?;
            ctx.reply(&all, |all| {
                let mut t = Table::new(["KIND", "CHANNEL", "SOURCE", "SUBJECT"]);
                for v in all {
                    t.row([
                        v.template.kind.to_string(),
                        v.template.channel.to_string(),
                        if v.custom {
                            "custom".into()
                        } else {
                            "built-in".to_string()
                        },
                        v.template.subject.clone().unwrap_or_default(),
                    ]);
                }
                t.render_indented("")
            })
        }
        TemplatesCmd::Show { kind, channel } => {
            let wanted_kind = vetdesk_core::MessageKind::from_str(&kind)?;
            let wanted_channel = vetdesk_core::MessageChannel::from_str(&channel)?;
            let t = ctx
                .app
                .templates()
                .await?
                .into_iter()
                .find(|t| t.template.kind == wanted_kind && t.template.channel == wanted_channel)
                .ok_or_else(|| {
                    invalid(format!(
                        "a {wanted_kind} message never goes by {wanted_channel}"
                    ))
                })?;
            ctx.reply(&t, template_text)
        }
        TemplatesCmd::Set {
            kind,
            channel,
            subject,
            body,
            expect_version,
        } => {
            let body = if body == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).map_err(|e| {
                    invalid(format!("cannot read the body from standard input: {e}"))
                })?;
                s
            } else {
                body
            };
            let t = ctx
                .app
                .set_template(
                    TemplateInput {
                        kind,
                        channel,
                        subject,
                        body,
                    },
                    expect_version,
                )
                .await?;
            ctx.reply(&t, |t| format!("saved {}", template_text(t)))
        }
        TemplatesCmd::Reset { kind, channel } => {
            let t = ctx.app.reset_template(&kind, &channel).await?;
            ctx.reply(&t, |t| format!("reset to {}", template_text(t)))
        }
        TemplatesCmd::Preview {
            kind,
            channel,
            appointment,
        } => {
            let id = appointment
                .as_deref()
                .map(AppointmentId::from_str)
                .transpose()?;
            let r = ctx.app.preview_template(&kind, &channel, id).await?;
            ctx.reply(&r, |r| {
                let mut out = String::new();
                if let Some(s) = &r.subject {
                    out.push_str(&format!("subject: {s}\n\n"));
                }
                out.push_str(&r.text);
                out.push('\n');
                out
            })
        }
    }
}

pub async fn settings(ctx: &Ctx, a: NotificationArgs) -> Result<Reply> {
    let clinic = resolve::clinic(&ctx.app, &a.clinic).await?;
    let changing = a.reminders.is_some() || a.quiet_hours.is_some() || a.heads_up.is_some();
    let view = if changing {
        ctx.app
            .set_notification_settings(
                clinic,
                SettingsPatch {
                    reminder_offsets: a.reminders,
                    quiet_hours: a.quiet_hours,
                    staff_heads_up: a.heads_up,
                },
                a.expect_version,
            )
            .await?
    } else {
        ctx.app.notification_settings(clinic).await?
    };
    ctx.reply(&view, |v| {
        let s = &v.settings;
        let offsets: Vec<String> = s
            .reminder_offsets_min
            .iter()
            .map(|m| vetdesk_core::notification::offset_label(*m))
            .collect();
        format!(
            "reminders: {}\nSMS quiet hours: {}\nstaff heads-up: {}\n{}\n",
            if offsets.is_empty() {
                "none".into()
            } else {
                offsets.join(", ") + " before"
            },
            s.quiet_hours.map_or("none".into(), |q| q.to_string()),
            s.staff_heads_up_min
                .map_or("none".into(), |m| format!("{m} minutes before")),
            v.version
                .map_or("(the defaults)".into(), |n| format!("version {n}")),
        )
    })
}

pub async fn secret(cmd: SecretCmd) -> Result<Reply> {
    let SecretCmd::Set { name } = cmd;
    let Some(secret) = Secret::from_keyring_name(&name) else {
        return Err(invalid(format!(
            "'{name}' is not a secret vetdesk keeps (smtp-password, sms-token)"
        )));
    };
    let mut value = String::new();
    std::io::stdin()
        .read_line(&mut value)
        .map_err(|e| invalid(format!("cannot read the secret from standard input: {e}")))?;
    let value = value.trim_end_matches(['\r', '\n']).to_string();
    if value.is_empty() {
        return Err(invalid("the secret is empty; give it on standard input"));
    }
    let variable = secret.variable();
    secrets::store(&name, SecretString::from(value))
        .await
        .map_err(|e| Failure::new(ErrorCode::StoreUnavailable, format!("{e} ({variable})")))?;
    Ok(Reply {
        text: format!(
            "{name} is stored in the OS keyring (service '{}')\n",
            secrets::KEYRING_SERVICE
        ),
        code: None,
    })
}
