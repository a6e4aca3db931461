//! Use-cases: each loads what it needs, lets the core decide, and writes the new state, the events
//! (case log), the deadlines and the notices in one transaction. Nothing is enqueued outside it.
//! Case commands and firings are decided on the last committed state off the writer; the write
//! transaction checks that the versions decided on still hold, and decides again if not.

use crate::clock::Clock;
use crate::deadline_rows::{diff_deadlines, sync_deadlines};
use crate::gateway::{GatewayOutcome, PaymentGateway};
use crate::jobs::{contention_pause, job_outcome, job_with_slot};
use crate::store::*;
use aftersale_core::values::*;
use aftersale_core::*;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
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

/// What a decision on one shop needs: its policy and its default return address.
#[derive(Clone, Debug)]
pub struct ShopCtx {
    pub policy: Policy,
    pub default_address: Option<Address>,
}

pub(crate) fn load_shop_ctx(tx: &mut dyn ReadTx, shop: ShopId) -> Result<ShopCtx, EngineError> {
    let record = tx.shop(shop)?.ok_or(EngineError::NotFound { what: "shop", id: shop.to_string() })?;
    let policy = Policy::profile(&record.profile)
        .and_then(|p| p.with_overrides(&record.overrides))
        .map_err(|reason| EngineError::Invalid { field: "profile", reason })?;
    Ok(ShopCtx { policy, default_address: record.default_address })
}

/// Shop contexts kept between commands. Every change to a shop goes through the engine, which
/// drops the shop's entry once the change is committed (and tells the other nodes, which drop
/// theirs); a generation counter keeps a load that started before the change from putting the
/// old context back. An entry also lives at most `SHOP_TTL`: the bound on how long a node whose
/// message was lost may decide on a shop's old settings.
#[derive(Default)]
pub struct ShopCache {
    map: RwLock<HashMap<ShopId, (Arc<ShopCtx>, std::time::Instant)>>,
    generation: std::sync::atomic::AtomicU64,
}

/// How long a node keeps a shop's settings without reading them again.
pub const SHOP_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl ShopCache {
    pub(crate) fn get(&self, tx: &mut dyn ReadTx, shop: ShopId) -> Result<Arc<ShopCtx>, EngineError> {
        let hit = self.map.read().ok().and_then(|m| m.get(&shop).cloned());
        if let Some((ctx, at)) = hit {
            if at.elapsed() < SHOP_TTL {
                return Ok(ctx);
            }
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let ctx = Arc::new(load_shop_ctx(tx, shop)?);
        if let Ok(mut m) = self.map.write() {
            if self.generation.load(std::sync::atomic::Ordering::SeqCst) == generation {
                m.insert(shop, (ctx.clone(), std::time::Instant::now()));
            }
        }
        Ok(ctx)
    }

    pub fn forget(&self, shop: ShopId) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut m) = self.map.write() {
            m.remove(&shop);
        }
    }

    pub fn clear(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }
}

/// What every write path shares.
pub(crate) struct Deps {
    pub(crate) shops: Arc<ShopCache>,
    gateway: Arc<dyn PaymentGateway>,
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
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    pub(crate) deps: Arc<Deps>,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, gateway: Arc<dyn PaymentGateway>) -> Engine {
        Engine { store, clock, deps: Arc::new(Deps { shops: Arc::new(ShopCache::default()), gateway }) }
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
    // Shops

    pub fn create_shop(
        &self,
        name: &str,
        profile: &str,
        overrides: PolicyOverrides,
    ) -> Result<ShopRecord, EngineError> {
        let name =
            text("name", name, 100, true).map_err(|(_, reason)| EngineError::Invalid { field: "name", reason })?;
        Policy::profile(profile)
            .and_then(|p| p.with_overrides(&overrides))
            .map_err(|reason| EngineError::Invalid { field: "profile", reason })?;
        let profile = profile.to_string();
        self.transact(move |tx| {
            let id = tx.insert_shop(&name, &profile, &overrides)?;
            Ok(ShopRecord {
                id,
                name: name.clone(),
                profile: profile.clone(),
                overrides: overrides.clone(),
                default_address: None,
            })
        })
    }

    /// Changes a shop's profile and overrides. The deadlines of its open cases and unpaid orders
    /// are re-armed under the new policy in the same transaction: a shortened window that has
    /// already passed fires on the runner's next pass.
    pub fn update_shop_policy(
        &self,
        shop: ShopId,
        profile: &str,
        overrides: PolicyOverrides,
    ) -> Result<Policy, EngineError> {
        let policy = Policy::profile(profile)
            .and_then(|p| p.with_overrides(&overrides))
            .map_err(|reason| EngineError::Invalid { field: "profile", reason })?;
        let profile = profile.to_string();
        let new_policy = policy.clone();
        let result = self.transact(move |tx| {
            if !tx.update_shop(shop, &profile, &overrides)? {
                return Err(EngineError::NotFound { what: "shop", id: shop.to_string() });
            }
            for id in tx.open_case_ids(shop)? {
                let Some(case) = tx.case(id)? else { continue };
                let stored: Vec<Deadline> =
                    tx.deadlines_of(Subject::Case(id))?.iter().map(|d| Deadline { kind: d.kind, due: d.due }).collect();
                let live = case.deadlines(&new_policy);
                sync_deadlines(tx, Subject::Case(id), case.version, &stored, &live)?;
                let due = case.governing_deadline(&new_policy).map(|d| d.due);
                tx.update_case(&case, &json(&case)?, case.version, due, false)?;
            }
            for id in tx.unpaid_order_ids(shop)? {
                let Some(order) = tx.order(id)? else { continue };
                let stored: Vec<Deadline> = tx
                    .deadlines_of(Subject::Order(id))?
                    .iter()
                    .map(|d| Deadline { kind: d.kind, due: d.due })
                    .collect();
                sync_deadlines(tx, Subject::Order(id), order.version, &stored, &order.deadlines(&new_policy))?;
            }
            Ok(new_policy.clone())
        });
        self.deps.shops.forget(shop);
        self.announce(Topic::Shop, &shop.0.to_string());
        result
    }

    /// R4: adds an address to the shop's book (optionally as the default).
    pub fn add_address(&self, shop: ShopId, input: AddressInput) -> Result<Address, EngineError> {
        for (field, value, max) in
            [("name", &input.name, 64), ("region", &input.region, 200), ("detail", &input.detail, 300)]
        {
            text(field, value, max, true).map_err(|(_, reason)| EngineError::Invalid { field, reason })?;
        }
        let result = self.transact(move |tx| {
            tx.shop(shop)?.ok_or(EngineError::NotFound { what: "shop", id: shop.to_string() })?;
            let id = tx.insert_address(shop, &input)?;
            Ok(Address {
                id,
                name: input.name.clone(),
                phone: input.phone.clone(),
                region: input.region.clone(),
                detail: input.detail.clone(),
            })
        });
        self.deps.shops.forget(shop);
        self.announce(Topic::Shop, &shop.0.to_string());
        result
    }

    pub fn policy_of(&self, shop: ShopId) -> Result<Policy, EngineError> {
        self.store.read(|tx| Ok(load_shop_ctx(tx, shop).map(|c| c.policy)))?
    }

    /// The deadline governing a case now, from the shop's cached policy (read only on a miss).
    pub fn governing_deadline(&self, case: &Case) -> Result<Option<Deadline>, EngineError> {
        let hit = self.deps.shops.map.read().ok().and_then(|m| m.get(&case.shop_id).cloned());
        let ctx = match hit {
            Some((c, at)) if at.elapsed() < SHOP_TTL => c,
            _ => self.store.read(|tx| Ok(self.deps.shops.get(tx, case.shop_id)))??,
        };
        Ok(case.governing_deadline(&ctx.policy))
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
        let clock = self.clock.clone();
        let deps = self.deps.clone();
        let idem = Self::idem(&actor, key, &("apply", order_id, &cmd));
        self.transact_on(Some(order_id), move |tx| {
            let now = clock.now();
            Self::idempotent(tx, idem.as_ref(), now, |tx| {
                let order = load_order(tx, order_id, &actor)?;
                let sc = deps.shops.get(tx, order.shop_id)?;
                let policy = &sc.policy;
                let ctx = Ctx { policy, now, default_address: sc.default_address.as_ref() };
                let case_id = tx.next_case_id()?;
                let events = aftersale_core::apply(&order, case_id, &cmd, &actor, &ctx)?;
                let recorded: Vec<Recorded> =
                    events.into_iter().map(|event| Recorded { at: now, actor, event }).collect();
                let case = recorded
                    .first()
                    .and_then(|r| Case::open(&order, r))
                    .ok_or(EngineError::Invalid { field: "case", reason: "no application event".into() })?;
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

/// An order change's log row, its domain events and deadline moves, in one `write_effects`
/// call. `before` is the order before the change (None for a new order), `after` after it.
fn write_order_effects(
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

fn json<T: Serialize>(v: &T) -> Result<String, EngineError> {
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
}

impl CasePlan {
    /// `old` is the case before (None for a new case); `case` is it after `recorded`.
    fn new(
        order: &Order,
        old: Option<&Case>,
        case: Case,
        recorded: Vec<Recorded>,
        policy: &Policy,
    ) -> Result<CasePlan, EngineError> {
        let mut new_order = order.clone();
        for r in &recorded {
            new_order.apply(r);
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
pub(crate) fn load_order(tx: &mut dyn ReadTx, id: OrderId, actor: &Actor) -> Result<Order, EngineError> {
    let not_found = || EngineError::NotFound { what: "order", id: id.to_string() };
    let order = tx.order(id)?.ok_or_else(not_found)?;
    let visible = match actor {
        Actor::Buyer { buyer } => *buyer == order.buyer_id,
        Actor::Merchant { shop, .. } => *shop == order.shop_id,
        Actor::Platform { .. } | Actor::System => true,
    };
    if visible {
        Ok(order)
    } else {
        Err(not_found())
    }
}

/// A case the actor may see and its order, in one read (in a write job: the order locked, then
/// the case). Whoever may see a case may see its order: both carry the same shop and buyer.
pub(crate) fn load_case_and_order(
    tx: &mut dyn ReadTx,
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
    let visible = match actor {
        Actor::Buyer { buyer } => *buyer == case.buyer_id,
        Actor::Merchant { shop, .. } => *shop == case.shop_id,
        Actor::Platform { .. } | Actor::System => true,
    };
    if visible {
        Ok(case)
    } else {
        Err(not_found())
    }
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
