//! L1: an order's lines, the payment shared among them in minor units.

use aftersale_core::lines::{allocate, single_line, LineKind, NewLine};
use aftersale_core::money::Currency;
use aftersale_core::refusal::Refusal;
use aftersale_core::Money;

fn line(unit: i64, quantity: u32) -> NewLine {
    NewLine {
        sku: format!("SKU-{unit}"),
        title: "t".into(),
        quantity,
        unit_price: Money::cny(unit),
        kind: LineKind::Standard,
    }
}

fn paid(goods: i64, lines: &[NewLine]) -> Vec<i64> {
    allocate(Money::cny(goods), lines).unwrap().iter().map(|l| l.paid.minor()).collect()
}

#[test]
fn l1_line_amounts_add_up_to_what_was_paid_with_the_remainders_to_the_largest_lines() {
    // No discount: each line is paid its list value.
    assert_eq!(paid(10_000, &[line(3_000, 2), line(4_000, 1)]), [6_000, 4_000]);
    // A discount shared in proportion: 100.00 paid for 150.00 listed.
    assert_eq!(paid(10_000, &[line(5_000, 1), line(10_000, 1)]), [3_333, 6_667]);
    // Three equal lines, one fen left over: it goes to the first of the equals.
    assert_eq!(paid(100, &[line(1, 1), line(1, 1), line(1, 1)]), [34, 33, 33]);
    // Three fen left over among unequal lines: to the largest remainders.
    let p = paid(1_000, &[line(700, 1), line(200, 1), line(100, 1), line(300, 1)]);
    assert_eq!(p.iter().sum::<i64>(), 1_000);
    assert_eq!(p, [538, 154, 77, 231]);
    // Whatever the numbers, the lines add up to what was paid exactly.
    for goods in [0, 1, 99, 12_345, 1_000_001] {
        let lines = [line(333, 3), line(1, 7), line(99_999, 1), line(50, 2)];
        let p = paid(goods, &lines);
        assert_eq!(p.iter().sum::<i64>(), goods, "{goods}: {p:?}");
        assert!(p.iter().all(|x| *x >= 0));
    }
    let lines = allocate(Money::cny(10_000), &[line(3_000, 2), line(4_000, 1)]).unwrap();
    assert_eq!((lines[0].no, lines[1].no, lines[0].quantity, lines[0].sku.as_str()), (1, 2, 2, "SKU-3000"));
}

#[test]
fn l1_an_order_without_lines_is_one_line_and_bad_lines_are_refused_naming_the_field() {
    let one = single_line(Money::cny(10_000), false);
    assert_eq!((one.no, one.quantity, one.paid, one.unit_price), (1, 1, Money::cny(10_000), Money::cny(10_000)));
    let field = |r: Result<_, aftersale_core::refusal::Refusal>| match r {
        Err(aftersale_core::refusal::Refusal::InvalidField { field, rule, .. }) => (field, rule),
        other => panic!("{other:?}"),
    };
    assert_eq!(field(allocate(Money::cny(100), &[])), ("lines".into(), "L1"));
    assert_eq!(field(allocate(Money::cny(100), &[line(100, 1), line(5, 0)])), ("lines[1].quantity".into(), "L1"));
    assert_eq!(field(allocate(Money::cny(100), &[line(100, 100_001)])), ("lines[0].quantity".into(), "L1"));
    assert!(allocate(Money::cny(100), &[line(100, 100_000)]).is_ok());
    let usd = NewLine { unit_price: Money::new(100, Currency::parse("USD").unwrap()).unwrap(), ..line(1, 1) };
    assert_eq!(field(allocate(Money::cny(100), &[usd])), ("lines[0].unit_price".into(), "L1"));
    assert_eq!(field(allocate(Money::cny(100), &[line(0, 3)])), ("lines".into(), "L1"));
    // At most 100 lines: the hundredth is taken, the hundred-and-first refused.
    let many: Vec<NewLine> = (0..100).map(|_| line(1, 1)).collect();
    assert_eq!(paid(100, &many), vec![1; 100]);
    let too_many: Vec<NewLine> = (0..101).map(|_| line(1, 1)).collect();
    assert_eq!(field(allocate(Money::cny(100), &too_many)), ("lines".into(), "L1"));
    // Free lines with nothing paid are fine.
    assert_eq!(paid(0, &[line(0, 1), line(0, 2)]), [0, 0]);
}

#[test]
fn l1_a_line_s_sku_and_title_are_bounded_and_free_of_control_characters() {
    let line = |sku: &str, title: &str| NewLine {
        sku: sku.into(),
        title: title.into(),
        quantity: 1,
        unit_price: Money::cny(100),
        kind: LineKind::Standard,
    };
    assert!(allocate(Money::cny(100), &[line(&"S".repeat(64), &"标".repeat(200))]).is_ok(), "at the bounds");
    for (bad, field) in [
        (line(&"S".repeat(65), "t"), "lines[0].sku"),
        (line("s", &"标".repeat(201)), "lines[0].title"),
        (line("s\u{7}", "t"), "lines[0].sku"),
        (line("s", "t\nx"), "lines[0].title"),
    ] {
        match allocate(Money::cny(100), &[bad]) {
            Err(Refusal::InvalidField { field: f, rule: "L1", .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}
