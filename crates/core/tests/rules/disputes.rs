//! Applications, the message thread, escalation by either side and appeals (T1–T4).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::decide::{MAX_EVIDENCE_PER_PARTY, MAX_MESSAGES_PER_PARTY};
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::Online;

#[test]
fn t1_application_carries_its_fields_and_both_sides_add_evidence() {
    let mut w = World::new("douyin", Online, At::Shipped);
    let bad = Apply { reason: "whatever".into(), ..application(CaseType::RefundOnly, cny(5)) };
    assert_eq!(w.apply_with(bad).unwrap_err().field(), Some("reason"));
    w.apply_for(CaseType::RefundOnly, cny(20)).unwrap();
    let c = w.case();
    assert_eq!((c.kind, c.reason.as_str(), c.amount), (CaseType::RefundOnly, "damaged", cny(20)));
    w.cmd(MERCHANT, CaseCommand::AddEvidence { evidence: vec![evidence(6)] }).unwrap();
    w.cmd(BUYER, CaseCommand::AddEvidence { evidence: vec![evidence(7)] }).unwrap();
    let parties: Vec<Party> = w.case().evidence.iter().map(|(p, _)| *p).collect();
    assert_eq!(parties, vec![Party::Buyer, Party::Merchant, Party::Buyer]);
    // one open case per order
    assert!(matches!(w.apply_for(CaseType::RefundOnly, cny(1)), Err(Refusal::CaseAlreadyOpen { .. })));
    // another shop cannot touch it
    assert!(matches!(
        w.refused(OTHER_SHOP, CaseCommand::AddEvidence { evidence: vec![evidence(6)] }),
        Refusal::NotAllowedFor { .. }
    ));
}

#[test]
fn t2_message_thread_between_buyer_and_merchant() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(20)).unwrap();
    let ev = w.cmd(BUYER, CaseCommand::PostMessage { text: "can you refund 10?".into() }).unwrap();
    assert_eq!(w.notices(&ev).notices[0].recipient, Recipient::Shop(ShopId(1)));
    w.cmd(MERCHANT, CaseCommand::PostMessage { text: "yes".into() }).unwrap();
    let from: Vec<Party> = w.case().thread.iter().map(|m| m.from).collect();
    assert_eq!(from, vec![Party::Buyer, Party::Merchant]);
    assert!(matches!(w.refused(AGENT, CaseCommand::PostMessage { text: "hi".into() }), Refusal::NotAllowedFor { .. }));
    assert_eq!(w.refused(BUYER, CaseCommand::PostMessage { text: "".into() }).field(), Some("text"));
}

#[test]
fn t2_a_thread_keeps_at_most_a_hundred_messages_from_each_side() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(20)).unwrap();
    for i in 0..MAX_MESSAGES_PER_PARTY {
        w.cmd(BUYER, CaseCommand::PostMessage { text: format!("message {i}") }).unwrap();
    }
    let full = w.refused(BUYER, CaseCommand::PostMessage { text: "one more".into() });
    assert_eq!((full.field(), full.rule()), (Some("text"), Some("T2")), "{full:?}");
    // the other side still answers
    w.cmd(MERCHANT, CaseCommand::PostMessage { text: "we hear you".into() }).unwrap();
    assert_eq!(w.case().thread.len(), MAX_MESSAGES_PER_PARTY + 1);
}

#[test]
fn t1_a_case_keeps_at_most_sixty_evidence_files_from_each_side() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(20)).unwrap();
    let from_buyer = |w: &World| w.case().evidence.iter().filter(|(p, _)| *p == Party::Buyer).count();
    let files = |n: usize| (0..n).map(|i| evidence(i as u8)).collect::<Vec<_>>();
    while from_buyer(&w) + 20 <= MAX_EVIDENCE_PER_PARTY {
        w.cmd(BUYER, CaseCommand::AddEvidence { evidence: files(20) }).unwrap();
    }
    let room = MAX_EVIDENCE_PER_PARTY - from_buyer(&w);
    let over = w.refused(BUYER, CaseCommand::AddEvidence { evidence: files(room + 1) });
    assert_eq!((over.field(), over.rule()), (Some("evidence"), Some("T1")), "{over:?}");
    if room > 0 {
        w.cmd(BUYER, CaseCommand::AddEvidence { evidence: files(room) }).unwrap();
    }
    assert_eq!(from_buyer(&w), MAX_EVIDENCE_PER_PARTY);
    assert_eq!(w.refused(BUYER, CaseCommand::AddEvidence { evidence: files(1) }).field(), Some("evidence"));
    // the merchant's files are counted apart
    w.cmd(MERCHANT, CaseCommand::AddEvidence { evidence: files(20) }).unwrap();
}

#[test]
fn t3_either_side_may_escalate() {
    let mut w = rejected("douyin");
    w.cmd(MERCHANT, CaseCommand::Escalate { reason: "buyer keeps asking".into() }).unwrap();
    assert_eq!(w.case().arbitration.as_ref().unwrap().opened_by, Party::Merchant);
    let mut r = shipped_back("douyin", Online);
    r.cmd(MERCHANT, CaseCommand::Escalate { reason: "empty parcel".into() }).unwrap();
    r.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "parcel weight matches".into() }).unwrap();
    assert!(r.log.iter().any(|x| x.event == Event::ReceiptConfirmed));
}

#[test]
fn t4_appeal_within_the_window_with_its_states() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "damage shown".into() }).unwrap();
    w.run_to(K::RefundSettle);
    assert_eq!(w.status(), Status::Completed);
    assert!(!w.case().is_finished(), "the appeal window is open");
    let appeal = CaseCommand::Appeal { text: "the photos are of another item".into(), evidence: vec![evidence(10)] };
    w.cmd(MERCHANT, appeal.clone()).unwrap();
    assert_eq!(w.case().appeal.as_ref().unwrap().state, AppealState::Submitted);
    w.cmd(AGENT, CaseCommand::ReviewAppeal).unwrap();
    assert_eq!(w.case().appeal.as_ref().unwrap().state, AppealState::UnderReview);
    let ev = w.cmd(AGENT, CaseCommand::DecideAppeal { upheld: true, reason: "confirmed".into() }).unwrap();
    assert_eq!(w.case().appeal.as_ref().unwrap().state, AppealState::Upheld);
    assert!(w.notices(&ev).notices.iter().any(|n| n.category == notice::Category::Appeal));
    assert!(w.case().is_finished());
    // the window closes after 7 days
    let mut late = rejected("douyin");
    late.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    late.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "damage".into() }).unwrap();
    let window = late.deadline(K::AppealWindow).unwrap();
    assert_eq!(window, late.now + Dur::days(7));
    late.now = window;
    late.fire_due();
    late.advance(Dur::secs(1));
    assert!(late.case().is_finished());
    assert!(late.cmd(MERCHANT, appeal).is_err());
}
