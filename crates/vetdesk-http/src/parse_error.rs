//! hyper answers a request it cannot parse itself, before vetdesk sees it:
//! `400` for a malformed head, `414` for a request line over 64 KB, `431`
//! for headers over its buffer. It sends those with no body. [`ProblemIo`]
//! wraps a connection and swaps such an answer, recognised by its status and
//! its `content-length: 0` (every answer of vetdesk's own carries a problem
//! document or content), for the same status with a problem document, so that
//! every refusal a client can get has a `code`.
//!
//! It reports itself as not vectored, so hyper writes each answer's head from
//! one buffer and the swap sees the whole of it.

use crate::error::{Problem, PROBLEM_JSON};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose bodiless parse-error answers become problem documents.
pub struct ProblemIo<S> {
    inner: S,
    swap: Option<Swap>,
}

/// A replacement being written, and how much of hyper's buffer it stands for.
struct Swap {
    bytes: Vec<u8>,
    written: usize,
    stands_for: usize,
}

impl<S> ProblemIo<S> {
    pub fn new(inner: S) -> Self {
        ProblemIo { inner, swap: None }
    }
}

/// The problem answer for hyper's own answer in `head`, if that is what it is.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let (status, reason, detail) = if head.starts_with(b"HTTP/1.1 400 ") {
        (
            400,
            "Bad Request",
            "the request could not be read as HTTP/1.1",
        )
    } else if head.starts_with(b"HTTP/1.1 414 ") {
        (
            414,
            "URI Too Long",
            "the request line is longer than the server reads (64 KB)",
        )
    } else if head.starts_with(b"HTTP/1.1 431 ") {
        (
            431,
            "Request Header Fields Too Large",
            "the request's headers are larger than the server reads",
        )
    } else {
        return None;
    };
    // hyper writes such an answer alone, head only, then closes: a buffer with
    // anything after the head (a body, say, that merely starts like one) is not it.
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    if end + 4 != head.len() {
        return None;
    }
    let fields = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    if !fields.contains("\r\ncontent-length: 0") {
        return None;
    }
    let problem = Problem::new(
        status,
        vetdesk_app::ErrorCode::InvalidInput.as_str(),
        reason,
        detail.to_string(),
    );
    let body = serde_json::to_vec(&problem).ok()?;
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    Some(out)
}

impl<S: AsyncRead + Unpin> AsyncRead for ProblemIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ProblemIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.swap.is_none() {
            match replacement(buf) {
                Some(bytes) => {
                    this.swap = Some(Swap {
                        bytes,
                        written: 0,
                        stands_for: buf.len(),
                    })
                }
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        let Some(swap) = this.swap.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while swap.written < swap.bytes.len() {
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &swap.bytes[swap.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            swap.written += n;
        }
        let stands_for = swap.stands_for;
        this.swap = None;
        Poll::Ready(Ok(stands_for))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyper_s_bodiless_refusals_are_swapped() {
        let hyper_414 = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let swapped = replacement(hyper_414).map(|b| String::from_utf8_lossy(&b).into_owned());
        let swapped = swapped.unwrap_or_default();
        assert!(
            swapped.starts_with("HTTP/1.1 414 URI Too Long\r\n"),
            "{swapped}"
        );
        assert!(swapped.contains("application/problem+json"));
        assert!(swapped.contains("\"code\":\"invalid_input\""));
        assert!(swapped.contains("\"status\":414"));
        // vetdesk's own 400 has a body; a 200 is never touched.
        assert!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 120\r\n\r\n{").is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        // Text that only looks like hyper's answer, with more after it, is left alone.
        assert!(
            replacement(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\nmore").is_none()
        );
    }
}
