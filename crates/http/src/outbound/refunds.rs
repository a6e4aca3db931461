//! Refunds sent to a payment service (M5): a node claims the refunds due (under leases, as
//! deadlines are), sends each — `http`: a signed JSON request to the operator's service;
//! `alipay`: `alipay.trade.refund` — and hands the answer to the engine
//! (`Engine::record_refund_answer`), which moves the ledger and the case. The refund's id is the
//! idempotency key of every request about it; a request with no answer is sent again, under the
//! same key, after the M5 backoff. Nothing here marks a refund paid: only an answer does.

use super::alipay::Alipay;
use super::secrets;
use crate::config::{HttpGatewayConfig, PaymentsConfig};
use crate::state::AppState;
use aftersale_core::Payout;
use aftersale_engine::refunds::GatewayAnswer;
use aftersale_engine::store::RefundRow;
use serde::Deserialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify, Semaphore};

/// How a node sends refunds.
pub enum Adapter {
    Http(HttpGateway),
    Alipay(Box<Alipay>),
}

impl Adapter {
    /// The adapter for the configured gateway; None for `simulated` and `manual` (nothing is sent).
    pub fn new(config: &PaymentsConfig, payout: Payout) -> Result<Option<Arc<Adapter>>, String> {
        Ok(match payout {
            Payout::Http => Some(Arc::new(Adapter::Http(HttpGateway::new(&config.http)?))),
            Payout::Alipay => Some(Arc::new(Adapter::Alipay(Box::new(Alipay::new(&config.alipay)?)))),
            Payout::Simulated | Payout::Manual => None,
        })
    }

    pub fn payout(&self) -> Payout {
        match self {
            Adapter::Http(_) => Payout::Http,
            Adapter::Alipay(_) => Payout::Alipay,
        }
    }

    /// The longest one request may take.
    fn timeout(&self) -> Duration {
        match self {
            Adapter::Http(h) => h.timeout,
            Adapter::Alipay(a) => a.timeout,
        }
    }

    pub async fn send(&self, row: &RefundRow) -> GatewayAnswer {
        match self {
            Adapter::Http(h) => h.send(row).await,
            Adapter::Alipay(a) => a.send(row).await,
        }
    }
}

/// The operator's payment service.
pub struct HttpGateway {
    client: reqwest::Client,
    url: String,
    shop_urls: std::collections::BTreeMap<i64, String>,
    secret: String,
    timeout: Duration,
}

/// What the payment service answers (any 2xx): `{"status": "succeeded" | "failed" | "pending",
/// "reference": "…", "reason": "…"}`.
#[derive(Deserialize)]
struct ServiceAnswer {
    status: String,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

impl HttpGateway {
    pub fn new(c: &HttpGatewayConfig) -> Result<HttpGateway, String> {
        let timeout = Duration::from_secs(c.timeout_secs.max(1));
        let client = super::service_client(c.timeout_secs, "payment service")?;
        let shop_urls = c.shop_urls.iter().filter_map(|(k, v)| Some((k.parse().ok()?, v.clone()))).collect();
        Ok(HttpGateway { client, url: c.url.clone(), shop_urls, secret: c.secret.clone(), timeout })
    }

    fn url_for(&self, row: &RefundRow) -> &str {
        self.shop_urls.get(&row.shop.0).map_or(self.url.as_str(), String::as_str)
    }

    async fn send(&self, row: &RefundRow) -> GatewayAnswer {
        let key = row.key();
        let body = serde_json::json!({
            "type": "refund.request",
            "refund_id": key,
            "case_id": row.case.0,
            "order_id": row.order.0,
            "shop_id": row.shop.0,
            "amount": row.amount,
            "attempt": row.attempts + 1,
            "requested_at": row.requested_at,
        })
        .to_string();
        let timestamp = aftersale_engine::runner::wall_ms() / 1000;
        let Some(signature) = secrets::sign(&self.secret, &key, timestamp, body.as_bytes()) else {
            return GatewayAnswer::Unreachable { error: "payments.http.secret is not a whsec_ secret".into() };
        };
        let sent = self
            .client
            .post(self.url_for(row))
            .header("content-type", "application/json")
            .header("idempotency-key", &key)
            .header("webhook-id", &key)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let res = match sent {
            Ok(res) => res,
            Err(e) if e.is_timeout() => {
                return GatewayAnswer::Unreachable { error: format!("no answer within {} s", self.timeout.as_secs()) }
            }
            Err(e) => return GatewayAnswer::Unreachable { error: format!("no connection: {e}") },
        };
        let status = res.status();
        let text = match res.text().await {
            Ok(t) => t,
            Err(e) => return GatewayAnswer::Unreachable { error: format!("the answer broke off: {e}") },
        };
        if !status.is_success() {
            let head: String = text.chars().take(200).collect();
            return GatewayAnswer::Unreachable { error: format!("HTTP {}: {head}", status.as_u16()) };
        }
        read_answer(&text)
    }
}

/// A 2xx answer's meaning; one that does not say is no answer (the refund is asked again, under
/// the same key, never taken as paid).
fn read_answer(text: &str) -> GatewayAnswer {
    let clip = |s: Option<String>| s.map(|s| s.trim().chars().take(200).collect::<String>()).filter(|s| !s.is_empty());
    match serde_json::from_str::<ServiceAnswer>(text) {
        Ok(a) if a.status == "succeeded" => GatewayAnswer::Succeeded { reference: clip(a.reference) },
        Ok(a) if a.status == "failed" => {
            GatewayAnswer::Failed { reason: clip(a.reason).unwrap_or_else(|| "refused by the payment service".into()) }
        }
        Ok(a) if a.status == "pending" => GatewayAnswer::Pending { reference: clip(a.reference), ask_after: None },
        Ok(a) => GatewayAnswer::Unreachable { error: format!("unknown status {:?} in the answer", a.status) },
        Err(e) => GatewayAnswer::Unreachable { error: format!("an answer that does not say how it ended: {e}") },
    }
}

/// A claimed refund, with the last moment its request may start (its lease must outlast it).
type Claimed = (RefundRow, tokio::time::Instant);

/// What the dispatcher's three tasks share.
struct Pipeline {
    state: AppState,
    adapter: Arc<Adapter>,
    /// Requests in flight to the service (`payments.concurrency`).
    slots: Arc<Semaphore>,
    /// Refunds claimed and not yet sent (or dropped).
    queued: AtomicUsize,
    /// Told when the queue runs low, for the next claim.
    room: Notify,
    /// Requests sent so far (the claimer's measure of the service's pace).
    sent: std::sync::atomic::AtomicU64,
}

/// How much sending the queue holds: a quarter second at the pace the service answers (measured),
/// at least four per request slot, at most `QUEUED_MOST`. A claim (a commit) refills it when half
/// has gone, so the sender does not wait on the database; the last in line waits a quarter second.
const QUEUED_PER_SLOT: usize = 4;
const QUEUED_MOST: usize = 4096;
const QUEUE_SPAN: Duration = Duration::from_millis(250);

/// Runs the refund dispatcher on this node until the task is aborted.
///
/// A pipeline of three tasks, not passes: the claimer claims due refunds in batches (each claim
/// is a commit) into a queue; the sender keeps up to `payments.concurrency` requests in flight,
/// a slot that frees taking the next refund in the queue; the recorder writes whatever answers
/// have arrived in one commit, while the next ones arrive. A claimed refund stays leased until
/// its answer is recorded, so no claim takes it twice; one whose lease would run out before its
/// request could end is not sent (a later claim sends it, under the same key).
pub fn spawn(state: AppState, adapter: Arc<Adapter>) -> tokio::task::JoinHandle<()> {
    let in_flight = state.config.payments.concurrency.max(1);
    let p = Arc::new(Pipeline {
        state,
        adapter,
        slots: Arc::new(Semaphore::new(in_flight)),
        queued: AtomicUsize::new(0),
        room: Notify::new(),
        sent: std::sync::atomic::AtomicU64::new(0),
    });
    tokio::spawn(async move {
        let (queued, queue) = mpsc::unbounded_channel();
        let (answered, answers) = mpsc::unbounded_channel();
        // Dropped (and so aborted) with this task.
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(claim(p.clone(), queued, in_flight));
        tasks.spawn(send(p.clone(), queue, answered));
        tasks.spawn(record(p, answers));
        while tasks.join_next().await.is_some() {}
    })
}

/// The claimer: due refunds, in batches, whenever the queue is half gone.
async fn claim(p: Arc<Pipeline>, queued: mpsc::UnboundedSender<Claimed>, in_flight: usize) {
    let config = &p.state.config.payments;
    let poll = Duration::from_millis(config.poll_ms.max(10));
    let owner = aftersale_engine::runner::node_name();
    // Longer than one request can take, so a refund is never in flight twice.
    let timeout = p.adapter.timeout();
    let lease = timeout + Duration::from_secs(5);
    let payout = p.adapter.payout();
    let least = (in_flight * QUEUED_PER_SLOT).min(QUEUED_MOST);
    let mut pace = Pace::new(p.sent.load(Ordering::Relaxed));
    loop {
        let sent = p.sent.load(Ordering::Relaxed);
        let most = pace.span(sent, QUEUE_SPAN).clamp(least, QUEUED_MOST);
        let waiting = p.queued.load(Ordering::Acquire);
        let want = most.saturating_sub(waiting);
        if waiting > most / 2 {
            let _ = tokio::time::timeout(poll, p.room.notified()).await;
            continue;
        }
        let owner_ = owner.clone();
        let lease_ms = lease.as_millis() as i64;
        let start_by = tokio::time::Instant::now() + lease - timeout - Duration::from_secs(1);
        let claimed = match p.state.run(move |e| e.claim_refunds(payout, want, &owner_, lease_ms)).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = ?e.0.detail, "claiming refunds failed");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            let _ = tokio::time::timeout(poll, p.room.notified()).await;
            continue;
        }
        p.queued.fetch_add(claimed.len(), Ordering::AcqRel);
        for row in claimed {
            if queued.send((row, start_by)).is_err() {
                return;
            }
        }
    }
}

/// The pace of a counter, smoothed: how many it moves in a span of time.
struct Pace {
    at: std::time::Instant,
    count: u64,
    per_s: f64,
}

impl Pace {
    fn new(count: u64) -> Pace {
        Pace { at: std::time::Instant::now(), count, per_s: 0.0 }
    }

    /// The count's moves expected in `span` at the pace seen (measured over at least 100 ms).
    fn span(&mut self, count: u64, span: Duration) -> usize {
        let elapsed = self.at.elapsed();
        if elapsed >= Duration::from_millis(100) {
            let now = count.saturating_sub(self.count) as f64 / elapsed.as_secs_f64();
            self.per_s = if self.per_s == 0.0 { now } else { 0.7 * self.per_s + 0.3 * now };
            (self.at, self.count) = (std::time::Instant::now(), count);
        }
        (self.per_s * span.as_secs_f64()) as usize
    }
}

/// The sender: the next refund in the queue as soon as a request slot frees.
async fn send(
    p: Arc<Pipeline>,
    mut queue: mpsc::UnboundedReceiver<Claimed>,
    answered: mpsc::UnboundedSender<(i64, GatewayAnswer)>,
) {
    let mut sends = tokio::task::JoinSet::new();
    loop {
        let Ok(slot) = p.slots.clone().acquire_owned().await else { return };
        while sends.try_join_next().is_some() {}
        let Some((row, start_by)) = queue.recv().await else { return };
        p.queued.fetch_sub(1, Ordering::AcqRel);
        p.sent.fetch_add(1, Ordering::Relaxed);
        p.room.notify_one();
        if tokio::time::Instant::now() > start_by {
            // Its lease would end in flight: left to a later claim.
            continue;
        }
        let (p, answered) = (p.clone(), answered.clone());
        sends.spawn(async move {
            let answer = p.adapter.send(&row).await;
            drop(slot);
            match &answer {
                GatewayAnswer::Succeeded { .. } => {
                    p.state.metrics.refunds_paid.inc();
                }
                GatewayAnswer::Failed { .. } => {
                    p.state.metrics.refunds_failed.inc();
                }
                GatewayAnswer::Unreachable { error } => {
                    tracing::warn!(refund = %row.key(), %error, "the payment service did not answer; sent again later");
                }
                GatewayAnswer::Pending { .. } | GatewayAnswer::Resend => {}
            }
            let _ = answered.send((row.id, answer));
        });
    }
}

/// The recorder: every answer that has arrived, in one commit, one commit at a time. An answer
/// not recorded (the commit failed) is lost only here: its lease ends and the refund is asked
/// again, under the same key.
async fn record(p: Arc<Pipeline>, mut answers: mpsc::UnboundedReceiver<(i64, GatewayAnswer)>) {
    const MOST: usize = 1024;
    while let Some(first) = answers.recv().await {
        let mut batch = vec![first];
        while batch.len() < MOST {
            match answers.try_recv() {
                Ok(a) => batch.push(a),
                Err(_) => break,
            }
        }
        if let Err(e) = p.state.run(move |e| e.record_refund_answers(batch)).await {
            tracing::warn!(error = ?e.0.detail, "recording refund answers failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_sized_by_the_pace_measured() {
        let mut pace = Pace::new(0);
        // Not measured yet: nothing expected.
        assert_eq!(pace.span(50, Duration::from_secs(1)), 0);
        pace.at -= Duration::from_millis(500);
        // 1,000 in half a second: 2,000/s, so 500 in a quarter second.
        let quarter = pace.span(1_000, Duration::from_millis(250));
        assert!((450..=560).contains(&quarter), "{quarter}");
        // Then none for half a second: the pace falls, smoothed (0.7 of the last).
        pace.at -= Duration::from_millis(500);
        let after = pace.span(1_000, Duration::from_millis(250));
        assert!((300..=400).contains(&after), "{after}");
    }

    #[test]
    fn only_an_answer_that_says_so_is_paid() {
        assert_eq!(
            read_answer(r#"{"status":"succeeded","reference":"P-1"}"#),
            GatewayAnswer::Succeeded { reference: Some("P-1".into()) }
        );
        assert_eq!(
            read_answer(r#"{"status":"failed","reason":"closed"}"#),
            GatewayAnswer::Failed { reason: "closed".into() }
        );
        assert_eq!(
            read_answer(r#"{"status":"failed"}"#),
            GatewayAnswer::Failed { reason: "refused by the payment service".into() }
        );
        assert_eq!(read_answer(r#"{"status":"pending"}"#), GatewayAnswer::Pending { reference: None, ask_after: None });
        for unclear in ["", "ok", r#"{"status":"done"}"#, r#"{"paid":true}"#] {
            assert!(matches!(read_answer(unclear), GatewayAnswer::Unreachable { .. }), "{unclear:?}");
        }
    }
}
