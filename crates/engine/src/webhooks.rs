//! Webhooks (Standard Webhooks 1.0): who may keep endpoints, which events each gets, and what a
//! delivery's attempt leads to. The HTTP layer does the I/O and the cryptography — it makes and
//! seals the secrets, signs and sends — and asks the engine everything else:
//!
//! - **Endpoints** belong to a shop (its owner or its integration token manages them) or to the
//!   platform (its admins; such an endpoint gets every shop's events).
//! - **Fan-out**: a consumer of the event stream (`webhooks`) turns each event into one pending
//!   delivery per endpoint that takes its type, in one transaction with its position. A delivery
//!   is unique per (endpoint, event): fanned out twice — two nodes at once — it is delivered once.
//! - **Attempts**: deliveries are claimed under leases (one node tries one at a time; a node
//!   that dies mid-attempt loses nothing: the lease ends and another tries), at most a few per
//!   endpoint at once on each node, so a slow endpoint never holds up another's. Deliveries of
//!   a disabled or deleted endpoint are not claimed (a deleted one's pending deliveries go with
//!   it). A 2xx answer delivers; a
//!   timeout, a connection error or any other status is tried again on the retry schedule, then
//!   the delivery fails. An endpoint whose attempts have failed without a success for
//!   `disable_after` is disabled and its owner told in the message box.
//! - **Order**: deliveries are attempted in the order their events were written, per endpoint,
//!   but a retry can overtake nothing it waits on: a receiver that needs order reads the event's
//!   `id` (a stream position) or `at`.

use crate::feeds::Sender;
use crate::store::*;
use crate::usecase::{Engine, EngineError};
use aftersale_core::notice::{Category, Notice, Outbox, Recipient};
use aftersale_core::values::ShopId;
use aftersale_core::DomainEvent;

/// The consumer name the fan-out keeps its position under.
pub const CONSUMER: &str = "webhooks";
/// How long a rotated-out secret still signs (both signatures are sent meanwhile).
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;
/// Endpoints one owner (a shop, or the platform) may keep.
pub const MAX_ENDPOINTS: usize = 20;
/// The event type of a test delivery (`POST /webhooks/{id}/test`).
pub const TEST_EVENT: &str = "webhook.test";

/// The deployment's webhook settings, as the engine applies them.
#[derive(Clone, Debug)]
pub struct WebhookRules {
    /// `http://` URLs are taken (tests, demos); otherwise only `https://`.
    pub allow_insecure: bool,
    /// The waits before each retry (ms): after the first failure the first, and so on; a
    /// delivery that fails once more than there are waits has failed.
    pub retry_schedule_ms: Vec<i64>,
    /// An endpoint failing this long without a success is disabled (ms).
    pub disable_after_ms: i64,
}

impl Default for WebhookRules {
    fn default() -> Self {
        let min = 60_000;
        WebhookRules {
            allow_insecure: false,
            retry_schedule_ms: vec![5_000, 5 * min, 30 * min, 120 * min, 300 * min, 600 * min, 600 * min],
            disable_after_ms: 5 * 24 * 60 * min,
        }
    }
}

/// A new endpoint, its secret already sealed by the caller.
#[derive(Clone, Debug)]
pub struct NewEndpoint {
    pub url: String,
    pub description: String,
    pub types: Vec<String>,
    pub enabled: bool,
    pub sealed_secret: String,
}

/// What an update changes (each field optional).
#[derive(Clone, Debug, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// What one attempt came to, as the sender saw it.
#[derive(Clone, Debug)]
pub struct AttemptOutcome {
    pub at_ms: i64,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// The first 1 kB of the answer.
    pub response: String,
    /// Why there was no answer (timeout, connection refused, a refused target).
    pub error: Option<String>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> EngineError {
    EngineError::Invalid { field, reason: reason.into() }
}

/// A URL an endpoint may have: `https://` (or `http://` where allowed), a host, at most 2,000
/// characters, no spaces or control characters. Where it leads is checked again at every send,
/// after DNS (the sender refuses private targets).
pub fn check_url(url: &str, rules: &WebhookRules) -> Result<(), EngineError> {
    if url.len() > 2000 || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("url", "at most 2,000 characters, without spaces"));
    }
    let rest = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => rest,
        (None, Some(rest)) if rules.allow_insecure => rest,
        (None, Some(_)) => return Err(invalid("url", "must be https:// (webhooks.allow_insecure is off)")),
        _ => return Err(invalid("url", "must be an https:// URL")),
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return Err(invalid("url", "must name a host (and no user or password)"));
    }
    Ok(())
}

fn check_types(types: &[String]) -> Result<(), EngineError> {
    if types.len() > 30 {
        return Err(invalid("types", "at most 30 event types"));
    }
    if let Some(bad) = types.iter().find(|t| !DomainEvent::TYPES.contains(&t.as_str())) {
        return Err(invalid("types", format!("{bad:?} is not an event type")));
    }
    Ok(())
}

fn check_description(d: &str) -> Result<(), EngineError> {
    if d.chars().count() > 200 || d.chars().any(char::is_control) {
        return Err(invalid("description", "at most 200 characters, one line"));
    }
    Ok(())
}

/// Whether `s` may manage the endpoints of `owner` (a shop's: its owner or its integration
/// token; the platform's: an admin).
fn may_manage(s: &Sender, owner: Option<ShopId>) -> Result<(), EngineError> {
    match owner {
        Some(shop) => s.manages_shop(shop).map(|_| ()),
        None => s.require(&[Role::Admin]),
    }
}

/// An event type an endpoint takes (every type when it names none).
fn takes(e: &WebhookEndpoint, kind: &str) -> bool {
    e.types.is_empty() || e.types.iter().any(|t| t == kind)
}

impl Engine {
    /// The service's value under `key`, or (none yet) `fresh`, kept: what every node then reads.
    /// Nodes starting together each offer their own `fresh`; the first written stays, and every
    /// node answers that one.
    pub fn setting_or_init(&self, key: &str, fresh: &str) -> Result<String, EngineError> {
        let (key, fresh) = (key.to_string(), fresh.to_string());
        self.transact(move |tx| {
            if tx.put_setting_if_absent(&key, &fresh)? {
                return Ok(fresh.clone());
            }
            tx.setting(&key)?.ok_or_else(|| EngineError::NotFound { what: "setting", id: key.clone() })
        })
    }

    /// Creates an endpoint of `owner` (a shop, or None for the platform).
    pub fn create_webhook_as(
        &self,
        s: &Sender,
        owner: Option<ShopId>,
        new: NewEndpoint,
        rules: &WebhookRules,
        now_ms: i64,
    ) -> Result<WebhookEndpoint, EngineError> {
        may_manage(s, owner)?;
        check_url(&new.url, rules)?;
        check_types(&new.types)?;
        check_description(&new.description)?;
        let mut e = WebhookEndpoint {
            id: 0,
            shop: owner,
            url: new.url,
            description: new.description,
            types: new.types,
            enabled: new.enabled,
            secret: new.sealed_secret,
            old_secret: None,
            failing_since: None,
            disabled_reason: None,
            created_at: now_ms,
        };
        let row = e.clone();
        e.id = self.transact(move |tx| {
            if tx.webhook_endpoints()?.iter().filter(|x| x.shop == owner).count() >= MAX_ENDPOINTS {
                return Err(invalid("url", format!("at most {MAX_ENDPOINTS} endpoints")));
            }
            Ok(tx.insert_webhook_endpoint(&row)?)
        })?;
        Ok(e)
    }

    /// The endpoints of `owner` the sender may manage.
    pub fn webhooks_as(&self, s: &Sender, owner: Option<ShopId>) -> Result<Vec<WebhookEndpoint>, EngineError> {
        may_manage(s, owner)?;
        Ok(self.read(|tx| tx.webhook_endpoints())?.into_iter().filter(|e| e.shop == owner).collect())
    }

    /// One endpoint the sender may manage (another's is "not found").
    pub fn webhook_as(&self, s: &Sender, id: i64) -> Result<WebhookEndpoint, EngineError> {
        let found = self.read(|tx| tx.webhook_endpoint(id))?;
        match found {
            Some(e) if may_manage(s, e.shop).is_ok() => Ok(e),
            _ => Err(EngineError::NotFound { what: "webhook", id: id.to_string() }),
        }
    }

    /// Changes an endpoint. Enabling a disabled one starts its failure count again.
    pub fn update_webhook_as(
        &self,
        s: &Sender,
        id: i64,
        change: EndpointChange,
        rules: &WebhookRules,
    ) -> Result<WebhookEndpoint, EngineError> {
        let mut e = self.webhook_as(s, id)?;
        if let Some(url) = change.url {
            check_url(&url, rules)?;
            e.url = url;
        }
        if let Some(d) = change.description {
            check_description(&d)?;
            e.description = d;
        }
        if let Some(types) = change.types {
            check_types(&types)?;
            e.types = types;
        }
        if let Some(enabled) = change.enabled {
            if enabled && !e.enabled {
                e.failing_since = None;
                e.disabled_reason = None;
            }
            e.enabled = enabled;
        }
        let row = e.clone();
        self.transact(move |tx| Ok(tx.update_webhook_endpoint(&row)?))?;
        Ok(e)
    }

    pub fn delete_webhook_as(&self, s: &Sender, id: i64) -> Result<(), EngineError> {
        self.webhook_as(s, id)?;
        self.transact(move |tx| Ok(tx.delete_webhook_endpoint(id)?))
    }

    /// A new secret (sealed by the caller); the old one signs too for `ROTATION_OVERLAP_MS`.
    pub fn rotate_webhook_secret_as(
        &self,
        s: &Sender,
        id: i64,
        sealed_secret: String,
        now_ms: i64,
    ) -> Result<WebhookEndpoint, EngineError> {
        let mut e = self.webhook_as(s, id)?;
        let old = std::mem::replace(&mut e.secret, sealed_secret);
        e.old_secret = Some((old, now_ms + ROTATION_OVERLAP_MS));
        let row = e.clone();
        self.transact(move |tx| Ok(tx.update_webhook_endpoint(&row)?))?;
        Ok(e)
    }

    /// An endpoint's latest deliveries, newest first, each with its attempts.
    pub fn webhook_deliveries_as(
        &self,
        s: &Sender,
        id: i64,
        limit: usize,
    ) -> Result<Vec<(WebhookDelivery, Vec<WebhookAttempt>)>, EngineError> {
        self.webhook_as(s, id)?;
        self.read(|tx| {
            let deliveries = tx.webhook_deliveries(id, limit.clamp(1, 200))?;
            deliveries
                .into_iter()
                .map(|d| {
                    let attempts = tx.webhook_attempts(d.id)?;
                    Ok((d, attempts))
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    /// Tries a delivery again now (its earlier attempts are kept).
    pub fn redeliver_webhook_as(&self, s: &Sender, delivery: i64, now_ms: i64) -> Result<WebhookDelivery, EngineError> {
        let found = self.read(|tx| tx.webhook_delivery(delivery))?;
        let not_found = || EngineError::NotFound { what: "delivery", id: delivery.to_string() };
        let d = found.ok_or_else(not_found)?;
        self.webhook_as(s, d.endpoint).map_err(|_| not_found())?;
        self.transact(move |tx| Ok(tx.redeliver_webhook(delivery, now_ms)?))?;
        self.read(|tx| tx.webhook_delivery(delivery))?.ok_or_else(not_found)
    }

    /// Sends the endpoint a test event (`webhook.test`) now.
    pub fn test_webhook_as(&self, s: &Sender, id: i64, now_ms: i64) -> Result<WebhookDelivery, EngineError> {
        let e = self.webhook_as(s, id)?;
        let event_id = format!("test-{id}-{now_ms}");
        let payload = serde_json::json!({
            "id": event_id,
            "type": TEST_EVENT,
            "version": aftersale_core::published::EVENT_VERSION,
            "at": aftersale_core::Timestamp(now_ms).to_string(),
            "shop_id": e.shop.map(|s| s.0),
            "data": { "message": "a test event: the endpoint is reachable and verifies the signature" },
        })
        .to_string();
        let eid = event_id.clone();
        self.transact(move |tx| Ok(tx.insert_webhook_delivery(id, &eid, TEST_EVENT, &payload, now_ms)?))?;
        let found = self.read(|tx| tx.webhook_deliveries(id, 20))?;
        found
            .into_iter()
            .find(|d| d.event_id == event_id)
            .ok_or(EngineError::NotFound { what: "delivery", id: event_id })
    }

    /// Turns the events after the fan-out's position into pending deliveries (at most `limit`
    /// events a call); answers how many events it read and how many deliveries it created.
    pub fn fan_out_webhooks(&self, limit: usize, now_ms: i64) -> Result<(usize, usize), EngineError> {
        let from = self.consumer_position(CONSUMER)?;
        let system = aftersale_core::Actor::System;
        let (events, to) = self.events_after(system, from, limit.clamp(1, crate::events::MAX_EVENTS_PAGE), vec![])?;
        if to == from {
            return Ok((0, 0));
        }
        let read = events.len();
        let endpoints: Vec<WebhookEndpoint> =
            self.read(|tx| tx.webhook_endpoints())?.into_iter().filter(|e| e.enabled).collect();
        self.transact(move |tx| {
            let mut made = 0;
            for event in &events {
                let mine = endpoints.iter().filter(|e| e.shop.is_none_or(|s| s == event.shop) && takes(e, &event.kind));
                let mut payload = None;
                for e in mine {
                    let body = match &payload {
                        Some(p) => p,
                        None => payload.insert(event_payload(event)?),
                    };
                    made += usize::from(tx.insert_webhook_delivery(
                        e.id,
                        &event.position.to_string(),
                        &event.kind,
                        body,
                        now_ms,
                    )?);
                }
            }
            tx.set_consumer_position(CONSUMER, to)?;
            Ok((read, made))
        })
    }

    /// Claims deliveries due at `now_ms` for `owner` until `now_ms + lease_ms`, each with its
    /// endpoint: at most `total`, and of each enabled endpoint at most `per_endpoint` less what
    /// this node has in flight to it (`busy`), oldest first.
    pub fn claim_webhook_deliveries(
        &self,
        now_ms: i64,
        total: usize,
        per_endpoint: usize,
        busy: std::collections::HashMap<i64, usize>,
        owner: &str,
        lease_ms: i64,
    ) -> Result<Vec<(WebhookDelivery, WebhookEndpoint)>, EngineError> {
        let owner = owner.to_string();
        self.transact(move |tx| {
            let mut out = Vec::new();
            for e in tx.webhook_endpoints()?.into_iter().filter(|e| e.enabled) {
                let room = per_endpoint.saturating_sub(busy.get(&e.id).copied().unwrap_or(0)).min(total - out.len());
                if room == 0 {
                    continue;
                }
                for d in tx.claim_webhook_deliveries(e.id, now_ms, room, &owner, now_ms + lease_ms)? {
                    out.push((d, e.clone()));
                }
                if out.len() >= total {
                    break;
                }
            }
            Ok(out)
        })
    }

    /// Records an attempt of `delivery` to `endpoint` and what follows from it: delivered, tried
    /// again after the schedule's next wait, or failed; the endpoint's run of failures, and its
    /// disabling (with a notice to its owner) when that run has lasted `disable_after_ms`.
    pub fn record_webhook_attempt(
        &self,
        delivery: &WebhookDelivery,
        endpoint_id: i64,
        outcome: AttemptOutcome,
        rules: &WebhookRules,
    ) -> Result<DeliveryStatus, EngineError> {
        let ok = outcome.status_code.is_some_and(|c| (200..300).contains(&c)) && outcome.error.is_none();
        let number = delivery.attempts + 1;
        let now = outcome.at_ms;
        let (status, next_at) = if ok {
            (DeliveryStatus::Succeeded, now)
        } else {
            match rules.retry_schedule_ms.get(number as usize - 1) {
                Some(wait) => (DeliveryStatus::Pending, now + wait),
                None => (DeliveryStatus::Failed, now),
            }
        };
        let attempt = WebhookAttempt {
            delivery: delivery.id,
            attempt: number,
            at: now,
            status_code: outcome.status_code,
            latency_ms: outcome.latency_ms,
            response: outcome.response.chars().take(1024).collect(),
            error: outcome.error,
        };
        let disable_after = rules.disable_after_ms;
        let service_now = self.now();
        self.transact(move |tx| {
            tx.finish_webhook_attempt(&attempt, status, next_at)?;
            let Some(mut e) = tx.webhook_endpoint(endpoint_id)? else { return Ok(status) };
            let before = e.clone();
            if ok {
                e.failing_since = None;
            } else {
                let since = *e.failing_since.get_or_insert(now);
                if e.enabled && now - since >= disable_after {
                    e.enabled = false;
                    e.disabled_reason = Some(format!("every attempt failed for {} hours", disable_after / 3_600_000));
                    if let Some(shop) = e.shop {
                        let notice = disabled_notice(shop, &e);
                        tx.insert_outbox(None, &notice, service_now)?;
                    }
                }
            }
            if e != before {
                tx.update_webhook_endpoint(&e)?;
            }
            Ok(status)
        })
    }
}

/// The JSON body of an event's delivery: the event as `GET /api/v1/events` lists it.
pub fn event_payload(event: &DomainEventRow) -> Result<String, StoreError> {
    let data: serde_json::Value = serde_json::from_str(&event.data)?;
    Ok(serde_json::json!({
        "id": event.position.to_string(),
        "type": event.kind,
        "version": aftersale_core::published::EVENT_VERSION,
        "at": event.at,
        "shop_id": event.shop,
        "order_id": event.order,
        "case_id": event.case,
        "data": data,
    })
    .to_string())
}

/// The message-box notice to a shop whose endpoint was disabled.
fn disabled_notice(shop: ShopId, e: &WebhookEndpoint) -> Outbox {
    Outbox {
        notices: vec![Notice {
            recipient: Recipient::Shop(shop),
            category: Category::Integration,
            title: "A webhook endpoint was disabled".into(),
            body: format!(
                "Every delivery to {} failed for five days, so it was disabled. Fix the receiver, then enable it again \
                 (its failed deliveries can be sent again from its delivery log).",
                e.url
            ),
            title_zh: "Webhook 接收地址已停用".into(),
            body_zh: format!(
                "发往 {} 的推送连续五天全部失败，已停用。修复接收方后可重新启用，并在推送记录中重发失败的推送。",
                e.url
            ),
        }],
        sms: Vec::new(),
        penalties: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<(), EngineError>) -> Option<&'static str> {
        match r {
            Err(EngineError::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn an_endpoint_url_is_https_with_a_host_unless_insecure_is_allowed() {
        let strict = WebhookRules::default();
        let loose = WebhookRules { allow_insecure: true, ..WebhookRules::default() };
        assert_eq!(field(check_url("https://erp.example.com/hooks?x=1", &strict)), None);
        assert_eq!(field(check_url("http://erp.example.com/hooks", &loose)), None);
        for bad in [
            "http://erp.example.com/hooks",
            "ftp://x/y",
            "https://",
            "https:///path",
            "https://u:p@host/x",
            "https://a b/c",
        ] {
            assert_eq!(field(check_url(bad, &strict)), Some("url"), "{bad}");
        }
        assert_eq!(field(check_url("ftp://x/y", &loose)), Some("url"), "only http is let in");
        assert_eq!(field(check_url("https://\u{7}host/x", &loose)), Some("url"), "control characters");
        let long = format!("https://h/{}", "a".repeat(1990));
        assert_eq!(field(check_url(&long, &strict)), None, "2,000 characters are fine");
        assert_eq!(field(check_url(&format!("{long}a"), &strict)), Some("url"), "2,001 are not");
    }

    #[test]
    fn types_are_event_types_thirty_at_most_and_a_description_one_short_line() {
        assert_eq!(field(check_types(&["case.opened".into(), "refund.succeeded".into()])), None);
        assert_eq!(field(check_types(&["case.nope".into()])), Some("types"));
        assert_eq!(field(check_types(&vec!["case.opened".to_string(); 30])), None);
        assert_eq!(field(check_types(&vec!["case.opened".to_string(); 31])), Some("types"));
        assert_eq!(field(check_description(&"d".repeat(200))), None);
        assert_eq!(field(check_description(&"d".repeat(201))), Some("description"));
        assert_eq!(field(check_description("two\nlines")), Some("description"));
    }

    #[test]
    fn the_default_rules_retry_seven_times_and_disable_after_five_days() {
        let r = WebhookRules::default();
        assert_eq!(r.retry_schedule_ms, [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
        assert_eq!(r.disable_after_ms, 5 * 24 * 3_600_000);
        assert!(!r.allow_insecure);
    }
}
