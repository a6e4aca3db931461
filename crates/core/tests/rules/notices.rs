//! Message-box entries and SMS produced as data (X1, X2).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use PaymentMethod::Online;

#[test]
fn x1_message_box_entries_for_new_cases_proposals_rulings_and_evidence_requests() {
    let mut w = World::new("douyin", Online, At::Delivered);
    let ev = w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    let out = w.notices(&ev);
    assert_eq!(out.notices[0].recipient, Recipient::Shop(ShopId(1)));
    assert!(out.notices[0].title.contains("New after-sales request"));
    let ev = w.cmd(MERCHANT, reject_cmd()).unwrap();
    assert_eq!(w.notices(&ev).notices[0].recipient, Recipient::Buyer(BuyerId(7)));
    let ev = w.cmd(BUYER, CaseCommand::Escalate { reason: "x".into() }).unwrap();
    assert_eq!(w.notices(&ev).notices[0].recipient, Recipient::Platform);
    let ev = w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos please".into() }).unwrap();
    assert_eq!(w.notices(&ev).notices[0].category, notice::Category::Arbitration);
}

#[test]
fn x2_sms_notices_are_produced_as_data() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    let ev = w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let sms = w.notices(&ev).sms;
    assert_eq!(sms.len(), 1);
    assert!(sms[0].text.starts_with("【售后】"));
}

/// The message-box entries `events` produce, as (recipient, category, title).
fn boxes(w: &World, events: &[Event]) -> Vec<(Recipient, notice::Category, String)> {
    w.notices(events).notices.into_iter().map(|n| (n.recipient, n.category, n.title)).collect()
}

#[test]
fn x1_each_event_that_tells_someone_reaches_the_right_box() {
    use notice::Category::*;
    let shop = Recipient::Shop(ShopId(1));
    let buyer = Recipient::Buyer(BuyerId(7));
    // shipping instead of refunding tells the buyer, with the tracking number
    let mut u = World::new("douyin", Online, At::Paid);
    u.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    let ev = u.cmd(MERCHANT, CaseCommand::RejectByShipping { logistics: logistics("SF8000000001") }).unwrap();
    let out = u.notices(&ev);
    assert_eq!((out.notices[0].recipient, out.notices[0].category), (buyer, AfterSales));
    assert!(out.notices[0].body.contains("SF8000000001"), "{:?}", out.notices[0]);
    // messages go to the other side
    let mut m = return_case("douyin");
    let ev = m.cmd(BUYER, CaseCommand::PostMessage { text: "hi".into() }).unwrap();
    assert_eq!(boxes(&m, &ev), vec![(shop, AfterSales, "New message on AS00000500".to_string())]);
    let ev = m.cmd(MERCHANT, CaseCommand::PostMessage { text: "hello".into() }).unwrap();
    assert_eq!(boxes(&m, &ev)[0].0, buyer);
    // a proposal goes to the buyer
    let ev = m.cmd(MERCHANT, propose_partial()).unwrap();
    assert_eq!(boxes(&m, &ev)[0].0, buyer);
    // a refund that fails goes to the platform; one that arrives to the buyer, with its amount
    let mut r = World::new("douyin", Online, At::Shipped);
    r.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    r.cmd(MERCHANT, CaseCommand::Refund).unwrap();
    let ev = r.cmd(SYSTEM, CaseCommand::RecordRefundOutcome { ok: false, detail: "bank down".into() }).unwrap();
    let out = r.notices(&ev);
    assert_eq!((out.notices[0].recipient, out.notices[0].body.as_str()), (Recipient::Platform, "bank down"));
    let ev = r.cmd(SYSTEM, CaseCommand::RecordRefundOutcome { ok: true, detail: String::new() }).unwrap();
    let out = r.notices(&ev);
    assert_eq!(out.notices[0].recipient, buyer);
    assert!(out.notices[0].body.contains("50.00"), "{:?}", out.notices[0]);
    // a ruling tells both sides; an appeal decision tells the shop
    let mut a = rejected("douyin");
    a.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    let ev = a.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "damage shown".into() }).unwrap();
    let to: Vec<Recipient> = boxes(&a, &ev).into_iter().filter(|b| b.1 == Arbitration).map(|b| b.0).collect();
    assert_eq!(to, vec![shop, buyer]);
    // T4: an appeal waits in the platform's box for review
    let ev = a.cmd(MERCHANT, CaseCommand::Appeal { text: "unfair".into(), evidence: vec![] }).unwrap();
    assert_eq!(
        boxes(&a, &ev),
        vec![(Recipient::Platform, Appeal, "AS00000500: the shop appealed the ruling".to_string())]
    );
    let ev = a.cmd(AGENT, CaseCommand::DecideAppeal { upheld: false, reason: "no".into() }).unwrap();
    assert_eq!(boxes(&a, &ev), vec![(shop, Appeal, "Appeal on AS00000500 dismissed".to_string())]);
    // reminding the buyer is an SMS to the order's phone
    let mut b = return_case("douyin");
    b.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let ev = b.cmd(MERCHANT, CaseCommand::RemindBuyer).unwrap();
    let out = b.notices(&ev);
    assert_eq!(out.sms.len(), 1);
    assert_eq!(out.sms[0].phone.as_str(), "13800131234");
    assert!(out.notices.is_empty());
}

#[test]
fn x1_notices_say_reasons_and_parties_in_words_in_both_languages() {
    let mut w = World::new("douyin", PaymentMethod::Online, At::Delivered);
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    let events = w.cmd(MERCHANT, reject_cmd()).unwrap();
    let out = w.notices(&events);
    let rejected = out.notices.iter().find(|n| n.recipient == Recipient::Buyer(BuyerId(7))).unwrap();
    let code = match &events[0] {
        Event::Rejected { reason_code, .. } => reason_code.clone(),
        other => panic!("{other:?}"),
    };
    let reason = aftersale_core::command::REJECT_REASONS.iter().find(|(r, _)| r.code == code).unwrap().0;
    assert!(rejected.body.contains(reason.en) && rejected.body_zh.contains(reason.zh), "{rejected:?}");
    assert!(!rejected.body.contains(&code) || reason.en.contains(&code), "no raw code: {rejected:?}");
    let events = w.cmd(BUYER, CaseCommand::Escalate { reason: "it is dented".into() }).unwrap();
    let out = w.notices(&events);
    let escalated = out.notices.iter().find(|n| n.recipient == Recipient::Platform).unwrap();
    assert!(escalated.body.contains("buyer") && escalated.body_zh.contains("买家"), "{escalated:?}");
    let events =
        w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Merchant, reason: "packing was fine".into() }).unwrap();
    let out = w.notices(&events);
    let ruling = out.notices.iter().find(|n| n.recipient == Recipient::Shop(ShopId(1))).unwrap();
    assert!(ruling.title.contains("shop") && ruling.title_zh.contains("商家胜诉"), "{ruling:?}");
}
