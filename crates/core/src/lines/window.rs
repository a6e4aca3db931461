//! L4: the return windows. After delivery a buyer may apply for any reason within the any-reason
//! window (七天无理由, 7 days by default), except on fresh or custom goods, and for a quality
//! reason (defective, damaged, not as described, wrong or missing items) within the quality
//! window (15 days by default). Outside both the buyer is refused, naming the window; the
//! platform may still open a case (C1), and a merchant's own refund is never bound by them.
//! Before delivery no window runs.

use super::LineKind;
use crate::actor::Party;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Why a buyer asks, as far as the windows care.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// No reason needed (七天无理由): changed one's mind, no longer wanted.
    NoReason,
    Defective,
    Damaged,
    NotAsDescribed,
    WrongItem,
    MissingItems,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 6] = [
        ReasonCode::NoReason,
        ReasonCode::Defective,
        ReasonCode::Damaged,
        ReasonCode::NotAsDescribed,
        ReasonCode::WrongItem,
        ReasonCode::MissingItems,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ReasonCode::NoReason => "no_reason",
            ReasonCode::Defective => "defective",
            ReasonCode::Damaged => "damaged",
            ReasonCode::NotAsDescribed => "not_as_described",
            ReasonCode::WrongItem => "wrong_item",
            ReasonCode::MissingItems => "missing_items",
        }
    }

    pub fn parse(s: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The window's reason for one of the application reasons (T1's list): changing one's mind
    /// (or no reason given, "other") needs none; the rest are faults of the goods, the parcel or
    /// the merchant.
    pub fn of_apply_reason(code: &str) -> ReasonCode {
        match code {
            "no_longer_needed" | "other" => ReasonCode::NoReason,
            "missing_or_wrong_item" => ReasonCode::MissingItems,
            "damaged" => ReasonCode::Damaged,
            "not_as_described" => ReasonCode::NotAsDescribed,
            _ => ReasonCode::Defective,
        }
    }

    /// A fault of the goods or the merchant: the quality window applies (L4).
    pub fn is_quality(&self) -> bool {
        *self != ReasonCode::NoReason
    }
}

/// The window that applies to an application for `reason` on a line of `kind` delivered at
/// `delivered_at`: its name and end. None before delivery (no window runs yet). An any-reason
/// application on fresh or custom goods has no window at all: `Some(("any_reason", None))`.
pub fn window_for(
    policy: &Policy,
    delivered_at: Option<Timestamp>,
    reason: ReasonCode,
    kind: LineKind,
) -> Option<(&'static str, Option<Timestamp>)> {
    let delivered = delivered_at?;
    Some(if reason.is_quality() {
        ("quality", Some(delivered + policy.quality_window))
    } else if kind.any_reason_returns() {
        ("any_reason", Some(delivered + policy.any_reason_window))
    } else {
        ("any_reason", None)
    })
}

/// L4 for `party` applying at `now`: the window's end when one runs (for the buyer to see), or
/// the refusal that names it. Only a buyer is bound; the platform opens cases outside it (C1).
pub fn check_window(
    policy: &Policy,
    party: Party,
    delivered_at: Option<Timestamp>,
    reason: ReasonCode,
    kind: LineKind,
    now: Timestamp,
) -> Result<Option<Timestamp>, Refusal> {
    let Some((window, until)) = window_for(policy, delivered_at, reason, kind) else { return Ok(None) };
    let open = until.is_some_and(|end| now < end);
    if open || party != Party::Buyer {
        return Ok(until);
    }
    Err(Refusal::WindowClosed { window, until })
}
