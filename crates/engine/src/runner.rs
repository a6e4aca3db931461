//! The deadline runner: claims due rows and fires each exactly once. Exactly-once comes from the
//! firing itself: it re-reads the row inside the write transaction and acts only if the row is
//! still there with the same due time and case version, and the same transaction replaces it.
//! So a second runner, a retry, or a restart after a crash can never fire a deadline twice, and
//! a deadline that came due while the process was down fires on the first pass after start.

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

pub struct Runner {
    engine: Arc<Engine>,
    batch: usize,
}

impl Runner {
    pub fn new(engine: Arc<Engine>) -> Runner {
        Runner { engine, batch: 500 }
    }

    pub fn with_batch(mut self, batch: usize) -> Runner {
        self.batch = batch.max(1);
        self
    }

    /// Fires everything due now, batch after batch, until nothing is due. Batches are pipelined:
    /// while the writer writes one, this thread claims and decides the next from the last
    /// committed state (a decision that went stale is redone by the writer).
    ///
    /// Each pass handles every row due now; another pass is needed only when firings made new
    /// deadlines due at once (a chain such as review → refund settlement), so a few passes
    /// suffice. More than `MAX_PASSES` means the state is not moving on: stop and report it
    /// rather than spin (the background loop logs it and tries again later).
    pub fn run_due(&self) -> Result<RunStats, EngineError> {
        let mut stats = RunStats::default();
        for _ in 0..MAX_PASSES {
            let before = stats;
            self.pass(&mut stats)?;
            // Rows the rules refused stay for inspection; stop rather than spin on them.
            if stats.fired == before.fired && stats.stale == before.stale {
                return Ok(stats);
            }
        }
        Err(EngineError::Store(crate::store::StoreError::Db(format!(
            "the deadline runner made {MAX_PASSES} passes without settling ({stats:?})"
        ))))
    }

    /// One pass over the rows due now, in (due, subject, id, kind) order.
    fn pass(&self, stats: &mut RunStats) -> Result<(), EngineError> {
        let now = self.engine.now();
        let batch = self.batch;
        let engine = &self.engine;
        std::thread::scope(|scope| {
            let mut cursor = None;
            let mut inflight: Option<std::thread::ScopedJoinHandle<'_, _>> = None;
            let mut result = Ok(());
            loop {
                let rows = match engine.read(|tx| tx.due_deadlines_after(now, cursor, batch)) {
                    Ok(rows) => rows,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
                if rows.is_empty() {
                    break;
                }
                cursor = rows.last().copied();
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

    /// Runs in the background until `stop` is set: fires what is due, then sleeps until the next
    /// due time (at most `poll`).
    pub fn spawn(self, stop: Arc<AtomicBool>, poll: Duration) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // A failed pass rolled back what it wrote; its rows stay due and the next pass
                // claims them again. (Structured logging arrives with the server.)
                if let Err(e) = self.run_due() {
                    eprintln!("aftersale: deadline runner pass failed, retrying: {e}");
                }
                let now = self.engine.now();
                let next = self.engine.read(|tx| tx.next_due()).ok().flatten();
                let wait = next
                    .map(|t| Duration::from_millis((t.0 - now.0).clamp(1, poll.as_millis() as i64) as u64))
                    .unwrap_or(poll);
                std::thread::sleep(wait);
            }
        })
    }
}

type Fired = Result<Vec<Result<Firing, EngineError>>, EngineError>;

fn tally(joined: std::thread::Result<Fired>, stats: &mut RunStats) -> Result<(), EngineError> {
    let results =
        joined.map_err(|_| EngineError::Store(crate::store::StoreError::Db("a firing thread panicked".into())))??;
    for r in results {
        match r {
            Ok(Firing::Fired) => stats.fired += 1,
            Ok(Firing::Stale) => stats.stale += 1,
            Err(_) => stats.refused += 1,
        }
    }
    Ok(())
}
