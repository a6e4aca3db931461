//! Money and messages on many nodes (PostgreSQL): three nodes share one database, a payment
//! service and an SMS gateway the test starts; one node stops mid-burst, its sends in flight cut
//! off. Every refund request and every text message is sent; a refund is paid once per key
//! however often it was asked, and a message sent again keeps its id.

use crate::harness::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the services took: requests per key (refund ids, SMS ids).
#[derive(Clone, Default)]
struct Took {
    refunds: Arc<Mutex<BTreeMap<String, u32>>>,
    sms: Arc<Mutex<BTreeMap<String, u32>>>,
}

async fn pay(State(t): State<Took>, headers: HeaderMap, body: axum::body::Bytes) -> (StatusCode, String) {
    if standardwebhooks::Webhook::new(SECRET).unwrap().verify(&body, &headers).is_err() {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    let key = headers["idempotency-key"].to_str().unwrap().to_string();
    *t.refunds.lock().unwrap().entry(key.clone()).or_default() += 1;
    // Slow enough that a node has requests in flight when it stops.
    tokio::time::sleep(Duration::from_millis(40)).await;
    (StatusCode::OK, json!({ "status": "succeeded", "reference": format!("P-{key}") }).to_string())
}

async fn text(State(t): State<Took>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    if standardwebhooks::Webhook::new(SECRET).unwrap().verify(&body, &headers).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    let id = headers["webhook-id"].to_str().unwrap().to_string();
    *t.sms.lock().unwrap().entry(id).or_default() += 1;
    tokio::time::sleep(Duration::from_millis(40)).await;
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_send_every_refund_request_and_sms_though_one_stops_mid_burst() {
    let took = Took::default();
    let app = axum::Router::new()
        .route("/pay", axum::routing::post(pay))
        .route("/sms", axum::routing::post(text))
        .with_state(took.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let t = TestApp::with(|c| {
        c.payments.gateway = "http".into();
        c.payments.http.url = format!("{base}/pay");
        c.payments.http.secret = SECRET.into();
        c.payments.http.timeout_secs = 1;
        c.payments.poll_ms = 20;
        c.payments.concurrency = 4;
        c.sms.provider = "webhook".into();
        c.sms.webhook.url = format!("{base}/sms");
        c.sms.webhook.secret = SECRET.into();
        c.sms.webhook.timeout_secs = 1;
        c.sms.poll_ms = 20;
        c.sms.batch = 4;
        c.sms.rate_per_sec = 0;
    })
    .await;
    if !matches!(t.db, TestDb::Postgres(_)) {
        eprintln!("several nodes need PostgreSQL (AFTERSALE_TEST_DATABASE_URL): this test ran nothing");
        t.stop().await;
        return;
    }
    let second = t.second_node().await;
    let mut third = Some(t.second_node().await);
    let mut cases = Vec::new();
    for i in 0..40 {
        // A return agreed (one SMS), then received and refunded (one refund request).
        let o = t.order("online", true).await;
        let c = t.apply(&o, "return_refund", 2_000).await;
        let id = c["case"]["id"].as_i64().unwrap();
        t.ok(&t.staff, id, "agree_return", json!({ "address_id": t.address_id })).await;
        t.ok(
            &t.buyer,
            id,
            "submit_return_logistics",
            json!({ "logistics": { "carrier": "SF", "tracking_no": format!("SF9{i:09}") } }),
        )
        .await;
        t.ok(&t.staff, id, "received_refund", json!({})).await;
        cases.push(id);
        if i == 20 {
            if let Some(n) = third.take() {
                n.stop().await;
            }
        }
    }
    // Every refund paid, every message sent (a cut-off send is taken up once its lease ends).
    let mut done = false;
    for _ in 0..600 {
        let refunds = t.owner.get("/api/v1/refunds?limit=200").await.unwrap().json();
        let sms = t.admin.get("/api/v1/sms").await.unwrap().json();
        let paid = refunds["items"].as_array().unwrap().iter().filter(|r| r["status"] == "succeeded").count();
        let sent = sms["items"].as_array().unwrap().iter().filter(|s| !s["sent_at"].is_null()).count();
        if paid == cases.len() && sent == cases.len() {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(done, "every refund paid and every SMS sent within 30 s");
    let refunds: Vec<Value> =
        t.owner.get("/api/v1/refunds?limit=200").await.unwrap().json()["items"].as_array().unwrap().clone();
    let keys: std::collections::BTreeSet<String> =
        refunds.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    let asked = took.refunds.lock().unwrap().clone();
    assert_eq!(
        asked.keys().cloned().collect::<std::collections::BTreeSet<_>>(),
        keys,
        "one key per refund, each asked"
    );
    for r in &refunds {
        assert_eq!(r["reference"], format!("P-{}", r["id"].as_str().unwrap()), "paid under its own key: {r}");
    }
    let sms_ids: std::collections::BTreeSet<String> = took.sms.lock().unwrap().keys().cloned().collect();
    assert_eq!(sms_ids.len(), cases.len(), "every message sent, each under its own id");
    let repeats: u32 =
        asked.values().map(|n| n - 1).sum::<u32>() + took.sms.lock().unwrap().values().map(|n| n - 1).sum::<u32>();
    eprintln!("{} refunds, {} SMS; {repeats} requests repeated under the same key", keys.len(), sms_ids.len());
    second.stop().await;
    t.stop().await;
}
