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
    };
    a.engine.apply(BUYER, o.id, cmd, None).unwrap()
}

#[test]
fn r6_the_merchants_sheet_carries_no_refund_account_in_the_case_or_the_log() {
    let a = app();
    let c = cod_case(&a);
    let merchant = a.engine.case_sheet(MERCHANT, c.id).unwrap();
    assert_eq!(merchant.case.refund_account, None);
    let text = format!("{:?}", merchant.log);
    assert!(!text.contains("6222020200"), "the merchant's log holds the account: {text}");
    // the buyer and the platform see it, in the case and in the log
    for who in [BUYER, AGENT] {
        let sheet = a.engine.case_sheet(who, c.id).unwrap();
        assert!(sheet.case.refund_account.is_some());
        assert!(format!("{:?}", sheet.log).contains("6222020200"));
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

#[test]
fn r4_agreeing_to_a_return_without_an_address_uses_the_shops_default() {
    let a = app();
    let o = a.order("R4D", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::ReturnRefund, 10);
    let done = a.engine.agree_return_to(MERCHANT, c.id, ReturnTo::Default, false, None, None).unwrap();
    assert_eq!(done.return_address.map(|ad| ad.name), Some("退货仓".to_string()));
    // a shop with no address book is told so
    let o2 = a.engine.create_order(OTHER_SHOP, ShopId(2), new_order("R4D2", PaymentMethod::Online), None).unwrap();
    a.engine.order_command(Actor::System, o2.id, OrderCommand::Pay, None, None).unwrap();
    let logistics =
        Logistics { carrier: Carrier::parse("SF").unwrap(), tracking_no: TrackingNo::parse("SF1000000002").unwrap() };
    a.engine.order_command(OTHER_SHOP, o2.id, OrderCommand::Ship { logistics }, None, None).unwrap();
    a.engine.order_command(Actor::System, o2.id, OrderCommand::Deliver, None, None).unwrap();
    let cmd = Apply {
        kind: CaseType::ReturnRefund,
        reason: "damaged".into(),
        amount: Money::cny(1_000),
        description: String::new(),
        evidence: vec![],
        refund_account: None,
    };
    let c2 = a.engine.apply(BUYER, o2.id, cmd, None).unwrap();
    let err = a.engine.agree_return_to(OTHER_SHOP, c2.id, ReturnTo::Default, false, None, None).unwrap_err();
    assert!(matches!(err, EngineError::Refused(Refusal::NoReturnAddress)), "{err:?}");
    // a buyer cannot agree to a return at all
    let err = a.engine.agree_return_to(BUYER, c2.id, ReturnTo::Default, false, None, None).unwrap_err();
    assert!(matches!(err, EngineError::Refused(Refusal::NotAllowedFor { .. })), "{err:?}");
}
