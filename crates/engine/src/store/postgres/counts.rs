//! The queue counts' upkeep: each write adds a delta row; a node folds them into the counts.

use super::*;

/// Folds pending queue-count deltas into the counts, one node at a time.
pub(super) fn fold_loop(config: ::postgres::Config, stop: Arc<AtomicBool>, every: Duration) {
    let mut conn: Option<Client> = None;
    let mut since_vacuum = 0u64;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(every);
        if conn.as_ref().is_none_or(|c| c.is_closed()) {
            conn = config.connect(NoTls).ok();
        }
        if let Some(c) = conn.as_mut() {
            if let Ok(moved) = fold_counts(c) {
                since_vacuum += moved;
            }
            // The folded deltas are dead rows, and the counts query walks the dead entries of
            // their index until a vacuum clears them: vacuum the small table as it churns, not
            // when autovacuum next comes round (up to a minute of it under load).
            if since_vacuum >= VACUUM_AFTER_DELTAS && c.batch_execute("VACUUM queue_count_deltas").is_ok() {
                since_vacuum = 0;
            }
        }
    }
}

/// How many folded deltas make the folding node vacuum their table.
const VACUUM_AFTER_DELTAS: u64 = 2_000;

/// Moves every pending delta into `queue_counts` in one transaction; skips if another node is
/// folding right now. Returns how many deltas it moved.
pub fn fold_counts(client: &mut Client) -> Result<u64, StoreError> {
    let mut tx = client.transaction()?;
    let got: bool = tx.query_one("SELECT pg_try_advisory_xact_lock($1)", &[&(MIGRATION_LOCK + 1)])?.get(0);
    let mut moved = 0;
    if got {
        let n: i64 = tx
            .query_one(
                "WITH moved AS (DELETE FROM queue_count_deltas RETURNING shop_id, queue, d), \
                      summed AS (SELECT shop_id, queue, SUM(d)::bigint AS n FROM moved GROUP BY shop_id, queue), \
                      folded AS (INSERT INTO queue_counts (shop_id, queue, n) \
                                 SELECT shop_id, queue, n FROM summed ORDER BY shop_id, queue \
                                 ON CONFLICT (shop_id, queue) DO UPDATE SET n = queue_counts.n + excluded.n) \
                 SELECT COUNT(*) FROM moved",
                &[],
            )?
            .get(0);
        moved = n.max(0) as u64;
    }
    tx.commit()?;
    Ok(moved)
}
