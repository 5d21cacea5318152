-- Idle sign-outs and single-use tickets for the live event stream.

-- When the session was last used (updated at most about once a minute, so a
-- request is not a write); a session unused for longer than the server's idle
-- time is refused. Existing sessions count as used when they began.
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz;
UPDATE sessions SET last_seen_at = created_at;

-- A ticket opens one event stream for the session that asked for it, once,
-- within about 30 seconds (browsers' EventSource cannot send a bearer token,
-- and a token in a URL ends up in proxies' and browsers' histories). Only its
-- SHA-256 (hex) is kept; redeeming it deletes the row, so a second use finds
-- nothing, whichever server it reaches.
CREATE TABLE stream_tickets (
    ticket_hash  text PRIMARY KEY,
    session_hash text NOT NULL REFERENCES sessions(token_hash),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX stream_tickets_expires ON stream_tickets(expires_at);
