//! Orders (O1–O4): their states, what a buyer paid, and how order events apply.

use super::*;
use crate::actor::Party;
use crate::deadline::{Deadline, DeadlineKind};
use crate::money::Money;
use crate::policy::Policy;
use crate::time::Timestamp;
use crate::values::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_case: Option<CaseId>,
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

    pub fn apply(&mut self, r: &Recorded) {
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
            Event::Applied { case_id, .. } => self.open_case = Some(*case_id),
            Event::Withdrawn | Event::Closed { .. } => self.open_case = None,
            Event::RefundStarted { amount, cancels_order, .. } => {
                self.refunded = self.refunded.plus(*amount);
                self.open_case = None;
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
            Event::VoucherAwaited { amount } => {
                self.refunded = self.refunded.plus(*amount);
                self.open_case = None;
            }
            // Case events that leave the order as it is do not move its version.
            _ => return,
        }
        self.version += 1;
    }

    /// B3: what a case of this type may still ask for. After shipment the shipping fee stays
    /// with the merchant (M5).
    pub fn refundable(&self, kind: CaseType) -> Money {
        let base = match kind {
            CaseType::RefundUnshipped => self.total,
            CaseType::RefundOnly | CaseType::ReturnRefund => self.total.saturating_sub(self.shipping_fee),
        };
        base.saturating_sub(self.refunded)
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
