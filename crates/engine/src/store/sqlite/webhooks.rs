//! Webhook endpoints, deliveries and attempts.

use super::*;

const ENDPOINT_COLUMNS: &str = "SELECT id, shop_id, url, description, types, enabled, secret, old_secret, \
                                old_secret_until, failing_since, disabled_reason, created_at FROM webhook_endpoints";
const DELIVERY_COLUMNS: &str =
    "id, endpoint_id, event_id, event_type, payload, status, attempts, next_at, created_at, done_at";

fn endpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WebhookEndpoint> {
    let old: Option<String> = r.get(7)?;
    let until: Option<i64> = r.get(8)?;
    Ok(WebhookEndpoint {
        id: r.get(0)?,
        shop: r.get::<_, Option<i64>>(1)?.map(ShopId),
        url: r.get(2)?,
        description: r.get(3)?,
        types: WebhookEndpoint::types_from_column(&r.get::<_, String>(4)?),
        enabled: r.get::<_, i64>(5)? != 0,
        secret: r.get(6)?,
        old_secret: old.zip(until),
        failing_since: r.get(9)?,
        disabled_reason: r.get(10)?,
        created_at: r.get(11)?,
    })
}

/// A `DELIVERY_COLUMNS` row; the inner result is the status check.
fn delivery_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(WebhookDelivery, String)> {
    Ok((
        WebhookDelivery {
            id: r.get(0)?,
            endpoint: r.get(1)?,
            event_id: r.get(2)?,
            event_type: r.get(3)?,
            payload: r.get(4)?,
            status: DeliveryStatus::Pending,
            attempts: r.get::<_, i64>(6)? as u32,
            next_at: r.get(7)?,
            created_at: r.get(8)?,
            done_at: r.get(9)?,
        },
        r.get(5)?,
    ))
}

fn with_status((mut d, status): (WebhookDelivery, String)) -> Result<WebhookDelivery, StoreError> {
    d.status = DeliveryStatus::parse(&status)?;
    Ok(d)
}

impl Sql<'_> {
    fn deliveries(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map(args, delivery_row)?;
        rows.map(|r| with_status(r?)).collect()
    }
}

impl WebhookReads for Sql<'_> {
    fn webhook_endpoints(&mut self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("{ENDPOINT_COLUMNS} ORDER BY id"))?;
        let rows = st.query_map([], endpoint_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn webhook_endpoint(&mut self, id: i64) -> Result<Option<WebhookEndpoint>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("{ENDPOINT_COLUMNS} WHERE id = ?"))?;
        Ok(st.query_row([id], endpoint_row).optional()?)
    }

    fn webhook_delivery(&mut self, id: i64) -> Result<Option<WebhookDelivery>, StoreError> {
        Ok(self.deliveries(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?"), [id])?.pop())
    }

    fn webhook_deliveries(&mut self, endpoint: i64, limit: usize) -> Result<Vec<WebhookDelivery>, StoreError> {
        self.deliveries(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id DESC LIMIT ?"
            ),
            params![endpoint, limit as i64],
        )
    }

    fn webhook_attempts(&mut self, delivery: i64) -> Result<Vec<WebhookAttempt>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT delivery_id, attempt, at, status_code, latency_ms, response, error FROM webhook_attempts \
             WHERE delivery_id = ? ORDER BY attempt",
        )?;
        let rows = st.query_map([delivery], |r| {
            Ok(WebhookAttempt {
                delivery: r.get(0)?,
                attempt: r.get::<_, i64>(1)? as u32,
                at: r.get(2)?,
                status_code: r.get::<_, Option<i64>>(3)?.map(|c| c as u16),
                latency_ms: r.get(4)?,
                response: r.get(5)?,
                error: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl WebhookWrites for Sql<'_> {
    fn insert_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<i64, StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO webhook_endpoints (shop_id, url, description, types, enabled, secret, old_secret, \
                 old_secret_until, failing_since, disabled_reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                e.shop.map(|s| s.0),
                e.url,
                e.description,
                e.types_column(),
                i64::from(e.enabled),
                e.secret,
                e.old_secret.as_ref().map(|o| o.0.clone()),
                e.old_secret.as_ref().map(|o| o.1),
                e.failing_since,
                e.disabled_reason,
                e.created_at
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn update_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "UPDATE webhook_endpoints SET url = ?, description = ?, types = ?, enabled = ?, secret = ?, \
                 old_secret = ?, old_secret_until = ?, failing_since = ?, disabled_reason = ? WHERE id = ?",
            )?
            .execute(params![
                e.url,
                e.description,
                e.types_column(),
                i64::from(e.enabled),
                e.secret,
                e.old_secret.as_ref().map(|o| o.0.clone()),
                e.old_secret.as_ref().map(|o| o.1),
                e.failing_since,
                e.disabled_reason,
                e.id
            ])?;
        Ok(())
    }

    fn delete_webhook_endpoint(&mut self, id: i64) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn.prepare_cached("DELETE FROM webhook_endpoints WHERE id = ?")?.execute([id])?;
        self.conn
            .prepare_cached("DELETE FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending'")?
            .execute([id])?;
        Ok(())
    }

    fn insert_webhook_delivery(
        &mut self,
        endpoint: i64,
        event_id: &str,
        event_type: &str,
        payload: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, status, next_at, created_at) \
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5) ON CONFLICT (endpoint_id, event_id) DO NOTHING",
            )?
            .execute(params![endpoint, event_id, event_type, payload, now_ms])?;
        self.dirty |= n > 0;
        Ok(n > 0)
    }

    fn claim_webhook_deliveries(
        &mut self,
        endpoint: i64,
        now_ms: i64,
        limit: usize,
        owner: &str,
        until_ms: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let claimed = self.deliveries(
            &format!(
                "UPDATE webhook_deliveries SET lease_owner = ?1, lease_until = ?2 WHERE id IN ( \
                   SELECT id FROM webhook_deliveries WHERE endpoint_id = ?3 AND status = 'pending' \
                     AND next_at <= ?4 AND (lease_until IS NULL OR lease_until <= ?4) \
                   ORDER BY next_at, id LIMIT ?5) \
                 RETURNING {DELIVERY_COLUMNS}"
            ),
            params![owner, until_ms, endpoint, now_ms, limit as i64],
        )?;
        self.dirty |= !claimed.is_empty();
        Ok(claimed)
    }

    fn finish_webhook_attempt(
        &mut self,
        a: &WebhookAttempt,
        status: DeliveryStatus,
        next_at: i64,
    ) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, response, error) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id, attempt) DO NOTHING",
            )?
            .execute(params![
                a.delivery,
                i64::from(a.attempt),
                a.at,
                a.status_code.map(i64::from),
                a.latency_ms,
                a.response,
                a.error
            ])?;
        let done = (status != DeliveryStatus::Pending).then_some(a.at);
        self.conn
            .prepare_cached(
                "UPDATE webhook_deliveries SET status = ?, attempts = MAX(attempts, ?), next_at = ?, done_at = ?, \
                 lease_owner = NULL, lease_until = NULL WHERE id = ?",
            )?
            .execute(params![status.as_str(), i64::from(a.attempt), next_at, done, a.delivery])?;
        Ok(())
    }

    fn redeliver_webhook(&mut self, id: i64, now_ms: i64) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "UPDATE webhook_deliveries SET status = 'pending', next_at = ?, done_at = NULL, lease_owner = NULL, \
                 lease_until = NULL WHERE id = ?",
            )?
            .execute(params![now_ms, id])?;
        Ok(())
    }
}
