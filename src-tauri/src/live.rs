//! The change stream: every committed change the store announces
//! (`App::subscribe`, what `/api/v1/events` streams over HTTP) becomes a Tauri
//! event `vetdesk:change` with the same JSON; a receiver that fell behind
//! sends one `vetdesk:reload` instead (refetch everything).

use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use vetdesk_app::App;

pub const CHANGE_EVENT: &str = "vetdesk:change";
pub const RELOAD_EVENT: &str = "vetdesk:reload";

/// Sends one event to the webviews (the app handle's `emit`, or a test's recorder).
pub type Emit = Arc<dyn Fn(&str, serde_json::Value) + Send + Sync>;

/// Forward `app`'s committed changes until the store goes away or the task is aborted.
pub fn forward(app: &App, emit: Emit) -> tauri::async_runtime::JoinHandle<()> {
    let mut changes = app.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match changes.recv().await {
                Ok(change) => match serde_json::to_value(&change) {
                    Ok(json) => emit(CHANGE_EVENT, json),
                    Err(e) => {
                        tracing::warn!(error = %e, "unserialisable change; asking for a reload");
                        emit(RELOAD_EVENT, serde_json::json!({}));
                    }
                },
                Err(RecvError::Lagged(missed)) => {
                    emit(RELOAD_EVENT, serde_json::json!({ "missed": missed }))
                }
                Err(RecvError::Closed) => break,
            }
        }
    })
}
