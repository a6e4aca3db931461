//! The group commit both backends share. A writer thread takes the jobs queued for it in groups
//! (`take_group`) and runs each group in one transaction with one commit (`commit_group`),
//! answering every job only once its commit is known. The backends differ only in how a
//! transaction begins, runs a job, rolls back and commits (`GroupTx`); what a job hears is
//! decided here, once:
//!
//! - a job that succeeded hears its commit's outcome;
//! - a job refused before writing (`Abort` with nothing written) hears `Ok`: it wrote nothing,
//!   it keeps its own answer, and its commit-mates go on;
//! - a job that wrote and then refused, whose statement failed (which aborts a PostgreSQL
//!   transaction), or that panicked after writing, takes the transaction down: it is rolled
//!   back, the job hears an error, the jobs that ran before it in the same transaction hear
//!   `Contended` (the engine runs them again, unacknowledged until then), and the jobs after it
//!   go on in a new transaction;
//! - a job that panicked before writing hears an error and its commit-mates go on.
//!
//! No savepoints: on SQLite one copies every page a job touches into a sub-journal; on
//! PostgreSQL each costs a round trip, and past 64 in one transaction every other backend's
//! snapshot overflows into `pg_subtrans`. Jobs decide before they write, so a refusal usually
//! leaves the transaction as it was.

use super::{Abort, Reply, StoreError, WriteJob, WriteTx};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

/// A job as a writer queues it.
pub(crate) struct Job {
    pub work: WriteJob,
    pub reply: Reply,
    /// The case the job decides on (`Store::submit_deciding`), for a backend that reads a
    /// group's cases ahead.
    pub decides: Option<i64>,
}

/// What a job left behind in its transaction.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Marks {
    /// It may have changed something.
    pub dirty: bool,
    /// One of its statements failed (on PostgreSQL that aborts the transaction).
    pub failed: bool,
    /// The earliest due time of the deadline rows it wrote (ms), for a backend that tells other
    /// nodes as it commits.
    pub min_due: Option<i64>,
}

/// A writer's connection, as the group commit drives it.
pub(crate) trait GroupTx {
    /// Opens a transaction. `decides` names the cases the group's deciding jobs read (given for
    /// a group's first transaction only; after a rollback each job reads its case itself).
    fn begin(&mut self, decides: &[i64]) -> Result<(), StoreError>;
    /// Runs `f` on the open transaction and tells what it left behind.
    fn run(&mut self, f: &mut dyn FnMut(&mut dyn WriteTx)) -> Marks;
    /// Rolls the open transaction back (or ends a broken one).
    fn rollback(&mut self);
    /// Commits, with `min_due` the earliest deadline the transaction armed. An error says the
    /// commit did not hold, or that its outcome is unknown (`StoreError::OutcomeUnknown`).
    fn commit(&mut self, min_due: Option<i64>) -> Result<(), StoreError>;
}

/// The next group from `rx`: waits for one job, then takes those already waiting, up to
/// `max` in all. None once every sender is gone.
pub(crate) fn take_group(rx: &mpsc::Receiver<Job>, max: usize) -> Option<Vec<Job>> {
    let first = rx.recv().ok()?;
    let mut group = vec![first];
    while group.len() < max.max(1) {
        match rx.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    Some(group)
}

/// Runs `group` in as few transactions as its jobs allow (one, unless a job takes one down) and
/// answers each job as the module's comment says.
pub(crate) fn commit_group(conn: &mut dyn GroupTx, group: Vec<Job>) {
    let mut done: Vec<Reply> = Vec::with_capacity(group.len());
    let mut min_due: Option<i64> = None;
    let mut open = false;
    let mut ahead: Vec<i64> = group.iter().filter_map(|j| j.decides).collect();
    let mut jobs = group.into_iter();
    while let Some(job) = jobs.next() {
        if !open {
            if let Err(e) = conn.begin(&std::mem::take(&mut ahead)) {
                // Nothing of the rest of this group can commit, and every job hears so (the
                // jobs before it have been answered already).
                conn.rollback();
                for reply in std::iter::once(job.reply).chain(jobs.map(|j| j.reply)) {
                    reply.send(Err(copy_error(&e)));
                }
                return;
            }
            open = true;
        }
        let mut work = Some(job.work);
        let mut outcome = None;
        let marks = conn.run(&mut |tx| {
            if let Some(work) = work.take() {
                outcome = Some(catch_unwind(AssertUnwindSafe(|| work(tx))));
            }
        });
        let outcome = outcome.unwrap_or(Err(Box::new("the job did not run")));
        let kept = !marks.failed && (!marks.dirty || matches!(outcome, Ok(Ok(()))));
        if kept {
            match outcome {
                Ok(Ok(())) => {
                    min_due = match (min_due, marks.min_due) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    done.push(job.reply);
                }
                // Refused before writing: it keeps its own answer; nothing to undo.
                Ok(Err(Abort)) => job.reply.send(Ok(())),
                Err(_) => job.reply.send(Err(StoreError::db("a write job panicked"))),
            }
            continue;
        }
        conn.rollback();
        open = false;
        min_due = None;
        job.reply.send(Err(StoreError::db(match outcome {
            Ok(Err(Abort)) => "the job failed after writing, and what it wrote was rolled back",
            Ok(Ok(())) => "a statement of the job failed and the job went on; it was rolled back",
            Err(_) => "a write job panicked after writing; it was rolled back",
        })));
        for reply in done.drain(..) {
            reply.send(Err(StoreError::Contended {
                message: "a job committed together with this one failed, and the commit was rolled back".into(),
                source: None,
            }));
        }
    }
    if !open {
        return;
    }
    let outcome = conn.commit(min_due);
    for reply in done {
        reply.send(match &outcome {
            Ok(()) => Ok(()),
            Err(e) => Err(copy_error(e)),
        });
    }
}

/// A copy of an error for each job of a failed group (the source stays with the first).
pub(crate) fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::OutcomeUnknown(m) => StoreError::OutcomeUnknown(m.clone()),
        StoreError::Contended { message, .. } => StoreError::Contended { message: message.clone(), source: None },
        e if e.is_transient() => StoreError::Unavailable { message: e.to_string(), source: None },
        e => StoreError::db(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job { work: Box::new(|_| Ok(())), reply: Reply::new(|_| {}), decides: None }
    }

    #[test]
    fn a_group_takes_what_is_waiting_up_to_its_size() {
        let (tx, rx) = mpsc::channel();
        for _ in 0..5 {
            tx.send(job()).unwrap();
        }
        assert_eq!(take_group(&rx, 3).map(|g| g.len()), Some(3));
        assert_eq!(take_group(&rx, 3).map(|g| g.len()), Some(2), "then the rest, without waiting for more");
        drop(tx);
        assert!(take_group(&rx, 3).is_none(), "no sender left: the writer stops");
    }

    #[test]
    fn each_job_of_a_failed_group_hears_the_kind_of_failure() {
        let unavailable = StoreError::Unavailable { message: "gone".into(), source: None };
        assert!(matches!(copy_error(&unavailable), StoreError::Unavailable { .. }));
        assert!(matches!(copy_error(&StoreError::WriterGone), StoreError::Unavailable { .. }));
        let contended = StoreError::Contended { message: "deadlock".into(), source: None };
        assert!(matches!(copy_error(&contended), StoreError::Contended { .. }), "run again, not a 503");
        assert!(matches!(copy_error(&StoreError::db("bad")), StoreError::Db { .. }));
        assert!(matches!(copy_error(&StoreError::OutcomeUnknown("x".into())), StoreError::OutcomeUnknown(_)));
    }
}
