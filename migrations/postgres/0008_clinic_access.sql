-- Per-clinic access (ARCHITECTURE.md, "Who sees which clinic").
--
-- A vet or front-desk user may be limited to some clinics: `user_clinics`
-- lists them (none listed: every clinic). Like a vet's clinics, the links are
-- part of the user record and keep the schema's rules: a clinic taken off a
-- user is tombstoned, never removed.
CREATE TABLE user_clinics (
    user_id     uuid NOT NULL REFERENCES users(id),
    clinic_id   uuid NOT NULL REFERENCES clinics(id),
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    PRIMARY KEY (user_id, clinic_id)
);
CREATE INDEX user_clinics_clinic ON user_clinics(clinic_id);

-- Where a user's first calendar opens.
ALTER TABLE users ADD COLUMN home_clinic_id uuid REFERENCES clinics(id);

-- The clinic an owner is registered with. A limited user sees the owners
-- registered with their clinics, and those with an appointment at one.
ALTER TABLE clients ADD COLUMN home_clinic_id uuid REFERENCES clinics(id);
-- Owners already kept are registered where their latest appointment is.
UPDATE clients SET home_clinic_id = (
    SELECT a.clinic_id FROM appointments a
    WHERE a.client_id = clients.id AND a.deleted_at IS NULL
    ORDER BY a.start_at DESC, a.id DESC LIMIT 1);
CREATE INDEX clients_home_clinic ON clients(home_clinic_id);
