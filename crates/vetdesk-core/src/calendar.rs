//! Calendar assembly: which local dates a view covers, and grouping of
//! appointments and free time by clinic-local day.

use crate::time::{to_local, week_start, DateRange};
use crate::ValidationError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Day,
    Week,
    Month,
}

impl FromStr for View {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" => Ok(View::Day),
            "week" => Ok(View::Week),
            "month" => Ok(View::Month),
            _ => Err(ValidationError::Choice {
                field: "view",
                value: s.to_string(),
                expected: "day, week, month",
            }),
        }
    }
}

/// The local dates a view shows around `date`: the day; its Monday-to-Sunday
/// week; or its calendar month.
pub fn view_range(view: View, date: NaiveDate) -> DateRange {
    match view {
        View::Day => DateRange {
            first: date,
            last: date,
        },
        View::Week => {
            let first = week_start(date);
            DateRange {
                first,
                last: first + Duration::days(6),
            }
        }
        View::Month => {
            let first = date.with_day(1).unwrap_or(date);
            let next_month = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
            };
            let last = next_month.and_then(|n| n.pred_opt()).unwrap_or(first);
            DateRange { first, last }
        }
    }
}

/// Items grouped under the local date their start falls on, one entry per day
/// of the range (empty days included, so a UI can draw them), items in start order.
pub fn group_by_local_day<T>(
    tz: Tz,
    range: DateRange,
    mut items: Vec<T>,
    start_of: impl Fn(&T) -> DateTime<Utc>,
) -> Vec<(NaiveDate, Vec<T>)> {
    items.sort_by_key(|i| start_of(i));
    let mut days: Vec<(NaiveDate, Vec<T>)> = range.days().map(|d| (d, Vec::new())).collect();
    for item in items {
        let date = to_local(tz, start_of(&item)).date();
        if let Some(idx) = usize::try_from((date - range.first).num_days())
            .ok()
            .filter(|i| *i < days.len())
        {
            days[idx].1.push(item);
        }
    }
    days
}
