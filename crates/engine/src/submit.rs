//! The one write path of a case action, for every edge: an action (`CaseAction`: a rule's
//! command, or agreeing a return to an address of the book, or the order's flag or remark set
//! from the case) is one job on the writer. The job resolves what the action names (evidence by
//! upload key: E4; a return address by its id), reads the case with its order (without locks:
//! the write checks the versions the decision was made on), decides, and writes — and decides
//! again on what another node committed in between, if its write found the case or the order
//! moved. Async callers (the HTTP API, the pages) await the job without holding a thread
//! (`case_action`); blocking callers (the CLI, the demo seed, tests) wait for the same job
//! (`case_action_blocking`, and `case_command` for a command whose evidence is resolved).

use crate::casepage::ReturnTo;
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

/// Every action an edge can take on a case, typed. The JSON API turns a body into one, a page
/// a form; neither decides anything.
#[derive(Clone, Debug)]
pub enum CaseAction {
    /// A command of the rules, its evidence named by upload key (resolved by the job: E4).
    Command(CaseCommandOf<EvidenceRef>),
    /// R2/R4: agree to the return, to an address of the shop's book, one given, or the default.
    AgreeReturn { to: ReturnTo, refuse_freight_collect: bool },
    /// N-rules: propose another solution; a proposal that takes the goods back names the return
    /// address, of the shop's book or given (R4).
    Propose { kind: CaseType, amount: Money, address: Option<ReturnTo> },
    /// T2: a message to the thread, typed or, when no text is typed, one of the shop's reply
    /// templates (by id).
    PostMessage { text: String, template: Option<i64> },
    /// W3: the order's flag, set from one of its cases (the case's version does not guard it).
    SetFlag { flag: Option<Flag> },
    /// W4: the order's remark, shared by every case of the order.
    SetOrderRemark { text: String },
}

impl CaseAction {
    /// The action's name (the path segment of the JSON API, the form's action).
    pub fn name(&self) -> &'static str {
        match self {
            CaseAction::Command(cmd) => cmd.action().as_str(),
            CaseAction::AgreeReturn { .. } => "agree_return",
            CaseAction::Propose { .. } => "propose",
            CaseAction::PostMessage { .. } => "post_message",
            CaseAction::SetFlag { .. } => "set_flag",
            CaseAction::SetOrderRemark { .. } => "set_order_remark",
        }
    }
}

/// What a case action answers.
#[derive(Clone, Debug)]
pub struct ActionAnswer {
    /// The case after the action.
    pub case: Case,
    /// The deadline that governs it now.
    pub governing: Option<Deadline>,
    /// The answer is a repeat's (the same idempotency key and request): nothing was done now.
    pub replayed: bool,
}

/// What a job does once the action's references are resolved.
#[derive(Clone, Debug)]
enum Step {
    Case(CaseCommand),
    Order(OrderCommand),
}

/// How a job is handed to the store: keyed by its case, its first read possibly from its commit
/// group's read-ahead (`Store::submit_deciding`).
fn deciding(case: CaseId) -> impl Fn(&dyn Store, WriteJob, Reply) {
    move |store: &dyn Store, work, reply| store.submit_deciding(case, work, reply)
}

impl Engine {
    /// An action on a case by `actor` (account `user`): the case after it, and the deadline that
    /// governs it now. `expected`: the case version the caller saw (a conflict otherwise; not
    /// for the order's flag and remark); `key`: the idempotency key (a repeat gets the first
    /// answer). Await it on a Tokio runtime with its timer (a job met by contention is queued
    /// again after a pause).
    pub async fn case_action(
        &self,
        actor: Actor,
        user: i64,
        case_id: CaseId,
        action: CaseAction,
        expected: Option<u64>,
        key: Option<IdemKey>,
    ) -> Result<ActionAnswer, EngineError> {
        let job = self.action_job(actor, user, case_id, action, expected, key);
        self.queue_async(deciding(case_id), job).await
    }

    /// `case_action` for a blocking caller: the same job, waited for on this thread.
    pub fn case_action_blocking(
        &self,
        actor: Actor,
        user: i64,
        case_id: CaseId,
        action: CaseAction,
        expected: Option<u64>,
        key: Option<IdemKey>,
    ) -> Result<ActionAnswer, EngineError> {
        let job = self.action_job(actor, user, case_id, action, expected, key);
        self.queue_blocking(deciding(case_id), job)
    }

    /// A command of the rules whose evidence is already resolved, for blocking callers (the
    /// runner's system commands, the demo seed, the CLI's benchmarks, tests): the same job as
    /// `case_action`'s.
    pub fn case_command(
        &self,
        actor: Actor,
        case_id: CaseId,
        cmd: CaseCommand,
        expected: Option<u64>,
        key: Option<IdemKey>,
    ) -> Result<Case, EngineError> {
        let job = self.step_job(actor, case_id, move |_| Ok(Step::Case(cmd.clone())), expected, key);
        self.queue_blocking(deciding(case_id), job).map(|a| a.case)
    }

    /// R4: agree to a return, picking the address from the shop's book by id (blocking).
    pub fn agree_return(
        &self,
        actor: Actor,
        case_id: CaseId,
        address_id: AddressId,
        refuse_freight_collect: bool,
        expected: Option<u64>,
        key: Option<IdemKey>,
    ) -> Result<Case, EngineError> {
        let to = ReturnTo::Book(address_id);
        let action = CaseAction::AgreeReturn { to, refuse_freight_collect };
        self.case_action_blocking(actor, 0, case_id, action, expected, key).map(|a| a.case)
    }

    /// `case_action` with the query parts already known.
    fn action_job(
        &self,
        actor: Actor,
        user: i64,
        case_id: CaseId,
        action: CaseAction,
        expected: Option<u64>,
        key: Option<IdemKey>,
    ) -> impl Fn(&mut dyn WriteTx) -> Result<ActionAnswer, EngineError> + Send + Sync + 'static {
        // The flag and the order remark belong to the order: the case's version does not guard them.
        let expected = match action {
            CaseAction::SetFlag { .. } | CaseAction::SetOrderRemark { .. } => None,
            _ => expected,
        };
        let resolve = move |tx: &mut dyn WriteTx| -> Result<Step, EngineError> {
            Ok(match &action {
                CaseAction::Command(cmd) => Step::Case(resolve_command_in(tx, actor, user, cmd.clone())?),
                CaseAction::AgreeReturn { to, refuse_freight_collect } => Step::Case(CaseCommand::AgreeReturn {
                    address: return_address(tx, &actor, to, "agree_return")?,
                    refuse_freight_collect: *refuse_freight_collect,
                }),
                CaseAction::Propose { kind, amount, address } => Step::Case(CaseCommand::Propose {
                    kind: *kind,
                    amount: *amount,
                    address: address.as_ref().map(|to| return_address(tx, &actor, to, "propose")).transpose()?,
                }),
                CaseAction::PostMessage { text, template } => Step::Case(CaseCommand::PostMessage {
                    text: match template {
                        Some(id) if text.trim().is_empty() => template_text(tx, &actor, *id)?,
                        _ => text.clone(),
                    },
                }),
                CaseAction::SetFlag { flag } => Step::Order(OrderCommand::SetFlag { flag: *flag }),
                CaseAction::SetOrderRemark { text } => Step::Order(OrderCommand::SetRemark { text: text.clone() }),
            })
        };
        self.step_job(actor, case_id, resolve, expected, key)
    }

    /// The job every case action runs: resolve, then (under the idempotency key) decide and
    /// write; answers the case and the deadline governing it now.
    fn step_job(
        &self,
        actor: Actor,
        case_id: CaseId,
        resolve: impl Fn(&mut dyn WriteTx) -> Result<Step, EngineError> + Send + Sync + 'static,
        expected: Option<u64>,
        key: Option<IdemKey>,
    ) -> impl Fn(&mut dyn WriteTx) -> Result<ActionAnswer, EngineError> + Send + Sync + 'static {
        let now = self.now();
        let deps = self.deps.clone();
        move |tx| {
            let step = resolve(tx)?;
            // A repeat of a command is the same request whichever way it came (same hash).
            let idem = match &step {
                Step::Case(cmd) => Engine::idem(&actor, key.clone(), &("case", case_id, cmd)),
                Step::Order(cmd) => Engine::idem(&actor, key.clone(), &("case_order", case_id, cmd)),
            };
            let (case, replayed) = Engine::idempotent_told(tx, idem.as_ref(), now, |tx| match &step {
                Step::Case(cmd) => decide_and_write(tx, &deps, case_id, &actor, cmd, expected, now),
                Step::Order(cmd) => {
                    // Offered on the case as an action of its own (W3, W4): the rules' gate says
                    // who may take it there, as `available_actions` lists it.
                    let (case, order) = load_case_and_order(tx, case_id, &actor)?;
                    let action = match cmd {
                        OrderCommand::SetFlag { .. } => Action::SetFlag,
                        _ => Action::SetOrderRemark,
                    };
                    let sc = deps.shops.get(tx, case.shop_id)?;
                    let ctx = Ctx { policy: &sc.policy, now, default_address: sc.default_address.as_ref() };
                    gate(&order, &case, action, &actor, &ctx)?;
                    exec_order(tx, &deps, order, &actor, cmd, now)?;
                    Ok(case)
                }
            })?;
            let sc = deps.shops.get(tx, case.shop_id)?;
            let governing = case.governing_deadline(&sc.policy);
            Ok(ActionAnswer { case, governing, replayed })
        }
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

    /// A job queued by `queue` (`Store::submit` or `submit_deciding`), its answer awaited.
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

    /// `queue_async` for a blocking caller: the same job, waited for on this thread.
    fn queue_blocking<R: Send + 'static>(
        &self,
        queue: impl Fn(&dyn Store, WriteJob, Reply),
        f: impl Fn(&mut dyn WriteTx) -> Result<R, EngineError> + Send + Sync + 'static,
    ) -> Result<R, EngineError> {
        let f = Arc::new(f);
        let mut attempt = 0u32;
        loop {
            let job = f.clone();
            let (work, slot) = job_with_slot(move |tx| job(tx));
            let (tell, told) = std::sync::mpsc::sync_channel(1);
            queue(
                self.store().as_ref(),
                work,
                Reply::new(move |outcome| {
                    let _ = tell.send(outcome);
                }),
            );
            let written = told.recv().unwrap_or(Err(StoreError::WriterGone));
            match contention_pause(job_outcome(written, &slot), &mut attempt) {
                Ok(pause) => std::thread::sleep(pause),
                Err(answer) => return answer,
            }
        }
    }
}

/// R4: the address a merchant agrees a return to (or proposes one to, `action`); only merchant
/// staff name a return address, of their own shop's book.
fn return_address(
    tx: &mut dyn ShopReads,
    actor: &Actor,
    to: &ReturnTo,
    action: &'static str,
) -> Result<Address, EngineError> {
    let shop = || match actor {
        Actor::Merchant { shop, .. } => Ok(*shop),
        other => Err(EngineError::from(Refusal::NotAllowedFor { party: other.party(), action, rule: "R4" })),
    };
    Ok(match to {
        ReturnTo::Given(address) => address.clone(),
        ReturnTo::Book(id) => tx.address(shop()?, *id)?.ok_or(EngineError::Refused(Refusal::invalid(
            "address_id",
            "is not in the shop's address book",
            "R4",
        )))?,
        ReturnTo::Default => {
            let shop = shop()?;
            tx.shop(shop)?
                .ok_or(EngineError::NotFound { what: "shop", id: shop.to_string() })?
                .default_address
                .ok_or(EngineError::Refused(Refusal::NoReturnAddress))?
        }
    })
}

/// T2: the text of one of the caller's shop's reply templates; a template of another shop, or
/// none, is refused as not the shop's (only shop staff have templates).
fn template_text(tx: &mut dyn ShopReads, actor: &Actor, id: i64) -> Result<String, EngineError> {
    let not_ours =
        || EngineError::Refused(Refusal::invalid("template_id", "is not one of the shop's reply templates", "T2"));
    let Actor::Merchant { shop, .. } = actor else { return Err(not_ours()) };
    let templates = tx.templates(*shop)?;
    templates.into_iter().find(|t| t.id == id).map(|t| t.body).ok_or_else(not_ours)
}

/// Reads the case as it is now (without locks), decides, and writes if the case and its order
/// are still at the versions decided on; otherwise decides again on what moved them.
pub(crate) fn decide_and_write(
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
            write_split_off(tx, &plan, &sc.policy)?;
            return Ok(plan.case);
        }
    }
    Err(StoreError::Contended { message: format!("case {case_id} kept changing under the command"), source: None }
        .into())
}
