//! Write jobs as the engine hands them to a store: a job keeps its own answer until the store
//! says whether its commit held, and a job met by contention is run again after a short pause.

use crate::store::{Abort, StoreError, WriteJob, WriteTx};
use crate::usecase::{EngineError, CONTENDED_RETRIES};
use std::sync::{Arc, Mutex};

/// Whether a job's answer is contention to run it again after (`Ok`, with the pause: short and
/// growing, so the other transaction gets through first), or the answer (`Err`) — also once
/// `CONTENDED_RETRIES` runs met contention.
pub(crate) fn contention_pause<R>(
    answer: Result<R, EngineError>,
    attempt: &mut u32,
) -> Result<std::time::Duration, Result<R, EngineError>> {
    match answer {
        Err(EngineError::Store(StoreError::Contended { .. })) if *attempt < CONTENDED_RETRIES => {
            *attempt += 1;
            Ok(std::time::Duration::from_millis(u64::from(*attempt * *attempt)))
        }
        other => Err(other),
    }
}

/// Where a write job keeps its own result until the store says whether it committed.
pub(crate) type Slot<R> = Arc<Mutex<Option<Result<R, EngineError>>>>;

/// `f` as a store's write job: its result goes into the slot; an error aborts the job (the
/// store rolls back what it wrote).
pub(crate) fn job_with_slot<R: Send + 'static>(
    f: impl FnOnce(&mut dyn WriteTx) -> Result<R, EngineError> + Send + 'static,
) -> (WriteJob, Slot<R>) {
    let slot: Slot<R> = Arc::new(Mutex::new(None));
    let out = slot.clone();
    let job: WriteJob = Box::new(move |tx| {
        let result = f(tx);
        let failed = result.is_err();
        if let Ok(mut s) = out.lock() {
            *s = Some(result);
        }
        if failed {
            Err(Abort)
        } else {
            Ok(())
        }
    });
    (job, slot)
}

/// A job's answer once the store has told how its commit went.
pub(crate) fn job_outcome<R>(written: Result<(), StoreError>, slot: &Slot<R>) -> Result<R, EngineError> {
    let result = slot.lock().ok().and_then(|mut s| s.take());
    if let Err(e) = written {
        // A job that failed is reported by its own error (the store's says only that the
        // commit was rolled back); a job that succeeded but did not commit, by the store's.
        return Err(match result {
            Some(Err(own)) => own,
            _ => e.into(),
        });
    }
    result.unwrap_or(Err(EngineError::Store(StoreError::db("the write job did not run"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contended() -> Result<(), EngineError> {
        Err(EngineError::Store(StoreError::Contended { message: "deadlock".into(), source: None }))
    }

    #[test]
    fn contention_is_run_again_after_growing_pauses_and_then_answered() {
        let mut attempt = 0;
        let pauses: Vec<u64> = (0..CONTENDED_RETRIES)
            .map(|_| contention_pause(contended(), &mut attempt).map(|d| d.as_millis() as u64).unwrap())
            .collect();
        assert_eq!(pauses, [1, 4, 9, 16, 25]);
        assert!(matches!(
            contention_pause(contended(), &mut attempt),
            Err(Err(EngineError::Store(StoreError::Contended { .. })))
        ));
        let mut fresh = 0;
        assert!(matches!(contention_pause(Ok::<u8, EngineError>(7), &mut fresh), Err(Ok(7))));
        assert_eq!(fresh, 0);
    }
}
