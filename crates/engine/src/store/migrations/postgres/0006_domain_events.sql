-- Domain events for consumers, written with the change they describe: one row per command.
-- `tx` is the writing transaction's number (pg_current_xact_id): readers take only rows of
-- transactions older than every one still running and order them by (tx, id), so a row that
-- commits late is never skipped (its transaction holds the readers back until it ends). Rows
-- copied from SQLite keep tx 0: their order there was their ids'.
CREATE TABLE domain_events (
    id BIGSERIAL PRIMARY KEY,
    tx BIGINT NOT NULL DEFAULT 0,
    at BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    case_id BIGINT,
    types TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX domain_events_position ON domain_events (tx, id);
CREATE INDEX domain_events_shop ON domain_events (shop_id, tx, id);

CREATE TABLE consumer_positions (
    name TEXT PRIMARY KEY,
    tx BIGINT NOT NULL,
    id BIGINT NOT NULL,
    seq BIGINT NOT NULL
);

-- Message-box entries in both languages the platforms' people read (the title and body columns
-- are the English; entries written before this keep their Chinese empty).
ALTER TABLE notices ADD COLUMN title_zh TEXT NOT NULL DEFAULT '';
ALTER TABLE notices ADD COLUMN body_zh TEXT NOT NULL DEFAULT '';
