//! Rendering for people: aligned tables and clinic-local times.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use vetdesk_app::views::LocalSlot;

/// A plain text table: columns padded to their widest cell, two spaces apart.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<const N: usize>(headers: [&str; N]) -> Self {
        Table {
            headers: headers.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table, each line starting with `indent`.
    pub fn render_indented(&self, indent: &str) -> String {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for line in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, cell) in line.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for line in std::iter::once(&self.headers).chain(&self.rows) {
            let mut text = String::from(indent);
            for (i, cell) in line.iter().enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                if i + 1 < line.len() {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }

    pub fn render(&self) -> String {
        self.render_indented("")
    }

    /// The table, or `empty` on its own line when there are no rows.
    pub fn render_or(&self, empty: &str) -> String {
        if self.is_empty() {
            format!("{empty}\n")
        } else {
            self.render()
        }
    }
}

/// `2025-03-04 09:30`
pub fn local_datetime(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// `09:30`
pub fn local_time(t: NaiveDateTime) -> String {
    t.format("%H:%M").to_string()
}

/// An instant in a clinic's wall time: `2025-03-04 09:30`.
pub fn instant_in(tz: Tz, t: DateTime<Utc>) -> String {
    local_datetime(vetdesk_core::time::to_local(tz, t))
}

/// `09:00–09:20`, with the end's date when it is another day.
pub fn span(slot: &LocalSlot) -> String {
    if slot.local_end.date() == slot.local_start.date() {
        format!(
            "{}–{}",
            local_time(slot.local_start),
            local_time(slot.local_end)
        )
    } else {
        format!(
            "{}–{}",
            local_time(slot.local_start),
            local_datetime(slot.local_end)
        )
    }
}

/// `2025-03-04 09:00–09:20`
pub fn dated_span(slot: &LocalSlot) -> String {
    format!("{} {}", slot.local_start.date(), span(slot))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_trim_the_last() {
        let mut t = Table::new(["NAME", "ZONE"]);
        t.row(["Riverside", "Europe/London"]);
        t.row(["Hudson Animal Hospital", "America/New_York"]);
        assert_eq!(
            t.render(),
            "NAME                    ZONE\n\
             Riverside               Europe/London\n\
             Hudson Animal Hospital  America/New_York\n"
        );
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        let mut t = Table::new(["A", "B"]);
        t.row(["Zoë", "x"]);
        t.row(["Bob", "y"]);
        assert_eq!(t.render(), "A    B\nZoë  x\nBob  y\n");
    }

    #[test]
    fn an_empty_table_says_so() {
        let t = Table::new(["A"]);
        assert_eq!(t.render_or("no clinics"), "no clinics\n");
    }
}
