pub mod access;
pub mod appointments;
pub mod events;
pub mod notifications;
pub mod privacy;
pub mod records;

use crate::dto::Health;
use crate::extract::Json;
use axum::extract::State;
use vetdesk_app::App;

/// Liveness: the server answers, and which notification channels it sends through.
#[utoipa::path(get, path = "/health", tag = "meta", security(()),
    responses((status = 200, description = "The server is up", body = Health)))]
pub async fn health(State(app): State<App>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        notification_channels: app.sending_channels().iter().map(|c| c.as_str()).collect(),
    })
}
