//! The test harness: a world of one order and its case on a clock the test moves, the actors,
//! and builders for common starting points. Fires deadlines as the runner would.

use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;

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
        // Every world's amounts are yuan (`cny`), whichever profile it runs; that an order in
        // another currency than its profile's is refused has a test of its own (O1).
        let policy = Policy { currency: Currency::CNY, ..Policy::profile(profile).unwrap() };
        let new = NewOrder {
            order_no: "DY20261123001".into(),
            buyer_id: BuyerId(7),
            payment,
            total: cny(110),
            shipping_fee: cny(10),
            fresh,
            customer_name: "王小明".into(),
            customer_phone: Phone::parse("13800131234").unwrap(),
            lines: vec![],
        };
        let ctx = Ctx { policy: &policy, now: T0, default_address: None };
        let events = create_order(OrderId(100), ShopId(1), &new, &ctx).unwrap();
        let log: Vec<Recorded> = events.into_iter().map(|event| Recorded { at: T0, actor: MERCHANT, event }).collect();
        let order = Order::replay(&log).unwrap();
        let mut w = World { policy, now: T0, order, case: None, log, default_address: Some(address(1)), fired: vec![] };
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
            lines: vec![],
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

    /// What `actor` may do on the case now (`available_actions`).
    pub fn available(&self, actor: Actor) -> Vec<Action> {
        available_actions(&self.order, self.case(), &actor, &self.ctx())
    }

    /// The rules' gate for one action of `actor`.
    pub fn gate(&self, actor: Actor, action: Action) -> Result<(), Refusal> {
        gate(&self.order, self.case(), action, &actor, &self.ctx())
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
    /// A deadline that is still live after it fired (a decision that changed nothing) fails
    /// the test at once instead of firing again forever.
    pub fn fire_due(&mut self) -> Vec<DeadlineKind> {
        let mut fired: Vec<DeadlineKind> = vec![];
        let mut seen: Vec<(DeadlineKind, Timestamp)> = vec![];
        loop {
            assert!(fired.len() < 64, "more than 64 deadlines fired in one pass: {fired:?}");
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
            assert!(!seen.contains(&(d.kind, d.due)), "{:?} due {:?} is still live after it fired", d.kind, d.due);
            seen.push((d.kind, d.due));
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

pub fn shipped_back(profile: &str, payment: PaymentMethod) -> World {
    let mut w = World::new(profile, payment, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w.cmd(MERCHANT, CaseCommand::AgreeReturn { address: address(1), refuse_freight_collect: false }).unwrap();
    let account = (payment == PaymentMethod::Cod).then(account);
    w.advance(Dur::hours(5));
    w.cmd(BUYER, CaseCommand::SubmitReturnLogistics { logistics: logistics("SF3000000001"), refund_account: account })
        .unwrap();
    w
}

pub fn rejected(profile: &str) -> World {
    let mut w = World::new(profile, PaymentMethod::Online, At::Shipped);
    w.apply_for(CaseType::RefundOnly, cny(50)).unwrap();
    w.cmd(MERCHANT, reject_cmd()).unwrap();
    w
}

pub fn return_case(profile: &str) -> World {
    let mut w = World::new(profile, PaymentMethod::Online, At::Delivered);
    w.apply_for(CaseType::ReturnRefund, cny(100)).unwrap();
    w
}

pub fn propose_partial() -> CaseCommand {
    CaseCommand::Propose { kind: CaseType::RefundOnly, amount: cny(2), address: None }
}

/// A bare application: a reason from the list, no description, evidence or refund account.
pub fn application(kind: CaseType, amount: Money) -> Apply {
    Apply {
        kind,
        reason: "damaged".into(),
        amount,
        description: String::new(),
        evidence: vec![],
        refund_account: None,
        lines: vec![],
    }
}

/// A revision after a rejection (B2) with a listed reason and nothing else.
pub fn revision(kind: CaseType, amount: Money, evidence: Vec<Evidence>) -> CaseCommand {
    CaseCommand::Resubmit { kind, reason: "damaged".into(), amount, description: String::new(), evidence }
}
