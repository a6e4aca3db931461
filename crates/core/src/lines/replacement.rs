//! K1 and K2: the goods sent again instead of money.
//!
//! - **Exchange (K1)**: once the merchant has confirmed receipt of the returned units (the review,
//!   the buyer's shipping and the receipt run as for a return, R2/R5/M1–M4), the merchant ships
//!   the replacement with logistics within `replacement_ship` (48 hours by default). The buyer
//!   confirms it, or it is confirmed `replacement_confirm` (7 days by default) after delivery. An
//!   exchange moves no money unless the variants' prices differ, and then only the difference,
//!   each way.
//! - **Resend (K2)**: once the merchant agrees, the missing units are shipped with logistics within
//!   `replacement_ship`; no parcel goes back. Delivered, the case completes.
//!
//! A merchant who does not ship in time has refunded those units instead: the case turns into a
//! refund of them (their L2 amount) and the buyer is told.

use super::eligibility::Remedy;
use super::units::Pick;
use crate::actor::Party;
use crate::money::Money;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::time::Timestamp;
use crate::values::Logistics;
use serde::{Deserialize, Serialize};

/// Where a replacement (K1) or a resend (K2) stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ShipmentState {
    /// The merchant must ship by `due`.
    AwaitingShipment {
        due: Timestamp,
    },
    Shipped {
        logistics: Logistics,
        at: Timestamp,
    },
    /// K1: the buyer confirms by `confirm_due`, or silence confirms it.
    Delivered {
        at: Timestamp,
        confirm_due: Timestamp,
    },
    /// Ended: the buyer has the goods (confirmed by the buyer, by silence, or a resend delivered).
    Completed {
        by: Party,
        at: Timestamp,
    },
    /// Ended: not shipped in time; the units are refunded instead.
    TurnedToRefund {
        amount: Money,
        at: Timestamp,
    },
}

/// K1: what an exchange for a variant at another price moves, each way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "way", content = "amount", rename_all = "snake_case")]
pub enum Difference {
    /// The same price: no money moves.
    None,
    /// The new variant costs more: the buyer pays this.
    BuyerPays(Money),
    /// The new variant costs less: the buyer is refunded this.
    BuyerRefunded(Money),
}

/// The goods a case sends: its kind, its units, and where the shipment stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Shipment {
    pub remedy: Remedy,
    pub units: Vec<Pick>,
    /// K1: what moves for a variant at another price.
    pub difference: Difference,
    /// What refunding the units would pay (L2), if the merchant does not ship in time.
    pub refund_instead: Money,
    pub state: ShipmentState,
}

/// What a step of a shipment did, for the case log and the buyer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShipmentStep {
    Shipped,
    Delivered,
    Completed {
        by: Party,
    },
    /// The buyer is told: the units are refunded instead (K1/K2 on expiry).
    TurnedToRefund {
        amount: Money,
    },
}

/// K1: what an exchange of `units` units, which carried `paid_for_units` (L2), for a variant
/// listed at `new_unit_price` moves. A variant at the same price moves no money.
pub fn exchange_difference(paid_for_units: Money, units: u32, new_unit_price: Money) -> Result<Difference, Refusal> {
    let currency = paid_for_units.currency();
    if new_unit_price.currency() != currency {
        return Err(Refusal::invalid("variant.unit_price", "is in the order's currency", "K1"));
    }
    let new_total = Money::new(new_unit_price.minor().saturating_mul(i64::from(units)), currency)
        .map_err(|e| Refusal::invalid("variant.unit_price", e, "K1"))?;
    Ok(if new_total.minor() > paid_for_units.minor() {
        Difference::BuyerPays(new_total.saturating_sub(paid_for_units))
    } else if new_total.minor() < paid_for_units.minor() {
        Difference::BuyerRefunded(paid_for_units.saturating_sub(new_total))
    } else {
        Difference::None
    })
}

impl Shipment {
    /// A shipment that starts now: K1 when receipt of the returned units is confirmed, K2 when
    /// the merchant agrees to resend.
    pub fn start(
        policy: &Policy,
        remedy: Remedy,
        units: Vec<Pick>,
        difference: Difference,
        refund_instead: Money,
        now: Timestamp,
    ) -> Result<Shipment, Refusal> {
        if !matches!(remedy, Remedy::Exchange | Remedy::Resend) {
            return Err(Refusal::invalid("remedy", "is exchange or resend", "K1"));
        }
        if remedy == Remedy::Resend && difference != Difference::None {
            return Err(Refusal::invalid("difference", "is nothing for a resend", "K2"));
        }
        let due = now + policy.replacement_ship;
        Ok(Shipment { remedy, units, difference, refund_instead, state: ShipmentState::AwaitingShipment { due } })
    }

    fn rule(&self) -> &'static str {
        if self.remedy == Remedy::Resend {
            "K2"
        } else {
            "K1"
        }
    }

    fn wrong(&self, action: &'static str) -> Refusal {
        let state = match &self.state {
            ShipmentState::AwaitingShipment { .. } => "awaiting_shipment",
            ShipmentState::Shipped { .. } => "shipped",
            ShipmentState::Delivered { .. } => "delivered",
            ShipmentState::Completed { .. } => "completed",
            ShipmentState::TurnedToRefund { .. } => "turned_to_refund",
        };
        Refusal::WrongState { action, subject: "replacement", state: state.into(), rule: self.rule() }
    }

    /// The moment the shipment's clock acts next, if one runs.
    pub fn due(&self) -> Option<Timestamp> {
        match &self.state {
            ShipmentState::AwaitingShipment { due } => Some(*due),
            ShipmentState::Delivered { confirm_due, .. } => Some(*confirm_due),
            _ => None,
        }
    }

    /// The merchant ships, with logistics, before the deadline (after it, refused even if it has
    /// not fired yet: the units are being refunded).
    pub fn ship(&mut self, party: Party, logistics: Logistics, now: Timestamp) -> Result<ShipmentStep, Refusal> {
        if party != Party::Merchant {
            return Err(Refusal::NotAllowedFor { party, action: "ship_replacement", rule: self.rule() });
        }
        let ShipmentState::AwaitingShipment { due } = self.state else { return Err(self.wrong("ship_replacement")) };
        if now >= due {
            return Err(Refusal::DeadlinePassed {
                kind: crate::deadline::DeadlineKind::ReplacementShip,
                at: due,
                action: "ship_replacement",
            });
        }
        self.state = ShipmentState::Shipped { logistics, at: now };
        Ok(ShipmentStep::Shipped)
    }

    /// The logistics feed reports the parcel delivered: a resend completes; a replacement waits
    /// for the buyer's word, or for silence.
    pub fn delivered(&mut self, policy: &Policy, now: Timestamp) -> Result<ShipmentStep, Refusal> {
        let ShipmentState::Shipped { .. } = self.state else { return Err(self.wrong("replacement_delivered")) };
        if self.remedy == Remedy::Resend {
            self.state = ShipmentState::Completed { by: Party::System, at: now };
            return Ok(ShipmentStep::Completed { by: Party::System });
        }
        self.state = ShipmentState::Delivered { at: now, confirm_due: now + policy.replacement_confirm };
        Ok(ShipmentStep::Delivered)
    }

    /// The buyer confirms the replacement (K1), once delivered and before silence has.
    pub fn confirm(&mut self, party: Party, now: Timestamp) -> Result<ShipmentStep, Refusal> {
        if party != Party::Buyer {
            return Err(Refusal::NotAllowedFor { party, action: "confirm_replacement", rule: "K1" });
        }
        let ShipmentState::Delivered { confirm_due, .. } = self.state else {
            return Err(self.wrong("confirm_replacement"));
        };
        if now >= confirm_due {
            return Err(Refusal::DeadlinePassed {
                kind: crate::deadline::DeadlineKind::ReplacementConfirm,
                at: confirm_due,
                action: "confirm_replacement",
            });
        }
        self.state = ShipmentState::Completed { by: Party::Buyer, at: now };
        Ok(ShipmentStep::Completed { by: Party::Buyer })
    }

    /// The clock: not shipped in time, the units are refunded instead; delivered and not
    /// confirmed in time, silence confirms. Not due (or nothing runs): refused, nothing changes.
    pub fn fire(&mut self, now: Timestamp) -> Result<ShipmentStep, Refusal> {
        match self.state {
            ShipmentState::AwaitingShipment { due } if now >= due => {
                self.state = ShipmentState::TurnedToRefund { amount: self.refund_instead, at: now };
                Ok(ShipmentStep::TurnedToRefund { amount: self.refund_instead })
            }
            ShipmentState::Delivered { confirm_due, .. } if now >= confirm_due => {
                self.state = ShipmentState::Completed { by: Party::System, at: now };
                Ok(ShipmentStep::Completed { by: Party::System })
            }
            ShipmentState::AwaitingShipment { .. } => {
                Err(Refusal::NotDue { kind: crate::deadline::DeadlineKind::ReplacementShip })
            }
            _ => Err(Refusal::NotDue { kind: crate::deadline::DeadlineKind::ReplacementConfirm }),
        }
    }
}
