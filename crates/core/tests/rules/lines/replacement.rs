//! K1 (exchange) and K2 (resend): the goods sent again, their deadlines and what expiry does.

use crate::harness::{logistics, T0};
use aftersale_core::actor::Party;
use aftersale_core::deadline::DeadlineKind;
use aftersale_core::lines::eligibility::Remedy;
use aftersale_core::lines::replacement::{exchange_difference, Difference, Shipment, ShipmentState, ShipmentStep};
use aftersale_core::lines::units::Pick;
use aftersale_core::policy::Policy;
use aftersale_core::refusal::Refusal;
use aftersale_core::time::Dur;
use aftersale_core::Money;

fn exchange(now: aftersale_core::time::Timestamp) -> Shipment {
    let p = Policy::douyin();
    Shipment::start(&p, Remedy::Exchange, vec![Pick { line: 1, units: 1 }], Difference::None, Money::cny(2_857), now)
        .unwrap()
}

#[test]
fn k1_the_replacement_is_shipped_within_48h_and_confirmed_by_the_buyer_or_by_silence_after_7_days() {
    let p = Policy::douyin();
    // Receipt of the returned unit confirmed at T0: the merchant ships by T0 + 48h.
    let mut s = exchange(T0);
    assert_eq!(s.state, ShipmentState::AwaitingShipment { due: T0 + Dur::hours(48) });
    assert_eq!(s.due(), Some(T0 + Dur::hours(48)));
    // Not due yet: the clock does nothing.
    assert_eq!(s.fire(T0 + Dur::hours(47)), Err(Refusal::NotDue { kind: DeadlineKind::ReplacementShip }));
    // Only the merchant ships.
    assert_eq!(
        s.ship(Party::Buyer, logistics("SF0000001"), T0).unwrap_err(),
        Refusal::NotAllowedFor { party: Party::Buyer, action: "ship_replacement", rule: "K1" }
    );
    assert_eq!(s.ship(Party::Merchant, logistics("SF0000001"), T0 + Dur::hours(47)), Ok(ShipmentStep::Shipped));
    // The buyer cannot confirm what has not arrived.
    assert_eq!(s.confirm(Party::Buyer, T0 + Dur::hours(50)).unwrap_err().code(), "wrong_state");
    // Delivered on day 3: the buyer has 7 days to confirm.
    let delivered = T0 + Dur::days(3);
    assert_eq!(s.delivered(&p, delivered), Ok(ShipmentStep::Delivered));
    assert_eq!(s.due(), Some(delivered + Dur::days(7)));
    // Not before the deadline: the clock leaves it delivered.
    assert_eq!(
        s.fire(delivered + Dur::days(7) - Dur(1)),
        Err(Refusal::NotDue { kind: DeadlineKind::ReplacementConfirm })
    );
    assert_eq!(s.state, ShipmentState::Delivered { at: delivered, confirm_due: delivered + Dur::days(7) });
    // Silence confirms it at the deadline, once.
    assert_eq!(s.fire(delivered + Dur::days(7)), Ok(ShipmentStep::Completed { by: Party::System }));
    assert_eq!(s.state, ShipmentState::Completed { by: Party::System, at: delivered + Dur::days(7) });
    assert_eq!(s.due(), None);
    assert!(s.fire(delivered + Dur::days(8)).is_err());
    // After the deadline (fired or not) the buyer's confirmation is refused with the deadline named.
    let mut late = exchange(T0);
    late.ship(Party::Merchant, logistics("SF0000002"), T0).unwrap();
    late.delivered(&p, T0).unwrap();
    let refused = late.confirm(Party::Buyer, T0 + Dur::days(7)).unwrap_err();
    assert_eq!(
        refused,
        Refusal::DeadlinePassed {
            kind: DeadlineKind::ReplacementConfirm,
            at: T0 + Dur::days(7),
            action: "confirm_replacement"
        }
    );
    // Before it, the buyer confirms; only the buyer.
    let mut ok = exchange(T0);
    ok.ship(Party::Merchant, logistics("SF0000003"), T0).unwrap();
    ok.delivered(&p, T0).unwrap();
    assert_eq!(ok.confirm(Party::Merchant, T0).unwrap_err().code(), "not_allowed_for_actor");
    assert_eq!(ok.confirm(Party::Buyer, T0 + Dur::days(7) - Dur(1)), Ok(ShipmentStep::Completed { by: Party::Buyer }));
}

#[test]
fn k1_not_shipped_in_time_the_units_are_refunded_instead_and_a_late_shipment_is_refused() {
    let mut s = exchange(T0);
    let due = T0 + Dur::hours(48);
    // At the deadline, before it fires: shipping is refused, naming it.
    assert_eq!(
        s.ship(Party::Merchant, logistics("SF0000009"), due),
        Err(Refusal::DeadlinePassed { kind: DeadlineKind::ReplacementShip, at: due, action: "ship_replacement" })
    );
    // It fires: the unit's L2 amount is refunded instead (the buyer is told by this step).
    assert_eq!(s.fire(due), Ok(ShipmentStep::TurnedToRefund { amount: Money::cny(2_857) }));
    assert_eq!(s.state, ShipmentState::TurnedToRefund { amount: Money::cny(2_857), at: due });
    // Once, and nothing after it.
    assert!(s.fire(due + Dur::hours(1)).is_err());
    assert_eq!(s.ship(Party::Merchant, logistics("SF0000009"), due).unwrap_err().code(), "wrong_state");
    // The deadline is the shop's policy value.
    let p = Policy::douyin();
    let p24 = p
        .with_overrides(&aftersale_core::policy::PolicyOverrides {
            replacement_ship: Some(Dur::hours(24)),
            ..Default::default()
        })
        .unwrap();
    let s24 = Shipment::start(&p24, Remedy::Exchange, vec![], Difference::None, Money::cny(1), T0).unwrap();
    assert_eq!(s24.due(), Some(T0 + Dur::hours(24)));
}

#[test]
fn k1_an_exchange_moves_no_money_unless_the_variants_prices_differ_and_then_only_the_difference() {
    // One unit that carried 28.57, for a variant listed at 28.57, 30.00 or 25.00.
    let paid = Money::cny(2_857);
    assert_eq!(exchange_difference(paid, 1, Money::cny(2_857)), Ok(Difference::None));
    assert_eq!(exchange_difference(paid, 1, Money::cny(3_000)), Ok(Difference::BuyerPays(Money::cny(143))));
    assert_eq!(exchange_difference(paid, 1, Money::cny(2_500)), Ok(Difference::BuyerRefunded(Money::cny(357))));
    // Two units: the difference of both.
    assert_eq!(
        exchange_difference(Money::cny(5_714), 2, Money::cny(3_000)),
        Ok(Difference::BuyerPays(Money::cny(286)))
    );
    // A variant in another currency is refused naming the field.
    let usd = Money::new(100, aftersale_core::money::Currency::parse("USD").unwrap()).unwrap();
    assert_eq!(exchange_difference(paid, 1, usd).unwrap_err().field(), Some("variant.unit_price"));
    // Only an exchange or a resend is a shipment; a resend moves no money.
    let p = Policy::douyin();
    assert!(Shipment::start(&p, Remedy::ReturnRefund, vec![], Difference::None, paid, T0).is_err());
    let r = Shipment::start(&p, Remedy::Resend, vec![], Difference::BuyerPays(Money::cny(1)), paid, T0);
    assert_eq!(r.unwrap_err().rule(), Some("K2"));
}

#[test]
fn k2_the_missing_units_are_resent_within_48h_with_no_return_and_delivery_completes_the_case() {
    let p = Policy::douyin();
    // The merchant agreed at T0 to resend the missing unit of line 3.
    let mut s =
        Shipment::start(&p, Remedy::Resend, vec![Pick { line: 3, units: 1 }], Difference::None, Money::cny(715), T0)
            .unwrap();
    assert_eq!(s.due(), Some(T0 + Dur::hours(48)));
    assert_eq!(s.ship(Party::Merchant, logistics("YT0000001"), T0 + Dur::hours(5)), Ok(ShipmentStep::Shipped));
    // Delivered: the case completes, no confirmation awaited.
    assert_eq!(s.delivered(&p, T0 + Dur::days(2)), Ok(ShipmentStep::Completed { by: Party::System }));
    assert_eq!(s.due(), None);
    // Not shipped in time: the missing unit is refunded instead, naming K2 in the refusal of a late shipment.
    let mut late =
        Shipment::start(&p, Remedy::Resend, vec![Pick { line: 3, units: 1 }], Difference::None, Money::cny(715), T0)
            .unwrap();
    let due = T0 + Dur::hours(48);
    assert_eq!(late.fire(due), Ok(ShipmentStep::TurnedToRefund { amount: Money::cny(715) }));
    let refused = late.ship(Party::Merchant, logistics("YT0000002"), due).unwrap_err();
    assert_eq!((refused.code(), refused.rule()), ("wrong_state", Some("K2")));
    // A delivery reported before anything was shipped is refused.
    let mut unsent = Shipment::start(&p, Remedy::Resend, vec![], Difference::None, Money::cny(1), T0).unwrap();
    assert_eq!(unsent.delivered(&p, T0).unwrap_err().code(), "wrong_state");
}
