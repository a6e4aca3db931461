//! The domain event stream and its consumers' positions. One writer commits in id order, so a
//! row's `tx` is always 0 here.

use super::*;

impl EventReads for Sql<'_> {
    fn domain_events_from(
        &mut self,
        tx: i64,
        id: i64,
        shop: Option<ShopId>,
        limit: usize,
    ) -> Result<Vec<StoredPublished>, StoreError> {
        // A position from PostgreSQL (copied data) may name a transaction; every row here is of
        // tx 0, so past tx 0 nothing is left.
        if tx > 0 {
            return Ok(Vec::new());
        }
        let mut st = self.conn.prepare_cached(
            "SELECT id, at, shop_id, order_id, case_id, types, data FROM domain_events \
             WHERE id >= ?1 AND (?2 IS NULL OR shop_id = ?2) ORDER BY id LIMIT ?3",
        )?;
        let rows = st.query_map(params![id, shop.map(|s| s.0), limit as i64], |r| {
            Ok(StoredPublished {
                tx: 0,
                id: r.get(0)?,
                at: Timestamp(r.get(1)?),
                shop: ShopId(r.get(2)?),
                order: OrderId(r.get(3)?),
                case: r.get::<_, Option<i64>>(4)?.map(CaseId),
                types: r.get(5)?,
                data: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn consumer_position(&mut self, consumer: &str) -> Result<Option<EventPosition>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT tx, id, seq FROM consumer_positions WHERE name = ?")?;
        Ok(st
            .query_row([consumer], |r| Ok(EventPosition { tx: r.get(0)?, id: r.get(1)?, seq: r.get(2)? }))
            .optional()?)
    }
}

impl EventWrites for Sql<'_> {
    fn set_consumer_position(&mut self, consumer: &str, position: EventPosition) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO consumer_positions (name, tx, id, seq) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (name) DO UPDATE SET tx = excluded.tx, id = excluded.id, seq = excluded.seq",
            )?
            .execute(params![consumer, position.tx, position.id, position.seq])?;
        Ok(())
    }

    fn prune_domain_events(&mut self, before: Timestamp, limit: usize) -> Result<Option<(i64, i64, u64)>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT id, at FROM domain_events ORDER BY id LIMIT ?")?;
        let rows = st.query_map([limit as i64], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        let mut last = None;
        for row in rows {
            let (id, at) = row?;
            if at >= before.0 {
                break;
            }
            last = Some(id);
        }
        let Some(last) = last else { return Ok(None) };
        self.dirty = true;
        let n = self.conn.prepare_cached("DELETE FROM domain_events WHERE id <= ?")?.execute([last])?;
        Ok(Some((0, last, n as u64)))
    }
}

impl Sql<'_> {
    /// A log row's domain events, beside it.
    pub(super) fn insert_published(
        &mut self,
        order: OrderId,
        case: Option<CaseId>,
        row: &LogRow,
    ) -> Result<(), StoreError> {
        let Some(p) = &row.published else { return Ok(()) };
        self.conn
            .prepare_cached(
                "INSERT INTO domain_events (at, shop_id, order_id, case_id, types, data) VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![row.at.0, p.shop.0, order.0, case.map(|c| c.0), p.types, p.data])?;
        Ok(())
    }
}
