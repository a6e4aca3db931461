//! Deciding a command on a case into events: the rules of reviews, returns, negotiation,
//! arbitration, appeals, refunds and expiries.

use super::*;
use crate::lines::eligibility::Remedy;
use crate::lines::receipt::{split_receipt, Received};
use crate::lines::replacement::{Difference, Shipment, ShipmentStep};
use crate::lines::units::{refundable, Pick, Picked};

/// Starts paying the buyer back: through the gateway online (M5), by the merchant with a
/// voucher on COD (M6). The amount is capped by what the case's units still allow (B3, L2).
pub(super) fn refund_events(order: &Order, case: &Case, amount: Money, ctx: &Ctx) -> Events {
    let cap = order.refundable_for(&case.picks(), case.kind).plus(Money { minor: 0, currency: amount.currency });
    let amount = Money { minor: amount.minor.min(cap.minor), currency: amount.currency };
    match order.payment {
        PaymentMethod::Online => vec![Event::RefundStarted {
            amount,
            settle_at: ctx
                .policy
                .payout
                .scheduled()
                .then(|| ctx.now.add_working_days(ctx.policy.refund_settle_working_days)),
            cancels_order: order.state.is_unshipped() && takes_every_unit(order, case),
        }],
        PaymentMethod::Cod => vec![Event::VoucherAwaited { amount }],
    }
}

/// U1, L2: whether a refund on `case` leaves nothing of the order to ship: every unit of every
/// line is in the case or settled already. A refund before shipment of some lines leaves the
/// order to be shipped with the rest.
fn takes_every_unit(order: &Order, case: &Case) -> bool {
    let order = order.with_lines();
    let picks = case.picks();
    order.lines.iter().zip(&order.line_use).all(|(l, u)| {
        let here = picks.iter().filter(|p| p.line == l.no).map(|p| p.units).sum::<u32>();
        here + u.settled_units >= l.quantity
    })
}

/// K1/K2: the shipment the merchant now owes, with what refunding the units instead would pay.
pub(super) fn replacement_awaited(order: &Order, case: &Case, ctx: &Ctx) -> Event {
    Event::ReplacementAwaited {
        due: ctx.now + ctx.policy.replacement_ship,
        refund_instead: order.refundable_for(&case.picks(), CaseType::RefundOnly),
    }
}

/// M1/K1: the returned goods received: a refund, or for an exchange the replacement owed.
pub(super) fn goods_received(order: &Order, case: &Case, ctx: &Ctx) -> Events {
    let mut ev = vec![Event::ReceiptConfirmed];
    if case.kind == CaseType::Exchange {
        ev.push(replacement_awaited(order, case, ctx));
    } else {
        ev.extend(refund_events(order, case, case.amount, ctx));
    }
    ev
}

/// L5: the return arrived with only `received` of the case's units. The case refunds what they
/// carried and goes on for them alone; the rest of its amount and units go to a case of their
/// own (`split_off`, in the same change), awaiting the shop's word. Received whole, it is an
/// ordinary receipt; with no unit received, it is a rejection (M2), not this.
fn received_part(order: &Order, case: &Case, received: &[Received], ctx: &Ctx) -> Result<Events, Refusal> {
    let o = order.with_lines();
    let picked: Vec<Picked> = case
        .picks()
        .iter()
        .filter_map(|p| {
            let i = o.lines.iter().position(|l| l.no == p.line)?;
            Some(Picked { line: p.line, units: p.units, refundable: refundable(&o.lines[i], &o.line_use[i], p.units) })
        })
        .collect();
    let split = split_receipt(&o.lines, &o.line_use, &picked, case.amount, received)?;
    if received.iter().all(|r| r.units == 0) {
        return Err(Refusal::invalid(
            "received",
            "names no unit that arrived: reject the receipt with evidence instead (M2)",
            "L5",
        ));
    }
    if split.missing_units.is_empty() || split.missing.minor() == 0 {
        return Ok(goods_received(order, case, ctx));
    }
    let pick = |r: &Received| Pick { line: r.line, units: r.units };
    let mut ev = vec![
        Event::ReceivedInPart {
            received: received.iter().filter(|r| r.units > 0).map(pick).collect(),
            amount: split.received,
            missing: split.missing_units.iter().map(pick).collect(),
            missing_amount: split.missing,
        },
        Event::ReceiptConfirmed,
    ];
    ev.extend(refund_events(order, case, split.received, ctx));
    Ok(ev)
}

/// L5: the opening of case `id` for the units a short return lacked, when `events` (a change of
/// `case`, as it was before them) hold the receipt in part; None otherwise. The new case is the
/// same request on the same parcel, for the missing units and the rest of the amount.
pub fn split_off<'a>(case: &Case, events: impl IntoIterator<Item = &'a Event>, id: CaseId) -> Option<Event> {
    let (missing, missing_amount) = events.into_iter().find_map(|e| match e {
        Event::ReceivedInPart { missing, missing_amount, .. } => Some((missing, missing_amount)),
        _ => None,
    })?;
    Some(Event::SplitOff {
        case_id: id,
        from: case.id,
        kind: case.kind,
        reason: case.reason.clone(),
        description: case.description.clone(),
        amount: *missing_amount,
        lines: missing.clone(),
        applied_at: case.applied_at,
        return_address: case.return_address.clone(),
        return_parcel: case.return_parcel.clone(),
        refund_account: case.refund_account.clone(),
        extension_used: case.extension_used,
    })
}

/// The buyer's request carried out: a refund, a return (or an exchange's return) agreed to the
/// default address, the replacement or the missing units owed.
pub(super) fn grant_request(order: &Order, case: &Case, ctx: &Ctx, goods_back: bool) -> Events {
    if case.kind == CaseType::Resend {
        return vec![replacement_awaited(order, case, ctx)];
    }
    if case.kind == CaseType::Exchange && goods_back {
        return goods_received(order, case, ctx);
    }
    if case.kind.takes_goods_back() && !goods_back {
        if let Some(address) = ctx.default_address {
            return vec![Event::ReturnAgreed { address: address.clone(), refuse_freight_collect: false }];
        }
        // R2 needs an address; with none left in the book the buyer is refunded directly.
        let mut ev = vec![Event::TurnedIntoRefundOnly];
        ev.extend(refund_events(order, case, refund_amount(order, case), ctx));
        return ev;
    }
    let mut ev = Vec::new();
    if case.kind == CaseType::ReturnRefund {
        ev.push(Event::ReceiptConfirmed);
    }
    ev.extend(refund_events(order, case, case.amount, ctx));
    ev
}

/// What refunding the case pays: its amount, or for an exchange or a resend refunded instead,
/// what its units can refund (L2).
pub(super) fn refund_amount(order: &Order, case: &Case) -> Money {
    if case.kind.sends_goods() {
        order.refundable_for(&case.picks(), CaseType::RefundOnly)
    } else {
        case.amount
    }
}

/// The amount a request of `kind` on these units may ask: nothing for an exchange or a resend
/// (K1, K2), at most what the units can refund otherwise (B3, L2).
pub(super) fn check_request_amount(
    order: &Order,
    picks: &[Pick],
    kind: CaseType,
    amount: Money,
) -> Result<(), Refusal> {
    if kind.sends_goods() {
        if amount.minor != 0 {
            return Err(Refusal::invalid(
                "amount",
                "is zero: an exchange or a resend moves no money",
                if kind == CaseType::Resend { "K2" } else { "K1" },
            ));
        }
        return Ok(());
    }
    check_amount(amount, order.refundable_for(picks, kind), "B3")
}

pub(super) fn withdraw_open_proposal(case: &Case) -> Events {
    if case.open_proposal().is_some() {
        vec![Event::ProposalWithdrawn]
    } else {
        vec![]
    }
}

/// Decides a command on an existing case.
pub fn decide_case(order: &Order, case: &Case, cmd: &CaseCommand, actor: &Actor, ctx: &Ctx) -> Result<Events, Refusal> {
    let action = cmd.action();
    gate(order, case, action, actor, ctx)?;
    let party = actor.party();
    let rule = state_rule(action);
    let events = match cmd {
        CaseCommand::Withdraw => vec![Event::Withdrawn],
        CaseCommand::Resubmit { kind, reason, amount, description, evidence } => {
            check_kind_for_order(order, *kind)?;
            let (reason, description) = check_request(reason, description, evidence)?;
            check_request_amount(order, &case.picks(), *kind, *amount)?;
            if kind.takes_goods_back() && ctx.default_address.is_none() {
                return Err(Refusal::NoReturnAddress);
            }
            vec![Event::Resubmitted { kind: *kind, reason, amount: *amount, description, evidence: evidence.clone() }]
        }
        CaseCommand::Escalate { reason } => {
            let reason = text("reason", reason, 500, true).map_err(|e| field_err(e, "E1"))?;
            vec![Event::Escalated { by: party, reason }]
        }
        CaseCommand::SubmitReturnLogistics { logistics, refund_account } => {
            let account = match (order.payment, refund_account) {
                (PaymentMethod::Cod, None) if case.refund_account.is_none() => {
                    return Err(Refusal::MissingField { field: "refund_account", rule: "R6" })
                }
                (PaymentMethod::Cod, Some(a)) => {
                    a.validate().map_err(|m| Refusal::invalid("refund_account", m, "R6"))?;
                    Some(a.clone())
                }
                (PaymentMethod::Online, Some(_)) => {
                    return Err(Refusal::invalid("refund_account", "is only taken on cash-on-delivery orders", "R6"))
                }
                (_, None) => None,
            };
            vec![Event::ReturnLogisticsSubmitted { logistics: logistics.clone(), refund_account: account }]
        }
        CaseCommand::AcceptProposal => {
            let Some(p) = case.open_proposal() else { return Err(Refusal::NegotiationUsed) };
            // N5: the case becomes the proposal and is agreed without the merchant.
            let mut accepted = case.clone();
            accepted.kind = p.kind;
            accepted.amount = p.amount;
            let mut ev = vec![Event::ProposalAccepted];
            match p.kind {
                CaseType::ReturnRefund => {
                    let address = p.address.clone().or_else(|| ctx.default_address.cloned());
                    match address {
                        Some(address) => ev.push(Event::ReturnAgreed { address, refuse_freight_collect: false }),
                        None => return Err(Refusal::NoReturnAddress),
                    }
                }
                CaseType::RefundOnly | CaseType::RefundUnshipped => {
                    ev.extend(refund_events(order, &accepted, p.amount, ctx))
                }
                // (Never proposed: N2 proposes refunds and returns only.)
                CaseType::Exchange | CaseType::Resend => {
                    return Err(Refusal::NegotiationNotAvailable {
                        why: "exchanges and resends are agreed or rejected, not negotiated",
                    })
                }
            }
            ev
        }
        CaseCommand::DeclineProposal => vec![Event::ProposalDeclined],
        CaseCommand::AddEvidence { evidence } => {
            if evidence.is_empty() {
                return Err(Refusal::MissingField { field: "evidence", rule: "T1" });
            }
            check_evidence(evidence, "evidence", "T1")?;
            check_evidence_room(case, party, evidence.len())?;
            vec![Event::EvidenceAdded { party, evidence: evidence.clone() }]
        }
        CaseCommand::PostMessage { text: t } => {
            let t = text("text", t, 2000, true).map_err(|e| field_err(e, "T2"))?;
            check_thread_room(case, party)?;
            vec![Event::MessagePosted { party, text: t }]
        }
        CaseCommand::Refund => {
            let mut ev = withdraw_open_proposal(case);
            if case.kind.takes_goods_back() || case.kind.sends_goods() {
                // R3: refund directly — no goods come back (nor go out, K1/K2).
                ev.push(Event::TurnedIntoRefundOnly);
            }
            // (What it may refund is the same for every type after shipment: the goods, L2.)
            ev.extend(refund_events(order, case, refund_amount(order, case), ctx));
            ev
        }
        CaseCommand::RejectByShipping { logistics } => {
            let mut ev = withdraw_open_proposal(case);
            ev.push(Event::RejectedByShipping { logistics: logistics.clone() });
            ev
        }
        CaseCommand::Reject { reason_code, explanation, evidence } => {
            let stage = reject_stage(case);
            let rule = if stage == Stage::Receipt { "M2" } else { "S4" };
            let known = REJECT_REASONS.iter().find(|(r, _)| r.code == reason_code);
            match known {
                None if reason_code.trim().is_empty() => {
                    return Err(Refusal::MissingField { field: "reason_code", rule })
                }
                None => {
                    return Err(Refusal::invalid(
                        "reason_code",
                        "is not on the platform's list of rejection reasons",
                        rule,
                    ))
                }
                Some((_, stages)) if !stages.contains(&stage) => {
                    return Err(Refusal::invalid("reason_code", "does not apply at this stage", rule))
                }
                Some(_) => {}
            }
            if evidence.is_empty() {
                return Err(Refusal::MissingField { field: "evidence", rule });
            }
            check_evidence(evidence, "evidence", rule)?;
            let explanation = text("explanation", explanation, 1000, false).map_err(|e| field_err(e, rule))?;
            let mut ev = withdraw_open_proposal(case);
            ev.push(Event::Rejected {
                stage,
                reason_code: reason_code.clone(),
                explanation,
                evidence: evidence.clone(),
            });
            ev
        }
        CaseCommand::AgreeReturn { address, refuse_freight_collect } => {
            let mut ev = withdraw_open_proposal(case);
            ev.push(Event::ReturnAgreed { address: address.clone(), refuse_freight_collect: *refuse_freight_collect });
            ev
        }
        CaseCommand::ReceivedRefund => goods_received(order, case, ctx),
        CaseCommand::ReceivedPart { received } => received_part(order, case, received, ctx)?,
        CaseCommand::ExtendReceipt => {
            let ext = ctx.policy.receipt_extension.ok_or(Refusal::ExtensionNotInProfile)?;
            let until = case.receipt_due(ctx.policy).unwrap_or(ctx.now) + ext;
            vec![Event::ReceiptExtended { until }]
        }
        CaseCommand::RemindBuyer => {
            if case.buyer_reminders >= 3 {
                return Err(Refusal::invalid("remind_buyer", "was used 3 times on this case already", "M2"));
            }
            vec![Event::BuyerReminded]
        }
        CaseCommand::Propose { kind, amount, address } => {
            // N2: refund only → return and refund (with an address); return → partial refund only.
            match (case.kind, kind) {
                (CaseType::RefundOnly, CaseType::ReturnRefund) => {
                    if address.is_none() {
                        return Err(Refusal::MissingField { field: "address", rule: "N2" });
                    }
                    check_amount(*amount, order.refundable_for(&case.picks(), CaseType::ReturnRefund), "N2")?;
                }
                (CaseType::ReturnRefund, CaseType::RefundOnly) => {
                    check_amount(*amount, order.refundable_for(&case.picks(), CaseType::RefundOnly), "N2")?;
                    if amount.minor >= case.amount.minor {
                        return Err(Refusal::invalid(
                            "amount",
                            "must be below the requested amount for a partial refund",
                            "N2",
                        ));
                    }
                    if address.is_some() {
                        return Err(Refusal::invalid("address", "is not used by a refund-only proposal", "N2"));
                    }
                }
                _ => {
                    return Err(Refusal::invalid(
                        "kind",
                        format!(
                            "a {} case can only be proposed as {}",
                            case.kind.as_str(),
                            match case.kind {
                                CaseType::RefundOnly => "return_refund",
                                _ => "refund_only",
                            }
                        ),
                        "N2",
                    ))
                }
            }
            vec![Event::ProposalMade { kind: *kind, amount: *amount, address: address.clone() }]
        }
        CaseCommand::SubmitEvidence { explanation, evidence } => {
            let explanation = text("explanation", explanation, 2000, true).map_err(|e| field_err(e, "E3"))?;
            check_evidence(evidence, "evidence", "E3")?;
            vec![Event::EvidenceSubmitted { explanation, evidence: evidence.clone() }]
        }
        CaseCommand::UploadVoucher { evidence } => {
            if evidence.is_empty() {
                return Err(Refusal::MissingField { field: "evidence", rule: "M6" });
            }
            check_evidence(evidence, "evidence", "M6")?;
            vec![Event::VoucherUploaded { evidence: evidence.clone() }]
        }
        CaseCommand::Appeal { text: t, evidence } => {
            let t = text("text", t, 2000, true).map_err(|e| field_err(e, "T4"))?;
            check_evidence(evidence, "evidence", "T4")?;
            vec![Event::AppealSubmitted { text: t, evidence: evidence.clone() }]
        }
        CaseCommand::SetRemark { text: t } => {
            let t = text("text", t, 500, false).map_err(|e| field_err(e, "W4"))?;
            vec![Event::CaseRemarkSet { text: t }]
        }
        CaseCommand::RequestEvidence { instructions } => {
            let instructions = text("instructions", instructions, 1000, true).map_err(|e| field_err(e, "E2"))?;
            let Actor::Platform { agent } = actor else {
                return Err(Refusal::NotAllowedFor { party, action: "request evidence", rule });
            };
            vec![Event::EvidenceRequested { instructions, agent: *agent }]
        }
        CaseCommand::Rule { for_party, reason } => {
            let reason = text("reason", reason, 1000, true).map_err(|e| field_err(e, "E6"))?;
            let Actor::Platform { agent } = actor else {
                return Err(Refusal::NotAllowedFor { party, action: "rule", rule });
            };
            if !matches!(for_party, Party::Buyer | Party::Merchant) {
                return Err(Refusal::invalid("for_party", "must be buyer or merchant", "E6"));
            }
            ruling(order, case, *for_party, reason, Some(*agent), ctx)
        }
        CaseCommand::ReviewAppeal => vec![Event::AppealReviewStarted],
        CaseCommand::DecideAppeal { upheld, reason } => {
            let reason = text("reason", reason, 1000, true).map_err(|e| field_err(e, "T4"))?;
            vec![Event::AppealDecided { upheld: *upheld, reason }]
        }
        CaseCommand::Expire { kind } => expire(order, case, *kind, ctx)?,
        CaseCommand::RecordRefundOutcome { ok, detail } => {
            let detail = text("detail", detail, 500, false).map_err(|e| field_err(e, "M5"))?;
            let retry_at = if *ok || !ctx.policy.payout.scheduled() {
                // A payment service's failure is final: its adapter already retried what can
                // be retried (timeouts, 5xx), and the refund waits in the failed queue.
                None
            } else {
                // M5: a failed refund is retried with backoff (1h, 2h, 4h … capped at a day).
                let attempts = case.refund.as_ref().map_or(0, |r| r.attempts);
                let factor = 1i64 << attempts.min(5);
                let wait = crate::time::Dur((ctx.policy.refund_retry.0 * factor).min(crate::time::DAY.0));
                Some(ctx.now + wait)
            };
            vec![Event::RefundSettled { ok: *ok, detail, retry_at }]
        }
        CaseCommand::ReturnParcelSigned => {
            if case.return_parcel.as_ref().is_some_and(|p| p.signed) {
                return Err(Refusal::WrongState {
                    action: "return_parcel_signed",
                    subject: "return parcel",
                    state: "signed".into(),
                    rule: "M3",
                });
            }
            vec![Event::ReturnParcelSigned]
        }
        CaseCommand::ShipReplacement { logistics } => {
            let mut ev = Vec::new();
            let mut shipment = match &case.replacement {
                Some(s) if case.status == Status::AwaitingReplacement => s.clone(),
                _ => {
                    // K2: a resend under review is agreed by shipping it.
                    let refund_instead = order.refundable_for(&case.picks(), CaseType::RefundOnly);
                    ev.push(Event::ReplacementAwaited { due: ctx.now + ctx.policy.replacement_ship, refund_instead });
                    Shipment::start(
                        ctx.policy,
                        Remedy::Resend,
                        case.picks(),
                        Difference::None,
                        refund_instead,
                        ctx.now,
                    )?
                }
            };
            shipment.ship(party, logistics.clone(), ctx.now)?;
            ev.push(Event::ReplacementShipped { logistics: logistics.clone() });
            ev
        }
        CaseCommand::RequestIntercept => vec![Event::InterceptRequested],
        CaseCommand::InterceptResult { stopped, reason, cost } => {
            let reason = text("reason", reason, 500, false).map_err(|e| field_err(e, "I1"))?;
            if let Some(c) = cost {
                if c.currency != order.total.currency {
                    return Err(Refusal::invalid("cost", format!("is an amount in {}", order.total.currency), "I1"));
                }
            }
            let mut intercept = case.intercept.clone().ok_or(Refusal::NotDue { kind: DeadlineKind::Review })?;
            intercept.answered(party, *stopped, &reason, *cost, ctx.now)?;
            vec![Event::InterceptAnswered { stopped: *stopped, reason, cost: *cost }]
        }
        CaseCommand::InterceptReturned => {
            let mut intercept = case.intercept.clone().ok_or(Refusal::NotDue { kind: DeadlineKind::Review })?;
            intercept.back(party, ctx.now)?;
            // I1: the parcel is back: the refund the buyer asked for proceeds.
            let mut ev = vec![Event::InterceptReturned];
            ev.extend(refund_events(order, case, case.amount, ctx));
            ev
        }
        CaseCommand::ConfirmReplacement => {
            let mut shipment =
                case.replacement.clone().ok_or(Refusal::NotDue { kind: DeadlineKind::ReplacementConfirm })?;
            shipment.confirm(party, ctx.now)?;
            vec![Event::ReplacementConfirmed { by: Party::Buyer }]
        }
        CaseCommand::ReplacementDelivered => {
            let mut shipment =
                case.replacement.clone().ok_or(Refusal::NotDue { kind: DeadlineKind::ReplacementConfirm })?;
            match shipment.delivered(ctx.policy, ctx.now)? {
                ShipmentStep::Completed { by } => vec![Event::ReplacementConfirmed { by }],
                _ => vec![Event::ReplacementDelivered { confirm_due: ctx.now + ctx.policy.replacement_confirm }],
            }
        }
    };
    let _ = rule;
    Ok(events)
}

/// E6: the ruling and what follows it.
pub(super) fn ruling(
    order: &Order,
    case: &Case,
    for_party: Party,
    reason: String,
    agent: Option<AgentId>,
    ctx: &Ctx,
) -> Events {
    let mut ev = vec![Event::Ruled { for_party, reason, agent }];
    if for_party == Party::Merchant {
        ev.push(Event::Closed { reason: CloseReason::RuledForMerchant });
        return ev;
    }
    let from = case.arbitration.as_ref().map(|a| a.from);
    let goods_back = matches!(from, Some(Status::Rejected { stage: Stage::Receipt }) | Some(Status::AwaitingReceipt));
    ev.extend(grant_request(order, case, ctx, goods_back));
    ev
}

/// The system's answer to a deadline that passed.
pub(super) fn expire(order: &Order, case: &Case, kind: DeadlineKind, ctx: &Ctx) -> Result<Events, Refusal> {
    let Some(d) = live(case, ctx.policy, kind) else { return Err(Refusal::NotDue { kind }) };
    if d.due > ctx.now || kind == DeadlineKind::RefundSettle {
        return Err(Refusal::NotDue { kind });
    }
    let mut ev = vec![Event::DeadlineFired { kind, due: d.due }];
    match kind {
        DeadlineKind::Review => {
            // N8: an unanswered proposal lapses and the buyer's original request is agreed.
            if case.open_proposal().is_some() {
                ev.push(Event::ProposalLapsed);
            }
            ev.extend(grant_request(order, case, ctx, false));
        }
        DeadlineKind::ReviewReminder | DeadlineKind::EvidenceReminder => {
            let main = if kind == DeadlineKind::ReviewReminder { DeadlineKind::Review } else { DeadlineKind::Evidence };
            let for_due = live(case, ctx.policy, main).map_or(d.due, |m| m.due);
            // A reminder only sends a message: it is logged, but names no automatic action. One
            // whose deadline has passed already (the runner catching up) would arrive too late to
            // help: it is dropped, and the deadline itself fires next.
            ev = if for_due <= ctx.now {
                vec![Event::ReminderDropped { kind, for_due }]
            } else {
                vec![Event::ReminderSent { kind, for_due }]
            };
        }
        DeadlineKind::BuyerShip => ev.push(Event::Closed { reason: CloseReason::ReturnNotShipped }),
        DeadlineKind::Receipt => ev.extend(goods_received(order, case, ctx)),
        DeadlineKind::Voucher => {
            let amount = case.refund.as_ref().map_or(case.amount, |r| r.amount);
            ev.push(Event::AdvanceCompensated { amount });
        }
        DeadlineKind::Evidence => {
            ev.extend(ruling(
                order,
                case,
                Party::Buyer,
                "the merchant did not submit evidence in time (E2)".into(),
                None,
                ctx,
            ));
        }
        DeadlineKind::BuyerAfterRejection => ev.push(Event::Closed { reason: CloseReason::RejectionNotContested }),
        DeadlineKind::AppealWindow => ev.push(Event::AppealWindowClosed),
        DeadlineKind::ReplacementShip | DeadlineKind::ReplacementConfirm => {
            let mut shipment = case.replacement.clone().ok_or(Refusal::NotDue { kind })?;
            match shipment.fire(ctx.now)? {
                // K1/K2: not shipped in time: the units are refunded instead, and the buyer told.
                ShipmentStep::TurnedToRefund { amount } => {
                    ev.push(Event::ReplacementTurnedToRefund { amount });
                    ev.extend(refund_events(order, case, amount, ctx));
                }
                _ => ev.push(Event::ReplacementConfirmed { by: Party::System }),
            }
        }
        DeadlineKind::RefundSettle | DeadlineKind::OrderUnpaid => return Err(Refusal::NotDue { kind }),
    }
    Ok(ev)
}

/// Where a rejection of the case now would happen (S4, M2): after the goods came back when the
/// shop is confirming receipt, at review otherwise. The reasons a rejection may give depend on
/// it (`REJECT_REASONS`).
pub fn reject_stage(case: &Case) -> Stage {
    if case.status == Status::AwaitingReceipt {
        Stage::Receipt
    } else {
        Stage::Review
    }
}
