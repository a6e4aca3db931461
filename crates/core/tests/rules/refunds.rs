//! Refund before shipment (U1–U3) and refund only (S1–S4).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::{Cod, Online};

#[test]
fn u1_buyer_applies_for_refund_before_shipment() {
    // given a paid, unshipped online order
    let mut w = World::new("douyin", Online, At::Paid);
    // when the buyer applies
    w.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    // then the case awaits review in the refund-before-shipment queue
    assert_eq!(w.status(), Status::AwaitingReview);
    assert_eq!(w.case().queue(), Queue::RefundUnshipped);
    // shipped orders and COD orders cannot take it
    let mut shipped = World::new("douyin", Online, At::Shipped);
    assert!(matches!(
        shipped.apply_for(CaseType::RefundUnshipped, cny(10)),
        Err(Refusal::WrongState { rule: "U1", .. })
    ));
    let mut cod = World::new("douyin", Cod, At::Paid);
    assert!(cod.apply_for(CaseType::RefundUnshipped, cny(10)).is_err());
}

#[test]
fn u2_merchant_silence_refunds_after_48h_with_a_near_deadline_reminder() {
    let mut w = World::new("douyin", Online, At::Paid);
    w.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    assert_eq!(w.deadline(K::Review), Some(T0 + Dur::hours(48)));
    // with 12h left the shop gets a near-deadline message, once
    w.advance(Dur::hours(36));
    assert_eq!(w.fire_due(), vec![K::ReviewReminder]);
    let reminder = w.log.last().unwrap().event.clone();
    let outbox = w.notices(&[reminder]);
    assert_eq!(outbox.notices[0].recipient, Recipient::Shop(ShopId(1)));
    assert!(w.fire_due().is_empty());
    // at 48h the system refunds and the order is cancelled
    w.advance(Dur::hours(12));
    assert_eq!(w.fire_due(), vec![K::Review]);
    assert_eq!(w.status(), Status::Refunding);
    assert_eq!(w.order.state, OrderState::Cancelled);
    assert_eq!(w.order.refunded, cny(110));
    // one second later the merchant's answer is refused with the deadline named
    w.advance(Dur::secs(1));
    let r = w.refused(MERCHANT, CaseCommand::Refund);
    assert!(matches!(r, Refusal::DeadlinePassed { kind: K::Review, .. }), "{r:?}");
}

#[test]
fn u3_refund_cancels_the_order_and_rejecting_means_shipping() {
    // refund: money back, order cancelled
    let mut w = World::new("douyin", Online, At::Paid);
    w.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    w.cmd(MERCHANT, CaseCommand::Refund).unwrap();
    assert_eq!(w.order.state, OrderState::Cancelled);
    assert_eq!(w.case().refund.as_ref().unwrap().amount, cny(110));
    // reject: only by shipping, with carrier and tracking number
    let mut w = World::new("douyin", Online, At::Paid);
    w.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    assert!(matches!(w.refused(MERCHANT, reject_cmd()), Refusal::WrongState { rule: "U3", .. }));
    w.cmd(MERCHANT, CaseCommand::RejectByShipping { logistics: logistics("YT9876543210") }).unwrap();
    assert_eq!(w.order.state, OrderState::Shipped);
    assert_eq!(w.order.shipment.as_ref().unwrap().tracking_no.as_str(), "YT9876543210");
    assert_eq!(w.status(), Status::Rejected { stage: Stage::Review });
}

// ------------------------------------------------------------------------------------------------
// Refund only

#[test]
fn s1_refund_only_queue() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    assert_eq!(w.case().queue(), Queue::RefundOnly);
}

#[test]
fn s2_refund_only_timeout_refunds() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    w.run_to(K::Review);
    assert_eq!(w.status(), Status::Refunding);
    assert_eq!(w.order.state, OrderState::Shipped, "a shipped order is not cancelled");
    let fired = w.log.iter().find(|r| matches!(r.event, Event::DeadlineFired { kind: K::Review, .. })).unwrap();
    assert_eq!(fired.actor, SYSTEM);
}

#[test]
fn s3_detail_shows_time_left_and_buyer_evidence() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    w.advance(Dur::hours(10));
    let d = w.case().governing_deadline(&w.policy).unwrap();
    assert_eq!((d.kind, d.due - w.now), (K::Review, Dur::hours(38)));
    assert_eq!(w.case().evidence, vec![(Party::Buyer, evidence(1))]);
    assert_eq!(w.case().description, "the bin arrived dented");
}

#[test]
fn s4_reject_needs_a_listed_reason_and_evidence() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    let no_evidence =
        CaseCommand::Reject { reason_code: "not_as_claimed".into(), explanation: String::new(), evidence: vec![] };
    assert_eq!(w.refused(MERCHANT, no_evidence).field(), Some("evidence"));
    let bad_reason = CaseCommand::Reject {
        reason_code: "i_dont_like_it".into(),
        explanation: String::new(),
        evidence: vec![evidence(2)],
    };
    assert_eq!(w.refused(MERCHANT, bad_reason).field(), Some("reason_code"));
    let wrong_stage = CaseCommand::Reject {
        reason_code: "missing_parts".into(),
        explanation: String::new(),
        evidence: vec![evidence(2)],
    };
    assert_eq!(w.refused(MERCHANT, wrong_stage).rule(), Some("S4"));
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    assert_eq!(w.status(), Status::Rejected { stage: Stage::Review });
    assert_eq!(w.case().rejection.as_ref().unwrap().evidence, vec![evidence(9)]);
}
