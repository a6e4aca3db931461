//! L5: a partial receipt refunds what arrived and leaves the rest to the merchant's word.

use super::units::three_lines;
use aftersale_core::lines::receipt::{split_receipt, Received};
use aftersale_core::lines::units::{check_picks, LineUse, Pick};
use aftersale_core::refusal::Refusal;
use aftersale_core::Money;

#[test]
fn l5_the_refund_covers_the_received_units_and_the_missing_ones_wait_for_the_merchant() {
    let lines = three_lines();
    let uses: Vec<LineUse> = lines.iter().map(LineUse::untouched).collect();
    // A return of both units of line 1 and two of line 3, for all they carry: 57.14 + 14.28.
    let case = check_picks(&lines, &uses, &[Pick { line: 1, units: 2 }, Pick { line: 3, units: 2 }], Some(5)).unwrap();
    let amount = Money::cny(5_714 + 1_428);
    // Everything arrived: all of it refunded, nothing missing.
    let all =
        split_receipt(&lines, &uses, &case, amount, &[Received { line: 1, units: 2 }, Received { line: 3, units: 2 }])
            .unwrap();
    assert_eq!((all.received, all.missing, all.missing_units.len()), (amount, Money::cny(0), 0));
    // One unit of line 1 and one of line 3 arrived: 28.57 + 7.14 now; 35.71 left to the merchant.
    let part =
        split_receipt(&lines, &uses, &case, amount, &[Received { line: 1, units: 1 }, Received { line: 3, units: 1 }])
            .unwrap();
    assert_eq!(part.received, Money::cny(2_857 + 714));
    assert_eq!(part.missing, Money::cny(2_857 + 714));
    assert_eq!(part.missing_units, [Received { line: 1, units: 1 }, Received { line: 3, units: 1 }]);
    // A line not named arrived with nothing.
    let one = split_receipt(&lines, &uses, &case, amount, &[Received { line: 1, units: 2 }]).unwrap();
    assert_eq!((one.received, one.missing_units), (Money::cny(5_714), vec![Received { line: 3, units: 2 }]));
    // The buyer asked for less than the units carry: the received part is at most the amount.
    let less = split_receipt(&lines, &uses, &case, Money::cny(3_000), &[Received { line: 1, units: 2 }]).unwrap();
    assert_eq!((less.received, less.missing), (Money::cny(3_000), Money::cny(0)));
    // Nothing arrived: all of it waits for the merchant's word.
    let none = split_receipt(&lines, &uses, &case, amount, &[]).unwrap();
    assert_eq!((none.received, none.missing), (Money::cny(0), amount));
}

#[test]
fn l5_received_units_are_of_the_case_named_once_and_no_more_than_it_holds() {
    let lines = three_lines();
    let uses: Vec<LineUse> = lines.iter().map(LineUse::untouched).collect();
    let case = check_picks(&lines, &uses, &[Pick { line: 1, units: 1 }], Some(5)).unwrap();
    let field = |received: &[Received]| match split_receipt(&lines, &uses, &case, Money::cny(2_857), received) {
        Err(Refusal::InvalidField { field, rule, .. }) => (field, rule),
        other => panic!("{other:?}"),
    };
    assert_eq!(field(&[Received { line: 2, units: 1 }]), ("received[0].line".into(), "L5"));
    assert_eq!(field(&[Received { line: 1, units: 2 }]), ("received[0].units".into(), "L5"));
    assert_eq!(
        field(&[Received { line: 1, units: 1 }, Received { line: 1, units: 0 }]),
        ("received[1].line".into(), "L5")
    );
    assert!(split_receipt(&lines, &uses, &case, Money::cny(2_857), &[Received { line: 1, units: 1 }]).is_ok());
}
