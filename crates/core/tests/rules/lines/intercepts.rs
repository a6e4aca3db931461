//! I1 as a case's course: a refund asked after shipment, the parcel stopped instead of rejecting,
//! the refund proceeding once it is back; or not stopped, and the case reviewed after delivery.

use super::cases::Shop;
use crate::harness::{cny, logistics, BUYER, MERCHANT, SYSTEM};
use aftersale_core::command::*;
use aftersale_core::lines::intercept::InterceptState;
use aftersale_core::model::*;
use aftersale_core::notice::Recipient;
use aftersale_core::*;

/// A three-line order shipped, not delivered, and a refund only of line 2 under review.
fn shipped_refund(s: &mut Shop) -> aftersale_core::values::CaseId {
    s.order_cmd(SYSTEM, OrderCommand::Pay);
    s.order_cmd(MERCHANT, OrderCommand::Ship { logistics: logistics("SF7000000001") });
    s.apply(CaseType::RefundOnly, "no_longer_needed", Money::cny(7_143), &[(2, 1)]).unwrap()
}

#[test]
fn i1_an_intercepted_parcel_comes_back_and_the_refund_proceeds_with_its_cost_recorded() {
    let mut s = Shop::new(PaymentMethod::Online);
    let id = shipped_refund(&mut s);
    // Only the shop asks, only on this case's course.
    assert!(s.try_cmd(id, BUYER, CaseCommand::RequestIntercept).is_err());
    let ctx = s.ctx();
    assert!(available_actions(&s.order, s.case(id), &MERCHANT, &ctx).contains(&Action::RequestIntercept));
    s.cmd(id, MERCHANT, CaseCommand::RequestIntercept);
    let c = s.case(id);
    assert_eq!((c.status, c.queue()), (Status::Intercepting, Queue::InProgress));
    assert!(c.deadlines(&s.policy).is_empty(), "the carrier answers when it answers: the review no longer runs");
    assert!(s.try_cmd(id, MERCHANT, CaseCommand::RequestIntercept).is_err(), "asked once");
    // The feed's answers are the system's; a person's are refused.
    let stopped = CaseCommand::InterceptResult { stopped: true, reason: String::new(), cost: Some(cny(12)) };
    assert!(matches!(s.try_cmd(id, MERCHANT, stopped.clone()), Err(Refusal::NotAllowedFor { .. })));
    assert!(s.try_cmd(id, SYSTEM, CaseCommand::InterceptReturned).is_err(), "not back before it was stopped");
    s.cmd(id, SYSTEM, stopped);
    assert!(matches!(s.case(id).intercept.as_ref().unwrap().state, InterceptState::Intercepted { .. }));
    assert_eq!(s.case(id).status, Status::Intercepting);
    s.cmd(id, SYSTEM, CaseCommand::InterceptReturned);
    let c = s.case(id);
    assert_eq!(c.status, Status::Refunding);
    assert_eq!(c.refund.as_ref().unwrap().amount, Money::cny(7_143));
    assert_eq!(c.intercept.as_ref().unwrap().cost, Some(cny(12)));
    assert_eq!(s.line(2), (0, 1, 7_143));
}

#[test]
fn i1_a_parcel_not_stopped_goes_on_as_a_refund_reviewed_after_delivery() {
    let mut s = Shop::new(PaymentMethod::Online);
    let id = shipped_refund(&mut s);
    s.cmd(id, MERCHANT, CaseCommand::RequestIntercept);
    s.now = s.now + Dur::days(1);
    // Not stopped needs a reason.
    assert_eq!(
        s.try_cmd(id, SYSTEM, CaseCommand::InterceptResult { stopped: false, reason: " ".into(), cost: None }),
        Err(Refusal::MissingField { field: "reason", rule: "I1" })
    );
    s.cmd(
        id,
        SYSTEM,
        CaseCommand::InterceptResult { stopped: false, reason: "already out for delivery".into(), cost: None },
    );
    let c = s.case(id);
    assert_eq!(c.status, Status::AwaitingReview);
    assert!(
        matches!(&c.intercept.as_ref().unwrap().state, InterceptState::Failed { reason, .. } if reason == "already out for delivery")
    );
    // The review runs again from the carrier's answer.
    assert_eq!(
        c.governing_deadline(&s.policy).unwrap(),
        Deadline { kind: DeadlineKind::Review, due: s.now + s.policy.review }
    );
    // Delivered: the shop reviews the refund as any other (and cannot ask again).
    s.order_cmd(SYSTEM, OrderCommand::Deliver);
    assert!(s.try_cmd(id, MERCHANT, CaseCommand::RequestIntercept).is_err());
    s.cmd(id, MERCHANT, CaseCommand::Refund);
    assert_eq!(s.case(id).status, Status::Refunding);
}

#[test]
fn i1_only_a_refund_only_of_a_parcel_on_its_way_is_intercepted() {
    // Delivered already: nothing to stop.
    let mut s = Shop::delivered();
    let id = s.apply(CaseType::RefundOnly, "damaged", cny(10), &[(1, 1)]).unwrap();
    assert!(matches!(
        s.try_cmd(id, MERCHANT, CaseCommand::RequestIntercept),
        Err(Refusal::WrongState { rule: "I1", .. })
    ));
    // Before shipment: the refund before shipment is answered by refunding or shipping (U3).
    let mut s = Shop::new(PaymentMethod::Online);
    s.order_cmd(SYSTEM, OrderCommand::Pay);
    let id = s.apply(CaseType::RefundUnshipped, "no_longer_needed", cny(10), &[(1, 1)]).unwrap();
    assert!(s.try_cmd(id, MERCHANT, CaseCommand::RequestIntercept).is_err());
}

#[test]
fn i1_the_buyer_is_told_of_the_intercept_and_of_its_failure_and_a_late_request_is_refused() {
    let mut s = Shop::new(PaymentMethod::Online);
    let id = shipped_refund(&mut s);
    // The review due and not yet fired: too late to ask the carrier.
    let due = s.now + s.policy.review;
    s.now = due;
    assert_eq!(
        s.try_cmd(id, MERCHANT, CaseCommand::RequestIntercept),
        Err(Refusal::DeadlinePassed { kind: DeadlineKind::Review, at: due, action: "request_intercept" })
    );
    let mut s = Shop::new(PaymentMethod::Online);
    let id = shipped_refund(&mut s);
    let buyer = Recipient::Buyer(s.order.buyer_id);
    let events = s.try_cmd(id, MERCHANT, CaseCommand::RequestIntercept).unwrap();
    let told = notices_for(&s.order, s.case(id), &events);
    assert!(told.notices.iter().any(|n| n.recipient == buyer && n.title.contains("stopping")), "{told:?}");
    let failed = CaseCommand::InterceptResult { stopped: false, reason: "out for delivery".into(), cost: None };
    let events = s.try_cmd(id, SYSTEM, failed).unwrap();
    let told = notices_for(&s.order, s.case(id), &events);
    assert!(told.notices.iter().any(|n| n.recipient == buyer && n.title.contains("could not be stopped")), "{told:?}");
}

#[test]
fn i1_every_step_of_an_intercept_is_on_the_event_stream() {
    let mut s = Shop::new(PaymentMethod::Online);
    let id = shipped_refund(&mut s);
    let mut names = Vec::new();
    for (actor, cmd) in [
        (MERCHANT, CaseCommand::RequestIntercept),
        (SYSTEM, CaseCommand::InterceptResult { stopped: true, reason: String::new(), cost: Some(cny(8)) }),
        (SYSTEM, CaseCommand::InterceptReturned),
    ] {
        let before = (s.order.clone(), s.case(id).clone());
        let events = s.try_cmd(id, actor, cmd).unwrap();
        let recorded: Vec<Recorded> = events.iter().map(|e| Recorded { at: s.now, actor, event: e.clone() }).collect();
        let p = published(&before.0, &s.order, Some(&before.1), Some(s.case(id)), &recorded).unwrap();
        names.extend(p.events.iter().map(|e| serde_json::to_value(e).unwrap()));
    }
    let types: Vec<&str> = names.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "case.intercept_requested",
            "case.status_changed",
            "case.intercept_answered",
            "case.intercept_returned",
            "refund.requested",
            "case.status_changed"
        ]
    );
    assert_eq!(names[2]["stopped"], true);
    assert_eq!(names[2]["cost"]["minor"], 800);
}

#[test]
fn i1_the_gate_takes_each_answer_of_the_feed_only_in_its_turn() {
    let mut s = Shop::new(PaymentMethod::Online);
    let id = shipped_refund(&mut s);
    s.cmd(id, MERCHANT, CaseCommand::RequestIntercept);
    {
        let ctx = s.ctx();
        assert!(gate(&s.order, s.case(id), Action::InterceptResult, &SYSTEM, &ctx).is_ok());
        assert!(gate(&s.order, s.case(id), Action::InterceptReturned, &SYSTEM, &ctx).is_err(), "not stopped yet");
    }
    s.cmd(id, SYSTEM, CaseCommand::InterceptResult { stopped: true, reason: String::new(), cost: None });
    let ctx = s.ctx();
    assert!(gate(&s.order, s.case(id), Action::InterceptResult, &SYSTEM, &ctx).is_err(), "answered once");
    assert!(gate(&s.order, s.case(id), Action::InterceptReturned, &SYSTEM, &ctx).is_ok());
}
