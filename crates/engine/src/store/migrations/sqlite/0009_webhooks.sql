-- Webhook endpoints (Standard Webhooks 1.0): a shop's (shop_id) or the platform's (NULL).
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id INTEGER,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- The event types it takes, each followed by a space; empty: every type.
    types TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    -- The signing secret, sealed with the service's key (never stored in the clear).
    secret TEXT NOT NULL,
    -- The secret before the last rotation, and until when (wall-clock ms) it signs too.
    old_secret TEXT,
    old_secret_until INTEGER,
    -- The first failed attempt of the current run of failures (wall-clock ms); NULL when the
    -- last attempt succeeded.
    failing_since INTEGER,
    disabled_reason TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_shop ON webhook_endpoints (shop_id);

-- One event to one endpoint; `event_id` (the event's position) is the `webhook-id`, the same for
-- every attempt. Unique per endpoint: an event fanned out twice is delivered once.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- pending, succeeded, failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    done_at INTEGER,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- Every attempt: what the receiver answered (the first 1 kB), or why there was no answer.
CREATE TABLE webhook_attempts (
    delivery_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER NOT NULL,
    response TEXT NOT NULL DEFAULT '',
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;
