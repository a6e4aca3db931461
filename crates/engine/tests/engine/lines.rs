//! Order lines in the engine: who may read an order's eligibility, the logistics feeds of
//! replacements and intercepts (reported by the platform or a shop's integration only, as the
//! system), and a return received in part writing its split-off case in the same transaction.

use crate::harness::*;
use aftersale_core::lines::receipt::Received;
use aftersale_core::lines::units::Pick;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::feeds::InterceptReport;
use aftersale_engine::*;

fn sender(actor: Actor, role: Role, credential: Credential) -> Sender {
    Sender { actor, role, credential }
}

fn logistics(no: &str) -> Logistics {
    Logistics { carrier: Carrier::parse("SF").unwrap(), tracking_no: TrackingNo::parse(no).unwrap() }
}

/// Buyer 7's delivered three-line order in shop 1 (2 × 40.00, 1 × 100.00, 3 × 10.00 fresh).
fn three_lines(a: &App, no: &str) -> Order {
    let line = |sku: &str, quantity: u32, yuan: i64, kind| aftersale_core::lines::NewLine {
        sku: sku.into(),
        title: sku.into(),
        quantity,
        unit_price: Money::cny(yuan * 100),
        kind,
    };
    use aftersale_core::lines::LineKind::*;
    let new = NewOrder {
        total: Money::cny(16_000),
        lines: vec![line("A", 2, 40, Standard), line("B", 1, 100, Standard), line("C", 3, 10, Fresh)],
        ..new_order(no, PaymentMethod::Online)
    };
    let o = a.engine.create_order(MERCHANT, ShopId(1), new, None).unwrap();
    a.engine.order_command(Actor::System, o.id, OrderCommand::Pay, None, None).unwrap();
    a.engine
        .order_command(MERCHANT, o.id, OrderCommand::Ship { logistics: logistics("SF1000000009") }, None, None)
        .unwrap();
    a.engine.order_command(Actor::System, o.id, OrderCommand::Deliver, None, None).unwrap()
}

fn apply(a: &App, order: OrderId, kind: CaseType, reason: &str, amount: Money, lines: &[(u32, u32)]) -> Case {
    let cmd = Apply {
        kind,
        reason: reason.into(),
        amount,
        description: String::new(),
        evidence: vec![],
        refund_account: None,
        lines: lines.iter().map(|&(line, units)| Pick { line, units }).collect(),
    };
    a.engine.apply(BUYER, order, cmd, None).unwrap()
}

#[test]
fn l2_an_order_s_eligibility_is_read_by_its_buyer_its_shop_and_the_platform_only() {
    let a = app();
    let o = three_lines(&a, "EL1");
    for actor in [BUYER, MERCHANT, AGENT] {
        let (order, lines, _) = a.engine.eligibility(actor, o.id).unwrap();
        assert_eq!((order.id, lines.len()), (o.id, 3), "{actor:?}");
    }
    for actor in [Actor::Buyer { buyer: BuyerId(8) }, OTHER_SHOP] {
        assert!(matches!(a.engine.eligibility(actor, o.id), Err(EngineError::NotFound { .. })), "{actor:?}");
    }
    assert!(matches!(a.engine.eligibility(BUYER, OrderId(999)), Err(EngineError::NotFound { .. })));
}

#[test]
fn k2_a_resend_s_delivery_is_reported_by_the_feed_only_and_completes_the_case() {
    let a = app();
    let o = three_lines(&a, "RS1");
    let c = apply(&a, o.id, CaseType::Resend, "missing_or_wrong_item", Money::cny(0), &[(1, 1)]);
    a.engine
        .case_command(MERCHANT, c.id, CaseCommand::ShipReplacement { logistics: logistics("SF4000000001") }, None, None)
        .unwrap();
    assert_eq!(a.case(c.id).status, Status::ReplacementSent);
    let staff = sender(MERCHANT, Role::Staff, Credential::Session);
    assert!(matches!(a.engine.replacement_parcel_report(staff, c.id, true, None), Err(EngineError::Forbidden(_))));
    let other = sender(OTHER_SHOP, Role::Owner, Credential::Token(TokenScope::Integration));
    assert!(matches!(a.engine.replacement_parcel_report(other, c.id, true, None), Err(EngineError::NotFound { .. })));
    let integration = sender(MERCHANT, Role::Owner, Credential::Token(TokenScope::Integration));
    a.engine.replacement_parcel_report(integration, c.id, false, None).unwrap();
    assert_eq!(a.case(c.id).status, Status::ReplacementSent, "not delivered: nothing changes");
    a.engine.replacement_parcel_report(integration, c.id, true, None).unwrap();
    assert_eq!(a.case(c.id).status, Status::Completed, "a resend delivered is the buyer's");
    let log = a.engine.read(|tx| tx.case_events(c.id)).unwrap();
    assert!(log
        .iter()
        .any(|e| matches!(e.recorded.event, Event::ReplacementConfirmed { .. }) && e.recorded.actor == Actor::System));
}

#[test]
fn i1_the_carrier_s_answer_moves_the_case_reported_by_the_platform_as_the_system() {
    let a = app();
    let o = a.engine.create_order(MERCHANT, ShopId(1), new_order("IC1", PaymentMethod::Online), None).unwrap();
    a.engine.order_command(Actor::System, o.id, OrderCommand::Pay, None, None).unwrap();
    a.engine
        .order_command(MERCHANT, o.id, OrderCommand::Ship { logistics: logistics("SF5000000001") }, None, None)
        .unwrap();
    let c = a.apply(o.id, CaseType::RefundOnly, 100);
    a.engine.case_command(MERCHANT, c.id, CaseCommand::RequestIntercept, None, None).unwrap();
    assert_eq!(a.case(c.id).status, Status::Intercepting);
    let staff = sender(MERCHANT, Role::Staff, Credential::Session);
    let stopped = || InterceptReport::Stopped { cost: Some(Money::cny(800)) };
    assert!(matches!(a.engine.intercept_report(staff, c.id, stopped(), None), Err(EngineError::Forbidden(_))));
    let agent = sender(AGENT, Role::Agent, Credential::Session);
    a.engine.intercept_report(agent, c.id, stopped(), None).unwrap();
    let case = a.case(c.id);
    assert_eq!((case.status, case.intercept.as_ref().unwrap().cost), (Status::Intercepting, Some(Money::cny(800))));
    a.engine.intercept_report(agent, c.id, InterceptReport::Returned, None).unwrap();
    assert_eq!(a.case(c.id).status, Status::Refunding);
    // Failed on another case: reviewed again.
    let o2 = a.engine.create_order(MERCHANT, ShopId(1), new_order("IC2", PaymentMethod::Online), None).unwrap();
    a.engine.order_command(Actor::System, o2.id, OrderCommand::Pay, None, None).unwrap();
    a.engine
        .order_command(MERCHANT, o2.id, OrderCommand::Ship { logistics: logistics("SF5000000002") }, None, None)
        .unwrap();
    let c2 = a.apply(o2.id, CaseType::RefundOnly, 100);
    a.engine.case_command(MERCHANT, c2.id, CaseCommand::RequestIntercept, None, None).unwrap();
    let failed = InterceptReport::Failed { reason: "already out for delivery".into(), cost: None };
    a.engine.intercept_report(agent, c2.id, failed, None).unwrap();
    assert_eq!(a.case(c2.id).status, Status::AwaitingReview);
}

#[test]
fn l5_a_receipt_in_part_writes_the_split_off_case_in_the_same_transaction() {
    let a = app();
    let o = three_lines(&a, "PR1");
    let amount = o.refundable_for(&[Pick { line: 1, units: 2 }], CaseType::ReturnRefund);
    let c = apply(&a, o.id, CaseType::ReturnRefund, "damaged", amount, &[(1, 2)]);
    let agree = CaseAction::AgreeReturn { to: ReturnTo::Default, refuse_freight_collect: false };
    a.engine.case_action_blocking(MERCHANT, 0, c.id, agree, None, None).unwrap();
    let back = CaseCommand::SubmitReturnLogistics { logistics: logistics("SF6000000001"), refund_account: None };
    a.engine.case_command(BUYER, c.id, back, None, None).unwrap();
    let events_before = a.event_count();
    let part = CaseCommand::ReceivedPart { received: vec![Received { line: 1, units: 1 }] };
    let first = a.engine.case_command(MERCHANT, c.id, part, None, None).unwrap();
    assert_eq!((first.status, first.lines.clone()), (Status::Refunding, vec![Pick { line: 1, units: 1 }]));
    let order = a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap();
    let split = order.split_from(c.id);
    assert_eq!(split.len(), 1);
    let child = a.case(split[0]);
    assert_eq!(
        (child.status, child.split_from, child.lines.clone()),
        (Status::AwaitingReceipt, Some(c.id), vec![Pick { line: 1, units: 1 }])
    );
    assert_eq!(first.amount.plus(child.amount), amount, "the amount is shared, not grown");
    // Its receipt deadline is armed: the runner refunds the missing unit once it passes.
    let due = child.receipt_due(&Policy::douyin()).unwrap();
    a.clock.set(due);
    a.runner().run_due().unwrap();
    assert_eq!(a.case(child.id).status, Status::Refunding);
    assert!(a.event_count() > events_before);
    // The buyer sees both cases; another shop neither.
    let mine = a.engine.search(BUYER, CaseQuery { order_no: Some("PR1".into()), ..CaseQuery::default() }).unwrap();
    assert_eq!(mine.items.len(), 2);
    assert!(matches!(a.engine.case_sheet(OTHER_SHOP, child.id), Err(EngineError::NotFound { .. })));
}
