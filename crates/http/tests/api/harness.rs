//! The test app: the real server on port 0 with a fresh database (see `testdb`) and evidence
//! directory, its accounts, and helpers that drive it.

pub use crate::contract::{Client, Resp};
pub use crate::testdb::{blocking, TestDb};
use aftersale_http::{app, Config};
use serde_json::{json, Value};

pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

pub struct TestApp {
    pub _dir: tempfile::TempDir,
    pub db: TestDb,
    pub running: Option<app::Running>,
    pub anon: Client,
    pub admin: Client,
    pub owner: Client,
    pub staff: Client,
    pub owner2: Client,
    pub agent: Client,
    pub buyer: Client,
    pub buyer2: Client,
    pub buyer_id: i64,
    pub shop: i64,
    pub address_id: i64,
    pub n: std::sync::atomic::AtomicU32,
}

pub fn cny(minor: i64) -> Value {
    json!({ "minor": minor, "currency": "CNY" })
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with(|_| {}).await
    }

    /// A test app whose configuration `tune` changes last.
    pub async fn with(tune: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        // Webhooks to the tests' own receivers on 127.0.0.1, retried within seconds.
        config.webhooks.allow_insecure = true;
        config.webhooks.allow_private_targets = true;
        config.webhooks.retry_schedule_secs = vec![1, 1, 1];
        config.webhooks.poll_ms = 50;
        config.webhooks.timeout_secs = 2;
        config.server.manual_clock = true;
        config.server.runner_poll_ms = 50;
        let db = TestDb::fresh(dir.path(), "t.db");
        db.configure(&mut config);
        config.evidence.dir = dir.path().join("evidence");
        config.evidence.max_file_mib = 1;
        config.evidence.max_request_mib = 2;
        config.server.json_limit_kib = 64;
        config.sms.log_file = dir.path().join("sms.jsonl").display().to_string();
        tune(&mut config);
        // Monday 2026-11-23 09:00 UTC: working-day arithmetic is predictable.
        let start = aftersale_core::Timestamp::parse_rfc3339("2026-11-23T09:00:00Z").unwrap();
        let state = blocking(|| {
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
            state
        });
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
            db,
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

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// An order in shop one for buyer one, paid (online) or confirmed (COD), optionally delivered.
    pub async fn order(&self, payment: &str, delivered: bool) -> Value {
        self.order_in(&self.owner, self.shop, self.buyer_id, payment, delivered).await
    }

    pub async fn order_in(&self, merchant: &Client, shop: i64, buyer: i64, payment: &str, delivered: bool) -> Value {
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

    /// The shop's integration: an API token the owner issues with the `integration` scope.
    pub async fn integration(&self) -> Client {
        let r = self.owner.post("/api/v1/tokens", &json!({ "name": "erp", "scope": "integration" })).await.unwrap();
        assert_eq!(r.status, 201, "{}", body(&r));
        assert_eq!(r.json()["record"]["scope"], "integration");
        self.anon.with_token(r.json()["token"].as_str().unwrap())
    }

    pub async fn apply(&self, order: &Value, kind: &str, minor: i64) -> Value {
        let r = self
            .try_apply(&self.buyer, order, json!({ "kind": kind, "reason": "damaged", "amount": cny(minor) }))
            .await;
        assert_eq!(r.status, 201, "{}", body(&r));
        r.json()
    }

    pub async fn try_apply(&self, buyer: &Client, order: &Value, b: Value) -> Resp {
        buyer.post(&format!("/api/v1/orders/{}/cases", order["id"]), &b).await.unwrap()
    }

    pub async fn act(&self, c: &Client, case: i64, action: &str, b: Value) -> Resp {
        c.post(&format!("/api/v1/cases/{case}/actions/{action}"), &b).await.unwrap()
    }

    pub async fn ok(&self, c: &Client, case: i64, action: &str, b: Value) -> Value {
        let r = self.act(c, case, action, b).await;
        assert_eq!(r.status, 200, "{action}: {}", body(&r));
        r.json()
    }

    pub async fn case(&self, c: &Client, case: i64) -> Value {
        let r = c.get(&format!("/api/v1/cases/{case}")).await.unwrap();
        assert_eq!(r.status, 200, "{}", body(&r));
        r.json()
    }

    pub async fn advance(&self, by: &str) -> Value {
        let r = self.admin.post("/api/v1/admin/clock/advance", &json!({ "by": by })).await.unwrap();
        assert_eq!(r.status, 200, "{}", body(&r));
        r.json()
    }

    pub async fn upload(&self, c: &Client) -> Value {
        let r = c.upload("/api/v1/evidence", "photo.png", "image/png", PNG, "photo").await.unwrap();
        assert_eq!(r.status, 201, "{}", body(&r));
        r.json()["evidence"].clone()
    }

    /// The SMS the `log` provider wrote (one JSON object per line), oldest first.
    pub fn sms_sent(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self._dir.path().join("sms.jsonl")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// Another node on this test's database, sending SMS to the same log file (PostgreSQL only:
    /// on SQLite one process owns the file).
    pub async fn second_node(&self) -> app::Running {
        let mut config = self.running.as_ref().unwrap().state.config.as_ref().clone();
        config.server.bind = "127.0.0.1:0".into();
        let state = blocking(|| app::build_state(&config, None).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        app::start_with_state(state, listener).await.unwrap()
    }

    /// Every row of every table, as text: "the database is unchanged" means this is equal.
    pub fn fingerprint(&self) -> Vec<(String, i64, String)> {
        self.db.fingerprint()
    }
}

pub fn body(r: &Resp) -> String {
    format!("{} {}", r.status, String::from_utf8_lossy(&r.body))
}

pub async fn login(anon: &Client, login: &str, password: &str) -> Client {
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

pub async fn staff_user(anon: &Client, admin: &Client, name: &str, role: &str, shop: i64) -> Client {
    let mut b = json!({ "login": name, "password": "password-123", "role": role, "display_name": name });
    if shop > 0 {
        b["shop_id"] = json!(shop);
    }
    let r = admin.post("/api/v1/users", &b).await.unwrap();
    assert_eq!(r.status, 201, "{}", body(&r));
    login(anon, name, "password-123").await
}

pub async fn register(anon: &Client, name: &str) -> (Client, i64) {
    let r = anon
        .post("/api/v1/auth/register", &json!({ "login": name, "password": "password-123", "display_name": name }))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", body(&r));
    (login(anon, name, "password-123").await, r.json()["id"].as_i64().unwrap())
}

pub fn problem(r: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", body(r));
    assert_eq!(r.header("content-type"), Some("application/problem+json"), "{}", body(r));
    let v = r.json();
    assert_eq!(v["code"], code, "{}", body(r));
    assert_eq!(v["status"], status);
    v
}

/// The demo as `aftersale demo` runs it (manual clock, seeded, logins on the login page), on port
/// 0 in a fresh directory: the directory (keep it alive), the server and the demo's credentials.
pub async fn demo_server() -> (tempfile::TempDir, app::Running, aftersale_http::demo::Credentials) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh(dir.path(), "demo.db");
    demo_server_on(dir, db).await
}

/// The demo on a given database.
pub async fn demo_server_on(
    dir: tempfile::TempDir,
    db: TestDb,
) -> (tempfile::TempDir, app::Running, aftersale_http::demo::Credentials) {
    let mut config = Config::default();
    config.server.manual_clock = true;
    db.configure(&mut config);
    config.evidence.dir = dir.path().join("ev");
    let state = blocking(|| app::build_state(&config, None).unwrap());
    let rt = tokio::runtime::Handle::current();
    let s2 = state.clone();
    let creds = tokio::task::spawn_blocking(move || aftersale_http::demo::seed(&s2, rt)).await.unwrap().unwrap();
    let _ = state.demo_logins.set(creds.logins.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start_with_state(state, listener).await.unwrap();
    (dir, running, creds)
}

/// A server on an existing database (manual clock, as the demo's), evidence in `evidence`.
pub async fn server_on(db: &TestDb, evidence: std::path::PathBuf) -> app::Running {
    let mut config = Config::default();
    config.server.manual_clock = true;
    db.configure(&mut config);
    config.evidence.dir = evidence;
    let state = blocking(|| app::build_state(&config, None).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    app::start_with_state(state, listener).await.unwrap()
}
