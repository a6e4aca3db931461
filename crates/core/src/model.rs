//! The state: orders and after-sales cases, the events that change them, and how each event is
//! applied. Events are the case log (W5): replaying them rebuilds the state.

use crate::actor::{Actor, Party};
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

/// The three case types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseType {
    RefundUnshipped,
    RefundOnly,
    ReturnRefund,
}

impl CaseType {
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseType::RefundUnshipped => "refund_unshipped",
            CaseType::RefundOnly => "refund_only",
            CaseType::ReturnRefund => "return_refund",
        }
    }
    pub fn parse(s: &str) -> Option<CaseType> {
        [CaseType::RefundUnshipped, CaseType::RefundOnly, CaseType::ReturnRefund].into_iter().find(|t| t.as_str() == s)
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
    Rejected { stage: Stage },
    AwaitingBuyerReturn,
    AwaitingReceipt,
    InArbitration,
    AwaitingVoucher,
    Refunding,
    Completed,
    Closed { reason: CloseReason },
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
    /// Rejected cases waiting on the buyer, refunds in progress and COD vouchers.
    InProgress,
    Closed,
}

impl Queue {
    pub const ALL: [Queue; 10] = [
        Queue::RefundUnshipped,
        Queue::RefundOnly,
        Queue::ReturnReview,
        Queue::AwaitingBuyerReturn,
        Queue::AwaitingReceipt,
        Queue::AwaitingEvidence,
        Queue::InArbitration,
        Queue::NegotiationPending,
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
            Queue::InProgress => "in_progress",
            Queue::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Rejection {
    pub stage: Stage,
    pub reason_code: String,
    pub explanation: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logistics: Option<Logistics>,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReturnParcel {
    pub logistics: Logistics,
    pub submitted_at: Timestamp,
    pub signed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    Open,
    Accepted,
    Declined,
    Withdrawn,
    Lapsed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Proposal {
    pub kind: CaseType,
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    pub at: Timestamp,
    pub state: ProposalState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceRequest {
    pub instructions: String,
    pub requested_at: Timestamp,
    pub agent: AgentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ruling {
    pub for_party: Party,
    pub reason: String,
    pub at: Timestamp,
    /// Null when the system ruled because the evidence deadline passed (E2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Arbitration {
    pub opened_by: Party,
    pub reason: String,
    pub opened_at: Timestamp,
    /// The status the case was in when escalated.
    pub from: Status,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<EvidenceRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruling: Option<Ruling>,
}

impl Arbitration {
    pub fn open_request(&self) -> Option<&EvidenceRequest> {
        self.requests.last().filter(|r| r.submitted_at.is_none() && self.ruling.is_none())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppealState {
    Submitted,
    UnderReview,
    Upheld,
    Dismissed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Appeal {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    pub at: Timestamp,
    pub state: AppealState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundChannel {
    /// Back the way it was paid, through the payment gateway.
    Original,
    /// COD: the merchant pays back offline and uploads a voucher.
    CodOffline,
    /// M6: the platform paid the buyer itself.
    PlatformAdvance,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundState {
    Processing,
    Failed,
    Succeeded,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Refund {
    pub amount: Money,
    pub channel: RefundChannel,
    pub state: RefundState,
    pub started_at: Timestamp,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub voucher: Vec<Evidence>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Case {
    pub id: CaseId,
    pub order_id: OrderId,
    pub shop_id: ShopId,
    pub buyer_id: BuyerId,
    pub kind: CaseType,
    /// The buyer's request as last submitted (type and amount); proposals change `kind`/`amount`.
    pub requested_kind: CaseType,
    pub requested_amount: Money,
    pub amount: Money,
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub status: Status,
    pub status_since: Timestamp,
    pub applied_at: Timestamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<(Party, Evidence)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    pub resubmissions: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_parcel: Option<ReturnParcel>,
    /// R6: never leaves the core toward a merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_account: Option<RefundAccount>,
    pub extension_used: bool,
    pub buyer_reminders: u32,
    /// Reminders already sent, by kind and the due time of the deadline they were for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminders: Vec<(DeadlineKind, Timestamp)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<Proposal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arbitration: Option<Arbitration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<Appeal>,
    pub appeal_window_closed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<Refund>,
    pub penalty: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remark: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thread: Vec<ThreadMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_expiry: Option<(DeadlineKind, Timestamp)>,
    pub version: u64,
}

/// The governing deadline among a case's live ones (`Case::deadlines`): the first that is not a
/// reminder or the appeal window, else the appeal window.
pub fn governing(live: &[Deadline]) -> Option<Deadline> {
    live.iter()
        .find(|d| !d.kind.is_reminder() && d.kind != DeadlineKind::AppealWindow)
        .or_else(|| live.iter().find(|d| d.kind == DeadlineKind::AppealWindow))
        .copied()
}

/// An event with who did it and when: one line of the case log (W5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Recorded {
    pub at: Timestamp,
    pub actor: Actor,
    pub event: Event,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    // --- orders ---
    OrderCreated {
        order: Box<Order>,
    },
    OrderPaid,
    OrderConfirmed,
    OrderShipped {
        logistics: Logistics,
    },
    OrderDelivered,
    OrderCompleted,
    OrderCancelled {
        by: Party,
        reason: String,
        buyer_contacted: bool,
    },
    FlagSet {
        flag: Option<Flag>,
    },
    OrderRemarkSet {
        text: String,
    },
    // --- cases ---
    Applied {
        case_id: CaseId,
        kind: CaseType,
        reason: String,
        amount: Money,
        description: String,
        evidence: Vec<Evidence>,
        /// R6: shown to the buyer and the platform only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refund_account: Option<RefundAccount>,
    },
    Withdrawn,
    Resubmitted {
        kind: CaseType,
        reason: String,
        amount: Money,
        description: String,
        evidence: Vec<Evidence>,
    },
    Rejected {
        stage: Stage,
        reason_code: String,
        explanation: String,
        evidence: Vec<Evidence>,
    },
    RejectedByShipping {
        logistics: Logistics,
    },
    ReturnAgreed {
        address: Address,
        refuse_freight_collect: bool,
    },
    ReturnLogisticsSubmitted {
        logistics: Logistics,
        /// R6: shown to the buyer and the platform only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refund_account: Option<RefundAccount>,
    },
    ReturnParcelSigned,
    BuyerReminded,
    ReceiptExtended {
        until: Timestamp,
    },
    ReceiptConfirmed,
    TurnedIntoRefundOnly,
    RefundStarted {
        amount: Money,
        settle_at: Timestamp,
        cancels_order: bool,
    },
    RefundSettled {
        ok: bool,
        detail: String,
        retry_at: Option<Timestamp>,
    },
    VoucherAwaited {
        amount: Money,
    },
    VoucherUploaded {
        evidence: Vec<Evidence>,
    },
    AdvanceCompensated {
        amount: Money,
    },
    ProposalMade {
        kind: CaseType,
        amount: Money,
        address: Option<Address>,
    },
    ProposalAccepted,
    ProposalDeclined,
    ProposalWithdrawn,
    ProposalLapsed,
    Escalated {
        by: Party,
        reason: String,
    },
    EvidenceRequested {
        instructions: String,
        agent: AgentId,
    },
    EvidenceSubmitted {
        explanation: String,
        evidence: Vec<Evidence>,
    },
    Ruled {
        for_party: Party,
        reason: String,
        agent: Option<AgentId>,
    },
    AppealSubmitted {
        text: String,
        evidence: Vec<Evidence>,
    },
    AppealReviewStarted,
    AppealDecided {
        upheld: bool,
        reason: String,
    },
    AppealWindowClosed,
    Closed {
        reason: CloseReason,
    },
    EvidenceAdded {
        party: Party,
        evidence: Vec<Evidence>,
    },
    MessagePosted {
        party: Party,
        text: String,
    },
    CaseRemarkSet {
        text: String,
    },
    ReminderSent {
        kind: DeadlineKind,
        for_due: Timestamp,
    },
    /// A reminder that came due only after the deadline it was for (the runner caught up after
    /// downtime or a clock jump): logged, never sent.
    ReminderDropped {
        kind: DeadlineKind,
        for_due: Timestamp,
    },
    /// W5: an automatic action names the deadline that fired; its effects follow.
    DeadlineFired {
        kind: DeadlineKind,
        due: Timestamp,
    },
}

impl Event {
    /// The event's name in the log (`type` in JSON).
    pub fn name(&self) -> &'static str {
        macro_rules! names {
            ($($v:ident => $n:literal),* $(,)?) => { match self { $(Event::$v { .. } => $n,)* } };
        }
        names!(
            OrderCreated => "order_created", OrderPaid => "order_paid", OrderConfirmed => "order_confirmed",
            OrderShipped => "order_shipped", OrderDelivered => "order_delivered", OrderCompleted => "order_completed",
            OrderCancelled => "order_cancelled", FlagSet => "flag_set", OrderRemarkSet => "order_remark_set",
            Applied => "applied", Withdrawn => "withdrawn", Resubmitted => "resubmitted", Rejected => "rejected",
            RejectedByShipping => "rejected_by_shipping", ReturnAgreed => "return_agreed",
            ReturnLogisticsSubmitted => "return_logistics_submitted", ReturnParcelSigned => "return_parcel_signed",
            BuyerReminded => "buyer_reminded", ReceiptExtended => "receipt_extended",
            ReceiptConfirmed => "receipt_confirmed", TurnedIntoRefundOnly => "turned_into_refund_only",
            RefundStarted => "refund_started", RefundSettled => "refund_settled", VoucherAwaited => "voucher_awaited",
            VoucherUploaded => "voucher_uploaded", AdvanceCompensated => "advance_compensated",
            ProposalMade => "proposal_made", ProposalAccepted => "proposal_accepted",
            ProposalDeclined => "proposal_declined", ProposalWithdrawn => "proposal_withdrawn",
            ProposalLapsed => "proposal_lapsed", Escalated => "escalated", EvidenceRequested => "evidence_requested",
            EvidenceSubmitted => "evidence_submitted", Ruled => "ruled", AppealSubmitted => "appeal_submitted",
            AppealReviewStarted => "appeal_review_started", AppealDecided => "appeal_decided",
            AppealWindowClosed => "appeal_window_closed", Closed => "closed", EvidenceAdded => "evidence_added",
            MessagePosted => "message_posted", CaseRemarkSet => "case_remark_set", ReminderSent => "reminder_sent",
            ReminderDropped => "reminder_dropped",
            DeadlineFired => "deadline_fired",
        )
    }

    /// Whether the event belongs to a case's log (otherwise to the order's).
    pub fn is_case_event(&self) -> bool {
        !matches!(
            self,
            Event::OrderCreated { .. }
                | Event::OrderPaid
                | Event::OrderConfirmed
                | Event::OrderShipped { .. }
                | Event::OrderDelivered
                | Event::OrderCompleted
                | Event::OrderCancelled { .. }
                | Event::FlagSet { .. }
                | Event::OrderRemarkSet { .. }
        )
    }
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

/// R6: whether `actor` may see a COD buyer's refund account: the buyer and the platform, never
/// the shop.
pub fn sees_refund_account(actor: &crate::Actor) -> bool {
    !matches!(actor, crate::Actor::Merchant { .. })
}

impl Case {
    /// The case as `actor` may see it (R6: a merchant's copy carries no refund account).
    pub fn seen_by(mut self, actor: &crate::Actor) -> Case {
        if !sees_refund_account(actor) {
            self.refund_account = None;
        }
        self
    }
}

impl Recorded {
    /// The log line as `actor` may see it (R6: a merchant's copy carries no refund account).
    pub fn seen_by(mut self, actor: &crate::Actor) -> Recorded {
        if !sees_refund_account(actor) {
            if let Event::Applied { refund_account, .. } | Event::ReturnLogisticsSubmitted { refund_account, .. } =
                &mut self.event
            {
                *refund_account = None;
            }
        }
        self
    }
}

impl Case {
    /// A new case from its first event.
    pub fn open(order: &Order, r: &Recorded) -> Option<Case> {
        let Event::Applied { case_id, kind, reason, amount, description, evidence, refund_account } = &r.event else {
            return None;
        };
        Some(Case {
            id: *case_id,
            order_id: order.id,
            shop_id: order.shop_id,
            buyer_id: order.buyer_id,
            kind: *kind,
            requested_kind: *kind,
            requested_amount: *amount,
            amount: *amount,
            reason: reason.clone(),
            description: description.clone(),
            status: Status::AwaitingReview,
            status_since: r.at,
            applied_at: r.at,
            evidence: evidence.iter().map(|e| (Party::Buyer, e.clone())).collect(),
            rejection: None,
            resubmissions: 0,
            return_address: None,
            return_parcel: None,
            refund_account: refund_account.clone(),
            extension_used: false,
            buyer_reminders: 0,
            reminders: vec![],
            proposal: None,
            arbitration: None,
            appeal: None,
            appeal_window_closed: false,
            refund: None,
            penalty: false,
            remark: String::new(),
            thread: vec![],
            last_expiry: None,
            version: 1,
        })
    }

    /// Rebuilds a case from its log (the order supplies ids).
    pub fn replay<'a>(order: &Order, events: impl IntoIterator<Item = &'a Recorded>) -> Option<Case> {
        let mut case: Option<Case> = None;
        for r in events {
            match &mut case {
                None => case = Case::open(order, r),
                Some(c) => c.apply(r),
            }
        }
        case
    }

    fn set_status(&mut self, status: Status, at: Timestamp) {
        self.status = status;
        self.status_since = at;
    }

    pub fn apply(&mut self, r: &Recorded) {
        let at = r.at;
        match &r.event {
            Event::Applied { .. } => {}
            Event::Withdrawn => self.set_status(Status::Closed { reason: CloseReason::Withdrawn }, at),
            Event::Resubmitted { kind, reason, amount, description, evidence } => {
                self.kind = *kind;
                self.requested_kind = *kind;
                self.amount = *amount;
                self.requested_amount = *amount;
                self.reason = reason.clone();
                self.description = description.clone();
                self.evidence.extend(evidence.iter().map(|e| (Party::Buyer, e.clone())));
                self.resubmissions += 1;
                self.rejection = None;
                self.set_status(Status::AwaitingReview, at);
            }
            Event::Rejected { stage, reason_code, explanation, evidence } => {
                self.rejection = Some(Rejection {
                    stage: *stage,
                    reason_code: reason_code.clone(),
                    explanation: explanation.clone(),
                    evidence: evidence.clone(),
                    logistics: None,
                    at,
                });
                self.evidence.extend(evidence.iter().map(|e| (Party::Merchant, e.clone())));
                self.set_status(Status::Rejected { stage: *stage }, at);
            }
            Event::RejectedByShipping { logistics } => {
                self.rejection = Some(Rejection {
                    stage: Stage::Review,
                    reason_code: "shipped".into(),
                    explanation: String::new(),
                    evidence: vec![],
                    logistics: Some(logistics.clone()),
                    at,
                });
                self.set_status(Status::Rejected { stage: Stage::Review }, at);
            }
            Event::ReturnAgreed { address, .. } => {
                self.kind = CaseType::ReturnRefund;
                self.return_address = Some(address.clone());
                self.set_status(Status::AwaitingBuyerReturn, at);
            }
            Event::ReturnLogisticsSubmitted { logistics, refund_account } => {
                self.return_parcel =
                    Some(ReturnParcel { logistics: logistics.clone(), submitted_at: at, signed: false });
                if refund_account.is_some() {
                    self.refund_account = refund_account.clone();
                }
                self.set_status(Status::AwaitingReceipt, at);
            }
            Event::ReturnParcelSigned => {
                if let Some(p) = &mut self.return_parcel {
                    p.signed = true;
                }
            }
            Event::BuyerReminded => self.buyer_reminders += 1,
            Event::ReceiptExtended { .. } => self.extension_used = true,
            Event::ReceiptConfirmed => {}
            Event::TurnedIntoRefundOnly => self.kind = CaseType::RefundOnly,
            Event::RefundStarted { amount, settle_at, .. } => {
                self.refund = Some(Refund {
                    amount: *amount,
                    channel: RefundChannel::Original,
                    state: RefundState::Processing,
                    started_at: at,
                    attempts: 0,
                    next_attempt_at: Some(*settle_at),
                    last_error: None,
                    settled_at: None,
                    voucher: vec![],
                });
                self.set_status(Status::Refunding, at);
            }
            Event::RefundSettled { ok, detail, retry_at } => {
                if let Some(refund) = &mut self.refund {
                    refund.attempts += 1;
                    if *ok {
                        refund.state = RefundState::Succeeded;
                        refund.settled_at = Some(at);
                        refund.next_attempt_at = None;
                        refund.last_error = None;
                    } else {
                        refund.state = RefundState::Failed;
                        refund.last_error = Some(detail.clone());
                        refund.next_attempt_at = *retry_at;
                    }
                }
                if *ok {
                    self.set_status(Status::Completed, at);
                }
            }
            Event::VoucherAwaited { amount } => {
                self.refund = Some(Refund {
                    amount: *amount,
                    channel: RefundChannel::CodOffline,
                    state: RefundState::Processing,
                    started_at: at,
                    attempts: 0,
                    next_attempt_at: None,
                    last_error: None,
                    settled_at: None,
                    voucher: vec![],
                });
                self.set_status(Status::AwaitingVoucher, at);
            }
            Event::VoucherUploaded { evidence } => {
                if let Some(refund) = &mut self.refund {
                    refund.state = RefundState::Succeeded;
                    refund.settled_at = Some(at);
                    refund.voucher = evidence.clone();
                }
                self.set_status(Status::Completed, at);
            }
            Event::AdvanceCompensated { .. } => {
                if let Some(refund) = &mut self.refund {
                    refund.channel = RefundChannel::PlatformAdvance;
                    refund.state = RefundState::Succeeded;
                    refund.settled_at = Some(at);
                }
                self.penalty = true;
                self.set_status(Status::Completed, at);
            }
            Event::ProposalMade { kind, amount, address } => {
                self.proposal = Some(Proposal {
                    kind: *kind,
                    amount: *amount,
                    address: address.clone(),
                    at,
                    state: ProposalState::Open,
                });
            }
            Event::ProposalAccepted => {
                if let Some(p) = &mut self.proposal {
                    p.state = ProposalState::Accepted;
                    self.kind = p.kind;
                    self.amount = p.amount;
                }
            }
            Event::ProposalDeclined => self.set_proposal_state(ProposalState::Declined),
            Event::ProposalWithdrawn => self.set_proposal_state(ProposalState::Withdrawn),
            Event::ProposalLapsed => self.set_proposal_state(ProposalState::Lapsed),
            Event::Escalated { by, reason } => {
                self.arbitration = Some(Arbitration {
                    opened_by: *by,
                    reason: reason.clone(),
                    opened_at: at,
                    from: self.status,
                    requests: vec![],
                    ruling: None,
                });
                self.set_status(Status::InArbitration, at);
            }
            Event::EvidenceRequested { instructions, agent } => {
                if let Some(a) = &mut self.arbitration {
                    a.requests.push(EvidenceRequest {
                        instructions: instructions.clone(),
                        requested_at: at,
                        agent: *agent,
                        submitted_at: None,
                        explanation: None,
                        evidence: vec![],
                    });
                }
            }
            Event::EvidenceSubmitted { explanation, evidence } => {
                if let Some(req) = self.arbitration.as_mut().and_then(|a| a.requests.last_mut()) {
                    req.submitted_at = Some(at);
                    req.explanation = Some(explanation.clone());
                    req.evidence = evidence.clone();
                }
                self.evidence.extend(evidence.iter().map(|e| (Party::Merchant, e.clone())));
            }
            Event::Ruled { for_party, reason, agent } => {
                if let Some(a) = &mut self.arbitration {
                    a.ruling = Some(Ruling { for_party: *for_party, reason: reason.clone(), at, agent: *agent });
                }
            }
            Event::AppealSubmitted { text, evidence } => {
                self.appeal = Some(Appeal {
                    text: text.clone(),
                    evidence: evidence.clone(),
                    at,
                    state: AppealState::Submitted,
                    result: None,
                    decided_at: None,
                });
            }
            Event::AppealReviewStarted => {
                if let Some(a) = &mut self.appeal {
                    a.state = AppealState::UnderReview;
                }
            }
            Event::AppealDecided { upheld, reason } => {
                if let Some(a) = &mut self.appeal {
                    a.state = if *upheld { AppealState::Upheld } else { AppealState::Dismissed };
                    a.result = Some(reason.clone());
                    a.decided_at = Some(at);
                }
            }
            Event::AppealWindowClosed => self.appeal_window_closed = true,
            Event::Closed { reason } => self.set_status(Status::Closed { reason: *reason }, at),
            Event::EvidenceAdded { party, evidence } => {
                self.evidence.extend(evidence.iter().map(|e| (*party, e.clone())));
            }
            Event::MessagePosted { party, text } => {
                self.thread.push(ThreadMessage { from: *party, text: text.clone(), at });
            }
            Event::CaseRemarkSet { text } => self.remark = text.clone(),
            Event::ReminderSent { kind, for_due } | Event::ReminderDropped { kind, for_due } => {
                self.reminders.push((*kind, *for_due))
            }
            Event::DeadlineFired { kind, .. } => self.last_expiry = Some((*kind, at)),
            Event::OrderCreated { .. }
            | Event::OrderPaid
            | Event::OrderConfirmed
            | Event::OrderShipped { .. }
            | Event::OrderDelivered
            | Event::OrderCompleted
            | Event::OrderCancelled { .. }
            | Event::FlagSet { .. }
            | Event::OrderRemarkSet { .. } => return,
        }
        self.version += 1;
    }

    fn set_proposal_state(&mut self, state: ProposalState) {
        if let Some(p) = &mut self.proposal {
            p.state = state;
        }
    }

    pub fn open_proposal(&self) -> Option<&Proposal> {
        self.proposal.as_ref().filter(|p| p.state == ProposalState::Open)
    }

    /// T4: the merchant lost a ruling and may still appeal.
    pub fn appeal_window_open(&self) -> bool {
        let lost =
            self.arbitration.as_ref().and_then(|a| a.ruling.as_ref()).is_some_and(|r| r.for_party == Party::Buyer);
        lost && self.appeal.is_none() && !self.appeal_window_closed
    }

    pub fn appeal_pending(&self) -> bool {
        self.appeal.as_ref().is_some_and(|a| matches!(a.state, AppealState::Submitted | AppealState::UnderReview))
    }

    /// A finished case accepts nothing more: terminal, and no appeal possible or pending.
    pub fn is_finished(&self) -> bool {
        self.status.is_terminal() && !self.appeal_window_open() && !self.appeal_pending()
    }

    /// The live deadlines, derived from the state (at most one per kind).
    pub fn deadlines(&self, policy: &Policy) -> Vec<Deadline> {
        let mut out = Vec::with_capacity(3);
        let mut push = |kind, due| out.push(Deadline { kind, due });
        match self.status {
            Status::AwaitingReview => {
                let due = self.status_since + policy.review;
                push(DeadlineKind::Review, due);
                let remind = due - policy.near_deadline;
                if remind > self.status_since && !self.reminders.contains(&(DeadlineKind::ReviewReminder, due)) {
                    push(DeadlineKind::ReviewReminder, remind);
                }
            }
            Status::Rejected { .. } => {
                push(DeadlineKind::BuyerAfterRejection, self.status_since + policy.buyer_after_rejection)
            }
            Status::AwaitingBuyerReturn => push(DeadlineKind::BuyerShip, self.status_since + policy.buyer_ship),
            Status::AwaitingReceipt => {
                if let Some(due) = self.receipt_due(policy) {
                    push(DeadlineKind::Receipt, due);
                }
            }
            Status::InArbitration => {
                if let Some(req) = self.arbitration.as_ref().and_then(|a| a.open_request()) {
                    let due = req.requested_at + policy.evidence;
                    push(DeadlineKind::Evidence, due);
                    if !self.reminders.contains(&(DeadlineKind::EvidenceReminder, due)) {
                        push(DeadlineKind::EvidenceReminder, due - policy.evidence_reminder_left);
                    }
                }
            }
            Status::AwaitingVoucher => {
                if let Some(w) = policy.cod_voucher {
                    push(DeadlineKind::Voucher, self.status_since + w);
                }
            }
            Status::Refunding => {
                if let Some(at) = self.refund.as_ref().and_then(|r| r.next_attempt_at) {
                    push(DeadlineKind::RefundSettle, at);
                }
            }
            Status::Completed | Status::Closed { .. } => {}
        }
        if self.appeal_window_open() {
            if let Some(r) = self.arbitration.as_ref().and_then(|a| a.ruling.as_ref()) {
                push(DeadlineKind::AppealWindow, r.at + policy.appeal_window);
            }
        }
        out
    }

    pub fn receipt_due(&self, policy: &Policy) -> Option<Timestamp> {
        let parcel = self.return_parcel.as_ref()?;
        let mut due = parcel.submitted_at + policy.receipt;
        if self.extension_used {
            if let Some(ext) = policy.receipt_extension {
                due = due + ext;
            }
        }
        Some(due)
    }

    /// The deadline that governs the case now (reminders and the appeal window aside, unless
    /// it is the only one).
    pub fn governing_deadline(&self, policy: &Policy) -> Option<Deadline> {
        governing(&self.deadlines(policy))
    }

    /// W1: the workbench queue the case sits in.
    pub fn queue(&self) -> Queue {
        match self.status {
            Status::AwaitingReview if self.open_proposal().is_some() => Queue::NegotiationPending,
            Status::AwaitingReview => match self.kind {
                CaseType::RefundUnshipped => Queue::RefundUnshipped,
                CaseType::RefundOnly => Queue::RefundOnly,
                CaseType::ReturnRefund => Queue::ReturnReview,
            },
            Status::AwaitingBuyerReturn => Queue::AwaitingBuyerReturn,
            Status::AwaitingReceipt => Queue::AwaitingReceipt,
            Status::InArbitration => {
                if self.arbitration.as_ref().and_then(|a| a.open_request()).is_some() {
                    Queue::AwaitingEvidence
                } else {
                    Queue::InArbitration
                }
            }
            Status::Rejected { .. } | Status::AwaitingVoucher | Status::Refunding => Queue::InProgress,
            Status::Completed | Status::Closed { .. } => Queue::Closed,
        }
    }
}
