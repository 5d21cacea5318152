//! An owner's data rights: export everything held about them, or erase it.
//! Admins only (the application layer's role matrix); both are audited.

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{Acting, Json, Path};
use uuid::Uuid;
use vetdesk_app::{ClientExport, ErasureReport};
use vetdesk_core::ClientId;

type Result<T> = std::result::Result<T, ApiError>;

/// Everything held about one owner (deleted or erased ones too) as one JSON
/// document: the owner, their pets, their appointments with history, and the
/// email and SMS messages about them. Admins only; audited.
#[utoipa::path(get, path = "/clients/{id}/export", tag = "records",
    params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, description = "The owner's data", body = ClientExportView)))]
pub async fn export_client(
    Acting(app): Acting,
    Path(id): Path<Uuid>,
) -> Result<Json<ClientExport>> {
    Ok(Json(app.export_client(ClientId(id)).await?))
}

/// Erase an owner: anonymise them and their pets, keep their appointments'
/// times without their free text, void what is still to be sent to them and
/// forget where messages went. Admins only; audited; erasing again changes
/// nothing.
#[utoipa::path(post, path = "/clients/{id}/erase", tag = "records",
    params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, description = "What was erased", body = ErasureReportView)))]
pub async fn erase_client(
    Acting(app): Acting,
    Path(id): Path<Uuid>,
) -> Result<Json<ErasureReport>> {
    Ok(Json(app.erase_client(ClientId(id)).await?))
}
