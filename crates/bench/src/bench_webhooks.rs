//! `bench-http`'s webhook phase: three endpoints on a receiver in this process subscribe to the
//! shop's events, the command mix runs again, and the figures are the mix's throughput beside
//! the one without endpoints, the deliveries per second, and the lag from an event's time to its
//! delivery (p50, p99).

use crate::bench::err;
use crate::bench_http::Phase;
use aftersale_http::client::Client;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the phase measured.
pub(crate) struct Figures {
    pub(crate) commands: Phase,
    pub(crate) delivered: usize,
    pub(crate) per_s: f64,
    pub(crate) lag_p50_ms: f64,
    pub(crate) lag_p99_ms: f64,
}

/// Each delivery's arrival (wall ms) and its lag behind the event's time (ms).
type Arrivals = Arc<Mutex<Vec<(i64, i64)>>>;

async fn receive(
    axum::extract::State(seen): axum::extract::State<Arrivals>,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let now = aftersale_engine::runner::wall_ms();
    let at = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["at"].as_str().and_then(|t| aftersale_core::Timestamp::parse_rfc3339(t).ok()))
        .map_or(now, |t| t.0);
    if let Ok(mut s) = seen.lock() {
        s.push((now, now - at));
    }
    axum::http::StatusCode::NO_CONTENT
}

/// Runs `mix` (the command mix, already warmed up) with three endpoints subscribed, then waits
/// for the deliveries to stop coming; the endpoints are deleted again.
pub(crate) async fn phase<F, Fut>(owner: &Client, mix: F) -> Result<Figures, String>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Phase>,
{
    let seen: Arrivals = Arc::default();
    let app = axum::Router::new().route("/hook/{n}", axum::routing::post(receive)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut ids = Vec::new();
    for n in 0..3 {
        let r = owner.post("/api/v1/webhooks", &json!({ "url": format!("http://{addr}/hook/{n}") })).await?;
        if r.status != 201 {
            return Err(format!("creating an endpoint: {} {}", r.status, String::from_utf8_lossy(&r.body)));
        }
        ids.push(r.json()["endpoint"]["id"].as_i64().unwrap_or(0));
    }
    let commands = mix().await;
    // Until nothing new has come for two seconds (at most a minute).
    let mut last = 0;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = seen.lock().map(|s| s.len()).unwrap_or(0);
        if now == last {
            break;
        }
        last = now;
    }
    for id in ids {
        let _ = owner.delete(&format!("/api/v1/webhooks/{id}")).await;
    }
    server.abort();
    let arrivals = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let span_s = match (arrivals.iter().map(|a| a.0).min(), arrivals.iter().map(|a| a.0).max()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1000.0,
        _ => 1.0,
    };
    let mut lags: Vec<i64> = arrivals.iter().map(|a| a.1).collect();
    lags.sort_unstable();
    let pick = |p: f64| lags.get(((lags.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0) as f64;
    Ok(Figures {
        commands,
        delivered: arrivals.len(),
        per_s: arrivals.len() as f64 / span_s,
        lag_p50_ms: pick(0.5),
        lag_p99_ms: pick(0.99),
    })
}
