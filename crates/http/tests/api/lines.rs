//! Order lines over HTTP (L1–L4): an order ingested with three lines, the eligibility call, cases
//! on single lines at the same time, the windows, and refunds that never exceed a line's payment.

use crate::harness::*;
use serde_json::{json, Value};

/// A three-line order in shop one for buyer one, paid, shipped and delivered: 2 × 40.00 (A),
/// 1 × 100.00 (B), 3 × 10.00 fresh (C) listed; 150.00 paid for the goods, 10.00 shipping.
async fn three_line_order(t: &TestApp) -> Value {
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
    assert_eq!(kinds, vec!["refund_only", "return_refund"]);
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
