-- Notifications: the transactional outbox, message templates and per-clinic
-- notification settings (same conventions as 0001).
--
-- An appointment change writes the messages it causes into `outbox` in the
-- same transaction; workers claim due rows with FOR UPDATE SKIP LOCKED and a
-- lease (claim_token + lease_until), send them, and record the outcome. Rows
-- are never deleted.

CREATE TABLE outbox (
    id                  uuid PRIMARY KEY,
    -- appointment.kind[-offset].channel.vVERSION: the same plan written twice adds nothing.
    idempotency_key     text COLLATE "C" NOT NULL UNIQUE,
    appointment_id      uuid NOT NULL REFERENCES appointments(id),
    appointment_version bigint NOT NULL,
    clinic_id           uuid NOT NULL REFERENCES clinics(id),
    vet_id              uuid NOT NULL REFERENCES vets(id),
    kind                text NOT NULL CHECK (kind IN
                          ('confirmation', 'reminder', 'reschedule', 'cancellation', 'checked_in', 'starting_soon')),
    channel             text NOT NULL CHECK (channel IN ('email', 'sms', 'desktop')),
    offset_min          integer,
    appointment_start   timestamptz NOT NULL,
    previous_start      timestamptz,
    due_at              timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    status              text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped', 'voided')),
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL,
    claimed_by          text,
    claim_token         uuid,
    lease_until         timestamptz,
    last_error          text,
    sent_to             text,
    provider_id         text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    finished_at         timestamptz
);
-- The worker's queue: pending rows by when they may next be tried.
CREATE INDEX outbox_queue ON outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_appointment ON outbox(appointment_id);
CREATE INDEX outbox_status ON outbox(status, due_at);

-- An admin's wording for one kind of message by one channel; without a row the built-in one applies.
CREATE TABLE message_templates (
    kind        text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'desktop')),
    subject     text,
    body        text NOT NULL,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  text NOT NULL,
    PRIMARY KEY (kind, channel)
);

-- Reminder offsets, SMS quiet hours and the staff heads-up of one clinic; without a row the defaults apply.
CREATE TABLE notification_settings (
    clinic_id          uuid PRIMARY KEY REFERENCES clinics(id),
    reminder_offsets   text NOT NULL,          -- minutes, comma-separated, largest first ('' for none)
    quiet_start_min    integer,                -- local minutes since midnight; both NULL for no quiet hours
    quiet_end_min      integer,
    staff_heads_up_min integer,
    version            bigint NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CHECK ((quiet_start_min IS NULL) = (quiet_end_min IS NULL))
);
