//! `bench-http`'s webhook phase: three endpoints on a receiver in this process subscribe to the
//! shop's events, the command mix runs again, and the figures are the mix's throughput beside
//! the one without endpoints and the deliveries per second. Then the mix runs at a steady pace
//! (1,000 commands/s by default), and the lag from an event's time to its delivery (p50, p99)
//! is measured there: at saturation the lag only says how long the backlog is.

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
    pub(crate) steady: Phase,
    pub(crate) steady_delivered: usize,
    pub(crate) steady_lag_p50_ms: f64,
    pub(crate) steady_lag_p99_ms: f64,
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

/// Until nothing new has come for two seconds (at most two minutes).
async fn drain(seen: &Arrivals) {
    let mut last = 0;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = seen.lock().map(|s| s.len()).unwrap_or(0);
        if now == last {
            break;
        }
        last = now;
    }
}

/// The 50th and 99th percentiles of the arrivals' lags.
fn lags(arrivals: &[(i64, i64)]) -> (f64, f64) {
    let mut lags: Vec<i64> = arrivals.iter().map(|a| a.1).collect();
    lags.sort_unstable();
    let pick = |p: f64| lags.get(((lags.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0) as f64;
    (pick(0.5), pick(0.99))
}

/// Runs `mix` (the command mix, already warmed up) with three endpoints subscribed, waits for
/// the deliveries to stop coming, then runs `steady` (the mix at a steady pace) and waits again;
/// the endpoints are deleted at the end.
pub(crate) async fn phase<F, Fut, S, SFut>(owner: &Client, mix: F, steady: S) -> Result<Figures, String>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Phase>,
    S: FnOnce() -> SFut,
    SFut: std::future::Future<Output = Phase>,
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
    drain(&seen).await;
    let arrivals = seen.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default();
    let steady = steady().await;
    drain(&seen).await;
    let steady_arrivals = seen.lock().map(|s| s.clone()).unwrap_or_default();
    for id in ids {
        let _ = owner.delete(&format!("/api/v1/webhooks/{id}")).await;
    }
    server.abort();
    let span_s = match (arrivals.iter().map(|a| a.0).min(), arrivals.iter().map(|a| a.0).max()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1000.0,
        _ => 1.0,
    };
    let (lag_p50_ms, lag_p99_ms) = lags(&arrivals);
    let (steady_lag_p50_ms, steady_lag_p99_ms) = lags(&steady_arrivals);
    Ok(Figures {
        commands,
        delivered: arrivals.len(),
        per_s: arrivals.len() as f64 / span_s,
        lag_p50_ms,
        lag_p99_ms,
        steady,
        steady_delivered: steady_arrivals.len(),
        steady_lag_p50_ms,
        steady_lag_p99_ms,
    })
}
