//! `vetdesk`, the command-line adapter over the application layer: parse the
//! arguments, run one use case, print the result, and turn a failure into one
//! `error:` line and an exit status (see [`error::exit_code`]).

mod cli;
mod commands;
mod error;
mod output;
mod resolve;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use vetdesk_app::{App, ErrorCode};
use vetdesk_core::{Actor, Principal};

use crate::error::{exit_code, Failure, Result};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    init_logging();

    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Failure::internal)
        .and_then(|rt| rt.block_on(run(cli)));

    match outcome {
        Ok(reply) => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`vetdesk appointments | head`) is not a failure.
            let _ = out
                .write_all(reply.text.as_bytes())
                .and_then(|()| out.flush());
            ExitCode::from(reply.code.map_or(0, exit_code))
        }
        Err(f) => {
            let message = f.message.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(exit_code(f.code))
        }
    }
}

/// Logs go to stderr; `VETDESK_LOG` takes tracing filter directives (default `warn`).
fn init_logging() {
    let filter = EnvFilter::try_from_env("VETDESK_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(cli: cli::Cli) -> Result<commands::Reply> {
    let database = database_location(cli.db)?;
    let actor = actor(cli.actor);
    // Restore replaces the database file, so it must not be opened (and a
    // damaged one, which is why one restores, would not open).
    if let cli::Command::Restore { file } = &cli.command {
        return commands::backups::restore(&database, cli.json, &actor, file).await;
    }
    // Migrating opens the database as the owner, and grants; no App is needed.
    if let cli::Command::Migrate { runtime_roles } = &cli.command {
        return commands::migrate::migrate(&database, cli.json, runtime_roles).await;
    }
    // A server never changes the schema: on PostgreSQL its runtime role may not.
    let schema = match cli.command {
        cli::Command::Serve { .. } => vetdesk_store::Schema::Expect,
        _ => vetdesk_store::Schema::Migrate,
    };
    // Whoever runs the command line owns the database file: they act as admin,
    // and the audit log names them.
    let app = App::open_with(&database, schema)
        .await?
        .acting_as(Principal::local(actor.0.clone()));
    let ctx = commands::Ctx {
        app,
        database,
        json: cli.json,
        actor,
    };
    let result = commands::run(&ctx, cli.command).await;
    ctx.app.store().close().await;
    result
}

/// `--db` / `VETDESK_DATABASE_URL`, else `vetdesk.db` in the OS data folder (created if needed).
fn database_location(given: Option<String>) -> Result<String> {
    if let Some(db) = given.filter(|d| !d.trim().is_empty()) {
        return Ok(db);
    }
    let unavailable = |m: String| Failure::new(ErrorCode::StoreUnavailable, m);
    let dirs = directories::ProjectDirs::from("org", "vetdesk", "vetdesk").ok_or_else(|| {
        unavailable(
            "cannot find a data folder for the database; pass --db or set VETDESK_DATABASE_URL"
                .into(),
        )
    })?;
    let folder = dirs.data_dir();
    std::fs::create_dir_all(folder).map_err(|e| {
        unavailable(format!(
            "cannot create the data folder {}: {e}",
            folder.display()
        ))
    })?;
    let file = folder.join("vetdesk.db");
    file.to_str().map(str::to_string).ok_or_else(|| {
        unavailable(format!(
            "the data folder path {} is not valid UTF-8; pass --db",
            file.display()
        ))
    })
}

/// `--as`, else the login name, else `cli`.
fn actor(given: Option<String>) -> Actor {
    let name = given
        .filter(|n| !n.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|n| !n.trim().is_empty()))
        .or_else(|| {
            std::env::var("USERNAME")
                .ok()
                .filter(|n| !n.trim().is_empty())
        })
        .unwrap_or_else(|| "cli".to_string());
    Actor::new(name.trim())
}
