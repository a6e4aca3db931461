-- Domain events for consumers (webhooks, SMS, integrations), written with the change they
-- describe: one row per command, as the log is, holding the command's events with the case and
-- order as it left them. AUTOINCREMENT: an id is never used twice, even after the newest rows
-- are deleted, so a consumer's position stays meaningful. One writer commits in id order.
CREATE TABLE domain_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    shop_id INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    case_id INTEGER,
    types TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX domain_events_shop ON domain_events (shop_id, id);

-- Where each consumer of the stream stands (after event seq of row tx, id).
CREATE TABLE consumer_positions (
    name TEXT PRIMARY KEY,
    tx INTEGER NOT NULL,
    id INTEGER NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;

-- Message-box entries in both languages the platforms' people read (the title and body columns
-- are the English; entries written before this keep their Chinese empty).
ALTER TABLE notices ADD COLUMN title_zh TEXT NOT NULL DEFAULT '';
ALTER TABLE notices ADD COLUMN body_zh TEXT NOT NULL DEFAULT '';
