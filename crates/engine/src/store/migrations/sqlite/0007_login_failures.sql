-- Wrong passwords per login within the throttling window (kept in the database so that every
-- node of an installation counts the same failures).
CREATE TABLE login_failures (
    login TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_failures_first ON login_failures (first_at);
