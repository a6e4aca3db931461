//! The domain event stream as the engine offers it: who may read which events, each event read
//! with the case or order as its command left them, and where each consumer stands. The events
//! are written by the store with the change they describe (`LogRow::publishing`, one row per
//! command); this module reads them and moves positions.

use crate::store::{DomainEventRow, EventPosition, StoredPublished};
use crate::usecase::{Engine, EngineError};
use aftersale_core::time::Dur;
use aftersale_core::{Actor, DomainEvent, Published};

/// The most events one read returns.
pub const MAX_EVENTS_PAGE: usize = 1000;

/// How many stored rows (commands) one read looks through at most, whatever it filters out: a
/// bound on a read whose types are rare (the caller goes on from the position it got).
const MAX_ROWS_SCANNED: usize = 10_000;

/// Rows read from the store at a time.
const ROWS_PER_READ: usize = 64;

/// The `settings` key of the last position pruned (`tx-id`): a cursor at or before it asks for
/// events no longer kept.
const PRUNED_THROUGH: &str = "events.pruned_through";

/// Rows one pruning transaction deletes at most.
const PRUNE_CHUNK: usize = 5_000;

impl Engine {
    /// Up to `limit` domain events after `after`, oldest first, that `actor` may see: a merchant
    /// its shop's, the platform and the system all. Buyers read their cases, not the stream.
    /// `types` narrows to those types (every name must be one of `DomainEvent::TYPES`). The
    /// second value is where the read stopped: the position to go on from (past events it looked
    /// at and filtered out, so a rare type does not make the caller read them again).
    pub fn events_after(
        &self,
        actor: Actor,
        after: EventPosition,
        limit: usize,
        types: Vec<String>,
    ) -> Result<(Vec<DomainEventRow>, EventPosition), EngineError> {
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
        self.read(|tx| {
            // A cursor into what retention has deleted would silently skip events: refused. The
            // start (no cursor) reads from the oldest event kept.
            let pruned = tx.setting(PRUNED_THROUGH)?.and_then(|p| parse_pruned(&p));
            let mut at = after;
            if let Some((ptx, pid)) = pruned {
                if (after.tx, after.id) <= (ptx, pid) {
                    if after != EventPosition::START {
                        return Ok(Err(format!(
                            "the events up to {ptx}-{pid} are no longer kept (retention); start again without a cursor"
                        )));
                    }
                    at = EventPosition { tx: ptx, id: pid, seq: u32::MAX };
                }
            }
            let mut out = Vec::new();
            let mut scanned = 0;
            loop {
                // From the row `at` is in (its events up to `at` are skipped below), a chunk at
                // a time: every chunk after the first moves on by at least one row.
                let rows = tx.domain_events_from(at.tx, at.id, shop, ROWS_PER_READ)?;
                let fetched = rows.len();
                for row in &rows {
                    for event in expand(row)? {
                        if event.position <= at {
                            continue;
                        }
                        if out.len() == limit {
                            return Ok(Ok((out, at)));
                        }
                        at = event.position;
                        if types.is_empty() || types.contains(&event.kind) {
                            out.push(event);
                        }
                    }
                }
                scanned += fetched;
                if fetched < ROWS_PER_READ || scanned >= MAX_ROWS_SCANNED {
                    return Ok(Ok((out, at)));
                }
            }
        })?
        .map_err(|reason| EngineError::Gone { what: "cursor", reason })
    }

    /// Deletes the events written more than `retention` ago (on the service's clock), oldest
    /// first, and keeps where it stopped, so that a cursor into them is refused rather than
    /// answered with a gap. Answers how many stored rows (one per command) went.
    pub fn prune_events(&self, retention: Dur) -> Result<u64, EngineError> {
        let before = aftersale_core::Timestamp(self.now().0.saturating_sub(retention.as_millis()));
        let mut rows = 0u64;
        loop {
            let pruned = self.transact(move |tx| {
                let Some((ptx, pid, n)) = tx.prune_domain_events(before, PRUNE_CHUNK)? else { return Ok(None) };
                tx.put_setting(PRUNED_THROUGH, &format!("{ptx}-{pid}"))?;
                Ok(Some(n))
            })?;
            match pruned {
                Some(n) => rows += n,
                None => return Ok(rows),
            }
        }
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

/// The (tx, id) kept under `PRUNED_THROUGH`.
fn parse_pruned(text: &str) -> Option<(i64, i64)> {
    let (tx, id) = text.split_once('-')?;
    Some((tx.parse().ok()?, id.parse().ok()?))
}

/// A stored row's events, each with its position and with the case or order it concerns.
fn expand(row: &StoredPublished) -> Result<Vec<DomainEventRow>, crate::store::StoreError> {
    let published: Published = serde_json::from_str(&row.data)?;
    let case = published.case.as_ref().map(serde_json::to_value).transpose()?;
    let order = published.order.as_ref().map(serde_json::to_value).transpose()?;
    published
        .events
        .iter()
        .enumerate()
        .map(|(seq, event)| {
            let kind = event.name();
            let mut data = serde_json::to_value(event)?;
            if let serde_json::Value::Object(map) = &mut data {
                let (key, with) = if Published::is_order_event(kind) { ("order", &order) } else { ("case", &case) };
                if let Some(v) = with {
                    map.insert(key.into(), v.clone());
                }
            }
            Ok(DomainEventRow {
                position: EventPosition { tx: row.tx, id: row.id, seq: seq as u32 + 1 },
                kind: kind.to_string(),
                at: row.at,
                shop: row.shop,
                order: row.order,
                case: row.case,
                data: serde_json::to_string(&data)?,
            })
        })
        .collect()
}
