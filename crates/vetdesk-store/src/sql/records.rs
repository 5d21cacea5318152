//! Clinics, vets, clients, pets, appointment types and the schedule's records.

use super::page::Where;
use super::rows::{self, weekday_num};
use super::{args, expected, like_pattern, Dialect, SqlTx, Value};
use crate::{Entity, Result, Write};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use uuid::Uuid;
use vetdesk_core::*;

/// `INSERT INTO table (cols, version, created_at, updated_at) VALUES ($1, …)`.
pub(crate) fn insert_sql(table: &str, cols: &[&str]) -> String {
    let all: Vec<&str> = cols.iter().copied().chain(META_COLUMNS).collect();
    let placeholders: Vec<String> = (1..=all.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        all.join(", "),
        placeholders.join(", ")
    )
}

const META_COLUMNS: [&str; 3] = ["version", "created_at", "updated_at"];

/// The upsert every record is saved with: [`insert_sql`], then the version
/// read bound as the next placeholder. An insert must not find the row; an
/// update must find it live at that version (otherwise nothing is written,
/// and [`SqlTx::saved`] says why). `id`, `created_at` and `created_by` are
/// written only by the insert.
pub(crate) fn upsert_sql(table: &str, cols: &[&str]) -> String {
    let set: Vec<String> = cols
        .iter()
        .chain(META_COLUMNS.iter())
        .filter(|c| !["id", "created_at", "created_by"].contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "{} ON CONFLICT (id) DO UPDATE SET {} WHERE {table}.version = ${} AND {table}.deleted_at IS NULL",
        insert_sql(table, cols),
        set.join(", "),
        cols.len() + META_COLUMNS.len() + 1
    )
}

/// `values` followed by the meta columns' and then the version read.
pub(crate) fn with_meta(mut values: Vec<Value>, meta: &Meta, how: Option<Write>) -> Vec<Value> {
    values.extend(args![meta.version, meta.created_at, meta.updated_at]);
    if let Some(how) = how {
        values.push(expected(how).into());
    }
    values
}

/// Time off (of one vet, or all) overlapping `[$3, $2)`.
pub const TIME_OFF: &str =
    "SELECT * FROM time_off WHERE deleted_at IS NULL AND ($1 IS NULL OR vet_id = $1) \
     AND start_at < $2 AND end_at > $3 ORDER BY start_at";

/// Bounds for "all of time" that both engines can store (PostgreSQL's
/// `timestamptz` ends long before chrono's).
/// 0001-01-01 and 9999-12-31 UTC.
fn all_of_time() -> (DateTime<Utc>, DateTime<Utc>) {
    let at = |secs| DateTime::from_timestamp(secs, 0).unwrap_or_default();
    (at(-62_135_596_800), at(253_402_300_799))
}

impl<D: Dialect> SqlTx<D> {
    /// Save one record with [`upsert_sql`] and log the change.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn upsert(
        &mut self,
        entity: Entity,
        id: Uuid,
        clinic: Option<ClinicId>,
        cols: &[&str],
        values: Vec<Value>,
        meta: &Meta,
        how: Write,
    ) -> Result<()> {
        let sql = upsert_sql(entity.table(), cols);
        let values = with_meta(values, meta, Some(how));
        let rows = self.exec(&sql, values).await?;
        self.saved(rows, entity, id, clinic, meta, how).await
    }

    pub(crate) async fn clinic(&mut self, id: ClinicId) -> Result<Option<Clinic>> {
        let sql = "SELECT * FROM clinics WHERE id = $1 AND deleted_at IS NULL";
        self.one(sql, args![id.0], rows::clinic).await
    }

    pub(crate) async fn clinics(&mut self) -> Result<Vec<Clinic>> {
        let sql = "SELECT * FROM clinics WHERE deleted_at IS NULL ORDER BY name, id";
        self.all(sql, args![], rows::clinic).await
    }

    #[tracing::instrument(skip_all, fields(clinic = %c.id))]
    pub(crate) async fn save_clinic(&mut self, c: &Clinic, how: Write) -> Result<()> {
        let cols = ["id", "name", "time_zone"];
        let values = args![c.id.0, c.name.as_str(), c.time_zone.name()];
        self.upsert(
            Entity::Clinic,
            c.id.0,
            Some(c.id),
            &cols,
            values,
            &c.meta,
            how,
        )
        .await
    }

    /// The live clinic links of a link table (`vet_clinics`, `user_clinics`)
    /// whose owner column is `owner` (every owner's when `id` is `None`), by owner.
    pub(crate) async fn clinic_links(
        &mut self,
        table: &str,
        owner: &str,
        id: Option<Uuid>,
    ) -> Result<HashMap<Uuid, Vec<ClinicId>>> {
        let sql = format!(
            "SELECT l.{owner} AS link_owner, l.clinic_id FROM {table} l \
             JOIN clinics c ON c.id = l.clinic_id AND c.deleted_at IS NULL \
             WHERE l.deleted_at IS NULL AND ($1 IS NULL OR l.{owner} = $1) \
             ORDER BY l.{owner}, l.clinic_id"
        );
        let links = self
            .all(&sql, args![id], |r| {
                Ok((r.uuid("link_owner")?, ClinicId(r.uuid("clinic_id")?)))
            })
            .await?;
        let mut by_owner: HashMap<Uuid, Vec<ClinicId>> = HashMap::new();
        for (owner, clinic) in links {
            by_owner.entry(owner).or_default().push(clinic);
        }
        Ok(by_owner)
    }

    /// The live clinics of the given vets (all vets when `None`), by vet.
    async fn clinics_of(&mut self, vet: Option<VetId>) -> Result<HashMap<Uuid, Vec<ClinicId>>> {
        self.clinic_links("vet_clinics", "vet_id", vet.map(|v| v.0))
            .await
    }

    pub(crate) async fn vet(&mut self, id: VetId) -> Result<Option<Vet>> {
        let sql = "SELECT * FROM vets WHERE id = $1 AND deleted_at IS NULL";
        let Some(mut vet) = self.one(sql, args![id.0], rows::vet).await? else {
            return Ok(None);
        };
        vet.clinics = self
            .clinics_of(Some(id))
            .await?
            .remove(&id.0)
            .unwrap_or_default();
        Ok(Some(vet))
    }

    pub(crate) async fn vets(&mut self, clinic: Option<ClinicId>) -> Result<Vec<Vet>> {
        let mut vets = self
            .all(
                "SELECT v.* FROM vets v WHERE v.deleted_at IS NULL AND ($1 IS NULL OR EXISTS \
                 (SELECT 1 FROM vet_clinics vc WHERE vc.vet_id = v.id AND vc.clinic_id = $1 \
                 AND vc.deleted_at IS NULL)) ORDER BY v.name, v.id",
                args![clinic.map(|c| c.0)],
                rows::vet,
            )
            .await?;
        let mut clinics = self.clinics_of(None).await?;
        for v in &mut vets {
            v.clinics = clinics.remove(&v.id.0).unwrap_or_default();
        }
        Ok(vets)
    }

    /// A vet and the clinics they work at, which are part of the vet record:
    /// links no longer listed are tombstoned, and a link listed again comes back.
    #[tracing::instrument(skip_all, fields(vet = %v.id))]
    pub(crate) async fn save_vet(&mut self, v: &Vet, how: Write) -> Result<()> {
        let cols = ["id", "name", "email"];
        let values = args![v.id.0, v.name.as_str(), v.email.as_ref().map(Email::as_str)];
        self.upsert(Entity::Vet, v.id.0, None, &cols, values, &v.meta, how)
            .await?;
        let listed: Vec<Uuid> = v.clinics.iter().map(|c| c.0).collect();
        self.save_clinic_links("vet_clinics", "vet_id", v.id.0, &listed, v.meta.updated_at)
            .await
    }

    /// Make a link table's live links of `id` exactly `listed`: links no
    /// longer listed are tombstoned, and a link listed again comes back.
    pub(crate) async fn save_clinic_links(
        &mut self,
        table: &str,
        owner: &str,
        id: Uuid,
        listed: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<()> {
        let current = self
            .all(
                &format!("SELECT clinic_id, deleted_at FROM {table} WHERE {owner} = $1"),
                args![id],
                |r| Ok((r.uuid("clinic_id")?, r.opt_instant("deleted_at")?.is_none())),
            )
            .await?;
        for (clinic, live) in &current {
            if *live && !listed.contains(clinic) {
                self.exec(
                    &format!(
                        "UPDATE {table} SET deleted_at = $1, updated_at = $1, version = version + 1 \
                         WHERE {owner} = $2 AND clinic_id = $3"
                    ),
                    args![at, id, *clinic],
                )
                .await?;
            }
        }
        for clinic in listed {
            match current.iter().find(|(c, _)| c == clinic) {
                Some((_, true)) => {}
                Some((_, false)) => {
                    self.exec(
                        &format!(
                            "UPDATE {table} SET deleted_at = NULL, updated_at = $1, \
                             version = version + 1 WHERE {owner} = $2 AND clinic_id = $3"
                        ),
                        args![at, id, *clinic],
                    )
                    .await?;
                }
                None => {
                    self.exec(
                        &format!(
                            "INSERT INTO {table} ({owner}, clinic_id, version, created_at, updated_at) \
                             VALUES ($1, $2, 1, $3, $3)"
                        ),
                        args![id, *clinic, at],
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn client(&mut self, id: ClientId) -> Result<Option<Client>> {
        let sql = "SELECT * FROM clients WHERE id = $1 AND deleted_at IS NULL";
        self.one(sql, args![id.0], rows::client).await
    }

    /// Owners whose name, email or phone contains `text`; with `within`,
    /// only those seen at one of those clinics.
    pub(crate) async fn clients(
        &mut self,
        text: Option<&str>,
        limit: u32,
        within: Option<&[ClinicId]>,
    ) -> Result<Vec<Client>> {
        let mut w = Where::new("c.deleted_at IS NULL");
        if let Some(pat) = text.filter(|t| !t.trim().is_empty()).map(like_pattern) {
            w.and(
                "(c.search_name LIKE {} ESCAPE '\\' OR lower(coalesce(c.email, '')) LIKE {} ESCAPE '\\' \
                 OR coalesce(c.phone, '') LIKE {} ESCAPE '\\')",
                pat,
            );
        }
        if let Some(clinics) = within {
            w.and_owner_seen_at("c", clinics);
        }
        let l = w.bind(limit);
        let sql = format!(
            "SELECT c.* FROM clients c{} ORDER BY c.search_name, c.id LIMIT {l}",
            w.sql
        );
        self.all(&sql, w.args, rows::client).await
    }

    /// Whether a live owner is seen at one of `clinics`.
    pub(crate) async fn client_seen_at(
        &mut self,
        id: ClientId,
        clinics: &[ClinicId],
    ) -> Result<bool> {
        let mut w = Where::new("c.deleted_at IS NULL");
        w.and("c.id = {}", id.0);
        w.and_owner_seen_at("c", clinics);
        let sql = format!("SELECT count(*) AS n FROM clients c{}", w.sql);
        Ok(self.one(&sql, w.args, |r| r.int("n")).await?.unwrap_or(0) > 0)
    }

    #[tracing::instrument(skip_all, fields(client = %c.id))]
    pub(crate) async fn save_client(&mut self, c: &Client, how: Write) -> Result<()> {
        let cols = [
            "id",
            "name",
            "search_name",
            "email",
            "phone",
            "preferred_channel",
            "email_opt_out",
            "sms_opt_out",
            "home_clinic_id",
        ];
        let values = args![
            c.id.0,
            c.name.as_str(),
            search_key(c.name.as_str()),
            c.email.as_ref().map(Email::as_str),
            c.phone.as_ref().map(Phone::as_str),
            c.preferences.preferred.map(|p| p.as_str()),
            c.preferences.email_opt_out,
            c.preferences.sms_opt_out,
            c.home_clinic_id.map(|h| h.0)
        ];
        self.upsert(Entity::Client, c.id.0, None, &cols, values, &c.meta, how)
            .await
    }

    pub(crate) async fn pet(&mut self, id: PetId) -> Result<Option<Pet>> {
        let sql = "SELECT * FROM pets WHERE id = $1 AND deleted_at IS NULL";
        self.one(sql, args![id.0], rows::pet).await
    }

    /// Pets (of one owner, whose name contains `text`); with `within`, only
    /// those whose owner is seen at one of those clinics.
    pub(crate) async fn pets(
        &mut self,
        owner: Option<ClientId>,
        text: Option<&str>,
        limit: u32,
        within: Option<&[ClinicId]>,
    ) -> Result<Vec<Pet>> {
        let mut w = Where::new("p.deleted_at IS NULL");
        if let Some(o) = owner {
            w.and("p.owner_id = {}", o.0);
        }
        if let Some(pat) = text.filter(|t| !t.trim().is_empty()).map(like_pattern) {
            w.and("p.search_name LIKE {} ESCAPE '\\'", pat);
        }
        if let Some(clinics) = within {
            w.and_owner_seen_at("c", clinics);
        }
        let l = w.bind(limit);
        let sql = format!(
            "SELECT p.* FROM pets p JOIN clients c ON c.id = p.owner_id{} \
             ORDER BY p.search_name, p.id LIMIT {l}",
            w.sql
        );
        self.all(&sql, w.args, rows::pet).await
    }

    #[tracing::instrument(skip_all, fields(pet = %p.id))]
    pub(crate) async fn save_pet(&mut self, p: &Pet, how: Write) -> Result<()> {
        let cols = [
            "id",
            "owner_id",
            "name",
            "search_name",
            "species",
            "breed",
            "date_of_birth",
        ];
        let values = args![
            p.id.0,
            p.owner.0,
            p.name.as_str(),
            search_key(p.name.as_str()),
            p.species.as_str(),
            p.breed.as_deref(),
            p.date_of_birth
        ];
        self.upsert(Entity::Pet, p.id.0, None, &cols, values, &p.meta, how)
            .await
    }

    pub(crate) async fn appointment_type(
        &mut self,
        id: AppointmentTypeId,
    ) -> Result<Option<AppointmentType>> {
        let sql = "SELECT * FROM appointment_types WHERE id = $1 AND deleted_at IS NULL";
        self.one(sql, args![id.0], rows::appointment_type).await
    }

    pub(crate) async fn appointment_types(&mut self) -> Result<Vec<AppointmentType>> {
        let sql = "SELECT * FROM appointment_types WHERE deleted_at IS NULL ORDER BY name, id";
        self.all(sql, args![], rows::appointment_type).await
    }

    #[tracing::instrument(skip_all, fields(appointment_type = %t.id))]
    pub(crate) async fn save_appointment_type(
        &mut self,
        t: &AppointmentType,
        how: Write,
    ) -> Result<()> {
        let cols = [
            "id",
            "name",
            "duration_min",
            "colour",
            "buffer_before_min",
            "buffer_after_min",
        ];
        let values = args![
            t.id.0,
            t.name.as_str(),
            t.duration_min,
            t.colour.as_str(),
            t.buffer_before_min,
            t.buffer_after_min
        ];
        let entity = Entity::AppointmentType;
        self.upsert(entity, t.id.0, None, &cols, values, &t.meta, how)
            .await
    }

    pub(crate) async fn working_hours(
        &mut self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
    ) -> Result<Vec<WorkingHours>> {
        self.all(
            "SELECT * FROM working_hours WHERE deleted_at IS NULL AND ($1 IS NULL OR vet_id = $1) \
             AND ($2 IS NULL OR clinic_id = $2) ORDER BY vet_id, clinic_id, weekday, start_min",
            args![vet.map(|v| v.0), clinic.map(|c| c.0)],
            rows::working_hours,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(working_hours = %w.id))]
    pub(crate) async fn save_working_hours(&mut self, w: &WorkingHours, how: Write) -> Result<()> {
        let cols = [
            "id",
            "vet_id",
            "clinic_id",
            "weekday",
            "start_min",
            "end_min",
            "valid_from",
            "valid_to",
        ];
        let values = args![
            w.id.0,
            w.vet_id.0,
            w.clinic_id.0,
            weekday_num(w.weekday),
            i64::from(w.span.start_min()),
            i64::from(w.span.end_min()),
            w.valid_from,
            w.valid_to
        ];
        let (entity, clinic) = (Entity::WorkingHours, Some(w.clinic_id));
        self.upsert(entity, w.id.0, clinic, &cols, values, &w.meta, how)
            .await
    }

    pub(crate) async fn date_overrides(
        &mut self,
        vet: Option<VetId>,
        clinic: Option<ClinicId>,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<DateOverride>> {
        self.all(
            "SELECT * FROM date_overrides WHERE deleted_at IS NULL AND ($1 IS NULL OR vet_id = $1) \
             AND ($2 IS NULL OR clinic_id = $2) AND date >= $3 AND date <= $4 ORDER BY date",
            args![vet.map(|v| v.0), clinic.map(|c| c.0), first, last],
            rows::date_override,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(date_override = %o.id))]
    pub(crate) async fn save_date_override(&mut self, o: &DateOverride, how: Write) -> Result<()> {
        let cols = ["id", "vet_id", "clinic_id", "date", "spans", "note"];
        let values = args![
            o.id.0,
            o.vet_id.0,
            o.clinic_id.0,
            o.date,
            LocalSpan::format_list(&o.spans),
            o.note.as_deref()
        ];
        let (entity, clinic) = (Entity::DateOverride, Some(o.clinic_id));
        self.upsert(entity, o.id.0, clinic, &cols, values, &o.meta, how)
            .await
    }

    pub(crate) async fn time_off(
        &mut self,
        vet: Option<VetId>,
        window: Option<Interval>,
    ) -> Result<Vec<TimeOff>> {
        let (from, to) = window.map_or_else(all_of_time, |w| (w.start(), w.end()));
        self.all(TIME_OFF, args![vet.map(|v| v.0), to, from], rows::time_off)
            .await
    }

    #[tracing::instrument(skip_all, fields(time_off = %t.id))]
    pub(crate) async fn save_time_off(&mut self, t: &TimeOff, how: Write) -> Result<()> {
        let cols = ["id", "vet_id", "start_at", "end_at", "reason"];
        let values = args![
            t.id.0,
            t.vet_id.0,
            t.period.start(),
            t.period.end(),
            t.reason.as_deref()
        ];
        self.upsert(Entity::TimeOff, t.id.0, None, &cols, values, &t.meta, how)
            .await
    }
}
