//! The domain event stream and its consumers' positions. One writer commits in id order, so
//! the position's `tx` is always 0 here.

use super::*;

impl EventReads for Sql<'_> {
    fn domain_events_after(
        &mut self,
        after: EventPosition,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<DomainEventRow>, StoreError> {
        // A position from PostgreSQL (copied data) has a transaction number; here every row is
        // after tx 0, so only the id counts.
        let types = filter.types.join(",");
        let mut st = self.conn.prepare_cached(
            "SELECT id, type, at, shop_id, order_id, case_id, data FROM domain_events \
             WHERE id > ?1 AND (?2 IS NULL OR shop_id = ?2) \
             AND (?3 = '' OR instr(',' || ?3 || ',', ',' || type || ',') > 0) ORDER BY id LIMIT ?4",
        )?;
        let rows = st.query_map(params![after.id, filter.shop.map(|s| s.0), types, limit as i64], |r| {
            Ok(DomainEventRow {
                position: EventPosition { tx: 0, id: r.get(0)? },
                kind: r.get(1)?,
                at: Timestamp(r.get(2)?),
                shop: ShopId(r.get(3)?),
                order: OrderId(r.get(4)?),
                case: r.get::<_, Option<i64>>(5)?.map(CaseId),
                data: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn consumer_position(&mut self, consumer: &str) -> Result<Option<EventPosition>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT tx, id FROM consumer_positions WHERE name = ?")?;
        Ok(st.query_row([consumer], |r| Ok(EventPosition { tx: r.get(0)?, id: r.get(1)? })).optional()?)
    }
}

impl EventWrites for Sql<'_> {
    fn set_consumer_position(&mut self, consumer: &str, position: EventPosition) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO consumer_positions (name, tx, id) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET tx = excluded.tx, id = excluded.id",
            )?
            .execute(params![consumer, position.tx, position.id])?;
        Ok(())
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
        let mut st = self.conn.prepare_cached(
            "INSERT INTO domain_events (type, at, shop_id, order_id, case_id, data) VALUES (?, ?, ?, ?, ?, ?)",
        )?;
        for (kind, data) in &p.events {
            st.execute(params![kind, row.at.0, p.shop.0, order.0, case.map(|c| c.0), data])?;
        }
        Ok(())
    }
}
