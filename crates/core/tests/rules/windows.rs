//! The window between a deadline falling due and the runner firing it (right after downtime,
//! say): every action that deadline governs is already refused, at the due instant itself, and
//! offered until the instant before. Nothing here calls `fire_due`.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::{Cod, Online};

/// Moves the clock to one millisecond before `kind` is due, checks `actor` may still take
/// `action`, then to the due instant, and returns the refusal of `cmd` there. The deadline has
/// not fired: the case is where it was.
fn refused_at_due(w: &mut World, kind: DeadlineKind, actor: Actor, cmd: CaseCommand) -> Refusal {
    let due = w.deadline(kind).unwrap_or_else(|| panic!("no live {kind:?} deadline"));
    let action = cmd.action();
    w.now = due - Dur(1);
    assert!(available_actions(&w.order, w.case(), &actor, &w.ctx()).contains(&action), "{action:?} before {kind:?}");
    w.now = due;
    let status = w.status();
    assert!(!available_actions(&w.order, w.case(), &actor, &w.ctx()).contains(&action), "{action:?} at {kind:?}");
    let r = w.refused(actor, cmd);
    assert_eq!(r, Refusal::DeadlinePassed { kind, at: due, action: action.as_str() });
    assert_eq!(r.rule(), Some(kind.rule()));
    assert_eq!(w.status(), status, "nothing fired");
    r
}

#[test]
fn u2_s2_r2_review_actions_are_refused_once_the_review_is_due_but_not_fired() {
    let mut u = World::new("douyin", Online, At::Paid);
    u.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    refused_at_due(&mut u, K::Review, MERCHANT, CaseCommand::Refund);
    let mut u = World::new("douyin", Online, At::Paid);
    u.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    refused_at_due(&mut u, K::Review, MERCHANT, CaseCommand::RejectByShipping { logistics: logistics("SF5000000001") });

    let mut s = World::new("douyin", Online, At::Shipped);
    s.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    refused_at_due(&mut s, K::Review, MERCHANT, reject_cmd());

    for cmd in [
        CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false },
        propose_partial(),
        CaseCommand::Refund,
        reject_cmd(),
    ] {
        let mut r = return_case("taote");
        refused_at_due(&mut r, K::Review, MERCHANT, cmd);
    }
}

#[test]
fn n4_the_buyer_cannot_answer_a_proposal_once_the_review_is_due() {
    for answer in [CaseCommand::AcceptProposal, CaseCommand::DeclineProposal] {
        let mut w = return_case("douyin");
        w.cmd(MERCHANT, propose_partial()).unwrap();
        refused_at_due(&mut w, K::Review, BUYER, answer);
    }
}

#[test]
fn r5_the_buyer_cannot_ship_back_once_the_ship_back_window_is_due() {
    let mut w = return_case("douyin");
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let cmd = CaseCommand::SubmitReturnLogistics { logistics: logistics("SF6000000001"), refund_account: None };
    refused_at_due(&mut w, K::BuyerShip, BUYER, cmd);
}

#[test]
fn m4_receipt_actions_are_refused_once_receipt_is_due_but_not_fired() {
    for cmd in [CaseCommand::ReceivedRefund, receipt_reject_cmd(), CaseCommand::ExtendReceipt] {
        let mut w = shipped_back("douyin", Online);
        refused_at_due(&mut w, K::Receipt, MERCHANT, cmd);
    }
}

#[test]
fn m6_the_voucher_is_refused_once_its_window_is_due_but_not_fired() {
    let mut w = shipped_back("douyin", Cod);
    w.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
    refused_at_due(&mut w, K::Voucher, MERCHANT, CaseCommand::UploadVoucher { evidence: vec![evidence(4)] });
}

#[test]
fn e2_evidence_is_refused_once_its_deadline_is_due_but_not_fired() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
    let cmd = CaseCommand::SubmitEvidence { explanation: "packed intact".into(), evidence: vec![evidence(5)] };
    refused_at_due(&mut w, K::Evidence, MERCHANT, cmd);
}

#[test]
fn b2_the_buyer_cannot_revise_or_escalate_once_the_rejection_window_is_due() {
    let resubmit = revision(CaseType::RefundOnly, cny(20), vec![]);
    for cmd in [resubmit, CaseCommand::Escalate { reason: "unfair".into() }] {
        let mut w = rejected("tiktok_shop");
        refused_at_due(&mut w, K::BuyerAfterRejection, BUYER, cmd);
    }
}

#[test]
fn t3_the_merchants_escalation_is_not_held_to_the_buyers_window() {
    let mut w = rejected("douyin");
    let due = w.deadline(K::BuyerAfterRejection).unwrap();
    w.now = due;
    assert!(available_actions(&w.order, w.case(), &MERCHANT, &w.ctx()).contains(&Action::Escalate));
    assert!(!available_actions(&w.order, w.case(), &BUYER, &w.ctx()).contains(&Action::Escalate));
    w.cmd(MERCHANT, CaseCommand::Escalate { reason: "the buyer keeps calling".into() }).unwrap();
    assert_eq!(w.status(), Status::InArbitration);
    assert_eq!(w.case().arbitration.as_ref().unwrap().opened_by, Party::Merchant);
}

#[test]
fn t4_an_appeal_is_refused_once_the_appeal_window_is_due_but_not_fired() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "no proof".into() }).unwrap();
    refused_at_due(&mut w, K::AppealWindow, MERCHANT, CaseCommand::Appeal { text: "unfair".into(), evidence: vec![] });
}

#[test]
fn after_a_deadline_fired_the_late_action_names_that_deadline() {
    // Fired and moved on: the refusal is still `deadline_passed` for the governed action, with
    // the time it was due, rather than a bare wrong state.
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    let due = w.deadline(K::Review).unwrap();
    w.run_to(K::Review);
    assert_eq!(w.status(), Status::Refunding);
    assert_eq!(
        w.refused(MERCHANT, reject_cmd()),
        Refusal::DeadlinePassed { kind: K::Review, at: due, action: "reject" }
    );
    // An action the fired deadline does not govern gets the plain wrong state.
    assert!(matches!(w.refused(BUYER, CaseCommand::Withdraw), Refusal::WrongState { rule: "B1", .. }));
}

#[test]
fn u2_e5_a_reminder_that_comes_due_after_its_deadline_is_dropped_not_sent() {
    // The runner was down through the reminder and the review deadline.
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    let review = w.deadline(K::Review).unwrap();
    w.now = review + Dur::hours(1);
    let from = w.log.len();
    assert_eq!(w.fire_due(), vec![K::ReviewReminder, K::Review]);
    let events: Vec<Event> = w.log[from..].iter().map(|r| r.event.clone()).collect();
    assert_eq!(events[0], Event::ReminderDropped { kind: K::ReviewReminder, for_due: review });
    assert!(!events.iter().any(|e| matches!(e, Event::ReminderSent { .. })));
    assert!(w.notices(&events[..1]).notices.is_empty(), "nothing tells the shop to hurry");
    // the firing says when it was due; the log line says when it ran
    let fired = w.log[from..].iter().find(|r| matches!(r.event, Event::DeadlineFired { .. })).unwrap();
    assert_eq!((fired.event.clone(), fired.at), (Event::DeadlineFired { kind: K::Review, due: review }, w.now));
    assert_eq!(w.status(), Status::Refunding);

    // the evidence reminder likewise
    let mut e = rejected("douyin");
    e.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    e.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
    let due = e.deadline(K::Evidence).unwrap();
    e.now = due;
    let from = e.log.len();
    assert_eq!(e.fire_due(), vec![K::EvidenceReminder, K::Evidence]);
    assert_eq!(e.log[from].event, Event::ReminderDropped { kind: K::EvidenceReminder, for_due: due });

    // one that comes due in time is sent
    let mut s = World::new("douyin", Online, At::Shipped);
    s.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    let remind = s.deadline(K::ReviewReminder).unwrap();
    s.now = remind;
    s.fire_due();
    assert!(matches!(s.log.last().unwrap().event, Event::ReminderSent { kind: K::ReviewReminder, .. }));
}
