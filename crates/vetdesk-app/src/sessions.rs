//! Live sessions: who a bearer token is (and the idle time after which its
//! session ends), the single-use tickets that open the live event stream, and
//! watching a session so that a stream ends when its session does.
//!
//! Everything here is in the database, never in one server's memory: a
//! ticket issued by one `vetdesk serve` is redeemed on another, a sign-out on
//! one ends streams on the other (within [`Settings::stream_recheck`]).

use crate::access::{new_secret, token_hash};
use crate::{App, AppError, Result};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use vetdesk_core::{ClinicScope, Principal, User};
use vetdesk_store::{Entity, SessionRecord, StreamTicketRecord};

/// How long a stream ticket may wait to be redeemed, in seconds.
pub const STREAM_TICKET_SECS: i64 = 30;

/// A session's `last_seen_at` is written at most once in this many seconds
/// (so an ordinary request reads its session and writes nothing); the idle
/// time is therefore kept to within a minute.
pub const LAST_SEEN_STEP_SECS: i64 = 60;

/// What `POST /events/ticket` gives: a ticket that opens one event stream for
/// the session that asked, within [`STREAM_TICKET_SECS`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamTicket {
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
}

/// The session a live stream runs on, and who it is.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub principal: Principal,
    token_hash: String,
}

fn refused(why: impl Into<String>) -> AppError {
    AppError::Unauthenticated(why.into())
}

/// A token or ticket as sent, or `None` when it cannot be one.
fn plausible(secret: &str) -> Option<&str> {
    let s = secret.trim();
    (!s.is_empty() && s.len() <= 200).then_some(s)
}

/// Whether two scopes allow the same clinics (a new home clinic reorders the list only).
fn same_clinics(a: &ClinicScope, b: &ClinicScope) -> bool {
    match (a, b) {
        (ClinicScope::All, ClinicScope::All) => true,
        (ClinicScope::Only(x), ClinicScope::Only(y)) => {
            x.len() == y.len() && x.iter().all(|c| y.contains(c))
        }
        _ => false,
    }
}

/// Whether the next change concerns a user (`None`: the feed has closed).
async fn next_change(
    changes: Option<&mut tokio::sync::broadcast::Receiver<vetdesk_store::Change>>,
) -> Option<bool> {
    match changes {
        Some(rx) => match rx.recv().await {
            Ok(c) => Some(c.entity == Entity::User),
            Err(RecvError::Lagged(_)) => Some(true),
            Err(RecvError::Closed) => None,
        },
        None => std::future::pending().await,
    }
}

impl App {
    /// Refuse a session that has ended: revoked (signed out, or its user
    /// disabled, deleted or given another role), expired, idle for longer
    /// than [`Settings::session_idle`](crate::Settings::session_idle), or of
    /// a disabled user.
    fn check_session(
        &self,
        session: &SessionRecord,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if session.revoked_at.is_some() {
            return Err(refused("the session has ended; sign in again"));
        }
        if session.expires_at <= now {
            return Err(refused("the session has expired; sign in again"));
        }
        if let Some(idle) = self.settings.session_idle {
            if now - session.last_seen_at >= idle {
                return Err(refused(format!(
                    "the session has expired: it was not used for {} minutes; sign in again",
                    idle.num_minutes()
                )));
            }
        }
        if user.disabled {
            return Err(refused("this account is disabled; ask the clinic's admin"));
        }
        Ok(())
    }

    /// The principal of a live session (by its token's hash); `touch` records
    /// the use when the last one recorded is a minute old or more.
    async fn live_principal(&self, hash: &str, touch: bool) -> Result<Principal> {
        let found = self.store.read().await?.session(hash).await?;
        let Some((session, user)) = found else {
            return Err(refused("the token is not recognised; sign in again"));
        };
        let now = self.now();
        self.check_session(&session, &user, now)?;
        let step = Duration::seconds(LAST_SEEN_STEP_SECS);
        if touch && now - session.last_seen_at >= step {
            // Best effort: a busy store costs this request nothing; the next
            // use a minute on records it (or the session ends a minute early).
            if let Err(e) = self.touch(hash, now, now - step).await {
                tracing::warn!(error = %e, "could not record a session's use");
            }
        }
        Ok(Principal::of(&user))
    }

    async fn touch(&self, hash: &str, at: DateTime<Utc>, if_before: DateTime<Utc>) -> Result<()> {
        let mut tx = self.store.write().await?;
        tx.touch_session(hash, at, if_before).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who a bearer token belongs to, if its session is live; a use of it.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        self.authenticate_use(token, true).await
    }

    /// As [`authenticate`](Self::authenticate); `is_use: false` for a
    /// request the client made on its own (a refetch nobody at the screen
    /// asked for), which does not keep the session from going idle. A client
    /// can only shorten its session this way, so it is taken at its word.
    pub async fn authenticate_use(&self, token: &str, is_use: bool) -> Result<Principal> {
        let Some(token) = plausible(token) else {
            return Err(refused("sign in first: no valid bearer token was given"));
        };
        self.live_principal(&token_hash(token), is_use).await
    }

    /// The live session a bearer token opened, for a stream that should end
    /// with it. Not a use: opening or holding a stream keeps no session alive.
    pub async fn live_session(&self, token: &str) -> Result<LiveSession> {
        let Some(token) = plausible(token) else {
            return Err(refused("sign in first: no valid bearer token was given"));
        };
        let hash = token_hash(token);
        let principal = self.live_principal(&hash, false).await?;
        Ok(LiveSession {
            principal,
            token_hash: hash,
        })
    }

    /// A ticket that opens one event stream for the session `token` opened,
    /// within [`STREAM_TICKET_SECS`]. Only its hash is stored. Not a use in
    /// itself (the request that asks for it may be, as any request).
    #[tracing::instrument(skip_all)]
    pub async fn issue_stream_ticket(&self, token: &str) -> Result<StreamTicket> {
        let live = self.live_session(token).await?;
        let now = self.now();
        let ticket = new_secret("vdt_");
        let record = StreamTicketRecord {
            ticket_hash: token_hash(&ticket),
            session_hash: live.token_hash,
            created_at: now,
            expires_at: now + Duration::seconds(STREAM_TICKET_SECS),
        };
        let mut tx = self.store.write().await?;
        tx.add_stream_ticket(&record, now).await?;
        tx.commit().await?;
        Ok(StreamTicket {
            ticket,
            expires_at: record.expires_at,
        })
    }

    /// Redeem a stream ticket: it is deleted as it is read (one statement), so
    /// it opens at most one stream whichever server sees it; an expired one is
    /// refused (and gone too), and so is one whose session has ended since.
    #[tracing::instrument(skip_all)]
    pub async fn redeem_stream_ticket(&self, ticket: &str) -> Result<LiveSession> {
        let Some(ticket) = plausible(ticket) else {
            return Err(refused("the stream ticket is empty or malformed"));
        };
        let mut tx = self.store.write().await?;
        let taken = tx.take_stream_ticket(&token_hash(ticket)).await?;
        tx.commit().await?;
        let Some(taken) = taken else {
            return Err(refused(
                "the stream ticket is unknown or was already used; ask for a new one (POST /api/v1/events/ticket)",
            ));
        };
        if taken.expires_at <= self.now() {
            return Err(refused(format!(
                "the stream ticket has expired (a ticket lasts {STREAM_TICKET_SECS} seconds); ask for a new one"
            )));
        }
        let principal = self.live_principal(&taken.session_hash, false).await?;
        Ok(LiveSession {
            principal,
            token_hash: taken.session_hash,
        })
    }

    /// Whether `live`'s session still stands as it was: refused once it has
    /// ended, or its user's role, vet or clinics have changed.
    pub async fn still_live(&self, live: &LiveSession) -> Result<()> {
        let now = self.live_principal(&live.token_hash, false).await?;
        if now.role != live.principal.role || now.vet_id != live.principal.vet_id {
            return Err(refused("your role has changed; sign in again"));
        }
        if !same_clinics(&now.clinics, &live.principal.clinics) {
            return Err(refused(
                "the clinics you may see have changed; sign in again",
            ));
        }
        Ok(())
    }

    /// Tell this process's streams to look at their sessions now (a sign-out
    /// or a user's change; other servers see it within their recheck time).
    pub(crate) fn wake_streams(&self) {
        self.sessions_changed
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Resolves, with the reason, once `live`'s session has ended. It looks
    /// every [`Settings::stream_recheck`](crate::Settings::stream_recheck),
    /// and at once on a sign-out in this process or a change to any user
    /// (which reaches every server through the change feed). A store that
    /// fails to answer is not an ending: the next look tries again.
    pub async fn session_ends(&self, live: &LiveSession) -> AppError {
        let mut changes = Some(self.subscribe());
        let mut local = self.sessions_changed.subscribe();
        let mut local_open = true;
        let mut every = tokio::time::interval(self.settings.stream_recheck);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once: a session that ended before this watch
        // began (and so before it could be told) is found at the first look.
        loop {
            let look = tokio::select! {
                _ = every.tick() => true,
                // Some(true): a user changed (or changes were missed); None: the feed closed.
                changed = next_change(changes.as_mut()) => match changed {
                    Some(look) => look,
                    None => {
                        changes = None;
                        false
                    }
                },
                r = local.changed(), if local_open => {
                    local_open = r.is_ok();
                    true
                }
            };
            if !look {
                continue;
            }
            match self.still_live(live).await {
                Ok(()) => {}
                Err(e @ AppError::Unauthenticated(_)) => return e,
                Err(e) => tracing::warn!(error = %e, "could not look at a stream's session"),
            }
        }
    }
}
