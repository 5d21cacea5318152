-- Notifications: the transactional outbox, message templates and per-clinic
-- notification settings (same conventions as 0001).
--
-- An appointment change writes the messages it causes into `outbox` in the
-- same transaction; the worker claims due rows (claim_token + lease_until,
-- taken inside BEGIN IMMEDIATE, so two workers never hold the same row),
-- sends them, and records the outcome. Rows are never deleted.

CREATE TABLE outbox (
    id                  BLOB PRIMARY KEY NOT NULL,
    -- appointment.kind[-offset].channel.vVERSION: the same plan written twice adds nothing.
    idempotency_key     TEXT NOT NULL UNIQUE,
    appointment_id      BLOB NOT NULL REFERENCES appointments(id),
    appointment_version INTEGER NOT NULL,
    clinic_id           BLOB NOT NULL REFERENCES clinics(id),
    vet_id              BLOB NOT NULL REFERENCES vets(id),
    kind                TEXT NOT NULL CHECK (kind IN
                          ('confirmation', 'reminder', 'reschedule', 'cancellation', 'checked_in', 'starting_soon')),
    channel             TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'desktop')),
    offset_min          INTEGER,
    appointment_start   INTEGER NOT NULL,
    previous_start      INTEGER,
    due_at              INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped', 'voided')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    claimed_by          TEXT,
    claim_token         BLOB,
    lease_until         INTEGER,
    last_error          TEXT,
    sent_to             TEXT,
    provider_id         TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    finished_at         INTEGER
);
-- The worker's queue: pending rows by when they may next be tried.
CREATE INDEX outbox_queue ON outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_appointment ON outbox(appointment_id);
CREATE INDEX outbox_status ON outbox(status, due_at);

-- An admin's wording for one kind of message by one channel; without a row the built-in one applies.
CREATE TABLE message_templates (
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'desktop')),
    subject     TEXT,
    body        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (kind, channel)
) WITHOUT ROWID;

-- Reminder offsets, SMS quiet hours and the staff heads-up of one clinic; without a row the defaults apply.
CREATE TABLE notification_settings (
    clinic_id          BLOB PRIMARY KEY NOT NULL REFERENCES clinics(id),
    reminder_offsets   TEXT NOT NULL,          -- minutes, comma-separated, largest first ('' for none)
    quiet_start_min    INTEGER,                -- local minutes since midnight; both NULL for no quiet hours
    quiet_end_min      INTEGER,
    staff_heads_up_min INTEGER,
    version            INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    CHECK ((quiet_start_min IS NULL) = (quiet_end_min IS NULL))
);
