//! Orders, cases, their logs, queues, counts and search.

use super::*;

const EVENT_COLUMNS: &str = "SELECT id, order_id, case_id, at, actor, data FROM events";

impl Pg<'_> {
    fn events(&mut self, sql: &str, id: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = self.query(sql, &[&id])?;
        let mut out = Vec::new();
        for r in rows {
            let row_id: i64 = r.try_get(0)?;
            let order_id = OrderId(r.try_get(1)?);
            let case_id = r.try_get::<_, Option<i64>>(2)?.map(CaseId);
            let at = Timestamp(r.try_get(3)?);
            let actor: Actor = serde_json::from_str(r.try_get(4)?)?;
            let events: Vec<Event> = serde_json::from_str(r.try_get(5)?)?;
            for event in events {
                out.push(StoredEvent { id: row_id, order_id, case_id, recorded: Recorded { at, actor, event } });
            }
        }
        Ok(out)
    }

    fn case_and_order_by(&mut self, sql: &str, id: CaseId) -> Result<Option<(Case, Order)>, StoreError> {
        let Some(r) = self.opt(sql, &[&id.0])? else {
            return Ok(None);
        };
        Ok(Some((serde_json::from_str(r.try_get(0)?)?, serde_json::from_str(r.try_get(1)?)?)))
    }

    fn ids(&mut self, sql: &str, id: i64) -> Result<Vec<i64>, StoreError> {
        self.query(sql, &[&id])?.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// In a write transaction, locks the case's order; the statement that then reads the case
    /// locks it (`FOR UPDATE`): every writer takes an order's rows in that order, so two nodes
    /// working the same order never deadlock on it.
    fn lock_order_of(&mut self, id: CaseId) -> Result<(), StoreError> {
        if self.write {
            self.query(
                "SELECT o.id FROM orders o WHERE o.id = (SELECT order_id FROM cases WHERE id = $1) FOR UPDATE",
                &[&id.0],
            )?;
        }
        Ok(())
    }
}

impl CaseReads for Pg<'_> {
    fn order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        if self.write {
            self.doc("SELECT data FROM orders WHERE id = $1 FOR UPDATE", id.0)
        } else {
            self.doc("SELECT data FROM orders WHERE id = $1", id.0)
        }
    }

    fn order_by_no(&mut self, shop: ShopId, order_no: &str) -> Result<Option<Order>, StoreError> {
        match self.opt("SELECT data FROM orders WHERE shop_id = $1 AND order_no = $2", &[&shop.0, &order_no])? {
            Some(r) => Ok(Some(serde_json::from_str(r.try_get(0)?)?)),
            None => Ok(None),
        }
    }

    fn order_version(&mut self, id: OrderId) -> Result<Option<u64>, StoreError> {
        let sql = if self.write {
            "SELECT version FROM orders WHERE id = $1 FOR UPDATE"
        } else {
            "SELECT version FROM orders WHERE id = $1"
        };
        Ok(self.opt(sql, &[&id.0])?.map(|r| r.try_get::<_, i64>(0)).transpose()?.map(|v| v as u64))
    }

    fn orders_of_buyer(
        &mut self,
        buyer: BuyerId,
        before: Option<OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let rows = self.query(
            "SELECT data FROM orders WHERE buyer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            &[&buyer.0, &before.map_or(i64::MAX, |o| o.0), &(limit as i64)],
        )?;
        rows.iter().map(|r| Ok(serde_json::from_str(r.try_get(0)?)?)).collect()
    }

    fn unpaid_order_ids(&mut self, shop: ShopId) -> Result<Vec<OrderId>, StoreError> {
        let ids =
            self.ids("SELECT id FROM orders WHERE shop_id = $1 AND state = 'awaiting_payment' ORDER BY id", shop.0)?;
        Ok(ids.into_iter().map(OrderId).collect())
    }

    fn case(&mut self, id: CaseId) -> Result<Option<Case>, StoreError> {
        self.lock_order_of(id)?;
        if self.write {
            self.doc("SELECT data FROM cases WHERE id = $1 FOR UPDATE", id.0)
        } else {
            self.doc("SELECT data FROM cases WHERE id = $1", id.0)
        }
    }

    fn case_and_order(&mut self, id: CaseId) -> Result<Option<(Case, Order)>, StoreError> {
        self.lock_order_of(id)?;
        let sql = if self.write {
            // The order's row is locked already (above); this locks the case's.
            "SELECT c.data, o.data FROM cases c JOIN orders o ON o.id = c.order_id WHERE c.id = $1 FOR UPDATE OF c"
        } else {
            "SELECT c.data, o.data FROM cases c JOIN orders o ON o.id = c.order_id WHERE c.id = $1"
        };
        self.case_and_order_by(sql, id)
    }

    /// One statement, no lock: `write_case_change` locks the order and checks both versions.
    fn case_and_order_to_decide(&mut self, id: CaseId) -> Result<Option<(Case, Order)>, StoreError> {
        if let Some((case, order)) = self.conn.read_ahead.remove(&id.0) {
            return Ok(Some((serde_json::from_str(&case)?, serde_json::from_str(&order)?)));
        }
        self.case_and_order_by(
            "SELECT c.data, o.data FROM cases c JOIN orders o ON o.id = c.order_id WHERE c.id = $1",
            id,
        )
    }

    fn latest_cases(&mut self, orders: &[OrderId]) -> Result<Vec<(OrderId, CaseId, Queue)>, StoreError> {
        let ids: Vec<i64> = orders.iter().map(|o| o.0).collect();
        let rows = self.query(
            "SELECT DISTINCT ON (order_id) order_id, id, queue FROM cases WHERE order_id = ANY($1) \
             ORDER BY order_id, id DESC",
            &[&ids],
        )?;
        rows.iter()
            .map(|r| {
                let queue: String = r.try_get(2)?;
                let queue = Queue::parse(&queue).ok_or_else(|| StoreError::Corrupt(format!("queue {queue:?}")))?;
                Ok((OrderId(r.try_get(0)?), CaseId(r.try_get(1)?), queue))
            })
            .collect()
    }

    fn case_events(&mut self, id: CaseId) -> Result<Vec<StoredEvent>, StoreError> {
        self.events(&format!("{EVENT_COLUMNS} WHERE case_id = $1 ORDER BY id"), id.0)
    }

    fn order_events(&mut self, id: OrderId) -> Result<Vec<StoredEvent>, StoreError> {
        self.events(&format!("{EVENT_COLUMNS} WHERE order_id = $1 ORDER BY id"), id.0)
    }

    fn queue_counts(&mut self, shop: ShopId) -> Result<Vec<(Queue, u64)>, StoreError> {
        // The folded counts plus the deltas not folded yet: no counting of case rows.
        let rows = self.query(
            "SELECT queue, SUM(n)::bigint FROM (SELECT queue, n FROM queue_counts WHERE shop_id = $1 \
             UNION ALL SELECT queue, d FROM queue_count_deltas WHERE shop_id = $1) t GROUP BY queue",
            &[&shop.0],
        )?;
        let mut counts: Vec<(Queue, u64)> = Queue::ALL.iter().map(|q| (*q, 0)).collect();
        for r in rows {
            let q: &str = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            if let Some(slot) = counts.iter_mut().find(|(queue, _)| queue.as_str() == q) {
                slot.1 = n.max(0) as u64;
            }
        }
        Ok(counts)
    }

    fn open_case_ids(&mut self, shop: ShopId) -> Result<Vec<CaseId>, StoreError> {
        let ids = self.ids("SELECT id FROM cases WHERE shop_id = $1 AND queue <> 'closed' ORDER BY id", shop.0)?;
        Ok(ids.into_iter().map(CaseId).collect())
    }

    fn search_cases(&mut self, q: &CaseQuery) -> Result<CaseHits, StoreError> {
        let mut sql = String::from(
            "SELECT c.data, o.order_no, o.customer_name, o.customer_phone, o.flag, c.due_at \
             FROM cases c JOIN orders o ON o.id = c.order_id WHERE true",
        );
        let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
        let mut filter = |sql: &mut String, clause: &str, v: Box<dyn ToSql + Sync>| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("${}", args.len())));
        };
        if let Some(shop) = q.shop {
            filter(&mut sql, " AND c.shop_id = ?", Box::new(shop.0));
            // The same shop on the order (it always is): lets the (shop_id, …) indexes of
            // `orders` — phone, last four digits, order number — lead a search.
            filter(&mut sql, " AND o.shop_id = ?", Box::new(shop.0));
        }
        if let Some(buyer) = q.buyer {
            filter(&mut sql, " AND c.buyer_id = ?", Box::new(buyer.0));
        }
        if let Some(queue) = q.queue {
            // Written into the statement (a name from a fixed list, never the caller's text):
            // only then can a plan use the queue's own partial index (migration 0003), which a
            // parameter would leave to the planner's guess.
            sql.push_str(&format!(" AND c.queue = '{}'", queue.as_str()));
        } else if q.open_only {
            sql.push_str(" AND c.queue <> 'closed'");
        }
        if let Some(kind) = q.kind {
            filter(&mut sql, " AND c.kind = ?", Box::new(kind.as_str()));
        }
        if let Some(flag) = q.flag {
            filter(&mut sql, " AND o.flag = ?", Box::new(flag.as_str()));
        }
        if let Some(before) = q.due_before {
            filter(&mut sql, " AND c.due_at <= ?", Box::new(before.0));
        }
        if let Some(no) = &q.order_no {
            // A prefix: the (shop_id, order_no text_pattern_ops) index answers it.
            let escaped = like_escape(no);
            filter(&mut sql, " AND o.order_no LIKE ?", Box::new(format!("{escaped}%")));
        }
        if let Some(name) = &q.customer_name {
            // Any part of the name, ASCII case ignored as SQLite's trigram search does; the
            // trigram index answers three characters or more.
            if name.chars().count() == 2 {
                // Two characters, too few for the trigram index: a name holds them (case
                // ignored) exactly when one of its pairs of characters, lower-cased, is theirs —
                // the index of migration 0005. (With an `ILIKE` beside it the planner also read
                // the whole trigram index for it, 650,000 entries, and intersected the two.)
                filter(&mut sql, " AND name_pairs(o.customer_name) @> ARRAY[lower(?)]", Box::new(name.clone()));
            } else {
                let escaped = like_escape(name);
                filter(&mut sql, " AND o.customer_name ILIKE ?", Box::new(format!("%{escaped}%")));
            }
        }
        match &q.customer_phone {
            Some(PhoneSearch::Full(phone)) => {
                filter(&mut sql, " AND o.customer_phone = ?", Box::new(phone.as_str().to_string()));
            }
            Some(PhoneSearch::LastFour(digits)) => {
                filter(&mut sql, " AND right(o.customer_phone, 4) = ?", Box::new(digits.clone()));
            }
            None => {}
        }
        if let Some(id) = q.case_id {
            filter(&mut sql, " AND c.id = ?", Box::new(id.0));
        }
        if let Some(from) = q.applied_from {
            filter(&mut sql, " AND c.applied_at >= ?", Box::new(from.0));
        }
        if let Some(to) = q.applied_to {
            filter(&mut sql, " AND c.applied_at < ?", Box::new(to.0));
        }
        // A search by order number, phone, or two characters or more of a name leads with
        // that field's index and sorts its hits: the sort key is written `+ 0`, which no index
        // serves. Left to itself the planner walked the shop's cases in due order and filtered
        // them, expecting the hits spread evenly along it; but order numbers follow time, as
        // due times do, and a prefix whose 100 orders all came due late read 960,000 cases
        // (2.4 s; 0.2 ms led by the order-number index). A hit list is then as long as the
        // matches: a prefix as broad as the shop sorts the shop (1.4 s at 1,000,000 cases).
        let plan = q.plan(2);
        if let Some(after) = q.after {
            args.push(Box::new(after.key));
            args.push(Box::new(after.id));
            sql.push_str(&plan.after_condition(&format!("${}", args.len() - 1), &format!("${}", args.len())));
        }
        sql.push_str(&plan.order_by(|c| format!("{c} + 0")));
        let limit = plan.limit;
        args.push(Box::new(plan.fetch));
        sql.push_str(&format!(" LIMIT ${}", args.len()));
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref()).collect();
        // A text search is planned for its values each time: a generic plan knows neither that
        // a LIKE pattern is a prefix (the order number index) nor how selective a phone or a
        // name is. A queue page keeps its cached plan (and saves the round trip).
        if q.order_no.is_some() || q.customer_name.is_some() || q.customer_phone.is_some() {
            self.batch("SET LOCAL plan_cache_mode = force_custom_plan")?;
        }
        let rows = self.query(&sql, &params)?;
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            let phone: &str = r.try_get(3)?;
            let flag: Option<&str> = r.try_get(4)?;
            items.push(CaseHit {
                case: serde_json::from_str(r.try_get(0)?)?,
                order_no: r.try_get(1)?,
                customer_name: r.try_get(2)?,
                customer_phone: Phone::parse(phone).map_err(StoreError::Corrupt)?,
                flag: flag.map(Flag::parse).transpose().map_err(StoreError::Corrupt)?,
                due_key: r.try_get(5)?,
            });
        }
        Ok(CaseHits::paged(items, limit, q.sort))
    }
}

/// Escapes LIKE's wildcards (the default escape character is the backslash).
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

impl CaseWrites for Pg<'_> {
    fn next_order_id(&mut self) -> Result<OrderId, StoreError> {
        Ok(OrderId(self.one("SELECT nextval('orders_id_seq')", &[])?.try_get(0)?))
    }

    fn next_case_id(&mut self) -> Result<CaseId, StoreError> {
        Ok(CaseId(self.one("SELECT nextval('cases_id_seq')", &[])?.try_get(0)?))
    }

    fn insert_order(&mut self, o: &Order, json: &str) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO orders (id, shop_id, buyer_id, order_no, state, flag, customer_name, customer_phone, \
             created_at, version, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &o.id.0,
                &o.shop_id.0,
                &o.buyer_id.0,
                &o.order_no,
                &o.state.as_str(),
                &o.flag.map(|f| f.as_str()),
                &o.customer.name,
                &o.customer.phone.as_str(),
                &o.created_at.0,
                &(o.version as i64),
                &json,
            ],
        )?;
        Ok(())
    }

    fn update_order(&mut self, o: &Order, json: &str, expected: u64) -> Result<(), StoreError> {
        let n = self.exec(
            "UPDATE orders SET state = $1, flag = $2, version = $3, data = $4 WHERE id = $5 AND version = $6",
            &[&o.state.as_str(), &o.flag.map(|f| f.as_str()), &(o.version as i64), &json, &o.id.0, &(expected as i64)],
        )?;
        if n == 1 {
            return Ok(());
        }
        let found = self.opt("SELECT version FROM orders WHERE id = $1", &[&o.id.0])?;
        let found = found.map(|r| r.try_get::<_, i64>(0)).transpose()?.map(|v| v as u64);
        Err(StoreError::Conflict { what: "order", id: o.id.0, expected, found })
    }

    fn insert_case(&mut self, c: &Case, json: &str, due: Option<Timestamp>) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO cases (id, order_id, shop_id, buyer_id, kind, status, queue, due_at, applied_at, updated_at, \
             version, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &c.id.0,
                &c.order_id.0,
                &c.shop_id.0,
                &c.buyer_id.0,
                &c.kind.as_str(),
                &c.status.as_str(),
                &c.queue().as_str(),
                &due.map_or(NO_DEADLINE, |d| d.0),
                &c.applied_at.0,
                &c.status_since.0,
                &(c.version as i64),
                &json,
            ],
        )?;
        Ok(())
    }

    fn update_case(
        &mut self,
        c: &Case,
        json: &str,
        expected: u64,
        due: Option<Timestamp>,
        listed_same: bool,
    ) -> Result<(), StoreError> {
        let n = if listed_same {
            // No indexed column changes: PostgreSQL can keep the new row version on the same
            // page without touching an index (a HOT update).
            self.exec(
                "UPDATE cases SET version = $1, data = $2 WHERE id = $3 AND version = $4",
                &[&(c.version as i64), &json, &c.id.0, &(expected as i64)],
            )?
        } else {
            self.exec(
                "UPDATE cases SET kind = $1, status = $2, queue = $3, due_at = $4, updated_at = $5, version = $6, \
                 data = $7 WHERE id = $8 AND version = $9",
                &[
                    &c.kind.as_str(),
                    &c.status.as_str(),
                    &c.queue().as_str(),
                    &due.map_or(NO_DEADLINE, |d| d.0),
                    &c.status_since.0,
                    &(c.version as i64),
                    &json,
                    &c.id.0,
                    &(expected as i64),
                ],
            )?
        };
        if n == 1 {
            return Ok(());
        }
        let found = self.opt("SELECT version FROM cases WHERE id = $1", &[&c.id.0])?;
        let found = found.map(|r| r.try_get::<_, i64>(0)).transpose()?.map(|v| v as u64);
        Err(StoreError::Conflict { what: "case", id: c.id.0, expected, found })
    }

    fn append_log(&mut self, order: OrderId, case: Option<CaseId>, row: &LogRow) -> Result<(), StoreError> {
        let case_id = if row.case_events { case.map(|c| c.0) } else { None };
        self.exec(
            "INSERT INTO events (order_id, case_id, at, actor, kind, data) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&order.0, &case_id, &row.at.0, &row.actor_json, &row.kind, &row.events_json],
        )?;
        self.insert_published(order, case_id.map(CaseId), row)
    }
}
