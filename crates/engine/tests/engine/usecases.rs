//! Use-cases write state, log, deadlines and notices in one transaction; a refusal writes nothing.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;

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
fn a_refused_command_changes_nothing() {
    let (a, _, c) = refund_only_case("N1");
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
fn w3_flag_set_from_a_case_shows_on_the_order_and_its_cases() {
    let (a, o, c) = refund_only_case("W3");
    let flag = |actor, flag| {
        a.engine.case_action_blocking(actor, 0, c.id, CaseAction::SetFlag { flag }, None, None).map(|_| ())
    };
    flag(MERCHANT, Some(Flag::Purple)).unwrap();
    assert_eq!(a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap().flag, Some(Flag::Purple));
    let again =
        a.engine.order_command(MERCHANT, o.id, OrderCommand::SetFlag { flag: Some(Flag::Green) }, None, None).unwrap();
    assert_eq!(a.engine.read(|tx| tx.order(a.case(c.id).order_id)).unwrap().unwrap().flag, again.flag);
    // another shop cannot see it
    assert!(matches!(flag(OTHER_SHOP, Some(Flag::Red)), Err(EngineError::NotFound { .. })));
}

#[test]
fn w4_order_remark_is_shared_and_case_remark_is_the_cases_own() {
    let (a, o, c) = refund_only_case("W4");
    let remark = CaseAction::SetOrderRemark { text: "fragile".into() };
    a.engine.case_action_blocking(MERCHANT, 0, c.id, remark, None, None).unwrap();
    a.engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "called".into() }, None, None).unwrap();
    assert_eq!(a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap().remark, "fragile");
    assert_eq!(a.case(c.id).remark, "called");
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
        lines: vec![],
    };
    let c = a.engine.apply(BUYER, o.id, cmd, None).unwrap();
    a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).unwrap();
    a.clock.advance(Dur::hours(48));
    a.runner().run_due().unwrap();
    let penalties = a.engine.penalties(ShopId(1)).unwrap();
    assert_eq!(penalties.len(), 1);
    assert_eq!(penalties[0].amount, Money::cny(5_000));
    // R6: the account is in no notice or SMS
    let leaked = a.db.count("SELECT (SELECT COUNT(*) FROM notices WHERE body LIKE '%6222020200%' OR title LIKE '%6222020200%') + (SELECT COUNT(*) FROM sms_outbox WHERE text LIKE '%6222020200%')");
    assert_eq!(leaked, 0);
}

#[test]
fn stored_json_versions_match_the_version_columns_after_order_changes() {
    let (a, o, c) = refund_only_case("V1");
    a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).unwrap();
    a.engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "x".into() }, None, None).unwrap();
    let o2 = a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap();
    let col = a.engine.read(|tx| tx.order_version(o.id)).unwrap().unwrap();
    assert_eq!(o2.version, col);
}

#[test]
fn a_policy_change_re_arms_the_deadlines_of_open_cases() {
    let (a, _, c) = refund_only_case("PC1");
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
fn a_use_case_that_fails_after_writing_leaves_nothing_behind() {
    let a = app();
    let failed = a.engine.transact(|tx| {
        tx.insert_template(ShopId(1), "half", "written")?;
        Err::<(), _>(EngineError::Invalid { field: "body", reason: "refused after the write".into() })
    });
    assert!(failed.is_err());
    assert!(a.engine.templates(ShopId(1)).unwrap().is_empty(), "the write was rolled back");
    // a job that panics after writing is rolled back too, and the writer carries on
    let panicked = a.engine.transact(|tx| {
        tx.insert_template(ShopId(1), "half", "written")?;
        if tx.shop(ShopId(1))?.is_some() {
            panic!("a bug in a use-case");
        }
        Ok(())
    });
    assert!(panicked.is_err());
    assert!(a.engine.templates(ShopId(1)).unwrap().is_empty());
    a.engine.add_template(ShopId(1), "after", "still works").unwrap();
    assert_eq!(a.engine.templates(ShopId(1)).unwrap().len(), 1);
}

fn refuse<T>() -> Result<T, EngineError> {
    Err(EngineError::Invalid { field: "x", reason: "refused after the write".into() })
}

#[test]
fn every_kind_of_write_counts_as_written_when_a_use_case_fails_after_it() {
    // Updates that matched a row, like inserts, make a later failure roll the job back.
    let (a, o, c) = refund_only_case("RB1");
    let mut case = c.clone();
    case.remark = "never committed".into();
    case.version += 1;
    let case_json = serde_json::to_string(&case).unwrap();
    let due = c.governing_deadline(&Policy::douyin()).map(|d| d.due);
    assert!(a
        .engine
        .transact(move |tx| {
            tx.update_case(&case, &case_json, c.version, due, false)?;
            refuse::<()>()
        })
        .is_err());
    assert_eq!(a.case(c.id).remark, "");
    let before = a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap();
    let mut changed = before.clone();
    changed.remark = "never committed".into();
    changed.version += 1;
    let json = serde_json::to_string(&changed).unwrap();
    let expected = before.version;
    assert!(a
        .engine
        .transact(move |tx| {
            tx.update_order(&changed, &json, expected)?;
            refuse::<()>()
        })
        .is_err());
    assert_eq!(a.engine.read(|tx| tx.order(o.id)).unwrap().unwrap(), before);
    assert!(a
        .engine
        .transact(|tx| {
            assert!(tx.update_shop(ShopId(1), "taote", &PolicyOverrides::default())?);
            refuse::<()>()
        })
        .is_err());
    assert_eq!(a.engine.shop(ShopId(1)).unwrap().profile, "douyin");
    let shop_box = Recipient::Shop(ShopId(1));
    let ids: Vec<i64> = a.engine.message_box(shop_box).unwrap().entries.iter().map(|n| n.id).collect();
    assert!(!ids.is_empty());
    assert!(a
        .engine
        .transact(move |tx| {
            assert!(tx.mark_read(shop_box, &ids, T0)? > 0);
            refuse::<()>()
        })
        .is_err());
    assert!(a.engine.message_box(shop_box).unwrap().entries.iter().all(|n| !n.read));
}
