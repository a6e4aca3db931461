//! The domain event stream as the engine offers it: who may read which events, and where each
//! consumer stands. The events themselves are written by the store with the change they
//! describe (`LogRow::publishing`); this module only reads them and moves positions.

use crate::store::{DomainEventRow, EventFilter, EventPosition};
use crate::usecase::{Engine, EngineError};
use aftersale_core::{Actor, DomainEvent};

/// The most events one read returns.
pub const MAX_EVENTS_PAGE: usize = 1000;

impl Engine {
    /// Up to `limit` domain events after `after`, oldest first, that `actor` may see: a merchant
    /// its shop's, the platform and the system all. Buyers read their cases, not the stream.
    /// `types` narrows to those types (every name must be one of `DomainEvent::TYPES`).
    pub fn events_after(
        &self,
        actor: Actor,
        after: EventPosition,
        limit: usize,
        types: Vec<String>,
    ) -> Result<Vec<DomainEventRow>, EngineError> {
        let shop = match actor {
            Actor::Merchant { shop, .. } => Some(shop),
            Actor::Platform { .. } | Actor::System => None,
            Actor::Buyer { .. } => {
                return Err(EngineError::Forbidden("buyers follow their cases, not the event stream".into()))
            }
        };
        if let Some(bad) = types.iter().find(|t| !DomainEvent::TYPES.contains(&t.as_str())) {
            return Err(EngineError::Invalid { field: "types", reason: format!("{bad:?} is not an event type") });
        }
        if limit == 0 || limit > MAX_EVENTS_PAGE {
            return Err(EngineError::Invalid {
                field: "limit",
                reason: format!("must be between 1 and {MAX_EVENTS_PAGE}"),
            });
        }
        let filter = EventFilter { shop, types };
        Ok(self.read(|tx| tx.domain_events_after(after, limit, &filter))?)
    }

    /// Where `consumer` stands in the stream (the start if it never moved).
    pub fn consumer_position(&self, consumer: &str) -> Result<EventPosition, EngineError> {
        let consumer = consumer.to_string();
        Ok(self.read(move |tx| tx.consumer_position(&consumer))?.unwrap_or(EventPosition::START))
    }

    /// Moves `consumer` to `position` (after the events it has handled).
    pub fn set_consumer_position(&self, consumer: &str, position: EventPosition) -> Result<(), EngineError> {
        let consumer = consumer.to_string();
        self.transact(move |tx| Ok(tx.set_consumer_position(&consumer, position)?))
    }
}
