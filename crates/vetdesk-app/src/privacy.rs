//! An owner's data rights: export everything held about them, erase it, and
//! keep personal values out of the audit log and (after a while) the outbox.
//!
//! Export and erase are admin-only ([`Permission::ManageClientData`]) and
//! audited. Audit lines never hold an owner's, a pet's, an appointment's or a
//! message's personal fields by value: [`App::audit`] replaces each such value
//! with a reference to the record (`client:<id>`), so erasing the record
//! leaves nothing of the person in the append-only log (migration 0009 brought
//! the lines written before to the same form).

use crate::{App, AppError, Result};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vetdesk_core::{ClientId, HistoryEntry, Permission, Pet};
use vetdesk_store::{
    AppointmentFilter, AppointmentView, ClientRecord, Entity, Erased, OutboxRecord, Tx,
};

/// The fields of each kind of audited record that hold personal data.
fn personal_fields(entity: &str) -> &'static [&'static str] {
    match entity {
        "client" => &["name", "email", "phone"],
        "pet" => &["name", "breed", "date_of_birth"],
        "appointment" => &["reason", "notes", "cancel_reason"],
        "outbox_message" => &["sent_to", "last_error"],
        _ => &[],
    }
}

/// `value` (a record's JSON for the audit log) with each personal field that
/// holds a value replaced by a reference to the record, `entity:id`. A field
/// that is empty (null) stays so: the log still says whether there was one.
pub(crate) fn by_reference(
    entity: &str,
    id: Option<Uuid>,
    value: Option<serde_json::Value>,
) -> Option<serde_json::Value> {
    let mut value = value?;
    let fields = personal_fields(entity);
    if let (serde_json::Value::Object(m), false) = (&mut value, fields.is_empty()) {
        let reference = match id {
            Some(id) => format!("{entity}:{id}"),
            None => entity.to_string(),
        };
        for f in fields {
            if let Some(v) = m.get_mut(*f) {
                if !v.is_null() {
                    *v = serde_json::Value::String(reference.clone());
                }
            }
        }
    }
    Some(value)
}

/// One of the owner's appointments, with its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedAppointment {
    #[serde(flatten)]
    pub appointment: AppointmentView,
    pub history: Vec<HistoryEntry>,
}

/// Everything the clinic holds about one owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientExport {
    pub exported_at: DateTime<Utc>,
    #[serde(flatten)]
    pub record: ClientRecord,
    /// Their pets, including deleted ones.
    pub pets: Vec<Pet>,
    pub appointments: Vec<ExportedAppointment>,
    /// The email and SMS messages about their appointments.
    pub messages: Vec<OutboxRecord>,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReport {
    pub client_id: ClientId,
    pub erased_at: DateTime<Utc>,
    #[serde(flatten)]
    pub erased: Erased,
}

/// Largest page of appointments read at a time for an export.
const EXPORT_PAGE: u32 = 500;

async fn require_client(tx: &mut dyn Tx, id: ClientId) -> Result<ClientRecord> {
    tx.client_record(id)
        .await?
        .ok_or_else(|| AppError::not_found(Entity::Client, id))
}

impl App {
    /// Everything held about one owner (deleted or erased ones too), as one
    /// document. Admins only; the export is audited.
    #[tracing::instrument(skip_all, fields(client = %id))]
    pub async fn export_client(&self, id: ClientId) -> Result<ClientExport> {
        self.require(Permission::ManageClientData)?;
        let mut tx = self.store.write().await?;
        let record = require_client(tx.as_mut(), id).await?;
        let pets = tx.client_pets(id).await?;
        let mut appointments = Vec::new();
        let mut filter = AppointmentFilter {
            client: Some(id),
            limit: EXPORT_PAGE,
            ..AppointmentFilter::default()
        };
        loop {
            let page = tx.appointments(&filter).await?;
            let n = page.items.len() as u32;
            for appointment in page.items {
                let history = tx.history(appointment.appointment.id).await?;
                appointments.push(ExportedAppointment {
                    appointment,
                    history,
                });
            }
            if n < EXPORT_PAGE {
                break;
            }
            filter.offset += n;
        }
        let messages = tx
            .client_messages(id)
            .await?
            .into_iter()
            .filter(|m| m.channel != vetdesk_core::MessageChannel::Desktop)
            .collect();
        let export = ClientExport {
            exported_at: self.now(),
            record,
            pets,
            appointments,
            messages,
        };
        let summary = serde_json::json!({
            "pets": export.pets.len(),
            "appointments": export.appointments.len(),
            "messages": export.messages.len(),
        });
        self.audit(
            tx.as_mut(),
            "client.export",
            "client",
            Some(id.0),
            None,
            Some(summary),
        )
        .await?;
        tx.commit().await?;
        Ok(export)
    }

    /// Erase an owner: anonymise them and their pets, keep their appointments'
    /// times (so the figures stay true) without their free text, void what is
    /// still to be sent to them and forget where messages went. Admins only;
    /// audited (counts only). Erasing an erased owner changes nothing more.
    #[tracing::instrument(skip_all, fields(client = %id))]
    pub async fn erase_client(&self, id: ClientId) -> Result<ErasureReport> {
        self.require(Permission::ManageClientData)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let before = require_client(tx.as_mut(), id).await?;
        let erased = tx.erase_client(id, now).await?;
        let erased_at = match before.erased_at {
            Some(at) => at,
            None => now,
        };
        let report = ErasureReport {
            client_id: id,
            erased_at,
            erased,
        };
        if !report.erased.already {
            self.audit(
                tx.as_mut(),
                "client.erase",
                "client",
                Some(id.0),
                None,
                serde_json::to_value(&report.erased).ok(),
            )
            .await?;
            tx.commit().await?;
            if let Err(e) = self.store.purge_overwritten().await {
                tracing::warn!(error = %e, "the erased values may linger in the database's journal until its next checkpoint");
            }
            tracing::info!(
                pets = report.erased.pets,
                appointments = report.erased.appointments,
                voided = report.erased.messages_voided,
                "owner erased"
            );
        }
        Ok(report)
    }

    /// Forget the recipient and error text of messages finished more than
    /// `keep` ago (by this app's clock); returns how many. The worker runs it
    /// (`ChannelSettings::keep_recipients`).
    #[tracing::instrument(skip_all)]
    pub async fn forget_recipients(&self, keep: Duration) -> Result<u64> {
        self.require(Permission::ManageNotifications)?;
        let Some(before) = self.now().checked_sub_signed(keep) else {
            return Ok(0);
        };
        let mut tx = self.store.write().await?;
        let n = tx.forget_recipients(before).await?;
        tx.commit().await?;
        if n > 0 {
            tracing::info!(messages = n, "old recipients forgotten");
        }
        Ok(n)
    }
}
