//! The vocabulary clients see: deadline kinds, statuses, queues, case types, actions, actors and
//! refusal codes, each with its exact name and the rule it belongs to. These names are the API's
//! contract: renaming one breaks integrations, so each is pinned here.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::*;

#[test]
fn w5_deadline_kinds_have_stable_names_and_rules() {
    use DeadlineKind as K;
    let table = [
        (K::Review, "review", "U2", false),
        (K::ReviewReminder, "review_reminder", "U2", true),
        (K::BuyerShip, "buyer_ship", "R5", false),
        (K::Receipt, "receipt", "M4", false),
        (K::Voucher, "voucher", "M6", false),
        (K::Evidence, "evidence", "E2", false),
        (K::EvidenceReminder, "evidence_reminder", "E5", true),
        (K::BuyerAfterRejection, "buyer_after_rejection", "B2", false),
        (K::AppealWindow, "appeal_window", "T4", false),
        (K::RefundSettle, "refund_settle", "M5", false),
        (K::OrderUnpaid, "order_unpaid", "O4", false),
        (K::ReplacementShip, "replacement_ship", "K1", false),
        (K::ReplacementConfirm, "replacement_confirm", "K1", false),
    ];
    assert_eq!(table.len(), K::ALL.len());
    for (kind, name, rule, reminder) in table {
        assert_eq!((kind.as_str(), kind.rule(), kind.is_reminder()), (name, rule, reminder), "{kind:?}");
        assert_eq!(DeadlineKind::parse(name), Some(kind));
    }
    assert_eq!(DeadlineKind::parse("Review"), None);
    assert_eq!(DeadlineKind::parse(""), None);
}

#[test]
fn w1_statuses_queues_and_case_types_have_stable_names() {
    let statuses = [
        (Status::AwaitingReview, "awaiting_review", false),
        (Status::Rejected { stage: Stage::Review }, "rejected", false),
        (Status::AwaitingBuyerReturn, "awaiting_buyer_return", false),
        (Status::AwaitingReceipt, "awaiting_receipt", false),
        (Status::InArbitration, "in_arbitration", false),
        (Status::AwaitingVoucher, "awaiting_voucher", false),
        (Status::Refunding, "refunding", false),
        (Status::AwaitingReplacement, "awaiting_replacement", false),
        (Status::ReplacementSent, "replacement_sent", false),
        (Status::Intercepting, "intercepting", false),
        (Status::Completed, "completed", true),
        (Status::Closed { reason: CloseReason::Withdrawn }, "closed", true),
    ];
    for (status, name, terminal) in statuses {
        assert_eq!((status.as_str(), status.is_terminal()), (name, terminal));
    }
    let queues = [
        "refund_unshipped",
        "refund_only",
        "return_review",
        "awaiting_buyer_return",
        "awaiting_receipt",
        "awaiting_evidence",
        "in_arbitration",
        "negotiation_pending",
        "awaiting_replacement",
        "in_progress",
        "closed",
    ];
    assert_eq!(Queue::ALL.map(|q| q.as_str()), queues);
    for q in Queue::ALL {
        assert_eq!(Queue::parse(q.as_str()), Some(q));
    }
    assert_eq!(Queue::parse("inbox"), None);
    for (kind, name) in [
        (CaseType::RefundUnshipped, "refund_unshipped"),
        (CaseType::RefundOnly, "refund_only"),
        (CaseType::ReturnRefund, "return_refund"),
        (CaseType::Exchange, "exchange"),
        (CaseType::Resend, "resend"),
    ] {
        assert_eq!(kind.as_str(), name);
        assert_eq!(CaseType::parse(name), Some(kind));
    }
    assert_eq!(CaseType::parse("refund"), None);
    let order_states = [
        (OrderState::AwaitingPayment, "awaiting_payment", false),
        (OrderState::AwaitingConfirmation, "awaiting_confirmation", true),
        (OrderState::Stocking, "stocking", true),
        (OrderState::Shipped, "shipped", false),
        (OrderState::Delivered, "delivered", false),
        (OrderState::Completed, "completed", false),
        (OrderState::Cancelled, "cancelled", false),
    ];
    for (state, name, unshipped) in order_states {
        assert_eq!((state.as_str(), state.is_unshipped()), (name, unshipped), "{state:?}");
    }
}

#[test]
fn t1_actions_have_stable_names_and_the_parties_that_take_them() {
    use Party::*;
    let table: [(Action, &str, &[Party]); 36] = [
        (Action::Withdraw, "withdraw", &[Buyer]),
        (Action::Resubmit, "resubmit", &[Buyer]),
        (Action::Escalate, "escalate", &[Buyer, Merchant]),
        (Action::SubmitReturnLogistics, "submit_return_logistics", &[Buyer]),
        (Action::AcceptProposal, "accept_proposal", &[Buyer]),
        (Action::DeclineProposal, "decline_proposal", &[Buyer]),
        (Action::AddEvidence, "add_evidence", &[Buyer, Merchant]),
        (Action::PostMessage, "post_message", &[Buyer, Merchant]),
        (Action::Refund, "refund", &[Merchant]),
        (Action::RejectByShipping, "reject_by_shipping", &[Merchant]),
        (Action::Reject, "reject", &[Merchant]),
        (Action::AgreeReturn, "agree_return", &[Merchant]),
        (Action::ReceivedRefund, "received_refund", &[Merchant]),
        (Action::ReceivedPart, "received_part", &[Merchant]),
        (Action::ExtendReceipt, "extend_receipt", &[Merchant]),
        (Action::RemindBuyer, "remind_buyer", &[Merchant]),
        (Action::Propose, "propose", &[Merchant]),
        (Action::SubmitEvidence, "submit_evidence", &[Merchant]),
        (Action::UploadVoucher, "upload_voucher", &[Merchant]),
        (Action::Appeal, "appeal", &[Merchant]),
        (Action::SetRemark, "set_remark", &[Merchant]),
        (Action::SetFlag, "set_flag", &[Merchant]),
        (Action::SetOrderRemark, "set_order_remark", &[Merchant]),
        (Action::RequestEvidence, "request_evidence", &[Platform]),
        (Action::Rule, "rule", &[Platform]),
        (Action::ReviewAppeal, "review_appeal", &[Platform]),
        (Action::DecideAppeal, "decide_appeal", &[Platform]),
        (Action::Expire, "expire", &[System]),
        (Action::RecordRefundOutcome, "record_refund_outcome", &[System]),
        (Action::ReturnParcelSigned, "return_parcel_signed", &[System]),
        (Action::ShipReplacement, "ship_replacement", &[Merchant]),
        (Action::ConfirmReplacement, "confirm_replacement", &[Buyer]),
        (Action::ReplacementDelivered, "replacement_delivered", &[System]),
        (Action::RequestIntercept, "request_intercept", &[Merchant]),
        (Action::InterceptResult, "intercept_result", &[System]),
        (Action::InterceptReturned, "intercept_returned", &[System]),
    ];
    assert_eq!(table.map(|(a, _, _)| a), Action::ALL);
    for (action, name, parties) in table {
        assert_eq!((action.as_str(), action.parties()), (name, parties), "{action:?}");
    }
}

#[test]
fn w5_actors_and_parties_read_as_words_in_the_log() {
    assert_eq!(BUYER.to_string(), "buyer 7");
    assert_eq!(MERCHANT.to_string(), "shop 1 staff 11");
    assert_eq!(AGENT.to_string(), "platform agent 31");
    assert_eq!(SYSTEM.to_string(), "system");
    let parties = [
        (Party::Buyer, "buyer"),
        (Party::Merchant, "merchant"),
        (Party::Platform, "platform"),
        (Party::System, "system"),
    ];
    for (party, name) in parties {
        assert_eq!(party.to_string(), name);
    }
    assert_eq!(
        (BUYER.party(), MERCHANT.party(), AGENT.party(), SYSTEM.party()),
        (Party::Buyer, Party::Merchant, Party::Platform, Party::System)
    );
}

/// The reason lists the document states as enums are the lists the rules check.
#[test]
fn documented_reason_enums_are_the_rules_lists() {
    let schema = serde_json::to_value(schemars::schema_for!(aftersale_core::command::CaseCommand)).unwrap();
    let text = schema.to_string();
    for r in aftersale_core::command::APPLY_REASONS {
        assert!(text.contains(&format!("\"{}\"", r.code)), "{} missing from the documented apply reasons", r.code);
    }
    for (r, _) in aftersale_core::command::REJECT_REASONS {
        assert!(text.contains(&format!("\"{}\"", r.code)), "{} missing from the documented rejection reasons", r.code);
    }
    let apply: Vec<&str> = aftersale_core::command::APPLY_REASONS.iter().map(|r| r.code).collect();
    let documented = schema.pointer("/oneOf").and_then(|v| v.as_array()).unwrap().iter().find_map(|v| {
        (v.pointer("/properties/command/const")? == "resubmit")
            .then(|| v.pointer("/properties/reason/enum").cloned())
            .flatten()
    });
    assert_eq!(documented.unwrap(), serde_json::json!(apply));
}

/// The review deadline names the rule of its case type: U2 before shipment, S2 for a refund
/// only, R2 for a return; other deadlines keep their own rule whatever the type.
#[test]
fn u2_s2_r2_the_review_deadline_names_the_rule_of_its_case_type() {
    use aftersale_core::DeadlineKind as K;
    for (kind, rule) in
        [(CaseType::RefundUnshipped, "U2"), (CaseType::RefundOnly, "S2"), (CaseType::ReturnRefund, "R2")]
    {
        assert_eq!(K::Review.rule_for(kind), rule);
        assert_eq!(K::ReviewReminder.rule_for(kind), rule);
        assert_eq!(K::BuyerShip.rule_for(kind), "R5");
        assert_eq!(K::Evidence.rule_for(kind), "E2");
    }
}

/// The commands that carry evidence give it out; the others carry none.
#[test]
fn a_command_names_its_evidence() {
    use aftersale_core::values::{Evidence, EvidenceKind};
    let ev = Evidence { key: "ev-1".into(), kind: EvidenceKind::Image, sha256: "a".repeat(64), caption: String::new() };
    let with = [
        CaseCommand::AddEvidence { evidence: vec![ev.clone()] },
        CaseCommand::Reject {
            reason_code: "no_quality_issue".into(),
            explanation: String::new(),
            evidence: vec![ev.clone()],
        },
        CaseCommand::SubmitEvidence { explanation: "x".into(), evidence: vec![ev.clone()] },
        CaseCommand::UploadVoucher { evidence: vec![ev.clone()] },
        CaseCommand::Appeal { text: "x".into(), evidence: vec![ev.clone()] },
    ];
    for c in &with {
        assert_eq!(c.evidence(), std::slice::from_ref(&ev), "{c:?}");
    }
    assert!(CaseCommand::Withdraw.evidence().is_empty());
    assert!(CaseCommand::Refund.evidence().is_empty());
}

/// The wire types document themselves: currencies, times and durations are inline strings with
/// their pattern or format, so a client sees what the server takes.
#[test]
fn value_types_document_their_wire_form() {
    let money = serde_json::to_value(schemars::schema_for!(Money)).unwrap();
    assert_eq!(money.pointer("/properties/currency/pattern").and_then(|v| v.as_str()), Some("^[A-Z]{3}$"));
    let recorded = serde_json::to_value(schemars::schema_for!(Recorded)).unwrap();
    assert_eq!(recorded.pointer("/properties/at/format").and_then(|v| v.as_str()), Some("date-time"));
    let policy = serde_json::to_value(schemars::schema_for!(Policy)).unwrap();
    assert!(policy.pointer("/properties/review/pattern").and_then(|v| v.as_str()).is_some_and(|p| p.contains("week")));
    let logistics = serde_json::to_value(schemars::schema_for!(aftersale_core::values::Logistics)).unwrap();
    assert_eq!(logistics.pointer("/properties/carrier/pattern").and_then(|v| v.as_str()), Some("^[A-Za-z0-9_]{2,16}$"));
    assert_eq!(
        logistics.pointer("/properties/tracking_no/pattern").and_then(|v| v.as_str()),
        Some("^[A-Za-z0-9]{8,32}$")
    );
    let order = serde_json::to_value(schemars::schema_for!(NewOrder)).unwrap();
    assert_eq!(
        order.pointer("/properties/customer_phone/pattern").and_then(|v| v.as_str()),
        Some(aftersale_core::values::PHONE_PATTERN)
    );
    // inline: no definitions of their own
    for s in [&money, &recorded, &policy, &logistics, &order] {
        let defs = s
            .get("$defs")
            .and_then(|d| d.as_object())
            .map(|d| d.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        for name in ["Currency", "Timestamp", "Duration", "Phone", "Carrier", "TrackingNo"] {
            assert!(!defs.contains(&name.to_string()), "{name} is not inline");
        }
    }
}

/// A command names evidence by key: 1-200 characters, a caption of at most 500, and a checksum,
/// when one is given, of 64 hex digits.
#[test]
fn evidence_references_have_the_documented_bounds() {
    use aftersale_core::values::EvidenceRef;
    let ok = |key: &str, caption: &str, sha: Option<String>| {
        EvidenceRef { key: key.into(), caption: caption.into(), kind: None, sha256: sha }.validate().is_ok()
    };
    assert!(ok("ev-1", "", None));
    assert!(ok(&"k".repeat(200), &"c".repeat(500), Some("aB".repeat(32))));
    assert!(!ok("", "", None));
    assert!(!ok(&"k".repeat(201), "", None));
    assert!(!ok("ev-1", &"c".repeat(501), None));
    assert!(!ok("ev-1", "", Some("a".repeat(63))));
    assert!(!ok("ev-1", "", Some("g".repeat(64))));
}
