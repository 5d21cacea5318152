-- A vet's clinics are part of the vet record. Like every mutable table, their
-- links now carry a version, their times and a tombstone: a clinic taken off a
-- vet is marked deleted, never removed, so a replica syncing rows sees it go.
ALTER TABLE vet_clinics
    ADD COLUMN version bigint NOT NULL DEFAULT 1,
    ADD COLUMN created_at timestamptz,
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN deleted_at timestamptz;
UPDATE vet_clinics vc SET created_at = v.created_at, updated_at = v.updated_at
    FROM vets v WHERE v.id = vc.vet_id;
ALTER TABLE vet_clinics
    ALTER COLUMN created_at SET NOT NULL,
    ALTER COLUMN updated_at SET NOT NULL;
