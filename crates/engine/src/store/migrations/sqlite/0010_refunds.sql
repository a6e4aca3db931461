-- The refund ledger (M5): one row per refund started, what the payment gateway was asked, how
-- often, and what it answered. Times are the service clock's (ms), leases the wall clock's.
CREATE TABLE refunds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    -- The order's number, as the payment was made under it (Alipay's out_trade_no).
    order_no TEXT NOT NULL,
    shop_id INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    -- simulated, manual, http, alipay
    gateway TEXT NOT NULL,
    -- requested, pending, awaiting_payout, succeeded, failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reference TEXT,
    last_error TEXT,
    requested_at INTEGER NOT NULL,
    settled_at INTEGER,
    next_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER
);
CREATE INDEX refunds_case ON refunds (case_id, id);
CREATE INDEX refunds_due ON refunds (next_at) WHERE status IN ('requested', 'pending');
CREATE INDEX refunds_shop_status ON refunds (shop_id, status, id);
CREATE INDEX refunds_requested ON refunds (requested_at, id);
