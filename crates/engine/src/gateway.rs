//! The payment-gateway interface refunds go through (M5). The built-in gateway settles every
//! refund when asked, which the deadline runner does one working day after the refund started.

use aftersale_core::model::{Case, Refund};
use aftersale_core::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayOutcome {
    Succeeded,
    Failed(String),
}

pub trait PaymentGateway: Send + Sync {
    /// Called when a refund is due to settle (or be retried). Must be idempotent per case.
    fn settle(&self, case: &Case, refund: &Refund, now: Timestamp) -> GatewayOutcome;
}

/// Settles on the service's clock: the refund deadline already waited the working day.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuiltinGateway;

impl PaymentGateway for BuiltinGateway {
    fn settle(&self, _case: &Case, _refund: &Refund, _now: Timestamp) -> GatewayOutcome {
        GatewayOutcome::Succeeded
    }
}
