//! The message box (X1) and the SMS outbox (X2).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;

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
    let sms = a.engine.sms_outbox().unwrap();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].phone, "13800131234");
    assert!(sms[0].text.ends_with(REFUSE_FREIGHT_COLLECT_TEXT));
    assert_eq!(a.case(c.id).status, Status::AwaitingBuyerReturn);
    // a reminder to ship back is an SMS and nothing else: it is stored all the same
    a.engine.case_command(MERCHANT, c.id, CaseCommand::RemindBuyer, None, None).unwrap();
    let sms = a.engine.sms_outbox().unwrap();
    assert_eq!(sms.len(), 2);
    assert!(sms[1].text.contains("寄回"), "{}", sms[1].text);
}

#[test]
fn x1_message_box_per_party() {
    let (a, _, c) = refund_only_case("X1");
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
    // the shop's box holds the new request, addressed to the shop
    let shop = a.engine.message_box(Recipient::Shop(ShopId(1))).unwrap();
    assert_eq!(shop.entries.len(), 1);
    assert_eq!(shop.entries[0].recipient, Recipient::Shop(ShopId(1)));
    assert_eq!(buyer[0].recipient, Recipient::Buyer(BuyerId(7)));
}

#[test]
fn x1_message_box_has_unread_counts_per_category_and_only_the_owner_marks_read() {
    let (a, _, c) = refund_only_case("X1U");
    a.engine.case_command(BUYER, c.id, CaseCommand::PostMessage { text: "hello".into() }, None, None).unwrap();
    let shop = Recipient::Shop(ShopId(1));
    let MessageBox { entries, unread, .. } = a.engine.message_box(shop).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(unread, vec![("after_sales".to_string(), 2)]);
    // another shop cannot mark them read
    assert_eq!(a.engine.mark_read(Recipient::Shop(ShopId(2)), vec![entries[0].id]).unwrap(), 0);
    assert_eq!(a.engine.mark_read(shop, vec![entries[0].id]).unwrap(), 1);
    let MessageBox { entries, unread, .. } = a.engine.message_box(shop).unwrap();
    assert_eq!(unread, vec![("after_sales".to_string(), 1)]);
    assert!(entries[0].read, "newest first, and marked read");
}

#[test]
fn x2_a_pluggable_sender_delivers_the_outbox_and_failures_stay_queued() {
    use aftersale_engine::sms::{dispatch, SmsOutcome, SmsRetry, SmsSender};
    struct Flaky(std::sync::Mutex<Vec<String>>, bool);
    impl SmsSender for Flaky {
        fn send(&self, sms: &aftersale_engine::StoredSms) -> SmsOutcome {
            if self.1 {
                return SmsOutcome::Retry("gateway down".into());
            }
            self.0.lock().unwrap().push(format!("{}: {}", sms.phone, sms.text));
            SmsOutcome::Sent { provider_id: Some("P-1".into()) }
        }
    }
    // Tried again at once (a wait of 0), given up after the third attempt.
    let retry = SmsRetry { waits_ms: vec![0], max_attempts: 3 };
    let a = app();
    let o = a.order("X2D", PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::ReturnRefund, 100);
    a.engine.agree_return(MERCHANT, c.id, AddressId(1), false, None, None).unwrap();
    let down = Flaky(Default::default(), true);
    assert_eq!(dispatch(&a.engine, &down, 10, &retry).unwrap().failed, 1);
    let due = |a: &App| a.engine.read(|tx| tx.unsent_sms(10, i64::MAX)).unwrap();
    assert_eq!(due(&a).len(), 1);
    let kept = &due(&a)[0];
    assert_eq!((kept.attempts, kept.last_error.as_deref()), (1, Some("gateway down")));
    assert_eq!((kept.kind.as_str(), kept.params.contains("\"no\"")), ("return_address", true), "{kept:?}");
    let up = Flaky(Default::default(), false);
    assert_eq!(dispatch(&a.engine, &up, 10, &retry).unwrap().sent, 1);
    assert!(up.0.lock().unwrap()[0].starts_with("13800131234: 【售后】"));
    assert!(due(&a).is_empty());
    let sent = &a.engine.read(|tx| tx.sms_outbox()).unwrap()[0];
    assert!(sent.sent_at.is_some(), "the outbox keeps the record");
    assert_eq!((sent.attempts, sent.provider_id.as_deref(), sent.last_error.as_deref()), (2, Some("P-1"), None));
    // A provider that keeps failing: given up at the last attempt, with the reason.
    a.engine.case_command(MERCHANT, c.id, CaseCommand::RemindBuyer, None, None).ok();
    let o2 = a.order("X2E", PaymentMethod::Online, true);
    let c2 = a.apply(o2.id, CaseType::ReturnRefund, 100);
    a.engine.agree_return(MERCHANT, c2.id, AddressId(1), false, None, None).unwrap();
    for _ in 0..3 {
        dispatch(&a.engine, &down, 10, &retry).unwrap();
    }
    assert!(due(&a).is_empty(), "nothing left to try");
    let all = a.engine.read(|tx| tx.sms_outbox()).unwrap();
    let gave_up = all.iter().filter(|s| s.failed_at.is_some()).collect::<Vec<_>>();
    assert!(
        !gave_up.is_empty() && gave_up.iter().all(|s| s.last_error.as_deref().unwrap().starts_with("given up after 3"))
    );
    assert_eq!(dispatch(&a.engine, &RecordOnly, 10, &retry).unwrap().sent, 0);
}

#[test]
fn x1_the_message_box_pages_newest_first_and_filters() {
    let (a, _, c) = refund_only_case("X1P");
    for i in 0..4 {
        a.engine
            .case_command(BUYER, c.id, CaseCommand::PostMessage { text: format!("hello {i}") }, None, None)
            .unwrap();
    }
    let shop = Recipient::Shop(ShopId(1));
    let all = a.engine.message_box(shop).unwrap().entries;
    assert_eq!(all.len(), 5);
    let page = |before: Option<i64>, unread_only: bool| {
        a.engine.message_box_page(shop, NoticeQuery { before, unread_only, category: None, limit: 2 }).unwrap()
    };
    // pages of two: 2 + 2 + 1, newest first, the cursor the last id of a full page
    let p1 = page(None, false);
    assert_eq!(p1.entries.iter().map(|n| n.id).collect::<Vec<_>>(), vec![all[0].id, all[1].id]);
    assert_eq!(p1.next, Some(all[1].id));
    let p2 = page(p1.next, false);
    assert_eq!(p2.entries.iter().map(|n| n.id).collect::<Vec<_>>(), vec![all[2].id, all[3].id]);
    let p3 = page(p2.next, false);
    assert_eq!((p3.entries.len(), p3.next), (1, None));
    // exactly a page left: no next cursor
    let exact =
        a.engine.message_box_page(shop, NoticeQuery { before: p1.next, limit: 3, ..Default::default() }).unwrap();
    assert_eq!((exact.entries.len(), exact.next), (3, None));
    // unread only, and a category
    a.engine.mark_read(shop, vec![all[0].id]).unwrap();
    assert_eq!(page(None, true).entries[0].id, all[1].id);
    let other = NoticeQuery { category: Some("arbitration".into()), limit: 10, ..Default::default() };
    assert!(a.engine.message_box_page(shop, other).unwrap().entries.is_empty());
    let after_sales = NoticeQuery { category: Some("after_sales".into()), limit: 10, ..Default::default() };
    assert_eq!(a.engine.message_box_page(shop, after_sales).unwrap().entries.len(), 5);
}
