//! Booking, the appointment lifecycle, and finding appointments.

use super::{date, next_day, time, Ctx, Reply};
use crate::cli::{ActArgs, AppointmentsArgs, BookArgs, RescheduleArgs};
use crate::error::{Failure, Result};
use crate::output::{dated_span, instant_in, Table};
use crate::resolve::{self, Names};
use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashMap;
use vetdesk_app::views::{AppointmentDetails, LocalSlot};
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_store::AppointmentFilter;

fn zone_of(name: &str) -> Tz {
    parse_time_zone(name).unwrap_or(chrono_tz::UTC)
}

/// Two lines about an appointment after a change.
fn summary(verb: &str, d: &AppointmentDetails) -> String {
    let a = &d.view.appointment;
    format!(
        "{verb} appointment {}\n  {} ({}), {} with {}: {} (owner {}); {}, version {}\n",
        a.id,
        dated_span(&d.local),
        d.time_zone,
        d.view.type_name,
        d.view.vet_name,
        d.view.pet_name,
        d.view.client_name,
        a.status,
        a.meta.version
    )
}

pub async fn book(ctx: &Ctx, a: BookArgs) -> Result<Reply> {
    let req = book_request(ctx, &mut Names::default(), a).await?;
    match ctx.app.book(req).await {
        Ok(d) => ctx.reply(&d, |d| summary("booked", d)),
        Err(e) => Err(e.into()),
    }
}

/// What `vetdesk import` did.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub booked: Vec<AppointmentId>,
    pub conflicts: usize,
    pub failed: usize,
    pub problems: Vec<ImportProblem>,
}

/// A line that was not booked.
#[derive(Debug, Serialize)]
pub struct ImportProblem {
    pub line: usize,
    pub code: ErrorCode,
    pub message: String,
}

/// How many lines of an import go into one write transaction.
const IMPORT_BATCH: usize = 500;

impl ImportReport {
    fn refused(&mut self, line: usize, f: Failure) {
        if f.code == ErrorCode::Conflict {
            self.conflicts += 1;
        } else {
            self.failed += 1;
        }
        self.problems.push(ImportProblem {
            line,
            code: f.code,
            message: f.message,
        });
    }

    /// Book the lines gathered so far (line number, request), in one batch.
    async fn book(&mut self, ctx: &Ctx, batch: &mut Vec<(usize, BookRequest)>) {
        if batch.is_empty() {
            return;
        }
        let (lines, reqs): (Vec<usize>, Vec<BookRequest>) = batch.drain(..).unzip();
        match ctx.app.book_batch(&reqs).await {
            Ok(results) => {
                for (line, r) in lines.into_iter().zip(results) {
                    match r {
                        Ok(d) => self.booked.push(d.view.appointment.id),
                        Err(e) => self.refused(line, e.into()),
                    }
                }
            }
            // Nothing of the batch was kept: each of its lines failed so.
            Err(e) => {
                let f = Failure::from(e);
                for line in lines {
                    self.refused(line, f.clone());
                }
            }
        }
    }
}

pub async fn import(ctx: &Ctx, file: &str) -> Result<Reply> {
    let text = if file == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| Failure::invalid(format!("cannot read {file}: {e}")))?;
    let mut report = ImportReport {
        booked: Vec::new(),
        conflicts: 0,
        failed: 0,
        problems: Vec::new(),
    };
    let mut names = Names::default();
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let req = async {
            let a: BookArgs = serde_json::from_str(line)
                .map_err(|e| Failure::invalid(format!("not a booking line: {e}")))?;
            book_request(ctx, &mut names, a).await
        }
        .await;
        match req {
            Ok(req) => batch.push((i + 1, req)),
            Err(f) => report.refused(i + 1, f),
        }
        if batch.len() == IMPORT_BATCH {
            report.book(ctx, &mut batch).await;
        }
    }
    report.book(ctx, &mut batch).await;
    // Lines refused before booking were noted first: report every line in file order.
    report.problems.sort_by_key(|p| p.line);
    // The first refusal that was not a conflict decides the status; conflicts alone give 4.
    let code = report
        .problems
        .iter()
        .map(|p| p.code)
        .find(|c| *c != ErrorCode::Conflict)
        .or((report.conflicts > 0).then_some(ErrorCode::Conflict));
    let mut reply = ctx.reply(&report, |r| {
        let mut out = String::new();
        for p in &r.problems {
            out.push_str(&format!("line {}: {}\n", p.line, p.message));
        }
        out.push_str(&format!(
            "{} booked, {} refused as conflicts, {} failed\n",
            r.booked.len(),
            r.conflicts,
            r.failed
        ));
        out
    })?;
    reply.code = code;
    Ok(reply)
}

/// A `book` command or import line as a request, its names resolved (each
/// name once per command: see [`Names`]).
async fn book_request(ctx: &Ctx, names: &mut Names, a: BookArgs) -> Result<BookRequest> {
    let start = time(&a.start)?;
    let clinic_id = names.clinic(&ctx.app, &a.clinic).await?;
    let vet_id = names.vet(&ctx.app, &a.vet).await?;
    let type_id = names.appointment_type(&ctx.app, &a.type_).await?;
    let client_id = match &a.client {
        Some(c) => Some(names.client(&ctx.app, c).await?),
        None => None,
    };
    let pet_id = names.pet(&ctx.app, client_id, &a.pet).await?;
    let req = BookRequest {
        clinic_id,
        vet_id,
        pet_id,
        client_id,
        type_id,
        start,
        duration_min: a.duration,
        reason: a.reason,
        notes: a.notes,
    };
    Ok(req)
}

/// A lifecycle step that does not move the appointment.
pub enum Act {
    Confirm,
    CheckIn,
    Start,
    Complete(Option<String>),
    Cancel(Option<String>),
    NoShow,
}

pub async fn act(ctx: &Ctx, action: Act, a: ActArgs) -> Result<Reply> {
    let id = resolve::appointment(&a.id)?;
    let v = a.version.expect_version;
    let (verb, result) = match action {
        Act::Confirm => ("confirmed", ctx.app.confirm(id, v).await),
        Act::CheckIn => ("checked in", ctx.app.check_in(id, v).await),
        Act::Start => ("started", ctx.app.start(id, v).await),
        Act::Complete(note) => ("completed", ctx.app.complete(id, v, note).await),
        Act::Cancel(reason) => ("cancelled", ctx.app.cancel(id, v, reason).await),
        Act::NoShow => ("marked as no-show", ctx.app.no_show(id, v).await),
    };
    ctx.reply(&result?, |d| summary(verb, d))
}

pub async fn reschedule(ctx: &Ctx, a: RescheduleArgs) -> Result<Reply> {
    let id = resolve::appointment(&a.id)?;
    let start = time(&a.start)?;
    let vet_id = match &a.vet {
        Some(v) => Some(resolve::vet(&ctx.app, v).await?),
        None => None,
    };
    let req = RescheduleRequest {
        start,
        duration_min: a.duration,
        vet_id,
        note: a.note,
    };
    match ctx.app.reschedule(id, a.version.expect_version, req).await {
        Ok(d) => ctx.reply(&d, |d| summary("rescheduled", d)),
        Err(e) => Err(e.into()),
    }
}

pub async fn show(ctx: &Ctx, raw_id: &str) -> Result<Reply> {
    let id = resolve::appointment(raw_id)?;
    let d = ctx.app.appointment(id).await?;
    let clinic = ctx.app.clinic(d.view.appointment.clinic_id).await?;
    ctx.reply(&d, |d| {
        let a = &d.view.appointment;
        let tz = zone_of(&d.time_zone);
        let mut facts = Table::new(["", ""]);
        facts.row([
            "when",
            &format!("{} ({})", dated_span(&d.local), d.time_zone),
        ]);
        facts.row(["clinic", clinic.name.as_str()]);
        facts.row(["vet", &d.view.vet_name]);
        facts.row(["pet", &d.view.pet_name]);
        facts.row(["owner", &d.view.client_name]);
        facts.row(["type", &d.view.type_name]);
        facts.row(["status", a.status.as_str()]);
        facts.row(["version", &a.meta.version.to_string()]);
        if a.buffer_before_min > 0 || a.buffer_after_min > 0 {
            let buffers = format!(
                "{} min before, {} min after",
                a.buffer_before_min, a.buffer_after_min
            );
            facts.row(["buffers", &buffers]);
        }
        for (label, value) in [
            ("reason", &a.reason),
            ("notes", &a.notes),
            ("cancel reason", &a.cancel_reason),
        ] {
            if let Some(v) = value {
                facts.row([label, v.as_str()]);
            }
        }
        facts.row(["booked by", a.created_by.0.as_str()]);
        let mut out = format!("appointment {}\n", a.id);
        out.extend(
            facts
                .render_indented("  ")
                .lines()
                .skip(1)
                .map(|l| format!("{l}\n")),
        );
        out.push_str("\nhistory\n");
        let mut h = Table::new(["VER", "AT", "ACTION", "FROM", "TO", "SLOT", "BY", "NOTE"]);
        for e in &d.history {
            h.row([
                e.version.to_string(),
                instant_in(tz, e.at),
                e.action.clone(),
                e.from_status.map(|s| s.to_string()).unwrap_or_default(),
                e.to_status.to_string(),
                dated_span(&LocalSlot::new(tz, e.slot)),
                e.actor.0.clone(),
                e.note.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&h.render_indented("  "));
        out
    })
}

/// Midnight starting a date: on the clinic's wall clock, or UTC without a clinic.
fn start_of(tz: Option<Tz>, d: chrono::NaiveDate) -> DateTime<Utc> {
    match tz {
        Some(tz) => vetdesk_core::time::start_of_local_day(tz, d),
        None => d.and_time(NaiveTime::MIN).and_utc(),
    }
}

pub async fn list(ctx: &Ctx, a: AppointmentsArgs) -> Result<Reply> {
    let statuses = a
        .statuses
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.parse::<Status>())
        .collect::<Result<Vec<_>, _>>()?;
    let from = a.from.as_deref().map(date).transpose()?;
    let to = a.to.as_deref().map(date).transpose()?;
    let clinic = match &a.clinic {
        Some(c) => Some(resolve::clinic(&ctx.app, c).await?),
        None => None,
    };
    let vet = match &a.vet {
        Some(v) => Some(resolve::vet(&ctx.app, v).await?),
        None => None,
    };
    let client = match &a.client {
        Some(c) => Some(resolve::client(&ctx.app, c).await?),
        None => None,
    };
    let pet = match &a.pet {
        Some(p) => Some(resolve::pet(&ctx.app, client, p).await?),
        None => None,
    };
    let tz = match clinic {
        Some(c) => Some(ctx.zone(c).await?),
        None => None,
    };
    let filter = AppointmentFilter {
        statuses,
        clinic,
        clinics: None,
        vet,
        client,
        pet,
        from: from.map(|d| start_of(tz, d)),
        to: to.map(next_day).transpose()?.map(|d| start_of(tz, d)),
        text: a.search,
        limit: a.limit.unwrap_or(0),
        offset: a.offset,
    };
    let page = ctx.app.appointments(filter).await?;
    let zones: HashMap<ClinicId, Tz> = if ctx.json {
        HashMap::new()
    } else {
        ctx.app
            .clinics()
            .await?
            .into_iter()
            .map(|c| (c.id, c.time_zone))
            .collect()
    };
    ctx.reply(&page, |p| {
        let mut t = Table::new(["WHEN", "VET", "PET", "OWNER", "TYPE", "STATUS", "VER", "ID"]);
        for v in &p.items {
            let a = &v.appointment;
            let tz = zones.get(&a.clinic_id).copied().unwrap_or(chrono_tz::UTC);
            t.row([
                dated_span(&LocalSlot::new(tz, a.slot)),
                v.vet_name.clone(),
                v.pet_name.clone(),
                v.client_name.clone(),
                v.type_name.clone(),
                a.status.to_string(),
                a.meta.version.to_string(),
                a.id.to_string(),
            ]);
        }
        if t.is_empty() {
            return match p.total {
                0 => "no appointments\n".to_string(),
                n => format!("no appointments past offset {} ({n} in all)\n", p.offset),
            };
        }
        let first = u64::from(p.offset) + 1;
        let last = u64::from(p.offset) + p.items.len() as u64;
        format!("{}{first}–{last} of {}\n", t.render(), p.total)
    })
}
