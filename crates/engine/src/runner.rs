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

    /// Fires everything due now, batch after batch, until nothing is due.
    pub fn run_due(&self) -> Result<RunStats, EngineError> {
        let mut stats = RunStats::default();
        loop {
            let now = self.engine.now();
            let batch = self.batch;
            let rows = self.engine.read(|tx| tx.due_deadlines(now, batch))?;
            if rows.is_empty() {
                return Ok(stats);
            }
            let mut progressed = 0;
            for r in self.engine.fire_batch(rows)? {
                match r {
                    Ok(Firing::Fired) => {
                        stats.fired += 1;
                        progressed += 1;
                    }
                    Ok(Firing::Stale) => {
                        stats.stale += 1;
                        progressed += 1;
                    }
                    Err(_) => stats.refused += 1,
                }
            }
            // Rows the rules refused stay for inspection; stop rather than spin on them.
            if progressed == 0 {
                return Ok(stats);
            }
        }
    }

    /// Runs in the background until `stop` is set: fires what is due, then sleeps until the next
    /// due time (at most `poll`).
    pub fn spawn(self, stop: Arc<AtomicBool>, poll: Duration) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = self.run_due();
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
