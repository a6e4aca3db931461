//! The domain event stream: written with its change (and only then), in commit order, visible
//! per shop, never carrying a COD refund account; consumers keep their own positions.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;
use std::sync::Arc;

const PLATFORM: Actor = Actor::Platform { agent: AgentId(31) };

/// Every event, once the stream shows every committed one. On PostgreSQL a reader sees an event
/// only once every transaction older than its own has ended, in the whole cluster (other tests
/// write beside this one), so the stream may lag a commit by a moment: wait for it, boundedly.
fn all(a: &App) -> Vec<DomainEventRow> {
    caught_up(a);
    a.engine.events_after(PLATFORM, EventPosition::START, 1000, vec![]).unwrap().0
}

/// How many events are committed, counted on the stored rows (each holds a command's events).
fn committed_events(a: &App) -> usize {
    let s = a.db.count("SELECT COALESCE(SUM(LENGTH(types) - LENGTH(REPLACE(types, ' ', ''))), 0) FROM domain_events");
    s as usize
}

fn caught_up(a: &App) {
    let committed = committed_events(a);
    for _ in 0..600 {
        if a.engine.events_after(PLATFORM, EventPosition::START, 1000, vec![]).unwrap().0.len() >= committed {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the stream did not show the {committed} committed events within 30 s");
}

fn types(rows: &[DomainEventRow]) -> Vec<&str> {
    rows.iter().map(|r| r.kind.as_str()).collect()
}

#[test]
fn every_change_writes_its_domain_events_in_order() {
    let (a, o, c) = refund_only_case("EV1");
    a.engine.case_command(BUYER, c.id, CaseCommand::PostMessage { text: "还在吗".into() }, None, None).unwrap();
    a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).unwrap();
    let rows = all(&a);
    assert_eq!(
        types(&rows),
        [
            "order.created",
            "order.status_changed",
            "order.status_changed",
            "order.status_changed",
            "case.opened",
            "message.posted",
            "refund.requested",
            "case.status_changed",
        ]
    );
    assert!(rows.windows(2).all(|w| w[0].position < w[1].position), "positions grow");
    let opened: serde_json::Value = serde_json::from_str(&rows[4].data).unwrap();
    assert_eq!(opened["type"], "case.opened");
    assert_eq!(opened["case"]["id"], c.id.0);
    assert_eq!(opened["case"]["status"], "awaiting_review");
    let changed: serde_json::Value = serde_json::from_str(&rows[7].data).unwrap();
    assert_eq!((changed["from"].as_str(), changed["to"].as_str()), (Some("awaiting_review"), Some("refunding")));
    assert!(rows[4..].iter().all(|r| r.case == Some(c.id) && r.order == o.id && r.shop == ShopId(1)));
    // The refund settles through the gateway a working day later: the runner's change publishes too.
    a.clock.advance(Dur::days(3));
    a.runner().run_due().unwrap();
    caught_up(&a);
    let after = a.engine.events_after(PLATFORM, rows[7].position, 100, vec![]).unwrap().0;
    assert_eq!(types(&after), ["refund.succeeded", "case.status_changed"]);
}

#[test]
fn a_refused_command_writes_no_event() {
    let (a, _, c) = refund_only_case("EV2");
    let before = all(&a).len();
    let refused = a.engine.case_command(OTHER_SHOP, c.id, CaseCommand::Refund, None, None);
    assert!(refused.is_err());
    let refused = a.engine.case_command(BUYER, c.id, CaseCommand::Refund, None, None);
    assert!(matches!(refused, Err(EngineError::Refused(_))), "{refused:?}");
    let stale = a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, Some(c.version + 5), None);
    assert!(matches!(stale, Err(EngineError::Conflict { .. })), "{stale:?}");
    assert_eq!(all(&a).len(), before);
}

#[test]
fn a_deadline_fired_after_a_restart_publishes_its_event_once() {
    let (a, _, c) = refund_only_case("EV3");
    a.clock.advance(Dur::hours(49));
    let a = a.reopen();
    a.runner().run_due().unwrap();
    a.runner().run_due().unwrap();
    let a = a.reopen();
    a.runner().run_due().unwrap();
    let fired: Vec<_> = all(&a).into_iter().filter(|r| r.kind == "case.deadline_fired").collect();
    assert_eq!(fired.len(), 1, "{fired:?}");
    let data: serde_json::Value = serde_json::from_str(&fired[0].data).unwrap();
    assert_eq!(data["deadline"], "review");
    assert_eq!(data["case"]["id"], c.id.0);
    assert_eq!(data["case"]["status"], "refunding");
}

#[test]
fn a_merchant_reads_its_own_shops_events_and_filters_by_type() {
    let (a, _, _) = refund_only_case("EV4");
    let o2 = a.engine.create_order(OTHER_SHOP, ShopId(2), new_order("EV4B", PaymentMethod::Online), None).unwrap();
    caught_up(&a);
    let mine = a.engine.events_after(MERCHANT, EventPosition::START, 100, vec![]).unwrap().0;
    assert!(!mine.is_empty() && mine.iter().all(|r| r.shop == ShopId(1)));
    let theirs = a.engine.events_after(OTHER_SHOP, EventPosition::START, 100, vec![]).unwrap().0;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].order, o2.id);
    let (opened, stopped) =
        a.engine.events_after(PLATFORM, EventPosition::START, 100, vec!["case.opened".into()]).unwrap();
    assert_eq!(types(&opened), ["case.opened"]);
    assert_eq!(stopped, all(&a).last().unwrap().position, "the read went past what it filtered out");
    // Pages of one event at a time, and of two: the same stream, one command's events split
    // across pages included.
    let mut one_by_one = Vec::new();
    let mut at = EventPosition::START;
    loop {
        let (page, next) = a.engine.events_after(PLATFORM, at, 1, vec![]).unwrap();
        if page.is_empty() {
            break;
        }
        assert_eq!(next, page[0].position);
        at = next;
        one_by_one.extend(page);
    }
    assert_eq!(one_by_one, all(&a));
    let (page, _) = a.engine.events_after(PLATFORM, EventPosition::START, 2, vec![]).unwrap();
    assert_eq!(page.len(), 2);
    let (next, _) = a.engine.events_after(PLATFORM, page[1].position, 100, vec![]).unwrap();
    assert_eq!(page.len() + next.len(), all(&a).len(), "pages follow on without a gap or a repeat");
    assert!(matches!(a.engine.events_after(BUYER, EventPosition::START, 10, vec![]), Err(EngineError::Forbidden(_))));
    assert!(matches!(
        a.engine.events_after(PLATFORM, EventPosition::START, 10, vec!["case.nope".into()]),
        Err(EngineError::Invalid { field: "types", .. })
    ));
    assert!(matches!(
        a.engine.events_after(PLATFORM, EventPosition::START, 0, vec![]),
        Err(EngineError::Invalid { field: "limit", .. })
    ));
}

#[test]
fn r6_no_event_carries_a_cod_refund_account() {
    let a = app();
    let o = a.order("EV5", PaymentMethod::Cod, true);
    let account =
        RefundAccount { holder: "王小明".into(), bank: "工商银行".into(), number: "6222020200112233445".into() };
    let cmd = Apply {
        kind: CaseType::RefundOnly,
        reason: "damaged".into(),
        amount: Money::cny(1_000),
        description: String::new(),
        evidence: vec![],
        refund_account: Some(account),
        lines: vec![],
    };
    let c = a.engine.apply(BUYER, o.id, cmd, None).unwrap();
    a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).unwrap();
    let rows = all(&a);
    assert!(rows.iter().any(|r| r.kind == "case.opened"));
    assert!(rows.iter().all(|r| !r.data.contains("6222020200112233445") && !r.data.contains("refund_account")));
}

#[test]
fn each_consumer_keeps_its_own_position() {
    let (a, _, _) = refund_only_case("EV6");
    assert_eq!(a.engine.consumer_position("sms").unwrap(), EventPosition::START);
    let rows = all(&a);
    a.engine.set_consumer_position("webhooks", rows[2].position).unwrap();
    let a = a.reopen();
    assert_eq!(a.engine.consumer_position("webhooks").unwrap(), rows[2].position);
    assert_eq!(a.engine.consumer_position("sms").unwrap(), EventPosition::START);
    let rest = a.engine.events_after(PLATFORM, a.engine.consumer_position("webhooks").unwrap(), 100, vec![]).unwrap().0;
    assert_eq!(rest.len(), rows.len() - 3);
}

/// Writers on several threads (on PostgreSQL: several writer connections, whose transactions
/// commit in any order) while a reader follows the stream: the reader ends up with every event
/// exactly once, never one it skipped because a later-numbered one committed first.
#[test]
fn a_reader_following_concurrent_writers_never_skips_an_event() {
    let a = app();
    let orders: Vec<Order> = (0..8).map(|i| a.order(&format!("EVC{i}"), PaymentMethod::Online, true)).collect();
    let cases: Vec<Case> = orders.iter().map(|o| a.apply(o.id, CaseType::RefundOnly, 10)).collect();
    // Set once the writers are done: how many events the reader must end up with.
    let target = Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    let writers: Vec<_> = cases
        .iter()
        .map(|c| {
            let (engine, id) = (a.engine.clone(), c.id);
            std::thread::spawn(move || {
                for i in 0..12 {
                    let text = format!("message {i}");
                    engine.case_command(BUYER, id, CaseCommand::PostMessage { text }, None, None).unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let (engine, target) = (a.engine.clone(), target.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut at = EventPosition::START;
            let started = std::time::Instant::now();
            while seen.len() < target.load(std::sync::atomic::Ordering::SeqCst)
                && started.elapsed() < std::time::Duration::from_secs(60)
            {
                let (page, _) = engine.events_after(PLATFORM, at, 7, vec![]).unwrap();
                if let Some(last) = page.last() {
                    at = last.position;
                }
                seen.extend(page);
            }
            seen
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    target.store(committed_events(&a), std::sync::atomic::Ordering::SeqCst);
    let seen = reader.join().unwrap();
    let everything = all(&a);
    assert_eq!(seen.len(), everything.len(), "the follower saw every event once");
    assert_eq!(seen, everything, "in the order a later reader sees");
    assert_eq!(everything.iter().filter(|r| r.kind == "message.posted").count(), 8 * 12);
}

/// A read filtered by a rare type looks past many other events (more than one read's worth of
/// stored rows) and answers where it stopped; a page that ends inside a command's events goes on
/// from there.
#[test]
fn a_rare_type_is_found_past_many_other_events() {
    let (a, _, c) = refund_only_case("EV7");
    for i in 0..90 {
        a.engine.case_command(BUYER, c.id, CaseCommand::PostMessage { text: format!("m{i}") }, None, None).unwrap();
    }
    a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).unwrap();
    let everything = all(&a);
    let (changed, stopped) =
        a.engine.events_after(PLATFORM, EventPosition::START, 5, vec!["case.status_changed".into()]).unwrap();
    assert_eq!(types(&changed), ["case.status_changed"]);
    assert_eq!(stopped, everything.last().unwrap().position);
    // Read again from where it stopped: nothing more, and the position stays.
    let (more, again) = a.engine.events_after(PLATFORM, stopped, 5, vec!["case.status_changed".into()]).unwrap();
    assert!(more.is_empty());
    assert_eq!(again, stopped);
    // The refund's two events (refund.requested, case.status_changed) split over two pages.
    let requested = everything.iter().position(|e| e.kind == "refund.requested").unwrap();
    let (first, at) = a.engine.events_after(PLATFORM, everything[requested - 1].position, 1, vec![]).unwrap();
    assert_eq!(types(&first), ["refund.requested"]);
    let (second, _) = a.engine.events_after(PLATFORM, at, 1, vec![]).unwrap();
    assert_eq!(types(&second), ["case.status_changed"]);
    assert_eq!((at.tx, at.id), (second[0].position.tx, second[0].position.id), "one command's row");
}

#[test]
fn events_past_the_retention_are_deleted_and_a_cursor_into_them_is_refused() {
    let (a, _, c) = refund_only_case("EV9");
    let old = all(&a);
    assert!(old.len() >= 2, "{old:?}");
    // Nothing is old enough yet.
    assert_eq!(a.engine.prune_events(Dur::days(30)).unwrap(), 0);
    assert_eq!(all(&a), old);
    // 31 days on, a new event; the old ones are past a 30-day retention.
    a.clock.advance(Dur::days(31));
    a.engine.case_command(MERCHANT, c.id, CaseCommand::PostMessage { text: "kept".into() }, None, None).unwrap();
    let gone_rows = a.engine.prune_events(Dur::days(30)).unwrap();
    assert!(gone_rows >= 1, "the old commands' rows went");
    let left = all(&a);
    assert!(left.iter().all(|e| e.at >= old.last().unwrap().at), "only newer events are left: {left:?}");
    assert!(!left.is_empty() && left.iter().all(|e| !old.contains(e)));
    // A cursor into what went is refused, not answered with a gap; the start reads what is kept;
    // a cursor at a kept event reads on.
    let into_gone = a.engine.events_after(PLATFORM, old[0].position, 10, vec![]);
    assert!(matches!(into_gone, Err(EngineError::Gone { what: "cursor", .. })), "{into_gone:?}");
    let last_gone = a.engine.events_after(PLATFORM, old.last().unwrap().position, 10, vec![]);
    assert!(matches!(last_gone, Err(EngineError::Gone { .. })), "the last event that went is gone too");
    assert_eq!(a.engine.events_after(PLATFORM, EventPosition::START, 10, vec![]).unwrap().0, left);
    assert!(a.engine.events_after(PLATFORM, left[0].position, 10, vec![]).is_ok());
    // Pruning again finds nothing more.
    assert_eq!(a.engine.prune_events(Dur::days(30)).unwrap(), 0);
}
