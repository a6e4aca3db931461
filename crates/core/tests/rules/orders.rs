//! Orders and cancellation: O1–O4.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::{Cod, Online};

#[test]
fn o1_orders_are_online_or_cod_with_their_states() {
    // given an online order: awaiting payment, then each state in turn
    let mut w = World::new("douyin", Online, At::Unpaid);
    assert_eq!(w.order.state, OrderState::AwaitingPayment);
    w.order_cmd(SYSTEM, OrderCommand::Pay).unwrap();
    assert_eq!(w.order.state, OrderState::AwaitingConfirmation);
    w.order_cmd(MERCHANT, OrderCommand::Confirm).unwrap();
    assert_eq!(w.order.state, OrderState::Stocking);
    w.order_cmd(MERCHANT, OrderCommand::Ship { logistics: logistics("SF1000000009") }).unwrap();
    w.order_cmd(SYSTEM, OrderCommand::Deliver).unwrap();
    w.order_cmd(SYSTEM, OrderCommand::Complete).unwrap();
    assert_eq!(w.order.state, OrderState::Completed);
    // a COD order skips payment
    let cod = World::new("douyin", Cod, At::Unpaid);
    assert_eq!(cod.order.state, OrderState::AwaitingConfirmation);
    // and a profile without COD refuses COD orders
    let policy = Policy::profile("taote").unwrap();
    let ctx = Ctx { policy: &policy, now: T0, default_address: None };
    let mut new = NewOrder {
        order_no: "X1".into(),
        buyer_id: BuyerId(7),
        payment: Cod,
        total: cny(10),
        shipping_fee: cny(0),
        fresh: false,
        customer_name: "a".into(),
        customer_phone: Phone::parse("13800131234").unwrap(),
        lines: vec![],
    };
    assert_eq!(create_order(OrderId(1), ShopId(1), &new, &ctx).unwrap_err(), Refusal::CodNotSupported);
    new.payment = Online;
    new.total = Money::cny(0);
    assert_eq!(create_order(OrderId(1), ShopId(1), &new, &ctx).unwrap_err().field(), Some("total"));
}

#[test]
fn o2_cod_cancellation_rules() {
    // given a COD order awaiting confirmation
    let mut w = World::new("douyin", Cod, At::Paid);
    // the buyer cannot cancel once submitted
    let cancel = |contacted| OrderCommand::Cancel { reason: "out of stock".into(), buyer_contacted: contacted };
    assert!(matches!(w.order_cmd(BUYER, cancel(false)), Err(Refusal::NotAllowedFor { rule: "O2", .. })));
    // the merchant must record that the buyer was contacted
    assert_eq!(w.order_cmd(MERCHANT, cancel(false)).unwrap_err().code(), "missing_field");
    w.order_cmd(MERCHANT, OrderCommand::Confirm).unwrap();
    w.order_cmd(MERCHANT, cancel(true)).unwrap();
    assert_eq!(w.order.state, OrderState::Cancelled);
    assert!(w.order.cancellation.as_ref().unwrap().buyer_contacted);
    // a shipped COD order: only the platform cancels it
    let mut s = World::new("douyin", Cod, At::Shipped);
    assert!(s.order_cmd(MERCHANT, cancel(true)).is_err());
    assert!(s.order_cmd(BUYER, cancel(true)).is_err());
    s.order_cmd(AGENT, OrderCommand::Cancel { reason: "buyer asked the platform".into(), buyer_contacted: false })
        .unwrap();
    assert_eq!(s.order.cancellation.as_ref().unwrap().by, Party::Platform);
}

#[test]
fn o3_online_cancellation_rules() {
    let cancel = OrderCommand::Cancel { reason: "changed my mind".into(), buyer_contacted: false };
    // the merchant can never cancel an online order
    let mut w = World::new("douyin", Online, At::Unpaid);
    assert!(matches!(w.order_cmd(MERCHANT, cancel.clone()), Err(Refusal::NotAllowedFor { rule: "O3", .. })));
    // the buyer may cancel while awaiting payment
    w.order_cmd(BUYER, cancel.clone()).unwrap();
    assert_eq!(w.order.state, OrderState::Cancelled);
    // after payment the buyer goes through a refund before shipment instead
    let mut paid = World::new("douyin", Online, At::Paid);
    assert!(matches!(paid.order_cmd(BUYER, cancel), Err(Refusal::WrongState { rule: "O3", .. })));
    paid.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
}

#[test]
fn o4_unpaid_online_order_cancels_after_24h() {
    let mut w = World::new("douyin", Online, At::Unpaid);
    assert_eq!(w.deadline(K::OrderUnpaid), Some(T0 + Dur::hours(24)));
    w.advance(Dur::hours(24) - Dur::secs(1));
    assert!(w.fire_due().is_empty());
    w.advance(Dur::secs(1));
    assert_eq!(w.fire_due(), vec![K::OrderUnpaid]);
    assert_eq!(w.order.state, OrderState::Cancelled);
    assert_eq!(w.order.cancellation.as_ref().unwrap().by, Party::System);
    // paying one second later is refused and changes nothing
    w.advance(Dur::secs(1));
    let before = w.order.clone();
    assert!(w.order_cmd(SYSTEM, OrderCommand::Pay).is_err());
    assert_eq!(w.order, before);
}

#[test]
fn b3_an_application_offers_each_type_the_order_takes_with_its_cap() {
    // Paid, not shipped: the whole amount, shipping included, before shipment only.
    let paid = World::new("douyin", Online, At::Paid);
    assert_eq!(application_options(&paid.order), vec![(CaseType::RefundUnshipped, cny(110))]);
    // Delivered: the shipping fee stays with the merchant (B3 after shipment).
    let delivered = World::new("douyin", Online, At::Delivered);
    assert_eq!(
        application_options(&delivered.order),
        vec![
            (CaseType::RefundOnly, cny(100)),
            (CaseType::ReturnRefund, cny(100)),
            (CaseType::Exchange, cny(0)),
            (CaseType::Resend, cny(0))
        ],
        "an exchange or a resend asks no money (K1, K2)"
    );
    // Unpaid: nothing to ask back.
    assert!(application_options(&World::new("douyin", Online, At::Unpaid).order).is_empty());
    // An open case: nothing more (T1); once its refund started, what is left.
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::RefundOnly, cny(30)).unwrap();
    assert!(application_options(&w.order).is_empty());
    w.cmd(MERCHANT, CaseCommand::Refund).unwrap();
    assert_eq!(application_options(&w.order)[0], (CaseType::RefundOnly, cny(70)));
    // Everything refunded: nothing left to offer.
    let mut all = World::new("douyin", Online, At::Delivered);
    all.apply_for(CaseType::RefundOnly, cny(100)).unwrap();
    all.cmd(MERCHANT, CaseCommand::Refund).unwrap();
    assert!(application_options(&all.order).is_empty());
}

#[test]
fn o1_an_order_number_is_checked_before_it_is_looked_up() {
    let new = |no: &str| NewOrder {
        order_no: no.into(),
        buyer_id: BuyerId(7),
        payment: Online,
        total: cny(110),
        shipping_fee: cny(10),
        fresh: false,
        customer_name: "王小明".into(),
        customer_phone: Phone::parse("13800131234").unwrap(),
        lines: vec![],
    };
    assert_eq!(aftersale_core::decide::order_no(&new("  DY1  ")), Ok("DY1".to_string()));
    for bad in ["J\u{0}X", "", "   ", &"9".repeat(65)] {
        let refused = aftersale_core::decide::order_no(&new(bad));
        let named = match &refused {
            Err(Refusal::InvalidField { field, rule: "O1", .. }) => field.as_str(),
            Err(Refusal::MissingField { field, rule: "O1" }) => field,
            _ => "",
        };
        assert_eq!(named, "order_no", "{bad:?}: {refused:?}");
    }
}
