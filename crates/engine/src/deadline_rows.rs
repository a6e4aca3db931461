//! Which stored deadline rows a state change moves: the same diff for every backend.

use crate::store::{StoreError, Subject, WriteTx};
use aftersale_core::Deadline;

/// Moves the stored deadlines of `subject` from `old` (what the previous state implied) to
/// `new` (what the new state implies): rows whose kind is gone are deleted, new or moved ones
/// are written for `version`; unchanged ones are left alone (and keep any lease on them).
pub fn sync_deadlines(
    tx: &mut dyn WriteTx,
    subject: Subject,
    version: u64,
    old: &[Deadline],
    new: &[Deadline],
) -> Result<(), StoreError> {
    for o in old {
        if !new.iter().any(|d| d.kind == o.kind) {
            tx.delete_deadline(subject, o.kind)?;
        }
    }
    for d in new {
        if !old.contains(d) {
            tx.upsert_deadline(subject, d, version)?;
        }
    }
    Ok(())
}
