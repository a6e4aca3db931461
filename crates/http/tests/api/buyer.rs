//! What the buyer sees on their orders and case pages is what the rules answer: the amount an
//! application may ask for (B3 with the shipping fee), the case still moving on an order, and
//! what the merchant's "All open" tab lists is what it counts.

use crate::harness::*;
use crate::pages::Page;
use serde_json::json;

fn base(t: &TestApp) -> String {
    t.anon.base().to_string()
}

/// Defect 1: on a delivered order of 110.00 with 10.00 shipping, the form offers what the rules
/// take (100.00: the shipping fee stays with the merchant), which then applies; the case page's
/// "Refundable" is the case type's cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b3_the_application_form_offers_what_the_rules_take_and_the_case_page_shows_the_cap() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let p = Page::login(&base(&t), "buyer1", "password-123").await;
    let form = p.get(&format!("/b/orders/{}/apply", o["id"])).await;
    assert!(form.body.contains("value=\"100.00\""), "{}", form.body);
    assert!(!form.body.contains("value=\"refund_unshipped\""), "a delivered order takes no refund before shipment");
    let (csrf, idem) = (form.hidden("csrf"), form.hidden("idem"));
    let fields = [
        ("csrf", csrf.as_str()),
        ("idem", idem.as_str()),
        ("kind", "refund_only"),
        ("reason", "damaged"),
        ("amount", "100.00"),
    ];
    let r = p.post(&format!("/b/orders/{}/apply", o["id"]), &fields).await;
    assert_eq!(r.status, 303, "the prefilled amount applies: {}", r.body);
    let page = p.get(r.location.as_deref().unwrap()).await;
    let refundable = page.body.split("Refundable").nth(1).or_else(|| page.body.split("可退金额").nth(1)).unwrap();
    assert!(refundable[..120].contains("100.00"), "{}", &refundable[..120]);
    t.stop().await;
}

/// Defect 2: an order whose case is refunding (or awaiting a COD voucher) still leads to it:
/// the API's `case_id` names it and "My orders" links it; once the case is finished it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_leads_to_its_case_while_the_refund_settles() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 3_000).await["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, id, "refund", json!({})).await;
    let order = t.buyer.get(&format!("/api/v1/orders/{}", o["id"])).await.unwrap().json();
    assert_eq!(order["case_id"], id, "{order}");
    let p = Page::login(&base(&t), "buyer1", "password-123").await;
    let list = p.get("/b/orders").await;
    assert!(list.body.contains(&format!("href=\"/cases/{id}\"")), "{}", list.body);
    // A partial refund leaves money to ask for: the buyer may apply again, beside the link.
    assert!(list.body.contains(&format!("/b/orders/{}/apply", o["id"])));
    // The refund settles a working day later: the case is finished and no longer current.
    t.advance("3d").await;
    assert_eq!(t.case(&t.buyer, id).await["status"], "completed");
    let order = t.buyer.get(&format!("/api/v1/orders/{}", o["id"])).await.unwrap().json();
    assert!(order["case_id"].is_null(), "{order}");
    t.stop().await;
}

/// Defect 3: the merchant's "All open" tab lists what it counts (no closed or completed case).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w1_the_all_open_tab_lists_what_it_counts() {
    let t = TestApp::new().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let o = t.order("online", true).await;
        ids.push(t.apply(&o, "refund_only", 1_000).await["case"]["id"].as_i64().unwrap());
    }
    t.ok(&t.buyer, ids[0], "withdraw", json!({})).await;
    let p = Page::login(&base(&t), "staff1", "password-123").await;
    let page = p.get("/w/queue").await;
    let count: u64 =
        page.body.split("span class=\"count\">").nth(1).unwrap().split('<').next().unwrap().parse().unwrap();
    let rows = page.body.matches("<tr data-case=").count();
    assert_eq!((count, rows), (2, 2), "{}", page.body);
    assert!(!page.body.contains(&format!("data-case=\"{}\"", ids[0])), "the withdrawn case is not listed");
    // The API's own filter says the same.
    let open = t.staff.get("/api/v1/cases?open=true").await.unwrap().json();
    assert_eq!(open["items"].as_array().unwrap().len(), 2);
    assert_eq!(t.staff.get("/api/v1/cases").await.unwrap().json()["items"].as_array().unwrap().len(), 3);
    t.stop().await;
}
