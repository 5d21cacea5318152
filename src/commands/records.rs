//! The records scheduling runs on: clinics, vets, owners, pets, appointment
//! types, working hours, date overrides and time off.
//!
//! `edit` commands take only the fields to change; the rest is read from the
//! current record, and the version read is the one the change is made
//! against (unless `--expect-version` names another), so an edit never
//! silently overwrites someone else's.

use super::{date, next_day, opt_date, time, Ctx, Reply};
use crate::cli::*;
use crate::error::{Failure, Result};
use crate::output::{instant_in, Table};
use crate::resolve;
use chrono::{Duration, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;
use vetdesk_app::demo::DemoSummary;
use vetdesk_app::*;
use vetdesk_core::*;
use vetdesk_store::Entity;

async fn clinic_names(ctx: &Ctx) -> Result<HashMap<ClinicId, Clinic>> {
    Ok(ctx
        .app
        .clinics()
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

async fn vet_names(ctx: &Ctx) -> Result<HashMap<VetId, Vet>> {
    Ok(ctx
        .app
        .vets(None)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect())
}

fn name_of<K: Eq + std::hash::Hash + std::fmt::Display, V>(
    map: &HashMap<K, V>,
    id: &K,
    name: impl Fn(&V) -> String,
) -> String {
    map.get(id).map_or_else(|| id.to_string(), name)
}

fn record_id(kind: &'static str, raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        Failure::from(ValidationError::MalformedId {
            kind,
            value: raw.to_string(),
        })
    })
}

#[derive(Serialize)]
struct Deleted {
    entity: Entity,
    id: Uuid,
    version: i64,
}

async fn delete(
    ctx: &Ctx,
    entity: Entity,
    kind: &'static str,
    raw_id: &str,
    expected_version: i64,
) -> Result<Reply> {
    let id = record_id(kind, raw_id)?;
    let version = ctx.app.delete_record(entity, id, expected_version).await?;
    ctx.reply(
        &Deleted {
            entity,
            id,
            version,
        },
        |d| format!("deleted {} {}\n", d.entity.as_str().replace('_', " "), d.id),
    )
}

// ---------- init ----------

#[derive(Serialize)]
struct Initialised {
    /// Where the database is, any password masked.
    database: String,
    demo: Option<DemoSummary>,
}

pub async fn init(ctx: &Ctx, demo: bool) -> Result<Reply> {
    let summary = if demo {
        let today = vetdesk_core::time::to_local(chrono_tz::Europe::London, ctx.app.now()).date();
        match vetdesk_app::demo::seed(&ctx.app, today).await {
            Ok(s) => Some(s),
            Err(e @ AppError::Duplicate(_)) => {
                return Err(Failure::new(
                    ErrorCode::Duplicate,
                    format!("{e} ({})", vetdesk_store::redact_url(&ctx.database)),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let out = Initialised {
        database: vetdesk_store::redact_url(&ctx.database),
        demo: summary,
    };
    ctx.reply(&out, |i| {
        let mut s = format!("database ready: {}\n", i.database);
        if let Some(d) = &i.demo {
            s.push_str(&format!(
                "demo practice added: {} clinics, {} vets, {} appointment types, {} clients, {} pets, {} appointments, {} users (see README.md for their passwords)\n",
                d.clinics, d.vets, d.appointment_types, d.clients, d.pets, d.appointments, d.users
            ));
        }
        s
    })
}

// ---------- clinics ----------

fn clinic_line(verb: &str, c: &Clinic) -> String {
    format!(
        "{verb} clinic {} ({}), version {}: {}\n",
        c.name,
        c.time_zone.name(),
        c.meta.version,
        c.id
    )
}

pub async fn clinics(ctx: &Ctx, cmd: Option<ClinicsCmd>) -> Result<Reply> {
    match cmd.unwrap_or(ClinicsCmd::List) {
        ClinicsCmd::List => {
            let clinics = ctx.app.clinics().await?;
            ctx.reply(&clinics, |cs| {
                let mut t = Table::new(["NAME", "TIME ZONE", "VER", "ID"]);
                for c in cs {
                    t.row([c.name.to_string(), c.time_zone.name().to_string(), c.meta.version.to_string(), c.id.to_string()]);
                }
                t.render_or("no clinics yet (add one with `vetdesk clinics add`, or try `vetdesk init --demo`)")
            })
        }
        ClinicsCmd::Add { name, tz } => {
            let c = ctx
                .app
                .create_clinic(ClinicInput {
                    name,
                    time_zone: tz,
                })
                .await?;
            ctx.reply(&c, |c| clinic_line("added", c))
        }
        ClinicsCmd::Edit {
            clinic,
            name,
            tz,
            version,
        } => {
            let id = resolve::clinic(&ctx.app, &clinic).await?;
            let old = ctx.app.clinic(id).await?;
            let input = ClinicInput {
                name: name.unwrap_or_else(|| old.name.to_string()),
                time_zone: tz.unwrap_or_else(|| old.time_zone.name().to_string()),
            };
            let c = ctx
                .app
                .update_clinic(id, version.expect_version.or(Some(old.meta.version)), input)
                .await?;
            ctx.reply(&c, |c| clinic_line("updated", c))
        }
    }
}

// ---------- vets ----------

async fn clinic_ids(ctx: &Ctx, refs: &[String]) -> Result<Vec<ClinicId>> {
    let mut ids = Vec::with_capacity(refs.len());
    for r in refs {
        ids.push(resolve::clinic(&ctx.app, r).await?);
    }
    Ok(ids)
}

fn vet_line(verb: &str, v: &Vet, clinics: &HashMap<ClinicId, Clinic>) -> String {
    let at: Vec<String> = v
        .clinics
        .iter()
        .map(|c| name_of(clinics, c, |c| c.name.to_string()))
        .collect();
    let at = if at.is_empty() {
        "no clinic".to_string()
    } else {
        at.join(", ")
    };
    format!(
        "{verb} vet {} ({at}), version {}: {}\n",
        v.name, v.meta.version, v.id
    )
}

pub async fn vets(ctx: &Ctx, cmd: Option<VetsCmd>, list: VetsList) -> Result<Reply> {
    match cmd.unwrap_or(VetsCmd::List(list)) {
        VetsCmd::List(VetsList { clinic }) => {
            let clinic = match clinic {
                Some(c) => Some(resolve::clinic(&ctx.app, &c).await?),
                None => None,
            };
            let vets = ctx.app.vets(clinic).await?;
            let clinics = clinic_names(ctx).await?;
            ctx.reply(&vets, |vs| {
                let mut t = Table::new(["NAME", "EMAIL", "CLINICS", "VER", "ID"]);
                for v in vs {
                    let at: Vec<String> = v
                        .clinics
                        .iter()
                        .map(|c| name_of(&clinics, c, |c| c.name.to_string()))
                        .collect();
                    t.row([
                        v.name.to_string(),
                        v.email
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        at.join(", "),
                        v.meta.version.to_string(),
                        v.id.to_string(),
                    ]);
                }
                t.render_or("no vets")
            })
        }
        VetsCmd::Add {
            name,
            email,
            clinics,
        } => {
            let clinics = clinic_ids(ctx, &clinics).await?;
            let v = ctx
                .app
                .create_vet(VetInput {
                    name,
                    email,
                    clinics,
                })
                .await?;
            let names = clinic_names(ctx).await?;
            ctx.reply(&v, |v| vet_line("added", v, &names))
        }
        VetsCmd::Edit {
            vet,
            name,
            email,
            clinics,
            version,
        } => {
            let id = resolve::vet(&ctx.app, &vet).await?;
            let old = ctx.app.vet(id).await?;
            let clinics = if clinics.is_empty() {
                old.clinics.clone()
            } else {
                clinic_ids(ctx, &clinics).await?
            };
            let input = VetInput {
                name: name.unwrap_or_else(|| old.name.to_string()),
                email: email.or_else(|| old.email.as_ref().map(ToString::to_string)),
                clinics,
            };
            let v = ctx
                .app
                .update_vet(id, version.expect_version.or(Some(old.meta.version)), input)
                .await?;
            let names = clinic_names(ctx).await?;
            ctx.reply(&v, |v| vet_line("updated", v, &names))
        }
    }
}

// ---------- clients ----------

fn prefers(c: &Client) -> String {
    let mut s = c
        .preferences
        .preferred
        .map_or("-", |p| p.as_str())
        .to_string();
    if c.preferences.email_opt_out {
        s.push_str(", no email");
    }
    if c.preferences.sms_opt_out {
        s.push_str(", no sms");
    }
    s
}

fn client_line(verb: &str, c: &Client) -> String {
    format!(
        "{verb} owner {} (prefers {}), version {}: {}\n",
        c.name,
        prefers(c),
        c.meta.version,
        c.id
    )
}

pub async fn clients(ctx: &Ctx, cmd: Option<ClientsCmd>, list: ClientsList) -> Result<Reply> {
    match cmd.unwrap_or(ClientsCmd::List(list)) {
        ClientsCmd::List(ClientsList { search, limit }) => {
            let clients = ctx
                .app
                .search_clients(
                    search.as_deref(),
                    limit.unwrap_or(vetdesk_app::DEFAULT_PAGE),
                )
                .await?;
            ctx.reply(&clients, |cs| {
                let mut t = Table::new(["NAME", "EMAIL", "PHONE", "PREFERS", "VER", "ID"]);
                for c in cs {
                    t.row([
                        c.name.to_string(),
                        c.email
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        c.phone
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        prefers(c),
                        c.meta.version.to_string(),
                        c.id.to_string(),
                    ]);
                }
                t.render_or("no owners found")
            })
        }
        ClientsCmd::Add {
            name,
            email,
            phone,
            prefer,
            email_opt_out,
            sms_opt_out,
            clinic,
        } => {
            let home_clinic_id = match clinic {
                Some(c) => Some(resolve::clinic(&ctx.app, &c).await?),
                None => None,
            };
            let input = ClientInput {
                name,
                email,
                phone,
                preferred_channel: prefer,
                email_opt_out,
                sms_opt_out,
                home_clinic_id,
            };
            let c = ctx.app.create_client(input).await?;
            ctx.reply(&c, |c| client_line("added", c))
        }
        ClientsCmd::Edit {
            client,
            name,
            email,
            phone,
            prefer,
            email_opt_out,
            sms_opt_out,
            clinic,
            version,
        } => {
            let id = resolve::client(&ctx.app, &client).await?;
            let home_clinic_id = match clinic {
                Some(c) => Some(resolve::clinic(&ctx.app, &c).await?),
                None => None,
            };
            let old = ctx.app.client(id).await?;
            let input = ClientInput {
                name: name.unwrap_or_else(|| old.name.to_string()),
                email: email.or_else(|| old.email.as_ref().map(ToString::to_string)),
                phone: phone.or_else(|| old.phone.as_ref().map(ToString::to_string)),
                preferred_channel: prefer
                    .or_else(|| old.preferences.preferred.map(|p| p.as_str().to_string())),
                email_opt_out: email_opt_out.unwrap_or(old.preferences.email_opt_out),
                sms_opt_out: sms_opt_out.unwrap_or(old.preferences.sms_opt_out),
                home_clinic_id,
            };
            let c = ctx
                .app
                .update_client(id, version.expect_version.or(Some(old.meta.version)), input)
                .await?;
            ctx.reply(&c, |c| client_line("updated", c))
        }
        ClientsCmd::Delete { id, expect_version } => {
            delete(ctx, Entity::Client, "owner id", &id, expect_version).await
        }
        ClientsCmd::Export { id, to } => {
            let id = ClientId(record_id("owner id", &id)?);
            super::privacy::export(ctx, id, to.as_deref()).await
        }
        ClientsCmd::Erase { id, yes } => {
            let id = ClientId(record_id("owner id", &id)?);
            super::privacy::erase(ctx, id, yes).await
        }
    }
}

// ---------- pets ----------

fn pet_line(verb: &str, p: &Pet) -> String {
    format!(
        "{verb} pet {} ({}), version {}: {}\n",
        p.name, p.species, p.meta.version, p.id
    )
}

pub async fn pets(ctx: &Ctx, cmd: Option<PetsCmd>, list: PetsList) -> Result<Reply> {
    match cmd.unwrap_or(PetsCmd::List(list)) {
        PetsCmd::List(PetsList {
            owner,
            search,
            limit,
        }) => {
            let owner = match owner {
                Some(o) => Some(resolve::client(&ctx.app, &o).await?),
                None => None,
            };
            let pets = ctx
                .app
                .pets(
                    owner,
                    search.as_deref(),
                    limit.unwrap_or(vetdesk_app::DEFAULT_PAGE),
                )
                .await?;
            let mut owners = HashMap::new();
            if !ctx.json {
                for p in &pets {
                    if let std::collections::hash_map::Entry::Vacant(e) = owners.entry(p.owner) {
                        e.insert(ctx.app.client(p.owner).await?.name.to_string());
                    }
                }
            }
            ctx.reply(&pets, |ps| {
                let mut t = Table::new(["NAME", "SPECIES", "BREED", "BORN", "OWNER", "VER", "ID"]);
                for p in ps {
                    t.row([
                        p.name.to_string(),
                        p.species.to_string(),
                        p.breed.clone().unwrap_or_default(),
                        p.date_of_birth.map(|d| d.to_string()).unwrap_or_default(),
                        name_of(&owners, &p.owner, Clone::clone),
                        p.meta.version.to_string(),
                        p.id.to_string(),
                    ]);
                }
                t.render_or("no pets found")
            })
        }
        PetsCmd::Add {
            owner,
            name,
            species,
            breed,
            born,
        } => {
            let date_of_birth = opt_date(born.as_deref())?;
            let owner = resolve::client(&ctx.app, &owner).await?;
            let input = PetInput {
                owner: Some(owner),
                name,
                species,
                breed,
                date_of_birth,
            };
            let p = ctx.app.create_pet(input).await?;
            ctx.reply(&p, |p| pet_line("added", p))
        }
        PetsCmd::Edit {
            pet,
            owner,
            name,
            species,
            breed,
            born,
            version,
        } => {
            let born = opt_date(born.as_deref())?;
            let owner = match owner {
                Some(o) => Some(resolve::client(&ctx.app, &o).await?),
                None => None,
            };
            let id = resolve::pet(&ctx.app, None, &pet).await?;
            let old = ctx.app.pet(id).await?;
            let input = PetInput {
                owner,
                name: name.unwrap_or_else(|| old.name.to_string()),
                species: species.unwrap_or_else(|| old.species.to_string()),
                breed: breed.or_else(|| old.breed.clone()),
                date_of_birth: born.or(old.date_of_birth),
            };
            let p = ctx
                .app
                .update_pet(id, version.expect_version.or(Some(old.meta.version)), input)
                .await?;
            ctx.reply(&p, |p| pet_line("updated", p))
        }
        PetsCmd::Delete { id, expect_version } => {
            delete(ctx, Entity::Pet, "pet id", &id, expect_version).await
        }
    }
}

// ---------- appointment types ----------

fn type_line(verb: &str, t: &AppointmentType) -> String {
    format!(
        "{verb} appointment type {} ({} min, buffers {}/{} min, {}), version {}: {}\n",
        t.name,
        t.duration_min,
        t.buffer_before_min,
        t.buffer_after_min,
        t.colour,
        t.meta.version,
        t.id
    )
}

pub async fn types(ctx: &Ctx, cmd: Option<TypesCmd>) -> Result<Reply> {
    match cmd.unwrap_or(TypesCmd::List) {
        TypesCmd::List => {
            let types = ctx.app.appointment_types().await?;
            ctx.reply(&types, |ts| {
                let mut t = Table::new([
                    "NAME",
                    "MINUTES",
                    "BUFFER BEFORE",
                    "BUFFER AFTER",
                    "COLOUR",
                    "VER",
                    "ID",
                ]);
                for ty in ts {
                    t.row([
                        ty.name.to_string(),
                        ty.duration_min.to_string(),
                        ty.buffer_before_min.to_string(),
                        ty.buffer_after_min.to_string(),
                        ty.colour.to_string(),
                        ty.meta.version.to_string(),
                        ty.id.to_string(),
                    ]);
                }
                t.render_or("no appointment types")
            })
        }
        TypesCmd::Add {
            name,
            duration,
            colour,
            buffer_before,
            buffer_after,
        } => {
            let input = AppointmentTypeInput {
                name,
                duration_min: duration,
                colour,
                buffer_before_min: buffer_before,
                buffer_after_min: buffer_after,
            };
            let t = ctx.app.create_appointment_type(input).await?;
            ctx.reply(&t, |t| type_line("added", t))
        }
        TypesCmd::Edit {
            type_,
            name,
            duration,
            colour,
            buffer_before,
            buffer_after,
            version,
        } => {
            let id = resolve::appointment_type(&ctx.app, &type_).await?;
            let old = ctx
                .app
                .appointment_types()
                .await?
                .into_iter()
                .find(|t| t.id == id)
                .ok_or_else(|| AppError::not_found(Entity::AppointmentType, id))?;
            let input = AppointmentTypeInput {
                name: name.unwrap_or_else(|| old.name.to_string()),
                duration_min: duration.unwrap_or(i64::from(old.duration_min)),
                colour: colour.unwrap_or_else(|| old.colour.to_string()),
                buffer_before_min: buffer_before.unwrap_or(i64::from(old.buffer_before_min)),
                buffer_after_min: buffer_after.unwrap_or(i64::from(old.buffer_after_min)),
            };
            let t = ctx
                .app
                .update_appointment_type(
                    id,
                    version.expect_version.or(Some(old.meta.version)),
                    input,
                )
                .await?;
            ctx.reply(&t, |t| type_line("updated", t))
        }
    }
}

// ---------- working hours ----------

fn hours_line(verb: &str, w: &WorkingHours) -> String {
    let to = w
        .valid_to
        .map_or_else(|| "open-ended".to_string(), |d| format!("until {d}"));
    format!(
        "{verb} working hours {} {} from {} ({to}), version {}: {}\n",
        w.weekday, w.span, w.valid_from, w.meta.version, w.id
    )
}

pub async fn hours(ctx: &Ctx, cmd: Option<HoursCmd>, list: HoursList) -> Result<Reply> {
    match cmd.unwrap_or(HoursCmd::List(list)) {
        HoursCmd::List(HoursList { vet, clinic }) => {
            let vet = match vet {
                Some(v) => Some(resolve::vet(&ctx.app, &v).await?),
                None => None,
            };
            let clinic = match clinic {
                Some(c) => Some(resolve::clinic(&ctx.app, &c).await?),
                None => None,
            };
            let hours = ctx.app.working_hours(vet, clinic).await?;
            let vets = vet_names(ctx).await?;
            let clinics = clinic_names(ctx).await?;
            ctx.reply(&hours, |hs| {
                let vet_name = |w: &WorkingHours| name_of(&vets, &w.vet_id, |v| v.name.to_string());
                let clinic_name =
                    |w: &WorkingHours| name_of(&clinics, &w.clinic_id, |c| c.name.to_string());
                let mut sorted: Vec<&WorkingHours> = hs.iter().collect();
                sorted.sort_by_key(|w| {
                    (
                        vet_name(w),
                        clinic_name(w),
                        w.weekday.num_days_from_monday(),
                        w.span,
                        w.valid_from,
                    )
                });
                let mut t =
                    Table::new(["VET", "CLINIC", "DAY", "HOURS", "FROM", "TO", "VER", "ID"]);
                for w in sorted {
                    t.row([
                        vet_name(w),
                        clinic_name(w),
                        w.weekday.to_string(),
                        w.span.to_string(),
                        w.valid_from.to_string(),
                        w.valid_to.map(|d| d.to_string()).unwrap_or_default(),
                        w.meta.version.to_string(),
                        w.id.to_string(),
                    ]);
                }
                t.render_or("no working hours")
            })
        }
        HoursCmd::Add {
            vet,
            clinic,
            day,
            span,
            from,
            to,
        } => {
            let weekday = parse_weekday(&day)?;
            let from = opt_date(from.as_deref())?;
            let valid_to = opt_date(to.as_deref())?;
            let vet_id = resolve::vet(&ctx.app, &vet).await?;
            let clinic_id = resolve::clinic(&ctx.app, &clinic).await?;
            let valid_from = match from {
                Some(d) => d,
                None => ctx.today_in(ctx.zone(clinic_id).await?),
            };
            let input = WorkingHoursInput {
                vet_id,
                clinic_id,
                weekday,
                span,
                valid_from,
                valid_to,
            };
            let w = ctx.app.add_working_hours(input).await?;
            ctx.reply(&w, |w| hours_line("added", w))
        }
        HoursCmd::Edit {
            id,
            day,
            span,
            from,
            to,
            open_ended,
            version,
        } => {
            let id = WorkingHoursId(record_id("working-hours id", &id)?);
            let weekday = day.as_deref().map(parse_weekday).transpose()?;
            let from = opt_date(from.as_deref())?;
            let to = opt_date(to.as_deref())?;
            let old = ctx
                .app
                .working_hours(None, None)
                .await?
                .into_iter()
                .find(|w| w.id == id)
                .ok_or_else(|| AppError::not_found(Entity::WorkingHours, id))?;
            let input = WorkingHoursInput {
                vet_id: old.vet_id,
                clinic_id: old.clinic_id,
                weekday: weekday.unwrap_or(old.weekday),
                span: span.unwrap_or_else(|| old.span.to_string()),
                valid_from: from.unwrap_or(old.valid_from),
                valid_to: if open_ended {
                    None
                } else {
                    to.or(old.valid_to)
                },
            };
            let w = ctx
                .app
                .update_working_hours(id, version.expect_version.or(Some(old.meta.version)), input)
                .await?;
            ctx.reply(&w, |w| hours_line("updated", w))
        }
        HoursCmd::Delete { id, expect_version } => {
            delete(
                ctx,
                Entity::WorkingHours,
                "working-hours id",
                &id,
                expect_version,
            )
            .await
        }
    }
}

// ---------- date overrides ----------

fn override_hours(o: &DateOverride) -> String {
    if o.spans.is_empty() {
        "day off".to_string()
    } else {
        LocalSpan::format_list(&o.spans)
    }
}

pub async fn overrides(ctx: &Ctx, cmd: OverrideCmd) -> Result<Reply> {
    match cmd {
        OverrideCmd::Set {
            vet,
            clinic,
            date: day,
            spans,
            note,
        } => {
            let day = date(&day)?;
            let vet_id = resolve::vet(&ctx.app, &vet).await?;
            let clinic_id = resolve::clinic(&ctx.app, &clinic).await?;
            let input = DateOverrideInput {
                vet_id,
                clinic_id,
                date: day,
                spans,
                note,
            };
            let o = ctx.app.set_date_override(input).await?;
            ctx.reply(&o, |o| {
                format!(
                    "set hours on {}: {}, version {}: {}\n",
                    o.date,
                    override_hours(o),
                    o.meta.version,
                    o.id
                )
            })
        }
        OverrideCmd::List {
            vet,
            clinic,
            from,
            to,
        } => {
            let from = opt_date(from.as_deref())?;
            let to = opt_date(to.as_deref())?;
            let vet = match vet {
                Some(v) => Some(resolve::vet(&ctx.app, &v).await?),
                None => None,
            };
            let clinic = match clinic {
                Some(c) => Some(resolve::clinic(&ctx.app, &c).await?),
                None => None,
            };
            let first = match (from, clinic) {
                (Some(d), _) => d,
                (None, Some(c)) => ctx.today_in(ctx.zone(c).await?),
                (None, None) => ctx.today_in(chrono_tz::UTC),
            };
            let last = to.unwrap_or(first + Duration::days(30));
            let list = ctx.app.date_overrides(vet, clinic, first, last).await?;
            let vets = vet_names(ctx).await?;
            let clinics = clinic_names(ctx).await?;
            ctx.reply(&list, |os| {
                let mut t = Table::new(["DATE", "VET", "CLINIC", "HOURS", "NOTE", "VER", "ID"]);
                for o in os {
                    t.row([
                        o.date.to_string(),
                        name_of(&vets, &o.vet_id, |v| v.name.to_string()),
                        name_of(&clinics, &o.clinic_id, |c| c.name.to_string()),
                        override_hours(o),
                        o.note.clone().unwrap_or_default(),
                        o.meta.version.to_string(),
                        o.id.to_string(),
                    ]);
                }
                t.render_or(&format!("no overrides from {first} to {last}"))
            })
        }
        OverrideCmd::Delete { id, expect_version } => {
            delete(
                ctx,
                Entity::DateOverride,
                "override id",
                &id,
                expect_version,
            )
            .await
        }
    }
}

// ---------- time off ----------

/// The zone a vet's time off is read and shown in: the clinic given, else the vet's first.
fn vet_zone(vet: Option<&Vet>, clinics: &HashMap<ClinicId, Clinic>) -> Tz {
    vet.and_then(|v| v.clinics.first())
        .and_then(|c| clinics.get(c))
        .map_or(chrono_tz::UTC, |c| c.time_zone)
}

fn midnight(d: NaiveDate) -> TimeInput {
    TimeInput::Local(d.and_time(NaiveTime::MIN))
}

pub async fn time_off(ctx: &Ctx, cmd: TimeOffCmd) -> Result<Reply> {
    match cmd {
        TimeOffCmd::Add(a) => {
            let (start, end) = match (&a.start, &a.end, &a.date, &a.from_date, &a.to_date) {
                (Some(s), Some(e), _, _, _) => (time(s)?, time(e)?),
                (_, _, Some(d), _, _) => {
                    let d = date(d)?;
                    (midnight(d), midnight(next_day(d)?))
                }
                (_, _, _, Some(f), Some(t)) => {
                    let (f, t) = (date(f)?, date(t)?);
                    (midnight(f), midnight(next_day(t)?))
                }
                _ => {
                    return Err(Failure::invalid(
                        "give --start and --end, --date, or --from-date and --to-date",
                    ))
                }
            };
            let vet_id = resolve::vet(&ctx.app, &a.vet).await?;
            let clinic_id = match &a.clinic {
                Some(c) => Some(resolve::clinic(&ctx.app, c).await?),
                None => None,
            };
            let input = TimeOffInput {
                vet_id,
                clinic_id,
                start,
                end,
                reason: a.reason,
            };
            let t = ctx.app.add_time_off(input).await?;
            let clinics = clinic_names(ctx).await?;
            let tz = match clinic_id.and_then(|c| clinics.get(&c)) {
                Some(c) => c.time_zone,
                None => vet_zone(ctx.app.vet(vet_id).await.ok().as_ref(), &clinics),
            };
            ctx.reply(&t, |t| {
                format!(
                    "added time off {} to {} ({}), version {}: {}\n",
                    instant_in(tz, t.period.start()),
                    instant_in(tz, t.period.end()),
                    tz.name(),
                    t.meta.version,
                    t.id
                )
            })
        }
        TimeOffCmd::List { vet } => {
            let vet = match vet {
                Some(v) => Some(resolve::vet(&ctx.app, &v).await?),
                None => None,
            };
            let list = ctx.app.time_off(vet).await?;
            let vets = vet_names(ctx).await?;
            let clinics = clinic_names(ctx).await?;
            ctx.reply(&list, |ts| {
                let mut t = Table::new(["VET", "FROM", "TO", "ZONE", "REASON", "VER", "ID"]);
                for o in ts {
                    let tz = vet_zone(vets.get(&o.vet_id), &clinics);
                    t.row([
                        name_of(&vets, &o.vet_id, |v| v.name.to_string()),
                        instant_in(tz, o.period.start()),
                        instant_in(tz, o.period.end()),
                        tz.name().to_string(),
                        o.reason.clone().unwrap_or_default(),
                        o.meta.version.to_string(),
                        o.id.to_string(),
                    ]);
                }
                t.render_or("no time off")
            })
        }
        TimeOffCmd::Delete { id, expect_version } => {
            delete(ctx, Entity::TimeOff, "time-off id", &id, expect_version).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn a_whole_day_runs_from_midnight_to_midnight() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 30).unwrap_or_default();
        assert_eq!(midnight(d), TimeInput::Local(d.and_time(NaiveTime::MIN)));
        assert_eq!(next_day(d).ok().map(|n| n.day()), Some(31));
    }
}
