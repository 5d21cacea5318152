//! `vetdesk backup` and `vetdesk restore`.

use super::{Ctx, Reply};
use crate::error::Result;
use serde::Serialize;
use std::path::Path;
use vetdesk_app::SystemClock;
use vetdesk_core::{Actor, Principal};

pub async fn backup(ctx: &Ctx, to: Option<&Path>) -> Result<Reply> {
    let made = ctx.app.backup(to).await?;
    ctx.reply(&made, |m| {
        let mut s = format!("backed up to {} ({} bytes)\n", m.path.display(), m.bytes);
        for p in &m.pruned {
            s.push_str(&format!("deleted the oldest backup {}\n", p.display()));
        }
        s
    })
}

#[derive(Serialize)]
struct RestoreReply {
    database: String,
    schema_version: i64,
    replaced_kept_at: Option<String>,
}

/// Whoever runs the command line owns the database file: they act as admin.
pub async fn restore(database: &str, json: bool, actor: &Actor, file: &Path) -> Result<Reply> {
    let principal = Principal::local(actor.0.clone());
    let done = vetdesk_app::backups::restore(&principal, database, file, &SystemClock).await?;
    let reply = RestoreReply {
        database: done.database.display().to_string(),
        schema_version: done.schema_version,
        replaced_kept_at: done.replaced_kept_at.map(|p| p.display().to_string()),
    };
    let text = if json {
        let mut s = serde_json::to_string_pretty(&reply)?;
        s.push('\n');
        s
    } else {
        let mut s = format!(
            "restored {} from {} (schema version {})\n",
            reply.database,
            file.display(),
            reply.schema_version
        );
        if let Some(kept) = &reply.replaced_kept_at {
            s.push_str(&format!("the database it replaced is kept as {kept}\n"));
        }
        s
    };
    Ok(Reply { text, code: None })
}
