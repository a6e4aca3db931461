-- Most commands rewrite a case or an order without changing a column an index covers (a
-- remark, a message, evidence, a flag): PostgreSQL can then keep the new row version on the same
-- page and leave every index alone (a HOT update) — if the page has room. Tables filled to the
-- last byte have none, so each such rewrite added an entry to every index of its table (nine
-- on `cases`; on `orders` one of them is a trigram index). Pages written from now on keep a
-- tenth free for new versions; pages written before keep their fill until they are rewritten
-- (VACUUM FULL, or a copy with `aftersale migrate`).
ALTER TABLE cases SET (fillfactor = 90);
ALTER TABLE orders SET (fillfactor = 90);
