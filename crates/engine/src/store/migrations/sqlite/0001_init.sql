-- aftersale schema, SQLite. Cases and orders keep their full state as JSON in `data`, with the
-- columns queues and searches need copied out beside it and indexed.
CREATE TABLE shops (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    profile TEXT NOT NULL,
    overrides TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
CREATE TABLE addresses (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shops(id),
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    region TEXT NOT NULL,
    detail TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX addresses_one_default ON addresses(shop_id) WHERE is_default = 1;
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    buyer_id INTEGER NOT NULL,
    order_no TEXT NOT NULL,
    state TEXT NOT NULL,
    flag TEXT,
    customer_name TEXT NOT NULL,
    customer_phone TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (shop_id, order_no)
);
CREATE INDEX orders_shop_phone ON orders (shop_id, customer_phone);
CREATE INDEX orders_shop_name ON orders (shop_id, customer_name);
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    shop_id INTEGER NOT NULL,
    buyer_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    queue TEXT NOT NULL,
    -- the governing deadline's due time; 9223372036854775807 when none (sorts last)
    due_at INTEGER NOT NULL,
    applied_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX cases_shop_queue_due ON cases (shop_id, queue, due_at);
CREATE INDEX cases_shop_due ON cases (shop_id, due_at, id);
CREATE INDEX cases_shop_applied ON cases (shop_id, applied_at, id);
CREATE INDEX cases_order ON cases (order_id);
CREATE INDEX cases_buyer ON cases (buyer_id, applied_at);
-- The log: one row per command, `data` holding its events as a JSON array, `kind` the first.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    case_id INTEGER,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_case ON events (case_id, id) WHERE case_id IS NOT NULL;
CREATE INDEX events_order ON events (order_id, id);
CREATE TABLE deadlines (
    subject TEXT NOT NULL,
    subject_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (subject, subject_id, kind)
) WITHOUT ROWID;
CREATE INDEX deadlines_due ON deadlines (due_at, subject, subject_id, kind);
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    recipient_id INTEGER NOT NULL,
    case_id INTEGER,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX notices_recipient ON notices (recipient, recipient_id, id);
CREATE INDEX notices_unread ON notices (recipient, recipient_id, category) WHERE read_at IS NULL;
CREATE TABLE sms_outbox (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL,
    text TEXT NOT NULL,
    case_id INTEGER,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX sms_unsent ON sms_outbox (id) WHERE sent_at IS NULL;
CREATE TABLE penalties (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    case_id INTEGER NOT NULL,
    reason TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX penalties_shop ON penalties (shop_id);
CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
