//! The rule every list follows: 50 rows unless asked for another number,
//! never more than the list's cap, and a time window that ends after it
//! starts. Written once, for appointments, the outbox and the audit log.

use crate::Result;
use chrono::{DateTime, Utc};
use vetdesk_core::ValidationError;

/// Rows on a page when the caller does not say.
pub const DEFAULT_PAGE: u32 = 50;

/// The page size for a request of `requested` rows (0: the default) of a
/// list that holds at most `max` of its `what` on a page.
pub(crate) fn page_limit(requested: u32, max: u32, what: &str) -> Result<u32> {
    match requested {
        0 => Ok(DEFAULT_PAGE.min(max)),
        n if n > max => {
            Err(ValidationError::Other(format!("a page holds at most {max} {what}")).into())
        }
        n => Ok(n),
    }
}

/// A window `[from, to)` must end after it starts (either end may be open).
pub(crate) fn window(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<()> {
    match (from, to) {
        (Some(f), Some(t)) if t <= f => Err(ValidationError::EndNotAfterStart {
            start: f.to_rfc3339(),
            end: t.to_rfc3339(),
        }
        .into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AppError;

    #[test]
    fn a_page_is_the_default_the_size_asked_or_refused_past_the_cap() {
        assert_eq!(page_limit(0, 500, "rows").ok(), Some(50));
        assert_eq!(page_limit(0, 20, "rows").ok(), Some(20));
        assert_eq!(page_limit(500, 500, "rows").ok(), Some(500));
        let err = page_limit(501, 500, "appointments").err();
        assert!(
            matches!(&err, Some(AppError::Invalid(ValidationError::Other(m))) if m == "a page holds at most 500 appointments"),
            "{err:?}"
        );
    }

    #[test]
    fn a_window_must_end_after_it_starts() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().ok();
        assert!(window(at("2030-01-02T00:00:00Z"), at("2030-01-01T00:00:00Z")).is_err());
        assert!(window(at("2030-01-01T00:00:00Z"), at("2030-01-01T00:00:00Z")).is_err());
        assert!(window(at("2030-01-01T00:00:00Z"), at("2030-01-02T00:00:00Z")).is_ok());
        assert!(window(None, at("2030-01-01T00:00:00Z")).is_ok());
    }
}
