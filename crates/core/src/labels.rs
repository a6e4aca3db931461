//! What clients show for the rules' values, in Simplified Chinese and English: the workbench
//! queues (W1), case statuses, case types and flag colours. Data only; the API serves it and the
//! pages use it.

use crate::model::{CaseType, Queue, StatusName};
use crate::values::Flag;
use schemars::JsonSchema;
use serde::Serialize;

/// A value with its labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Label<T> {
    pub value: T,
    pub zh: &'static str,
    pub en: &'static str,
}

const fn label<T>(value: T, zh: &'static str, en: &'static str) -> Label<T> {
    Label { value, zh, en }
}

/// W1: the queues of the merchant's workbench, in the order the tabs show them.
pub const QUEUES: [Label<Queue>; 11] = [
    label(Queue::RefundUnshipped, "待审核·仅退款(未发货)", "To review: refund before shipment"),
    label(Queue::RefundOnly, "待审核·仅退款(已发货)", "To review: refund only"),
    label(Queue::ReturnReview, "待审核·退货退款", "To review: return and refund"),
    label(Queue::AwaitingBuyerReturn, "待买家退货", "Awaiting the buyer's return"),
    label(Queue::AwaitingReceipt, "待商家收货", "Awaiting receipt"),
    label(Queue::AwaitingEvidence, "待举证", "Evidence requested"),
    label(Queue::InArbitration, "平台仲裁中", "In arbitration"),
    label(Queue::NegotiationPending, "协商待买家确认", "Negotiation pending"),
    label(Queue::AwaitingReplacement, "待商家发货·换货/补寄", "To ship: exchanges and resends"),
    label(Queue::InProgress, "处理中", "In progress"),
    label(Queue::Closed, "已关闭", "Closed"),
];

pub const STATUSES: [Label<StatusName>; 12] = [
    label(StatusName::AwaitingReview, "待商家处理", "Awaiting the merchant's review"),
    label(StatusName::Rejected, "商家已拒绝", "Rejected by the merchant"),
    label(StatusName::AwaitingBuyerReturn, "待买家退货", "Awaiting the buyer's return"),
    label(StatusName::AwaitingReceipt, "待商家收货", "Awaiting receipt"),
    label(StatusName::InArbitration, "平台仲裁中", "In arbitration"),
    label(StatusName::AwaitingVoucher, "待上传退款凭证", "Awaiting the refund voucher"),
    label(StatusName::Refunding, "退款中", "Refunding"),
    label(StatusName::AwaitingReplacement, "待商家发货", "Awaiting the shop's shipment"),
    label(StatusName::ReplacementSent, "商家已发货", "Shipped by the shop"),
    label(StatusName::Intercepting, "物流拦截中", "Parcel being intercepted"),
    label(StatusName::Completed, "售后完成", "Completed"),
    label(StatusName::Closed, "售后关闭", "Closed"),
];

pub const CASE_TYPES: [Label<CaseType>; 5] = [
    label(CaseType::RefundUnshipped, "仅退款(未发货)", "Refund before shipment"),
    label(CaseType::RefundOnly, "仅退款(已发货)", "Refund only"),
    label(CaseType::ReturnRefund, "退货退款", "Return and refund"),
    label(CaseType::Exchange, "换货", "Exchange"),
    label(CaseType::Resend, "补寄", "Resend missing items"),
];

pub const FLAGS: [Label<Flag>; 6] = [
    label(Flag::Gray, "灰旗", "Gray"),
    label(Flag::Red, "红旗", "Red"),
    label(Flag::Yellow, "黄旗", "Yellow"),
    label(Flag::Green, "绿旗", "Green"),
    label(Flag::Blue, "蓝旗", "Blue"),
    label(Flag::Purple, "紫旗", "Purple"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_queue_status_type_and_flag_has_its_labels_once() {
        assert_eq!(QUEUES.map(|l| l.value), Queue::ALL);
        assert_eq!(FLAGS.map(|l| l.value), Flag::ALL);
        for l in QUEUES.iter().map(|l| (l.zh, l.en)).chain(STATUSES.iter().map(|l| (l.zh, l.en))) {
            assert!(!l.0.is_empty() && !l.1.is_empty());
        }
        let mut statuses: Vec<_> = STATUSES.iter().map(|l| format!("{:?}", l.value)).collect();
        statuses.dedup();
        assert_eq!(statuses.len(), 12);
        assert_eq!(CASE_TYPES.map(|l| l.value), CaseType::ALL);
    }
}
