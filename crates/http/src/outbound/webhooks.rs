//! The webhook sender a serving node runs: it fans new events out into deliveries, claims the
//! deliveries due (under leases, a few per endpoint), and sends each as a signed POST — side by
//! side, each with its own time limit, so a slow or dead endpoint holds up only its own. What
//! an attempt leads to is the engine's (`Engine::record_webhook_attempt`).
//!
//! Safety: no redirects are followed; a target on a loopback, private, link-local or metadata
//! address is refused at every send, after DNS (the resolver drops such addresses, and the
//! connection goes to an address it kept), unless `webhooks.allow_private_targets`.

use super::secrets::{self, Sealer};
use crate::config::WebhooksConfig;
use crate::state::AppState;
use aftersale_engine::store::{WebhookDelivery, WebhookEndpoint};
use aftersale_engine::webhooks::{AttemptOutcome, WebhookRules};
use aftersale_engine::Engine;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a node needs to send webhooks.
pub struct Outbound {
    pub sealer: Sealer,
    pub rules: WebhookRules,
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

/// The `settings` key of the sealing key made when none is configured.
const KEY_SETTING: &str = "webhooks.sealing_key";

impl Outbound {
    pub fn new(config: &WebhooksConfig, engine: &Engine) -> Result<Outbound, String> {
        let key = if config.secret_key.trim().is_empty() {
            let made = Sealer::new_key()?;
            let kept = engine.setting_or_init(KEY_SETTING, &made).map_err(|e| e.to_string())?;
            if kept == made {
                tracing::warn!(
                    "webhooks.secret_key is not set: webhook secrets are sealed with a key kept in the database"
                );
            }
            kept
        } else {
            config.secret_key.clone()
        };
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .user_agent("aftersale-webhooks/1");
        if !config.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Outbound {
            sealer: Sealer::from_base64(&key)?,
            rules: config.rules(),
            client: builder.build().map_err(|e| format!("the webhook client: {e}"))?,
            allow_private: config.allow_private_targets,
            timeout,
        })
    }

    /// Seals a new secret for an endpoint: (the secret, shown once; its sealed form, stored).
    pub fn new_secret(&self) -> Result<(String, String), String> {
        let secret = secrets::new_secret()?;
        let sealed = self.sealer.seal(&secret)?;
        Ok((secret, sealed))
    }
}

/// Whether an address is one a webhook may be sent to: not loopback, private, link-local (the
/// cloud metadata address among them), shared (CGNAT), unspecified, multicast or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// A resolver that keeps only public addresses (and fails when none is left).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address (refused target)").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Runs the sender on this node until the task is aborted: new events are fanned out every
/// `poll_ms` (a page of 1,000 after another while there are more), and deliveries are claimed as
/// fast as slots come free — waiting only when nothing is due.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let config = state.config.webhooks.clone();
        let poll = Duration::from_millis(config.poll_ms.max(10));
        let slots = Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
        // What this node has in flight, per endpoint (its per-endpoint cap).
        let busy: Arc<std::sync::Mutex<HashMap<i64, usize>>> = Arc::default();
        // Told when a delivery ends: its endpoint may take another at once.
        let ended = Arc::new(tokio::sync::Notify::new());
        let owner = aftersale_engine::runner::node_name();
        // Longer than one attempt can take (the client's own time limit), so a delivery is never
        // in flight twice; short enough that another node soon takes over from one that died.
        let lease_ms = (config.timeout_secs.max(1) as i64 + 5) * 1000;
        let mut fanned = Instant::now() - poll;
        loop {
            if fanned.elapsed() >= poll {
                fanned = Instant::now();
                for _ in 0..20 {
                    let now = aftersale_engine::runner::wall_ms();
                    match state.run(move |e| e.fan_out_webhooks(1000, now)).await {
                        Ok((read, _)) if read >= 1000 => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = ?e.0.detail, "webhook fan-out failed; trying again");
                            break;
                        }
                    }
                }
            }
            if slots.available_permits() == 0 {
                // Every slot is sending: wait for one to come free.
                if let Ok(p) = slots.clone().acquire_owned().await {
                    drop(p);
                }
                continue;
            }
            let free = slots.available_permits();
            let now = aftersale_engine::runner::wall_ms();
            let in_flight = busy.lock().map(|b| b.clone()).unwrap_or_default();
            let (owner_, per) = (owner.clone(), config.per_endpoint.max(1));
            let claimed =
                state.run(move |e| e.claim_webhook_deliveries(now, free, per, in_flight, &owner_, lease_ms)).await;
            let claimed = match claimed {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = ?e.0.detail, "claiming webhook deliveries failed");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                // Nothing due, or every due endpoint at its cap: until a delivery ends or the
                // next poll.
                tokio::select! {
                    _ = ended.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
                continue;
            }
            for (delivery, endpoint) in claimed {
                let Ok(permit) = slots.clone().acquire_owned().await else { return };
                let (state, busy, ended) = (state.clone(), busy.clone(), ended.clone());
                let id = endpoint.id;
                if let Ok(mut b) = busy.lock() {
                    *b.entry(id).or_default() += 1;
                }
                tokio::spawn(async move {
                    deliver(&state, delivery, endpoint).await;
                    if let Ok(mut b) = busy.lock() {
                        if let Some(n) = b.get_mut(&id) {
                            *n = n.saturating_sub(1);
                        }
                    }
                    drop(permit);
                    ended.notify_one();
                });
            }
        }
    })
}

/// One attempt of one delivery, and its record.
async fn deliver(state: &AppState, delivery: WebhookDelivery, endpoint: WebhookEndpoint) {
    let out = &state.webhooks;
    let started = Instant::now();
    let at_ms = aftersale_engine::runner::wall_ms();
    let outcome = match attempt(out, &delivery, &endpoint, at_ms).await {
        Ok((status, response)) => AttemptOutcome {
            at_ms,
            status_code: Some(status),
            latency_ms: started.elapsed().as_millis() as i64,
            response,
            error: None,
        },
        Err(error) => AttemptOutcome {
            at_ms,
            status_code: None,
            latency_ms: started.elapsed().as_millis() as i64,
            response: String::new(),
            error: Some(error),
        },
    };
    let ok = outcome.error.is_none() && outcome.status_code.is_some_and(|c| (200..300).contains(&c));
    if ok {
        state.metrics.webhooks_delivered.inc();
    } else {
        state.metrics.webhooks_failed.inc();
    }
    let rules = out.rules.clone();
    let endpoint_id = endpoint.id;
    if let Err(e) = state.run(move |e| e.record_webhook_attempt(&delivery, endpoint_id, outcome, &rules)).await {
        // Not recorded: the lease ends and the delivery is tried again (at least once).
        tracing::warn!(error = ?e.0.detail, "recording a webhook attempt failed");
    }
}

/// Sends one delivery: the status and the first 1 kB of the answer, or why there was none.
async fn attempt(
    out: &Outbound,
    delivery: &WebhookDelivery,
    endpoint: &WebhookEndpoint,
    at_ms: i64,
) -> Result<(u16, String), String> {
    let url = reqwest::Url::parse(&endpoint.url).map_err(|e| format!("bad url: {e}"))?;
    if !out.allow_private {
        // An address written in the URL is not resolved: check it here.
        let host = url.host_str().unwrap_or("");
        let literal = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        if literal.is_some_and(|ip| !is_public(ip)) {
            return Err("refused target: a private address".into());
        }
    }
    let timestamp = at_ms / 1000;
    let body = delivery.payload.as_bytes();
    let mut signatures = Vec::new();
    let mut secrets = vec![out.sealer.open(&endpoint.secret)];
    if let Some((old, until)) = &endpoint.old_secret {
        if *until > at_ms {
            secrets.push(out.sealer.open(old));
        }
    }
    for secret in secrets.into_iter().flatten() {
        signatures.extend(secrets::sign(&secret, &delivery.event_id, timestamp, body));
    }
    if signatures.is_empty() {
        return Err("the endpoint's secret cannot be opened (webhooks.secret_key changed?)".into());
    }
    let sent = out
        .client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(delivery.payload.clone())
        .send()
        .await;
    let mut res = match sent {
        Ok(res) => res,
        Err(e) if e.is_timeout() => return Err(format!("no answer within {} s", out.timeout.as_secs())),
        Err(e) => return Err(error_chain(&e)),
    };
    let status = res.status().as_u16();
    let mut head = Vec::new();
    while head.len() < 1024 {
        match res.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk[..chunk.len().min(1024 - head.len())]),
            _ => break,
        }
    }
    Ok((status, String::from_utf8_lossy(&head).into_owned()))
}

/// An error with its causes, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_targets() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
