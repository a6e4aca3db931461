//! The deadline runner: claims due rows under a lease and fires each exactly once.
//!
//! Claiming is about sharing the work: rows one runner holds under a live lease are not handed to
//! another (on PostgreSQL several nodes claim from one table; a crashed node's rows are taken over
//! once its lease ends). Exactly-once comes from the firing itself: it re-reads the state inside
//! the write transaction and acts only if the deadline is still due there, and the same
//! transaction replaces the row. So a second runner, a retry, or a restart after a crash can never
//! fire a deadline twice, and a deadline that came due while the process was down fires on the
//! first pass after start.

use crate::store::Lease;
use crate::usecase::{Engine, EngineError, Firing};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    pub fired: u64,
    pub stale: u64,
    pub refused: u64,
}

/// The most passes one `run_due` makes; see there.
pub const MAX_PASSES: u32 = 1_000;

/// How long a claim holds its rows by default: a batch is fired well within it, and a crashed
/// node's rows go to the others once it has passed.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

pub struct Runner {
    engine: Arc<Engine>,
    batch: usize,
    owner: String,
    lease: Duration,
}

impl Runner {
    pub fn new(engine: Arc<Engine>) -> Runner {
        Runner { engine, batch: 500, owner: node_name(), lease: DEFAULT_LEASE }
    }

    pub fn with_batch(mut self, batch: usize) -> Runner {
        self.batch = batch.max(1);
        self
    }

    /// Who claims (shown in the database beside each leased row), and for how long.
    pub fn with_lease(mut self, owner: impl Into<String>, lease: Duration) -> Runner {
        self.owner = owner.into();
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    fn claim(&self, now: aftersale_core::Timestamp) -> Result<Vec<crate::store::DueDeadline>, EngineError> {
        let now_ms = wall_ms();
        let lease = Lease { owner: self.owner.clone(), now_ms, until_ms: now_ms + self.lease.as_millis() as i64 };
        Ok(self.engine.store().claim_due(now, self.batch, &lease)?)
    }

    /// Fires everything due now, batch after batch, until nothing is due. Batches are pipelined:
    /// while the writer writes one, this thread claims and decides the next from the last
    /// committed state (a decision that went stale is redone by the writer).
    ///
    /// "Now" is read once, when the call starts: each pass handles every row due by then, and
    /// another pass is needed only when firings made new deadlines due by then (a chain such as
    /// review → refund settlement), so a few passes suffice. Rows that come due while the call
    /// runs are the next call's (the background loop makes it at once), so that a steady flow of
    /// deadlines coming due ends each call instead of keeping it going pass after pass. More than
    /// `MAX_PASSES` means the state is not moving on: stop and report it rather than spin (the
    /// background loop logs it and tries again later).
    pub fn run_due(&self) -> Result<RunStats, EngineError> {
        let now = self.engine.now();
        let mut stats = RunStats::default();
        for _ in 0..MAX_PASSES {
            let before = stats;
            self.pass(now, &mut stats)?;
            // Rows the rules refused stay for inspection; stop rather than spin on them.
            if stats.fired == before.fired && stats.stale == before.stale {
                return Ok(stats);
            }
        }
        Err(EngineError::Store(crate::store::StoreError::db(format!(
            "the deadline runner made {MAX_PASSES} passes without settling ({stats:?})"
        ))))
    }

    /// One pass over the rows due at `now`: claims a batch, decides it off the writer, and claims
    /// the next while the writer writes the previous one; ends when nothing unclaimed is due.
    fn pass(&self, now: aftersale_core::Timestamp, stats: &mut RunStats) -> Result<(), EngineError> {
        let engine = &self.engine;
        std::thread::scope(|scope| {
            let mut inflight: Option<std::thread::ScopedJoinHandle<'_, _>> = None;
            let mut result = Ok(());
            loop {
                let rows = match self.claim(now) {
                    Ok(rows) => rows,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
                if rows.is_empty() {
                    break;
                }
                let prepared = match engine.prepare_firings(rows) {
                    Ok(p) => p,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
                if let Some(h) = inflight.take() {
                    if let Err(e) = tally(h.join(), stats) {
                        result = Err(e);
                        break;
                    }
                }
                inflight = Some(scope.spawn(move || engine.fire_prepared(prepared)));
            }
            if let Some(h) = inflight.take() {
                let joined = tally(h.join(), stats);
                if result.is_ok() {
                    result = joined;
                }
            }
            result
        })
    }

    /// The loop a serving node runs, on the calling thread: `pass` (which fires what is due and
    /// does whatever else the node does then, and says whether to go on), then `wait` until the
    /// next due time — at most `poll`, and always `poll` when `fixed_poll` (a manual clock's
    /// due times say nothing about wall time) — and again, until `wait` says stop.
    pub fn serve(
        &self,
        poll: Duration,
        fixed_poll: bool,
        mut pass: impl FnMut(&Runner) -> bool,
        mut wait: impl FnMut(Duration) -> bool,
    ) {
        loop {
            if !pass(self) {
                return;
            }
            let now = self.engine.now();
            let next = self.engine.read(|tx| tx.next_due()).ok().flatten();
            let until = match next {
                Some(t) if !fixed_poll => Duration::from_millis((t.0 - now.0).clamp(1, poll.as_millis() as i64) as u64),
                _ => poll,
            };
            if !wait(until) {
                return;
            }
        }
    }

    /// `serve` on a thread of its own, firing and sleeping until `stop` is set (for callers
    /// without a server around them; a failed pass is retried on the next).
    pub fn spawn(self, stop: Arc<AtomicBool>, poll: Duration) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            self.serve(
                poll,
                false,
                |runner| {
                    // A failed pass rolled back what it wrote; its rows stay due and the next
                    // pass claims them again.
                    let _ = runner.run_due();
                    !stop.load(Ordering::Relaxed)
                },
                |d| {
                    std::thread::sleep(d);
                    !stop.load(Ordering::Relaxed)
                },
            )
        })
    }
}

type Fired = Result<Vec<Result<Firing, EngineError>>, EngineError>;

fn tally(joined: std::thread::Result<Fired>, stats: &mut RunStats) -> Result<(), EngineError> {
    let results =
        joined.map_err(|_| EngineError::Store(crate::store::StoreError::db("a firing thread panicked")))??;
    for r in results {
        match r {
            Ok(Firing::Fired) => stats.fired += 1,
            Ok(Firing::Stale) => stats.stale += 1,
            Err(_) => stats.refused += 1,
        }
    }
    Ok(())
}

/// Milliseconds of the wall clock: leases run on real time, whatever the engine's clock says
/// (the demo's manual clock may stand still or jump a week).
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// This process's name for its leases: host and process id.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    format!("{}:{}", if host.is_empty() { "node" } else { &host }, std::process::id())
}
