-- A buyer's own orders, newest first (the buyer's "my orders" page).
CREATE INDEX orders_buyer ON orders (buyer_id, id DESC);
