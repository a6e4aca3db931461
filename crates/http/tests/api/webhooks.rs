//! Webhooks end to end, against a receiver the test starts on 127.0.0.1: every delivery
//! verified with the independent `standardwebhooks` crate, retries keep their `webhook-id`, a
//! hanging endpoint delays no other, targets and owners are checked.

use crate::harness::*;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the receiver got: its headers and body.
type Hit = (HeaderMap, Vec<u8>);

/// What the receiver got, per path.
#[derive(Clone, Default)]
struct Inbox {
    hits: Arc<Mutex<HashMap<String, Vec<Hit>>>>,
}

impl Inbox {
    fn of(&self, path: &str) -> Vec<(HeaderMap, Vec<u8>)> {
        self.hits.lock().unwrap().get(path).cloned().unwrap_or_default()
    }

    /// The events (bodies) a path got, once it has `n` requests (bounded wait).
    async fn wait_for(&self, path: &str, n: usize) -> Vec<(HeaderMap, Vec<u8>)> {
        for _ in 0..300 {
            let got = self.of(path);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{path} got {} of {n} requests within 15 s", self.of(path).len());
    }
}

/// `/ok/*` answers 204; `/flaky` 500 three times, then 200; `/hang` never answers in time.
async fn receive(
    State(inbox): State<Inbox>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let count = {
        let mut hits = inbox.hits.lock().unwrap();
        let list = hits.entry(path.clone()).or_default();
        list.push((headers, body.to_vec()));
        list.len()
    };
    match path.as_str() {
        "flaky" if count <= 3 => StatusCode::INTERNAL_SERVER_ERROR,
        "hang" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK
        }
        _ => StatusCode::NO_CONTENT,
    }
}

async fn receiver() -> (String, Inbox) {
    let inbox = Inbox::default();
    let app = axum::Router::new().route("/{*path}", axum::routing::post(receive)).with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), inbox)
}

async fn endpoint(c: &Client, url: &str, types: &[&str]) -> (i64, String) {
    let r = c.post("/api/v1/webhooks", &json!({ "url": url, "types": types, "description": "test" })).await.unwrap();
    assert_eq!(r.status, 201, "{}", body(&r));
    let v = r.json();
    (v["endpoint"]["id"].as_i64().unwrap(), v["secret"].as_str().unwrap().to_string())
}

/// Each request verified with the independent verifier; answers the parsed bodies.
fn verified(hits: &[(HeaderMap, Vec<u8>)], secret: &str) -> Vec<Value> {
    let wh = standardwebhooks::Webhook::new(secret).unwrap();
    hits.iter()
        .map(|(h, b)| {
            wh.verify(b, h).unwrap_or_else(|e| panic!("signature refused: {e:?}"));
            serde_json::from_slice(b).unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_retried_under_one_id_and_a_hanging_endpoint_delays_no_other() {
    let t = TestApp::new().await;
    let (base, inbox) = receiver().await;
    let (flaky, flaky_secret) = endpoint(&t.owner, &format!("{base}/flaky"), &["case.opened"]).await;
    let (_, ok_secret) = endpoint(&t.owner, &format!("{base}/ok/all"), &[]).await;
    endpoint(&t.owner, &format!("{base}/hang"), &["case.opened"]).await;
    // Another shop's endpoint, and a disabled one: neither gets this shop's events.
    endpoint(&t.owner2, &format!("{base}/ok/other"), &[]).await;
    let off =
        t.owner.post("/api/v1/webhooks", &json!({ "url": format!("{base}/ok/off"), "enabled": false })).await.unwrap();
    assert_eq!(off.status, 201);

    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 5_000).await["case"]["id"].as_i64().unwrap();
    // The fast endpoint gets the order's events and the case's, each once, while /hang hangs.
    let got = inbox.wait_for("ok/all", 1).await;
    let mut events = Vec::new();
    for _ in 0..300 {
        events = verified(&inbox.of("ok/all"), &ok_secret);
        if events.iter().any(|e| e["type"] == "case.opened") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!got.is_empty());
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"order.created") && types.contains(&"case.opened"), "{types:?}");
    let ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "each event once");
    assert!(inbox.of("hang").len() <= 1, "the hanging endpoint is not tried again before its timeout and retry");
    // The body is the event as the event API lists it; the header id is the event's id.
    let opened = events.iter().find(|e| e["type"] == "case.opened").unwrap();
    assert_eq!(opened["case_id"], id);
    let listed: Value = t.owner.get("/api/v1/events?types=case.opened").await.unwrap().json();
    assert_eq!(&listed["items"][0], opened, "the same shape as GET /api/v1/events");

    // /flaky fails three times, then takes it: four attempts, one webhook-id, all signed.
    let hits = inbox.wait_for("flaky", 4).await;
    verified(&hits, &flaky_secret);
    let ids: Vec<&str> = hits.iter().map(|(h, _)| h["webhook-id"].to_str().unwrap()).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "one id across retries: {ids:?}");
    assert_eq!(ids[0], opened["id"].as_str().unwrap());
    let mut log = Value::Null;
    for _ in 0..100 {
        log = t.owner.get(&format!("/api/v1/webhooks/{flaky}/deliveries")).await.unwrap().json();
        if log["items"][0]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let d = &log["items"][0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_u64()), (Some("succeeded"), Some(4)), "{log}");
    let codes: Vec<u64> = d["log"].as_array().unwrap().iter().map(|a| a["status_code"].as_u64().unwrap()).collect();
    assert_eq!(codes, [500, 500, 500, 204]);
    assert!(inbox.of("ok/other").is_empty(), "another shop's endpoint gets nothing of this shop");
    assert!(inbox.of("ok/off").is_empty(), "a disabled endpoint gets nothing");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_beside_the_new_one_and_a_delivery_can_be_tested_and_sent_again() {
    let t = TestApp::new().await;
    let (base, inbox) = receiver().await;
    let (id, old) = endpoint(&t.owner, &format!("{base}/ok/rot"), &["case.opened"]).await;
    let r = t.owner.post(&format!("/api/v1/webhooks/{id}/rotate"), &json!({})).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    let new = r.json()["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(r.json()["endpoint"]["previous_secret_until"].is_string());
    let test = t.owner.post(&format!("/api/v1/webhooks/{id}/test"), &json!({})).await.unwrap();
    assert_eq!(test.status, 202, "{}", body(&test));
    let hits = inbox.wait_for("ok/rot", 1).await;
    // Both secrets verify it: receivers switch over within the 24 hours.
    assert_eq!(verified(&hits, &old)[0]["type"], "webhook.test");
    verified(&hits, &new);
    let delivery = test.json()["id"].as_i64().unwrap();
    let again = t.owner.post(&format!("/api/v1/webhook-deliveries/{delivery}/redeliver"), &json!({})).await.unwrap();
    assert_eq!(again.status, 202, "{}", body(&again));
    let hits = inbox.wait_for("ok/rot", 2).await;
    assert_eq!(hits[0].0["webhook-id"], hits[1].0["webhook-id"], "sent again under its id");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_their_owners_and_urls_are_checked() {
    let t = TestApp::new().await;
    let (base, _inbox) = receiver().await;
    let (id, _) = endpoint(&t.owner, &format!("{base}/ok/a"), &[]).await;
    // Staff cannot manage them; another shop cannot see them; buyers have none.
    problem(&t.staff.post("/api/v1/webhooks", &json!({ "url": format!("{base}/x") })).await.unwrap(), 403, "forbidden");
    problem(&t.owner2.get(&format!("/api/v1/webhooks/{id}")).await.unwrap(), 404, "not_found");
    problem(&t.buyer.get("/api/v1/webhooks").await.unwrap(), 403, "forbidden");
    let theirs: Value = t.owner2.get("/api/v1/webhooks").await.unwrap().json();
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    // The secret is never listed.
    let mine = t.owner.get("/api/v1/webhooks").await.unwrap();
    assert!(!String::from_utf8_lossy(&mine.body).contains("whsec_"));
    // Bad URLs and types name the field.
    for (b, field) in [
        (json!({ "url": "ftp://example.com/x" }), "url"),
        (json!({ "url": "https://" }), "url"),
        (json!({ "url": "https://example.com/x", "types": ["case.nope"] }), "types"),
    ] {
        let v = problem(&t.owner.post("/api/v1/webhooks", &b).await.unwrap(), 422, "invalid_value");
        assert_eq!(v["field"], field, "{b}");
    }
    // Disabled and enabled again; deleted.
    let r = t.owner.patch(&format!("/api/v1/webhooks/{id}"), &json!({ "enabled": false })).await.unwrap();
    assert_eq!(r.json()["enabled"], false, "{}", body(&r));
    let r = t.owner.delete(&format!("/api/v1/webhooks/{id}")).await.unwrap();
    assert_eq!(r.status, 204);
    problem(&t.owner.get(&format!("/api/v1/webhooks/{id}")).await.unwrap(), 404, "not_found");
    // The platform's endpoint (an admin's) gets every shop's events.
    let r = t.admin.post("/api/v1/webhooks", &json!({ "url": format!("{base}/ok/platform") })).await.unwrap();
    assert_eq!((r.status, r.json()["endpoint"]["shop_id"].clone()), (201, Value::Null), "{}", body(&r));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_required_and_a_private_target_is_refused_when_sent_after_dns() {
    let strict = TestApp::with(|c| {
        c.webhooks.allow_insecure = false;
        c.webhooks.allow_private_targets = false;
    })
    .await;
    let v = problem(
        &strict.owner.post("/api/v1/webhooks", &json!({ "url": "http://example.com/hook" })).await.unwrap(),
        422,
        "invalid_value",
    );
    assert_eq!(v["field"], "url");
    strict.stop().await;
    // http allowed, private targets not: saved, but every send to them is refused.
    let t = TestApp::with(|c| c.webhooks.allow_private_targets = false).await;
    let (base, inbox) = receiver().await;
    let port = base.rsplit(':').next().unwrap().to_string();
    for url in [format!("{base}/ok/literal"), format!("http://localhost:{port}/ok/named")] {
        let (id, _) = endpoint(&t.owner, &url, &[]).await;
        let r = t.owner.post(&format!("/api/v1/webhooks/{id}/test"), &json!({})).await.unwrap();
        assert_eq!(r.status, 202);
        let mut log = Value::Null;
        for _ in 0..200 {
            log = t.owner.get(&format!("/api/v1/webhooks/{id}/deliveries")).await.unwrap().json();
            if log["items"][0]["attempts"].as_u64() >= Some(1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let attempt = &log["items"][0]["log"][0];
        assert!(attempt["error"].as_str().unwrap_or("").contains("refused"), "{url}: {log}");
        assert!(attempt["status_code"].is_null());
    }
    assert!(inbox.of("ok/literal").is_empty() && inbox.of("ok/named").is_empty(), "nothing reached the receiver");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_keeps_endpoints_in_the_workbench_and_reads_their_delivery_log() {
    let t = TestApp::new().await;
    let (base, inbox) = receiver().await;
    let site = format!("http://{}", t.running.as_ref().unwrap().addr);
    let p = crate::pages::Page::login(&site, "owner1", "password-123").await;
    let list = p.get("/w/settings/webhooks").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let csrf = list.hidden("csrf");
    let url = format!("{base}/ok/page");
    let made = p
        .post("/w/settings/webhooks", &[("csrf", &csrf), ("url", &url), ("types", "case.opened, refund.succeeded")])
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let secret =
        made.body.split("data-testid=\"webhook-secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "the secret, shown once: {secret}");
    assert!(!p.get("/w/settings/webhooks").await.body.contains(&secret), "and never again");
    let listed: Value = t.owner.get("/api/v1/webhooks").await.unwrap().json();
    let id = listed["items"][0]["id"].as_i64().unwrap();
    // A test event from the endpoint's page reaches the receiver, verified with that secret.
    let page = p.get(&format!("/w/settings/webhooks/{id}")).await;
    let r = p.post(&format!("/w/settings/webhooks/{id}/test"), &[("csrf", &page.hidden("csrf"))]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let hits = inbox.wait_for("ok/page", 1).await;
    assert_eq!(verified(&hits, &secret)[0]["type"], "webhook.test");
    let mut log = String::new();
    for _ in 0..100 {
        log = p.get(&format!("/w/settings/webhooks/{id}")).await.body;
        if log.contains("204 · ") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(log.contains("webhook.test") && log.contains("204 · "), "the log shows the attempt: {log}");
    // A type that does not exist is refused next to the form, naming it.
    let csrf = p.get("/w/settings/webhooks").await.hidden("csrf");
    let bad = p.post("/w/settings/webhooks", &[("csrf", &csrf), ("url", &url), ("types", "case.nope")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("事件类型"), "the field, in words: {}", bad.body);
    // Staff do not manage endpoints.
    let staff = crate::pages::Page::login(&site, "staff1", "password-123").await;
    assert_eq!(staff.get("/w/settings/webhooks").await.status, 403);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_deliver_every_event_of_a_burst_though_one_stops_mid_burst() {
    let t = TestApp::new().await;
    let (base, inbox) = receiver().await;
    let (_, secret) = endpoint(&t.owner, &format!("{base}/ok/many"), &[]).await;
    let postgres = matches!(t.db, TestDb::Postgres(_));
    if !postgres {
        eprintln!("several nodes need PostgreSQL (AFTERSALE_TEST_DATABASE_URL): this test ran one");
    }
    let second = if postgres { Some(t.second_node().await) } else { None };
    let mut third = if postgres { Some(t.second_node().await) } else { None };
    // A burst: each order and case writes several events (created, paid, shipped, delivered,
    // opened). One node stops half-way through, its deliveries in flight cut off.
    for i in 0..120 {
        let o = t.order("online", true).await;
        t.apply(&o, "refund_only", 1_000 + i).await;
        if i == 60 {
            if let Some(n) = third.take() {
                n.stop().await;
            }
        }
    }
    let want: std::collections::BTreeSet<String> = {
        let mut all = std::collections::BTreeSet::new();
        let mut after = String::new();
        loop {
            let page: Value = t.owner.get(&format!("/api/v1/events?limit=1000{after}")).await.unwrap().json();
            let items = page["items"].as_array().unwrap().clone();
            if items.is_empty() {
                break;
            }
            all.extend(items.iter().map(|e| e["id"].as_str().unwrap().to_string()));
            after = format!("&after={}", page["next"].as_str().unwrap());
        }
        all
    };
    assert!(want.len() >= 300, "a burst of {} events", want.len());
    // Every event arrives; a repeat (a delivery cut off and tried again) has the same id.
    let mut got = std::collections::BTreeSet::new();
    for _ in 0..600 {
        got = inbox.of("ok/many").iter().map(|(h, _)| h["webhook-id"].to_str().unwrap().to_string()).collect();
        if got.len() >= want.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(got, want, "every event delivered, by its own id");
    let hits = inbox.of("ok/many");
    verified(&hits, &secret);
    eprintln!("{} events, {} requests (repeats: {})", want.len(), hits.len(), hits.len() - want.len());
    if let Some(n) = second {
        n.stop().await;
    }
    t.stop().await;
}
