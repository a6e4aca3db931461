//! The engine against a real SQLite file: one transaction per use-case, races, idempotency,
//! restarts, and the deadline runner firing exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;
use std::sync::Arc;

const BUYER: Actor = Actor::Buyer { buyer: BuyerId(7) };
const MERCHANT: Actor = Actor::Merchant { shop: ShopId(1), staff: StaffId(11) };
const OTHER_SHOP: Actor = Actor::Merchant { shop: ShopId(2), staff: StaffId(21) };
const AGENT: Actor = Actor::Platform { agent: AgentId(31) };
const T0: Timestamp = Timestamp(1_795_424_400_000);

struct App {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    clock: ManualClock,
    engine: Arc<Engine>,
    store: Arc<SqliteStore>,
}

fn open_at(dir: tempfile::TempDir, clock: ManualClock) -> App {
    let path = dir.path().join("aftersale.db");
    let store = Arc::new(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(clock.clone()), Arc::new(BuiltinGateway)));
    App { _dir: dir, path, clock, engine, store }
}

fn app() -> App {
    let a = open_at(tempfile::tempdir().unwrap(), ManualClock::new(T0));
    let shop = a.engine.create_shop("Shop one", "douyin", PolicyOverrides::default()).unwrap();
    assert_eq!(shop.id, ShopId(1));
    a.engine.create_shop("Shop two", "douyin", PolicyOverrides::default()).unwrap();
    a.engine
        .add_address(
            shop.id,
            AddressInput {
                name: "退货仓".into(),
                phone: Phone::parse("13900001111").unwrap(),
                region: "浙江省杭州市".into(),
                detail: "余杭区 1 号".into(),
                is_default: true,
            },
        )
        .unwrap();
    a
}

impl App {
    fn reopen(self) -> App {
        let App { _dir, clock, engine, store, .. } = self;
        drop(engine);
        store.close();
        drop(store);
        open_at(_dir, clock)
    }

    fn order(&self, no: &str, payment: PaymentMethod, delivered: bool) -> Order {
        let new = NewOrder {
            order_no: no.into(),
            buyer_id: BuyerId(7),
            payment,
            total: Money::cny(11_000),
            shipping_fee: Money::cny(1_000),
            fresh: false,
            customer_name: "王小明".into(),
            customer_phone: Phone::parse("13800131234").unwrap(),
        };
        let o = self.engine.create_order(MERCHANT, ShopId(1), new, None).unwrap();
        if payment == PaymentMethod::Online {
            self.engine.order_command(Actor::System, o.id, OrderCommand::Pay, None, None).unwrap();
        }
        let mut o = o;
        if delivered {
            let logistics = Logistics {
                carrier: Carrier::parse("SF").unwrap(),
                tracking_no: TrackingNo::parse("SF1000000001").unwrap(),
            };
            self.engine.order_command(MERCHANT, o.id, OrderCommand::Ship { logistics }, None, None).unwrap();
            o = self.engine.order_command(Actor::System, o.id, OrderCommand::Deliver, None, None).unwrap();
        }
        o
    }

    fn apply(&self, order: OrderId, kind: CaseType, yuan: i64) -> Case {
        let cmd = Apply {
            kind,
            reason: "damaged".into(),
            amount: Money::cny(yuan * 100),
            description: String::new(),
            evidence: vec![],
            refund_account: None,
        };
        self.engine.apply(BUYER, order, cmd, None).unwrap()
    }

    fn case(&self, id: CaseId) -> Case {
        self.engine.read(|tx| tx.case(id)).unwrap().unwrap()
    }

    fn runner(&self) -> Runner {
        Runner::new(self.engine.clone())
    }

    fn event_count(&self) -> i64 {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0)).unwrap()
    }
}

#[test]
fn a_use_case_writes_state_log_deadlines_and_notices_together() {
    let a = app();
    let o = a.order("A1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::ReturnRefund, 100);
    let kinds: Vec<DeadlineKind> =
        a.engine.read(|tx| tx.deadlines_of(Subject::Case(c.id))).unwrap().iter().map(|d| d.kind).collect();
    assert_eq!(kinds, vec![DeadlineKind::ReviewReminder, DeadlineKind::Review]);
    let notices = a.engine.read(|tx| tx.notices(Recipient::Shop(ShopId(1)))).unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].case_id, Some(c.id));
    // replaying the stored log rebuilds the stored state
    let events = a.engine.read(|tx| tx.order_events(o.id)).unwrap();
    let recorded: Vec<Recorded> = events.iter().map(|e| e.recorded.clone()).collect();
    let order = Order::replay(&recorded).unwrap();
    assert_eq!(Some(order.clone()), a.engine.read(|tx| tx.order(o.id)).unwrap());
    let case_events = a.engine.read(|tx| tx.case_events(c.id)).unwrap();
    assert_eq!(Case::replay(&order, case_events.iter().map(|e| &e.recorded)), Some(a.case(c.id)));
}

#[test]
fn x2_sms_notices_are_recorded_in_the_outbox() {
    let a = app();
    let o = a.order("X2", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::ReturnRefund, 100);
    // an address from another shop's book is refused, and nothing is sent
    let foreign = a
        .engine
        .add_address(
            ShopId(2),
            AddressInput {
                name: "别家仓".into(),
                phone: Phone::parse("13900002222").unwrap(),
                region: "上海市".into(),
                detail: "1 号".into(),
                is_default: true,
            },
        )
        .unwrap();
    let refused = a.engine.agree_return(MERCHANT, c.id, foreign.id, false, None, None);
    assert!(matches!(refused, Err(EngineError::Refused(Refusal::InvalidField { .. }))), "{refused:?}");
    assert!(a.engine.read(|tx| tx.sms_outbox()).unwrap().is_empty());
    a.engine.agree_return(MERCHANT, c.id, AddressId(1), true, None, None).unwrap();
    let sms = a.engine.read(|tx| tx.sms_outbox()).unwrap();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].phone, "13800131234");
    assert!(sms[0].text.ends_with(REFUSE_FREIGHT_COLLECT_TEXT));
    assert_eq!(a.case(c.id).status, Status::AwaitingBuyerReturn);
}

#[test]
fn x1_message_box_per_party() {
    let a = app();
    let o = a.order("X1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    let reject = CaseCommand::Reject {
        reason_code: "not_as_claimed".into(),
        explanation: String::new(),
        evidence: vec![Evidence {
            key: "e/1.jpg".into(),
            kind: EvidenceKind::Image,
            sha256: "a".repeat(64),
            caption: String::new(),
        }],
    };
    a.engine.case_command(MERCHANT, c.id, reject, None, None).unwrap();
    let buyer = a.engine.read(|tx| tx.notices(Recipient::Buyer(BuyerId(7)))).unwrap();
    assert_eq!(buyer.len(), 1);
    assert!(!buyer[0].read);
    assert!(a.engine.read(|tx| tx.notices(Recipient::Shop(ShopId(2)))).unwrap().is_empty());
}

#[test]
fn w1_queue_counts_per_shop() {
    let a = app();
    for i in 0..3 {
        let o = a.order(&format!("Q{i}"), PaymentMethod::Online, true);
        a.apply(o.id, if i == 0 { CaseType::RefundOnly } else { CaseType::ReturnRefund }, 10);
    }
    let counts = a.engine.read(|tx| tx.queue_counts(ShopId(1))).unwrap();
    let get = |q: Queue| counts.iter().find(|(x, _)| *x == q).unwrap().1;
    assert_eq!((get(Queue::RefundOnly), get(Queue::ReturnReview), get(Queue::Closed)), (1, 2, 0));
    assert!(a.engine.read(|tx| tx.queue_counts(ShopId(2))).unwrap().iter().all(|(_, n)| *n == 0));
}

#[test]
fn w3_flag_set_from_a_case_shows_on_the_order_and_its_cases() {
    let a = app();
    let o = a.order("W3", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    let order = a.engine.set_flag_via_case(MERCHANT, c.id, Some(Flag::Purple)).unwrap();
    assert_eq!(order.flag, Some(Flag::Purple));
    let again =
        a.engine.order_command(MERCHANT, o.id, OrderCommand::SetFlag { flag: Some(Flag::Green) }, None, None).unwrap();
    assert_eq!(a.engine.read(|tx| tx.order(a.case(c.id).order_id)).unwrap().unwrap().flag, again.flag);
    // another shop cannot see it
    assert!(matches!(a.engine.set_flag_via_case(OTHER_SHOP, c.id, Some(Flag::Red)), Err(EngineError::NotFound { .. })));
}

#[test]
fn w4_order_remark_is_shared_and_case_remark_is_the_cases_own() {
    let a = app();
    let o = a.order("W4", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    a.engine.set_order_remark_via_case(MERCHANT, c.id, "fragile".into()).unwrap();
    a.engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "called".into() }, None, None).unwrap();
    assert_eq!(a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap().remark, "fragile");
    assert_eq!(a.case(c.id).remark, "called");
}

#[test]
fn racing_commands_on_one_case_give_one_success_and_one_conflict() {
    let a = app();
    let o = a.order("R1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let handles: Vec<_> = [CaseCommand::Refund, CaseCommand::SetRemark { text: "mine".into() }]
        .into_iter()
        .map(|cmd| {
            let engine = a.engine.clone();
            let barrier = barrier.clone();
            let version = c.version;
            std::thread::spawn(move || {
                barrier.wait();
                engine.case_command(MERCHANT, c.id, cmd, Some(version), None)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results.iter().filter(|r| matches!(r, Err(EngineError::Conflict { .. }))).count();
    assert_eq!((ok, conflicts), (1, 1), "{results:?}");
    assert_eq!(a.case(c.id).version, c.version + 1, "exactly one command was applied");
}

#[test]
fn idempotency_keys_replay_the_first_result_and_refuse_a_different_command() {
    let a = app();
    let o = a.order("I1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    let key = || Some(IdemKey("k-1".into()));
    let first =
        a.engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "a".into() }, None, key()).unwrap();
    let events = a.event_count();
    let second =
        a.engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "a".into() }, None, key()).unwrap();
    assert_eq!(first, second);
    assert_eq!(a.event_count(), events, "a replay writes nothing");
    let other = a.engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "b".into() }, None, key());
    assert!(matches!(other, Err(EngineError::IdempotencyKeyReused)));
    // keys are per caller
    let buyer = a.engine.case_command(BUYER, c.id, CaseCommand::PostMessage { text: "hi".into() }, None, key());
    assert!(buyer.is_ok());
}

#[test]
fn a_refused_command_changes_nothing() {
    let a = app();
    let o = a.order("N1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    let events = a.event_count();
    let r = a.engine.case_command(
        MERCHANT,
        c.id,
        CaseCommand::Reject { reason_code: "nope".into(), explanation: String::new(), evidence: vec![] },
        None,
        Some(IdemKey("x".into())),
    );
    assert!(matches!(r, Err(EngineError::Refused(_))));
    assert_eq!(a.event_count(), events);
    assert_eq!(a.case(c.id), c);
    // and the key was not consumed by the refusal
    a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, Some(IdemKey("x".into()))).unwrap();
}

#[test]
fn deadlines_fire_once_on_time_and_late_actions_are_refused() {
    let a = app();
    let o = a.order("D1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
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
    let a = app();
    let o = a.order("S1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
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
fn m6_penalty_is_recorded_against_the_shop() {
    let a = app();
    let o = a.order("COD1", PaymentMethod::Cod, true);
    let cmd = Apply {
        kind: CaseType::RefundOnly,
        reason: "damaged".into(),
        amount: Money::cny(5_000),
        description: String::new(),
        evidence: vec![],
        refund_account: Some(RefundAccount {
            holder: "李四".into(),
            bank: "工商银行".into(),
            number: "6222020200112233445".into(),
        }),
    };
    let c = a.engine.apply(BUYER, o.id, cmd, None).unwrap();
    a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).unwrap();
    a.clock.advance(Dur::hours(48));
    a.runner().run_due().unwrap();
    let penalties = a.engine.read(|tx| tx.penalties(ShopId(1))).unwrap();
    assert_eq!(penalties.len(), 1);
    assert_eq!(penalties[0].amount, Money::cny(5_000));
    // R6: the account is in no notice or SMS
    let conn = rusqlite::Connection::open(&a.path).unwrap();
    let leaked: i64 = conn
        .query_row("SELECT (SELECT COUNT(*) FROM notices WHERE body LIKE '%6222020200%' OR title LIKE '%6222020200%') + (SELECT COUNT(*) FROM sms_outbox WHERE text LIKE '%6222020200%')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(leaked, 0);
}

#[test]
fn concurrent_commands_share_commits_and_all_succeed() {
    let a = app();
    let mut cases = vec![];
    for i in 0..40 {
        let o = a.order(&format!("G{i}"), PaymentMethod::Online, true);
        cases.push(a.apply(o.id, CaseType::RefundOnly, 10).id);
    }
    let handles: Vec<_> = cases
        .iter()
        .map(|id| {
            let engine = a.engine.clone();
            let id = *id;
            std::thread::spawn(move || engine.case_command(MERCHANT, id, CaseCommand::Refund, None, None))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    for id in cases {
        assert_eq!(a.case(id).status, Status::Refunding);
    }
}

#[test]
fn other_parties_cases_are_not_found() {
    let a = app();
    let o = a.order("P1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    let r = a.engine.case_command(OTHER_SHOP, c.id, CaseCommand::Refund, None, None);
    assert!(matches!(r, Err(EngineError::NotFound { what: "case", .. })));
    let r = a.engine.case_command(Actor::Buyer { buyer: BuyerId(99) }, c.id, CaseCommand::Withdraw, None, None);
    assert!(matches!(r, Err(EngineError::NotFound { .. })));
    let (actions, deadline) = a.engine.available(MERCHANT, c.id).unwrap();
    assert!(actions.contains(&Action::Refund) && actions.contains(&Action::Reject));
    assert_eq!(deadline.unwrap().kind, DeadlineKind::Review);
    let (agent_actions, _) = a.engine.available(AGENT, c.id).unwrap();
    assert!(agent_actions.is_empty());
}

#[test]
fn a_firing_decided_on_a_stale_snapshot_is_decided_again_and_applied_once() {
    let a = app();
    let o = a.order("ST1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
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
fn x1_message_box_has_unread_counts_per_category_and_only_the_owner_marks_read() {
    let a = app();
    let o = a.order("X1U", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    a.engine.case_command(BUYER, c.id, CaseCommand::PostMessage { text: "hello".into() }, None, None).unwrap();
    let shop = Recipient::Shop(ShopId(1));
    let MessageBox { entries, unread } = a.engine.message_box(shop).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(unread, vec![("after_sales".to_string(), 2)]);
    // another shop cannot mark them read
    assert_eq!(a.engine.mark_read(Recipient::Shop(ShopId(2)), vec![entries[0].id]).unwrap(), 0);
    assert_eq!(a.engine.mark_read(shop, vec![entries[0].id]).unwrap(), 1);
    let MessageBox { entries, unread } = a.engine.message_box(shop).unwrap();
    assert_eq!(unread, vec![("after_sales".to_string(), 1)]);
    assert!(entries[0].read, "newest first, and marked read");
}

#[test]
fn x2_a_pluggable_sender_delivers_the_outbox_and_failures_stay_queued() {
    use aftersale_engine::sms::{dispatch, SmsSender};
    struct Flaky(std::sync::Mutex<Vec<String>>, bool);
    impl SmsSender for Flaky {
        fn send(&self, phone: &str, text: &str) -> Result<(), String> {
            if self.1 {
                return Err("gateway down".into());
            }
            self.0.lock().unwrap().push(format!("{phone}: {text}"));
            Ok(())
        }
    }
    let a = app();
    let o = a.order("X2D", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::ReturnRefund, 100);
    a.engine.agree_return(MERCHANT, c.id, AddressId(1), false, None, None).unwrap();
    let down = Flaky(Default::default(), true);
    assert_eq!(dispatch(&a.engine, &down, 10).unwrap().failed, 1);
    assert_eq!(a.engine.read(|tx| tx.unsent_sms(10)).unwrap().len(), 1);
    let up = Flaky(Default::default(), false);
    assert_eq!(dispatch(&a.engine, &up, 10).unwrap().sent, 1);
    assert!(up.0.lock().unwrap()[0].starts_with("13800131234: 【售后】"));
    assert!(a.engine.read(|tx| tx.unsent_sms(10)).unwrap().is_empty());
    assert!(a.engine.read(|tx| tx.sms_outbox()).unwrap()[0].sent_at.is_some(), "the outbox keeps the record");
    assert_eq!(dispatch(&a.engine, &RecordOnly, 10).unwrap().sent, 0);
}

#[test]
fn w2_search_filters_sort_by_time_left_and_page_with_cursors() {
    use aftersale_engine::store::{CaseQuery, CaseSort};
    let a = app();
    let mut ids = vec![];
    for i in 0..7i64 {
        let new = NewOrder {
            order_no: format!("W2-{i}"),
            buyer_id: BuyerId(7),
            payment: PaymentMethod::Online,
            total: Money::cny(11_000),
            shipping_fee: Money::cny(1_000),
            fresh: false,
            customer_name: if i % 2 == 0 { "王小明".into() } else { "李四".into() },
            customer_phone: Phone::parse(&format!("1380013{:04}", 1000 + i)).unwrap(),
        };
        let o = a.engine.create_order(MERCHANT, ShopId(1), new, None).unwrap();
        a.engine.order_command(Actor::System, o.id, OrderCommand::Pay, None, None).unwrap();
        let kind = if i < 3 { CaseType::RefundUnshipped } else { CaseType::RefundOnly };
        if kind == CaseType::RefundOnly {
            let logistics = Logistics {
                carrier: Carrier::parse("SF").unwrap(),
                tracking_no: TrackingNo::parse("SF1000000001").unwrap(),
            };
            a.engine.order_command(MERCHANT, o.id, OrderCommand::Ship { logistics }, None, None).unwrap();
        }
        ids.push(a.apply(o.id, kind, 10).id);
        a.clock.advance(Dur::hours(1));
    }
    let search = |q: CaseQuery| a.engine.search(MERCHANT, q).unwrap();
    // by order number, after-sales number, name, full phone
    assert_eq!(search(CaseQuery { order_no: Some("W2-3".into()), ..Default::default() }).items[0].case.id, ids[3]);
    assert_eq!(search(CaseQuery { case_id: Some(ids[5]), ..Default::default() }).items.len(), 1);
    assert_eq!(search(CaseQuery { customer_name: Some("李四".into()), ..Default::default() }).items.len(), 3);
    let by_phone =
        search(CaseQuery { customer_phone: Some(Phone::parse("13800131004").unwrap()), ..Default::default() });
    assert_eq!(by_phone.items[0].case.id, ids[4]);
    assert_eq!(by_phone.items[0].customer_phone_masked, "138****1004", "W6: lists show masked phones");
    // application date range, queue, type, flag, close to deadline
    let range = CaseQuery {
        applied_from: Some(T0 + Dur::hours(2)),
        applied_to: Some(T0 + Dur::hours(4)),
        ..Default::default()
    };
    assert_eq!(search(range).items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[2], ids[3]]);
    assert_eq!(search(CaseQuery { queue: Some(Queue::RefundUnshipped), ..Default::default() }).items.len(), 3);
    assert_eq!(search(CaseQuery { kind: Some(CaseType::RefundOnly), ..Default::default() }).items.len(), 4);
    a.engine.set_flag_via_case(MERCHANT, ids[6], Some(Flag::Red)).unwrap();
    let red = search(CaseQuery { flag: Some(Flag::Red), ..Default::default() });
    assert_eq!((red.items.len(), red.items[0].flag), (1, Some(Flag::Red)));
    let near = search(CaseQuery { due_before: Some(T0 + Dur::hours(48) + Dur::hours(1)), ..Default::default() });
    assert_eq!(near.items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[0], ids[1]]);
    // sorted by time left by default, paged with cursors
    let mut seen = vec![];
    let mut q = CaseQuery { limit: 3, ..Default::default() };
    loop {
        let page = search(q.clone());
        seen.extend(page.items.iter().map(|i| i.case.id));
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let newest = search(CaseQuery { sort: CaseSort::Newest, limit: 2, ..Default::default() });
    assert_eq!(newest.items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[6], ids[5]]);
    // a finished case sorts last
    a.engine.case_command(BUYER, ids[0], CaseCommand::Withdraw, None, None).unwrap();
    assert_eq!(search(CaseQuery::default()).items.last().unwrap().case.id, ids[0]);
    // another shop sees none of them; the buyer sees their own
    assert!(a.engine.search(OTHER_SHOP, CaseQuery::default()).unwrap().items.is_empty());
    assert_eq!(a.engine.search(BUYER, CaseQuery::default()).unwrap().items.len(), 7);
    assert!(a.engine.search(Actor::Buyer { buyer: BuyerId(8) }, CaseQuery::default()).unwrap().items.is_empty());
}

mod stored_invariants {
    //! Random commands and clock moves through the engine and the runner on a real file: what is
    //! stored stays consistent with the log and with the rules.
    use super::*;
    use proptest::prelude::*;

    fn evidence(n: u8) -> Vec<Evidence> {
        vec![Evidence {
            key: format!("e/{n}.jpg"),
            kind: EvidenceKind::Image,
            sha256: format!("{n:064x}"),
            caption: String::new(),
        }]
    }

    fn command(i: u8, n: u8) -> (Actor, CaseCommand) {
        let logistics = Logistics {
            carrier: Carrier::parse("SF").unwrap(),
            tracking_no: TrackingNo::parse("SF9000000001").unwrap(),
        };
        match i % 14 {
            0 => (BUYER, CaseCommand::Withdraw),
            1 => (BUYER, CaseCommand::Escalate { reason: "x".into() }),
            2 => (BUYER, CaseCommand::SubmitReturnLogistics { logistics, refund_account: None }),
            3 => (BUYER, CaseCommand::AcceptProposal),
            4 => (MERCHANT, CaseCommand::Refund),
            5 => (
                MERCHANT,
                CaseCommand::Reject {
                    reason_code: "not_as_claimed".into(),
                    explanation: String::new(),
                    evidence: evidence(n),
                },
            ),
            6 => (MERCHANT, CaseCommand::ReceivedRefund),
            7 => {
                (MERCHANT, CaseCommand::Propose { kind: CaseType::RefundOnly, amount: Money::cny(100), address: None })
            }
            8 => (MERCHANT, CaseCommand::ExtendReceipt),
            9 => (MERCHANT, CaseCommand::SubmitEvidence { explanation: "see".into(), evidence: evidence(n) }),
            10 => (MERCHANT, CaseCommand::Appeal { text: "unfair".into(), evidence: vec![] }),
            11 => (AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }),
            12 => (
                AGENT,
                CaseCommand::Rule {
                    for_party: if n.is_multiple_of(2) { Party::Buyer } else { Party::Merchant },
                    reason: "r".into(),
                },
            ),
            _ => (MERCHANT, CaseCommand::SetRemark { text: format!("note {n}") }),
        }
    }

    #[derive(Clone, Debug)]
    enum Step {
        Cmd(u8, u8, u8),
        Agree(u8),
        Wait(u16),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0u8..3, any::<u8>(), any::<u8>()).prop_map(|(c, a, b)| Step::Cmd(c, a, b)),
            1 => (0u8..3).prop_map(Step::Agree),
            2 => (1u16..120).prop_map(Step::Wait),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn stored_state_matches_its_log_and_every_due_deadline_fires_once(steps in prop::collection::vec(step(), 1..40)) {
            let a = app();
            let policy = a.engine.policy_of(ShopId(1)).unwrap();
            let mut cases = vec![];
            for (i, kind) in [CaseType::ReturnRefund, CaseType::RefundOnly, CaseType::ReturnRefund].into_iter().enumerate() {
                let o = a.order(&format!("P{i}"), PaymentMethod::Online, true);
                cases.push(a.apply(o.id, kind, 50 + i as i64).id);
            }
            let runner = a.runner();
            for s in steps {
                match s {
                    Step::Cmd(c, i, n) => {
                        let (actor, cmd) = command(i, n);
                        let _ = a.engine.case_command(actor, cases[c as usize], cmd, None, None);
                    }
                    Step::Agree(c) => {
                        let _ = a.engine.agree_return(MERCHANT, cases[c as usize], AddressId(1), false, None, None);
                    }
                    Step::Wait(hours) => {
                        a.clock.advance(Dur::hours(hours as i64));
                        runner.run_due().unwrap();
                    }
                }
            }
            runner.run_due().unwrap();
            let now = a.clock.now();
            prop_assert!(a.engine.read(|tx| tx.due_deadlines(now, 10)).unwrap().is_empty(), "a due deadline did not fire");
            // W1 counters (kept by triggers) equal a count of the rows
            for (queue, n) in a.engine.read(|tx| tx.queue_counts(ShopId(1))).unwrap() {
                let rows = cases.iter().filter(|id| a.case(**id).queue() == queue).count() as u64;
                prop_assert_eq!(n, rows, "count of {:?}", queue);
            }
            for id in cases {
                let case = a.case(id);
                let order = a.engine.read(|tx| tx.order(case.order_id)).unwrap().unwrap();
                prop_assert!(order.refunded.minor <= order.total.minor);
                // the indexed columns (queue, due time) agree with the state
                let q = aftersale_engine::CaseQuery { case_id: Some(id), queue: Some(case.queue()), limit: 5, ..Default::default() };
                let page = a.engine.read(|tx| tx.search_cases(&q)).unwrap();
                prop_assert_eq!(page.items.len(), 1, "the queue column disagrees with the state");
                let due = case.governing_deadline(&policy).map_or(i64::MAX, |d| d.due.0);
                prop_assert_eq!(page.items[0].due_key, due, "the due column disagrees with the state");
                // the stored rows are exactly the deadlines the state implies
                let mut rows: Vec<(DeadlineKind, Timestamp)> =
                    a.engine.read(|tx| tx.deadlines_of(Subject::Case(id))).unwrap().iter().map(|d| (d.kind, d.due)).collect();
                let mut implied: Vec<(DeadlineKind, Timestamp)> = case.deadlines(&policy).iter().map(|d| (d.kind, d.due)).collect();
                rows.sort();
                implied.sort();
                prop_assert_eq!(rows, implied);
                // the log rebuilds what is stored
                let log: Vec<Recorded> = a.engine.read(|tx| tx.order_events(order.id)).unwrap().into_iter().map(|e| e.recorded).collect();
                let replayed_order = Order::replay(&log).unwrap();
                prop_assert_eq!(&replayed_order, &order);
                let case_log = a.engine.read(|tx| tx.case_events(id)).unwrap();
                prop_assert_eq!(Case::replay(&replayed_order, case_log.iter().map(|e| &e.recorded)), Some(case.clone()));
                // no deadline fired twice
                let mut fired = std::collections::HashSet::new();
                for e in &case_log {
                    if let Event::DeadlineFired { kind, due } = e.recorded.event {
                        prop_assert!(fired.insert((kind, due)), "{kind:?} due {due} fired twice");
                    }
                }
            }
        }
    }
}

#[test]
fn the_background_runner_fires_due_deadlines_on_its_own() {
    let a = app();
    let o = a.order("BG1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
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

#[test]
fn a_policy_change_re_arms_the_deadlines_of_open_cases() {
    let a = app();
    let o = a.order("PC1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    a.clock.advance(Dur::hours(30));
    // the shop shortens its review window to 24h: already passed for this case
    let overrides = PolicyOverrides { review: Some(Dur::hours(24)), ..Default::default() };
    let policy = a.engine.update_shop_policy(ShopId(1), "douyin", overrides).unwrap();
    assert_eq!(policy.review, Dur::hours(24));
    let rows = a.engine.read(|tx| tx.deadlines_of(Subject::Case(c.id))).unwrap();
    let review = rows.iter().find(|d| d.kind == DeadlineKind::Review).unwrap();
    assert_eq!(review.due, T0 + Dur::hours(24));
    assert_eq!(a.runner().run_due().unwrap().fired, 2, "the reminder and the review");
    assert_eq!(a.case(c.id).status, Status::Refunding);
    // an unknown profile or shop is refused
    assert!(matches!(
        a.engine.update_shop_policy(ShopId(1), "amazon", PolicyOverrides::default()),
        Err(EngineError::Invalid { field: "profile", .. })
    ));
    assert!(matches!(
        a.engine.update_shop_policy(ShopId(9), "taote", PolicyOverrides::default()),
        Err(EngineError::NotFound { .. })
    ));
}

#[test]
fn concurrent_commands_without_an_expected_version_never_conflict() {
    let a = app();
    let o = a.order("C1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let engine = a.engine.clone();
            std::thread::spawn(move || {
                (0..40)
                    .map(|i| {
                        let cmd = if (t + i) % 2 == 0 {
                            CaseCommand::SetRemark { text: format!("{t}-{i}") }
                        } else {
                            CaseCommand::PostMessage { text: format!("{t}-{i}") }
                        };
                        engine.case_command(MERCHANT, c.id, cmd, None, None)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let failed: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(a.case(c.id).version, c.version + 320);
}

#[test]
fn stored_json_versions_match_the_version_columns_after_order_changes() {
    let a = app();
    let o = a.order("V1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).unwrap();
    a.engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "x".into() }, None, None).unwrap();
    let o2 = a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap();
    let col = a.engine.read(|tx| tx.order_version(o.id)).unwrap().unwrap();
    assert_eq!(o2.version, col);
}
