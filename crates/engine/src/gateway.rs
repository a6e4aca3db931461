//! The payment-gateway interface refunds go through (M5). The built-in gateway settles every
//! refund when asked, which the deadline runner does one working day after the refund started.

use aftersale_core::model::{Case, Refund};
use aftersale_core::{Payout, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayOutcome {
    Succeeded,
    Failed(String),
}

pub trait PaymentGateway: Send + Sync {
    /// Called when a refund is due to settle (or be retried). Must be idempotent per case.
    fn settle(&self, case: &Case, refund: &Refund, now: Timestamp) -> GatewayOutcome;

    /// How refunds are paid: only the simulated gateway is asked by the deadline runner; the
    /// others are sent by a node's refund dispatcher or settled by finance (`crate::refunds`).
    fn payout(&self) -> Payout {
        Payout::Simulated
    }
}

/// A gateway outside the transaction: `manual`, `http` or `alipay`. The deadline runner never
/// asks it; a refund the simulated gateway had scheduled before the deployment switched is
/// failed into the ledger's failed queue, for finance, never marked paid unasked.
#[derive(Clone, Copy, Debug)]
pub struct ExternalGateway(pub Payout);

impl PaymentGateway for ExternalGateway {
    fn settle(&self, _case: &Case, _refund: &Refund, _now: Timestamp) -> GatewayOutcome {
        GatewayOutcome::Failed(format!(
            "started under the simulated gateway; the {} gateway pays it: settle it in the refund ledger",
            self.0.as_str()
        ))
    }

    fn payout(&self) -> Payout {
        self.0
    }
}

/// Settles on the service's clock: the refund deadline already waited the working day.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuiltinGateway;

impl PaymentGateway for BuiltinGateway {
    fn settle(&self, _case: &Case, _refund: &Refund, _now: Timestamp) -> GatewayOutcome {
        GatewayOutcome::Succeeded
    }
}
