//! Filtered, paged lists: a `WHERE` built condition by condition, a count
//! and one page of rows.

use super::{Cols, Dialect, SqlTx, Value};
use crate::{Page, Result};
use vetdesk_core::ClinicId;

/// A `WHERE` clause built up condition by condition, with its arguments.
#[derive(Default)]
pub(crate) struct Where {
    pub(crate) sql: String,
    pub(crate) args: Vec<Value>,
}

impl Where {
    pub(crate) fn new(first: &str) -> Self {
        Where {
            sql: format!(" WHERE {first}"),
            args: Vec::new(),
        }
    }
    /// The next placeholder, bound to `v`.
    pub(crate) fn bind(&mut self, v: impl Into<Value>) -> String {
        self.args.push(v.into());
        format!("${}", self.args.len())
    }
    /// `AND` a condition, with `{}` standing for `v`'s placeholder.
    pub(crate) fn and(&mut self, cond: &str, v: impl Into<Value>) {
        let p = self.bind(v);
        self.sql.push_str(" AND ");
        self.sql.push_str(&cond.replace("{}", &p));
    }
    /// `column IN (…)` over a principal's clinics: unlike a filter, a scope
    /// never widens, so no clinic at all keeps nothing.
    pub(crate) fn among(&mut self, column: &str, clinics: &[ClinicId]) -> String {
        if clinics.is_empty() {
            return "1 = 0".into();
        }
        let list: Vec<String> = clinics.iter().map(|c| self.bind(c.0)).collect();
        format!("{column} IN ({})", list.join(", "))
    }
    /// `AND` [`among`](Self::among).
    pub(crate) fn and_among(&mut self, column: &str, clinics: &[ClinicId]) {
        let cond = self.among(column, clinics);
        self.sql.push_str(" AND ");
        self.sql.push_str(&cond);
    }
    /// `AND` the owner (a `clients` row named `alias`) is seen at one of
    /// `clinics`: registered with one, or with an appointment at one. **The one
    /// statement of which owners a clinic sees** (ARCHITECTURE.md, "Who sees
    /// which clinic").
    pub(crate) fn and_owner_seen_at(&mut self, alias: &str, clinics: &[ClinicId]) {
        let home = self.among(&format!("{alias}.home_clinic_id"), clinics);
        let there = self.among("seen.clinic_id", clinics);
        self.sql.push_str(&format!(
            " AND ({home} OR EXISTS (SELECT 1 FROM appointments seen \
             WHERE seen.client_id = {alias}.id AND seen.deleted_at IS NULL AND {there}))"
        ));
    }
    /// `AND column IN (…)`, or nothing when `values` is empty.
    pub(crate) fn and_in<V: Into<Value>>(&mut self, column: &str, values: impl Iterator<Item = V>) {
        let list: Vec<String> = values.map(|v| self.bind(v)).collect();
        if !list.is_empty() {
            self.sql
                .push_str(&format!(" AND {column} IN ({})", list.join(", ")));
        }
    }
}

impl<D: Dialect> SqlTx<D> {
    /// One page of `SELECT cols FROM from WHERE … ORDER BY order`, with the
    /// number of rows on every page.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn page<T>(
        &mut self,
        cols: &str,
        from: &str,
        mut w: Where,
        order: &str,
        limit: u32,
        offset: u32,
        read: impl Fn(Cols<'_, D>) -> Result<T> + Send,
    ) -> Result<Page<T>> {
        let count = format!("SELECT count(*) AS n FROM {from}{}", w.sql);
        let total = self
            .one(&count, w.args.clone(), |r| r.int("n"))
            .await?
            .unwrap_or(0);
        let (l, o) = (w.bind(limit), w.bind(offset));
        let sql = format!(
            "SELECT {cols} FROM {from}{} ORDER BY {order} LIMIT {l} OFFSET {o}",
            w.sql
        );
        let items = self.all(&sql, w.args, read).await?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
            limit,
            offset,
        })
    }
}
