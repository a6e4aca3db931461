//! Refunds that leave, end to end (M5): `manual` refunds settled by finance over the API and by
//! payout file; an `http` payment service (started here, checking the Standard Webhooks
//! signature with the independent `standardwebhooks` crate and the idempotency key) that times
//! out twice and then pays, once; and a fake Alipay that checks each request's RSA2 signature
//! with a key openssl wrote (not our code) and signs its answers as Alipay does: a success, a
//! business failure, and an unknown outcome settled by the refund query.

use crate::harness::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A refunded online order's case in shop one; answers (case, refund) as the API shows them.
async fn refunded(t: &TestApp) -> (Value, Value) {
    let o = t.order("online", true).await;
    let c = t.apply(&o, "refund_only", 1_000).await;
    let case = c["case"]["id"].as_i64().unwrap();
    t.ok(&t.owner, case, "refund", json!({})).await;
    let r = t.owner.get(&format!("/api/v1/refunds?case={case}")).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "one ledger row per refund");
    (o, items[0].clone())
}

async fn refund(c: &Client, id: &str) -> Value {
    let r = c.get(&format!("/api/v1/refunds/{id}")).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    r.json()
}

/// Waits (bounded) until the refund's ledger row satisfies `done`.
async fn until(c: &Client, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let r = refund(c, id).await;
        if done(&r) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("refund {id} never got there: {}", refund(c, id).await);
}

async fn csv(c: &Client, text: &str) -> Resp {
    c.send(reqwest::Method::POST, "/api/v1/refunds/payouts", &[], Some(("text/csv", text.as_bytes().to_vec().into())))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m5_manual_refunds_wait_for_finance_and_a_payout_file_is_applied_whole_or_not_at_all() {
    let t = TestApp::with(|c| c.payments.gateway = "manual".into()).await;
    let (_, r1) = refunded(&t).await;
    let (_, r2) = refunded(&t).await;
    assert_eq!((r1["status"].as_str(), r1["gateway"].as_str()), (Some("awaiting_payout"), Some("manual")));
    let (id1, id2) = (r1["id"].as_str().unwrap().to_string(), r2["id"].as_str().unwrap().to_string());
    assert!(id1.starts_with("rf_"), "{r1}");
    // A week on, nothing paid it: the buyer's case still says the refund is being paid.
    t.advance("7d").await;
    let case = t.case(&t.buyer, r1["case_id"].as_i64().unwrap()).await;
    assert_eq!(
        (case["case"]["status"].as_str(), case["case"]["refund"]["state"].as_str()),
        (Some("refunding"), Some("processing")),
        "{case}"
    );
    // One unknown row: the whole file is refused, the row named, and nothing applied.
    let bad =
        csv(&t.owner, &format!("refund_id,status,reference,reason\n{id1},paid,BANK-1,\nrf_999999,paid,BANK-2,\n"))
            .await;
    let p = problem(&bad, 422, "invalid_value");
    assert_eq!(p["field"], "file", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("line 3: unknown refund \"rf_999999\""), "{p}");
    assert_eq!(refund(&t.owner, &id1).await["status"], "awaiting_payout");
    // Not CSV, not readable, not the right people.
    let r = t
        .owner
        .send(reqwest::Method::POST, "/api/v1/refunds/payouts", &[], Some(("application/json", "{}".into())))
        .await
        .unwrap();
    problem(&r, 415, "unsupported_media_type");
    let p = problem(&csv(&t.owner, "id,state\n1,paid\n").await, 422, "invalid_value");
    assert_eq!(p["field"], "file");
    problem(&csv(&t.staff, &format!("refund_id,status,reference\n{id1},paid,B\n")).await, 403, "forbidden");
    let other = csv(&t.owner2, &format!("refund_id,status,reference\n{id1},paid,B\n")).await;
    assert!(problem(&other, 422, "invalid_value")["detail"].as_str().unwrap().contains("unknown refund"));
    assert_eq!(t.owner2.get(&format!("/api/v1/refunds/{id1}")).await.unwrap().status, 404);
    // The good file: one paid, one failed (to the failed queue).
    let ok = csv(&t.owner, &format!("\u{feff}refund_id,status,reference,reason\r\n{id1},paid,BANK-1,\r\n{id2},failed,,\"收款账户已注销, 请联系买家\"\r\n")).await;
    assert_eq!(ok.status, 200, "{}", body(&ok));
    let paid = refund(&t.owner, &id1).await;
    assert_eq!((paid["status"].as_str(), paid["reference"].as_str()), (Some("succeeded"), Some("BANK-1")));
    let case = t.case(&t.buyer, r1["case_id"].as_i64().unwrap()).await;
    assert_eq!(case["case"]["status"], "completed");
    let failed = t.owner.get("/api/v1/refunds?status=failed").await.unwrap().json();
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert_eq!(failed["items"][0]["last_error"], "收款账户已注销, 请联系买家");
    // Finance pays the failed one by other means, one by one; said twice, the same answer.
    let settle = json!({ "status": "succeeded", "reference": "TRANSFER-9" });
    let r = t.owner.post(&format!("/api/v1/refunds/{id2}/result"), &settle).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(t.owner.post(&format!("/api/v1/refunds/{id2}/result"), &settle).await.unwrap().json(), r.json());
    let r = t
        .owner
        .post(&format!("/api/v1/refunds/{id2}/result"), &json!({ "status": "failed", "reason": "x" }))
        .await
        .unwrap();
    problem(&r, 422, "wrong_state");
    let r = t.owner.post(&format!("/api/v1/refunds/{id1}/result"), &json!({ "status": "succeeded" })).await.unwrap();
    assert_eq!(problem(&r, 422, "invalid_value")["field"], "reference");
    // The ledger for reconciliation.
    let export = t.admin.get("/api/v1/refunds/export.csv?from=2026-11-01T00:00:00Z").await.unwrap();
    assert_eq!(export.status, 200, "{}", body(&export));
    let text = String::from_utf8(export.body.to_vec()).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert!(
        lines[0].starts_with(
            "refund_id,case_id,order_id,order_no,shop_id,amount,currency,status,attempts,gateway,reference"
        ),
        "{text}"
    );
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with(&format!("{id1},")) && lines[1].contains(",10.00,CNY,succeeded,1,manual,BANK-1,"),
        "{text}"
    );
    let none = t.admin.get("/api/v1/refunds/export.csv?to=2026-11-01T00:00:00Z").await.unwrap();
    assert_eq!(String::from_utf8(none.body.to_vec()).unwrap().lines().count(), 1, "a range with no refund: the header");
    assert_eq!(t.buyer.get("/api/v1/refunds").await.unwrap().status, 403);
    t.stop().await;
}

/// The payment service's fake: checks the signature and the idempotency key, times out the
/// first two requests, pays on the third, and remembers what it paid.
#[derive(Clone, Default)]
struct Service {
    requests: Arc<Mutex<Vec<(String, Value)>>>,
    paid: Arc<Mutex<BTreeMap<String, u32>>>,
}

const SERVICE_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn service(State(s): State<Service>, headers: HeaderMap, body: axum::body::Bytes) -> (StatusCode, String) {
    let wh = standardwebhooks::Webhook::new(SERVICE_SECRET).unwrap();
    if wh.verify(&body, &headers).is_err() {
        return (StatusCode::UNAUTHORIZED, "bad signature".into());
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let v: Value = serde_json::from_slice(&body).unwrap();
    if key.is_empty() || v["refund_id"] != key.as_str() || headers["webhook-id"] != key.as_str() {
        return (StatusCode::BAD_REQUEST, "the idempotency key must be the refund id".into());
    }
    let n = {
        let mut r = s.requests.lock().unwrap();
        r.push((key.clone(), v));
        r.len()
    };
    if n <= 2 {
        tokio::time::sleep(Duration::from_secs(3)).await; // longer than the 1 s limit
    }
    *s.paid.lock().unwrap().entry(key.clone()).or_default() += 1;
    (StatusCode::OK, json!({ "status": "succeeded", "reference": format!("PSP-{key}") }).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m5_an_http_refund_that_times_out_twice_is_paid_once_under_one_key() {
    let s = Service::default();
    let app = axum::Router::new().route("/pay", axum::routing::post(service)).with_state(s.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/pay", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let t = TestApp::with(|c| {
        c.payments.gateway = "http".into();
        c.payments.http.url = url.clone();
        c.payments.http.secret = SERVICE_SECRET.into();
        c.payments.http.timeout_secs = 1;
        c.payments.poll_ms = 50;
    })
    .await;
    let (_, r) = refunded(&t).await;
    let id = r["id"].as_str().unwrap().to_string();
    // Sent at once; no answer within the limit: asked again after 1 h, then 2 h (M5).
    let first = until(&t.owner, &id, |r| r["attempts"] == 1).await;
    assert_eq!(first["status"], "requested");
    assert!(first["last_error"].as_str().unwrap().contains("no answer within 1 s"), "{first}");
    let case = r["case_id"].as_i64().unwrap();
    assert_eq!(t.case(&t.buyer, case).await["case"]["refund"]["state"], "processing", "never paid unasked");
    t.advance("1h").await;
    until(&t.owner, &id, |r| r["attempts"] == 2).await;
    t.advance("2h").await;
    let done = until(&t.owner, &id, |r| r["status"] == "succeeded").await;
    assert_eq!((done["attempts"].as_u64(), done["reference"].as_str()), (Some(3), Some(format!("PSP-{id}").as_str())));
    assert_eq!(t.case(&t.buyer, case).await["case"]["status"], "completed");
    let requests = s.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3, "three requests");
    assert!(requests.iter().all(|(k, v)| *k == id && v["amount"]["minor"] == 1_000), "{requests:?}");
    assert_eq!(requests.iter().map(|(_, v)| v["attempt"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    // The service counted one key; its repeats were the same refund.
    assert_eq!(s.paid.lock().unwrap().keys().map(String::as_str).collect::<Vec<_>>().as_slice(), [id.as_str()]);
    // A refund being sent is not for finance to settle.
    let (_, other) = refunded(&t).await;
    let r = t
        .owner
        .post(
            &format!("/api/v1/refunds/{}/result", other["id"].as_str().unwrap()),
            &json!({ "status": "succeeded", "reference": "X" }),
        )
        .await
        .unwrap();
    assert_eq!(problem(&r, 422, "wrong_state")["rule"], "M5");
    t.stop().await;
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/api/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn pem_body(pem: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = String::from_utf8(pem.to_vec()).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
}

/// The fake Alipay: what each order's refund answers, and every request it took.
#[derive(Clone, Default)]
struct Alipay {
    /// out_trade_no → "success" | "close" | "unknown"
    plan: Arc<Mutex<HashMap<String, &'static str>>>,
    calls: Arc<Mutex<Vec<(String, String, String)>>>,
    refunded: Arc<Mutex<Vec<String>>>,
}

fn alipay_sign(text: &str) -> String {
    use base64::Engine as _;
    let key = ring::signature::RsaKeyPair::from_pkcs8(&pem_body(&fixture("alipay-private.pem"))).unwrap();
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), text.as_bytes(), &mut sig).unwrap();
    base64::engine::general_purpose::STANDARD.encode(sig)
}

async fn alipay(State(a): State<Alipay>, body: axum::body::Bytes) -> (StatusCode, String) {
    use base64::Engine as _;
    let params: BTreeMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    // RSA2 as Alipay documents it: the sorted non-empty parameters but `sign`, `k=v&k=v`.
    let signed: Vec<String> =
        params.iter().filter(|(k, v)| k.as_str() != "sign" && !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect();
    let sig = base64::engine::general_purpose::STANDARD
        .decode(params.get("sign").cloned().unwrap_or_default())
        .unwrap_or_default();
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        fixture("app-public.pkcs1.der"),
    );
    let method = params.get("method").cloned().unwrap_or_default();
    let member = format!("{}_response", method.replace('.', "_"));
    let answer = |inner: Value| {
        let inner = inner.to_string();
        (StatusCode::OK, format!("{{\"{member}\":{inner},\"sign\":\"{}\"}}", alipay_sign(&inner)))
    };
    if key.verify(signed.join("&").as_bytes(), &sig).is_err()
        || params["sign_type"] != "RSA2"
        || params["app_id"] != "2021000000000001"
    {
        return answer(
            json!({ "code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature", "sub_msg": "验签出错" }),
        );
    }
    let biz: Value = serde_json::from_str(&params["biz_content"]).unwrap();
    let trade = biz["out_trade_no"].as_str().unwrap().to_string();
    a.calls.lock().unwrap().push((
        method.clone(),
        trade.clone(),
        biz["out_request_no"].as_str().unwrap_or("").to_string(),
    ));
    let plan = a.plan.lock().unwrap().get(&trade).copied().unwrap_or("success");
    let earlier = a.calls.lock().unwrap().iter().filter(|(m, t, _)| *m == method && *t == trade).count();
    if plan == "slow" && earlier == 1 {
        // The first request: the answer comes after the client's time limit.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    match (method.as_str(), plan) {
        ("alipay.trade.refund", "success" | "slow") => {
            assert_eq!(biz["refund_amount"], "10.00");
            a.refunded.lock().unwrap().push(biz["out_request_no"].as_str().unwrap().to_string());
            answer(
                json!({ "code": "10000", "msg": "Success", "trade_no": format!("2026{trade}"), "out_trade_no": trade, "fund_change": "Y", "refund_fee": "10.00" }),
            )
        }
        ("alipay.trade.refund", "close") => answer(
            json!({ "code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_HAS_CLOSE", "sub_msg": "交易已经关闭" }),
        ),
        // The refund took, but the answer could not say so.
        ("alipay.trade.refund", _) => {
            a.refunded.lock().unwrap().push(biz["out_request_no"].as_str().unwrap().to_string());
            answer(
                json!({ "code": "20000", "msg": "Service Currently Unavailable", "sub_code": "aop.ACQ.SYSTEM_ERROR" }),
            )
        }
        ("alipay.trade.fastpay.refund.query", _) => {
            let known = a.refunded.lock().unwrap().contains(&biz["out_request_no"].as_str().unwrap().to_string());
            let mut r = json!({ "code": "10000", "msg": "Success", "out_trade_no": trade, "out_request_no": biz["out_request_no"] });
            if known {
                r["refund_status"] = json!("REFUND_SUCCESS");
                r["trade_no"] = json!(format!("2026{trade}"));
            }
            answer(r)
        }
        _ => answer(json!({ "code": "40004", "msg": "Business Failed", "sub_code": "ACQ.INVALID_METHOD" })),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m5_alipay_refunds_are_signed_rsa2_and_an_unknown_outcome_is_settled_by_the_query() {
    let fake = Alipay::default();
    let app = axum::Router::new().route("/gateway.do", axum::routing::post(alipay)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/gateway.do", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = format!("{}/tests/api/fixtures", env!("CARGO_MANIFEST_DIR"));
    let t = TestApp::with(|c| {
        c.payments.gateway = "alipay".into();
        c.payments.alipay.url = url.clone();
        c.payments.alipay.app_id = "2021000000000001".into();
        c.payments.alipay.private_key = format!("@{dir}/app-private.pem");
        c.payments.alipay.alipay_public_key = String::from_utf8(fixture("alipay-public.pem")).unwrap();
        c.payments.alipay.timeout_secs = 2;
        c.payments.alipay.query_after_secs = 60;
        c.payments.poll_ms = 50;
    })
    .await;
    let orders: Vec<Value> = futures_util::future::join_all((0..4).map(|_| t.order("online", true))).await;
    let nos: Vec<String> = orders.iter().map(|o| o["order_no"].as_str().unwrap().to_string()).collect();
    fake.plan.lock().unwrap().extend([
        (nos[1].clone(), "close"),
        (nos[2].clone(), "unknown"),
        (nos[3].clone(), "slow"),
    ]);
    let mut ids = Vec::new();
    for o in &orders {
        let c = t.apply(o, "refund_only", 1_000).await;
        let case = c["case"]["id"].as_i64().unwrap();
        t.ok(&t.owner, case, "refund", json!({})).await;
        let r = t.owner.get(&format!("/api/v1/refunds?case={case}")).await.unwrap().json();
        ids.push(r["items"][0]["id"].as_str().unwrap().to_string());
    }
    let paid = until(&t.owner, &ids[0], |r| r["status"] == "succeeded").await;
    assert_eq!(paid["reference"], format!("2026{}", nos[0]));
    let closed = until(&t.owner, &ids[1], |r| r["status"] == "failed").await;
    assert!(closed["last_error"].as_str().unwrap().contains("ACQ.TRADE_HAS_CLOSE"), "{closed}");
    let unknown = until(&t.owner, &ids[2], |r| r["status"] == "pending").await;
    assert_eq!(unknown["attempts"], 1);
    // A minute on, the query settles it: Alipay has the refund.
    t.advance("1m").await;
    let settled = until(&t.owner, &ids[2], |r| r["status"] == "succeeded").await;
    assert_eq!(settled["attempts"], 2);
    // No answer in time: asked again, the same out_request_no, after the M5 backoff.
    let slow = until(&t.owner, &ids[3], |r| r["attempts"] == 1).await;
    assert_eq!(slow["status"], "requested");
    assert!(slow["last_error"].as_str().unwrap().contains("no answer"), "{slow}");
    t.advance("1h").await;
    let slow = until(&t.owner, &ids[3], |r| r["status"] == "succeeded").await;
    assert_eq!(slow["attempts"], 2);
    let calls = fake.calls.lock().unwrap().clone();
    let of = |no: &str| calls.iter().filter(|(_, t, _)| t == no).map(|(m, _, _)| m.as_str()).collect::<Vec<_>>();
    assert_eq!(of(&nos[0]), ["alipay.trade.refund"]);
    assert_eq!(of(&nos[1]), ["alipay.trade.refund"], "a business failure is final: not sent again");
    assert_eq!(of(&nos[2]), ["alipay.trade.refund", "alipay.trade.fastpay.refund.query"]);
    assert_eq!(of(&nos[3]), ["alipay.trade.refund", "alipay.trade.refund"]);
    // The request cut off by the time limit and the one sent again carry the same
    // out_request_no: one refund to Alipay, whichever of them it acted on.
    let keys_of_slow: Vec<&str> = calls.iter().filter(|(_, t, _)| *t == nos[3]).map(|(_, _, k)| k.as_str()).collect();
    assert_eq!(keys_of_slow, [ids[3].as_str(), ids[3].as_str()]);
    let mut refunded = fake.refunded.lock().unwrap().clone();
    refunded.sort();
    let mut want = vec![ids[0].clone(), ids[2].clone(), ids[3].clone()];
    want.sort();
    assert_eq!(refunded, want, "each refund paid once, by its id");
    for (i, want) in [(0, "completed"), (2, "completed"), (3, "completed")] {
        let case = paid_case(&t, &ids[i]).await;
        assert_eq!(case["case"]["status"], want);
    }
    t.stop().await;
}

async fn paid_case(t: &TestApp, id: &str) -> Value {
    let case = refund(&t.owner, id).await["case_id"].as_i64().unwrap();
    t.case(&t.owner, case).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m5_finance_settles_refunds_in_the_workbench_one_by_one_and_by_payout_file() {
    use crate::pages::Page;
    let t = TestApp::with(|c| c.payments.gateway = "manual".into()).await;
    let (_, r1) = refunded(&t).await;
    let (_, r2) = refunded(&t).await;
    let (id1, id2) = (r1["id"].as_str().unwrap().to_string(), r2["id"].as_str().unwrap().to_string());
    let site = format!("http://{}", t.running.as_ref().unwrap().addr);
    let owner = Page::login(&site, "owner1", "password-123").await;
    let page = owner.get("/w/refunds").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!("data-refund=\"{id1}\"")) && page.body.contains(&format!("data-refund=\"{id2}\""))
    );
    assert!(page.body.contains("href=\"/w/refunds\""), "in the navigation");
    // One by one: the first marked paid with the bank's reference.
    let csrf = page.hidden("csrf");
    let numeric1 = id1.trim_start_matches("rf_");
    let done = owner
        .post(
            &format!("/w/refunds/{numeric1}/settle"),
            &[("csrf", &csrf), ("status", "succeeded"), ("reference", "BANK-7")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(refund(&t.owner, &id1).await["status"], "succeeded");
    // A file naming an unknown refund is refused whole, the line named; the good one then applies.
    let bad: &'static str =
        Box::leak(format!("refund_id,status,reference\n{id2},paid,BANK-8\nrf_4242,paid,X\n").into_boxed_str());
    let page = owner.get("/w/refunds").await;
    let refused = owner
        .post_multipart(
            "/w/refunds/payouts",
            &[("csrf", &page.hidden("csrf"))],
            ("payouts.csv", "text/csv", bad.as_bytes()),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("line 3") && refused.body.contains("rf_4242"), "{}", refused.body);
    assert_eq!(refund(&t.owner, &id2).await["status"], "awaiting_payout");
    let good: &'static str = Box::leak(format!("refund_id,status,reference\n{id2},paid,BANK-8\n").into_boxed_str());
    let applied = owner
        .post_multipart(
            "/w/refunds/payouts",
            &[("csrf", &page.hidden("csrf"))],
            ("payouts.csv", "text/csv", good.as_bytes()),
        )
        .await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert!(applied.body.contains("1 笔退款已按文件处理。"), "{}", applied.body);
    let paid = owner.get("/w/refunds?status=succeeded").await;
    assert!(paid.body.contains("BANK-7") && paid.body.contains("BANK-8"), "{}", paid.body);
    // Staff read the ledger but do not settle it; another shop sees none of it.
    let staff = Page::login(&site, "staff1", "password-123").await;
    assert_eq!(staff.get("/w/refunds?status=succeeded").await.status, 200);
    let other = Page::login(&site, "owner2", "password-123").await;
    let theirs = other.get("/w/refunds?status=succeeded").await;
    assert!(!theirs.body.contains(&id1), "another shop's refunds are not listed");
    t.stop().await;
}
