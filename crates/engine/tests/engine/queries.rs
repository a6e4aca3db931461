//! Queues, counts, search and visibility (W1, W2, W6).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;

#[test]
fn w1_queue_counts_per_shop() {
    let a = app();
    for i in 0..3 {
        let o = a.order(&format!("Q{i}"), PaymentMethod::Online, true);
        a.apply(o.id, if i == 0 { CaseType::RefundOnly } else { CaseType::ReturnRefund }, 10);
    }
    let counts = a.engine.read(|tx| tx.queue_counts(ShopId(1))).unwrap();
    let get = |q: Queue| counts.iter().find(|(x, _)| *x == q).unwrap().1;
    assert_eq!((get(Queue::RefundOnly), get(Queue::ReturnReview), get(Queue::Closed)), (1, 2, 0));
    assert!(a.engine.read(|tx| tx.queue_counts(ShopId(2))).unwrap().iter().all(|(_, n)| *n == 0));
}

#[test]
fn other_parties_cases_are_not_found() {
    let (a, _, c) = refund_only_case("P1");
    let r = a.engine.case_command(OTHER_SHOP, c.id, CaseCommand::Refund, None, None);
    assert!(matches!(r, Err(EngineError::NotFound { what: "case", .. })));
    let r = a.engine.case_command(Actor::Buyer { buyer: BuyerId(99) }, c.id, CaseCommand::Withdraw, None, None);
    assert!(matches!(r, Err(EngineError::NotFound { .. })));
    let (actions, deadline) = a.engine.available(MERCHANT, c.id).unwrap();
    assert!(actions.contains(&Action::Refund) && actions.contains(&Action::Reject));
    assert_eq!(deadline.unwrap().kind, DeadlineKind::Review);
    let (agent_actions, _) = a.engine.available(AGENT, c.id).unwrap();
    assert!(agent_actions.is_empty());
}

/// A name is found by any part of it, ASCII case ignored, whatever the part's length: one
/// character (a scan), two (on PostgreSQL the index of the names' character pairs), three or
/// more (the trigram index).
#[test]
fn w2_a_name_is_found_by_any_part_of_it_of_any_length() {
    use aftersale_engine::store::CaseQuery;
    let a = app();
    for (no, name) in [("N-1", "Amy Li"), ("N-2", "王芳"), ("N-3", "李芳芳")] {
        let new = NewOrder { customer_name: name.into(), ..new_order(no, PaymentMethod::Online) };
        let o = a.engine.create_order(MERCHANT, ShopId(1), new, None).unwrap();
        a.engine.order_command(Actor::System, o.id, OrderCommand::Pay, None, None).unwrap();
        a.apply(o.id, CaseType::RefundUnshipped, 10);
    }
    let names = |part: &str| -> Vec<String> {
        let q = CaseQuery { customer_name: Some(part.into()), ..Default::default() };
        let mut found: Vec<String> =
            a.engine.search(MERCHANT, q).unwrap().items.into_iter().map(|i| i.customer_name).collect();
        found.sort();
        found
    };
    assert_eq!(names("LI"), vec!["Amy Li"]);
    assert_eq!(names("my"), vec!["Amy Li"]);
    assert_eq!(names("y l"), vec!["Amy Li"]);
    assert!(names("ly").is_empty(), "not a pair of the name");
    assert!(names("iA").is_empty(), "the pairs follow the name's order");
    assert_eq!(names("芳"), vec!["李芳芳", "王芳"]);
    assert_eq!(names("芳芳"), vec!["李芳芳"]);
    assert_eq!(names("王芳"), vec!["王芳"]);
    assert_eq!(names("李芳芳"), vec!["李芳芳"]);
}

#[test]
fn w2_search_filters_sort_by_time_left_and_page_with_cursors() {
    use aftersale_engine::store::{CaseQuery, CaseSort};
    let a = app();
    let mut ids = vec![];
    for i in 0..7i64 {
        let new = NewOrder {
            order_no: format!("W2-{i}"),
            buyer_id: BuyerId(7),
            payment: PaymentMethod::Online,
            total: Money::cny(11_000),
            shipping_fee: Money::cny(1_000),
            fresh: false,
            customer_name: if i % 2 == 0 { "王小明".into() } else { "李四".into() },
            customer_phone: Phone::parse(&format!("1380013{:04}", 1000 + i)).unwrap(),
            lines: vec![],
        };
        let o = a.engine.create_order(MERCHANT, ShopId(1), new, None).unwrap();
        a.engine.order_command(Actor::System, o.id, OrderCommand::Pay, None, None).unwrap();
        let kind = if i < 3 { CaseType::RefundUnshipped } else { CaseType::RefundOnly };
        if kind == CaseType::RefundOnly {
            let logistics = Logistics {
                carrier: Carrier::parse("SF").unwrap(),
                tracking_no: TrackingNo::parse("SF1000000001").unwrap(),
            };
            a.engine.order_command(MERCHANT, o.id, OrderCommand::Ship { logistics }, None, None).unwrap();
        }
        ids.push(a.apply(o.id, kind, 10).id);
        a.clock.advance(Dur::hours(1));
    }
    let search = |q: CaseQuery| a.engine.search(MERCHANT, q).unwrap();
    // by order number, after-sales number, name, full phone
    assert_eq!(search(CaseQuery { order_no: Some("W2-3".into()), ..Default::default() }).items[0].case.id, ids[3]);
    assert_eq!(search(CaseQuery { case_id: Some(ids[5]), ..Default::default() }).items.len(), 1);
    assert_eq!(search(CaseQuery { customer_name: Some("李四".into()), ..Default::default() }).items.len(), 3);
    let phone = |raw: &str| CaseQuery { customer_phone: Some(PhoneSearch::parse(raw).unwrap()), ..Default::default() };
    let by_phone = search(phone("13800131004"));
    assert_eq!(by_phone.items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[4]]);
    assert_eq!(by_phone.items[0].customer_phone_masked, "138****1004", "W6: lists show masked phones");
    // the same number written with the country code, spaces and dashes; and by its last four
    assert_eq!(search(phone("+86 138-0013-1004")).items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[4]]);
    assert_eq!(search(phone("1004")).items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[4]]);
    assert!(search(phone("9999")).items.is_empty());
    // order number by its beginning; buyer name by any part of it (trigram index from three
    // characters, a scan below that)
    assert_eq!(search(CaseQuery { order_no: Some("W2-".into()), ..Default::default() }).items.len(), 7);
    assert!(search(CaseQuery { order_no: Some("W3".into()), ..Default::default() }).items.is_empty());
    assert_eq!(search(CaseQuery { customer_name: Some("小明".into()), ..Default::default() }).items.len(), 4);
    assert_eq!(search(CaseQuery { customer_name: Some("王小明".into()), ..Default::default() }).items.len(), 4);
    assert!(search(CaseQuery { customer_name: Some("王小红".into()), ..Default::default() }).items.is_empty());
    assert!(search(CaseQuery { customer_name: Some("%".into()), ..Default::default() }).items.is_empty());
    // text no stored name or order number can hold (control characters, a NUL) matches
    // nothing: not a database error (full-text syntax, PostgreSQL's text type)
    for text in ["王小\u{0}明", "\u{96}\u{19}_\u{0}", "\u{0}", "小\u{7f}"] {
        let by_name = a.engine.search(MERCHANT, CaseQuery { customer_name: Some(text.into()), ..Default::default() });
        assert!(by_name.unwrap().items.is_empty(), "customer_name {text:?}");
        let by_no = a.engine.search(MERCHANT, CaseQuery { order_no: Some(format!("W2-{text}")), ..Default::default() });
        assert!(by_no.unwrap().items.is_empty(), "order_no {text:?}");
    }
    // application date range, queue, type, flag, close to deadline
    let range = CaseQuery {
        applied_from: Some(T0 + Dur::hours(2)),
        applied_to: Some(T0 + Dur::hours(4)),
        ..Default::default()
    };
    assert_eq!(search(range).items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[2], ids[3]]);
    assert_eq!(search(CaseQuery { queue: Some(Queue::RefundUnshipped), ..Default::default() }).items.len(), 3);
    assert_eq!(search(CaseQuery { kind: Some(CaseType::RefundOnly), ..Default::default() }).items.len(), 4);
    let red = CaseAction::SetFlag { flag: Some(Flag::Red) };
    a.engine.case_action_blocking(MERCHANT, 0, ids[6], red, None, None).unwrap();
    let red = search(CaseQuery { flag: Some(Flag::Red), ..Default::default() });
    assert_eq!((red.items.len(), red.items[0].flag), (1, Some(Flag::Red)));
    // a selective filter with a flag: the flag is checked on every case found, not only on the
    // first page's worth (the red one sorts last of the seven)
    let red_by_prefix =
        search(CaseQuery { order_no: Some("W2-".into()), flag: Some(Flag::Red), limit: 2, ..Default::default() });
    assert_eq!(red_by_prefix.items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[6]]);
    // a selective filter with a two-character name, a page at a time: every match, in order
    let mut q =
        CaseQuery {
            order_no: Some("W2-".into()), customer_name: Some("李四".into()), limit: 1, ..Default::default()
        };
    let mut found = vec![];
    for pages in 1.. {
        assert!(pages <= 3, "more pages than matches: {found:?}");
        let page = search(q.clone());
        found.extend(page.items.iter().map(|i| i.case.id));
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(found, vec![ids[1], ids[3], ids[5]]);
    let near = search(CaseQuery { due_before: Some(T0 + Dur::hours(48) + Dur::hours(1)), ..Default::default() });
    assert_eq!(near.items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[0], ids[1]]);
    // sorted by time left by default, paged with cursors
    let mut seen = vec![];
    let mut q = CaseQuery { limit: 3, ..Default::default() };
    // Seven cases take three pages of three; a cursor that never ends fails here, not by hanging.
    for pages in 1.. {
        assert!(pages <= 3, "more pages than cases: {seen:?}");
        let page = search(q.clone());
        seen.extend(page.items.iter().map(|i| i.case.id));
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let newest = search(CaseQuery { sort: CaseSort::Newest, limit: 2, ..Default::default() });
    assert_eq!(newest.items.iter().map(|i| i.case.id).collect::<Vec<_>>(), vec![ids[6], ids[5]]);
    // a finished case sorts last
    a.engine.case_command(BUYER, ids[0], CaseCommand::Withdraw, None, None).unwrap();
    assert_eq!(search(CaseQuery::default()).items.last().unwrap().case.id, ids[0]);
    // another shop sees none of them; the buyer sees their own
    assert!(a.engine.search(OTHER_SHOP, CaseQuery::default()).unwrap().items.is_empty());
    assert_eq!(a.engine.search(BUYER, CaseQuery::default()).unwrap().items.len(), 7);
    assert!(a.engine.search(Actor::Buyer { buyer: BuyerId(8) }, CaseQuery::default()).unwrap().items.is_empty());
}
