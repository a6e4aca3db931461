//! What the buyer may do: withdraw, revise, and the refund ceiling (B1–B3).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::Online;

#[test]
fn b1_buyer_may_withdraw_before_completion() {
    for stage in 0..4 {
        let mut w = shipped_back("douyin", Online);
        if stage >= 1 {
            w.cmd(MERCHANT, receipt_reject_cmd()).unwrap();
        }
        if stage >= 2 {
            w.cmd(BUYER, CaseCommand::Escalate { reason: "x".into() }).unwrap();
        }
        if stage == 3 {
            w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "ok".into() }).unwrap();
            assert_eq!(w.status(), Status::Refunding);
            assert!(matches!(w.refused(BUYER, CaseCommand::Withdraw), Refusal::WrongState { rule: "B1", .. }));
            continue;
        }
        w.cmd(BUYER, CaseCommand::Withdraw).unwrap();
        assert_eq!(w.status(), Status::Closed { reason: CloseReason::Withdrawn });
        assert_eq!(w.order.open_case, None);
    }
}

#[test]
fn b2_after_rejection_the_buyer_revises_once_or_escalates_within_7_days() {
    let mut w = rejected("douyin");
    assert_eq!(w.deadline(K::BuyerAfterRejection), Some(w.now + Dur::days(7)));
    let revise = CaseCommand::Resubmit {
        kind: CaseType::RefundOnly,
        reason: "damaged".into(),
        amount: cny(30),
        description: "more photos".into(),
        evidence: vec![evidence(11)],
    };
    w.cmd(BUYER, revise.clone()).unwrap();
    assert_eq!((w.status(), w.case().amount), (Status::AwaitingReview, cny(30)));
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    assert_eq!(w.refused(BUYER, revise), Refusal::ResubmissionUsed { allowed: 1 });
    // silence closes it
    w.run_to(K::BuyerAfterRejection);
    assert_eq!(w.status(), Status::Closed { reason: CloseReason::RejectionNotContested });
    w.advance(Dur::secs(1));
    assert!(matches!(
        w.refused(BUYER, CaseCommand::Escalate { reason: "late".into() }),
        Refusal::DeadlinePassed { kind: K::BuyerAfterRejection, .. }
    ));
    // tiktok_shop gives 48 hours
    let t = rejected("tiktok_shop");
    assert_eq!(t.deadline(K::BuyerAfterRejection), Some(t.now + Dur::hours(48)));
}

#[test]
fn b3_refunds_never_exceed_paid_minus_refunded() {
    let mut w = World::new("douyin", Online, At::Paid);
    assert!(matches!(w.apply_for(CaseType::RefundUnshipped, cny(111)), Err(Refusal::AmountAboveRefundable { .. })));
    // Zero is refused by the rule; a negative amount cannot even be built (`Money::new`).
    assert!(w.apply_for(CaseType::RefundUnshipped, cny(0)).is_err());
    assert!(Money::new(-5, Currency::CNY).is_err());
    assert!(w.apply_for(CaseType::RefundUnshipped, Money::new(100, Currency::USD).unwrap()).is_err());
    // after a partial refund, a second case may ask only for the rest
    let mut d = World::new("douyin", Online, At::Delivered);
    d.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    d.cmd(MERCHANT, propose_partial()).unwrap();
    d.cmd(BUYER, CaseCommand::AcceptProposal).unwrap();
    d.case = None;
    assert_eq!(d.order.refundable(CaseType::RefundOnly), cny(98));
    assert!(matches!(d.apply_for(CaseType::RefundOnly, cny(99)), Err(Refusal::AmountAboveRefundable { .. })));
    d.apply_for(CaseType::RefundOnly, cny(98)).unwrap();
}
