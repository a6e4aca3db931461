//! What a change means to the world outside: typed, versioned domain events for consumers (an
//! SMS or email sender, webhooks, a shop's ERP), derived from the events a command produced and
//! the state it left. The case log (`Event`) says what happened, for people reading a case; a
//! domain event says it once, in a shape that stays stable for programs, with what a consumer
//! needs to act without asking again (the case or order as it stands after the change).
//!
//! R6: nothing here carries a COD refund account (`CaseSnapshot` has no field for it, and no
//! event copies one), so every event may go to the merchant's side.

use crate::actor::Party;
use crate::deadline::DeadlineKind;
use crate::model::*;
use crate::money::Money;
use crate::time::Timestamp;
use crate::values::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of every event type's shape below; raised (per type) when a field changes meaning
/// or goes away. New fields may appear within a version.
pub const EVENT_VERSION: u32 = 1;

/// A case as consumers see it after a change: no thread, no evidence files, no refund account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaseSnapshot {
    pub id: CaseId,
    pub order_id: OrderId,
    pub shop_id: ShopId,
    pub kind: CaseType,
    pub status: StatusName,
    /// Where a rejected case was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    /// Why a closed case closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<CloseReason>,
    pub queue: Queue,
    pub amount: Money,
    pub requested_amount: Money,
    pub reason: String,
    pub applied_at: Timestamp,
    pub status_since: Timestamp,
    /// L5: the case whose short return this case's units are missing from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_from: Option<CaseId>,
    pub version: u64,
}

impl CaseSnapshot {
    pub fn of(case: &Case) -> CaseSnapshot {
        let (stage, close_reason) = match case.status {
            Status::Rejected { stage } => (Some(stage), None),
            Status::Closed { reason } => (None, Some(reason)),
            _ => (None, None),
        };
        CaseSnapshot {
            id: case.id,
            order_id: case.order_id,
            shop_id: case.shop_id,
            kind: case.kind,
            status: case.status.name(),
            stage,
            close_reason,
            queue: case.queue(),
            amount: case.amount,
            requested_amount: case.requested_amount,
            reason: case.reason.clone(),
            applied_at: case.applied_at,
            status_since: case.status_since,
            split_from: case.split_from,
            version: case.version,
        }
    }
}

/// An order as consumers see it after a change: no customer contact details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrderSnapshot {
    pub id: OrderId,
    pub shop_id: ShopId,
    pub order_no: String,
    pub state: OrderState,
    pub payment: PaymentMethod,
    pub total: Money,
    pub shipping_fee: Money,
    pub refunded: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_case: Option<CaseId>,
    pub version: u64,
}

impl OrderSnapshot {
    pub fn of(order: &Order) -> OrderSnapshot {
        OrderSnapshot {
            id: order.id,
            shop_id: order.shop_id,
            order_no: order.order_no.clone(),
            state: order.state,
            payment: order.payment,
            total: order.total,
            shipping_fee: order.shipping_fee,
            refunded: order.refunded,
            open_case: order.open_case,
            version: order.version,
        }
    }
}

/// One domain event. `type` on the wire is the dotted name (`case.opened`); a case event is read
/// with the case after the change, an order event with the order (`Published`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
pub enum DomainEvent {
    #[serde(rename = "order.created")]
    OrderCreated,
    /// Paid, confirmed, shipped, delivered or completed.
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged { from: OrderState, to: OrderState },
    #[serde(rename = "order.cancelled")]
    OrderCancelled { by: Party, reason: String },
    #[serde(rename = "case.opened")]
    CaseOpened { description: String },
    #[serde(rename = "case.resubmitted")]
    CaseResubmitted,
    /// Every change of the case's status (a rejection's stage or a close's reason is in `case`).
    #[serde(rename = "case.status_changed")]
    CaseStatusChanged { from: StatusName, to: StatusName },
    /// A deadline passed and the system acted (its effects follow as their own events).
    #[serde(rename = "case.deadline_fired")]
    CaseDeadlineFired { deadline: DeadlineKind, due: Timestamp },
    #[serde(rename = "case.return_agreed")]
    ReturnAgreed { address: Address },
    #[serde(rename = "case.return_shipped")]
    ReturnShipped { logistics: Logistics },
    #[serde(rename = "case.proposal_made")]
    ProposalMade { kind: CaseType, amount: Money },
    #[serde(rename = "case.proposal_answered")]
    ProposalAnswered { accepted: bool },
    /// K1/K2: the merchant owes the replacement or the missing units by `due`.
    #[serde(rename = "case.replacement_awaited")]
    ReplacementAwaited { due: Timestamp },
    #[serde(rename = "case.replacement_shipped")]
    ReplacementShipped { logistics: Logistics },
    #[serde(rename = "case.replacement_delivered")]
    ReplacementDelivered { confirm_due: Timestamp },
    /// The buyer has the goods: confirmed by the buyer, by silence or on a resend's delivery.
    #[serde(rename = "case.replacement_confirmed")]
    ReplacementConfirmed { by: Party },
    /// Not shipped in time: the units are refunded instead (a `refund.requested` follows).
    #[serde(rename = "case.replacement_turned_to_refund")]
    ReplacementTurnedToRefund { amount: Money },
    /// I1: the shop asked the carrier to stop the parcel instead of rejecting.
    #[serde(rename = "case.intercept_requested")]
    InterceptRequested,
    /// I1: the carrier's answer: stopped, or not (with why), and what it cost.
    #[serde(rename = "case.intercept_answered")]
    InterceptAnswered {
        stopped: bool,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost: Option<Money>,
    },
    /// I1: the stopped parcel is back (a `refund.requested` follows).
    #[serde(rename = "case.intercept_returned")]
    InterceptReturned,
    /// L5: the return arrived short: the case goes on for the units `received` (its refund
    /// follows); the `missing` ones are a new case (`case.opened`, its `split_from` this case).
    #[serde(rename = "case.received_in_part")]
    ReceivedInPart { received: Vec<crate::lines::units::Pick>, missing: Vec<crate::lines::units::Pick> },
    #[serde(rename = "refund.requested")]
    RefundRequested {
        amount: Money,
        /// When the simulated gateway will settle it; absent when a payment service (or
        /// finance, by hand) settles it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settle_at: Option<Timestamp>,
    },
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded { amount: Money },
    #[serde(rename = "refund.failed")]
    RefundFailed {
        detail: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<Timestamp>,
    },
    #[serde(rename = "message.posted")]
    MessagePosted { party: Party, text: String },
    #[serde(rename = "evidence.added")]
    EvidenceAdded { party: Party, evidence: Vec<Evidence> },
    #[serde(rename = "arbitration.opened")]
    ArbitrationOpened { by: Party, reason: String },
    #[serde(rename = "arbitration.evidence_requested")]
    ArbitrationEvidenceRequested { instructions: String },
    #[serde(rename = "arbitration.ruled")]
    ArbitrationRuled { for_party: Party, reason: String },
    #[serde(rename = "appeal.submitted")]
    AppealSubmitted,
    #[serde(rename = "appeal.decided")]
    AppealDecided { upheld: bool, reason: String },
    /// M6: the shop advanced a COD buyer's refund for want of a voucher.
    #[serde(rename = "penalty.issued")]
    PenaltyIssued { amount: Money },
}

impl DomainEvent {
    /// Every type's name, for the documentation and filters.
    pub const TYPES: [&'static str; 31] = [
        "order.created",
        "order.status_changed",
        "order.cancelled",
        "case.opened",
        "case.resubmitted",
        "case.status_changed",
        "case.deadline_fired",
        "case.return_agreed",
        "case.return_shipped",
        "case.proposal_made",
        "case.proposal_answered",
        "refund.requested",
        "refund.succeeded",
        "refund.failed",
        "message.posted",
        "evidence.added",
        "arbitration.opened",
        "arbitration.evidence_requested",
        "arbitration.ruled",
        "appeal.submitted",
        "appeal.decided",
        "penalty.issued",
        "case.replacement_awaited",
        "case.replacement_shipped",
        "case.replacement_delivered",
        "case.replacement_confirmed",
        "case.replacement_turned_to_refund",
        "case.intercept_requested",
        "case.intercept_answered",
        "case.intercept_returned",
        "case.received_in_part",
    ];

    /// The type's name (`type` on the wire).
    pub fn name(&self) -> &'static str {
        use DomainEvent as D;
        let i = match self {
            D::OrderCreated => 0,
            D::OrderStatusChanged { .. } => 1,
            D::OrderCancelled { .. } => 2,
            D::CaseOpened { .. } => 3,
            D::CaseResubmitted => 4,
            D::CaseStatusChanged { .. } => 5,
            D::CaseDeadlineFired { .. } => 6,
            D::ReturnAgreed { .. } => 7,
            D::ReturnShipped { .. } => 8,
            D::ProposalMade { .. } => 9,
            D::ProposalAnswered { .. } => 10,
            D::RefundRequested { .. } => 11,
            D::RefundSucceeded { .. } => 12,
            D::RefundFailed { .. } => 13,
            D::MessagePosted { .. } => 14,
            D::EvidenceAdded { .. } => 15,
            D::ArbitrationOpened { .. } => 16,
            D::ArbitrationEvidenceRequested { .. } => 17,
            D::ArbitrationRuled { .. } => 18,
            D::AppealSubmitted => 19,
            D::AppealDecided { .. } => 20,
            D::PenaltyIssued { .. } => 21,
            D::ReplacementAwaited { .. } => 22,
            D::ReplacementShipped { .. } => 23,
            D::ReplacementDelivered { .. } => 24,
            D::ReplacementConfirmed { .. } => 25,
            D::ReplacementTurnedToRefund { .. } => 26,
            D::InterceptRequested => 27,
            D::InterceptAnswered { .. } => 28,
            D::InterceptReturned => 29,
            D::ReceivedInPart { .. } => 30,
        };
        Self::TYPES[i]
    }
}

/// One command's domain events, with the case and the order as the command left them: stored
/// once per command (as the case log is), each event read with them (`DomainEvent` plus `case`
/// or `order`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Published {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseSnapshot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderSnapshot>,
    pub events: Vec<DomainEvent>,
}

impl Published {
    /// Whether an event of this type concerns the order (and carries it) rather than the case.
    pub fn is_order_event(kind: &str) -> bool {
        kind.starts_with("order.")
    }
}

/// The domain events of one command: `recorded` as it produced them, `before`/`after` the order
/// and (for a case command) the case on either side of it. A case's status change is told once
/// per command, after the events that caused it. None when the command means nothing to
/// consumers (a remark, a reminder).
pub fn published(
    order_before: &Order,
    order_after: &Order,
    case_before: Option<&Case>,
    case_after: Option<&Case>,
    recorded: &[Recorded],
) -> Option<Published> {
    let mut events = Vec::new();
    for r in recorded {
        let by = r.actor.party();
        events.push(match &r.event {
            Event::OrderCreated { .. } => DomainEvent::OrderCreated,
            Event::OrderCancelled { by, reason, .. } => DomainEvent::OrderCancelled { by: *by, reason: reason.clone() },
            Event::Applied { description, .. }
            | Event::MerchantRefundOpened { description, .. }
            | Event::SplitOff { description, .. }
                if case_after.is_some() =>
            {
                DomainEvent::CaseOpened { description: description.clone() }
            }
            Event::Resubmitted { .. } => DomainEvent::CaseResubmitted,
            Event::DeadlineFired { kind, due } if case_after.is_some() => {
                DomainEvent::CaseDeadlineFired { deadline: *kind, due: *due }
            }
            Event::ReturnAgreed { address, .. } => DomainEvent::ReturnAgreed { address: address.clone() },
            Event::ReturnLogisticsSubmitted { logistics, .. } => {
                DomainEvent::ReturnShipped { logistics: logistics.clone() }
            }
            Event::ProposalMade { kind, amount, .. } => DomainEvent::ProposalMade { kind: *kind, amount: *amount },
            Event::ProposalAccepted => DomainEvent::ProposalAnswered { accepted: true },
            Event::ProposalDeclined => DomainEvent::ProposalAnswered { accepted: false },
            Event::RefundStarted { amount, settle_at, .. } => {
                DomainEvent::RefundRequested { amount: *amount, settle_at: *settle_at }
            }
            Event::RefundSettled { ok: true, .. } => {
                let Some(case) = case_after else { continue };
                DomainEvent::RefundSucceeded { amount: case.refund.as_ref().map_or(case.amount, |r| r.amount) }
            }
            Event::RefundSettled { ok: false, detail, retry_at } => {
                DomainEvent::RefundFailed { detail: detail.clone(), retry_at: *retry_at }
            }
            Event::MessagePosted { party, text } => DomainEvent::MessagePosted { party: *party, text: text.clone() },
            Event::EvidenceAdded { party, evidence } => {
                DomainEvent::EvidenceAdded { party: *party, evidence: evidence.clone() }
            }
            Event::EvidenceSubmitted { evidence, .. } | Event::VoucherUploaded { evidence } => {
                DomainEvent::EvidenceAdded { party: by, evidence: evidence.clone() }
            }
            Event::Escalated { by, reason } => DomainEvent::ArbitrationOpened { by: *by, reason: reason.clone() },
            Event::EvidenceRequested { instructions, .. } => {
                DomainEvent::ArbitrationEvidenceRequested { instructions: instructions.clone() }
            }
            Event::Ruled { for_party, reason, .. } => {
                DomainEvent::ArbitrationRuled { for_party: *for_party, reason: reason.clone() }
            }
            Event::AppealSubmitted { .. } => DomainEvent::AppealSubmitted,
            Event::AppealDecided { upheld, reason } => {
                DomainEvent::AppealDecided { upheld: *upheld, reason: reason.clone() }
            }
            Event::AdvanceCompensated { amount } => DomainEvent::PenaltyIssued { amount: *amount },
            Event::ReplacementAwaited { due, .. } => DomainEvent::ReplacementAwaited { due: *due },
            Event::ReplacementShipped { logistics } => DomainEvent::ReplacementShipped { logistics: logistics.clone() },
            Event::ReplacementDelivered { confirm_due } => {
                DomainEvent::ReplacementDelivered { confirm_due: *confirm_due }
            }
            Event::ReplacementConfirmed { by } => DomainEvent::ReplacementConfirmed { by: *by },
            Event::ReplacementTurnedToRefund { amount } => DomainEvent::ReplacementTurnedToRefund { amount: *amount },
            Event::InterceptRequested => DomainEvent::InterceptRequested,
            Event::InterceptAnswered { stopped, reason, cost } => {
                DomainEvent::InterceptAnswered { stopped: *stopped, reason: reason.clone(), cost: *cost }
            }
            Event::InterceptReturned => DomainEvent::InterceptReturned,
            Event::ReceivedInPart { received, missing, .. } => {
                DomainEvent::ReceivedInPart { received: received.clone(), missing: missing.clone() }
            }
            _ => continue,
        });
    }
    let created = recorded.iter().any(|r| matches!(r.event, Event::OrderCreated { .. }));
    // A cancellation says so itself; other moves of the order's state are told as a change.
    if order_before.state != order_after.state && order_after.state != OrderState::Cancelled && !created {
        events.push(DomainEvent::OrderStatusChanged { from: order_before.state, to: order_after.state });
    }
    if let (Some(before), Some(after)) = (case_before, case_after) {
        if before.status != after.status {
            events.push(DomainEvent::CaseStatusChanged { from: before.status.name(), to: after.status.name() });
        }
    }
    if events.is_empty() {
        return None;
    }
    let order_told = events.iter().any(|e| Published::is_order_event(e.name()));
    Some(Published {
        case: case_after.map(CaseSnapshot::of),
        order: order_told.then(|| OrderSnapshot::of(order_after)),
        events,
    })
}
