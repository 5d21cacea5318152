-- Data rights (issue 12): erasing an owner, and audit lines that name
-- personal fields by reference.
--
-- clients.erased_at: when the owner was erased (anonymised and tombstoned with
-- their pets); an erased owner is never erased twice.
--
-- From this version on the application writes an owner's, a pet's, an
-- appointment's and a message's personal fields into the audit log as a
-- reference to the record ("client:<id>"), never their value, so erasing the
-- record leaves nothing of the person in the log. The lines written before are
-- brought to the same form here, once: each such field that holds a value
-- becomes the reference. The append-only trigger is lifted for this statement
-- only (migrations run as the owning role; the runtime role cannot do this).
ALTER TABLE clients ADD COLUMN erased_at INTEGER;
DROP TRIGGER audit_log_no_update;
UPDATE audit_log SET before = json_replace(before, '$.name', 'client:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND json_type(before, '$.name') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.email', 'client:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND json_type(before, '$.email') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.phone', 'client:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND json_type(before, '$.phone') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.name', 'client:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND json_type(after, '$.name') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.email', 'client:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND json_type(after, '$.email') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.phone', 'client:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND json_type(after, '$.phone') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.name', 'pet:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND json_type(before, '$.name') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.breed', 'pet:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND json_type(before, '$.breed') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.date_of_birth', 'pet:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND json_type(before, '$.date_of_birth') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.name', 'pet:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND json_type(after, '$.name') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.breed', 'pet:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND json_type(after, '$.breed') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.date_of_birth', 'pet:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND json_type(after, '$.date_of_birth') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.reason', 'appointment:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND json_type(before, '$.reason') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.notes', 'appointment:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND json_type(before, '$.notes') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.cancel_reason', 'appointment:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND json_type(before, '$.cancel_reason') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.reason', 'appointment:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND json_type(after, '$.reason') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.notes', 'appointment:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND json_type(after, '$.notes') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.cancel_reason', 'appointment:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND json_type(after, '$.cancel_reason') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.sent_to', 'outbox_message:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'outbox_message' AND entity_id IS NOT NULL AND json_type(before, '$.sent_to') = 'text';
UPDATE audit_log SET before = json_replace(before, '$.last_error', 'outbox_message:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'outbox_message' AND entity_id IS NOT NULL AND json_type(before, '$.last_error') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.sent_to', 'outbox_message:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'outbox_message' AND entity_id IS NOT NULL AND json_type(after, '$.sent_to') = 'text';
UPDATE audit_log SET after = json_replace(after, '$.last_error', 'outbox_message:' || lower(substr(hex(entity_id), 1, 8) || '-' || substr(hex(entity_id), 9, 4) || '-' || substr(hex(entity_id), 13, 4) || '-' || substr(hex(entity_id), 17, 4) || '-' || substr(hex(entity_id), 21)))
    WHERE entity = 'outbox_message' AND entity_id IS NOT NULL AND json_type(after, '$.last_error') = 'text';
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
