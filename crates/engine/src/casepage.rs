//! The case page as one read, for one caller: the case, its order, the governing deadline, the
//! caller's available actions and the log, all from the same committed state (one read
//! transaction), so the actions shown always belong to the version shown. R6 is applied here:
//! a merchant's copy of the case and of its log carries no COD refund account. The JSON API and
//! the web pages both render this.

use crate::usecase::{load_case_and_order, load_shop_ctx, Engine, EngineError};
use aftersale_core::values::{Address, AddressId, CaseId};
use aftersale_core::*;

/// Everything one party's case page shows.
#[derive(Clone, Debug)]
pub struct CaseSheet {
    pub case: Case,
    pub order: Order,
    /// The case log (W5), oldest first, with R6 applied for the caller.
    pub log: Vec<Recorded>,
    /// What the caller may do now (the core's `available_actions`).
    pub actions: Vec<Action>,
    pub governing: Option<Deadline>,
    /// The shop's policy in force (profile with overrides).
    pub policy: Policy,
    /// The time the sheet was read at.
    pub now: Timestamp,
}

/// Where a merchant agreeing to a return sends the parcel (R2/R4).
#[derive(Clone, Debug)]
pub enum ReturnTo {
    /// An address of the shop's book.
    Book(AddressId),
    /// An address given with the command.
    Given(Address),
    /// The shop's default address.
    Default,
}

impl Engine {
    /// The case page for `actor`, read in one transaction. Another shop's or buyer's case is
    /// "not found".
    pub fn case_sheet(&self, actor: Actor, id: CaseId) -> Result<CaseSheet, EngineError> {
        let now = self.now();
        self.store().read(|tx| {
            Ok((|| {
                let (case, order) = load_case_and_order(tx, id, &actor)?;
                let sc = load_shop_ctx(tx, case.shop_id)?;
                let ctx = Ctx { policy: &sc.policy, now, default_address: sc.default_address.as_ref() };
                let actions = available_actions(&order, &case, &actor, &ctx);
                let governing = case.governing_deadline(&sc.policy);
                // R6: the case and its log as the caller may see them (the core's rule).
                let log = tx.case_events(id)?.into_iter().map(|e| e.recorded.seen_by(&actor)).collect();
                Ok(CaseSheet { case: case.seen_by(&actor), order, log, actions, governing, policy: sc.policy, now })
            })())
        })?
    }
}
