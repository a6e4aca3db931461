-- Values the service keeps for itself across restarts (the manual clock of the demo and tests).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
