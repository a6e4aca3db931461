//! The refund ledger on both databases (M5): a row per refund in the case's own transaction,
//! the simulated gateway settling on the clock, `manual` refunds waiting for finance (one by one
//! or by payout file, all or nothing), and refunds sent to a payment service: claimed under
//! leases, retried under one key with the M5 backoff, settled only by an answer saying so.

use crate::harness::*;
use aftersale_core::model::*;
use aftersale_core::time::Dur;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::refunds::{GatewayAnswer, PayoutLine, PayoutResult};
use aftersale_engine::store::{LedgerStatus, RefundFilter, RefundRow};
use aftersale_engine::*;
use std::sync::Arc;

const OWNER: Sender = Sender { actor: MERCHANT, role: Role::Owner, credential: Credential::Session };
const STAFF: Sender = Sender { actor: MERCHANT, role: Role::Staff, credential: Credential::Session };
const OTHER_OWNER: Sender = Sender { actor: OTHER_SHOP, role: Role::Owner, credential: Credential::Session };

fn paying(payout: Payout) -> App {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(&dir);
    let gateway: Arc<dyn PaymentGateway> =
        if payout == Payout::Simulated { Arc::new(BuiltinGateway) } else { Arc::new(ExternalGateway(payout)) };
    app_paying(dir, db, gateway)
}

/// A delivered online order with a refund-only case of 10 yuan, refunded by the merchant.
fn refunded(a: &App, no: &str) -> (Case, RefundRow) {
    let o = a.order(no, PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    let c = a.engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).unwrap();
    let rows = a.engine.refunds_as(&OWNER, RefundFilter { case: Some(c.id), limit: 10, ..Default::default() }).unwrap();
    assert_eq!(rows.len(), 1, "one ledger row per refund started");
    (c, rows[0].clone())
}

fn paid(reference: &str) -> PayoutResult {
    PayoutResult { paid: true, reference: Some(reference.into()), reason: None }
}

#[test]
fn m5_the_simulated_gateway_settles_its_ledger_row_on_the_clock() {
    let a = paying(Payout::Simulated);
    let (c, row) = refunded(&a, "S-1");
    assert_eq!(
        (row.status, row.gateway.as_str(), row.amount),
        (LedgerStatus::Requested, "simulated", Money::cny(1_000))
    );
    assert_eq!(row.next_at, Some(T0.add_working_days(1)));
    assert_eq!((row.case, row.shop, row.key()), (c.id, ShopId(1), format!("rf_{}", row.id)));
    a.clock.set(T0.add_working_days(1));
    assert_eq!(a.runner().run_due().unwrap().fired, 1);
    let row = a.engine.refund_as(&OWNER, row.id).unwrap();
    assert_eq!((row.status, row.attempts, row.settled_at), (LedgerStatus::Succeeded, 1, Some(a.clock.now())));
    assert_eq!(a.case(c.id).status, Status::Completed);
}

#[test]
fn m5_a_manual_refund_waits_for_finance_and_is_paid_once() {
    let a = paying(Payout::Manual);
    let (c, row) = refunded(&a, "M-1");
    assert_eq!((row.status, row.gateway.as_str(), row.next_at), (LedgerStatus::AwaitingPayout, "manual", None));
    let case = a.case(c.id);
    assert_eq!((case.status, case.refund.as_ref().unwrap().state), (Status::Refunding, RefundState::Processing));
    // The clock decides nothing: a week on, it still waits.
    a.clock.advance(Dur::days(7));
    assert_eq!(a.runner().run_due().unwrap().fired, 0);
    assert_eq!(a.engine.refund_as(&OWNER, row.id).unwrap().status, LedgerStatus::AwaitingPayout);
    // Who may settle it: not staff; another shop does not see it.
    assert!(matches!(a.engine.settle_refund_as(&STAFF, row.id, paid("B1")), Err(EngineError::Forbidden(_))));
    assert!(matches!(
        a.engine.settle_refund_as(&OTHER_OWNER, row.id, paid("B1")),
        Err(EngineError::NotFound { what: "refund", .. })
    ));
    // Paid needs the bank's reference.
    let bare = PayoutResult { paid: true, reference: None, reason: None };
    assert!(matches!(
        a.engine.settle_refund_as(&OWNER, row.id, bare),
        Err(EngineError::Invalid { field: "reference", .. })
    ));
    let done = a.engine.settle_refund_as(&OWNER, row.id, paid("BANK-778")).unwrap();
    assert_eq!((done.status, done.reference.as_deref()), (LedgerStatus::Succeeded, Some("BANK-778")));
    assert_eq!(a.case(c.id).status, Status::Completed);
    // Said again: the same answer; said otherwise: refused, naming the state.
    assert_eq!(a.engine.settle_refund_as(&OWNER, row.id, paid("BANK-778")).unwrap(), done);
    let failed = PayoutResult { paid: false, reference: None, reason: Some("account closed".into()) };
    let err = a.engine.settle_refund_as(&OWNER, row.id, failed).unwrap_err();
    assert!(matches!(err, EngineError::Refused(Refusal::WrongState { state, .. }) if state == "succeeded"));
}

#[test]
fn m5_a_payout_file_is_applied_whole_or_not_at_all() {
    let a = paying(Payout::Manual);
    let (c1, r1) = refunded(&a, "F-1");
    let (c2, r2) = refunded(&a, "F-2");
    let line = |line: usize, refund: String, result: Result<PayoutResult, String>| PayoutLine { line, refund, result };
    // One unknown row: the file is refused, naming it, and nothing of it is applied.
    let err = a
        .engine
        .settle_payouts_as(&OWNER, vec![line(2, r1.key(), Ok(paid("B-1"))), line(3, "rf_999".into(), Ok(paid("B-2")))])
        .unwrap_err();
    let EngineError::Invalid { field: "file", reason } = err else { panic!("{err:?}") };
    assert!(reason.contains("line 3: unknown refund \"rf_999\""), "{reason}");
    assert_eq!(a.engine.refund_as(&OWNER, r1.id).unwrap().status, LedgerStatus::AwaitingPayout);
    assert_eq!(a.case(c1.id).status, Status::Refunding);
    // A line the edge could not read, and a refund named twice, are reported alike.
    let err = a
        .engine
        .settle_payouts_as(
            &OWNER,
            vec![
                line(2, r1.key(), Ok(paid("B-1"))),
                line(3, r1.id.to_string(), Ok(paid("B-1"))),
                line(4, r2.key(), Err("status must be paid or failed".into())),
            ],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 3: ") && err.contains("earlier line") && err.contains("line 4: status"), "{err}");
    // Another shop's refund is as unknown as a missing one.
    let err = a.engine.settle_payouts_as(&OTHER_OWNER, vec![line(2, r1.key(), Ok(paid("B")))]).unwrap_err();
    assert!(err.to_string().contains("unknown refund"), "{err}");
    // A good file: both settled, one paid, one failed.
    let failed = PayoutResult { paid: false, reference: None, reason: Some("收款账户已注销".into()) };
    let done = a
        .engine
        .settle_payouts_as(&OWNER, vec![line(2, r1.key(), Ok(paid("B-1"))), line(3, r2.key(), Ok(failed))])
        .unwrap();
    assert_eq!(done.iter().map(|r| r.status).collect::<Vec<_>>(), [LedgerStatus::Succeeded, LedgerStatus::Failed]);
    assert_eq!(a.case(c1.id).status, Status::Completed);
    let c2 = a.case(c2.id);
    assert_eq!(c2.refund.as_ref().unwrap().state, RefundState::Failed);
    assert_eq!(c2.refund.as_ref().unwrap().next_attempt_at, None, "a final failure waits for finance");
    let failed_queue = a
        .engine
        .refunds_as(&OWNER, RefundFilter { status: Some(LedgerStatus::Failed), limit: 10, ..Default::default() });
    assert_eq!(failed_queue.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), [r2.id]);
}

#[test]
fn m5_a_sent_refund_is_retried_under_one_key_and_paid_only_when_the_service_says_so() {
    let a = paying(Payout::Http);
    let (c, row) = refunded(&a, "H-1");
    assert_eq!((row.status, row.next_at), (LedgerStatus::Requested, Some(T0)));
    // One node holds it under a lease; another finds nothing to send.
    let claimed = a.engine.claim_refunds(Payout::Http, 10, "node-a", 60_000).unwrap();
    assert_eq!(claimed.iter().map(|r| r.id).collect::<Vec<_>>(), [row.id]);
    assert!(a.engine.claim_refunds(Payout::Http, 10, "node-b", 60_000).unwrap().is_empty());
    assert!(a.engine.claim_refunds(Payout::Alipay, 10, "node-b", 60_000).unwrap().is_empty());
    // No answer twice: sent again after 1 h, then 2 h (M5), the same row, the same key.
    for (attempt, wait) in [(1, 1), (2, 2)] {
        let r =
            a.engine.record_refund_answer(row.id, GatewayAnswer::Unreachable { error: "timed out".into() }).unwrap();
        assert_eq!((r.status, r.attempts, r.key()), (LedgerStatus::Requested, attempt, row.key()));
        assert_eq!(r.next_at, Some(a.clock.now() + Dur::hours(wait)));
        assert!(a.engine.claim_refunds(Payout::Http, 10, "node-a", 60_000).unwrap().is_empty(), "not due yet");
        assert_eq!(a.case(c.id).refund.as_ref().unwrap().state, RefundState::Processing, "never paid unasked");
        a.clock.advance(Dur::hours(wait));
        assert_eq!(a.engine.claim_refunds(Payout::Http, 10, "node-a", 60_000).unwrap().len(), 1);
    }
    let r =
        a.engine.record_refund_answer(row.id, GatewayAnswer::Succeeded { reference: Some("PSP-1".into()) }).unwrap();
    assert_eq!((r.status, r.attempts, r.reference.as_deref()), (LedgerStatus::Succeeded, 3, Some("PSP-1")));
    let case = a.case(c.id);
    assert_eq!((case.status, case.refund.as_ref().unwrap().state), (Status::Completed, RefundState::Succeeded));
    // A late answer to an ended refund changes nothing.
    let late = a.engine.record_refund_answer(row.id, GatewayAnswer::Failed { reason: "late".into() }).unwrap();
    assert_eq!(late.status, LedgerStatus::Succeeded);
    assert_eq!(a.db.count("SELECT COUNT(*) FROM refunds"), 1, "one refund, one row, one key");
}

#[test]
fn m5_a_dispatchers_answers_are_recorded_in_one_commit_and_an_unknown_refund_holds_none_up() {
    let a = paying(Payout::Http);
    let (c1, r1) = refunded(&a, "B-1");
    let (c2, r2) = refunded(&a, "B-2");
    let answers = vec![
        (r1.id, GatewayAnswer::Succeeded { reference: Some("PSP-B1".into()) }),
        (r2.id + 1_000, GatewayAnswer::Succeeded { reference: None }),
        (r2.id, GatewayAnswer::Failed { reason: "closed".into() }),
    ];
    // Two recorded; the refund the ledger does not have is passed over.
    assert_eq!(a.engine.record_refund_answers(answers).unwrap(), 2);
    let row = |id| a.engine.refund_as(&OWNER, id).unwrap();
    let (p1, p2) = (row(r1.id), row(r2.id));
    assert_eq!((p1.status, p1.attempts, p1.reference.as_deref()), (LedgerStatus::Succeeded, 1, Some("PSP-B1")));
    assert_eq!((p2.status, p2.last_error.as_deref()), (LedgerStatus::Failed, Some("closed")));
    assert_eq!(a.case(c1.id).status, Status::Completed);
    assert_eq!(a.case(c2.id).refund.as_ref().unwrap().state, RefundState::Failed);
    // Answers to refunds already ended are recorded as nothing new.
    let again = vec![(r1.id, GatewayAnswer::Failed { reason: "late".into() })];
    assert_eq!(a.engine.record_refund_answers(again).unwrap(), 1);
    assert_eq!(row(r1.id).status, LedgerStatus::Succeeded);
    assert_eq!(a.engine.record_refund_answers(Vec::new()).unwrap(), 0);
}

#[test]
fn m5_a_pending_refund_is_settled_by_the_services_callback_and_a_refusal_is_final() {
    let a = paying(Payout::Http);
    let (c1, r1) = refunded(&a, "P-1");
    let (c2, r2) = refunded(&a, "P-2");
    let pending = GatewayAnswer::Pending { reference: Some("PSP-9".into()), ask_after: None };
    let r = a.engine.record_refund_answer(r1.id, pending).unwrap();
    assert_eq!((r.status, r.next_at), (LedgerStatus::Pending, None));
    // A refund being sent may not be settled by hand: its service's answer decides.
    let err = a.engine.settle_refund_as(&OWNER, r2.id, paid("X")).unwrap_err();
    assert!(matches!(err, EngineError::Refused(Refusal::WrongState { state, .. }) if state == "requested"));
    // The callback (the shop's integration token).
    let token = Sender { actor: MERCHANT, role: Role::Owner, credential: Credential::Token(TokenScope::Integration) };
    let done = a.engine.settle_refund_as(&token, r1.id, paid("PSP-9")).unwrap();
    assert_eq!(done.status, LedgerStatus::Succeeded);
    assert_eq!(a.case(c1.id).status, Status::Completed);
    let r =
        a.engine.record_refund_answer(r2.id, GatewayAnswer::Failed { reason: "ACQ.TRADE_HAS_CLOSE".into() }).unwrap();
    assert_eq!((r.status, r.last_error.as_deref()), (LedgerStatus::Failed, Some("ACQ.TRADE_HAS_CLOSE")));
    let case = a.case(c2.id);
    assert_eq!(case.refund.as_ref().unwrap().state, RefundState::Failed);
    assert_eq!(a.runner().run_due().unwrap().fired, 0, "no retry on the clock");
}

#[test]
fn m5_a_refund_scheduled_by_the_simulated_gateway_is_never_paid_unasked_after_a_switch() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(&dir);
    let a = app_paying(dir, db, Arc::new(BuiltinGateway));
    let (c, row) = refunded(&a, "W-1");
    let App { _dir, db, clock, engine, store } = a;
    drop(engine);
    store.close();
    drop(store);
    let a = open_with(_dir, db, clock, Arc::new(ExternalGateway(Payout::Manual)));
    a.clock.set(T0.add_working_days(1));
    assert_eq!(a.runner().run_due().unwrap().fired, 1);
    let row = a.engine.refund_as(&OWNER, row.id).unwrap();
    assert_eq!(row.status, LedgerStatus::Failed, "to the failed queue, for finance");
    assert!(row.last_error.unwrap().contains("settle it in the refund ledger"));
    assert_eq!(a.case(c.id).refund.as_ref().unwrap().state, RefundState::Failed);
    a.engine.settle_refund_as(&OWNER, row.id, paid("BANK-1")).unwrap();
    assert_eq!(a.case(c.id).status, Status::Completed);
}

#[test]
fn m5_who_reads_and_settles_the_ledger_and_what_a_settlement_may_say() {
    let a = paying(Payout::Manual);
    let (_, r1) = refunded(&a, "R-1");
    let (_, r2) = refunded(&a, "R-2");
    let all = RefundFilter { limit: 10, ..Default::default() };
    // Buyers do not read the ledger; another shop's owner sees none of this shop's refunds.
    let buyer = Sender { actor: BUYER, role: Role::Buyer, credential: Credential::Session };
    assert!(matches!(a.engine.refunds_as(&buyer, all.clone()), Err(EngineError::Forbidden(_))));
    assert!(a.engine.refunds_as(&OTHER_OWNER, all.clone()).unwrap().is_empty());
    assert_eq!(a.engine.refunds_as(&STAFF, all.clone()).unwrap().len(), 2);
    // A reference is at most 200 characters.
    let long = PayoutResult { paid: true, reference: Some("R".repeat(201)), reason: None };
    assert!(matches!(
        a.engine.settle_refund_as(&OWNER, r1.id, long),
        Err(EngineError::Invalid { field: "reference", .. })
    ));
    let exact = PayoutResult { paid: true, reference: Some("R".repeat(200)), reason: None };
    assert_eq!(a.engine.settle_refund_as(&OWNER, r1.id, exact).unwrap().status, LedgerStatus::Succeeded);
    // The shop's integration token may settle (a payment service's callback), and so may the
    // platform's admin.
    let token = Sender { actor: MERCHANT, role: Role::Staff, credential: Credential::Token(TokenScope::Integration) };
    let failed = PayoutResult { paid: false, reference: None, reason: Some("closed".into()) };
    assert_eq!(a.engine.settle_refund_as(&token, r2.id, failed).unwrap().status, LedgerStatus::Failed);
    let admin = Sender { actor: AGENT, role: Role::Admin, credential: Credential::Session };
    assert_eq!(a.engine.settle_refund_as(&admin, r2.id, paid("ADMIN-1")).unwrap().status, LedgerStatus::Succeeded);
}

#[test]
fn m5_a_lease_runs_out_and_a_pending_refund_is_asked_about_when_the_service_said() {
    let a = paying(Payout::Alipay);
    let (_, row) = refunded(&a, "L-1");
    // A short lease: once it has run out, another node takes the refund up.
    assert_eq!(a.engine.claim_refunds(Payout::Alipay, 10, "node-a", 50).unwrap().len(), 1);
    assert!(a.engine.claim_refunds(Payout::Alipay, 10, "node-b", 50).unwrap().is_empty());
    std::thread::sleep(std::time::Duration::from_millis(80));
    assert_eq!(a.engine.claim_refunds(Payout::Alipay, 10, "node-b", 50).unwrap().len(), 1, "the lease ran out");
    let pending = GatewayAnswer::Pending { reference: None, ask_after: Some(Dur(60_000)) };
    let r = a.engine.record_refund_answer(row.id, pending).unwrap();
    assert_eq!((r.status, r.next_at), (LedgerStatus::Pending, Some(a.clock.now() + Dur(60_000))));
}
