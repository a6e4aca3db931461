//! Black-box tests over HTTP: the real server on port 0, a fresh SQLite database and evidence
//! directory per test, driven through typed helpers. One test binary for the crate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aftersale_http::client::{Client, Resp};
use aftersale_http::{app, Config};
use serde_json::{json, Value};
use std::path::PathBuf;

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

struct TestApp {
    _dir: tempfile::TempDir,
    db: PathBuf,
    running: Option<app::Running>,
    anon: Client,
    admin: Client,
    owner: Client,
    staff: Client,
    owner2: Client,
    agent: Client,
    buyer: Client,
    buyer2: Client,
    buyer_id: i64,
    shop: i64,
    address_id: i64,
    n: std::sync::atomic::AtomicU32,
}

fn cny(minor: i64) -> Value {
    json!({ "minor": minor, "currency": "CNY" })
}

impl TestApp {
    async fn new() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.server.manual_clock = true;
        config.server.runner_poll_ms = 50;
        config.database.path = dir.path().join("t.db");
        config.evidence.dir = dir.path().join("evidence");
        config.evidence.max_file_mib = 1;
        config.evidence.max_request_mib = 2;
        config.server.json_limit_kib = 64;
        // Monday 2026-11-23 09:00 UTC: working-day arithmetic is predictable.
        let start = aftersale_core::Timestamp::parse_rfc3339("2026-11-23T09:00:00Z").unwrap();
        let state = app::build_state(&config, Some(start)).unwrap();
        let hash = aftersale_http::auth::hash_password("admin-password").unwrap();
        state
            .engine
            .create_user(aftersale_engine::accounts::NewUser {
                login: "admin".into(),
                role: aftersale_engine::Role::Admin,
                shop_id: None,
                display_name: "Admin".into(),
                password_hash: hash,
            })
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = app::start_with_state(state, listener).await.unwrap();
        let anon = Client::new(&format!("http://{}", running.addr));
        let admin = login(&anon, "admin", "admin-password").await;
        let shop = admin.post("/api/v1/shops", &json!({ "name": "Shop One", "profile": "douyin" })).await.unwrap();
        assert_eq!(shop.status, 201, "{shop:?}");
        let shop = shop.json()["id"].as_i64().unwrap();
        let shop2 =
            admin.post("/api/v1/shops", &json!({ "name": "Shop Two", "profile": "taote" })).await.unwrap().json()["id"]
                .as_i64()
                .unwrap();
        let owner = staff_user(&anon, &admin, "owner1", "owner", shop).await;
        let staff = staff_user(&anon, &admin, "staff1", "staff", shop).await;
        let owner2 = staff_user(&anon, &admin, "owner2", "owner", shop2).await;
        let agent = staff_user(&anon, &admin, "agent1", "agent", 0).await;
        let (buyer, buyer_id) = register(&anon, "buyer1").await;
        let (buyer2, _) = register(&anon, "buyer2").await;
        let addr = owner
            .post(
                &format!("/api/v1/shops/{shop}/addresses"),
                &json!({ "name": "Returns", "phone": "13900001111", "region": "浙江 杭州", "detail": "文一西路 1 号", "is_default": true }),
            )
            .await
            .unwrap();
        assert_eq!(addr.status, 201, "{addr:?}");
        let address_id = addr.json()["address"]["id"].as_i64().unwrap();
        for (c, s) in [(&owner2, shop2)] {
            let r = c
                .post(&format!("/api/v1/shops/{s}/addresses"), &json!({ "name": "R", "phone": "13900002222", "region": "广东", "detail": "深圳", "is_default": true }))
                .await
                .unwrap();
            assert_eq!(r.status, 201);
        }
        TestApp {
            db: config.database.path.clone(),
            _dir: dir,
            running: Some(running),
            anon,
            admin,
            owner,
            staff,
            owner2,
            agent,
            buyer,
            buyer2,
            buyer_id,
            shop,
            address_id,
            n: std::sync::atomic::AtomicU32::new(0),
        }
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// An order in shop one for buyer one, paid (online) or confirmed (COD), optionally delivered.
    async fn order(&self, payment: &str, delivered: bool) -> Value {
        self.order_in(&self.owner, self.shop, self.buyer_id, payment, delivered).await
    }

    async fn order_in(&self, merchant: &Client, shop: i64, buyer: i64, payment: &str, delivered: bool) -> Value {
        let n = self.n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let r = merchant
            .post(
                &format!("/api/v1/shops/{shop}/orders"),
                &json!({ "order_no": format!("T{shop}-{n:05}"), "buyer_id": buyer, "payment": payment, "total": cny(11_000),
                    "shipping_fee": cny(1_000), "customer_name": "王小明", "customer_phone": "13800131234" }),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{}", body(&r));
        let id = r.json()["id"].as_i64().unwrap();
        let step = |c: &Client, a: &str, b: Value| {
            let c = c.clone();
            let a = a.to_string();
            async move {
                let r = c.post(&format!("/api/v1/orders/{id}/actions/{a}"), &b).await.unwrap();
                assert_eq!(r.status, 200, "{a}: {}", body(&r));
                r.json()
            }
        };
        let mut o = if payment == "online" {
            step(&self.admin, "pay", json!({})).await
        } else {
            step(merchant, "confirm", json!({})).await
        };
        if delivered {
            step(
                merchant,
                "ship",
                json!({ "logistics": { "carrier": "SF", "tracking_no": format!("SF{:010}", 1000 + n) } }),
            )
            .await;
            o = step(&self.admin, "deliver", json!({})).await;
        }
        o
    }

    async fn apply(&self, order: &Value, kind: &str, minor: i64) -> Value {
        let r = self
            .try_apply(&self.buyer, order, json!({ "kind": kind, "reason": "damaged", "amount": cny(minor) }))
            .await;
        assert_eq!(r.status, 201, "{}", body(&r));
        r.json()
    }

    async fn try_apply(&self, buyer: &Client, order: &Value, b: Value) -> Resp {
        buyer.post(&format!("/api/v1/orders/{}/cases", order["id"]), &b).await.unwrap()
    }

    async fn act(&self, c: &Client, case: i64, action: &str, b: Value) -> Resp {
        c.post(&format!("/api/v1/cases/{case}/actions/{action}"), &b).await.unwrap()
    }

    async fn ok(&self, c: &Client, case: i64, action: &str, b: Value) -> Value {
        let r = self.act(c, case, action, b).await;
        assert_eq!(r.status, 200, "{action}: {}", body(&r));
        r.json()
    }

    async fn case(&self, c: &Client, case: i64) -> Value {
        let r = c.get(&format!("/api/v1/cases/{case}")).await.unwrap();
        assert_eq!(r.status, 200, "{}", body(&r));
        r.json()
    }

    async fn advance(&self, by: &str) -> Value {
        let r = self.admin.post("/api/v1/admin/clock/advance", &json!({ "by": by })).await.unwrap();
        assert_eq!(r.status, 200, "{}", body(&r));
        r.json()
    }

    async fn upload(&self, c: &Client) -> Value {
        let r = c.upload("/api/v1/evidence", "photo.png", "image/png", PNG, "photo").await.unwrap();
        assert_eq!(r.status, 201, "{}", body(&r));
        r.json()["evidence"].clone()
    }

    /// Every row of every table, hashed: "the database is unchanged" means this is equal.
    fn fingerprint(&self) -> Vec<(String, i64, String)> {
        let conn = rusqlite::Connection::open_with_flags(&self.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'sessions' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        tables
            .into_iter()
            .map(|t| {
                let mut st = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
                let cols = st.column_count();
                let mut rows: Vec<String> = st
                    .query_map([], |r| {
                        let mut line = String::new();
                        for i in 0..cols {
                            line.push_str(&format!("{:?}|", r.get_ref(i)?));
                        }
                        Ok(line)
                    })
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                rows.sort();
                (t, rows.len() as i64, rows.join("\n"))
            })
            .collect()
    }
}

fn body(r: &Resp) -> String {
    format!("{} {}", r.status, String::from_utf8_lossy(&r.body))
}

async fn login(anon: &Client, login: &str, password: &str) -> Client {
    let r = anon.post("/api/v1/auth/login", &json!({ "login": login, "password": password })).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    let cookie = r.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    assert!(r.header("set-cookie").unwrap().contains("HttpOnly"));
    let t = anon
        .send(
            axum::http::Method::POST,
            "/api/v1/tokens",
            &[("cookie", &cookie)],
            Some(("application/json", bytes::Bytes::from_static(b"{\"name\":\"test\"}"))),
        )
        .await
        .unwrap();
    assert_eq!(t.status, 201, "{}", body(&t));
    anon.with_token(t.json()["token"].as_str().unwrap())
}

async fn staff_user(anon: &Client, admin: &Client, name: &str, role: &str, shop: i64) -> Client {
    let mut b = json!({ "login": name, "password": "password-123", "role": role, "display_name": name });
    if shop > 0 {
        b["shop_id"] = json!(shop);
    }
    let r = admin.post("/api/v1/users", &b).await.unwrap();
    assert_eq!(r.status, 201, "{}", body(&r));
    login(anon, name, "password-123").await
}

async fn register(anon: &Client, name: &str) -> (Client, i64) {
    let r = anon
        .post("/api/v1/auth/register", &json!({ "login": name, "password": "password-123", "display_name": name }))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", body(&r));
    (login(anon, name, "password-123").await, r.json()["id"].as_i64().unwrap())
}

fn problem(r: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", body(r));
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "{}", body(r));
    let v = r.json();
    assert_eq!(v["code"], code, "{}", body(r));
    assert_eq!(v["status"], status);
    v
}

// ---------------------------------------------------------------------------------------------
// End-to-end flows, one per case type

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn u2_refund_before_shipment_refunds_itself_when_the_merchant_is_silent() {
    let t = TestApp::new().await;
    let o = t.order("online", false).await;
    let c = t.apply(&o, "refund_unshipped", 10_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    assert_eq!(c["queue"], "refund_unshipped");
    assert_eq!(c["deadline"]["kind"], "review");
    assert_eq!(c["deadline"]["time_left_ms"], 48 * 3_600_000);
    assert_eq!(c["deadline"]["on_expiry"], "the buyer is refunded");
    // The merchant sees it in its queue, with its actions and what silence does.
    let m = t.case(&t.staff, id).await;
    assert_eq!(m["deadline"]["on_expiry"], "the buyer is refunded");
    assert!(m["available_actions"].as_array().unwrap().contains(&json!("refund")));
    assert!(m["available_actions"].as_array().unwrap().contains(&json!("reject_by_shipping")));
    // One second before the deadline nothing happens; at it, the case refunds.
    t.advance("47h59m59s").await;
    assert_eq!(t.case(&t.buyer, id).await["status"], "awaiting_review");
    let fired = t.advance("1s").await;
    assert!(fired["fired"].as_u64().unwrap() >= 1);
    let after = t.case(&t.buyer, id).await;
    assert_eq!(after["status"], "refunding", "{after}");
    // An action after its deadline fired is refused with the rule that refused it.
    let late = t
        .act(
            &t.staff,
            id,
            "reject_by_shipping",
            json!({ "logistics": { "carrier": "SF", "tracking_no": "SF9999999999" } }),
        )
        .await;
    assert!(late.status == 422, "{}", body(&late));
    // The gateway settles a working day later: completed.
    t.advance("1d").await;
    assert_eq!(t.case(&t.buyer, id).await["status"], "completed");
    let log = t.case(&t.agent, id).await["log"].as_array().unwrap().len();
    assert!(log >= 3, "log has every step");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r5_return_flow_over_http_and_the_buyer_who_never_ships_back() {
    let t = TestApp::new().await;
    // A return that completes: agree with an address from the book, ship back, receive, refund.
    let o = t.order("online", true).await;
    let c = t.apply(&o, "return_refund", 10_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    assert_eq!(c["queue"], "return_review");
    let c = t.ok(&t.staff, id, "agree_return", json!({ "address_id": t.address_id })).await;
    assert_eq!(c["status"], "awaiting_buyer_return");
    assert_eq!(c["case"]["return_address"]["id"], t.address_id);
    let c = t
        .ok(
            &t.buyer,
            id,
            "submit_return_logistics",
            json!({ "logistics": { "carrier": "YTO", "tracking_no": "YT1234567890" } }),
        )
        .await;
    assert_eq!(c["status"], "awaiting_receipt");
    // The logistics feed reports the parcel signed for (M3).
    let r = t.owner.post(&format!("/api/v1/cases/{id}/return-logistics"), &json!({ "signed": true })).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(r.json()["case"]["return_parcel"]["signed"], true);
    let c = t.ok(&t.staff, id, "received_refund", json!({})).await;
    assert_eq!(c["status"], "refunding");
    t.advance("1d").await;
    assert_eq!(t.case(&t.buyer, id).await["status"], "completed");

    // R5: agreed, and the buyer never ships: closed after 7 days.
    let o = t.order("online", true).await;
    let c = t.apply(&o, "return_refund", 5_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, id, "agree_return", json!({})).await;
    t.advance("7d").await;
    let c = t.case(&t.buyer, id).await;
    assert_eq!(c["status"], "closed", "{c}");
    let late = t
        .act(
            &t.buyer,
            id,
            "submit_return_logistics",
            json!({ "logistics": { "carrier": "YTO", "tracking_no": "YT1234567891" } }),
        )
        .await;
    assert_eq!(late.status, 422, "{}", body(&late));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2_refund_only_arbitration_with_an_evidence_request_that_times_out_and_an_appeal() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let c = t.apply(&o, "refund_only", 10_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    assert_eq!(c["queue"], "refund_only");
    // Rejection needs evidence (uploaded first, by the shop).
    let ev = t.upload(&t.staff).await;
    let rejected = t
        .ok(
            &t.staff,
            id,
            "reject",
            json!({ "reason_code": "no_quality_issue", "explanation": "checked", "evidence": [ev] }),
        )
        .await;
    assert_eq!(rejected["status"], "rejected");
    // The buyer can fetch the rejection's evidence from the case; another buyer cannot.
    let key = ev["key"].as_str().unwrap().trim_start_matches("ev/").to_string();
    let file = t.buyer.get(&format!("/api/v1/cases/{id}/evidence/{key}")).await.unwrap();
    assert_eq!(file.status, 200);
    assert_eq!(&file.body[..], PNG);
    assert_eq!(file.header("content-type"), Some("image/png"));
    problem(&t.buyer2.get(&format!("/api/v1/cases/{id}/evidence/{key}")).await.unwrap(), 404, "not_found");
    t.ok(&t.buyer, id, "escalate", json!({ "reason": "it is broken" })).await;
    let c = t.ok(&t.agent, id, "request_evidence", json!({ "instructions": "send the packing video" })).await;
    assert_eq!(c["queue"], "awaiting_evidence");
    assert_eq!(c["deadline"]["kind"], "evidence");
    // The shop is reminded (E5) and then loses by default (E2).
    t.advance("12h").await;
    let mb = t.owner.get("/api/v1/messages").await.unwrap().json();
    assert!(mb["unread"]["arbitration"].as_u64().unwrap_or(0) >= 1, "{mb}");
    t.advance("12h").await;
    let c = t.case(&t.agent, id).await;
    assert_eq!(c["case"]["arbitration"]["ruling"]["for_party"], "buyer", "{c}");
    let late = t.act(&t.staff, id, "submit_evidence", json!({ "explanation": "late" })).await;
    assert_eq!(late.status, 422, "{}", body(&late));
    // T4: the merchant appeals; the platform reviews and decides.
    t.ok(&t.owner, id, "appeal", json!({ "text": "we had the video" })).await;
    t.ok(&t.agent, id, "review_appeal", json!({})).await;
    let c =
        t.ok(&t.agent, id, "decide_appeal", json!({ "upheld": false, "reason": "no video was sent in time" })).await;
    assert_eq!(c["case"]["appeal"]["state"], "dismissed", "{c}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_negotiation_accepted_declined_and_lapsed() {
    let t = TestApp::new().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let o = t.order("online", true).await;
        let c = t.apply(&o, "return_refund", 10_000).await;
        let id = c["case"]["id"].as_i64().unwrap();
        let c = t.ok(&t.staff, id, "propose", json!({ "kind": "refund_only", "amount": cny(4_000) })).await;
        assert_eq!(c["queue"], "negotiation_pending");
        ids.push(id);
    }
    let a = t.ok(&t.buyer, ids[0], "accept_proposal", json!({})).await;
    assert_eq!(a["case"]["proposal"]["state"], "accepted");
    assert_eq!(a["case"]["amount"], cny(4_000));
    let d = t.ok(&t.buyer, ids[1], "decline_proposal", json!({})).await;
    assert_eq!(d["case"]["proposal"]["state"], "declined");
    // N3: one negotiation per case.
    let again = t.act(&t.staff, ids[1], "propose", json!({ "kind": "refund_only", "amount": cny(5_000) })).await;
    problem(&again, 422, "negotiation_used");
    // Nobody answers the third: it lapses with the review deadline.
    t.advance("48h").await;
    let l = t.case(&t.buyer, ids[2]).await;
    assert_eq!(l["case"]["proposal"]["state"], "lapsed", "{l}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m6_cod_refund_waits_for_the_voucher_and_the_account_never_reaches_the_merchant() {
    let t = TestApp::new().await;
    let o = t.order("cod", true).await;
    let r = t
        .try_apply(
            &t.buyer,
            &o,
            json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(10_000),
                "refund_account": { "holder": "Wang", "bank": "ICBC", "number": "6222 0000 1111 2222" } }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", body(&r));
    assert!(String::from_utf8_lossy(&r.body).contains("6222 0000"), "the buyer sees their own account");
    let id = r.json()["case"]["id"].as_i64().unwrap();
    let c = t.ok(&t.staff, id, "refund", json!({})).await;
    assert_eq!(c["status"], "awaiting_voucher");
    // R6: nothing a merchant reads carries the account.
    for path in [
        format!("/api/v1/cases/{id}"),
        "/api/v1/cases".to_string(),
        "/api/v1/messages".to_string(),
        format!("/api/v1/orders/{}", o["id"]),
    ] {
        for who in [&t.staff, &t.owner] {
            let r = who.get(&path).await.unwrap();
            assert_eq!(r.status, 200, "{path}");
            let text = String::from_utf8_lossy(&r.body);
            assert!(!text.contains("6222") && !text.contains("refund_account"), "{path}: {text}");
        }
    }
    assert!(
        String::from_utf8_lossy(&t.agent.get(&format!("/api/v1/cases/{id}")).await.unwrap().body).contains("6222 0000")
    );
    let sms = t.agent.get("/api/v1/sms").await.unwrap();
    assert!(!String::from_utf8_lossy(&sms.body).contains("6222"));
    // No voucher in 48 h: the platform compensates and the shop is penalised.
    t.advance("48h").await;
    let pens = t.owner.get(&format!("/api/v1/shops/{}/penalties", t.shop)).await.unwrap().json();
    assert_eq!(pens["items"].as_array().unwrap().len(), 1, "{pens}");
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// W1, W2, W6

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w1_queues_with_counts_over_http() {
    let t = TestApp::new().await;
    let o = t.order("online", false).await;
    t.apply(&o, "refund_unshipped", 1_000).await;
    let o = t.order("online", true).await;
    t.apply(&o, "refund_only", 1_000).await;
    let o = t.order("online", true).await;
    let c = t.apply(&o, "return_refund", 1_000).await;
    t.ok(&t.staff, c["case"]["id"].as_i64().unwrap(), "agree_return", json!({})).await;
    let q = t.staff.get("/api/v1/queues").await.unwrap().json();
    assert_eq!(q["counts"]["refund_unshipped"], 1);
    assert_eq!(q["counts"]["refund_only"], 1);
    assert_eq!(q["counts"]["awaiting_buyer_return"], 1);
    assert_eq!(q["counts"]["return_review"], 0);
    // The page of a queue carries the counts too.
    let page = t.staff.get("/api/v1/cases?queue=refund_only").await.unwrap().json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["counts"]["awaiting_buyer_return"], 1);
    // Another shop's counts are its own; the platform names the shop.
    assert_eq!(t.owner2.get("/api/v1/queues").await.unwrap().json()["counts"]["refund_only"], 0);
    problem(&t.owner2.get(&format!("/api/v1/queues?shop={}", t.shop)).await.unwrap(), 404, "not_found");
    assert_eq!(
        t.agent.get(&format!("/api/v1/queues?shop={}", t.shop)).await.unwrap().json()["counts"]["refund_only"],
        1
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w2_search_filters_sort_by_time_left_and_cursor_pages_over_http() {
    let t = TestApp::new().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let o = t.order("online", true).await;
        let c = t.apply(&o, "refund_only", 1_000 + i).await;
        ids.push((c["case"]["id"].as_i64().unwrap(), o["order_no"].as_str().unwrap().to_string()));
        t.advance("1h").await;
    }
    // Time left: the oldest application is due first.
    let page = t.staff.get("/api/v1/cases?limit=2").await.unwrap().json();
    let first: Vec<i64> = page["items"].as_array().unwrap().iter().map(|i| i["case_id"].as_i64().unwrap()).collect();
    assert_eq!(first, vec![ids[0].0, ids[1].0]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let page2 = t.staff.get(&format!("/api/v1/cases?limit=2&cursor={cursor}")).await.unwrap().json();
    let second: Vec<i64> = page2["items"].as_array().unwrap().iter().map(|i| i["case_id"].as_i64().unwrap()).collect();
    assert_eq!(second, vec![ids[2].0, ids[3].0]);
    // Newest first.
    let newest = t.staff.get("/api/v1/cases?sort=newest&limit=1").await.unwrap().json();
    assert_eq!(newest["items"][0]["case_id"], ids[4].0);
    // By order number, case id, customer name and full phone.
    let by_no = t.staff.get(&format!("/api/v1/cases?order_no={}", ids[2].1)).await.unwrap().json();
    assert_eq!(by_no["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        t.staff.get(&format!("/api/v1/cases?case_id={}", ids[3].0)).await.unwrap().json()["items"][0]["case_id"],
        ids[3].0
    );
    assert_eq!(
        t.staff.get("/api/v1/cases?customer_phone=13800131234").await.unwrap().json()["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let name = t.staff.get("/api/v1/cases?customer_name=%E7%8E%8B%E5%B0%8F%E6%98%8E").await.unwrap().json();
    assert_eq!(name["items"].as_array().unwrap().len(), 5);
    // Close to deadline: due within the next 45 hours (the two oldest).
    let now = t.case(&t.staff, ids[0].0).await["now"].as_i64().unwrap();
    let near = t.staff.get(&format!("/api/v1/cases?due_before={}", now + 45 * 3_600_000 - 1)).await.unwrap().json();
    assert_eq!(near["items"].as_array().unwrap().len(), 2, "{near}");
    // Another shop finds none of them; a bad filter is a clear 400.
    assert_eq!(t.owner2.get("/api/v1/cases").await.unwrap().json()["items"].as_array().unwrap().len(), 0);
    problem(&t.staff.get("/api/v1/cases?queue=nope").await.unwrap(), 400, "invalid_query");
    problem(&t.staff.get("/api/v1/cases?colour=red").await.unwrap(), 400, "invalid_query");
    problem(&t.staff.get("/api/v1/cases?limit=5000").await.unwrap(), 400, "invalid_query");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w6_phones_are_masked_in_lists_and_search_takes_the_full_number() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    t.apply(&o, "refund_only", 1_000).await;
    for who in [&t.staff, &t.agent, &t.buyer] {
        let list = who.get("/api/v1/cases").await.unwrap();
        assert_eq!(list.status, 200);
        let text = String::from_utf8_lossy(&list.body).to_string();
        assert!(text.contains("138****1234") && !text.contains("13800131234"), "{text}");
    }
    // Searching by the masked form finds nothing useful; the full number finds the case.
    problem(&t.staff.get("/api/v1/cases?customer_phone=138****1234").await.unwrap(), 400, "invalid_query");
    assert_eq!(
        t.staff.get("/api/v1/cases?customer_phone=13800131234").await.unwrap().json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The merchant's order view is masked too.
    let ov = t.staff.get(&format!("/api/v1/orders/{}", o["id"])).await.unwrap();
    assert!(!String::from_utf8_lossy(&ov.body).contains("13800131234"));
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Authorisation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_matrix_roles_against_endpoint_families() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let c = t.apply(&o, "refund_only", 1_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    let ev = t.upload(&t.buyer).await;
    let key = ev["key"].as_str().unwrap().trim_start_matches("ev/").to_string();

    // No credentials: 401 everywhere but login/register/health/openapi.
    for path in ["/api/v1/cases", "/api/v1/me", "/api/v1/queues", "/api/v1/messages", "/api/v1/sms", "/api/v1/shops"] {
        problem(&t.anon.get(path).await.unwrap(), 401, "unauthenticated");
    }
    problem(&t.anon.with_token("as_forged").get("/api/v1/cases").await.unwrap(), 401, "unauthenticated");
    assert_eq!(t.anon.get("/healthz").await.unwrap().status, 200);

    // Admin-only endpoints.
    for who in [&t.buyer, &t.owner, &t.staff, &t.agent] {
        problem(&who.get("/api/v1/users").await.unwrap(), 403, "forbidden");
        problem(
            &who.post("/api/v1/shops", &json!({ "name": "x", "profile": "douyin" })).await.unwrap(),
            403,
            "forbidden",
        );
        problem(&who.post("/api/v1/admin/clock/advance", &json!({ "by": "1h" })).await.unwrap(), 403, "forbidden");
    }
    // Shop settings: the owner yes, staff no, another shop's owner sees nothing.
    let tpl = json!({ "title": "hi", "body": "hello" });
    assert_eq!(t.owner.post(&format!("/api/v1/shops/{}/templates", t.shop), &tpl).await.unwrap().status, 201);
    problem(&t.staff.post(&format!("/api/v1/shops/{}/templates", t.shop), &tpl).await.unwrap(), 403, "forbidden");
    problem(&t.owner2.post(&format!("/api/v1/shops/{}/templates", t.shop), &tpl).await.unwrap(), 404, "not_found");
    problem(&t.owner2.get(&format!("/api/v1/shops/{}", t.shop)).await.unwrap(), 404, "not_found");
    problem(&t.buyer.get(&format!("/api/v1/shops/{}/addresses", t.shop)).await.unwrap(), 404, "not_found");
    problem(
        &t.owner2.put(&format!("/api/v1/shops/{}/policy", t.shop), &json!({ "profile": "taote" })).await.unwrap(),
        404,
        "not_found",
    );
    // Orders: another shop cannot ingest into or read this shop's orders; a buyer cannot ingest.
    let order_body = json!({ "order_no": "X1", "buyer_id": t.buyer_id, "payment": "online", "total": cny(100), "shipping_fee": cny(0), "customer_name": "a", "customer_phone": "13800131234" });
    problem(&t.owner2.post(&format!("/api/v1/shops/{}/orders", t.shop), &order_body).await.unwrap(), 404, "not_found");
    problem(&t.buyer.post(&format!("/api/v1/shops/{}/orders", t.shop), &order_body).await.unwrap(), 403, "forbidden");
    problem(&t.owner2.get(&format!("/api/v1/orders/{}", o["id"])).await.unwrap(), 404, "not_found");
    problem(&t.buyer2.get(&format!("/api/v1/orders/{}", o["id"])).await.unwrap(), 404, "not_found");
    // Cases: cross-shop and cross-buyer are 404, for reads and for every action.
    problem(&t.owner2.get(&format!("/api/v1/cases/{id}")).await.unwrap(), 404, "not_found");
    problem(&t.buyer2.get(&format!("/api/v1/cases/{id}")).await.unwrap(), 404, "not_found");
    problem(&t.act(&t.owner2, id, "refund", json!({})).await, 404, "not_found");
    problem(&t.act(&t.buyer2, id, "withdraw", json!({})).await, 404, "not_found");
    problem(
        &t.owner2.post(&format!("/api/v1/cases/{id}/return-logistics"), &json!({ "signed": true })).await.unwrap(),
        404,
        "not_found",
    );
    // Wrong party for an action: 403 with the rule.
    let v = problem(&t.act(&t.buyer, id, "refund", json!({})).await, 403, "not_allowed_for_actor");
    assert!(v["rule"].is_string());
    problem(&t.act(&t.staff, id, "withdraw", json!({})).await, 403, "not_allowed_for_actor");
    problem(&t.act(&t.agent, id, "refund", json!({})).await, 403, "not_allowed_for_actor");
    // System-only actions are not actions at all.
    problem(&t.act(&t.agent, id, "expire", json!({ "kind": "review" })).await, 404, "not_found");
    problem(
        &t.buyer.post(&format!("/api/v1/cases/{id}/return-logistics"), &json!({ "signed": true })).await.unwrap(),
        403,
        "forbidden",
    );
    // Evidence: the uploader reads their file; others do not, until a case references it.
    assert_eq!(t.buyer.get(&format!("/api/v1/evidence/{key}")).await.unwrap().status, 200);
    problem(&t.staff.get(&format!("/api/v1/evidence/{key}")).await.unwrap(), 404, "not_found");
    problem(&t.staff.get(&format!("/api/v1/cases/{id}/evidence/{key}")).await.unwrap(), 404, "not_found");
    // Nobody attaches someone else's upload.
    let staff_ev = t.upload(&t.staff).await;
    let r = t.act(&t.buyer, id, "add_evidence", json!({ "evidence": [staff_ev] })).await;
    problem(&r, 400, "invalid_field");
    t.ok(&t.buyer, id, "add_evidence", json!({ "evidence": [ev] })).await;
    assert_eq!(t.staff.get(&format!("/api/v1/cases/{id}/evidence/{key}")).await.unwrap().status, 200);
    problem(&t.owner2.get(&format!("/api/v1/cases/{id}/evidence/{key}")).await.unwrap(), 404, "not_found");
    // SMS outbox: platform only.
    for who in [&t.buyer, &t.owner, &t.staff] {
        problem(&who.get("/api/v1/sms").await.unwrap(), 403, "forbidden");
    }
    assert_eq!(t.agent.get("/api/v1/sms").await.unwrap().status, 200);
    // Message boxes are per party.
    let mb = t.owner2.get("/api/v1/messages").await.unwrap().json();
    assert_eq!(mb["items"].as_array().unwrap().len(), 0);
    // Tokens: revoked tokens stop working; another user's token id is not found.
    let created = t.buyer.post("/api/v1/tokens", &json!({ "name": "second" })).await.unwrap().json();
    let second = t.anon.with_token(created["token"].as_str().unwrap());
    assert_eq!(second.get("/api/v1/me").await.unwrap().status, 200);
    let tid = created["record"]["id"].as_i64().unwrap();
    problem(&t.buyer2.delete(&format!("/api/v1/tokens/{tid}")).await.unwrap(), 404, "not_found");
    assert_eq!(t.buyer.delete(&format!("/api/v1/tokens/{tid}")).await.unwrap().status, 204);
    problem(&second.get("/api/v1/me").await.unwrap(), 401, "unauthenticated");
    let listed = t.buyer.get("/api/v1/tokens").await.unwrap();
    assert!(!String::from_utf8_lossy(&listed.body).contains(created["token"].as_str().unwrap()));
    // Wrong password.
    problem(
        &t.anon.post("/api/v1/auth/login", &json!({ "login": "buyer1", "password": "nope-nope" })).await.unwrap(),
        401,
        "login_failed",
    );
    problem(
        &t.anon.post("/api/v1/auth/login", &json!({ "login": "nobody", "password": "nope-nope" })).await.unwrap(),
        401,
        "login_failed",
    );
    // Password guessing: five wrong passwords (one above, four here) lock the login for a while,
    // even against the right password.
    for _ in 0..4 {
        problem(
            &t.anon.post("/api/v1/auth/login", &json!({ "login": "buyer1", "password": "nope-nope" })).await.unwrap(),
            401,
            "login_failed",
        );
    }
    let locked =
        t.anon.post("/api/v1/auth/login", &json!({ "login": "buyer1", "password": "password-123" })).await.unwrap();
    problem(&locked, 429, "too_many_attempts");
    assert!(locked.header("retry-after").is_some());
    // Demo-only clock on a system-clock server is covered by `clock_advance_is_demo_only`.
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Bad input: a clear 4xx problem and nothing written

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_problem_answer_and_changes_nothing() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let c = t.apply(&o, "refund_only", 1_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    let before = t.fingerprint();
    let raw = |c: &Client, path: &str, ct: &str, b: &'static [u8]| {
        let c = c.clone();
        let path = path.to_string();
        let ct = ct.to_string();
        async move { c.send(axum::http::Method::POST, &path, &[], Some((&ct, bytes::Bytes::from_static(b)))).await.unwrap() }
    };
    let orders = format!("/api/v1/shops/{}/orders", t.shop);
    // Malformed JSON, wrong content type, wrong types, unknown fields.
    problem(&raw(&t.owner, &orders, "application/json", b"{\"order_no\": ").await, 400, "malformed_json");
    problem(&raw(&t.owner, &orders, "text/plain", b"{}").await, 415, "unsupported_media_type");
    let v = problem(&t.owner.post(&orders, &json!({ "order_no": 5, "buyer_id": 1, "payment": "online", "total": cny(100), "shipping_fee": cny(0), "customer_name": "a", "customer_phone": "13800131234" })).await.unwrap(), 400, "invalid_field");
    assert_eq!(v["field"], "order_no");
    let v = problem(&t.act(&t.staff, id, "refund", json!({ "amount": 1 })).await, 400, "invalid_field");
    assert_eq!(v["field"], "amount", "{v}");
    let v = problem(
        &t.buyer
            .post(
                &format!("/api/v1/orders/{}/cases", o["id"]),
                &json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(100), "colour": "red" }),
            )
            .await
            .unwrap(),
        400,
        "invalid_field",
    );
    assert_eq!(v["field"], "colour");
    // Amounts: negative, zero, huge, above what can be refunded.
    let o2 = t.order("online", true).await;
    for (amount, status, code) in [
        (-1, 400, "invalid_field"),
        (0, 400, "invalid_field"),
        (i64::MAX, 400, "invalid_field"),
        (20_000_000, 422, "amount_above_refundable"),
    ] {
        let r = t
            .try_apply(&t.buyer, &o2, json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(amount) }))
            .await;
        let v = problem(&r, status, code);
        assert_eq!(v["field"], "amount", "{v}");
    }
    let after_order = t.fingerprint();
    // Bad phone, bad tracking number, bad currency.
    let v = problem(&t.owner.post(&orders, &json!({ "order_no": "B1", "buyer_id": 1, "payment": "online", "total": cny(100), "shipping_fee": cny(0), "customer_name": "a", "customer_phone": "12345" })).await.unwrap(), 400, "invalid_field");
    assert_eq!(v["field"], "customer_phone");
    let v = problem(&t.owner.post(&orders, &json!({ "order_no": "B2", "buyer_id": 1, "payment": "online", "total": { "minor": 100, "currency": "yen" }, "shipping_fee": cny(0), "customer_name": "a", "customer_phone": "13800131234" })).await.unwrap(), 400, "invalid_field");
    assert_eq!(v["field"], "total.currency");
    let v = problem(&t.act(&t.buyer, id, "escalate", json!({})).await, 400, "invalid_field");
    assert_eq!(v["field"], "reason");
    let ship = t
        .admin
        .post(
            &format!("/api/v1/orders/{}/actions/ship", o2["id"]),
            &json!({ "logistics": { "carrier": "SF", "tracking_no": "short" } }),
        )
        .await
        .unwrap();
    let v = problem(&ship, 400, "invalid_field");
    assert_eq!(v["field"], "logistics.tracking_no");
    // Unknown ids and actions.
    problem(&t.staff.get("/api/v1/cases/999999").await.unwrap(), 404, "not_found");
    problem(&t.staff.get("/api/v1/cases/abc").await.unwrap(), 404, "not_found");
    problem(&t.act(&t.staff, 999_999, "refund", json!({})).await, 404, "not_found");
    problem(&t.act(&t.staff, id, "teleport", json!({})).await, 404, "not_found");
    problem(
        &t.buyer
            .post(
                "/api/v1/orders/999999/cases",
                &json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(100) }),
            )
            .await
            .unwrap(),
        404,
        "not_found",
    );
    problem(&t.anon.get("/api/v1/nothing-here").await.unwrap(), 404, "not_found");
    problem(&t.staff.get(&format!("/api/v1/cases/{id}/evidence/nope")).await.unwrap(), 404, "not_found");
    // Oversized JSON body.
    let big = json!({ "text": "x".repeat(100 * 1024) });
    problem(&t.act(&t.staff, id, "set_remark", big).await, 413, "body_too_large");
    // Uploads whose bytes do not match, or are not a type we take, or are too large.
    problem(
        &t.buyer.upload("/api/v1/evidence", "a.jpg", "image/jpeg", PNG, "").await.unwrap(),
        415,
        "unsupported_media_type",
    );
    problem(
        &t.buyer.upload("/api/v1/evidence", "a.png", "image/png", b"MZ\x90\x00 not an image", "").await.unwrap(),
        415,
        "unsupported_media_type",
    );
    problem(
        &t.buyer.upload("/api/v1/evidence", "a.pdf", "application/pdf", b"", "").await.unwrap(),
        400,
        "invalid_field",
    );
    let mut huge = PNG.to_vec();
    huge.resize(1024 * 1024 + 10, 0);
    problem(
        &t.buyer.upload("/api/v1/evidence", "big.png", "image/png", &huge, "").await.unwrap(),
        413,
        "body_too_large",
    );
    // Bad headers.
    let r = t
        .staff
        .post_with(
            &format!("/api/v1/cases/{id}/actions/set_remark"),
            &json!({ "text": "a" }),
            &[("if-match", "\"abc\"")],
        )
        .await
        .unwrap();
    problem(&r, 400, "invalid_header");
    // Rule refusals: 422 with the rule ID, and nothing written.
    let v = problem(
        &t.act(&t.staff, id, "reject", json!({ "reason_code": "no_quality_issue", "evidence": [] })).await,
        422,
        "missing_field",
    );
    assert_eq!(v["field"], "evidence");
    assert!(v["rule"].is_string());
    assert_eq!(before.len(), after_order.len());
    let after = t.fingerprint();
    // Only the order `o2` (and its steps) was written between the two fingerprints.
    assert_eq!(after_order, after, "a refused request wrote something");
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Idempotency and conflicts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_retries_and_concurrent_conflicting_requests() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let c = t.apply(&o, "refund_only", 1_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{id}/actions/set_remark");
    let a = t.staff.post_with(&path, &json!({ "text": "first" }), &[("idempotency-key", "k-1")]).await.unwrap();
    assert_eq!(a.status, 200);
    let before = t.fingerprint();
    let b = t.staff.post_with(&path, &json!({ "text": "first" }), &[("idempotency-key", "k-1")]).await.unwrap();
    assert_eq!(b.status, 200);
    assert_eq!(a.json()["version"], b.json()["version"]);
    assert_eq!(before, t.fingerprint(), "a replay writes nothing");
    problem(
        &t.staff.post_with(&path, &json!({ "text": "other" }), &[("idempotency-key", "k-1")]).await.unwrap(),
        409,
        "idempotency_key_reused",
    );
    // Orders and applications honour it too.
    let o2 = t.order("online", true).await;
    let body = json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(100) });
    let p = format!("/api/v1/orders/{}/cases", o2["id"]);
    let x = t.buyer.post_with(&p, &body, &[("idempotency-key", "apply-1")]).await.unwrap();
    let y = t.buyer.post_with(&p, &body, &[("idempotency-key", "apply-1")]).await.unwrap();
    assert_eq!(x.status, 201);
    assert_eq!(y.status, 201);
    assert_eq!(x.json()["case"]["id"], y.json()["case"]["id"]);
    // Settings and account POSTs honour it too (stored right after the answer).
    let tpl_path = format!("/api/v1/shops/{}/templates", t.shop);
    let tpl = json!({ "title": "t", "body": "b" });
    let first = t.owner.post_with(&tpl_path, &tpl, &[("idempotency-key", "tpl-1")]).await.unwrap();
    let again = t.owner.post_with(&tpl_path, &tpl, &[("idempotency-key", "tpl-1")]).await.unwrap();
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(first.json()["id"], again.json()["id"]);
    assert_eq!(again.header("idempotent-replay"), Some("true"));
    assert_eq!(t.owner.get(&tpl_path).await.unwrap().json()["items"].as_array().unwrap().len(), 1);
    problem(
        &t.owner
            .post_with(&tpl_path, &json!({ "title": "u", "body": "b" }), &[("idempotency-key", "tpl-1")])
            .await
            .unwrap(),
        409,
        "idempotency_key_reused",
    );
    // Another caller's key is their own.
    let other = t.staff.post_with(&tpl_path, &tpl, &[("idempotency-key", "tpl-1")]).await.unwrap();
    problem(&other, 403, "forbidden");
    // Answers that carry a secret are never stored: a retried token request makes a new token.
    let key = [("idempotency-key", "tok-1")];
    let t1 = t.buyer.post_with("/api/v1/tokens", &json!({ "name": "ci" }), &key).await.unwrap().json();
    let t2 = t.buyer.post_with("/api/v1/tokens", &json!({ "name": "ci" }), &key).await.unwrap().json();
    assert_ne!(t1["token"], t2["token"]);
    let conn = rusqlite::Connection::open(&t.db).unwrap();
    let leaked: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM idempotency WHERE instr(response, ?) > 0",
            [t1["token"].as_str().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leaked, 0);
    // If-Match: a stale version is a 409 with the current one.
    let v = a.json()["version"].as_u64().unwrap();
    let stale =
        t.staff.post_with(&path, &json!({ "text": "x" }), &[("if-match", &format!("\"{}\"", v - 1))]).await.unwrap();
    let p = problem(&stale, 409, "version_conflict");
    assert_eq!(p["current_version"], v);
    let fresh = t.staff.post_with(&path, &json!({ "text": "x" }), &[("if-match", &format!("\"{v}\""))]).await.unwrap();
    assert_eq!(fresh.status, 200);
    // Racing: refund and reject on one case at the same version: one wins, one conflicts.
    let o3 = t.order("online", true).await;
    let c3 = t.apply(&o3, "refund_only", 1_000).await;
    let id3 = c3["case"]["id"].as_i64().unwrap();
    let ver = c3["version"].as_u64().unwrap().to_string();
    let ev = t.upload(&t.staff).await;
    let (p1, p2) = (format!("/api/v1/cases/{id3}/actions/refund"), format!("/api/v1/cases/{id3}/actions/reject"));
    let (b1, b2) = (json!({}), json!({ "reason_code": "no_quality_issue", "evidence": [ev] }));
    let h = [("if-match", ver.as_str())];
    let (r1, r2) = tokio::join!(t.staff.post_with(&p1, &b1, &h), t.owner.post_with(&p2, &b2, &h));
    let mut statuses = [r1.unwrap().status, r2.unwrap().status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "one success and one conflict");
    // Without If-Match the loser is decided again on the new state: a rule refusal, not a lost write.
    let o4 = t.order("online", true).await;
    let c4 = t.apply(&o4, "refund_only", 1_000).await;
    let id4 = c4["case"]["id"].as_i64().unwrap();
    let (r1, r2) = tokio::join!(t.act(&t.staff, id4, "refund", json!({})), t.act(&t.buyer, id4, "withdraw", json!({})));
    let mut s = [r1.status, r2.status];
    s.sort();
    assert_eq!(s[0], 200);
    assert!(s[1] == 422 || s[1] == 409, "{s:?}");
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// OpenAPI, operations, demo

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_route_and_validates() {
    let t = TestApp::new().await;
    let doc = t.anon.get("/api/v1/openapi.json").await.unwrap().json();
    assert_eq!(doc["openapi"], "3.1.0");
    let docs = aftersale_http::routes::api().docs;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut ops = std::collections::HashSet::new();
    for route in &docs {
        let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        assert!(op.is_object(), "{} {} missing from the document", route.method, route.path);
        assert!(ops.insert(op["operationId"].as_str().unwrap().to_string()), "duplicate operationId");
        // Every path parameter is declared.
        for seg in route.path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(|c| c == '{' || c == '}');
            assert!(op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true));
        }
        assert!(op["responses"].as_object().map(|r| !r.is_empty()).unwrap_or(false));
        // Every route is served: the fallback's "no route" never answers a documented path.
        let path = route
            .path
            .replace("{shop}", "1")
            .replace("{order}", "1")
            .replace("{case}", "1")
            .replace("{action}", "refund")
            .replace("{id}", "1")
            .replace("{key}", "x");
        let r = t.anon.send(route.method.clone(), &path, &[], None).await.unwrap();
        assert!(!String::from_utf8_lossy(&r.body).contains("no route"), "{} {path} is not served", route.method);
        assert_ne!(r.status, 405, "{} {path}", route.method);
    }
    // Every $ref resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|c| refs(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    // Every path of the document is a route (no stale entries).
    assert_eq!(
        doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum::<usize>(),
        docs.len()
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_health_metrics_request_ids_and_the_background_runner() {
    let t = TestApp::new().await;
    assert_eq!(t.anon.get("/readyz").await.unwrap().json()["status"], "ready");
    let o = t.order("online", false).await;
    let c = t.apply(&o, "refund_unshipped", 1_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    let r = t.staff.get("/api/v1/cases").await.unwrap();
    assert!(r.header("x-request-id").is_some());
    // The runner thread fires on its own once the clock has moved (no advance endpoint here).
    t.running
        .as_ref()
        .unwrap()
        .state
        .manual_clock
        .as_ref()
        .unwrap()
        .advance(aftersale_core::Dur::parse("48h").unwrap());
    let mut status = Value::Null;
    for _ in 0..200 {
        status = t.case(&t.buyer, id).await["status"].clone();
        if status == "refunding" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, "refunding");
    let m = String::from_utf8_lossy(&t.anon.get("/metrics").await.unwrap().body).to_string();
    assert!(
        m.contains("aftersale_http_requests_total{method=\"GET\",route=\"/api/v1/cases\",status=\"200\"} 1"),
        "{m}"
    );
    assert!(m.contains("aftersale_http_request_duration_seconds_bucket"));
    assert!(m.contains("aftersale_commands_total{kind=\"apply\"} 1"));
    let fired: u64 =
        m.lines().find_map(|l| l.strip_prefix("aftersale_deadlines_fired_total ")).unwrap().parse().unwrap();
    assert!(fired >= 1, "{m}");
    assert!(m.contains("aftersale_deadline_lag_seconds"));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_advance_is_demo_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.database.path = dir.path().join("s.db");
    config.evidence.dir = dir.path().join("ev");
    let state = app::build_state(&config, None).unwrap();
    state
        .engine
        .create_user(aftersale_engine::accounts::NewUser {
            login: "admin".into(),
            role: aftersale_engine::Role::Admin,
            shop_id: None,
            display_name: "Admin".into(),
            password_hash: aftersale_http::auth::hash_password("admin-password").unwrap(),
        })
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start_with_state(state, listener).await.unwrap();
    let anon = Client::new(&format!("http://{}", running.addr));
    let admin = login(&anon, "admin", "admin-password").await;
    problem(&admin.post("/api/v1/admin/clock/advance", &json!({ "by": "1h" })).await.unwrap(), 403, "demo_only");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_fills_every_queue_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.manual_clock = true;
    config.database.path = dir.path().join("demo.db");
    config.evidence.dir = dir.path().join("ev");
    let state = app::build_state(&config, None).unwrap();
    let rt = tokio::runtime::Handle::current();
    let s2 = state.clone();
    let creds = tokio::task::spawn_blocking(move || aftersale_http::demo::seed(&s2, rt)).await.unwrap().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start_with_state(state, listener).await.unwrap();
    let anon = Client::new(&format!("http://{}", running.addr));
    let platform = anon.with_token(&creds.tokens["platform"]);
    let page = platform.get("/api/v1/cases?limit=200").await.unwrap().json();
    let statuses: std::collections::HashSet<String> =
        page["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap().to_string()).collect();
    for s in [
        "awaiting_review",
        "rejected",
        "awaiting_buyer_return",
        "awaiting_receipt",
        "in_arbitration",
        "awaiting_voucher",
        "refunding",
        "completed",
        "closed",
    ] {
        assert!(statuses.contains(s), "no demo case is {s}");
    }
    let merchant = anon.with_token(&creds.tokens["merchant"]);
    let q = merchant.get("/api/v1/queues").await.unwrap().json();
    for (queue, n) in q["counts"].as_object().unwrap() {
        assert!(n.as_u64().unwrap() >= 1, "queue {queue} is empty in the demo");
    }
    // A pending proposal, an appeal, and an evidence request are among them.
    let mut appeal = false;
    for it in page["items"].as_array().unwrap() {
        let c = platform.get(&format!("/api/v1/cases/{}", it["case_id"])).await.unwrap().json();
        appeal |= c["case"]["appeal"]["state"] == "submitted";
    }
    assert!(appeal, "the demo has an appeal");
    let admin = anon.with_token(&creds.tokens["admin"]);
    assert_eq!(admin.post("/api/v1/admin/clock/advance", &json!({ "by": "6h" })).await.unwrap().status, 200);
    assert!(creds.logins.contains_key("alice"));
    let buyer = login(&anon, "alice", aftersale_http::demo::DEMO_PASSWORD).await;
    assert_eq!(buyer.get("/api/v1/me").await.unwrap().json()["user"]["role"], "buyer");
    running.stop().await;
}

#[test]
fn config_layers_defaults_file_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[server]\nbind = \"0.0.0.0:9000\"\n[database]\ncache_mib = 8\n").unwrap();
    let env = vec![
        ("AFTERSALE_DATABASE__CACHE_MIB".to_string(), "4".to_string()),
        ("AFTERSALE_SERVER__MANUAL_CLOCK".into(), "true".into()),
    ];
    let c = Config::load(Some(&file), env.into_iter()).unwrap();
    assert_eq!(c.server.bind, "0.0.0.0:9000");
    assert_eq!(c.database.cache_mib, 4);
    assert!(c.server.manual_clock);
    assert!(Config::load(None, vec![("AFTERSALE_SERVER__NOPE".to_string(), "1".to_string())].into_iter()).is_err());
    assert!(Config::load(None, vec![("AFTERSALE_URL".to_string(), "http://x".to_string())].into_iter()).is_ok());
    std::fs::write(&file, "[server]\nbnd = 1\n").unwrap();
    assert!(Config::load(Some(&file), std::iter::empty()).is_err());
    // The example config in the repository parses and matches the defaults.
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../aftersale.example.toml");
    assert_eq!(Config::load(Some(&example), std::iter::empty()).unwrap(), Config::default());
}
