//! An owner's data rights: the export document and what an erasure did
//! (mirrors of `vetdesk_app::ClientExport` and `ErasureReport`, for the
//! OpenAPI document only).

use crate::{AppointmentListItemView, ClientView, HistoryEntryView, OutboxMessageView, PetView};
use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

/// One of the owner's appointments, with its history.
#[derive(ToSchema)]
pub struct ExportedAppointmentView {
    #[serde(flatten)]
    pub appointment: AppointmentListItemView,
    pub history: Vec<HistoryEntryView>,
}

/// Everything the clinic holds about one owner: the owner, their pets, their
/// appointments with history, and the email and SMS messages about them.
#[derive(ToSchema)]
pub struct ClientExportView {
    pub exported_at: DateTime<Utc>,
    pub client: ClientView,
    /// When the owner was deleted, if they were.
    #[schema(required)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// When the owner was erased, if they were (what is left is anonymous).
    #[schema(required)]
    pub erased_at: Option<DateTime<Utc>>,
    /// Their pets, deleted ones too.
    pub pets: Vec<PetView>,
    pub appointments: Vec<ExportedAppointmentView>,
    pub messages: Vec<OutboxMessageView>,
}

/// What erasing an owner did. Erasing them again changes nothing (`already`).
#[derive(ToSchema)]
pub struct ErasureReportView {
    pub client_id: Uuid,
    /// When the owner was erased (the first time).
    pub erased_at: DateTime<Utc>,
    /// They had been erased before: nothing was changed now.
    pub already: bool,
    /// Pets anonymised.
    pub pets: u64,
    /// Appointments whose free text was cleared (their times stay).
    pub appointments: u64,
    /// History lines whose note was cleared.
    pub history_notes: u64,
    /// Pending messages voided.
    pub messages_voided: u64,
    /// Messages whose recipient and error text were forgotten.
    pub messages_forgotten: u64,
}
