//! Order lines over HTTP (L1–L4): an order ingested with three lines, the eligibility call, cases
//! on single lines at the same time, the windows, and refunds that never exceed a line's payment.

use crate::harness::*;
use serde_json::{json, Value};

/// A three-line order in shop one for buyer one, paid, shipped and delivered: 2 × 40.00 (A),
/// 1 × 100.00 (B), 3 × 10.00 fresh (C) listed; 150.00 paid for the goods, 10.00 shipping.
pub async fn three_line_order(t: &TestApp) -> Value {
    let r = t
        .owner
        .post(
            &format!("/api/v1/shops/{}/orders", t.shop),
            &json!({ "order_no": "DY-3LINES", "buyer_id": t.buyer_id, "payment": "online", "total": cny(16_000),
                "shipping_fee": cny(1_000), "customer_name": "王小明", "customer_phone": "13800131234",
                "lines": [
                    { "sku": "A-RED", "title": "保温杯", "quantity": 2, "unit_price": cny(4_000) },
                    { "sku": "B", "title": "电饭煲", "quantity": 1, "unit_price": cny(10_000) },
                    { "sku": "C", "title": "草莓", "quantity": 3, "unit_price": cny(1_000), "kind": "fresh" }
                ] }),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", body(&r));
    let id = r.json()["id"].as_i64().unwrap();
    for (c, a, b) in [
        (&t.admin, "pay", json!({})),
        (&t.owner, "ship", json!({ "logistics": { "carrier": "SF", "tracking_no": "SF3000000001" } })),
        (&t.admin, "deliver", json!({})),
    ] {
        let r = c.post(&format!("/api/v1/orders/{id}/actions/{a}"), &b).await.unwrap();
        assert_eq!(r.status, 200, "{a}: {}", body(&r));
    }
    t.owner.get(&format!("/api/v1/orders/{id}")).await.unwrap().json()
}

fn minor(v: &Value) -> i64 {
    v["minor"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_l4_a_three_line_order_its_eligibility_windows_and_refunds_per_line() {
    let t = TestApp::new().await;
    let o = three_line_order(&t).await;
    let id = o["id"].as_i64().unwrap();
    // L1: the goods' payment shared by list value, to the fen.
    let paid: Vec<i64> = o["lines"].as_array().unwrap().iter().map(|l| minor(&l["paid"])).collect();
    assert_eq!(paid, vec![5_714, 7_143, 2_143]);
    assert_eq!(o["lines"][2]["kind"], "fresh");
    assert_eq!(o["lines"][0]["available_units"], 2);

    // The eligibility call: per line, what the buyer may open, for how much, until when.
    let e = t.buyer.get(&format!("/api/v1/orders/{id}/eligibility")).await.unwrap();
    assert_eq!(e.status, 200, "{}", body(&e));
    let e = e.json();
    assert_eq!(e["lines"].as_array().unwrap().len(), 3);
    let line1 = &e["lines"][0];
    assert_eq!(minor(&line1["refundable"]), 5_714);
    assert!(line1["any_reason_until"].is_string() && line1["quality_until"].is_string(), "{line1}");
    assert!(e["lines"][2]["any_reason_until"].is_null(), "fresh goods have no any-reason window");
    let kinds: Vec<&str> = line1["offers"].as_array().unwrap().iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["refund_only", "return_refund", "exchange", "resend"]);
    assert!(line1["offers"].as_array().unwrap().iter().all(|o| o["allowed"] == true));
    // Another buyer, and another shop, see no such order.
    let r = t.buyer2.get(&format!("/api/v1/orders/{id}/eligibility")).await.unwrap();
    problem(&r, 404, "not_found");
    let r = t.owner2.get(&format!("/api/v1/orders/{id}/eligibility")).await.unwrap();
    problem(&r, 404, "not_found");

    // Day 8: a no-reason return of line 1 is refused, naming L4 and the window.
    t.advance("8d").await;
    let apply = |b: Value| t.try_apply(&t.buyer, &o, b);
    let r = apply(json!({ "kind": "return_refund", "reason": "no_longer_needed", "amount": cny(2_857),
        "lines": [{ "line": 1, "units": 1 }] }))
    .await;
    let p = problem(&r, 422, "window_closed");
    assert_eq!(p["rule"], "L4", "{p}");
    // The eligibility call says the same before anyone tries.
    let e = t.buyer.get(&format!("/api/v1/orders/{id}/eligibility")).await.unwrap().json();
    assert!(e["lines"][0]["offers"][0]["allowed"] == true, "a quality reason is still in time: {e}");

    // Day 10: one unit of line 1 for a quality reason is in time (15 days).
    t.advance("2d").await;
    let r = apply(json!({ "kind": "return_refund", "reason": "defective", "amount": cny(2_857),
        "lines": [{ "line": 1, "units": 1 }] }))
    .await;
    assert_eq!(r.status, 201, "{}", body(&r));
    let first = r.json();
    assert_eq!(first["case"]["lines"], json!([{ "line": 1, "units": 1 }]));
    assert_eq!(first["lines"][0]["window"], "quality");
    assert_eq!(minor(&first["lines"][0]["refundable"]), 2_857);
    // At the same time, a refund-only case on line 2 (several cases on one order, L3) …
    let r = apply(json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(7_144),
        "lines": [{ "line": 2, "units": 1 }] }))
    .await;
    let p = problem(&r, 422, "amount_above_refundable");
    assert_eq!(p["rule"], "B3", "{p}");
    let r = apply(json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(7_143),
        "lines": [{ "line": 2, "units": 1 }] }))
    .await;
    assert_eq!(r.status, 201, "{}", body(&r));
    let second = r.json()["case"]["id"].as_i64().unwrap();
    // … but not on the unit the first case holds (L3), nor more units than the line has.
    let r = apply(json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(100),
        "lines": [{ "line": 1, "units": 2 }] }))
    .await;
    let p = problem(&r, 422, "units_not_available");
    assert_eq!(p["rule"], "L3");
    let r = apply(json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(100),
        "lines": [{ "line": 9, "units": 1 }] }))
    .await;
    let p = problem(&r, 422, "invalid_value");
    assert_eq!(p["field"], "lines[0].line", "{p}");

    // The merchant refunds line 2 in full, and the return of line 1 goes its course.
    t.ok(&t.staff, second, "refund", json!({})).await;
    let id1 = first["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, id1, "agree_return", json!({ "address_id": t.address_id })).await;
    t.ok(
        &t.buyer,
        id1,
        "submit_return_logistics",
        json!({ "logistics": { "carrier": "SF", "tracking_no": "SF3000000002" } }),
    )
    .await;
    t.ok(&t.staff, id1, "received_refund", json!({})).await;
    let o = t.owner.get(&format!("/api/v1/orders/{id}")).await.unwrap().json();
    let line = |n: usize| &o["lines"][n];
    assert_eq!((minor(&line(0)["refunded"]), line(0)["settled_units"].as_i64()), (2_857, Some(1)));
    assert_eq!((minor(&line(1)["refunded"]), line(1)["settled_units"].as_i64()), (7_143, Some(1)));
    assert_eq!(minor(&o["refunded"]), 10_000);
    // Line 2 is spent: the eligibility call says so, naming L3; line 1 has one unit left.
    let e = t.buyer.get(&format!("/api/v1/orders/{id}/eligibility")).await.unwrap().json();
    assert_eq!(e["lines"][1]["available_units"], 0);
    assert_eq!(e["lines"][1]["offers"][0]["refused"]["rule"], "L3");
    assert_eq!(minor(&e["lines"][0]["refundable"]), 2_857);
    // Nothing ever refunds more than a line was paid (L2).
    for l in o["lines"].as_array().unwrap() {
        assert!(minor(&l["refunded"]) <= minor(&l["paid"]), "{l}");
    }
    t.stop().await;
}

/// The three-line order's other outcomes: line 1 exchanged (returned, received, the replacement
/// shipped and confirmed by silence), line 3's missing unit resent (agreed by shipping it,
/// completed on delivery), no money moved; the event stream tells each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k1_k2_an_exchange_and_a_resend_on_a_three_line_order_over_http() {
    let t = TestApp::new().await;
    let o = three_line_order(&t).await;
    let id = o["id"].as_i64().unwrap();
    // The eligibility call offers both, for no money.
    let e = t.buyer.get(&format!("/api/v1/orders/{id}/eligibility")).await.unwrap().json();
    let offer = |line: usize, kind: &str| {
        e["lines"][line]["offers"].as_array().unwrap().iter().find(|o| o["kind"] == kind).cloned().unwrap()
    };
    assert_eq!(
        (offer(0, "exchange")["allowed"].as_bool(), minor(&offer(0, "exchange")["max_refund"])),
        (Some(true), 0)
    );
    assert_eq!(offer(2, "resend")["allowed"], true);

    // K1: the exchange of one unit of line 1.
    let r = t
        .try_apply(
            &t.buyer,
            &o,
            json!({ "kind": "exchange", "reason": "defective", "amount": cny(0),
            "lines": [{ "line": 1, "units": 1 }] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", body(&r));
    let ex = r.json()["case"]["id"].as_i64().unwrap();
    assert_eq!(r.json()["queue"], "return_review");
    t.ok(&t.staff, ex, "agree_return", json!({ "address_id": t.address_id })).await;
    t.ok(
        &t.buyer,
        ex,
        "submit_return_logistics",
        json!({ "logistics": { "carrier": "SF", "tracking_no": "SF3100000001" } }),
    )
    .await;
    let c = t.ok(&t.staff, ex, "received_refund", json!({})).await;
    assert_eq!(
        (c["status"].as_str(), c["queue"].as_str()),
        (Some("awaiting_replacement"), Some("awaiting_replacement"))
    );
    assert_eq!(c["deadline"]["kind"], "replacement_ship");
    assert_eq!(c["deadline"]["time_left_ms"], 48 * 3_600_000);
    // The queue's new tab counts it.
    let q = t.staff.get("/api/v1/queues").await.unwrap().json();
    assert_eq!(q["counts"]["awaiting_replacement"], 1, "{q}");
    // The buyer may not ship it, nor confirm before it arrives.
    let r = t
        .act(
            &t.buyer,
            ex,
            "ship_replacement",
            json!({ "logistics": { "carrier": "SF", "tracking_no": "SF3200000001" } }),
        )
        .await;
    assert!(r.status == 403 || r.status == 422, "{}", body(&r));
    let c = t
        .ok(
            &t.staff,
            ex,
            "ship_replacement",
            json!({ "logistics": { "carrier": "SF", "tracking_no": "SF3200000001" } }),
        )
        .await;
    assert_eq!(c["status"], "replacement_sent");
    assert_eq!(c["case"]["replacement"]["state"]["state"], "shipped");
    let r = t.act(&t.buyer, ex, "confirm_replacement", json!({})).await;
    assert_eq!(r.status, 422, "{}", body(&r));
    // The logistics feed reports it delivered (the shop's owner cannot: an integration or the platform).
    let feed = |c: Client| async move {
        c.post(&format!("/api/v1/cases/{ex}/replacement-logistics"), &json!({ "delivered": true })).await.unwrap()
    };
    let r = feed(t.buyer.clone()).await;
    assert!(r.status == 403 || r.status == 404, "{}", body(&r));
    let r = feed(t.admin.clone()).await;
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(r.json()["deadline"]["kind"], "replacement_confirm");
    // Silence confirms it seven days later.
    t.advance("7d").await;
    let c = t.case(&t.buyer, ex).await;
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["case"]["replacement"]["state"]["by"], "system");

    // K2: line 3's missing unit, resent: the shop agrees by shipping it.
    let r = t
        .try_apply(
            &t.buyer,
            &o,
            json!({ "kind": "resend", "reason": "missing_or_wrong_item", "amount": cny(0),
            "lines": [{ "line": 3, "units": 1 }] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", body(&r));
    let rs = r.json()["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, rs, "ship_replacement", json!({ "logistics": { "carrier": "YTO", "tracking_no": "YT3300000001" } }))
        .await;
    let r = t
        .admin
        .post(&format!("/api/v1/cases/{rs}/replacement-logistics"), &json!({ "delivered": true }))
        .await
        .unwrap();
    assert_eq!(r.json()["status"], "completed");

    // No money moved; the exchanged and resent units are settled.
    let o = t.owner.get(&format!("/api/v1/orders/{id}")).await.unwrap().json();
    assert_eq!(minor(&o["refunded"]), 0);
    assert_eq!((o["lines"][0]["settled_units"].as_i64(), o["lines"][2]["settled_units"].as_i64()), (Some(1), Some(1)));
    // The event stream tells each step.
    let mut types = Vec::new();
    for _ in 0..200 {
        let page = t.staff.get("/api/v1/events?limit=1000").await.unwrap().json();
        types = page["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_string()).collect();
        if types.iter().filter(|t| *t == "case.replacement_confirmed").count() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for kind in ["case.replacement_awaited", "case.replacement_shipped", "case.replacement_delivered"] {
        assert!(types.iter().any(|t| t == kind), "{kind}: {types:?}");
    }
    assert_eq!(types.iter().filter(|t| *t == "case.replacement_confirmed").count(), 2, "{types:?}");
    t.stop().await;
}

/// K1: a shop that does not ship the replacement in time has refunded the units instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k1_a_replacement_not_shipped_in_48_hours_is_refunded_instead() {
    let t = TestApp::new().await;
    let o = three_line_order(&t).await;
    let r = t
        .try_apply(
            &t.buyer,
            &o,
            json!({ "kind": "exchange", "reason": "damaged", "amount": cny(0),
            "lines": [{ "line": 2, "units": 1 }] }),
        )
        .await;
    let ex = r.json()["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, ex, "agree_return", json!({ "address_id": t.address_id })).await;
    t.ok(
        &t.buyer,
        ex,
        "submit_return_logistics",
        json!({ "logistics": { "carrier": "SF", "tracking_no": "SF3400000001" } }),
    )
    .await;
    t.ok(&t.staff, ex, "received_refund", json!({})).await;
    t.advance("48h").await;
    let c = t.case(&t.buyer, ex).await;
    assert_eq!(c["status"], "refunding", "{c}");
    assert_eq!(minor(&c["case"]["refund"]["amount"]), 7_143, "line 2's payment");
    let r = t
        .act(
            &t.staff,
            ex,
            "ship_replacement",
            json!({ "logistics": { "carrier": "SF", "tracking_no": "SF3500000001" } }),
        )
        .await;
    assert_eq!(r.status, 422, "{}", body(&r));
    t.stop().await;
}

/// C1: the shop refunds one line of its own accord: no review, the buyer told, within L2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c1_the_shop_refunds_a_line_of_its_own_accord_over_http() {
    let t = TestApp::new().await;
    let o = three_line_order(&t).await;
    let id = o["id"].as_i64().unwrap();
    let path = format!("/api/v1/orders/{id}/refunds");
    let body = |minor: i64| json!({ "reason": "price_correction", "amount": cny(minor), "lines": [{ "line": 2, "units": 1 }] });
    let r = t.staff.post(&path, &body(7_144)).await.unwrap();
    let p = problem(&r, 422, "amount_above_refundable");
    assert_eq!(p["rule"], "B3", "the amount's rule (L2 is B3 per line): {p}");
    // Not the buyer's to do, and another shop does not see the order.
    let r = t.buyer.post(&path, &body(100)).await.unwrap();
    assert!(r.status == 403 || r.status == 422, "{}", body_text(&r));
    let r = t.owner2.post(&path, &body(100)).await.unwrap();
    problem(&r, 404, "not_found");
    let r = t.staff.post(&path, &json!({ "reason": "because", "amount": cny(100) })).await.unwrap();
    assert_eq!(problem(&r, 422, "invalid_value")["field"], "reason");
    // 20.00 back on line 2: the case is refunding at once, and the buyer's box says so.
    let r = t.staff.post(&path, &body(2_000)).await.unwrap();
    assert_eq!(r.status, 201, "{}", body_text(&r));
    let page = r.json();
    assert_eq!((page["status"].as_str(), page["case"]["kind"].as_str()), (Some("refunding"), Some("refund_only")));
    assert_eq!(page["log"][0]["actor"]["role"], "merchant", "{}", page["log"][0]);
    let inbox = t.buyer.get("/api/v1/messages").await.unwrap().json();
    assert!(
        inbox["items"].as_array().unwrap().iter().any(|m| m["title"].as_str().unwrap().contains("refunds you")),
        "{inbox}"
    );
    let o = t.owner.get(&format!("/api/v1/orders/{id}")).await.unwrap().json();
    assert_eq!(minor(&o["lines"][1]["refunded"]), 2_000);
    let reasons = t.staff.get("/api/v1/reasons").await.unwrap().json();
    assert!(reasons["merchant_refund"].as_array().unwrap().iter().any(|r| r["code"] == "out_of_stock"));
    t.stop().await;
}

fn body_text(r: &Resp) -> String {
    String::from_utf8_lossy(&r.body).to_string()
}

/// I1 over HTTP: the shop asks the carrier to stop the parcel; the feed reports it stopped (with
/// its cost) and back; the refund proceeds; each step is on the event stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_an_intercept_over_http_from_the_request_to_the_refund() {
    let t = TestApp::new().await;
    let o = t.order("online", false).await;
    let id = o["id"].as_i64().unwrap();
    let r = t
        .owner
        .post(
            &format!("/api/v1/orders/{id}/actions/ship"),
            &json!({ "logistics": { "carrier": "SF", "tracking_no": "SF8000000001" } }),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    let case = t.apply(&o, "refund_only", 10_000).await["case"]["id"].as_i64().unwrap();
    let page = t.case(&t.staff, case).await;
    assert!(page["available_actions"].as_array().unwrap().contains(&json!("request_intercept")), "{page}");
    let c = t.ok(&t.staff, case, "request_intercept", json!({})).await;
    assert_eq!((c["status"].as_str(), c["deadline"].is_null()), (Some("intercepting"), true));
    let feed = |b: Value| {
        let admin = t.admin.clone();
        async move { admin.post(&format!("/api/v1/cases/{case}/intercept-logistics"), &b).await.unwrap() }
    };
    // The buyer is not the logistics feed.
    let r = t
        .buyer
        .post(&format!("/api/v1/cases/{case}/intercept-logistics"), &json!({ "result": "stopped" }))
        .await
        .unwrap();
    assert!(r.status == 403 || r.status == 404, "{}", body(&r));
    // Back before it was stopped: refused, naming I1.
    let r = feed(json!({ "result": "returned" })).await;
    assert_eq!(problem(&r, 422, "wrong_state")["rule"], "I1");
    let r = feed(json!({ "result": "stopped", "cost": cny(1_200) })).await;
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(r.json()["case"]["intercept"]["state"]["state"], "intercepted");
    let r = feed(json!({ "result": "returned" })).await;
    assert_eq!(r.json()["status"], "refunding");
    assert_eq!(r.json()["case"]["intercept"]["cost"]["minor"], 1_200);
    let mut types = Vec::new();
    for _ in 0..200 {
        let page = t.staff.get("/api/v1/events?limit=1000").await.unwrap().json();
        types = page["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_string()).collect();
        if types.iter().any(|t| t == "case.intercept_returned") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for kind in ["case.intercept_requested", "case.intercept_answered", "case.intercept_returned", "refund.requested"] {
        assert!(types.iter().any(|t| t == kind), "{kind}: {types:?}");
    }
    t.stop().await;
}

/// L5 over HTTP: a return of three units arrives with two; the shop records what arrived, the
/// buyer is refunded for those, and the missing unit is a case of its own that the shop rejects
/// with evidence and the buyer takes to the platform. Refunds stay within each line's payment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l5_a_return_received_in_part_over_http_refunds_what_arrived_and_splits_off_the_rest() {
    let t = TestApp::new().await;
    let o = three_line_order(&t).await;
    let (line1, line2) = (minor(&o["lines"][0]["paid"]), minor(&o["lines"][1]["paid"]));
    let r = t
        .try_apply(
            &t.buyer,
            &o,
            json!({ "kind": "return_refund", "reason": "damaged", "amount": cny(line1 + line2),
                "lines": [{ "line": 1, "units": 2 }, { "line": 2, "units": 1 }] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", body(&r));
    let id = r.json()["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, id, "agree_return", json!({ "address_id": t.address_id })).await;
    // Before the parcel is on record there is nothing to receive in part.
    let r = t.act(&t.staff, id, "received_part", json!({ "received": [{ "line": 1, "units": 1 }] })).await;
    assert_eq!(problem(&r, 422, "wrong_state")["rule"], "L5");
    t.ok(
        &t.buyer,
        id,
        "submit_return_logistics",
        json!({ "logistics": { "carrier": "SF", "tracking_no": "SF3300000001" } }),
    )
    .await;
    let page = t.case(&t.staff, id).await;
    assert!(page["available_actions"].as_array().unwrap().contains(&json!("received_part")), "{page}");
    // Refused, changing nothing: no unit named as arrived, a line the case does not hold.
    let r = t.act(&t.staff, id, "received_part", json!({ "received": [{ "line": 1, "units": 0 }] })).await;
    let p = problem(&r, 422, "invalid_value");
    assert_eq!((p["rule"].as_str(), p["field"].as_str()), (Some("L5"), Some("received")), "{p}");
    let r = t.act(&t.staff, id, "received_part", json!({ "received": [{ "line": 3, "units": 1 }] })).await;
    assert_eq!(problem(&r, 422, "invalid_value")["field"], "received[0].line");
    // The buyer may not record a receipt.
    let r = t.act(&t.buyer, id, "received_part", json!({ "received": [{ "line": 1, "units": 1 }] })).await;
    assert_eq!(r.status, 403, "{}", body(&r));
    assert_eq!(t.case(&t.staff, id).await["status"], "awaiting_receipt");

    // One unit of line 1 and the unit of line 2 arrived.
    let c = t
        .ok(
            &t.staff,
            id,
            "received_part",
            json!({ "received": [{ "line": 1, "units": 1 }, { "line": 2, "units": 1 }] }),
        )
        .await;
    let paid_now = line1 / 2 + line2;
    assert_eq!((c["status"].as_str(), minor(&c["case"]["amount"])), (Some("refunding"), paid_now), "{c}");
    let page = t.case(&t.staff, id).await;
    let split = page["split_into"].as_array().unwrap().clone();
    assert_eq!(split.len(), 1, "{page}");
    let child = split[0].as_i64().unwrap();
    assert_eq!(page["case"]["lines"], json!([{ "line": 1, "units": 1 }, { "line": 2, "units": 1 }]));
    let cp = t.case(&t.staff, child).await;
    assert_eq!(
        (cp["status"].as_str(), cp["case"]["split_from"].as_i64(), minor(&cp["case"]["amount"])),
        (Some("awaiting_receipt"), Some(id), line1 - line1 / 2)
    );
    assert_eq!(cp["case"]["lines"], json!([{ "line": 1, "units": 1 }]));
    assert_eq!(cp["deadline"]["kind"], "receipt");
    assert_eq!(
        cp["case"]["return_parcel"], page["case"]["return_parcel"],
        "the same parcel, its receipt window running on"
    );
    let acts = cp["available_actions"].as_array().unwrap();
    assert!(acts.contains(&json!("received_refund")) && acts.contains(&json!("reject")), "{acts:?}");
    assert!(!acts.contains(&json!("received_part")), "one unit: received whole or rejected");
    // The queue row names its lines and units.
    let q = t.staff.get("/api/v1/cases?queue=awaiting_receipt").await.unwrap().json();
    let row = q["items"].as_array().unwrap().iter().find(|r| r["id"] == child).cloned().expect("in the queue");
    assert_eq!(row["lines"], json!([{ "line": 1, "units": 1 }]), "{row}");
    // The buyer follows it; another shop does not see it.
    assert_eq!(t.case(&t.buyer, child).await["case"]["split_from"], id);
    assert_eq!(t.owner2.get(&format!("/api/v1/cases/{child}")).await.unwrap().status, 404);

    // The shop rejects the missing unit with evidence; the buyer takes it to the platform.
    let ev = t.upload(&t.staff).await;
    let c = t
        .ok(
            &t.staff,
            child,
            "reject",
            json!({ "reason_code": "not_received", "explanation": "one cup in the parcel", "evidence": [ev] }),
        )
        .await;
    assert_eq!(c["status"], "rejected");
    let c = t.ok(&t.buyer, child, "escalate", json!({ "reason": "I packed both cups" })).await;
    assert_eq!(c["status"], "in_arbitration");
    // Never more than a line's payment: line 1 refunded half, line 2 in full, so far.
    let order = t.owner.get(&format!("/api/v1/orders/{}", o["id"])).await.unwrap().json();
    assert_eq!(minor(&order["lines"][0]["refunded"]), line1 / 2, "{order}");
    assert_eq!(minor(&order["lines"][1]["refunded"]), line2);
    // The events: the receipt in part, and the new case opened.
    let mut types = Vec::new();
    for _ in 0..200 {
        let page = t.staff.get("/api/v1/events?limit=1000").await.unwrap().json();
        types = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["case_id"] == child || e["case_id"] == id)
            .map(|e| format!("{} {}", e["case_id"], e["type"].as_str().unwrap()))
            .collect();
        if types.iter().any(|t| t.ends_with("arbitration.opened")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for kind in
        [format!("{id} case.received_in_part"), format!("{id} refund.requested"), format!("{child} case.opened")]
    {
        assert!(types.contains(&kind), "{kind}: {types:?}");
    }
    t.stop().await;
}

/// C1's other half over HTTP: past both windows the buyer is refused naming L4, and a platform
/// agent opens the case for the buyer, which the buyer then follows; the shop cannot apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c1_the_platform_opens_a_case_for_the_buyer_past_the_windows_over_http() {
    let t = TestApp::new().await;
    let o = three_line_order(&t).await;
    t.advance("20d").await;
    let body = json!({ "kind": "refund_only", "reason": "defective", "amount": cny(2_000),
        "description": "客服介入", "lines": [{ "line": 2, "units": 1 }] });
    let r = t.try_apply(&t.buyer, &o, body.clone()).await;
    assert_eq!(problem(&r, 422, "window_closed")["rule"], "L4");
    let r = t.try_apply(&t.staff, &o, body.clone()).await;
    assert_eq!(r.status, 403, "{}", body_text(&r));
    let r = t.try_apply(&t.agent, &o, body).await;
    assert_eq!(r.status, 201, "{}", body_text(&r));
    let page = r.json();
    let id = page["case"]["id"].as_i64().unwrap();
    assert_eq!(page["log"][0]["actor"]["role"], "platform", "{}", page["log"][0]);
    assert_eq!(page["case"]["buyer_id"], t.buyer_id);
    // The buyer's own case from here on; the shop reviews it as any other.
    assert_eq!(t.case(&t.buyer, id).await["status"], "awaiting_review");
    let acts = t.case(&t.staff, id).await["available_actions"].clone();
    assert!(acts.as_array().unwrap().contains(&json!("refund")), "{acts}");
    t.stop().await;
}
