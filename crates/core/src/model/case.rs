//! After-sales cases: their types, statuses, queues and sections, the deadlines a state implies,
//! and how case events apply.

use super::*;
use crate::actor::Party;
use crate::deadline::{Deadline, DeadlineKind};
use crate::money::Money;
use crate::policy::Policy;
use crate::time::Timestamp;
use crate::values::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// L2: the lines and units the case is for (empty in a case stored before lines: `picks`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<crate::lines::units::Pick>,
    /// K1/K2: the replacement or the missing units the merchant sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<crate::lines::replacement::Shipment>,
    /// I1: the parcel the merchant asked the carrier to stop, and what that cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intercept: Option<crate::lines::intercept::Intercept>,
    /// L5: the case whose return lacked this case's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_from: Option<CaseId>,
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

/// R6: whether `actor` may see a COD buyer's refund account: the buyer and the platform, never
/// the shop.
pub fn sees_refund_account(actor: &crate::Actor) -> bool {
    !matches!(actor, crate::Actor::Merchant { .. })
}

impl Case {
    /// L2: the lines and units the case is for; a case stored before lines is for line 1's one
    /// unit (its order reads as one line).
    pub fn picks(&self) -> Vec<crate::lines::units::Pick> {
        if self.lines.is_empty() {
            vec![crate::lines::units::Pick { line: 1, units: 1 }]
        } else {
            self.lines.clone()
        }
    }

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
            if let Event::Applied { refund_account, .. }
            | Event::ReturnLogisticsSubmitted { refund_account, .. }
            | Event::SplitOff { refund_account, .. } = &mut self.event
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
        if let Event::SplitOff { .. } = &r.event {
            return Case::split_off(order, r);
        }
        let (case_id, kind, reason, amount, description, evidence, refund_account, lines) = match &r.event {
            Event::Applied { case_id, kind, reason, amount, description, evidence, refund_account, lines } => {
                (case_id, kind, reason, amount, description, evidence.as_slice(), refund_account.clone(), lines)
            }
            // C1: opened by the merchant, with no evidence and no account (a COD refund is paid by
            // the merchant, with a voucher).
            Event::MerchantRefundOpened { case_id, kind, reason, amount, description, lines } => {
                (case_id, kind, reason, amount, description, &[][..], None, lines)
            }
            _ => return None,
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
            // C1: a case the platform opened for the buyer keeps its evidence as the platform's.
            evidence: evidence
                .iter()
                .map(|e| (if r.actor.party() == Party::Platform { Party::Platform } else { Party::Buyer }, e.clone()))
                .collect(),
            rejection: None,
            resubmissions: 0,
            return_address: None,
            return_parcel: None,
            refund_account,
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
            lines: lines.clone(),
            replacement: None,
            intercept: None,
            split_from: None,
            version: 1,
        })
    }

    /// L5: the case a short return leaves for its missing units, awaiting the shop's word on
    /// the receipt of the same parcel (its receipt deadline runs on).
    fn split_off(order: &Order, r: &Recorded) -> Option<Case> {
        let Event::SplitOff {
            case_id,
            from,
            kind,
            reason,
            description,
            amount,
            lines,
            applied_at,
            return_address,
            return_parcel,
            refund_account,
            extension_used,
        } = &r.event
        else {
            return None;
        };
        let mut case = Case::open(
            order,
            &Recorded {
                at: *applied_at,
                actor: r.actor,
                event: Event::MerchantRefundOpened {
                    case_id: *case_id,
                    kind: *kind,
                    reason: reason.clone(),
                    amount: *amount,
                    description: description.clone(),
                    lines: lines.clone(),
                },
            },
        )?;
        case.set_status(Status::AwaitingReceipt, r.at);
        case.return_address = return_address.clone();
        case.return_parcel = return_parcel.clone();
        case.refund_account = refund_account.clone();
        case.extension_used = *extension_used;
        case.split_from = Some(*from);
        Some(case)
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
            Event::Applied { .. } | Event::MerchantRefundOpened { .. } => {}
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
                // A refund-only case agreed as a return (N2) becomes one; an exchange stays one.
                if !self.kind.takes_goods_back() {
                    self.kind = CaseType::ReturnRefund;
                }
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
            Event::ReceiptConfirmed | Event::SplitOff { .. } => {}
            Event::ReceivedInPart { received, amount, .. } => {
                self.lines = received.clone();
                self.amount = *amount;
            }
            Event::TurnedIntoRefundOnly => self.kind = CaseType::RefundOnly,
            Event::RefundStarted { amount, settle_at, .. } => {
                self.refund = Some(Refund {
                    amount: *amount,
                    channel: RefundChannel::Original,
                    state: RefundState::Processing,
                    started_at: at,
                    attempts: 0,
                    next_attempt_at: *settle_at,
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
            Event::ReplacementAwaited { due, refund_instead } => {
                use crate::lines::eligibility::Remedy;
                use crate::lines::replacement::{Difference, Shipment, ShipmentState};
                self.replacement = Some(Shipment {
                    remedy: if self.kind == CaseType::Resend { Remedy::Resend } else { Remedy::Exchange },
                    units: self.picks(),
                    difference: Difference::None,
                    refund_instead: *refund_instead,
                    state: ShipmentState::AwaitingShipment { due: *due },
                });
                self.set_status(Status::AwaitingReplacement, at);
            }
            Event::ReplacementShipped { logistics } => {
                if let Some(r) = &mut self.replacement {
                    r.state = crate::lines::replacement::ShipmentState::Shipped { logistics: logistics.clone(), at };
                }
                self.set_status(Status::ReplacementSent, at);
            }
            Event::ReplacementDelivered { confirm_due } => {
                if let Some(r) = &mut self.replacement {
                    r.state = crate::lines::replacement::ShipmentState::Delivered { at, confirm_due: *confirm_due };
                }
            }
            Event::ReplacementConfirmed { by } => {
                if let Some(r) = &mut self.replacement {
                    r.state = crate::lines::replacement::ShipmentState::Completed { by: *by, at };
                }
                self.set_status(Status::Completed, at);
            }
            Event::ReplacementTurnedToRefund { amount } => {
                if let Some(r) = &mut self.replacement {
                    r.state = crate::lines::replacement::ShipmentState::TurnedToRefund { amount: *amount, at };
                }
                self.amount = *amount;
            }
            Event::InterceptRequested => {
                use crate::lines::intercept::{Intercept, InterceptState};
                self.intercept = Some(Intercept { state: InterceptState::Requested { at }, cost: None });
                self.set_status(Status::Intercepting, at);
            }
            Event::InterceptAnswered { stopped, reason, cost } => {
                use crate::lines::intercept::InterceptState;
                if let Some(i) = &mut self.intercept {
                    i.cost = cost.or(i.cost);
                    i.state = if *stopped {
                        InterceptState::Intercepted { at }
                    } else {
                        InterceptState::Failed { at, reason: reason.clone() }
                    };
                }
                if !*stopped {
                    // Not stopped: the case goes on as a refund only, reviewed after delivery.
                    self.set_status(Status::AwaitingReview, at);
                }
            }
            Event::InterceptReturned => {
                if let Some(i) = &mut self.intercept {
                    i.state = crate::lines::intercept::InterceptState::Returned { at };
                }
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
            Status::AwaitingReplacement | Status::ReplacementSent => {
                use crate::lines::replacement::ShipmentState;
                match self.replacement.as_ref().map(|r| &r.state) {
                    Some(ShipmentState::AwaitingShipment { due }) => push(DeadlineKind::ReplacementShip, *due),
                    Some(ShipmentState::Delivered { confirm_due, .. }) => {
                        push(DeadlineKind::ReplacementConfirm, *confirm_due)
                    }
                    _ => {}
                }
            }
            // I1: the carrier answers when it answers; nothing acts meanwhile.
            Status::Intercepting | Status::Completed | Status::Closed { .. } => {}
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
                CaseType::ReturnRefund | CaseType::Exchange => Queue::ReturnReview,
                CaseType::Resend => Queue::RefundOnly,
            },
            Status::AwaitingReplacement => Queue::AwaitingReplacement,
            Status::AwaitingBuyerReturn => Queue::AwaitingBuyerReturn,
            Status::AwaitingReceipt => Queue::AwaitingReceipt,
            Status::InArbitration => {
                if self.arbitration.as_ref().and_then(|a| a.open_request()).is_some() {
                    Queue::AwaitingEvidence
                } else {
                    Queue::InArbitration
                }
            }
            Status::Rejected { .. }
            | Status::AwaitingVoucher
            | Status::Refunding
            | Status::ReplacementSent
            | Status::Intercepting => Queue::InProgress,
            Status::Completed | Status::Closed { .. } => Queue::Closed,
        }
    }
}
