//! Orders (O1–O4): their states, what a buyer paid, and how order events apply.

use super::*;
use crate::actor::Party;
use crate::deadline::{Deadline, DeadlineKind};
use crate::lines::units::{self, LineUse, Pick};
use crate::lines::{single_line, Line, OrderCase};
use crate::money::Money;
use crate::policy::Policy;
use crate::time::Timestamp;
use crate::values::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Online,
    Cod,
}

/// O1 order states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    AwaitingPayment,
    AwaitingConfirmation,
    Stocking,
    Shipped,
    Delivered,
    Completed,
    Cancelled,
}

impl OrderState {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderState::AwaitingPayment => "awaiting_payment",
            OrderState::AwaitingConfirmation => "awaiting_confirmation",
            OrderState::Stocking => "stocking",
            OrderState::Shipped => "shipped",
            OrderState::Delivered => "delivered",
            OrderState::Completed => "completed",
            OrderState::Cancelled => "cancelled",
        }
    }
    pub fn is_unshipped(&self) -> bool {
        matches!(self, OrderState::AwaitingConfirmation | OrderState::Stocking)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Customer {
    pub name: String,
    pub phone: Phone,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Cancellation {
    pub by: Party,
    pub reason: String,
    pub buyer_contacted: bool,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Order {
    pub id: OrderId,
    pub shop_id: ShopId,
    pub buyer_id: BuyerId,
    pub order_no: String,
    pub payment: PaymentMethod,
    pub state: OrderState,
    /// What the buyer pays, shipping included.
    pub total: Money,
    pub shipping_fee: Money,
    /// Refunds started on this order (B3).
    pub refunded: Money,
    /// N1: fresh goods cannot be negotiated.
    pub fresh: bool,
    pub customer: Customer,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<Logistics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remark: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<Flag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<Cancellation>,
    /// The newest case still open (U3: shipping waits for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_case: Option<CaseId>,
    /// L1: what was bought, line by line. Empty only in an order stored before lines existed,
    /// which reads as one line (`with_lines`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    /// L2, L3: where each line stands, in the order of `lines`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_use: Vec<LineUse>,
    /// L3: the order's cases and the units each names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<OrderCase>,
    pub version: u64,
}

impl Order {
    /// Rebuilds an order from its log.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Recorded>) -> Option<Order> {
        let mut order: Option<Order> = None;
        for r in events {
            match (&mut order, &r.event) {
                (None, Event::OrderCreated { order: o }) => order = Some((**o).clone()),
                (Some(o), _) => o.apply(r),
                (None, _) => {}
            }
        }
        order
    }

    /// Applies an event of the order, or of its newest case (a log read in order: the case an
    /// event belongs to is the one last applied for).
    pub fn apply(&mut self, r: &Recorded) {
        self.apply_for(None, r)
    }

    /// L1: the order as one line when it was stored before lines existed (the goods' payment on
    /// one unit; its open case, if any, holding it; what was refunded, on it up to what it
    /// carried). Borrowed as it is otherwise.
    pub fn with_lines(&self) -> Cow<'_, Order> {
        if !self.lines.is_empty() {
            return Cow::Borrowed(self);
        }
        let mut o = self.clone();
        o.upgrade();
        Cow::Owned(o)
    }

    fn upgrade(&mut self) {
        if !self.lines.is_empty() {
            return;
        }
        let goods = self.total.saturating_sub(self.shipping_fee);
        let line = single_line(goods, self.fresh);
        let open = u32::from(self.open_case.is_some());
        self.line_use =
            vec![LineUse { open_units: open, settled_units: 0, refunded: self.refunded.at_most(goods), cases: open }];
        self.cases = self
            .open_case
            .map(|case| OrderCase {
                case,
                lines: vec![Pick { line: 1, units: 1 }],
                open: true,
                goods_back: false,
                from: None,
            })
            .into_iter()
            .collect();
        self.lines = vec![line];
    }

    /// L5: the cases split off `case` for units its return arrived without.
    pub fn split_from(&self, case: CaseId) -> Vec<CaseId> {
        self.cases.iter().filter(|c| c.from == Some(case)).map(|c| c.case).collect()
    }

    /// The shipping fee not yet refunded: what was refunded beyond the lines (U1).
    pub fn shipping_left(&self) -> Money {
        let on_lines = self.line_use.iter().fold(Money::zero(self.total.currency()), |s, u| s.plus(u.refunded));
        let on_shipping = self.refunded.saturating_sub(on_lines);
        self.shipping_fee.saturating_sub(on_shipping)
    }

    /// A case's end: its units are free again, or settled for good when `settle` says so.
    fn end_case(&mut self, case: CaseId, settle: impl Fn(&Line, &LineUse, &Pick) -> bool) {
        let Some(c) = self.cases.iter_mut().find(|c| c.case == case && c.open) else { return };
        c.open = false;
        let picks = c.lines.clone();
        for p in &picks {
            if let Some(i) = self.lines.iter().position(|l| l.no == p.line) {
                let settled = settle(&self.lines[i], &self.line_use[i], p);
                let u = &mut self.line_use[i];
                u.open_units = u.open_units.saturating_sub(p.units);
                if settled {
                    u.settled_units = (u.settled_units + p.units).min(self.lines[i].quantity);
                }
            }
        }
        self.open_case = self.cases.iter().rev().find(|c| c.open).map(|c| c.case);
    }

    /// L2: a refund of `amount` on `case`, shared among its lines; the units are settled when
    /// refunded in full or when the goods came back, free again otherwise.
    fn refund_on(&mut self, case: CaseId, amount: Money) {
        self.refunded = self.refunded.plus(amount);
        let Some(c) = self.cases.iter().find(|c| c.case == case) else { return };
        let (picks, goods_back) = (c.lines.clone(), c.goods_back);
        let at = |o: &Order, p: &Pick| o.lines.iter().position(|l| l.no == p.line);
        let weights: Vec<Money> = picks
            .iter()
            .map(|p| match at(self, p) {
                Some(i) => units::refundable(&self.lines[i], &self.line_use[i], p.units),
                None => Money::zero(amount.currency()),
            })
            .collect();
        let shares = units::split_refund(amount, &weights);
        let mut full = Vec::with_capacity(picks.len());
        for (p, share) in picks.iter().zip(&shares) {
            if let Some(i) = at(self, p) {
                self.line_use[i].refunded = self.line_use[i].refunded.plus(*share);
                // Refunded in full: nothing is left for these units.
                let left = units::refundable(&self.lines[i], &self.line_use[i], p.units);
                full.push((p.line, goods_back || left.minor() == 0));
            }
        }
        self.end_case(case, |l, _, _| full.iter().any(|(no, f)| *no == l.no && *f));
    }

    pub fn apply_for(&mut self, case: Option<CaseId>, r: &Recorded) {
        self.upgrade();
        let this_case = case.or(self.cases.last().map(|c| c.case));
        match &r.event {
            // (An order is created by `replay`, never applied to an existing one.)
            Event::OrderPaid => {
                self.state = OrderState::AwaitingConfirmation;
                self.paid_at = Some(r.at);
            }
            Event::OrderConfirmed => self.state = OrderState::Stocking,
            Event::OrderShipped { logistics } | Event::RejectedByShipping { logistics } => {
                self.state = OrderState::Shipped;
                self.shipment = Some(logistics.clone());
            }
            Event::OrderDelivered => {
                self.state = OrderState::Delivered;
                self.delivered_at = Some(r.at);
            }
            Event::OrderCompleted => self.state = OrderState::Completed,
            Event::OrderCancelled { by, reason, buyer_contacted } => {
                self.state = OrderState::Cancelled;
                self.cancellation =
                    Some(Cancellation { by: *by, reason: reason.clone(), buyer_contacted: *buyer_contacted, at: r.at });
            }
            Event::FlagSet { flag } => self.flag = *flag,
            Event::OrderRemarkSet { text } => self.remark = text.clone(),
            Event::Applied { case_id, lines, .. } => {
                let picks = if lines.is_empty() { vec![Pick { line: 1, units: 1 }] } else { lines.clone() };
                for p in &picks {
                    if let Some(i) = self.lines.iter().position(|l| l.no == p.line) {
                        self.line_use[i].open_units += p.units;
                        self.line_use[i].cases += 1;
                    }
                }
                self.cases.push(OrderCase { case: *case_id, lines: picks, open: true, goods_back: false, from: None });
                self.open_case = Some(*case_id);
            }
            Event::MerchantRefundOpened { case_id, lines, .. } => {
                // C1: the units are held until the refund that follows; not a buyer's case (L3).
                for p in lines {
                    if let Some(i) = self.lines.iter().position(|l| l.no == p.line) {
                        self.line_use[i].open_units += p.units;
                    }
                }
                self.cases.push(OrderCase {
                    case: *case_id,
                    lines: lines.clone(),
                    open: true,
                    goods_back: false,
                    from: None,
                });
                self.open_case = Some(*case_id);
            }
            Event::ReceivedInPart { received, .. } => {
                // L5: the case keeps the units that arrived; the missing ones stay held for the
                // case split off in the same change.
                let Some(c) = this_case.and_then(|id| self.cases.iter_mut().find(|c| c.case == id)) else { return };
                c.lines = received.clone();
            }
            Event::SplitOff { case_id, from, lines, .. } => {
                self.cases.push(OrderCase {
                    case: *case_id,
                    lines: lines.clone(),
                    open: true,
                    goods_back: false,
                    from: Some(*from),
                });
                self.open_case = Some(*case_id);
            }
            Event::Withdrawn | Event::Closed { .. } => {
                if let Some(case) = this_case {
                    self.end_case(case, |_, _, _| false);
                }
            }
            Event::ReplacementConfirmed { .. } => {
                // K1/K2: the units were exchanged or resent: settled for good.
                if let Some(case) = this_case {
                    self.end_case(case, |_, _, _| true);
                }
            }
            Event::ReceiptConfirmed => {
                // Always decided with the refund that follows it (which moves the version).
                if let Some(c) = this_case.and_then(|id| self.cases.iter_mut().find(|c| c.case == id)) {
                    c.goods_back = true;
                }
                return;
            }
            Event::RefundStarted { amount, cancels_order, .. } => {
                match this_case {
                    Some(case) => self.refund_on(case, *amount),
                    None => self.refunded = self.refunded.plus(*amount),
                }
                if *cancels_order {
                    self.state = OrderState::Cancelled;
                    self.cancellation = Some(Cancellation {
                        by: Party::Merchant,
                        reason: "refund before shipment".into(),
                        buyer_contacted: true,
                        at: r.at,
                    });
                }
            }
            Event::VoucherAwaited { amount } => match this_case {
                Some(case) => self.refund_on(case, *amount),
                None => self.refunded = self.refunded.plus(*amount),
            },
            // Case events that leave the order as it is do not move its version.
            _ => return,
        }
        self.version += 1;
    }

    /// B3, L2: what a new case of this type may still ask for, on every unit still available.
    /// After shipment the shipping fee stays with the merchant (M5).
    pub fn refundable(&self, kind: CaseType) -> Money {
        let o = self.with_lines();
        let picks: Vec<Pick> = o
            .lines
            .iter()
            .zip(&o.line_use)
            .map(|(l, u)| Pick { line: l.no, units: units::available_units(l, u) })
            .filter(|p| p.units > 0)
            .collect();
        o.refundable_for(&picks, kind)
    }

    /// L2: what `case` may still refund on `picks` of its units: what they can refund while the
    /// order holds the case open, nothing once it ended (refunded, exchanged, withdrawn, closed).
    pub fn case_refundable(&self, case: &Case, picks: &[Pick]) -> Money {
        let o = self.with_lines();
        if o.cases.iter().any(|c| c.case == case.id && c.open) {
            o.refundable_for(picks, case.kind)
        } else {
            Money::zero(self.total.currency())
        }
    }

    /// L2: what a case of this type on these units may refund: what the units carried, never
    /// more than their lines have left, and the shipping fee on a refund before shipment of
    /// every unit (U1).
    pub fn refundable_for(&self, picks: &[Pick], kind: CaseType) -> Money {
        let o = self.with_lines();
        let picked: Vec<units::Picked> = picks
            .iter()
            .filter_map(|p| {
                let i = o.lines.iter().position(|l| l.no == p.line)?;
                Some(units::Picked {
                    line: p.line,
                    units: p.units,
                    refundable: units::refundable(&o.lines[i], &o.line_use[i], p.units),
                })
            })
            .collect();
        let before_shipment = kind == CaseType::RefundUnshipped;
        units::case_refundable(&o.lines, &o.line_use, &picked, before_shipment, o.shipping_left())
    }

    /// The live deadlines of the order (O4).
    pub fn deadlines(&self, policy: &Policy) -> Vec<Deadline> {
        match self.state {
            OrderState::AwaitingPayment => {
                vec![Deadline { kind: DeadlineKind::OrderUnpaid, due: self.created_at + policy.unpaid_order }]
            }
            _ => vec![],
        }
    }
}
