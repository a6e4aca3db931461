//! Message-box entries and SMS produced as data (X1, X2).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use PaymentMethod::Online;

#[test]
fn x1_message_box_entries_for_new_cases_proposals_rulings_and_evidence_requests() {
    let mut w = World::new("douyin", Online, At::Delivered);
    let ev = w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    let out = w.notices(&ev);
    assert_eq!(out.notices[0].recipient, Recipient::Shop(ShopId(1)));
    assert!(out.notices[0].title.contains("New after-sales request"));
    let ev = w.cmd(MERCHANT, reject_cmd()).unwrap();
    assert_eq!(w.notices(&ev).notices[0].recipient, Recipient::Buyer(BuyerId(7)));
    let ev = w.cmd(BUYER, CaseCommand::Escalate { reason: "x".into() }).unwrap();
    assert_eq!(w.notices(&ev).notices[0].recipient, Recipient::Platform);
    let ev = w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos please".into() }).unwrap();
    assert_eq!(w.notices(&ev).notices[0].category, notice::Category::Arbitration);
}

#[test]
fn x2_sms_notices_are_produced_as_data() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    let ev = w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let sms = w.notices(&ev).sms;
    assert_eq!(sms.len(), 1);
    assert!(sms[0].text.starts_with("【售后】"));
}
