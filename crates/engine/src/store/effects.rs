//! What a change writes beside its case and order — log row, domain events, deadline moves,
//! notices — as one value the backends write in one call (PostgreSQL: one statement), and the
//! check-then-write of a decided case change.

use super::*;
use aftersale_core::notice::Outbox;

/// The rows a change adds beside rewriting its case and order: its log row, the deadline rows
/// it moves, its notices and text messages. They depend on nothing the database answers, so
/// they are written by one call (`EffectWrites::write_effects`).
#[derive(Debug, Default)]
pub struct Effects<'a> {
    /// The log row, with the order and case it belongs to.
    pub log: Option<(OrderId, Option<CaseId>, &'a LogRow)>,
    /// Deadline rows to delete.
    pub deadlines_gone: Vec<(Subject, DeadlineKind)>,
    /// Deadline rows to write (new or moved), each for the state version that implies it.
    pub deadlines_set: Vec<(Subject, Deadline, u64)>,
    /// Notices and text messages, with their case and time.
    pub outbox: Option<(Option<CaseId>, &'a Outbox, Timestamp)>,
}

/// A decided change to an existing case: its new state, to be written only while the case and
/// its order are at the versions it was decided on, and the order's new state when the change
/// moved the order too.
#[derive(Debug)]
pub struct CaseChange<'a> {
    pub case: &'a Case,
    /// The case's document.
    pub json: &'a str,
    /// The case's version decided on.
    pub expected: u64,
    /// The governing deadline's due time (the queue's sort key).
    pub due: Option<Timestamp>,
    /// What lists read (kind, status, queue, due time) did not change: a backend may leave its
    /// indexes alone.
    pub listed_same: bool,
    /// The order's version decided on.
    pub order_expected: u64,
    /// The order's new state and document, when it changed.
    pub order: Option<(&'a Order, &'a str)>,
}

/// `write_case_change` statement by statement: the order's version read first (its row locked
/// where the backend locks rows), then the case, the order and the effects.
pub fn write_case_change_by_parts<T: EffectWrites + ?Sized>(
    tx: &mut T,
    change: &CaseChange<'_>,
    effects: &Effects<'_>,
) -> Result<(), StoreError> {
    let c = change.case;
    let found = tx.order_version(c.order_id)?;
    if found != Some(change.order_expected) {
        return Err(StoreError::Conflict { what: "order", id: c.order_id.0, expected: change.order_expected, found });
    }
    tx.update_case(c, change.json, change.expected, change.due, change.listed_same)?;
    if let Some((order, json)) = change.order {
        // Checked above in this transaction: a conflict now is the store's failure, not a
        // stale decision (which must leave no trace, and the case is written already).
        tx.update_order(order, json, change.order_expected).map_err(|e| match e {
            StoreError::Conflict { id, .. } => StoreError::db(format!("order {id} changed inside its own transaction")),
            other => other,
        })?;
    }
    if !effects.is_empty() {
        tx.write_effects(effects)?;
    }
    Ok(())
}

impl Effects<'_> {
    pub fn is_empty(&self) -> bool {
        self.log.is_none()
            && self.deadlines_gone.is_empty()
            && self.deadlines_set.is_empty()
            && self.outbox.is_none_or(|(_, o, _)| o.notices.is_empty() && o.sms.is_empty())
    }
}

/// Writing a change's effects. The default writes them statement by statement (in-process
/// SQLite pays nothing per statement); a store across a network sends them in one round trip.
pub trait EffectWrites: CaseWrites + DeadlineWrites + NoticeWrites {
    fn write_effects(&mut self, e: &Effects<'_>) -> Result<(), StoreError> {
        if let Some((order, case, row)) = e.log {
            self.append_log(order, case, row)?;
        }
        for (subject, kind) in &e.deadlines_gone {
            self.delete_deadline(*subject, *kind)?;
        }
        for (subject, d, version) in &e.deadlines_set {
            self.upsert_deadline(*subject, d, *version)?;
        }
        if let Some((case, outbox, at)) = e.outbox {
            if !outbox.notices.is_empty() || !outbox.sms.is_empty() {
                self.insert_outbox(case, outbox, at)?;
            }
        }
        Ok(())
    }

    /// Writes a change to a case and its effects if the case and its order are still at the
    /// versions it was decided on; otherwise a `Conflict` naming whichever moved (the order is
    /// checked first), and nothing written. A backend may do it all in one statement.
    fn write_case_change(&mut self, change: &CaseChange<'_>, effects: &Effects<'_>) -> Result<(), StoreError> {
        write_case_change_by_parts(self, change, effects)
    }
}
