//! Case actions for async callers (`Engine::case_action`): decided and written in one
//! job on the writer. The same rules, checks and answers as `case_command`.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::{BuyerId, CaseId, EvidenceKind, EvidenceRef, ShopId};
use aftersale_core::*;
use aftersale_engine::*;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
}

fn run(
    a: &App,
    actor: Actor,
    case: CaseId,
    cmd: CaseCommandOf<EvidenceRef>,
    expected: Option<u64>,
    key: Option<&str>,
) -> Result<(Case, Option<Deadline>), EngineError> {
    let user = match actor {
        Actor::Buyer { buyer } => buyer.0,
        Actor::Merchant { staff, .. } => staff.0,
        _ => 0,
    };
    block_on(a.engine.case_action(
        actor,
        user,
        case,
        CaseAction::Command(cmd),
        expected,
        key.map(|k| IdemKey(k.into())),
    ))
    .map(|answer| (answer.case, answer.governing))
}

#[test]
fn an_async_command_is_applied_once_and_answers_the_case_with_its_governing_deadline() {
    let (a, _, c) = refund_only_case("A1");
    let events = a.event_count();
    let (case, governing) = run(&a, MERCHANT, c.id, CaseCommandOf::Refund, Some(c.version), None).unwrap();
    assert_eq!(case.status, Status::Refunding);
    assert_eq!(case, a.case(c.id), "the answer is the case as stored");
    assert_eq!(case.version, c.version + 1);
    assert_eq!(a.event_count(), events + 1, "one log row");
    let policy = a.engine.policy_of(ShopId(1)).unwrap();
    assert_eq!(governing, case.governing_deadline(&policy));
    assert!(governing.is_some(), "a refund in progress is governed by its settlement deadline");
    // its deadlines were moved in the same transaction: the review deadline is gone
    let due = a.engine.read(|tx| tx.due_deadlines(T0 + Dur::days(30), 100)).unwrap();
    assert!(due.iter().all(|d| d.kind != DeadlineKind::Review), "{due:?}");
}

#[test]
fn an_async_command_the_rules_refuse_writes_nothing() {
    let (a, _, c) = refund_only_case("A2");
    let events = a.event_count();
    let refused = run(&a, BUYER, c.id, CaseCommandOf::Refund, None, None);
    assert!(matches!(refused, Err(EngineError::Refused(_))), "{refused:?}");
    assert_eq!(a.event_count(), events);
    assert_eq!(a.case(c.id), c);
}

#[test]
fn an_async_command_on_another_shops_case_is_not_found() {
    let (a, _, c) = refund_only_case("A3");
    let r = run(&a, OTHER_SHOP, c.id, CaseCommandOf::SetRemark { text: "x".into() }, None, None);
    assert!(matches!(r, Err(EngineError::NotFound { what: "case", .. })), "{r:?}");
    let r = run(&a, MERCHANT, CaseId(999_999), CaseCommandOf::SetRemark { text: "x".into() }, None, None);
    assert!(matches!(r, Err(EngineError::NotFound { what: "case", .. })), "{r:?}");
    assert_eq!(a.case(c.id), c);
}

#[test]
fn an_async_command_at_a_stale_version_is_a_conflict_naming_the_version_found() {
    let (a, _, c) = refund_only_case("A4");
    run(&a, MERCHANT, c.id, CaseCommandOf::SetRemark { text: "first".into() }, Some(c.version), None).unwrap();
    let events = a.event_count();
    let stale = run(&a, MERCHANT, c.id, CaseCommandOf::Refund, Some(c.version), None);
    match stale {
        Err(EngineError::Conflict { what: "case", expected, actual }) => {
            assert_eq!((expected, actual), (c.version, c.version + 1))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a.event_count(), events, "nothing written");
    assert_eq!(a.case(c.id).status, Status::AwaitingReview);
}

#[test]
fn an_async_command_with_an_idempotency_key_replays_its_answer_and_refuses_another_body() {
    let (a, _, c) = refund_only_case("A5");
    let remark = |t: &str| CaseCommandOf::SetRemark { text: t.into() };
    let first = run(&a, MERCHANT, c.id, remark("a"), None, Some("k-1")).unwrap();
    let events = a.event_count();
    let again = run(&a, MERCHANT, c.id, remark("a"), None, Some("k-1")).unwrap();
    assert_eq!(first, again);
    assert_eq!(a.event_count(), events, "a replay writes nothing");
    assert!(matches!(run(&a, MERCHANT, c.id, remark("b"), None, Some("k-1")), Err(EngineError::IdempotencyKeyReused)));
    // the same key as the blocking path stores it: a request retried across the two paths replays
    let blocking = a.engine.case_command(
        MERCHANT,
        c.id,
        CaseCommand::SetRemark { text: "a".into() },
        None,
        Some(IdemKey("k-1".into())),
    );
    assert_eq!(blocking.unwrap(), first.0);
    let stored = a
        .engine
        .case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "c".into() }, None, Some(IdemKey("k-2".into())))
        .unwrap();
    assert_eq!(run(&a, MERCHANT, c.id, remark("c"), None, Some("k-2")).unwrap().0, stored);
}

/// E4 inside the job: evidence is named by upload key and resolved to the caller's own upload;
/// an unknown key is refused with the item's field, and nothing is written.
#[test]
fn an_async_command_resolves_its_evidence_from_the_callers_uploads() {
    let (a, _, c) = refund_only_case("A6");
    a.engine
        .record_evidence(EvidenceObject {
            key: "ev-1".into(),
            uploader: 7,
            shop_id: None,
            buyer_id: Some(BuyerId(7)),
            kind: EvidenceKind::Image,
            content_type: "image/png".into(),
            size: 10,
            sha256: "ab".repeat(32),
            created_at: T0,
        })
        .unwrap();
    let r = |key: &str| EvidenceRef { key: key.into(), caption: "photo".into(), kind: None, sha256: None };
    let events = a.event_count();
    let unknown = run(&a, BUYER, c.id, CaseCommandOf::AddEvidence { evidence: vec![r("ev-1"), r("nope")] }, None, None);
    match unknown {
        Err(EngineError::Evidence { field, code, .. }) => {
            assert_eq!((field.as_str(), code), ("evidence[1]", "unknown_evidence"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a.event_count(), events, "nothing written");
    let (case, _) = run(&a, BUYER, c.id, CaseCommandOf::AddEvidence { evidence: vec![r("ev-1")] }, None, None).unwrap();
    let (_, added) = case.evidence.iter().find(|(_, e)| e.key == "ev-1").expect("the upload is on the case");
    assert_eq!((added.kind, added.sha256.as_str()), (EvidenceKind::Image, "ab".repeat(32).as_str()));
    // another shop's staff cannot name the buyer's upload
    let theirs = run(&a, OTHER_SHOP, c.id, CaseCommandOf::AddEvidence { evidence: vec![r("ev-1")] }, None, None);
    assert!(matches!(theirs, Err(EngineError::NotFound { .. }) | Err(EngineError::Evidence { .. })), "{theirs:?}");
}

#[test]
fn racing_async_commands_on_one_case_give_one_success_and_one_conflict() {
    let (a, _, c) = refund_only_case("A7");
    let engine = a.engine.clone();
    let (first, second) = block_on(async {
        tokio::join!(
            engine.case_action(MERCHANT, 11, c.id, CaseAction::Command(CaseCommandOf::Refund), Some(c.version), None),
            engine.case_action(
                MERCHANT,
                11,
                c.id,
                CaseAction::Command(CaseCommandOf::SetRemark { text: "x".into() }),
                Some(c.version),
                None
            ),
        )
    });
    let results = [first.map(|r| r.case), second.map(|r| r.case)];
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results.iter().filter(|r| matches!(r, Err(EngineError::Conflict { .. }))).count();
    assert_eq!((ok, conflicts), (1, 1), "{results:?}");
    assert_eq!(a.case(c.id).version, c.version + 1, "exactly one command was applied");
}

/// On PostgreSQL the job reads without locks. When another node changes the case between that
/// read and the job's write, the write finds the case moved, writes nothing, and the job decides
/// again on what the other node committed: the command is applied once, on top of the change.
#[test]
fn an_async_command_decides_again_when_another_node_moved_the_case_between_its_read_and_its_write() {
    let (a, o, c) = refund_only_case("A8");
    let TestDb::Postgres(url) = a.db.clone() else {
        eprintln!("PostgreSQL only: SQLite has one writer, nothing moves a case between its read and its write");
        return;
    };
    // "Another node": a transaction that holds the order and rewrites the case as a remark would.
    let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut tx = other.transaction().unwrap();
    tx.execute("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", &[&o.id.0]).unwrap();
    tx.execute(
        "UPDATE cases SET version = version + 1, \
         data = jsonb_set(data::jsonb, '{version}', to_jsonb(version + 1))::text WHERE id = $1",
        &[&c.id.0],
    )
    .unwrap();
    let engine = a.engine.clone();
    let job = std::thread::spawn(move || {
        block_on(engine.case_action(MERCHANT, 11, c.id, CaseAction::Command(CaseCommandOf::Refund), None, None))
    });
    // The job has read the case (version v) and now waits for the order's lock in its write.
    let mut watch = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut waiting = || -> i64 {
        watch
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND datname = current_database() AND query LIKE 'WITH o AS (SELECT version FROM orders%'",
                &[],
            )
            .unwrap()
            .get(0)
    };
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while waiting() == 0 {
        assert!(std::time::Instant::now() < give_up, "the job never waited for the order's lock");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    tx.commit().unwrap();
    let case = job.join().unwrap().unwrap().case;
    assert_eq!(case.status, Status::Refunding);
    assert_eq!(case.version, c.version + 2, "decided again on the other node's version, applied once");
    assert_eq!(a.case(c.id), case);
    let refunds =
        a.db.count(&format!("SELECT COUNT(*) FROM events WHERE case_id = {} AND kind = 'refund_started'", c.id.0));
    assert_eq!(refunds, 1);
}

/// A commit group reads its deciding jobs' cases ahead, as it begins (on PostgreSQL). A job
/// earlier in the group that changes such a case leaves the later job a read from before the
/// change: its write finds the case moved, and it decides again on the case as the group left
/// it. Both commands are applied, the later on top of the earlier.
#[test]
fn an_async_command_whose_read_ahead_an_earlier_job_of_its_group_outdated_decides_again() {
    let (a, o, c) = refund_only_case("A9");
    // The blocking path keys its write by the order, the async one by the case: one writer here.
    assert_eq!(o.id.0, c.id.0, "the order and the case share a writer");
    // Hold that writer, so that the two commands queue behind it and meet in one group.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, running) = std::sync::mpsc::channel::<()>();
    a.store.submit(
        Some(c.id.0),
        Box::new(move |_| {
            let _ = started.send(());
            let _ = held.recv_timeout(std::time::Duration::from_secs(10));
            Ok(())
        }),
        aftersale_engine::store::Reply::new(|_| {}),
    );
    running.recv().unwrap();
    let engine = a.engine.clone();
    let remark = std::thread::spawn(move || {
        engine.case_command(MERCHANT, c.id, CaseCommand::SetRemark { text: "first".into() }, None, None)
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let engine = a.engine.clone();
    let refund = std::thread::spawn(move || {
        block_on(engine.case_action(MERCHANT, 11, c.id, CaseAction::Command(CaseCommandOf::Refund), None, None))
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    release.send(()).unwrap();
    let remarked = remark.join().unwrap().unwrap();
    let refunded = refund.join().unwrap().unwrap().case;
    assert_eq!(remarked.version, c.version + 1);
    assert_eq!(
        (refunded.version, refunded.status, refunded.remark.as_str()),
        (c.version + 2, Status::Refunding, "first")
    );
    assert_eq!(a.case(c.id), refunded);
}
