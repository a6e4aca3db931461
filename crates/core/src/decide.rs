//! Deciding: a command, its actor and the time go in; events or a typed refusal come out.
//! `gate` holds the preconditions that do not depend on a command's inputs, so the same code
//! answers "may I?" (`available_actions`) and "do it" (`decide_case`).

use crate::actor::{Actor, Party};
use crate::command::*;
use crate::deadline::{Deadline, DeadlineKind};
use crate::model::*;
use crate::money::Money;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::time::Timestamp;
use crate::values::*;

/// What a decision needs besides the state: the shop's policy, the time, and the shop's default
/// return address (R2).
#[derive(Clone, Debug)]
pub struct Ctx<'a> {
    pub policy: &'a Policy,
    pub now: Timestamp,
    pub default_address: Option<&'a Address>,
}

type Events = Vec<Event>;

fn field_err((field, reason): (String, String), rule: &'static str) -> Refusal {
    Refusal::invalid(field, reason, rule)
}

/// T2: the most messages one party may post in a case's thread. The thread is part of the case,
/// which every command on the case reads and writes whole: without a bound, one party could
/// make every later command on the case slower, message by message.
pub const MAX_MESSAGES_PER_PARTY: usize = 100;

/// T1: the most evidence files a case keeps from one party (its application's or rejection's
/// and those it added), for the same reason.
pub const MAX_EVIDENCE_PER_PARTY: usize = 60;

/// T2: room in the thread for one more message from `party`.
fn check_thread_room(case: &Case, party: Party) -> Result<(), Refusal> {
    let posted = case.thread.iter().filter(|m| m.from == party).count();
    if posted >= MAX_MESSAGES_PER_PARTY {
        return Err(Refusal::invalid(
            "text",
            format!("the thread already holds {posted} messages from this side, the most a case keeps ({MAX_MESSAGES_PER_PARTY})"),
            "T2",
        ));
    }
    Ok(())
}

/// T1: room in the case for `adding` more evidence files from `party`.
fn check_evidence_room(case: &Case, party: Party, adding: usize) -> Result<(), Refusal> {
    let kept = case.evidence.iter().filter(|(p, _)| *p == party).count();
    if kept + adding > MAX_EVIDENCE_PER_PARTY {
        return Err(Refusal::invalid(
            "evidence",
            format!(
                "the case already keeps {kept} files from this side; {adding} more would pass the most it keeps ({MAX_EVIDENCE_PER_PARTY})"
            ),
            "T1",
        ));
    }
    Ok(())
}

/// The most evidence files one command carries.
pub const MAX_EVIDENCE_PER_COMMAND: usize = 20;

fn check_evidence(evidence: &[Evidence], field: &'static str, rule: &'static str) -> Result<(), Refusal> {
    if evidence.len() > MAX_EVIDENCE_PER_COMMAND {
        return Err(Refusal::invalid(field, format!("has more than {MAX_EVIDENCE_PER_COMMAND} files"), rule));
    }
    for (i, e) in evidence.iter().enumerate() {
        e.validate().map_err(|m| Refusal::invalid(format!("{field}[{i}]"), m, rule))?;
    }
    Ok(())
}

fn check_amount(amount: Money, max: Money, rule: &'static str) -> Result<(), Refusal> {
    if amount.currency != max.currency {
        return Err(Refusal::invalid("amount", format!("must be in {}", max.currency), rule));
    }
    if amount.minor <= 0 {
        return Err(Refusal::invalid("amount", "must be above zero", rule));
    }
    if amount.minor > max.minor {
        return Err(Refusal::AmountAboveRefundable { requested: amount, max });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Orders

/// O1: a new order from an integration.
/// O1: the order number as stored (trimmed), or why it cannot be one. A caller that looks the
/// number up before creating the order asks this first, so that no database sees text the
/// rules refuse (PostgreSQL cannot even compare a NUL).
pub fn order_no(new: &NewOrder) -> Result<String, Refusal> {
    text("order_no", &new.order_no, 64, true).map_err(|e| field_err(e, "O1"))
}

pub fn create_order(id: OrderId, shop: ShopId, new: &NewOrder, ctx: &Ctx) -> Result<Events, Refusal> {
    let order_no = order_no(new)?;
    let customer_name = text("customer_name", &new.customer_name, 64, true).map_err(|e| field_err(e, "O1"))?;
    if new.total.minor <= 0 {
        return Err(Refusal::invalid("total", "must be above zero", "O1"));
    }
    if new.shipping_fee.currency != new.total.currency || new.shipping_fee.minor > new.total.minor {
        return Err(Refusal::invalid("shipping_fee", "must be in the order's currency and not above the total", "O1"));
    }
    if new.payment == PaymentMethod::Cod && !ctx.policy.takes_cod() {
        return Err(Refusal::CodNotSupported);
    }
    let order = Order {
        id,
        shop_id: shop,
        buyer_id: new.buyer_id,
        order_no,
        payment: new.payment,
        state: match new.payment {
            PaymentMethod::Online => OrderState::AwaitingPayment,
            PaymentMethod::Cod => OrderState::AwaitingConfirmation,
        },
        total: new.total,
        shipping_fee: new.shipping_fee,
        refunded: Money::zero(new.total.currency),
        fresh: new.fresh,
        customer: Customer { name: customer_name, phone: new.customer_phone.clone() },
        created_at: ctx.now,
        paid_at: None,
        shipment: None,
        delivered_at: None,
        remark: String::new(),
        flag: None,
        cancellation: None,
        open_case: None,
        version: 0,
    };
    Ok(vec![Event::OrderCreated { order: Box::new(order) }])
}

pub fn decide_order(order: &Order, cmd: &OrderCommand, actor: &Actor, ctx: &Ctx) -> Result<Events, Refusal> {
    let party = actor.party();
    let owns = match actor {
        Actor::Merchant { shop, .. } => *shop == order.shop_id,
        Actor::Buyer { buyer } => *buyer == order.buyer_id,
        Actor::Platform { .. } | Actor::System => true,
    };
    let not_allowed = |action: &'static str, rule: &'static str| Refusal::NotAllowedFor { party, action, rule };
    let wrong = |action: &'static str, rule: &'static str| Refusal::WrongState {
        action,
        subject: "order",
        state: order.state.as_str().into(),
        rule,
    };
    if !owns {
        return Err(not_allowed("act on this order", "O1"));
    }
    let integration = matches!(party, Party::Merchant | Party::System);
    use OrderState::*;
    match cmd {
        OrderCommand::Pay => {
            if party != Party::System {
                return Err(not_allowed("record a payment", "O1"));
            }
            if order.payment != PaymentMethod::Online || order.state != AwaitingPayment {
                return Err(wrong("pay", "O1"));
            }
            Ok(vec![Event::OrderPaid])
        }
        OrderCommand::Confirm => {
            if !integration {
                return Err(not_allowed("confirm the order", "O1"));
            }
            if order.state != AwaitingConfirmation {
                return Err(wrong("confirm", "O1"));
            }
            Ok(vec![Event::OrderConfirmed])
        }
        OrderCommand::Ship { logistics } => {
            if !integration {
                return Err(not_allowed("ship the order", "O1"));
            }
            if !order.state.is_unshipped() {
                return Err(wrong("ship", "O1"));
            }
            if order.open_case.is_some() {
                // U3: an open refund-before-shipment case is answered by rejecting with logistics.
                return Err(Refusal::WrongState {
                    action: "ship",
                    subject: "order",
                    state: "under an open refund request; reject the case with the logistics instead".into(),
                    rule: "U3",
                });
            }
            Ok(vec![Event::OrderShipped { logistics: logistics.clone() }])
        }
        OrderCommand::Deliver => {
            if party != Party::System {
                return Err(not_allowed("record delivery", "O1"));
            }
            if order.state != Shipped {
                return Err(wrong("deliver", "O1"));
            }
            Ok(vec![Event::OrderDelivered])
        }
        OrderCommand::Complete => {
            if party != Party::System {
                return Err(not_allowed("complete the order", "O1"));
            }
            if order.state != Delivered {
                return Err(wrong("complete", "O1"));
            }
            Ok(vec![Event::OrderCompleted])
        }
        OrderCommand::Cancel { reason, buyer_contacted } => {
            let reason = text("reason", reason, 200, true).map_err(|e| field_err(e, "O2"))?;
            let allowed = match (order.payment, party) {
                // O2: the COD buyer cannot cancel; O3: the online buyer only while unpaid.
                (PaymentMethod::Cod, Party::Buyer) => return Err(not_allowed("cancel a cash-on-delivery order", "O2")),
                (PaymentMethod::Online, Party::Buyer) => {
                    if order.state != AwaitingPayment {
                        return Err(Refusal::WrongState {
                            action: "cancel",
                            subject: "order",
                            state: format!("{} (apply for a refund before shipment instead)", order.state.as_str()),
                            rule: "O3",
                        });
                    }
                    true
                }
                (PaymentMethod::Online, Party::Merchant) => {
                    return Err(not_allowed("cancel an online-payment order", "O3"))
                }
                (PaymentMethod::Cod, Party::Merchant) => {
                    if !order.state.is_unshipped() {
                        return Err(wrong("cancel", "O2"));
                    }
                    if !buyer_contacted {
                        return Err(Refusal::MissingField { field: "buyer_contacted", rule: "O2" });
                    }
                    true
                }
                (PaymentMethod::Cod, Party::Platform) => {
                    // O2: a shipped COD order is cancelled only by the platform, at the buyer's request.
                    if order.state != Shipped {
                        return Err(wrong("cancel", "O2"));
                    }
                    true
                }
                (PaymentMethod::Online, Party::Platform) | (_, Party::System) => {
                    return Err(not_allowed("cancel this order", "O3"))
                }
            };
            debug_assert!(allowed);
            Ok(vec![Event::OrderCancelled { by: party, reason, buyer_contacted: *buyer_contacted }])
        }
        OrderCommand::SetFlag { flag } => {
            if party != Party::Merchant {
                return Err(not_allowed("flag the order", "W3"));
            }
            Ok(vec![Event::FlagSet { flag: *flag }])
        }
        OrderCommand::SetRemark { text: t } => {
            if party != Party::Merchant {
                return Err(not_allowed("set the order remark", "W4"));
            }
            let t = text("text", t, 500, false).map_err(|e| field_err(e, "W4"))?;
            Ok(vec![Event::OrderRemarkSet { text: t }])
        }
        OrderCommand::Expire { kind } => {
            if party != Party::System {
                return Err(not_allowed("expire a deadline", "O4"));
            }
            let due = order.deadlines(ctx.policy).into_iter().find(|d| d.kind == *kind);
            match due {
                Some(d) if d.due <= ctx.now => Ok(vec![Event::OrderCancelled {
                    by: Party::System,
                    reason: "unpaid for the payment window (O4)".into(),
                    buyer_contacted: false,
                }]),
                _ => Err(Refusal::NotDue { kind: *kind }),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Applications

/// U1/S1/R1/T1: a buyer applies. `case_id` is the id the store reserved for the new case.
pub fn apply(order: &Order, case_id: CaseId, cmd: &Apply, actor: &Actor, ctx: &Ctx) -> Result<Events, Refusal> {
    match actor {
        Actor::Buyer { buyer } if *buyer == order.buyer_id => {}
        Actor::Buyer { .. } => {
            return Err(Refusal::NotAllowedFor {
                party: Party::Buyer,
                action: "apply on another buyer's order",
                rule: "T1",
            })
        }
        other => {
            return Err(Refusal::NotAllowedFor { party: other.party(), action: "apply for after-sales", rule: "T1" })
        }
    }
    if let Some(open) = order.open_case {
        return Err(Refusal::CaseAlreadyOpen { case: open.0 });
    }
    check_kind_for_order(order, cmd.kind)?;
    let (reason, description) = check_request(&cmd.reason, &cmd.description, &cmd.evidence)?;
    check_amount(cmd.amount, order.refundable(cmd.kind), "B3")?;
    if cmd.kind == CaseType::ReturnRefund && ctx.default_address.is_none() {
        return Err(Refusal::NoReturnAddress);
    }
    let refund_account = match (&cmd.refund_account, order.payment, cmd.kind) {
        (Some(a), PaymentMethod::Cod, _) => {
            a.validate().map_err(|m| Refusal::invalid("refund_account", m, "R6"))?;
            Some(a.clone())
        }
        // The platform's advance compensation (M6) needs somewhere to pay a COD refund-only buyer.
        (None, PaymentMethod::Cod, CaseType::RefundOnly) => {
            return Err(Refusal::MissingField { field: "refund_account", rule: "R6" })
        }
        (Some(_), PaymentMethod::Online, _) => {
            return Err(Refusal::invalid("refund_account", "is only taken on cash-on-delivery orders", "R6"))
        }
        (None, _, _) => None,
    };
    Ok(vec![Event::Applied {
        case_id,
        kind: cmd.kind,
        reason,
        amount: cmd.amount,
        description,
        evidence: cmd.evidence.clone(),
        refund_account,
    }])
}

fn check_request(reason: &str, description: &str, evidence: &[Evidence]) -> Result<(String, String), Refusal> {
    let reason = text("reason", reason, 64, true).map_err(|e| field_err(e, "T1"))?;
    if !APPLY_REASONS.iter().any(|r| r.code == reason.as_str()) {
        let codes: Vec<&str> = APPLY_REASONS.iter().map(|r| r.code).collect();
        return Err(Refusal::invalid("reason", format!("must be one of {}", codes.join(", ")), "T1"));
    }
    let description = text("description", description, 1000, false).map_err(|e| field_err(e, "T1"))?;
    check_evidence(evidence, "evidence", "T1")?;
    Ok((reason, description))
}

/// Which case types an order in its state can take.
/// What a buyer may apply for on the order now (U1, S1, R1, B3, T1): each case type its state
/// takes, with the most that type may ask for; nothing while a case is open or when nothing is
/// left to refund. The first is the type an application starts with.
pub fn application_options(order: &Order) -> Vec<(CaseType, Money)> {
    if order.open_case.is_some() {
        return Vec::new();
    }
    [CaseType::RefundUnshipped, CaseType::RefundOnly, CaseType::ReturnRefund]
        .into_iter()
        .filter(|kind| check_kind_for_order(order, *kind).is_ok())
        .map(|kind| (kind, order.refundable(kind)))
        .filter(|(_, cap)| cap.minor() > 0)
        .collect()
}

fn check_kind_for_order(order: &Order, kind: CaseType) -> Result<(), Refusal> {
    use OrderState::*;
    let ok = match kind {
        // U1: paid and not shipped; COD orders are not paid before delivery (O2).
        CaseType::RefundUnshipped => order.payment == PaymentMethod::Online && order.state.is_unshipped(),
        CaseType::RefundOnly => match order.payment {
            PaymentMethod::Online => matches!(order.state, Shipped | Delivered | Completed),
            PaymentMethod::Cod => matches!(order.state, Delivered | Completed),
        },
        CaseType::ReturnRefund => matches!(order.state, Delivered | Completed),
    };
    if ok {
        Ok(())
    } else {
        let rule = match kind {
            CaseType::RefundUnshipped => "U1",
            CaseType::RefundOnly => "S1",
            CaseType::ReturnRefund => "R1",
        };
        Err(Refusal::WrongState {
            action: kind.as_str(),
            subject: "order",
            state: format!(
                "{} ({})",
                order.state.as_str(),
                match order.payment {
                    PaymentMethod::Online => "online payment",
                    PaymentMethod::Cod => "cash on delivery",
                }
            ),
            rule,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Cases

fn live(case: &Case, policy: &Policy, kind: DeadlineKind) -> Option<Deadline> {
    case.deadlines(policy).into_iter().find(|d| d.kind == kind)
}

fn state_rule(action: Action) -> &'static str {
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
                Action::AgreeReturn => case.kind == CaseType::ReturnRefund,
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
            _ if case.open_proposal().is_some() => "the proposal lapses and the buyer is refunded",
            _ => "the buyer is refunded",
        },
        DeadlineKind::ReviewReminder => "the shop is reminded",
        DeadlineKind::BuyerShip => "the return closes",
        DeadlineKind::Receipt => "receipt is confirmed and the buyer refunded",
        DeadlineKind::Voucher => "the platform compensates the buyer and penalises the shop",
        DeadlineKind::Evidence => "the platform rules for the buyer",
        DeadlineKind::EvidenceReminder => "the shop is reminded to submit evidence",
        DeadlineKind::BuyerAfterRejection => "the case closes as rejected",
        DeadlineKind::AppealWindow => "the ruling can no longer be appealed",
        DeadlineKind::RefundSettle => "the payment gateway settles the refund",
        DeadlineKind::OrderUnpaid => "the order is cancelled",
    }
}

/// Starts paying the buyer back: through the gateway online (M5), by the merchant with a
/// voucher on COD (M6). The amount is capped by what the order still allows (B3).
fn refund_events(order: &Order, case: &Case, amount: Money, ctx: &Ctx) -> Events {
    let cap = order.refundable(case.kind).plus(Money { minor: 0, currency: amount.currency });
    let amount = Money { minor: amount.minor.min(cap.minor), currency: amount.currency };
    match order.payment {
        PaymentMethod::Online => vec![Event::RefundStarted {
            amount,
            settle_at: ctx.now.add_working_days(ctx.policy.refund_settle_working_days),
            cancels_order: order.state.is_unshipped(),
        }],
        PaymentMethod::Cod => vec![Event::VoucherAwaited { amount }],
    }
}

/// The buyer's request carried out: a refund, or a return agreed to the default address.
fn grant_request(order: &Order, case: &Case, ctx: &Ctx, goods_back: bool) -> Events {
    if case.kind == CaseType::ReturnRefund && !goods_back {
        if let Some(address) = ctx.default_address {
            return vec![Event::ReturnAgreed { address: address.clone(), refuse_freight_collect: false }];
        }
        // R2 needs an address; with none left in the book the buyer is refunded directly.
        let mut ev = vec![Event::TurnedIntoRefundOnly];
        ev.extend(refund_events(order, case, case.amount, ctx));
        return ev;
    }
    let mut ev = Vec::new();
    if case.kind == CaseType::ReturnRefund {
        ev.push(Event::ReceiptConfirmed);
    }
    ev.extend(refund_events(order, case, case.amount, ctx));
    ev
}

fn withdraw_open_proposal(case: &Case) -> Events {
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
            check_amount(*amount, order.refundable(*kind), "B3")?;
            if *kind == CaseType::ReturnRefund && ctx.default_address.is_none() {
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
            if case.kind == CaseType::ReturnRefund {
                // R3: refund directly — no goods come back.
                ev.push(Event::TurnedIntoRefundOnly);
            }
            let mut c = case.clone();
            if c.kind == CaseType::ReturnRefund {
                c.kind = CaseType::RefundOnly;
            }
            ev.extend(refund_events(order, &c, case.amount, ctx));
            ev
        }
        CaseCommand::RejectByShipping { logistics } => {
            let mut ev = withdraw_open_proposal(case);
            ev.push(Event::RejectedByShipping { logistics: logistics.clone() });
            ev
        }
        CaseCommand::Reject { reason_code, explanation, evidence } => {
            let stage = if case.status == Status::AwaitingReceipt { Stage::Receipt } else { Stage::Review };
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
        CaseCommand::ReceivedRefund => {
            let mut ev = vec![Event::ReceiptConfirmed];
            ev.extend(refund_events(order, case, case.amount, ctx));
            ev
        }
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
                    check_amount(*amount, order.refundable(CaseType::ReturnRefund), "N2")?;
                }
                (CaseType::ReturnRefund, CaseType::RefundOnly) => {
                    check_amount(*amount, order.refundable(CaseType::RefundOnly), "N2")?;
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
            let retry_at = if *ok {
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
    };
    let _ = rule;
    Ok(events)
}

/// E6: the ruling and what follows it.
fn ruling(order: &Order, case: &Case, for_party: Party, reason: String, agent: Option<AgentId>, ctx: &Ctx) -> Events {
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
fn expire(order: &Order, case: &Case, kind: DeadlineKind, ctx: &Ctx) -> Result<Events, Refusal> {
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
        DeadlineKind::Receipt => {
            ev.push(Event::ReceiptConfirmed);
            ev.extend(refund_events(order, case, case.amount, ctx));
        }
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
        DeadlineKind::RefundSettle | DeadlineKind::OrderUnpaid => return Err(Refusal::NotDue { kind }),
    }
    Ok(ev)
}
