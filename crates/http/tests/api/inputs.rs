//! Text the rules refuse is refused the same way on both databases: a NUL or another control
//! character in any text field answers 422 naming the field, and changes nothing (on PostgreSQL a
//! NUL used to reach the database first and answer 500).

use crate::harness::*;
use serde_json::{json, Value};

/// Each control character tried in every field.
const BAD: [&str; 3] = ["J\u{0}X", "J\u{1b}X", "J\u{7f}X"];

async fn refused(t: &TestApp, c: &Client, path: &str, body: Value, field: &str) {
    let before = t.fingerprint();
    let r = c.post(path, &body).await.unwrap();
    let p = problem(&r, 422, "invalid_value");
    assert_eq!(p["field"], field, "{path}: {}", body_text(&r));
    assert_eq!(t.fingerprint(), before, "{path} {field}: nothing changed");
}

fn body_text(r: &Resp) -> String {
    body(r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o1_control_characters_in_any_text_field_are_refused_alike_on_both_databases() {
    let t = TestApp::new().await;
    let order = json!({ "order_no": "N1", "buyer_id": t.buyer_id, "payment": "online", "total": cny(11_000),
        "shipping_fee": cny(1_000), "customer_name": "王小明", "customer_phone": "13800131234" });
    let o = t.order("online", true).await;
    let c = t.apply(&o, "refund_only", 1_000).await;
    let case = c["case"]["id"].as_i64().unwrap();
    let address = json!({ "name": "Returns", "phone": "13900001111", "region": "浙江 杭州", "detail": "1 号" });
    for bad in BAD {
        let shop_orders = format!("/api/v1/shops/{}/orders", t.shop);
        for field in ["order_no", "customer_name"] {
            let mut b = order.clone();
            b[field] = json!(bad);
            refused(&t, &t.owner, &shop_orders, b, field).await;
        }
        refused(&t, &t.admin, "/api/v1/shops", json!({ "name": bad, "profile": "douyin" }), "name").await;
        for field in ["name", "region", "detail"] {
            let mut b = address.clone();
            b[field] = json!(bad);
            refused(&t, &t.owner, &format!("/api/v1/shops/{}/addresses", t.shop), b, field).await;
        }
        for field in ["title", "body"] {
            let mut b = json!({ "title": "Hello", "body": "Thanks" });
            b[field] = json!(bad);
            refused(&t, &t.owner, &format!("/api/v1/shops/{}/templates", t.shop), b, field).await;
        }
        refused(&t, &t.owner, "/api/v1/tokens", json!({ "name": bad }), "name").await;
        let actions = format!("/api/v1/cases/{case}/actions");
        refused(&t, &t.buyer, &format!("{actions}/post_message"), json!({ "text": bad }), "text").await;
        refused(&t, &t.staff, &format!("{actions}/set_remark"), json!({ "text": bad }), "text").await;
        refused(&t, &t.staff, &format!("{actions}/set_order_remark"), json!({ "text": bad }), "text").await;
    }
    t.stop().await;
}
