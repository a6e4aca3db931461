//! Commands: what buyers, merchant staff, platform agents and the system ask for.

use crate::actor::Party;
use crate::deadline::DeadlineKind;
use crate::model::{CaseType, PaymentMethod};
use crate::money::Money;
use crate::values::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Order ingestion from integrations, and the order-level actions of the rules (O1-O4, W3, W4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum OrderCommand {
    Pay,
    Confirm,
    Ship {
        logistics: Logistics,
    },
    Deliver,
    Complete,
    /// O2/O3: who may cancel depends on the payment method and the state.
    Cancel {
        #[schemars(length(max = 200))]
        reason: String,
        #[serde(default)]
        buyer_contacted: bool,
    },
    SetFlag {
        flag: Option<Flag>,
    },
    SetRemark {
        #[schemars(length(max = 500))]
        text: String,
    },
    Expire {
        kind: DeadlineKind,
    },
}

/// A new order from an integration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub order_no: String,
    pub buyer_id: BuyerId,
    pub payment: PaymentMethod,
    pub total: Money,
    pub shipping_fee: Money,
    #[serde(default)]
    pub fresh: bool,
    pub customer_name: String,
    pub customer_phone: Phone,
    /// L1: what was bought; without lines the order is one line carrying the goods' payment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub lines: Vec<crate::lines::NewLine>,
}

/// U1/S1/R1/T1: a buyer's application. `E` is how evidence is named: `Evidence` inside the
/// rules, `EvidenceRef` (the key of an uploaded file) from a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound(deserialize = "E: Deserialize<'de>", serialize = "E: Serialize"))]
#[schemars(description = "A buyer's application for after-sales on one of their orders (U1, S1, R1, T1): the type, \
    the reason, the amount (at most what the order can still refund: B3), a description and evidence files \
    uploaded first (`POST /api/v1/evidence`).")]
pub struct ApplyOf<E> {
    pub kind: CaseType,
    /// One of `GET /api/v1/reasons`'s apply reasons.
    #[schemars(extend("enum" = ["no_longer_needed", "not_shipped_on_time", "not_delivered", "missing_or_wrong_item", "damaged", "defective", "not_as_described", "quality_issue", "other"]))]
    pub reason: String,
    pub amount: Money,
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub description: String,
    #[serde(default)]
    #[schemars(length(max = 20))]
    pub evidence: Vec<E>,
    #[serde(default)]
    pub refund_account: Option<RefundAccount>,
    /// L2: the lines and units asked for; none means every unit still available.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub lines: Vec<crate::lines::units::Pick>,
}

/// C1: a refund the merchant opens for the buyer (out of stock, goodwill, a price correction): no
/// review step, within what the units can refund (L2), recorded with the staff member as actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantRefund {
    /// One of `GET /api/v1/reasons`'s merchant refund reasons.
    #[schemars(extend("enum" = ["out_of_stock", "goodwill", "price_correction", "other"]))]
    pub reason: String,
    pub amount: Money,
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub description: String,
    /// The lines and units refunded; none means every unit not in an open case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub lines: Vec<crate::lines::units::Pick>,
}

/// C1: why a merchant refunds a buyer of its own accord.
pub const MERCHANT_REFUND_REASONS: &[Reason] = &[
    reason("out_of_stock", "缺货", "out of stock"),
    reason("goodwill", "商家补偿", "goodwill"),
    reason("price_correction", "价格调整", "price correction"),
    reason("other", "其他", "other"),
];

/// A buyer's application as the rules take it.
pub type Apply = ApplyOf<Evidence>;

/// A command on a case as the rules take it.
pub type CaseCommand = CaseCommandOf<Evidence>;

/// A command on a case; `E` is how evidence is named (see `ApplyOf`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "command",
    rename_all = "snake_case",
    deny_unknown_fields,
    bound(deserialize = "E: Deserialize<'de>", serialize = "E: Serialize")
)]
#[schemars(description = "A command on a case, named by `command`; which party may send which, and when, is in \
    the case page's `available_actions`.")]
pub enum CaseCommandOf<E> {
    // buyer
    Withdraw,
    Resubmit {
        kind: CaseType,
        #[schemars(extend("enum" = ["no_longer_needed", "not_shipped_on_time", "not_delivered", "missing_or_wrong_item", "damaged", "defective", "not_as_described", "quality_issue", "other"]))]
        reason: String,
        amount: Money,
        #[serde(default)]
        #[schemars(length(max = 1000))]
        description: String,
        #[serde(default)]
        #[schemars(length(max = 20))]
        evidence: Vec<E>,
    },
    Escalate {
        #[schemars(length(max = 500))]
        reason: String,
    },
    SubmitReturnLogistics {
        logistics: Logistics,
        #[serde(default)]
        refund_account: Option<RefundAccount>,
    },
    AcceptProposal,
    DeclineProposal,
    AddEvidence {
        #[schemars(length(max = 20))]
        evidence: Vec<E>,
    },
    PostMessage {
        #[schemars(length(max = 2000))]
        text: String,
    },
    // merchant
    Refund,
    RejectByShipping {
        logistics: Logistics,
    },
    Reject {
        /// One of `GET /api/v1/reasons`'s rejection reasons for the case's stage.
        #[schemars(extend("enum" = ["no_quality_issue", "not_as_claimed", "agreed_otherwise", "outside_policy", "used_or_damaged", "missing_parts", "wrong_item_returned", "not_received"]))]
        reason_code: String,
        #[serde(default)]
        #[schemars(length(max = 1000))]
        explanation: String,
        #[schemars(length(max = 20))]
        evidence: Vec<E>,
    },
    AgreeReturn {
        address: Address,
        #[serde(default)]
        refuse_freight_collect: bool,
    },
    ReceivedRefund,
    /// L5: the return arrived short: the units found per line (a line not named arrived with
    /// none). The refund covers them; the missing units go to a case of their own, awaiting the
    /// shop's word (refund anyway, or reject with evidence).
    ReceivedPart {
        #[schemars(length(min = 1, max = 100))]
        received: Vec<crate::lines::receipt::Received>,
    },
    ExtendReceipt,
    RemindBuyer,
    Propose {
        kind: CaseType,
        amount: Money,
        #[serde(default)]
        address: Option<Address>,
    },
    SubmitEvidence {
        #[schemars(length(max = 2000))]
        explanation: String,
        #[serde(default)]
        #[schemars(length(max = 20))]
        evidence: Vec<E>,
    },
    UploadVoucher {
        #[schemars(length(max = 20))]
        evidence: Vec<E>,
    },
    Appeal {
        #[schemars(length(max = 2000))]
        text: String,
        #[serde(default)]
        #[schemars(length(max = 20))]
        evidence: Vec<E>,
    },
    SetRemark {
        #[schemars(length(max = 500))]
        text: String,
    },
    // platform
    RequestEvidence {
        #[schemars(length(max = 1000))]
        instructions: String,
    },
    Rule {
        for_party: Party,
        #[schemars(length(max = 1000))]
        reason: String,
    },
    ReviewAppeal,
    DecideAppeal {
        upheld: bool,
        #[schemars(length(max = 1000))]
        reason: String,
    },
    // system
    Expire {
        kind: DeadlineKind,
    },
    RecordRefundOutcome {
        ok: bool,
        #[serde(default)]
        detail: String,
    },
    ReturnParcelSigned,
    // K1/K2
    /// The merchant ships the replacement or the missing units (for a resend under review,
    /// shipping is agreeing).
    ShipReplacement {
        logistics: Logistics,
    },
    /// The buyer confirms the replacement arrived as it should (K1).
    ConfirmReplacement,
    /// The logistics feed: the replacement or resend was delivered.
    ReplacementDelivered,
    // I1
    /// The merchant asks the carrier to stop the parcel instead of rejecting the refund.
    RequestIntercept,
    /// The logistics feed: the carrier stopped the parcel, or could not (with why), and the cost.
    InterceptResult {
        stopped: bool,
        #[serde(default)]
        #[schemars(length(max = 500))]
        reason: String,
        #[serde(default)]
        cost: Option<Money>,
    },
    /// The logistics feed: the stopped parcel is back with the merchant.
    InterceptReturned,
}

/// Command names without their inputs: what `available_actions` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Withdraw,
    Resubmit,
    Escalate,
    SubmitReturnLogistics,
    AcceptProposal,
    DeclineProposal,
    AddEvidence,
    PostMessage,
    Refund,
    RejectByShipping,
    Reject,
    AgreeReturn,
    ReceivedRefund,
    ReceivedPart,
    ExtendReceipt,
    RemindBuyer,
    Propose,
    SubmitEvidence,
    UploadVoucher,
    Appeal,
    SetRemark,
    /// W3: the order's flag, set from one of its cases (an order command, offered on the case).
    SetFlag,
    /// W4: the order's remark, set from one of its cases.
    SetOrderRemark,
    RequestEvidence,
    Rule,
    ReviewAppeal,
    DecideAppeal,
    Expire,
    RecordRefundOutcome,
    ReturnParcelSigned,
    ShipReplacement,
    ConfirmReplacement,
    ReplacementDelivered,
    RequestIntercept,
    InterceptResult,
    InterceptReturned,
}

impl Action {
    pub const ALL: [Action; 36] = [
        Action::Withdraw,
        Action::Resubmit,
        Action::Escalate,
        Action::SubmitReturnLogistics,
        Action::AcceptProposal,
        Action::DeclineProposal,
        Action::AddEvidence,
        Action::PostMessage,
        Action::Refund,
        Action::RejectByShipping,
        Action::Reject,
        Action::AgreeReturn,
        Action::ReceivedRefund,
        Action::ReceivedPart,
        Action::ExtendReceipt,
        Action::RemindBuyer,
        Action::Propose,
        Action::SubmitEvidence,
        Action::UploadVoucher,
        Action::Appeal,
        Action::SetRemark,
        Action::SetFlag,
        Action::SetOrderRemark,
        Action::RequestEvidence,
        Action::Rule,
        Action::ReviewAppeal,
        Action::DecideAppeal,
        Action::Expire,
        Action::RecordRefundOutcome,
        Action::ReturnParcelSigned,
        Action::ShipReplacement,
        Action::ConfirmReplacement,
        Action::ReplacementDelivered,
        Action::RequestIntercept,
        Action::InterceptResult,
        Action::InterceptReturned,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Withdraw => "withdraw",
            Action::Resubmit => "resubmit",
            Action::Escalate => "escalate",
            Action::SubmitReturnLogistics => "submit_return_logistics",
            Action::AcceptProposal => "accept_proposal",
            Action::DeclineProposal => "decline_proposal",
            Action::AddEvidence => "add_evidence",
            Action::PostMessage => "post_message",
            Action::Refund => "refund",
            Action::RejectByShipping => "reject_by_shipping",
            Action::Reject => "reject",
            Action::AgreeReturn => "agree_return",
            Action::ReceivedRefund => "received_refund",
            Action::ReceivedPart => "received_part",
            Action::ExtendReceipt => "extend_receipt",
            Action::RemindBuyer => "remind_buyer",
            Action::Propose => "propose",
            Action::SubmitEvidence => "submit_evidence",
            Action::UploadVoucher => "upload_voucher",
            Action::Appeal => "appeal",
            Action::SetRemark => "set_remark",
            Action::SetFlag => "set_flag",
            Action::SetOrderRemark => "set_order_remark",
            Action::RequestEvidence => "request_evidence",
            Action::Rule => "rule",
            Action::ReviewAppeal => "review_appeal",
            Action::DecideAppeal => "decide_appeal",
            Action::Expire => "expire",
            Action::RecordRefundOutcome => "record_refund_outcome",
            Action::ReturnParcelSigned => "return_parcel_signed",
            Action::ShipReplacement => "ship_replacement",
            Action::ConfirmReplacement => "confirm_replacement",
            Action::ReplacementDelivered => "replacement_delivered",
            Action::RequestIntercept => "request_intercept",
            Action::InterceptResult => "intercept_result",
            Action::InterceptReturned => "intercept_returned",
        }
    }

    /// Which side may take the action at all.
    pub fn parties(&self) -> &'static [Party] {
        use Party::*;
        match self {
            Action::Withdraw
            | Action::Resubmit
            | Action::SubmitReturnLogistics
            | Action::AcceptProposal
            | Action::DeclineProposal
            | Action::ConfirmReplacement => &[Buyer],
            Action::Escalate | Action::AddEvidence | Action::PostMessage => &[Buyer, Merchant],
            Action::Refund
            | Action::RejectByShipping
            | Action::Reject
            | Action::AgreeReturn
            | Action::ReceivedRefund
            | Action::ReceivedPart
            | Action::ExtendReceipt
            | Action::RemindBuyer
            | Action::Propose
            | Action::SubmitEvidence
            | Action::UploadVoucher
            | Action::Appeal
            | Action::SetRemark
            | Action::SetFlag
            | Action::SetOrderRemark
            | Action::ShipReplacement
            | Action::RequestIntercept => &[Merchant],
            Action::RequestEvidence | Action::Rule | Action::ReviewAppeal | Action::DecideAppeal => &[Platform],
            Action::Expire
            | Action::RecordRefundOutcome
            | Action::ReturnParcelSigned
            | Action::ReplacementDelivered
            | Action::InterceptResult
            | Action::InterceptReturned => &[System],
        }
    }

    /// The deadlines whose passing ends this action.
    pub fn governed_by(&self) -> &'static [DeadlineKind] {
        use DeadlineKind::*;
        match self {
            Action::Refund
            | Action::RejectByShipping
            | Action::AgreeReturn
            | Action::Propose
            | Action::AcceptProposal
            | Action::DeclineProposal => &[Review],
            Action::Reject => &[Review, Receipt],
            Action::ReceivedRefund | Action::ReceivedPart | Action::ExtendReceipt => &[Receipt],
            Action::SubmitReturnLogistics => &[BuyerShip],
            Action::UploadVoucher => &[Voucher],
            Action::SubmitEvidence => &[Evidence],
            Action::Resubmit => &[BuyerAfterRejection],
            Action::Escalate => &[BuyerAfterRejection],
            Action::Appeal => &[AppealWindow],
            Action::ShipReplacement => &[Review, ReplacementShip],
            Action::RequestIntercept => &[Review],
            Action::ConfirmReplacement => &[ReplacementConfirm],
            _ => &[],
        }
    }
}

impl<E> CaseCommandOf<E> {
    /// The evidence the command carries (none for most commands).
    pub fn evidence(&self) -> &[E] {
        use CaseCommandOf as C;
        match self {
            C::Resubmit { evidence, .. }
            | C::AddEvidence { evidence }
            | C::Reject { evidence, .. }
            | C::SubmitEvidence { evidence, .. }
            | C::UploadVoucher { evidence }
            | C::Appeal { evidence, .. } => evidence,
            _ => &[],
        }
    }

    /// The same command with its evidence named another way (`f` gets each item's index).
    pub fn try_map_evidence<F, X>(self, mut f: impl FnMut(usize, E) -> Result<F, X>) -> Result<CaseCommandOf<F>, X> {
        let mut all =
            |items: Vec<E>| items.into_iter().enumerate().map(|(i, e)| f(i, e)).collect::<Result<Vec<F>, X>>();
        use CaseCommandOf as C;
        Ok(match self {
            C::Resubmit { kind, reason, amount, description, evidence } => {
                C::Resubmit { kind, reason, amount, description, evidence: all(evidence)? }
            }
            C::AddEvidence { evidence } => C::AddEvidence { evidence: all(evidence)? },
            C::Reject { reason_code, explanation, evidence } => {
                C::Reject { reason_code, explanation, evidence: all(evidence)? }
            }
            C::SubmitEvidence { explanation, evidence } => C::SubmitEvidence { explanation, evidence: all(evidence)? },
            C::UploadVoucher { evidence } => C::UploadVoucher { evidence: all(evidence)? },
            C::Appeal { text, evidence } => C::Appeal { text, evidence: all(evidence)? },
            C::Withdraw => C::Withdraw,
            C::Escalate { reason } => C::Escalate { reason },
            C::SubmitReturnLogistics { logistics, refund_account } => {
                C::SubmitReturnLogistics { logistics, refund_account }
            }
            C::AcceptProposal => C::AcceptProposal,
            C::DeclineProposal => C::DeclineProposal,
            C::PostMessage { text } => C::PostMessage { text },
            C::Refund => C::Refund,
            C::RejectByShipping { logistics } => C::RejectByShipping { logistics },
            C::AgreeReturn { address, refuse_freight_collect } => C::AgreeReturn { address, refuse_freight_collect },
            C::ReceivedRefund => C::ReceivedRefund,
            C::ReceivedPart { received } => C::ReceivedPart { received },
            C::ExtendReceipt => C::ExtendReceipt,
            C::RemindBuyer => C::RemindBuyer,
            C::Propose { kind, amount, address } => C::Propose { kind, amount, address },
            C::SetRemark { text } => C::SetRemark { text },
            C::RequestEvidence { instructions } => C::RequestEvidence { instructions },
            C::Rule { for_party, reason } => C::Rule { for_party, reason },
            C::ReviewAppeal => C::ReviewAppeal,
            C::DecideAppeal { upheld, reason } => C::DecideAppeal { upheld, reason },
            C::Expire { kind } => C::Expire { kind },
            C::RecordRefundOutcome { ok, detail } => C::RecordRefundOutcome { ok, detail },
            C::ReturnParcelSigned => C::ReturnParcelSigned,
            C::ShipReplacement { logistics } => C::ShipReplacement { logistics },
            C::ConfirmReplacement => C::ConfirmReplacement,
            C::ReplacementDelivered => C::ReplacementDelivered,
            C::RequestIntercept => C::RequestIntercept,
            C::InterceptResult { stopped, reason, cost } => C::InterceptResult { stopped, reason, cost },
            C::InterceptReturned => C::InterceptReturned,
        })
    }

    pub fn action(&self) -> Action {
        match self {
            CaseCommandOf::Withdraw => Action::Withdraw,
            CaseCommandOf::Resubmit { .. } => Action::Resubmit,
            CaseCommandOf::Escalate { .. } => Action::Escalate,
            CaseCommandOf::SubmitReturnLogistics { .. } => Action::SubmitReturnLogistics,
            CaseCommandOf::AcceptProposal => Action::AcceptProposal,
            CaseCommandOf::DeclineProposal => Action::DeclineProposal,
            CaseCommandOf::AddEvidence { .. } => Action::AddEvidence,
            CaseCommandOf::PostMessage { .. } => Action::PostMessage,
            CaseCommandOf::Refund => Action::Refund,
            CaseCommandOf::RejectByShipping { .. } => Action::RejectByShipping,
            CaseCommandOf::Reject { .. } => Action::Reject,
            CaseCommandOf::AgreeReturn { .. } => Action::AgreeReturn,
            CaseCommandOf::ReceivedRefund => Action::ReceivedRefund,
            CaseCommandOf::ReceivedPart { .. } => Action::ReceivedPart,
            CaseCommandOf::ExtendReceipt => Action::ExtendReceipt,
            CaseCommandOf::RemindBuyer => Action::RemindBuyer,
            CaseCommandOf::Propose { .. } => Action::Propose,
            CaseCommandOf::SubmitEvidence { .. } => Action::SubmitEvidence,
            CaseCommandOf::UploadVoucher { .. } => Action::UploadVoucher,
            CaseCommandOf::Appeal { .. } => Action::Appeal,
            CaseCommandOf::SetRemark { .. } => Action::SetRemark,
            CaseCommandOf::RequestEvidence { .. } => Action::RequestEvidence,
            CaseCommandOf::Rule { .. } => Action::Rule,
            CaseCommandOf::ReviewAppeal => Action::ReviewAppeal,
            CaseCommandOf::DecideAppeal { .. } => Action::DecideAppeal,
            CaseCommandOf::Expire { .. } => Action::Expire,
            CaseCommandOf::RecordRefundOutcome { .. } => Action::RecordRefundOutcome,
            CaseCommandOf::ReturnParcelSigned => Action::ReturnParcelSigned,
            CaseCommandOf::ShipReplacement { .. } => Action::ShipReplacement,
            CaseCommandOf::ConfirmReplacement => Action::ConfirmReplacement,
            CaseCommandOf::ReplacementDelivered => Action::ReplacementDelivered,
            CaseCommandOf::RequestIntercept => Action::RequestIntercept,
            CaseCommandOf::InterceptResult { .. } => Action::InterceptResult,
            CaseCommandOf::InterceptReturned => Action::InterceptReturned,
        }
    }
}

/// A reason as a client shows it: its stable code and its labels in Simplified Chinese and English.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Reason {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

const fn reason(code: &'static str, zh: &'static str, en: &'static str) -> Reason {
    Reason { code, zh, en }
}

/// S4/M2: the platform's list of rejection reasons, with the stages each applies to. Every
/// rejection also needs evidence (S4).
pub const REJECT_REASONS: &[(Reason, &[crate::model::Stage])] = {
    use crate::model::Stage::{Receipt, Review};
    &[
        (reason("no_quality_issue", "商品无质量问题", "no quality problem found"), &[Review]),
        (reason("not_as_claimed", "与买家描述不符", "the goods are not as the buyer claims"), &[Review, Receipt]),
        (reason("agreed_otherwise", "已与买家协商一致", "agreed otherwise with the buyer"), &[Review]),
        (reason("outside_policy", "不符合售后政策", "outside the after-sales policy"), &[Review, Receipt]),
        (reason("used_or_damaged", "退回商品已使用或损坏", "returned goods used or damaged"), &[Receipt]),
        (reason("missing_parts", "退回商品缺件", "returned goods incomplete"), &[Receipt]),
        (reason("wrong_item_returned", "退回商品非本店商品", "not the item sold"), &[Receipt]),
        (reason("not_received", "未收到退货", "return parcel not received"), &[Receipt]),
    ]
};

/// T1: reasons a buyer may give (any of them, for any case type).
pub const APPLY_REASONS: &[Reason] = &[
    reason("no_longer_needed", "不想要了", "no longer needed"),
    reason("not_shipped_on_time", "未按约定时间发货", "not shipped on time"),
    reason("not_delivered", "未收到货", "not delivered"),
    reason("missing_or_wrong_item", "少件/发错货", "missing or wrong item"),
    reason("damaged", "商品破损", "damaged"),
    reason("defective", "商品有质量问题", "defective"),
    reason("not_as_described", "与商品描述不符", "not as described"),
    reason("quality_issue", "质量问题", "quality issue"),
    reason("other", "其他", "other"),
];

/// R4: the fixed, non-editable text a merchant may append to the SMS notice.
pub const REFUSE_FREIGHT_COLLECT_TEXT: &str = "拒收到付/EMS/顺丰/邮政包邮";

/// Who a deadline waits for: the parties whose actions its passing ends (from `governed_by`),
/// the party with the most such actions first (the merchant for the review, within which the
/// buyer may also answer a proposal). A deadline that waits for the merchant first and passes
/// decides the case against the shop.
pub fn waits_for(kind: crate::deadline::DeadlineKind) -> Vec<Party> {
    let mut counts: Vec<(Party, usize)> = Vec::new();
    for a in Action::ALL {
        if a.governed_by().contains(&kind) {
            for p in a.parties() {
                match counts.iter_mut().find(|(q, _)| q == p) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((*p, 1)),
                }
            }
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.into_iter().map(|(p, _)| p).collect()
}
