//! [`Tx`] for both engines: each operation is one of [`SqlTx`]'s, or the
//! dialect's where the engines differ.

use super::{Engine, Range, SqlTx};
use crate::{AppointmentFilter, AppointmentView, Entity, Page, Result, Tx, Write};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use vetdesk_core::*;

#[async_trait]
impl<D: Engine> Tx for SqlTx<D> {
    async fn commit(self: Box<Self>) -> Result<()> {
        self.commit_and_announce().await
    }
    async fn savepoint(&mut self) -> Result<()> {
        SqlTx::savepoint(self).await
    }
    async fn release_savepoint(&mut self) -> Result<()> {
        SqlTx::release_savepoint(self).await
    }
    async fn rollback_to_savepoint(&mut self) -> Result<()> {
        SqlTx::rollback_to_savepoint(self).await
    }

    async fn clinic(&mut self, id: ClinicId) -> Result<Option<Clinic>> {
        SqlTx::clinic(self, id).await
    }
    async fn clinics(&mut self) -> Result<Vec<Clinic>> {
        SqlTx::clinics(self).await
    }
    async fn save_clinic(&mut self, c: &Clinic, how: Write) -> Result<()> {
        SqlTx::save_clinic(self, c, how).await
    }

    async fn vet(&mut self, id: VetId) -> Result<Option<Vet>> {
        SqlTx::vet(self, id).await
    }
    async fn vets(&mut self, clinic: Option<ClinicId>) -> Result<Vec<Vet>> {
        SqlTx::vets(self, clinic).await
    }
    async fn save_vet(&mut self, v: &Vet, how: Write) -> Result<()> {
        SqlTx::save_vet(self, v, how).await
    }

    async fn client(&mut self, id: ClientId) -> Result<Option<Client>> {
        SqlTx::client(self, id).await
    }
    async fn clients(
        &mut self,
        text: Option<&str>,
        limit: u32,
        within: Option<&[ClinicId]>,
    ) -> Result<Vec<Client>> {
        SqlTx::clients(self, text, limit, within).await
    }
    async fn client_seen_at(&mut self, id: ClientId, clinics: &[ClinicId]) -> Result<bool> {
        SqlTx::client_seen_at(self, id, clinics).await
    }
    async fn save_client(&mut self, c: &Client, how: Write) -> Result<()> {
        SqlTx::save_client(self, c, how).await
    }

    async fn pet(&mut self, id: PetId) -> Result<Option<Pet>> {
        SqlTx::pet(self, id).await
    }
    async fn pets(
        &mut self,
        owner: Option<ClientId>,
        text: Option<&str>,
        limit: u32,
        within: Option<&[ClinicId]>,
    ) -> Result<Vec<Pet>> {
        SqlTx::pets(self, owner, text, limit, within).await
    }
    async fn save_pet(&mut self, p: &Pet, how: Write) -> Result<()> {
        SqlTx::save_pet(self, p, how).await
    }

    async fn appointment_type(&mut self, id: AppointmentTypeId) -> Result<Option<AppointmentType>> {
        SqlTx::appointment_type(self, id).await
    }
    async fn appointment_types(&mut self) -> Result<Vec<AppointmentType>> {
        SqlTx::appointment_types(self).await
    }
    async fn save_appointment_type(&mut self, t: &AppointmentType, how: Write) -> Result<()> {
        SqlTx::save_appointment_type(self, t, how).await
    }

    async fn working_hours(
        &mut self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
    ) -> Result<Vec<WorkingHours>> {
        SqlTx::working_hours(self, vet, clinic).await
    }
    async fn save_working_hours(&mut self, w: &WorkingHours, how: Write) -> Result<()> {
        SqlTx::save_working_hours(self, w, how).await
    }

    async fn date_overrides(
        &mut self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<DateOverride>> {
        SqlTx::date_overrides(self, vet, clinic, first, last).await
    }
    async fn save_date_override(&mut self, o: &DateOverride, how: Write) -> Result<()> {
        SqlTx::save_date_override(self, o, how).await
    }

    async fn time_off(
        &mut self,
        vet: Option<VetId>,
        window: Option<Interval>,
    ) -> Result<Vec<TimeOff>> {
        SqlTx::time_off(self, vet, window).await
    }
    async fn save_time_off(&mut self, t: &TimeOff, how: Write) -> Result<()> {
        SqlTx::save_time_off(self, t, how).await
    }

    async fn delete(
        &mut self,
        entity: Entity,
        id: Uuid,
        expected_version: i64,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        self.tombstone(entity, id, expected_version, at).await
    }

    async fn appointment(&mut self, id: AppointmentId) -> Result<Option<Appointment>> {
        SqlTx::appointment(self, id).await
    }
    async fn appointment_view(&mut self, id: AppointmentId) -> Result<Option<AppointmentView>> {
        SqlTx::appointment_view(self, id).await
    }
    async fn appointments(&mut self, filter: &AppointmentFilter) -> Result<Page<AppointmentView>> {
        SqlTx::appointments(self, filter).await
    }
    #[tracing::instrument(skip_all, fields(vets = vets.len()))]
    async fn bookings(
        &mut self,
        vets: &[VetId],
        window: Interval,
    ) -> Result<Vec<(VetId, Booking)>> {
        D::bookings(
            self,
            &Range {
                vets,
                window,
                ignoring: None,
            },
        )
        .await
    }
    #[tracing::instrument(skip_all, fields(vets = vets.len()))]
    async fn busy(
        &mut self,
        vets: &[VetId],
        window: Interval,
        ignoring: Option<AppointmentId>,
    ) -> Result<Vec<(VetId, Interval)>> {
        D::busy(
            self,
            &Range {
                vets,
                window,
                ignoring,
            },
        )
        .await
    }
    async fn change_position(&mut self) -> Result<Option<i64>> {
        if !D::ORDERED_CHANGES {
            return Ok(None);
        }
        self.one(
            "SELECT COALESCE(MAX(seq), 0) AS seq FROM change_log",
            vec![],
            |c| c.int("seq"),
        )
        .await
    }
    #[tracing::instrument(skip_all, fields(appointment = %a.id))]
    async fn save_appointment(&mut self, a: &Appointment, how: Write) -> Result<()> {
        D::save_appointment(self, a, how).await
    }

    async fn history(&mut self, id: AppointmentId) -> Result<Vec<HistoryEntry>> {
        SqlTx::history(self, id).await
    }
    async fn add_history(&mut self, h: &HistoryEntry) -> Result<()> {
        SqlTx::add_history(self, h).await
    }
}
