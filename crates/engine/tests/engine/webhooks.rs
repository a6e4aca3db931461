//! Webhooks below HTTP, on both databases: which endpoint gets which event (once, however often
//! it is fanned out), leased claims a few per endpoint, the retry schedule, and an endpoint that
//! keeps failing disabled with a notice to its shop.

use crate::harness::*;
use aftersale_core::model::*;
use aftersale_core::notice::Recipient;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::store::{DeliveryStatus, WebhookDelivery};
use aftersale_engine::webhooks::{AttemptOutcome, NewEndpoint, WebhookRules, CONSUMER};
use aftersale_engine::*;

fn sender(actor: Actor, role: Role) -> Sender {
    Sender { actor, role, credential: Credential::Session }
}

const ADMIN: Actor = Actor::Platform { agent: AgentId(1) };

fn rules() -> WebhookRules {
    WebhookRules { allow_insecure: true, retry_schedule_ms: vec![1_000, 2_000], disable_after_ms: 10_000 }
}

fn add(a: &App, s: &Sender, shop: Option<ShopId>, url: &str, types: &[&str], enabled: bool) -> i64 {
    let new = NewEndpoint {
        url: url.into(),
        description: String::new(),
        types: types.iter().map(|t| t.to_string()).collect(),
        enabled,
        sealed_secret: "sealed".into(),
    };
    a.engine.create_webhook_as(s, shop, new, &rules(), 1_000).unwrap().id
}

/// Every committed event, once the stream shows them all (on PostgreSQL an event shows once
/// every older transaction in the cluster has ended: a bounded wait).
fn all_events(a: &App) -> Vec<DomainEventRow> {
    let committed =
        a.db.count("SELECT COALESCE(SUM(LENGTH(types) - LENGTH(REPLACE(types, ' ', ''))), 0) FROM domain_events")
            as usize;
    for _ in 0..600 {
        let seen = a.engine.events_after(Actor::System, EventPosition::START, 1000, vec![]).unwrap().0;
        if seen.len() >= committed {
            return seen;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the stream did not show the {committed} committed events");
}

/// Every event fanned out (on PostgreSQL an event shows once older transactions end: bounded wait).
fn fan_out_all(a: &App, expected_events: usize) -> usize {
    let mut made = 0;
    for _ in 0..200 {
        made += a.engine.fan_out_webhooks(1000, 1_000).unwrap().1;
        let at = a.engine.consumer_position(CONSUMER).unwrap();
        let seen = a.engine.events_after(Actor::System, EventPosition::START, 1000, vec![]).unwrap().0;
        if seen.len() >= expected_events && seen.last().is_some_and(|e| e.position <= at) {
            return made;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the fan-out did not reach the stream's end");
}

fn deliveries(a: &App, s: &Sender, endpoint: i64) -> Vec<WebhookDelivery> {
    a.engine.webhook_deliveries_as(s, endpoint, 100).unwrap().into_iter().map(|(d, _)| d).collect()
}

#[test]
fn each_endpoint_gets_the_events_it_takes_once_however_often_they_are_fanned_out() {
    let (a, _, _) = refund_only_case("WH1");
    a.engine.create_order(OTHER_SHOP, ShopId(2), new_order("WH1B", PaymentMethod::Online), None).unwrap();
    let owner = sender(MERCHANT, Role::Owner);
    let owner2 = sender(OTHER_SHOP, Role::Owner);
    let admin = sender(ADMIN, Role::Admin);
    let all = add(&a, &owner, Some(ShopId(1)), "http://r/all", &[], true);
    let opened = add(&a, &owner, Some(ShopId(1)), "http://r/opened", &["case.opened"], true);
    let off = add(&a, &owner, Some(ShopId(1)), "http://r/off", &[], false);
    let other = add(&a, &owner2, Some(ShopId(2)), "http://r/other", &[], true);
    let platform = add(&a, &admin, None, "http://r/platform", &[], true);
    let events = all_events(&a);
    let shop1 = events.iter().filter(|e| e.shop == ShopId(1)).count();
    fan_out_all(&a, events.len());
    assert_eq!(deliveries(&a, &owner, all).len(), shop1);
    assert_eq!(
        deliveries(&a, &owner, opened).iter().map(|d| d.event_type.as_str()).collect::<Vec<_>>(),
        ["case.opened"]
    );
    assert!(deliveries(&a, &owner, off).is_empty(), "a disabled endpoint gets nothing");
    assert_eq!(deliveries(&a, &owner2, other).len(), 1, "the other shop's order, only");
    assert_eq!(deliveries(&a, &admin, platform).len(), events.len(), "the platform's: every shop's");
    // A second node starting from behind fans the same events out again: nothing doubles.
    a.engine.set_consumer_position(CONSUMER, EventPosition::START).unwrap();
    assert_eq!(a.engine.fan_out_webhooks(1000, 2_000).unwrap().1, 0);
    assert_eq!(deliveries(&a, &owner, all).len(), shop1);
    // Another shop's owner, a staff member, a buyer: none may see the endpoint.
    for s in [owner2, sender(MERCHANT, Role::Staff), sender(BUYER, Role::Buyer)] {
        assert!(a.engine.webhook_as(&s, all).is_err(), "{s:?}");
    }
}

#[test]
fn claims_are_leased_a_few_per_endpoint_and_retries_follow_the_schedule_then_fail() {
    let (a, _, _) = refund_only_case("WH2");
    let owner = sender(MERCHANT, Role::Owner);
    let e = add(&a, &owner, Some(ShopId(1)), "http://r/e", &[], true);
    let events = all_events(&a);
    fan_out_all(&a, events.len());
    let n = deliveries(&a, &owner, e).len();
    assert!(n >= 2, "an order's and a case's events");
    // One at a time per endpoint; another node gets none while the lease lives, all after.
    let first = a.engine.claim_webhook_deliveries(5_000, 10, 1, Default::default(), "node-a", 30_000).unwrap();
    assert_eq!(first.len(), 1, "one at a time to one endpoint, on a node");
    let busy: std::collections::HashMap<i64, usize> = [(e, 1)].into();
    assert!(
        a.engine.claim_webhook_deliveries(5_500, 10, 1, busy, "node-a", 30_000).unwrap().is_empty(),
        "the node's one slot for the endpoint is taken"
    );
    // Another node never gets a row whose lease lives.
    let other = a.engine.claim_webhook_deliveries(6_000, 10, 10, Default::default(), "node-b", 30_000).unwrap();
    assert!(other.iter().all(|(x, _)| x.id != first[0].0.id));
    assert_eq!(other.len(), n - 1, "the rest");
    let (d, _) = &first[0];
    // Fails: tried again after 1 s, then after 2 s, then it has failed.
    let fail = |at_ms: i64| AttemptOutcome {
        at_ms,
        status_code: Some(503),
        latency_ms: 3,
        response: "busy".repeat(400),
        error: None,
    };
    assert_eq!(a.engine.record_webhook_attempt(d, e, fail(7_000), &rules()).unwrap(), DeliveryStatus::Pending);
    let early = a.engine.claim_webhook_deliveries(7_999, 10, 5, Default::default(), "node-b", 30_000).unwrap();
    assert!(early.iter().all(|(x, _)| x.id != d.id), "not before its second");
    let again = a.engine.claim_webhook_deliveries(8_000, 10, 5, Default::default(), "node-b", 30_000).unwrap();
    let again = &again.iter().find(|(x, _)| x.id == d.id).expect("due again after 1 s").0;
    assert_eq!(again.event_id, d.event_id, "the same webhook-id");
    assert_eq!(a.engine.record_webhook_attempt(again, e, fail(8_000), &rules()).unwrap(), DeliveryStatus::Pending);
    let last = a.engine.claim_webhook_deliveries(40_000, 10, 5, Default::default(), "node-c", 30_000).unwrap();
    let mine = last.iter().find(|(x, _)| x.id == d.id).unwrap();
    assert_eq!(a.engine.record_webhook_attempt(&mine.0, e, fail(10_000), &rules()).unwrap(), DeliveryStatus::Failed);
    let log = a.engine.webhook_deliveries_as(&owner, e, 100).unwrap();
    let (done, attempts) = log.iter().find(|(x, _)| x.id == d.id).unwrap();
    assert_eq!((done.status, done.attempts, attempts.len()), (DeliveryStatus::Failed, 3, 3));
    assert_eq!(attempts[0].response.len(), 1024, "the first 1 kB of the answer");
    // Sent again on request: pending, due now, its attempts kept.
    let redone = a.engine.redeliver_webhook_as(&owner, d.id, 11_000).unwrap();
    assert_eq!((redone.status, redone.attempts), (DeliveryStatus::Pending, 3));
}

#[test]
fn an_endpoint_failing_for_the_whole_window_is_disabled_and_its_shop_told() {
    let (a, _, _) = refund_only_case("WH3");
    let owner = sender(MERCHANT, Role::Owner);
    let e = add(&a, &owner, Some(ShopId(1)), "http://r/dead", &[], true);
    let events = all_events(&a);
    fan_out_all(&a, events.len());
    let dead = |at_ms: i64| AttemptOutcome {
        at_ms,
        status_code: None,
        latency_ms: 10_000,
        response: String::new(),
        error: Some("connection refused".into()),
    };
    let claimed = a.engine.claim_webhook_deliveries(20_000, 10, 10, Default::default(), "n", 1_000).unwrap();
    a.engine.record_webhook_attempt(&claimed[0].0, e, dead(20_000), &rules()).unwrap();
    assert_eq!(a.engine.webhook_as(&owner, e).unwrap().failing_since, Some(20_000));
    a.engine.record_webhook_attempt(&claimed[1].0, e, dead(25_000), &rules()).unwrap();
    assert!(a.engine.webhook_as(&owner, e).unwrap().enabled, "5 s of a 10 s window");
    a.engine.record_webhook_attempt(&claimed[0].0, e, dead(30_000), &rules()).unwrap();
    let off = a.engine.webhook_as(&owner, e).unwrap();
    assert!(!off.enabled && off.disabled_reason.is_some(), "{off:?}");
    let inbox = a.engine.message_box(Recipient::Shop(ShopId(1))).unwrap();
    assert!(inbox.entries.iter().any(|n| n.category == "integration" && n.body.contains("http://r/dead")));
    // Its deliveries are not sent while it is off; enabled again, its count starts over.
    assert!(a.engine.claim_webhook_deliveries(60_000, 10, 10, Default::default(), "n", 1_000).unwrap().is_empty());
    let change = webhooks::EndpointChange { enabled: Some(true), ..Default::default() };
    let on = a.engine.update_webhook_as(&owner, e, change, &rules()).unwrap();
    assert_eq!((on.enabled, on.failing_since, on.disabled_reason), (true, None, None));
}

#[test]
fn nodes_starting_together_agree_on_the_one_sealing_key_kept() {
    let a = app();
    let engine = a.engine.clone();
    let answers: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..8)
            .map(|i| {
                let engine = engine.clone();
                s.spawn(move || engine.setting_or_init("webhooks.sealing_key", &format!("key-{i}")).unwrap())
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|k| *k == answers[0]), "one key for every node: {answers:?}");
    assert_eq!(a.engine.read(|tx| tx.setting("webhooks.sealing_key")).unwrap().as_deref(), Some(answers[0].as_str()));
    assert_eq!(a.engine.setting_or_init("webhooks.sealing_key", "later").unwrap(), answers[0], "kept, not replaced");
}

#[test]
fn an_owner_lists_rotates_tests_and_deletes_its_endpoints_and_no_other_owners() {
    let a = app();
    let owner = sender(MERCHANT, Role::Owner);
    let owner2 = sender(OTHER_SHOP, Role::Owner);
    let admin = sender(ADMIN, Role::Admin);
    let mine = add(&a, &owner, Some(ShopId(1)), "http://r/mine", &[], true);
    add(&a, &owner2, Some(ShopId(2)), "http://r/theirs", &[], true);
    add(&a, &admin, None, "http://r/platform", &[], true);
    let listed: Vec<i64> = a.engine.webhooks_as(&owner, Some(ShopId(1))).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(listed, [mine], "a shop's list holds its own endpoints only");
    assert_eq!(a.engine.webhooks_as(&admin, None).unwrap().len(), 1, "the platform's");
    assert!(a.engine.webhooks_as(&owner, Some(ShopId(2))).is_err(), "another shop's list");
    // A new secret; the old one signs for 24 hours more.
    let rotated = a.engine.rotate_webhook_secret_as(&owner, mine, "sealed-2".into(), 50_000).unwrap();
    assert_eq!(rotated.secret, "sealed-2");
    assert_eq!(rotated.old_secret, Some(("sealed".to_string(), 50_000 + webhooks::ROTATION_OVERLAP_MS)));
    assert_eq!(a.engine.webhook_as(&owner, mine).unwrap(), rotated, "kept");
    // A test event: one delivery of `webhook.test`, due now.
    let test = a.engine.test_webhook_as(&owner, mine, 60_000).unwrap();
    assert_eq!((test.event_type.as_str(), test.next_at, test.endpoint), (webhooks::TEST_EVENT, 60_000, mine));
    assert!(a.engine.test_webhook_as(&owner2, mine, 60_000).is_err(), "not another shop's");
    // At most 20 per owner.
    for i in 1..webhooks::MAX_ENDPOINTS {
        add(&a, &owner, Some(ShopId(1)), &format!("http://r/{i}"), &[], true);
    }
    let over = NewEndpoint {
        url: "http://r/over".into(),
        description: String::new(),
        types: vec![],
        enabled: true,
        sealed_secret: "s".into(),
    };
    assert!(a.engine.create_webhook_as(&owner, Some(ShopId(1)), over.clone(), &rules(), 1).is_err());
    assert!(a.engine.create_webhook_as(&owner2, Some(ShopId(2)), over, &rules(), 1).is_ok(), "another owner's count");
    // Deleted: gone, with its pending delivery; another shop cannot delete it.
    assert!(a.engine.delete_webhook_as(&owner2, mine).is_err());
    a.engine.delete_webhook_as(&owner, mine).unwrap();
    assert!(a.engine.webhook_as(&owner, mine).is_err());
    assert!(a.engine.read(|tx| tx.webhook_delivery(test.id)).unwrap().is_none(), "its pending delivery went with it");
}
