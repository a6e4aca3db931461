//! The runner fires each deadline once, on time, after restarts and on stale snapshots.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;
use std::sync::Arc;

#[test]
fn deadlines_fire_once_on_time_and_late_actions_are_refused() {
    let (a, _, c) = refund_only_case("D1");
    let runner = a.runner();
    a.clock.advance(Dur::hours(48) - Dur::secs(1));
    assert_eq!(runner.run_due().unwrap().fired, 1, "only the 12h reminder");
    a.clock.advance(Dur::secs(1));
    assert_eq!(runner.run_due().unwrap().fired, 1);
    assert_eq!(runner.run_due().unwrap().fired, 0);
    assert_eq!(a.case(c.id).status, Status::Refunding);
    a.clock.advance(Dur::secs(1));
    let before = (a.case(c.id), a.event_count());
    let late = a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None);
    assert!(
        matches!(late, Err(EngineError::Refused(Refusal::DeadlinePassed { kind: DeadlineKind::Review, .. }))),
        "{late:?}"
    );
    assert_eq!((a.case(c.id), a.event_count()), before);
    // the refund settles one working day later through the gateway
    a.clock.advance(Dur::days(1));
    runner.run_due().unwrap();
    assert_eq!(a.case(c.id).status, Status::Completed);
}

#[test]
fn a_firing_whose_case_moved_on_does_nothing() {
    let (a, _, c) = refund_only_case("S1");
    a.clock.advance(Dur::hours(49));
    let rows = a.engine.read(|tx| tx.due_deadlines(a.clock.now(), 10)).unwrap();
    let review = rows.iter().find(|r| r.kind == DeadlineKind::Review).copied().unwrap();
    // the buyer withdraws between the claim and the firing
    a.engine.case_command(BUYER, c.id, CaseCommand::Withdraw, None, None).unwrap();
    let out = a.engine.fire_batch(vec![review]).unwrap();
    assert!(matches!(out[0], Ok(Firing::Stale)));
    assert_eq!(a.case(c.id).status, Status::Closed { reason: CloseReason::Withdrawn });
    assert!(a.engine.read(|tx| tx.deadlines_of(Subject::Case(c.id))).unwrap().is_empty());
}

#[test]
fn deadlines_due_while_closed_fire_exactly_once_after_reopening() {
    let a = app();
    let mut ids = vec![];
    for i in 0..20 {
        let o = a.order(&format!("RS{i}"), PaymentMethod::Online, true);
        ids.push(a.apply(o.id, CaseType::ReturnRefund, 10).id);
    }
    let unpaid = a
        .engine
        .create_order(
            MERCHANT,
            ShopId(1),
            NewOrder {
                order_no: "UNPAID".into(),
                buyer_id: BuyerId(7),
                payment: PaymentMethod::Online,
                total: Money::cny(100),
                shipping_fee: Money::cny(0),
                fresh: false,
                customer_name: "x".into(),
                customer_phone: Phone::parse("13800131234").unwrap(),
                lines: vec![],
            },
            None,
        )
        .unwrap();
    // the process stops; three days pass
    let clock = a.clock.clone();
    let a = a.reopen();
    clock.advance(Dur::days(3));
    let stats = a.runner().run_due().unwrap();
    // per case: the reminder and the review (agree return); plus the unpaid order
    assert_eq!(stats.fired, 20 * 2 + 1);
    assert_eq!(a.runner().run_due().unwrap().fired, 0);
    let a = a.reopen();
    assert_eq!(a.runner().run_due().unwrap().fired, 0, "nothing fires twice across restarts");
    for id in ids {
        let case = a.case(id);
        assert_eq!(case.status, Status::AwaitingBuyerReturn);
        let fired = a
            .engine
            .read(|tx| tx.case_events(id))
            .unwrap()
            .iter()
            .filter(|e| matches!(e.recorded.event, Event::DeadlineFired { .. }))
            .count();
        assert_eq!(fired, 1);
    }
    assert_eq!(a.engine.read(|tx| tx.order(unpaid.id)).unwrap().unwrap().state, OrderState::Cancelled);
}

#[test]
fn a_firing_decided_on_a_stale_snapshot_is_decided_again_and_applied_once() {
    let (a, o, c) = refund_only_case("ST1");
    a.clock.advance(Dur::hours(49));
    let rows: Vec<DueDeadline> = a
        .engine
        .read(|tx| tx.due_deadlines(a.clock.now(), 10))
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == DeadlineKind::Review)
        .collect();
    // decided now: refund, which also changes the order
    let prepared = a.engine.prepare_firings(rows).unwrap();
    // the case moves on without touching the order (the remark is not under the deadline)
    a.engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "called".into() }, None, None).unwrap();
    let out = a.engine.fire_prepared(prepared).unwrap();
    assert!(matches!(out[0], Ok(Firing::Fired)));
    let case = a.case(c.id);
    assert_eq!((case.status, case.remark.as_str()), (Status::Refunding, "called"));
    let order = a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap();
    assert_eq!(order.refunded, Money::cny(1_000), "refunded once");
    // the stored order is what its log says
    let log: Vec<Recorded> =
        a.engine.read(|tx| tx.order_events(o.id)).unwrap().into_iter().map(|e| e.recorded).collect();
    assert_eq!(Order::replay(&log).unwrap(), order);
    let fired = a
        .engine
        .read(|tx| tx.case_events(c.id))
        .unwrap()
        .iter()
        .filter(|e| matches!(e.recorded.event, Event::DeadlineFired { .. }))
        .count();
    assert_eq!(fired, 1);
}

#[test]
fn the_background_runner_fires_due_deadlines_on_its_own() {
    let (a, _, c) = refund_only_case("BG1");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handle = a.runner().spawn(stop.clone(), std::time::Duration::from_millis(20));
    a.clock.advance(Dur::hours(48));
    let mut status = a.case(c.id).status;
    for _ in 0..1000 {
        if status == Status::Refunding {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        status = a.case(c.id).status;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    handle.join().unwrap();
    assert_eq!(status, Status::Refunding);
}

/// A clock that moves a second on every reading, as a busy wall clock moves between passes.
struct Ticking(std::sync::Mutex<Timestamp>);

impl Clock for Ticking {
    fn now(&self) -> Timestamp {
        let mut t = self.0.lock().unwrap();
        *t = *t + Dur::secs(1);
        *t
    }
}

#[test]
fn a_run_fires_what_was_due_when_it_started_and_leaves_what_came_due_meanwhile_to_the_next() {
    let (a, _, first) = refund_only_case("TK1");
    a.clock.advance(Dur::secs(2));
    let o = a.order("TK2", PaymentMethod::Online, true);
    let second = a.apply(o.id, CaseType::RefundOnly, 10);
    // A second before the first review is due; the second comes due two seconds after it.
    let start = first.applied_at + Dur::hours(48) - Dur::secs(1);
    let engine = Arc::new(Engine::new(
        a.store.clone(),
        Arc::new(Ticking(std::sync::Mutex::new(start))),
        Arc::new(BuiltinGateway),
    ));
    let runner = Runner::new(engine);
    let stats = runner.run_due().unwrap();
    // Both 12-hour reminders and the first review; the clock has moved on since, but the second
    // review came due after the run started.
    assert_eq!(stats.fired, 3, "{stats:?}");
    assert_eq!(a.case(first.id).status, Status::Refunding);
    assert_eq!(a.case(second.id).status, Status::AwaitingReview);
    // Runs go on firing what comes due, each one ending.
    for _ in 0..40 {
        runner.run_due().unwrap();
    }
    assert_eq!(a.case(second.id).status, Status::Refunding);
}

#[test]
fn the_manual_clock_moves_by_what_it_is_told() {
    let clock = ManualClock::new(T0);
    assert_eq!(clock.advance(Dur::hours(1)), T0 + Dur::hours(1));
    assert_eq!(clock.now(), T0 + Dur::hours(1));
    clock.set(T0);
    assert_eq!(clock.now(), T0);
}

#[test]
fn a_row_for_a_deadline_that_is_not_due_is_stale_even_when_another_one_is() {
    let (a, _, c) = refund_only_case("ST1");
    // past the review reminder (36h), before the review itself (48h)
    a.clock.advance(Dur::hours(40));
    let review = DueDeadline {
        subject: Subject::Case(c.id),
        kind: DeadlineKind::Review,
        due: T0 + Dur::hours(48),
        version: c.version,
    };
    let results = a.engine.fire_batch(vec![review]).unwrap();
    assert!(matches!(results[..], [Ok(Firing::Stale)]), "{results:?}");
    assert_eq!(a.case(c.id).status, Status::AwaitingReview);
    // the runner counts what it fired
    let stats = a.runner().run_due().unwrap();
    assert_eq!((stats.fired, stats.refused), (1, 0), "the reminder");
    a.clock.advance(Dur::hours(8));
    assert_eq!(a.runner().run_due().unwrap().fired, 1);
    assert_eq!(a.case(c.id).status, Status::Refunding);
}

#[test]
fn a_stored_row_the_state_no_longer_implies_is_dropped_and_counted_stale() {
    let (a, _, c) = refund_only_case("ST2");
    // a voucher row on an online case awaiting review: nothing in the state implies it
    let stray = Deadline { kind: DeadlineKind::Voucher, due: T0 };
    let live = c.deadlines(&Policy::douyin());
    a.engine
        .transact(move |tx| {
            let mut rows = live.clone();
            rows.push(stray);
            Ok(sync_deadlines(tx, Subject::Case(c.id), c.version, &live, &rows)?)
        })
        .unwrap();
    let stats = a.runner().run_due().unwrap();
    assert_eq!((stats.fired, stats.stale, stats.refused), (0, 1, 0));
    assert_eq!(a.runner().run_due().unwrap(), RunStats::default(), "the row is gone");
    assert_eq!(a.case(c.id).status, Status::AwaitingReview);
}

#[test]
fn a_deadline_fired_late_starts_its_refund_when_it_fires() {
    // The runner was away for ten days: one run fires the (dropped) reminder and the review; the
    // refund it starts settles a working day after it started, not after the review was due.
    let (a, _, c) = refund_only_case("CH1");
    let now = a.clock.advance(Dur::days(10));
    let stats = a.runner().run_due().unwrap();
    assert_eq!((stats.fired, stats.refused), (2, 0), "reminder and review");
    let case = a.case(c.id);
    assert_eq!(case.status, Status::Refunding);
    assert_eq!(case.refund.unwrap().next_attempt_at, Some(now.add_working_days(1)));
    assert_eq!(a.runner().run_due().unwrap(), RunStats::default());
}

#[test]
fn a_deadline_fires_at_its_due_instant_and_not_a_millisecond_before() {
    let (a, _, c) = refund_only_case("EX1");
    a.clock.set(T0 + Dur::hours(48) - Dur(1));
    a.runner().run_due().unwrap();
    assert_eq!(a.case(c.id).status, Status::AwaitingReview);
    a.clock.set(T0 + Dur::hours(48));
    assert_eq!(a.runner().run_due().unwrap().fired, 1);
    assert_eq!(a.case(c.id).status, Status::Refunding);
}

#[test]
fn o4_an_unpaid_order_is_cancelled_at_its_due_instant_and_a_stale_row_does_not_cancel_it_early() {
    let a = app();
    let o = a.engine.create_order(MERCHANT, ShopId(1), new_order("UP1", PaymentMethod::Online), None).unwrap();
    // a stored row that says the order is due now, while its state says in 24 hours
    let live = o.deadlines(&Policy::douyin());
    let stray = vec![Deadline { kind: DeadlineKind::OrderUnpaid, due: T0 }];
    a.engine.transact(move |tx| Ok(sync_deadlines(tx, Subject::Order(o.id), o.version, &live, &stray)?)).unwrap();
    a.clock.set(T0 + Dur::hours(1));
    assert_eq!(a.runner().run_due().unwrap().stale, 1, "re-armed to the state's due time");
    let order = |a: &App| a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap();
    assert_eq!(order(&a).state, OrderState::AwaitingPayment);
    a.clock.set(T0 + Dur::hours(24));
    assert_eq!(a.runner().run_due().unwrap().fired, 1);
    assert_eq!(order(&a).state, OrderState::Cancelled);
}

#[test]
fn a_read_waits_for_a_connection_of_the_full_pool_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions { max_readers: 1, ..SqliteOptions::default() };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("a.db"), options).unwrap());
    let (held, release) = (Arc::new(std::sync::Barrier::new(2)), Arc::new(std::sync::Barrier::new(2)));
    let holder = {
        let (store, held, release) = (store.clone(), held.clone(), release.clone());
        std::thread::spawn(move || {
            store
                .read(|tx| {
                    held.wait();
                    release.wait();
                    tx.shops().map(|_| ())
                })
                .unwrap()
        })
    };
    held.wait();
    // the only connection is taken: this read waits until it comes back
    let waiter = {
        let store = store.clone();
        std::thread::spawn(move || store.read(|tx| tx.shops().map(|s| s.len())))
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    release.wait();
    holder.join().unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), 0);
}
