//! Text with a NUL character is refused at the door. PostgreSQL cannot store
//! one in a `text` column (SQLite can), so a name, note or search term holding
//! `\u0000` would otherwise be a 500 on one store and accepted on the other.

use crate::error::ApiError;
use crate::BODY_LIMIT;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Middleware: a 422 problem for a NUL in the query string or in a JSON body's text.
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let in_query = req
        .uri()
        .query()
        .is_some_and(|q| q.as_bytes().windows(3).any(|w| w == b"%00"));
    if in_query {
        return refused().into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::Request {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                detail: format!("the body is larger than {BODY_LIMIT} bytes"),
            }
            .into_response()
        }
    };
    if has_nul_escape(&bytes) {
        return refused().into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn refused() -> ApiError {
    ApiError::App(
        vetdesk_core::ValidationError::Other("text must not contain NUL characters".into()).into(),
    )
}

/// Whether JSON text holds the escape `\u0000` (a raw NUL is not JSON at all).
/// `\\u0000` is a backslash followed by `u0000`, not a NUL: what counts is an
/// odd run of backslashes before the `u`.
fn has_nul_escape(json: &[u8]) -> bool {
    const ESCAPE: &[u8] = b"\\u0000";
    json.windows(ESCAPE.len())
        .enumerate()
        .filter(|(_, w)| *w == ESCAPE)
        .any(|(at, _)| {
            let backslashes = json[..=at]
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count();
            backslashes % 2 == 1
        })
}

#[cfg(test)]
mod tests {
    use super::has_nul_escape;

    #[test]
    fn finds_the_escape_and_not_an_escaped_backslash() {
        assert!(has_nul_escape(br#"{"name":"a\u0000b"}"#));
        assert!(has_nul_escape(br#"{"name":"\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"name":"a\\u0000b"}"#));
        assert!(has_nul_escape(br#"{"name":"\u00000"}"#));
        assert!(!has_nul_escape(br#"{"name":"plain"}"#));
        assert!(!has_nul_escape(br#"{"name":"\u0001"}"#));
    }
}
