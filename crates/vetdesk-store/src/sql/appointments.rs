//! Appointments: reads, the filtered list, the history, and the columns
//! both engines write an appointment with.

use super::page::Where;
use super::rows;
use super::{args, like_pattern, Dialect, SqlTx, Value};
use crate::{AppointmentFilter, AppointmentView, Page, Result};
use vetdesk_core::{Appointment, AppointmentId, HistoryEntry};

const VIEW_COLS: &str = "a.*, p.name AS pet_name, c.name AS client_name, \
     v.name AS vet_name, t.name AS type_name, t.colour AS colour";
const VIEW_FROM: &str = "appointments a \
     JOIN pets p ON p.id = a.pet_id \
     JOIN clients c ON c.id = a.client_id \
     JOIN vets v ON v.id = a.vet_id \
     JOIN appointment_types t ON t.id = a.type_id";

fn filter(f: &AppointmentFilter) -> Where {
    let mut w = Where::new("a.deleted_at IS NULL");
    w.and_in("a.status", f.statuses.iter().map(|s| s.as_str()));
    if let Some(c) = f.clinic {
        w.and("a.clinic_id = {}", c.0);
    }
    if let Some(clinics) = &f.clinics {
        w.and_among("a.clinic_id", clinics);
    }
    if let Some(v) = f.vet {
        w.and("a.vet_id = {}", v.0);
    }
    if let Some(c) = f.client {
        w.and("a.client_id = {}", c.0);
    }
    if let Some(p) = f.pet {
        w.and("a.pet_id = {}", p.0);
    }
    if let Some(from) = f.from {
        w.and("a.start_at >= {}", from);
    }
    if let Some(to) = f.to {
        w.and("a.start_at < {}", to);
    }
    if let Some(text) = f.text.as_deref().filter(|t| !t.trim().is_empty()) {
        w.and(
            "(p.search_name LIKE {} ESCAPE '\\' OR c.search_name LIKE {} ESCAPE '\\')",
            like_pattern(text),
        );
    }
    w
}

/// The columns an appointment is written with and their values, in order
/// (its `version`, `created_at` and `updated_at` follow them). Whether it
/// holds time is not among them: both engines derive `holds_time` from the
/// status in a generated column.
pub(crate) fn appointment_columns(a: &Appointment) -> ([&'static str; 18], Vec<Value>) {
    let blocked = a.blocked();
    let cols = [
        "id",
        "clinic_id",
        "vet_id",
        "pet_id",
        "client_id",
        "type_id",
        "start_at",
        "end_at",
        "buffer_before_min",
        "buffer_after_min",
        "blocked_start",
        "blocked_end",
        "status",
        "reason",
        "notes",
        "cancel_reason",
        "created_by",
        "updated_by",
    ];
    let values = args![
        a.id.0,
        a.clinic_id.0,
        a.vet_id.0,
        a.pet_id.0,
        a.client_id.0,
        a.type_id.0,
        a.slot.start(),
        a.slot.end(),
        a.buffer_before_min,
        a.buffer_after_min,
        blocked.start(),
        blocked.end(),
        a.status.as_str(),
        a.reason.as_deref(),
        a.notes.as_deref(),
        a.cancel_reason.as_deref(),
        a.created_by.0.as_str(),
        a.updated_by.0.as_str()
    ];
    (cols, values)
}

impl<D: Dialect> SqlTx<D> {
    pub(crate) async fn appointment(&mut self, id: AppointmentId) -> Result<Option<Appointment>> {
        let sql = "SELECT * FROM appointments WHERE id = $1 AND deleted_at IS NULL";
        self.one(sql, args![id.0], |r| rows::appointment(&r)).await
    }

    pub(crate) async fn appointment_view(
        &mut self,
        id: AppointmentId,
    ) -> Result<Option<AppointmentView>> {
        let sql =
            format!("SELECT {VIEW_COLS} FROM {VIEW_FROM} WHERE a.id = $1 AND a.deleted_at IS NULL");
        self.one(&sql, args![id.0], rows::appointment_view).await
    }

    #[tracing::instrument(skip_all)]
    pub(crate) async fn appointments(
        &mut self,
        f: &AppointmentFilter,
    ) -> Result<Page<AppointmentView>> {
        let order = "a.start_at, a.id";
        let (limit, offset) = (f.limit, f.offset);
        let read = rows::appointment_view;
        self.page(VIEW_COLS, VIEW_FROM, filter(f), order, limit, offset, read)
            .await
    }

    pub(crate) async fn history(&mut self, id: AppointmentId) -> Result<Vec<HistoryEntry>> {
        let sql = "SELECT * FROM appointment_history WHERE appointment_id = $1 ORDER BY seq";
        self.all(sql, args![id.0], rows::history).await
    }

    pub(crate) async fn add_history(&mut self, h: &HistoryEntry) -> Result<()> {
        self.exec(
            "INSERT INTO appointment_history (appointment_id, version, action, from_status, \
             to_status, start_at, end_at, note, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            args![
                h.appointment_id.0,
                h.version,
                h.action.as_str(),
                h.from_status.map(|s| s.as_str()),
                h.to_status.as_str(),
                h.slot.start(),
                h.slot.end(),
                h.note.as_deref(),
                h.actor.0.as_str(),
                h.at
            ],
        )
        .await?;
        Ok(())
    }
}
