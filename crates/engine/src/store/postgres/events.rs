//! The domain event stream and its consumers' positions. A row is numbered (`id`) when it is
//! inserted, not when its transaction commits, so "every row after id N" could skip a row that
//! commits after a later-numbered one. Each row also carries its transaction's number (`tx`),
//! and a reader takes only rows of transactions older than the oldest still running (its
//! snapshot's `xmin`): those are all finished, none can be added below that line, and (tx, id)
//! orders them for good. A transaction that stays open holds the readers back, never loses an
//! event.

use super::*;

impl EventReads for Pg<'_> {
    fn domain_events_from(
        &mut self,
        tx: i64,
        id: i64,
        shop: Option<ShopId>,
        limit: usize,
    ) -> Result<Vec<StoredPublished>, StoreError> {
        let rows = self.query(
            "SELECT tx, id, at, shop_id, order_id, case_id, types, data FROM domain_events \
             WHERE (tx, id) >= ($1, $2) \
             AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             AND ($3::bigint IS NULL OR shop_id = $3) \
             ORDER BY tx, id LIMIT $4",
            &[&tx, &id, &shop.map(|s| s.0), &(limit as i64)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(StoredPublished {
                    tx: r.try_get(0)?,
                    id: r.try_get(1)?,
                    at: Timestamp(r.try_get(2)?),
                    shop: ShopId(r.try_get(3)?),
                    order: OrderId(r.try_get(4)?),
                    case: r.try_get::<_, Option<i64>>(5)?.map(CaseId),
                    types: r.try_get(6)?,
                    data: r.try_get(7)?,
                })
            })
            .collect()
    }

    fn consumer_position(&mut self, consumer: &str) -> Result<Option<EventPosition>, StoreError> {
        let row = self.opt("SELECT tx, id, seq FROM consumer_positions WHERE name = $1", &[&consumer])?;
        row.map(|r| {
            let seq: i64 = r.try_get(2)?;
            Ok(EventPosition { tx: r.try_get(0)?, id: r.try_get(1)?, seq: seq as u32 })
        })
        .transpose()
    }
}

impl EventWrites for Pg<'_> {
    fn set_consumer_position(&mut self, consumer: &str, position: EventPosition) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO consumer_positions (name, tx, id, seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET tx = excluded.tx, id = excluded.id, seq = excluded.seq",
            &[&consumer, &position.tx, &position.id, &i64::from(position.seq)],
        )?;
        Ok(())
    }

    fn prune_domain_events(&mut self, before: Timestamp, limit: usize) -> Result<Option<(i64, i64, u64)>, StoreError> {
        // Only the finished prefix (below the snapshot's `xmin`), as readers see it.
        let rows = self.query(
            "SELECT tx, id, at FROM domain_events \
             WHERE tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint ORDER BY tx, id LIMIT $1",
            &[&(limit as i64)],
        )?;
        let mut last = None;
        for r in &rows {
            let at: i64 = r.try_get(2)?;
            if at >= before.0 {
                break;
            }
            last = Some((r.try_get::<_, i64>(0)?, r.try_get::<_, i64>(1)?));
        }
        let Some((tx, id)) = last else { return Ok(None) };
        let n = self.exec("DELETE FROM domain_events WHERE (tx, id) <= ($1, $2)", &[&tx, &id])?;
        Ok(Some((tx, id, n)))
    }
}

/// The insert of a log row's domain events, the values given as SQL expressions.
pub(super) fn insert_published_sql(order: &str, case: &str, at: &str, shop: &str, types: &str, data: &str) -> String {
    format!(
        "INSERT INTO domain_events (tx, at, shop_id, order_id, case_id, types, data) \
         SELECT pg_current_xact_id()::text::bigint, {at}, {shop}, {order}, {case}, {types}, {data}"
    )
}

impl Pg<'_> {
    /// A log row's domain events, beside it.
    pub(super) fn insert_published(
        &mut self,
        order: OrderId,
        case: Option<CaseId>,
        row: &LogRow,
    ) -> Result<(), StoreError> {
        let Some(p) = &row.published else { return Ok(()) };
        let sql = insert_published_sql("$1::bigint", "$2::bigint", "$3::bigint", "$4::bigint", "$5::text", "$6::text");
        self.exec(&sql, &[&order.0, &case.map(|c| c.0), &row.at.0, &p.shop.0, &p.types, &p.data])?;
        Ok(())
    }
}
