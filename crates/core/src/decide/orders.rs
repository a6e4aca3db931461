//! Orders (O1–O4) and applications (U1, S1, R1, T1, B3): what may be recorded and asked for.

use super::*;
use crate::lines::eligibility::{eligibility, LineEligibility, Remedy};
use crate::lines::units::{check_picks, Pick};
use crate::lines::window::{check_window, ReasonCode};

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
    if new.total.currency != ctx.policy.currency {
        return Err(Refusal::invalid(
            "total",
            format!("must be in the shop's currency, {}", ctx.policy.currency),
            "O1",
        ));
    }
    if new.shipping_fee.currency != new.total.currency || new.shipping_fee.minor > new.total.minor {
        return Err(Refusal::invalid("shipping_fee", "must be in the order's currency and not above the total", "O1"));
    }
    if new.payment == PaymentMethod::Cod && !ctx.policy.takes_cod() {
        return Err(Refusal::CodNotSupported);
    }
    let goods = new.total.saturating_sub(new.shipping_fee);
    let lines = if new.lines.is_empty() {
        vec![crate::lines::single_line(goods, new.fresh)]
    } else {
        crate::lines::allocate(goods, &new.lines)?
    };
    let line_use = lines.iter().map(crate::lines::units::LineUse::untouched).collect();
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
        lines,
        line_use,
        cases: Vec::new(),
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
        // C1: the platform opens a case for the order's buyer (outside the L4 windows too).
        Actor::Platform { .. } => {}
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
    let order = &*order.with_lines();
    check_kind_for_order(order, cmd.kind)?;
    let (reason, description) = check_request(&cmd.reason, &cmd.description, &cmd.evidence)?;
    // L3: the units, each free of an open case, on lines below the case limit (the buyer's: the
    // platform is not held to it, C1).
    let limit = (actor.party() == Party::Buyer).then_some(ctx.policy.cases_per_line);
    let picked =
        check_picks(&order.lines, &order.line_use, &cmd.lines, limit).map_err(|e| match (e, order.open_case) {
            // Applying for everything while a case holds units: that case is what stands in the way.
            (Refusal::UnitsNotAvailable { .. }, Some(open)) if cmd.lines.is_empty() => {
                Refusal::CaseAlreadyOpen { case: open.0 }
            }
            (e, _) => e,
        })?;
    // L4: the window the reason falls in, on every line named.
    let why = ReasonCode::of_apply_reason(&reason);
    for p in &picked {
        if let Some(line) = order.lines.iter().find(|l| l.no == p.line) {
            check_window(ctx.policy, actor.party(), order.delivered_at, why, line.kind, ctx.now)?;
        }
    }
    let picks: Vec<Pick> = picked.iter().map(|p| Pick { line: p.line, units: p.units }).collect();
    check_request_amount(order, &picks, cmd.kind, cmd.amount)?;
    if !reason_fits(cmd.kind, &reason) {
        return Err(Refusal::invalid(
            "reason",
            "is missing_or_wrong_item: a resend sends missing units or parts",
            "K2",
        ));
    }
    if cmd.kind.takes_goods_back() && ctx.default_address.is_none() {
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
        lines: picks,
    }])
}

/// Whether an application reason (T1's list) fits a case type: any of them, except that a resend
/// is for missing units or parts (K2).
pub fn reason_fits(kind: CaseType, reason: &str) -> bool {
    kind != CaseType::Resend || ReasonCode::of_apply_reason(reason) == ReasonCode::MissingItems
}

/// C1: the merchant refunds the buyer of its own accord: on its own shop's order, once paid
/// (a COD order once delivered), on units not in an open case, within what they can refund (L2),
/// with a reason from the list. No review, no window, no case limit: the case is opened and its
/// refund started in one change, and the buyer is told.
pub fn merchant_refund(
    order: &Order,
    case_id: CaseId,
    cmd: &MerchantRefund,
    actor: &Actor,
    ctx: &Ctx,
) -> Result<Events, Refusal> {
    match actor {
        Actor::Merchant { shop, .. } if *shop == order.shop_id => {}
        other => return Err(Refusal::NotAllowedFor { party: other.party(), action: "refund the buyer", rule: "C1" }),
    }
    let order = &*order.with_lines();
    let paid = match order.payment {
        PaymentMethod::Online => !matches!(order.state, OrderState::AwaitingPayment | OrderState::Cancelled),
        PaymentMethod::Cod => matches!(order.state, OrderState::Delivered | OrderState::Completed),
    };
    if !paid {
        return Err(Refusal::WrongState {
            action: "merchant_refund",
            subject: "order",
            state: order.state.as_str().into(),
            rule: "C1",
        });
    }
    let reason = text("reason", &cmd.reason, 64, true).map_err(|e| field_err(e, "C1"))?;
    if !MERCHANT_REFUND_REASONS.iter().any(|r| r.code == reason.as_str()) {
        let codes: Vec<&str> = MERCHANT_REFUND_REASONS.iter().map(|r| r.code).collect();
        return Err(Refusal::invalid("reason", format!("must be one of {}", codes.join(", ")), "C1"));
    }
    let description = text("description", &cmd.description, 1000, false).map_err(|e| field_err(e, "C1"))?;
    let picked = check_picks(&order.lines, &order.line_use, &cmd.lines, None)?;
    let picks: Vec<Pick> = picked.iter().map(|p| Pick { line: p.line, units: p.units }).collect();
    let kind = if order.state.is_unshipped() { CaseType::RefundUnshipped } else { CaseType::RefundOnly };
    check_amount(cmd.amount, order.refundable_for(&picks, kind), "L2")?;
    let opened = Event::MerchantRefundOpened { case_id, kind, reason, amount: cmd.amount, description, lines: picks };
    let case = Case::open(order, &Recorded { at: ctx.now, actor: *actor, event: opened.clone() })
        .ok_or(Refusal::invalid("lines", "open no case", "C1"))?;
    let mut events = vec![opened];
    events.extend(refund_events(order, &case, cmd.amount, ctx));
    Ok(events)
}

pub(super) fn check_request(
    reason: &str,
    description: &str,
    evidence: &[Evidence],
) -> Result<(String, String), Refusal> {
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
/// What a buyer may apply for on the order now (U1, S1, R1, B3, L2, L3, T1): each case type its
/// state takes, with the most that type may ask for on every unit not in an open case; nothing
/// when every unit is in one or nothing is left to refund. The first is the type an application
/// starts with.
pub fn application_options(order: &Order) -> Vec<(CaseType, Money)> {
    let o = order.with_lines();
    let any_unit = o.lines.iter().zip(&o.line_use).any(|(l, u)| crate::lines::units::available_units(l, u) > 0);
    CaseType::ALL
        .into_iter()
        .filter(|kind| check_kind_for_order(order, *kind).is_ok())
        .map(|kind| {
            (kind, if kind.sends_goods() { Money::zero(order.total.currency()) } else { order.refundable(kind) })
        })
        // An exchange or a resend asks no money (K1, K2): offered while a unit is free.
        .filter(|(kind, cap)| if kind.sends_goods() { any_unit } else { cap.minor() > 0 })
        .collect()
}

/// The case type a remedy opens, when this release opens it: the three case types of the seeds,
/// the exchange (K1) and the resend (K2). The merchant's own refund (C1) has its rules in
/// `lines` but no case course yet, so no one is offered it.
pub fn case_type_of(remedy: Remedy) -> Option<CaseType> {
    match remedy {
        Remedy::RefundUnshipped => Some(CaseType::RefundUnshipped),
        Remedy::RefundOnly => Some(CaseType::RefundOnly),
        Remedy::ReturnRefund => Some(CaseType::ReturnRefund),
        Remedy::Exchange => Some(CaseType::Exchange),
        Remedy::Resend => Some(CaseType::Resend),
        Remedy::MerchantRefund => None,
    }
}

/// Per line of the order, what `actor` may open now, for how much and until when (the
/// eligibility call): the lines' rules (L2–L4, C1, `lines::eligibility`) with the order's own —
/// who may apply at all (T1), which case types its state and payment take (U1, S1, R1).
pub fn order_eligibility(order: &Order, actor: &Actor, ctx: &Ctx) -> Vec<LineEligibility> {
    let order = &*order.with_lines();
    let party = actor.party();
    let mut lines =
        eligibility(ctx.policy, party, order.state, order.delivered_at, &order.lines, &order.line_use, ctx.now);
    for line in &mut lines {
        line.offers.retain(|o| case_type_of(o.remedy).is_some());
        for offer in &mut line.offers {
            if offer.refused.is_some() {
                continue;
            }
            let Some(kind) = case_type_of(offer.remedy) else { continue };
            if let Err(r) = check_kind_for_order(order, kind) {
                offer.refused = Some(r);
            } else if kind.takes_goods_back() && ctx.default_address.is_none() {
                offer.refused = Some(Refusal::NoReturnAddress);
            } else if !kind.sends_goods() && offer.max_refund.minor() == 0 {
                offer.refused = Some(Refusal::AmountAboveRefundable {
                    requested: Money::new(1, offer.max_refund.currency()).unwrap_or(offer.max_refund),
                    max: offer.max_refund,
                });
            }
        }
    }
    lines
}

pub(super) fn check_kind_for_order(order: &Order, kind: CaseType) -> Result<(), Refusal> {
    use OrderState::*;
    let ok = match kind {
        // U1: paid and not shipped; COD orders are not paid before delivery (O2).
        CaseType::RefundUnshipped => order.payment == PaymentMethod::Online && order.state.is_unshipped(),
        CaseType::RefundOnly => match order.payment {
            PaymentMethod::Online => matches!(order.state, Shipped | Delivered | Completed),
            PaymentMethod::Cod => matches!(order.state, Delivered | Completed),
        },
        // R1, K1, K2: the goods arrived.
        CaseType::ReturnRefund | CaseType::Exchange | CaseType::Resend => matches!(order.state, Delivered | Completed),
    };
    if ok {
        Ok(())
    } else {
        let rule = match kind {
            CaseType::RefundUnshipped => "U1",
            CaseType::RefundOnly => "S1",
            CaseType::ReturnRefund => "R1",
            CaseType::Exchange => "K1",
            CaseType::Resend => "K2",
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
