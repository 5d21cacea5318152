-- Users, their sign-in sessions, and the audit log (same conventions as 0001).

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text COLLATE "C" NOT NULL,   -- lower-case
    display_name  text COLLATE "C" NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'front_desk', 'vet')),
    vet_id        uuid REFERENCES vets(id),
    password_hash text NOT NULL,               -- argon2id, PHC string
    disabled      boolean NOT NULL DEFAULT false,
    version       bigint NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    CHECK ((role = 'vet') = (vet_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_username ON users(username) WHERE deleted_at IS NULL;

-- A bearer token is never stored: only its SHA-256 (hex).
CREATE TABLE sessions (
    token_hash  text PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users(id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX sessions_user ON sessions(user_id) WHERE revoked_at IS NULL;

-- Who did what, when, to which record, with the record before and after.
-- Append-only: the trigger refuses every update, delete and truncate.
CREATE TABLE audit_log (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor_id   uuid,                            -- NULL for the local operator (CLI)
    actor      text NOT NULL,
    role       text NOT NULL,
    action     text NOT NULL,
    entity     text NOT NULL,
    entity_id  uuid,
    before     jsonb,
    after      jsonb
);
CREATE INDEX audit_log_entity_id ON audit_log(entity_id) WHERE entity_id IS NOT NULL;

CREATE FUNCTION vetdesk_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION vetdesk_audit_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION vetdesk_audit_append_only();
