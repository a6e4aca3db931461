//! `aftersale bench-nodes`: several real `aftersale serve` processes on one PostgreSQL database
//! share the deadlines coming due. Seeds refund-only cases whose review deadline comes due (all
//! at once, or spread over a time), starts the nodes, optionally SIGKILLs one a third of the way
//! through, sends commands to the nodes meanwhile, and then checks in the database that every
//! deadline fired exactly once and every acknowledged command is there. Prints firings/s and
//! the lag from due to fired.

use crate::bench::err;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;
use aftersale_http::client::Client;
use clap::Args;
use serde_json::json;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct NodesBenchArgs {
    /// PostgreSQL database to run in (a fresh schema is made in it for the run).
    #[arg(long)]
    database: String,
    /// How many `aftersale serve` processes.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// How many deadlines come due (one refund-only case each).
    #[arg(long, default_value_t = 100_000)]
    deadlines: usize,
    /// Deadlines come due evenly over this many seconds after the nodes start (0: all at once).
    #[arg(long, default_value_t = 0)]
    spread_secs: u64,
    /// SIGKILL one node once a third of the deadlines have fired.
    #[arg(long)]
    kill_one: bool,
    /// The nodes' lease on claimed deadlines, in seconds.
    #[arg(long, default_value_t = 5)]
    lease_secs: u64,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
}

/// The review deadline of the douyin profile: cases applied this long before their due time.
fn review() -> Dur {
    Policy::douyin().review
}

struct Node {
    child: std::process::Child,
    base: String,
    alive: Arc<AtomicBool>,
}

impl Drop for Node {
    /// A run that fails half-way leaves no node behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(url: &str, lease_secs: u64, evidence: &std::path::Path) -> Result<Node, String> {
    let exe = std::env::current_exe().map_err(err)?;
    let mut child = std::process::Command::new(exe)
        .args(["serve", "--bind", "127.0.0.1:0", "--database", url])
        .env("AFTERSALE_LOG__LEVEL", "warn")
        .env("AFTERSALE_SERVER__RUNNER_LEASE_SECS", lease_secs.to_string())
        .env("AFTERSALE_SERVER__RUNNER_POLL_MS", "200")
        .env("AFTERSALE_EVIDENCE__DIR", evidence)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(err)?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(addr) = line.strip_prefix("aftersale listening on ") {
                    break addr.trim().to_string();
                }
            }
            _ => {
                let _ = child.kill();
                return Err("a node stopped before it listened".into());
            }
        }
    };
    // Keep reading so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(Node { child, base, alive: Arc::new(AtomicBool::new(true)) })
}

fn pg(url: &str) -> Result<postgres::Client, String> {
    postgres::Client::connect(url, postgres::NoTls).map_err(err)
}

fn count(c: &mut postgres::Client, sql: &str) -> Result<i64, String> {
    c.query_one(sql, &[]).map(|r| r.get::<_, i64>(0)).map_err(err)
}

pub fn run(args: NodesBenchArgs) -> Result<(), String> {
    let n = args.deadlines.max(1);
    let url = aftersale_engine::store::postgres::fresh_schema(&args.database, "nodes").map_err(err)?;
    let scratch = tempfile_dir()?;
    // Seed through the store, on a clock of its own (the nodes run on the wall clock).
    let store = aftersale_engine::store::url::open(
        &aftersale_engine::store::url::DatabaseUrl::parse(&url)?,
        &Default::default(),
    )
    .map_err(err)?;
    let seed_clock = ManualClock::new(SystemClock.now());
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(seed_clock), Arc::new(BuiltinGateway)));
    engine.create_shop("Nodes shop", "douyin", PolicyOverrides::default()).map_err(err)?;
    let hash = aftersale_http::auth::hash_password("bench-password").map_err(|e| e.0.detail.clone())?;
    let staff = engine
        .create_user(aftersale_engine::accounts::NewUser {
            login: "nodes-staff".into(),
            role: Role::Staff,
            shop_id: Some(ShopId(1)),
            display_name: "Nodes".into(),
            password_hash: hash,
        })
        .map_err(err)?;
    let token = aftersale_http::auth::new_token().map_err(|e| e.0.detail.clone())?;
    engine
        .issue_token(staff.id, aftersale_http::auth::sha256_hex(token.as_bytes()), "nodes", TokenScope::Full)
        .map_err(err)?;
    let t = Instant::now();
    // Due from a few seconds after the nodes have started (all at once, or spread).
    // Due once seeding is done and the nodes have started (seeding writes a few thousand cases a
    // second), so that the lag measured is the runners', not the seeding's.
    let lead = Dur::secs(8) + Dur(n as i64 * 3 / 2);
    let first_due = SystemClock.now() + lead;
    let spread_ms = (args.spread_secs * 1000) as i64;
    // Case `id` comes due `(id - 1) / (n - 1)` of the way through the spread (multiplied first:
    // with more deadlines than milliseconds a per-case step would round to 0, all due at once).
    let last = (n as i64 - 1).max(1);
    // The near-deadline reminders count as sent: each case has its review left to fire.
    let lead_in = review();
    crate::bench::seed_refund_only(
        &engine,
        n,
        move |id| {
            if spread_ms == 0 {
                first_due - lead_in
            } else {
                first_due + Dur((id - 1) * spread_ms / last) - lead_in
            }
        },
        true,
    )?;
    drop(engine);
    store.close();
    drop(store);
    eprintln!("seeded {n} cases with a deadline each in {:.1} s", t.elapsed().as_secs_f64());
    let first_due = SystemClock.now().max(first_due);

    let mut nodes = Vec::new();
    for _ in 0..args.nodes.max(1) {
        nodes.push(start_node(&url, args.lease_secs, scratch.path())?);
    }
    // Commands from a client meanwhile, one case each, to the nodes in turn.
    let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
        let targets: Vec<(String, Arc<AtomicBool>)> = nodes.iter().map(|n| (n.base.clone(), n.alive.clone())).collect();
        std::thread::spawn(move || -> Result<u64, String> {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(err)?;
            rt.block_on(async {
                let clients: Vec<Client> = targets.iter().map(|(b, _)| Client::new(b).with_token(&token)).collect();
                let mut sent = 0u64;
                let mut id = 1i64;
                while !stop.load(Ordering::Relaxed) && id <= n as i64 {
                    let k = (id as usize) % clients.len();
                    if targets[k].1.load(Ordering::Relaxed) {
                        let path = format!("/api/v1/cases/{id}/actions/set_remark");
                        if let Ok(r) = clients[k].post(&path, &json!({ "text": format!("ack-{id}") })).await {
                            if r.status == 200 {
                                acked.lock().map_err(err)?.push(id);
                            }
                        }
                        sent += 1;
                    }
                    id += 7;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Ok(sent)
            })
        })
    };

    let mut db = pg(&url)?;
    let started = Instant::now();
    let mut killed = None;
    let remaining_sql = "SELECT COUNT(*) FROM deadlines WHERE kind = 'review'";
    let give_up = started + Duration::from_secs(600);
    loop {
        let left = count(&mut db, remaining_sql)?;
        if args.kill_one && killed.is_none() && left <= (2 * n as i64) / 3 {
            let node = &mut nodes[0];
            node.alive.store(false, Ordering::Relaxed);
            node.child.kill().map_err(err)?; // SIGKILL
            let _ = node.child.wait();
            killed = Some((started.elapsed().as_secs_f64(), n as i64 - left));
            eprintln!("killed node 1 (SIGKILL) with {} of {n} fired", n as i64 - left);
        }
        if left == 0 {
            break;
        }
        if Instant::now() > give_up {
            return Err(format!("{left} deadlines still due after 10 minutes"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let secs_from_due = (SystemClock.now().0 - first_due.0).max(1) as f64 / 1000.0;
    stop.store(true, Ordering::Relaxed);
    let commands = sender.join().map_err(|_| "the command sender panicked")??;
    for node in &mut nodes {
        let _ = node.child.kill();
        let _ = node.child.wait();
    }

    // Exactly once: each case has one log row by the system (its review firing), none two.
    let system = serde_json::to_string(&Actor::System).map_err(err)?;
    let fired_rows = count(&mut db, &format!("SELECT COUNT(*) FROM events WHERE actor = '{system}'"))?;
    let fired_cases = count(&mut db, &format!("SELECT COUNT(DISTINCT case_id) FROM events WHERE actor = '{system}'"))?;
    let refunding = count(&mut db, "SELECT COUNT(*) FROM cases WHERE status <> 'awaiting_review'")?;
    let acked = acked.lock().map_err(err)?.clone();
    let mut missing = 0;
    for chunk in acked.chunks(1000) {
        let ids: Vec<i64> = chunk.to_vec();
        let found: i64 = db
            .query_one(
                "SELECT COUNT(DISTINCT case_id) FROM events WHERE case_id = ANY($1) AND actor LIKE '%merchant%'",
                &[&ids],
            )
            .map_err(err)?
            .get(0);
        missing += ids.len() as i64 - found;
    }
    let review_ms = review().as_millis();
    let lag = db
        .query_one(
            &format!(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag)::float8, \
                 percentile_cont(0.99) WITHIN GROUP (ORDER BY lag)::float8, MAX(lag)::float8 FROM ( \
                 SELECT e.at - (c.applied_at + {review_ms}) AS lag FROM events e JOIN cases c ON c.id = e.case_id \
                 WHERE e.actor = '{system}') t"
            ),
            &[],
        )
        .map_err(err)?;
    let (p50, p99, max): (f64, f64, f64) = (lag.get(0), lag.get(1), lag.get(2));
    let _ = db.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", schema_of(&url)));
    let report = json!({
        "nodes": args.nodes,
        "deadlines": n,
        "spread_secs": args.spread_secs,
        "fired_rows": fired_rows,
        "fired_cases": fired_cases,
        "duplicates": fired_rows - fired_cases,
        "cases_moved_on": refunding,
        "seconds_from_first_due": secs_from_due,
        "firings_per_s": n as f64 / secs_from_due,
        "lag_p50_ms": p50,
        "lag_p99_ms": p99,
        "lag_max_ms": max,
        "killed": killed.map(|(s, fired)| json!({ "after_s": s, "fired_before": fired })),
        "commands_sent": commands,
        "commands_acknowledged": acked.len(),
        "acknowledged_missing": missing,
    });
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report).map_err(err)?);
    }
    if fired_rows != n as i64 || fired_cases != n as i64 || missing != 0 {
        return Err(format!(
            "not exactly once: {fired_rows} firings for {fired_cases} of {n} cases, {missing} acknowledged commands missing"
        ));
    }
    Ok(())
}

fn schema_of(url: &str) -> String {
    url.rsplit("search_path%3D").next().and_then(|s| s.split(',').next()).unwrap_or("none").to_string()
}

/// A folder of this run's own (the nodes' evidence), removed at the end.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<Scratch, String> {
    let dir = std::env::temp_dir().join(format!("aftersale-nodes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(err)?;
    Ok(Scratch(dir))
}
