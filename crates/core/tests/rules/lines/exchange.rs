//! K1 and K2 as a case's course: an exchange reviewed, returned, received, the replacement
//! shipped and confirmed (by the buyer or by silence), or refunded instead when the shop does not
//! ship in time; a resend agreed by shipping it, completed on delivery.

use super::cases::Shop;
use crate::harness::{cny, logistics, BUYER, MERCHANT, SYSTEM};
use aftersale_core::command::*;
use aftersale_core::lines::replacement::ShipmentState;
use aftersale_core::model::*;
use aftersale_core::notice::Recipient;
use aftersale_core::*;

fn ship() -> CaseCommand {
    CaseCommand::ShipReplacement { logistics: logistics("SF5000000001") }
}

/// An exchange of one unit of line 1, agreed, sent back and received: the replacement is owed.
fn exchange_received(s: &mut Shop) -> aftersale_core::values::CaseId {
    let id = s.apply(CaseType::Exchange, "defective", cny(0), &[(1, 1)]).unwrap();
    assert_eq!(s.case(id).queue(), Queue::ReturnReview);
    s.cmd(
        id,
        MERCHANT,
        CaseCommand::AgreeReturn { address: crate::harness::address(1), refuse_freight_collect: false },
    );
    assert_eq!((s.case(id).status, s.case(id).kind), (Status::AwaitingBuyerReturn, CaseType::Exchange));
    s.cmd(id, BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF4000000001"), refund_account: None });
    s.cmd(id, MERCHANT, CaseCommand::ReceivedRefund);
    id
}

#[test]
fn k1_an_exchange_runs_as_a_return_then_the_replacement_is_shipped_and_confirmed_by_silence() {
    let mut s = Shop::delivered();
    let id = exchange_received(&mut s);
    let c = s.case(id);
    assert_eq!((c.status, c.queue()), (Status::AwaitingReplacement, Queue::AwaitingReplacement));
    assert!(c.refund.is_none(), "an exchange at the same price moves no money");
    let due = s.now + s.policy.replacement_ship;
    assert_eq!(c.deadlines(&s.policy), vec![Deadline { kind: DeadlineKind::ReplacementShip, due }]);
    assert_eq!(c.replacement.as_ref().unwrap().refund_instead, Money::cny(2_857));
    // The merchant ships within 48 hours; the buyer cannot confirm before delivery.
    s.now = due - Dur(1);
    s.cmd(id, MERCHANT, ship());
    assert_eq!((s.case(id).status, s.case(id).queue()), (Status::ReplacementSent, Queue::InProgress));
    assert!(s.try_cmd(id, BUYER, CaseCommand::ConfirmReplacement).is_err());
    // Delivered: seven days for the buyer's word, then silence confirms.
    s.cmd(id, SYSTEM, CaseCommand::ReplacementDelivered);
    let confirm_due = s.now + s.policy.replacement_confirm;
    assert_eq!(
        s.case(id).deadlines(&s.policy),
        vec![Deadline { kind: DeadlineKind::ReplacementConfirm, due: confirm_due }]
    );
    s.now = confirm_due - Dur(1);
    assert_eq!(
        s.try_cmd(id, SYSTEM, CaseCommand::Expire { kind: DeadlineKind::ReplacementConfirm }),
        Err(Refusal::NotDue { kind: DeadlineKind::ReplacementConfirm })
    );
    s.now = confirm_due;
    s.cmd(id, SYSTEM, CaseCommand::Expire { kind: DeadlineKind::ReplacementConfirm });
    assert_eq!(s.case(id).status, Status::Completed);
    assert!(matches!(
        s.case(id).replacement.as_ref().unwrap().state,
        ShipmentState::Completed { by: Party::System, .. }
    ));
    // The buyer's word after silence confirmed is refused, naming the deadline.
    assert!(s.try_cmd(id, BUYER, CaseCommand::ConfirmReplacement).is_err());
    // The unit was exchanged: settled for good, and nothing refunded.
    assert_eq!(s.line(1), (0, 1, 0));
    assert_eq!(s.order.refunded, cny(0));
}

#[test]
fn k1_the_buyer_confirms_the_replacement_before_silence_does() {
    let mut s = Shop::delivered();
    let id = exchange_received(&mut s);
    s.cmd(id, MERCHANT, ship());
    s.cmd(id, SYSTEM, CaseCommand::ReplacementDelivered);
    s.now = s.now + Dur::days(2);
    s.cmd(id, BUYER, CaseCommand::ConfirmReplacement);
    assert!(matches!(
        s.case(id).replacement.as_ref().unwrap().state,
        ShipmentState::Completed { by: Party::Buyer, .. }
    ));
    assert!(s.case(id).deadlines(&s.policy).is_empty());
}

#[test]
fn k1_not_shipped_in_time_the_units_are_refunded_instead_and_a_late_shipment_is_refused() {
    let mut s = Shop::delivered();
    let id = exchange_received(&mut s);
    let due = s.now + s.policy.replacement_ship;
    s.now = due;
    // Due and not yet fired: shipping is already refused, naming the deadline.
    assert_eq!(
        s.try_cmd(id, MERCHANT, ship()),
        Err(Refusal::DeadlinePassed { kind: DeadlineKind::ReplacementShip, at: due, action: "ship_replacement" })
    );
    let events = s.try_cmd(id, SYSTEM, CaseCommand::Expire { kind: DeadlineKind::ReplacementShip }).unwrap();
    assert!(events.contains(&Event::ReplacementTurnedToRefund { amount: Money::cny(2_857) }), "{events:?}");
    assert_eq!(s.case(id).status, Status::Refunding);
    assert_eq!(s.case(id).refund.as_ref().unwrap().amount, Money::cny(2_857));
    let told = notices_for(&s.order, s.case(id), &events);
    assert!(told.notices.iter().any(|n| n.recipient == Recipient::Buyer(s.order.buyer_id)), "the buyer is told");
    // The unit was refunded in full: settled, the line's refund within what was paid.
    assert_eq!(s.line(1), (0, 1, 2_857));
    // Once fired, shipping is refused too.
    assert!(s.try_cmd(id, MERCHANT, ship()).is_err());
}

#[test]
fn k1_an_exchange_moves_no_money_and_is_not_negotiated() {
    let mut s = Shop::delivered();
    assert_eq!(
        s.apply(CaseType::Exchange, "defective", cny(1), &[(1, 1)]),
        Err(Refusal::invalid("amount", "is zero: an exchange or a resend moves no money", "K1"))
    );
    let id = s.apply(CaseType::Exchange, "defective", cny(0), &[(1, 1)]).unwrap();
    let r = s.try_cmd(id, MERCHANT, CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(1), address: None });
    assert!(matches!(r, Err(Refusal::NegotiationNotAvailable { .. })), "{r:?}");
    // The merchant may refund the unit instead (R3): what it can refund, not the case's zero.
    s.cmd(id, MERCHANT, CaseCommand::Refund);
    assert_eq!(s.case(id).refund.as_ref().unwrap().amount, Money::cny(2_857));
    // Review silence on an exchange agrees the return, as R2.
    let other = s.apply(CaseType::Exchange, "defective", cny(0), &[(2, 1)]).unwrap();
    s.now = s.now + s.policy.review;
    s.cmd(other, SYSTEM, CaseCommand::Expire { kind: DeadlineKind::Review });
    assert_eq!(s.case(other).status, Status::AwaitingBuyerReturn);
}

#[test]
fn k2_a_resend_is_agreed_by_shipping_it_and_completes_on_delivery() {
    let mut s = Shop::delivered();
    assert_eq!(
        s.apply(CaseType::Resend, "damaged", cny(0), &[(3, 1)]),
        Err(Refusal::invalid("reason", "is missing_or_wrong_item: a resend sends missing units or parts", "K2"))
    );
    let id = s.apply(CaseType::Resend, "missing_or_wrong_item", cny(0), &[(3, 1)]).unwrap();
    assert_eq!(s.case(id).queue(), Queue::RefundOnly);
    // No parcel goes back: the merchant may not agree a return, and ships instead.
    assert!(s
        .try_cmd(
            id,
            MERCHANT,
            CaseCommand::AgreeReturn { address: crate::harness::address(1), refuse_freight_collect: false }
        )
        .is_err());
    let events = s.try_cmd(id, MERCHANT, ship()).unwrap();
    assert!(
        matches!(events[0], Event::ReplacementAwaited { .. }) && matches!(events[1], Event::ReplacementShipped { .. })
    );
    assert_eq!(s.case(id).status, Status::ReplacementSent);
    s.cmd(id, SYSTEM, CaseCommand::ReplacementDelivered);
    assert_eq!(s.case(id).status, Status::Completed);
    assert_eq!(s.line(3), (0, 1, 0), "the unit was resent: settled, nothing refunded");
}

#[test]
fn k2_review_silence_agrees_the_resend_and_the_shop_then_has_48_hours() {
    let mut s = Shop::delivered();
    let id = s.apply(CaseType::Resend, "missing_or_wrong_item", cny(0), &[(1, 2)]).unwrap();
    s.now = s.now + s.policy.review;
    assert!(s.try_cmd(id, MERCHANT, ship()).is_err(), "the review deadline passed: shipping waits for the firing");
    s.cmd(id, SYSTEM, CaseCommand::Expire { kind: DeadlineKind::Review });
    assert_eq!((s.case(id).status, s.case(id).queue()), (Status::AwaitingReplacement, Queue::AwaitingReplacement));
    s.now = s.now + s.policy.replacement_ship;
    s.cmd(id, SYSTEM, CaseCommand::Expire { kind: DeadlineKind::ReplacementShip });
    assert_eq!(s.case(id).refund.as_ref().unwrap().amount, Money::cny(5_714), "both units refunded instead");
}

#[test]
fn k1_k2_the_deadlines_name_their_rule_and_a_confirmation_due_but_not_fired_is_refused() {
    assert_eq!(DeadlineKind::Review.rule_for(CaseType::Exchange), "K1");
    assert_eq!(DeadlineKind::ReviewReminder.rule_for(CaseType::Exchange), "K1");
    assert_eq!(DeadlineKind::Review.rule_for(CaseType::Resend), "K2");
    assert_eq!(DeadlineKind::ReplacementShip.rule_for(CaseType::Resend), "K2");
    assert_eq!(DeadlineKind::ReplacementShip.rule_for(CaseType::Exchange), "K1");
    let mut s = Shop::delivered();
    let id = exchange_received(&mut s);
    s.cmd(id, MERCHANT, ship());
    s.cmd(id, SYSTEM, CaseCommand::ReplacementDelivered);
    let due = s.now + s.policy.replacement_confirm;
    s.now = due;
    assert_eq!(
        s.try_cmd(id, BUYER, CaseCommand::ConfirmReplacement),
        Err(Refusal::DeadlinePassed { kind: DeadlineKind::ReplacementConfirm, at: due, action: "confirm_replacement" }),
        "silence has confirmed it, even before the runner fires"
    );
}

#[test]
fn k1_k2_the_shop_is_told_to_ship_the_buyer_that_it_shipped_and_consumers_see_both() {
    let mut s = Shop::delivered();
    let id = exchange_received(&mut s);
    let owed: Vec<Event> = vec![s
        .case(id)
        .replacement
        .as_ref()
        .map(|r| Event::ReplacementAwaited { due: r.due().unwrap(), refund_instead: r.refund_instead })]
    .into_iter()
    .flatten()
    .collect();
    let told = notices_for(&s.order, s.case(id), &owed);
    assert!(
        told.notices.iter().any(|n| n.recipient == Recipient::Shop(s.order.shop_id) && n.title.contains("Ship")),
        "{told:?}"
    );
    let before = (s.order.clone(), s.case(id).clone());
    let events = s.try_cmd(id, MERCHANT, ship()).unwrap();
    let told = notices_for(&s.order, s.case(id), &events);
    assert!(
        told.notices
            .iter()
            .any(|n| n.recipient == Recipient::Buyer(s.order.buyer_id) && n.body.contains("SF5000000001")),
        "{told:?}"
    );
    let recorded: Vec<Recorded> =
        owed.iter().chain(&events).map(|e| Recorded { at: s.now, actor: MERCHANT, event: e.clone() }).collect();
    let p = published(&before.0, &s.order, Some(&before.1), Some(s.case(id)), &recorded).unwrap();
    let names: Vec<&str> = p.events.iter().map(|e| e.name()).collect();
    assert!(names.contains(&"case.replacement_awaited") && names.contains(&"case.replacement_shipped"), "{names:?}");
}

#[test]
fn k1_an_exchange_rejected_at_receipt_and_ruled_for_the_buyer_owes_the_replacement() {
    let mut s = Shop::delivered();
    let id = s.apply(CaseType::Exchange, "defective", cny(0), &[(1, 1)]).unwrap();
    s.cmd(
        id,
        MERCHANT,
        CaseCommand::AgreeReturn { address: crate::harness::address(1), refuse_freight_collect: false },
    );
    s.cmd(id, BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF4100000001"), refund_account: None });
    let reject = CaseCommand::Reject {
        reason_code: "used_or_damaged".into(),
        explanation: String::new(),
        evidence: vec![crate::harness::evidence(1)],
    };
    s.cmd(id, MERCHANT, reject);
    s.cmd(id, BUYER, CaseCommand::Escalate { reason: "the cup was broken on arrival".into() });
    s.cmd(id, crate::harness::AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "photos show it".into() });
    assert_eq!(s.case(id).status, Status::AwaitingReplacement, "the goods came back: the replacement is owed");
    assert!(s.case(id).refund.is_none());
}

#[test]
fn k1_k2_every_step_of_a_replacement_is_on_the_event_stream() {
    let mut s = Shop::delivered();
    let id = exchange_received(&mut s);
    let mut names = Vec::new();
    let mut step = |s: &mut Shop, actor: Actor, cmd: CaseCommand| {
        let before = (s.order.clone(), s.case(id).clone());
        let events = s.try_cmd(id, actor, cmd).unwrap();
        let recorded: Vec<Recorded> = events.iter().map(|e| Recorded { at: s.now, actor, event: e.clone() }).collect();
        let p = published(&before.0, &s.order, Some(&before.1), Some(s.case(id)), &recorded).unwrap();
        names.extend(p.events.iter().map(|e| e.name().to_string()));
    };
    step(&mut s, MERCHANT, ship());
    step(&mut s, SYSTEM, CaseCommand::ReplacementDelivered);
    s.now = s.now + s.policy.replacement_confirm;
    step(&mut s, SYSTEM, CaseCommand::Expire { kind: DeadlineKind::ReplacementConfirm });
    let mut other = Shop::delivered();
    let late = exchange_received(&mut other);
    other.now = other.now + other.policy.replacement_ship;
    let before = (other.order.clone(), other.case(late).clone());
    let events = other.try_cmd(late, SYSTEM, CaseCommand::Expire { kind: DeadlineKind::ReplacementShip }).unwrap();
    let recorded: Vec<Recorded> =
        events.iter().map(|e| Recorded { at: other.now, actor: SYSTEM, event: e.clone() }).collect();
    let p = published(&before.0, &other.order, Some(&before.1), Some(other.case(late)), &recorded).unwrap();
    names.extend(p.events.iter().map(|e| e.name().to_string()));
    for kind in [
        "case.replacement_shipped",
        "case.replacement_delivered",
        "case.replacement_confirmed",
        "case.replacement_turned_to_refund",
        "refund.requested",
    ] {
        assert!(names.iter().any(|n| n == kind), "{kind}: {names:?}");
    }
}

#[test]
fn k2_only_missing_or_wrong_items_fit_a_resend_and_every_reason_fits_the_rest() {
    for r in aftersale_core::command::APPLY_REASONS {
        assert_eq!(
            aftersale_core::reason_fits(CaseType::Resend, r.code),
            r.code == "missing_or_wrong_item",
            "{}",
            r.code
        );
        for kind in [CaseType::RefundOnly, CaseType::ReturnRefund, CaseType::Exchange, CaseType::RefundUnshipped] {
            assert!(aftersale_core::reason_fits(kind, r.code), "{kind:?} {}", r.code);
        }
    }
}

#[test]
fn k1_k2_the_gate_offers_each_replacement_step_only_in_its_state_and_says_what_expiry_does() {
    let mut s = Shop::delivered();
    // Shipping is for exchanges and resends: not for a refund only under review.
    let refund = s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(2, 1)]).unwrap();
    assert!(s.try_cmd(refund, MERCHANT, ship()).is_err());
    let id = exchange_received(&mut s);
    assert_eq!(expiry_outcome(s.case(id), DeadlineKind::ReplacementShip), "the units are refunded instead");
    // An exchange's replacement is shipped as owed: one event, the due time as it was.
    let events = s.try_cmd(id, MERCHANT, ship()).unwrap();
    assert!(matches!(events.as_slice(), [Event::ReplacementShipped { .. }]), "{events:?}");
    // Shipped, not yet delivered: the buyer cannot confirm, the feed's delivery is the next step.
    {
        let ctx = s.ctx();
        assert!(!available_actions(&s.order, s.case(id), &BUYER, &ctx).contains(&Action::ConfirmReplacement));
        assert!(gate(&s.order, s.case(id), Action::ReplacementDelivered, &SYSTEM, &ctx).is_ok());
    }
    s.cmd(id, SYSTEM, CaseCommand::ReplacementDelivered);
    let ctx = s.ctx();
    assert!(gate(&s.order, s.case(id), Action::ReplacementDelivered, &SYSTEM, &ctx).is_err(), "delivered once");
    assert!(available_actions(&s.order, s.case(id), &BUYER, &ctx).contains(&Action::ConfirmReplacement));
    // What silence does, said per type.
    let mut other = Shop::delivered();
    let ex = other.apply(CaseType::Exchange, "defective", cny(0), &[(1, 1)]).unwrap();
    let rs = other.apply(CaseType::Resend, "missing_or_wrong_item", cny(0), &[(2, 1)]).unwrap();
    assert!(expiry_outcome(other.case(ex), DeadlineKind::Review).starts_with("the exchange is agreed"));
    assert!(expiry_outcome(other.case(rs), DeadlineKind::Review).starts_with("the resend is agreed"));
    assert_eq!(
        expiry_outcome(other.case(ex), DeadlineKind::Receipt),
        "receipt is confirmed and the replacement is due"
    );
    let ret = refund_case(&mut other);
    assert_eq!(expiry_outcome(other.case(ret), DeadlineKind::Receipt), "receipt is confirmed and the buyer refunded");
    // A resend agreed by shipping it: the 48 hours it would have had start now.
    let now = other.now;
    let events = other.try_cmd(rs, MERCHANT, ship()).unwrap();
    assert!(
        matches!(events[0], Event::ReplacementAwaited { due, .. } if due == now + other.policy.replacement_ship),
        "{events:?}"
    );
}

fn refund_case(s: &mut Shop) -> aftersale_core::values::CaseId {
    s.apply(CaseType::ReturnRefund, "defective", cny(1), &[(3, 1)]).unwrap()
}
