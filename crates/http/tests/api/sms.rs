//! Text messages through real providers' protocols (X2): a fake Alibaba Cloud SMS that checks
//! every request's signature by the documented algorithm and answers throttled, then OK, and
//! refuses a template for good; a fake gateway for the `webhook` provider checked with the
//! independent `standardwebhooks` crate; the pace a provider is sent at; and a provider down for
//! the whole test, which never blocks a command.

use crate::harness::*;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A return agreed (the buyer gets the return address by SMS): the case's id.
async fn return_agreed(t: &TestApp) -> i64 {
    let o = t.order("online", true).await;
    let c = t.apply(&o, "return_refund", 5_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, id, "agree_return", json!({ "address_id": t.address_id })).await;
    id
}

/// The outbox as the platform reads it, once `done` holds (bounded wait).
async fn outbox_until(t: &TestApp, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..300 {
        let r = t.admin.get("/api/v1/sms").await.unwrap();
        assert_eq!(r.status, 200, "{}", body(&r));
        let items = r.json()["items"].as_array().unwrap().clone();
        if done(&items) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never got there: {}", body(&t.admin.get("/api/v1/sms").await.unwrap()));
}

/// RFC 3986 as Alibaba Cloud documents it for signing.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Clone, Default)]
struct Aliyun {
    calls: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

async fn aliyun(State(a): State<Aliyun>, Query(q): Query<BTreeMap<String, String>>) -> (StatusCode, String) {
    use base64::Engine as _;
    // The documented signature: HMAC-SHA1 keyed "secret&" over GET&%2F&enc(sorted query).
    let mut params = q.clone();
    let given = params.remove("Signature").unwrap_or_default();
    let canonical: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
    let to_sign = format!("GET&%2F&{}", enc(&canonical.join("&")));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"fake-secret&");
    let want = base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, to_sign.as_bytes()).as_ref());
    let answer = |code: &str, extra: Value| {
        let mut v = json!({ "Code": code, "Message": code, "RequestId": "R" });
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        (StatusCode::OK, v.to_string())
    };
    if given != want || q["AccessKeyId"] != "fake-id" || q["SignatureMethod"] != "HMAC-SHA1" {
        return answer("SignatureDoesNotMatch", json!({}));
    }
    let n = {
        let mut calls = a.calls.lock().unwrap();
        calls.push(q.clone());
        calls.len()
    };
    assert_eq!(q["SignName"], "售后服务");
    let vars: Value = serde_json::from_str(&q["TemplateParam"]).unwrap();
    assert!(vars["no"].as_str().unwrap().starts_with("AS"), "{vars}");
    match (n, q["TemplateCode"].as_str()) {
        (_, "SMS_200") => answer("isv.SMS_TEMPLATE_ILLEGAL", json!({})),
        (1, _) => answer("isv.BUSINESS_LIMIT_CONTROL", json!({})),
        _ => answer("OK", json!({ "BizId": format!("biz-{}", q["OutId"]) })),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x2_aliyun_sms_is_signed_retried_when_throttled_and_refused_for_good_with_the_reason() {
    let fake = Aliyun::default();
    let app = axum::Router::new().route("/", axum::routing::get(aliyun)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let t = TestApp::with(|c| {
        c.sms.provider = "aliyun".into();
        c.sms.aliyun.endpoint = url.clone();
        c.sms.aliyun.access_key_id = "fake-id".into();
        c.sms.aliyun.access_key_secret = "fake-secret".into();
        c.sms.aliyun.sign_name = "售后服务".into();
        c.sms.aliyun.templates = [("return_address", "SMS_100"), ("ship_back_reminder", "SMS_200")]
            .map(|(k, v)| (k.into(), v.into()))
            .into();
        c.sms.retry_secs = vec![1];
        c.sms.poll_ms = 50;
    })
    .await;
    let first = return_agreed(&t).await;
    let second = return_agreed(&t).await;
    // A reminder: its template is one the provider refuses.
    t.ok(&t.staff, second, "remind_buyer", json!({})).await;
    let items = outbox_until(&t, |items| {
        items.len() == 3 && items.iter().all(|s| !s["sent_at"].is_null() || !s["failed_at"].is_null())
    })
    .await;
    let of = |case: i64, kind: &str| {
        items.iter().find(|s| s["case_id"] == case && s["kind"] == kind).cloned().unwrap_or_else(|| panic!("{items:?}"))
    };
    let (a, b, reminder) =
        (of(first, "return_address"), of(second, "return_address"), of(second, "ship_back_reminder"));
    // The first send was throttled: sent on the next attempt, with the provider's id.
    let attempts: Vec<u64> = [&a, &b].iter().map(|s| s["attempts"].as_u64().unwrap()).collect();
    assert!(attempts.contains(&2) && attempts.contains(&1), "{a} {b}");
    for s in [&a, &b] {
        assert_eq!(s["provider_id"], format!("biz-sms_{}", s["id"]), "{s}");
        assert!(s["failed_at"].is_null());
    }
    assert!(reminder["sent_at"].is_null() && !reminder["failed_at"].is_null(), "{reminder}");
    assert!(reminder["last_error"].as_str().unwrap().contains("isv.SMS_TEMPLATE_ILLEGAL"), "{reminder}");
    // Refused for good: never asked again.
    let calls = fake.calls.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(fake.calls.lock().unwrap().len(), calls, "a refused message is not sent again");
    // The platform's outbox page says so.
    let site = format!("http://{}", t.running.as_ref().unwrap().addr);
    let page = crate::pages::Page::login(&site, "admin", "admin-password").await.get("/p/sms").await;
    assert_eq!(page.body.matches("data-sms-state=\"sent\"").count(), 2, "{}", page.body);
    assert!(page.body.contains("data-sms-state=\"failed\"") && page.body.contains("isv.SMS_TEMPLATE_ILLEGAL"));
    t.stop().await;
}

#[derive(Clone, Default)]
struct Gateway {
    hits: Arc<Mutex<Vec<(Instant, String)>>>,
}

const GATEWAY_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn gateway(State(g): State<Gateway>, headers: HeaderMap, body: axum::body::Bytes) -> (StatusCode, String) {
    let wh = standardwebhooks::Webhook::new(GATEWAY_SECRET).unwrap();
    if wh.verify(&body, &headers).is_err() {
        return (StatusCode::UNAUTHORIZED, "bad signature".into());
    }
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(headers["webhook-id"].to_str().unwrap(), v["id"].as_str().unwrap());
    let n = {
        let mut hits = g.hits.lock().unwrap();
        hits.push((Instant::now(), v["id"].as_str().unwrap().to_string()));
        hits.len()
    };
    if n == 1 {
        return (StatusCode::SERVICE_UNAVAILABLE, "busy".into());
    }
    (StatusCode::OK, json!({ "id": format!("gw-{n}") }).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x2_the_webhook_provider_is_signed_retried_on_5xx_and_paced_to_its_rate() {
    let g = Gateway::default();
    let app = axum::Router::new().route("/sms", axum::routing::post(gateway)).with_state(g.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let t = TestApp::with(|c| {
        c.sms.provider = "webhook".into();
        c.sms.webhook.url = url.clone();
        c.sms.webhook.secret = GATEWAY_SECRET.into();
        c.sms.retry_secs = vec![1];
        c.sms.poll_ms = 50;
        c.sms.rate_per_sec = 4;
    })
    .await;
    for _ in 0..5 {
        return_agreed(&t).await;
    }
    let items = outbox_until(&t, |items| items.len() == 5 && items.iter().all(|s| !s["sent_at"].is_null())).await;
    assert!(items.iter().all(|s| s["provider_id"].as_str().unwrap().starts_with("gw-")), "{items:?}");
    assert_eq!(items.iter().map(|s| s["attempts"].as_u64().unwrap()).sum::<u64>(), 6, "one 503, sent again");
    // Four a second at most: the six requests span at least a second and a quarter.
    let hits = g.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 6);
    let span = hits.last().unwrap().0 - hits.first().unwrap().0;
    assert!(span >= Duration::from_millis(1_200), "sent too fast: {span:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x2_a_provider_down_for_the_whole_test_never_blocks_a_command_and_the_message_waits() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let t = TestApp::with(|c| {
        c.sms.provider = "webhook".into();
        c.sms.webhook.url = format!("http://127.0.0.1:{port}/sms");
        c.sms.webhook.secret = GATEWAY_SECRET.into();
        c.sms.retry_secs = vec![1];
        c.sms.poll_ms = 50;
    })
    .await;
    let started = Instant::now();
    let case = return_agreed(&t).await;
    assert!(started.elapsed() < Duration::from_secs(5), "the command did not wait for the provider");
    assert_eq!(t.case(&t.buyer, case).await["case"]["status"], "awaiting_buyer_return");
    let items = outbox_until(&t, |items| items.first().is_some_and(|s| s["attempts"].as_u64().unwrap() >= 2)).await;
    let s = &items[0];
    assert!(s["sent_at"].is_null() && s["failed_at"].is_null(), "waiting, not given up: {s}");
    assert!(s["last_error"].as_str().unwrap().contains("no connection"), "{s}");
    t.stop().await;
}
