-- vetdesk schema, PostgreSQL. Never edit a migration once released: add a new one.
--
-- The same tables, columns and meaning as migrations/sqlite/0001_schema.sql, in
-- native types:
--   * ids are uuid (UUIDv7, minted where the record is created);
--   * instants are timestamptz (microseconds; vetdesk writes milliseconds);
--   * local dates are date, local times integer minutes since midnight;
--   * every row that can change has version, created_at, updated_at, and
--     deleted_at (a tombstone: rows are never removed, so sync can see deletions);
--   * every write appends to change_log in the same transaction, and the
--     trigger at the end announces it to every listener when it commits;
--   * names sort in binary (code point) order, COLLATE "C", as SQLite's do, so
--     both engines list records in the same order whatever the server's locale.

-- gist over (uuid WITH =, range WITH &&) for the no-double-booking constraint.
-- A trusted extension: the database owner may create it without being superuser.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE clinics (
    id          uuid PRIMARY KEY,
    name        text COLLATE "C" NOT NULL,
    time_zone   text NOT NULL,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);

CREATE TABLE vets (
    id          uuid PRIMARY KEY,
    name        text COLLATE "C" NOT NULL,
    email       text,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);

-- Part of the vet record: replaced whenever the vet is saved (and versioned with it).
CREATE TABLE vet_clinics (
    vet_id      uuid NOT NULL REFERENCES vets(id),
    clinic_id   uuid NOT NULL REFERENCES clinics(id),
    PRIMARY KEY (vet_id, clinic_id)
);
CREATE INDEX vet_clinics_clinic ON vet_clinics(clinic_id);

CREATE TABLE clients (
    id                uuid PRIMARY KEY,
    name              text COLLATE "C" NOT NULL,
    search_name       text COLLATE "C" NOT NULL, -- vetdesk_core::search_key(name): trimmed, lower-cased in full Unicode
    email             text,
    phone             text,
    preferred_channel text CHECK (preferred_channel IN ('email', 'sms')),
    email_opt_out     boolean NOT NULL DEFAULT false,
    sms_opt_out       boolean NOT NULL DEFAULT false,
    version           bigint NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz
);
CREATE INDEX clients_search_name ON clients(search_name);

CREATE TABLE pets (
    id            uuid PRIMARY KEY,
    owner_id      uuid NOT NULL REFERENCES clients(id),
    name          text COLLATE "C" NOT NULL,
    search_name   text COLLATE "C" NOT NULL,
    species       text NOT NULL,
    breed         text,
    date_of_birth date,
    version       bigint NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz
);
CREATE INDEX pets_owner ON pets(owner_id);

CREATE TABLE appointment_types (
    id                uuid PRIMARY KEY,
    name              text COLLATE "C" NOT NULL,
    duration_min      integer NOT NULL CHECK (duration_min > 0),
    colour            text NOT NULL,
    buffer_before_min integer NOT NULL CHECK (buffer_before_min >= 0),
    buffer_after_min  integer NOT NULL CHECK (buffer_after_min >= 0),
    version           bigint NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz
);

CREATE TABLE working_hours (
    id          uuid PRIMARY KEY,
    vet_id      uuid NOT NULL REFERENCES vets(id),
    clinic_id   uuid NOT NULL REFERENCES clinics(id),
    weekday     integer NOT NULL CHECK (weekday BETWEEN 0 AND 6), -- 0 = Monday
    start_min   integer NOT NULL CHECK (start_min >= 0),
    end_min     integer NOT NULL CHECK (end_min > start_min AND end_min <= 1440),
    valid_from  date NOT NULL,
    valid_to    date,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);
CREATE INDEX working_hours_vet_clinic ON working_hours(vet_id, clinic_id);

CREATE TABLE date_overrides (
    id          uuid PRIMARY KEY,
    vet_id      uuid NOT NULL REFERENCES vets(id),
    clinic_id   uuid NOT NULL REFERENCES clinics(id),
    date        date NOT NULL,
    spans       text NOT NULL, -- 'HH:MM-HH:MM,...'; empty = not working that day
    note        text,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX date_overrides_one_per_day ON date_overrides(vet_id, clinic_id, date) WHERE deleted_at IS NULL;

CREATE TABLE time_off (
    id          uuid PRIMARY KEY,
    vet_id      uuid NOT NULL REFERENCES vets(id),
    start_at    timestamptz NOT NULL,
    end_at      timestamptz NOT NULL CHECK (end_at > start_at),
    reason      text,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);
CREATE INDEX time_off_vet_start ON time_off(vet_id, start_at);

CREATE TABLE appointments (
    id                uuid PRIMARY KEY,
    clinic_id         uuid NOT NULL REFERENCES clinics(id),
    vet_id            uuid NOT NULL REFERENCES vets(id),
    pet_id            uuid NOT NULL REFERENCES pets(id),
    client_id         uuid NOT NULL REFERENCES clients(id),
    type_id           uuid NOT NULL REFERENCES appointment_types(id),
    start_at          timestamptz NOT NULL,
    end_at            timestamptz NOT NULL CHECK (end_at > start_at),
    buffer_before_min integer NOT NULL CHECK (buffer_before_min >= 0),
    buffer_after_min  integer NOT NULL CHECK (buffer_after_min >= 0),
    -- The time the vet is kept busy: the slot widened by the buffers.
    blocked_start     timestamptz NOT NULL,
    blocked_end       timestamptz NOT NULL,
    status            text NOT NULL CHECK (status IN
                        ('scheduled', 'confirmed', 'checked_in', 'in_progress', 'completed', 'cancelled', 'no_show')),
    -- Only cancelled and no-show appointments free their time. Derived by the
    -- database, so no writer can slip a time-holding appointment past the
    -- constraint below by getting this flag wrong.
    holds_time        boolean NOT NULL GENERATED ALWAYS AS (status NOT IN ('cancelled', 'no_show')) STORED,
    reason            text,
    notes             text,
    cancel_reason     text,
    created_by        text NOT NULL,
    updated_by        text NOT NULL,
    version           bigint NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz,
    CONSTRAINT appointments_blocked_covers_slot
        CHECK (blocked_start <= start_at AND blocked_end >= end_at),
    -- No double booking, whatever the application checked: two live,
    -- time-holding appointments of one vet never share an instant of blocked
    -- time. Half-open, so back-to-back appointments do not conflict. A
    -- violation is SQLSTATE 23P01, which the store turns into a typed overlap
    -- naming the appointments in the way.
    CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
        vet_id WITH =,
        tstzrange(blocked_start, blocked_end, '[)') WITH &&
    ) WHERE (holds_time AND deleted_at IS NULL)
);
-- Conflict checks and availability: a vet's time-holding appointments by time.
-- Covering (INCLUDE), so a month of a busy clinic is read by an index-only scan.
CREATE INDEX appointments_vet_blocked ON appointments(vet_id, blocked_start)
    INCLUDE (blocked_end, start_at, end_at, id)
    WHERE holds_time AND deleted_at IS NULL;
-- Calendars and lists.
CREATE INDEX appointments_clinic_start ON appointments(clinic_id, start_at);
CREATE INDEX appointments_vet_start ON appointments(vet_id, start_at);
CREATE INDEX appointments_client ON appointments(client_id, start_at);
CREATE INDEX appointments_pet ON appointments(pet_id, start_at);

CREATE TABLE appointment_history (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id  uuid NOT NULL REFERENCES appointments(id),
    version         bigint NOT NULL,
    action          text NOT NULL,
    from_status     text,
    to_status       text NOT NULL,
    start_at        timestamptz NOT NULL,
    end_at          timestamptz NOT NULL,
    note            text,
    actor           text NOT NULL,
    at              timestamptz NOT NULL
);
CREATE INDEX appointment_history_appointment ON appointment_history(appointment_id, seq);

-- Ordered log of every change, for sync and live refresh. `seq` is the order
-- rows were written, not necessarily the order their transactions committed.
CREATE TABLE change_log (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity     text NOT NULL,
    entity_id  uuid NOT NULL,
    clinic_id  uuid, -- the clinic whose calendars the change touches, when there is one
    version    bigint NOT NULL,
    op         text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    at         timestamptz NOT NULL
);

-- Live refresh: every change-log row is announced on the 'vetdesk_changes'
-- channel as the JSON form of vetdesk_store::Change. NOTIFY is delivered when
-- (and only if) the writing transaction commits, to every session listening,
-- whichever workstation it runs on.
CREATE FUNCTION vetdesk_announce_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vetdesk_changes', json_build_object(
        'seq', NEW.seq,
        'entity', NEW.entity,
        'id', NEW.entity_id,
        'clinic_id', NEW.clinic_id,
        'version', NEW.version,
        'op', NEW.op,
        -- RFC 3339 in UTC, whatever the writing session's TimeZone.
        'at', to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER change_log_announce
    AFTER INSERT ON change_log
    FOR EACH ROW EXECUTE FUNCTION vetdesk_announce_change();
