//! Who acts: buyers, merchant staff, platform agents and the system.

use crate::values::{AgentId, BuyerId, ShopId, StaffId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Actor {
    Buyer {
        buyer: BuyerId,
    },
    Merchant {
        shop: ShopId,
        staff: StaffId,
    },
    Platform {
        agent: AgentId,
    },
    /// Deadlines, the payment gateway and logistics feeds.
    System,
}

/// The side an actor is on, without the individual.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Buyer,
    Merchant,
    Platform,
    System,
}

impl Actor {
    pub fn party(&self) -> Party {
        match self {
            Actor::Buyer { .. } => Party::Buyer,
            Actor::Merchant { .. } => Party::Merchant,
            Actor::Platform { .. } => Party::Platform,
            Actor::System => Party::System,
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Party::Buyer => "buyer",
            Party::Merchant => "merchant",
            Party::Platform => "platform",
            Party::System => "system",
        })
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Buyer { buyer } => write!(f, "buyer {buyer}"),
            Actor::Merchant { shop, staff } => write!(f, "shop {shop} staff {staff}"),
            Actor::Platform { agent } => write!(f, "platform agent {agent}"),
            Actor::System => write!(f, "system"),
        }
    }
}
