//! The workbench as the core sees it: queues, flags, remarks, the case log (W1–W5).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::Online;

#[test]
fn w1_every_state_has_a_queue() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    assert_eq!(w.case().queue(), Queue::ReturnReview);
    w.cmd(MERCHANT, CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(2), address: None }).unwrap();
    assert_eq!(w.case().queue(), Queue::NegotiationPending);
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    assert_eq!(w.case().queue(), Queue::InProgress);
    w.cmd(BUYER, CaseCommand::Escalate { reason: "it is dented".into() }).unwrap();
    assert_eq!(w.case().queue(), Queue::InArbitration);
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos of the packing".into() }).unwrap();
    assert_eq!(w.case().queue(), Queue::AwaitingEvidence);
    w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Merchant, reason: "packing was fine".into() }).unwrap();
    assert_eq!(w.case().queue(), Queue::Closed);
}

#[test]
fn w3_the_flag_belongs_to_the_order() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    let case_before = w.case().clone();
    w.order_cmd(MERCHANT, OrderCommand::SetFlag { flag: Some(Flag::Red) }).unwrap();
    assert_eq!(w.order.flag, Some(Flag::Red));
    assert_eq!(w.case(), &case_before, "the case has no flag of its own");
    assert!(w.order_cmd(BUYER, OrderCommand::SetFlag { flag: Some(Flag::Blue) }).is_err());
    assert_eq!(Flag::parse("purple"), Ok(Flag::Purple));
    assert!(Flag::parse("orange").is_err());
}

#[test]
fn w4_order_remark_and_case_remark_are_separate_fields() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    w.order_cmd(MERCHANT, OrderCommand::SetRemark { text: "VIP customer".into() }).unwrap();
    w.cmd(MERCHANT, CaseCommand::SetRemark { text: "called buyer 14:00".into() }).unwrap();
    assert_eq!(w.order.remark, "VIP customer");
    assert_eq!(w.case().remark, "called buyer 14:00");
    assert!(w.cmd(BUYER, CaseCommand::SetRemark { text: "x".into() }).is_err());
}

#[test]
fn w5_case_log_names_actor_time_inputs_and_the_fired_deadline() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.advance(Dur::hours(1));
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: true }).unwrap();
    w.run_to(K::BuyerShip);
    let case_log: Vec<&Recorded> = w.log.iter().filter(|r| r.event.is_case_event()).collect();
    assert!(matches!(case_log[0], Recorded { actor: BUYER, event: Event::Applied { .. }, at } if *at == T0));
    assert!(matches!(
        case_log[1],
        Recorded { actor: MERCHANT, event: Event::ReturnAgreed { refuse_freight_collect: true, .. }, .. }
    ));
    assert!(matches!(case_log[2].event, Event::DeadlineFired { kind: K::BuyerShip, .. }));
    assert_eq!(case_log[2].actor, SYSTEM);
    assert!(case_log.windows(2).all(|p| p[0].at <= p[1].at));
    // replaying the log rebuilds the state
    let order = Order::replay(&w.log).unwrap();
    assert_eq!(order, w.order);
    assert_eq!(Case::replay(&order, case_log.into_iter()).as_ref(), w.case.as_ref());
}

#[test]
fn w3_w4_the_case_lists_the_flag_and_order_remark_to_the_shop_while_it_is_open() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    let listed = |w: &World, actor: Actor| {
        let actions = w.available(actor);
        (actions.contains(&Action::SetFlag), actions.contains(&Action::SetOrderRemark))
    };
    assert_eq!(listed(&w, MERCHANT), (true, true));
    assert_eq!(listed(&w, BUYER), (false, false));
    assert_eq!(listed(&w, AGENT), (false, false));
    let gate_buyer = w.gate(BUYER, Action::SetFlag);
    assert!(matches!(gate_buyer, Err(Refusal::NotAllowedFor { rule: "W3", .. })), "{gate_buyer:?}");
    // A finished case takes nothing more, its remarks and flag included (as its case remark).
    w.cmd(BUYER, CaseCommand::Withdraw).unwrap();
    assert!(matches!(w.case().status, Status::Closed { .. }));
    assert_eq!(listed(&w, MERCHANT), (false, false));
    assert!(matches!(w.gate(MERCHANT, Action::SetFlag), Err(Refusal::WrongState { .. })));
}
