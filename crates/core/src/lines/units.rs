//! L2 and L3: which units of a line may be applied for, and what they can still refund.
//!
//! A line's payment is shared among its units as its lines share the order's (L1): unit `k`
//! carries `⌊paid·k/q⌋ − ⌊paid·(k−1)/q⌋`, so the units add up to the line exactly. Units are
//! used up in order: units settled for good (refunded in full, returned, exchanged, resent)
//! first, then the ones asked for now. What a request can refund is what its units carried, and
//! never more than the line has left (paid less refunded): a line never refunds more than was
//! paid for it, whatever partial refunds came before.

use super::Line;
use crate::money::Money;
use crate::refusal::Refusal;
use serde::{Deserialize, Serialize};

/// Where a line stands in after-sales: what its cases, ended and open, hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LineUse {
    /// Units in open cases (L3: not applied for again until those end).
    pub open_units: u32,
    /// Units settled for good: refunded in full, returned, exchanged or resent.
    pub settled_units: u32,
    /// Money refunded on the line so far (L2).
    pub refunded: Money,
    /// Cases opened on the line, ended or not (L3's limit).
    pub cases: u32,
}

impl LineUse {
    /// A line nothing has touched yet.
    pub fn untouched(line: &Line) -> LineUse {
        LineUse { open_units: 0, settled_units: 0, refunded: Money::zero(line.paid.currency()), cases: 0 }
    }
}

/// Units of one line an application (or a merchant's refund, C1) names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Pick {
    /// The line's number (1, 2, …).
    #[schemars(range(min = 1, max = 100))]
    pub line: u32,
    #[schemars(range(min = 1, max = 100000))]
    pub units: u32,
}

impl Pick {
    /// The picks in a few characters, for a list row or a CSV cell: `L1x2 L3x1` is two units of
    /// line 1 and one of line 3.
    pub fn summary(picks: &[Pick]) -> String {
        picks.iter().map(|p| format!("L{}x{}", p.line, p.units)).collect::<Vec<_>>().join(" ")
    }
}

/// A pick that passed L3, with what it can refund (L2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Picked {
    pub line: u32,
    pub units: u32,
    /// The most these units can refund.
    pub refundable: Money,
}

/// What units `from+1 ..= from+units` of `line` carry of its payment.
pub fn units_paid(line: &Line, from: u32, units: u32) -> Money {
    let q = i128::from(line.quantity.max(1));
    let paid = i128::from(line.paid.minor());
    let upto = |k: u32| paid * i128::from(k.min(line.quantity)) / q;
    let minor = upto(from.saturating_add(units)) - upto(from);
    Money::new(minor as i64, line.paid.currency()).unwrap_or(Money::zero(line.paid.currency()))
}

/// Units of the line that may be applied for now (L3).
pub fn available_units(line: &Line, used: &LineUse) -> u32 {
    line.quantity.saturating_sub(used.open_units).saturating_sub(used.settled_units)
}

/// L2: the most `units` more units of the line can refund.
pub fn refundable(line: &Line, used: &LineUse, units: u32) -> Money {
    units_paid(line, used.settled_units, units).at_most(line.paid.saturating_sub(used.refunded))
}

/// L3 for a party applying (or a merchant refunding): every pick names a line of the order once,
/// at least one unit, no more than the line has available, on a line below its case limit
/// (`case_limit`: None for a merchant's refund and the platform, which the limit does not bind).
/// No picks means every unit still available, on every line that has one.
pub fn check_picks(
    lines: &[Line],
    uses: &[LineUse],
    picks: &[Pick],
    case_limit: Option<u32>,
) -> Result<Vec<Picked>, Refusal> {
    let use_of = |no: u32| -> Option<(&Line, &LineUse)> {
        let i = lines.iter().position(|l| l.no == no)?;
        Some((&lines[i], uses.get(i)?))
    };
    let picks: Vec<Pick> = if picks.is_empty() {
        lines
            .iter()
            .zip(uses)
            .map(|(l, u)| Pick { line: l.no, units: available_units(l, u) })
            .filter(|p| p.units > 0)
            .collect()
    } else {
        picks.to_vec()
    };
    if picks.is_empty() {
        let asked = lines.iter().map(|l| l.quantity).sum::<u32>().max(1);
        return Err(Refusal::UnitsNotAvailable { line: lines.first().map_or(1, |l| l.no), asked, available: 0 });
    }
    let mut out = Vec::with_capacity(picks.len());
    for (i, p) in picks.iter().enumerate() {
        let Some((line, used)) = use_of(p.line) else {
            return Err(Refusal::invalid(
                format!("lines[{i}].line"),
                format!("names no line of the order ({})", p.line),
                "L2",
            ));
        };
        if picks[..i].iter().any(|q| q.line == p.line) {
            return Err(Refusal::invalid(format!("lines[{i}].line"), format!("names line {} twice", p.line), "L2"));
        }
        if p.units == 0 {
            return Err(Refusal::invalid(format!("lines[{i}].units"), "is at least 1", "L2"));
        }
        let available = available_units(line, used);
        if p.units > available {
            return Err(Refusal::UnitsNotAvailable { line: p.line, asked: p.units, available });
        }
        if let Some(limit) = case_limit {
            if used.cases >= limit {
                return Err(Refusal::CaseLimitReached { line: p.line, limit });
            }
        }
        out.push(Picked { line: p.line, units: p.units, refundable: refundable(line, used, p.units) });
    }
    Ok(out)
}

/// L2: the most a case of these picks can refund. The shipping fee (not yet refunded) is added
/// only to a refund before shipment that leaves nothing to ship: with the units settled before
/// (refunded before shipment too), it takes every unit of the order (U1). After shipment the fee
/// stays with the merchant (M5).
pub fn case_refundable(
    lines: &[Line],
    uses: &[LineUse],
    picked: &[Picked],
    before_shipment: bool,
    shipping_left: Money,
) -> Money {
    let goods = picked.iter().fold(Money::zero(shipping_left.currency()), |sum, p| sum.plus(p.refundable));
    // (Picks of a new application never exceed what is available, and a case's own picks are
    // its open units: naming every unit left means no other case holds one.)
    let every_unit = lines.iter().zip(uses).all(|(l, u)| {
        let here = picked.iter().filter(|p| p.line == l.no).map(|p| p.units).sum::<u32>();
        u.settled_units + here >= l.quantity
    });
    if before_shipment && every_unit {
        goods.plus(shipping_left)
    } else {
        goods
    }
}

/// L2: a refund of `amount` on a case shared among its lines in proportion to what each can
/// refund (`weights`), in minor units, the units left over going one each to the largest
/// remainders (ties: the earlier line). What is above the weights' sum is not the lines' (the
/// shipping fee, U1): the shares add up to `amount` capped at that sum.
pub fn split_refund(amount: Money, weights: &[Money]) -> Vec<Money> {
    let currency = amount.currency();
    let total: i128 = weights.iter().map(|w| i128::from(w.minor())).sum();
    let goods = i128::from(amount.minor()).min(total).max(0);
    if total == 0 {
        return weights.iter().map(|_| Money::zero(currency)).collect();
    }
    let mut shares: Vec<i128> = weights.iter().map(|w| goods * i128::from(w.minor()) / total).collect();
    let left = goods - shares.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(goods * i128::from(weights[i].minor()) % total), i));
    for &i in order.iter().take(left as usize) {
        shares[i] += 1;
    }
    shares.into_iter().map(|m| Money::new(m as i64, currency).unwrap_or(Money::zero(currency))).collect()
}
