//! The case page as one read (`case_sheet`) and the return address chosen in the engine (R4).

use crate::harness::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;

fn cod_case(a: &App) -> Case {
    let o = a.order("SHEET-COD", PaymentMethod::Cod, true);
    let cmd = Apply {
        kind: CaseType::RefundOnly,
        reason: "damaged".into(),
        amount: Money::cny(5_000),
        description: String::new(),
        evidence: vec![],
        refund_account: Some(RefundAccount {
            holder: "李四".into(),
            bank: "工商银行".into(),
            number: "6222020200112233445".into(),
        }),
        lines: vec![],
    };
    a.engine.apply(BUYER, o.id, cmd, None).unwrap()
}

#[test]
fn r6_the_merchants_sheet_carries_no_refund_account_in_the_case_or_the_log() {
    let a = app();
    let c = cod_case(&a);
    let merchant = a.engine.case_sheet(MERCHANT, c.id).unwrap();
    assert_eq!(merchant.case.refund_account, None);
    // Debug redacts the account anyway; the serialised log is what a page or the API shows.
    let text = serde_json::to_string(&merchant.log).unwrap();
    assert!(!text.contains("6222020200"), "the merchant's log holds the account: {text}");
    // the buyer and the platform see it, in the case and in the log
    for who in [BUYER, AGENT] {
        let sheet = a.engine.case_sheet(who, c.id).unwrap();
        assert!(sheet.case.refund_account.is_some());
        assert!(serde_json::to_string(&sheet.log).unwrap().contains("6222020200"));
    }
}

#[test]
fn the_sheet_shows_the_actions_and_deadline_of_the_version_it_shows() {
    let (a, _, c) = refund_only_case("SHEET1");
    let sheet = a.engine.case_sheet(MERCHANT, c.id).unwrap();
    let (actions, governing) = a.engine.available(MERCHANT, c.id).unwrap();
    assert_eq!(sheet.actions, actions);
    assert_eq!(sheet.governing, governing);
    assert!(sheet.actions.contains(&Action::Refund));
    assert_eq!(sheet.governing.map(|d| d.kind), Some(DeadlineKind::Review));
    assert_eq!(sheet.log.len(), 1, "the application");
    assert_eq!(sheet.now, a.clock.now());
    // after the refund the merchant has nothing left to review
    a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).unwrap();
    let after = a.engine.case_sheet(MERCHANT, c.id).unwrap();
    assert!(!after.actions.contains(&Action::Refund));
    assert_eq!(after.case.version, c.version + 1);
    assert_eq!(after.log.len(), 2);
    // another shop's case is not found
    assert!(matches!(a.engine.case_sheet(OTHER_SHOP, c.id), Err(EngineError::NotFound { what: "case", .. })));
}

fn agree(a: &App, actor: Actor, case: CaseId, to: ReturnTo) -> Result<Case, EngineError> {
    let action = CaseAction::AgreeReturn { to, refuse_freight_collect: false };
    a.engine.case_action_blocking(actor, 0, case, action, None, None).map(|a| a.case)
}

#[test]
fn r4_agreeing_to_a_return_without_an_address_uses_the_shops_default() {
    let a = app();
    let o = a.order("R4D", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::ReturnRefund, 10);
    let done = agree(&a, MERCHANT, c.id, ReturnTo::Default).unwrap();
    assert_eq!(done.return_address.map(|ad| ad.name), Some("退货仓".to_string()));
    // an address not in the shop's book is refused, and a buyer cannot agree to a return at all
    let o2 = a.order("R4D2", PaymentMethod::Online, true);
    let c2 = a.apply(o2.id, CaseType::ReturnRefund, 10);
    let err = agree(&a, MERCHANT, c2.id, ReturnTo::Book(AddressId(999))).unwrap_err();
    assert!(
        matches!(&err, EngineError::Refused(Refusal::InvalidField { field, .. }) if field == "address_id"),
        "{err:?}"
    );
    let err = agree(&a, BUYER, c2.id, ReturnTo::Default).unwrap_err();
    assert!(matches!(err, EngineError::Refused(Refusal::NotAllowedFor { .. })), "{err:?}");
}

#[test]
fn a_buyers_orders_are_their_own_newest_first_a_page_at_a_time() {
    let a = app();
    let o1 = a.order("B1", PaymentMethod::Online, false);
    let o2 = a.order("B2", PaymentMethod::Online, false);
    let mut other = new_order("B3", PaymentMethod::Online);
    other.buyer_id = BuyerId(8);
    a.engine.create_order(MERCHANT, ShopId(1), other, None).unwrap();
    let ids = |v: Vec<(Order, Option<CaseId>)>| v.into_iter().map(|(o, _)| o.id).collect::<Vec<_>>();
    assert_eq!(ids(a.engine.buyer_orders(BuyerId(7), None, 50).unwrap()), vec![o2.id, o1.id]);
    assert_eq!(ids(a.engine.buyer_orders(BuyerId(7), None, 1).unwrap()), vec![o2.id]);
    assert_eq!(ids(a.engine.buyer_orders(BuyerId(7), Some(o2.id), 50).unwrap()), vec![o1.id]);
    assert_eq!(a.engine.buyer_orders(BuyerId(8), None, 50).unwrap().len(), 1);
}

#[test]
fn the_shop_report_counts_days_first_responses_and_cases_decided_by_timeout() {
    let a = app();
    let answered = {
        let o = a.order("D1", PaymentMethod::Online, true);
        a.apply(o.id, CaseType::RefundOnly, 10)
    };
    let timed_out = {
        let o = a.order("D2", PaymentMethod::Online, true);
        a.apply(o.id, CaseType::RefundOnly, 20)
    };
    a.clock.advance(Dur::hours(1));
    let withdrawn = {
        let o = a.order("D3", PaymentMethod::Online, true);
        let cmd = Apply {
            kind: CaseType::RefundOnly,
            reason: "other".into(),
            amount: Money::cny(500),
            description: String::new(),
            evidence: vec![],
            refund_account: None,
            lines: vec![],
        };
        a.engine.apply(BUYER, o.id, cmd, None).unwrap()
    };
    a.clock.advance(Dur::hours(2));
    a.engine.case_command(MERCHANT, answered.id, CaseCommand::Refund, None, None).unwrap();
    a.clock.advance(Dur::hours(24));
    a.engine.case_command(BUYER, withdrawn.id, CaseCommand::Withdraw, None, None).unwrap();
    a.clock.advance(Dur::hours(24));
    a.runner().run_due().unwrap();
    assert_eq!(a.case(timed_out.id).status, Status::Refunding, "the review deadline refunded it");
    // T0 is 09:00 UTC, 17:00 in UTC+8: the period from a day before to now (T0 + 51 h) spans the
    // local days T0 - 1 … T0 + 2, the first starting at 16:00 UTC the day before T0's UTC date.
    let day = 86_400_000;
    let t0_day = T0.0.div_euclid(day);
    let eight = Dur::hours(8);
    let r = a.engine.shop_report(ShopId(1), T0 - Dur::days(1), a.clock.now(), eight).unwrap();
    assert_eq!(r.days.len(), 4);
    assert_eq!(r.days[0].0, Timestamp((t0_day - 1) * day - eight.0));
    assert_eq!(r.days[3].0, Timestamp((t0_day + 2) * day - eight.0));
    let opened: Vec<u64> = r.days.iter().map(|d| d.1).collect();
    let closed: Vec<u64> = r.days.iter().map(|d| d.2).collect();
    assert_eq!(opened, vec![0, 3, 0, 0], "all three applied on T0's local day");
    // The withdrawal closed one the next local day; the refund given at T0 + 3 h settled (one
    // working day later) on the last.
    assert_eq!(closed, vec![0, 0, 1, 1]);
    assert_eq!(r.cases, 3);
    assert!(r.complete);
    assert_eq!(r.answered, 1, "the shop answered one case itself");
    assert_eq!(r.first_response_median, Some(Dur::hours(3)));
    assert_eq!(r.decided_by_timeout, 1);
    assert_eq!(r.refunded, vec![Money::cny(3_000)]);
    assert_eq!(r.refunded_cases, 2);
    assert_eq!(r.top_reasons, vec![("damaged".to_string(), 2), ("other".to_string(), 1)]);
    // Every case asked for money: three refunds, each on the one unit of its one-line order.
    let outcomes: Vec<(&str, u64, u64, u64)> = r.outcomes.iter().map(|o| (o.name, o.cases, o.lines, o.units)).collect();
    assert_eq!(outcomes, vec![("refund", 3, 3, 3), ("exchange", 0, 0, 0), ("resend", 0, 0, 0)]);
    // The period bounds the cases: none applied after T0 + 1 h or before T0.
    assert_eq!(a.engine.shop_report(ShopId(1), T0 + Dur::hours(1) + Dur(1), a.clock.now(), eight).unwrap().cases, 0);
    assert_eq!(a.engine.shop_report(ShopId(1), T0 - Dur::days(2), T0 - Dur(1), eight).unwrap().cases, 0);
    // A cap reads the newest cases only and says the figures are partial.
    let capped = a.engine.shop_report_capped(ShopId(1), T0 - Dur::days(1), a.clock.now(), eight, 2).unwrap();
    assert_eq!((capped.cases, capped.complete), (2, false));
    assert!(!capped.top_reasons.is_empty());
    let newest = a.engine.shop_report_capped(ShopId(1), T0 - Dur::days(1), a.clock.now(), eight, 1).unwrap();
    assert_eq!(newest.top_reasons, vec![("other".to_string(), 1)], "the newest case, applied last");
    // A period starting at 21:00 UTC starts its first day at the next local midnight.
    let late = a.engine.shop_report(ShopId(1), T0 + Dur::hours(12), a.clock.now(), eight).unwrap();
    assert_eq!(late.days[0].0, Timestamp((t0_day + 1) * day - eight.0));
    let exact = a.engine.shop_report_capped(ShopId(1), T0 - Dur::days(1), a.clock.now(), eight, 3).unwrap();
    assert_eq!((exact.cases, exact.complete), (3, true));
    // another shop's report is its own
    assert_eq!(a.engine.shop_report(ShopId(2), T0 - Dur::days(1), a.clock.now(), Dur(0)).unwrap().cases, 0);
}

#[test]
fn the_shop_report_counts_cases_lines_and_units_per_outcome() {
    use aftersale_core::lines::units::Pick;
    use aftersale_core::lines::{LineKind, NewLine};
    let a = app();
    let line = |sku: &str, quantity: u32| NewLine {
        sku: sku.into(),
        title: sku.into(),
        quantity,
        unit_price: Money::cny(5_000),
        kind: LineKind::Standard,
    };
    let new = NewOrder { lines: vec![line("A", 2), line("B", 1)], ..new_order("L3", PaymentMethod::Online) };
    let o = a.engine.create_order(MERCHANT, ShopId(1), new, None).unwrap();
    a.engine.order_command(Actor::System, o.id, OrderCommand::Pay, None, None).unwrap();
    let logistics =
        Logistics { carrier: Carrier::parse("SF").unwrap(), tracking_no: TrackingNo::parse("SF9100000001").unwrap() };
    let ship = OrderCommand::Ship { logistics };
    a.engine.order_command(MERCHANT, o.id, ship, None, None).unwrap();
    a.engine.order_command(Actor::System, o.id, OrderCommand::Deliver, None, None).unwrap();
    let ask = |kind, reason: &str, yuan: i64, lines: Vec<Pick>| {
        let cmd = Apply {
            kind,
            reason: reason.into(),
            amount: Money::cny(yuan * 100),
            description: String::new(),
            evidence: vec![],
            refund_account: None,
            lines,
        };
        a.engine.apply(BUYER, o.id, cmd, None).unwrap()
    };
    ask(CaseType::Exchange, "defective", 0, vec![Pick { line: 1, units: 2 }]);
    ask(CaseType::Resend, "missing_or_wrong_item", 0, vec![Pick { line: 2, units: 1 }]);
    a.clock.advance(Dur::hours(1));
    let r = a.engine.shop_report(ShopId(1), T0 - Dur::days(1), a.clock.now(), Dur::hours(8)).unwrap();
    let outcomes: Vec<(&str, u64, u64, u64)> = r.outcomes.iter().map(|o| (o.name, o.cases, o.lines, o.units)).collect();
    assert_eq!(outcomes, vec![("refund", 0, 0, 0), ("exchange", 1, 1, 2), ("resend", 1, 1, 1)]);
}
