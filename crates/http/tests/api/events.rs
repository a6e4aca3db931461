//! What leaves the service on its own: the SMS outbox, dispatched by the serving node (the `log`
//! provider by default), each message once, also with two nodes on one PostgreSQL database.

use crate::harness::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Return cases agreed (each sends the buyer an SMS with the return address): their case ids.
async fn returns_agreed(t: &TestApp, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let o = t.order("online", true).await;
        let c = t.apply(&o, "return_refund", 5_000).await;
        let id = c["case"]["id"].as_i64().unwrap();
        t.ok(&t.staff, id, "agree_return", json!({ "address_id": t.address_id })).await;
        ids.push(id);
    }
    ids
}

/// Waits (boundedly) until the log provider has written at least `n` messages.
async fn sent_at_least(t: &TestApp, n: usize) -> Vec<Value> {
    for _ in 0..400 {
        let sent = t.sms_sent();
        if sent.len() >= n {
            return sent;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the SMS provider got {} of {n} messages within 20 s", t.sms_sent().len());
}

fn ids(sent: &[Value]) -> Vec<i64> {
    sent.iter().map(|s| s["id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x2_the_serving_node_sends_each_recorded_sms_once_through_the_log_provider() {
    let t = TestApp::new().await;
    let cases = returns_agreed(&t, 3).await;
    let sent = sent_at_least(&t, 3).await;
    // Passes of the loop after the last message send nothing again.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let sent_later = t.sms_sent();
    assert_eq!(sent_later.len(), 3, "{sent_later:?}");
    assert_eq!(ids(&sent).into_iter().collect::<BTreeSet<_>>().len(), 3);
    let to_cases: BTreeSet<i64> = sent.iter().map(|s| s["case_id"].as_i64().unwrap()).collect();
    assert_eq!(to_cases, cases.into_iter().collect());
    assert!(sent.iter().all(|s| s["phone"] == "13800131234" && s["text"].as_str().unwrap().contains("文一西路")));
    // The outbox records each as sent.
    let outbox = t.agent.get("/api/v1/sms").await.unwrap();
    assert_eq!(outbox.status, 200, "{}", body(&outbox));
    let items = outbox.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| !i["sent_at"].is_null()), "{items:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x2_two_nodes_on_one_database_send_each_sms_once() {
    let t = TestApp::new().await;
    if matches!(t.db, TestDb::Sqlite(_)) {
        eprintln!("two nodes need PostgreSQL (AFTERSALE_TEST_DATABASE_URL): this test ran one");
    }
    let other = match t.db {
        TestDb::Postgres(_) => Some(t.second_node().await),
        TestDb::Sqlite(_) => None,
    };
    returns_agreed(&t, 12).await;
    let sent = sent_at_least(&t, 12).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let all = t.sms_sent();
    let distinct: BTreeSet<i64> = ids(&all).into_iter().collect();
    assert_eq!((all.len(), distinct.len()), (12, 12), "each message once: {sent:?}");
    if let Some(o) = other {
        o.stop().await;
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_api_pages_a_shops_events_filters_by_type_and_refuses_a_cursor_past_the_retention() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 5_000).await["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, id, "post_message", json!({ "text": "We are looking into it." })).await;
    // The platform's stream shows the shop's order and case, oldest first (on PostgreSQL an
    // event shows once every older transaction has ended: wait for it, boundedly).
    let mut all = Vec::new();
    for _ in 0..200 {
        let page = t.agent.get("/api/v1/events?limit=1000").await.unwrap();
        assert_eq!(page.status, 200, "{}", body(&page));
        all = page.json()["items"].as_array().unwrap().clone();
        if all.iter().any(|e| e["type"] == "case.opened") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let types: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"order.created") && types.contains(&"case.opened"), "{types:?}");
    let opened = all.iter().find(|e| e["type"] == "case.opened").unwrap();
    assert_eq!((opened["case_id"].as_i64(), opened["version"].as_u64()), (Some(id), Some(1)));
    assert_eq!(opened["data"]["case"]["id"], id, "the case as the change left it: {opened}");
    // The shop's staff see the same events of their shop; a type filter; pages that follow on.
    let staff: Value = t.staff.get("/api/v1/events?limit=1000").await.unwrap().json();
    assert_eq!(staff["items"].as_array().unwrap().len(), all.len());
    let only: Value = t.staff.get("/api/v1/events?types=case.opened").await.unwrap().json();
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
    let first: Value = t.staff.get("/api/v1/events?limit=1").await.unwrap().json();
    let rest: Value = t
        .staff
        .get(&format!("/api/v1/events?limit=1000&after={}", first["next"].as_str().unwrap()))
        .await
        .unwrap()
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len() + 1, all.len(), "no gap, no repeat");
    // Buyers follow their cases, not the stream; a malformed cursor or type names the field.
    problem(&t.buyer.get("/api/v1/events").await.unwrap(), 403, "forbidden");
    let v = problem(&t.staff.get("/api/v1/events?after=yesterday").await.unwrap(), 400, "invalid_query");
    assert_eq!(v["field"], "after");
    let v = problem(&t.staff.get("/api/v1/events?types=case.nope").await.unwrap(), 422, "invalid_value");
    assert_eq!(v["field"], "types");
    // Past the retention (30 days), the events are deleted: a cursor into them answers 410.
    let cursor = all[0]["id"].as_str().unwrap().to_string();
    t.advance("31d").await;
    let mut gone = None;
    for _ in 0..200 {
        let r = t.staff.get(&format!("/api/v1/events?after={cursor}")).await.unwrap();
        if r.status == 410 {
            gone = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let v = problem(&gone.expect("the runner pruned the events past the retention"), 410, "cursor_expired");
    assert_eq!(v["field"], "after");
    t.stop().await;
}
