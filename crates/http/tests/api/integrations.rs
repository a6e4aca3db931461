//! What integrators use besides the event stream: batch case actions and the CSV export.

use crate::harness::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_answers_each_item_on_its_own_and_an_item_sent_again_answers_its_first_outcome() {
    let t = TestApp::new().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let o = t.order("online", false).await;
        ids.push(t.apply(&o, "refund_unshipped", 1_000).await["case"]["id"].as_i64().unwrap());
    }
    let items = json!({ "items": [
        { "case": ids[0], "action": "refund", "idempotency_key": "b-0" },
        { "case": ids[1], "action": "refund", "if_match": 7 },
        { "case": ids[2], "action": "agree_return", "body": {} },
        { "case": 999_999, "action": "refund" },
        { "case": ids[2], "action": "no_such_action" },
    ] });
    let r = t.staff.post("/api/v1/cases/batch", &items).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    let out: Vec<Value> = r.json()["items"].as_array().unwrap().clone();
    let statuses: Vec<u64> = out.iter().map(|i| i["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 409, 422, 404, 404], "{out:?}");
    assert_eq!(out[0]["case_status"], "refunding");
    assert_eq!(out[1]["problem"]["code"], "version_conflict");
    assert!(out[2]["problem"]["rule"].is_string(), "a rule's refusal names its rule: {}", out[2]);
    assert_eq!(out[4]["problem"]["code"], "unknown_action");
    // Only the first changed anything; sent again, its item answers its first outcome.
    assert_eq!(t.case(&t.staff, ids[1]).await["status"], "awaiting_review");
    let again = t
        .staff
        .post(
            "/api/v1/cases/batch",
            &json!({ "items": [ { "case": ids[0], "action": "refund", "idempotency_key": "b-0" } ] }),
        )
        .await
        .unwrap();
    assert_eq!(again.json()["items"][0]["replayed"], true, "{}", body(&again));
    // Each item is its single action: a buyer's refund is refused by the rules, item by item.
    let r = t
        .buyer
        .post("/api/v1/cases/batch", &json!({ "items": [ { "case": ids[1], "action": "refund" } ] }))
        .await
        .unwrap();
    assert_eq!(r.json()["items"][0]["status"], 403);
    // The batch itself: 1 to batch_max (100) items.
    let long =
        json!({ "items": [ { "case": ids[1], "action": "refund" }, { "case": ids[1], "action": "r".repeat(65) } ] });
    let long = t.staff.post("/api/v1/cases/batch", &long).await.unwrap();
    assert_eq!(problem(&long, 400, "invalid_field")["field"], "items[1].action", "checked before any item runs");
    let huge = json!({ "items": [ { "case": ids[1], "action": "refund", "if_match": 9_007_199_254_740_992u64 } ] });
    let huge = t.staff.post("/api/v1/cases/batch", &huge).await.unwrap();
    assert_eq!(problem(&huge, 400, "invalid_field")["field"], "items[0].if_match", "beyond what JSON numbers carry");
    let none = t.staff.post("/api/v1/cases/batch", &json!({ "items": [] })).await.unwrap();
    assert_eq!(problem(&none, 400, "invalid_field")["field"], "items");
    let many: Vec<Value> = (0..101).map(|_| json!({ "case": ids[1], "action": "refund" })).collect();
    let many = t.staff.post("/api/v1/cases/batch", &json!({ "items": many })).await.unwrap();
    assert_eq!(problem(&many, 422, "invalid_value")["field"], "items");
    assert_eq!(t.case(&t.staff, ids[1]).await["status"], "awaiting_review", "a refused batch changes nothing");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_export_streams_every_page_with_a_bom_masked_phones_and_formulas_neutralised() {
    let t = TestApp::new().await;
    // 201 cases: more than one page of the export (200 rows each).
    let mut ids = Vec::new();
    for i in 0..201 {
        let o = t.order("online", true).await;
        ids.push(t.apply(&o, "refund_only", 1_000 + i).await["case"]["id"].as_i64().unwrap());
    }
    // A buyer name a spreadsheet would run as a formula, on a paid order with a refund asked.
    let evil = t
        .owner
        .post(
            &format!("/api/v1/shops/{}/orders", t.shop),
            &json!({ "order_no": "CSV-EVIL", "buyer_id": t.buyer_id, "payment": "online",
                     "total": { "minor": 5_000, "currency": "CNY" }, "shipping_fee": { "minor": 0, "currency": "CNY" },
                     "customer_name": "=HYPERLINK(\"http://x\",\"y\")", "customer_phone": "13800139999" }),
        )
        .await
        .unwrap();
    assert_eq!(evil.status, 201, "{}", body(&evil));
    let paid = t.admin.post(&format!("/api/v1/orders/{}/actions/pay", evil.json()["id"]), &json!({})).await.unwrap();
    assert_eq!(paid.status, 200, "{}", body(&paid));
    ids.push(t.apply(&paid.json(), "refund_unshipped", 1_000).await["case"]["id"].as_i64().unwrap());
    let r = t.staff.get("/api/v1/cases/export.csv").await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r.body.starts_with("\u{feff}".as_bytes()), "a byte-order mark for Excel");
    // Read back by Python's csv module, as a spreadsheet user's script would.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.csv");
    std::fs::write(&file, &r.body).unwrap();
    let script = "import csv,json,sys\nrows=list(csv.reader(open(sys.argv[1],encoding='utf-8-sig',newline='')))\nprint(json.dumps(rows))";
    let out = std::process::Command::new("python3").arg("-c").arg(script).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0][..3], ["case_id", "order_no", "type"]);
    assert_eq!(rows[0][14..], ["outcome", "lines", "units"]);
    assert!(rows[1..].iter().all(|r| r[14] == "refund" && r[15] == "L1x1" && r[16] == "1"), "one unit of line 1 each");
    assert_eq!(rows.len(), 1 + ids.len(), "every page, once");
    let mut exported: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    exported.sort();
    ids.sort();
    assert_eq!(exported, ids);
    assert!(rows[1..].iter().all(|r| r[9].contains("****")), "phones masked as in lists (W6)");
    let evil_row = rows.iter().find(|r| r[1] == "CSV-EVIL").expect("the order's case is exported");
    assert_eq!(evil_row[8], "'=HYPERLINK(\"http://x\",\"y\")", "a formula is written as text");
    // Another shop's owner gets only their shop's cases (none here); a bad filter is a problem,
    // not a file.
    let theirs = t.owner2.get("/api/v1/cases/export.csv").await.unwrap();
    assert_eq!(String::from_utf8_lossy(&theirs.body).lines().count(), 1, "the header alone");
    // Compressed (the client takes gzip), an export of nothing is the header alone, whole.
    let gz = [("accept-encoding", "gzip")];
    let none = t
        .staff
        .send(axum::http::Method::GET, "/api/v1/cases/export.csv?order_no=nothing-like-this", &gz, None)
        .await
        .unwrap();
    assert_eq!(none.status, 200, "{}", body(&none));
    let bad = t.staff.get("/api/v1/cases/export.csv?case_id=0").await.unwrap();
    problem(&bad, 400, "invalid_query");
    t.stop().await;
}
