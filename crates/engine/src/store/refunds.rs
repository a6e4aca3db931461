//! The refund ledger: one row per refund the rules started (M5), what was asked of the payment
//! gateway, how often, and what it answered. The engine decides (when a refund is sent again,
//! what an answer means for the case); the stores keep rows, and hand due rows to one node at a
//! time under leases, as they do deadlines.

use super::StoreError;
use aftersale_core::values::*;
use aftersale_core::{Money, Timestamp};

/// Where a refund stands in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerStatus {
    /// To be sent to the gateway (first time, or again after a timeout or a 5xx) at `next_at`.
    Requested,
    /// The gateway took it and has not said how it ended: settled by its callback, or, for
    /// Alipay, by asking at `next_at`.
    Pending,
    /// `manual`: finance pays it and marks it paid or failed.
    AwaitingPayout,
    Succeeded,
    /// Failed for good (the gateway said so, or finance did): in the failed queue until
    /// finance settles it.
    Failed,
}

impl LedgerStatus {
    pub const ALL: [LedgerStatus; 5] = [
        LedgerStatus::Requested,
        LedgerStatus::Pending,
        LedgerStatus::AwaitingPayout,
        LedgerStatus::Succeeded,
        LedgerStatus::Failed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            LedgerStatus::Requested => "requested",
            LedgerStatus::Pending => "pending",
            LedgerStatus::AwaitingPayout => "awaiting_payout",
            LedgerStatus::Succeeded => "succeeded",
            LedgerStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<LedgerStatus> {
        LedgerStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the refund has ended (paid, or failed for good).
    pub fn is_final(&self) -> bool {
        matches!(self, LedgerStatus::Succeeded | LedgerStatus::Failed)
    }
}

/// One refund. Its `id` is the idempotency key every gateway is given (`rf_<id>`): a refund is
/// never sent under two ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRow {
    pub id: i64,
    pub case: CaseId,
    pub order: OrderId,
    /// The order's number, as the payment was made under it.
    pub order_no: String,
    pub shop: ShopId,
    pub amount: Money,
    /// The gateway it goes (or went) through: `simulated`, `manual`, `http`, `alipay`.
    pub gateway: String,
    pub status: LedgerStatus,
    /// Requests sent to the gateway (or settlements by the simulated one).
    pub attempts: u32,
    /// The gateway's (or the bank's) reference for the payment.
    pub reference: Option<String>,
    pub last_error: Option<String>,
    /// Service-clock times.
    pub requested_at: Timestamp,
    pub settled_at: Option<Timestamp>,
    /// When a node next sends or asks about it.
    pub next_at: Option<Timestamp>,
}

impl RefundRow {
    /// The key every gateway is given for this refund.
    pub fn key(&self) -> String {
        format!("rf_{}", self.id)
    }
}

/// Which refunds a list takes; every part optional.
#[derive(Clone, Debug, Default)]
pub struct RefundFilter {
    pub shop: Option<ShopId>,
    pub case: Option<CaseId>,
    pub status: Option<LedgerStatus>,
    /// Requested at or after / before (service clock).
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Ids above this one (the keyset cursor), oldest first.
    pub after: Option<i64>,
    pub limit: usize,
}

pub trait RefundReads {
    fn refund(&mut self, id: i64) -> Result<Option<RefundRow>, StoreError>;
    /// The latest refund of a case.
    fn refund_of_case(&mut self, case: CaseId) -> Result<Option<RefundRow>, StoreError>;
    /// Refunds matching `f`, by id, oldest first.
    fn refunds(&mut self, f: &RefundFilter) -> Result<Vec<RefundRow>, StoreError>;
}

pub trait RefundWrites {
    /// Inserts `r` (its `id` ignored) and answers its id.
    fn insert_refund(&mut self, r: &RefundRow) -> Result<i64, StoreError>;
    /// Writes every changing field of `r` over the row of its id, and ends its lease.
    fn update_refund(&mut self, r: &RefundRow) -> Result<(), StoreError>;
    /// Claims up to `limit` refunds of these gateways, requested or pending, due at `now`,
    /// that no live lease holds (lease times are wall-clock ms), oldest due first.
    fn claim_refunds(
        &mut self,
        gateways: &[&str],
        now: Timestamp,
        limit: usize,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<RefundRow>, StoreError>;
}
