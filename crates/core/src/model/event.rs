//! The events commands produce: the case log (W5), one `Recorded` per event with who and when.

use super::*;
use crate::actor::{Actor, Party};
use crate::deadline::DeadlineKind;
use crate::money::Money;
use crate::time::Timestamp;
use crate::values::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
        /// L2: the lines and units asked for (empty in a case stored before lines: line 1).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        lines: Vec<crate::lines::units::Pick>,
    },
    /// C1: the merchant refunds the buyer of its own accord: a case opened and agreed at once
    /// (its refund follows).
    MerchantRefundOpened {
        case_id: CaseId,
        kind: CaseType,
        reason: String,
        amount: Money,
        description: String,
        lines: Vec<crate::lines::units::Pick>,
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
    /// L5: the return arrived short. The case goes on for the units `received` and `amount`;
    /// the `missing` units and `missing_amount` go to a case of their own (`SplitOff`).
    ReceivedInPart {
        received: Vec<crate::lines::units::Pick>,
        amount: Money,
        missing: Vec<crate::lines::units::Pick>,
        missing_amount: Money,
    },
    /// L5: a case for the units a return lacked, split off case `from` in the same change: the
    /// same request, parcel and buyer's account, awaiting the shop's word on the receipt.
    SplitOff {
        case_id: CaseId,
        from: CaseId,
        kind: CaseType,
        reason: String,
        description: String,
        amount: Money,
        lines: Vec<crate::lines::units::Pick>,
        applied_at: Timestamp,
        return_address: Option<Address>,
        return_parcel: Option<ReturnParcel>,
        /// R6: shown to the buyer and the platform only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refund_account: Option<RefundAccount>,
        extension_used: bool,
    },
    TurnedIntoRefundOnly,
    RefundStarted {
        amount: Money,
        /// When the built-in gateway settles it (M5); none when a payment service decides.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settle_at: Option<Timestamp>,
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
    /// K1/K2: the merchant must ship the replacement or the missing units by `due`; if not, the
    /// units are refunded instead (`refund_instead`).
    ReplacementAwaited {
        due: Timestamp,
        refund_instead: Money,
    },
    ReplacementShipped {
        logistics: Logistics,
    },
    /// The logistics feed reports the replacement delivered: K1 waits for the buyer's word until
    /// `confirm_due`.
    ReplacementDelivered {
        confirm_due: Timestamp,
    },
    /// The buyer has the goods: confirmed by the buyer, by silence, or a resend delivered.
    ReplacementConfirmed {
        by: Party,
    },
    /// K1/K2: not shipped in time; the units are refunded instead (the refund follows).
    ReplacementTurnedToRefund {
        amount: Money,
    },
    /// I1: the merchant asked the carrier to stop the parcel instead of rejecting.
    InterceptRequested,
    /// I1: the carrier's answer (the logistics feed): stopped, or not (with why), and the cost.
    InterceptAnswered {
        stopped: bool,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost: Option<Money>,
    },
    /// I1: the stopped parcel is back with the merchant (the refund follows).
    InterceptReturned,
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
            Applied => "applied", MerchantRefundOpened => "merchant_refund_opened", Withdrawn => "withdrawn", Resubmitted => "resubmitted", Rejected => "rejected",
            RejectedByShipping => "rejected_by_shipping", ReturnAgreed => "return_agreed",
            ReturnLogisticsSubmitted => "return_logistics_submitted", ReturnParcelSigned => "return_parcel_signed",
            BuyerReminded => "buyer_reminded", ReceiptExtended => "receipt_extended",
            ReceiptConfirmed => "receipt_confirmed", ReceivedInPart => "received_in_part", SplitOff => "split_off",
            TurnedIntoRefundOnly => "turned_into_refund_only",
            RefundStarted => "refund_started", RefundSettled => "refund_settled", VoucherAwaited => "voucher_awaited",
            ReplacementAwaited => "replacement_awaited", ReplacementShipped => "replacement_shipped",
            ReplacementDelivered => "replacement_delivered", ReplacementConfirmed => "replacement_confirmed",
            ReplacementTurnedToRefund => "replacement_turned_to_refund",
            InterceptRequested => "intercept_requested", InterceptAnswered => "intercept_answered",
            InterceptReturned => "intercept_returned",
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
