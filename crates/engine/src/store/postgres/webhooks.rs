//! Webhook endpoints, deliveries and attempts. Deliveries are claimed under leases written into
//! their rows, `FOR UPDATE SKIP LOCKED`: two nodes claiming at once take different rows.

use super::*;

const ENDPOINT_COLUMNS: &str = "SELECT id, shop_id, url, description, types, enabled, secret, old_secret, \
                                old_secret_until, failing_since, disabled_reason, created_at FROM webhook_endpoints";
const DELIVERY_COLUMNS: &str =
    "id, endpoint_id, event_id, event_type, payload, status, attempts, next_at, created_at, done_at";

fn endpoint_row(r: &Row) -> Result<WebhookEndpoint, StoreError> {
    let old: Option<String> = r.try_get(7)?;
    let until: Option<i64> = r.try_get(8)?;
    Ok(WebhookEndpoint {
        id: r.try_get(0)?,
        shop: r.try_get::<_, Option<i64>>(1)?.map(ShopId),
        url: r.try_get(2)?,
        description: r.try_get(3)?,
        types: WebhookEndpoint::types_from_column(r.try_get(4)?),
        enabled: r.try_get::<_, i64>(5)? != 0,
        secret: r.try_get(6)?,
        old_secret: old.zip(until),
        failing_since: r.try_get(9)?,
        disabled_reason: r.try_get(10)?,
        created_at: r.try_get(11)?,
    })
}

fn delivery_row(r: &Row) -> Result<WebhookDelivery, StoreError> {
    Ok(WebhookDelivery {
        id: r.try_get(0)?,
        endpoint: r.try_get(1)?,
        event_id: r.try_get(2)?,
        event_type: r.try_get(3)?,
        payload: r.try_get(4)?,
        status: DeliveryStatus::parse(r.try_get(5)?)?,
        attempts: r.try_get::<_, i64>(6)? as u32,
        next_at: r.try_get(7)?,
        created_at: r.try_get(8)?,
        done_at: r.try_get(9)?,
    })
}

impl WebhookReads for Pg<'_> {
    fn webhook_endpoints(&mut self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.query(&format!("{ENDPOINT_COLUMNS} ORDER BY id"), &[])?.iter().map(endpoint_row).collect()
    }

    fn webhook_endpoint(&mut self, id: i64) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.opt(&format!("{ENDPOINT_COLUMNS} WHERE id = $1"), &[&id])?.as_ref().map(endpoint_row).transpose()
    }

    fn webhook_delivery(&mut self, id: i64) -> Result<Option<WebhookDelivery>, StoreError> {
        self.opt(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1"), &[&id])?
            .as_ref()
            .map(delivery_row)
            .transpose()
    }

    fn webhook_deliveries(&mut self, endpoint: i64, limit: usize) -> Result<Vec<WebhookDelivery>, StoreError> {
        self.query(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2"
            ),
            &[&endpoint, &(limit as i64)],
        )?
        .iter()
        .map(delivery_row)
        .collect()
    }

    fn webhook_attempts(&mut self, delivery: i64) -> Result<Vec<WebhookAttempt>, StoreError> {
        let rows = self.query(
            "SELECT delivery_id, attempt, at, status_code, latency_ms, response, error FROM webhook_attempts \
             WHERE delivery_id = $1 ORDER BY attempt",
            &[&delivery],
        )?;
        rows.iter()
            .map(|r| {
                Ok(WebhookAttempt {
                    delivery: r.try_get(0)?,
                    attempt: r.try_get::<_, i64>(1)? as u32,
                    at: r.try_get(2)?,
                    status_code: r.try_get::<_, Option<i64>>(3)?.map(|c| c as u16),
                    latency_ms: r.try_get(4)?,
                    response: r.try_get(5)?,
                    error: r.try_get(6)?,
                })
            })
            .collect()
    }
}

impl WebhookWrites for Pg<'_> {
    fn insert_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO webhook_endpoints (shop_id, url, description, types, enabled, secret, old_secret, \
             old_secret_until, failing_since, disabled_reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                &e.shop.map(|s| s.0),
                &e.url,
                &e.description,
                &e.types_column(),
                &i64::from(e.enabled),
                &e.secret,
                &e.old_secret.as_ref().map(|o| o.0.clone()),
                &e.old_secret.as_ref().map(|o| o.1),
                &e.failing_since,
                &e.disabled_reason,
                &e.created_at,
            ],
        )
    }

    fn update_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        self.exec(
            "UPDATE webhook_endpoints SET url = $1, description = $2, types = $3, enabled = $4, secret = $5, \
             old_secret = $6, old_secret_until = $7, failing_since = $8, disabled_reason = $9 WHERE id = $10",
            &[
                &e.url,
                &e.description,
                &e.types_column(),
                &i64::from(e.enabled),
                &e.secret,
                &e.old_secret.as_ref().map(|o| o.0.clone()),
                &e.old_secret.as_ref().map(|o| o.1),
                &e.failing_since,
                &e.disabled_reason,
                &e.id,
            ],
        )?;
        Ok(())
    }

    fn delete_webhook_endpoint(&mut self, id: i64) -> Result<(), StoreError> {
        self.exec("DELETE FROM webhook_endpoints WHERE id = $1", &[&id])?;
        self.exec("DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'", &[&id])?;
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
        let n = self.exec(
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, status, next_at, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $5) ON CONFLICT (endpoint_id, event_id) DO NOTHING",
            &[&endpoint, &event_id, &event_type, &payload, &now_ms],
        )?;
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
        let rows = self.query(
            &format!(
                "UPDATE webhook_deliveries d SET lease_owner = $1, lease_until = $2 FROM ( \
                   SELECT id FROM webhook_deliveries WHERE endpoint_id = $3 AND status = 'pending' \
                     AND next_at <= $4 AND (lease_until IS NULL OR lease_until <= $4) \
                   ORDER BY next_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) pick \
                 WHERE d.id = pick.id RETURNING {}",
                DELIVERY_COLUMNS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ")
            ),
            &[&owner, &until_ms, &endpoint, &now_ms, &(limit as i64)],
        )?;
        rows.iter().map(delivery_row).collect()
    }

    fn finish_webhook_attempt(
        &mut self,
        a: &WebhookAttempt,
        status: DeliveryStatus,
        next_at: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, response, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (delivery_id, attempt) DO NOTHING",
            &[
                &a.delivery,
                &i64::from(a.attempt),
                &a.at,
                &a.status_code.map(i64::from),
                &a.latency_ms,
                &a.response,
                &a.error,
            ],
        )?;
        let done = (status != DeliveryStatus::Pending).then_some(a.at);
        self.exec(
            "UPDATE webhook_deliveries SET status = $1, attempts = GREATEST(attempts, $2), next_at = $3, done_at = $4, \
             lease_owner = NULL, lease_until = NULL WHERE id = $5",
            &[&status.as_str(), &i64::from(a.attempt), &next_at, &done, &a.delivery],
        )?;
        Ok(())
    }

    fn redeliver_webhook(&mut self, id: i64, now_ms: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE webhook_deliveries SET status = 'pending', next_at = $1, done_at = NULL, lease_owner = NULL, \
             lease_until = NULL WHERE id = $2",
            &[&now_ms, &id],
        )?;
        Ok(())
    }
}
