-- SQLite's 0006 makes appointments.holds_time a generated column, as it has
-- been here since 0001; this one only says so, so that a migration number
-- means the same schema on both engines.
COMMENT ON COLUMN appointments.holds_time IS
    'Generated: false for cancelled and no_show appointments, which free their time.';
