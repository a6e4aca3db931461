//! Deadline firings: decided in batches on the last committed state off the writer (the payment
//! gateway asked there too), written by the writer at the versions decided on; a row whose case
//! moved is re-checked inside the transaction, so a stale or repeated firing does nothing.

use crate::deadline_rows::sync_deadlines;
use crate::gateway::GatewayOutcome;
use crate::plan::*;
use crate::store::*;
use crate::usecase::*;
use aftersale_core::*;

impl Engine {
    // -----------------------------------------------------------------------------------------
    // Deadlines

    /// Decides the firings of due rows on the last committed state, off the writer (the payment
    /// gateway is asked here too). Rows that cannot be decided here go to the writer undecided.
    pub fn prepare_firings(&self, rows: Vec<DueDeadline>) -> Result<Vec<PreparedFiring>, EngineError> {
        let now = self.clock.now();
        let deps = self.deps.clone();
        self.store
            .read(|tx| {
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let plan = match plan_firing(tx, &deps, row, now) {
                        Ok(p) => p,
                        Err(EngineError::Store(e)) => return Err(e),
                        Err(_) => None,
                    };
                    out.push(PreparedFiring { row, plan, now });
                }
                Ok(out)
            })
            .map_err(EngineError::from)
    }

    /// Fires prepared rows in one transaction. A firing whose plan went stale is decided again
    /// inside the writer; one the rules refuse has written nothing and is reported; any other
    /// error rolls the whole batch back, to be claimed again.
    pub fn fire_prepared(&self, batch: Vec<PreparedFiring>) -> Result<Vec<Result<Firing, EngineError>>, EngineError> {
        let deps = self.deps.clone();
        self.transact(move |tx| {
            let mut out = Vec::with_capacity(batch.len());
            for p in &batch {
                if let Some(plan) = &p.plan {
                    if write_plan(tx, plan)? {
                        out.push(Ok(Firing::Fired));
                        continue;
                    }
                }
                match fire_one(tx, &deps, p.row, p.now) {
                    Ok(f) => out.push(Ok(f)),
                    Err(e @ EngineError::Refused(_)) => out.push(Err(e)),
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        })
    }

    /// Prepares and fires a batch of due rows.
    pub fn fire_batch(&self, rows: Vec<DueDeadline>) -> Result<Vec<Result<Firing, EngineError>>, EngineError> {
        let prepared = self.prepare_firings(rows)?;
        self.fire_prepared(prepared)
    }
}

/// A due row with its firing decided in advance (when it could be).
pub struct PreparedFiring {
    row: DueDeadline,
    plan: Option<CasePlan>,
    now: Timestamp,
}

/// The firing of a case row decided on a snapshot; None when the row is not plainly due there.
fn plan_firing(
    tx: &mut dyn ReadTx,
    deps: &Deps,
    row: DueDeadline,
    now: Timestamp,
) -> Result<Option<CasePlan>, EngineError> {
    let Subject::Case(id) = row.subject else { return Ok(None) };
    let Some((case, order)) = tx.case_and_order(id)? else { return Ok(None) };
    let sc = deps.shops.get(tx, case.shop_id)?;
    let due = case.deadlines(&sc.policy).into_iter().any(|d| d.kind == row.kind && d.due <= now);
    if !due {
        return Ok(None);
    }
    let cmd = firing_command(deps, &case, row.kind, now);
    let Some(cmd) = cmd else { return Ok(None) };
    Ok(Some(plan_case(&order, case, &sc, &Actor::System, &cmd, now)?))
}

/// What the system does when a case deadline is due: expire it, or for a refund ask the gateway.
fn firing_command(deps: &Deps, case: &Case, kind: DeadlineKind, now: Timestamp) -> Option<CaseCommand> {
    if kind != DeadlineKind::RefundSettle {
        return Some(CaseCommand::Expire { kind });
    }
    let refund = case.refund.as_ref()?;
    Some(match deps.gateway.settle(case, refund, now) {
        GatewayOutcome::Succeeded => CaseCommand::RecordRefundOutcome { ok: true, detail: "settled".into() },
        GatewayOutcome::Failed(why) => CaseCommand::RecordRefundOutcome { ok: false, detail: why },
    })
}

/// Fires one claimed row if the state still says it is due; otherwise does nothing. The state
/// is the truth: a firing changes it so that the same deadline is never due again, so whatever
/// claimed the row (another runner, a retry after a crash) cannot fire it twice.
fn fire_one(tx: &mut dyn WriteTx, deps: &Deps, row: DueDeadline, now: Timestamp) -> Result<Firing, EngineError> {
    match row.subject {
        Subject::Case(id) => {
            let Some(case) = tx.case(id)? else {
                tx.delete_deadline(row.subject, row.kind)?;
                return Ok(Firing::Stale);
            };
            let sc = deps.shops.get(tx, case.shop_id)?;
            let live = case.deadlines(&sc.policy);
            let Some(current) = live.iter().find(|d| d.kind == row.kind) else {
                tx.delete_deadline(row.subject, row.kind)?;
                return Ok(Firing::Stale);
            };
            if current.due > now {
                // The state moved the deadline (or the shop's policy changed): re-arm the row.
                sync_deadlines(tx, row.subject, case.version, &[], &[*current])?;
                return Ok(Firing::Stale);
            }
            let Some(cmd) = firing_command(deps, &case, row.kind, now) else {
                // Nothing to ask the gateway about: the row would stay due for ever.
                tx.delete_deadline(row.subject, row.kind)?;
                return Ok(Firing::Stale);
            };
            crate::submit::decide_and_write(tx, deps, case.id, &Actor::System, &cmd, None, now)?;
            Ok(Firing::Fired)
        }
        Subject::Order(id) => {
            let Some(order) = tx.order(id)? else {
                tx.delete_deadline(row.subject, row.kind)?;
                return Ok(Firing::Stale);
            };
            let sc = deps.shops.get(tx, order.shop_id)?;
            match order.deadlines(&sc.policy).into_iter().find(|d| d.kind == row.kind) {
                None => {
                    tx.delete_deadline(row.subject, row.kind)?;
                    Ok(Firing::Stale)
                }
                Some(d) if d.due > now => {
                    sync_deadlines(tx, row.subject, order.version, &[], &[d])?;
                    Ok(Firing::Stale)
                }
                Some(_) => {
                    exec_order(tx, deps, order, &Actor::System, &OrderCommand::Expire { kind: row.kind }, now)?;
                    Ok(Firing::Fired)
                }
            }
        }
    }
}
