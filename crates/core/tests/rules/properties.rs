//! Random commands from all four actors and clock moves keep the invariants.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::*;
use proptest::prelude::*;
use PaymentMethod::{Cod, Online};

fn command(i: u8, n: u8) -> (Actor, CaseCommand) {
    let ev = vec![evidence(n)];
    match i % 26 {
        0 => (BUYER, CaseCommand::Withdraw),
        1 => (
            BUYER,
            CaseCommand::Resubmit {
                kind: CaseType::RefundOnly,
                reason: "damaged".into(),
                amount: cny(n as i64 % 60 + 1),
                description: String::new(),
                evidence: vec![],
            },
        ),
        2 => (BUYER, CaseCommand::Escalate { reason: "x".into() }),
        3 => (BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF9000000001"), refund_account: None }),
        4 => (BUYER, CaseCommand::AcceptProposal),
        5 => (BUYER, CaseCommand::DeclineProposal),
        6 => (BUYER, CaseCommand::PostMessage { text: "hello".into() }),
        7 => (MERCHANT, CaseCommand::Refund),
        8 => (MERCHANT, reject_cmd()),
        9 => (MERCHANT, receipt_reject_cmd()),
        10 => (MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: n.is_multiple_of(2) }),
        11 => (MERCHANT, CaseCommand::ReceivedRefund),
        12 => (MERCHANT, CaseCommand::ExtendReceipt),
        13 => (MERCHANT, CaseCommand::RemindBuyer),
        14 => (
            MERCHANT,
            CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(n as i64 % 20 + 1), address: None },
        ),
        15 => (
            MERCHANT,
            CaseCommand::Propose {
                kind: CaseType::ReturnRefund,
                amount: cny(n as i64 % 20 + 1),
                address: Some(address(2)),
            },
        ),
        16 => (MERCHANT, CaseCommand::SubmitEvidence { explanation: "see".into(), evidence: ev }),
        17 => (MERCHANT, CaseCommand::UploadVoucher { evidence: ev }),
        18 => (MERCHANT, CaseCommand::Appeal { text: "unfair".into(), evidence: vec![] }),
        19 => (MERCHANT, CaseCommand::Escalate { reason: "x".into() }),
        20 => (AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }),
        21 => (
            AGENT,
            CaseCommand::Rule {
                for_party: if n.is_multiple_of(2) { Party::Buyer } else { Party::Merchant },
                reason: "r".into(),
            },
        ),
        22 => (AGENT, CaseCommand::ReviewAppeal),
        23 => (AGENT, CaseCommand::DecideAppeal { upheld: n.is_multiple_of(2), reason: "r".into() }),
        24 => (SYSTEM, CaseCommand::ReturnParcelSigned),
        _ => (SYSTEM, CaseCommand::RecordRefundOutcome { ok: !n.is_multiple_of(3), detail: "gateway".into() }),
    }
}

#[derive(Debug, Clone)]
enum Step {
    Cmd(u8, u8),
    Wait(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Step::Cmd(a, b)),
        1 => (1u32..200).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]
    #[test]
    fn invariants_hold_under_random_commands(
        profile in prop::sample::select(vec!["douyin", "taote", "tiktok_shop"]),
        cod in any::<bool>(),
        kind in 0u8..3,
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let payment = if cod && profile == "douyin" { Cod } else { Online };
        let (at, kind) = match kind {
            0 if payment == Online => (At::Paid, CaseType::RefundUnshipped),
            1 => (At::Delivered, CaseType::RefundOnly),
            _ => (At::Delivered, CaseType::ReturnRefund),
        };
        let mut w = World::new(profile, payment, at);
        let max = w.order.refundable(kind);
        w.apply_for(kind, max).unwrap();
        let paid = w.order.total;
        for s in steps {
            match s {
                Step::Wait(hours) => {
                    w.advance(Dur::hours(hours as i64));
                    w.fire_due();
                }
                Step::Cmd(i, n) => {
                    let finished = w.case().is_finished();
                    let (actor, mut cmd) = command(i, n);
                    if payment == Cod {
                        if let CaseCommand::SubmitReturnLogistics { refund_account, .. } = &mut cmd {
                            *refund_account = Some(account());
                        }
                    }
                    let before = (w.case.clone(), w.order.clone());
                    match w.cmd(actor, cmd) {
                        Ok(_) => prop_assert!(!finished, "a finished case accepted a command"),
                        Err(_) => prop_assert_eq!((w.case.clone(), w.order.clone()), before),
                    }
                }
            }
            // refunded never exceeds paid
            prop_assert!(w.order.refunded.minor() <= paid.minor());
            // at most one live deadline per kind
            let live = w.case().deadlines(&w.policy);
            for d in &live {
                prop_assert_eq!(live.iter().filter(|x| x.kind == d.kind).count(), 1);
            }
        }
        w.fire_due();
        prop_assert!(w.case().deadlines(&w.policy).iter().all(|d| d.due > w.now));
        // every deadline that passed fired exactly once
        let mut seen = std::collections::HashSet::new();
        for f in &w.fired {
            prop_assert!(seen.insert(*f), "deadline {:?} fired twice", f);
        }
        // replaying the log rebuilds the state
        let order = Order::replay(&w.log).unwrap();
        prop_assert_eq!(&order, &w.order);
        let case_log = w.log.iter().filter(|r| r.event.is_case_event());
        let replayed = Case::replay(&order, case_log);
        prop_assert_eq!(replayed.as_ref(), w.case.as_ref());
    }
}
