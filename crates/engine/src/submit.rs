//! Case commands for async callers (the HTTP API and the pages): decided and written in one write
//! job on the writer, awaited without a thread.
//!
//! `Engine::case_command` decides on a read connection and then waits for the writer, holding a
//! thread all along: behind an async server that is a hop to a blocking thread, a reader taken
//! from the pool, a hop to the writer and two back, per command. Here the caller queues one job
//! and awaits its answer; the job reads the case with its order (without locks: the write checks
//! the versions the decision was made on), resolves the command's evidence, decides, and writes
//! — and decides again on what another node committed in between, if its write found the case or
//! the order moved. The rules, the checks and the answer are the same as `case_command`'s.

use crate::evidence::resolve_command_in;
use crate::jobs::{contention_pause, job_outcome, job_with_slot};
use crate::store::*;
use crate::usecase::*;
use aftersale_core::values::*;
use aftersale_core::*;
use std::sync::Arc;

/// How many times a job decides again when another node moved the case or its order between its
/// read and its write, before it hands the command back to be run again (`Contended`).
const DECIDE_AGAIN: usize = 3;

impl Engine {
    /// A command on a case by `actor` (account `user`), with its evidence named by upload key:
    /// the case after it, and the deadline that governs it now. `expected`: the case version
    /// the caller saw (a conflict otherwise); `key`: the idempotency key (a repeat gets the first
    /// answer). The job is keyed by the case, so that two commands on one case share a writer.
    /// Await it on a Tokio runtime with its timer (a job met by contention is queued again
    /// after a pause). Queued with `Store::submit_deciding`: its first read may come from its
    /// commit group's read-ahead.
    pub async fn case_command_async(
        &self,
        actor: Actor,
        user: i64,
        case_id: CaseId,
        cmd: CaseCommandOf<EvidenceRef>,
        expected: Option<u64>,
        key: Option<IdemKey>,
    ) -> Result<(Case, Option<Deadline>), EngineError> {
        let now = self.now();
        let deps = self.deps.clone();
        let queue = move |store: &dyn Store, work: WriteJob, reply: Reply| store.submit_deciding(case_id, work, reply);
        self.queue_async(queue, move |tx| {
            let cmd = resolve_command_in(tx, actor, user, cmd.clone())?;
            let idem = Engine::idem(&actor, key.clone(), &("case", case_id, &cmd));
            let case = Engine::idempotent(tx, idem.as_ref(), now, |tx| {
                decide_and_write(tx, &deps, case_id, &actor, &cmd, expected, now)
            })?;
            let sc = deps.shops.get(tx, case.shop_id)?;
            let governing = case.governing_deadline(&sc.policy);
            Ok((case, governing))
        })
        .await
    }

    /// `transact_on` for async callers: the job is queued (on the writer of `key`), and its
    /// answer awaited once its commit is durable. A job rolled back for contention is queued
    /// again after a short growing pause, up to `CONTENDED_RETRIES` times.
    pub async fn transact_async<R: Send + 'static>(
        &self,
        key: Option<i64>,
        f: impl Fn(&mut dyn WriteTx) -> Result<R, EngineError> + Send + Sync + 'static,
    ) -> Result<R, EngineError> {
        self.queue_async(move |store: &dyn Store, work, reply| store.submit(key, work, reply), f).await
    }

    /// `transact_async`, with the job queued by `queue` (`Store::submit` or `submit_deciding`).
    async fn queue_async<R: Send + 'static>(
        &self,
        queue: impl Fn(&dyn Store, WriteJob, Reply),
        f: impl Fn(&mut dyn WriteTx) -> Result<R, EngineError> + Send + Sync + 'static,
    ) -> Result<R, EngineError> {
        let f = Arc::new(f);
        let mut attempt = 0u32;
        loop {
            let job = f.clone();
            let (work, slot) = job_with_slot(move |tx| job(tx));
            let (tell, told) = tokio::sync::oneshot::channel();
            queue(
                self.store().as_ref(),
                work,
                Reply::new(move |outcome| {
                    let _ = tell.send(outcome);
                }),
            );
            let written = told.await.unwrap_or(Err(StoreError::WriterGone));
            match contention_pause(job_outcome(written, &slot), &mut attempt) {
                Ok(pause) => tokio::time::sleep(pause).await,
                Err(answer) => return answer,
            }
        }
    }
}

/// Reads the case as it is now (without locks), decides, and writes if the case and its order
/// are still at the versions decided on; otherwise decides again on what moved them.
fn decide_and_write(
    tx: &mut dyn WriteTx,
    deps: &Deps,
    case_id: CaseId,
    actor: &Actor,
    cmd: &CaseCommand,
    expected: Option<u64>,
    now: Timestamp,
) -> Result<Case, EngineError> {
    for _ in 0..DECIDE_AGAIN {
        let (case, order) = tx.case_and_order_to_decide(case_id)?.unzip();
        let case = visible_case(case, case_id, actor)?;
        let order = order.ok_or(EngineError::NotFound { what: "case", id: case_id.to_string() })?;
        check_version("case", expected, case.version)?;
        let sc = deps.shops.get(tx, case.shop_id)?;
        let plan = plan_case(&order, case, &sc, actor, cmd, now)?;
        if write_plan(tx, &plan)? {
            return Ok(plan.case);
        }
    }
    Err(StoreError::Contended { message: format!("case {case_id} kept changing under the command"), source: None }
        .into())
}
