-- W2 search as staff use it: phone by its last four digits, buyer name by any part of it.
-- The cases of a few orders are found and sorted from this index alone (the page's rows are then
-- read whole): it replaces the plain index on order_id.
DROP INDEX cases_order;
CREATE INDEX cases_order ON cases (order_id, shop_id, due_at, applied_at, id);
CREATE INDEX orders_shop_last4 ON orders (shop_id, substr(customer_phone, -4));
-- A trigram index over the buyer's name (contains-search of three characters or more), kept in
-- step with `orders` by triggers; the text itself stays in `orders` (external content).
CREATE VIRTUAL TABLE orders_name_fts USING fts5(customer_name, content='orders', content_rowid='id', tokenize='trigram');
INSERT INTO orders_name_fts (rowid, customer_name) SELECT id, customer_name FROM orders;
CREATE TRIGGER orders_name_fts_insert AFTER INSERT ON orders BEGIN
    INSERT INTO orders_name_fts (rowid, customer_name) VALUES (new.id, new.customer_name);
END;
CREATE TRIGGER orders_name_fts_delete AFTER DELETE ON orders BEGIN
    INSERT INTO orders_name_fts (orders_name_fts, rowid, customer_name) VALUES ('delete', old.id, old.customer_name);
END;
CREATE TRIGGER orders_name_fts_update AFTER UPDATE OF customer_name ON orders BEGIN
    INSERT INTO orders_name_fts (orders_name_fts, rowid, customer_name) VALUES ('delete', old.id, old.customer_name);
    INSERT INTO orders_name_fts (rowid, customer_name) VALUES (new.id, new.customer_name);
END;
