-- vetdesk schema, SQLite. Never edit a migration once released: add a new one.
--
-- Conventions (shared with migrations/postgres):
--   * ids are UUIDv7 (16-byte BLOBs), minted where the record is created;
--   * instants are INTEGER milliseconds since the Unix epoch, UTC;
--   * local dates are TEXT 'YYYY-MM-DD', local times INTEGER minutes since midnight;
--   * every row that can change has version, created_at, updated_at, and
--     deleted_at (a tombstone: rows are never removed, so sync can see deletions);
--   * every write appends to change_log in the same transaction.

CREATE TABLE clinics (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);

CREATE TABLE vets (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);

-- Part of the vet record: replaced whenever the vet is saved (and versioned with it).
CREATE TABLE vet_clinics (
    vet_id      BLOB NOT NULL REFERENCES vets(id),
    clinic_id   BLOB NOT NULL REFERENCES clinics(id),
    PRIMARY KEY (vet_id, clinic_id)
) WITHOUT ROWID;
CREATE INDEX vet_clinics_clinic ON vet_clinics(clinic_id);

CREATE TABLE clients (
    id                BLOB PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL,
    search_name       TEXT NOT NULL, -- name lower-cased in full Unicode (SQLite's lower() is ASCII-only)
    email             TEXT,
    phone             TEXT,
    preferred_channel TEXT CHECK (preferred_channel IN ('email', 'sms')),
    email_opt_out     INTEGER NOT NULL DEFAULT 0,
    sms_opt_out       INTEGER NOT NULL DEFAULT 0,
    version           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER
);
CREATE INDEX clients_search_name ON clients(search_name);

CREATE TABLE pets (
    id            BLOB PRIMARY KEY NOT NULL,
    owner_id      BLOB NOT NULL REFERENCES clients(id),
    name          TEXT NOT NULL,
    search_name   TEXT NOT NULL,
    species       TEXT NOT NULL,
    breed         TEXT,
    date_of_birth TEXT,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER
);
CREATE INDEX pets_owner ON pets(owner_id);

CREATE TABLE appointment_types (
    id                BLOB PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL,
    duration_min      INTEGER NOT NULL CHECK (duration_min > 0),
    colour            TEXT NOT NULL,
    buffer_before_min INTEGER NOT NULL CHECK (buffer_before_min >= 0),
    buffer_after_min  INTEGER NOT NULL CHECK (buffer_after_min >= 0),
    version           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER
);

CREATE TABLE working_hours (
    id          BLOB PRIMARY KEY NOT NULL,
    vet_id      BLOB NOT NULL REFERENCES vets(id),
    clinic_id   BLOB NOT NULL REFERENCES clinics(id),
    weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6), -- 0 = Monday
    start_min   INTEGER NOT NULL CHECK (start_min >= 0),
    end_min     INTEGER NOT NULL CHECK (end_min > start_min AND end_min <= 1440),
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX working_hours_vet_clinic ON working_hours(vet_id, clinic_id);

CREATE TABLE date_overrides (
    id          BLOB PRIMARY KEY NOT NULL,
    vet_id      BLOB NOT NULL REFERENCES vets(id),
    clinic_id   BLOB NOT NULL REFERENCES clinics(id),
    date        TEXT NOT NULL,
    spans       TEXT NOT NULL, -- 'HH:MM-HH:MM,...'; empty = not working that day
    note        TEXT,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE UNIQUE INDEX date_overrides_one_per_day ON date_overrides(vet_id, clinic_id, date) WHERE deleted_at IS NULL;

CREATE TABLE time_off (
    id          BLOB PRIMARY KEY NOT NULL,
    vet_id      BLOB NOT NULL REFERENCES vets(id),
    start_at    INTEGER NOT NULL,
    end_at      INTEGER NOT NULL CHECK (end_at > start_at),
    reason      TEXT,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX time_off_vet_start ON time_off(vet_id, start_at);

CREATE TABLE appointments (
    id                BLOB PRIMARY KEY NOT NULL,
    clinic_id         BLOB NOT NULL REFERENCES clinics(id),
    vet_id            BLOB NOT NULL REFERENCES vets(id),
    pet_id            BLOB NOT NULL REFERENCES pets(id),
    client_id         BLOB NOT NULL REFERENCES clients(id),
    type_id           BLOB NOT NULL REFERENCES appointment_types(id),
    start_at          INTEGER NOT NULL,
    end_at            INTEGER NOT NULL CHECK (end_at > start_at),
    buffer_before_min INTEGER NOT NULL,
    buffer_after_min  INTEGER NOT NULL,
    -- The time the vet is kept busy: the slot widened by the buffers.
    blocked_start     INTEGER NOT NULL,
    blocked_end       INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN
                        ('scheduled', 'confirmed', 'checked_in', 'in_progress', 'completed', 'cancelled', 'no_show')),
    holds_time        INTEGER NOT NULL, -- 0 for cancelled and no_show
    reason            TEXT,
    notes             TEXT,
    cancel_reason     TEXT,
    created_by        TEXT NOT NULL,
    updated_by        TEXT NOT NULL,
    version           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER
);
-- Conflict checks and availability: a vet's time-holding appointments by time.
-- Covering (every column the query reads is in the index), so a month of a
-- busy clinic is read without a table lookup per appointment.
CREATE INDEX appointments_vet_blocked ON appointments(vet_id, blocked_start, blocked_end, start_at, end_at, id, holds_time, deleted_at)
    WHERE holds_time = 1 AND deleted_at IS NULL;
-- Calendars and lists.
CREATE INDEX appointments_clinic_start ON appointments(clinic_id, start_at);
CREATE INDEX appointments_vet_start ON appointments(vet_id, start_at);
CREATE INDEX appointments_client ON appointments(client_id, start_at);
CREATE INDEX appointments_pet ON appointments(pet_id, start_at);

CREATE TABLE appointment_history (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    appointment_id  BLOB NOT NULL REFERENCES appointments(id),
    version         INTEGER NOT NULL,
    action          TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT NOT NULL,
    start_at        INTEGER NOT NULL,
    end_at          INTEGER NOT NULL,
    note            TEXT,
    actor           TEXT NOT NULL,
    at              INTEGER NOT NULL
);
CREATE INDEX appointment_history_appointment ON appointment_history(appointment_id, seq);

-- Ordered log of every change, for sync and live refresh.
CREATE TABLE change_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    entity     TEXT NOT NULL,
    entity_id  BLOB NOT NULL,
    clinic_id  BLOB, -- the clinic whose calendars the change touches, when there is one
    version    INTEGER NOT NULL,
    op         TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    at         INTEGER NOT NULL
);
