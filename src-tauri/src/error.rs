//! What a failed command gives the UI: `{ code, message, details }`, with the
//! same codes and the same details as the HTTP API's problem documents. The
//! shape and its mapping from `AppError` are the wire crate's
//! ([`vetdesk_wire::ErrorBody`]), which both adapters share, so the two cannot
//! drift and this app links no HTTP server.

/// A command's error, serialised for the webview.
pub type CommandError = vetdesk_wire::ErrorBody;
