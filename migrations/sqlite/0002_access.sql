-- Users, their sign-in sessions, and the audit log (same conventions as 0001).

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL,          -- lower-case
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'front_desk', 'vet')),
    vet_id        BLOB REFERENCES vets(id),
    password_hash TEXT NOT NULL,          -- argon2id, PHC string
    disabled      INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER,
    CHECK ((role = 'vet') = (vet_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_username ON users(username) WHERE deleted_at IS NULL;

-- A bearer token is never stored: only its SHA-256 (hex).
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id) WHERE revoked_at IS NULL;

-- Who did what, when, to which record, with the record before and after (JSON).
-- Append-only: the triggers refuse every update and delete.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor_id   BLOB,                      -- NULL for the local operator (CLI)
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  BLOB,
    before     TEXT,
    after      TEXT
);
CREATE INDEX audit_log_entity_id ON audit_log(entity_id) WHERE entity_id IS NOT NULL;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
