//! Platform intervention: escalation, evidence requests and rulings (E1–E6).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::Online;

#[test]
fn e1_buyer_may_ask_for_intervention_after_a_rejection() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    assert!(matches!(w.refused(BUYER, CaseCommand::Escalate { reason: "x".into() }), Refusal::WrongState { .. }));
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    w.cmd(BUYER, CaseCommand::Escalate { reason: "the item is broken".into() }).unwrap();
    assert_eq!(w.status(), Status::InArbitration);
    assert_eq!(w.case().arbitration.as_ref().unwrap().opened_by, Party::Buyer);
}

#[test]
fn e2_evidence_timeout_rules_for_the_buyer() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "show the shipping photos".into() }).unwrap();
    assert_eq!(w.deadline(K::Evidence), Some(w.now + Dur::hours(24)));
    w.run_to(K::Evidence);
    let ruling = w.case().arbitration.as_ref().unwrap().ruling.clone().unwrap();
    assert_eq!((ruling.for_party, ruling.agent), (Party::Buyer, None));
    assert_eq!(w.status(), Status::Refunding);
    w.advance(Dur::secs(1));
    let late = CaseCommand::SubmitEvidence { explanation: "here".into(), evidence: vec![evidence(3)] };
    assert!(matches!(w.refused(MERCHANT, late), Refusal::DeadlinePassed { kind: K::Evidence, .. }));
}

#[test]
fn e3_awaiting_evidence_queue_shows_time_left_and_takes_submission() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
    assert_eq!(w.case().queue(), Queue::AwaitingEvidence);
    w.advance(Dur::hours(3));
    let d = w.case().governing_deadline(&w.policy).unwrap();
    assert_eq!((d.kind, d.due - w.now), (K::Evidence, Dur::hours(21)));
    let missing = CaseCommand::SubmitEvidence { explanation: " ".into(), evidence: vec![] };
    assert_eq!(w.refused(MERCHANT, missing).field(), Some("explanation"));
    w.cmd(MERCHANT, CaseCommand::SubmitEvidence { explanation: "packed intact".into(), evidence: vec![evidence(5)] })
        .unwrap();
    assert_eq!(w.case().queue(), Queue::InArbitration);
    assert_eq!(w.deadline(K::Evidence), None);
}

#[test]
fn e4_evidence_request_and_submission_appear_in_the_log() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
    w.cmd(MERCHANT, CaseCommand::SubmitEvidence { explanation: "packed intact".into(), evidence: vec![evidence(5)] })
        .unwrap();
    let names: Vec<(&str, Party)> = w.log.iter().map(|r| (r.event.name(), r.actor.party())).collect();
    assert!(names.contains(&("evidence_requested", Party::Platform)));
    assert!(names.contains(&("evidence_submitted", Party::Merchant)));
}

#[test]
fn e5_evidence_reminder_at_12h_left_goes_to_the_shop_message_box() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
    w.advance(Dur::hours(12) - Dur::secs(1));
    assert!(w.fire_due().is_empty());
    w.advance(Dur::secs(1));
    assert_eq!(w.fire_due(), vec![K::EvidenceReminder]);
    let last = w.log.last().unwrap().event.clone();
    let out = w.notices(&[last]);
    assert_eq!(out.notices.len(), 1);
    assert_eq!(
        (out.notices[0].recipient, out.notices[0].category),
        (Recipient::Shop(ShopId(1)), notice::Category::AfterSales)
    );
    // once only
    w.advance(Dur::hours(1));
    assert!(w.fire_due().is_empty());
}

#[test]
fn e6_the_agent_rules_and_both_sides_see_it() {
    // for the buyer: the request is carried out
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    let ev = w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "photos show damage".into() }).unwrap();
    assert_eq!(w.status(), Status::Refunding);
    let out = w.notices(&ev);
    for who in [Recipient::Shop(ShopId(1)), Recipient::Buyer(BuyerId(7))] {
        assert!(out.notices.iter().any(|n| n.recipient == who && n.body == "photos show damage"));
    }
    // for the merchant: closed as rejected
    let mut m = rejected("douyin");
    m.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    m.cmd(AGENT, CaseCommand::Rule { for_party: Party::Merchant, reason: "no damage".into() }).unwrap();
    assert_eq!(m.status(), Status::Closed { reason: CloseReason::RuledForMerchant });
    // a return rejected at review, ruled for the buyer: the return is agreed
    let mut r = World::new("douyin", Online, At::Delivered);
    r.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    r.cmd(MERCHANT, reject_cmd()).unwrap();
    r.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    r.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "ok".into() }).unwrap();
    assert_eq!(r.status(), Status::AwaitingBuyerReturn);
    // only agents rule
    assert!(matches!(
        m.cmd(MERCHANT, CaseCommand::Rule { for_party: Party::Merchant, reason: "x".into() }),
        Err(Refusal::NotAllowedFor { .. })
    ));
}
