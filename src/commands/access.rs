//! `vetdesk user …` and `vetdesk audit`: the people who sign in, and what was done.

use super::{Ctx, Reply};
use crate::cli::{AuditArgs, UserCmd};
use crate::error::{Failure, Result};
use crate::output::Table;
use crate::resolve;
use std::collections::HashMap;
use std::io::BufRead;
use vetdesk_app::{UserInput, UserPatch};
use vetdesk_core::{ClinicId, User};
use vetdesk_store::AuditFilter;

/// A password from standard input (`--password-stdin`) or `VETDESK_NEW_PASSWORD`.
fn new_password(from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Failure::invalid(format!("cannot read the password from standard input: {e}"))
        })?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    std::env::var("VETDESK_NEW_PASSWORD").map_err(|_| {
        Failure::invalid(
            "give the password on standard input with --password-stdin (or in VETDESK_NEW_PASSWORD); \
             it is never taken from the command line",
        )
    })
}

fn user_line(verb: &str, u: &User, names: &HashMap<ClinicId, String>) -> String {
    format!(
        "{verb} user {} ({}, {}{}; {}), version {}: {}\n",
        u.username,
        u.display_name,
        u.role,
        if u.disabled { ", disabled" } else { "" },
        clinics_text(u, names),
        u.meta.version,
        u.id
    )
}

/// "every clinic", or the clinics a user is limited to, the home one marked.
fn clinics_text(u: &User, names: &HashMap<ClinicId, String>) -> String {
    let name = |c: &ClinicId| names.get(c).cloned().unwrap_or_else(|| c.to_string());
    let home = |c: &ClinicId| {
        if u.home_clinic_id == Some(*c) {
            " (home)"
        } else {
            ""
        }
    };
    let listed: Vec<String> = u
        .clinics
        .iter()
        .map(|c| format!("{}{}", name(c), home(c)))
        .collect();
    match (listed.is_empty(), u.home_clinic_id) {
        (false, _) => listed.join(", "),
        (true, Some(h)) => format!("every clinic, home {}", name(&h)),
        (true, None) => "every clinic".into(),
    }
}

async fn clinic_names(ctx: &Ctx) -> Result<HashMap<ClinicId, String>> {
    Ok(ctx
        .app
        .clinics()
        .await?
        .into_iter()
        .map(|c| (c.id, c.name.to_string()))
        .collect())
}

async fn clinic_ids(ctx: &Ctx, texts: &[String]) -> Result<Vec<ClinicId>> {
    let mut ids = Vec::with_capacity(texts.len());
    for t in texts {
        ids.push(resolve::clinic(&ctx.app, t).await?);
    }
    Ok(ids)
}

async fn by_name(ctx: &Ctx, username: &str) -> Result<User> {
    let wanted = username.trim().to_lowercase();
    ctx.app
        .users()
        .await?
        .into_iter()
        .find(|u| u.username.as_str() == wanted)
        .ok_or_else(|| {
            Failure::new(
                vetdesk_app::ErrorCode::NotFound,
                format!("no user is called '{username}' (see `vetdesk user list`)"),
            )
        })
}

pub async fn user(ctx: &Ctx, cmd: Option<UserCmd>) -> Result<Reply> {
    match cmd.unwrap_or(UserCmd::List) {
        UserCmd::List => {
            let users = ctx.app.users().await?;
            let names = clinic_names(ctx).await?;
            ctx.reply(&users, |us| {
                let mut t =
                    Table::new(["USERNAME", "NAME", "ROLE", "CLINICS", "STATE", "VER", "ID"]);
                for u in us {
                    t.row([
                        u.username.to_string(),
                        u.display_name.to_string(),
                        u.role.to_string(),
                        clinics_text(u, &names),
                        if u.disabled { "disabled" } else { "active" }.to_string(),
                        u.meta.version.to_string(),
                        u.id.to_string(),
                    ]);
                }
                t.render_or(
                    "no users yet (add the first admin with `vetdesk user add --role admin …`)",
                )
            })
        }
        UserCmd::Add {
            username,
            name,
            role,
            vet,
            clinics,
            home_clinic,
            password_stdin,
        } => {
            let vet_id = match vet {
                Some(v) => Some(resolve::vet(&ctx.app, &v).await?),
                None => None,
            };
            let clinics = clinic_ids(ctx, &clinics).await?;
            let home_clinic_id = match home_clinic {
                Some(h) => Some(resolve::clinic(&ctx.app, &h).await?),
                None => None,
            };
            let password = new_password(password_stdin)?;
            let u = ctx
                .app
                .create_user(UserInput {
                    display_name: name.unwrap_or_else(|| username.clone()),
                    username,
                    role,
                    vet_id,
                    password,
                    clinics,
                    home_clinic_id,
                })
                .await?;
            let names = clinic_names(ctx).await?;
            ctx.reply(&u, |u| user_line("added", u, &names))
        }
        UserCmd::Set {
            username,
            name,
            role,
            vet,
            clinics,
            all_clinics,
            home_clinic,
            no_home_clinic,
            password_stdin,
            disable,
            enable,
        } => {
            let old = by_name(ctx, &username).await?;
            let vet_id = match vet {
                Some(v) => Some(Some(resolve::vet(&ctx.app, &v).await?)),
                None => None,
            };
            let password = if password_stdin {
                Some(new_password(true)?)
            } else {
                None
            };
            let clinics = match (all_clinics, clinics.is_empty()) {
                (true, _) => Some(Vec::new()),
                (false, false) => Some(clinic_ids(ctx, &clinics).await?),
                (false, true) => None,
            };
            let home_clinic_id = match (home_clinic, no_home_clinic) {
                (Some(h), _) => Some(Some(resolve::clinic(&ctx.app, &h).await?)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            let patch = UserPatch {
                display_name: name,
                role,
                vet_id,
                password,
                disabled: (disable || enable).then_some(disable),
                clinics,
                home_clinic_id,
            };
            let u = ctx
                .app
                .update_user(old.id, Some(old.meta.version), patch)
                .await?;
            let names = clinic_names(ctx).await?;
            ctx.reply(&u, |u| user_line("updated", u, &names))
        }
    }
}

pub async fn audit(ctx: &Ctx, a: AuditArgs) -> Result<Reply> {
    let entity_id =
        a.id.as_deref()
            .map(|id| {
                uuid::Uuid::parse_str(id.trim())
                    .map_err(|_| Failure::invalid(format!("'{id}' is not a record id (a UUID)")))
            })
            .transpose()?;
    let page = ctx
        .app
        .audit_log(AuditFilter {
            entity: a.entity,
            entity_id,
            actor: a.actor,
            limit: a.limit,
            ..AuditFilter::default()
        })
        .await?;
    ctx.reply(&page, |p| {
        let mut t = Table::new(["#", "AT (UTC)", "WHO", "ROLE", "ACTION", "RECORD"]);
        for l in &p.items {
            t.row([
                l.seq.to_string(),
                l.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                l.actor.clone(),
                l.role.to_string(),
                l.action.clone(),
                l.entity_id.map(|i| i.to_string()).unwrap_or_default(),
            ]);
        }
        t.render_or("the audit log is empty")
    })
}
