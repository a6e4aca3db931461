-- Queue-count deltas are inserted by every case change and deleted by the folding every half
-- second: without vacuuming as they go, the dead rows pile up in the table and its index, and
-- the counts query (which reads the deltas not folded yet) slows down with them.
ALTER TABLE queue_count_deltas SET (
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_cost_delay = 0,
    autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0
);
