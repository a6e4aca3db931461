//! Return and refund (R1–R7) and the goods on their way back (M1–M6).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::{Cod, Online};

#[test]
fn r1_return_queue() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    assert_eq!(w.case().queue(), Queue::ReturnReview);
    // a return needs the goods: not before delivery
    let mut shipped = World::new("douyin", Online, At::Shipped);
    assert!(matches!(shipped.apply_for(CaseType::ReturnRefund, cny(10)), Err(Refusal::WrongState { rule: "R1", .. })));
}

#[test]
fn r2_return_review_timeout_agrees_to_the_default_address() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.run_to(K::Review);
    assert_eq!(w.status(), Status::AwaitingBuyerReturn);
    assert_eq!(w.case().return_address, Some(address(1)));
    // a shop without a default address cannot take return requests
    let mut none = World::new("douyin", Online, At::Delivered);
    none.default_address = None;
    assert_eq!(none.apply_for(CaseType::ReturnRefund, cny(10)).unwrap_err(), Refusal::NoReturnAddress);
}

#[test]
fn r3_merchant_may_refund_directly() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.cmd(MERCHANT, CaseCommand::Refund).unwrap();
    assert_eq!(w.case().kind, CaseType::RefundOnly);
    assert_eq!(w.status(), Status::Refunding);
    w.run_to(K::RefundSettle);
    assert_eq!(w.status(), Status::Completed);
    assert!(w.case().return_address.is_none());
}

#[test]
fn r4_agreeing_sends_an_sms_with_the_optional_fixed_text() {
    for tick in [false, true] {
        let mut w = World::new("douyin", Online, At::Delivered);
        w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
        let ev =
            w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(2), refuse_freight_collect: tick }).unwrap();
        assert_eq!(w.status(), Status::AwaitingBuyerReturn);
        assert_eq!(w.case().queue(), Queue::AwaitingBuyerReturn);
        let sms = w.notices(&ev).sms;
        assert_eq!(sms.len(), 1);
        assert_eq!(sms[0].phone.as_str(), "13800131234");
        assert!(sms[0].text.contains("余杭区仓前街道"));
        assert_eq!(sms[0].text.ends_with(REFUSE_FREIGHT_COLLECT_TEXT), tick);
    }
    // agreeing is only for returns
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    assert!(matches!(
        w.refused(MERCHANT, CaseCommand::AgreeReturn { address: address(2), refuse_freight_collect: false }),
        Refusal::WrongState { .. }
    ));
}

#[test]
fn r5_buyer_ship_back_timeout_closes_case() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    assert_eq!(w.deadline(K::BuyerShip), Some(w.now + Dur::days(7)));
    w.run_to(K::BuyerShip);
    assert_eq!(w.status(), Status::Closed { reason: CloseReason::ReturnNotShipped });
    w.advance(Dur::secs(1));
    let late = CaseCommand::SubmitReturnLogistics { logistics: logistics("SF2000000001"), refund_account: None };
    assert!(matches!(w.refused(BUYER, late), Refusal::DeadlinePassed { kind: K::BuyerShip, .. }));
}

#[test]
fn r6_cod_refund_account_is_required_and_never_in_notices() {
    let mut w = World::new("douyin", Cod, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let without = CaseCommand::SubmitReturnLogistics { logistics: logistics("SF2000000001"), refund_account: None };
    assert_eq!(w.refused(BUYER, without), Refusal::MissingField { field: "refund_account", rule: "R6" });
    let with =
        CaseCommand::SubmitReturnLogistics { logistics: logistics("SF2000000001"), refund_account: Some(account()) };
    let ev = w.cmd(BUYER, with).unwrap();
    assert_eq!(w.case().refund_account, Some(account()));
    // the account never shows in Debug output or in any notice
    assert!(!format!("{:?}", w.case()).contains("6222020200112233445"));
    let out = w.notices(&ev);
    assert!(!format!("{out:?}").contains("6222020200112233445"));
    // online orders do not take one
    let mut online = World::new("douyin", Online, At::Delivered);
    let mut cmd = Apply { refund_account: Some(account()), ..application(CaseType::ReturnRefund, cny(5)) };
    assert_eq!(online.apply_with(cmd.clone()).unwrap_err().rule(), Some("R6"));
    cmd.refund_account = None;
    online.apply_with(cmd).unwrap();
}

#[test]
fn r7_received_refund_while_awaiting_buyer_logistics() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    w.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
    assert_eq!(w.status(), Status::Refunding);
    assert!(w.case().return_parcel.is_none());
}

// ------------------------------------------------------------------------------------------------
// Awaiting receipt

#[test]
fn m1_awaiting_receipt_queue() {
    let w = shipped_back("douyin", Online);
    assert_eq!(w.status(), Status::AwaitingReceipt);
    assert_eq!(w.case().queue(), Queue::AwaitingReceipt);
}

#[test]
fn m2_receipt_actions_refund_reject_and_remind() {
    // remind buyer: only before logistics exist, and it sends an SMS
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let ev = w.cmd(MERCHANT, CaseCommand::RemindBuyer).unwrap();
    assert_eq!(w.notices(&ev).sms.len(), 1);
    let mut w = shipped_back("douyin", Online);
    assert!(matches!(w.refused(MERCHANT, CaseCommand::RemindBuyer), Refusal::WrongState { .. }));
    // reject at receipt: a receipt-stage reason and evidence
    let review_only = CaseCommand::Reject {
        reason_code: "no_quality_issue".into(),
        explanation: String::new(),
        evidence: vec![evidence(8)],
    };
    assert_eq!(w.refused(MERCHANT, review_only).rule(), Some("M2"));
    w.cmd(MERCHANT, receipt_reject_cmd()).unwrap();
    assert_eq!(w.status(), Status::Rejected { stage: Stage::Receipt });
    // or received, refund
    let mut w = shipped_back("douyin", Online);
    w.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
    assert_eq!(w.status(), Status::Refunding);
}

#[test]
fn m3_extend_receipt_after_five_days_unsigned_once() {
    let mut w = shipped_back("douyin", Online);
    let due = w.deadline(K::Receipt).unwrap();
    // not before the tracking number is 5 days old
    w.advance(Dur::days(5) - Dur::secs(1));
    assert!(matches!(w.refused(MERCHANT, CaseCommand::ExtendReceipt), Refusal::ExtendReceiptNotYetAllowed { .. }));
    assert!(!available_actions(&w.order, w.case(), &MERCHANT, &w.ctx()).contains(&Action::ExtendReceipt));
    w.advance(Dur::secs(1));
    assert!(available_actions(&w.order, w.case(), &MERCHANT, &w.ctx()).contains(&Action::ExtendReceipt));
    w.cmd(MERCHANT, CaseCommand::ExtendReceipt).unwrap();
    assert_eq!(w.deadline(K::Receipt), Some(due + Dur::days(3)));
    // once per case
    assert_eq!(w.refused(MERCHANT, CaseCommand::ExtendReceipt), Refusal::ExtensionUsed);
    // not when the parcel was signed for
    let mut s = shipped_back("douyin", Online);
    s.cmd(SYSTEM, CaseCommand::ReturnParcelSigned).unwrap();
    s.advance(Dur::days(6));
    // and the refusal says why, not "not yet"
    let signed = s.refused(MERCHANT, CaseCommand::ExtendReceipt);
    assert_eq!((signed.code(), signed.rule()), ("parcel_signed", Some("M3")));
    assert!(signed.to_string().contains("signed"), "{signed}");
    // tiktok_shop extends by 8 days; taote has no extension
    let mut t = shipped_back("tiktok_shop", Online);
    let due = t.deadline(K::Receipt).unwrap();
    t.advance(Dur::days(5));
    t.cmd(MERCHANT, CaseCommand::ExtendReceipt).unwrap();
    assert_eq!(t.deadline(K::Receipt), Some(due + Dur::days(8)));
    let mut q = shipped_back("taote", Online);
    q.advance(Dur::days(5));
    assert_eq!(q.refused(MERCHANT, CaseCommand::ExtendReceipt), Refusal::ExtensionNotInProfile);
}

#[test]
fn m4_receipt_timeout_confirms_receipt() {
    let mut w = shipped_back("douyin", Online);
    let submitted = w.case().return_parcel.as_ref().unwrap().submitted_at;
    assert_eq!(w.deadline(K::Receipt), Some(submitted + Dur::days(7)));
    w.run_to(K::Receipt);
    assert!(w.log.iter().any(|r| r.event == Event::ReceiptConfirmed && r.actor == SYSTEM));
    assert_eq!(w.status(), Status::Refunding);
    w.advance(Dur::secs(1));
    assert!(matches!(w.refused(MERCHANT, receipt_reject_cmd()), Refusal::DeadlinePassed { kind: K::Receipt, .. }));
}

#[test]
fn m5_online_refund_keeps_shipping_fee_and_settles_after_a_working_day_with_retries() {
    // the shipping fee (10) is not refundable after shipment
    let mut w = World::new("douyin", Online, At::Delivered);
    assert!(matches!(w.apply_for(CaseType::ReturnRefund, cny(101)), Err(Refusal::AmountAboveRefundable { .. })));
    let mut w = shipped_back("douyin", Online);
    w.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
    let refund = w.case().refund.clone().unwrap();
    assert_eq!((refund.amount, refund.state), (cny(100), RefundState::Processing));
    // settles one working day later on the service clock (T0 is a Monday)
    assert_eq!(refund.next_attempt_at, Some(w.now.add_working_days(1)));
    // a failed attempt is recorded and retried an hour later
    w.now = refund.next_attempt_at.unwrap();
    w.cmd(SYSTEM, CaseCommand::RecordRefundOutcome { ok: false, detail: "bank timeout".into() }).unwrap();
    let refund = w.case().refund.clone().unwrap();
    assert_eq!(refund.state, RefundState::Failed);
    assert_eq!(refund.next_attempt_at, Some(w.now + Dur::hours(1)));
    assert_eq!(w.deadline(K::RefundSettle), Some(w.now + Dur::hours(1)));
    w.run_to(K::RefundSettle);
    assert_eq!(w.case().refund.as_ref().unwrap().state, RefundState::Succeeded);
    assert_eq!(w.status(), Status::Completed);
    // a Friday refund settles on Monday
    let fri = Timestamp::parse_rfc3339("2026-11-27T15:00:00Z").unwrap();
    assert_eq!(fri.add_working_days(1).to_string(), "2026-11-30T15:00:00Z");
}

#[test]
fn m6_cod_voucher_within_48h_else_advance_compensation_and_penalty() {
    let mut w = shipped_back("douyin", Cod);
    w.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
    assert_eq!(w.status(), Status::AwaitingVoucher);
    assert_eq!(w.deadline(K::Voucher), Some(w.now + Dur::hours(48)));
    // with the voucher: completed, offline channel
    let mut ok = shipped_back("douyin", Cod);
    ok.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
    ok.cmd(MERCHANT, CaseCommand::UploadVoucher { evidence: vec![evidence(4)] }).unwrap();
    assert_eq!(ok.case().refund.as_ref().unwrap().channel, RefundChannel::CodOffline);
    assert_eq!(ok.status(), Status::Completed);
    // without: the platform pays, the shop is penalised
    let ev_count = w.log.len();
    w.run_to(K::Voucher);
    let events: Vec<Event> = w.log[ev_count..].iter().map(|r| r.event.clone()).collect();
    assert!(events.iter().any(|e| matches!(e, Event::AdvanceCompensated { .. })));
    assert_eq!(w.case().refund.as_ref().unwrap().channel, RefundChannel::PlatformAdvance);
    assert!(w.case().penalty);
    let out = w.notices(&events);
    assert!(out.notices.iter().any(|n| n.recipient == Recipient::Shop(ShopId(1)) && n.title.contains("penalty")));
    // The penalty itself is the rules' to charge: one, of the amount the platform advanced.
    let advanced = events.iter().find_map(|e| match e {
        Event::AdvanceCompensated { amount } => Some(*amount),
        _ => None,
    });
    assert_eq!(out.penalties.len(), 1);
    assert_eq!(Some(out.penalties[0].amount), advanced);
    assert!(out.penalties[0].reason.contains("M6"));
    w.advance(Dur::secs(1));
    assert!(matches!(
        w.refused(MERCHANT, CaseCommand::UploadVoucher { evidence: vec![evidence(4)] }),
        Refusal::DeadlinePassed { kind: K::Voucher, .. }
    ));
}

#[test]
fn s4_m2_a_rejection_is_at_review_until_the_goods_come_back_then_at_receipt() {
    let mut w = return_case("douyin");
    assert_eq!(aftersale_core::decide::reject_stage(w.case()), Stage::Review);
    let mut back = shipped_back("douyin", PaymentMethod::Online);
    assert_eq!(back.status(), Status::AwaitingReceipt);
    assert_eq!(aftersale_core::decide::reject_stage(back.case()), Stage::Receipt);
    // And the rules reject at that stage.
    back.cmd(MERCHANT, receipt_reject_cmd()).unwrap();
    assert_eq!(back.status(), Status::Rejected { stage: Stage::Receipt });
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    assert_eq!(w.status(), Status::Rejected { stage: Stage::Review });
}
