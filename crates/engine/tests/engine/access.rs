//! Who may do what outside a case's rules (the engine's `access.rs`): by role and shop, the same
//! answer for every edge. Another shop is "not found", a role that may not is "forbidden".

use crate::harness::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::accounts::NewUser;
use aftersale_engine::*;

fn sender(actor: Actor, role: Role) -> Sender {
    Sender { actor, role, credential: Credential::Session }
}

const OWNER_1: Actor = Actor::Merchant { shop: ShopId(1), staff: StaffId(10) };

fn owner() -> Sender {
    sender(OWNER_1, Role::Owner)
}
fn staff() -> Sender {
    sender(MERCHANT, Role::Staff)
}
fn other_owner() -> Sender {
    sender(OTHER_SHOP, Role::Owner)
}
fn agent() -> Sender {
    sender(AGENT, Role::Agent)
}
fn admin() -> Sender {
    sender(AGENT, Role::Admin)
}
fn buyer() -> Sender {
    sender(BUYER, Role::Buyer)
}

fn forbidden<T: std::fmt::Debug>(r: Result<T, EngineError>) {
    assert!(matches!(r, Err(EngineError::Forbidden(_))), "{r:?}");
}
fn not_found<T: std::fmt::Debug>(r: Result<T, EngineError>) {
    assert!(matches!(r, Err(EngineError::NotFound { what: "shop", .. })), "{r:?}");
}

fn address() -> AddressInput {
    AddressInput {
        name: "仓".into(),
        phone: Phone::parse("13900002222").unwrap(),
        region: "浙江".into(),
        detail: "1 号".into(),
        is_default: false,
    }
}

#[test]
fn shop_settings_are_seen_by_their_staff_and_the_platform_and_changed_by_owners_and_admins() {
    let a = app();
    let shop = ShopId(1);
    // Seeing: its staff, the platform; another shop's staff get "not found"; a buyer too.
    assert_eq!(a.engine.shops_as(&staff()).unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), [shop]);
    assert_eq!(a.engine.shops_as(&agent()).unwrap().len(), 2);
    forbidden(a.engine.shops_as(&buyer()));
    assert_eq!(a.engine.shop_as(&staff(), shop).unwrap().0.id, shop);
    assert_eq!(a.engine.policy_as(&agent(), shop).unwrap().name, "douyin");
    not_found(a.engine.shop_as(&other_owner(), shop));
    not_found(a.engine.policy_as(&buyer(), shop));
    assert_eq!(a.engine.addresses_as(&staff(), shop).unwrap().len(), 1);
    not_found(a.engine.addresses_as(&other_owner(), shop));
    assert!(a.engine.templates_as(&agent(), shop).unwrap().is_empty());
    not_found(a.engine.templates_as(&other_owner(), shop));
    assert!(a.engine.penalties_as(&staff(), shop).unwrap().is_empty());
    not_found(a.engine.penalties_as(&other_owner(), shop));
    // Changing: the owner and an admin; staff and agents may not; another shop's owner sees nothing.
    forbidden(a.engine.add_address_as(&staff(), shop, address()));
    forbidden(a.engine.add_address_as(&agent(), shop, address()));
    not_found(a.engine.add_address_as(&other_owner(), shop, address()));
    a.engine.add_address_as(&owner(), shop, address()).unwrap();
    a.engine.add_address_as(&admin(), shop, address()).unwrap();
    assert_eq!(a.engine.addresses_as(&staff(), shop).unwrap().len(), 3);
    forbidden(a.engine.add_template_as(&staff(), shop, "Hi", "Thanks"));
    let t = a.engine.add_template_as(&owner(), shop, "Hi", "Thanks").unwrap();
    forbidden(a.engine.delete_template_as(&staff(), shop, t.id));
    not_found(a.engine.delete_template_as(&other_owner(), shop, t.id));
    a.engine.delete_template_as(&owner(), shop, t.id).unwrap();
    forbidden(a.engine.update_shop_policy_as(&staff(), shop, "taote", PolicyOverrides::default()));
    assert_eq!(
        a.engine.update_shop_policy_as(&owner(), shop, "taote", PolicyOverrides::default()).unwrap().name,
        "taote"
    );
}

#[test]
fn platform_matters_are_the_platforms() {
    let a = app();
    forbidden(a.engine.create_shop_as(&owner(), "x", "douyin", PolicyOverrides::default()));
    forbidden(a.engine.create_shop_as(&agent(), "x", "douyin", PolicyOverrides::default()));
    assert_eq!(a.engine.create_shop_as(&admin(), "x", "douyin", PolicyOverrides::default()).unwrap().name, "x");
    forbidden(a.engine.users_as(&agent()));
    assert!(a.engine.users_as(&admin()).is_ok());
    let staff_user = |login: &str, role| NewUser {
        login: login.into(),
        role,
        shop_id: Some(ShopId(1)),
        display_name: login.into(),
        password_hash: "x".into(),
    };
    forbidden(a.engine.create_user_as(&owner(), staff_user("new-staff", Role::Staff)));
    let buyer_made = a.engine.create_user_as(&admin(), NewUser { shop_id: None, ..staff_user("b1x", Role::Buyer) });
    assert!(matches!(buyer_made, Err(EngineError::Invalid { field: "role", .. })), "{buyer_made:?}");
    assert_eq!(a.engine.create_user_as(&admin(), staff_user("new-staff", Role::Staff)).unwrap().login, "new-staff");
    forbidden(a.engine.sms_outbox_as(&staff()));
    assert!(a.engine.sms_outbox_as(&agent()).is_ok());
    forbidden(a.engine.clock_as(&staff()));
    assert_eq!(a.engine.clock_as(&agent()).unwrap(), a.clock.now());
    forbidden(a.engine.may_move_clock(&agent()));
    assert!(a.engine.may_move_clock(&admin()).is_ok());
}

#[test]
fn o1_orders_are_recorded_by_their_shop_or_the_platform_and_queues_counted_for_them() {
    let a = app();
    let shop = ShopId(1);
    forbidden(a.engine.create_order_as(&buyer(), shop, new_order("AX1", PaymentMethod::Online), None));
    not_found(a.engine.create_order_as(&other_owner(), shop, new_order("AX1", PaymentMethod::Online), None));
    let o = a.engine.create_order_as(&staff(), shop, new_order("AX1", PaymentMethod::Online), None).unwrap();
    assert_eq!(o.shop_id, shop);
    a.engine.create_order_as(&agent(), shop, new_order("AX2", PaymentMethod::Online), None).unwrap();
    // Queue counts: staff their own shop (named or not), the platform the shop it names.
    assert_eq!(a.engine.queue_counts_as(&staff(), None).unwrap().0, shop);
    assert_eq!(a.engine.queue_counts_as(&staff(), Some(shop)).unwrap().0, shop);
    not_found(a.engine.queue_counts_as(&other_owner(), Some(shop)));
    assert_eq!(a.engine.queue_counts_as(&agent(), Some(ShopId(2))).unwrap().0, ShopId(2));
    let unnamed = a.engine.queue_counts_as(&agent(), None);
    assert!(matches!(unnamed, Err(EngineError::Invalid { field: "shop", .. })), "{unnamed:?}");
    forbidden(a.engine.queue_counts_as(&buyer(), None));
    forbidden(a.engine.queue_counts_as(&buyer(), Some(shop)));
}
