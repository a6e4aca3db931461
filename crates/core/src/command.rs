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
        reason: String,
        #[serde(default)]
        buyer_contacted: bool,
    },
    SetFlag {
        flag: Option<Flag>,
    },
    SetRemark {
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
}

/// U1/S1/R1/T1: a buyer's application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Apply {
    pub kind: CaseType,
    pub reason: String,
    pub amount: Money,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub refund_account: Option<RefundAccount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum CaseCommand {
    // buyer
    Withdraw,
    Resubmit {
        kind: CaseType,
        reason: String,
        amount: Money,
        #[serde(default)]
        description: String,
        #[serde(default)]
        evidence: Vec<Evidence>,
    },
    Escalate {
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
        evidence: Vec<Evidence>,
    },
    PostMessage {
        text: String,
    },
    // merchant
    Refund,
    RejectByShipping {
        logistics: Logistics,
    },
    Reject {
        reason_code: String,
        #[serde(default)]
        explanation: String,
        evidence: Vec<Evidence>,
    },
    AgreeReturn {
        address: Address,
        #[serde(default)]
        refuse_freight_collect: bool,
    },
    ReceivedRefund,
    ExtendReceipt,
    RemindBuyer,
    Propose {
        kind: CaseType,
        amount: Money,
        #[serde(default)]
        address: Option<Address>,
    },
    SubmitEvidence {
        explanation: String,
        #[serde(default)]
        evidence: Vec<Evidence>,
    },
    UploadVoucher {
        evidence: Vec<Evidence>,
    },
    Appeal {
        text: String,
        #[serde(default)]
        evidence: Vec<Evidence>,
    },
    SetRemark {
        text: String,
    },
    // platform
    RequestEvidence {
        instructions: String,
    },
    Rule {
        for_party: Party,
        reason: String,
    },
    ReviewAppeal,
    DecideAppeal {
        upheld: bool,
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
    ExtendReceipt,
    RemindBuyer,
    Propose,
    SubmitEvidence,
    UploadVoucher,
    Appeal,
    SetRemark,
    RequestEvidence,
    Rule,
    ReviewAppeal,
    DecideAppeal,
    Expire,
    RecordRefundOutcome,
    ReturnParcelSigned,
}

impl Action {
    pub const ALL: [Action; 27] = [
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
        Action::ExtendReceipt,
        Action::RemindBuyer,
        Action::Propose,
        Action::SubmitEvidence,
        Action::UploadVoucher,
        Action::Appeal,
        Action::SetRemark,
        Action::RequestEvidence,
        Action::Rule,
        Action::ReviewAppeal,
        Action::DecideAppeal,
        Action::Expire,
        Action::RecordRefundOutcome,
        Action::ReturnParcelSigned,
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
            Action::ExtendReceipt => "extend_receipt",
            Action::RemindBuyer => "remind_buyer",
            Action::Propose => "propose",
            Action::SubmitEvidence => "submit_evidence",
            Action::UploadVoucher => "upload_voucher",
            Action::Appeal => "appeal",
            Action::SetRemark => "set_remark",
            Action::RequestEvidence => "request_evidence",
            Action::Rule => "rule",
            Action::ReviewAppeal => "review_appeal",
            Action::DecideAppeal => "decide_appeal",
            Action::Expire => "expire",
            Action::RecordRefundOutcome => "record_refund_outcome",
            Action::ReturnParcelSigned => "return_parcel_signed",
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
            | Action::DeclineProposal => &[Buyer],
            Action::Escalate | Action::AddEvidence | Action::PostMessage => &[Buyer, Merchant],
            Action::Refund
            | Action::RejectByShipping
            | Action::Reject
            | Action::AgreeReturn
            | Action::ReceivedRefund
            | Action::ExtendReceipt
            | Action::RemindBuyer
            | Action::Propose
            | Action::SubmitEvidence
            | Action::UploadVoucher
            | Action::Appeal
            | Action::SetRemark => &[Merchant],
            Action::RequestEvidence | Action::Rule | Action::ReviewAppeal | Action::DecideAppeal => &[Platform],
            Action::Expire | Action::RecordRefundOutcome | Action::ReturnParcelSigned => &[System],
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
            Action::ReceivedRefund | Action::ExtendReceipt => &[Receipt],
            Action::SubmitReturnLogistics => &[BuyerShip],
            Action::UploadVoucher => &[Voucher],
            Action::SubmitEvidence => &[Evidence],
            Action::Resubmit => &[BuyerAfterRejection],
            Action::Escalate => &[BuyerAfterRejection],
            Action::Appeal => &[AppealWindow],
            _ => &[],
        }
    }
}

impl CaseCommand {
    pub fn action(&self) -> Action {
        match self {
            CaseCommand::Withdraw => Action::Withdraw,
            CaseCommand::Resubmit { .. } => Action::Resubmit,
            CaseCommand::Escalate { .. } => Action::Escalate,
            CaseCommand::SubmitReturnLogistics { .. } => Action::SubmitReturnLogistics,
            CaseCommand::AcceptProposal => Action::AcceptProposal,
            CaseCommand::DeclineProposal => Action::DeclineProposal,
            CaseCommand::AddEvidence { .. } => Action::AddEvidence,
            CaseCommand::PostMessage { .. } => Action::PostMessage,
            CaseCommand::Refund => Action::Refund,
            CaseCommand::RejectByShipping { .. } => Action::RejectByShipping,
            CaseCommand::Reject { .. } => Action::Reject,
            CaseCommand::AgreeReturn { .. } => Action::AgreeReturn,
            CaseCommand::ReceivedRefund => Action::ReceivedRefund,
            CaseCommand::ExtendReceipt => Action::ExtendReceipt,
            CaseCommand::RemindBuyer => Action::RemindBuyer,
            CaseCommand::Propose { .. } => Action::Propose,
            CaseCommand::SubmitEvidence { .. } => Action::SubmitEvidence,
            CaseCommand::UploadVoucher { .. } => Action::UploadVoucher,
            CaseCommand::Appeal { .. } => Action::Appeal,
            CaseCommand::SetRemark { .. } => Action::SetRemark,
            CaseCommand::RequestEvidence { .. } => Action::RequestEvidence,
            CaseCommand::Rule { .. } => Action::Rule,
            CaseCommand::ReviewAppeal => Action::ReviewAppeal,
            CaseCommand::DecideAppeal { .. } => Action::DecideAppeal,
            CaseCommand::Expire { .. } => Action::Expire,
            CaseCommand::RecordRefundOutcome { .. } => Action::RecordRefundOutcome,
            CaseCommand::ReturnParcelSigned => Action::ReturnParcelSigned,
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
