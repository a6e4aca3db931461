//! L1: an order's lines and what was paid for each. The amount paid for the goods (the order's
//! total less the shipping fee) is shared among the lines in proportion to their list value
//! (unit price × quantity), in minor units: each line gets the whole part of its share, and the
//! units left over go one each to the lines with the largest remainders — the largest lines
//! first when remainders tie — so that the lines and the shipping fee add up to the order's
//! total exactly, whatever the discounts. An order without lines is one line.
//!
//! The rules of lines, as data before storage and the API carry them: what can still be refunded
//! per line and which units may be applied for (L2, L3, `units`), the return windows (L4,
//! `window`), a partial receipt (L5, `receipt`), and per line what a party may open now
//! (`eligibility`, with C1), the goods sent again instead of money (K1, K2, `replacement`), and a
//! parcel stopped on its way (I1, `intercept`).

pub mod eligibility;
pub mod intercept;
pub mod receipt;
pub mod replacement;
pub mod units;
pub mod window;

use crate::money::Money;
use crate::refusal::Refusal;
use serde::{Deserialize, Serialize};

/// What kind of goods a line is, for the any-reason window (L4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    #[default]
    Standard,
    /// Fresh food and the like: no any-reason window.
    Fresh,
    /// Made to the buyer's order: no any-reason window.
    Custom,
}

impl LineKind {
    /// Whether the buyer may return it for any reason within the window (L4).
    pub fn any_reason_returns(&self) -> bool {
        *self == LineKind::Standard
    }
}

/// A line as an order names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    #[schemars(length(max = 64))]
    pub sku: String,
    #[schemars(length(max = 200))]
    pub title: String,
    #[schemars(range(min = 1, max = 100000))]
    pub quantity: u32,
    /// The list price of one unit, before discounts.
    pub unit_price: Money,
    #[serde(default)]
    pub kind: LineKind,
}

/// A line of an order: what was bought, and what was paid for it after discounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Line {
    /// 1, 2, … in the order's order.
    pub no: u32,
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
    /// The share of the goods' payment this line carries (L1).
    pub paid: Money,
    #[serde(default)]
    pub kind: LineKind,
}

/// The most lines an order may have.
pub const MAX_LINES: usize = 100;

/// The most units one line may have.
pub const MAX_QUANTITY: u32 = 100_000;

/// L1: the lines of an order whose goods were paid `goods_paid` (the total less the shipping
/// fee). Refused: no line, more than `MAX_LINES`, a quantity of 0, a currency other than the
/// payment's, or a list value of nothing while something was paid.
pub fn allocate(goods_paid: Money, lines: &[NewLine]) -> Result<Vec<Line>, Refusal> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(Refusal::invalid("lines", format!("has 1 to {MAX_LINES} lines"), "L1"));
    }
    let currency = goods_paid.currency();
    let mut weights = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        for (field, value, most) in [("sku", &l.sku, 64), ("title", &l.title, 200)] {
            if value.chars().count() > most || value.chars().any(char::is_control) {
                return Err(Refusal::invalid(
                    format!("lines[{i}].{field}"),
                    format!("is at most {most} characters, none of them control characters"),
                    "L1",
                ));
            }
        }
        if l.quantity == 0 || l.quantity > MAX_QUANTITY {
            return Err(Refusal::invalid(format!("lines[{i}].quantity"), format!("is 1 to {MAX_QUANTITY}"), "L1"));
        }
        if l.unit_price.currency() != currency {
            return Err(Refusal::invalid(format!("lines[{i}].unit_price"), "is in the order's currency", "L1"));
        }
        weights.push(i128::from(l.unit_price.minor()) * i128::from(l.quantity));
    }
    let total_weight: i128 = weights.iter().sum();
    let paid = i128::from(goods_paid.minor());
    if total_weight == 0 && paid > 0 {
        return Err(Refusal::invalid("lines", "have a list value when something was paid for them", "L1"));
    }
    // Whole shares first, then the units left over by largest remainder (ties: the larger line,
    // then the earlier one).
    let mut shares: Vec<i128> =
        weights.iter().map(|w| if total_weight == 0 { 0 } else { paid * w / total_weight }).collect();
    let left = paid - shares.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&a, &b| {
        let rem = |i: usize| if total_weight == 0 { 0 } else { paid * weights[i] % total_weight };
        rem(b).cmp(&rem(a)).then(weights[b].cmp(&weights[a])).then(a.cmp(&b))
    });
    for &i in order.iter().take(left as usize) {
        shares[i] += 1;
    }
    lines
        .iter()
        .zip(shares)
        .enumerate()
        .map(|(i, (l, share))| {
            let paid = Money::new(share as i64, currency).map_err(|e| Refusal::invalid("lines", e, "L1"))?;
            Ok(Line {
                no: i as u32 + 1,
                sku: l.sku.trim().to_string(),
                title: l.title.trim().to_string(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                paid,
                kind: l.kind,
            })
        })
        .collect()
}

/// L1: an order ingested without lines is one line of one unit carrying all the goods' payment
/// (fresh goods when the order says so).
pub fn single_line(goods_paid: Money, fresh: bool) -> Line {
    Line {
        no: 1,
        sku: String::new(),
        title: String::new(),
        quantity: 1,
        unit_price: goods_paid,
        paid: goods_paid,
        kind: if fresh { LineKind::Fresh } else { LineKind::Standard },
    }
}

/// L3: a case of an order and the units it names, as the order keeps them: the units of an open
/// case cannot be applied for again, and a refund on the case is shared among its lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderCase {
    pub case: crate::values::CaseId,
    pub lines: Vec<units::Pick>,
    pub open: bool,
    /// The goods came back (receipt confirmed): a refund then settles the units whatever it paid.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub goods_back: bool,
    /// L5: split off this case when its return arrived short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<crate::values::CaseId>,
}
