//! Shops: their settings as the rules need them (policy with overrides, default return address),
//! cached per node with a bounded staleness, and the use-cases that change them.

use crate::deadline_rows::sync_deadlines;
use crate::plan::json;
use crate::store::*;
use crate::usecase::*;
use aftersale_core::values::*;
use aftersale_core::*;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// What a decision on one shop needs: its policy and its default return address.
#[derive(Clone, Debug)]
pub struct ShopCtx {
    pub policy: Policy,
    pub default_address: Option<Address>,
}

pub(crate) fn load_shop_ctx(tx: &mut dyn ShopReads, shop: ShopId) -> Result<ShopCtx, EngineError> {
    let (record, policy) = load_shop(tx, shop)?;
    Ok(ShopCtx { policy, default_address: record.default_address })
}

/// A shop's record and the policy in force for it (its profile with its overrides), in one read.
fn load_shop(tx: &mut dyn ShopReads, shop: ShopId) -> Result<(ShopRecord, Policy), EngineError> {
    let record = tx.shop(shop)?.ok_or(EngineError::NotFound { what: "shop", id: shop.to_string() })?;
    let policy = Policy::profile(&record.profile)
        .and_then(|p| p.with_overrides(&record.overrides))
        .map_err(|reason| EngineError::Invalid { field: "profile", reason })?;
    Ok((record, policy))
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
    /// The deployment's way of paying refunds, set on every policy this cache hands out.
    payout: Payout,
}

/// How long a node keeps a shop's settings without reading them again.
pub const SHOP_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl ShopCache {
    pub(crate) fn with_payout(payout: Payout) -> ShopCache {
        ShopCache { payout, ..ShopCache::default() }
    }

    pub(crate) fn get(&self, tx: &mut dyn ShopReads, shop: ShopId) -> Result<Arc<ShopCtx>, EngineError> {
        let hit = self.map.read().ok().and_then(|m| m.get(&shop).cloned());
        if let Some((ctx, at)) = hit {
            if at.elapsed() < SHOP_TTL {
                return Ok(ctx);
            }
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let mut ctx = load_shop_ctx(tx, shop)?;
        ctx.policy.payout = self.payout;
        let ctx = Arc::new(ctx);
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

impl Engine {
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

    /// A shop and the policy in force for it, in one read (a page header needs both).
    pub fn shop_with_policy(&self, shop: ShopId) -> Result<(ShopRecord, Policy), EngineError> {
        self.store.read(|tx| Ok(load_shop(tx, shop)))?
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
}
