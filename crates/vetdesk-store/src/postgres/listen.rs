//! Committed changes from every store on the database: a trigger on
//! `change_log` calls `pg_notify`, and each `PgStore` keeps one connection
//! LISTENing and forwards what it hears. When that connection drops, the
//! changes committed before it is back are read from `change_log` and
//! forwarded too.

use crate::{Change, CHANGE_BUFFER};
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::broadcast;

const LISTEN_RETRY_MIN: Duration = Duration::from_millis(100);
const LISTEN_RETRY_MAX: Duration = Duration::from_secs(30);

/// Hand every change the server announces to this store's subscribers, until
/// the pool closes. A lost connection is re-established (LISTENing again), and
/// the changes committed while it was down are then read back from
/// `change_log` and handed on in order, so a subscriber misses nothing.
pub(super) async fn forward_changes(mut listener: PgListener, changes: broadcast::Sender<Change>) {
    let mut retry = LISTEN_RETRY_MIN;
    // The newest change handed on, and whether a gap after it needs reading back.
    let mut last_seq = match latest_seq(&mut listener).await {
        Ok(seq) => seq,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the change log's position; replaying from its start after a reconnect");
            0
        }
    };
    let mut gap = false;
    // Changes already handed on by a replay, which their own announcement may repeat.
    let mut replayed = std::collections::HashSet::new();
    loop {
        if gap {
            // Through the listener: it reconnects and LISTENs again before this
            // query runs, so every change is either in its answer or announced after.
            match replay_since(&mut listener, last_seq).await {
                Ok(missed) => {
                    gap = false;
                    retry = LISTEN_RETRY_MIN;
                    tracing::info!(
                        missed = missed.len(),
                        after_seq = last_seq,
                        "listening for changes again; handing on those committed meanwhile"
                    );
                    replayed.clear();
                    for change in missed {
                        last_seq = last_seq.max(change.seq);
                        replayed.insert(change.seq);
                        let _ = changes.send(change);
                    }
                }
                Err(sqlx::Error::PoolClosed) => break,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?retry, "reconnecting to listen for changes failed; retrying");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(LISTEN_RETRY_MAX);
                }
            }
            continue;
        }
        match listener.try_recv().await {
            Ok(Some(n)) => {
                retry = LISTEN_RETRY_MIN;
                match serde_json::from_str::<Change>(n.payload()) {
                    Ok(change) if replayed.remove(&change.seq) => {}
                    // Nobody listening is fine.
                    Ok(change) => {
                        last_seq = last_seq.max(change.seq);
                        let _ = changes.send(change);
                    }
                    Err(e) => tracing::warn!(
                        error = %e,
                        payload = n.payload(),
                        "ignoring a change announcement that could not be read"
                    ),
                }
            }
            Ok(None) => {
                tracing::warn!("the connection listening for changes was lost; reconnecting");
                gap = true;
            }
            Err(sqlx::Error::PoolClosed) => break,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?retry, "listening for changes failed; retrying");
                gap = true;
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LISTEN_RETRY_MAX);
            }
        }
    }
}

/// The change log's newest position.
async fn latest_seq(listener: &mut PgListener) -> std::result::Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM change_log")
        .fetch_one(listener)
        .await
}

/// The changes committed after `seq`, oldest first, as their announcements
/// would have carried them. At most one more than a subscriber can hold: a
/// longer gap makes every subscriber lag, which tells it to reload everything.
async fn replay_since(
    listener: &mut PgListener,
    seq: i64,
) -> std::result::Result<Vec<Change>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT json_build_object(\
            'seq', seq, 'entity', entity, 'id', entity_id, 'clinic_id', clinic_id, \
            'version', version, 'op', op, \
            'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))::text \
         FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(seq)
    .bind(CHANGE_BUFFER as i64 + 1)
    .fetch_all(listener)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|row| match serde_json::from_str::<Change>(row) {
            Ok(change) => Some(change),
            Err(e) => {
                tracing::warn!(error = %e, row = %row, "ignoring a change log row that could not be read");
                None
            }
        })
        .collect())
}
