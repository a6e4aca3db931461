//! The test application: a fresh database per test, a manual clock, two shops.
//!
//! The backend: SQLite (a file in a temporary directory) unless `AFTERSALE_TEST_DATABASE_URL`
//! names a PostgreSQL database, in which case each test gets a schema of its own there. The
//! same tests are the contract both backends keep.

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
    pub db: TestDb,
    pub clock: ManualClock,
    pub engine: Arc<Engine>,
    pub store: Arc<dyn Store>,
}

/// Where a test's data lives.
#[derive(Clone, Debug)]
pub enum TestDb {
    Sqlite(std::path::PathBuf),
    /// A URL whose search path is the test's own schema.
    Postgres(String),
}

/// The PostgreSQL database the suite runs on, if one is named.
pub fn postgres_url() -> Option<String> {
    std::env::var("AFTERSALE_TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"))
}

/// A fresh place for one test's data.
pub fn fresh_db(dir: &tempfile::TempDir) -> TestDb {
    match postgres_url() {
        Some(url) => TestDb::Postgres(aftersale_engine::store::postgres::fresh_schema(&url, "engine").unwrap()),
        None => TestDb::Sqlite(dir.path().join("aftersale.db")),
    }
}

impl TestDb {
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(p) => format!("sqlite://{}", p.display()),
            TestDb::Postgres(u) => u.clone(),
        }
    }

    pub fn open(&self) -> Arc<dyn Store> {
        let url = aftersale_engine::store::url::DatabaseUrl::parse(&self.url()).unwrap();
        aftersale_engine::store::url::open(&url, &Default::default()).unwrap()
    }

    /// Runs plain SQL (what no store method does: tampering, for tests of refusals).
    pub fn exec(&self, sql: &str) {
        match self {
            TestDb::Sqlite(p) => rusqlite::Connection::open(p).unwrap().execute_batch(sql).unwrap(),
            TestDb::Postgres(u) => postgres::Client::connect(u, postgres::NoTls).unwrap().batch_execute(sql).unwrap(),
        }
    }

    /// A number from plain SQL (what no store method shows: every row of a table).
    pub fn count(&self, sql: &str) -> i64 {
        match self {
            TestDb::Sqlite(p) => rusqlite::Connection::open(p).unwrap().query_row(sql, [], |r| r.get(0)).unwrap(),
            TestDb::Postgres(u) => {
                let mut c = postgres::Client::connect(u, postgres::NoTls).unwrap();
                c.query_one(&format!("SELECT ({sql})::bigint"), &[]).unwrap().get(0)
            }
        }
    }
}

pub fn open_db(dir: tempfile::TempDir, db: TestDb, clock: ManualClock) -> App {
    open_with(dir, db, clock, Arc::new(BuiltinGateway))
}

/// `open_db` with refunds paid through `gateway`.
pub fn open_with(dir: tempfile::TempDir, db: TestDb, clock: ManualClock, gateway: Arc<dyn PaymentGateway>) -> App {
    let store = db.open();
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(clock.clone()), gateway));
    App { _dir: dir, db, clock, engine, store }
}

pub fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(&dir);
    app_on(dir, db)
}

/// `app` on a given database.
pub fn app_on(dir: tempfile::TempDir, db: TestDb) -> App {
    app_paying(dir, db, Arc::new(BuiltinGateway))
}

/// `app` with refunds paid through `gateway`.
pub fn app_paying(dir: tempfile::TempDir, db: TestDb, gateway: Arc<dyn PaymentGateway>) -> App {
    let a = open_with(dir, db, ManualClock::new(T0), gateway);
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
        let App { _dir, db, clock, engine, store } = self;
        drop(engine);
        store.close();
        drop(store);
        open_db(_dir, db, clock)
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
            lines: vec![],
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
        self.db.count("SELECT COUNT(*) FROM events")
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
        lines: vec![],
    }
}

/// A fresh app with one delivered online order and a refund-only case of 10 yuan on it.
pub fn refund_only_case(no: &str) -> (App, Order, Case) {
    let a = app();
    let o = a.order(no, PaymentMethod::Online, true);
    let c = a.apply(o.id, CaseType::RefundOnly, 10);
    (a, o, c)
}
