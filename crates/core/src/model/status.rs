//! What a case is and where it stands: its type, status (with a rejection's stage or a close's
//! reason) and the workbench queue (W1) it lists in.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The case types: the three of the seeds, and the goods sent again instead of money (K1, K2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseType {
    RefundUnshipped,
    RefundOnly,
    ReturnRefund,
    /// K1: the goods go back and the same SKU comes again (换货).
    Exchange,
    /// K2: the missing units or parts are sent (补寄); nothing goes back.
    Resend,
}

impl CaseType {
    pub const ALL: [CaseType; 5] =
        [CaseType::RefundUnshipped, CaseType::RefundOnly, CaseType::ReturnRefund, CaseType::Exchange, CaseType::Resend];

    pub fn as_str(&self) -> &'static str {
        match self {
            CaseType::RefundUnshipped => "refund_unshipped",
            CaseType::RefundOnly => "refund_only",
            CaseType::ReturnRefund => "return_refund",
            CaseType::Exchange => "exchange",
            CaseType::Resend => "resend",
        }
    }
    pub fn parse(s: &str) -> Option<CaseType> {
        CaseType::ALL.into_iter().find(|t| t.as_str() == s)
    }
    /// Whether the case sends goods instead of money (K1, K2).
    pub fn sends_goods(&self) -> bool {
        matches!(self, CaseType::Exchange | CaseType::Resend)
    }
    /// Whether the buyer sends the goods back (R2, K1).
    pub fn takes_goods_back(&self) -> bool {
        matches!(self, CaseType::ReturnRefund | CaseType::Exchange)
    }
}

/// Where a rejection happened: at first review, or after the goods came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Review,
    Receipt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// B1
    Withdrawn,
    /// R5
    ReturnNotShipped,
    /// B2
    RejectionNotContested,
    /// E6
    RuledForMerchant,
}

/// Where a case is. Matched exhaustively: a new status breaks the build where it matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
#[schemars(description = "Where a case is, with what that status carries (the stage of a rejection, why a \
    case closed).")]
pub enum Status {
    AwaitingReview,
    Rejected {
        stage: Stage,
    },
    AwaitingBuyerReturn,
    AwaitingReceipt,
    InArbitration,
    AwaitingVoucher,
    Refunding,
    /// K1/K2: the merchant ships the replacement or the missing units.
    AwaitingReplacement,
    /// K1/K2: shipped; a resend completes on delivery, a replacement when the buyer (or silence)
    /// confirms it.
    ReplacementSent,
    /// I1: the carrier was asked to stop the parcel; the case waits for its answer, then for the
    /// parcel to come back.
    Intercepting,
    Completed,
    Closed {
        reason: CloseReason,
    },
}

/// A status as one string on the wire, the same in lists, case pages and command answers. The
/// details that some statuses carry (the stage of a rejection, why a case closed) are fields of
/// their own beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusName {
    AwaitingReview,
    Rejected,
    AwaitingBuyerReturn,
    AwaitingReceipt,
    InArbitration,
    AwaitingVoucher,
    Refunding,
    AwaitingReplacement,
    ReplacementSent,
    Intercepting,
    Completed,
    Closed,
}

impl Status {
    pub fn name(&self) -> StatusName {
        match self {
            Status::AwaitingReview => StatusName::AwaitingReview,
            Status::Rejected { .. } => StatusName::Rejected,
            Status::AwaitingBuyerReturn => StatusName::AwaitingBuyerReturn,
            Status::AwaitingReceipt => StatusName::AwaitingReceipt,
            Status::InArbitration => StatusName::InArbitration,
            Status::AwaitingVoucher => StatusName::AwaitingVoucher,
            Status::Refunding => StatusName::Refunding,
            Status::AwaitingReplacement => StatusName::AwaitingReplacement,
            Status::ReplacementSent => StatusName::ReplacementSent,
            Status::Intercepting => StatusName::Intercepting,
            Status::Completed => StatusName::Completed,
            Status::Closed { .. } => StatusName::Closed,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::AwaitingReview => "awaiting_review",
            Status::Rejected { .. } => "rejected",
            Status::AwaitingBuyerReturn => "awaiting_buyer_return",
            Status::AwaitingReceipt => "awaiting_receipt",
            Status::InArbitration => "in_arbitration",
            Status::AwaitingVoucher => "awaiting_voucher",
            Status::Refunding => "refunding",
            Status::AwaitingReplacement => "awaiting_replacement",
            Status::ReplacementSent => "replacement_sent",
            Status::Intercepting => "intercepting",
            Status::Completed => "completed",
            Status::Closed { .. } => "closed",
        }
    }
    pub fn is_terminal(&self) -> bool {
        matches!(self, Status::Completed | Status::Closed { .. })
    }
}

/// W1 workbench queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    RefundUnshipped,
    RefundOnly,
    ReturnReview,
    AwaitingBuyerReturn,
    AwaitingReceipt,
    AwaitingEvidence,
    InArbitration,
    NegotiationPending,
    /// K1/K2: exchanges and resends the merchant must ship.
    AwaitingReplacement,
    /// Rejected cases waiting on the buyer, refunds in progress, COD vouchers, replacements on
    /// their way.
    InProgress,
    Closed,
}

impl Queue {
    pub const ALL: [Queue; 11] = [
        Queue::RefundUnshipped,
        Queue::RefundOnly,
        Queue::ReturnReview,
        Queue::AwaitingBuyerReturn,
        Queue::AwaitingReceipt,
        Queue::AwaitingEvidence,
        Queue::InArbitration,
        Queue::NegotiationPending,
        Queue::AwaitingReplacement,
        Queue::InProgress,
        Queue::Closed,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            Queue::RefundUnshipped => "refund_unshipped",
            Queue::RefundOnly => "refund_only",
            Queue::ReturnReview => "return_review",
            Queue::AwaitingBuyerReturn => "awaiting_buyer_return",
            Queue::AwaitingReceipt => "awaiting_receipt",
            Queue::AwaitingEvidence => "awaiting_evidence",
            Queue::InArbitration => "in_arbitration",
            Queue::NegotiationPending => "negotiation_pending",
            Queue::AwaitingReplacement => "awaiting_replacement",
            Queue::InProgress => "in_progress",
            Queue::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.as_str() == s)
    }
}
