//! End-to-end flows over HTTP, one per case type.

use crate::harness::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn u2_refund_before_shipment_refunds_itself_when_the_merchant_is_silent() {
    let t = TestApp::new().await;
    let o = t.order("online", false).await;
    let c = t.apply(&o, "refund_unshipped", 10_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    assert_eq!(c["queue"], "refund_unshipped");
    assert_eq!(c["deadline"]["kind"], "review");
    assert_eq!(c["deadline"]["time_left_ms"], 48 * 3_600_000);
    assert_eq!(c["deadline"]["on_expiry"], "the buyer is refunded");
    // The merchant sees it in its queue, with its actions and what silence does.
    let m = t.case(&t.staff, id).await;
    assert_eq!(m["deadline"]["on_expiry"], "the buyer is refunded");
    assert!(m["available_actions"].as_array().unwrap().contains(&json!("refund")));
    assert!(m["available_actions"].as_array().unwrap().contains(&json!("reject_by_shipping")));
    // One second before the deadline nothing happens; at it, the case refunds.
    t.advance("47h59m59s").await;
    assert_eq!(t.case(&t.buyer, id).await["status"], "awaiting_review");
    let fired = t.advance("1s").await;
    assert!(fired["fired"].as_u64().unwrap() >= 1);
    let after = t.case(&t.buyer, id).await;
    assert_eq!(after["status"], "refunding", "{after}");
    // An action after its deadline fired is refused with the rule that refused it.
    let late = t
        .act(
            &t.staff,
            id,
            "reject_by_shipping",
            json!({ "logistics": { "carrier": "SF", "tracking_no": "SF9999999999" } }),
        )
        .await;
    assert!(late.status == 422, "{}", body(&late));
    // The gateway settles a working day later: completed.
    t.advance("1d").await;
    assert_eq!(t.case(&t.buyer, id).await["status"], "completed");
    let log = t.case(&t.agent, id).await["log"].as_array().unwrap().len();
    assert!(log >= 3, "log has every step");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r5_return_flow_over_http_and_the_buyer_who_never_ships_back() {
    let t = TestApp::new().await;
    // A return that completes: agree with an address from the book, ship back, receive, refund.
    let o = t.order("online", true).await;
    let c = t.apply(&o, "return_refund", 10_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    assert_eq!(c["queue"], "return_review");
    let c = t.ok(&t.staff, id, "agree_return", json!({ "address_id": t.address_id })).await;
    assert_eq!(c["status"], "awaiting_buyer_return");
    assert_eq!(c["case"]["return_address"]["id"], t.address_id);
    let c = t
        .ok(
            &t.buyer,
            id,
            "submit_return_logistics",
            json!({ "logistics": { "carrier": "YTO", "tracking_no": "YT1234567890" } }),
        )
        .await;
    assert_eq!(c["status"], "awaiting_receipt");
    // The logistics feed reports the parcel signed for (M3).
    // The logistics feed reports the parcel signed for: the shop's integration token, not a
    // person's own token or session.
    let r = t.owner.post(&format!("/api/v1/cases/{id}/return-logistics"), &json!({ "signed": true })).await.unwrap();
    problem(&r, 403, "forbidden");
    let feed = t.integration().await;
    let r = feed.post(&format!("/api/v1/cases/{id}/return-logistics"), &json!({ "signed": true })).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(r.json()["case"]["return_parcel"]["signed"], true);
    let c = t.ok(&t.staff, id, "received_refund", json!({})).await;
    assert_eq!(c["status"], "refunding");
    t.advance("1d").await;
    assert_eq!(t.case(&t.buyer, id).await["status"], "completed");

    // R5: agreed, and the buyer never ships: closed after 7 days.
    let o = t.order("online", true).await;
    let c = t.apply(&o, "return_refund", 5_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, id, "agree_return", json!({})).await;
    t.advance("7d").await;
    let c = t.case(&t.buyer, id).await;
    assert_eq!(c["status"], "closed", "{c}");
    let late = t
        .act(
            &t.buyer,
            id,
            "submit_return_logistics",
            json!({ "logistics": { "carrier": "YTO", "tracking_no": "YT1234567891" } }),
        )
        .await;
    assert_eq!(late.status, 422, "{}", body(&late));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2_refund_only_arbitration_with_an_evidence_request_that_times_out_and_an_appeal() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let c = t.apply(&o, "refund_only", 10_000).await;
    let id = c["case"]["id"].as_i64().unwrap();
    assert_eq!(c["queue"], "refund_only");
    // Rejection needs evidence (uploaded first, by the shop).
    let ev = t.upload(&t.staff).await;
    let rejected = t
        .ok(
            &t.staff,
            id,
            "reject",
            json!({ "reason_code": "no_quality_issue", "explanation": "checked", "evidence": [ev] }),
        )
        .await;
    assert_eq!(rejected["status"], "rejected");
    // The buyer can fetch the rejection's evidence from the case; another buyer cannot.
    let key = ev["key"].as_str().unwrap().trim_start_matches("ev/").to_string();
    let file = t.buyer.get(&format!("/api/v1/cases/{id}/evidence/{key}")).await.unwrap();
    assert_eq!(file.status, 200);
    assert_eq!(&file.body[..], PNG);
    assert_eq!(file.header("content-type"), Some("image/png"));
    problem(&t.buyer2.get(&format!("/api/v1/cases/{id}/evidence/{key}")).await.unwrap(), 404, "not_found");
    t.ok(&t.buyer, id, "escalate", json!({ "reason": "it is broken" })).await;
    let c = t.ok(&t.agent, id, "request_evidence", json!({ "instructions": "send the packing video" })).await;
    assert_eq!(c["queue"], "awaiting_evidence");
    assert_eq!(c["deadline"]["kind"], "evidence");
    // The shop is reminded (E5) and then loses by default (E2).
    t.advance("12h").await;
    let mb = t.owner.get("/api/v1/messages").await.unwrap().json();
    assert!(mb["unread"]["arbitration"].as_u64().unwrap_or(0) >= 1, "{mb}");
    t.advance("12h").await;
    let c = t.case(&t.agent, id).await;
    assert_eq!(c["case"]["arbitration"]["ruling"]["for_party"], "buyer", "{c}");
    let late = t.act(&t.staff, id, "submit_evidence", json!({ "explanation": "late" })).await;
    assert_eq!(late.status, 422, "{}", body(&late));
    // T4: the merchant appeals; the platform reviews and decides.
    t.ok(&t.owner, id, "appeal", json!({ "text": "we had the video" })).await;
    t.ok(&t.agent, id, "review_appeal", json!({})).await;
    let c =
        t.ok(&t.agent, id, "decide_appeal", json!({ "upheld": false, "reason": "no video was sent in time" })).await;
    assert_eq!(c["case"]["appeal"]["state"], "dismissed", "{c}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_negotiation_accepted_declined_and_lapsed() {
    let t = TestApp::new().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let o = t.order("online", true).await;
        let c = t.apply(&o, "return_refund", 10_000).await;
        let id = c["case"]["id"].as_i64().unwrap();
        let c = t.ok(&t.staff, id, "propose", json!({ "kind": "refund_only", "amount": cny(4_000) })).await;
        assert_eq!(c["queue"], "negotiation_pending");
        ids.push(id);
    }
    let a = t.ok(&t.buyer, ids[0], "accept_proposal", json!({})).await;
    assert_eq!(a["case"]["proposal"]["state"], "accepted");
    assert_eq!(a["case"]["amount"], cny(4_000));
    let d = t.ok(&t.buyer, ids[1], "decline_proposal", json!({})).await;
    assert_eq!(d["case"]["proposal"]["state"], "declined");
    // N3: one negotiation per case.
    let again = t.act(&t.staff, ids[1], "propose", json!({ "kind": "refund_only", "amount": cny(5_000) })).await;
    problem(&again, 422, "negotiation_used");
    // Nobody answers the third: it lapses with the review deadline.
    t.advance("48h").await;
    let l = t.case(&t.buyer, ids[2]).await;
    assert_eq!(l["case"]["proposal"]["state"], "lapsed", "{l}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m6_cod_refund_waits_for_the_voucher_and_the_account_never_reaches_the_merchant() {
    let t = TestApp::new().await;
    let o = t.order("cod", true).await;
    let r = t
        .try_apply(
            &t.buyer,
            &o,
            json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(10_000),
                "refund_account": { "holder": "Wang", "bank": "ICBC", "number": "6222 0000 1111 2222" } }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", body(&r));
    assert!(String::from_utf8_lossy(&r.body).contains("6222 0000"), "the buyer sees their own account");
    let id = r.json()["case"]["id"].as_i64().unwrap();
    let c = t.ok(&t.staff, id, "refund", json!({})).await;
    assert_eq!(c["status"], "awaiting_voucher");
    // R6: nothing a merchant reads carries the account.
    for path in [
        format!("/api/v1/cases/{id}"),
        "/api/v1/cases".to_string(),
        "/api/v1/messages".to_string(),
        format!("/api/v1/orders/{}", o["id"]),
    ] {
        for who in [&t.staff, &t.owner] {
            let r = who.get(&path).await.unwrap();
            assert_eq!(r.status, 200, "{path}");
            let text = String::from_utf8_lossy(&r.body);
            assert!(!text.contains("6222") && !text.contains("refund_account"), "{path}: {text}");
        }
    }
    assert!(
        String::from_utf8_lossy(&t.agent.get(&format!("/api/v1/cases/{id}")).await.unwrap().body).contains("6222 0000")
    );
    let sms = t.agent.get("/api/v1/sms").await.unwrap();
    assert!(!String::from_utf8_lossy(&sms.body).contains("6222"));
    // No voucher in 48 h: the platform compensates and the shop is penalised.
    t.advance("48h").await;
    let pens = t.owner.get(&format!("/api/v1/shops/{}/penalties", t.shop)).await.unwrap().json();
    assert_eq!(pens["items"].as_array().unwrap().len(), 1, "{pens}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t2_r4_a_reply_template_and_a_book_address_are_named_by_id_and_resolved_by_the_engine() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 10_000).await["case"]["id"].as_i64().unwrap();
    let tpl_path = format!("/api/v1/shops/{}/templates", t.shop);
    let tpl =
        t.owner.post(&tpl_path, &json!({ "title": "Sorry", "body": "We are sorry; we will make it right." })).await;
    let tpl_id = tpl.unwrap().json()["id"].as_i64().unwrap();
    // T2: no text typed, the template's text is the message.
    let c = t.ok(&t.staff, id, "post_message", json!({ "template_id": tpl_id })).await;
    let thread = c["case"]["thread"].as_array().unwrap();
    assert_eq!(thread.last().unwrap()["text"], "We are sorry; we will make it right.", "{c}");
    // Text typed wins over a template chosen.
    let c = t.ok(&t.staff, id, "post_message", json!({ "text": "Typed.", "template_id": tpl_id })).await;
    assert_eq!(c["case"]["thread"].as_array().unwrap().last().unwrap()["text"], "Typed.");
    // A buyer has no templates; an id that is not the shop's is refused, naming the field; nothing changes.
    let before = t.case(&t.agent, id).await["case"]["thread"].as_array().unwrap().len();
    for (who, tid) in [(&t.buyer, tpl_id), (&t.staff, tpl_id + 1000)] {
        let v = problem(&t.act(who, id, "post_message", json!({ "template_id": tid })).await, 422, "invalid_value");
        assert_eq!((v["field"].as_str(), v["rule"].as_str()), (Some("template_id"), Some("T2")), "{v}");
    }
    assert_eq!(t.case(&t.agent, id).await["case"]["thread"].as_array().unwrap().len(), before);
    // R4: a proposal that takes the goods back names its address from the book by id.
    let v = problem(
        &t.act(&t.staff, id, "propose", json!({ "kind": "return_refund", "amount": { "minor": 5_000, "currency": "CNY" }, "address_id": t.address_id + 1000 })).await,
        422,
        "invalid_value",
    );
    assert_eq!((v["field"].as_str(), v["rule"].as_str()), (Some("address_id"), Some("R4")), "{v}");
    let c = t
        .ok(
            &t.staff,
            id,
            "propose",
            json!({ "kind": "return_refund", "amount": { "minor": 5_000, "currency": "CNY" }, "address_id": t.address_id }),
        )
        .await;
    assert_eq!(c["case"]["proposal"]["address"]["id"], t.address_id, "{c}");
    t.stop().await;
}
