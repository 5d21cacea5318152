//! `GET /events`: committed changes as server-sent events, for live calendars.

use crate::extract::Acting;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

/// Every committed change as an event named `change` (its JSON in `data`);
/// a user limited to some clinics hears only of theirs.
/// A client that fell behind gets one `reload` event and should refetch.
#[utoipa::path(get, path = "/events", tag = "events",
    responses((status = 200, description = "A text/event-stream of `change` events (data: ChangeView) and `reload` events",
        content_type = "text/event-stream", body = String)))]
pub async fn events(Acting(app): Acting) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let seen = app.clone();
    let stream = BroadcastStream::new(app.subscribe())
        .filter(move |item| match item {
            Ok(change) => seen.sees_change(change),
            Err(_) => true,
        })
        .map(|item| {
            Ok(match item {
                Ok(change) => Event::default()
                    .event("change")
                    .json_data(&change)
                    .unwrap_or_else(|_| Event::default().event("reload").data("{}")),
                Err(BroadcastStreamRecvError::Lagged(missed)) => Event::default()
                    .event("reload")
                    .data(format!("{{\"missed\":{missed}}}")),
            })
        });
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("heartbeat"),
    )
}
