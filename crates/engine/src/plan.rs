//! A change decided on a snapshot and written at the versions it was decided on: the new state
//! already serialized, the log row with its domain events, the deadline rows it moves, the
//! notices, text messages and penalties the rules charge. Every write path of a case (actions,
//! firings) and of an order goes through here.

use crate::deadline_rows::diff_deadlines;
use crate::store::*;
use crate::usecase::*;
use aftersale_core::*;
use serde::Serialize;

/// An order change's log row, its domain events and deadline moves, in one `write_effects`
/// call. `before` is the order before the change (None for a new order), `after` after it.
pub(crate) fn write_order_effects(
    tx: &mut dyn WriteTx,
    before: Option<&Order>,
    after: &Order,
    recorded: &[Recorded],
    old: &[Deadline],
    new: &[Deadline],
) -> Result<(), EngineError> {
    let told = published(before.unwrap_or(after), after, None, None, recorded);
    let log = LogRow::new(recorded)?.map(|l| l.publishing(after.shop_id, told.as_ref())).transpose()?;
    let order = after.id;
    let mut effects = Effects { log: log.as_ref().map(|l| (order, None, l)), ..Effects::default() };
    diff_deadlines(&mut effects, Subject::Order(order), after.version, old, new);
    if !effects.is_empty() {
        tx.write_effects(&effects)?;
    }
    Ok(())
}

pub(crate) fn json<T: Serialize>(v: &T) -> Result<String, EngineError> {
    // Room for a whole case or order up front: no regrowing while writing.
    let mut buf = Vec::with_capacity(1024);
    serde_json::to_writer(&mut buf, v).map_err(StoreError::from)?;
    String::from_utf8(buf).map_err(|e| EngineError::Store(StoreError::Corrupt(e.to_string())))
}

/// A case change decided on a snapshot: the new state, already serialized, and everything else
/// the change writes. The writer applies it only if the order and case are still at the
/// versions it was decided on.
pub struct CasePlan {
    order_before: u64,
    case_before: Option<u64>,
    order: Order,
    order_json: Option<String>,
    order_deadlines: (Vec<Deadline>, Vec<Deadline>),
    pub(crate) case: Case,
    case_json: String,
    case_due: Option<Timestamp>,
    reindex: bool,
    case_deadlines: (Vec<Deadline>, Vec<Deadline>),
    recorded: Vec<Recorded>,
    log: Option<LogRow>,
    outbox: aftersale_core::notice::Outbox,
    /// How refunds are paid: what a refund started writes in the ledger.
    payout: aftersale_core::Payout,
}

impl CasePlan {
    /// `old` is the case before (None for a new case); `case` is it after `recorded`.
    pub(crate) fn new(
        order: &Order,
        old: Option<&Case>,
        case: Case,
        recorded: Vec<Recorded>,
        policy: &Policy,
    ) -> Result<CasePlan, EngineError> {
        let mut new_order = order.clone();
        for r in &recorded {
            new_order.apply_for(Some(case.id), r);
        }
        let order_changed = new_order.version != order.version;
        let log = LogRow::new(&recorded)?
            .map(|l| l.publishing(case.shop_id, published(order, &new_order, old, Some(&case), &recorded).as_ref()))
            .transpose()?;
        let events: Vec<Event> = recorded.iter().map(|r| r.event.clone()).collect();
        let outbox = notices_for(&new_order, &case, &events);
        let live = case.deadlines(policy);
        let old_deadlines = old.map(|c| c.deadlines(policy)).unwrap_or_default();
        let case_due = aftersale_core::model::governing(&live).map(|d| d.due);
        // Whether a column an index covers changes: if not, the row is rewritten in place and
        // the case indexes are left alone (most commands: remarks, messages, evidence).
        let reindex = old.is_none_or(|o| {
            o.kind != case.kind
                || o.status != case.status
                || o.queue() != case.queue()
                || aftersale_core::model::governing(&old_deadlines).map(|d| d.due) != case_due
        });
        Ok(CasePlan {
            order_before: order.version,
            case_before: old.map(|c| c.version),
            order_json: if order_changed { Some(json(&new_order)?) } else { None },
            order_deadlines: if order_changed {
                (order.deadlines(policy), new_order.deadlines(policy))
            } else {
                (vec![], vec![])
            },
            order: new_order,
            case_json: json(&case)?,
            case_due,
            reindex,
            case_deadlines: (old_deadlines, live),
            case,
            log,
            recorded,
            outbox,
            payout: policy.payout,
        })
    }
}

/// Decides a command on a case into a plan; a refusal comes back before anything is written.
pub(crate) fn plan_case(
    order: &Order,
    case: Case,
    sc: &ShopCtx,
    actor: &Actor,
    cmd: &CaseCommand,
    now: Timestamp,
) -> Result<CasePlan, EngineError> {
    let ctx = Ctx { policy: &sc.policy, now, default_address: sc.default_address.as_ref() };
    let events = decide_case(order, &case, cmd, actor, &ctx)?;
    let recorded: Vec<Recorded> = events.into_iter().map(|event| Recorded { at: now, actor: *actor, event }).collect();
    let mut new_case = case.clone();
    for r in &recorded {
        new_case.apply(r);
    }
    CasePlan::new(order, Some(&case), new_case, recorded, &sc.policy)
}

/// L5: after `plan` is written, the case for the units its short return lacked, opened in the
/// same transaction on the order as the plan left it; nothing when the plan holds no receipt in
/// part.
pub(crate) fn write_split_off(tx: &mut dyn WriteTx, plan: &CasePlan, policy: &Policy) -> Result<(), EngineError> {
    if !plan.recorded.iter().any(|r| matches!(r.event, Event::ReceivedInPart { .. })) {
        return Ok(());
    }
    let id = tx.next_case_id()?;
    let Some(first) = plan.recorded.first() else { return Ok(()) };
    let Some(event) = split_off(&plan.case, plan.recorded.iter().map(|r| &r.event), id) else { return Ok(()) };
    let opened = Recorded { at: first.at, actor: first.actor, event };
    let case = Case::open(&plan.order, &opened)
        .ok_or(EngineError::Invalid { field: "case", reason: "no opening event".into() })?;
    let child = CasePlan::new(&plan.order, None, case, vec![opened], policy)?;
    // The order is at the version the plan wrote, in this transaction: a miss is the store's.
    if !write_plan(tx, &child)? {
        return Err(StoreError::Contended { message: format!("case {id} could not be split off"), source: None }.into());
    }
    Ok(())
}

/// Writes a plan if the order and case are still at the versions it was decided on; returns
/// false, having written nothing, if either moved.
pub(crate) fn write_plan(tx: &mut dyn WriteTx, plan: &CasePlan) -> Result<bool, EngineError> {
    let order_id = plan.order.id;
    let mut effects =
        Effects { log: plan.log.as_ref().map(|l| (order_id, Some(plan.case.id), l)), ..Effects::default() };
    if plan.order_json.is_some() {
        let (old, new) = &plan.order_deadlines;
        diff_deadlines(&mut effects, Subject::Order(order_id), plan.order.version, old, new);
    }
    let (old, new) = &plan.case_deadlines;
    diff_deadlines(&mut effects, Subject::Case(plan.case.id), plan.case.version, old, new);
    let at = plan.recorded.first().map(|r| r.at);
    effects.outbox = at.map(|at| (Some(plan.case.id), &plan.outbox, at));
    // The versions are checked before anything is written, so a stale plan leaves no trace.
    match plan.case_before {
        Some(before) => {
            let change = CaseChange {
                case: &plan.case,
                json: &plan.case_json,
                expected: before,
                due: plan.case_due,
                listed_same: !plan.reindex,
                order_expected: plan.order_before,
                order: plan.order_json.as_deref().map(|j| (&plan.order, j)),
            };
            match tx.write_case_change(&change, &effects) {
                Ok(()) => {}
                Err(StoreError::Conflict { .. }) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
        None => {
            if tx.order_version(order_id)? != Some(plan.order_before) {
                return Ok(false);
            }
            tx.insert_case(&plan.case, &plan.case_json, plan.case_due)?;
            if let Some(order_json) = &plan.order_json {
                // Its version was checked above, in this transaction: a failure here is the store's.
                tx.update_order(&plan.order, order_json, plan.order_before)?;
            }
            if !effects.is_empty() {
                tx.write_effects(&effects)?;
            }
        }
    }
    // M5: the refund ledger, moved with the case.
    crate::refunds::ledger_effects(tx, &plan.case, &plan.order.order_no, &plan.recorded, plan.payout)?;
    // M6: the penalties the rules charged (core `notices_for`), recorded with the change.
    if let Some(at) = at {
        for p in &plan.outbox.penalties {
            tx.insert_penalty(&Penalty {
                shop_id: plan.case.shop_id,
                case_id: plan.case.id,
                reason: p.reason.clone(),
                amount: p.amount,
                at,
            })?;
        }
    }
    Ok(true)
}

pub(crate) fn exec_order(
    tx: &mut dyn WriteTx,
    deps: &Deps,
    order: Order,
    actor: &Actor,
    cmd: &OrderCommand,
    now: Timestamp,
) -> Result<Order, EngineError> {
    let sc = deps.shops.get(tx, order.shop_id)?;
    let ctx = Ctx { policy: &sc.policy, now, default_address: sc.default_address.as_ref() };
    let events = decide_order(&order, cmd, actor, &ctx)?;
    let mut new_order = order.clone();
    let recorded: Vec<Recorded> = events.into_iter().map(|event| Recorded { at: now, actor: *actor, event }).collect();
    for r in &recorded {
        new_order.apply(r);
    }
    // Read and written in the same transaction (every caller loads the order in it), so the
    // version cannot have moved; if it did, the store is broken, not the caller's request.
    tx.update_order(&new_order, &json(&new_order)?, order.version)?;
    let (old, new) = (order.deadlines(&sc.policy), new_order.deadlines(&sc.policy));
    write_order_effects(tx, Some(&order), &new_order, &recorded, &old, &new)?;
    Ok(new_order)
}
