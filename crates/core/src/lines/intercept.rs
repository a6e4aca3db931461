//! I1: a logistics intercept (拦截). For a refund asked for after shipment and before delivery, the
//! merchant may ask the carrier to stop the parcel instead of rejecting the refund (U3). The case
//! then waits for the carrier's answer, which the logistics feed reports as it reports
//! deliveries:
//!
//! - intercepted: the parcel comes back, and the refund proceeds once it is back;
//! - failed: the case goes on as a refund only after delivery.
//!
//! What the intercept cost is recorded on the case, whichever way it ends.

use super::eligibility::Remedy;
use crate::actor::Party;
use crate::model::OrderState;
use crate::money::Money;
use crate::refusal::Refusal;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Where an intercept stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InterceptState {
    /// Asked of the carrier; the case waits for its answer.
    Requested { at: Timestamp },
    /// Stopped: the parcel is on its way back.
    Intercepted { at: Timestamp },
    /// Back with the merchant: the refund proceeds.
    Returned { at: Timestamp },
    /// The carrier could not stop it: the case goes on after delivery.
    Failed { at: Timestamp, reason: String },
}

/// An intercept on a case, with what it cost once known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Intercept {
    pub state: InterceptState,
    pub cost: Option<Money>,
}

/// What a step of an intercept means for the case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InterceptStep {
    /// The parcel was stopped; the case waits for it to come back.
    Intercepted,
    /// The parcel is back: the refund proceeds.
    RefundProceeds,
    /// Not stopped: the case goes on as a refund only after delivery.
    ContinuesAfterDelivery,
}

impl Intercept {
    /// The merchant asks for an intercept on a refund-only case of an order shipped and not
    /// delivered (I1). Anyone else, another case, or a parcel delivered (or not yet sent): refused.
    pub fn request(party: Party, remedy: Remedy, order: OrderState, now: Timestamp) -> Result<Intercept, Refusal> {
        if party != Party::Merchant {
            return Err(Refusal::NotAllowedFor { party, action: "request_intercept", rule: "I1" });
        }
        if remedy != Remedy::RefundOnly {
            return Err(Refusal::WrongState {
                action: "request_intercept",
                subject: "case",
                state: remedy.as_str().into(),
                rule: "I1",
            });
        }
        if order != OrderState::Shipped {
            return Err(Refusal::WrongState {
                action: "request_intercept",
                subject: "order",
                state: order.as_str().into(),
                rule: "I1",
            });
        }
        Ok(Intercept { state: InterceptState::Requested { at: now }, cost: None })
    }

    fn wrong(&self, action: &'static str) -> Refusal {
        let state = match self.state {
            InterceptState::Requested { .. } => "requested",
            InterceptState::Intercepted { .. } => "intercepted",
            InterceptState::Returned { .. } => "returned",
            InterceptState::Failed { .. } => "failed",
        };
        Refusal::WrongState { action, subject: "intercept", state: state.into(), rule: "I1" }
    }

    fn from_feed(party: Party, action: &'static str) -> Result<(), Refusal> {
        if party == Party::System {
            Ok(())
        } else {
            Err(Refusal::NotAllowedFor { party, action, rule: "I1" })
        }
    }

    /// The carrier's answer, from the logistics feed, with what the intercept cost.
    pub fn answered(
        &mut self,
        party: Party,
        stopped: bool,
        reason: &str,
        cost: Option<Money>,
        now: Timestamp,
    ) -> Result<InterceptStep, Refusal> {
        Self::from_feed(party, "intercept_result")?;
        let InterceptState::Requested { .. } = self.state else { return Err(self.wrong("intercept_result")) };
        if !stopped && reason.trim().is_empty() {
            return Err(Refusal::MissingField { field: "reason", rule: "I1" });
        }
        self.cost = cost.or(self.cost);
        if stopped {
            self.state = InterceptState::Intercepted { at: now };
            Ok(InterceptStep::Intercepted)
        } else {
            self.state = InterceptState::Failed { at: now, reason: reason.trim().to_string() };
            Ok(InterceptStep::ContinuesAfterDelivery)
        }
    }

    /// The stopped parcel is back with the merchant (the feed): the refund proceeds.
    pub fn back(&mut self, party: Party, now: Timestamp) -> Result<InterceptStep, Refusal> {
        Self::from_feed(party, "intercept_returned")?;
        let InterceptState::Intercepted { .. } = self.state else { return Err(self.wrong("intercept_returned")) };
        self.state = InterceptState::Returned { at: now };
        Ok(InterceptStep::RefundProceeds)
    }
}
