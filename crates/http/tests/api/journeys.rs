//! Whole journeys through the workbench in real headless Chromium: a return and refund across
//! buyer, merchant and platform with a timeout on the demo clock; a rejection taken to
//! arbitration with evidence, a ruling and an appeal; a negotiation accepted; the language
//! switch and a merchant action done with the keyboard only; axe-core on every page; and the
//! README's screenshots made from the demo. Screenshots land in `target/browser/`.

use crate::browser::{artefacts, Browser};
use crate::harness::*;
use serde_json::json;

async fn login(site: &str, who: &str, password: &str) -> Browser {
    let b = Browser::start(site).await;
    b.goto("/login").await;
    b.type_in("#login", who).await;
    b.type_in("#password", password).await;
    b.click("main form button[type=submit]").await;
    b.settle().await;
    assert!(!b.path().await.starts_with("/login"), "{who} could not log in: {}", b.page_text().await);
    b
}

/// On a page that may have led to the login (the demo clock moved past the session's hours):
/// logs in there and checks that the browser came back to `path`.
async fn back_to(b: &Browser, path: &str, who: &str, password: &str) {
    b.goto(path).await;
    if b.path().await.starts_with("/login") {
        b.type_in("#login", who).await;
        b.type_in("#password", password).await;
        b.click("main form button[type=submit]").await;
        b.settle().await;
        assert_eq!(b.path().await, path, "after the login, the page the person was on");
    }
}

fn png_file() -> std::path::PathBuf {
    let p = artefacts().join("evidence.png");
    std::fs::write(&p, PNG).unwrap();
    p
}

/// The whole days of a countdown's text: `剩7天0小时` or `7d 0h left`.
fn days_left(text: &str) -> i64 {
    let digits: String = text.chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit()).collect();
    if text.contains('天') || text.contains('d') {
        digits.parse().unwrap()
    } else {
        0
    }
}

/// The case's status as the page marks it (`awaiting_review` …), whatever the language.
async fn status(b: &Browser) -> String {
    let v =
        b.script("var e = document.querySelector('[data-testid=status]'); return e ? e.dataset.status : null").await;
    match v.as_str() {
        Some(s) => s.to_string(),
        None => panic!("no case status on {}: {}", b.path().await, b.page_text().await),
    }
}

async fn state_of(b: &Browser, testid: &str) -> String {
    let v = b.script(&format!("return document.querySelector('[data-testid={testid}]').dataset.state")).await;
    v.as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_a_return_and_refund_across_buyer_merchant_and_platform_with_a_timeout() {
    let t = TestApp::new().await;
    let site = t.anon.base().to_string();
    let o = t.order("online", true).await;
    let buyer = login(&site, "buyer1", "password-123").await;
    let staff = login(&site, "staff1", "password-123").await;
    let admin = login(&site, "admin", "admin-password").await;

    // The buyer applies from "my orders", with a photo.
    buyer.goto("/b/orders").await;
    buyer.click(&format!("a[href=\"/b/orders/{}/apply\"]", o["id"])).await;
    buyer.settle().await;
    buyer.select("#a-kind", "return_refund").await;
    buyer.select("#a-reason", "damaged").await;
    buyer.type_in("#a-amount", "80.00").await;
    buyer.type_in("#a-description", "the lid is cracked").await;
    buyer.attach("#a-files", &png_file()).await;
    buyer.click("form.card button[type=submit]").await;
    buyer.settle().await;
    let case_path = buyer.path().await;
    let case_path = case_path.split('?').next().unwrap().to_string();
    assert!(case_path.starts_with("/cases/"), "{case_path}");
    let next = buyer.text(".deadline .next").await;
    assert!(
        next.contains("如果商家在以下时间前未处理") || next.contains("If the shop does nothing by"),
        "the buyer is told what happens next: {next}"
    );
    assert_eq!(buyer.count("ul.gallery img").await, 1);

    // The merchant agrees to the return, to the default address.
    staff.goto(&case_path).await;
    staff.open_action("agree_return").await;
    staff.submit_action("agree_return").await;
    assert_eq!(status(&staff).await, "awaiting_buyer_return");

    // The buyer sends the parcel back.
    buyer.goto(&case_path).await;
    buyer.open_action("submit_return_logistics").await;
    buyer.type_in("#f-submit_return_logistics-logistics-carrier", "SF").await;
    buyer.type_in("#f-submit_return_logistics-logistics-tracking_no", "SF2000000001").await;
    buyer.submit_action("submit_return_logistics").await;
    assert_eq!(status(&buyer).await, "awaiting_receipt");

    // The merchant's countdown to confirm receipt, before and after a day on the demo clock.
    staff.goto(&case_path).await;
    let before = staff.text(".deadline time.countdown").await;
    let receipt_days = days_left(&before);
    assert!(receipt_days >= 6, "{before}");
    staff.screenshot("journey-merchant-awaiting-receipt").await;
    admin.goto("/p/sms").await;
    admin.type_in("#clock-by", "1d").await;
    admin.click("form[action=\"/p/clock\"] button[type=submit]").await;
    admin.settle().await;
    assert_eq!(admin.path().await, "/p/sms", "the clock moved: {}", admin.page_text().await);
    // A day is longer than a session: the staff member logs in again and is back on the case.
    back_to(&staff, &case_path, "staff1", "password-123").await;
    let after = staff.text(".deadline time.countdown").await;
    assert_eq!(days_left(&after), receipt_days - 1, "{before} → {after}");

    // Nobody confirms receipt: the deadline passes and the system confirms it and refunds.
    back_to(&admin, "/p/sms", "admin", "admin-password").await;
    admin.type_in("#clock-by", &format!("{}d", receipt_days + 1)).await;
    admin.click("form[action=\"/p/clock\"] button[type=submit]").await;
    admin.settle().await;
    assert_eq!(admin.path().await, "/p/sms", "the clock moved: {}", admin.page_text().await);
    back_to(&staff, &case_path, "staff1", "password-123").await;
    let mut s = status(&staff).await;
    // The console fires what came due before it answers; a firing the background runner had
    // claimed at that moment lands a moment later.
    for _ in 0..50 {
        if s != "awaiting_receipt" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        staff.goto(&case_path).await;
        s = status(&staff).await;
    }
    assert!(s == "refunding" || s == "completed", "{s}");
    assert!(staff.text("[data-testid=log]").await.contains("期限已到,系统自动处理"));
    back_to(&buyer, &case_path, "buyer1", "password-123").await;
    buyer.screenshot("journey-buyer-refunded").await;
    for b in [buyer, staff, admin] {
        b.quit().await;
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_a_rejected_case_goes_to_arbitration_with_evidence_a_ruling_and_an_appeal() {
    let t = TestApp::new().await;
    let site = t.anon.base().to_string();
    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 3_000).await["case"]["id"].as_i64().unwrap();
    let path = format!("/cases/{id}");
    let staff = login(&site, "staff1", "password-123").await;
    let buyer = login(&site, "buyer1", "password-123").await;
    let agent = login(&site, "agent1", "password-123").await;
    let photo = png_file();

    staff.goto(&path).await;
    staff.open_action("reject").await;
    staff.select("#f-reject-reason_code", "not_as_claimed").await;
    staff.type_in("#f-reject-explanation", "the photo shows the seal intact").await;
    staff.attach("#f-reject-files", &photo).await;
    staff.submit_action("reject").await;
    assert_eq!(status(&staff).await, "rejected");

    buyer.goto(&path).await;
    buyer.open_action("escalate").await;
    buyer.type_in("#f-escalate-reason", "the seal was broken on arrival").await;
    buyer.submit_action("escalate").await;
    assert_eq!(status(&buyer).await, "in_arbitration");

    agent.goto("/p/queue").await;
    assert!(agent.count(&format!("a[href=\"{path}\"]")).await == 1, "the case is in the arbitration queue");
    agent.goto(&path).await;
    agent.open_action("request_evidence").await;
    agent.type_in("#f-request_evidence-instructions", "show the parcel before it was sealed").await;
    agent.submit_action("request_evidence").await;

    staff.goto(&path).await;
    assert!(staff.count(".deadline time.countdown").await == 1, "the evidence deadline counts down");
    staff.open_action("submit_evidence").await;
    staff.type_in("#f-submit_evidence-explanation", "packing video attached").await;
    staff.attach("#f-submit_evidence-files", &photo).await;
    staff.submit_action("submit_evidence").await;
    assert!(staff.count("ul.gallery img").await >= 2, "both files shown");

    agent.goto(&path).await;
    agent.open_action("rule").await;
    agent.select("#f-rule-for_party", "buyer").await;
    agent.type_in("#f-rule-reason", "the seal is not visible in the video").await;
    agent.submit_action("rule").await;
    assert!(agent.text("[data-testid=ruling]").await.contains("the seal is not visible"));

    staff.goto(&path).await;
    staff.open_action("appeal").await;
    staff.type_in("#f-appeal-text", "the courier damaged the seal").await;
    staff.submit_action("appeal").await;
    assert_eq!(state_of(&staff, "appeal").await, "submitted");

    agent.goto(&path).await;
    agent.submit_action("review_appeal").await;
    agent.open_action("decide_appeal").await;
    agent.select("#f-decide_appeal-upheld", "false").await;
    agent.type_in("#f-decide_appeal-reason", "the courier's report shows no damage").await;
    agent.submit_action("decide_appeal").await;
    assert_eq!(state_of(&agent, "appeal").await, "dismissed");
    agent.screenshot("journey-arbitration-appeal").await;
    for b in [staff, buyer, agent] {
        b.quit().await;
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_a_negotiation_proposal_is_accepted_by_the_buyer() {
    let t = TestApp::new().await;
    let site = t.anon.base().to_string();
    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 3_000).await["case"]["id"].as_i64().unwrap();
    let path = format!("/cases/{id}");
    let staff = login(&site, "staff1", "password-123").await;
    staff.goto(&path).await;
    staff.open_action("propose").await;
    staff.select("#f-propose-kind", "return_refund").await;
    staff.type_in("#f-propose-amount", "30.00").await;
    staff.select("#f-propose-address_id", &t.address_id.to_string()).await;
    staff.submit_action("propose").await;
    assert_eq!(state_of(&staff, "proposal").await, "waiting for the buyer");
    let buyer = login(&site, "buyer1", "password-123").await;
    buyer.goto(&path).await;
    assert!(buyer.text("[data-testid=proposal]").await.contains("¥30.00"));
    buyer.submit_action("accept_proposal").await;
    assert_eq!(status(&buyer).await, "awaiting_buyer_return");
    assert_eq!(state_of(&buyer, "proposal").await, "accepted");
    staff.quit().await;
    buyer.quit().await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_the_language_switch_and_a_refund_done_with_the_keyboard_only() {
    let t = TestApp::new().await;
    let site = t.anon.base().to_string();
    let o = t.order("online", false).await;
    let id = t.apply(&o, "refund_unshipped", 1_000).await["case"]["id"].as_i64().unwrap();
    let staff = login(&site, "staff1", "password-123").await;
    staff.goto("/w/queue").await;
    assert!(staff.page_text().await.contains("售后工作台"), "Chinese for a douyin shop");
    staff.select("#lang-pick", "en").await;
    staff.settle().await;
    assert!(staff.page_text().await.contains("Cases"), "{}", staff.page_text().await);
    assert_eq!(staff.script("return document.documentElement.lang").await, json!("en"));

    // From the queue to the refund, by keyboard: Tab to the case's link, Enter, Tab to the
    // refund button, Enter, Enter again on the confirm dialog's OK (answered by the script).
    staff.script("window.confirm = function () { return true; };").await;
    let link = format!("/cases/{id}");
    let mut reached = false;
    for _ in 0..120 {
        staff.keys("\u{E004}").await;
        let href = staff.script("return document.activeElement.getAttribute('href')").await;
        if href == json!(link) {
            reached = true;
            break;
        }
    }
    assert!(reached, "the case link is reachable with Tab");
    assert_eq!(
        staff.script("return getComputedStyle(document.activeElement).outlineStyle").await,
        json!("solid"),
        "visible focus"
    );
    staff.keys("\u{E007}").await;
    staff.settle().await;
    assert_eq!(staff.path().await, link);
    staff.script("window.confirm = function () { return true; };").await;
    let mut on_refund = false;
    for _ in 0..120 {
        staff.keys("\u{E004}").await;
        let form =
            staff.script("var f = document.activeElement.form; return f ? f.getAttribute('action') : null").await;
        let tag = staff.script("return document.activeElement.tagName").await;
        if form == json!(format!("/cases/{id}/act/refund")) && tag == json!("BUTTON") {
            on_refund = true;
            break;
        }
    }
    assert!(on_refund, "the refund button is reachable with Tab");
    staff.keys("\u{E007}").await;
    staff.settle().await;
    assert_eq!(status(&staff).await, "refunding");
    staff.quit().await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_every_page_has_no_serious_accessibility_violation_and_fits_a_phone() {
    let t = TestApp::new().await;
    let site = t.anon.base().to_string();
    let o = t.order("online", true).await;
    let id = t.apply(&o, "return_refund", 3_000).await["case"]["id"].as_i64().unwrap();
    let o2 = t.order("online", true).await;
    let mut problems = Vec::new();
    let anon = Browser::start(&site).await;
    anon.goto("/login").await;
    problems.extend(anon.accessibility_problems().await.into_iter().map(|p| format!("/login: {p}")));
    anon.quit().await;
    let cases = format!("/cases/{id}");
    let apply = format!("/b/orders/{}/apply", o2["id"]);
    // A three-line order's form, with its line picker (L2).
    let apply3 = format!("/b/orders/{}/apply", crate::lines::three_line_order(&t).await["id"]);
    for (who, password, pages) in [
        (
            "owner1",
            "password-123",
            vec![
                "/w/queue",
                "/w/queue?queue=return_review",
                "/w/queue?queue=awaiting_replacement",
                cases.as_str(),
                "/w/settings",
                "/w/dashboard",
                "/w/messages",
            ],
        ),
        ("buyer1", "password-123", vec!["/b/orders", cases.as_str(), apply.as_str(), apply3.as_str()]),
        ("admin", "admin-password", vec!["/p/queue", "/p/search", "/p/sms", cases.as_str()]),
    ] {
        let b = login(&site, who, password).await;
        for page in pages {
            b.goto(page).await;
            // Every form of the case page open, so that its controls are checked too.
            b.script("document.querySelectorAll('details').forEach(function (d) { d.open = true; })").await;
            problems.extend(b.accessibility_problems().await.into_iter().map(|p| format!("{who} {page}: {p}")));
        }
        // 390 px wide: no page scrolls sideways.
        b.resize(390, 844).await;
        b.goto(if who == "buyer1" { "/b/orders" } else { cases.as_str() }).await;
        let wide = b.script("return document.documentElement.scrollWidth").await;
        assert!(wide.as_i64().unwrap() <= 390, "{who}: the page is {wide} px wide on a 390 px screen");
        b.screenshot(&format!("phone-{who}")).await;
        b.quit().await;
    }
    assert!(problems.is_empty(), "accessibility violations:\n{}", problems.join("\n"));
    t.stop().await;
}

/// The README's screenshots, made from the demo's data: the queue, a case page, the buyer's
/// case page and the dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_screenshots_of_the_demo() {
    let (_dir, running, _creds) = demo_server().await;
    let site = format!("http://{}", running.addr);
    let staff = login(&site, "staff-douyin", aftersale_http::demo::DEMO_PASSWORD).await;
    staff.goto("/w/queue").await;
    assert!(staff.count("table.cases tbody tr").await >= 5);
    staff.screenshot("readme-queue").await;
    // The case with the most on it: one in arbitration.
    staff.goto("/w/queue?queue=in_arbitration").await;
    staff.click("table.cases tbody tr a").await;
    staff.settle().await;
    let case_path = staff.path().await;
    staff.screenshot("readme-case").await;
    staff.goto("/w/dashboard").await;
    staff.screenshot("readme-dashboard").await;
    staff.quit().await;
    let buyer = login(&site, "alice", aftersale_http::demo::DEMO_PASSWORD).await;
    buyer.goto("/b/orders").await;
    let first = buyer
        .script("var a = document.querySelector('a[href^=\"/cases/\"]'); return a ? a.getAttribute('href') : null")
        .await;
    buyer.goto(first.as_str().unwrap_or(&case_path)).await;
    buyer.screenshot("readme-buyer-case").await;
    buyer.quit().await;
    running.stop().await;
}

/// The buyer, on the three-line order's application form, asks for `kind` on these units of its
/// three lines: the case page's path.
async fn apply_on_lines(buyer: &Browser, kind: &str, units: [u32; 3], reason: &str, amount: &str) -> String {
    buyer.select("#a-kind", kind).await;
    for (i, n) in units.iter().enumerate() {
        buyer.type_in(&format!("#a-units-{}", i + 1), &n.to_string()).await;
    }
    buyer.select("#a-reason", reason).await;
    buyer.type_in("#a-amount", amount).await;
    buyer.click("form.card button[type=submit]").await;
    buyer.settle().await;
    let case_path = buyer.path().await.split('?').next().unwrap().to_string();
    assert!(case_path.starts_with("/cases/"), "{case_path}: {}", buyer.page_text().await);
    case_path
}

/// The shop agrees to the return (default address); the buyer sends the parcel back.
async fn send_back(staff: &Browser, buyer: &Browser, case_path: &str, tracking_no: &str) {
    staff.goto(case_path).await;
    staff.open_action("agree_return").await;
    staff.submit_action("agree_return").await;
    assert_eq!(status(staff).await, "awaiting_buyer_return");
    buyer.goto(case_path).await;
    buyer.open_action("submit_return_logistics").await;
    buyer.type_in("#f-submit_return_logistics-logistics-carrier", "SF").await;
    buyer.type_in("#f-submit_return_logistics-logistics-tracking_no", tracking_no).await;
    buyer.submit_action("submit_return_logistics").await;
}

/// K1 in the workbench: on a three-line order the buyer picks one cup for an exchange; the shop
/// agrees, receives it back and ships the replacement from the new queue tab; the logistics feed
/// reports it delivered and the buyer confirms it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_an_exchange_of_one_line_end_to_end() {
    let t = TestApp::new().await;
    let site = t.anon.base().to_string();
    let o = crate::lines::three_line_order(&t).await;
    let buyer = login(&site, "buyer1", "password-123").await;
    let staff = login(&site, "staff1", "password-123").await;

    // The buyer picks the line and the unit, and sees the windows that run on each line.
    buyer.goto(&format!("/b/orders/{}/apply", o["id"])).await;
    let picker = buyer.text("[data-testid=line-picker]").await;
    assert!(picker.contains("保温杯") && picker.contains("电饭煲"), "{picker}");
    assert!(picker.contains("七天无理由截至") || picker.contains("Any-reason returns until"), "{picker}");
    let case_path = apply_on_lines(&buyer, "exchange", [1, 0, 0], "defective", "0.00").await;
    let lines = buyer.text("[data-testid=case-lines]").await;
    assert!(lines.contains("保温杯") && !lines.contains("电饭煲"), "only the cup: {lines}");

    // The shop agrees; the buyer sends the cup back; the shop receives it.
    send_back(&staff, &buyer, &case_path, "SF6000000001").await;
    staff.goto(&case_path).await;
    staff.submit_action("received_refund").await;
    assert_eq!(status(&staff).await, "awaiting_replacement");

    // The queue's tab for goods to ship lists it, with its countdown.
    staff.goto("/w/queue?queue=awaiting_replacement").await;
    let tab = staff.page_text().await;
    assert!(tab.contains(o["order_no"].as_str().unwrap()), "{tab}");
    assert_eq!(staff.text("[data-testid=row-lines]").await, "L1x1", "the row names the line and units");
    staff.goto(&case_path).await;
    assert!(staff.text("[data-testid=replacement]").await.len() > 4);
    staff.open_action("ship_replacement").await;
    staff.type_in("#f-ship_replacement-logistics-carrier", "SF").await;
    staff.type_in("#f-ship_replacement-logistics-tracking_no", "SF6100000001").await;
    staff.submit_action("ship_replacement").await;
    assert_eq!(status(&staff).await, "replacement_sent");

    // Delivered (the logistics feed), the buyer confirms it.
    let case_id = case_path.trim_start_matches("/cases/");
    let r = t
        .admin
        .post(&format!("/api/v1/cases/{case_id}/replacement-logistics"), &json!({ "delivered": true }))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    buyer.goto(&case_path).await;
    buyer.submit_action("confirm_replacement").await;
    assert_eq!(status(&buyer).await, "completed");
    buyer.screenshot("journey-buyer-exchange-completed").await;

    // C1 from the same page: the shop refunds 10.00 on the rice cooker of its own accord.
    staff.goto(&case_path).await;
    staff.open_action("merchant_refund").await;
    staff.select("#f-merchant_refund-reason", "price_correction").await;
    staff.type_in("#f-merchant_refund-units-2", "1").await;
    staff.type_in("#f-merchant_refund-amount", "10.00").await;
    staff.submit_action("merchant_refund").await;
    let refund_path = staff.path().await;
    assert!(
        refund_path.starts_with("/cases/") && !refund_path.starts_with(&case_path),
        "{refund_path}: {}",
        staff.page_text().await
    );
    assert_eq!(status(&staff).await, "refunding");
    t.stop().await;
}

/// L5 in the browser: the buyer returns both cups; one arrives. The shop records one received, the
/// buyer is refunded for it, and the missing cup is a case of its own, linked both ways, that the
/// shop may refund or reject.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_a_return_received_in_part_end_to_end() {
    let t = TestApp::new().await;
    let site = t.anon.base().to_string();
    let o = crate::lines::three_line_order(&t).await;
    let buyer = login(&site, "buyer1", "password-123").await;
    let staff = login(&site, "staff1", "password-123").await;
    let cups = o["lines"][0]["paid"]["minor"].as_i64().unwrap();

    buyer.goto(&format!("/b/orders/{}/apply", o["id"])).await;
    let amount = format!("{}.{:02}", cups / 100, cups % 100);
    let case_path = apply_on_lines(&buyer, "return_refund", [2, 0, 0], "damaged", &amount).await;
    send_back(&staff, &buyer, &case_path, "SF6200000001").await;

    // The shop finds one cup of two in the parcel.
    staff.goto(&case_path).await;
    staff.open_action("received_part").await;
    staff.type_in("#f-received_part-received-1", "1").await;
    staff.screenshot("journey-shop-received-in-part").await;
    staff.submit_action("received_part").await;
    assert_eq!(status(&staff).await, "refunding");
    let split = staff.text("[data-testid=split]").await;
    let case_id: i64 = case_path.trim_start_matches("/cases/").parse().unwrap();
    let page = t.case(&t.staff, case_id).await;
    let child = page["split_into"][0].as_i64().expect("a case for the missing cup");
    assert!(split.contains(&child.to_string()), "{split}");
    assert_eq!(page["amounts"]["amount"]["minor"], cups / 2);

    // The missing cup's case: linked back, awaiting the shop's word on the receipt.
    staff.goto(&format!("/cases/{child}")).await;
    assert_eq!(status(&staff).await, "awaiting_receipt");
    assert!(staff.text("[data-testid=split]").await.contains(&case_id.to_string()));
    let lines = staff.text("[data-testid=case-lines]").await;
    assert!(lines.contains("保温杯"), "{lines}");
    staff.open_action("reject").await;
    // The buyer sees it too, from their own case.
    buyer.goto(&format!("/cases/{child}")).await;
    assert_eq!(status(&buyer).await, "awaiting_receipt");
    buyer.screenshot("journey-buyer-missing-units-case").await;
    t.stop().await;
}
