//! The workbench over HTTP: queues, search, masking (W1, W2, W6).

use crate::harness::*;
use serde_json::json;

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
    let first: Vec<i64> = page["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(first, vec![ids[0].0, ids[1].0]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let page2 = t.staff.get(&format!("/api/v1/cases?limit=2&cursor={cursor}")).await.unwrap().json();
    let second: Vec<i64> = page2["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(second, vec![ids[2].0, ids[3].0]);
    // Newest first.
    let newest = t.staff.get("/api/v1/cases?sort=newest&limit=1").await.unwrap().json();
    assert_eq!(newest["items"][0]["id"], ids[4].0);
    // By order number, case id, customer name and full phone.
    let by_no = t.staff.get(&format!("/api/v1/cases?order_no={}", ids[2].1)).await.unwrap().json();
    assert_eq!(by_no["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        t.staff.get(&format!("/api/v1/cases?case_id={}", ids[3].0)).await.unwrap().json()["items"][0]["id"],
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
    // A name no buyer can have (control characters, a NUL: what schemathesis sent) finds none.
    let odd = t
        .staff
        .get("/api/v1/cases?queue=awaiting_receipt&customer_name=%C2%96%19_%C2%87%5E%C3%92%00&limit=138")
        .await
        .unwrap();
    assert_eq!((odd.status, odd.json()["items"].as_array().map(Vec::len)), (200, Some(0)));
    let odd = t.staff.get("/api/v1/cases?order_no=%E7%8E%8B%00").await.unwrap();
    assert_eq!((odd.status, odd.json()["items"].as_array().map(Vec::len)), (200, Some(0)));
    // Close to deadline: due within the next 45 hours (the two oldest).
    let now = t.case(&t.staff, ids[0].0).await["now"].as_str().unwrap().to_string();
    let now = aftersale_core::Timestamp::parse_rfc3339(&now).unwrap();
    // in the shop's own offset (+08:00): the same instant
    let before =
        aftersale_core::Timestamp(now.0 + 45 * 3_600_000 - 1 + 8 * 3_600_000).to_string().replace('Z', "+08:00");
    let near = t.staff.get(&format!("/api/v1/cases?due_before={}", before.replace('+', "%2B"))).await.unwrap().json();
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

/// A client finds the values a form takes without reading the source: the reasons per case type
/// with their labels and whether evidence is needed, each profile's deadline table, and the
/// labels of queues, statuses, case types and flags. And a case page names the rule that governs
/// its deadline (S2 for a refund only, R2 for a return).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasons_profiles_and_labels_are_discoverable() {
    let t = TestApp::new().await;
    let all = t.buyer.get("/api/v1/reasons").await.unwrap().json();
    let damaged = all["apply"].as_array().unwrap().iter().find(|r| r["code"] == "damaged").unwrap();
    assert_eq!((damaged["zh"].as_str(), damaged["en"].as_str()), (Some("商品破损"), Some("damaged")));
    let before = t.staff.get("/api/v1/reasons?kind=refund_unshipped&profile=taote").await.unwrap().json();
    let codes: Vec<&str> = before["reject"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"no_quality_issue") && !codes.contains(&"not_received"), "{codes:?}");
    assert!(before["reject"].as_array().unwrap().iter().all(|r| r["evidence_required"] == true));
    let returns = t.staff.get("/api/v1/reasons?kind=return_refund").await.unwrap().json();
    assert!(returns["reject"].as_array().unwrap().iter().any(|r| r["code"] == "not_received"));
    problem(&t.staff.get("/api/v1/reasons?profile=amazon").await.unwrap(), 400, "invalid_query");
    let profiles = t.staff.get("/api/v1/profiles").await.unwrap().json();
    let names: Vec<&str> = profiles["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["douyin", "taote", "tiktok_shop"]);
    assert_eq!(profiles["items"][1]["policy"]["review"], "1d12h", "taote reviews in 36 hours");
    let labels = t.buyer.get("/api/v1/labels").await.unwrap().json();
    assert_eq!(labels["queues"].as_array().unwrap().len(), 11);
    assert_eq!(labels["queues"][0]["value"], "refund_unshipped");
    assert!(labels["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["value"] == "awaiting_review" && s["zh"] == "待商家处理"));
    // the governing deadline names its own rule
    let o = t.order("online", true).await;
    let only = t.apply(&o, "refund_only", 5_000).await;
    assert_eq!((only["deadline"]["kind"].as_str(), only["deadline"]["rule"].as_str()), (Some("review"), Some("S2")));
    let o = t.order("online", true).await;
    let ret = t.apply(&o, "return_refund", 5_000).await;
    assert_eq!(ret["deadline"]["rule"], "R2");
    let o = t.order("online", false).await;
    let before = t.apply(&o, "refund_unshipped", 5_000).await;
    assert_eq!(before["deadline"]["rule"], "U2");
    t.stop().await;
}

/// X1: the message box pages (limit + cursor, newest first) and filters (unread, category);
/// marking read touches only the caller's own entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x1_the_message_box_pages_and_filters() {
    let t = TestApp::new().await;
    for _ in 0..3 {
        let o = t.order("online", false).await;
        t.apply(&o, "refund_unshipped", 1_000).await;
    }
    let all = t.staff.get("/api/v1/messages?limit=200").await.unwrap().json();
    let total = all["items"].as_array().unwrap().len();
    assert!(total >= 3, "{all}");
    assert!(all["next_cursor"].is_null());
    // pages of two, newest first, together the whole box
    let mut seen = Vec::new();
    let mut path = "/api/v1/messages?limit=2".to_string();
    for pages in 1.. {
        assert!(pages <= total, "the cursor never ends");
        let page = t.staff.get(&path).await.unwrap().json();
        seen.extend(page["items"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/messages?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first: {seen:?}");
    // filters: a category, and unread only
    let after_sales = t.staff.get("/api/v1/messages?category=after_sales").await.unwrap().json();
    assert!(after_sales["items"].as_array().unwrap().iter().all(|n| n["category"] == "after_sales"));
    let first = seen[0];
    // another party cannot mark the shop's entries; the shop can
    let r = t.buyer.post("/api/v1/messages/read", &json!({ "ids": [first] })).await.unwrap();
    assert_eq!(r.json()["marked"], 0);
    let r = t.staff.post("/api/v1/messages/read", &json!({ "ids": [first] })).await.unwrap();
    assert_eq!(r.json()["marked"], 1);
    let unread = t.staff.get("/api/v1/messages?unread=true&limit=200").await.unwrap().json();
    let ids: Vec<i64> = unread["items"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), total - 1);
    assert!(!ids.contains(&first));
    problem(&t.staff.get("/api/v1/messages?category=spam").await.unwrap(), 400, "invalid_query");
    problem(&t.staff.get("/api/v1/messages?cursor=0").await.unwrap(), 400, "invalid_query");
    t.stop().await;
}

/// Defect 4: `available_actions` is the one truth about what the caller may do: it lists the
/// order's flag and remark to the shop while the case is open, and the API refuses them once the
/// case is finished (as the list no longer has them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w3_w4_available_actions_list_the_flag_and_remark_and_nothing_else_is_accepted() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 1_000).await["case"]["id"].as_i64().unwrap();
    let actions = |v: serde_json::Value| -> Vec<String> {
        v["available_actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect()
    };
    let staff = actions(t.case(&t.staff, id).await);
    assert!(staff.contains(&"set_flag".into()) && staff.contains(&"set_order_remark".into()), "{staff:?}");
    let buyer = actions(t.case(&t.buyer, id).await);
    assert!(!buyer.contains(&"set_flag".into()), "{buyer:?}");
    problem(&t.act(&t.buyer, id, "set_flag", json!({ "flag": "red" })).await, 403, "not_allowed_for_actor");
    t.ok(&t.staff, id, "set_flag", json!({ "flag": "red" })).await;
    t.ok(&t.buyer, id, "withdraw", json!({})).await;
    let closed = actions(t.case(&t.staff, id).await);
    assert!(!closed.contains(&"set_flag".into()), "{closed:?}");
    problem(&t.act(&t.staff, id, "set_flag", json!({ "flag": "blue" })).await, 422, "wrong_state");
    problem(&t.act(&t.staff, id, "set_order_remark", json!({ "text": "late" })).await, 422, "wrong_state");
    t.stop().await;
}

/// Defect 6: a refusal on a page names the field in the person's words, once, and says its
/// sentence once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w2_a_refused_search_names_the_field_in_words_once() {
    let t = TestApp::new().await;
    let p = crate::pages::Page::login(t.anon.base(), "staff1", "password-123").await;
    let page = p.get("/w/queue?case_id=abc").await;
    assert_eq!(page.status, 400, "{}", page.body);
    let alert = page.body.split("role=\"alert\">").nth(1).unwrap().split("</p>").next().unwrap().to_string();
    assert!(alert.contains("售后单号"), "the field in Chinese on a Chinese page: {alert}");
    assert!(!alert.contains("case_id"), "no raw field name: {alert}");
    // A refused form: the sentence next to the field, not again above it.
    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 1_000).await["case"]["id"].as_i64().unwrap();
    let refused = p.act(id, "post_message", &[("text", "")]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let sentence = "填写的内容不符合要求。";
    assert_eq!(refused.body.matches(sentence).count(), 1, "{}", refused.body);
    t.stop().await;
}

/// Defect 5: the message box speaks the person's language — its tabs and its entries, with
/// case types and amounts in words — and its times name their zone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x1_the_message_box_speaks_the_page_language_in_its_tabs_and_names_the_zone() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    t.apply(&o, "refund_only", 1_000).await;
    let p = crate::pages::Page::login(t.anon.base(), "staff1", "password-123").await;
    let page = p.get("/w/messages").await;
    assert_eq!(page.status, 200);
    let tabs = page.body.split("<nav class=\"tabs\"").nth(1).unwrap().split("</nav>").next().unwrap().to_string();
    assert!(tabs.contains(">售后 <span"), "the tab's words, not its code: {tabs}");
    let list = page.body.split("<ul class=\"messages\">").nth(1).unwrap();
    assert!(list.contains("<small class=\"zone\">Asia/Shanghai</small>"), "{list}");
    // The entry itself in Chinese, its type and amount in words, no raw code.
    assert!(list.contains("新的售后申请") && list.contains("仅退款(已发货)") && list.contains("¥10.00"), "{list}");
    assert!(!list.contains("refund_only") && !list.contains("New after-sales request"), "{list}");
    t.stop().await;
}
