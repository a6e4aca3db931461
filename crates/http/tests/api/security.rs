//! Who may call what, and what bad input gets.

use crate::harness::*;
use serde_json::json;

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
    // the system's own actions are not offered: an unknown action, answered with the valid ones
    let p = problem(&t.act(&t.agent, id, "expire", json!({ "kind": "review" })).await, 404, "unknown_action");
    assert!(!p["valid"].as_array().unwrap().contains(&json!("expire")));
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
    assert_eq!(problem(&r, 422, "unknown_evidence")["rule"], "E4");
    t.ok(&t.buyer, id, "add_evidence", json!({ "evidence": [ev] })).await;
    // By its key alone: the server knows the kind and checksum; given ones are checked.
    let ev2 = t.upload(&t.buyer).await;
    let page =
        t.ok(&t.buyer, id, "add_evidence", json!({ "evidence": [{ "key": ev2["key"], "caption": "close-up" }] })).await;
    let added = page["case"]["evidence"].as_array().unwrap().iter().find(|e| e["key"] == ev2["key"]).unwrap().clone();
    assert_eq!(
        (added["kind"].as_str(), added["sha256"].as_str(), added["caption"].as_str()),
        (ev2["kind"].as_str(), ev2["sha256"].as_str(), Some("close-up"))
    );
    let wrong = json!({ "evidence": [{ "key": ev2["key"], "sha256": "0".repeat(64) }] });
    let p = problem(&t.act(&t.buyer, id, "add_evidence", wrong).await, 422, "evidence_mismatch");
    assert_eq!((p["field"].as_str(), p["rule"].as_str()), (Some("evidence[0]"), Some("E4")));
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
        // well-formed, but a refund of nothing is refused by the rule: 422
        (0, 422, "invalid_value"),
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
    let p = problem(&t.act(&t.staff, id, "teleport", json!({})).await, 404, "unknown_action");
    assert_eq!(p["field"], "action");
    for a in ["refund", "reject", "agree_return", "set_flag", "set_order_remark"] {
        assert!(p["valid"].as_array().unwrap().contains(&json!(a)), "{a} missing from {p}");
    }
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
        422,
        "invalid_value",
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

/// Payment, delivery and completion are the payment gateway's and the logistics feed's events:
/// the platform or the shop's integration token reports them, never a person's session or a staff
/// member's own token; and only the owner issues an integration token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_platform_or_an_integration_token_reports_payment_and_delivery() {
    let t = TestApp::new().await;
    let order = |c: &Client, n: &str| {
        let c = c.clone();
        let body = json!({ "order_no": n, "buyer_id": t.buyer_id, "payment": "online", "total": cny(5_000),
            "shipping_fee": cny(0), "customer_name": "王小明", "customer_phone": "13800131234" });
        let shop = t.shop;
        async move { c.post(&format!("/api/v1/shops/{shop}/orders"), &body).await.unwrap().json()["id"].as_i64().unwrap() }
    };
    let o = order(&t.owner, "PAY-1").await;
    for who in [&t.owner, &t.staff, &t.buyer] {
        let r = who.post(&format!("/api/v1/orders/{o}/actions/pay"), &json!({})).await.unwrap();
        assert!(r.status == 403 || r.status == 404, "{}", body(&r));
    }
    let r = t.staff.post("/api/v1/tokens", &json!({ "name": "x", "scope": "integration" })).await.unwrap();
    problem(&r, 403, "forbidden");
    let feed = t.integration().await;
    let r = feed.post(&format!("/api/v1/orders/{o}/actions/pay"), &json!({})).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(r.json()["state"], "awaiting_confirmation");
    // the integration token acts for its own shop only
    let other = t
        .owner2
        .post(
            "/api/v1/shops/2/orders",
            &json!({ "order_no": "PAY-2", "buyer_id": t.buyer_id, "payment": "online",
        "total": cny(5_000), "shipping_fee": cny(0), "customer_name": "a", "customer_phone": "13800131234" }),
        )
        .await
        .unwrap();
    let other = other.json()["id"].as_i64().unwrap();
    problem(&feed.post(&format!("/api/v1/orders/{other}/actions/pay"), &json!({})).await.unwrap(), 404, "not_found");
    t.stop().await;
}

/// Errors have one shape whatever produced them: a method the route does not take, a JSON body
/// sent to the upload, a missing login (with its challenge), a broken multipart body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_a_problem_with_the_right_status() {
    let t = TestApp::new().await;
    let r = t.staff.send(axum::http::Method::PATCH, "/api/v1/cases", &[], None).await.unwrap();
    problem(&r, 405, "method_not_allowed");
    assert!(r.header("allow").unwrap().contains("GET"), "{:?}", r.headers);
    let r = t.staff.post("/api/v1/evidence", &json!({ "file": "x" })).await.unwrap();
    problem(&r, 415, "unsupported_media_type");
    let r = t
        .staff
        .send(
            axum::http::Method::POST,
            "/api/v1/evidence",
            &[],
            Some(("multipart/form-data; boundary=zzz", bytes::Bytes::from_static(b"--zzz\r\nbroken"))),
        )
        .await
        .unwrap();
    assert!(r.status == 400, "{}", body(&r));
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let r = t.anon.get("/api/v1/me").await.unwrap();
    problem(&r, 401, "unauthenticated");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"), "{:?}", r.headers);
    // the request id comes back, and a client's own id is kept
    let r =
        t.staff.send(axum::http::Method::GET, "/api/v1/me", &[("x-request-id", "client-id-1")], None).await.unwrap();
    assert_eq!(r.header("x-request-id"), Some("client-id-1"));
    // a login already in use is a conflict, not bad input
    let r = t
        .anon
        .post("/api/v1/auth/register", &json!({ "login": "buyer1", "password": "password-123", "display_name": "x" }))
        .await
        .unwrap();
    assert_eq!(problem(&r, 409, "already_exists")["field"], "login");
    // JSON has one kind of number: 1.0 is the integer 1
    let r = t.staff.post("/api/v1/messages/read", &json!({ "ids": [1.0, 2] })).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    let r = t.staff.post("/api/v1/messages/read", &json!({ "ids": [1.5] })).await.unwrap();
    problem(&r, 400, "invalid_field");
    // large answers are compressed for clients that take gzip
    let r = t
        .anon
        .send(axum::http::Method::GET, "/api/v1/openapi.json", &[("accept-encoding", "gzip")], None)
        .await
        .unwrap();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    t.stop().await;
}
