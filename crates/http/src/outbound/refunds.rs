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
use std::sync::Arc;
use std::time::Duration;

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

/// Runs the refund dispatcher on this node until the task is aborted.
pub fn spawn(state: AppState, adapter: Arc<Adapter>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let config = state.config.payments.clone();
        let poll = Duration::from_millis(config.poll_ms.max(10));
        let owner = aftersale_engine::runner::node_name();
        // Longer than one request can take, so a refund is never in flight twice.
        let lease_ms = (adapter.timeout().as_secs() as i64 + 5) * 1000;
        let payout = adapter.payout();
        let mut recording: Option<tokio::task::JoinHandle<()>> = None;
        loop {
            let limit = config.concurrency.max(1);
            let owner_ = owner.clone();
            let claimed = state.run(move |e| e.claim_refunds(payout, limit, &owner_, lease_ms)).await;
            let claimed = match claimed {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = ?e.0.detail, "claiming refunds failed");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                // Nothing due: let the last pass's commit finish before sleeping (its refunds
                // are then no longer leased).
                if let Some(previous) = recording.take() {
                    let _ = previous.await;
                    continue;
                }
                tokio::time::sleep(poll).await;
                continue;
            }
            let mut sends = tokio::task::JoinSet::new();
            for row in claimed {
                let adapter = adapter.clone();
                sends.spawn(async move {
                    let answer = adapter.send(&row).await;
                    (row, answer)
                });
            }
            let mut answers = Vec::new();
            while let Some(done) = sends.join_next().await {
                let Ok((row, answer)) = done else { continue };
                match &answer {
                    GatewayAnswer::Succeeded { .. } => {
                        state.metrics.refunds_paid.inc();
                    }
                    GatewayAnswer::Failed { .. } => {
                        state.metrics.refunds_failed.inc();
                    }
                    GatewayAnswer::Unreachable { error } => {
                        tracing::warn!(refund = %row.key(), %error, "the payment service did not answer; sent again later");
                    }
                    GatewayAnswer::Pending { .. } | GatewayAnswer::Resend => {}
                }
                answers.push((row.id, answer));
            }
            // The pass's answers in one commit, written while the next pass is claimed and sent
            // (its refunds stay leased until then, so no pass takes them again); one commit in
            // flight at a time. Not recorded: the leases end and the refunds are asked again,
            // under the same keys.
            if let Some(previous) = recording.take() {
                let _ = previous.await;
            }
            let state_ = state.clone();
            recording = Some(tokio::spawn(async move {
                if let Err(e) = state_.run(move |e| e.record_refund_answers(answers)).await {
                    tracing::warn!(error = ?e.0.detail, "recording refund answers failed");
                }
            }));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
