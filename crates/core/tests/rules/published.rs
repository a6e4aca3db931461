//! What a command means to consumers (domain events): one test per flow, each event type with its
//! fields, and the case or order as the command left it, never a COD refund account (R6).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::{Cod, Online};

/// Runs `cmd` and answers what it publishes, computed as the engine does (the order and case on
/// either side of it).
fn told(w: &mut World, actor: Actor, cmd: CaseCommand) -> Published {
    let (order_before, case_before) = (w.order.clone(), w.case.clone());
    let from = w.log.len();
    w.cmd(actor, cmd).unwrap();
    published(&order_before, &w.order, case_before.as_ref(), w.case.as_ref(), &w.log[from..]).unwrap()
}

fn names(p: &Published) -> Vec<&'static str> {
    p.events.iter().map(|e| e.name()).collect()
}

#[test]
fn x1_every_case_step_is_told_with_the_case_as_it_left_it() {
    let mut w = World::new("douyin", Online, At::Delivered);
    let before = w.order.clone();
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    let opened = published(&before, &w.order, None, w.case.as_ref(), &w.log[w.log.len() - 1..]).unwrap();
    assert_eq!(names(&opened), ["case.opened"]);
    assert_eq!(opened.events[0], DomainEvent::CaseOpened { description: "the bin arrived dented".into() });
    let case = opened.case.as_ref().unwrap();
    assert_eq!((case.id, case.status, case.kind), (CaseId(500), StatusName::AwaitingReview, CaseType::ReturnRefund));
    assert_eq!(case.amount, cny(100));
    assert!(opened.order.is_none(), "a case event carries the case, not the order");

    let proposal =
        told(&mut w, MERCHANT, CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(2), address: None });
    assert_eq!(proposal.events, [DomainEvent::ProposalMade { kind: CaseType::RefundOnly, amount: cny(2) }]);
    let declined = told(&mut w, BUYER, CaseCommand::DeclineProposal);
    assert_eq!(declined.events[0], DomainEvent::ProposalAnswered { accepted: false });

    let agreed =
        told(&mut w, MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false });
    assert_eq!(agreed.events[0], DomainEvent::ReturnAgreed { address: address(1) });
    assert_eq!(
        agreed.events[1],
        DomainEvent::CaseStatusChanged { from: StatusName::AwaitingReview, to: StatusName::AwaitingBuyerReturn }
    );
    assert_eq!(agreed.case.as_ref().unwrap().status, StatusName::AwaitingBuyerReturn, "the case after the command");

    let message = told(&mut w, BUYER, CaseCommand::PostMessage { text: "sent today".into() });
    assert_eq!(message.events, [DomainEvent::MessagePosted { party: Party::Buyer, text: "sent today".into() }]);
    let files = told(&mut w, MERCHANT, CaseCommand::AddEvidence { evidence: vec![evidence(2)] });
    assert_eq!(files.events, [DomainEvent::EvidenceAdded { party: Party::Merchant, evidence: vec![evidence(2)] }]);

    let shipped = told(
        &mut w,
        BUYER,
        CaseCommand::SubmitReturnLogistics { logistics: logistics("SF2000000001"), refund_account: None },
    );
    assert_eq!(shipped.events[0], DomainEvent::ReturnShipped { logistics: logistics("SF2000000001") });
    assert_eq!(names(&shipped)[1], "case.status_changed");

    let refund = told(&mut w, MERCHANT, CaseCommand::ReceivedRefund);
    assert!(matches!(refund.events[0], DomainEvent::RefundRequested { amount, .. } if amount == cny(100)));
    assert_eq!(
        refund.events.last(),
        Some(&DomainEvent::CaseStatusChanged { from: StatusName::AwaitingReceipt, to: StatusName::Refunding })
    );
    // A remark means nothing outside: nothing is told.
    let (o, c, from) = (w.order.clone(), w.case.clone(), w.log.len());
    w.cmd(MERCHANT, CaseCommand::SetRemark { text: "called".into() }).unwrap();
    assert_eq!(published(&o, &w.order, c.as_ref(), w.case.as_ref(), &w.log[from..]), None);
}

#[test]
fn x1_refund_outcomes_and_deadlines_fired_are_told() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::RefundOnly, cny(30)).unwrap();
    let (o, c, from) = (w.order.clone(), w.case.clone(), w.log.len());
    w.run_to(K::Review);
    let fired = published(&o, &w.order, c.as_ref(), w.case.as_ref(), &w.log[from..]).unwrap();
    assert!(names(&fired).contains(&"case.deadline_fired"), "{fired:?}");
    assert!(fired.events.iter().any(|e| matches!(e, DomainEvent::CaseDeadlineFired { deadline: K::Review, .. })));
    let failed = told(&mut w, SYSTEM, CaseCommand::RecordRefundOutcome { ok: false, detail: "bank down".into() });
    assert!(
        matches!(&failed.events[0], DomainEvent::RefundFailed { detail, retry_at: Some(_) } if detail == "bank down")
    );
    let paid = told(&mut w, SYSTEM, CaseCommand::RecordRefundOutcome { ok: true, detail: "settled".into() });
    assert_eq!(paid.events[0], DomainEvent::RefundSucceeded { amount: cny(30) });
    assert_eq!(
        paid.events[1],
        DomainEvent::CaseStatusChanged { from: StatusName::Refunding, to: StatusName::Completed }
    );
}

#[test]
fn e1_e6_t4_arbitration_and_appeals_are_told() {
    let mut w = rejected("douyin");
    let opened = told(&mut w, BUYER, CaseCommand::Escalate { reason: "it is dented".into() });
    assert_eq!(opened.events[0], DomainEvent::ArbitrationOpened { by: Party::Buyer, reason: "it is dented".into() });
    let asked = told(&mut w, AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() });
    assert_eq!(asked.events[0], DomainEvent::ArbitrationEvidenceRequested { instructions: "photos".into() });
    let submitted = told(
        &mut w,
        MERCHANT,
        CaseCommand::SubmitEvidence { explanation: "packed well".into(), evidence: vec![evidence(3)] },
    );
    assert_eq!(submitted.events[0], DomainEvent::EvidenceAdded { party: Party::Merchant, evidence: vec![evidence(3)] });
    let ruled = told(&mut w, AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "dented".into() });
    assert_eq!(ruled.events[0], DomainEvent::ArbitrationRuled { for_party: Party::Buyer, reason: "dented".into() });
    let appealed = told(&mut w, MERCHANT, CaseCommand::Appeal { text: "unfair".into(), evidence: vec![evidence(4)] });
    assert_eq!(appealed.events[0], DomainEvent::AppealSubmitted);
    w.cmd(AGENT, CaseCommand::ReviewAppeal).unwrap();
    let decided = told(&mut w, AGENT, CaseCommand::DecideAppeal { upheld: false, reason: "no new facts".into() });
    assert_eq!(decided.events[0], DomainEvent::AppealDecided { upheld: false, reason: "no new facts".into() });
}

#[test]
fn b2_a_revised_request_is_told() {
    let mut w = rejected("douyin");
    let revised = told(&mut w, BUYER, revision(CaseType::RefundOnly, cny(5), vec![evidence(5)]));
    assert_eq!(revised.events[0], DomainEvent::CaseResubmitted);
    assert_eq!(
        revised.events[1],
        DomainEvent::CaseStatusChanged { from: StatusName::Rejected, to: StatusName::AwaitingReview }
    );
}

#[test]
fn o1_o4_order_steps_are_told_with_the_order() {
    let mut w = World::new("douyin", Online, At::Unpaid);
    let created = published(&w.order, &w.order, None, None, &w.log).unwrap();
    assert_eq!(names(&created), ["order.created"]);
    let order = created.order.as_ref().unwrap();
    assert_eq!((order.id, order.state, order.total), (OrderId(100), OrderState::AwaitingPayment, cny(110)));
    assert!(created.case.is_none());
    let before = w.order.clone();
    let from = w.log.len();
    w.order_cmd(SYSTEM, OrderCommand::Pay).unwrap();
    let paid = published(&before, &w.order, None, None, &w.log[from..]).unwrap();
    assert_eq!(
        paid.events,
        [DomainEvent::OrderStatusChanged { from: OrderState::AwaitingPayment, to: OrderState::AwaitingConfirmation }]
    );
    assert_eq!(paid.order.as_ref().unwrap().state, OrderState::AwaitingConfirmation);
    let mut w = World::new("douyin", Online, At::Unpaid);
    let before = w.order.clone();
    let from = w.log.len();
    w.order_cmd(BUYER, OrderCommand::Cancel { reason: "changed my mind".into(), buyer_contacted: false }).unwrap();
    let cancelled = published(&before, &w.order, None, None, &w.log[from..]).unwrap();
    assert_eq!(
        cancelled.events,
        [DomainEvent::OrderCancelled { by: Party::Buyer, reason: "changed my mind".into() }],
        "a cancellation says so itself, not as a status change too"
    );
    // A flag means nothing outside.
    let before = w.order.clone();
    let from = w.log.len();
    w.order_cmd(MERCHANT, OrderCommand::SetFlag { flag: Some(Flag::Red) }).unwrap();
    assert_eq!(published(&before, &w.order, None, None, &w.log[from..]), None);
}

#[test]
fn m6_r6_the_penalty_is_told_and_no_event_holds_a_refund_account() {
    let mut w = shipped_back("douyin", Cod);
    w.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
    let (o, c, from) = (w.order.clone(), w.case.clone(), w.log.len());
    w.run_to(K::Voucher);
    let told = published(&o, &w.order, c.as_ref(), w.case.as_ref(), &w.log[from..]).unwrap();
    assert!(told.events.iter().any(|e| matches!(e, DomainEvent::PenaltyIssued { .. })), "{told:?}");
    let json = serde_json::to_string(&told).unwrap();
    assert!(!json.contains(&account().number) && !json.contains("refund_account"), "{json}");
    assert!(w.case().refund_account.is_some(), "the case itself holds the account");
}

#[test]
fn every_type_has_its_name_in_the_list() {
    let all = [
        DomainEvent::OrderCreated,
        DomainEvent::CaseResubmitted,
        DomainEvent::AppealSubmitted,
        DomainEvent::ProposalAnswered { accepted: true },
    ];
    for e in all {
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], e.name());
        assert!(DomainEvent::TYPES.contains(&e.name()));
    }
    let mut unique = DomainEvent::TYPES.to_vec();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), DomainEvent::TYPES.len());
}

#[test]
fn x1_the_case_as_told_names_a_rejections_stage_and_a_closes_reason() {
    let w = rejected("douyin");
    let snap = CaseSnapshot::of(w.case());
    assert_eq!((snap.status, snap.stage, snap.close_reason), (StatusName::Rejected, Some(Stage::Review), None));
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    w.cmd(BUYER, CaseCommand::Withdraw).unwrap();
    let snap = CaseSnapshot::of(w.case());
    assert_eq!((snap.status, snap.stage, snap.close_reason), (StatusName::Closed, None, Some(CloseReason::Withdrawn)));
}

#[test]
fn n4_an_accepted_proposal_is_told() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    told(&mut w, MERCHANT, CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(2), address: None });
    let accepted = told(&mut w, BUYER, CaseCommand::AcceptProposal);
    assert_eq!(accepted.events[0], DomainEvent::ProposalAnswered { accepted: true });
}

#[test]
fn o4_an_unpaid_order_that_expires_is_told_as_cancelled_only() {
    let mut w = World::new("douyin", Online, At::Unpaid);
    let before = w.order.clone();
    let from = w.log.len();
    w.advance(w.policy.unpaid_order);
    w.order_cmd(SYSTEM, OrderCommand::Expire { kind: K::OrderUnpaid }).unwrap();
    let told = published(&before, &w.order, None, None, &w.log[from..]).unwrap();
    assert_eq!(names(&told), ["order.cancelled"], "no case event without a case");
    // Case events without a case (which no command makes) are not told either.
    let applied = Recorded {
        at: w.now,
        actor: BUYER,
        event: Event::Applied {
            case_id: CaseId(9),
            kind: CaseType::RefundOnly,
            reason: "damaged".into(),
            amount: cny(1),
            description: String::new(),
            evidence: vec![],
            refund_account: None,
            lines: vec![],
        },
    };
    assert_eq!(published(&w.order, &w.order, None, None, &[applied]), None);
    let fired = Recorded { at: w.now, actor: SYSTEM, event: Event::DeadlineFired { kind: K::Review, due: w.now } };
    assert_eq!(published(&w.order, &w.order, None, None, &[fired]), None);
}

#[test]
fn r6_a_case_and_its_log_as_each_party_sees_them() {
    let mut w = World::new("douyin", Cod, At::Delivered);
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    assert!(w.case().refund_account.is_some());
    let line = w.log.last().unwrap().clone();
    let has_account = |r: &Recorded| matches!(&r.event, Event::Applied { refund_account: Some(_), .. });
    for (actor, sees) in [(MERCHANT, false), (BUYER, true), (AGENT, true)] {
        assert_eq!(sees_refund_account(&actor), sees, "{actor:?}");
        assert_eq!(w.case().clone().seen_by(&actor).refund_account.is_some(), sees, "{actor:?}");
        assert_eq!(has_account(&line.clone().seen_by(&actor)), sees, "{actor:?}");
    }
}
