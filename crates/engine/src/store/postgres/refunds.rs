//! The refund ledger. Due refunds are claimed under leases written into their rows, `FOR UPDATE
//! SKIP LOCKED`: two nodes claiming at once take different rows.

use super::*;

const COLUMNS: &str =
    "id, case_id, order_id, order_no, shop_id, amount_minor, currency, gateway, status, attempts, reference, \
                       last_error, requested_at, settled_at, next_at";

fn refund_row(r: &Row) -> Result<RefundRow, StoreError> {
    let currency: &str = r.try_get(6)?;
    let status: &str = r.try_get(8)?;
    let amount = Currency::parse(currency).and_then(|c| Money::new(r.try_get(5).unwrap_or(-1), c));
    Ok(RefundRow {
        id: r.try_get(0)?,
        case: CaseId(r.try_get(1)?),
        order: OrderId(r.try_get(2)?),
        order_no: r.try_get(3)?,
        shop: ShopId(r.try_get(4)?),
        amount: amount.map_err(StoreError::Corrupt)?,
        gateway: r.try_get(7)?,
        status: LedgerStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown refund status {status}")))?,
        attempts: r.try_get::<_, i64>(9)? as u32,
        reference: r.try_get(10)?,
        last_error: r.try_get(11)?,
        requested_at: Timestamp(r.try_get(12)?),
        settled_at: r.try_get::<_, Option<i64>>(13)?.map(Timestamp),
        next_at: r.try_get::<_, Option<i64>>(14)?.map(Timestamp),
    })
}

impl RefundReads for Pg<'_> {
    fn refund(&mut self, id: i64) -> Result<Option<RefundRow>, StoreError> {
        self.opt(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"), &[&id])?.as_ref().map(refund_row).transpose()
    }

    fn refund_of_case(&mut self, case: CaseId) -> Result<Option<RefundRow>, StoreError> {
        self.opt(&format!("SELECT {COLUMNS} FROM refunds WHERE case_id = $1 ORDER BY id DESC LIMIT 1"), &[&case.0])?
            .as_ref()
            .map(refund_row)
            .transpose()
    }

    fn refunds(&mut self, f: &RefundFilter) -> Result<Vec<RefundRow>, StoreError> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM refunds WHERE ($1::BIGINT IS NULL OR shop_id = $1) \
                 AND ($2::BIGINT IS NULL OR case_id = $2) AND ($3::TEXT IS NULL OR status = $3) \
                 AND ($4::BIGINT IS NULL OR requested_at >= $4) AND ($5::BIGINT IS NULL OR requested_at < $5) \
                 AND id > $6 ORDER BY id LIMIT $7"
            ),
            &[
                &f.shop.map(|s| s.0),
                &f.case.map(|c| c.0),
                &f.status.map(|s| s.as_str()),
                &f.from.map(|t| t.0),
                &f.to.map(|t| t.0),
                &f.after.unwrap_or(0),
                &(f.limit as i64),
            ],
        )?
        .iter()
        .map(refund_row)
        .collect()
    }
}

impl RefundWrites for Pg<'_> {
    fn insert_refund(&mut self, r: &RefundRow) -> Result<i64, StoreError> {
        let row = self.query(
            "INSERT INTO refunds (case_id, order_id, order_no, shop_id, amount_minor, currency, gateway, status, attempts, \
             reference, last_error, requested_at, settled_at, next_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
            &[
                &r.case.0,
                &r.order.0,
                &r.order_no,
                &r.shop.0,
                &r.amount.minor(),
                &r.amount.currency().as_str(),
                &r.gateway,
                &r.status.as_str(),
                &i64::from(r.attempts),
                &r.reference,
                &r.last_error,
                &r.requested_at.0,
                &r.settled_at.map(|t| t.0),
                &r.next_at.map(|t| t.0),
            ],
        )?;
        row.first().map(|r| r.try_get(0)).transpose()?.ok_or_else(|| StoreError::db("no id for the refund"))
    }

    fn update_refund(&mut self, r: &RefundRow) -> Result<(), StoreError> {
        self.exec(
            "UPDATE refunds SET status = $1, attempts = $2, reference = $3, last_error = $4, settled_at = $5, \
             next_at = $6, lease_owner = NULL, lease_until = NULL WHERE id = $7",
            &[
                &r.status.as_str(),
                &i64::from(r.attempts),
                &r.reference,
                &r.last_error,
                &r.settled_at.map(|t| t.0),
                &r.next_at.map(|t| t.0),
                &r.id,
            ],
        )?;
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
        let names: Vec<String> = gateways.iter().map(|g| g.to_string()).collect();
        self.query(
            &format!(
                "UPDATE refunds r SET lease_owner = $1, lease_until = $2 FROM ( \
                   SELECT id FROM refunds WHERE status IN ('requested', 'pending') AND next_at <= $3 \
                     AND gateway = ANY($4) AND (lease_until IS NULL OR lease_until <= $5) \
                   ORDER BY next_at, id LIMIT $6 FOR UPDATE SKIP LOCKED) pick \
                 WHERE r.id = pick.id RETURNING {}",
                COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ")
            ),
            &[&owner, &until_ms, &now.0, &names, &now_ms, &(limit as i64)],
        )?
        .iter()
        .map(refund_row)
        .collect()
    }
}
