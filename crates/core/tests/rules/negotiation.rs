//! Negotiation (N1–N8) and the seed 003 worked example.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::Online;

#[test]
fn n1_negotiation_only_for_non_fresh_goods_awaiting_review() {
    let mut fresh = World::with_order("taote", Online, At::Delivered, true);
    fresh.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    assert!(matches!(fresh.refused(MERCHANT, propose_partial()), Refusal::NegotiationNotAvailable { .. }));
    let mut w = return_case("taote");
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    assert!(matches!(w.refused(MERCHANT, propose_partial()), Refusal::WrongState { .. }));
}

#[test]
fn n2_proposal_changes_type_and_amount() {
    // return → partial refund only, below the request
    let mut w = return_case("taote");
    assert_eq!(
        w.refused(MERCHANT, CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(100), address: None })
            .rule(),
        Some("N2")
    );
    w.cmd(MERCHANT, propose_partial()).unwrap();
    assert_eq!(w.case().open_proposal().unwrap().amount, cny(2));
    // refund only → return and refund, needs an address
    let mut r = World::new("taote", Online, At::Delivered);
    r.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    assert_eq!(
        r.refused(MERCHANT, CaseCommand::Propose { kind: CaseType::ReturnRefund, amount: cny(50), address: None })
            .field(),
        Some("address")
    );
    r.cmd(MERCHANT, CaseCommand::Propose { kind: CaseType::ReturnRefund, amount: cny(50), address: Some(address(2)) })
        .unwrap();
    r.cmd(BUYER, CaseCommand::AcceptProposal).unwrap();
    assert_eq!(r.status(), Status::AwaitingBuyerReturn);
    assert_eq!(r.case().return_address, Some(address(2)));
}

#[test]
fn n3_one_proposal_per_case_ever() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.cmd(BUYER, CaseCommand::DeclineProposal).unwrap();
    assert_eq!(w.refused(MERCHANT, propose_partial()), Refusal::NegotiationUsed);
}

#[test]
fn n4_buyer_sees_the_proposal_and_answers_it() {
    let mut w = return_case("taote");
    let ev = w.cmd(MERCHANT, propose_partial()).unwrap();
    let out = w.notices(&ev);
    // The proposal in words, in both languages: the type's name and the amount, no raw code.
    assert!(out.notices.iter().any(|n| n.recipient == Recipient::Buyer(BuyerId(7))
        && n.body.contains("Refund only")
        && n.body.contains("¥2.00")
        && n.body_zh.contains("仅退款(已发货)")
        && n.body_zh.contains("¥2.00")
        && !n.body.contains("refund_only")));
    assert!(available_actions(&w.order, w.case(), &BUYER, &w.ctx()).contains(&Action::AcceptProposal));
    assert!(matches!(w.refused(MERCHANT, CaseCommand::AcceptProposal), Refusal::NotAllowedFor { .. }));
    assert!(matches!(w.refused(OTHER_BUYER, CaseCommand::AcceptProposal), Refusal::NotAllowedFor { .. }));
}

#[test]
fn n5_acceptance_changes_the_case_and_agrees_it() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.cmd(BUYER, CaseCommand::AcceptProposal).unwrap();
    assert_eq!((w.case().kind, w.case().amount), (CaseType::RefundOnly, cny(2)));
    assert_eq!(w.case().refund.as_ref().unwrap().amount, cny(2));
    assert_eq!(w.status(), Status::Refunding);
}

#[test]
fn n6_open_proposal_keeps_the_review_deadline_and_a_merchant_decision_withdraws_it() {
    let mut w = return_case("taote");
    let due = w.deadline(K::Review).unwrap();
    w.advance(Dur::hours(1));
    w.cmd(MERCHANT, propose_partial()).unwrap();
    assert_eq!(w.status(), Status::AwaitingReview);
    assert_eq!(w.deadline(K::Review), Some(due));
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    assert_eq!(w.case().proposal.as_ref().unwrap().state, ProposalState::Withdrawn);
    assert_eq!(w.status(), Status::AwaitingBuyerReturn);
}

#[test]
fn n7_declined_proposal_leaves_the_decision_to_the_merchant() {
    let mut w = return_case("taote");
    let due = w.deadline(K::Review).unwrap();
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.cmd(BUYER, CaseCommand::DeclineProposal).unwrap();
    assert_eq!(w.status(), Status::AwaitingReview);
    assert_eq!(w.case().queue(), Queue::ReturnReview);
    assert_eq!(w.deadline(K::Review), Some(due));
    w.cmd(MERCHANT, CaseCommand::Refund).unwrap();
}

#[test]
fn n8_unanswered_proposal_lapses_and_the_original_request_is_agreed() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    assert_eq!(w.deadline(K::Review), Some(T0 + Dur::hours(36)));
    w.run_to(K::Review);
    assert_eq!(w.case().proposal.as_ref().unwrap().state, ProposalState::Lapsed);
    assert_eq!((w.status(), w.case().kind), (Status::AwaitingBuyerReturn, CaseType::ReturnRefund));
    w.advance(Dur::secs(1));
    assert!(matches!(w.refused(BUYER, CaseCommand::AcceptProposal), Refusal::DeadlinePassed { kind: K::Review, .. }));
}

#[test]
fn seed003_scenario1_accepted_within_36h_refunds_2_yuan() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.advance(Dur::hours(35));
    w.cmd(BUYER, CaseCommand::AcceptProposal).unwrap();
    w.run_to(K::RefundSettle);
    assert_eq!(w.status(), Status::Completed);
    assert_eq!(w.order.refunded, cny(2));
}

#[test]
fn seed003_scenario2_declined_merchant_still_decides_within_36h() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.advance(Dur::hours(10));
    w.cmd(BUYER, CaseCommand::DeclineProposal).unwrap();
    assert_eq!(w.deadline(K::Review), Some(T0 + Dur::hours(36)));
    w.advance(Dur::hours(20));
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    assert_eq!(w.status(), Status::AwaitingBuyerReturn);
}

#[test]
fn seed003_scenario3_silence_agrees_the_return() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.advance(Dur::hours(36));
    assert_eq!(w.fire_due(), vec![K::ReviewReminder, K::Review]);
    assert_eq!(w.status(), Status::AwaitingBuyerReturn);
    assert_eq!(w.order.refunded, Money::cny(0));
}
