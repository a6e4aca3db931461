//! Deadline kinds: what each one governs and what happens when it passes. The live deadlines of a
//! case or order are derived from its state (`Case::deadlines`), so there is never more than one
//! per kind, and a state change re-arms or drops them in the same write.

use crate::time::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// U2/S2/R2 merchant review (the proposal lapses with it, N8).
    Review,
    /// U2: near-deadline message to the shop.
    ReviewReminder,
    /// R5 buyer ships back.
    BuyerShip,
    /// M4 merchant confirms receipt (M3 extends it).
    Receipt,
    /// M6 COD refund voucher.
    Voucher,
    /// E2 merchant evidence.
    Evidence,
    /// E5 evidence reminder.
    EvidenceReminder,
    /// B2 buyer revises or escalates after a rejection.
    BuyerAfterRejection,
    /// T4 appeal window.
    AppealWindow,
    /// M5 the payment gateway settles (or retries) a refund.
    RefundSettle,
    /// O4 unpaid online order.
    OrderUnpaid,
    /// K1/K2 the merchant ships a replacement or the missing units.
    ReplacementShip,
    /// K1 the buyer confirms a delivered replacement.
    ReplacementConfirm,
}

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 13] = [
        DeadlineKind::Review,
        DeadlineKind::ReviewReminder,
        DeadlineKind::BuyerShip,
        DeadlineKind::Receipt,
        DeadlineKind::Voucher,
        DeadlineKind::Evidence,
        DeadlineKind::EvidenceReminder,
        DeadlineKind::BuyerAfterRejection,
        DeadlineKind::AppealWindow,
        DeadlineKind::RefundSettle,
        DeadlineKind::OrderUnpaid,
        DeadlineKind::ReplacementShip,
        DeadlineKind::ReplacementConfirm,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            DeadlineKind::Review => "review",
            DeadlineKind::ReviewReminder => "review_reminder",
            DeadlineKind::BuyerShip => "buyer_ship",
            DeadlineKind::Receipt => "receipt",
            DeadlineKind::Voucher => "voucher",
            DeadlineKind::Evidence => "evidence",
            DeadlineKind::EvidenceReminder => "evidence_reminder",
            DeadlineKind::BuyerAfterRejection => "buyer_after_rejection",
            DeadlineKind::AppealWindow => "appeal_window",
            DeadlineKind::RefundSettle => "refund_settle",
            DeadlineKind::OrderUnpaid => "order_unpaid",
            DeadlineKind::ReplacementShip => "replacement_ship",
            DeadlineKind::ReplacementConfirm => "replacement_confirm",
        }
    }

    pub fn parse(s: &str) -> Option<DeadlineKind> {
        DeadlineKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn rule(&self) -> &'static str {
        match self {
            DeadlineKind::Review | DeadlineKind::ReviewReminder => "U2",
            DeadlineKind::BuyerShip => "R5",
            DeadlineKind::Receipt => "M4",
            DeadlineKind::Voucher => "M6",
            DeadlineKind::Evidence => "E2",
            DeadlineKind::EvidenceReminder => "E5",
            DeadlineKind::BuyerAfterRejection => "B2",
            DeadlineKind::AppealWindow => "T4",
            DeadlineKind::RefundSettle => "M5",
            DeadlineKind::OrderUnpaid => "O4",
            DeadlineKind::ReplacementShip => "K1",
            DeadlineKind::ReplacementConfirm => "K1",
        }
    }

    /// The rule that governs this deadline on a case of the given type: the merchant's review is
    /// U2 before shipment, S2 for a refund only and R2 for a return.
    pub fn rule_for(&self, case_type: crate::model::CaseType) -> &'static str {
        use crate::model::CaseType;
        match (self, case_type) {
            (DeadlineKind::Review | DeadlineKind::ReviewReminder, CaseType::RefundOnly) => "S2",
            (DeadlineKind::Review | DeadlineKind::ReviewReminder, CaseType::ReturnRefund) => "R2",
            (DeadlineKind::Review | DeadlineKind::ReviewReminder, CaseType::Exchange) => "K1",
            (DeadlineKind::Review | DeadlineKind::ReviewReminder | DeadlineKind::ReplacementShip, CaseType::Resend) => {
                "K2"
            }
            _ => self.rule(),
        }
    }

    /// Reminders only send a message; they never change the case's course.
    pub fn is_reminder(&self) -> bool {
        matches!(self, DeadlineKind::ReviewReminder | DeadlineKind::EvidenceReminder)
    }
}

/// One live deadline: its kind and when it is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub due: Timestamp,
}
