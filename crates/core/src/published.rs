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

/// One domain event. `type` on the wire is the dotted name (`case.opened`); every case event
/// carries the case after the change, every order event the order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
pub enum DomainEvent {
    #[serde(rename = "order.created")]
    OrderCreated { order: OrderSnapshot },
    /// Paid, confirmed, shipped, delivered or completed.
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged { from: OrderState, to: OrderState, order: OrderSnapshot },
    #[serde(rename = "order.cancelled")]
    OrderCancelled { by: Party, reason: String, order: OrderSnapshot },
    #[serde(rename = "case.opened")]
    CaseOpened { case: CaseSnapshot, description: String },
    #[serde(rename = "case.resubmitted")]
    CaseResubmitted { case: CaseSnapshot },
    /// Every change of the case's status (a rejection's stage or a close's reason is in `case`).
    #[serde(rename = "case.status_changed")]
    CaseStatusChanged { from: StatusName, to: StatusName, case: CaseSnapshot },
    /// A deadline passed and the system acted (its effects follow as their own events).
    #[serde(rename = "case.deadline_fired")]
    CaseDeadlineFired { deadline: DeadlineKind, due: Timestamp, case: CaseSnapshot },
    #[serde(rename = "case.return_agreed")]
    ReturnAgreed { address: Address, case: CaseSnapshot },
    #[serde(rename = "case.return_shipped")]
    ReturnShipped { logistics: Logistics, case: CaseSnapshot },
    #[serde(rename = "case.proposal_made")]
    ProposalMade { kind: CaseType, amount: Money, case: CaseSnapshot },
    #[serde(rename = "case.proposal_answered")]
    ProposalAnswered { accepted: bool, case: CaseSnapshot },
    #[serde(rename = "refund.requested")]
    RefundRequested { amount: Money, settle_at: Timestamp, case: CaseSnapshot },
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded { amount: Money, case: CaseSnapshot },
    #[serde(rename = "refund.failed")]
    RefundFailed {
        detail: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<Timestamp>,
        case: CaseSnapshot,
    },
    #[serde(rename = "message.posted")]
    MessagePosted { party: Party, text: String, case: CaseSnapshot },
    #[serde(rename = "evidence.added")]
    EvidenceAdded { party: Party, evidence: Vec<Evidence>, case: CaseSnapshot },
    #[serde(rename = "arbitration.opened")]
    ArbitrationOpened { by: Party, reason: String, case: CaseSnapshot },
    #[serde(rename = "arbitration.evidence_requested")]
    ArbitrationEvidenceRequested { instructions: String, case: CaseSnapshot },
    #[serde(rename = "arbitration.ruled")]
    ArbitrationRuled { for_party: Party, reason: String, case: CaseSnapshot },
    #[serde(rename = "appeal.submitted")]
    AppealSubmitted { case: CaseSnapshot },
    #[serde(rename = "appeal.decided")]
    AppealDecided { upheld: bool, reason: String, case: CaseSnapshot },
    /// M6: the shop advanced a COD buyer's refund for want of a voucher.
    #[serde(rename = "penalty.issued")]
    PenaltyIssued { amount: Money, case: CaseSnapshot },
}

impl DomainEvent {
    /// Every type's name, for the documentation and filters.
    pub const TYPES: [&'static str; 22] = [
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
    ];

    /// The type's name (`type` on the wire).
    pub fn name(&self) -> &'static str {
        use DomainEvent as D;
        let i = match self {
            D::OrderCreated { .. } => 0,
            D::OrderStatusChanged { .. } => 1,
            D::OrderCancelled { .. } => 2,
            D::CaseOpened { .. } => 3,
            D::CaseResubmitted { .. } => 4,
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
            D::AppealSubmitted { .. } => 19,
            D::AppealDecided { .. } => 20,
            D::PenaltyIssued { .. } => 21,
        };
        Self::TYPES[i]
    }
}

/// The domain events of one command: `recorded` as it produced them, `before`/`after` the order
/// and (for a case command) the case on either side of it. A case's status change is told once
/// per command, after the events that caused it.
pub fn published(
    order_before: &Order,
    order_after: &Order,
    case_before: Option<&Case>,
    case_after: Option<&Case>,
    recorded: &[Recorded],
) -> Vec<DomainEvent> {
    let order = || OrderSnapshot::of(order_after);
    let mut out = Vec::new();
    let Some(case) = case_after else {
        for e in recorded.iter().map(|r| &r.event) {
            match e {
                Event::OrderCreated { .. } => out.push(DomainEvent::OrderCreated { order: order() }),
                Event::OrderCancelled { by, reason, .. } => {
                    out.push(DomainEvent::OrderCancelled { by: *by, reason: reason.clone(), order: order() })
                }
                _ => {}
            }
        }
        if order_before.state != order_after.state
            && order_after.state != OrderState::Cancelled
            && !recorded.iter().any(|r| matches!(r.event, Event::OrderCreated { .. }))
        {
            out.push(DomainEvent::OrderStatusChanged {
                from: order_before.state,
                to: order_after.state,
                order: order(),
            });
        }
        return out;
    };
    let snap = CaseSnapshot::of(case);
    for r in recorded {
        let c = snap.clone();
        let by = r.actor.party();
        out.push(match &r.event {
            Event::Applied { description, .. } => DomainEvent::CaseOpened { case: c, description: description.clone() },
            Event::Resubmitted { .. } => DomainEvent::CaseResubmitted { case: c },
            Event::DeadlineFired { kind, due } => {
                DomainEvent::CaseDeadlineFired { deadline: *kind, due: *due, case: c }
            }
            Event::ReturnAgreed { address, .. } => DomainEvent::ReturnAgreed { address: address.clone(), case: c },
            Event::ReturnLogisticsSubmitted { logistics, .. } => {
                DomainEvent::ReturnShipped { logistics: logistics.clone(), case: c }
            }
            Event::ProposalMade { kind, amount, .. } => {
                DomainEvent::ProposalMade { kind: *kind, amount: *amount, case: c }
            }
            Event::ProposalAccepted => DomainEvent::ProposalAnswered { accepted: true, case: c },
            Event::ProposalDeclined => DomainEvent::ProposalAnswered { accepted: false, case: c },
            Event::RefundStarted { amount, settle_at, .. } => {
                DomainEvent::RefundRequested { amount: *amount, settle_at: *settle_at, case: c }
            }
            Event::RefundSettled { ok: true, .. } => {
                DomainEvent::RefundSucceeded { amount: case.refund.as_ref().map_or(case.amount, |r| r.amount), case: c }
            }
            Event::RefundSettled { ok: false, detail, retry_at } => {
                DomainEvent::RefundFailed { detail: detail.clone(), retry_at: *retry_at, case: c }
            }
            Event::MessagePosted { party, text } => {
                DomainEvent::MessagePosted { party: *party, text: text.clone(), case: c }
            }
            Event::EvidenceAdded { party, evidence } => {
                DomainEvent::EvidenceAdded { party: *party, evidence: evidence.clone(), case: c }
            }
            Event::EvidenceSubmitted { evidence, .. } | Event::VoucherUploaded { evidence } => {
                DomainEvent::EvidenceAdded { party: by, evidence: evidence.clone(), case: c }
            }
            Event::Escalated { by, reason } => {
                DomainEvent::ArbitrationOpened { by: *by, reason: reason.clone(), case: c }
            }
            Event::EvidenceRequested { instructions, .. } => {
                DomainEvent::ArbitrationEvidenceRequested { instructions: instructions.clone(), case: c }
            }
            Event::Ruled { for_party, reason, .. } => {
                DomainEvent::ArbitrationRuled { for_party: *for_party, reason: reason.clone(), case: c }
            }
            Event::AppealSubmitted { .. } => DomainEvent::AppealSubmitted { case: c },
            Event::AppealDecided { upheld, reason } => {
                DomainEvent::AppealDecided { upheld: *upheld, reason: reason.clone(), case: c }
            }
            Event::AdvanceCompensated { amount } => DomainEvent::PenaltyIssued { amount: *amount, case: c },
            Event::OrderCancelled { by, reason, .. } => {
                DomainEvent::OrderCancelled { by: *by, reason: reason.clone(), order: order() }
            }
            _ => continue,
        });
    }
    let from = case_before.map(|c| c.status);
    if from.is_some_and(|f| f != case.status) {
        let from = from.map(|s| s.name()).unwrap_or(StatusName::AwaitingReview);
        out.push(DomainEvent::CaseStatusChanged { from, to: case.status.name(), case: snap });
    }
    out
}
