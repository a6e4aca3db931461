//! What a party may open on each line of an order now, for how much and until when: the answer
//! of the eligibility call (TikTok Shop's `aftersale_eligibility` is the model), from the rules
//! L2–L4, K1, K2 and C1 in one place, so that the API, the pages and the application itself ask
//! the same question.
//!
//! - Before shipment: a refund before shipment (U1).
//! - Shipped, not delivered: a refund only (U3; the merchant may intercept, I1).
//! - Delivered: a refund only, a return and refund, an exchange (K1), a resend of missing units
//!   (K2), within the window that applies (L4); a resend is for missing items, a quality reason.
//! - At any time after payment the merchant may refund the buyer (C1) within L2, with no window.
//! - The platform may open what a buyer may, outside the windows and the case limit (C1).

use super::units::{available_units, refundable, LineUse};
use super::window::{check_window, window_for, ReasonCode};
use super::Line;
use crate::actor::Party;
use crate::model::OrderState;
use crate::money::Money;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What a case asks for, beyond the three case types of the seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    RefundUnshipped,
    RefundOnly,
    ReturnRefund,
    /// K1: the same SKU or another variant instead of money.
    Exchange,
    /// K2: the missing units or parts sent.
    Resend,
    /// C1: a refund the merchant opens for the buyer.
    MerchantRefund,
}

impl Remedy {
    pub const ALL: [Remedy; 6] = [
        Remedy::RefundUnshipped,
        Remedy::RefundOnly,
        Remedy::ReturnRefund,
        Remedy::Exchange,
        Remedy::Resend,
        Remedy::MerchantRefund,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Remedy::RefundUnshipped => "refund_unshipped",
            Remedy::RefundOnly => "refund_only",
            Remedy::ReturnRefund => "return_refund",
            Remedy::Exchange => "exchange",
            Remedy::Resend => "resend",
            Remedy::MerchantRefund => "merchant_refund",
        }
    }

    /// Whether it pays money back (an exchange or a resend moves none, K1/K2).
    pub fn refunds(&self) -> bool {
        !matches!(self, Remedy::Exchange | Remedy::Resend)
    }
}

/// One remedy's answer on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub remedy: Remedy,
    /// Why not, when it may not be opened now.
    pub refused: Option<Refusal>,
    /// Units that may be named.
    pub units: u32,
    /// The most it can refund for all of them (zero for an exchange or a resend).
    pub max_refund: Money,
    /// Until when it may be opened, when a window runs.
    pub until: Option<Timestamp>,
}

/// One line's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineEligibility {
    pub line: u32,
    pub available_units: u32,
    /// What the line can still refund (L2).
    pub refundable: Money,
    /// The any-reason window's end (None before delivery, or on fresh or custom goods).
    pub any_reason_until: Option<Timestamp>,
    /// The quality window's end (None before delivery).
    pub quality_until: Option<Timestamp>,
    /// Every remedy the party could ever open, allowed or not.
    pub offers: Vec<Offer>,
}

/// The remedies `party` opens on an order in `state`, and the rule that says so.
fn remedies(party: Party, state: OrderState) -> Vec<Remedy> {
    let shipped = matches!(state, OrderState::Shipped);
    let delivered = matches!(state, OrderState::Delivered | OrderState::Completed);
    let for_buyer = if state.is_unshipped() {
        vec![Remedy::RefundUnshipped]
    } else if shipped {
        vec![Remedy::RefundOnly]
    } else if delivered {
        vec![Remedy::RefundOnly, Remedy::ReturnRefund, Remedy::Exchange, Remedy::Resend]
    } else {
        vec![]
    };
    match party {
        Party::Buyer | Party::Platform => for_buyer,
        Party::Merchant if state.is_unshipped() || shipped || delivered => vec![Remedy::MerchantRefund],
        Party::Merchant | Party::System => vec![],
    }
}

/// Per line, what `party` may open on an order in `state` (delivered at `delivered_at`) at `now`.
pub fn eligibility(
    policy: &Policy,
    party: Party,
    state: OrderState,
    delivered_at: Option<Timestamp>,
    lines: &[Line],
    uses: &[LineUse],
    now: Timestamp,
) -> Vec<LineEligibility> {
    let offered = remedies(party, state);
    lines
        .iter()
        .zip(uses)
        .map(|(line, used)| {
            let available = available_units(line, used);
            let line_refundable = refundable(line, used, available);
            let until_of = |reason| window_for(policy, delivered_at, reason, line.kind).and_then(|(_, end)| end);
            let offers = offered
                .iter()
                .map(|&remedy| {
                    let mut refused = None;
                    let mut until = None;
                    if party != Party::Merchant {
                        // Every remedy may be asked for a quality reason (a resend only for one), and
                        // the quality window is the longest: it says until when the remedy is open.
                        match check_window(policy, party, delivered_at, ReasonCode::Defective, line.kind, now) {
                            Ok(end) => until = end,
                            Err(r) => refused = Some(r),
                        }
                    }
                    if party == Party::Buyer && used.cases >= policy.cases_per_line && refused.is_none() {
                        refused = Some(Refusal::CaseLimitReached { line: line.no, limit: policy.cases_per_line });
                    }
                    if available == 0 && refused.is_none() {
                        refused = Some(Refusal::UnitsNotAvailable { line: line.no, asked: 1, available: 0 });
                    }
                    let max_refund = if remedy.refunds() { line_refundable } else { Money::zero(line.paid.currency()) };
                    Offer { remedy, refused, units: available, max_refund, until }
                })
                .collect();
            LineEligibility {
                line: line.no,
                available_units: available,
                refundable: line_refundable,
                any_reason_until: until_of(ReasonCode::NoReason),
                quality_until: until_of(ReasonCode::Defective),
                offers,
            }
        })
        .collect()
}
