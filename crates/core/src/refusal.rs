//! Typed refusals: why the rules say no. Each has a stable code and, where a rule refused, the
//! rule ID — the HTTP layer maps them to problem+json answers without re-reading the rules.

use crate::actor::Party;
use crate::deadline::DeadlineKind;
use crate::money::Money;
use crate::time::Timestamp;
use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("{party} may not {action}")]
    NotAllowedFor { party: Party, action: &'static str, rule: &'static str },
    #[error("{action} is not possible while the {subject} is {state}")]
    WrongState { action: &'static str, subject: &'static str, state: String, rule: &'static str },
    #[error("the {} deadline passed at {at}; {action} is no longer possible", kind.as_str())]
    DeadlinePassed { kind: DeadlineKind, at: Timestamp, action: &'static str },
    #[error("{field} is required")]
    MissingField { field: &'static str, rule: &'static str },
    #[error("{field} {reason}")]
    InvalidField { field: String, reason: String, rule: &'static str },
    #[error("the amount {requested} is above what can be refunded ({max})")]
    AmountAboveRefundable { requested: Money, max: Money },
    #[error("this case already used its one negotiation")]
    NegotiationUsed,
    #[error("negotiation is not available: {why}")]
    NegotiationNotAvailable { why: &'static str },
    #[error("extend receipt is offered from {from} (tracking at least {min_age} old and unsigned)")]
    ExtendReceiptNotYetAllowed { from: Timestamp, min_age: String },
    #[error("extend receipt is not possible: the return parcel was already signed for, so the merchant should inspect it and refund or reject")]
    ParcelSigned,
    #[error("extend receipt was already used on this case")]
    ExtensionUsed,
    #[error("the shop's profile has no receipt extension")]
    ExtensionNotInProfile,
    #[error("a rejected request may be revised {allowed} time(s); this one was")]
    ResubmissionUsed { allowed: u8 },
    #[error("the shop has no default return address")]
    NoReturnAddress,
    #[error("order already has an open case ({case})")]
    CaseAlreadyOpen { case: i64 },
    #[error("the shop's profile does not take cash-on-delivery orders")]
    CodNotSupported,
    #[error("the deadline {} is not due", kind.as_str())]
    NotDue { kind: DeadlineKind },
    #[error("{}", window_words(window, *until))]
    WindowClosed { window: &'static str, until: Option<Timestamp> },
    #[error("line {line} has {available} unit(s) that can be applied for, not {asked}")]
    UnitsNotAvailable { line: u32, asked: u32, available: u32 },
    #[error("line {line} already has {limit} cases, the most one line may have")]
    CaseLimitReached { line: u32, limit: u32 },
}

fn window_words(window: &str, until: Option<Timestamp>) -> String {
    match (window, until) {
        ("any_reason", Some(t)) => format!("the any-reason return window closed at {t}"),
        ("quality", Some(t)) => format!("the quality-reason window closed at {t}"),
        (_, _) => "this line has no any-reason return window (fresh or custom goods)".into(),
    }
}

/// Every refusal code with what it means: the rules' part of the API's error registry. A test
/// checks that each code `Refusal::code` answers is listed here.
pub const CODES: &[(&str, &str)] = &[
    ("not_allowed_for_actor", "Your party may not take this action on this case or order (answered 403)."),
    ("wrong_state", "The action is not possible in the case's or order's current status."),
    ("deadline_passed", "The deadline for this action passed (whether or not the system has acted on it yet)."),
    (
        "missing_field",
        "A field this action needs under the rule named is present but empty (an absent field is 400 `invalid_field`).",
    ),
    ("invalid_value", "A field is well-formed but the rule named does not accept its value."),
    ("amount_above_refundable", "The amount is above what the order can still refund (B3)."),
    ("negotiation_used", "This case already used its one negotiation (N3)."),
    ("negotiation_not_available", "Negotiation is not offered for this case (N1), for the reason given."),
    (
        "extend_receipt_not_yet_allowed",
        "Extend receipt is offered only once the tracking is old enough and unsigned (M3).",
    ),
    ("parcel_signed", "The return parcel was signed for: inspect it and refund or reject instead of extending (M3)."),
    ("extension_used", "Extend receipt was already used on this case (M3)."),
    ("extension_not_in_profile", "The shop's policy profile has no receipt extension (M3)."),
    ("resubmission_used", "The rejected request was already revised as many times as allowed (B2)."),
    ("no_return_address", "The shop has no default return address to agree the return to (R2)."),
    ("case_already_open", "The order already has an open case (T1)."),
    ("cod_not_supported", "The shop's profile does not take cash-on-delivery orders (O1)."),
    ("deadline_not_due", "The deadline is not due yet (internal firing only)."),
    (
        "window_closed",
        "The return window that applies has closed, or the line has no any-reason window (L4); the platform may still open a case.",
    ),
    ("units_not_available", "The line has fewer units that can be applied for than asked: the rest are in an open case or settled (L3)."),
    ("case_limit_reached", "The line already has as many cases as one line may have (L3)."),
];

impl Refusal {
    /// The stable code for API clients; one registry, never reused.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotAllowedFor { .. } => "not_allowed_for_actor",
            Refusal::WrongState { .. } => "wrong_state",
            Refusal::DeadlinePassed { .. } => "deadline_passed",
            Refusal::MissingField { .. } => "missing_field",
            Refusal::InvalidField { .. } => "invalid_value",
            Refusal::AmountAboveRefundable { .. } => "amount_above_refundable",
            Refusal::NegotiationUsed => "negotiation_used",
            Refusal::NegotiationNotAvailable { .. } => "negotiation_not_available",
            Refusal::ExtendReceiptNotYetAllowed { .. } => "extend_receipt_not_yet_allowed",
            Refusal::ParcelSigned => "parcel_signed",
            Refusal::ExtensionUsed => "extension_used",
            Refusal::ExtensionNotInProfile => "extension_not_in_profile",
            Refusal::ResubmissionUsed { .. } => "resubmission_used",
            Refusal::NoReturnAddress => "no_return_address",
            Refusal::CaseAlreadyOpen { .. } => "case_already_open",
            Refusal::CodNotSupported => "cod_not_supported",
            Refusal::NotDue { .. } => "deadline_not_due",
            Refusal::WindowClosed { .. } => "window_closed",
            Refusal::UnitsNotAvailable { .. } => "units_not_available",
            Refusal::CaseLimitReached { .. } => "case_limit_reached",
        }
    }

    /// The rule ID that refused, when one did.
    pub fn rule(&self) -> Option<&'static str> {
        let r = match self {
            Refusal::NotAllowedFor { rule, .. }
            | Refusal::WrongState { rule, .. }
            | Refusal::MissingField { rule, .. }
            | Refusal::InvalidField { rule, .. } => rule,
            Refusal::DeadlinePassed { kind, .. } => kind.rule(),
            Refusal::AmountAboveRefundable { .. } => "B3",
            Refusal::NegotiationUsed => "N3",
            Refusal::NegotiationNotAvailable { .. } => "N1",
            Refusal::ExtendReceiptNotYetAllowed { .. }
            | Refusal::ParcelSigned
            | Refusal::ExtensionUsed
            | Refusal::ExtensionNotInProfile => "M3",
            Refusal::ResubmissionUsed { .. } => "B2",
            Refusal::NoReturnAddress => "R2",
            Refusal::CaseAlreadyOpen { .. } => "T1",
            Refusal::CodNotSupported => "O1",
            Refusal::NotDue { kind } => kind.rule(),
            Refusal::WindowClosed { .. } => "L4",
            Refusal::UnitsNotAvailable { .. } | Refusal::CaseLimitReached { .. } => "L3",
        };
        if r.is_empty() {
            None
        } else {
            Some(r)
        }
    }

    /// The input field at fault, when one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            Refusal::MissingField { field, .. } => Some(field),
            Refusal::InvalidField { field, .. } => Some(field),
            Refusal::AmountAboveRefundable { .. } => Some("amount"),
            Refusal::UnitsNotAvailable { .. } | Refusal::CaseLimitReached { .. } => Some("lines"),
            _ => None,
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>, rule: &'static str) -> Refusal {
        Refusal::InvalidField { field: field.into(), reason: reason.into(), rule }
    }
}
