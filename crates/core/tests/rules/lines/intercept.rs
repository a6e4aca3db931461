//! I1: a logistics intercept instead of a rejection, and what the carrier's answer does.

use crate::harness::T0;
use aftersale_core::actor::Party;
use aftersale_core::lines::eligibility::Remedy;
use aftersale_core::lines::intercept::{Intercept, InterceptState, InterceptStep};
use aftersale_core::model::OrderState;
use aftersale_core::refusal::Refusal;
use aftersale_core::time::Dur;
use aftersale_core::Money;

#[test]
fn i1_an_intercepted_parcel_comes_back_and_then_the_refund_proceeds_with_the_cost_recorded() {
    let mut i = Intercept::request(Party::Merchant, Remedy::RefundOnly, OrderState::Shipped, T0).unwrap();
    assert_eq!(i.state, InterceptState::Requested { at: T0 });
    // Only the logistics feed answers for the carrier.
    assert_eq!(
        i.answered(Party::Merchant, true, "", None, T0).unwrap_err(),
        Refusal::NotAllowedFor { party: Party::Merchant, action: "intercept_result", rule: "I1" }
    );
    // The parcel was stopped, at a cost of 12.00.
    let at = T0 + Dur::hours(6);
    assert_eq!(i.answered(Party::System, true, "", Some(Money::cny(1_200)), at), Ok(InterceptStep::Intercepted));
    assert_eq!((i.state.clone(), i.cost), (InterceptState::Intercepted { at }, Some(Money::cny(1_200))));
    // Answered once: a second answer is refused.
    assert_eq!(i.answered(Party::System, false, "late", None, at).unwrap_err().code(), "wrong_state");
    // Back with the merchant: the refund proceeds.
    assert_eq!(i.back(Party::Buyer, at).unwrap_err().code(), "not_allowed_for_actor");
    assert_eq!(i.back(Party::System, T0 + Dur::days(2)), Ok(InterceptStep::RefundProceeds));
    assert_eq!(i.state, InterceptState::Returned { at: T0 + Dur::days(2) });
    assert_eq!(i.back(Party::System, T0 + Dur::days(3)).unwrap_err().code(), "wrong_state");
}

#[test]
fn i1_a_failed_intercept_continues_as_a_refund_after_delivery_and_only_a_shipped_refund_only_case_is_intercepted() {
    let mut i = Intercept::request(Party::Merchant, Remedy::RefundOnly, OrderState::Shipped, T0).unwrap();
    // A failure must say why.
    assert_eq!(
        i.answered(Party::System, false, "  ", None, T0),
        Err(Refusal::MissingField { field: "reason", rule: "I1" })
    );
    assert_eq!(
        i.answered(Party::System, false, "already out for delivery", Some(Money::cny(500)), T0),
        Ok(InterceptStep::ContinuesAfterDelivery)
    );
    assert_eq!(i.state, InterceptState::Failed { at: T0, reason: "already out for delivery".into() });
    assert_eq!(i.cost, Some(Money::cny(500)));
    // Nothing comes back from a failed intercept.
    assert_eq!(i.back(Party::System, T0).unwrap_err().code(), "wrong_state");
    // Who and when: the merchant, a refund-only case, an order shipped and not delivered.
    let refused = |party, remedy, order| Intercept::request(party, remedy, order, T0).unwrap_err();
    assert_eq!(refused(Party::Buyer, Remedy::RefundOnly, OrderState::Shipped).code(), "not_allowed_for_actor");
    assert_eq!(refused(Party::Platform, Remedy::RefundOnly, OrderState::Shipped).rule(), Some("I1"));
    assert_eq!(
        refused(Party::Merchant, Remedy::ReturnRefund, OrderState::Shipped),
        Refusal::WrongState { action: "request_intercept", subject: "case", state: "return_refund".into(), rule: "I1" }
    );
    for order in [OrderState::Stocking, OrderState::Delivered, OrderState::Completed] {
        assert_eq!(refused(Party::Merchant, Remedy::RefundOnly, order).code(), "wrong_state", "{order:?}");
    }
}
