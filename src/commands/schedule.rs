//! Reading the schedule: availability, calendars, "my day", conflict checks
//! and "why is this vet not free?".

use super::{opt_date, time, Ctx, Reply};
use crate::cli::{AvailabilityArgs, CalendarArgs, CheckConflictsArgs, WhyArgs};
use crate::error::Result;
use crate::output::{self, local_datetime, local_time, span, Table};
use crate::resolve;
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap};
use vetdesk_app::views::{Availability, Calendar};
use vetdesk_app::*;
use vetdesk_core::*;

/// Slot start times per output line.
const TIMES_PER_LINE: usize = 12;

async fn opt_vet(ctx: &Ctx, raw: Option<&str>) -> Result<Option<VetId>> {
    match raw {
        Some(v) => Ok(Some(resolve::vet(&ctx.app, v).await?)),
        None => Ok(None),
    }
}

async fn opt_type(ctx: &Ctx, raw: Option<&str>) -> Result<Option<AppointmentTypeId>> {
    match raw {
        Some(t) => Ok(Some(resolve::appointment_type(&ctx.app, t).await?)),
        None => Ok(None),
    }
}

fn zone_of(name: &str) -> Tz {
    parse_time_zone(name).unwrap_or(chrono_tz::UTC)
}

pub async fn availability(ctx: &Ctx, a: AvailabilityArgs) -> Result<Reply> {
    let from = opt_date(a.from.as_deref())?;
    let to = opt_date(a.to.as_deref())?;
    let ignoring = a
        .ignoring
        .as_deref()
        .map(resolve::appointment)
        .transpose()?;
    let clinic_id = resolve::clinic(&ctx.app, &a.clinic).await?;
    let vet_id = opt_vet(ctx, a.vet.as_deref()).await?;
    let type_id = opt_type(ctx, a.type_.as_deref()).await?;
    let first = match from {
        Some(d) => d,
        None => ctx.today_in(ctx.zone(clinic_id).await?),
    };
    let req = AvailabilityRequest {
        clinic_id,
        vet_id,
        first,
        last: to.unwrap_or(first),
        duration_min: a.duration,
        type_id,
        grid_min: a.grid,
        min_notice_min: a.min_notice,
        ignoring,
    };
    let found = ctx.app.availability(req).await?;
    ctx.reply(&found, render_availability)
}

fn render_availability(a: &Availability) -> String {
    let range = if a.first == a.last {
        a.first.to_string()
    } else {
        format!("{} to {}", a.first, a.last)
    };
    let mut out = format!(
        "{} ({}), {range}: {}-minute slots on a {}-minute grid, {} in all\n",
        a.clinic.name,
        a.clinic.time_zone,
        a.duration_min,
        a.grid_min,
        a.slot_count()
    );
    for v in &a.vets {
        out.push_str(&format!("\n{}\n", v.vet.name));
        if v.slots.is_empty() {
            out.push_str("  no free slots\n");
            continue;
        }
        let mut by_day: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
        for s in &v.slots {
            by_day
                .entry(s.local_start.date())
                .or_default()
                .push(local_time(s.local_start));
        }
        for (day, times) in by_day {
            for (i, chunk) in times.chunks(TIMES_PER_LINE).enumerate() {
                let label = if i == 0 {
                    day.format("%a %Y-%m-%d").to_string()
                } else {
                    String::new()
                };
                out.push_str(&format!("  {label:<14}  {}\n", chunk.join(" ")));
            }
        }
    }
    out
}

pub async fn calendar(ctx: &Ctx, a: CalendarArgs) -> Result<Reply> {
    let view: View = a.view.parse()?;
    let day = opt_date(a.date.as_deref())?;
    let clinic_id = resolve::clinic(&ctx.app, &a.clinic).await?;
    let vet_id = opt_vet(ctx, a.vet.as_deref()).await?;
    let day = match day {
        Some(d) => d,
        None => ctx.today_in(ctx.zone(clinic_id).await?),
    };
    let cal = ctx
        .app
        .calendar(CalendarRequest {
            view,
            date: day,
            clinic_id,
            vet_id,
            include_cancelled: a.include_cancelled,
        })
        .await?;
    let vets = vet_names(ctx).await?;
    ctx.reply(&cal, |c| render_calendar(c, &vets))
}

async fn vet_names(ctx: &Ctx) -> Result<HashMap<VetId, String>> {
    Ok(ctx
        .app
        .vets(None)
        .await?
        .into_iter()
        .map(|v| (v.id, v.name.to_string()))
        .collect())
}

fn render_calendar(c: &Calendar, vets: &HashMap<VetId, String>) -> String {
    let vet_name = |id: &VetId| vets.get(id).cloned().unwrap_or_else(|| id.to_string());
    let range = if c.first == c.last {
        c.first.to_string()
    } else {
        format!("{} to {}", c.first, c.last)
    };
    let mut out = format!("{} ({}), {range}\n", c.clinic.name, c.clinic.time_zone);
    for day in &c.days {
        out.push_str(&format!("\n{}\n", day.date.format("%a %Y-%m-%d")));
        if day.appointments.is_empty() {
            out.push_str("  no appointments\n");
        } else {
            let mut t = Table::new(["TIME", "VET", "STATUS", "PET", "OWNER", "TYPE", "ID"]);
            for a in &day.appointments {
                t.row([
                    span(&a.time),
                    vet_name(&a.vet_id),
                    a.status.to_string(),
                    a.pet_name.clone(),
                    a.client_name.clone(),
                    a.type_name.clone(),
                    a.id.to_string(),
                ]);
            }
            out.push_str(&t.render_indented("  "));
        }
        let mut free: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in &day.free {
            free.entry(vet_name(&f.vet_id))
                .or_default()
                .push(span(&f.time));
        }
        if free.is_empty() {
            out.push_str("  free: none\n");
        } else {
            out.push_str("  free:\n");
            let mut t = Table::new(["", ""]);
            for (vet, spans) in free {
                t.row([vet, spans.join(", ")]);
            }
            // Skip the empty header line.
            for line in t.render_indented("    ").lines().skip(1) {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

pub async fn my_day(ctx: &Ctx, vet: &str, day: Option<&str>) -> Result<Reply> {
    let day = opt_date(day)?;
    let vet_id = resolve::vet(&ctx.app, vet).await?;
    let day = match day {
        Some(d) => d,
        None => {
            let first_clinic = ctx.app.vet(vet_id).await?.clinics.first().copied();
            let tz = match first_clinic {
                Some(c) => ctx.zone(c).await?,
                None => chrono_tz::UTC,
            };
            ctx.today_in(tz)
        }
    };
    let calendars = ctx.app.my_day(vet_id, day).await?;
    let vets = vet_names(ctx).await?;
    ctx.reply(&calendars, |cs| {
        if cs.is_empty() {
            return format!(
                "{} works at no clinic\n",
                vets.get(&vet_id).map_or("the vet", String::as_str)
            );
        }
        cs.iter()
            .map(|c| render_calendar(c, &vets))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

pub async fn check_conflicts(ctx: &Ctx, a: CheckConflictsArgs) -> Result<Reply> {
    let start = time(&a.start)?;
    let end = time(&a.end)?;
    let ignoring = a
        .ignoring
        .as_deref()
        .map(resolve::appointment)
        .transpose()?;
    let clinic_id = resolve::clinic(&ctx.app, &a.clinic).await?;
    let vet_id = resolve::vet(&ctx.app, &a.vet).await?;
    let type_id = opt_type(ctx, a.type_.as_deref()).await?;
    let report = ctx
        .app
        .check_conflicts(ConflictRequest {
            vet_id,
            clinic_id,
            start,
            end,
            type_id,
            ignoring,
        })
        .await?;
    // Only for showing times; an unknown clinic is already one of the conflicts.
    let tz = match ctx.zone(clinic_id).await {
        Ok(tz) => tz,
        Err(_) => chrono_tz::UTC,
    };
    let mut reply = ctx.reply(&report, |r| {
        if r.ok {
            "free\n".to_string()
        } else {
            r.conflicts
                .iter()
                .map(|c| format!("{}\n", c.describe(tz)))
                .collect()
        }
    })?;
    if !report.ok {
        reply.code = Some(ErrorCode::Conflict);
    }
    Ok(reply)
}

pub async fn why(ctx: &Ctx, a: WhyArgs) -> Result<Reply> {
    let at = time(&a.at)?;
    let vet_id = resolve::vet(&ctx.app, &a.vet).await?;
    let clinic_id = resolve::clinic(&ctx.app, &a.clinic).await?;
    let type_id = opt_type(ctx, a.type_.as_deref()).await?;
    let report = ctx
        .app
        .explain(ExplainRequest {
            vet_id,
            clinic_id,
            at,
            duration_min: a.duration,
            type_id,
        })
        .await?;
    ctx.reply(&report, |r| {
        let tz = zone_of(&r.clinic.time_zone);
        let mut out = format!(
            "{} at {}, {} ({}) for {} minutes: ",
            r.vet.name,
            r.clinic.name,
            local_datetime(r.local_at),
            r.clinic.time_zone,
            r.explanation.duration_min
        );
        if r.explanation.free {
            match r.explanation.free_until {
                Some(t) => out.push_str(&format!(
                    "free (free until {})\n",
                    output::instant_in(tz, t)
                )),
                None => out.push_str("free\n"),
            }
        } else {
            out.push_str("not free\n");
            for c in &r.explanation.reasons {
                out.push_str(&format!("  - {}\n", c.describe(tz)));
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vetdesk_app::views::{ClinicRef, LocalSlot, VetAvailability, VetRef};

    #[test]
    fn availability_lists_start_times_per_day() {
        let tz = chrono_tz::Europe::London;
        let day = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default();
        let slot = |h: u32, m: u32| {
            let start =
                vetdesk_core::resolve_local(tz, day.and_hms_opt(h, m, 0).unwrap_or_default());
            let iv = Interval::try_new(start, start + chrono::Duration::minutes(20));
            iv.map(|iv| LocalSlot::new(tz, iv))
        };
        let a = Availability {
            clinic: ClinicRef {
                id: ClinicId(uuid::Uuid::nil()),
                name: "Riverside".into(),
                time_zone: "Europe/London".into(),
            },
            first: day,
            last: day,
            duration_min: 20,
            grid_min: 15,
            vets: vec![
                VetAvailability {
                    vet: VetRef {
                        id: VetId(uuid::Uuid::nil()),
                        name: "Dr Alice Morgan".into(),
                    },
                    slots: [slot(9, 0), slot(9, 15)].into_iter().flatten().collect(),
                },
                VetAvailability {
                    vet: VetRef {
                        id: VetId(uuid::Uuid::nil()),
                        name: "Dr Ben Okafor".into(),
                    },
                    slots: vec![],
                },
            ],
        };
        let text = render_availability(&a);
        assert!(text.contains("Mon 2025-01-06  09:00 09:15"), "{text}");
        assert!(text.contains("Dr Ben Okafor\n  no free slots"), "{text}");
    }
}
