//! Webhook endpoints, their deliveries and every attempt, as stored. The engine decides (who may
//! manage an endpoint, which events it gets, when a failed delivery is tried again, when an
//! endpoint that keeps failing is disabled); the stores only keep rows.

use super::StoreError;
use aftersale_core::values::ShopId;

/// An endpoint: a shop's (`shop`) or the platform's (None, every shop's events).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub shop: Option<ShopId>,
    pub url: String,
    pub description: String,
    /// The event types it takes; empty: every type.
    pub types: Vec<String>,
    pub enabled: bool,
    /// The signing secret, sealed by the caller (the engine never sees it in the clear).
    pub secret: String,
    /// The secret before the last rotation, sealed, and until when (wall-clock ms) it signs too.
    pub old_secret: Option<(String, i64)>,
    /// The first failed attempt of the current run of failures (wall-clock ms).
    pub failing_since: Option<i64>,
    pub disabled_reason: Option<String>,
    /// Wall-clock ms.
    pub created_at: i64,
}

impl WebhookEndpoint {
    /// The stored form of `types` (each followed by a space; empty for every type).
    pub fn types_column(&self) -> String {
        self.types.iter().map(|t| format!("{t} ")).collect()
    }

    pub fn types_from_column(column: &str) -> Vec<String> {
        column.split_whitespace().map(str::to_string).collect()
    }
}

/// A delivery's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<DeliveryStatus, StoreError> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "succeeded" => Ok(DeliveryStatus::Succeeded),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(StoreError::Corrupt(format!("unknown delivery status {other}"))),
        }
    }
}

/// One event for one endpoint. `event_id` is the `webhook-id`: the same on every attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub endpoint: i64,
    pub event_id: String,
    pub event_type: String,
    /// The JSON body sent.
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When it is next tried (wall-clock ms).
    pub next_at: i64,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

/// One attempt: what the receiver answered (its first 1 kB), or why there was no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub delivery: i64,
    pub attempt: u32,
    pub at: i64,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub response: String,
    pub error: Option<String>,
}

pub trait WebhookReads {
    /// Every endpoint (a small table: read whole).
    fn webhook_endpoints(&mut self) -> Result<Vec<WebhookEndpoint>, StoreError>;
    fn webhook_endpoint(&mut self, id: i64) -> Result<Option<WebhookEndpoint>, StoreError>;
    fn webhook_delivery(&mut self, id: i64) -> Result<Option<WebhookDelivery>, StoreError>;
    /// An endpoint's deliveries, newest first.
    fn webhook_deliveries(&mut self, endpoint: i64, limit: usize) -> Result<Vec<WebhookDelivery>, StoreError>;
    /// A delivery's attempts, in order.
    fn webhook_attempts(&mut self, delivery: i64) -> Result<Vec<WebhookAttempt>, StoreError>;
}

pub trait WebhookWrites {
    /// Inserts `e` (its `id` ignored) and answers its id.
    fn insert_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<i64, StoreError>;
    /// Writes every field of `e` over the row of its id.
    fn update_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<(), StoreError>;
    /// Deletes the endpoint and the deliveries still pending for it.
    fn delete_webhook_endpoint(&mut self, id: i64) -> Result<(), StoreError>;
    /// Inserts a pending delivery unless this endpoint has one for this event already (an event
    /// fanned out twice is delivered once); answers whether it was inserted.
    fn insert_webhook_delivery(
        &mut self,
        endpoint: i64,
        event_id: &str,
        event_type: &str,
        payload: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Claims up to `limit` pending deliveries of `endpoint` due at `now_ms` that no live lease
    /// holds, oldest first, for `owner` until `until_ms`.
    fn claim_webhook_deliveries(
        &mut self,
        endpoint: i64,
        now_ms: i64,
        limit: usize,
        owner: &str,
        until_ms: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;
    /// Records an attempt and the delivery's state after it (its lease ended).
    fn finish_webhook_attempt(
        &mut self,
        attempt: &WebhookAttempt,
        status: DeliveryStatus,
        next_at: i64,
    ) -> Result<(), StoreError>;
    /// Makes a delivery pending again, due at `now_ms` (its attempts are kept).
    fn redeliver_webhook(&mut self, id: i64, now_ms: i64) -> Result<(), StoreError>;
}
