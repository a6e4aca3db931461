//! Retries, races, operations, the demo clock and configuration.

use crate::harness::*;
use aftersale_http::{app, Config};
use serde_json::{json, Value};
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_retries_and_concurrent_conflicting_requests() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let c = t.apply(&o, "refund_only", 1_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{id}/actions/set_remark");
    let a = t.staff.post_with(&path, &json!({ "text": "first" }), &[("idempotency-key", "k-1")]).await.unwrap();
    assert_eq!(a.status, 200);
    assert_eq!(a.header("idempotent-replayed"), None, "the first answer is no repeat");
    let before = t.fingerprint();
    let b = t.staff.post_with(&path, &json!({ "text": "first" }), &[("idempotency-key", "k-1")]).await.unwrap();
    assert_eq!(b.status, 200);
    assert_eq!(b.header("idempotent-replayed"), Some("true"), "a repeat says it is one");
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
    let token = t1["token"].as_str().unwrap();
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)), "{token}");
    let leaked = t.db.count(&format!("SELECT COUNT(*) FROM idempotency WHERE response LIKE '%{token}%'"));
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
    TestDb::fresh(dir.path(), "s.db").configure(&mut config);
    config.evidence.dir = dir.path().join("ev");
    let state = blocking(|| {
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
        state
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start_with_state(state, listener).await.unwrap();
    let anon = Client::new(&format!("http://{}", running.addr));
    let admin = login(&anon, "admin", "admin-password").await;
    problem(&admin.post("/api/v1/admin/clock/advance", &json!({ "by": "1h" })).await.unwrap(), 403, "demo_only");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_fills_every_queue_and_state() {
    let (_dir, running, creds) = demo_server().await;
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
        "awaiting_replacement",
        "replacement_sent",
        "intercepting",
        "completed",
        "closed",
    ] {
        assert!(statuses.contains(s), "no demo case is {s}");
    }
    let kinds: std::collections::HashSet<&str> =
        page["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    for k in ["refund_unshipped", "refund_only", "return_refund", "exchange", "resend"] {
        assert!(kinds.contains(k), "no demo case is a {k}");
    }
    let merchant = anon.with_token(&creds.tokens["merchant"]);
    let q = merchant.get("/api/v1/queues").await.unwrap().json();
    for (queue, n) in q["counts"].as_object().unwrap() {
        assert!(n.as_u64().unwrap() >= 1, "queue {queue} is empty in the demo");
    }
    // A pending proposal, an appeal, and an evidence request are among them.
    let mut appeal = false;
    for it in page["items"].as_array().unwrap() {
        let c = platform.get(&format!("/api/v1/cases/{}", it["id"])).await.unwrap().json();
        appeal |= c["case"]["appeal"]["state"] == "submitted";
        // Every file the demo attached can be opened from its case (the pages show them).
        for ev in c["case"]["evidence"].as_array().unwrap() {
            let r = platform
                .get(&format!("/api/v1/cases/{}/evidence/{}", it["id"], ev["key"].as_str().unwrap()))
                .await
                .unwrap()
                .status;
            assert_eq!(r, 200, "demo evidence {} of case {}", ev["key"], it["id"]);
        }
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

/// The manual clock is kept in the database: a server restarted on the same database carries on
/// from where the clock was moved to, not from the wall clock or its first reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manual_clock_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.manual_clock = true;
    TestDb::fresh(dir.path(), "t.db").configure(&mut config);
    config.evidence.dir = dir.path().join("evidence");
    let start = aftersale_core::Timestamp::parse_rfc3339("2026-11-23T09:00:00Z").unwrap();
    blocking(|| {
        let state = app::build_state(&config, Some(start)).unwrap();
        let clock = state.manual_clock.clone().unwrap();
        clock.advance(aftersale_core::Dur::days(3));
        state.engine.save_manual_clock(state.engine.now()).unwrap();
        state.engine.store().close();
        drop(state);
        let other_start = aftersale_core::Timestamp::parse_rfc3339("2030-01-01T00:00:00Z").unwrap();
        let again = app::build_state(&config, Some(other_start)).unwrap();
        assert_eq!(again.engine.now().to_string(), "2026-11-26T09:00:00Z");
    });
}
