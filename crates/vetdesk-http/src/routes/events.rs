//! `GET /events`: committed changes as server-sent events, for live calendars;
//! `POST /events/ticket`: the single-use ticket a browser opens it with.

use crate::dto::StreamTicketView;
use crate::error::ApiError;
use crate::extract::{Acting, BearerToken, Json, StreamSession};
use axum::response::sse::{Event, KeepAlive, Sse};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::ReceiverStream;
use vetdesk_app::{AppError, StreamTicket};

/// A ticket that opens one event stream for this session: pass it as
/// `GET /events?ticket=…` within 30 seconds. Browsers' `EventSource` cannot
/// send the bearer token, and a token in a URL would reach proxies' logs and
/// the browser's history; a ticket is worthless once used or expired.
#[utoipa::path(post, path = "/events/ticket", tag = "events",
    responses((status = 200, description = "A single-use ticket for `GET /events?ticket=…`", body = StreamTicketView)))]
pub async fn ticket(
    Acting(app): Acting,
    BearerToken(token): BearerToken,
) -> Result<Json<StreamTicket>, ApiError> {
    Ok(Json(app.issue_stream_ticket(&token).await?))
}

/// Every committed change as an event named `change` (its JSON in `data`);
/// a user limited to some clinics hears only of theirs.
/// A client that fell behind gets one `reload` event and should refetch.
/// When the session ends (signed out, idle, expired, the user disabled or
/// given another role) the stream sends one `ended` event (`{"reason": …}`)
/// and closes. Open it with a ticket (`?ticket=…`, from `POST /events/ticket`)
/// or the bearer token in the `Authorization` header; never a token in the URL.
#[utoipa::path(get, path = "/events", tag = "events",
    params(("ticket" = Option<String>, Query, max_length = 200, description = "A ticket from `POST /events/ticket` (single-use, 30 s); instead of `Authorization: Bearer`")),
    security(("bearer" = []), ()),
    responses((status = 200, description = "A text/event-stream of `change` events (data: ChangeView), `reload` events, and a last `ended` event when the session ends",
        content_type = "text/event-stream", body = String)))]
pub async fn events(
    Acting(app): Acting,
    StreamSession(live): StreamSession,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut changes = app.subscribe();
    tokio::spawn(async move {
        let ends = app.session_ends(&live);
        tokio::pin!(ends);
        loop {
            let event = tokio::select! {
                why = &mut ends => {
                    let _ = tx.send(Ok(ended(&why))).await;
                    return;
                }
                () = tx.closed() => return,
                item = changes.recv() => match item {
                    Ok(change) if !app.sees_change(&change) => continue,
                    Ok(change) => Event::default()
                        .event("change")
                        .json_data(&change)
                        .unwrap_or_else(|_| Event::default().event("reload").data("{}")),
                    Err(RecvError::Lagged(missed)) => Event::default()
                        .event("reload")
                        .data(format!("{{\"missed\":{missed}}}")),
                    Err(RecvError::Closed) => return,
                },
            };
            if tx.send(Ok(event)).await.is_err() {
                return;
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("heartbeat"),
    )
}

/// The last event of a stream whose session has ended.
fn ended(why: &AppError) -> Event {
    Event::default()
        .event("ended")
        .json_data(serde_json::json!({ "reason": why.to_string() }))
        .unwrap_or_else(|_| Event::default().event("ended").data("{}"))
}
