//! Notices as data (X1, X2): message-box entries and SMS texts that events produce. The store
//! writes them in the same transaction as the events; senders deliver them later. R6: nothing
//! here ever carries a COD refund account.

use crate::actor::Party;
use crate::command::REFUSE_FREIGHT_COLLECT_TEXT;
use crate::deadline::DeadlineKind;
use crate::model::*;
use crate::values::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Recipient {
    Shop(ShopId),
    Buyer(BuyerId),
    Platform,
}

impl Recipient {
    /// The message box an actor reads (X1): a buyer their own, staff their shop's, agents the
    /// platform's.
    pub fn of(actor: &crate::Actor) -> Recipient {
        match *actor {
            crate::Actor::Buyer { buyer } => Recipient::Buyer(buyer),
            crate::Actor::Merchant { shop, .. } => Recipient::Shop(shop),
            crate::Actor::Platform { .. } | crate::Actor::System => Recipient::Platform,
        }
    }
}

/// Message-box categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    AfterSales,
    Arbitration,
    Appeal,
    Order,
}

impl Category {
    pub fn as_str(&self) -> &'static str {
        match self {
            Category::AfterSales => "after_sales",
            Category::Arbitration => "arbitration",
            Category::Appeal => "appeal",
            Category::Order => "order",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Notice {
    pub recipient: Recipient,
    pub category: Category,
    pub title: String,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Sms {
    pub phone: Phone,
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    pub notices: Vec<Notice>,
    pub sms: Vec<Sms>,
}

/// The notices a batch of events produces, given the case after them.
pub fn notices_for(order: &Order, case: &Case, events: &[Event]) -> Outbox {
    let mut out = Outbox::default();
    let no = format!("AS{:08}", case.id.0);
    let shop = Recipient::Shop(case.shop_id);
    let buyer = Recipient::Buyer(case.buyer_id);
    let mut note = |to: Recipient, category: Category, title: String, body: String| {
        out.notices.push(Notice { recipient: to, category, title, body });
    };
    let mut sms = Vec::new();
    for e in events {
        match e {
            Event::Applied { kind, amount, .. } => note(
                shop,
                Category::AfterSales,
                format!("New after-sales request {no}"),
                format!("Order {} asks for {} of {amount}.", order.order_no, kind.as_str()),
            ),
            Event::Resubmitted { .. } => note(
                shop,
                Category::AfterSales,
                format!("Request {no} was revised"),
                "The buyer revised a rejected request; it awaits your review again.".into(),
            ),
            Event::ReminderSent { kind: DeadlineKind::ReviewReminder, for_due } => note(
                shop,
                Category::AfterSales,
                format!("{no} is close to its deadline"),
                format!("Review it before {for_due}, or the system decides for the buyer."),
            ),
            Event::ReminderSent { kind: DeadlineKind::EvidenceReminder, for_due } => note(
                shop,
                Category::AfterSales,
                format!("Evidence for {no} is due soon"),
                format!("Submit evidence before {for_due}, or the platform rules for the buyer."),
            ),
            Event::EvidenceRequested { instructions, .. } => note(
                shop,
                Category::Arbitration,
                format!("The platform asks for evidence on {no}"),
                instructions.clone(),
            ),
            Event::ProposalMade { kind, amount, .. } => note(
                buyer,
                Category::AfterSales,
                format!("The shop proposes a change to {no}"),
                format!("Proposed: {} of {amount}. Accept or decline it.", kind.as_str()),
            ),
            Event::Rejected { reason_code, .. } => note(
                buyer,
                Category::AfterSales,
                format!("Your request {no} was rejected"),
                format!("Reason: {reason_code}. You may revise it or ask the platform to step in."),
            ),
            Event::RejectedByShipping { logistics } => note(
                buyer,
                Category::AfterSales,
                format!("Your order was shipped ({no})"),
                format!("The shop shipped with {} {}.", logistics.carrier.as_str(), logistics.tracking_no.as_str()),
            ),
            Event::ReturnAgreed { address, refuse_freight_collect } => {
                note(
                    buyer,
                    Category::AfterSales,
                    format!("Return agreed for {no}"),
                    format!(
                        "Ship the goods back to {} {} and submit the tracking number.",
                        address.region, address.detail
                    ),
                );
                // R4: the SMS notice, with the fixed text appended when the merchant ticked it.
                let mut text = format!(
                    "【售后】您的退货申请{no}已同意，请寄回至：{} {} {} {}。",
                    address.region,
                    address.detail,
                    address.name,
                    address.phone.as_str()
                );
                if *refuse_freight_collect {
                    text.push_str(REFUSE_FREIGHT_COLLECT_TEXT);
                }
                sms.push(Sms { phone: order.customer.phone.clone(), text });
            }
            Event::BuyerReminded => sms.push(Sms {
                phone: order.customer.phone.clone(),
                text: format!("【售后】请尽快寄回售后单{no}的商品并填写退货物流单号。"),
            }),
            Event::Escalated { by, .. } => note(
                Recipient::Platform,
                Category::Arbitration,
                format!("{no} needs platform intervention"),
                format!("Escalated by the {by}."),
            ),
            Event::Ruled { for_party, reason, .. } => {
                // E6: both sides see the ruling and its reason.
                for to in [shop, buyer] {
                    note(to, Category::Arbitration, format!("Ruling on {no}: for the {for_party}"), reason.clone());
                }
            }
            // T4: an appeal waits for the platform's review; its message box is where agents find it.
            Event::AppealSubmitted { .. } => note(
                Recipient::Platform,
                Category::Appeal,
                format!("{no}: the shop appealed the ruling"),
                "The appeal waits for review.".to_string(),
            ),
            Event::AppealDecided { upheld, reason } => note(
                shop,
                Category::Appeal,
                format!("Appeal on {no} {}", if *upheld { "upheld" } else { "dismissed" }),
                reason.clone(),
            ),
            Event::RefundSettled { ok: true, .. } => note(
                buyer,
                Category::AfterSales,
                format!("Refund for {no} arrived"),
                case.refund.as_ref().map_or(String::new(), |r| format!("{} was refunded.", r.amount)),
            ),
            Event::RefundSettled { ok: false, detail, .. } => note(
                Recipient::Platform,
                Category::AfterSales,
                format!("Refund for {no} failed; retrying"),
                detail.clone(),
            ),
            Event::AdvanceCompensated { amount } => {
                note(
                    shop,
                    Category::AfterSales,
                    format!("No refund voucher for {no}: penalty recorded"),
                    format!("The platform paid the buyer {amount} itself."),
                );
                note(
                    Recipient::Platform,
                    Category::AfterSales,
                    format!("Advance compensation due on {no}"),
                    format!("Pay the buyer {amount} to the refund account on file."),
                );
            }
            Event::MessagePosted { party, .. } => {
                let to = if *party == Party::Buyer { shop } else { buyer };
                note(
                    to,
                    Category::AfterSales,
                    format!("New message on {no}"),
                    "Open the case to read and reply.".into(),
                );
            }
            _ => {}
        }
    }
    out.sms = sms;
    out
}
