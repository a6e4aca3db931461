//! L2 and L3: what each line can still refund, and which units may be applied for.

use aftersale_core::lines::units::{case_refundable, check_picks, refundable, units_paid, LineUse, Pick};
use aftersale_core::lines::{allocate, LineKind, NewLine};
use aftersale_core::refusal::Refusal;
use aftersale_core::Money;

pub fn new_line(sku: &str, unit: i64, quantity: u32, kind: LineKind) -> NewLine {
    NewLine { sku: sku.into(), title: sku.into(), quantity, unit_price: Money::cny(unit), kind }
}

/// A three-line order: 2 × 40.00, 1 × 100.00, 3 × 10.00 listed (210.00), 150.00 paid for the goods.
pub fn three_lines() -> Vec<aftersale_core::lines::Line> {
    let lines = [
        new_line("A", 4_000, 2, LineKind::Standard),
        new_line("B", 10_000, 1, LineKind::Standard),
        new_line("C", 1_000, 3, LineKind::Fresh),
    ];
    allocate(Money::cny(15_000), &lines).unwrap()
}

fn untouched(lines: &[aftersale_core::lines::Line]) -> Vec<LineUse> {
    lines.iter().map(LineUse::untouched).collect()
}

#[test]
fn l2_each_unit_carries_its_share_and_a_line_never_refunds_more_than_was_paid_for_it() {
    let lines = three_lines();
    let paid: Vec<i64> = lines.iter().map(|l| l.paid.minor()).collect();
    // 57.142…, 71.428…, 21.428…: the two fen left go to the two largest remainders (L1).
    assert_eq!(paid, [5_714, 7_143, 2_143]);
    // Line 1 (57.14 for 2 units): 28.57 each.
    assert_eq!(units_paid(&lines[0], 0, 1), Money::cny(2_857));
    assert_eq!(units_paid(&lines[0], 1, 1), Money::cny(2_857));
    assert_eq!(units_paid(&lines[0], 0, 2), lines[0].paid);
    // Line 3 (21.43 for 3): 7.14 + 7.14 + 7.15, adding up to the line exactly.
    let units: Vec<i64> = (0..3).map(|k| units_paid(&lines[2], k, 1).minor()).collect();
    assert_eq!(units, [714, 714, 715]);
    // Past the line's quantity a unit carries nothing.
    assert_eq!(units_paid(&lines[2], 3, 1), Money::cny(0));
    // One unit settled: the next unit carries its own share.
    let mut used = LineUse::untouched(&lines[2]);
    used.settled_units = 1;
    used.refunded = Money::cny(714);
    assert_eq!(refundable(&lines[2], &used, 1), Money::cny(714));
    assert_eq!(refundable(&lines[2], &used, 2), Money::cny(1_429));
    // A partial refund earlier (20.00 on line 2, no unit settled): at most what is left.
    let mut used = LineUse::untouched(&lines[1]);
    used.refunded = Money::cny(2_000);
    assert_eq!(refundable(&lines[1], &used, 1), Money::cny(5_143));
    // Refunded in full: nothing left, whatever is asked.
    used.refunded = lines[1].paid;
    assert_eq!(refundable(&lines[1], &used, 1), Money::cny(0));
}

#[test]
fn l2_the_shipping_fee_is_refunded_only_before_shipment_of_every_unit() {
    let lines = three_lines();
    let uses = untouched(&lines);
    let fee = Money::cny(800);
    let all = check_picks(&lines, &uses, &[], Some(5)).unwrap();
    assert_eq!(all.iter().map(|p| (p.line, p.units)).collect::<Vec<_>>(), [(1, 2), (2, 1), (3, 3)]);
    // Before shipment, every unit: the goods and the fee.
    assert_eq!(case_refundable(&lines, &uses, &all, true, fee), Money::cny(15_800));
    // After shipment: the fee stays with the merchant.
    assert_eq!(case_refundable(&lines, &uses, &all, false, fee), Money::cny(15_000));
    // Before shipment, not every unit: no fee.
    let some = check_picks(&lines, &uses, &[Pick { line: 1, units: 2 }, Pick { line: 2, units: 1 }], Some(5)).unwrap();
    assert_eq!(case_refundable(&lines, &uses, &some, true, fee), Money::cny(12_857));
    // Every unit left, one refunded before: this refund leaves nothing to ship, so the fee comes
    // with it (U1) …
    let mut uses2 = uses.clone();
    uses2[2].settled_units = 1;
    let rest = check_picks(&lines, &uses2, &[], Some(5)).unwrap();
    assert_eq!(case_refundable(&lines, &uses2, &rest, true, fee), Money::cny(5_714 + 7_143 + 714 + 715 + 800));
    // … but not when a unit would still ship.
    let most = check_picks(&lines, &uses2, &[Pick { line: 1, units: 2 }, Pick { line: 2, units: 1 }], Some(5)).unwrap();
    assert_eq!(case_refundable(&lines, &uses2, &most, true, fee), Money::cny(12_857));
}

#[test]
fn l3_a_unit_in_an_open_case_is_not_applied_for_again_and_the_sixth_case_on_a_line_is_refused() {
    let lines = three_lines();
    let mut uses = untouched(&lines);
    // One unit of line 3 is in an open case; one was returned and settled.
    uses[2].open_units = 1;
    uses[2].settled_units = 1;
    uses[2].cases = 2;
    let asked = |picks: &[Pick], uses: &[LineUse]| check_picks(&lines, uses, picks, Some(5));
    assert_eq!(
        asked(&[Pick { line: 3, units: 2 }], &uses),
        Err(Refusal::UnitsNotAvailable { line: 3, asked: 2, available: 1 })
    );
    let one = asked(&[Pick { line: 3, units: 1 }], &uses).unwrap();
    assert_eq!((one[0].line, one[0].units, one[0].refundable), (3, 1, Money::cny(714)));
    // All lines by default: only what is available.
    let all = asked(&[], &uses).unwrap();
    assert_eq!(all.iter().map(|p| (p.line, p.units)).collect::<Vec<_>>(), [(1, 2), (2, 1), (3, 1)]);
    // Five cases on line 1 already: the sixth is refused naming the limit (L3), for a buyer;
    // the platform and a merchant's refund are not bound by it (C1).
    uses[0].cases = 5;
    let refused = asked(&[Pick { line: 1, units: 1 }], &uses).unwrap_err();
    assert_eq!(refused, Refusal::CaseLimitReached { line: 1, limit: 5 });
    assert_eq!((refused.code(), refused.rule(), refused.field()), ("case_limit_reached", Some("L3"), Some("lines")));
    assert!(check_picks(&lines, &uses, &[Pick { line: 1, units: 1 }], None).is_ok());
    // At four, the fifth is taken.
    uses[0].cases = 4;
    assert!(asked(&[Pick { line: 1, units: 1 }], &uses).is_ok());
    // Nothing available anywhere: refused, not an empty case.
    let mut spent = untouched(&lines);
    for (u, l) in spent.iter_mut().zip(&lines) {
        u.open_units = l.quantity;
    }
    let none = asked(&[], &spent).unwrap_err();
    assert_eq!((none.code(), none.rule()), ("units_not_available", Some("L3")));
}

#[test]
fn l3_picks_name_lines_of_the_order_once_with_at_least_one_unit() {
    let lines = three_lines();
    let uses = untouched(&lines);
    let field = |picks: &[Pick]| match check_picks(&lines, &uses, picks, Some(5)) {
        Err(Refusal::InvalidField { field, rule, .. }) => (field, rule),
        other => panic!("{other:?}"),
    };
    assert_eq!(field(&[Pick { line: 4, units: 1 }]), ("lines[0].line".into(), "L2"));
    assert_eq!(field(&[Pick { line: 1, units: 1 }, Pick { line: 1, units: 1 }]), ("lines[1].line".into(), "L2"));
    assert_eq!(field(&[Pick { line: 2, units: 0 }]), ("lines[0].units".into(), "L2"));
    // The line's last unit is available; one more is not.
    assert!(check_picks(&lines, &uses, &[Pick { line: 1, units: 2 }], Some(5)).is_ok());
    assert_eq!(
        check_picks(&lines, &uses, &[Pick { line: 1, units: 3 }], Some(5)),
        Err(Refusal::UnitsNotAvailable { line: 1, asked: 3, available: 2 })
    );
}

#[test]
fn l2_a_refund_shared_among_lines_gives_the_minor_units_left_to_the_largest_remainders() {
    use aftersale_core::lines::units::split_refund;
    let m = Money::cny;
    // 2 shared 1 : 2 is 0.67 and 1.33: one unit each (the first has the larger remainder).
    assert_eq!(split_refund(m(2), &[m(1), m(2)]), vec![m(1), m(1)]);
    // Ties go to the earlier line; above the weights is not the lines' (the shipping fee).
    assert_eq!(split_refund(m(1), &[m(5), m(5)]), vec![m(1), m(0)]);
    assert_eq!(split_refund(m(900), &[m(300), m(200)]), vec![m(300), m(200)]);
    assert_eq!(split_refund(m(100), &[m(5_714), m(7_143)]), vec![m(44), m(56)]);
    assert_eq!(split_refund(m(7), &[m(0), m(0)]), vec![m(0), m(0)]);
}
