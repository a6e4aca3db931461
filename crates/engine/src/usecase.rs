//! The engine and its use-cases: each loads what it needs, lets the core decide, and writes the
//! new state, the case log with its domain events, the deadlines and the notices in one
//! transaction; nothing is enqueued outside it. Here: the engine itself, its transactions and
//! idempotency keys, orders, applications, searches and message boxes. Case actions are in
//! `submit.rs`, firings in `firing.rs`, what a change writes in `plan.rs`, shops in `shops.rs`.

use crate::clock::Clock;
use crate::gateway::PaymentGateway;
use crate::jobs::{contention_pause, job_outcome, job_with_slot};
pub(crate) use crate::plan::*;
pub(crate) use crate::shops::load_shop_ctx;
pub use crate::shops::{ShopCache, ShopCtx, SHOP_TTL};
use crate::store::*;
use aftersale_core::values::*;
use aftersale_core::*;
use serde::{de::DeserializeOwned, Serialize};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error("version conflict: expected {expected}, the {what} is at {actual}")]
    Conflict { what: &'static str, expected: u64, actual: u64 },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("the idempotency key was already used for a different request")]
    IdempotencyKeyReused,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// E4: a command names evidence that is not the caller's upload, or does not match it.
    #[error("{field}: {detail}")]
    Evidence { field: String, code: &'static str, detail: &'static str },
    /// The caller's role may not do this (not a rule of the case: an account matter).
    #[error("{0}")]
    Forbidden(String),
    /// A unique value (a login) is already in use.
    #[error("{field} {value:?} is already taken")]
    Taken { field: &'static str, value: String },
    /// What was asked for is no longer kept (an event cursor older than the retention).
    #[error("{what}: {reason}")]
    Gone { what: &'static str, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The `settings` key of the manual clock's reading.
const MANUAL_CLOCK: &str = "manual_clock";
/// How many times a write job rolled back for contention (`StoreError::Contended`) is run again.
pub const CONTENDED_RETRIES: u32 = 5;

/// X1: a party's message box.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageBox {
    /// Newest first.
    pub entries: Vec<StoredNotice>,
    /// Unread entries per category.
    pub unread: Vec<(String, u64)>,
    /// The cursor of the next page, if there is one.
    pub next: Option<i64>,
}

/// A client's idempotency key for one request.
#[derive(Clone, Debug)]
pub struct IdemKey(pub String);

/// What every write path shares.
pub(crate) struct Deps {
    pub(crate) shops: Arc<ShopCache>,
    pub(crate) gateway: Arc<dyn PaymentGateway>,
}

/// FNV-1a over the request's canonical JSON: stable across builds, unlike `DefaultHasher`.
fn request_hash(parts: &impl Serialize) -> String {
    let json = serde_json::to_string(parts).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in json.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The outcome of one deadline row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firing {
    Fired,
    /// The case or order moved on since the row was written: nothing happened.
    Stale,
}

pub struct Engine {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) deps: Arc<Deps>,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, gateway: Arc<dyn PaymentGateway>) -> Engine {
        let shops = Arc::new(ShopCache::with_payout(gateway.payout()));
        Engine { store, clock, deps: Arc::new(Deps { shops, gateway }) }
    }

    /// Drops what the engine remembers of a shop; call after changing a shop outside the engine.
    pub fn forget_shop(&self, shop: ShopId) {
        self.deps.shops.forget(shop);
    }

    /// Drops everything the engine remembers of shops (another node may have changed any).
    pub fn forget_all_shops(&self) {
        self.deps.shops.clear();
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The manual clock's last reading, as stored (demo and tests; None on a fresh database).
    pub fn saved_manual_clock(&self) -> Result<Option<Timestamp>, EngineError> {
        let raw = self.read(|tx| tx.setting(MANUAL_CLOCK))?;
        Ok(raw.and_then(|v| Timestamp::parse_rfc3339(&v).ok()))
    }

    /// Stores the manual clock's reading, so that a restart carries on from it.
    pub fn save_manual_clock(&self, now: Timestamp) -> Result<(), EngineError> {
        self.transact(move |tx| Ok(tx.put_setting(MANUAL_CLOCK, &now.to_string())?))?;
        // Every node runs on this reading (the others hear it here).
        self.announce(Topic::Clock, &now.0.to_string());
        Ok(())
    }

    /// Tells the other nodes what changed, after the change committed. Losing the message is
    /// harmless: caches also expire, and runners also poll.
    pub(crate) fn announce(&self, topic: Topic, payload: &str) {
        let _ = self.store.publish(topic, payload);
    }

    /// Runs `f` as one write job; its result comes back once the commit is durable. A job the
    /// database rolled back because another transaction held what it needed (a deadlock between
    /// two nodes' commit groups, say) is run again, on what the other committed, a few times.
    pub fn transact<R: Send + 'static>(
        &self,
        f: impl Fn(&mut dyn WriteTx) -> Result<R, EngineError> + Send + Sync + 'static,
    ) -> Result<R, EngineError> {
        self.transact_on(None, f)
    }

    /// `transact` for a job about one order (`key`): a store with several writers runs the jobs
    /// of one order one after another on the same writer. A job rolled back for contention is
    /// run again (it is `Fn` for that: shared, never copied), up to `CONTENDED_RETRIES` times.
    pub fn transact_on<R: Send + 'static>(
        &self,
        key: Option<OrderId>,
        f: impl Fn(&mut dyn WriteTx) -> Result<R, EngineError> + Send + Sync + 'static,
    ) -> Result<R, EngineError> {
        let f = Arc::new(f);
        let mut attempt = 0u32;
        loop {
            let job = f.clone();
            match contention_pause(self.transact_once(key, move |tx| job(tx)), &mut attempt) {
                Ok(pause) => std::thread::sleep(pause),
                Err(answer) => return answer,
            }
        }
    }

    fn transact_once<R: Send + 'static>(
        &self,
        key: Option<OrderId>,
        f: impl FnOnce(&mut dyn WriteTx) -> Result<R, EngineError> + Send + 'static,
    ) -> Result<R, EngineError> {
        let (job, slot) = job_with_slot(f);
        let written = self.store.write_keyed(key.map(|k| k.0), job);
        job_outcome(written, &slot)
    }

    pub fn read<R>(&self, f: impl FnOnce(&mut dyn ReadTx) -> Result<R, StoreError>) -> Result<R, EngineError> {
        Ok(self.store.read(f)?)
    }

    /// Runs `work` under an idempotency key: a repeat of the same request returns the stored
    /// answer; the same key with another request is refused.
    pub(crate) fn idempotent<R: Serialize + DeserializeOwned>(
        tx: &mut dyn WriteTx,
        key: Option<&(String, String)>,
        now: Timestamp,
        work: impl FnOnce(&mut dyn WriteTx) -> Result<R, EngineError>,
    ) -> Result<R, EngineError> {
        Self::idempotent_told(tx, key, now, work).map(|(r, _)| r)
    }

    /// `idempotent`, telling whether the answer is a repeat's (`true`: nothing was done now).
    pub(crate) fn idempotent_told<R: Serialize + DeserializeOwned>(
        tx: &mut dyn WriteTx,
        key: Option<&(String, String)>,
        now: Timestamp,
        work: impl FnOnce(&mut dyn WriteTx) -> Result<R, EngineError>,
    ) -> Result<(R, bool), EngineError> {
        if let Some((key, hash)) = key {
            if let Some((stored_hash, response)) = tx.idempotency_get(key)? {
                if &stored_hash != hash {
                    return Err(EngineError::IdempotencyKeyReused);
                }
                return Ok((serde_json::from_str(&response).map_err(StoreError::from)?, true));
            }
        }
        let result = work(tx)?;
        if let Some((key, hash)) = key {
            let response = serde_json::to_string(&result).map_err(StoreError::from)?;
            tx.idempotency_put(key, hash, &response, now)?;
        }
        Ok((result, false))
    }

    pub(crate) fn idem(actor: &Actor, key: Option<IdemKey>, request: &impl Serialize) -> Option<(String, String)> {
        key.map(|k| (format!("{}:{}", serde_json::to_string(actor).unwrap_or_default(), k.0), request_hash(request)))
    }

    // -----------------------------------------------------------------------------------------
    // Orders

    /// O1: an integration creates an order.
    pub fn create_order(
        &self,
        actor: Actor,
        shop: ShopId,
        new: NewOrder,
        key: Option<IdemKey>,
    ) -> Result<Order, EngineError> {
        if let Actor::Merchant { shop: s, .. } = actor {
            if s != shop {
                return Err(EngineError::NotFound { what: "shop", id: shop.to_string() });
            }
        }
        if matches!(actor, Actor::Buyer { .. }) {
            return Err(Refusal::NotAllowedFor { party: Party::Buyer, action: "create orders", rule: "O1" }.into());
        }
        let clock = self.clock.clone();
        let deps = self.deps.clone();
        let idem = Self::idem(&actor, key, &("create_order", shop, &new));
        self.transact(move |tx| {
            let now = clock.now();
            Self::idempotent(tx, idem.as_ref(), now, |tx| {
                let sc = deps.shops.get(tx, shop)?;
                if tx.order_by_no(shop, &aftersale_core::decide::order_no(&new)?)?.is_some() {
                    return Err(Refusal::invalid("order_no", "is already used in this shop", "O1").into());
                }
                let id = tx.next_order_id()?;
                let ctx = Ctx { policy: &sc.policy, now, default_address: sc.default_address.as_ref() };
                let events = create_order(id, shop, &new, &ctx)?;
                let recorded: Vec<Recorded> =
                    events.into_iter().map(|event| Recorded { at: now, actor, event }).collect();
                let order = Order::replay(&recorded)
                    .ok_or(EngineError::Invalid { field: "order", reason: "no order event".into() })?;
                tx.insert_order(&order, &json(&order)?)?;
                write_order_effects(tx, None, &order, &recorded, &[], &order.deadlines(&sc.policy))?;
                Ok(order)
            })
        })
    }

    pub fn order_command(
        &self,
        actor: Actor,
        order_id: OrderId,
        cmd: OrderCommand,
        expected_version: Option<u64>,
        key: Option<IdemKey>,
    ) -> Result<Order, EngineError> {
        let clock = self.clock.clone();
        let deps = self.deps.clone();
        let idem = Self::idem(&actor, key, &("order", order_id, &cmd));
        self.transact_on(Some(order_id), move |tx| {
            let now = clock.now();
            Self::idempotent(tx, idem.as_ref(), now, |tx| {
                let order = load_order(tx, order_id, &actor)?;
                check_version("order", expected_version, order.version)?;
                exec_order(tx, &deps, order, &actor, &cmd, now)
            })
        })
    }

    // -----------------------------------------------------------------------------------------
    // Cases

    /// U1/S1/R1: a buyer applies on an order.
    pub fn apply(
        &self,
        actor: Actor,
        order_id: OrderId,
        cmd: Apply,
        key: Option<IdemKey>,
    ) -> Result<Case, EngineError> {
        let idem = Self::idem(&actor, key, &("apply", order_id, &cmd));
        self.open_case(actor, order_id, idem, move |order, case_id, ctx| {
            aftersale_core::apply(order, case_id, &cmd, &actor, ctx)
        })
    }

    /// C1: the merchant refunds the buyer of its own accord: a case opened and its refund started
    /// in one change.
    pub fn merchant_refund(
        &self,
        actor: Actor,
        order_id: OrderId,
        cmd: MerchantRefund,
        key: Option<IdemKey>,
    ) -> Result<Case, EngineError> {
        let idem = Self::idem(&actor, key, &("merchant_refund", order_id, &cmd));
        self.open_case(actor, order_id, idem, move |order, case_id, ctx| {
            aftersale_core::merchant_refund(order, case_id, &cmd, &actor, ctx)
        })
    }

    /// A new case on an order, as `decide` opens it (its first event opens the case, the rest
    /// apply to it), written through the one write path.
    fn open_case(
        &self,
        actor: Actor,
        order_id: OrderId,
        idem: Option<(String, String)>,
        decide: impl Fn(&Order, CaseId, &Ctx) -> Result<Vec<Event>, Refusal> + Send + Sync + 'static,
    ) -> Result<Case, EngineError> {
        let clock = self.clock.clone();
        let deps = self.deps.clone();
        self.transact_on(Some(order_id), move |tx| {
            let now = clock.now();
            Self::idempotent(tx, idem.as_ref(), now, |tx| {
                let order = load_order(tx, order_id, &actor)?;
                let sc = deps.shops.get(tx, order.shop_id)?;
                let policy = &sc.policy;
                let ctx = Ctx { policy, now, default_address: sc.default_address.as_ref() };
                let case_id = tx.next_case_id()?;
                let events = decide(&order, case_id, &ctx)?;
                let recorded: Vec<Recorded> =
                    events.into_iter().map(|event| Recorded { at: now, actor, event }).collect();
                let mut case = recorded
                    .first()
                    .and_then(|r| Case::open(&order, r))
                    .ok_or(EngineError::Invalid { field: "case", reason: "no opening event".into() })?;
                for r in &recorded[1..] {
                    case.apply(r);
                }
                let plan = CasePlan::new(&order, None, case, recorded, policy)?;
                write_plan(tx, &plan)?;
                Ok(plan.case)
            })
        })
    }

    /// What the actor may do on the case now, and the deadline governing it.
    pub fn available(&self, actor: Actor, case_id: CaseId) -> Result<(Vec<Action>, Option<Deadline>), EngineError> {
        let now = self.clock.now();
        self.store.read(|tx| {
            let r = (|| {
                let (case, order) = load_case_and_order(tx, case_id, &actor)?;
                let sc = load_shop_ctx(tx, case.shop_id)?;
                let ctx = Ctx { policy: &sc.policy, now, default_address: sc.default_address.as_ref() };
                Ok((available_actions(&order, &case, &actor, &ctx), case.governing_deadline(&sc.policy)))
            })();
            Ok(r)
        })?
    }

    /// W2: search the cases the actor may see — a merchant its shop's, a buyer their own, a
    /// platform agent all.
    pub fn search(&self, actor: Actor, q: CaseQuery) -> Result<CasePage, EngineError> {
        let q = visible_query(actor, q)?;
        if unmatchable(&q) {
            return Ok(CasePage { items: Vec::new(), next: None });
        }
        Ok(self.read(|tx| tx.search_cases(&q))?.into())
    }

    /// W1 + W2: a page of `search` and, for a shop, the counts of its queues, read in one
    /// transaction (the tab counts and the page come from the same snapshot, and the page costs
    /// one transaction, not two). The counts are the merchant's own shop's, or for a platform
    /// agent those of the shop the query names; a buyer gets none.
    pub fn search_with_counts(
        &self,
        actor: Actor,
        q: CaseQuery,
    ) -> Result<(CasePage, Option<QueueCounts>), EngineError> {
        let q = visible_query(actor, q)?;
        let counts_of = match actor {
            Actor::Merchant { shop, .. } => Some(shop),
            Actor::Platform { .. } | Actor::System => q.shop,
            Actor::Buyer { .. } => None,
        };
        let skip = unmatchable(&q);
        self.read(|tx| {
            let hits = if skip { None } else { Some(tx.search_cases(&q)?) };
            let counts = counts_of.map(|shop| tx.queue_counts(shop)).transpose()?;
            Ok((hits.map_or(CasePage { items: Vec::new(), next: None }, CasePage::from), counts))
        })
    }

    /// X1: a party's message box, newest first, with unread counts per category.
    pub fn message_box(&self, to: Recipient) -> Result<MessageBox, EngineError> {
        self.read(|tx| {
            let mut entries = tx.notices(to)?;
            entries.reverse();
            Ok(MessageBox { entries, unread: tx.unread_counts(to)?, next: None })
        })
    }

    /// X1: one page of a party's message box, newest first, with the unread counts and the
    /// cursor of the next page (the id to read `before`).
    pub fn message_box_page(&self, to: Recipient, q: NoticeQuery) -> Result<MessageBox, EngineError> {
        let limit = q.limit.clamp(1, 200);
        self.read(|tx| {
            let mut entries = tx.notices_page(to, &NoticeQuery { limit: limit + 1, ..q.clone() })?;
            let next = if entries.len() > limit {
                entries.truncate(limit);
                entries.last().map(|n| n.id)
            } else {
                None
            };
            Ok(MessageBox { entries, unread: tx.unread_counts(to)?, next })
        })
    }

    /// X1: marks entries of the party's own box read; others' entries are left alone.
    pub fn mark_read(&self, to: Recipient, ids: Vec<i64>) -> Result<u64, EngineError> {
        let clock = self.clock.clone();
        self.transact(move |tx| Ok(tx.mark_read(to, &ids, clock.now())?))
    }
}

/// The number of cases in each queue of a shop.
pub type QueueCounts = Vec<(Queue, u64)>;

/// A search narrowed to what the actor may see — a merchant its shop's cases, a buyer their
/// own, a platform agent all — with the default page size.
/// A shop the query names that the actor may not see is "not found", as a missing one is.
fn visible_query(actor: Actor, mut q: CaseQuery) -> Result<CaseQuery, EngineError> {
    let foreign = |shop: ShopId| EngineError::NotFound { what: "shop", id: shop.to_string() };
    match actor {
        Actor::Merchant { shop, .. } => {
            if let Some(other) = q.shop.filter(|s| *s != shop) {
                return Err(foreign(other));
            }
            q.shop = Some(shop)
        }
        Actor::Buyer { buyer } => {
            if let Some(shop) = q.shop {
                return Err(foreign(shop));
            }
            q.buyer = Some(buyer)
        }
        Actor::Platform { .. } | Actor::System => {}
    }
    if q.limit == 0 {
        q.limit = 50;
    }
    Ok(q)
}

/// Stored names and order numbers never hold control characters (O1 refuses them), so a search
/// text with one matches nothing; neither database is asked (SQLite's full-text query syntax and
/// PostgreSQL's text type both refuse a NUL).
fn unmatchable(q: &CaseQuery) -> bool {
    let holds = |t: &Option<String>| t.as_deref().is_some_and(holds_control_characters);
    holds(&q.customer_name) || holds(&q.order_no)
}

pub(crate) fn check_version(what: &'static str, expected: Option<u64>, actual: u64) -> Result<(), EngineError> {
    match expected {
        Some(e) if e != actual => Err(EngineError::Conflict { what, expected: e, actual }),
        _ => Ok(()),
    }
}

/// Loads an order the actor may see; another shop's or buyer's order is "not found".
pub(crate) fn load_order(tx: &mut dyn CaseReads, id: OrderId, actor: &Actor) -> Result<Order, EngineError> {
    let not_found = || EngineError::NotFound { what: "order", id: id.to_string() };
    let order = tx.order(id)?.ok_or_else(not_found)?;
    if crate::accounts::may_see_order(actor, &order) {
        Ok(order)
    } else {
        Err(not_found())
    }
}

/// A case the actor may see and its order, in one read (in a write job: the order locked, then
/// the case). Whoever may see a case may see its order: both carry the same shop and buyer.
pub(crate) fn load_case_and_order(
    tx: &mut dyn CaseReads,
    id: CaseId,
    actor: &Actor,
) -> Result<(Case, Order), EngineError> {
    let (case, order) = tx.case_and_order(id)?.unzip();
    Ok((visible_case(case, id, actor)?, order.ok_or(EngineError::NotFound { what: "case", id: id.to_string() })?))
}

/// Another shop's or buyer's case is "not found", as a missing one is.
pub(crate) fn visible_case(case: Option<Case>, id: CaseId, actor: &Actor) -> Result<Case, EngineError> {
    let not_found = || EngineError::NotFound { what: "case", id: id.to_string() };
    let case = case.ok_or_else(not_found)?;
    if crate::accounts::may_see_case(actor, &case) {
        Ok(case)
    } else {
        Err(not_found())
    }
}
