//! The preconditions of every case action that do not depend on its inputs — who, in which
//! state, before which deadline — and what happens when a deadline passes.

use super::*;
use crate::lines::intercept::InterceptState;
use crate::lines::replacement::ShipmentState;

// ---------------------------------------------------------------------------------------------
// Cases

pub(super) fn live(case: &Case, policy: &Policy, kind: DeadlineKind) -> Option<Deadline> {
    case.deadlines(policy).into_iter().find(|d| d.kind == kind)
}

pub(super) fn state_rule(action: Action) -> &'static str {
    match action {
        Action::Withdraw => "B1",
        Action::Resubmit => "B2",
        Action::Escalate => "E1",
        Action::SubmitReturnLogistics => "R5",
        Action::AcceptProposal | Action::DeclineProposal => "N4",
        Action::AddEvidence => "T1",
        Action::PostMessage => "T2",
        Action::Refund => "U3",
        Action::RejectByShipping => "U3",
        Action::Reject => "S4",
        Action::AgreeReturn => "R4",
        Action::ReceivedRefund => "M2",
        Action::ReceivedPart => "L5",
        Action::ExtendReceipt => "M3",
        Action::RemindBuyer => "M2",
        Action::Propose => "N1",
        Action::SubmitEvidence => "E3",
        Action::UploadVoucher => "M6",
        Action::Appeal | Action::ReviewAppeal | Action::DecideAppeal => "T4",
        Action::SetRemark | Action::SetOrderRemark => "W4",
        Action::SetFlag => "W3",
        Action::RequestEvidence => "E2",
        Action::Rule => "E6",
        Action::Expire => "",
        Action::RecordRefundOutcome => "M5",
        Action::ReturnParcelSigned => "M3",
        Action::ShipReplacement | Action::ConfirmReplacement | Action::ReplacementDelivered => "K1",
        Action::RequestIntercept | Action::InterceptResult | Action::InterceptReturned => "I1",
    }
}

/// The preconditions of an action that do not depend on its inputs: who, in which state, and
/// before which deadline.
pub fn gate(order: &Order, case: &Case, action: Action, actor: &Actor, ctx: &Ctx) -> Result<(), Refusal> {
    let party = actor.party();
    let rule = state_rule(action);
    if !action.parties().contains(&party) {
        return Err(Refusal::NotAllowedFor { party, action: action.as_str(), rule });
    }
    let own = match actor {
        Actor::Buyer { buyer } => *buyer == case.buyer_id,
        Actor::Merchant { shop, .. } => *shop == case.shop_id,
        Actor::Platform { .. } | Actor::System => true,
    };
    if !own {
        return Err(Refusal::NotAllowedFor { party, action: "act on another party's case", rule });
    }
    let wrong = || {
        // An action whose deadline fired when the case last moved gets the clearer answer.
        if action == Action::Appeal && case.appeal_window_closed && case.appeal.is_none() {
            if let Some(r) = case.arbitration.as_ref().and_then(|a| a.ruling.as_ref()) {
                return Refusal::DeadlinePassed {
                    kind: DeadlineKind::AppealWindow,
                    at: r.at + ctx.policy.appeal_window,
                    action: "appeal",
                };
            }
        }
        if let Some((kind, at)) = case.last_expiry {
            if at == case.status_since && action.governed_by().contains(&kind) {
                return Refusal::DeadlinePassed { kind, at, action: action.as_str() };
            }
        }
        Refusal::WrongState { action: action.as_str(), subject: "case", state: case.status.as_str().into(), rule }
    };
    let appeal_actions =
        matches!(action, Action::Appeal | Action::ReviewAppeal | Action::DecideAppeal | Action::Expire);
    if case.is_finished() || (case.status.is_terminal() && !appeal_actions) {
        return Err(wrong());
    }
    let s = case.status;
    let ok = match action {
        Action::Withdraw => matches!(
            s,
            Status::AwaitingReview
                | Status::Rejected { .. }
                | Status::AwaitingBuyerReturn
                | Status::AwaitingReceipt
                | Status::InArbitration
        ),
        Action::Resubmit => {
            if matches!(s, Status::Rejected { .. }) && case.resubmissions >= ctx.policy.resubmissions {
                return Err(Refusal::ResubmissionUsed { allowed: ctx.policy.resubmissions });
            }
            matches!(s, Status::Rejected { .. })
        }
        Action::Escalate => match party {
            Party::Buyer => matches!(s, Status::Rejected { .. }),
            _ => matches!(s, Status::Rejected { .. } | Status::AwaitingReceipt),
        },
        Action::SubmitReturnLogistics => s == Status::AwaitingBuyerReturn,
        Action::AcceptProposal | Action::DeclineProposal => {
            if s == Status::AwaitingReview && case.open_proposal().is_none() {
                return Err(Refusal::WrongState {
                    action: action.as_str(),
                    subject: "proposal",
                    state: "not open".into(),
                    rule: "N4",
                });
            }
            s == Status::AwaitingReview
        }
        Action::AddEvidence | Action::PostMessage => true,
        Action::Refund | Action::AgreeReturn | Action::Propose | Action::RejectByShipping => {
            let kind_ok = match action {
                Action::AgreeReturn => case.kind.takes_goods_back(),
                Action::RejectByShipping => case.kind == CaseType::RefundUnshipped,
                _ => true,
            };
            if s == Status::AwaitingReview && !kind_ok {
                return Err(Refusal::WrongState {
                    action: action.as_str(),
                    subject: "case type",
                    state: case.kind.as_str().into(),
                    rule: if action == Action::AgreeReturn { "R3" } else { "U3" },
                });
            }
            if action == Action::Propose && s == Status::AwaitingReview {
                if order.fresh {
                    return Err(Refusal::NegotiationNotAvailable { why: "fresh goods cannot be negotiated" });
                }
                if case.kind == CaseType::RefundUnshipped {
                    return Err(Refusal::NegotiationNotAvailable {
                        why: "refunds before shipment cannot be negotiated",
                    });
                }
                if case.kind.sends_goods() {
                    return Err(Refusal::NegotiationNotAvailable {
                        why: "exchanges and resends are agreed or rejected, not negotiated",
                    });
                }
                if case.proposal.is_some() {
                    return Err(Refusal::NegotiationUsed);
                }
            }
            s == Status::AwaitingReview
        }
        Action::Reject => {
            // U3: a refund before shipment is rejected only by shipping the goods.
            if s == Status::AwaitingReview && case.kind == CaseType::RefundUnshipped {
                return Err(Refusal::WrongState {
                    action: "reject",
                    subject: "case type",
                    state: "refund_unshipped (reject by shipping the goods with carrier and tracking number)".into(),
                    rule: "U3",
                });
            }
            matches!(s, Status::AwaitingReview | Status::AwaitingReceipt)
        }
        Action::ReceivedRefund => matches!(s, Status::AwaitingBuyerReturn | Status::AwaitingReceipt),
        // L5: a return of more than one unit, its parcel on record.
        Action::ReceivedPart => {
            if s == Status::AwaitingReceipt && case.kind != CaseType::ReturnRefund {
                return Err(Refusal::WrongState {
                    action: "received_part",
                    subject: "case type",
                    state: format!("{} (its return is received whole or rejected)", case.kind.as_str()),
                    rule: "L5",
                });
            }
            if s == Status::AwaitingReceipt && case.picks().iter().map(|p| p.units).sum::<u32>() < 2 {
                return Err(Refusal::WrongState {
                    action: "received_part",
                    subject: "case",
                    state: "for one unit (received whole or rejected)".into(),
                    rule: "L5",
                });
            }
            s == Status::AwaitingReceipt && case.return_parcel.is_some()
        }
        Action::ExtendReceipt => {
            if s == Status::AwaitingReceipt {
                let Some(_) = ctx.policy.receipt_extension else { return Err(Refusal::ExtensionNotInProfile) };
                if case.extension_used {
                    return Err(Refusal::ExtensionUsed);
                }
                if let Some(p) = &case.return_parcel {
                    if p.signed {
                        return Err(Refusal::ParcelSigned);
                    }
                    let from = p.submitted_at + ctx.policy.extension_min_tracking_age;
                    if ctx.now < from {
                        return Err(Refusal::ExtendReceiptNotYetAllowed {
                            from,
                            min_age: ctx.policy.extension_min_tracking_age.to_string(),
                        });
                    }
                }
            }
            s == Status::AwaitingReceipt
        }
        Action::RemindBuyer => s == Status::AwaitingBuyerReturn,
        Action::SubmitEvidence | Action::RequestEvidence => {
            let pending = case.arbitration.as_ref().and_then(|a| a.open_request()).is_some();
            s == Status::InArbitration && if action == Action::SubmitEvidence { pending } else { !pending }
        }
        Action::UploadVoucher => s == Status::AwaitingVoucher,
        Action::Appeal => case.appeal_window_open(),
        Action::ReviewAppeal => case.appeal.as_ref().is_some_and(|a| a.state == AppealState::Submitted),
        Action::DecideAppeal => case.appeal_pending(),
        // The shop's own notes: at any time, on any case of its own.
        Action::SetRemark | Action::SetFlag | Action::SetOrderRemark => true,
        Action::Rule => s == Status::InArbitration,
        Action::Expire => true,
        Action::RecordRefundOutcome => s == Status::Refunding,
        Action::ReturnParcelSigned => s == Status::AwaitingReceipt,
        // K2: a resend under review is agreed by shipping it.
        Action::ShipReplacement => {
            s == Status::AwaitingReplacement || (s == Status::AwaitingReview && case.kind == CaseType::Resend)
        }
        Action::ConfirmReplacement => {
            s == Status::ReplacementSent
                && matches!(case.replacement.as_ref().map(|r| &r.state), Some(ShipmentState::Delivered { .. }))
        }
        Action::ReplacementDelivered => {
            s == Status::ReplacementSent
                && matches!(case.replacement.as_ref().map(|r| &r.state), Some(ShipmentState::Shipped { .. }))
        }
        // I1: a refund only asked after shipment and before delivery, once per case.
        Action::RequestIntercept => {
            if s == Status::AwaitingReview {
                use crate::lines::eligibility::Remedy;
                let remedy = if case.kind == CaseType::RefundOnly { Remedy::RefundOnly } else { Remedy::ReturnRefund };
                crate::lines::intercept::Intercept::request(party, remedy, order.state, ctx.now)?;
                if case.intercept.is_some() {
                    return Err(Refusal::WrongState {
                        action: "request_intercept",
                        subject: "intercept",
                        state: "already asked for".into(),
                        rule: "I1",
                    });
                }
            }
            s == Status::AwaitingReview
        }
        Action::InterceptResult => {
            s == Status::Intercepting
                && matches!(case.intercept.as_ref().map(|i| &i.state), Some(InterceptState::Requested { .. }))
        }
        Action::InterceptReturned => {
            s == Status::Intercepting
                && matches!(case.intercept.as_ref().map(|i| &i.state), Some(InterceptState::Intercepted { .. }))
        }
    };
    if !ok {
        return Err(wrong());
    }
    // The deadline governing this action must not have passed, even if it has not fired yet.
    for kind in action.governed_by() {
        if *kind == DeadlineKind::BuyerAfterRejection && party != Party::Buyer {
            continue;
        }
        if let Some(d) = live(case, ctx.policy, *kind) {
            if d.due <= ctx.now {
                return Err(Refusal::DeadlinePassed { kind: *kind, at: d.due, action: action.as_str() });
            }
        }
    }
    Ok(())
}

/// Every action the actor may take on the case now (inputs aside).
pub fn available_actions(order: &Order, case: &Case, actor: &Actor, ctx: &Ctx) -> Vec<Action> {
    Action::ALL.into_iter().filter(|a| *a != Action::Expire && gate(order, case, *a, actor, ctx).is_ok()).collect()
}

/// What happens when a deadline passes, in words for the case page.
pub fn expiry_outcome(case: &Case, kind: DeadlineKind) -> &'static str {
    match kind {
        DeadlineKind::Review => match case.kind {
            CaseType::ReturnRefund if case.open_proposal().is_some() => "the proposal lapses and the return is agreed",
            CaseType::ReturnRefund => "the return is agreed to the default address",
            CaseType::Exchange => "the exchange is agreed: the buyer ships the goods back to the default address",
            CaseType::Resend => "the resend is agreed: the shop must ship the missing units",
            _ if case.open_proposal().is_some() => "the proposal lapses and the buyer is refunded",
            _ => "the buyer is refunded",
        },
        DeadlineKind::ReviewReminder => "the shop is reminded",
        DeadlineKind::BuyerShip => "the return closes",
        DeadlineKind::Receipt if case.kind == CaseType::Exchange => "receipt is confirmed and the replacement is due",
        DeadlineKind::Receipt => "receipt is confirmed and the buyer refunded",
        DeadlineKind::Voucher => "the platform compensates the buyer and penalises the shop",
        DeadlineKind::Evidence => "the platform rules for the buyer",
        DeadlineKind::EvidenceReminder => "the shop is reminded to submit evidence",
        DeadlineKind::BuyerAfterRejection => "the case closes as rejected",
        DeadlineKind::AppealWindow => "the ruling can no longer be appealed",
        DeadlineKind::RefundSettle => "the payment gateway settles the refund",
        DeadlineKind::OrderUnpaid => "the order is cancelled",
        DeadlineKind::ReplacementShip => "the units are refunded instead",
        DeadlineKind::ReplacementConfirm => "the replacement is confirmed",
    }
}
