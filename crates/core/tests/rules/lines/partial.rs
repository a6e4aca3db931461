//! L5 in a case's course: a return that arrived short refunds what came back, and the missing
//! units become a case of their own, which the shop refunds anyway or rejects with evidence (and
//! the buyer may take to the platform), or which its receipt deadline refunds.

use super::cases::Shop;
use crate::harness::{address, logistics, receipt_reject_cmd, BUYER, MERCHANT, SYSTEM};
use aftersale_core::command::*;
use aftersale_core::lines::receipt::Received;
use aftersale_core::lines::units::Pick;
use aftersale_core::model::*;
use aftersale_core::notice::Recipient;
use aftersale_core::values::*;
use aftersale_core::*;

impl Shop {
    /// A return of both units of line 1 and the unit of line 2, for what they can refund, its
    /// parcel sent back: awaiting the shop's receipt.
    fn shipped_back() -> (Shop, CaseId) {
        let mut s = Shop::delivered();
        let picks = [Pick { line: 1, units: 2 }, Pick { line: 2, units: 1 }];
        let amount = s.order.refundable_for(&picks, CaseType::ReturnRefund);
        let id = s.apply(CaseType::ReturnRefund, "damaged", amount, &[(1, 2), (2, 1)]).unwrap();
        s.cmd(id, MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false });
        s.cmd(
            id,
            BUYER,
            CaseCommand::SubmitReturnLogistics { logistics: logistics("SF2000000001"), refund_account: None },
        );
        assert_eq!(s.case(id).status, Status::AwaitingReceipt);
        (s, id)
    }

    /// The shop records a receipt in part; the case for the missing units is opened as the
    /// engine does, in the same change.
    fn received_part(&mut self, id: CaseId, received: &[(u32, u32)]) -> Result<Option<CaseId>, Refusal> {
        let received = received.iter().map(|&(line, units)| Received { line, units }).collect();
        let events = self.try_cmd(id, MERCHANT, CaseCommand::ReceivedPart { received })?;
        let child = CaseId(100 + id.0);
        let Some(opened) = split_off(self.case(id), &events, child) else { return Ok(None) };
        let r = Recorded { at: self.now, actor: MERCHANT, event: opened };
        self.cases.push(Case::open(&self.order, &r).unwrap());
        self.order.apply_for(Some(child), &r);
        Ok(Some(child))
    }
}

fn refund_of(events: &[Event]) -> Option<Money> {
    events.iter().find_map(|e| match e {
        Event::RefundStarted { amount, .. } => Some(*amount),
        _ => None,
    })
}

#[test]
fn l5_a_short_return_refunds_what_arrived_and_the_missing_units_become_a_case_of_their_own() {
    let (mut s, id) = Shop::shipped_back();
    let before = s.case(id).clone();
    let (line1, line2) = (s.order.lines[0].paid, s.order.lines[1].paid);
    // One unit of line 1 and the unit of line 2 arrived; the other unit of line 1 did not.
    let events = s
        .try_cmd(
            id,
            MERCHANT,
            CaseCommand::ReceivedPart {
                received: vec![Received { line: 1, units: 1 }, Received { line: 2, units: 1 }],
            },
        )
        .unwrap();
    let half = Money::cny(line1.minor() / 2);
    let paid_now = half.plus(line2);
    assert_eq!(refund_of(&events), Some(paid_now), "the refund covers the received units only");
    assert_eq!(
        events[0],
        Event::ReceivedInPart {
            received: vec![Pick { line: 1, units: 1 }, Pick { line: 2, units: 1 }],
            amount: paid_now,
            missing: vec![Pick { line: 1, units: 1 }],
            missing_amount: before.amount.saturating_sub(paid_now),
        }
    );
    let c = s.case(id);
    assert_eq!((c.status, c.amount), (Status::Refunding, paid_now));
    assert_eq!(c.lines, [Pick { line: 1, units: 1 }, Pick { line: 2, units: 1 }]);
    // The split: the same request on the same parcel for the missing unit, awaiting the shop.
    let child = CaseId(100 + id.0);
    let opened = split_off(s.case(id), &events, child).unwrap();
    let r = Recorded { at: s.now, actor: MERCHANT, event: opened };
    let case = Case::open(&s.order, &r).unwrap();
    s.order.apply_for(Some(child), &r);
    assert_eq!(case.status, Status::AwaitingReceipt);
    assert_eq!((case.kind, case.reason.as_str(), case.split_from), (CaseType::ReturnRefund, "damaged", Some(id)));
    assert_eq!(
        (case.lines.clone(), case.amount),
        (vec![Pick { line: 1, units: 1 }], before.amount.saturating_sub(paid_now))
    );
    assert_eq!(case.return_parcel, before.return_parcel, "the same parcel");
    assert_eq!(case.applied_at, before.applied_at, "the same request");
    // Its receipt deadline is the parcel's, as the first case's was.
    assert_eq!(case.deadlines(&s.policy), before.deadlines(&s.policy));
    s.cases.push(case);
    // The order: line 1 has one unit settled and one held by the new case; line 2 settled.
    assert_eq!(s.line(1), (1, 1, half.minor()));
    assert_eq!(s.line(2), (0, 1, line2.minor()));
    assert_eq!(s.order.split_from(id), vec![child]);
    assert_eq!(s.order.open_case, Some(child));
    // The buyer is told which case the missing units are.
    let outbox = notices_for(&s.order, s.case(child), std::slice::from_ref(&r.event));
    assert!(outbox.notices.iter().any(|n| n.recipient == Recipient::Buyer(BuyerId(7))
        && n.title.contains(&format!("AS{:08}", id.0))
        && n.body.contains(&format!("AS{:08}", child.0))));
    // The shop's word on the missing unit: a refund anyway, or a rejection with evidence.
    let actions = available_actions(&s.order, s.case(child), &MERCHANT, &s.ctx());
    assert!(actions.contains(&Action::ReceivedRefund) && actions.contains(&Action::Reject));
    assert!(!actions.contains(&Action::ReceivedPart), "one unit is received whole or rejected");
    let refunded = s.try_cmd(child, MERCHANT, CaseCommand::ReceivedRefund).unwrap();
    assert_eq!(refund_of(&refunded), Some(line1.saturating_sub(half)));
    // Never more than was paid per line: line 1 refunded exactly what it carried.
    assert_eq!(s.line(1), (0, 2, line1.minor()));
}

#[test]
fn l5_e1_the_shop_rejects_the_missing_units_with_evidence_and_the_buyer_escalates() {
    let (mut s, id) = Shop::shipped_back();
    let child = s.received_part(id, &[(1, 2)]).unwrap().expect("line 2 missing");
    assert_eq!(s.case(child).lines, [Pick { line: 2, units: 1 }]);
    // A rejection at receipt needs evidence (S4).
    let bare = CaseCommand::Reject { reason_code: "not_received".into(), explanation: String::new(), evidence: vec![] };
    assert!(s.try_cmd(child, MERCHANT, bare).is_err());
    s.cmd(child, MERCHANT, receipt_reject_cmd());
    assert_eq!(s.case(child).status, Status::Rejected { stage: Stage::Receipt });
    s.cmd(child, BUYER, CaseCommand::Escalate { reason: "I packed both".into() });
    assert_eq!(s.case(child).status, Status::InArbitration);
    // The first case refunded line 1 only; line 2's unit is still held by the disputed case.
    assert_eq!(s.line(2), (1, 0, 0));
}

#[test]
fn l5_silence_on_the_missing_units_refunds_them_when_the_receipt_deadline_passes() {
    let (mut s, id) = Shop::shipped_back();
    let child = s.received_part(id, &[(1, 1), (2, 1)]).unwrap().unwrap();
    let due = s.case(child).receipt_due(&s.policy).unwrap();
    s.now = due;
    let events = s.try_cmd(child, SYSTEM, CaseCommand::Expire { kind: aftersale_core::DeadlineKind::Receipt }).unwrap();
    assert!(refund_of(&events).is_some());
    assert_eq!(s.case(child).status, Status::Refunding);
    assert_eq!(s.line(1), (0, 2, s.order.lines[0].paid.minor()), "both units of line 1 refunded in full");
}

#[test]
fn l5_a_receipt_in_part_is_refused_when_it_names_nothing_received_or_is_not_a_multi_unit_return() {
    let (mut s, id) = Shop::shipped_back();
    let part = |r: &[(u32, u32)]| CaseCommand::ReceivedPart {
        received: r.iter().map(|&(line, units)| Received { line, units }).collect(),
    };
    // Nothing arrived: that is a rejection at receipt (M2), not a receipt.
    let none = s.try_cmd(id, MERCHANT, part(&[(1, 0)])).unwrap_err();
    assert_eq!((none.rule(), none.field()), (Some("L5"), Some("received")));
    // A line the case does not hold, named twice, or more units than it holds.
    assert_eq!(s.try_cmd(id, MERCHANT, part(&[(3, 1)])).unwrap_err().field(), Some("received[0].line"));
    assert_eq!(s.try_cmd(id, MERCHANT, part(&[(1, 1), (1, 1)])).unwrap_err().field(), Some("received[1].line"));
    assert_eq!(s.try_cmd(id, MERCHANT, part(&[(1, 3)])).unwrap_err().field(), Some("received[0].units"));
    // Only the shop.
    assert!(s.try_cmd(id, BUYER, part(&[(1, 1)])).is_err());
    assert_eq!(s.case(id).status, Status::AwaitingReceipt, "nothing changed");
    // Everything arrived: an ordinary receipt, no split.
    assert_eq!(s.received_part(id, &[(1, 2), (2, 1)]).unwrap(), None);
    assert_eq!(s.case(id).status, Status::Refunding);
    // A refund-only case has no return to receive.
    let mut s = Shop::delivered();
    let id = s.apply(CaseType::RefundOnly, "damaged", Money::cny(1_000), &[(1, 2)]).unwrap();
    assert_eq!(s.try_cmd(id, MERCHANT, part(&[(1, 1)])).unwrap_err().rule(), Some("L5"));
}

#[test]
fn l5_a_receipt_in_part_is_offered_on_a_return_of_two_units_awaiting_receipt_only() {
    let mut s = Shop::delivered();
    let amount = s.order.refundable_for(&[Pick { line: 1, units: 2 }], CaseType::ReturnRefund);
    let id = s.apply(CaseType::ReturnRefund, "damaged", amount, &[(1, 2)]).unwrap();
    s.cmd(id, MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false });
    // Before the parcel is on record: not yet.
    assert!(!available_actions(&s.order, s.case(id), &MERCHANT, &s.ctx()).contains(&Action::ReceivedPart));
    s.cmd(id, BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF2000000002"), refund_account: None });
    // Two units are enough to receive one of them.
    assert!(available_actions(&s.order, s.case(id), &MERCHANT, &s.ctx()).contains(&Action::ReceivedPart));
    let child = s.received_part(id, &[(1, 1)]).unwrap();
    assert!(child.is_some());
    // Once received, the first case is refunding: no second receipt.
    let again = s.try_cmd(id, MERCHANT, CaseCommand::ReceivedPart { received: vec![Received { line: 1, units: 1 }] });
    assert!(matches!(again, Err(Refusal::WrongState { .. })), "{again:?}");
}

#[test]
fn l5_an_exchange_s_return_is_received_whole_or_rejected() {
    let mut s = Shop::delivered();
    let id = s.apply(CaseType::Exchange, "defective", Money::cny(0), &[(1, 2)]).unwrap();
    s.cmd(id, MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false });
    s.cmd(id, BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF2000000003"), refund_account: None });
    assert_eq!(s.case(id).status, Status::AwaitingReceipt);
    let refused = s
        .try_cmd(id, MERCHANT, CaseCommand::ReceivedPart { received: vec![Received { line: 1, units: 1 }] })
        .unwrap_err();
    assert!(matches!(refused, Refusal::WrongState { subject: "case type", rule: "L5", .. }), "{refused:?}");
}

#[test]
fn l5_when_what_arrived_covers_the_amount_asked_nothing_is_split_off() {
    // The buyer asked for less than one unit carries: one of two units arriving covers it all.
    let mut s = Shop::delivered();
    let id = s.apply(CaseType::ReturnRefund, "damaged", Money::cny(1_000), &[(1, 2)]).unwrap();
    s.cmd(id, MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false });
    s.cmd(id, BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF2000000004"), refund_account: None });
    let events =
        s.try_cmd(id, MERCHANT, CaseCommand::ReceivedPart { received: vec![Received { line: 1, units: 1 }] }).unwrap();
    assert!(!events.iter().any(|e| matches!(e, Event::ReceivedInPart { .. })), "{events:?}");
    assert_eq!(refund_of(&events), Some(Money::cny(1_000)));
}

#[test]
fn l5_the_receipt_in_part_is_published_with_what_arrived_and_what_did_not() {
    let (mut s, id) = Shop::shipped_back();
    let (order_before, case_before) = (s.order.clone(), s.case(id).clone());
    let received = vec![Received { line: 1, units: 2 }];
    let events = s.try_cmd(id, MERCHANT, CaseCommand::ReceivedPart { received }).unwrap();
    let recorded: Vec<Recorded> =
        events.into_iter().map(|event| Recorded { at: s.now, actor: MERCHANT, event }).collect();
    let told = published(&order_before, &s.order, Some(&case_before), Some(s.case(id)), &recorded).unwrap();
    assert!(told.events.contains(&DomainEvent::ReceivedInPart {
        received: vec![Pick { line: 1, units: 2 }],
        missing: vec![Pick { line: 2, units: 1 }],
    }));
    assert_eq!(Pick::summary(&[Pick { line: 1, units: 2 }, Pick { line: 3, units: 1 }]), "L1x2 L3x1");
}
