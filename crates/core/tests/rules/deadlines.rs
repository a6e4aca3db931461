//! Every deadline of the table, on each profile.

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::{Cod, Online};

#[test]
fn deadline_table_expires_on_every_profile() {
    for profile in policy::PROFILE_NAMES {
        let p = Policy::profile(profile).unwrap();
        let check = |mut w: World, kind: K, window: Dur, late: (Actor, CaseCommand)| {
            let start = w.now;
            assert_eq!(w.deadline(kind), Some(start + window), "{profile} {kind:?}");
            w.now = start + window - Dur::secs(1);
            let early = w.fire_due();
            assert!(!early.contains(&kind), "{profile} {kind:?} fired early");
            w.now = start + window;
            assert!(w.fire_due().contains(&kind), "{profile} {kind:?} did not fire");
            w.advance(Dur::secs(1));
            let r = w.refused(late.0, late.1);
            assert!(matches!(r, Refusal::DeadlinePassed { kind: k, .. } if k == kind), "{profile} {kind:?}: {r:?}");
        };
        // review
        let mut w = World::new(profile, Online, At::Shipped);
        w.apply_for(CaseType::RefundOnly, cny(5)).unwrap();
        check(w, K::Review, p.review, (MERCHANT, reject_cmd()));
        // buyer ships back
        let mut w = return_case(profile);
        w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
        check(
            w,
            K::BuyerShip,
            p.buyer_ship,
            (BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF5000000001"), refund_account: None }),
        );
        // merchant receipt, and with the extension where the profile has one
        let w = shipped_back(profile, Online);
        check(w, K::Receipt, p.receipt, (MERCHANT, CaseCommand::ReceivedRefund));
        if let Some(ext) = p.receipt_extension {
            let mut w = shipped_back(profile, Online);
            let start = w.now;
            w.advance(p.extension_min_tracking_age);
            w.cmd(MERCHANT, CaseCommand::ExtendReceipt).unwrap();
            w.now = start;
            check(w, K::Receipt, p.receipt + ext, (MERCHANT, CaseCommand::ReceivedRefund));
        }
        // COD voucher, where the profile takes COD
        if let Some(v) = p.cod_voucher {
            let mut w = shipped_back(profile, Cod);
            w.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
            check(w, K::Voucher, v, (MERCHANT, CaseCommand::UploadVoucher { evidence: vec![evidence(1)] }));
        }
        // merchant evidence
        let mut w = rejected(profile);
        w.cmd(BUYER, CaseCommand::Escalate { reason: "x".into() }).unwrap();
        w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
        check(
            w,
            K::Evidence,
            p.evidence,
            (MERCHANT, CaseCommand::SubmitEvidence { explanation: "x".into(), evidence: vec![] }),
        );
        // buyer after rejection
        let w = rejected(profile);
        check(
            w,
            K::BuyerAfterRejection,
            p.buyer_after_rejection,
            (BUYER, CaseCommand::Escalate { reason: "x".into() }),
        );
        // appeal window
        let mut w = rejected(profile);
        w.cmd(BUYER, CaseCommand::Escalate { reason: "x".into() }).unwrap();
        w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "x".into() }).unwrap();
        check(
            w,
            K::AppealWindow,
            p.appeal_window,
            (MERCHANT, CaseCommand::Appeal { text: "x".into(), evidence: vec![] }),
        );
        // unpaid order
        let mut w = World::new(profile, Online, At::Unpaid);
        assert_eq!(w.deadline(K::OrderUnpaid), Some(T0 + p.unpaid_order));
        w.now = T0 + p.unpaid_order - Dur::secs(1);
        assert!(w.fire_due().is_empty());
        w.now = T0 + p.unpaid_order;
        assert_eq!(w.fire_due(), vec![K::OrderUnpaid]);
    }
}

#[test]
fn waits_for_names_who_must_act_before_each_deadline() {
    use aftersale_core::{waits_for, DeadlineKind as K, Party};
    assert_eq!(waits_for(K::Review), vec![Party::Merchant, Party::Buyer], "the buyer answers a proposal within it");
    assert_eq!(waits_for(K::BuyerAfterRejection), vec![Party::Buyer, Party::Merchant]);
    assert_eq!(waits_for(K::Receipt), vec![Party::Merchant]);
    assert_eq!(waits_for(K::Evidence), vec![Party::Merchant]);
    assert_eq!(waits_for(K::Voucher), vec![Party::Merchant]);
    assert_eq!(waits_for(K::BuyerShip), vec![Party::Buyer]);
    assert!(waits_for(K::ReviewReminder).is_empty(), "a reminder ends no action");
}
