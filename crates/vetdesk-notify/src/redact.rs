//! Owners' addresses and phone numbers stay out of the log.
//!
//! A channel's error often quotes the recipient ("550 <ann@example.com>:
//! mailbox unavailable", "The 'To' number +447700900123 is not valid"). The
//! outbox keeps that text for the front desk, who need it to fix the address;
//! the log, which travels further, gets it with every email address and
//! phone-number-like run of digits replaced.

use regex::{Captures, Regex};
use std::sync::LazyLock;

static EMAIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+").ok());

/// A `+` or a digit, then digits and the separators people write numbers
/// with; only runs holding at least seven digits count (status codes such as
/// `550 5.1.1` do not).
static PHONE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\+?\d[\d ().\-]{4,}\d").ok());

const MIN_PHONE_DIGITS: usize = 7;

/// `text` with `known` (the recipient's address, as the outbox has it), every
/// email address and every phone number replaced by `[redacted]`.
pub fn redact(text: &str, known: &str) -> String {
    let mut out = if known.trim().is_empty() {
        text.to_string()
    } else {
        text.replace(known.trim(), "[redacted]")
    };
    if let Some(email) = EMAIL.as_ref() {
        out = email.replace_all(&out, "[redacted]").into_owned();
    }
    if let Some(phone) = PHONE.as_ref() {
        out = phone
            .replace_all(&out, |c: &Captures<'_>| {
                let run = &c[0];
                if run.chars().filter(char::is_ascii_digit).count() >= MIN_PHONE_DIGITS {
                    "[redacted]".to_string()
                } else {
                    run.to_string()
                }
            })
            .into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn addresses_and_numbers_are_replaced_and_status_codes_kept() {
        for (text, known, expected) in [
            (
                "550 5.1.1 <Ann.Lee+vet@mail.example.co.uk>: Recipient address rejected",
                "ann.lee+vet@mail.example.co.uk",
                "550 5.1.1 <[redacted]>: Recipient address rejected",
            ),
            (
                "the SMS gateway answered 400 Bad Request: The 'To' number +447700900123 is not a valid phone number.",
                "+447700900123",
                "the SMS gateway answered 400 Bad Request: The 'To' number [redacted] is not a valid phone number.",
            ),
            (
                "no route to +44 (0)7700 900-123 or 07700.900.124",
                "+44 7700 900123",
                "no route to [redacted] or [redacted]",
            ),
            (
                "the SMS gateway did not answer within 0.4 s (attempt 3 of 5)",
                "",
                "the SMS gateway did not answer within 0.4 s (attempt 3 of 5)",
            ),
        ] {
            assert_eq!(redact(text, known), expected, "{text}");
        }
    }
}
