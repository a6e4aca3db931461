//! L5: a partial receipt. On receipt of a return the merchant records the units received per
//! line; the refund covers the received units at once, and the missing ones are left to the
//! merchant's word: refunded anyway, or rejected with a reason and evidence (S4), which the buyer
//! may escalate (E1).

use super::units::{units_paid, LineUse, Picked};
use super::Line;
use crate::money::Money;
use crate::refusal::Refusal;
use serde::{Deserialize, Serialize};

/// Units of one line the merchant found in the parcel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Received {
    /// The line's number (1, 2, …).
    #[schemars(range(min = 1, max = 100))]
    pub line: u32,
    /// Units of it found in the return (0: none arrived).
    #[schemars(range(max = 100000))]
    pub units: u32,
}

/// How a return's refund splits between what arrived and what did not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptSplit {
    /// Refunded now: what the received units carried, at most the case's amount.
    pub received: Money,
    /// Left to the merchant's word: the rest of the case's amount.
    pub missing: Money,
    /// Units per line that did not arrive (lines with none left out).
    pub missing_units: Vec<Received>,
}

/// L5: the split of a return of `case_lines` (the units the case names, with what they can
/// refund) asking `amount`, when `received` arrived. Each received line must be one of the case's,
/// named once, with no more units than the case holds; a line not named arrived with no unit.
pub fn split_receipt(
    lines: &[Line],
    uses: &[LineUse],
    case_lines: &[Picked],
    amount: Money,
    received: &[Received],
) -> Result<ReceiptSplit, Refusal> {
    for (i, r) in received.iter().enumerate() {
        let Some(p) = case_lines.iter().find(|p| p.line == r.line) else {
            return Err(Refusal::invalid(
                format!("received[{i}].line"),
                format!("line {} is not in this case", r.line),
                "L5",
            ));
        };
        if received[..i].iter().any(|q| q.line == r.line) {
            return Err(Refusal::invalid(format!("received[{i}].line"), format!("names line {} twice", r.line), "L5"));
        }
        if r.units > p.units {
            return Err(Refusal::invalid(
                format!("received[{i}].units"),
                format!("is at most the {} unit(s) the case holds on line {}", p.units, r.line),
                "L5",
            ));
        }
    }
    let mut carried = Money::zero(amount.currency());
    let mut missing_units = Vec::new();
    for p in case_lines {
        let got = received.iter().find(|r| r.line == p.line).map_or(0, |r| r.units);
        let Some(i) = lines.iter().position(|l| l.no == p.line) else { continue };
        let Some(used) = uses.get(i) else { continue };
        carried = carried.plus(units_paid(&lines[i], used.settled_units, got).at_most(p.refundable));
        if got < p.units {
            missing_units.push(Received { line: p.line, units: p.units - got });
        }
    }
    let received = carried.at_most(amount);
    Ok(ReceiptSplit { received, missing: amount.saturating_sub(received), missing_units })
}
