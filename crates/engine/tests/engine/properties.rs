//! Random commands and clock moves through the engine and the runner on a real file: what is
//! stored stays consistent with the log and with the rules.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;

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
    let logistics =
        Logistics { carrier: Carrier::parse("SF").unwrap(), tracking_no: TrackingNo::parse("SF9000000001").unwrap() };
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
        7 => (MERCHANT, CaseCommand::Propose { kind: CaseType::RefundOnly, amount: Money::cny(100), address: None }),
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
            prop_assert!(order.refunded.minor() <= order.total.minor());
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
