//! The refund ledger.

use super::*;

const COLUMNS: &str =
    "id, case_id, order_id, order_no, shop_id, amount_minor, currency, gateway, status, attempts, reference, \
                       last_error, requested_at, settled_at, next_at";

fn refund_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<RefundRow, StoreError>> {
    let currency: String = r.get(6)?;
    let status: String = r.get(8)?;
    let minor: i64 = r.get(5)?;
    let parts = (
        Currency::parse(&currency).and_then(|c| Money::new(minor, c)),
        LedgerStatus::parse(&status).ok_or_else(|| format!("unknown refund status {status}")),
    );
    let (amount, status) = match parts {
        (Ok(a), Ok(s)) => (a, s),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(StoreError::Corrupt(e))),
    };
    Ok(Ok(RefundRow {
        id: r.get(0)?,
        case: CaseId(r.get(1)?),
        order: OrderId(r.get(2)?),
        order_no: r.get(3)?,
        shop: ShopId(r.get(4)?),
        amount,
        gateway: r.get(7)?,
        status,
        attempts: r.get::<_, i64>(9)? as u32,
        reference: r.get(10)?,
        last_error: r.get(11)?,
        requested_at: Timestamp(r.get(12)?),
        settled_at: r.get::<_, Option<i64>>(13)?.map(Timestamp),
        next_at: r.get::<_, Option<i64>>(14)?.map(Timestamp),
    }))
}

impl Sql<'_> {
    fn refund_rows(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<RefundRow>, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map(args, refund_row)?;
        rows.map(|r| r?).collect()
    }
}

impl RefundReads for Sql<'_> {
    fn refund(&mut self, id: i64) -> Result<Option<RefundRow>, StoreError> {
        Ok(self.refund_rows(&format!("SELECT {COLUMNS} FROM refunds WHERE id = ?"), [id])?.pop())
    }

    fn refund_of_case(&mut self, case: CaseId) -> Result<Option<RefundRow>, StoreError> {
        Ok(self
            .refund_rows(
                &format!("SELECT {COLUMNS} FROM refunds WHERE case_id = ? ORDER BY id DESC LIMIT 1"),
                [case.0],
            )?
            .pop())
    }

    fn refunds(&mut self, f: &RefundFilter) -> Result<Vec<RefundRow>, StoreError> {
        self.refund_rows(
            &format!(
                "SELECT {COLUMNS} FROM refunds WHERE (?1 IS NULL OR shop_id = ?1) AND (?2 IS NULL OR case_id = ?2) \
                 AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR requested_at >= ?4) \
                 AND (?5 IS NULL OR requested_at < ?5) AND id > ?6 ORDER BY id LIMIT ?7"
            ),
            params![
                f.shop.map(|s| s.0),
                f.case.map(|c| c.0),
                f.status.map(|s| s.as_str()),
                f.from.map(|t| t.0),
                f.to.map(|t| t.0),
                f.after.unwrap_or(0),
                f.limit as i64
            ],
        )
    }
}

impl RefundWrites for Sql<'_> {
    fn insert_refund(&mut self, r: &RefundRow) -> Result<i64, StoreError> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO refunds (case_id, order_id, order_no, shop_id, amount_minor, currency, gateway, status, attempts, \
             reference, last_error, requested_at, settled_at, next_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        st.execute(params![
            r.case.0,
            r.order.0,
            r.order_no,
            r.shop.0,
            r.amount.minor(),
            r.amount.currency().as_str(),
            r.gateway,
            r.status.as_str(),
            i64::from(r.attempts),
            r.reference,
            r.last_error,
            r.requested_at.0,
            r.settled_at.map(|t| t.0),
            r.next_at.map(|t| t.0),
        ])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn update_refund(&mut self, r: &RefundRow) -> Result<(), StoreError> {
        let mut st = self.conn.prepare_cached(
            "UPDATE refunds SET status = ?, attempts = ?, reference = ?, last_error = ?, settled_at = ?, next_at = ?, \
             lease_owner = NULL, lease_until = NULL WHERE id = ?",
        )?;
        st.execute(params![
            r.status.as_str(),
            i64::from(r.attempts),
            r.reference,
            r.last_error,
            r.settled_at.map(|t| t.0),
            r.next_at.map(|t| t.0),
            r.id
        ])?;
        Ok(())
    }

    fn claim_refunds(
        &mut self,
        gateways: &[&str],
        now: Timestamp,
        limit: usize,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<RefundRow>, StoreError> {
        let names = gateways.join(" ");
        self.refund_rows(
            &format!(
                "UPDATE refunds SET lease_owner = ?1, lease_until = ?2 WHERE id IN ( \
                   SELECT id FROM refunds WHERE status IN ('requested', 'pending') AND next_at <= ?3 \
                     AND instr(' ' || ?4 || ' ', ' ' || gateway || ' ') > 0 \
                     AND (lease_until IS NULL OR lease_until <= ?5) ORDER BY next_at, id LIMIT ?6) \
                 RETURNING {COLUMNS}"
            ),
            params![owner, until_ms, now.0, names, now_ms, limit as i64],
        )
    }
}
