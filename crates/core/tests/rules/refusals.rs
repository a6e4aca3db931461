//! Who may do what, and when: the refusals at the edges of each rule, the counters and versions
//! the state keeps, and what the case page says a deadline will do.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::{Cod, Online};

fn ruled_for_buyer() -> World {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "damage shown".into() }).unwrap();
    w
}

#[test]
fn o4_an_unpaid_order_expires_only_once_due() {
    let mut w = World::new("douyin", Online, At::Unpaid);
    let due = w.deadline(K::OrderUnpaid).unwrap();
    w.now = due - Dur(1);
    let expire = OrderCommand::Expire { kind: K::OrderUnpaid };
    assert_eq!(w.order_cmd(SYSTEM, expire.clone()).unwrap_err(), Refusal::NotDue { kind: K::OrderUnpaid });
    assert_eq!(w.order.state, OrderState::AwaitingPayment);
    w.now = due;
    w.order_cmd(SYSTEM, expire.clone()).unwrap();
    assert_eq!(w.order.state, OrderState::Cancelled);
    // a paid order has no payment deadline left to expire
    let mut paid = World::new("douyin", Online, At::Paid);
    paid.now = due;
    assert_eq!(paid.order_cmd(SYSTEM, expire).unwrap_err(), Refusal::NotDue { kind: K::OrderUnpaid });
}

#[test]
fn o1_order_versions_count_every_order_change() {
    let mut w = World::new("douyin", Online, At::Unpaid);
    assert_eq!(w.order.version, 0);
    w.order_cmd(SYSTEM, OrderCommand::Pay).unwrap();
    assert_eq!(w.order.version, 1);
    w.order_cmd(MERCHANT, OrderCommand::Ship { logistics: logistics("SF1000000009") }).unwrap();
    assert_eq!(w.order.version, 2);
    // a case event that leaves the order alone does not move it
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    assert_eq!(w.order.version, 3, "the open case is on the order");
    w.cmd(BUYER, CaseCommand::PostMessage { text: "hello".into() }).unwrap();
    assert_eq!(w.order.version, 3);
}

#[test]
fn t1_a_case_version_counts_every_case_event() {
    let mut w = return_case("douyin");
    assert_eq!(w.case().version, 1);
    w.cmd(BUYER, CaseCommand::PostMessage { text: "hello".into() }).unwrap();
    assert_eq!(w.case().version, 2);
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    assert_eq!(w.case().version, 3);
}

#[test]
fn t1_only_the_orders_buyer_applies() {
    let mut w = World::new("douyin", Online, At::Delivered);
    let cmd = application(CaseType::RefundOnly, cny(10));
    let r = aftersale_core::apply(&w.order, CaseId(501), &cmd, &OTHER_BUYER, &w.ctx()).unwrap_err();
    assert!(matches!(r, Refusal::NotAllowedFor { party: Party::Buyer, rule: "T1", .. }), "{r:?}");
    let r = aftersale_core::apply(&w.order, CaseId(501), &cmd, &MERCHANT, &w.ctx()).unwrap_err();
    assert!(matches!(r, Refusal::NotAllowedFor { party: Party::Merchant, rule: "T1", .. }), "{r:?}");
    w.apply_with(cmd).unwrap();
}

#[test]
fn t3_the_buyer_escalates_only_a_rejection_while_the_merchant_may_escalate_a_disputed_parcel() {
    let mut w = shipped_back("douyin", Online);
    let r = w.refused(BUYER, CaseCommand::Escalate { reason: "slow".into() });
    assert!(matches!(r, Refusal::WrongState { rule: "E1", .. }), "{r:?}");
    w.cmd(MERCHANT, CaseCommand::Escalate { reason: "the parcel is empty".into() }).unwrap();
    assert_eq!(w.status(), Status::InArbitration);
}

#[test]
fn u3_r3_actions_that_belong_to_another_case_type_name_their_rule() {
    let mut s = World::new("douyin", Online, At::Shipped);
    s.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    let r = s.refused(MERCHANT, CaseCommand::RejectByShipping { logistics: logistics("SF4000000001") });
    assert!(matches!(r, Refusal::WrongState { subject: "case type", rule: "U3", .. }), "{r:?}");
    let r = s.refused(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false });
    assert!(matches!(r, Refusal::WrongState { subject: "case type", rule: "R3", .. }), "{r:?}");
    let actions = available_actions(&s.order, s.case(), &MERCHANT, &s.ctx());
    assert!(!actions.contains(&Action::RejectByShipping) && !actions.contains(&Action::AgreeReturn));
}

#[test]
fn s4_an_empty_rejection_reason_is_missing_and_an_unknown_one_is_invalid() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    let with = |code: &str| CaseCommand::Reject {
        reason_code: code.into(),
        explanation: String::new(),
        evidence: vec![evidence(9)],
    };
    assert_eq!(w.refused(MERCHANT, with("  ")), Refusal::MissingField { field: "reason_code", rule: "S4" });
    let r = w.refused(MERCHANT, with("too_expensive"));
    assert_eq!((r.code(), r.field(), r.rule()), ("invalid_value", Some("reason_code"), Some("S4")));
    // a receipt-stage reason does not apply at review
    let r = w.refused(MERCHANT, with("used_or_damaged"));
    assert_eq!((r.code(), r.field(), r.rule()), ("invalid_value", Some("reason_code"), Some("S4")));
}

#[test]
fn e2_evidence_is_requested_and_submitted_only_in_arbitration() {
    let mut w = return_case("douyin");
    let r = w.refused(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() });
    assert!(matches!(r, Refusal::WrongState { rule: "E2", .. }), "{r:?}");
    let r = w.refused(MERCHANT, CaseCommand::SubmitEvidence { explanation: "x".into(), evidence: vec![] });
    assert!(matches!(r, Refusal::WrongState { rule: "E3", .. }), "{r:?}");
    // in arbitration: one open request at a time, and submission only against one
    let mut a = rejected("douyin");
    a.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    assert!(!available_actions(&a.order, a.case(), &MERCHANT, &a.ctx()).contains(&Action::SubmitEvidence));
    a.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
    assert!(!available_actions(&a.order, a.case(), &AGENT, &a.ctx()).contains(&Action::RequestEvidence));
    assert!(available_actions(&a.order, a.case(), &MERCHANT, &a.ctx()).contains(&Action::SubmitEvidence));
}

#[test]
fn b2_a_revision_to_a_return_needs_a_return_address() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    w.default_address = None;
    let revise = |kind| revision(kind, cny(40), vec![]);
    assert_eq!(w.refused(BUYER, revise(CaseType::ReturnRefund)), Refusal::NoReturnAddress);
    w.cmd(BUYER, revise(CaseType::RefundOnly)).unwrap();
    assert_eq!(w.status(), Status::AwaitingReview);
}

#[test]
fn m2_the_buyer_is_reminded_at_most_three_times() {
    let mut w = return_case("douyin");
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    for n in 1..=3 {
        w.cmd(MERCHANT, CaseCommand::RemindBuyer).unwrap();
        assert_eq!(w.case().buyer_reminders, n);
    }
    let r = w.refused(MERCHANT, CaseCommand::RemindBuyer);
    assert_eq!((r.field(), r.rule()), (Some("remind_buyer"), Some("M2")));
}

#[test]
fn m6_a_cod_refund_counts_against_the_order_and_frees_it() {
    let mut w = shipped_back("douyin", Cod);
    w.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
    assert_eq!(w.order.refunded, cny(100));
    assert_eq!(w.order.open_case, None);
    assert_eq!(w.order.refundable(CaseType::RefundOnly), cny(0));
}

#[test]
fn u2_no_reminder_when_the_near_deadline_threshold_is_the_whole_window() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.policy.near_deadline = w.policy.review;
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    assert_eq!(w.deadline(K::ReviewReminder), None);
    w.policy.near_deadline = w.policy.review - Dur(1);
    assert_eq!(w.deadline(K::ReviewReminder), Some(w.now + Dur(1)));
}

#[test]
fn t4_after_the_appeal_window_the_appeal_names_it_and_other_actions_are_plainly_refused() {
    let mut w = ruled_for_buyer();
    let ruled_at = w.case().arbitration.as_ref().unwrap().ruling.as_ref().unwrap().at;
    w.run_to(K::RefundSettle);
    // completed, appeal window open: the merchant may appeal and nothing else; the buyer nothing
    assert_eq!(w.status(), Status::Completed);
    assert_eq!(available_actions(&w.order, w.case(), &MERCHANT, &w.ctx()), vec![Action::Appeal]);
    assert_eq!(available_actions(&w.order, w.case(), &BUYER, &w.ctx()), vec![]);
    let r = w.refused(MERCHANT, CaseCommand::PostMessage { text: "hello".into() });
    assert!(matches!(r, Refusal::WrongState { .. }), "{r:?}");
    w.run_to(K::AppealWindow);
    assert!(w.case().appeal_window_closed);
    let appeal = CaseCommand::Appeal { text: "late".into(), evidence: vec![] };
    assert_eq!(
        w.refused(MERCHANT, appeal),
        Refusal::DeadlinePassed { kind: K::AppealWindow, at: ruled_at + Dur::days(7), action: "appeal" }
    );
    let r = w.refused(MERCHANT, CaseCommand::PostMessage { text: "hello".into() });
    assert!(matches!(r, Refusal::WrongState { .. }), "{r:?}");
}

#[test]
fn expiry_only_acts_on_a_deadline_that_is_due() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    let due = w.deadline(K::Review).unwrap();
    w.now = due - Dur(1);
    assert_eq!(w.refused(SYSTEM, CaseCommand::Expire { kind: K::Review }), Refusal::NotDue { kind: K::Review });
    assert_eq!(w.refused(SYSTEM, CaseCommand::Expire { kind: K::Receipt }), Refusal::NotDue { kind: K::Receipt });
    w.now = due;
    w.cmd(SYSTEM, CaseCommand::Expire { kind: K::Review }).unwrap();
    // the gateway's settlement is recorded as an outcome, never expired
    let settle = w.deadline(K::RefundSettle).unwrap();
    w.now = settle;
    assert_eq!(
        w.refused(SYSTEM, CaseCommand::Expire { kind: K::RefundSettle }),
        Refusal::NotDue { kind: K::RefundSettle }
    );
}

#[test]
fn governing_deadline_skips_reminders_and_the_appeal_window_unless_alone() {
    let d = |kind, h| Deadline { kind, due: T0 + Dur::hours(h) };
    assert_eq!(model::governing(&[d(K::ReviewReminder, 1), d(K::Review, 2)]), Some(d(K::Review, 2)));
    assert_eq!(model::governing(&[d(K::AppealWindow, 1), d(K::RefundSettle, 2)]), Some(d(K::RefundSettle, 2)));
    assert_eq!(model::governing(&[d(K::EvidenceReminder, 1), d(K::AppealWindow, 9)]), Some(d(K::AppealWindow, 9)));
    assert_eq!(model::governing(&[d(K::EvidenceReminder, 1)]), None);
    assert_eq!(model::governing(&[]), None);
}

#[test]
fn w5_the_case_page_says_what_each_deadline_does_when_it_passes() {
    let refund = World::new("douyin", Online, At::Shipped);
    let mut s = refund;
    s.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    assert_eq!(expiry_outcome(s.case(), K::Review), "the buyer is refunded");
    let mut r = return_case("douyin");
    assert_eq!(expiry_outcome(r.case(), K::Review), "the return is agreed to the default address");
    r.cmd(MERCHANT, propose_partial()).unwrap();
    assert_eq!(expiry_outcome(r.case(), K::Review), "the proposal lapses and the return is agreed");
    let mut p = World::new("douyin", Online, At::Delivered);
    p.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    p.cmd(MERCHANT, CaseCommand::Propose { kind: CaseType::ReturnRefund, amount: cny(50), address: Some(address(1)) })
        .unwrap();
    assert_eq!(expiry_outcome(p.case(), K::Review), "the proposal lapses and the buyer is refunded");
    let c = s.case();
    let table = [
        (K::ReviewReminder, "the shop is reminded"),
        (K::BuyerShip, "the return closes"),
        (K::Receipt, "receipt is confirmed and the buyer refunded"),
        (K::Voucher, "the platform compensates the buyer and penalises the shop"),
        (K::Evidence, "the platform rules for the buyer"),
        (K::EvidenceReminder, "the shop is reminded to submit evidence"),
        (K::BuyerAfterRejection, "the case closes as rejected"),
        (K::AppealWindow, "the ruling can no longer be appealed"),
        (K::RefundSettle, "the payment gateway settles the refund"),
        (K::OrderUnpaid, "the order is cancelled"),
    ];
    for (kind, words) in table {
        assert_eq!(expiry_outcome(c, kind), words);
    }
}

#[test]
fn x1_a_revised_request_tells_the_shop() {
    let mut w = rejected("douyin");
    let ev = w.cmd(BUYER, revision(CaseType::RefundOnly, cny(20), vec![])).unwrap();
    let out = w.notices(&ev);
    assert_eq!(out.notices.len(), 1);
    assert_eq!(out.notices[0].recipient, Recipient::Shop(ShopId(1)));
    assert_eq!(out.notices[0].category, notice::Category::AfterSales);
    assert!(out.notices[0].title.contains("revised"));
    let names = [
        (notice::Category::AfterSales, "after_sales"),
        (notice::Category::Arbitration, "arbitration"),
        (notice::Category::Appeal, "appeal"),
        (notice::Category::Order, "order"),
    ];
    for (c, name) in names {
        assert_eq!(c.as_str(), name);
    }
}

#[test]
fn b3_an_amount_above_what_is_refundable_names_the_amount_and_the_ceiling() {
    let mut w = World::new("douyin", Online, At::Delivered);
    let r = w.apply_for(CaseType::RefundOnly, cny(101)).unwrap_err();
    assert_eq!(r, Refusal::AmountAboveRefundable { requested: cny(101), max: cny(100) });
    assert_eq!((r.code(), r.field(), r.rule()), ("amount_above_refundable", Some("amount"), Some("B3")));
}

/// The error registry lists every code a refusal can carry.
#[test]
fn every_refusal_code_is_in_the_registry() {
    use aftersale_core::refusal::CODES;
    let samples = [
        Refusal::NegotiationUsed,
        Refusal::ParcelSigned,
        Refusal::ExtensionUsed,
        Refusal::ExtensionNotInProfile,
        Refusal::NoReturnAddress,
        Refusal::CodNotSupported,
        Refusal::CaseAlreadyOpen { case: 1 },
        Refusal::ResubmissionUsed { allowed: 1 },
        Refusal::NegotiationNotAvailable { why: "fresh goods" },
        Refusal::MissingField { field: "reason", rule: "U1" },
        Refusal::InvalidField { field: "reason_code".into(), reason: "unknown".into(), rule: "S4" },
    ];
    for r in samples {
        assert!(CODES.iter().any(|(c, _)| *c == r.code()), "{} missing from the registry", r.code());
    }
    let mut codes: Vec<_> = CODES.iter().map(|(c, _)| *c).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), CODES.len(), "a code is listed twice");
}
