//! One test per rule of `shared/spec/rules.md`, named after its ID, in given/when/then form,
//! plus the seed 003 worked example, every deadline of the table on each profile, and a property
//! test over random command sequences. Pure: no database, no clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;

mod harness {
    use super::*;

    pub const BUYER: Actor = Actor::Buyer { buyer: BuyerId(7) };
    pub const OTHER_BUYER: Actor = Actor::Buyer { buyer: BuyerId(8) };
    pub const MERCHANT: Actor = Actor::Merchant { shop: ShopId(1), staff: StaffId(11) };
    pub const OTHER_SHOP: Actor = Actor::Merchant { shop: ShopId(2), staff: StaffId(21) };
    pub const AGENT: Actor = Actor::Platform { agent: AgentId(31) };
    pub const SYSTEM: Actor = Actor::System;
    /// Monday 2026-11-23 09:00 UTC.
    pub const T0: Timestamp = Timestamp(1_795_424_400_000);

    pub fn address(id: i64) -> Address {
        Address {
            id: AddressId(id),
            name: "退货仓".into(),
            phone: Phone::parse("13900001111").unwrap(),
            region: "浙江省杭州市".into(),
            detail: "余杭区仓前街道 1 号".into(),
        }
    }

    pub fn evidence(n: u8) -> Evidence {
        Evidence {
            key: format!("ev/{n}.jpg"),
            kind: EvidenceKind::Image,
            sha256: format!("{:064x}", n),
            caption: String::new(),
        }
    }

    pub fn logistics(no: &str) -> Logistics {
        Logistics { carrier: Carrier::parse("SF").unwrap(), tracking_no: TrackingNo::parse(no).unwrap() }
    }

    pub fn account() -> RefundAccount {
        RefundAccount { holder: "李四".into(), bank: "工商银行".into(), number: "6222020200112233445".into() }
    }

    pub fn cny(yuan: i64) -> Money {
        Money::cny(yuan * 100)
    }

    /// Where an order stands when the test begins.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub enum At {
        Unpaid,
        Paid,
        Shipped,
        Delivered,
    }

    pub struct World {
        pub policy: Policy,
        pub now: Timestamp,
        pub order: Order,
        pub case: Option<Case>,
        pub log: Vec<Recorded>,
        pub default_address: Option<Address>,
        pub fired: Vec<(DeadlineKind, Timestamp)>,
    }

    impl World {
        pub fn new(profile: &str, payment: PaymentMethod, at: At) -> World {
            World::with_order(profile, payment, at, false)
        }

        pub fn with_order(profile: &str, payment: PaymentMethod, at: At, fresh: bool) -> World {
            let policy = Policy::profile(profile).unwrap();
            let new = NewOrder {
                order_no: "DY20261123001".into(),
                buyer_id: BuyerId(7),
                payment,
                total: cny(110),
                shipping_fee: cny(10),
                fresh,
                customer_name: "王小明".into(),
                customer_phone: Phone::parse("13800131234").unwrap(),
            };
            let ctx = Ctx { policy: &policy, now: T0, default_address: None };
            let events = create_order(OrderId(100), ShopId(1), &new, &ctx).unwrap();
            let log: Vec<Recorded> =
                events.into_iter().map(|event| Recorded { at: T0, actor: MERCHANT, event }).collect();
            let order = Order::replay(&log).unwrap();
            let mut w =
                World { policy, now: T0, order, case: None, log, default_address: Some(address(1)), fired: vec![] };
            if payment == PaymentMethod::Online && at != At::Unpaid {
                w.order_cmd(SYSTEM, OrderCommand::Pay).unwrap();
            }
            if matches!(at, At::Shipped | At::Delivered) {
                w.order_cmd(MERCHANT, OrderCommand::Ship { logistics: logistics("SF1000000001") }).unwrap();
            }
            if at == At::Delivered {
                w.order_cmd(SYSTEM, OrderCommand::Deliver).unwrap();
            }
            w
        }

        pub fn ctx(&self) -> Ctx<'_> {
            Ctx { policy: &self.policy, now: self.now, default_address: self.default_address.as_ref() }
        }

        fn record(&mut self, actor: Actor, events: &[Event]) {
            for event in events {
                let r = Recorded { at: self.now, actor, event: event.clone() };
                self.order.apply(&r);
                if let Some(c) = &mut self.case {
                    c.apply(&r);
                }
                self.log.push(r);
            }
        }

        pub fn order_cmd(&mut self, actor: Actor, cmd: OrderCommand) -> Result<Vec<Event>, Refusal> {
            let events = decide_order(&self.order, &cmd, &actor, &self.ctx())?;
            self.record(actor, &events);
            Ok(events)
        }

        pub fn apply_for(&mut self, kind: CaseType, amount: Money) -> Result<Vec<Event>, Refusal> {
            let cmd = Apply {
                kind,
                reason: "damaged".into(),
                amount,
                description: "the bin arrived dented".into(),
                evidence: vec![evidence(1)],
                refund_account: if self.order.payment == PaymentMethod::Cod && kind == CaseType::RefundOnly {
                    Some(account())
                } else {
                    None
                },
            };
            self.apply_with(cmd)
        }

        pub fn apply_with(&mut self, cmd: Apply) -> Result<Vec<Event>, Refusal> {
            let events = aftersale_core::apply(&self.order, CaseId(500), &cmd, &BUYER, &self.ctx())?;
            let r = Recorded { at: self.now, actor: BUYER, event: events[0].clone() };
            self.case = Case::open(&self.order, &r);
            self.order.apply(&r);
            self.log.push(r);
            Ok(events)
        }

        pub fn case(&self) -> &Case {
            self.case.as_ref().unwrap()
        }

        pub fn cmd(&mut self, actor: Actor, cmd: CaseCommand) -> Result<Vec<Event>, Refusal> {
            let events = decide_case(&self.order, self.case(), &cmd, &actor, &self.ctx())?;
            self.record(actor, &events);
            Ok(events)
        }

        /// A command that must be refused; checks that the state did not change.
        pub fn refused(&mut self, actor: Actor, cmd: CaseCommand) -> Refusal {
            let before = (self.order.clone(), self.case.clone(), self.log.len());
            let r = self.cmd(actor, cmd).expect_err("the command should be refused");
            assert_eq!((self.order.clone(), self.case.clone(), self.log.len()), before, "a refusal changed state");
            r
        }

        pub fn advance(&mut self, by: Dur) {
            self.now = self.now + by;
        }

        pub fn deadline(&self, kind: DeadlineKind) -> Option<Timestamp> {
            let mut all = self.order.deadlines(&self.policy);
            if let Some(c) = &self.case {
                all.extend(c.deadlines(&self.policy));
            }
            all.into_iter().find(|d| d.kind == kind).map(|d| d.due)
        }

        /// Fires every due deadline, earliest first, as the runner would; returns their kinds.
        pub fn fire_due(&mut self) -> Vec<DeadlineKind> {
            let mut fired = vec![];
            loop {
                let mut all: Vec<(Deadline, bool)> =
                    self.order.deadlines(&self.policy).into_iter().map(|d| (d, false)).collect();
                if let Some(c) = &self.case {
                    all.extend(c.deadlines(&self.policy).into_iter().map(|d| (d, true)));
                }
                all.sort_by_key(|(d, _)| d.due);
                let Some((d, on_case)) = all.into_iter().find(|(d, _)| d.due <= self.now) else { return fired };
                let events = if !on_case {
                    decide_order(&self.order, &OrderCommand::Expire { kind: d.kind }, &SYSTEM, &self.ctx()).unwrap()
                } else if d.kind == DeadlineKind::RefundSettle {
                    let cmd = CaseCommand::RecordRefundOutcome { ok: true, detail: "settled".into() };
                    decide_case(&self.order, self.case(), &cmd, &SYSTEM, &self.ctx()).unwrap()
                } else {
                    decide_case(&self.order, self.case(), &CaseCommand::Expire { kind: d.kind }, &SYSTEM, &self.ctx())
                        .unwrap()
                };
                self.record(SYSTEM, &events);
                self.fired.push((d.kind, d.due));
                fired.push(d.kind);
            }
        }

        /// Moves the clock to exactly `kind`'s due time and fires what is due.
        pub fn run_to(&mut self, kind: DeadlineKind) -> Vec<DeadlineKind> {
            let due = self.deadline(kind).unwrap_or_else(|| panic!("no live {kind:?} deadline"));
            self.now = due;
            self.fire_due()
        }

        pub fn status(&self) -> Status {
            self.case().status
        }

        pub fn notices(&self, events: &[Event]) -> Outbox {
            notices_for(&self.order, self.case(), events)
        }
    }

    pub fn reject_cmd() -> CaseCommand {
        CaseCommand::Reject {
            reason_code: "not_as_claimed".into(),
            explanation: "photos show no damage".into(),
            evidence: vec![evidence(9)],
        }
    }

    pub fn receipt_reject_cmd() -> CaseCommand {
        CaseCommand::Reject {
            reason_code: "used_or_damaged".into(),
            explanation: "returned used".into(),
            evidence: vec![evidence(8)],
        }
    }
}

use harness::*;
use DeadlineKind as K;
use PaymentMethod::{Cod, Online};

// ------------------------------------------------------------------------------------------------
// Orders and cancellation

#[test]
fn o1_orders_are_online_or_cod_with_their_states() {
    // given an online order: awaiting payment, then each state in turn
    let mut w = World::new("douyin", Online, At::Unpaid);
    assert_eq!(w.order.state, OrderState::AwaitingPayment);
    w.order_cmd(SYSTEM, OrderCommand::Pay).unwrap();
    assert_eq!(w.order.state, OrderState::AwaitingConfirmation);
    w.order_cmd(MERCHANT, OrderCommand::Confirm).unwrap();
    assert_eq!(w.order.state, OrderState::Stocking);
    w.order_cmd(MERCHANT, OrderCommand::Ship { logistics: logistics("SF1000000009") }).unwrap();
    w.order_cmd(SYSTEM, OrderCommand::Deliver).unwrap();
    w.order_cmd(SYSTEM, OrderCommand::Complete).unwrap();
    assert_eq!(w.order.state, OrderState::Completed);
    // a COD order skips payment
    let cod = World::new("douyin", Cod, At::Unpaid);
    assert_eq!(cod.order.state, OrderState::AwaitingConfirmation);
    // and a profile without COD refuses COD orders
    let policy = Policy::profile("taote").unwrap();
    let ctx = Ctx { policy: &policy, now: T0, default_address: None };
    let mut new = NewOrder {
        order_no: "X1".into(),
        buyer_id: BuyerId(7),
        payment: Cod,
        total: cny(10),
        shipping_fee: cny(0),
        fresh: false,
        customer_name: "a".into(),
        customer_phone: Phone::parse("13800131234").unwrap(),
    };
    assert_eq!(create_order(OrderId(1), ShopId(1), &new, &ctx).unwrap_err(), Refusal::CodNotSupported);
    new.payment = Online;
    new.total = Money::cny(0);
    assert_eq!(create_order(OrderId(1), ShopId(1), &new, &ctx).unwrap_err().field(), Some("total"));
}

#[test]
fn o2_cod_cancellation_rules() {
    // given a COD order awaiting confirmation
    let mut w = World::new("douyin", Cod, At::Paid);
    // the buyer cannot cancel once submitted
    let cancel = |contacted| OrderCommand::Cancel { reason: "out of stock".into(), buyer_contacted: contacted };
    assert!(matches!(w.order_cmd(BUYER, cancel(false)), Err(Refusal::NotAllowedFor { rule: "O2", .. })));
    // the merchant must record that the buyer was contacted
    assert_eq!(w.order_cmd(MERCHANT, cancel(false)).unwrap_err().code(), "missing_field");
    w.order_cmd(MERCHANT, OrderCommand::Confirm).unwrap();
    w.order_cmd(MERCHANT, cancel(true)).unwrap();
    assert_eq!(w.order.state, OrderState::Cancelled);
    assert!(w.order.cancellation.as_ref().unwrap().buyer_contacted);
    // a shipped COD order: only the platform cancels it
    let mut s = World::new("douyin", Cod, At::Shipped);
    assert!(s.order_cmd(MERCHANT, cancel(true)).is_err());
    assert!(s.order_cmd(BUYER, cancel(true)).is_err());
    s.order_cmd(AGENT, OrderCommand::Cancel { reason: "buyer asked the platform".into(), buyer_contacted: false })
        .unwrap();
    assert_eq!(s.order.cancellation.as_ref().unwrap().by, Party::Platform);
}

#[test]
fn o3_online_cancellation_rules() {
    let cancel = OrderCommand::Cancel { reason: "changed my mind".into(), buyer_contacted: false };
    // the merchant can never cancel an online order
    let mut w = World::new("douyin", Online, At::Unpaid);
    assert!(matches!(w.order_cmd(MERCHANT, cancel.clone()), Err(Refusal::NotAllowedFor { rule: "O3", .. })));
    // the buyer may cancel while awaiting payment
    w.order_cmd(BUYER, cancel.clone()).unwrap();
    assert_eq!(w.order.state, OrderState::Cancelled);
    // after payment the buyer goes through a refund before shipment instead
    let mut paid = World::new("douyin", Online, At::Paid);
    assert!(matches!(paid.order_cmd(BUYER, cancel), Err(Refusal::WrongState { rule: "O3", .. })));
    paid.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
}

#[test]
fn o4_unpaid_online_order_cancels_after_24h() {
    let mut w = World::new("douyin", Online, At::Unpaid);
    assert_eq!(w.deadline(K::OrderUnpaid), Some(T0 + Dur::hours(24)));
    w.advance(Dur::hours(24) - Dur::secs(1));
    assert!(w.fire_due().is_empty());
    w.advance(Dur::secs(1));
    assert_eq!(w.fire_due(), vec![K::OrderUnpaid]);
    assert_eq!(w.order.state, OrderState::Cancelled);
    assert_eq!(w.order.cancellation.as_ref().unwrap().by, Party::System);
    // paying one second later is refused and changes nothing
    w.advance(Dur::secs(1));
    let before = w.order.clone();
    assert!(w.order_cmd(SYSTEM, OrderCommand::Pay).is_err());
    assert_eq!(w.order, before);
}

// ------------------------------------------------------------------------------------------------
// Refund before shipment

#[test]
fn u1_buyer_applies_for_refund_before_shipment() {
    // given a paid, unshipped online order
    let mut w = World::new("douyin", Online, At::Paid);
    // when the buyer applies
    w.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    // then the case awaits review in the refund-before-shipment queue
    assert_eq!(w.status(), Status::AwaitingReview);
    assert_eq!(w.case().queue(), Queue::RefundUnshipped);
    // shipped orders and COD orders cannot take it
    let mut shipped = World::new("douyin", Online, At::Shipped);
    assert!(matches!(
        shipped.apply_for(CaseType::RefundUnshipped, cny(10)),
        Err(Refusal::WrongState { rule: "U1", .. })
    ));
    let mut cod = World::new("douyin", Cod, At::Paid);
    assert!(cod.apply_for(CaseType::RefundUnshipped, cny(10)).is_err());
}

#[test]
fn u2_merchant_silence_refunds_after_48h_with_a_near_deadline_reminder() {
    let mut w = World::new("douyin", Online, At::Paid);
    w.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    assert_eq!(w.deadline(K::Review), Some(T0 + Dur::hours(48)));
    // with 12h left the shop gets a near-deadline message, once
    w.advance(Dur::hours(36));
    assert_eq!(w.fire_due(), vec![K::ReviewReminder]);
    let reminder = w.log.last().unwrap().event.clone();
    let outbox = w.notices(&[reminder]);
    assert_eq!(outbox.notices[0].recipient, Recipient::Shop(ShopId(1)));
    assert!(w.fire_due().is_empty());
    // at 48h the system refunds and the order is cancelled
    w.advance(Dur::hours(12));
    assert_eq!(w.fire_due(), vec![K::Review]);
    assert_eq!(w.status(), Status::Refunding);
    assert_eq!(w.order.state, OrderState::Cancelled);
    assert_eq!(w.order.refunded, cny(110));
    // one second later the merchant's answer is refused with the deadline named
    w.advance(Dur::secs(1));
    let r = w.refused(MERCHANT, CaseCommand::Refund);
    assert!(matches!(r, Refusal::DeadlinePassed { kind: K::Review, .. }), "{r:?}");
}

#[test]
fn u3_refund_cancels_the_order_and_rejecting_means_shipping() {
    // refund: money back, order cancelled
    let mut w = World::new("douyin", Online, At::Paid);
    w.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    w.cmd(MERCHANT, CaseCommand::Refund).unwrap();
    assert_eq!(w.order.state, OrderState::Cancelled);
    assert_eq!(w.case().refund.as_ref().unwrap().amount, cny(110));
    // reject: only by shipping, with carrier and tracking number
    let mut w = World::new("douyin", Online, At::Paid);
    w.apply_for(CaseType::RefundUnshipped, cny(110)).unwrap();
    assert!(matches!(w.refused(MERCHANT, reject_cmd()), Refusal::WrongState { rule: "U3", .. }));
    w.cmd(MERCHANT, CaseCommand::RejectByShipping { logistics: logistics("YT9876543210") }).unwrap();
    assert_eq!(w.order.state, OrderState::Shipped);
    assert_eq!(w.order.shipment.as_ref().unwrap().tracking_no.as_str(), "YT9876543210");
    assert_eq!(w.status(), Status::Rejected { stage: Stage::Review });
}

// ------------------------------------------------------------------------------------------------
// Refund only

#[test]
fn s1_refund_only_queue() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    assert_eq!(w.case().queue(), Queue::RefundOnly);
}

#[test]
fn s2_refund_only_timeout_refunds() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    w.run_to(K::Review);
    assert_eq!(w.status(), Status::Refunding);
    assert_eq!(w.order.state, OrderState::Shipped, "a shipped order is not cancelled");
    let fired = w.log.iter().find(|r| matches!(r.event, Event::DeadlineFired { kind: K::Review, .. })).unwrap();
    assert_eq!(fired.actor, SYSTEM);
}

#[test]
fn s3_detail_shows_time_left_and_buyer_evidence() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    w.advance(Dur::hours(10));
    let d = w.case().governing_deadline(&w.policy).unwrap();
    assert_eq!((d.kind, d.due - w.now), (K::Review, Dur::hours(38)));
    assert_eq!(w.case().evidence, vec![(Party::Buyer, evidence(1))]);
    assert_eq!(w.case().description, "the bin arrived dented");
}

#[test]
fn s4_reject_needs_a_listed_reason_and_evidence() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    let no_evidence =
        CaseCommand::Reject { reason_code: "not_as_claimed".into(), explanation: String::new(), evidence: vec![] };
    assert_eq!(w.refused(MERCHANT, no_evidence).field(), Some("evidence"));
    let bad_reason = CaseCommand::Reject {
        reason_code: "i_dont_like_it".into(),
        explanation: String::new(),
        evidence: vec![evidence(2)],
    };
    assert_eq!(w.refused(MERCHANT, bad_reason).field(), Some("reason_code"));
    let wrong_stage = CaseCommand::Reject {
        reason_code: "missing_parts".into(),
        explanation: String::new(),
        evidence: vec![evidence(2)],
    };
    assert_eq!(w.refused(MERCHANT, wrong_stage).rule(), Some("S4"));
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    assert_eq!(w.status(), Status::Rejected { stage: Stage::Review });
    assert_eq!(w.case().rejection.as_ref().unwrap().evidence, vec![evidence(9)]);
}

// ------------------------------------------------------------------------------------------------
// Return and refund

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
    let mut cmd = Apply {
        kind: CaseType::ReturnRefund,
        reason: "damaged".into(),
        amount: cny(5),
        description: String::new(),
        evidence: vec![],
        refund_account: Some(account()),
    };
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

fn shipped_back(profile: &str, payment: PaymentMethod) -> World {
    let mut w = World::new(profile, payment, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let account = (payment == Cod).then(account);
    w.advance(Dur::hours(5));
    w.cmd(BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF3000000001"), refund_account: account })
        .unwrap();
    w
}

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
    assert!(matches!(s.refused(MERCHANT, CaseCommand::ExtendReceipt), Refusal::ExtendReceiptNotYetAllowed { .. }));
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
    w.advance(Dur::secs(1));
    assert!(matches!(
        w.refused(MERCHANT, CaseCommand::UploadVoucher { evidence: vec![evidence(4)] }),
        Refusal::DeadlinePassed { kind: K::Voucher, .. }
    ));
}

// ------------------------------------------------------------------------------------------------
// Workbench (core side)

#[test]
fn w1_every_state_has_a_queue() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    assert_eq!(w.case().queue(), Queue::ReturnReview);
    w.cmd(MERCHANT, CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(2), address: None }).unwrap();
    assert_eq!(w.case().queue(), Queue::NegotiationPending);
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    assert_eq!(w.case().queue(), Queue::InProgress);
    w.cmd(BUYER, CaseCommand::Escalate { reason: "it is dented".into() }).unwrap();
    assert_eq!(w.case().queue(), Queue::InArbitration);
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos of the packing".into() }).unwrap();
    assert_eq!(w.case().queue(), Queue::AwaitingEvidence);
    w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Merchant, reason: "packing was fine".into() }).unwrap();
    assert_eq!(w.case().queue(), Queue::Closed);
}

#[test]
fn w3_the_flag_belongs_to_the_order() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    let case_before = w.case().clone();
    w.order_cmd(MERCHANT, OrderCommand::SetFlag { flag: Some(Flag::Red) }).unwrap();
    assert_eq!(w.order.flag, Some(Flag::Red));
    assert_eq!(w.case(), &case_before, "the case has no flag of its own");
    assert!(w.order_cmd(BUYER, OrderCommand::SetFlag { flag: Some(Flag::Blue) }).is_err());
    assert_eq!(Flag::parse("purple"), Ok(Flag::Purple));
    assert!(Flag::parse("orange").is_err());
}

#[test]
fn w4_order_remark_and_case_remark_are_separate_fields() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(10)).unwrap();
    w.order_cmd(MERCHANT, OrderCommand::SetRemark { text: "VIP customer".into() }).unwrap();
    w.cmd(MERCHANT, CaseCommand::SetRemark { text: "called buyer 14:00".into() }).unwrap();
    assert_eq!(w.order.remark, "VIP customer");
    assert_eq!(w.case().remark, "called buyer 14:00");
    assert!(w.cmd(BUYER, CaseCommand::SetRemark { text: "x".into() }).is_err());
}

#[test]
fn w5_case_log_names_actor_time_inputs_and_the_fired_deadline() {
    let mut w = World::new("douyin", Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.advance(Dur::hours(1));
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: true }).unwrap();
    w.run_to(K::BuyerShip);
    let case_log: Vec<&Recorded> = w.log.iter().filter(|r| r.event.is_case_event()).collect();
    assert!(matches!(case_log[0], Recorded { actor: BUYER, event: Event::Applied { .. }, at } if *at == T0));
    assert!(matches!(
        case_log[1],
        Recorded { actor: MERCHANT, event: Event::ReturnAgreed { refuse_freight_collect: true, .. }, .. }
    ));
    assert!(matches!(case_log[2].event, Event::DeadlineFired { kind: K::BuyerShip, .. }));
    assert_eq!(case_log[2].actor, SYSTEM);
    assert!(case_log.windows(2).all(|p| p[0].at <= p[1].at));
    // replaying the log rebuilds the state
    let order = Order::replay(&w.log).unwrap();
    assert_eq!(order, w.order);
    assert_eq!(Case::replay(&order, case_log.into_iter()).as_ref(), w.case.as_ref());
}

// ------------------------------------------------------------------------------------------------
// Arbitration

fn rejected(profile: &str) -> World {
    let mut w = World::new(profile, Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    w
}

#[test]
fn e1_buyer_may_ask_for_intervention_after_a_rejection() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    assert!(matches!(w.refused(BUYER, CaseCommand::Escalate { reason: "x".into() }), Refusal::WrongState { .. }));
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    w.cmd(BUYER, CaseCommand::Escalate { reason: "the item is broken".into() }).unwrap();
    assert_eq!(w.status(), Status::InArbitration);
    assert_eq!(w.case().arbitration.as_ref().unwrap().opened_by, Party::Buyer);
}

#[test]
fn e2_evidence_timeout_rules_for_the_buyer() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "show the shipping photos".into() }).unwrap();
    assert_eq!(w.deadline(K::Evidence), Some(w.now + Dur::hours(24)));
    w.run_to(K::Evidence);
    let ruling = w.case().arbitration.as_ref().unwrap().ruling.clone().unwrap();
    assert_eq!((ruling.for_party, ruling.agent), (Party::Buyer, None));
    assert_eq!(w.status(), Status::Refunding);
    w.advance(Dur::secs(1));
    let late = CaseCommand::SubmitEvidence { explanation: "here".into(), evidence: vec![evidence(3)] };
    assert!(matches!(w.refused(MERCHANT, late), Refusal::DeadlinePassed { kind: K::Evidence, .. }));
}

#[test]
fn e3_awaiting_evidence_queue_shows_time_left_and_takes_submission() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
    assert_eq!(w.case().queue(), Queue::AwaitingEvidence);
    w.advance(Dur::hours(3));
    let d = w.case().governing_deadline(&w.policy).unwrap();
    assert_eq!((d.kind, d.due - w.now), (K::Evidence, Dur::hours(21)));
    let missing = CaseCommand::SubmitEvidence { explanation: " ".into(), evidence: vec![] };
    assert_eq!(w.refused(MERCHANT, missing).field(), Some("explanation"));
    w.cmd(MERCHANT, CaseCommand::SubmitEvidence { explanation: "packed intact".into(), evidence: vec![evidence(5)] })
        .unwrap();
    assert_eq!(w.case().queue(), Queue::InArbitration);
    assert_eq!(w.deadline(K::Evidence), None);
}

#[test]
fn e4_evidence_request_and_submission_appear_in_the_log() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
    w.cmd(MERCHANT, CaseCommand::SubmitEvidence { explanation: "packed intact".into(), evidence: vec![evidence(5)] })
        .unwrap();
    let names: Vec<(&str, Party)> = w.log.iter().map(|r| (r.event.name(), r.actor.party())).collect();
    assert!(names.contains(&("evidence_requested", Party::Platform)));
    assert!(names.contains(&("evidence_submitted", Party::Merchant)));
}

#[test]
fn e5_evidence_reminder_at_12h_left_goes_to_the_shop_message_box() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::RequestEvidence { instructions: "photos".into() }).unwrap();
    w.advance(Dur::hours(12) - Dur::secs(1));
    assert!(w.fire_due().is_empty());
    w.advance(Dur::secs(1));
    assert_eq!(w.fire_due(), vec![K::EvidenceReminder]);
    let last = w.log.last().unwrap().event.clone();
    let out = w.notices(&[last]);
    assert_eq!(out.notices.len(), 1);
    assert_eq!(
        (out.notices[0].recipient, out.notices[0].category),
        (Recipient::Shop(ShopId(1)), notice::Category::AfterSales)
    );
    // once only
    w.advance(Dur::hours(1));
    assert!(w.fire_due().is_empty());
}

#[test]
fn e6_the_agent_rules_and_both_sides_see_it() {
    // for the buyer: the request is carried out
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    let ev = w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "photos show damage".into() }).unwrap();
    assert_eq!(w.status(), Status::Refunding);
    let out = w.notices(&ev);
    for who in [Recipient::Shop(ShopId(1)), Recipient::Buyer(BuyerId(7))] {
        assert!(out.notices.iter().any(|n| n.recipient == who && n.body == "photos show damage"));
    }
    // for the merchant: closed as rejected
    let mut m = rejected("douyin");
    m.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    m.cmd(AGENT, CaseCommand::Rule { for_party: Party::Merchant, reason: "no damage".into() }).unwrap();
    assert_eq!(m.status(), Status::Closed { reason: CloseReason::RuledForMerchant });
    // a return rejected at review, ruled for the buyer: the return is agreed
    let mut r = World::new("douyin", Online, At::Delivered);
    r.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    r.cmd(MERCHANT, reject_cmd()).unwrap();
    r.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    r.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "ok".into() }).unwrap();
    assert_eq!(r.status(), Status::AwaitingBuyerReturn);
    // only agents rule
    assert!(matches!(
        m.cmd(MERCHANT, CaseCommand::Rule { for_party: Party::Merchant, reason: "x".into() }),
        Err(Refusal::NotAllowedFor { .. })
    ));
}

// ------------------------------------------------------------------------------------------------
// Negotiation

fn return_case(profile: &str) -> World {
    let mut w = World::new(profile, Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w
}

fn propose_partial() -> CaseCommand {
    CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(2), address: None }
}

#[test]
fn n1_negotiation_only_for_non_fresh_goods_awaiting_review() {
    let mut fresh = World::with_order("taote", Online, At::Delivered, true);
    fresh.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    assert!(matches!(fresh.refused(MERCHANT, propose_partial()), Refusal::NegotiationNotAvailable { .. }));
    let mut w = return_case("taote");
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    assert!(matches!(w.refused(MERCHANT, propose_partial()), Refusal::WrongState { .. }));
}

#[test]
fn n2_proposal_changes_type_and_amount() {
    // return → partial refund only, below the request
    let mut w = return_case("taote");
    assert_eq!(
        w.refused(MERCHANT, CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(100), address: None })
            .rule(),
        Some("N2")
    );
    w.cmd(MERCHANT, propose_partial()).unwrap();
    assert_eq!(w.case().open_proposal().unwrap().amount, cny(2));
    // refund only → return and refund, needs an address
    let mut r = World::new("taote", Online, At::Delivered);
    r.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    assert_eq!(
        r.refused(MERCHANT, CaseCommand::Propose { kind: CaseType::ReturnRefund, amount: cny(50), address: None })
            .field(),
        Some("address")
    );
    r.cmd(MERCHANT, CaseCommand::Propose { kind: CaseType::ReturnRefund, amount: cny(50), address: Some(address(2)) })
        .unwrap();
    r.cmd(BUYER, CaseCommand::AcceptProposal).unwrap();
    assert_eq!(r.status(), Status::AwaitingBuyerReturn);
    assert_eq!(r.case().return_address, Some(address(2)));
}

#[test]
fn n3_one_proposal_per_case_ever() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.cmd(BUYER, CaseCommand::DeclineProposal).unwrap();
    assert_eq!(w.refused(MERCHANT, propose_partial()), Refusal::NegotiationUsed);
}

#[test]
fn n4_buyer_sees_the_proposal_and_answers_it() {
    let mut w = return_case("taote");
    let ev = w.cmd(MERCHANT, propose_partial()).unwrap();
    let out = w.notices(&ev);
    assert!(out.notices.iter().any(|n| n.recipient == Recipient::Buyer(BuyerId(7))
        && n.body.contains("refund_only")
        && n.body.contains("2.00 CNY")));
    assert!(available_actions(&w.order, w.case(), &BUYER, &w.ctx()).contains(&Action::AcceptProposal));
    assert!(matches!(w.refused(MERCHANT, CaseCommand::AcceptProposal), Refusal::NotAllowedFor { .. }));
    assert!(matches!(w.refused(OTHER_BUYER, CaseCommand::AcceptProposal), Refusal::NotAllowedFor { .. }));
}

#[test]
fn n5_acceptance_changes_the_case_and_agrees_it() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.cmd(BUYER, CaseCommand::AcceptProposal).unwrap();
    assert_eq!((w.case().kind, w.case().amount), (CaseType::RefundOnly, cny(2)));
    assert_eq!(w.case().refund.as_ref().unwrap().amount, cny(2));
    assert_eq!(w.status(), Status::Refunding);
}

#[test]
fn n6_open_proposal_keeps_the_review_deadline_and_a_merchant_decision_withdraws_it() {
    let mut w = return_case("taote");
    let due = w.deadline(K::Review).unwrap();
    w.advance(Dur::hours(1));
    w.cmd(MERCHANT, propose_partial()).unwrap();
    assert_eq!(w.status(), Status::AwaitingReview);
    assert_eq!(w.deadline(K::Review), Some(due));
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    assert_eq!(w.case().proposal.as_ref().unwrap().state, ProposalState::Withdrawn);
    assert_eq!(w.status(), Status::AwaitingBuyerReturn);
}

#[test]
fn n7_declined_proposal_leaves_the_decision_to_the_merchant() {
    let mut w = return_case("taote");
    let due = w.deadline(K::Review).unwrap();
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.cmd(BUYER, CaseCommand::DeclineProposal).unwrap();
    assert_eq!(w.status(), Status::AwaitingReview);
    assert_eq!(w.case().queue(), Queue::ReturnReview);
    assert_eq!(w.deadline(K::Review), Some(due));
    w.cmd(MERCHANT, CaseCommand::Refund).unwrap();
}

#[test]
fn n8_unanswered_proposal_lapses_and_the_original_request_is_agreed() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    assert_eq!(w.deadline(K::Review), Some(T0 + Dur::hours(36)));
    w.run_to(K::Review);
    assert_eq!(w.case().proposal.as_ref().unwrap().state, ProposalState::Lapsed);
    assert_eq!((w.status(), w.case().kind), (Status::AwaitingBuyerReturn, CaseType::ReturnRefund));
    w.advance(Dur::secs(1));
    assert!(matches!(w.refused(BUYER, CaseCommand::AcceptProposal), Refusal::DeadlinePassed { kind: K::Review, .. }));
}

#[test]
fn seed003_scenario1_accepted_within_36h_refunds_2_yuan() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.advance(Dur::hours(35));
    w.cmd(BUYER, CaseCommand::AcceptProposal).unwrap();
    w.run_to(K::RefundSettle);
    assert_eq!(w.status(), Status::Completed);
    assert_eq!(w.order.refunded, cny(2));
}

#[test]
fn seed003_scenario2_declined_merchant_still_decides_within_36h() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.advance(Dur::hours(10));
    w.cmd(BUYER, CaseCommand::DeclineProposal).unwrap();
    assert_eq!(w.deadline(K::Review), Some(T0 + Dur::hours(36)));
    w.advance(Dur::hours(20));
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    assert_eq!(w.status(), Status::AwaitingBuyerReturn);
}

#[test]
fn seed003_scenario3_silence_agrees_the_return() {
    let mut w = return_case("taote");
    w.cmd(MERCHANT, propose_partial()).unwrap();
    w.advance(Dur::hours(36));
    assert_eq!(w.fire_due(), vec![K::ReviewReminder, K::Review]);
    assert_eq!(w.status(), Status::AwaitingBuyerReturn);
    assert_eq!(w.order.refunded, Money::cny(0));
}

// ------------------------------------------------------------------------------------------------
// Applications, disputes and appeals

#[test]
fn t1_application_carries_its_fields_and_both_sides_add_evidence() {
    let mut w = World::new("douyin", Online, At::Shipped);
    let bad = Apply {
        kind: CaseType::RefundOnly,
        reason: "whatever".into(),
        amount: cny(5),
        description: String::new(),
        evidence: vec![],
        refund_account: None,
    };
    assert_eq!(w.apply_with(bad).unwrap_err().field(), Some("reason"));
    w.apply_for(CaseType::RefundOnly, cny(20)).unwrap();
    let c = w.case();
    assert_eq!((c.kind, c.reason.as_str(), c.amount), (CaseType::RefundOnly, "damaged", cny(20)));
    w.cmd(MERCHANT, CaseCommand::AddEvidence { evidence: vec![evidence(6)] }).unwrap();
    w.cmd(BUYER, CaseCommand::AddEvidence { evidence: vec![evidence(7)] }).unwrap();
    let parties: Vec<Party> = w.case().evidence.iter().map(|(p, _)| *p).collect();
    assert_eq!(parties, vec![Party::Buyer, Party::Merchant, Party::Buyer]);
    // one open case per order
    assert!(matches!(w.apply_for(CaseType::RefundOnly, cny(1)), Err(Refusal::CaseAlreadyOpen { .. })));
    // another shop cannot touch it
    assert!(matches!(
        w.refused(OTHER_SHOP, CaseCommand::AddEvidence { evidence: vec![evidence(6)] }),
        Refusal::NotAllowedFor { .. }
    ));
}

#[test]
fn t2_message_thread_between_buyer_and_merchant() {
    let mut w = World::new("douyin", Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(20)).unwrap();
    let ev = w.cmd(BUYER, CaseCommand::PostMessage { text: "can you refund 10?".into() }).unwrap();
    assert_eq!(w.notices(&ev).notices[0].recipient, Recipient::Shop(ShopId(1)));
    w.cmd(MERCHANT, CaseCommand::PostMessage { text: "yes".into() }).unwrap();
    let from: Vec<Party> = w.case().thread.iter().map(|m| m.from).collect();
    assert_eq!(from, vec![Party::Buyer, Party::Merchant]);
    assert!(matches!(w.refused(AGENT, CaseCommand::PostMessage { text: "hi".into() }), Refusal::NotAllowedFor { .. }));
    assert_eq!(w.refused(BUYER, CaseCommand::PostMessage { text: "".into() }).field(), Some("text"));
}

#[test]
fn t3_either_side_may_escalate() {
    let mut w = rejected("douyin");
    w.cmd(MERCHANT, CaseCommand::Escalate { reason: "buyer keeps asking".into() }).unwrap();
    assert_eq!(w.case().arbitration.as_ref().unwrap().opened_by, Party::Merchant);
    let mut r = shipped_back("douyin", Online);
    r.cmd(MERCHANT, CaseCommand::Escalate { reason: "empty parcel".into() }).unwrap();
    r.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "parcel weight matches".into() }).unwrap();
    assert!(r.log.iter().any(|x| x.event == Event::ReceiptConfirmed));
}

#[test]
fn t4_appeal_within_the_window_with_its_states() {
    let mut w = rejected("douyin");
    w.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "damage shown".into() }).unwrap();
    w.run_to(K::RefundSettle);
    assert_eq!(w.status(), Status::Completed);
    assert!(!w.case().is_finished(), "the appeal window is open");
    let appeal = CaseCommand::Appeal { text: "the photos are of another item".into(), evidence: vec![evidence(10)] };
    w.cmd(MERCHANT, appeal.clone()).unwrap();
    assert_eq!(w.case().appeal.as_ref().unwrap().state, AppealState::Submitted);
    w.cmd(AGENT, CaseCommand::ReviewAppeal).unwrap();
    assert_eq!(w.case().appeal.as_ref().unwrap().state, AppealState::UnderReview);
    let ev = w.cmd(AGENT, CaseCommand::DecideAppeal { upheld: true, reason: "confirmed".into() }).unwrap();
    assert_eq!(w.case().appeal.as_ref().unwrap().state, AppealState::Upheld);
    assert!(w.notices(&ev).notices.iter().any(|n| n.category == notice::Category::Appeal));
    assert!(w.case().is_finished());
    // the window closes after 7 days
    let mut late = rejected("douyin");
    late.cmd(BUYER, CaseCommand::Escalate { reason: "broken".into() }).unwrap();
    late.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "damage".into() }).unwrap();
    let window = late.deadline(K::AppealWindow).unwrap();
    assert_eq!(window, late.now + Dur::days(7));
    late.now = window;
    late.fire_due();
    late.advance(Dur::secs(1));
    assert!(late.case().is_finished());
    assert!(late.cmd(MERCHANT, appeal).is_err());
}

// ------------------------------------------------------------------------------------------------
// Buyer side

#[test]
fn b1_buyer_may_withdraw_before_completion() {
    for stage in 0..4 {
        let mut w = shipped_back("douyin", Online);
        if stage >= 1 {
            w.cmd(MERCHANT, receipt_reject_cmd()).unwrap();
        }
        if stage >= 2 {
            w.cmd(BUYER, CaseCommand::Escalate { reason: "x".into() }).unwrap();
        }
        if stage == 3 {
            w.cmd(AGENT, CaseCommand::Rule { for_party: Party::Buyer, reason: "ok".into() }).unwrap();
            assert_eq!(w.status(), Status::Refunding);
            assert!(matches!(w.refused(BUYER, CaseCommand::Withdraw), Refusal::WrongState { rule: "B1", .. }));
            continue;
        }
        w.cmd(BUYER, CaseCommand::Withdraw).unwrap();
        assert_eq!(w.status(), Status::Closed { reason: CloseReason::Withdrawn });
        assert_eq!(w.order.open_case, None);
    }
}

#[test]
fn b2_after_rejection_the_buyer_revises_once_or_escalates_within_7_days() {
    let mut w = rejected("douyin");
    assert_eq!(w.deadline(K::BuyerAfterRejection), Some(w.now + Dur::days(7)));
    let revise = CaseCommand::Resubmit {
        kind: CaseType::RefundOnly,
        reason: "damaged".into(),
        amount: cny(30),
        description: "more photos".into(),
        evidence: vec![evidence(11)],
    };
    w.cmd(BUYER, revise.clone()).unwrap();
    assert_eq!((w.status(), w.case().amount), (Status::AwaitingReview, cny(30)));
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    assert_eq!(w.refused(BUYER, revise), Refusal::ResubmissionUsed { allowed: 1 });
    // silence closes it
    w.run_to(K::BuyerAfterRejection);
    assert_eq!(w.status(), Status::Closed { reason: CloseReason::RejectionNotContested });
    w.advance(Dur::secs(1));
    assert!(matches!(
        w.refused(BUYER, CaseCommand::Escalate { reason: "late".into() }),
        Refusal::DeadlinePassed { kind: K::BuyerAfterRejection, .. }
    ));
    // tiktok_shop gives 48 hours
    let t = rejected("tiktok_shop");
    assert_eq!(t.deadline(K::BuyerAfterRejection), Some(t.now + Dur::hours(48)));
}

#[test]
fn b3_refunds_never_exceed_paid_minus_refunded() {
    let mut w = World::new("douyin", Online, At::Paid);
    assert!(matches!(w.apply_for(CaseType::RefundUnshipped, cny(111)), Err(Refusal::AmountAboveRefundable { .. })));
    for bad in [0, -5] {
        assert!(w.apply_for(CaseType::RefundUnshipped, Money { minor: bad, currency: Currency::CNY }).is_err());
    }
    assert!(w.apply_for(CaseType::RefundUnshipped, Money { minor: 100, currency: Currency::USD }).is_err());
    // after a partial refund, a second case may ask only for the rest
    let mut d = World::new("douyin", Online, At::Delivered);
    d.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    d.cmd(MERCHANT, propose_partial()).unwrap();
    d.cmd(BUYER, CaseCommand::AcceptProposal).unwrap();
    d.case = None;
    assert_eq!(d.order.refundable(CaseType::RefundOnly), cny(98));
    assert!(matches!(d.apply_for(CaseType::RefundOnly, cny(99)), Err(Refusal::AmountAboveRefundable { .. })));
    d.apply_for(CaseType::RefundOnly, cny(98)).unwrap();
}

// ------------------------------------------------------------------------------------------------
// Messages and notices

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

// ------------------------------------------------------------------------------------------------
// Every deadline of the table, on each profile

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

// ------------------------------------------------------------------------------------------------
// Property test: random commands from all four actors and clock moves keep the invariants.

mod properties {
    use super::*;
    use proptest::prelude::*;

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
            3 => (
                BUYER,
                CaseCommand::SubmitReturnLogistics { logistics: logistics("SF9000000001"), refund_account: None },
            ),
            4 => (BUYER, CaseCommand::AcceptProposal),
            5 => (BUYER, CaseCommand::DeclineProposal),
            6 => (BUYER, CaseCommand::PostMessage { text: "hello".into() }),
            7 => (MERCHANT, CaseCommand::Refund),
            8 => (MERCHANT, reject_cmd()),
            9 => (MERCHANT, receipt_reject_cmd()),
            10 => (
                MERCHANT,
                CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: n.is_multiple_of(2) },
            ),
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
                prop_assert!(w.order.refunded.minor <= paid.minor);
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
}
