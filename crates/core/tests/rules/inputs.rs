//! Inputs the rules check whatever the state: the evidence limits in every command that takes
//! evidence, order amounts and currencies (O1), the refund account a COD buyer gives once (R6),
//! and the values a decision records (the receipt extension's date, the refund retries).

use crate::harness::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use DeadlineKind as K;
use PaymentMethod::{Cod, Online};

/// Every command that carries evidence, with the rule that governs its evidence.
const TAKES_EVIDENCE: [(&str, &str); 8] = [
    ("apply", "T1"),
    ("resubmit", "T1"),
    ("add_evidence", "T1"),
    ("reject", "S4"),
    ("reject_at_receipt", "M2"),
    ("submit_evidence", "E3"),
    ("upload_voucher", "M6"),
    ("appeal", "T4"),
];

/// Runs `which` with `evidence` on a fresh case in the state where it is allowed. A refusal must
/// leave the order and case as they were.
fn attempt(which: &str, evidence: Vec<Evidence>) -> Result<(), Refusal> {
    let (mut w, actor, cmd) = match which {
        "apply" => {
            let mut w = World::new("douyin", Online, At::Delivered);
            let cmd = Apply { evidence, ..application(CaseType::RefundOnly, cny(10)) };
            let before = w.order.clone();
            let r = w.apply_with(cmd).map(|_| ());
            if r.is_err() {
                assert_eq!((&w.order, w.case.is_none()), (&before, true), "a refused application changed state");
            }
            return r;
        }
        "resubmit" => (rejected("douyin"), BUYER, revision(CaseType::RefundOnly, cny(20), evidence)),
        "add_evidence" => (return_case("douyin"), BUYER, CaseCommand::AddEvidence { evidence }),
        "reject" => (
            return_case("douyin"),
            MERCHANT,
            CaseCommand::Reject { reason_code: "not_as_claimed".into(), explanation: String::new(), evidence },
        ),
        "reject_at_receipt" => (
            shipped_back("douyin", Online),
            MERCHANT,
            CaseCommand::Reject { reason_code: "used_or_damaged".into(), explanation: String::new(), evidence },
        ),
        "submit_evidence" => {
            let mut w = rejected("douyin");
            w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
            w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
            (w, MERCHANT, CaseCommand::SubmitEvidence { explanation: "packed intact".into(), evidence })
        }
        "upload_voucher" => {
            let mut w = shipped_back("douyin", Cod);
            w.cmd(MERCHANT, CaseCommand::ReceivedRefund).unwrap();
            (w, MERCHANT, CaseCommand::UploadVoucher { evidence })
        }
        "appeal" => {
            let mut w = rejected("douyin");
            w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
            w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "no proof".into() }).unwrap();
            (w, MERCHANT, CaseCommand::Appeal { text: "the parcel was intact".into(), evidence })
        }
        other => panic!("unknown command {other}"),
    };
    let before = (w.order.clone(), w.case.clone(), w.log.len());
    let r = w.cmd(actor, cmd).map(|_| ());
    if r.is_err() {
        assert_eq!((w.order.clone(), w.case.clone(), w.log.len()), before, "a refused {which} changed state");
    }
    r
}

fn files(n: u8) -> Vec<Evidence> {
    (1..=n).map(evidence).collect()
}

#[test]
fn t1_evidence_limits_hold_in_every_command_that_takes_evidence() {
    let long_key = Evidence { key: "k".repeat(201), ..evidence(2) };
    let no_key = Evidence { key: String::new(), ..evidence(2) };
    let short_hash = Evidence { sha256: "a".repeat(63), ..evidence(2) };
    let long_hash = Evidence { sha256: "a".repeat(65), ..evidence(2) };
    let not_hex = Evidence { sha256: "g".repeat(64), ..evidence(2) };
    let long_caption = Evidence { caption: "图".repeat(501), ..evidence(2) };
    for (which, rule) in TAKES_EVIDENCE {
        // twenty files are the most one command takes
        attempt(which, files(20)).unwrap_or_else(|r| panic!("{which} refused 20 files: {r}"));
        let r = attempt(which, files(21)).unwrap_err();
        assert_eq!(
            r,
            Refusal::InvalidField { field: "evidence".into(), reason: "has more than 20 files".into(), rule },
            "{which}"
        );
        // a malformed file is named by its position
        for bad in [&long_key, &no_key, &short_hash, &long_hash, &not_hex, &long_caption] {
            let r = attempt(which, vec![evidence(1), bad.clone()]).unwrap_err();
            assert_eq!((r.field(), r.rule()), (Some("evidence[1]"), Some(rule)), "{which}: {bad:?}");
            assert_eq!(r.code(), "invalid_value");
        }
        // the longest key and caption still pass
        let widest = Evidence { key: "k".repeat(200), caption: "图".repeat(500), ..evidence(3) };
        attempt(which, vec![widest]).unwrap_or_else(|r| panic!("{which} refused the widest file: {r}"));
    }
}

#[test]
fn t1_s4_m6_commands_that_are_evidence_need_at_least_one_file() {
    for (which, rule) in
        [("add_evidence", "T1"), ("reject", "S4"), ("reject_at_receipt", "M2"), ("upload_voucher", "M6")]
    {
        assert_eq!(attempt(which, vec![]).unwrap_err(), Refusal::MissingField { field: "evidence", rule }, "{which}");
    }
    // where evidence is optional, none is fine
    for which in ["apply", "resubmit", "submit_evidence", "appeal"] {
        attempt(which, vec![]).unwrap_or_else(|r| panic!("{which} refused no evidence: {r}"));
    }
}

fn new_order(total: Money, shipping_fee: Money) -> Result<Vec<Event>, Refusal> {
    let policy = Policy::profile("douyin").unwrap();
    let new = NewOrder {
        order_no: "DY1".into(),
        buyer_id: BuyerId(7),
        payment: Online,
        total,
        shipping_fee,
        fresh: false,
        customer_name: "王小明".into(),
        customer_phone: Phone::parse("13800131234").unwrap(),
        lines: vec![],
    };
    create_order(OrderId(1), ShopId(1), &new, &Ctx { policy: &policy, now: T0, default_address: None })
}

#[test]
fn o1_the_shipping_fee_is_in_the_orders_currency_and_not_above_the_total() {
    let usd = Currency::parse("USD").unwrap();
    let r = new_order(cny(110), Money::new(1_000, usd).unwrap()).unwrap_err();
    assert_eq!((r.field(), r.rule()), (Some("shipping_fee"), Some("O1")));
    let r = new_order(cny(110), Money::cny(11_001)).unwrap_err();
    assert_eq!((r.field(), r.rule()), (Some("shipping_fee"), Some("O1")));
    // a fee equal to the total (a shipping-only order) and a free delivery are both fine
    new_order(cny(110), cny(110)).unwrap();
    new_order(cny(110), Money::zero(Currency::parse("CNY").unwrap())).unwrap();
    // the total is above zero
    let r = new_order(Money::cny(0), Money::cny(0)).unwrap_err();
    assert_eq!((r.field(), r.rule()), (Some("total"), Some("O1")));
    new_order(Money::cny(1), Money::cny(0)).unwrap();
}

#[test]
fn o1_an_order_is_in_its_shops_platform_currency() {
    let usd = Currency::parse("USD").unwrap();
    for (profile, currency) in [("douyin", Currency::CNY), ("taote", Currency::CNY), ("tiktok_shop", usd)] {
        let policy = Policy::profile(profile).unwrap();
        assert_eq!(policy.currency, currency, "{profile}");
        let order = |total: Money| NewOrder {
            order_no: "X1".into(),
            buyer_id: BuyerId(7),
            payment: Online,
            total,
            shipping_fee: Money::zero(total.currency()),
            fresh: false,
            customer_name: "Ann".into(),
            customer_phone: Phone::parse("13800131234").unwrap(),
            lines: vec![],
        };
        let ctx = Ctx { policy: &policy, now: T0, default_address: None };
        create_order(OrderId(1), ShopId(1), &order(Money::new(1_000, currency).unwrap()), &ctx).unwrap();
        let other = if currency == usd { Currency::CNY } else { usd };
        let r = create_order(OrderId(1), ShopId(1), &order(Money::new(1_000, other).unwrap()), &ctx).unwrap_err();
        assert_eq!((r.field(), r.rule()), (Some("total"), Some("O1")), "{profile}");
    }
}

#[test]
fn b3_an_amount_in_another_currency_or_not_above_zero_is_refused() {
    let mut w = World::new("douyin", Online, At::Delivered);
    let usd = Currency::parse("USD").unwrap();
    for amount in [Money::new(100, usd).unwrap(), Money::cny(0), Money::cny(-100)] {
        let cmd = application(CaseType::RefundOnly, amount);
        let r = w.apply_with(cmd).unwrap_err();
        assert_eq!((r.field(), r.rule()), (Some("amount"), Some("B3")), "{amount:?}");
    }
    // one fen is enough
    w.apply_for(CaseType::RefundOnly, Money::cny(1)).unwrap();
}

#[test]
fn r6_a_cod_buyer_who_gave_a_refund_account_is_not_asked_again_at_ship_back() {
    let mut w = World::new("douyin", Cod, At::Delivered);
    let cmd = Apply { refund_account: Some(account()), ..application(CaseType::ReturnRefund, cny(100)) };
    w.apply_with(cmd).unwrap();
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    w.cmd(BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF7000000001"), refund_account: None })
        .unwrap();
    assert_eq!(w.status(), Status::AwaitingReceipt);
    assert_eq!(w.case().refund_account, Some(account()));
    // a malformed account is refused where it is given
    let mut bad = World::new("douyin", Cod, At::Delivered);
    bad.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    bad.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let short = RefundAccount { number: "1234567".into(), ..account() };
    let r = bad.refused(
        BUYER,
        CaseCommand::SubmitReturnLogistics { logistics: logistics("SF7000000002"), refund_account: Some(short) },
    );
    assert_eq!((r.field(), r.rule()), (Some("refund_account"), Some("R6")));
    // an online buyer gives none at ship-back either
    let mut online = return_case("douyin");
    online.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let r = online.refused(
        BUYER,
        CaseCommand::SubmitReturnLogistics { logistics: logistics("SF7000000003"), refund_account: Some(account()) },
    );
    assert_eq!((r.field(), r.rule()), (Some("refund_account"), Some("R6")));
}

#[test]
fn m3_the_extension_records_the_new_receipt_date_in_the_log() {
    let mut w = shipped_back("douyin", Online);
    let due = w.deadline(K::Receipt).unwrap();
    w.advance(Dur::days(5));
    let ev = w.cmd(MERCHANT, CaseCommand::ExtendReceipt).unwrap();
    assert_eq!(ev, vec![Event::ReceiptExtended { until: due + Dur::days(3) }]);
    assert_eq!(w.log.last().unwrap().event, Event::ReceiptExtended { until: due + Dur::days(3) });
    assert_eq!(w.deadline(K::Receipt), Some(due + Dur::days(3)));
}

#[test]
fn m5_failed_refunds_back_off_doubling_to_a_day_and_count_attempts() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    w.cmd(MERCHANT, CaseCommand::Refund).unwrap();
    let mut waits = vec![];
    for attempt in 1..=7u32 {
        w.now = w.deadline(K::RefundSettle).unwrap();
        let at = w.now;
        w.cmd(SYSTEM, CaseCommand::RecordRefundOutcome { ok: false, detail: format!("bank timeout {attempt}") })
            .unwrap();
        let refund = w.case().refund.clone().unwrap();
        assert_eq!(refund.attempts, attempt);
        assert_eq!(refund.state, RefundState::Failed);
        assert_eq!(refund.last_error.as_deref(), Some(format!("bank timeout {attempt}").as_str()));
        let next = refund.next_attempt_at.unwrap();
        assert_eq!(w.deadline(K::RefundSettle), Some(next));
        waits.push(next - at);
        assert_eq!(w.status(), Status::Refunding);
    }
    let hours: Vec<Dur> = [1, 2, 4, 8, 16, 24, 24].into_iter().map(Dur::hours).collect();
    assert_eq!(waits, hours);
    w.now = w.deadline(K::RefundSettle).unwrap();
    w.cmd(SYSTEM, CaseCommand::RecordRefundOutcome { ok: true, detail: "settled".into() }).unwrap();
    let refund = w.case().refund.clone().unwrap();
    assert_eq!((refund.attempts, refund.state), (8, RefundState::Succeeded));
    assert_eq!((refund.next_attempt_at, refund.last_error, refund.settled_at), (None, None, Some(w.now)));
    assert_eq!(w.status(), Status::Completed);
}

#[test]
fn m5_a_payment_service_settles_no_refund_on_the_clock_and_its_failure_is_final() {
    for payout in [Payout::Manual, Payout::Http, Payout::Alipay] {
        let mut w = World::new("douyin", Online, At::Shipped);
        w.policy.payout = payout;
        w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
        w.cmd(MERCHANT, CaseCommand::Refund).unwrap();
        let refund = w.case().refund.clone().unwrap();
        // Being paid, with no deadline: the service (or finance) answers, not the clock.
        assert_eq!((refund.state, refund.next_attempt_at), (RefundState::Processing, None), "{payout:?}");
        assert_eq!(w.deadline(K::RefundSettle), None, "{payout:?}");
        assert_eq!(w.status(), Status::Refunding);
        w.cmd(SYSTEM, CaseCommand::RecordRefundOutcome { ok: false, detail: "ACQ.TRADE_HAS_CLOSE".into() }).unwrap();
        let refund = w.case().refund.clone().unwrap();
        assert_eq!((refund.state, refund.next_attempt_at, refund.attempts), (RefundState::Failed, None, 1));
        assert_eq!(w.deadline(K::RefundSettle), None, "{payout:?}: a final failure waits in the failed queue");
        // Finance may still settle it (paid by other means).
        w.cmd(SYSTEM, CaseCommand::RecordRefundOutcome { ok: true, detail: "paid by transfer".into() }).unwrap();
        assert_eq!(w.status(), Status::Completed);
    }
    assert!(Payout::Simulated.scheduled() && !Payout::Manual.scheduled());
    assert!(Payout::Http.sends() && Payout::Alipay.sends() && !Payout::Manual.sends() && !Payout::Simulated.sends());
    for p in Payout::ALL {
        assert_eq!(Payout::parse(p.as_str()), Some(p));
    }
    assert_eq!(Payout::parse("paypal"), None);
}
