//! The domain event stream and its consumers' positions. A row is numbered (`id`) when it is
//! inserted, not when its transaction commits, so "every row after id N" could skip a row that
//! commits after a later-numbered one. Each row also carries its transaction's number (`tx`),
//! and a reader takes only rows of transactions older than the oldest still running (its
//! snapshot's `xmin`): those are all finished, none can be added below that line, and (tx, id)
//! orders them for good. A transaction that stays open holds the readers back, never loses an
//! event.

use super::*;

impl EventReads for Pg<'_> {
    fn domain_events_after(
        &mut self,
        after: EventPosition,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<DomainEventRow>, StoreError> {
        let types: Vec<&str> = filter.types.iter().map(String::as_str).collect();
        let rows = self.query(
            "SELECT tx, id, type, at, shop_id, order_id, case_id, data FROM domain_events \
             WHERE (tx, id) > ($1, $2) \
             AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             AND ($3::bigint IS NULL OR shop_id = $3) \
             AND (cardinality($4::text[]) = 0 OR type = ANY($4)) \
             ORDER BY tx, id LIMIT $5",
            &[&after.tx, &after.id, &filter.shop.map(|s| s.0), &types, &(limit as i64)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(DomainEventRow {
                    position: EventPosition { tx: r.try_get(0)?, id: r.try_get(1)? },
                    kind: r.try_get(2)?,
                    at: Timestamp(r.try_get(3)?),
                    shop: ShopId(r.try_get(4)?),
                    order: OrderId(r.try_get(5)?),
                    case: r.try_get::<_, Option<i64>>(6)?.map(CaseId),
                    data: r.try_get(7)?,
                })
            })
            .collect()
    }

    fn consumer_position(&mut self, consumer: &str) -> Result<Option<EventPosition>, StoreError> {
        let row = self.opt("SELECT tx, id FROM consumer_positions WHERE name = $1", &[&consumer])?;
        row.map(|r| Ok(EventPosition { tx: r.try_get(0)?, id: r.try_get(1)? })).transpose()
    }
}

impl EventWrites for Pg<'_> {
    fn set_consumer_position(&mut self, consumer: &str, position: EventPosition) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO consumer_positions (name, tx, id) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET tx = excluded.tx, id = excluded.id",
            &[&consumer, &position.tx, &position.id],
        )?;
        Ok(())
    }
}

/// The insert of a log row's domain events: the types and documents as arrays, the order, case,
/// time and shop as the given parameters.
pub(super) fn insert_published_sql(order: &str, case: &str, at: &str, shop: &str, types: &str, data: &str) -> String {
    format!(
        "INSERT INTO domain_events (tx, type, at, shop_id, order_id, case_id, data) \
         SELECT pg_current_xact_id()::text::bigint, t, {at}, {shop}, {order}, {case}, d \
         FROM unnest({types}::text[], {data}::text[]) WITH ORDINALITY AS e(t, d, n) ORDER BY n"
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
        let types: Vec<&str> = p.events.iter().map(|e| e.0).collect();
        let data: Vec<&str> = p.events.iter().map(|e| e.1.as_str()).collect();
        let sql = insert_published_sql("$1::bigint", "$2::bigint", "$3::bigint", "$4::bigint", "$5", "$6");
        self.exec(&sql, &[&order.0, &case.map(|c| c.0), &row.at.0, &p.shop.0, &types, &data])?;
        Ok(())
    }
}
