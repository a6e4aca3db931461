//! Racing and concurrent commands, group commit and idempotency keys.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::{OrderId, ShopId};
use aftersale_engine::store::Effects;
use aftersale_engine::*;
use std::sync::Arc;

#[test]
fn racing_commands_on_one_case_give_one_success_and_one_conflict() {
    let (a, _, c) = refund_only_case("R1");
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
    let (a, _, c) = refund_only_case("I1");
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
fn concurrent_commands_without_an_expected_version_never_conflict() {
    let (a, _, c) = refund_only_case("C1");
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let engine = a.engine.clone();
            std::thread::spawn(move || {
                (0..40)
                    .map(|i| {
                        // A message in four commands: 80 in all, within the thread's 100 (T2).
                        let cmd = if (t + i) % 4 != 1 {
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

/// Runs `job(i, tx)` for `i` in `0..21` as write jobs on one order's writer, queued behind a
/// job that holds it, so that they go into commits together; each job's result, in order.
fn queued_jobs<R: Send + 'static>(
    a: &App,
    job: impl Fn(usize, &mut dyn WriteTx) -> Result<R, EngineError> + Send + Sync + 'static,
) -> Vec<Result<R, EngineError>> {
    let key = Some(OrderId(1));
    let job = Arc::new(job);
    let holder = {
        let engine = a.engine.clone();
        std::thread::spawn(move || {
            engine.transact_on(key, |_| {
                std::thread::sleep(std::time::Duration::from_millis(300));
                Ok(())
            })
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    let mut handles = Vec::new();
    for i in 0..21 {
        let engine = a.engine.clone();
        let job = job.clone();
        handles.push(std::thread::spawn(move || engine.transact_on(key, move |tx| job(i, tx))));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    holder.join().unwrap().unwrap();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn a_job_that_fails_after_writing_undoes_only_itself_and_its_commit_mates_still_commit() {
    let a = app();
    let results = queued_jobs(&a, |i, tx| {
        let id = tx.insert_template(ShopId(1), &format!("t{i}"), "body")?;
        if i == 10 {
            return Err(EngineError::Invalid { field: "body", reason: "refused after the write".into() });
        }
        Ok(id)
    });
    for (i, r) in results.iter().enumerate() {
        match (i, r) {
            (10, Err(EngineError::Invalid { field: "body", .. })) => {}
            (10, other) => panic!("the failing job should hear its own error, got {other:?}"),
            (_, Ok(_)) => {}
            (_, other) => panic!("job {i} should have committed, got {other:?}"),
        }
    }
    let titles: std::collections::BTreeSet<String> =
        a.engine.templates(ShopId(1)).unwrap().into_iter().map(|t| t.title).collect();
    let expected: std::collections::BTreeSet<String> = (0..21).filter(|i| *i != 10).map(|i| format!("t{i}")).collect();
    assert_eq!(titles, expected, "every acknowledged write is there, the failed one's is not");
}

#[test]
fn a_job_that_fails_without_an_insert_leaves_nothing_and_its_commit_mates_still_commit() {
    let a = app();
    let o = a.order("HALF1", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    let order_at = a.engine.order_view(MERCHANT, o.id).unwrap().version;
    let c2 = c.clone();
    let results = queued_jobs(&a, move |i, tx| {
        let c = &c2;
        match i {
            // Changes a case through a statement that returns rows, then refuses: it must count
            // as having written, or its change would commit.
            17 => {
                let mut next = c.clone();
                next.remark = "half-done".into();
                next.version = c.version + 1;
                let json = serde_json::to_string(&next).unwrap();
                let change = aftersale_engine::store::CaseChange {
                    case: &next,
                    json: &json,
                    expected: c.version,
                    due: None,
                    listed_same: true,
                    order_expected: order_at,
                    order: None,
                };
                tx.write_case_change(&change, &Effects::default())?;
                Err(EngineError::Invalid { field: "case", reason: "refused after the write".into() })
            }
            // Writes a notice, then refuses.
            12 => {
                let outbox = aftersale_core::notice::Outbox {
                    notices: vec![aftersale_core::notice::Notice {
                        recipient: aftersale_core::notice::Recipient::Shop(ShopId(1)),
                        category: aftersale_core::notice::Category::AfterSales,
                        title: "half-done".into(),
                        body: "half-done".into(),
                        title_zh: "中".into(),
                        body_zh: "文".into(),
                    }],
                    sms: vec![],
                    penalties: vec![],
                };
                let effects =
                    Effects { outbox: Some((None, &outbox, aftersale_core::Timestamp(1))), ..Effects::default() };
                tx.write_effects(&effects)?;
                Err(EngineError::Invalid { field: "notice", reason: "refused after the write".into() })
            }
            // A read PostgreSQL refuses (a NUL in a text value aborts the transaction),
            // then a refusal: the jobs after it must not run in the aborted transaction.
            7 => {
                let _ = tx.user_by_login("nul\0login");
                Err(EngineError::Invalid { field: "login", reason: "refused after a failed read".into() })
            }
            _ => Ok(tx.insert_template(ShopId(1), &format!("t{i}"), "body")?),
        }
    });
    for (i, r) in results.iter().enumerate() {
        match (i, r) {
            (17, Err(EngineError::Invalid { field: "case", .. }))
            | (12, Err(EngineError::Invalid { field: "notice", .. }))
            | (7, Err(EngineError::Invalid { field: "login", .. })) => {}
            (7 | 12 | 17, other) => panic!("job {i} should hear its own error, got {other:?}"),
            (_, Ok(_)) => {}
            (_, other) => panic!("job {i} should have committed, got {other:?}"),
        }
    }
    let titles: std::collections::BTreeSet<String> =
        a.engine.templates(ShopId(1)).unwrap().into_iter().map(|t| t.title).collect();
    let expected: std::collections::BTreeSet<String> =
        (0..21).filter(|i| ![7, 12, 17].contains(i)).map(|i| format!("t{i}")).collect();
    assert_eq!(titles, expected, "every acknowledged write is there");
    assert_eq!(a.db.count("SELECT COUNT(*) FROM notices WHERE title = 'half-done'"), 0, "the refused job's notice");
    assert_eq!(
        (a.case(c.id).remark, a.case(c.id).version),
        (c.remark.clone(), c.version),
        "the refused job's case change"
    );
}
