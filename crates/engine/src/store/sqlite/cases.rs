//! Orders, cases, their logs, queues, counts and search.

use super::*;

impl CaseReads for Sql<'_> {
    fn order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.json_row("SELECT data FROM orders WHERE id = ?", id.0)
    }

    fn order_by_no(&mut self, shop: ShopId, order_no: &str) -> Result<Option<Order>, StoreError> {
        let data = self
            .conn
            .prepare_cached("SELECT data FROM orders WHERE shop_id = ? AND order_no = ?")?
            .query_row(params![shop.0, order_no], |r| r.get::<_, String>(0))
            .optional()?;
        Ok(match data {
            Some(d) => Some(serde_json::from_str(&d)?),
            None => None,
        })
    }

    fn order_version(&mut self, id: OrderId) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT version FROM orders WHERE id = ?")?
            .query_row([id.0], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|v| v as u64))
    }

    fn orders_of_buyer(
        &mut self,
        buyer: BuyerId,
        before: Option<OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT data FROM orders WHERE buyer_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3")?;
        let rows =
            st.query_map(params![buyer.0, before.map_or(i64::MAX, |o| o.0), limit as i64], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for data in rows {
            out.push(serde_json::from_str(&data?)?);
        }
        Ok(out)
    }

    fn unpaid_order_ids(&mut self, shop: ShopId) -> Result<Vec<OrderId>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id FROM orders WHERE shop_id = ? AND state = 'awaiting_payment' ORDER BY id")?;
        let rows = st.query_map([shop.0], |r| r.get::<_, i64>(0))?;
        Ok(rows.map(|r| r.map(OrderId)).collect::<Result<_, _>>()?)
    }

    fn case(&mut self, id: CaseId) -> Result<Option<Case>, StoreError> {
        self.json_row("SELECT data FROM cases WHERE id = ?", id.0)
    }

    fn case_and_order(&mut self, id: CaseId) -> Result<Option<(Case, Order)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT c.data, o.data FROM cases c JOIN orders o ON o.id = c.order_id WHERE c.id = ?")?;
        let mut rows = st.query([id.0])?;
        match rows.next()? {
            Some(row) => {
                let case = row.get_ref(0)?.as_bytes().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let order = row.get_ref(1)?.as_bytes().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(Some((serde_json::from_slice(case)?, serde_json::from_slice(order)?)))
            }
            None => Ok(None),
        }
    }

    fn latest_cases(&mut self, orders: &[OrderId]) -> Result<Vec<(OrderId, CaseId, Queue)>, StoreError> {
        // One indexed probe per order (`cases_order`): in-process, cheaper than building a list.
        let mut st =
            self.conn.prepare_cached("SELECT id, queue FROM cases WHERE order_id = ? ORDER BY id DESC LIMIT 1")?;
        let mut out = Vec::new();
        for order in orders {
            let row = st.query_row([order.0], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).optional()?;
            if let Some((id, queue)) = row {
                let queue = Queue::parse(&queue).ok_or_else(|| StoreError::Corrupt(format!("queue {queue:?}")))?;
                out.push((*order, CaseId(id), queue));
            }
        }
        Ok(out)
    }

    fn case_events(&mut self, id: CaseId) -> Result<Vec<StoredEvent>, StoreError> {
        self.events("SELECT id, order_id, case_id, at, actor, data FROM events WHERE case_id = ? ORDER BY id", id.0)
    }

    fn order_events(&mut self, id: OrderId) -> Result<Vec<StoredEvent>, StoreError> {
        self.events("SELECT id, order_id, case_id, at, actor, data FROM events WHERE order_id = ? ORDER BY id", id.0)
    }

    fn queue_counts(&mut self, shop: ShopId) -> Result<Vec<(Queue, u64)>, StoreError> {
        // Kept by triggers (migration 0002): no counting of case rows.
        let mut st = self.conn.prepare_cached("SELECT queue, n FROM queue_counts WHERE shop_id = ?")?;
        let rows = st.query_map([shop.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut counts: Vec<(Queue, u64)> = Queue::ALL.iter().map(|q| (*q, 0)).collect();
        for row in rows {
            let (q, n) = row?;
            if let Some(slot) = counts.iter_mut().find(|(queue, _)| queue.as_str() == q) {
                slot.1 = n as u64;
            }
        }
        Ok(counts)
    }

    fn open_case_ids(&mut self, shop: ShopId) -> Result<Vec<CaseId>, StoreError> {
        let mut st =
            self.conn.prepare_cached("SELECT id FROM cases WHERE shop_id = ? AND queue <> 'closed' ORDER BY id")?;
        let rows = st.query_map([shop.0], |r| r.get::<_, i64>(0))?;
        Ok(rows.map(|r| r.map(CaseId)).collect::<Result<_, _>>()?)
    }

    fn search_cases(&mut self, q: &CaseQuery) -> Result<CaseHits, StoreError> {
        use rusqlite::types::Value;
        const COLUMNS: &str = "SELECT c.data, o.order_no, o.customer_name, o.customer_phone, o.flag, c.due_at, \
                               c.applied_at FROM cases c JOIN orders o ON o.id = c.order_id";
        // With a selective filter (order number, phone, name, case id) the few cases found are
        // sorted: their ids first, from a covering index, and only the page's rows are read
        // whole (late materialisation). Without one, the queue is walked in index order.
        let plan = q.plan(3);
        let narrow = plan.selective;
        let needs_order = q.flag.is_some() || q.customer_name.as_ref().is_some_and(|n| n.chars().count() < 3);
        let mut sql = match (narrow, needs_order) {
            (false, _) => format!("{COLUMNS} WHERE 1 = 1"),
            (true, false) => "SELECT c.id FROM cases c WHERE 1 = 1".to_string(),
            (true, true) => "SELECT c.id FROM cases c JOIN orders o ON o.id = c.order_id WHERE 1 = 1".to_string(),
        };
        let mut args: Vec<Value> = Vec::new();
        let mut filter = |clause: &str, v: Value| {
            sql.push_str(clause);
            args.push(v);
        };
        // With a selective filter the shop is checked on the few rows found, not walked (`+`).
        if let Some(shop) = q.shop {
            filter(if narrow { " AND +c.shop_id = ?" } else { " AND c.shop_id = ?" }, Value::Integer(shop.0));
        }
        if let Some(buyer) = q.buyer {
            filter(" AND c.buyer_id = ?", Value::Integer(buyer.0));
        }
        if let Some(queue) = q.queue {
            filter(" AND c.queue = ?", Value::Text(queue.as_str().into()));
        } else if q.open_only {
            filter(" AND c.queue <> ?", Value::Text(Queue::Closed.as_str().into()));
        }
        if let Some(kind) = q.kind {
            filter(" AND c.kind = ?", Value::Text(kind.as_str().into()));
        }
        if let Some(flag) = q.flag {
            filter(" AND o.flag = ?", Value::Text(flag.as_str().into()));
        }
        if let Some(before) = q.due_before {
            filter(" AND c.due_at <= ?", Value::Integer(before.0));
        }
        // Filters on the order (number, buyer, phone) select few rows: each is a subquery that
        // an index of `orders` (or the trigram index) answers, and the few cases found are then
        // sorted. Within a shop (every merchant's search) the indexes lead with `shop_id`.
        let mut selective: Vec<(String, Vec<Value>)> = Vec::new();
        let shop_cond = |col: &str| match q.shop {
            Some(shop) => (format!("shop_id = ? AND {col}"), vec![Value::Integer(shop.0)]),
            None => (col.to_string(), Vec::new()),
        };
        if let Some(no) = &q.order_no {
            // A prefix: a range on the (shop_id, order_no) index. U+10FFFF sorts after every
            // character that can follow the prefix.
            let (cond, mut vs) = shop_cond("order_no >= ? AND order_no < ?");
            vs.push(Value::Text(no.clone()));
            vs.push(Value::Text(format!("{no}\u{10FFFF}")));
            selective.push((format!(" AND c.order_id IN (SELECT id FROM orders WHERE {cond})"), vs));
        }
        if let Some(name) = q.customer_name.as_ref().filter(|n| n.chars().count() >= 3) {
            // Contains-search through the trigram index (three characters or more).
            let phrase = format!("\"{}\"", name.replace('"', "\"\""));
            selective.push((
                " AND c.order_id IN (SELECT rowid FROM orders_name_fts WHERE orders_name_fts MATCH ?)".into(),
                vec![Value::Text(phrase)],
            ));
        }
        match &q.customer_phone {
            Some(PhoneSearch::Full(phone)) => {
                let (cond, mut vs) = shop_cond("customer_phone = ?");
                vs.push(Value::Text(phone.as_str().into()));
                selective.push((format!(" AND c.order_id IN (SELECT id FROM orders WHERE {cond})"), vs));
            }
            Some(PhoneSearch::LastFour(digits)) => {
                let (cond, mut vs) = shop_cond("substr(customer_phone, -4) = ?");
                vs.push(Value::Text(digits.clone()));
                let index = if q.shop.is_some() { " INDEXED BY orders_shop_last4" } else { "" };
                selective.push((format!(" AND c.order_id IN (SELECT id FROM orders{index} WHERE {cond})"), vs));
            }
            None => {}
        }
        if let Some(id) = q.case_id {
            filter(" AND c.id = ?", Value::Integer(id.0));
        }
        if let Some(name) = q.customer_name.as_ref().filter(|n| n.chars().count() < 3) {
            // Shorter than a trigram: checked on each row as the sort order walks the shop's
            // cases (quick for a common fragment; a scan when it is rare).
            let escaped = name.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            filter(" AND o.customer_name LIKE ? ESCAPE '\\'", Value::Text(format!("%{escaped}%")));
        }
        if let Some(from) = q.applied_from {
            filter(" AND c.applied_at >= ?", Value::Integer(from.0));
        }
        if let Some(to) = q.applied_to {
            filter(" AND c.applied_at < ?", Value::Integer(to.0));
        }
        for (clause, vs) in selective {
            sql.push_str(&clause);
            args.extend(vs);
        }
        // With a selective filter the few rows found are sorted; `+` keeps the planner from
        // walking the whole queue in index order instead.
        if let Some(after) = q.after {
            sql.push_str(&plan.after_condition("?", "?"));
            args.push(Value::Integer(after.key));
            args.push(Value::Integer(after.id));
        }
        sql.push_str(&plan.order_by(|c| format!("+{c}")));
        sql.push_str(" LIMIT ?");
        let limit = plan.limit;
        args.push(Value::Integer(plan.fetch));
        if narrow {
            let outer_order = SearchPlan { selective: false, ..plan }.order_by(str::to_string);
            sql = format!("{COLUMNS} WHERE c.id IN ({sql}){outer_order}");
        }
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?;
        let mut items = Vec::with_capacity(limit + 1);
        for row in rows {
            let (data, order_no, customer_name, phone, flag, due, _applied) = row?;
            items.push(CaseHit {
                case: serde_json::from_str(&data)?,
                order_no,
                customer_name,
                customer_phone: Phone::parse(&phone).map_err(StoreError::Corrupt)?,
                flag: flag.as_deref().map(Flag::parse).transpose().map_err(StoreError::Corrupt)?,
                due_key: due,
            });
        }
        Ok(CaseHits::paged(items, limit, q.sort))
    }
}

impl CaseWrites for Sql<'_> {
    fn next_order_id(&mut self) -> Result<OrderId, StoreError> {
        let v: i64 =
            self.conn.prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM orders")?.query_row([], |r| r.get(0))?;
        Ok(OrderId(v))
    }

    fn next_case_id(&mut self) -> Result<CaseId, StoreError> {
        let v: i64 =
            self.conn.prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")?.query_row([], |r| r.get(0))?;
        Ok(CaseId(v))
    }

    fn insert_order(&mut self, o: &Order, json: &str) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO orders (id, shop_id, buyer_id, order_no, state, flag, customer_name, customer_phone, created_at, version, data) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                o.id.0,
                o.shop_id.0,
                o.buyer_id.0,
                o.order_no,
                o.state.as_str(),
                o.flag.map(|f| f.as_str()),
                o.customer.name,
                o.customer.phone.as_str(),
                o.created_at.0,
                o.version as i64,
                json
            ])?;
        Ok(())
    }

    fn update_order(&mut self, o: &Order, json: &str, expected: u64) -> Result<(), StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE orders SET state = ?, flag = ?, version = ?, data = ? WHERE id = ? AND version = ?",
            )?
            .execute(params![
                o.state.as_str(),
                o.flag.map(|f| f.as_str()),
                o.version as i64,
                json,
                o.id.0,
                expected as i64
            ])?;
        self.dirty |= n > 0;
        if n == 1 {
            return Ok(());
        }
        Err(StoreError::Conflict { what: "order", id: o.id.0, expected, found: self.order_version(o.id)? })
    }

    fn insert_case(&mut self, c: &Case, json: &str, due: Option<Timestamp>) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO cases (id, order_id, shop_id, buyer_id, kind, status, queue, due_at, applied_at, updated_at, version, data) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                c.id.0,
                c.order_id.0,
                c.shop_id.0,
                c.buyer_id.0,
                c.kind.as_str(),
                c.status.as_str(),
                c.queue().as_str(),
                due.map_or(NO_DEADLINE, |d| d.0),
                c.applied_at.0,
                c.status_since.0,
                c.version as i64,
                json
            ])?;
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
        let n = if !listed_same {
            self.conn
                .prepare_cached(
                    "UPDATE cases SET kind = ?, status = ?, queue = ?, due_at = ?, updated_at = ?, version = ?, data = ? \
                     WHERE id = ? AND version = ?",
                )?
                .execute(params![
                    c.kind.as_str(),
                    c.status.as_str(),
                    c.queue().as_str(),
                    due.map_or(NO_DEADLINE, |d| d.0),
                    c.status_since.0,
                    c.version as i64,
                    json,
                    c.id.0,
                    expected as i64
                ])?
        } else {
            // No indexed column changes: SQLite then leaves every index of the table alone.
            self.conn
                .prepare_cached("UPDATE cases SET version = ?, data = ? WHERE id = ? AND version = ?")?
                .execute(params![c.version as i64, json, c.id.0, expected as i64])?
        };
        self.dirty |= n > 0;
        if n == 1 {
            return Ok(());
        }
        let found = self
            .conn
            .prepare_cached("SELECT version FROM cases WHERE id = ?")?
            .query_row([c.id.0], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|v| v as u64);
        Err(StoreError::Conflict { what: "case", id: c.id.0, expected, found })
    }

    fn append_log(&mut self, order: OrderId, case: Option<CaseId>, row: &LogRow) -> Result<(), StoreError> {
        self.dirty = true;
        let case_id = if row.case_events { case.map(|c| c.0) } else { None };
        self.conn
            .prepare_cached("INSERT INTO events (order_id, case_id, at, actor, kind, data) VALUES (?, ?, ?, ?, ?, ?)")?
            .execute(params![order.0, case_id, row.at.0, row.actor_json, row.kind, row.events_json])?;
        self.insert_published(order, case_id.map(CaseId), row)
    }
}
