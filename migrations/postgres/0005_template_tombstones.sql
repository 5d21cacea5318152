-- Message templates and notification settings follow the rule of every
-- mutable table: a tombstone instead of a delete (resetting a template to the
-- built-in wording marks it deleted), and every change in change_log.
ALTER TABLE message_templates ADD COLUMN deleted_at timestamptz;
ALTER TABLE notification_settings ADD COLUMN deleted_at timestamptz;
