//! The eligibility answer per line (L2–L4, K1, K2, C1): what a party may open now, for how much
//! and until when.

use super::units::three_lines;
use crate::harness::T0;
use aftersale_core::actor::Party;
use aftersale_core::lines::eligibility::{eligibility, LineEligibility, Remedy};
use aftersale_core::lines::units::LineUse;
use aftersale_core::model::OrderState;
use aftersale_core::policy::Policy;
use aftersale_core::refusal::Refusal;
use aftersale_core::time::Dur;
use aftersale_core::Money;

fn answer(party: Party, state: OrderState, now_days: i64, uses: &[LineUse]) -> Vec<LineEligibility> {
    let delivered = matches!(state, OrderState::Delivered | OrderState::Completed).then_some(T0);
    eligibility(&Policy::douyin(), party, state, delivered, &three_lines(), uses, T0 + Dur::days(now_days))
}

fn untouched() -> Vec<LineUse> {
    three_lines().iter().map(LineUse::untouched).collect()
}

/// (remedy, refusal code or "ok") per offer of one line.
fn offers(e: &LineEligibility) -> Vec<(&'static str, &'static str)> {
    e.offers.iter().map(|o| (o.remedy.as_str(), o.refused.as_ref().map_or("ok", |r| r.code()))).collect()
}

#[test]
fn l4_eligibility_after_delivery_names_each_line_s_windows_and_what_it_can_refund() {
    let day6 = answer(Party::Buyer, OrderState::Delivered, 6, &untouched());
    assert_eq!(day6.len(), 3);
    let l1 = &day6[0];
    assert_eq!((l1.line, l1.available_units, l1.refundable), (1, 2, Money::cny(5_714)));
    assert_eq!((l1.any_reason_until, l1.quality_until), (Some(T0 + Dur::days(7)), Some(T0 + Dur::days(15))));
    assert_eq!(offers(l1), [("refund_only", "ok"), ("return_refund", "ok"), ("exchange", "ok"), ("resend", "ok")]);
    // An exchange or a resend moves no money (K1, K2); a refund up to the line's L2 amount.
    let max: Vec<i64> = l1.offers.iter().map(|o| o.max_refund.minor()).collect();
    assert_eq!(max, [5_714, 5_714, 0, 0]);
    // The fresh line has no any-reason window, only the quality one.
    assert_eq!((day6[2].any_reason_until, day6[2].quality_until), (None, Some(T0 + Dur::days(15))));
    // Until when: the quality window, the longest a buyer may still use.
    assert!(l1.offers.iter().all(|o| o.until == Some(T0 + Dur::days(15))));
    // Day 16: every window closed, each offer refused naming L4.
    let day16 = answer(Party::Buyer, OrderState::Delivered, 16, &untouched());
    for o in &day16[1].offers {
        assert_eq!(o.refused, Some(Refusal::WindowClosed { window: "quality", until: Some(T0 + Dur::days(15)) }));
    }
}

#[test]
fn c1_the_platform_may_open_outside_the_windows_and_the_merchant_refunds_at_any_time() {
    // Day 30: the buyer may open nothing; the platform may open every buyer remedy.
    let buyer = answer(Party::Buyer, OrderState::Delivered, 30, &untouched());
    assert!(buyer[0].offers.iter().all(|o| o.refused.as_ref().is_some_and(|r| r.rule() == Some("L4"))));
    let platform = answer(Party::Platform, OrderState::Delivered, 30, &untouched());
    assert_eq!(
        offers(&platform[0]),
        [("refund_only", "ok"), ("return_refund", "ok"), ("exchange", "ok"), ("resend", "ok")]
    );
    // The merchant opens a refund for the buyer (C1): no window, within L2, before or after shipment.
    for state in [OrderState::Stocking, OrderState::Shipped, OrderState::Delivered] {
        let m = answer(Party::Merchant, state, 30, &untouched());
        assert_eq!(offers(&m[1]), [("merchant_refund", "ok")], "{state:?}");
        assert_eq!(m[1].offers[0].max_refund, Money::cny(7_143));
    }
    // Nobody opens anything on an unpaid or cancelled order.
    for state in [OrderState::AwaitingPayment, OrderState::Cancelled] {
        for party in [Party::Buyer, Party::Merchant, Party::Platform] {
            assert!(answer(party, state, 0, &untouched())[0].offers.is_empty(), "{party:?} {state:?}");
        }
    }
    assert!(answer(Party::System, OrderState::Delivered, 1, &untouched())[0].offers.is_empty());
}

#[test]
fn l3_eligibility_before_delivery_and_for_lines_spent_or_at_their_case_limit() {
    // Before shipment: a refund before shipment; shipped, not delivered: a refund only (U3, I1).
    let unshipped = answer(Party::Buyer, OrderState::Stocking, 0, &untouched());
    assert_eq!(offers(&unshipped[0]), [("refund_unshipped", "ok")]);
    assert_eq!((unshipped[0].any_reason_until, unshipped[0].quality_until), (None, None));
    assert_eq!(unshipped[0].offers[0].until, None);
    let shipped = answer(Party::Buyer, OrderState::Shipped, 0, &untouched());
    assert_eq!(offers(&shipped[0]), [("refund_only", "ok")]);
    // Line 1 at its case limit, line 2 wholly in an open case: refused, each naming L3.
    let mut uses = untouched();
    uses[0].cases = 5;
    uses[1].open_units = 1;
    let day1 = answer(Party::Buyer, OrderState::Delivered, 1, &uses);
    assert!(day1[0].offers.iter().all(|o| o.refused == Some(Refusal::CaseLimitReached { line: 1, limit: 5 })));
    assert!(day1[1].offers.iter().all(|o| matches!(o.refused, Some(Refusal::UnitsNotAvailable { line: 2, .. }))));
    assert_eq!((day1[1].available_units, day1[1].offers[0].units), (0, 0));
    // The platform is not bound by the case limit; nobody gets a unit that is not available.
    let platform = answer(Party::Platform, OrderState::Delivered, 1, &uses);
    assert_eq!(platform[0].offers[0].refused, None);
    assert!(platform[1].offers[0].refused.is_some());
    // Every remedy has its name, and only an exchange and a resend move no money.
    let names: Vec<&str> = Remedy::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(names, ["refund_unshipped", "refund_only", "return_refund", "exchange", "resend", "merchant_refund"]);
    let moneyless: Vec<&str> = Remedy::ALL.iter().filter(|r| !r.refunds()).map(|r| r.as_str()).collect();
    assert_eq!(moneyless, ["exchange", "resend"]);
}
