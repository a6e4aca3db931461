//! Which stored deadline rows a state change moves: the same diff for every backend.

use crate::store::{EffectWrites, Effects, StoreError, Subject};
use aftersale_core::Deadline;

/// Adds to `effects` the moves of the stored deadlines of `subject` from `old` (what the
/// previous state implied) to `new` (what the new state implies): rows whose kind is gone are
/// deleted, new or moved ones are written for `version`; unchanged ones are left alone (and keep
/// any lease on them).
pub fn diff_deadlines(effects: &mut Effects<'_>, subject: Subject, version: u64, old: &[Deadline], new: &[Deadline]) {
    for o in old {
        if !new.iter().any(|d| d.kind == o.kind) {
            effects.deadlines_gone.push((subject, o.kind));
        }
    }
    for d in new {
        if !old.contains(d) {
            effects.deadlines_set.push((subject, *d, version));
        }
    }
}

/// Writes the moves of `diff_deadlines` at once.
pub fn sync_deadlines(
    tx: &mut dyn EffectWrites,
    subject: Subject,
    version: u64,
    old: &[Deadline],
    new: &[Deadline],
) -> Result<(), StoreError> {
    let mut effects = Effects::default();
    diff_deadlines(&mut effects, subject, version, old, new);
    if effects.is_empty() {
        return Ok(());
    }
    tx.write_effects(&effects)
}
