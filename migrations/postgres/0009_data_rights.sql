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
ALTER TABLE clients ADD COLUMN erased_at timestamptz;
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE audit_log SET before = jsonb_set(before, '{name}', to_jsonb('client:' || entity_id::text))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'name') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{email}', to_jsonb('client:' || entity_id::text))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'email') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{phone}', to_jsonb('client:' || entity_id::text))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'phone') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{name}', to_jsonb('client:' || entity_id::text))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'name') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{email}', to_jsonb('client:' || entity_id::text))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'email') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{phone}', to_jsonb('client:' || entity_id::text))
    WHERE entity = 'client' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'phone') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{name}', to_jsonb('pet:' || entity_id::text))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'name') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{breed}', to_jsonb('pet:' || entity_id::text))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'breed') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{date_of_birth}', to_jsonb('pet:' || entity_id::text))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'date_of_birth') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{name}', to_jsonb('pet:' || entity_id::text))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'name') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{breed}', to_jsonb('pet:' || entity_id::text))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'breed') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{date_of_birth}', to_jsonb('pet:' || entity_id::text))
    WHERE entity = 'pet' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'date_of_birth') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{reason}', to_jsonb('appointment:' || entity_id::text))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'reason') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{notes}', to_jsonb('appointment:' || entity_id::text))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'notes') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{cancel_reason}', to_jsonb('appointment:' || entity_id::text))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'cancel_reason') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{reason}', to_jsonb('appointment:' || entity_id::text))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'reason') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{notes}', to_jsonb('appointment:' || entity_id::text))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'notes') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{cancel_reason}', to_jsonb('appointment:' || entity_id::text))
    WHERE entity = 'appointment' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'cancel_reason') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{sent_to}', to_jsonb('outbox_message:' || entity_id::text))
    WHERE entity = 'outbox_message' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'sent_to') = 'string';
UPDATE audit_log SET before = jsonb_set(before, '{last_error}', to_jsonb('outbox_message:' || entity_id::text))
    WHERE entity = 'outbox_message' AND entity_id IS NOT NULL AND jsonb_typeof(before -> 'last_error') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{sent_to}', to_jsonb('outbox_message:' || entity_id::text))
    WHERE entity = 'outbox_message' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'sent_to') = 'string';
UPDATE audit_log SET after = jsonb_set(after, '{last_error}', to_jsonb('outbox_message:' || entity_id::text))
    WHERE entity = 'outbox_message' AND entity_id IS NOT NULL AND jsonb_typeof(after -> 'last_error') = 'string';
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
