-- Email to buyers: a person's address and language, and the outbox made from the event stream
-- (one email per event and person), with each email's dispatch.
CREATE TABLE user_contacts (
    user_id INTEGER PRIMARY KEY,
    email TEXT,
    -- zh or en
    lang TEXT NOT NULL DEFAULT 'zh'
);
CREATE TABLE email_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    to_addr TEXT NOT NULL,
    lang TEXT NOT NULL,
    kind TEXT NOT NULL,
    vars TEXT NOT NULL,
    case_id INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0,
    sent_at INTEGER,
    failed_at INTEGER,
    provider_id TEXT,
    last_error TEXT,
    lease_owner TEXT,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (event_id, user_id)
);
CREATE INDEX email_due ON email_outbox (next_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
