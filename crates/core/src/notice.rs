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
    /// The service's connections to the shop's own systems (webhooks).
    Integration,
}

impl Category {
    pub fn as_str(&self) -> &'static str {
        match self {
            Category::AfterSales => "after_sales",
            Category::Arbitration => "arbitration",
            Category::Appeal => "appeal",
            Category::Order => "order",
            Category::Integration => "integration",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Notice {
    pub recipient: Recipient,
    pub category: Category,
    pub title: String,
    pub body: String,
    /// The title in Chinese.
    #[serde(default)]
    pub title_zh: String,
    /// The body in Chinese.
    #[serde(default)]
    pub body_zh: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Sms {
    pub phone: Phone,
    pub text: String,
    /// What kind of message it is (`return_address`, `ship_back_reminder`): a provider that
    /// sends pre-approved templates (Alibaba Cloud) picks the template by it.
    pub kind: String,
    /// The template's variables, the text's parts by name.
    pub params: std::collections::BTreeMap<String, String>,
}

/// The kinds of text message the rules send.
pub const SMS_KINDS: [&str; 2] = ["return_address", "ship_back_reminder"];

impl Sms {
    fn of(phone: &Phone, kind: &str, text: String, params: &[(&str, String)]) -> Sms {
        Sms {
            phone: phone.clone(),
            text,
            kind: kind.into(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        }
    }
}

/// M6: a penalty the rules charge the shop (recorded against it, shown to it and the platform).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PenaltyNote {
    pub reason: String,
    pub amount: crate::money::Money,
}

/// What a change sends and records beside its events: message-box entries, text messages and
/// penalties, all decided by the rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    pub notices: Vec<Notice>,
    pub sms: Vec<Sms>,
    pub penalties: Vec<PenaltyNote>,
}

/// A text in both languages the platforms' people read: English, and Chinese.
type Both = (String, String);

fn both(en: impl Into<String>, zh: impl Into<String>) -> Both {
    (en.into(), zh.into())
}

/// A case type in words, in both languages.
fn type_words(kind: CaseType) -> (&'static str, &'static str) {
    crate::labels::CASE_TYPES.iter().find(|l| l.value == kind).map_or(("", ""), |l| (l.en, l.zh))
}

/// A party in words, in both languages.
fn party_words(party: Party) -> (&'static str, &'static str) {
    match party {
        Party::Buyer => ("buyer", "买家"),
        Party::Merchant => ("shop", "商家"),
        Party::Platform => ("platform", "平台"),
        Party::System => ("system", "系统"),
    }
}

/// A rejection reason in words, in both languages (the code itself when it has none).
fn reason_words(code: &str) -> (String, String) {
    crate::command::REJECT_REASONS
        .iter()
        .find(|(r, _)| r.code == code)
        .map_or_else(|| (code.to_string(), code.to_string()), |(r, _)| (r.en.to_string(), r.zh.to_string()))
}

/// The notices a batch of events produces, given the case after them. Each message-box entry is
/// written in English and in Chinese; the pages show the person's language.
pub fn notices_for(order: &Order, case: &Case, events: &[Event]) -> Outbox {
    let mut out = Outbox::default();
    let no = format!("AS{:08}", case.id.0);
    let shop = Recipient::Shop(case.shop_id);
    let buyer = Recipient::Buyer(case.buyer_id);
    let mut note = |to: Recipient, category: Category, title: Both, body: Both| {
        out.notices.push(Notice {
            recipient: to,
            category,
            title: title.0,
            body: body.0,
            title_zh: title.1,
            body_zh: body.1,
        });
    };
    let mut sms = Vec::new();
    let mut penalties = Vec::new();
    for e in events {
        match e {
            Event::Applied { kind, amount, .. } => {
                let (en, zh) = type_words(*kind);
                note(
                    shop,
                    Category::AfterSales,
                    both(format!("New after-sales request {no}"), format!("新的售后申请 {no}")),
                    both(
                        format!("Order {} asks for {en} of {}.", order.order_no, amount.words()),
                        format!("订单 {} 申请{zh}，金额 {}。", order.order_no, amount.words()),
                    ),
                )
            }
            Event::MerchantRefundOpened { amount, reason, .. } => {
                let why = crate::command::MERCHANT_REFUND_REASONS.iter().find(|r| r.code == reason.as_str());
                note(
                    buyer,
                    Category::AfterSales,
                    both(
                        format!("The shop refunds you on order {}", order.order_no),
                        format!("商家为订单 {} 向您退款", order.order_no),
                    ),
                    both(
                        format!("{} ({}), case {no}.", amount.words(), why.map_or(reason.as_str(), |r| r.en)),
                        format!("{}（{}），售后单 {no}。", amount.words(), why.map_or(reason.as_str(), |r| r.zh)),
                    ),
                )
            }
            Event::SplitOff { from, amount, lines, .. } => {
                let units: u32 = lines.iter().map(|p| p.units).sum();
                let from = format!("AS{:08}", from.0);
                note(
                    buyer,
                    Category::AfterSales,
                    both(
                        format!("Part of your return of case {from} did not arrive"),
                        format!("售后单 {from} 的退货有部分商品未收到"),
                    ),
                    both(
                        format!(
                            "The shop refunds what arrived. The {units} missing unit(s) ({}) are case {no}: the shop refunds them or rejects with evidence, which you may take to the platform.",
                            amount.words()
                        ),
                        format!(
                            "已收到的商品正在退款。未收到的 {units} 件（{}）转为售后单 {no}：商家将退款，或凭证据拒绝（您可申请平台介入）。",
                            amount.words()
                        ),
                    ),
                )
            }
            Event::Resubmitted { .. } => note(
                shop,
                Category::AfterSales,
                both(format!("Request {no} was revised"), format!("售后申请 {no} 已修改")),
                both(
                    "The buyer revised a rejected request; it awaits your review again.",
                    "买家修改了被拒绝的申请，请重新审核。",
                ),
            ),
            Event::ReminderSent { kind: DeadlineKind::ReviewReminder, for_due } => note(
                shop,
                Category::AfterSales,
                both(format!("{no} is close to its deadline"), format!("{no} 即将超时")),
                both(
                    format!("Review it before {for_due}, or the system decides for the buyer."),
                    format!("请在 {for_due} 前处理，否则系统将按买家的申请处理。"),
                ),
            ),
            Event::ReminderSent { kind: DeadlineKind::EvidenceReminder, for_due } => note(
                shop,
                Category::AfterSales,
                both(format!("Evidence for {no} is due soon"), format!("{no} 的举证即将截止")),
                both(
                    format!("Submit evidence before {for_due}, or the platform rules for the buyer."),
                    format!("请在 {for_due} 前提交凭证，否则平台将判买家胜诉。"),
                ),
            ),
            Event::EvidenceRequested { instructions, .. } => note(
                shop,
                Category::Arbitration,
                both(format!("The platform asks for evidence on {no}"), format!("平台要求对 {no} 举证")),
                both(instructions.clone(), instructions.clone()),
            ),
            Event::ReplacementAwaited { due, .. } => note(
                shop,
                Category::AfterSales,
                both(format!("Ship the goods for {no}"), format!("请为 {no} 发货")),
                both(
                    format!("Ship them with logistics before {due}, or the units are refunded instead."),
                    format!("请在 {due} 前发货并填写物流，否则将改为退款。"),
                ),
            ),
            Event::ReplacementShipped { logistics } => note(
                buyer,
                Category::AfterSales,
                both(format!("The shop has shipped the goods for {no}"), format!("商家已为 {no} 发货")),
                both(
                    format!(
                        "Carrier {}, tracking number {}.",
                        logistics.carrier.as_str(),
                        logistics.tracking_no.as_str()
                    ),
                    format!("物流公司 {}，运单号 {}。", logistics.carrier.as_str(), logistics.tracking_no.as_str()),
                ),
            ),
            Event::InterceptRequested => note(
                buyer,
                Category::AfterSales,
                both(format!("The shop is stopping the parcel of {no}"), format!("商家正在拦截 {no} 的包裹")),
                both(
                    "The shop asked the carrier to send the parcel back; your refund proceeds once it is back.",
                    "商家已申请物流拦截，包裹退回后即为您退款。",
                ),
            ),
            Event::InterceptAnswered { stopped: false, .. } => note(
                buyer,
                Category::AfterSales,
                both(format!("The parcel of {no} could not be stopped"), format!("{no} 的包裹拦截未成功")),
                both(
                    "The carrier could not stop it: once it is delivered, the shop reviews your refund.",
                    "物流未能拦截包裹：签收后商家将继续处理您的退款申请。",
                ),
            ),
            Event::ReplacementTurnedToRefund { amount } => {
                for to in [buyer, shop] {
                    note(
                        to,
                        Category::AfterSales,
                        both(format!("{no} is refunded instead"), format!("{no} 已改为退款")),
                        both(
                            format!("The goods were not shipped in time: {} is refunded instead.", amount.words()),
                            format!("商家未按时发货，改为退款 {}。", amount.words()),
                        ),
                    )
                }
            }
            Event::ProposalMade { kind, amount, .. } => {
                let (en, zh) = type_words(*kind);
                note(
                    buyer,
                    Category::AfterSales,
                    both(format!("The shop proposes a change to {no}"), format!("商家对 {no} 提出协商方案")),
                    both(
                        format!("Proposed: {en} of {}. Accept or decline it.", amount.words()),
                        format!("方案：{zh}，金额 {}。请接受或拒绝。", amount.words()),
                    ),
                )
            }
            Event::Rejected { reason_code, .. } => {
                let (en, zh) = reason_words(reason_code);
                note(
                    buyer,
                    Category::AfterSales,
                    both(format!("Your request {no} was rejected"), format!("您的售后申请 {no} 被拒绝")),
                    both(
                        format!("Reason: {en}. You may revise it or ask the platform to step in."),
                        format!("原因：{zh}。您可以修改申请，或申请平台介入。"),
                    ),
                )
            }
            Event::RejectedByShipping { logistics } => {
                let (carrier, tracking) = (logistics.carrier.as_str(), logistics.tracking_no.as_str());
                note(
                    buyer,
                    Category::AfterSales,
                    both(format!("Your order was shipped ({no})"), format!("您的订单已发货（{no}）")),
                    both(
                        format!("The shop shipped with {carrier} {tracking}."),
                        format!("商家已通过 {carrier} 发货，运单号 {tracking}。"),
                    ),
                )
            }
            Event::ReturnAgreed { address, refuse_freight_collect } => {
                note(
                    buyer,
                    Category::AfterSales,
                    both(format!("Return agreed for {no}"), format!("{no} 退货申请已同意")),
                    both(
                        format!(
                            "Ship the goods back to {} {} and submit the tracking number.",
                            address.region, address.detail
                        ),
                        format!("请将商品寄回 {} {}，并填写退货物流单号。", address.region, address.detail),
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
                let params = [
                    ("no", no.to_string()),
                    ("address", format!("{} {}", address.region, address.detail)),
                    ("name", address.name.clone()),
                    ("phone", address.phone.as_str().to_string()),
                    ("no_freight_collect", if *refuse_freight_collect { "1" } else { "0" }.to_string()),
                ];
                sms.push(Sms::of(&order.customer.phone, "return_address", text, &params));
            }
            Event::BuyerReminded => sms.push(Sms::of(
                &order.customer.phone,
                "ship_back_reminder",
                format!("【售后】请尽快寄回售后单{no}的商品并填写退货物流单号。"),
                &[("no", no.to_string())],
            )),
            Event::Escalated { by, .. } => {
                let (en, zh) = party_words(*by);
                note(
                    Recipient::Platform,
                    Category::Arbitration,
                    both(format!("{no} needs platform intervention"), format!("{no} 需要平台介入")),
                    both(format!("Escalated by the {en}."), format!("由{zh}申请平台介入。")),
                )
            }
            Event::Ruled { for_party, reason, .. } => {
                // E6: both sides see the ruling and its reason.
                let (en, zh) = party_words(*for_party);
                for to in [shop, buyer] {
                    note(
                        to,
                        Category::Arbitration,
                        both(format!("Ruling on {no}: for the {en}"), format!("{no} 仲裁结果：{zh}胜诉")),
                        both(reason.clone(), reason.clone()),
                    );
                }
            }
            // T4: an appeal waits for the platform's review; its message box is where agents find it.
            Event::AppealSubmitted { .. } => note(
                Recipient::Platform,
                Category::Appeal,
                both(format!("{no}: the shop appealed the ruling"), format!("{no}：商家对仲裁结果提出申诉")),
                both("The appeal waits for review.", "申诉等待审核。"),
            ),
            Event::AppealDecided { upheld, reason } => note(
                shop,
                Category::Appeal,
                both(
                    format!("Appeal on {no} {}", if *upheld { "upheld" } else { "dismissed" }),
                    format!("{no} 的申诉{}", if *upheld { "成立" } else { "被驳回" }),
                ),
                both(reason.clone(), reason.clone()),
            ),
            Event::RefundSettled { ok: true, .. } => note(
                buyer,
                Category::AfterSales,
                both(format!("Refund for {no} arrived"), format!("{no} 退款已到账")),
                case.refund.as_ref().map_or_else(
                    || both("", ""),
                    |r| both(format!("{} was refunded.", r.amount.words()), format!("已退款 {}。", r.amount.words())),
                ),
            ),
            Event::RefundSettled { ok: false, detail, .. } => note(
                Recipient::Platform,
                Category::AfterSales,
                both(format!("Refund for {no} failed; retrying"), format!("{no} 退款失败，将重试")),
                both(detail.clone(), detail.clone()),
            ),
            Event::AdvanceCompensated { amount } => {
                penalties.push(PenaltyNote {
                    reason: "no COD refund voucher within the window (M6)".into(),
                    amount: *amount,
                });
                note(
                    shop,
                    Category::AfterSales,
                    both(
                        format!("No refund voucher for {no}: penalty recorded"),
                        format!("{no} 未上传退款凭证：已记录处罚"),
                    ),
                    both(
                        format!("The platform paid the buyer {} itself.", amount.words()),
                        format!("平台已先行赔付买家 {}。", amount.words()),
                    ),
                );
                note(
                    Recipient::Platform,
                    Category::AfterSales,
                    both(format!("Advance compensation due on {no}"), format!("{no} 需要平台先行赔付")),
                    both(
                        format!("Pay the buyer {} to the refund account on file.", amount.words()),
                        format!("请向买家登记的退款账户支付 {}。", amount.words()),
                    ),
                );
            }
            Event::MessagePosted { party, .. } => {
                let to = if *party == Party::Buyer { shop } else { buyer };
                note(
                    to,
                    Category::AfterSales,
                    both(format!("New message on {no}"), format!("{no} 有新留言")),
                    both("Open the case to read and reply.", "请打开售后单查看并回复。"),
                );
            }
            _ => {}
        }
    }
    out.sms = sms;
    out.penalties = penalties;
    out
}
