//! Filtered, paged lists: a `WHERE` built condition by condition, a count
//! and one page of rows.

use super::{Cols, Dialect, SqlTx, Value};
use crate::{Page, Result};

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
