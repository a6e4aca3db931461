//! The eligibility call: per line of an order, what the caller may open now, for how much and
//! until when (L2–L4, C1), read in one transaction with the shop's policy. The answer is the
//! core's (`order_eligibility`); this only loads what it needs and checks who may see the order.

use crate::accounts::may_see_order;
use crate::shops::load_shop_ctx;
use crate::usecase::{Engine, EngineError};
use aftersale_core::lines::eligibility::LineEligibility;
use aftersale_core::values::OrderId;
use aftersale_core::{order_eligibility, Actor, Ctx, Order, Timestamp};

impl Engine {
    /// The order as `actor` may see it, with what `actor` may open on each of its lines now, and
    /// that time.
    pub fn eligibility(
        &self,
        actor: Actor,
        id: OrderId,
    ) -> Result<(Order, Vec<LineEligibility>, Timestamp), EngineError> {
        let now = self.now();
        self.read(|tx| {
            let r = (|| {
                let order = match tx.order(id)? {
                    Some(o) if may_see_order(&actor, &o) => o,
                    _ => return Err(EngineError::NotFound { what: "order", id: id.to_string() }),
                };
                let sc = load_shop_ctx(tx, order.shop_id)?;
                let ctx = Ctx { policy: &sc.policy, now, default_address: sc.default_address.as_ref() };
                let lines = order_eligibility(&order, &actor, &ctx);
                Ok((order.with_lines().into_owned(), lines, now))
            })();
            Ok(r)
        })?
    }
}
