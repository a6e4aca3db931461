//! Feed events (payment, delivery, completion, a parcel signed for) come from the platform or a
//! shop's integration token, and are recorded as the system's.

use crate::harness::*;
use aftersale_core::values::ShopId;
use aftersale_core::*;
use aftersale_engine::*;

fn sender(actor: Actor, role: Role, credential: Credential) -> Sender {
    Sender { actor, role, credential }
}

#[test]
fn o1_a_payment_is_the_systems_and_only_a_feed_reporter_may_report_it() {
    let a = app();
    let o = a.engine.create_order(MERCHANT, ShopId(1), new_order("F1", PaymentMethod::Online), None).unwrap();
    // Staff with a session, or with their own token, may not say the buyer paid.
    for credential in [Credential::Session, Credential::Token(TokenScope::Full)] {
        let err = a.engine.order_action(sender(MERCHANT, Role::Staff, credential), o.id, OrderCommand::Pay, None, None);
        assert!(matches!(err, Err(EngineError::Forbidden(_))), "{credential:?}: {err:?}");
    }
    // Another shop's integration is told the order does not exist, not that it may not.
    let other = sender(OTHER_SHOP, Role::Owner, Credential::Token(TokenScope::Integration));
    assert!(matches!(
        a.engine.order_action(other, o.id, OrderCommand::Pay, None, None),
        Err(EngineError::NotFound { .. })
    ));
    // The shop's integration token may, and the log records the system as the actor.
    let integration = sender(MERCHANT, Role::Owner, Credential::Token(TokenScope::Integration));
    let paid = a.engine.order_action(integration, o.id, OrderCommand::Pay, None, None).unwrap();
    assert_eq!(paid.state, OrderState::AwaitingConfirmation);
    let log = a.engine.read(|tx| tx.order_events(o.id)).unwrap();
    assert_eq!(log.last().unwrap().recorded.actor, Actor::System);
    // A person's own actions stay theirs.
    let flagged = a
        .engine
        .order_action(
            sender(MERCHANT, Role::Staff, Credential::Session),
            o.id,
            OrderCommand::SetFlag { flag: None },
            None,
            None,
        )
        .unwrap();
    assert_eq!(flagged.version, paid.version + 1);
    let log = a.engine.read(|tx| tx.order_events(o.id)).unwrap();
    assert_eq!(log.last().unwrap().recorded.actor, MERCHANT);
}

#[test]
fn m3_a_parcel_signed_for_is_reported_by_the_platform_only_once_visible() {
    let a = app();
    let o = a.order("F2", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::ReturnRefund, 10);
    let action = CaseAction::AgreeReturn { to: ReturnTo::Default, refuse_freight_collect: false };
    a.engine.case_action_blocking(MERCHANT, 0, c.id, action, None, None).unwrap();
    let logistics = aftersale_core::values::Logistics {
        carrier: aftersale_core::values::Carrier::parse("SF").unwrap(),
        tracking_no: aftersale_core::values::TrackingNo::parse("SF3000000001").unwrap(),
    };
    a.engine
        .case_command(BUYER, c.id, CaseCommand::SubmitReturnLogistics { logistics, refund_account: None }, None, None)
        .unwrap();
    let staff = sender(MERCHANT, Role::Staff, Credential::Session);
    assert!(matches!(a.engine.return_parcel_report(staff, c.id, true, None), Err(EngineError::Forbidden(_))));
    let other = sender(OTHER_SHOP, Role::Owner, Credential::Token(TokenScope::Integration));
    assert!(matches!(a.engine.return_parcel_report(other, c.id, true, None), Err(EngineError::NotFound { .. })));
    let agent = sender(AGENT, Role::Agent, Credential::Session);
    a.engine.return_parcel_report(agent, c.id, false, None).unwrap();
    assert!(!a.case(c.id).return_parcel.unwrap().signed, "not signed: nothing changes");
    a.engine.return_parcel_report(agent, c.id, true, None).unwrap();
    assert!(a.case(c.id).return_parcel.unwrap().signed);
}
