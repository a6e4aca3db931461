//! L1–L4 on an order: several cases at once, each on its own units; refunds shared among the
//! lines they name; the windows and the case limit at application; an order stored before lines.

use super::units::new_line;
use crate::harness::{account, address, cny, logistics, BUYER, MERCHANT, SYSTEM, T0};
use aftersale_core::command::*;
use aftersale_core::lines::units::Pick;
use aftersale_core::lines::LineKind;
use aftersale_core::model::*;
use aftersale_core::notice::Recipient;
use aftersale_core::time::Dur;
use aftersale_core::values::*;
use aftersale_core::*;

/// A three-line order (2 × 40.00, 1 × 100.00, 3 × 10.00 fresh listed; 150.00 paid for the
/// goods, 10.00 shipping), with its cases kept by id.
pub struct Shop {
    pub policy: Policy,
    pub now: Timestamp,
    pub order: Order,
    pub cases: Vec<Case>,
    next: i64,
    address: Address,
    has_address: bool,
}

impl Shop {
    pub fn new(payment: PaymentMethod) -> Shop {
        let policy = Policy { currency: Currency::CNY, ..Policy::douyin() };
        let new = NewOrder {
            order_no: "DY3LINES".into(),
            buyer_id: BuyerId(7),
            payment,
            total: cny(160),
            shipping_fee: cny(10),
            fresh: false,
            customer_name: "王小明".into(),
            customer_phone: Phone::parse("13800131234").unwrap(),
            lines: vec![
                new_line("A", 4_000, 2, LineKind::Standard),
                new_line("B", 10_000, 1, LineKind::Standard),
                new_line("C", 1_000, 3, LineKind::Fresh),
            ],
        };
        let ctx = Ctx { policy: &policy, now: T0, default_address: None };
        let events = create_order(OrderId(1), ShopId(1), &new, &ctx).unwrap();
        let log: Vec<Recorded> = events.into_iter().map(|event| Recorded { at: T0, actor: MERCHANT, event }).collect();
        let order = Order::replay(&log).unwrap();
        Shop { policy, now: T0, order, cases: vec![], next: 1, address: address(1), has_address: true }
    }

    pub fn delivered() -> Shop {
        let mut s = Shop::new(PaymentMethod::Online);
        s.order_cmd(SYSTEM, OrderCommand::Pay);
        s.order_cmd(MERCHANT, OrderCommand::Ship { logistics: logistics("SF1000000001") });
        s.order_cmd(SYSTEM, OrderCommand::Deliver);
        s
    }

    pub fn ctx(&self) -> Ctx<'_> {
        Ctx { policy: &self.policy, now: self.now, default_address: self.has_address.then_some(&self.address) }
    }

    /// The shop's address book emptied, and filled again.
    pub fn address_off(&mut self) {
        self.has_address = false;
    }

    pub fn address_on(&mut self) {
        self.has_address = true;
    }

    pub fn order_cmd(&mut self, actor: Actor, cmd: OrderCommand) {
        for event in decide_order(&self.order, &cmd, &actor, &self.ctx()).unwrap() {
            self.order.apply(&Recorded { at: self.now, actor, event });
        }
    }

    pub fn apply(
        &mut self,
        kind: CaseType,
        reason: &str,
        amount: Money,
        lines: &[(u32, u32)],
    ) -> Result<CaseId, Refusal> {
        let cmd = Apply {
            kind,
            reason: reason.into(),
            amount,
            description: String::new(),
            evidence: vec![],
            refund_account: None,
            lines: lines.iter().map(|&(line, units)| Pick { line, units }).collect(),
        };
        let id = CaseId(self.next);
        let events = aftersale_core::apply(&self.order, id, &cmd, &BUYER, &self.ctx())?;
        self.next += 1;
        let r = Recorded { at: self.now, actor: BUYER, event: events[0].clone() };
        self.cases.push(Case::open(&self.order, &r).unwrap());
        self.order.apply_for(Some(id), &r);
        Ok(id)
    }

    pub fn cmd(&mut self, id: CaseId, actor: Actor, cmd: CaseCommand) {
        self.try_cmd(id, actor, cmd).unwrap();
    }

    pub fn case(&self, id: CaseId) -> &Case {
        self.cases.iter().find(|c| c.id == id).unwrap()
    }

    pub fn try_cmd(&mut self, id: CaseId, actor: Actor, cmd: CaseCommand) -> Result<Vec<Event>, Refusal> {
        let i = self.cases.iter().position(|c| c.id == id).unwrap();
        let events = decide_case(&self.order, &self.cases[i], &cmd, &actor, &self.ctx())?;
        for event in events.clone() {
            let r = Recorded { at: self.now, actor, event };
            self.order.apply_for(Some(id), &r);
            self.cases[i].apply(&r);
        }
        Ok(events)
    }

    pub fn line(&self, no: u32) -> (u32, u32, i64) {
        let i = self.order.lines.iter().position(|l| l.no == no).unwrap();
        let u = &self.order.line_use[i];
        (u.open_units, u.settled_units, u.refunded.minor())
    }
}

#[test]
fn l3_several_cases_on_one_order_each_on_its_own_units() {
    let mut s = Shop::delivered();
    let paid: Vec<i64> = s.order.lines.iter().map(|l| l.paid.minor()).collect();
    assert_eq!(paid, vec![5_714, 7_143, 2_143]);
    assert_eq!(paid.iter().sum::<i64>() + 1_000, 16_000, "L1: the lines and the shipping fee make the total");
    // One unit of line 1, then its other unit in a second case, open at the same time.
    let first = s.apply(CaseType::RefundOnly, "damaged", Money::cny(2_857), &[(1, 1)]).unwrap();
    assert_eq!(s.line(1), (1, 0, 0));
    assert_eq!(
        s.apply(CaseType::RefundOnly, "damaged", cny(10), &[(1, 2)]),
        Err(Refusal::UnitsNotAvailable { line: 1, asked: 2, available: 1 })
    );
    let second = s.apply(CaseType::ReturnRefund, "defective", Money::cny(2_857), &[(1, 1)]).unwrap();
    assert_ne!(first, second);
    assert_eq!(s.order.open_case, Some(second), "the newest open case");
    // Line 1 is all in open cases; no lines named means every unit still available: lines 2 and 3.
    assert_eq!(
        s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(1, 1)]),
        Err(Refusal::UnitsNotAvailable { line: 1, asked: 1, available: 0 })
    );
    let rest = s.apply(CaseType::RefundOnly, "damaged", cny(50), &[]).unwrap();
    assert_eq!(s.cases[2].lines, vec![Pick { line: 2, units: 1 }, Pick { line: 3, units: 3 }]);
    // Nothing is left: a plain application names the case in the way (as with one line).
    assert_eq!(s.apply(CaseType::RefundOnly, "damaged", cny(1), &[]), Err(Refusal::CaseAlreadyOpen { case: rest.0 }));
    assert!(application_options(&s.order).is_empty());
    // The first case is withdrawn: its unit may be applied for again; the others stay held.
    s.cmd(first, BUYER, CaseCommand::Withdraw);
    assert_eq!(s.line(1), (1, 0, 0));
    assert_eq!(s.order.open_case, Some(rest));
    assert_eq!(
        application_options(&s.order),
        vec![
            (CaseType::RefundOnly, Money::cny(2_857)),
            (CaseType::ReturnRefund, Money::cny(2_857)),
            (CaseType::Exchange, cny(0)),
            (CaseType::Resend, cny(0))
        ]
    );
    s.apply(CaseType::RefundOnly, "damaged", Money::cny(2_857), &[(1, 1)]).unwrap();
}

#[test]
fn l2_a_refund_is_shared_among_the_case_lines_and_no_line_refunds_more_than_was_paid() {
    let mut s = Shop::delivered();
    // Lines 1 (both units) and 2: 57.14 + 71.43 at most; a cent more is refused naming B3.
    assert_eq!(
        s.apply(CaseType::RefundOnly, "damaged", Money::cny(12_858), &[(1, 2), (2, 1)]),
        Err(Refusal::AmountAboveRefundable { requested: Money::cny(12_858), max: Money::cny(12_857) })
    );
    // A partial refund of 100.00: shared 57.14 : 71.43, the units free again (not refunded in full).
    let partial = s.apply(CaseType::RefundOnly, "damaged", cny(100), &[(1, 2), (2, 1)]).unwrap();
    s.cmd(partial, MERCHANT, CaseCommand::Refund);
    let (one, two) = (s.line(1), s.line(2));
    assert_eq!(one.2 + two.2, 10_000);
    assert_eq!((one.2, two.2), (4_444, 5_556), "57.14 : 71.43 of 100.00, the fen to the larger remainder");
    assert_eq!((one.0, one.1, two.0, two.1), (0, 0, 0, 0));
    // What is left is what was paid less what was refunded, per line: 12.70 + 15.87.
    assert_eq!(s.order.refundable_for(&[Pick { line: 1, units: 2 }], CaseType::RefundOnly), Money::cny(1_270));
    assert_eq!(s.order.refundable_for(&[Pick { line: 2, units: 1 }], CaseType::RefundOnly), Money::cny(1_587));
    assert_eq!(
        s.apply(CaseType::RefundOnly, "damaged", Money::cny(1_271), &[(1, 2)]),
        Err(Refusal::AmountAboveRefundable { requested: Money::cny(1_271), max: Money::cny(1_270) })
    );
    // The rest of line 2, in full: its unit is settled for good and the line has refunded exactly what was paid.
    let rest = s.apply(CaseType::RefundOnly, "damaged", Money::cny(1_587), &[(2, 1)]).unwrap();
    s.cmd(rest, MERCHANT, CaseCommand::Refund);
    assert_eq!(s.line(2), (0, 1, 7_143));
    assert_eq!(
        s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(2, 1)]),
        Err(Refusal::UnitsNotAvailable { line: 2, asked: 1, available: 0 })
    );
    assert_eq!(s.order.refunded, Money::cny(11_587));
}

#[test]
fn l2_u1_the_shipping_fee_is_refunded_only_before_shipment_with_every_unit() {
    let mut s = Shop::new(PaymentMethod::Online);
    s.order_cmd(SYSTEM, OrderCommand::Pay);
    assert_eq!(s.order.refundable(CaseType::RefundUnshipped), cny(160), "every unit: the whole total");
    assert_eq!(s.order.refundable_for(&[Pick { line: 2, units: 1 }], CaseType::RefundUnshipped), Money::cny(7_143));
    let all = s.apply(CaseType::RefundUnshipped, "no_longer_needed", cny(160), &[]).unwrap();
    s.cmd(all, MERCHANT, CaseCommand::Refund);
    assert_eq!(s.order.refunded, cny(160));
    assert_eq!(s.order.shipping_left(), cny(0));
    let lines: Vec<i64> = s.order.line_use.iter().map(|u| u.refunded.minor()).collect();
    assert_eq!(
        lines,
        vec![5_714, 7_143, 2_143],
        "each line exactly what was paid for it; the rest is the shipping fee"
    );
    assert_eq!(s.order.state, OrderState::Cancelled);
}

#[test]
fn l4_the_windows_at_application_any_reason_7_days_quality_15_none_for_fresh() {
    let mut s = Shop::delivered();
    s.now = T0 + Dur::days(8);
    assert_eq!(
        s.apply(CaseType::ReturnRefund, "no_longer_needed", cny(10), &[(1, 1)]),
        Err(Refusal::WindowClosed { window: "any_reason", until: Some(T0 + Dur::days(7)) })
    );
    s.now = T0 + Dur::days(1);
    assert_eq!(
        s.apply(CaseType::ReturnRefund, "no_longer_needed", cny(1), &[(3, 1)]),
        Err(Refusal::WindowClosed { window: "any_reason", until: None }),
        "fresh goods have no any-reason window"
    );
    s.now = T0 + Dur::days(10);
    s.apply(CaseType::ReturnRefund, "defective", cny(10), &[(2, 1)]).unwrap();
    s.now = T0 + Dur::days(15);
    assert_eq!(
        s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(1, 1)]),
        Err(Refusal::WindowClosed { window: "quality", until: Some(T0 + Dur::days(15)) })
    );
}

#[test]
fn l3_the_sixth_case_on_a_line_is_refused_naming_the_limit() {
    let mut s = Shop::delivered();
    for _ in 0..5 {
        let id = s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(2, 1)]).unwrap();
        s.cmd(id, BUYER, CaseCommand::Withdraw);
    }
    assert_eq!(
        s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(2, 1)]),
        Err(Refusal::CaseLimitReached { line: 2, limit: 5 })
    );
    s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(1, 1)]).unwrap();
}

#[test]
fn l1_an_order_stored_before_lines_reads_as_one_line_with_its_open_case() {
    let mut s = Shop::delivered();
    // As the release before lines stored it: no lines, an open case, 20.00 refunded already.
    let mut old: serde_json::Value = serde_json::to_value(&s.order).unwrap();
    for k in ["lines", "line_use", "cases"] {
        old.as_object_mut().unwrap().remove(k);
    }
    old["open_case"] = serde_json::json!(9);
    old["refunded"] = serde_json::to_value(cny(20)).unwrap();
    let before: Order = serde_json::from_value(old).unwrap();
    assert!(before.lines.is_empty());
    let read = before.with_lines();
    assert_eq!(read.lines.len(), 1);
    assert_eq!((read.lines[0].quantity, read.lines[0].paid), (1, cny(150)));
    assert_eq!((read.line_use[0].open_units, read.line_use[0].refunded), (1, cny(20)));
    assert_eq!(read.cases[0].case, CaseId(9));
    // Its open case may still refund what the release before allowed (B3): 150 − 20.
    assert_eq!(before.refundable_for(&[Pick { line: 1, units: 1 }], CaseType::RefundOnly), cny(130));
    // A new application meets the open case, as before.
    s.order = before;
    assert_eq!(s.apply(CaseType::RefundOnly, "damaged", cny(1), &[]), Err(Refusal::CaseAlreadyOpen { case: 9 }));
    // The first change stores it with its line.
    let r = Recorded { at: s.now, actor: BUYER, event: Event::Withdrawn };
    s.order.apply_for(Some(CaseId(9)), &r);
    assert_eq!(s.order.lines.len(), 1);
    assert_eq!((s.order.line_use[0].open_units, s.order.open_case), (0, None));
    let _ = account();
}

#[test]
fn l2_u1_a_refund_before_shipment_of_some_lines_leaves_the_order_to_ship_with_the_rest() {
    let mut s = Shop::new(PaymentMethod::Online);
    s.order_cmd(SYSTEM, OrderCommand::Pay);
    let one = s.apply(CaseType::RefundUnshipped, "no_longer_needed", Money::cny(7_143), &[(2, 1)]).unwrap();
    s.cmd(one, MERCHANT, CaseCommand::Refund);
    assert_eq!(s.order.state, OrderState::AwaitingConfirmation, "the rest of the order still ships");
    assert_eq!(s.line(2), (0, 1, 7_143));
    // The rest, later: now every unit is refunded or settled, and the order is cancelled.
    let rest = s.apply(CaseType::RefundUnshipped, "no_longer_needed", Money::cny(8_857), &[]).unwrap();
    s.cmd(rest, MERCHANT, CaseCommand::Refund);
    assert_eq!(s.order.state, OrderState::Cancelled);
    assert_eq!(s.order.refunded, cny(160), "everything, the shipping fee with the last units (U1)");
}

impl Shop {
    fn merchant_refund(
        &mut self,
        actor: Actor,
        reason: &str,
        amount: Money,
        lines: &[(u32, u32)],
    ) -> Result<Vec<Event>, Refusal> {
        let cmd = MerchantRefund {
            reason: reason.into(),
            amount,
            description: "缺一个颜色".into(),
            lines: lines.iter().map(|&(line, units)| Pick { line, units }).collect(),
        };
        let id = CaseId(self.next);
        let events = aftersale_core::merchant_refund(&self.order, id, &cmd, &actor, &self.ctx())?;
        self.next += 1;
        let recorded: Vec<Recorded> =
            events.iter().map(|e| Recorded { at: self.now, actor, event: e.clone() }).collect();
        let mut case = Case::open(&self.order, &recorded[0]).unwrap();
        for r in &recorded {
            self.order.apply_for(Some(id), r);
            if r != &recorded[0] {
                case.apply(r);
            }
        }
        self.cases.push(case);
        Ok(events)
    }
}

#[test]
fn c1_the_merchant_refunds_a_line_of_its_own_accord_with_no_review_and_the_buyer_is_told() {
    let mut s = Shop::delivered();
    // Above what line 2 can refund: refused, naming L2.
    assert_eq!(
        s.merchant_refund(MERCHANT, "goodwill", Money::cny(7_144), &[(2, 1)]),
        Err(Refusal::AmountAboveRefundable { requested: Money::cny(7_144), max: Money::cny(7_143) })
    );
    assert!(matches!(
        s.merchant_refund(MERCHANT, "because", cny(1), &[(2, 1)]),
        Err(Refusal::InvalidField { rule: "C1", .. })
    ));
    // Another shop, the buyer, the platform: not theirs to do.
    let other = Actor::Merchant { shop: ShopId(2), staff: StaffId(21) };
    for who in [other, BUYER, crate::harness::AGENT] {
        assert!(matches!(
            s.merchant_refund(who, "goodwill", cny(1), &[(2, 1)]),
            Err(Refusal::NotAllowedFor { rule: "C1", .. })
        ));
    }
    let events = s.merchant_refund(MERCHANT, "price_correction", cny(20), &[(2, 1)]).unwrap();
    assert!(matches!(events[0], Event::MerchantRefundOpened { kind: CaseType::RefundOnly, .. }));
    assert!(matches!(events[1], Event::RefundStarted { cancels_order: false, .. }), "{events:?}");
    let case = s.cases.last().unwrap().clone();
    assert_eq!(
        (case.status, case.amount, case.lines.clone()),
        (Status::Refunding, cny(20), vec![Pick { line: 2, units: 1 }])
    );
    let told = notices_for(&s.order, &case, &events);
    assert!(
        told.notices.iter().any(|n| n.recipient == Recipient::Buyer(BuyerId(7)) && n.title_zh.contains("退款")),
        "{told:?}"
    );
    assert!(
        told.notices.iter().any(|n| n.body.contains("price correction") && n.body_zh.contains("价格调整")),
        "the reason in words: {told:?}"
    );
    // A partial refund: the unit is free again, the line has 20 less to refund, and no buyer's
    // case was counted toward the limit (L3).
    assert_eq!(s.line(2), (0, 0, 2_000));
    assert_eq!(s.order.line_use[1].cases, 0);
    assert_eq!(s.order.refundable_for(&[Pick { line: 2, units: 1 }], CaseType::RefundOnly), Money::cny(5_143));
    // Units in a buyer's open case are not refunded under it.
    s.apply(CaseType::RefundOnly, "damaged", cny(10), &[(1, 2)]).unwrap();
    assert_eq!(
        s.merchant_refund(MERCHANT, "goodwill", cny(1), &[(1, 1)]),
        Err(Refusal::UnitsNotAvailable { line: 1, asked: 1, available: 0 })
    );
}

#[test]
fn c1_an_order_not_yet_paid_is_not_refunded_and_before_shipment_the_rest_still_ships() {
    let mut s = Shop::new(PaymentMethod::Online);
    assert!(matches!(
        s.merchant_refund(MERCHANT, "out_of_stock", cny(1), &[(3, 1)]),
        Err(Refusal::WrongState { rule: "C1", .. })
    ));
    s.order_cmd(SYSTEM, OrderCommand::Pay);
    // Out of stock on the strawberries: refunded before shipment, the rest ships.
    s.merchant_refund(MERCHANT, "out_of_stock", Money::cny(2_143), &[(3, 3)]).unwrap();
    assert_eq!(s.order.state, OrderState::AwaitingConfirmation);
    assert_eq!(s.line(3), (0, 3, 2_143));
    assert_eq!(s.cases.last().unwrap().kind, CaseType::RefundUnshipped);
}

#[test]
fn l2_l4_the_order_s_eligibility_adds_the_order_s_own_rules_to_the_lines() {
    use aftersale_core::lines::eligibility::Remedy;
    assert_eq!(case_type_of(Remedy::Exchange), Some(CaseType::Exchange));
    assert_eq!(case_type_of(Remedy::Resend), Some(CaseType::Resend));
    assert_eq!(case_type_of(Remedy::RefundOnly), Some(CaseType::RefundOnly));
    assert_eq!(case_type_of(Remedy::MerchantRefund), None);
    let offers = |s: &Shop, who: Actor, line: usize| -> Vec<(CaseType, bool)> {
        order_eligibility(&s.order, &who, &s.ctx())[line]
            .offers
            .iter()
            .map(|o| (case_type_of(o.remedy).unwrap(), o.refused.is_none()))
            .collect()
    };
    // Delivered: every type after delivery, on every line.
    let mut s = Shop::delivered();
    assert_eq!(
        offers(&s, BUYER, 0),
        vec![
            (CaseType::RefundOnly, true),
            (CaseType::ReturnRefund, true),
            (CaseType::Exchange, true),
            (CaseType::Resend, true)
        ]
    );
    // The shop's own refund is not a case type a buyer's offer lists.
    assert!(offers(&s, MERCHANT, 0).is_empty());
    // Without a return address, what takes goods back is refused; the rest stays open.
    s.address_off();
    let refused: Vec<Option<&'static str>> = order_eligibility(&s.order, &BUYER, &s.ctx())[0]
        .offers
        .iter()
        .map(|o| o.refused.as_ref().map(|r| r.code()))
        .collect();
    assert_eq!(refused, vec![None, Some("no_return_address"), Some("no_return_address"), None]);
    // A line refunded in full: nothing left, its money offers refused, its units spent.
    s.address_on();
    let id = s.apply(CaseType::RefundOnly, "damaged", Money::cny(7_143), &[(2, 1)]).unwrap();
    s.cmd(id, MERCHANT, CaseCommand::Refund);
    let line2 = &order_eligibility(&s.order, &BUYER, &s.ctx())[1];
    assert!(line2.offers.iter().all(|o| o.refused.is_some()), "{line2:?}");
    // Shipped, not delivered: a refund only; a COD order takes none before delivery (S1).
    let mut shipped = Shop::new(PaymentMethod::Online);
    shipped.order_cmd(SYSTEM, OrderCommand::Pay);
    shipped.order_cmd(MERCHANT, OrderCommand::Ship { logistics: logistics("SF7100000001") });
    assert_eq!(offers(&shipped, BUYER, 1), vec![(CaseType::RefundOnly, true)]);
    let mut cod = Shop::new(PaymentMethod::Cod);
    cod.order_cmd(MERCHANT, OrderCommand::Ship { logistics: logistics("SF7200000001") });
    let o = &order_eligibility(&cod.order, &BUYER, &cod.ctx())[0].offers[0];
    assert_eq!((o.remedy, o.refused.as_ref().map(|r| r.rule())), (Remedy::RefundOnly, Some(Some("S1"))));
    // Paid, not shipped: the refund before shipment, the line's share without the fee.
    let mut paid = Shop::new(PaymentMethod::Online);
    paid.order_cmd(SYSTEM, OrderCommand::Pay);
    let e = &order_eligibility(&paid.order, &BUYER, &paid.ctx())[1];
    assert_eq!((e.offers.len(), e.offers[0].max_refund, e.offers[0].refused.is_none()), (1, Money::cny(7_143), true));
}

#[test]
fn l3_ending_one_of_several_open_cases_frees_its_own_units_only() {
    let mut s = Shop::delivered();
    let a = s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(1, 1)]).unwrap();
    let b = s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(2, 1)]).unwrap();
    let c = s.apply(CaseType::RefundOnly, "damaged", cny(1), &[(3, 2)]).unwrap();
    // The middle one is withdrawn: line 2 is free, lines 1 and 3 still held.
    s.cmd(b, BUYER, CaseCommand::Withdraw);
    assert_eq!((s.line(1).0, s.line(2).0, s.line(3).0), (1, 0, 2));
    assert_eq!(s.order.open_case, Some(c));
    // What a case can still refund: nothing once it ended, its units' share while open.
    let (ca, cb) = (s.case(a).clone(), s.case(b).clone());
    assert_eq!(s.order.case_refundable(&cb, &cb.picks()), cny(0));
    assert_eq!(s.order.case_refundable(&ca, &ca.picks()), Money::cny(2_857));
    s.cmd(c, BUYER, CaseCommand::Withdraw);
    assert_eq!(s.order.open_case, Some(a));
}

#[test]
fn c1_the_platform_opens_a_case_for_the_buyer_outside_the_windows_and_no_one_else_may() {
    let mut s = Shop::delivered();
    s.now = T0 + Dur::days(20);
    let cmd = Apply {
        kind: CaseType::RefundOnly,
        reason: "defective".into(),
        amount: cny(10),
        description: "客服介入".into(),
        evidence: vec![crate::harness::evidence(1)],
        refund_account: None,
        lines: vec![Pick { line: 2, units: 1 }],
    };
    // The buyer is past both windows (L4); the shop and another buyer never apply.
    assert!(matches!(
        s.apply(CaseType::RefundOnly, "defective", cny(10), &[(2, 1)]),
        Err(Refusal::WindowClosed { .. })
    ));
    let refused = aftersale_core::apply(&s.order, CaseId(9), &cmd, &MERCHANT, &s.ctx()).unwrap_err();
    assert_eq!(refused.rule(), Some("T1"));
    let other = Actor::Buyer { buyer: BuyerId(8) };
    assert_eq!(aftersale_core::apply(&s.order, CaseId(9), &cmd, &other, &s.ctx()).unwrap_err().rule(), Some("T1"));
    // The platform opens it for the order's buyer: the buyer's case, the platform's evidence.
    let agent = Actor::Platform { agent: AgentId(31) };
    let events = aftersale_core::apply(&s.order, CaseId(9), &cmd, &agent, &s.ctx()).unwrap();
    let r = Recorded { at: s.now, actor: agent, event: events[0].clone() };
    let case = Case::open(&s.order, &r).unwrap();
    assert_eq!((case.buyer_id, case.status, case.amount), (BuyerId(7), Status::AwaitingReview, cny(10)));
    assert_eq!(case.evidence[0].0, Party::Platform);
    // Past the buyer's case limit on a line (L3), the platform may still open one.
    let mut s5 = Shop::delivered();
    for _ in 0..5 {
        let id = s5.apply(CaseType::RefundOnly, "damaged", cny(1), &[(2, 1)]).unwrap();
        s5.cmd(id, BUYER, CaseCommand::Withdraw);
    }
    assert!(matches!(
        s5.apply(CaseType::RefundOnly, "damaged", cny(1), &[(2, 1)]),
        Err(Refusal::CaseLimitReached { .. })
    ));
    aftersale_core::apply(&s5.order, CaseId(9), &cmd, &agent, &s5.ctx()).unwrap();
    // The rest of the rules hold for it: the units' cap (L2).
    let above = Apply { amount: cny(1_000), ..cmd.clone() };
    assert!(matches!(
        aftersale_core::apply(&s.order, CaseId(9), &above, &agent, &s.ctx()),
        Err(Refusal::AmountAboveRefundable { .. })
    ));
}
