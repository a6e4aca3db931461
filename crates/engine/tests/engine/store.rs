//! The storage contract itself, below the use-cases: leased claims, conditional writes that
//! report what they found, and (on PostgreSQL) two stores — two nodes — on one database.

use crate::harness::*;
use aftersale_core::model::*;
use aftersale_core::*;
use aftersale_engine::*;
use std::collections::HashSet;
use std::sync::Arc;

fn lease(owner: &str, now_ms: i64, for_ms: i64) -> Lease {
    Lease { owner: owner.into(), now_ms, until_ms: now_ms + for_ms }
}

/// An app with `n` refund-only cases, each with its review deadline (and reminder) due by
/// the time the clock has moved 49 hours.
fn due_cases(n: usize) -> App {
    let a = app();
    for i in 0..n {
        let o = a.order(&format!("L{i}"), PaymentMethod::Online, true);
        a.apply(o.id, CaseType::RefundOnly, 10);
    }
    a.clock.advance(Dur::hours(49));
    a
}

#[test]
fn a_claimed_row_is_not_claimed_again_until_its_lease_ends() {
    let a = due_cases(5);
    let now = a.clock.now();
    let due = a.engine.read(|tx| tx.due_deadlines(now, 100)).unwrap();
    assert_eq!(due.len(), 10, "a review and its reminder per case");
    let first = a.store.claim_due(now, 4, &lease("node-a", 1_000, 30_000)).unwrap();
    assert_eq!(first, due[..4], "the oldest due rows, in due order");
    let second = a.store.claim_due(now, 100, &lease("node-b", 2_000, 30_000)).unwrap();
    assert_eq!(second, due[4..], "the rest, none of the first claim's");
    assert!(a.store.claim_due(now, 100, &lease("node-c", 3_000, 30_000)).unwrap().is_empty());
    // node-a dies: once its lease has ended, its rows go to whoever claims next
    let taken_over = a.store.claim_due(now, 100, &lease("node-c", 31_001, 30_000)).unwrap();
    assert_eq!(taken_over, due[..4]);
}

#[test]
fn firing_a_claimed_row_ends_its_lease_and_a_moved_row_is_claimable_at_once() {
    let a = due_cases(1);
    let now = a.clock.now();
    let claimed = a.store.claim_due(now, 100, &lease("node-a", 1_000, 60_000)).unwrap();
    assert_eq!(claimed.len(), 2);
    let fired = a.engine.fire_batch(claimed).unwrap();
    assert!(fired.iter().all(|f| matches!(f, Ok(Firing::Fired | Firing::Stale))), "{fired:?}");
    // The review fired: the case is refunding, its settlement row written fresh (no lease),
    // due a working day later.
    a.clock.advance(Dur::days(3));
    let again = a.store.claim_due(a.clock.now(), 100, &lease("node-b", 2_000, 60_000)).unwrap();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].kind, DeadlineKind::RefundSettle);
}

#[test]
fn a_conditional_write_on_a_stale_version_reports_the_version_found_and_writes_nothing() {
    let (a, _, c) = refund_only_case("CV1");
    a.engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "moved on".into() }, None, None).unwrap();
    let mut stale = c.clone();
    stale.remark = "stale".into();
    stale.version = c.version + 1;
    let json = serde_json::to_string(&stale).unwrap();
    let out = a.engine.transact(move |tx| Ok(tx.update_case(&stale, &json, c.version, None, true)?));
    match out {
        Err(EngineError::Store(StoreError::Conflict { what: "case", id, expected, found })) => {
            assert_eq!((id, expected, found), (c.id.0, c.version, Some(c.version + 1)));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(a.case(c.id).remark, "moved on");
}

/// Writes `case` (one remark later than `c`) with a log row, a deadline row and a notice
/// through `write_case_change`, decided on `case_at` and `order_at`; the order's new state too
/// when `order` is given.
fn change_case(
    a: &App,
    case: &Case,
    case_at: u64,
    order_at: u64,
    listed_same: bool,
    order: Option<Order>,
) -> Result<(), EngineError> {
    let (case, now) = (case.clone(), a.clock.now());
    a.engine.transact(move |tx| {
        let json = serde_json::to_string(&case).unwrap();
        let order_json = order.as_ref().map(|o| serde_json::to_string(o).unwrap());
        let recorded =
            vec![Recorded { at: now, actor: MERCHANT, event: Event::CaseRemarkSet { text: case.remark.clone() } }];
        let log = LogRow::new(&recorded)?.unwrap();
        let outbox = aftersale_core::notice::Outbox {
            notices: vec![aftersale_core::notice::Notice {
                recipient: Recipient::Shop(case.shop_id),
                category: aftersale_core::notice::Category::AfterSales,
                title: "changed".into(),
                body: "changed".into(),
                title_zh: "中".into(),
                body_zh: "文".into(),
            }],
            sms: vec![],
            penalties: vec![],
        };
        let deadline = Deadline { kind: DeadlineKind::BuyerShip, due: now + Dur::hours(5) };
        let effects = Effects {
            log: Some((case.order_id, Some(case.id), &log)),
            deadlines_gone: vec![],
            deadlines_set: vec![(Subject::Case(case.id), deadline, case.version)],
            outbox: Some((Some(case.id), &outbox, now)),
        };
        let change = CaseChange {
            case: &case,
            json: &json,
            expected: case_at,
            due: Some(deadline.due),
            listed_same,
            order_expected: order_at,
            order: order.as_ref().zip(order_json.as_deref()),
        };
        Ok(tx.write_case_change(&change, &effects)?)
    })
}

#[test]
fn a_case_change_checked_against_its_order_names_what_moved_and_writes_nothing() {
    let (a, o, c) = refund_only_case("CV2");
    let order_at = a.engine.order_view(MERCHANT, o.id).unwrap().version;
    let mut next = c.clone();
    next.remark = "written".into();
    next.version = c.version + 1;
    let trace = |a: &App| {
        let events = a.engine.read(|tx| tx.case_events(c.id)).unwrap().len();
        let deadlines = a.engine.read(|tx| tx.deadlines_of(Subject::Case(c.id))).unwrap();
        let notices = a.engine.message_box(Recipient::Shop(c.shop_id)).unwrap().entries.len();
        (events, deadlines, notices)
    };
    let before = trace(&a);
    // The order moved on: the order is named, with the version found.
    match change_case(&a, &next, c.version, order_at + 7, true, None) {
        Err(EngineError::Store(StoreError::Conflict { what: "order", id, expected, found })) => {
            assert_eq!((id, expected, found), (o.id.0, order_at + 7, Some(order_at)));
        }
        other => panic!("expected an order conflict, got {other:?}"),
    }
    // The case moved on: the case is named.
    match change_case(&a, &next, c.version + 3, order_at, false, None) {
        Err(EngineError::Store(StoreError::Conflict { what: "case", id, expected, found })) => {
            assert_eq!((id, expected, found), (c.id.0, c.version + 3, Some(c.version)));
        }
        other => panic!("expected a case conflict, got {other:?}"),
    }
    assert_eq!(a.case(c.id).version, c.version, "a refused change leaves the case as it was");
    assert_eq!(trace(&a), before, "and writes none of its effects");
    // Both at the versions expected: the case, the order and every effect are written.
    let mut order = a.engine.order_view(MERCHANT, o.id).unwrap();
    order.remark = "order written".into();
    order.version += 1;
    change_case(&a, &next, c.version, order_at, false, Some(order)).unwrap();
    let after = a.case(c.id);
    assert_eq!((after.remark.as_str(), after.version), ("written", c.version + 1));
    let order_after = a.engine.order_view(MERCHANT, o.id).unwrap();
    assert_eq!((order_after.remark.as_str(), order_after.version), ("order written", order_at + 1));
    let (events, deadlines, notices) = trace(&a);
    assert_eq!((events, notices), (before.0 + 1, before.2 + 1));
    assert!(deadlines.iter().any(|d| d.kind == DeadlineKind::BuyerShip), "{deadlines:?}");
    // Only the document changes (the lists' columns the same): written as well.
    let mut again = after.clone();
    again.remark = "again".into();
    again.version += 1;
    change_case(&a, &again, after.version, order_at + 1, true, None).unwrap();
    assert_eq!(a.case(c.id).remark, "again");
}

#[test]
fn a_store_error_keeps_the_database_error_as_its_source() {
    let a = app();
    // An order id taken twice: the database refuses the second insert.
    let o = a.order("SRC1", PaymentMethod::Online, false);
    let json = serde_json::to_string(&o).unwrap();
    let out = a.engine.transact(move |tx| Ok(tx.insert_order(&o, &json)?));
    let Err(EngineError::Store(e)) = out else { panic!("expected a store error, got {out:?}") };
    assert!(std::error::Error::source(&e).is_some(), "{e:?}");
}

#[test]
fn two_nodes_on_one_database_never_claim_the_same_row() {
    let a = due_cases(30);
    if a.store.backend() == "sqlite" {
        // One process owns an SQLite file: there is no second node to share with.
        return;
    }
    let b = a.db.open();
    let now = a.clock.now();
    let (mut seen, mut total) = (HashSet::new(), 0);
    let handles: Vec<_> = [a.store.clone(), b.clone()]
        .into_iter()
        .enumerate()
        .map(|(i, store)| {
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                loop {
                    let got = store.claim_due(now, 3, &lease(&format!("node-{i}"), 1_000, 60_000)).unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got);
                }
            })
        })
        .collect();
    for h in handles {
        for row in h.join().unwrap() {
            total += 1;
            seen.insert(row);
        }
    }
    assert_eq!((seen.len(), total), (60, 60), "every row claimed once, by one node");
    b.close();
}

#[test]
fn two_dispatchers_send_each_sms_once() {
    use aftersale_engine::sms::{dispatch, SmsOutcome, SmsRetry, SmsSender};
    use std::sync::Mutex;
    struct Count(Arc<Mutex<Vec<String>>>);
    impl SmsSender for Count {
        fn send(&self, sms: &aftersale_engine::StoredSms) -> SmsOutcome {
            self.0.lock().unwrap().push(format!("{}{}", sms.phone, sms.text));
            SmsOutcome::Sent { provider_id: None }
        }
    }
    let a = app();
    for i in 0..12 {
        let o = a.order(&format!("SMS{i}"), PaymentMethod::Online, true);
        let c = a.apply(o.id, CaseType::ReturnRefund, 10);
        a.engine.agree_return(MERCHANT, c.id, values::AddressId(1), false, None, None).unwrap();
    }
    // A second node on the same database, where there can be one (on SQLite: the same store).
    let other = if a.store.backend() == "postgres" { a.db.open() } else { a.store.clone() };
    let engine_b = Arc::new(Engine::new(other.clone(), Arc::new(a.clock.clone()), Arc::new(BuiltinGateway)));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = [a.engine.clone(), engine_b]
        .into_iter()
        .map(|engine| {
            let sender = Count(sent.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                loop {
                    let d = dispatch(&engine, &sender, 2, &SmsRetry::default()).unwrap();
                    if d.sent == 0 {
                        return n;
                    }
                    n += d.sent;
                }
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 12);
    let mut all = sent.lock().unwrap().clone();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 12, "no message sent twice");
    assert!(a.engine.read(|tx| tx.unsent_sms(100, i64::MAX)).unwrap().is_empty());
}

#[test]
fn a_database_from_a_newer_binary_is_refused_at_open() {
    let a = app();
    let App { _dir, db, engine, store, .. } = a;
    drop(engine);
    store.close();
    drop(store);
    db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)");
    let url = aftersale_engine::store::url::DatabaseUrl::parse(&db.url()).unwrap();
    let refused = aftersale_engine::store::url::open(&url, &Default::default()).err().expect("refused");
    assert!(refused.to_string().contains("newer than this binary knows"), "{refused}");
}

#[test]
fn the_nodes_of_one_installation_hear_one_another_and_no_other_installation() {
    use aftersale_engine::store::Topic;
    let a = app();
    let other = app();
    let mut ear = a.store.subscribe().unwrap();
    // A second node of the same installation (on SQLite: the same process).
    let node_b = if a.store.backend() == "postgres" { a.db.open() } else { a.store.clone() };
    other.store.publish(Topic::Clock, "1").unwrap();
    node_b.publish(Topic::Shop, "7").unwrap();
    a.store.publish(Topic::Auth, "token").unwrap();
    let mut heard = Vec::new();
    while let Some(m) = ear.next(std::time::Duration::from_secs(2)).unwrap() {
        heard.push(m);
        if heard.len() == 2 {
            break;
        }
    }
    assert_eq!(heard, vec![(Topic::Shop, "7".to_string()), (Topic::Auth, "token".to_string())]);
    assert_eq!(ear.next(std::time::Duration::from_millis(200)).unwrap(), None, "nothing from another installation");
}

#[test]
fn a_job_rolled_back_for_contention_runs_again_and_one_that_always_is_refused_after_the_retries() {
    let a = app();
    let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = runs.clone();
    a.engine
        .transact(move |tx| {
            if counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
                return Err(EngineError::Store(StoreError::Contended { message: "deadlock".into(), source: None }));
            }
            Ok(tx.put_setting("contended", "written")?)
        })
        .unwrap();
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 3, "run twice more after two contended runs");
    assert_eq!(a.engine.read(|tx| tx.setting("contended")).unwrap().as_deref(), Some("written"));

    let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = runs.clone();
    let always = a.engine.transact(move |_| -> Result<(), EngineError> {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(EngineError::Store(StoreError::Contended { message: "deadlock".into(), source: None }))
    });
    assert!(matches!(always, Err(EngineError::Store(StoreError::Contended { .. }))), "{always:?}");
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1 + aftersale_engine::usecase::CONTENDED_RETRIES);
    // Any other failure is not run again.
    let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = runs.clone();
    let refused = a.engine.transact(move |_| -> Result<(), EngineError> {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(EngineError::Store(StoreError::Conflict { what: "case", id: 1, expected: 1, found: Some(2) }))
    });
    assert!(matches!(refused, Err(EngineError::Store(StoreError::Conflict { .. }))));
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Two nodes lock two orders in opposite order: the database breaks the deadlock by rolling one
/// job back, and that job runs again once the other has committed. Both commit; nothing is
/// refused.
#[test]
fn two_nodes_deadlocking_on_two_orders_both_commit() {
    let (a, x, _) = refund_only_case("DL1");
    let y = a.order("DL2", PaymentMethod::Online, true);
    let other = if a.store.backend() == "postgres" { a.db.open() } else { a.store.clone() };
    let engine_b = Arc::new(Engine::new(other, Arc::new(a.clock.clone()), Arc::new(BuiltinGateway)));
    let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let job = |engine: Arc<Engine>, first: values::OrderId, second: values::OrderId, key: &'static str| {
        let runs = runs.clone();
        std::thread::spawn(move || {
            engine.transact(move |tx| {
                runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tx.order(first)?.expect("the order");
                std::thread::sleep(std::time::Duration::from_millis(300));
                tx.order(second)?.expect("the order");
                Ok(tx.put_setting(key, "committed")?)
            })
        })
    };
    let one = job(a.engine.clone(), x.id, y.id, "node-a");
    let two = job(engine_b, y.id, x.id, "node-b");
    one.join().unwrap().unwrap();
    two.join().unwrap().unwrap();
    for key in ["node-a", "node-b"] {
        assert_eq!(a.engine.read(|tx| tx.setting(key)).unwrap().as_deref(), Some("committed"), "{key}");
    }
    if a.store.backend() == "postgres" {
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 3, "one of the two ran again");
    }
}

#[test]
fn postgres_deadlocks_serialization_failures_and_duplicate_keys_are_contention() {
    let Some(url) = postgres_url() else { return };
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for code in ["40P01", "40001", "55P03", "23505"] {
        let e = c
            .batch_execute(&format!("DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '{code}'; END $$"))
            .unwrap_err();
        assert!(matches!(StoreError::from(e), StoreError::Contended { .. }), "{code}");
    }
    let e = c.batch_execute("DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '42P01'; END $$").unwrap_err();
    assert!(matches!(StoreError::from(e), StoreError::Db { .. }));
}

/// A change's effects in one call: deadline rows of three subjects deleted (two go in the
/// statement, the third on its own), rows written for two, the log row, a notice and a text
/// message — and the rows not named are left alone.
#[test]
fn write_effects_writes_every_row_it_names_and_no_other() {
    use aftersale_core::notice::{Category, Notice, Outbox, Sms};
    use aftersale_core::values::{CaseId, ShopId};
    let a = app();
    let o = a.order("EF1", PaymentMethod::Online, true);
    let d = |kind, ms| Deadline { kind, due: Timestamp(ms) };
    let (case, order, other) = (Subject::Case(CaseId(900)), Subject::Order(o.id), Subject::Case(CaseId(901)));
    a.engine
        .transact(move |tx| {
            for (s, dl) in [
                (case, d(DeadlineKind::Review, 10)),
                (case, d(DeadlineKind::ReviewReminder, 5)),
                (case, d(DeadlineKind::BuyerShip, 20)),
                (order, d(DeadlineKind::OrderUnpaid, 30)),
                (other, d(DeadlineKind::Review, 40)),
                (other, d(DeadlineKind::BuyerShip, 50)),
            ] {
                tx.upsert_deadline(s, &dl, 1)?;
            }
            Ok(())
        })
        .unwrap();
    let log = LogRow::new(&[Recorded {
        at: Timestamp(7),
        actor: Actor::System,
        event: Event::OrderRemarkSet { text: "effects".into() },
    }])
    .unwrap()
    .unwrap();
    let outbox = Outbox {
        notices: vec![Notice {
            recipient: Recipient::Shop(ShopId(1)),
            category: Category::AfterSales,
            title: "t".into(),
            body: "b".into(),
            title_zh: "中".into(),
            body_zh: "文".into(),
        }],
        sms: vec![Sms {
            phone: values::Phone::parse("13800000000").unwrap(),
            text: "s".into(),
            kind: "k".into(),
            params: Default::default(),
        }],
        penalties: vec![],
    };
    let order_id = o.id;
    a.engine
        .transact(move |tx| {
            let effects = Effects {
                log: Some((order_id, None, &log)),
                deadlines_gone: vec![
                    (case, DeadlineKind::Review),
                    (case, DeadlineKind::ReviewReminder),
                    (order, DeadlineKind::OrderUnpaid),
                    (other, DeadlineKind::Review),
                ],
                deadlines_set: vec![
                    (case, d(DeadlineKind::RefundSettle, 60), 2),
                    (order, d(DeadlineKind::Voucher, 70), 3),
                ],
                outbox: Some((Some(CaseId(900)), &outbox, Timestamp(8))),
            };
            tx.write_effects(&effects)?;
            // Nothing to write: no statement, nothing changes.
            tx.write_effects(&Effects::default())?;
            Ok(())
        })
        .unwrap();
    let rows = |s| {
        let mut r: Vec<(DeadlineKind, i64, u64)> =
            a.engine.read(|tx| tx.deadlines_of(s)).unwrap().into_iter().map(|d| (d.kind, d.due.0, d.version)).collect();
        r.sort();
        r
    };
    let mut want_case = vec![(DeadlineKind::BuyerShip, 20, 1), (DeadlineKind::RefundSettle, 60, 2)];
    want_case.sort();
    assert_eq!(rows(case), want_case, "review and reminder gone, settlement new, buyer_ship untouched");
    assert_eq!(
        rows(order),
        vec![(DeadlineKind::Voucher, 70, 3)],
        "the second subject's row deleted, a new one written"
    );
    assert_eq!(rows(other), vec![(DeadlineKind::BuyerShip, 50, 1)], "a third subject's row deleted too");
    let logged = a.engine.read(|tx| tx.order_events(order_id)).unwrap();
    assert!(logged.iter().any(|e| e.recorded.event == Event::OrderRemarkSet { text: "effects".into() }), "{logged:?}");
    let notices = a.engine.read(|tx| tx.notices(Recipient::Shop(ShopId(1)))).unwrap();
    assert!(notices.iter().any(|n| n.case_id == Some(CaseId(900)) && n.title == "t" && n.at == Timestamp(8)));
    let sms = a.engine.read(|tx| tx.sms_outbox()).unwrap();
    assert!(sms.iter().any(|s| s.phone == "13800000000" && s.case_id == Some(CaseId(900))), "{sms:?}");
}

/// Effects with nothing to write are skipped; any one row makes them worth a statement.
#[test]
fn effects_are_empty_only_when_they_name_no_row() {
    use aftersale_core::notice::{Category, Notice, Outbox, Sms};
    assert!(Effects::default().is_empty());
    let none = Outbox::default();
    assert!(Effects { outbox: Some((None, &none, Timestamp(1))), ..Effects::default() }.is_empty());
    let notice = Outbox {
        notices: vec![Notice {
            recipient: Recipient::Platform,
            category: Category::Appeal,
            title: "t".into(),
            body: "b".into(),
            title_zh: "中".into(),
            body_zh: "文".into(),
        }],
        sms: vec![],
        penalties: vec![],
    };
    assert!(!Effects { outbox: Some((None, &notice, Timestamp(1))), ..Effects::default() }.is_empty());
    let sms = Outbox {
        notices: vec![],
        sms: vec![Sms {
            phone: values::Phone::parse("13800000000").unwrap(),
            text: "s".into(),
            kind: "k".into(),
            params: Default::default(),
        }],
        penalties: vec![],
    };
    assert!(!Effects { outbox: Some((None, &sms, Timestamp(1))), ..Effects::default() }.is_empty());
    let gone = Effects {
        deadlines_gone: vec![(Subject::Case(values::CaseId(1)), DeadlineKind::Review)],
        ..Effects::default()
    };
    assert!(!gone.is_empty());
}

/// On PostgreSQL a write job that reads a case has locked its order first (every writer takes
/// an order's rows order before cases, so two nodes never deadlock on them): while the job is
/// open, another connection cannot lock either row.
#[test]
fn a_write_job_reading_a_case_holds_its_order_and_case_locked() {
    let (a, o, c) = refund_only_case("LK1");
    let crate::harness::TestDb::Postgres(url) = &a.db else { return };
    let url = url.clone();
    let (case_id, order_id) = (c.id, o.id);
    let tried = a
        .engine
        .transact(move |tx| {
            for (what, read) in [("case", 0), ("case and order", 1)] {
                match read {
                    0 => drop(tx.case(case_id)?),
                    _ => drop(tx.case_and_order(case_id)?),
                }
                let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                for table in ["orders", "cases"] {
                    let id = if table == "orders" { order_id.0 } else { case_id.0 };
                    let sql = format!("SELECT id FROM {table} WHERE id = $1 FOR UPDATE NOWAIT");
                    let locked = other.query(&sql, &[&id]).is_err();
                    assert!(locked, "after reading the {what}, the {table} row is locked by the job");
                }
            }
            Ok(())
        })
        .map(|()| true);
    assert!(tried.unwrap());
}

#[test]
fn a_commit_that_writes_deadlines_wakes_the_runners_with_the_earliest_due_time() {
    use aftersale_engine::store::Topic;
    let a = app();
    if a.store.backend() != "postgres" {
        eprintln!("SQLite: the runner is in this process and is woken there; nothing is published");
        return;
    }
    let mut ear = a.store.subscribe().unwrap();
    let d = |ms: i64| Deadline { kind: DeadlineKind::Review, due: T0 + Dur(ms) };
    a.engine
        .transact(move |tx| {
            let effects = Effects {
                deadlines_set: vec![
                    (Subject::Case(values::CaseId(901)), d(70_000), 1),
                    (Subject::Case(values::CaseId(902)), d(60_000), 1),
                ],
                ..Effects::default()
            };
            Ok(tx.write_effects(&effects)?)
        })
        .unwrap();
    let heard = ear.next(std::time::Duration::from_secs(5)).unwrap();
    assert_eq!(heard, Some((Topic::Deadlines, (T0 + Dur(60_000)).0.to_string())));
}
