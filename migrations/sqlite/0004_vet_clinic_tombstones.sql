-- A vet's clinics are part of the vet record. Like every mutable table, their
-- links now carry a version, their times and a tombstone: a clinic taken off a
-- vet is marked deleted, never removed, so a replica syncing rows sees it go.
ALTER TABLE vet_clinics ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vet_clinics ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vet_clinics ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vet_clinics ADD COLUMN deleted_at INTEGER;
UPDATE vet_clinics SET
    created_at = (SELECT v.created_at FROM vets v WHERE v.id = vet_clinics.vet_id),
    updated_at = (SELECT v.updated_at FROM vets v WHERE v.id = vet_clinics.vet_id);
