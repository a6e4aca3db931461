-- Accounts, sessions, API tokens, reply templates, evidence objects, and queue counters.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    -- buyer | owner | staff | agent | admin
    role TEXT NOT NULL,
    shop_id INTEGER REFERENCES shops(id),
    display_name TEXT NOT NULL,
    -- argon2id PHC string
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a stolen database yields no usable session
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE TABLE reply_templates (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shops(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX reply_templates_shop ON reply_templates (shop_id);
CREATE TABLE evidence_objects (
    key TEXT PRIMARY KEY,
    uploader INTEGER NOT NULL REFERENCES users(id),
    shop_id INTEGER,
    buyer_id INTEGER,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
-- W1 counts per shop and queue, kept by triggers in the same transaction as the case change:
-- a queue page shows its counts without counting a million rows.
CREATE TABLE queue_counts (
    shop_id INTEGER NOT NULL,
    queue TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (shop_id, queue)
) WITHOUT ROWID;
INSERT INTO queue_counts (shop_id, queue, n) SELECT shop_id, queue, COUNT(*) FROM cases GROUP BY shop_id, queue;
CREATE TRIGGER cases_count_insert AFTER INSERT ON cases BEGIN
    INSERT INTO queue_counts (shop_id, queue, n) VALUES (new.shop_id, new.queue, 1)
        ON CONFLICT (shop_id, queue) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER cases_count_move AFTER UPDATE OF queue ON cases WHEN old.queue <> new.queue BEGIN
    UPDATE queue_counts SET n = n - 1 WHERE shop_id = old.shop_id AND queue = old.queue;
    INSERT INTO queue_counts (shop_id, queue, n) VALUES (new.shop_id, new.queue, 1)
        ON CONFLICT (shop_id, queue) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER cases_count_delete AFTER DELETE ON cases BEGIN
    UPDATE queue_counts SET n = n - 1 WHERE shop_id = old.shop_id AND queue = old.queue;
END;
