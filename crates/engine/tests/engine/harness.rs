//! The test application: a fresh SQLite file per test, a manual clock, two shops.

use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;
use std::sync::Arc;

pub const BUYER: Actor = Actor::Buyer { buyer: BuyerId(7) };
pub const MERCHANT: Actor = Actor::Merchant { shop: ShopId(1), staff: StaffId(11) };
pub const OTHER_SHOP: Actor = Actor::Merchant { shop: ShopId(2), staff: StaffId(21) };
pub const AGENT: Actor = Actor::Platform { agent: AgentId(31) };
pub const T0: Timestamp = Timestamp(1_795_424_400_000);

pub struct App {
    pub _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
    pub clock: ManualClock,
    pub engine: Arc<Engine>,
    pub store: Arc<SqliteStore>,
}

pub fn open_at(dir: tempfile::TempDir, clock: ManualClock) -> App {
    let path = dir.path().join("aftersale.db");
    let store = Arc::new(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(clock.clone()), Arc::new(BuiltinGateway)));
    App { _dir: dir, path, clock, engine, store }
}

pub fn app() -> App {
    let a = open_at(tempfile::tempdir().unwrap(), ManualClock::new(T0));
    let shop = a.engine.create_shop("Shop one", "douyin", PolicyOverrides::default()).unwrap();
    assert_eq!(shop.id, ShopId(1));
    a.engine.create_shop("Shop two", "douyin", PolicyOverrides::default()).unwrap();
    a.engine
        .add_address(
            shop.id,
            AddressInput {
                name: "退货仓".into(),
                phone: Phone::parse("13900001111").unwrap(),
                region: "浙江省杭州市".into(),
                detail: "余杭区 1 号".into(),
                is_default: true,
            },
        )
        .unwrap();
    a
}

impl App {
    pub fn reopen(self) -> App {
        let App { _dir, clock, engine, store, .. } = self;
        drop(engine);
        store.close();
        drop(store);
        open_at(_dir, clock)
    }

    pub fn order(&self, no: &str, payment: PaymentMethod, delivered: bool) -> Order {
        let o = self.engine.create_order(MERCHANT, ShopId(1), new_order(no, payment), None).unwrap();
        if payment == PaymentMethod::Online {
            self.engine.order_command(Actor::System, o.id, OrderCommand::Pay, None, None).unwrap();
        }
        let mut o = o;
        if delivered {
            let logistics = Logistics {
                carrier: Carrier::parse("SF").unwrap(),
                tracking_no: TrackingNo::parse("SF1000000001").unwrap(),
            };
            self.engine.order_command(MERCHANT, o.id, OrderCommand::Ship { logistics }, None, None).unwrap();
            o = self.engine.order_command(Actor::System, o.id, OrderCommand::Deliver, None, None).unwrap();
        }
        o
    }

    pub fn apply(&self, order: OrderId, kind: CaseType, yuan: i64) -> Case {
        let cmd = Apply {
            kind,
            reason: "damaged".into(),
            amount: Money::cny(yuan * 100),
            description: String::new(),
            evidence: vec![],
            refund_account: None,
        };
        self.engine.apply(BUYER, order, cmd, None).unwrap()
    }

    pub fn case(&self, id: CaseId) -> Case {
        self.engine.read(|tx| tx.case(id)).unwrap().unwrap()
    }

    pub fn runner(&self) -> Runner {
        Runner::new(self.engine.clone())
    }

    pub fn event_count(&self) -> i64 {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0)).unwrap()
    }
}

/// Buyer 7's order of 110 yuan (10 of them shipping) in shop 1.
pub fn new_order(no: &str, payment: PaymentMethod) -> NewOrder {
    NewOrder {
        order_no: no.into(),
        buyer_id: BuyerId(7),
        payment,
        total: Money::cny(11_000),
        shipping_fee: Money::cny(1_000),
        fresh: false,
        customer_name: "王小明".into(),
        customer_phone: Phone::parse("13800131234").unwrap(),
    }
}

/// A fresh app with one delivered online order and a refund-only case of 10 yuan on it.
pub fn refund_only_case(no: &str) -> (App, Order, Case) {
    let a = app();
    let o = a.order(no, PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    (a, o, c)
}
