//! `aftersale bench`: the engine's throughput next to the raw SQLite ceiling measured in the same
//! run, on files with the same pragmas (WAL, `synchronous=FULL`).
//!
//! - commands: a realistic mix of flows (return: apply → agree → buyer ships → received, refund;
//!   refund before shipment: apply → refund), one transaction per command, one client;
//! - group commands: the same mix from many clients at once, sharing commits;
//! - raw: a bare transaction doing the same row writes per command as that mix (read the case,
//!   update it, insert one event, insert and delete one deadline; and, as often as the mix does,
//!   rewrite the order row, insert a notice, insert an SMS: see `Extras`), one per commit and
//!   grouped;
//! - deadline firings: N due review deadlines fired by the runner, against a raw loop doing the
//!   same row writes per firing in batches of the same size.

pub(crate) use crate::bench_raw::*;
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::store::{AddressInput, Subject};
use aftersale_engine::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Run on this database instead of SQLite files: `postgres://USER@HOST/DB` (each run makes
    /// fresh schemas in it).
    #[arg(long)]
    pub(crate) database: Option<String>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Directory for the benchmark's database files (emptied first).
    #[arg(long, default_value = "data/bench")]
    pub(crate) dir: PathBuf,
    /// Commands for the one-transaction-per-command runs.
    #[arg(long, default_value_t = 3_000)]
    pub(crate) commands: usize,
    /// Commands for the group-commit run.
    #[arg(long, default_value_t = 30_000)]
    pub(crate) group_commands: usize,
    /// Concurrent clients in the group-commit run.
    #[arg(long, default_value_t = 64)]
    pub(crate) clients: usize,
    /// Due deadlines to fire.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) deadlines: usize,
    /// Rows the runner fires per transaction.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) firing_batch: usize,
    /// Page cache per write connection, in MiB, for the engine and the raw loops alike.
    #[arg(long, default_value_t = 32)]
    pub(crate) cache_mb: u32,
    /// Keep the database files afterwards.
    #[arg(long)]
    pub(crate) keep: bool,
}

pub(crate) const T0: Timestamp = Timestamp(1_795_424_400_000);

/// Lines per seeded order (L1; `--lines`): 1 is an order as ingested without lines. With more,
/// each order has that many lines of 1–3 units and each seeded case names one unit of line 1.
pub(crate) static LINES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

fn lines_per_order() -> u32 {
    LINES.load(std::sync::atomic::Ordering::Relaxed).max(1)
}
pub(crate) const MERCHANT: Actor = Actor::Merchant { shop: ShopId(1), staff: StaffId(1) };

/// A database file name not used before in this run.
pub(crate) fn fresh(dir: &Path, label: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    dir.join(format!("{n}-{label}.db"))
}

pub(crate) fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// The page cache every connection of the run gets (engine and raw alike), from `--cache-mb`.
static CACHE_MB: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(32);

pub(crate) fn cache_mb() -> u32 {
    CACHE_MB.load(std::sync::atomic::Ordering::Relaxed)
}

pub(crate) struct Setup {
    pub(crate) engine: Arc<Engine>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) address: Address,
    pub(crate) clock: ManualClock,
}

pub(crate) fn setup(path: &Path, max_batch: usize) -> Result<Setup, String> {
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(
            path,
            SqliteOptions { max_batch, synchronous_full: true, cache_mb: cache_mb(), ..SqliteOptions::default() },
        )
        .map_err(err)?,
    );
    setup_on(store)
}

/// The bench's shop, address and engine on a store opened by the caller (SQLite or PostgreSQL).
pub(crate) fn setup_on(store: Arc<dyn Store>) -> Result<Setup, String> {
    let clock = ManualClock::new(T0);
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(clock.clone()), Arc::new(BuiltinGateway)));
    let shop = engine.create_shop("Bench shop", "douyin", PolicyOverrides::default()).map_err(err)?;
    let address = engine
        .add_address(
            shop.id,
            AddressInput {
                name: "退货仓".into(),
                phone: Phone::parse("13900001111").map_err(err)?,
                region: "浙江省杭州市".into(),
                detail: "余杭区 1 号".into(),
                is_default: true,
            },
        )
        .map_err(err)?;
    Ok(Setup { engine, store, address, clock })
}

/// An order in the given state, built through the core so it is a valid one.
pub(crate) fn order(id: i64, state: OrderState) -> Result<Order, String> {
    let policy = Policy::douyin();
    let ctx = Ctx { policy: &policy, now: T0, default_address: None };
    let new = NewOrder {
        order_no: format!("B{id:09}"),
        buyer_id: BuyerId(id),
        payment: PaymentMethod::Online,
        total: Money::cny(11_000),
        shipping_fee: Money::cny(1_000),
        fresh: false,
        customer_name: "王小明".into(),
        customer_phone: Phone::parse("13800131234").map_err(err)?,
        lines: match lines_per_order() {
            1 => vec![],
            n => (0..n)
                .map(|i| aftersale_core::lines::NewLine {
                    sku: format!("SKU-{i}"),
                    title: format!("商品 {}", i + 1),
                    quantity: i % 3 + 1,
                    unit_price: Money::cny(3_000 + 1_000 * i64::from(i)),
                    kind: aftersale_core::lines::LineKind::Standard,
                })
                .collect(),
        },
    };
    let events = create_order(OrderId(id), ShopId(1), &new, &ctx).map_err(err)?;
    let mut log: Vec<Recorded> = events.into_iter().map(|event| Recorded { at: T0, actor: MERCHANT, event }).collect();
    let mut extra = vec![Event::OrderPaid];
    if state == OrderState::Delivered {
        let logistics = Logistics {
            carrier: Carrier::parse("SF").map_err(err)?,
            tracking_no: TrackingNo::parse("SF1000000001").map_err(err)?,
        };
        extra.push(Event::OrderShipped { logistics });
        extra.push(Event::OrderDelivered);
    }
    log.extend(extra.into_iter().map(|event| Recorded { at: T0, actor: Actor::System, event }));
    Order::replay(&log).ok_or_else(|| "no order".to_string())
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗",
];
const GIVEN: [&str; 50] = [
    "小明", "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "华", "建国", "红", "志强", "玉兰", "海燕", "俊", "欣怡",
    "子涵", "浩然", "梓萱", "宇轩", "一诺", "雨桐", "思远", "嘉怡", "梓轩", "若汐", "博文", "诗涵", "晨", "瑶", "鹏",
    "婷",
];

/// A three-character name that seeded data holds (about one order in a thousand has it).
pub(crate) fn three_char_name(i: u64) -> String {
    let given: Vec<&str> = GIVEN.iter().copied().filter(|g| g.chars().count() == 2).collect();
    format!("{}{}", SURNAMES[(i % 20) as usize], given[((i / 20) % given.len() as u64) as usize])
}

/// The customer of order `id` in seeded data: one of 1,000 names, and a phone number of its own
/// (`13` and the id in nine digits), so that searches select what they would in a real shop.
pub(crate) fn customer(id: i64) -> (String, String) {
    let name = format!("{}{}", SURNAMES[(id % 20) as usize], GIVEN[((id / 20) % 50) as usize]);
    (name, format!("13{:09}", id % 1_000_000_000))
}

/// Inserts orders 1..=n in large transactions, each in the state `state_of(id)` picks.
pub(crate) fn seed_orders(engine: &Engine, n: usize, state_of: fn(i64) -> OrderState) -> Result<(), String> {
    let templates = [order(1, OrderState::Delivered)?, order(1, OrderState::AwaitingConfirmation)?];
    let end = n as i64 + 1;
    let mut next = 1i64;
    while next < end {
        let (from, to) = (next, (next + 20_000).min(end));
        let templates = templates.clone();
        engine
            .transact(move |tx| {
                for id in from..to {
                    let mut o = templates.iter().find(|t| t.state == state_of(id)).unwrap_or(&templates[0]).clone();
                    o.id = OrderId(id);
                    o.buyer_id = BuyerId(id);
                    o.order_no = format!("B{id:09}");
                    let (name, phone) = customer(id);
                    o.customer.name = name;
                    o.customer.phone =
                        Phone::parse(&phone).map_err(|reason| EngineError::Invalid { field: "phone", reason })?;
                    let json = serde_json::to_string(&o)
                        .map_err(|e| EngineError::Invalid { field: "order", reason: e.to_string() })?;
                    tx.insert_order(&o, &json)?;
                }
                Ok(())
            })
            .map_err(err)?;
        next = to;
    }
    Ok(())
}

/// The buyer of order `id` applying for a refund only, as case `id`: 100 yuan (the goods) on an
/// order of one line, 10 yuan on one unit of line 1 of an order of several.
pub(crate) fn applied_refund_only(id: i64, at: Timestamp) -> Recorded {
    let multi = lines_per_order() > 1;
    Recorded {
        at,
        actor: buyer(id),
        event: Event::Applied {
            case_id: CaseId(id),
            kind: CaseType::RefundOnly,
            reason: "damaged".into(),
            amount: Money::cny(if multi { 1_000 } else { 10_000 }),
            description: String::new(),
            evidence: vec![],
            refund_account: None,
            lines: if multi { vec![aftersale_core::lines::units::Pick { line: 1, units: 1 }] } else { vec![] },
        },
    }
}

fn buyer(order: i64) -> Actor {
    Actor::Buyer { buyer: BuyerId(order) }
}

fn apply_cmd(kind: CaseType, yuan: i64) -> Apply {
    Apply {
        kind,
        reason: "damaged".into(),
        amount: Money::cny(yuan * 100),
        description: String::new(),
        evidence: vec![],
        refund_account: None,
        lines: vec![],
    }
}

/// Return flow: apply → agree return → buyer ships → received, refund. Four commands.
fn return_flow(engine: &Engine, order: i64, address: &Address) -> Result<usize, String> {
    let c = engine.apply(buyer(order), OrderId(order), apply_cmd(CaseType::ReturnRefund, 100), None).map_err(err)?;
    engine
        .case_command(
            MERCHANT,
            c.id,
            CaseCommand::AgreeReturn { address: address.clone(), refuse_freight_collect: false },
            None,
            None,
        )
        .map_err(err)?;
    let logistics = Logistics {
        carrier: Carrier::parse("YTO").map_err(err)?,
        tracking_no: TrackingNo::parse("YT2000000001").map_err(err)?,
    };
    engine
        .case_command(
            buyer(order),
            c.id,
            CaseCommand::SubmitReturnLogistics { logistics, refund_account: None },
            None,
            None,
        )
        .map_err(err)?;
    engine.case_command(MERCHANT, c.id, CaseCommand::ReceivedRefund, None, None).map_err(err)?;
    Ok(4)
}

/// Refund before shipment: apply → refund. Two commands.
fn unshipped_flow(engine: &Engine, order: i64) -> Result<usize, String> {
    let c = engine.apply(buyer(order), OrderId(order), apply_cmd(CaseType::RefundUnshipped, 110), None).map_err(err)?;
    engine.case_command(MERCHANT, c.id, CaseCommand::Refund, None, None).map_err(err)?;
    Ok(2)
}

/// Runs flow pairs on orders `first..` until `target` commands are done; returns commands.
pub(crate) fn run_flows(engine: &Engine, address: &Address, orders: &[i64], target: usize) -> Result<usize, String> {
    let mut done = 0;
    for pair in orders.chunks(2) {
        if done >= target {
            break;
        }
        done += return_flow(engine, pair[0], address)?;
        if let Some(o) = pair.get(1) {
            done += unshipped_flow(engine, *o)?;
        }
    }
    Ok(done)
}

/// Seeds `n` orders for flows: odd ids delivered (returns), even ids paid (refund before shipment).
pub(crate) fn seed_flow_orders(engine: &Engine, n: usize) -> Result<Vec<i64>, String> {
    let n = n + n % 2;
    seed_orders(engine, n, |id| if id % 2 == 1 { OrderState::Delivered } else { OrderState::AwaitingConfirmation })?;
    Ok((1..=n as i64).collect())
}

fn engine_commands(dir: &Path, commands: usize, clients: usize, max_batch: usize) -> Result<f64, String> {
    let path = fresh(dir, "engine");
    let s = setup(&path, max_batch)?;
    engine_commands_on(&s, commands, clients)
}

/// Commands per second from `clients` threads running flows on the engine of `s`.
pub(crate) fn engine_commands_on(s: &Setup, commands: usize, clients: usize) -> Result<f64, String> {
    let orders = seed_flow_orders(&s.engine, commands / 3 + 2 * clients + 2)?;
    let per_client: Vec<Vec<i64>> =
        orders.chunks(((orders.len() / clients.max(1)) & !1).max(2)).map(|c| c.to_vec()).collect();
    let target = commands / clients.max(1);
    let start = Instant::now();
    let handles: Vec<_> = per_client
        .into_iter()
        .take(clients.max(1))
        .map(|mine| {
            let engine = s.engine.clone();
            let address = s.address.clone();
            std::thread::spawn(move || run_flows(&engine, &address, &mine, target))
        })
        .collect();
    let mut done = 0;
    for h in handles {
        done += h.join().map_err(|_| "a client thread panicked".to_string())??;
    }
    let secs = start.elapsed().as_secs_f64();
    s.store.close();
    Ok(done as f64 / secs)
}

/// Seeds `n` refund-only cases awaiting review whose review deadline is due, their orders, and
/// the deadline rows; the near-deadline reminders count as sent so only the review fires.
pub(crate) fn seed_due_cases(s: &Setup, n: usize) -> Result<(), String> {
    let per_round = n.div_ceil(ROUNDS).max(1) as i64;
    // Cases of round k applied k minutes after T0: due k minutes after each other.
    seed_refund_only(&s.engine, n, move |id| T0 + Dur(((id - 1) / per_round) * 60_000), true)
}

/// Seeds `n` delivered orders and a refund-only case awaiting review on each (case `id` on
/// order `id`), applied at `applied(id)`, with their log rows and deadline rows, through the
/// store in large transactions. `reminder_sent`: the near-deadline reminder counts as sent, so
/// the review is the one deadline left to fire.
pub(crate) fn seed_refund_only(
    engine: &Engine,
    n: usize,
    applied: impl Fn(i64) -> Timestamp + Send + Sync + 'static,
    reminder_sent: bool,
) -> Result<(), String> {
    seed_orders(engine, n, |_| OrderState::Delivered)?;
    let o = order(1, OrderState::Delivered)?;
    let policy = Policy::douyin();
    let applied = Arc::new(applied);
    let end = n as i64 + 1;
    let mut next = 1i64;
    while next < end {
        let (from, to) = (next, (next + 10_000).min(end));
        let (o, policy, applied) = (o.clone(), policy.clone(), applied.clone());
        engine
            .transact(move |tx| {
                for id in from..to {
                    let at = applied(id);
                    let r = applied_refund_only(id, at);
                    let mut order = o.clone();
                    order.id = OrderId(id);
                    order.buyer_id = BuyerId(id);
                    let mut case =
                        Case::open(&order, &r).ok_or(EngineError::Invalid { field: "case", reason: "seed".into() })?;
                    // The order holds the case open (L3), as an application leaves it.
                    let before = order.version;
                    order.apply_for(Some(case.id), &r);
                    let order_json = serde_json::to_string(&order)
                        .map_err(|e| EngineError::Invalid { field: "order", reason: e.to_string() })?;
                    tx.update_order(&order, &order_json, before)?;
                    let due = at + policy.review;
                    if reminder_sent {
                        case.reminders.push((DeadlineKind::ReviewReminder, due));
                    }
                    let json = serde_json::to_string(&case)
                        .map_err(|e| EngineError::Invalid { field: "case", reason: e.to_string() })?;
                    tx.insert_case(&case, &json, Some(due))?;
                    if let Some(log) = aftersale_engine::LogRow::new(&[r])? {
                        tx.append_log(order.id, Some(case.id), &log)?;
                    }
                    aftersale_engine::sync_deadlines(
                        tx,
                        Subject::Case(case.id),
                        case.version,
                        &[],
                        &case.deadlines(&policy),
                    )?;
                }
                Ok(())
            })
            .map_err(err)?;
        next = to;
    }
    Ok(())
}

/// Firings are measured in rounds that alternate between the engine and the raw loop, so both
/// see the same machine (its disk and neighbours vary from minute to minute).
pub(crate) const ROUNDS: usize = 10;

struct Firings {
    fired: u64,
    engine_per_s: f64,
    raw_per_s: f64,
    raw_with_order_per_s: f64,
    engine_cpu_us: f64,
    raw_cpu_us: f64,
    seed_s: f64,
}

fn firings(dir: &Path, n: usize, batch: usize) -> Result<Firings, String> {
    let seed = Instant::now();
    let s = setup(&fresh(dir, "deadlines"), 1)?;
    seed_due_cases(&s, n)?;
    let seed_s = seed.elapsed().as_secs_f64();
    let (_, mut raw) = raw_db(dir, n)?;
    let (_, mut raw_order) = raw_db(dir, n)?;
    let runner = Runner::new(s.engine.clone()).with_batch(batch);
    let (mut raw_order_s, mut raw_order_fired) = (0.0, 0usize);
    let (mut engine_s, mut raw_s, mut engine_cpu, mut raw_cpu) = (0.0, 0.0, 0.0, 0.0);
    let (mut fired, mut raw_fired) = (0u64, 0usize);
    for round in 0..ROUNDS as i64 {
        let now = T0 + Dur::hours(48) + Dur(round * 60_000);
        s.clock.set(now);
        let (start, cpu) = (Instant::now(), cpu_s());
        let stats = runner.run_due().map_err(err)?;
        engine_s += start.elapsed().as_secs_f64();
        engine_cpu += cpu_s() - cpu;
        fired += stats.fired;
        let (start, cpu) = (Instant::now(), cpu_s());
        raw_fired += raw_fire_due(&mut raw, now.0, batch, false)?;
        raw_s += start.elapsed().as_secs_f64();
        raw_cpu += cpu_s() - cpu;
        let start = Instant::now();
        raw_order_fired += raw_fire_due(&mut raw_order, now.0, batch, true)?;
        raw_order_s += start.elapsed().as_secs_f64();
    }
    s.store.close();
    if fired as usize != n || raw_fired != n || raw_order_fired != n {
        return Err(format!("expected {n} firings; the engine fired {fired}, the raw loop {raw_fired}"));
    }
    Ok(Firings {
        fired,
        engine_per_s: n as f64 / engine_s,
        raw_per_s: n as f64 / raw_s,
        raw_with_order_per_s: n as f64 / raw_order_s,
        engine_cpu_us: engine_cpu * 1e6 / n as f64,
        raw_cpu_us: raw_cpu * 1e6 / n as f64,
        seed_s,
    })
}

/// CPU seconds (user + system) this process has used so far, from /proc/self/stat.
pub(crate) fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

pub(crate) fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

pub fn run(args: BenchArgs) -> Result<(), String> {
    if let Some(url) = &args.database {
        return match aftersale_engine::store::url::DatabaseUrl::parse(url)? {
            aftersale_engine::store::url::DatabaseUrl::Postgres(u) => crate::bench_pg::run(&args, &u),
            aftersale_engine::store::url::DatabaseUrl::Sqlite(_) => {
                Err("--database takes a postgres:// URL; SQLite runs in --dir".into())
            }
        };
    }
    CACHE_MB.store(args.cache_mb.max(1), std::sync::atomic::Ordering::Relaxed);
    // Only a directory of an earlier `aftersale bench` (or an empty one) is emptied.
    let scratch = aftersale_http::scratch::Scratch::claim(&args.dir, "bench")?;
    scratch.empty()?;
    let say = |m: &str| {
        if !args.json {
            eprintln!("… {m}");
        }
    };
    say("engine, one transaction per command");
    let commands = engine_commands(&args.dir, args.commands, 1, 1)?;
    say("raw SQLite, one transaction per command");
    let raw = raw_commands(&args.dir, args.commands, 1)?;
    say("engine, concurrent clients sharing commits");
    let group = engine_commands(&args.dir, args.group_commands, args.clients, 256)?;
    say("raw SQLite, grouped commits");
    let raw_group = raw_commands(&args.dir, args.group_commands, args.clients)?;
    say(&format!(
        "seeding {} due deadlines three times, then firing them in {ROUNDS} alternating rounds",
        args.deadlines
    ));
    let firings = firings(&args.dir, args.deadlines, args.firing_batch)?;
    let (raw_firings, raw_cpu_us) = (firings.raw_per_s, firings.raw_cpu_us);
    let rss = peak_rss_mb();
    if !args.keep {
        let _ = std::fs::remove_dir_all(&args.dir);
    }
    let report = serde_json::json!({
        "synchronous": "FULL",
        "cache_mb": args.cache_mb,
        "journal_mode": "WAL",
        "commands": args.commands,
        "commands_per_s": commands.round(),
        "raw_commands_per_s": raw.round(),
        "commands_ratio": (commands / raw * 100.0).round() / 100.0,
        "group_clients": args.clients,
        "group_commands": args.group_commands,
        "group_commands_per_s": group.round(),
        "raw_group_commands_per_s": raw_group.round(),
        "group_ratio": (group / raw_group * 100.0).round() / 100.0,
        "deadlines": firings.fired,
        "deadline_seed_s": (firings.seed_s * 10.0).round() / 10.0,
        "firing_batch": args.firing_batch,
        "deadline_firings_per_s": firings.engine_per_s.round(),
        "raw_deadline_firings_per_s": raw_firings.round(),
        "firings_ratio": (firings.engine_per_s / raw_firings * 100.0).round() / 100.0,
        "raw_firings_with_order_per_s": firings.raw_with_order_per_s.round(),
        "firings_with_order_ratio": (firings.engine_per_s / firings.raw_with_order_per_s * 100.0).round() / 100.0,
        "firing_cpu_us": (firings.engine_cpu_us * 10.0).round() / 10.0,
        "raw_firing_cpu_us": (raw_cpu_us * 10.0).round() / 10.0,
        "peak_rss_mb": rss.round(),
    });
    if args.json {
        println!("{report}");
    } else {
        println!("aftersale bench — SQLite WAL, synchronous=FULL, one run");
        println!("{:<50} {:>12} {:>12} {:>7}", "", "engine/s", "raw/s", "ratio");
        println!("{:<50} {:>12.0} {:>12.0} {:>7.2}", "commands, 1 per commit, 1 client", commands, raw, commands / raw);
        println!(
            "{:<50} {:>12.0} {:>12.0} {:>7.2}",
            format!("commands, group commit, {} clients", args.clients),
            group,
            raw_group,
            group / raw_group
        );
        println!(
            "{:<50} {:>12.0} {:>12.0} {:>7.2}",
            format!("deadline firings ({} due, {} per commit)", firings.fired, args.firing_batch),
            firings.engine_per_s,
            raw_firings,
            firings.engine_per_s / raw_firings
        );
        println!(
            "{:<50} {:>12} {:>12.0} {:>7.2}",
            "  raw also rewriting the order row, as the engine",
            "",
            firings.raw_with_order_per_s,
            firings.engine_per_s / firings.raw_with_order_per_s
        );
        println!(
            "CPU per firing: engine {:.1} us, raw {:.1} us; peak RSS {rss:.0} MB; seeding {} due cases took {:.1}s",
            firings.engine_cpu_us, raw_cpu_us, firings.fired, firings.seed_s
        );
    }
    Ok(())
}
