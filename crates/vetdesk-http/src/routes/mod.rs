pub mod access;
pub mod appointments;
pub mod events;
pub mod notifications;
pub mod records;

use crate::dto::Health;
use crate::extract::Json;

/// Liveness: the server answers.
#[utoipa::path(get, path = "/health", tag = "meta", security(()),
    responses((status = 200, description = "The server is up", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}
