//! `vetdesk clients export` and `vetdesk clients erase`: an owner's data rights.

use super::{Ctx, Reply};
use crate::error::{Failure, Result};
use std::io::Write;
use std::path::Path;
use vetdesk_core::ClientId;

/// A new file only this user can read (an export holds an owner's details);
/// an existing file is never overwritten.
fn new_private_file(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::AlreadyExists => "it exists already; name a new file".to_string(),
            _ => e.to_string(),
        };
        Failure::invalid(format!(
            "cannot write the export to {}: {why}",
            path.display()
        ))
    })
}

/// The owner's data as pretty JSON: to `to` (a new file), else to standard output.
pub async fn export(ctx: &Ctx, id: ClientId, to: Option<&Path>) -> Result<Reply> {
    // The file is made first, so a name that cannot be used leaves no audit line.
    let file = to.map(new_private_file).transpose()?;
    let export = match ctx.app.export_client(id).await {
        Ok(e) => e,
        Err(e) => {
            if let Some(path) = to {
                drop(file);
                let _ = std::fs::remove_file(path);
            }
            return Err(e.into());
        }
    };
    let mut json = serde_json::to_string_pretty(&export)?;
    json.push('\n');
    let (Some(mut file), Some(path)) = (file, to) else {
        return Ok(Reply {
            text: json,
            code: None,
        });
    };
    file.write_all(json.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Failure::internal(format!("writing {}: {e}", path.display())))?;
    let summary = serde_json::json!({
        "client_id": id,
        "file": path.display().to_string(),
        "pets": export.pets.len(),
        "appointments": export.appointments.len(),
        "messages": export.messages.len(),
    });
    ctx.reply(&summary, |_| {
        format!(
            "exported owner {id} to {} ({} pets, {} appointments, {} messages)\n",
            path.display(),
            export.pets.len(),
            export.appointments.len(),
            export.messages.len()
        )
    })
}

pub async fn erase(ctx: &Ctx, id: ClientId, yes: bool) -> Result<Reply> {
    if !yes {
        return Err(Failure::invalid(format!(
            "erasing owner {id} cannot be undone: run it again with --yes (export it first with `vetdesk clients export {id} --to FILE` if they asked for a copy)"
        )));
    }
    let report = ctx.app.erase_client(id).await?;
    ctx.reply(&report, |r| {
        if r.erased.already {
            return format!(
                "owner {id} was erased already (at {}); nothing changed\n",
                r.erased_at
            );
        }
        format!(
            "erased owner {id}: {} pets anonymised, {} appointments kept without their notes, \
             {} pending messages voided, {} messages' recipients forgotten\n",
            r.erased.pets,
            r.erased.appointments,
            r.erased.messages_voided,
            r.erased.messages_forgotten
        )
    })
}
